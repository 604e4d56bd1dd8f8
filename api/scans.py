"""The scan log and clone detection.

Scans are buffered in memory and written in batches by a background thread, so that logging costs
a resolution nothing measurable; the clone check reads an item's recent scans from a bounded
in-memory cache synced with the table, and reads the table only for items pushed out of it.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from api.sql import fetch_all
from api.state import TTLCache

log = logging.getLogger("silktrace.api.scans")

MIN_TRAVEL_KM = 100.0  # coordinates are rounded to 0.1 degree: ignore short hops
RECENT = 200
SYNC_BATCH = 50_000
INSERT_SCANS = ("INSERT INTO scan (subject_id, lot_id, scanned_at, client_hash, lat, lon, "
                "signature_state, warning) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")  # SQLite
COPY_SCANS = ("COPY scan (subject_id, lot_id, scanned_at, client_hash, lat, lon, signature_state, "
              "warning) FROM STDIN")


def client_hash(secret: bytes, host: str, user_agent: str) -> str:
    """A keyed hash of the client: the same client is recognised, its address is not kept
    (keyed BLAKE2b, a MAC in one call)."""
    return hashlib.blake2b(f"{host}|{user_agent}".encode(), key=secret[:64], digest_size=8).hexdigest()


def coarse(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))


@dataclass
class CloneVerdict:
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        if not self.reasons:
            return {"suspected": False, "reasons": [], "message": None}
        return {
            "suspected": True,
            "reasons": self.reasons,
            "message": {
                "zh": "此码的扫描记录异常,可能是复制的标签。请向商家或市场监管部门核实。",
                "en": "This code's scans look unusual: the label may be a copy. Check with the seller "
                "or market supervision.",
            },
        }


class Bloom:
    """A fixed-size Bloom filter of subject ids (already uniform hashes: their bytes are the
    bit positions); a false positive costs one query, never a wrong answer."""

    def __init__(self, bits_log2: int = 26, k: int = 4) -> None:
        self.bits_log2 = bits_log2
        self.k = k
        self._mask = (1 << bits_log2) - 1
        self._bits = bytearray(1 << (bits_log2 - 3))

    def _positions(self, key: bytes) -> Iterator[int]:
        for i in range(self.k):
            yield int.from_bytes(key[4 * i : 4 * i + 4], "big") & self._mask

    def add(self, key: bytes) -> None:
        for p in self._positions(key):
            self._bits[p >> 3] |= 1 << (p & 7)

    def __contains__(self, key: bytes) -> bool:
        return all(self._bits[p >> 3] & (1 << (p & 7)) for p in self._positions(key))


ScanTuple = tuple[float, float | None, float | None, str]  # (time, lat, lon, client)


class ScanLog:
    """Buffered writes of scans, the recent scans of items in memory, and the clone heuristics.

    Most scans are of an item scanned never or a few times, so an item's recent scans are kept in
    a bounded LRU fed by this worker's scans and by a sync of the table (other workers' scans);
    an item pushed out of it goes into a Bloom filter, and only for such items is the table read.
    Memory stays bounded however many items are scanned.
    """

    def __init__(self, engine: Engine, *, max_kmh: float, sibling_factor: float, min_scans: int,
                 flush_interval_s: float, cache_items: int = 200_000) -> None:
        self.engine = engine
        self.max_kmh = max_kmh
        self.sibling_factor = sibling_factor
        self.min_scans = min_scans
        self.flush_interval_s = flush_interval_s
        self.cache_items = max(cache_items, 1)
        self._buffer: list[dict[str, Any]] = []
        self._pending: dict[str, list[dict[str, Any]]] = {}
        # subject id -> its latest scans, newest first; complete for every item it holds. Tuples
        # of atomic values, which the garbage collector stops tracking: a full collection does
        # not walk a cache of this size on every pass.
        self._recent: OrderedDict[bytes, tuple[ScanTuple, ...]] = OrderedDict()
        self._evicted = Bloom()  # items whose scans may be in the table but not in `_recent`
        self._last_id = 0
        self._warm = threading.Event()
        self.hooks: list[Any] = []  # run after each flush (the resolver's sync of split items)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lot_avg = TTLCache(30.0, 10_000)

    def start(self) -> None:
        """Start the writer thread; it first reads the stored scans (until then, an item not
        yet in memory is looked up in the table)."""
        for hook in self.hooks:
            hook()
        self._thread = threading.Thread(target=self._run, name="silktrace-scans", daemon=True)
        self._thread.start()

    @property
    def warm(self) -> bool:
        """Whether every stored scan has been read once (memory can then answer 'never scanned')."""
        return self._warm.is_set()

    def sync(self, limit: int | None = None) -> int:
        """Learn the scans stored since the last sync (here or by other workers); returns how many
        (at most `limit`, None for all)."""
        added = 0
        while True:
            batch = SYNC_BATCH if limit is None else min(SYNC_BATCH, limit - added)
            with self.engine.connect() as conn:
                rows = fetch_all(
                    conn, "SELECT id, subject_id, scanned_at, lat, lon, client_hash FROM scan "
                    "WHERE id > ? ORDER BY id LIMIT ?", (self._last_id, batch),
                )
            for i in range(0, len(rows), 1000):  # short holds of the lock: scans wait on it
                chunk = rows[i : i + 1000]
                with self._lock:
                    for _, sid, at, lat, lon, client in chunk:
                        self._learn(bytes.fromhex(sid[2:]), (at, lat, lon, client), create=True)
                    self._last_id = max(self._last_id, chunk[-1][0])
            added += len(rows)
            if len(rows) < batch:
                self._warm.set()  # read up to the end of the table
                return added
            if limit is not None and added >= limit:
                return added

    def _learn(self, key: bytes, scan: ScanTuple, create: bool) -> None:
        """Add one scan to the item's history in memory (caller holds the lock); `create`: a new
        entry may be started (the scan is known to be the item's first, or will be followed)."""
        rows = self._recent.get(key)
        if rows is not None:
            if scan not in rows:  # this worker's own scans come back from the table
                self._recent[key] = tuple(sorted((*rows, scan), key=lambda r: -r[0])[:RECENT])
            self._recent.move_to_end(key)
        elif create and key not in self._evicted:
            self._recent[key] = (scan,)
            self._trim()
        # else: the table holds its history; the next read of the item loads the whole list

    def _trim(self) -> None:
        while len(self._recent) > self.cache_items:
            old, _ = self._recent.popitem(last=False)
            self._evicted.add(old)

    def known(self, subject_id: str) -> bool:
        """Whether the item may have been scanned before."""
        key = bytes.fromhex(subject_id[2:])
        return key in self._recent or key in self._evicted or not self.warm

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self.warm and not self._stop.is_set():
            try:
                self.flush()  # keep writing while the stored scans are read in batches
                self.sync(limit=SYNC_BATCH)
            except Exception as exc:
                log.warning("reading stored scans failed: %s", exc)
                self._stop.wait(self.flush_interval_s)
        while not self._stop.wait(self.flush_interval_s):
            try:
                self.flush()
                self.sync()
                for hook in self.hooks:
                    hook()
            except Exception as exc:  # keep logging scans after a database hiccup
                log.warning("scan log flush failed: %s", exc)

    def flush(self) -> int:
        """Write the buffered scans in one transaction (COPY on PostgreSQL, executemany on
        SQLite: a statement per row would cost the database more than the scan itself)."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        values = [(b["subject_id"], b["lot_id"], b["scanned_at"], b["client_hash"], b["lat"], b["lon"],
                   b["signature_state"], b["warning"]) for b in batch]
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            if self.engine.dialect.name == "postgresql":
                with cur.copy(COPY_SCANS) as copy:
                    for value in values:
                        copy.write_row(value)
            else:
                cur.executemany(INSERT_SCANS, values)
            raw.commit()
        except BaseException:
            raw.rollback()
            with self._lock:  # keep them for the next flush: a scan is never dropped silently
                self._buffer[:0] = batch
            raise
        finally:
            raw.close()
        with self._lock:
            # Only now are they readable from the table: until then `recent` reads them here.
            for row in batch:
                rows = self._pending.get(row["subject_id"])
                if rows is not None:
                    rows.remove(row)
                    if not rows:
                        del self._pending[row["subject_id"]]
        return len(batch)

    def record(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._buffer.append(row)
            self._pending.setdefault(row["subject_id"], []).append(row)
            # Before the stored scans are all read, an item's first entry must come from them.
            self._learn(bytes.fromhex(row["subject_id"][2:]),
                        (row["scanned_at"], row["lat"], row["lon"], row["client_hash"]),
                        create=self.warm)

    def recent(self, conn: Connection, subject_id: str) -> list[ScanTuple]:
        """(time, lat, lon, client) of the item's latest scans, newest first."""
        key = bytes.fromhex(subject_id[2:])
        with self._lock:
            cached = self._recent.get(key)
            if cached is not None:
                self._recent.move_to_end(key)
                return list(cached)
            if key not in self._evicted and self.warm:
                return []  # never scanned, here or (as of the last sync) by another worker
            synced = self._last_id
        rows = [
            (r[0], r[1], r[2], r[3]) for r in fetch_all(
                conn, "SELECT scanned_at, lat, lon, client_hash FROM scan WHERE subject_id = ? "
                "ORDER BY scanned_at DESC LIMIT ?", (subject_id, RECENT),
            )
        ]
        with self._lock:
            pending = [(b["scanned_at"], b["lat"], b["lon"], b["client_hash"])
                       for b in self._pending.get(subject_id, ())]
            rows = sorted(set(rows) | set(pending), key=lambda r: -r[0])[:RECENT]
            if self._last_id == synced and key not in self._recent:
                # complete as of this read, and no sync ran meanwhile that could have skipped it
                self._recent[key] = tuple(rows)
                self._trim()
        return rows

    def lot_counts(self, conn: Connection, lot_id: str) -> tuple[int, int]:
        """(scans, distinct items scanned) of a lot, cached."""

        def load() -> tuple[int, int]:
            row = conn.execute(
                text("SELECT count(*), count(DISTINCT subject_id) FROM scan WHERE lot_id = :l"),
                {"l": lot_id},
            ).first()
            return (0, 0) if row is None else (int(row[0]), int(row[1]))

        return self._lot_avg.get(lot_id, load)

    def check(
        self, conn: Connection, subject_id: str, lot_id: str | None, now: float,
        lat: float | None, lon: float | None, client: str, delivered_at: float | None,
    ) -> CloneVerdict:
        """The clone heuristics over the recent scans plus this one."""
        scans = [(now, lat, lon, client), *self.recent(conn, subject_id)]
        verdict = CloneVerdict()
        if delivered_at is not None:
            after = {c for t, _, _, c in scans if t >= delivered_at}
            if len(after) > 1:
                verdict.reasons.append("scanned_after_delivery")
        located = [(t, la, lo) for t, la, lo, _ in scans if la is not None and lo is not None]
        for (t1, la1, lo1), (t2, la2, lo2) in itertools.pairwise(located):
            dist = km(la1, lo1, la2, lo2)  # type: ignore[arg-type]
            hours = max(abs(t1 - t2), 1.0) / 3600.0
            if dist >= MIN_TRAVEL_KM and dist / hours > self.max_kmh:
                verdict.reasons.append("impossible_travel")
                break
        if len(scans) >= self.min_scans and lot_id is not None:
            total, items = self.lot_counts(conn, lot_id)
            # Siblings only: this item's own scans would raise the average it is compared with.
            others = max(total - (len(scans) - 1), 0) / max(items - 1, 1)
            if len(scans) >= self.sibling_factor * max(others, 1.0):
                verdict.reasons.append("scanned_too_often")
        return verdict
