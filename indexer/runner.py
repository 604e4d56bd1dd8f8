"""The indexing loop: fetch ranges, check they link to the mirror, write them with the cursor.

Every batch is one database transaction holding its events, documents, derived rows, block headers
and the cursor, so a crash at any instant leaves the mirror at a batch boundary. Before a batch is
written, its first block must name the cursor's block as parent; otherwise the chain reorganised and
the mirror is rolled back to the common ancestor (found among the stored recent headers) first.

A catch-up is a pipeline: one thread waits for the node's eth_getLogs answers, one parses and
decodes them, and this one writes, so that the node, the decoding and SQL overlap (SQLite's steps
and PostgreSQL's round trips leave the GIL free). Transactions are written when nothing more is
ready, growing from small (the writer starts at once) to half a batch or more.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from indexer.config import IndexerConfig
from indexer.decode import check_abi
from indexer.errors import ChainMismatch, IndexerError, ReorgTooDeep, RpcError, Unavailable
from indexer.metrics import Metrics
from indexer.sink import Checkpointer, Cursor, Sink, check_engine
from indexer.source import (
    ChainChanged,
    Chunk,
    Header,
    LogSource,
    Prefetcher,
    Rpc,
)
from silktrace.chain import Deployment, connect
from silktrace.config import Settings
from silktrace.db import create_db_engine, create_tables, metadata
from silktrace.errors import ChainError

log = logging.getLogger("silktrace.indexer")

Progress = Callable[[int, int, int, float], None]


_bulk_lock = threading.Lock()
_bulk_users = 0
_bulk_saved: tuple[tuple[int, ...], float] = ((), 0.0)


@contextmanager
def _bulk() -> Iterator[None]:
    """Interpreter settings for a catch-up (process-wide, so counted: catch-ups of several indexers
    in one process restore them once, when the last one ends).

    - The cyclic GC's default thresholds run it every few hundred new containers, and a catch-up
      makes millions (rows, parsed logs), none of them cyclic: left alone, the collector takes a
      third of the time. It still runs, every 100,000 of them.
    - The writer gives up the GIL for each SQLite step (or PostgreSQL round trip) and then waits
      for it while the decoder runs Python: for up to the switch interval, 5 ms by default, which
      is a third of a step. At 0.5 ms the writer's waits shrink to little (measured: +4% SQLite,
      +7% PostgreSQL); three busy threads switching more often cost next to nothing.
    """
    global _bulk_users, _bulk_saved
    with _bulk_lock:
        if _bulk_users == 0:
            _bulk_saved = gc.get_threshold(), sys.getswitchinterval()
            gc.set_threshold(max(_bulk_saved[0][0], 100_000), *_bulk_saved[0][1:])
            sys.setswitchinterval(min(_bulk_saved[1], 0.0005))
        _bulk_users += 1
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_users -= 1
            if _bulk_users == 0:
                gc.set_threshold(*_bulk_saved[0])
                sys.setswitchinterval(_bulk_saved[1])


class _Reorg(Exception):
    """The next range does not link to the mirror's last block."""


def _is_db_outage(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


class Indexer:
    """Mirrors one deployment's ledger into one database."""

    def __init__(
        self,
        settings: Settings,
        config: IndexerConfig | None = None,
        *,
        stop_event: threading.Event | None = None,
        on_progress: Progress | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings
        self.config = config or IndexerConfig()
        self.stop_event = stop_event or threading.Event()
        self.on_progress = on_progress
        try:
            self.deployment = Deployment.load(settings.deployment_file)
        except ChainError as exc:
            raise IndexerError(exc.message, code=exc.code) from exc
        check_abi(self.deployment.abi["TraceLedger"])
        self.address = self.deployment.ledger.address.lower()
        self.start_block = self.deployment.ledger.start_block
        metadata()  # import every table's module now, not on the first run
        self.engine = engine or create_db_engine(settings.sql_url())
        self._own_engine = engine is None
        check_engine(self.engine)
        self.sink = Sink(self.engine, self.deployment.chain_id, self.address)
        self.rpc = Rpc(settings.rpc_url, timeout=self.config.rpc_timeout)
        self.source = LogSource(self.rpc, self.address, self.config, self.deployment.chain_id)
        self.metrics = Metrics(self.config.metrics_host, self.config.metrics_port)
        self.cursor: Cursor | None = None
        self.head: Header | None = None
        self.events_total = 0
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)
        self._last_report = 0.0
        self._chain_checked = False
        self._batches = 0
        self._checkpointer: Checkpointer | None = None

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.rpc.close()
        self.metrics.close()
        if self._own_engine:
            self.engine.dispose()

    def run(self, *, follow: bool = True) -> None:
        """Index until caught up (follow=False) or until `stop_event` is set."""
        backoff = self.config.retry_initial
        node_down: float | None = None
        db_down: float | None = None
        self._with_db(lambda: create_tables(self.engine))
        while not self.stop_event.is_set():
            try:
                if not self._chain_checked:
                    self._check_chain()
                more = self._step(follow)
                backoff = self.config.retry_initial
                node_down = db_down = None
                if not more:
                    return
                continue  # the fault handling below is for the except clauses only
            except (ChainMismatch, ReorgTooDeep):
                raise
            except RpcError as exc:
                if not exc.transient:
                    raise
                node_down = node_down or time.monotonic()
                self._chain_checked = False  # the node may come back as another chain
                self._give_up(node_down, self.config.node_down_timeout, "node", exc)
                log.warning("node unavailable (%s); retrying in %.1fs", exc, backoff)
            except (sa_exc.SQLAlchemyError, OSError) as exc:
                if not _is_db_outage(exc):
                    raise
                db_down = db_down or time.monotonic()
                self._give_up(db_down, self.config.db_down_timeout, "database", exc)
                log.warning("database unavailable (%s); retrying in %.1fs",
                            str(exc).splitlines()[0], backoff)
            self.cursor = None  # re-read from the database after any fault
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, self.config.retry_max)

    @staticmethod
    def _give_up(since: float, limit: float | None, what: str, exc: Exception) -> None:
        if limit is not None and time.monotonic() - since > limit:
            raise Unavailable(f"the {what} has been unavailable for over {limit:.0f}s: {exc}") from exc

    def _with_db(self, fn: Callable[[], Any]) -> Any:
        """Run a setup step, retrying while the database is away."""
        backoff = self.config.retry_initial
        since = time.monotonic()
        while True:
            try:
                return fn()
            except sa_exc.SQLAlchemyError as exc:
                if not _is_db_outage(exc) or self.stop_event.is_set():
                    raise
                self._give_up(since, self.config.db_down_timeout, "database", exc)
                log.warning("database unavailable (%s); retrying", str(exc).splitlines()[0])
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, self.config.retry_max)

    def _check_chain(self) -> None:
        """The node must still be the deployment's chain: same id, same genesis, code in place."""
        try:
            w3 = connect(self.settings.rpc_url, timeout=self.config.rpc_timeout)
            self.deployment.check(w3)
        except ChainError as exc:
            if exc.code in ("chain_reset", "wrong_chain"):
                raise ChainMismatch(
                    f"{exc.message}. The mirror belongs to the deployment of "
                    f"{self.deployment.deployed_at}; redeploy and index into a fresh database.",
                ) from exc
            raise RpcError(exc.message) from exc
        except Exception as exc:  # web3 raises requests/urllib errors while the node is away
            raise RpcError(f"node check failed: {exc}") from exc
        self._chain_checked = True

    # ------------------------------------------------------------------ one pass
    def _load_cursor(self) -> Cursor:
        with self.engine.begin() as conn:
            self.sink.lock(conn)
            cursor = self.sink.read_cursor(conn)
            if cursor is None:
                start = max(self.start_block - 1, 0)
                h = self.source.headers([start])[start]
                cursor = Cursor(start, h.hash, self.deployment.genesis_hash)
                self.sink.write_batch(conn, [], [h], cursor)
                log.info("new mirror of %s from block %d", self.address, self.start_block)
            elif cursor.genesis_hash != self.deployment.genesis_hash:
                raise ChainMismatch(
                    "the database mirrors a chain with another genesis block: index into a fresh "
                    "database",
                )
            if self.sink.has_rows_above(conn, cursor.block_number):
                # Rows above the cursor cannot come from a committed batch; repair them anyway.
                n = self.sink.rollback_to(conn, cursor.block_number, cursor.block_hash,
                                          cursor.genesis_hash)
                log.warning("removed %d events above the cursor (block %d)", n, cursor.block_number)
            self.events_total = int(conn.exec_driver_sql(
                f"SELECT COUNT(*) FROM ledger_event WHERE chain_id = {int(self.sink.chain_id)}"
            ).scalar() or 0)
        return cursor

    def _step(self, follow: bool) -> bool:
        """One poll: catch up to the head; False when done and not following."""
        if self.cursor is None:
            self.cursor = self._load_cursor()
        head = self.source.head()
        self.head = head
        cursor = self.cursor
        if head.number < cursor.block_number or (
            head.number == cursor.block_number and head.hash != cursor.block_hash
        ):
            self._reconcile()
            return True
        target = head.number - self.config.confirmations
        if target <= cursor.block_number:
            self._report(force=False)
            if not follow:
                self._report(force=True)
                return False
            self.stop_event.wait(self.config.poll_interval)
            return True
        dense_from = max(head.number - self.config.max_reorg_depth, 0)
        try:
            self._catch_up(cursor.block_number + 1, target, dense_from)
        except (ChainChanged, _Reorg) as exc:
            log.info("chain moved during indexing: %s", exc)
            self._reconcile()
        return True

    def _catch_up(self, start: int, end: int, dense_from: int) -> None:
        prefetch: Prefetcher | None = None
        if end - start < self.source.span or not self.config.prefetch:
            chunks: Any = self.source.ranges(start, end, dense_from=dense_from)
        else:
            prefetch = Prefetcher(self.source, start, end, dense_from=dense_from,
                                  depth=self.config.prefetch)
            chunks = prefetch
        checkpointer = None
        if prefetch is not None and not self.sink.postgres:
            checkpointer = Checkpointer(self.engine)
        self._checkpointer = checkpointer
        try:
            with _bulk():
                self._write(chunks, end, prefetch)
        finally:
            self._checkpointer = None
            if checkpointer is not None:
                checkpointer.close()
            if prefetch is not None:
                self.source.span = prefetch.span
                prefetch.close()

    def _write(self, chunks: Any, end: int, prefetch: Prefetcher | None) -> None:
        pending: list[Chunk] = []
        n = written = 0
        last = time.monotonic()
        for chunk in chunks:
            pending.append(chunk)
            n += len(chunk.events)
            now = time.monotonic()
            # With a prefetcher, what is pending is written as soon as nothing more is ready,
            # once it is as much as all written so far or half a batch: the fetching goes on
            # meanwhile, so SQL overlaps it instead of taking turns with it; the first
            # transactions are small, so the writer starts at once, and then they stay large
            # enough not to rewrite the same index pages over and over.
            if (n >= self.config.commit_events or chunk.end >= end or now - last > 1.0
                    or (prefetch is not None and n >= min(written, self.config.commit_events // 2)
                        and not prefetch.ready())):
                self._commit(pending)
                written += n
                pending, n, last = [], 0, now
                if self.stop_event.is_set():
                    return
        if pending:
            self._commit(pending)

    def _commit(self, chunks: list[Chunk]) -> None:
        """Write chunks in one transaction, after checking they extend the mirror's chain."""
        assert self.cursor is not None
        headers: dict[int, Header] = {}
        events = []
        for chunk in chunks:
            headers.update(chunk.headers)
            events.extend(chunk.events)
        expected = self.cursor.block_number
        prev_hash = self.cursor.block_hash
        # Every dense header must link to its predecessor, the first one to the cursor.
        for number in sorted(headers):
            h = headers[number]
            if number == expected + 1 and h.parent_hash != prev_hash:
                raise _Reorg(f"block {number} does not build on block {expected} {prev_hash}")
            expected, prev_hash = number, h.hash
        last = chunks[-1].end
        cursor = Cursor(last, headers[last].hash, self.cursor.genesis_hash)
        with self.engine.begin() as conn:
            self.sink.lock(conn)
            stored = self.sink.read_cursor(conn)
            if stored is None or stored.block_number != self.cursor.block_number or (
                stored.block_hash != self.cursor.block_hash
            ):
                raise IndexerError("the cursor moved under the indexer: is another one running?",
                                   code="concurrent_indexer")
            self.sink.write_batch(conn, events, headers.values(), cursor)
            self._batches += 1
            if self._batches % 16 == 0:
                self.sink.prune_headers(conn, last - self.config.max_reorg_depth - 1)
        self.cursor = cursor
        if self._checkpointer is not None:
            self._checkpointer.poke()
        self.events_total += len(events)
        self._rate.append((time.monotonic(), self.events_total))
        self.metrics.indexed(last, len(events))
        self._report(force=False)

    # ------------------------------------------------------------------ reorgs
    def _reconcile(self) -> None:
        """If the cursor's block left the chain, roll the mirror back to the common ancestor."""
        with self.engine.begin() as conn:
            self.sink.lock(conn)
            cursor = self.sink.read_cursor(conn)
            assert cursor is not None
            stored = self.sink.headers(conn, cursor.block_number, self.config.max_reorg_depth + 2)
        node = self.source.maybe_headers([n for n, _ in stored])
        current = node.get(cursor.block_number)
        if current is not None and current.hash == cursor.block_hash:
            self.cursor = cursor  # the mirror is on the chain; the fetch just raced the head
            return
        ancestor = next(((n, h) for n, h in stored if (x := node.get(n)) and x.hash == h), None)
        if ancestor is None or cursor.block_number - ancestor[0] > self.config.max_reorg_depth:
            raise ReorgTooDeep(
                f"the chain changed more than {self.config.max_reorg_depth} blocks below the mirror's "
                f"block {cursor.block_number}: no stored block is still on the node's chain. "
                "Re-index into a fresh database (or raise SILKTRACE_INDEXER_MAX_REORG_DEPTH).",
            )
        number, block_hash = ancestor
        with self.engine.begin() as conn:
            self.sink.lock(conn)
            again = self.sink.read_cursor(conn)
            if again != cursor:
                raise IndexerError("the cursor moved under the indexer: is another one running?",
                                   code="concurrent_indexer")
            removed = self.sink.rollback_to(conn, number, block_hash, cursor.genesis_hash)
        log.warning("reorg: rolled back %d blocks to %d, %d events removed",
                    cursor.block_number - number, number, removed)
        self.metrics.reorg(cursor.block_number - number)
        self.cursor = Cursor(number, block_hash, cursor.genesis_hash)
        self.events_total -= removed

    # ------------------------------------------------------------------ progress
    def _report(self, *, force: bool) -> None:
        now = time.monotonic()
        if self.cursor is None or self.head is None:
            return
        self.metrics.position(self.head.number, self.cursor.block_number, self.eps())
        if self.on_progress is None:
            return
        if not force and now - self._last_report < self.config.progress_interval:
            return
        self._last_report = now
        self.on_progress(self.cursor.block_number, max(self.head.number, self.cursor.block_number),
                         self.events_total, self.eps())

    def eps(self) -> float:
        """Events per second over the last few seconds of commits."""
        now = time.monotonic()
        while self._rate and now - self._rate[0][0] > 5.0 and len(self._rate) > 2:
            self._rate.popleft()
        if len(self._rate) < 2 or now - self._rate[-1][0] > 5.0:
            return 0.0
        (t0, n0), (t1, n1) = self._rate[0], self._rate[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def run(
    settings: Settings,
    *,
    follow: bool = True,
    stop_event: threading.Event | None = None,
    on_progress: Progress | None = None,
    config: IndexerConfig | None = None,
) -> None:
    """Mirror the deployment's ledger into `settings.sql_url()`; see `Indexer`."""
    indexer = Indexer(settings, config, stop_event=stop_event, on_progress=on_progress)
    try:
        indexer.run(follow=follow)
    finally:
        indexer.close()
