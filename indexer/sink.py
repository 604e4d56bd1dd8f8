"""SQL writes: events, documents, derived rows, headers and the cursor, in one transaction.

Bulk paths use the driver directly (multi-row INSERTs on SQLite, COPY on PostgreSQL) because
SQLAlchemy's per-row processing would cost more than the node's work. Writes are idempotent by
construction: a batch is written only above the cursor, in the transaction that moves the cursor,
and any row found above the cursor (which a crash cannot leave, but a hand edit can) is rolled
back first.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any, cast

from sqlalchemy.engine import Connection, Engine

from indexer.decode import EVENT_COLUMNS, Event
from indexer.errors import ChainMismatch, IndexerError
from indexer.handlers import (
    ACCOUNT_EVENTS,
    CHILD_EVENTS,
    ENTERPRISE_EVENTS,
    SUBJECT_EVENTS,
    Keys,
    State,
    apply,
    keys_of,
    written_keys,
)
from indexer.source import Header

log = logging.getLogger(__name__)

SUBJECT_COLUMNS = (
    "subject_id", "kind", "holder_id", "pending_receiver_id", "disposition", "recalled", "ended",
    "parent_id", "lot_id", "items_root", "item_count", "manifest_hash", "registered_block",
    "updated_block",
)
ENTERPRISE_COLUMNS = (
    "enterprise_id", "credit_code_hash", "metadata_hash", "roles", "suspended", "registered_block",
    "updated_block",
)
ACCOUNT_COLUMNS = ("account", "enterprise_id", "updated_block")
RECALL_COLUMNS = (
    "subject_id", "recalled_event_id", "recalled_by", "recalled_at", "reason_hash",
    "lifted_event_id", "lifted_by", "lifted_at", "lift_reason_hash",
)
_DOCS = EVENT_COLUMNS.index("documents")
_SQLITE_CACHE_KIB = 64 * 1024
_SQLITE_CHECKPOINT_PAGES = 16_384  # 64 MB of WAL between checkpoints (the default is 4 MB)
_CHUNK = 900  # bound parameters per IN list (SQLite allows 32766; small lists plan better)


@dataclass
class Cursor:
    """The mirror's position on the chain."""

    block_number: int
    block_hash: str
    genesis_hash: str


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _cheap_sqlite_nulls() -> None:
    """Make binding None to sqlite3 a dictionary hit.

    CPython's sqlite3 binds int, float and str directly but runs the adaptation protocol for
    anything else, None included: a registry miss, then `__adapt__`/`__conform__` lookups, about
    0.4 µs a value, and a ledger_event row has five None columns on average (more than half the
    cost of binding it, with the GIL held). An adapter registered for NoneType that returns its
    argument (`{}.get(None)` is None, in C) is found at the first lookup; NULL is bound as before.
    The registry is process-wide, so this changes nothing but the speed for any other user.
    """
    sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))


class Sink:
    """The indexer's writes for one contract on one chain."""

    def __init__(self, engine: Engine, chain_id: int, contract: str) -> None:
        self.engine = engine
        self.chain_id = chain_id
        self.contract = contract.lower()
        self.postgres = engine.dialect.name == "postgresql"
        self.p = "%s" if self.postgres else "?"
        self._params: int | None = None  # SQLite's bound-parameter limit
        self._statements: dict[tuple[str, int], str] = {}
        if not self.postgres:
            _cheap_sqlite_nulls()

    # ------------------------------------------------------------------ helpers
    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.p) if self.postgres else sql

    @staticmethod
    def _cur(conn: Connection) -> Any:
        return conn.connection.cursor()

    def _select(self, cur: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cur.execute(self._sql(sql), params)
        return list(cur.fetchall())

    def _select_in(self, cur: Any, sql: str, before: Sequence[Any], keys: Iterable[Any]
                   ) -> list[tuple[Any, ...]]:
        """`sql` has one `IN ({in})`; run it over `keys` in chunks."""
        keys = list(keys)
        out: list[tuple[Any, ...]] = []
        for part in _chunks(keys):
            marks = ",".join([self.p] * len(part))
            cur.execute(self._sql(sql).replace("{in}", marks), [*before, *part])
            out.extend(cur.fetchall())
        return out

    def _delete_in(self, cur: Any, table: str, column: str, keys: Iterable[Any]) -> None:
        keys = list(keys)
        for part in _chunks(keys):
            marks = ",".join([self.p] * len(part))
            cur.execute(
                f"DELETE FROM {table} WHERE chain_id = {self.p} AND {column} IN ({marks})",
                [self.chain_id, *part],
            )

    def _insert(self, cur: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
                ) -> None:
        """Bulk insert: COPY on PostgreSQL, executemany on SQLite."""
        if not rows:
            return
        cols = ", ".join(columns)
        if self.postgres:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                write = cp.write_row
                for r in rows:
                    write(r)
        else:
            # Multi-row INSERTs, as many rows each as SQLite binds parameters: one statement step
            # per ~1,500 rows rather than one per row, and the driver releases the GIL for each
            # step, so the fetching thread runs while SQLite updates the B-trees. Compiling such a
            # statement costs ~9 us a row, so the rest of a batch goes in statements of 2^k rows:
            # a few sizes, each compiled once and then found in the driver's statement cache.
            per = max(1, self._max_params(cur) // len(columns))
            flatten = chain.from_iterable
            i, n = 0, len(rows)
            while i < n:
                k = per if n - i >= per else 1 << ((n - i).bit_length() - 1)
                cur.execute(self._values_sql(table, cols, len(columns), k),
                            list(flatten(rows[i : i + k])))
                i += k

    def _values_sql(self, table: str, cols: str, width: int, rows: int) -> str:
        """INSERT of `rows` rows (the same string object each time: its hash is kept)."""
        key = (table, rows)
        sql = self._statements.get(key)
        if sql is None:
            one = "(" + ",".join("?" * width) + ")"
            sql = self._statements[key] = (f"INSERT INTO {table} ({cols}) VALUES "
                                           + ",".join([one] * rows))
        return sql

    def _max_params(self, cur: Any) -> int:
        if self._params is None:
            self._params = int(cur.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        return self._params

    def _upsert(self, cur: Any, table: str, key: Sequence[str], columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = ", ".join(columns)
        marks = ", ".join([self.p] * len(columns))
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        cur.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
            rows,
        )

    def lock(self, conn: Connection) -> None:
        """One writer per database: PostgreSQL advisory lock for the transaction."""
        if self.postgres:
            conn.connection.cursor().execute(
                "SELECT pg_advisory_xact_lock(%s)", [0x5117_7ACE ^ (self.chain_id & 0xFFFF)]
            )
        else:
            info = conn.connection.info
            if not info.get("silktrace_indexer"):
                # Per connection, for bulk writes: a page cache that holds the indexes' working
                # set (the default 2 MB re-reads pages from the OS for every few rows) and fewer,
                # larger WAL checkpoints. Journal mode and synchronous=NORMAL stay the engine's.
                conn.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
                conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {_SQLITE_CHECKPOINT_PAGES}")
                info["silktrace_indexer"] = True
            # Take SQLite's write lock now, so the cursor read below is the one we move.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    # ------------------------------------------------------------------ cursor
    def read_cursor(self, conn: Connection) -> Cursor | None:
        cur = self._cur(conn)
        rows = self._select(
            cur, "SELECT block_number, block_hash, genesis_hash FROM indexer_cursor "
            "WHERE chain_id = ? AND contract = ?", [self.chain_id, self.contract],
        )
        others = self._select(
            cur, "SELECT contract FROM indexer_cursor WHERE chain_id = ? AND contract <> ?",
            [self.chain_id, self.contract],
        )
        if others:
            raise ChainMismatch(
                f"this database mirrors another ledger ({others[0][0]}) on chain {self.chain_id}: "
                "the chain was redeployed; index into a fresh database",
            )
        return Cursor(*rows[0]) if rows else None

    def write_cursor(self, conn: Connection, cursor: Cursor) -> None:
        cur = self._cur(conn)
        now = datetime.now(UTC).replace(tzinfo=None)
        cur.execute(
            self._sql("UPDATE indexer_cursor SET block_number = ?, block_hash = ?, genesis_hash = ?, "
                      "updated_at = ? WHERE chain_id = ? AND contract = ?"),
            [cursor.block_number, cursor.block_hash, cursor.genesis_hash, now, self.chain_id,
             self.contract],
        )
        if cur.rowcount == 0:
            cur.execute(
                self._sql("INSERT INTO indexer_cursor (chain_id, contract, block_number, block_hash, "
                          "genesis_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)"),
                [self.chain_id, self.contract, cursor.block_number, cursor.block_hash,
                 cursor.genesis_hash, now],
            )

    def headers(self, conn: Connection, below: int, limit: int) -> list[tuple[int, str]]:
        """Stored (number, hash) at or below `below`, newest first."""
        return [(int(n), h) for n, h in self._select(
            self._cur(conn),
            "SELECT number, hash FROM block_header WHERE chain_id = ? AND number <= ? "
            "ORDER BY number DESC LIMIT ?", [self.chain_id, below, limit],
        )]

    def has_rows_above(self, conn: Connection, block: int) -> bool:
        cur = self._cur(conn)
        return bool(self._select(
            cur, "SELECT 1 FROM ledger_event WHERE chain_id = ? AND block_number > ? LIMIT 1",
            [self.chain_id, block],
        ) or self._select(
            cur, "SELECT 1 FROM block_header WHERE chain_id = ? AND number > ? LIMIT 1",
            [self.chain_id, block],
        ))

    # ------------------------------------------------------------------ state
    def load_state(self, conn: Connection, keys: Keys) -> State:
        """The current rows of `keys` (None where a row does not exist yet)."""
        cur = self._cur(conn)
        st = State()
        st.subjects = dict.fromkeys(keys.subjects)
        for r in self._select_in(
            cur, f"SELECT {', '.join(SUBJECT_COLUMNS)} FROM subject WHERE chain_id = ? "
            "AND subject_id IN ({in})", [self.chain_id], keys.subjects,
        ):
            row = dict(zip(SUBJECT_COLUMNS, r, strict=True))
            row["recalled"] = bool(row["recalled"])
            row["ended"] = bool(row["ended"])
            st.subjects[row["subject_id"]] = row
        st.enterprises = dict.fromkeys(keys.enterprises)
        for r in self._select_in(
            cur, f"SELECT {', '.join(ENTERPRISE_COLUMNS)} FROM enterprise WHERE chain_id = ? "
            "AND enterprise_id IN ({in})", [self.chain_id], keys.enterprises,
        ):
            row = dict(zip(ENTERPRISE_COLUMNS, r, strict=True))
            row["suspended"] = bool(row["suspended"])
            st.enterprises[row["enterprise_id"]] = row
        st.accounts = dict.fromkeys(keys.accounts)
        for r in self._select_in(
            cur, f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM enterprise_account WHERE chain_id = ? "
            "AND account IN ({in})", [self.chain_id], keys.accounts,
        ):
            st.accounts[r[0]] = dict(zip(ACCOUNT_COLUMNS, r, strict=True))
        st.recall_scope = set(keys.recall_subjects)
        for r in self._select_in(
            cur, f"SELECT id, {', '.join(RECALL_COLUMNS)} FROM recall WHERE chain_id = ? "
            "AND lifted_event_id IS NULL AND subject_id IN ({in})", [self.chain_id],
            keys.recall_subjects,
        ):
            row = dict(zip(("id", *RECALL_COLUMNS), r, strict=True))
            st.open_recalls[row["subject_id"]] = row
        return st

    def write_state(self, conn: Connection, st: State) -> None:
        """Write back every row the handlers changed."""
        cur = self._cur(conn)
        c = self.chain_id
        subjects = [st.subjects[k] for k in st.dirty_subjects]
        self._upsert(cur, "subject", ("chain_id", "subject_id"), ("chain_id", *SUBJECT_COLUMNS),
                     [(c, *(r[k] for k in SUBJECT_COLUMNS)) for r in subjects if r is not None])
        enterprises = [st.enterprises[k] for k in st.dirty_enterprises]
        self._upsert(cur, "enterprise", ("chain_id", "enterprise_id"),
                     ("chain_id", *ENTERPRISE_COLUMNS),
                     [(c, *(r[k] for k in ENTERPRISE_COLUMNS)) for r in enterprises if r is not None])
        gone = [k for k in st.dirty_accounts if st.accounts[k] is None]
        self._delete_in(cur, "enterprise_account", "account", gone)
        accounts = [st.accounts[k] for k in st.dirty_accounts]
        self._upsert(cur, "enterprise_account", ("chain_id", "account"),
                     ("chain_id", *ACCOUNT_COLUMNS),
                     [(c, *(r[k] for k in ACCOUNT_COLUMNS)) for r in accounts if r is not None])
        if st.new_recalls:
            # BIGINT keys are no rowid alias in SQLite: ids are assigned here, as for events.
            first = int(self._select(cur, "SELECT MAX(id) FROM recall", [])[0][0] or 0) + 1
            self._insert(cur, "recall", ("id", "chain_id", *RECALL_COLUMNS),
                         [(first + i, c, *(r[k] for k in RECALL_COLUMNS))
                          for i, r in enumerate(st.new_recalls)])
        if st.lifted_recalls:
            cur.executemany(
                self._sql("UPDATE recall SET lifted_event_id = ?, lifted_by = ?, lifted_at = ?, "
                          "lift_reason_hash = ? WHERE id = ?"),
                [(r["lifted_event_id"], r["lifted_by"], r["lifted_at"], r["lift_reason_hash"],
                  r["id"]) for r in st.lifted_recalls],
            )

    # ------------------------------------------------------------------ forward
    def next_event_id(self, conn: Connection) -> int:
        rows = self._select(self._cur(conn), "SELECT MAX(id) FROM ledger_event", [])
        return int(rows[0][0] or 0) + 1

    def write_batch(self, conn: Connection, events: list[Event], headers: Iterable[Header],
                    cursor: Cursor) -> None:
        """Events, their documents, the derived rows, the headers and the cursor (caller commits)."""
        cur = self._cur(conn)
        c = self.chain_id
        next_id = self.next_event_id(conn) if events else 0
        docs: list[tuple[int, int, str]] = []
        for ev in events:
            # Rows are the events themselves (lists in column order, chain and contract set by the
            # source): only the id is filled in.
            ev[0] = next_id
            if ev[_DOCS] != "[]":
                docs.extend((next_id, i, d) for i, d in enumerate(ev.docs))
            next_id += 1
        self._insert(cur, "ledger_event", EVENT_COLUMNS, events)
        self._insert(cur, "document", ("event_id", "position", "doc_hash"), docs)
        if events:
            st = self.load_state(conn, keys_of(events))
            apply(st, events)
            self.write_state(conn, st)
        self._insert(cur, "block_header", ("chain_id", "number", "hash", "parent_hash", "timestamp"),
                     [(c, h.number, h.hash, h.parent_hash, h.timestamp) for h in headers])
        self.write_cursor(conn, cursor)

    def prune_headers(self, conn: Connection, below: int) -> None:
        """Forget headers too old for any reorg the indexer handles (the cursor's is kept)."""
        self._cur(conn).execute(
            self._sql("DELETE FROM block_header WHERE chain_id = ? AND number < ?"),
            [self.chain_id, below],
        )

    # ------------------------------------------------------------------ reorgs
    def _event_rows(self, cur: Any, where: str, params: Sequence[Any]) -> list[Event]:
        cur.execute(self._sql(f"SELECT {', '.join(EVENT_COLUMNS)} FROM ledger_event WHERE {where}"
                              " ORDER BY block_number, log_index"), params)
        out = []
        for r in cur.fetchall():
            row = dict(zip(EVENT_COLUMNS, r, strict=True))
            out.append(Event.from_row(row))
        return out

    def _events_in(self, cur: Any, column: str, keys: Iterable[Any], names: frozenset[str]
                   ) -> list[Event]:
        keys = list(keys)
        out: list[Event] = []
        for part in _chunks(keys):
            marks = ",".join(["?"] * len(part))
            evs = self._event_rows(
                cur, f"chain_id = ? AND {column} IN ({marks})", [self.chain_id, *part]
            )
            out.extend(e for e in evs if e.name in names)
        return out

    def rollback_to(self, conn: Connection, block: int, block_hash: str, genesis_hash: str) -> int:
        """Delete everything above `block` and rebuild the derived rows it had changed.

        Returns the number of events removed. The rebuild replays, for each subject, enterprise
        and account the removed events had touched, the events that remain, through the same
        handlers as the forward path (a split item also needs its lot, so the lot is replayed too).
        """
        cur = self._cur(conn)
        c = self.chain_id
        removed = self._event_rows(cur, "chain_id = ? AND block_number > ?", [c, block])
        cur.execute(
            self._sql("DELETE FROM document WHERE event_id IN "
                      "(SELECT id FROM ledger_event WHERE chain_id = ? AND block_number > ?)"),
            [c, block],
        )
        cur.execute(
            self._sql("DELETE FROM recall WHERE recalled_event_id IN "
                      "(SELECT id FROM ledger_event WHERE chain_id = ? AND block_number > ?)"),
            [c, block],
        )
        cur.execute(self._sql("DELETE FROM ledger_event WHERE chain_id = ? AND block_number > ?"),
                    [c, block])
        cur.execute(self._sql("DELETE FROM block_header WHERE chain_id = ? AND number > ?"),
                    [c, block])
        if removed:
            self.rebuild(conn, written_keys(removed))
        self.write_cursor(conn, Cursor(block, block_hash, genesis_hash))
        return len(removed)

    def rebuild(self, conn: Connection, keys: Keys) -> None:
        """Recompute the derived rows of `keys` from the events in ledger_event."""
        cur = self._cur(conn)
        subjects = set(keys.subjects)
        events: dict[int, Event] = {}
        for ev in self._events_in(cur, "subject_id", subjects, SUBJECT_EVENTS - CHILD_EVENTS):
            events[ev.id] = ev  # type: ignore[index]
        for ev in self._events_in(cur, "child_id", subjects, CHILD_EVENTS):
            events[ev.id] = ev  # type: ignore[index]
        lots = {e.child_id for e in events.values()
                if e.name == "ItemSplit" and e.subject_id in subjects} - subjects
        if lots:
            subjects |= lots  # type: ignore[arg-type]
            for ev in self._events_in(cur, "subject_id", lots, SUBJECT_EVENTS - CHILD_EVENTS):
                events[ev.id] = ev  # type: ignore[index]
        if keys.enterprises or keys.accounts:
            # The parties' events are the ones without a subject: few, and found by the subject
            # index, so ledger_event needs no index of its own on enterprise or account.
            for ev in self._event_rows(cur, "chain_id = ? AND subject_id IS NULL", [self.chain_id]):
                if (ev.name in ENTERPRISE_EVENTS and ev.enterprise_id in keys.enterprises) or (
                    ev.name in ACCOUNT_EVENTS and ev.account in keys.accounts
                ):
                    events[ev.id] = ev  # type: ignore[index]
        ordered = sorted(events.values(), key=lambda e: (e.block_number, e.log_index))

        self._delete_in(cur, "subject", "subject_id", subjects)
        self._delete_in(cur, "recall", "subject_id", subjects)
        self._delete_in(cur, "enterprise", "enterprise_id", keys.enterprises)
        self._delete_in(cur, "enterprise_account", "account", keys.accounts)
        st = State(
            subjects=dict.fromkeys(subjects), enterprises=dict.fromkeys(keys.enterprises),
            accounts=dict.fromkeys(keys.accounts), recall_scope=set(subjects),  # type: ignore[arg-type]
        )
        apply(st, ordered)
        st.dirty_accounts = {k for k, v in st.accounts.items() if v is not None}
        self.write_state(conn, st)

    # ------------------------------------------------------------------ maintenance
    def reset(self, conn: Connection) -> None:
        """Forget this chain entirely (a fresh mirror of a reset chain)."""
        cur = self._cur(conn)
        c = self.chain_id
        cur.execute(self._sql("DELETE FROM document WHERE event_id IN "
                              "(SELECT id FROM ledger_event WHERE chain_id = ?)"), [c])
        for table in ("recall", "ledger_event", "block_header", "subject", "enterprise_account",
                      "enterprise", "indexer_cursor"):
            cur.execute(self._sql(f"DELETE FROM {table} WHERE chain_id = ?"), [c])


class Checkpointer:
    """Copies SQLite's WAL into the database file on a thread (and connection) of its own.

    A checkpoint is I/O and page copying with the GIL released, about a tenth of a catch-up's work:
    done by the committing connection it stalls the writer (and the last close of the database
    does whatever is left). Here a PASSIVE checkpoint follows each commit while the writer goes on
    with the next batch; the writer's own auto-checkpoint then finds little left to copy, and once
    it has copied that, the next transaction starts the WAL over. Failures only cost speed.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="indexer-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """A transaction was committed: copy it."""
        self._wake.set()

    def _run(self) -> None:
        try:
            conn = self._engine.raw_connection()
        except Exception as exc:  # the writer will meet the same problem and handle it
            log.debug("no checkpointing connection: %s", exc)
            return
        try:
            while not self._stop.is_set():
                self._wake.wait(1.0)
                self._wake.clear()
                if self._stop.is_set():
                    break
                cur = conn.cursor()
                try:
                    cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:
                    log.debug("background checkpoint failed: %s", exc)
                finally:
                    cur.close()
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)


def check_engine(engine: Engine) -> None:
    """Fail early on a database the bulk paths do not support."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise IndexerError(f"unsupported database {engine.dialect.name}: use SQLite or PostgreSQL")
