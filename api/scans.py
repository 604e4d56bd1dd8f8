"""The scan log and clone detection.

Scans are buffered in memory and written in batches by a background thread, so that logging costs
a resolution nothing measurable; the clone check reads an item's recent scans (written or still in
the buffer).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine

from api.models import Scan
from api.sql import fetch_all
from api.state import TTLCache

log = logging.getLogger("silktrace.api.scans")

MIN_TRAVEL_KM = 100.0  # coordinates are rounded to 0.1 degree: ignore short hops
RECENT = 200


def client_hash(secret: bytes, host: str, user_agent: str) -> str:
    """A keyed hash of the client: the same client is recognised, its address is not kept."""
    return hmac.new(secret, f"{host}|{user_agent}".encode(), hashlib.sha256).hexdigest()[:16]


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


class ScanLog:
    """Buffered writes of scans and the clone heuristics."""

    def __init__(self, engine: Engine, *, max_kmh: float, sibling_factor: float, min_scans: int,
                 flush_interval_s: float) -> None:
        self.engine = engine
        self.max_kmh = max_kmh
        self.sibling_factor = sibling_factor
        self.min_scans = min_scans
        self.flush_interval_s = flush_interval_s
        self._buffer: list[dict[str, Any]] = []
        self._pending: dict[str, list[dict[str, Any]]] = {}
        # Items with at least one stored scan: most scans are an item's first, and those need no
        # read of the table. Synced from the table, so other workers' scans count too.
        self.scanned: set[bytes] = set()
        self._last_id = 0
        self.hooks: list[Any] = []  # run after each flush (the resolver's sync of split items)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lot_avg = TTLCache(30.0, 10_000)

    def start(self) -> None:
        self.sync()
        for hook in self.hooks:
            hook()
        self._thread = threading.Thread(target=self._run, name="silktrace-scans", daemon=True)
        self._thread.start()

    def sync(self) -> int:
        """Learn which items were ever scanned (here or by other workers) since the last sync."""
        added = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT id, subject_id FROM scan WHERE id > :last ORDER BY id LIMIT 50000"),
                    {"last": self._last_id},
                ).all()
            for row_id, sid in rows:
                self.scanned.add(bytes.fromhex(sid[2:]))
                self._last_id = max(self._last_id, row_id)
            added += len(rows)
            if len(rows) < 50000:
                return added

    def known(self, subject_id: str) -> bool:
        """Whether the item may have scans in the table (if not, its history need not be read)."""
        return bytes.fromhex(subject_id[2:]) in self.scanned

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            try:
                self.flush()
                self.sync()
                for hook in self.hooks:
                    hook()
            except Exception as exc:  # keep logging scans after a database hiccup
                log.warning("scan log flush failed: %s", exc)

    def flush(self) -> int:
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        with self.engine.begin() as conn:
            conn.execute(insert(Scan.__table__), batch)  # type: ignore[attr-defined]
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
        self.scanned.add(bytes.fromhex(row["subject_id"][2:]))

    def recent(
        self, conn: Connection, subject_id: str,
        stored: list[tuple[float, float | None, float | None, str]] | None = None,
    ) -> list[tuple[float, float | None, float | None, str]]:
        """(time, lat, lon, client) of the item's latest scans, newest first."""
        rows = stored if stored is not None else [
            (r[0], r[1], r[2], r[3]) for r in fetch_all(
                conn, "SELECT scanned_at, lat, lon, client_hash FROM scan WHERE subject_id = ? "
                "ORDER BY scanned_at DESC LIMIT ?", (subject_id, RECENT),
            )
        ]
        with self._lock:
            pending = [(b["scanned_at"], b["lat"], b["lon"], b["client_hash"])
                       for b in self._pending.get(subject_id, ())]
        if pending:
            rows = sorted(rows + pending, key=lambda r: -r[0])[:RECENT]
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
        stored: list[tuple[float, float | None, float | None, str]] | None = None,
    ) -> CloneVerdict:
        """The clone heuristics over the recent scans plus this one (`stored`: already read)."""
        scans = [(now, lat, lon, client), *self.recent(conn, subject_id, stored)]
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
