"""Resolution: the trace of an item, lot or product from the mirror, checked against the chain.

Resolution is the hot path (every consumer scan). An item of a Merkle-registered lot costs no
query: its membership is read from the lot's tree file and its recent scans from memory; an item
with a state of its own costs one indexed lookup. Everything the items of a lot share (product,
lot, the lot's events and the units it travelled in, names of enterprises and places) is cached
per lot until the mirror moves (and for a few seconds at most); the chain is read through a
short-lived cache."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
import sha3
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from api.epcis import iso
from api.manifest import TreeFile
from api.scans import CloneVerdict
from api.signing import b64url_decode, make_kid, parse_sig, verify_qr
from api.sql import fetch_all
from api.state import AppState, TTLCache
from silktrace import gs1
from silktrace.db import create_db_engine
from silktrace.vocab import (
    DISPOSITION_BY_CODE,
    DISPOSITION_LABEL,
    STEP_BY_CODE,
    Role,
    disposition_uri,
)

ACTIONS = {
    "LotRegistered": "register", "ItemRegistered": "register", "UnitRegistered": "register",
    "ItemSplit": "split", "EventRecorded": "event", "CustodyDispatched": "dispatch",
    "CustodyAccepted": "accept", "CustodyRejected": "reject", "CustodyCancelled": "cancel",
    "Packed": "pack", "Unpacked": "unpack", "Recalled": "recall", "RecallLifted": "lift_recall",
}
IMPLIED_STEP = {"LotRegistered": 1, "ItemRegistered": 1, "UnitRegistered": 1, "Packed": 2,
                "Unpacked": 3, "Recalled": 69, "RecallLifted": 70}
EVENT_COLS = ("id, event, subject_id, enterprise_id, counterparty_id, child_id, biz_step, disposition, "
              "location, event_time, epcis_hash, documents, block_number, log_index, tx_hash")
SUBJECT_COLS = ("subject_id, kind, holder_id, pending_receiver_id, disposition, recalled, ended, "
                "parent_id, lot_id, items_root, item_count, manifest_hash")
CONSUMER_RECEIPT = 36
SHARED_STEPS = "_steps_json"  # key of the pre-serialised steps (never sent as such)
ITEM_SQL = (
    "SELECT m.lot_id, s.subject_id FROM manifest_item m "
    "LEFT JOIN subject s ON s.chain_id = ? AND s.subject_id = m.item_id WHERE m.item_id = ?"
)


def keccak256(data: bytes) -> bytes:
    """keccak-256 through the C extension: a few times faster than eth_utils' on the hot path."""
    return bytes(sha3.keccak_256(data).digest())


@lru_cache(maxsize=4096)
def subject_hex(path: str) -> str:
    """The subject id of a canonical path as 0x-hex (lots and products recur: cached)."""
    return "0x" + keccak256(path.encode()).hex()


def dumps(trace: dict[str, Any]) -> bytes:
    """The trace as JSON; a lot's shared steps are spliced in already serialised."""
    shared = trace.get(SHARED_STEPS)
    if shared is None:
        return orjson.dumps(trace)
    body = {k: v for k, v in trace.items() if k not in ("steps", SHARED_STEPS)}
    return orjson.dumps(body)[:-1] + b',"steps":' + shared + b"}"


def role_names(roles: int) -> list[str]:
    return [str(r.name).lower() for r in Role if roles & r]


@lru_cache(maxsize=128)
def step_info(code: int | None) -> dict[str, Any] | None:
    s = STEP_BY_CODE.get(code or 0)
    if s is None:
        return None
    return {"code": s.code, "name": s.name, "uri": s.uri, "label": {"zh": s.zh, "en": s.en},
            "authority": s.authority}


@lru_cache(maxsize=64)
def disposition_info(code: int | None) -> dict[str, Any] | None:
    name = DISPOSITION_BY_CODE.get(code or 0)
    if name is None:
        return None
    return {"code": code, "name": name, "uri": disposition_uri(name), "label": DISPOSITION_LABEL[name]}


def _docs_json(value: Any) -> list[str]:
    if isinstance(value, str):
        import json

        value = json.loads(value)
    return list(value or [])


@dataclass
class Names:
    """Enterprises, places and documents as the trace shows them."""

    enterprises: dict[int, dict[str, Any]] = field(default_factory=dict)
    places: dict[str, dict[str, str]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class LotContext:
    """What every item of a lot shares, built once per cache period."""

    lot_row: dict[str, Any] | None  # mirror subject row of the lot
    lot_info: dict[str, Any] | None
    product: dict[str, Any] | None
    issuer: int | None  # enterprise that registered the lot
    steps: list[dict[str, Any]]  # the lot's steps (incl. the units it travelled in), in order
    positions: list[tuple[int, int]]  # (block, log index) of each step
    state: dict[str, Any]  # responsible, recalled etc. of the lot
    chain_root: bytes | None  # the items root as the chain says, None if unreachable
    steps_json: bytes = b"[]"  # `steps` serialised once for every item that shares them


class Resolver:
    """Builds traces; one per application."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        # Resolution only reads: no liveness ping and no rollback per checkout (each a round trip
        # on PostgreSQL); a dead pooled connection fails one request and is replaced.
        self.engine = create_db_engine(
            state.settings.sql_url(), pool_pre_ping=False, isolation_level="AUTOCOMMIT"
        )
        self._local = threading.local()
        # Items with a state of their own (split or registered alone), followed from the mirror.
        self.split: set[bytes] = set()
        self._split_block = -1
        self.lots = TTLCache(5.0, 10_000)
        self.names_cache = TTLCache(5.0, 4)
        self.mirror = TTLCache(1.0, 4)
        self._trees: dict[str, Any] = {}

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """This thread's connection, kept open between scans (no pool round trip per request)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self.engine.connect()
        try:
            yield conn
        except SQLAlchemyError:
            self._local.conn = None
            conn.invalidate()
            raise
        except Exception as exc:
            if isinstance(exc, self.engine.dialect.loaded_dbapi.Error):
                self._local.conn = None
                conn.invalidate()
            raise

    def sync_split(self) -> int:
        """Add items split (or registered alone) since the last sync; re-reads a few blocks back
        so that a short reorg of the mirror cannot hide one."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT subject_id, block_number FROM ledger_event WHERE chain_id = :c "
                "AND block_number > :b AND event IN ('ItemSplit', 'ItemRegistered')"
            ), {"c": self.chain_id, "b": self._split_block - 12}).all()
        for sid, block in rows:
            self.split.add(bytes.fromhex(sid[2:]))
            self._split_block = max(self._split_block, int(block))
        return len(rows)

    def close(self) -> None:
        """Close this thread's kept connection and the trees' maps (the lifespan's thread is the
        event loop's, the one the scans run in)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        for tree in self._trees.values():
            tree.close()
        self._trees.clear()
        self.engine.dispose()

    @property
    def chain_id(self) -> int:
        dep = self.state.deployment
        return dep.chain_id if dep is not None else self.state.settings.chain_id

    # ------------------------------------------------------------------ shared lookups
    def names(self, conn: Connection) -> Names:
        def load() -> Names:
            n = Names()
            roles = {
                r[0]: (r[1], r[2]) for r in conn.execute(
                    text("SELECT enterprise_id, roles, suspended FROM enterprise WHERE chain_id = :c"),
                    {"c": self.chain_id},
                )
            }
            for r in conn.execute(text(
                "SELECT enterprise_id, name_zh, name_en, country, roles FROM enterprise_profile"
            )):
                n.enterprises[r[0]] = {
                    "id": r[0], "name": {"zh": r[1], "en": r[2]},
                    "roles": role_names(roles.get(r[0], (r[4], False))[0]), "country": r[3],
                }
            for eid, (rl, _) in roles.items():
                n.enterprises.setdefault(eid, {
                    "id": eid, "name": {"zh": f"企业 {eid}", "en": f"Enterprise {eid}"},
                    "roles": role_names(rl), "country": None,
                })
            for r in conn.execute(text("SELECT gln, name_zh, name_en FROM place")):
                n.places[r[0]] = {"zh": r[1], "en": r[2]}
            base = self.state.api.resolver_base_url.rstrip("/")
            for r in conn.execute(text(
                "SELECT sha256, title, doc_type, public FROM document_file"
            )):
                n.documents[r[0]] = {
                    "sha256": r[0], "title": r[1], "doc_type": r[2], "public": bool(r[3]),
                    "download_url": f"{base}/documents/{r[0]}" if r[3] else None,
                }
            return n

        return self.names_cache.get("names", load)

    def mirror_block(self, conn: Connection) -> int | None:
        def load() -> int | None:
            row = conn.execute(
                text("SELECT max(block_number) FROM indexer_cursor WHERE chain_id = :c"),
                {"c": self.chain_id},
            ).first()
            return None if row is None or row[0] is None else int(row[0])

        return self.mirror.get("block", load)

    def enterprise(self, names: Names, eid: int | None) -> dict[str, Any] | None:
        if not eid:
            return None
        return names.enterprises.get(eid) or {
            "id": eid, "name": {"zh": f"企业 {eid}", "en": f"Enterprise {eid}"}, "roles": [],
            "country": None,
        }

    def subject_row(self, conn: Connection, sid: str) -> dict[str, Any] | None:
        row = conn.execute(
            text(f"SELECT {SUBJECT_COLS} FROM subject WHERE chain_id = :c AND subject_id = :s"),
            {"c": self.chain_id, "s": sid},
        ).mappings().first()
        return dict(row) if row is not None else None

    def events(self, conn: Connection, sid: str) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(
            text(f"SELECT {EVENT_COLS} FROM ledger_event WHERE chain_id = :c AND subject_id = :s "
                 "ORDER BY block_number, log_index"),
            {"c": self.chain_id, "s": sid},
        ).mappings()]

    def packings(self, conn: Connection, child: str) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(
            text(f"SELECT {EVENT_COLS} FROM ledger_event WHERE chain_id = :c AND child_id = :s "
                 "AND event IN ('Packed', 'Unpacked') ORDER BY block_number, log_index"),
            {"c": self.chain_id, "s": child},
        ).mappings()]

    # ------------------------------------------------------------------ event assembly
    def subject_events(
        self, conn: Connection, sid: str, via: str, start: tuple[int, int] = (0, -1),
        end: tuple[int, int] | None = None, depth: int = 0,
    ) -> list[tuple[dict[str, Any], str]]:
        """Events of a subject within [start, end), plus those of the units it was packed in."""
        out = [
            (e, via) for e in self.events(conn, sid)
            if (e["block_number"], e["log_index"]) >= start
            and (end is None or (e["block_number"], e["log_index"]) < end)
        ]
        if depth >= 5:
            return out
        packs = self.packings(conn, sid)
        open_pack: dict[str, Any] | None = None
        for p in packs:
            pos = (p["block_number"], p["log_index"])
            if pos < start or (end is not None and pos >= end):
                continue
            sscc = self.sscc_of(conn, p["subject_id"])
            out.append((p, f"unit:{sscc}" if sscc else f"unit:{p['subject_id']}"))
            if p["event"] == "Packed":
                open_pack = p
            elif open_pack is not None:
                out += self._unit_events(conn, open_pack, pos, depth)
                open_pack = None
        if open_pack is not None:
            out += self._unit_events(conn, open_pack, end, depth)
        out.sort(key=lambda x: (x[0]["block_number"], x[0]["log_index"]))
        return out

    def _unit_events(
        self, conn: Connection, packed: dict[str, Any], until: tuple[int, int] | None, depth: int
    ) -> list[tuple[dict[str, Any], str]]:
        unit = packed["subject_id"]
        sscc = self.sscc_of(conn, unit)
        via = f"unit:{sscc}" if sscc else f"unit:{unit}"
        start = (packed["block_number"], packed["log_index"] + 1)
        events = self.subject_events(conn, unit, via, start, until, depth + 1)
        # the Packed/Unpacked rows themselves are listed on the unit, keep only this child's
        return [
            (e, v) for e, v in events
            if e["event"] not in ("Packed", "Unpacked") or e["child_id"] == packed["child_id"]
        ]

    def sscc_of(self, conn: Connection, unit_id: str) -> str | None:
        row = conn.execute(text("SELECT sscc FROM logistic_unit WHERE unit_id = :u"), {"u": unit_id}).first()
        return row[0] if row else None

    def render(
        self, names: Names, events: list[tuple[dict[str, Any], str]], seq0: int = 0,
        conn: Connection | None = None,
    ) -> list[dict[str, Any]]:
        steps = []
        for i, (e, via) in enumerate(events):
            name = e["event"]
            actor, other = e["enterprise_id"], e["counterparty_id"]
            if name in ("CustodyAccepted", "CustodyRejected"):
                actor, other = other, actor
            code = e["biz_step"] if e["biz_step"] else IMPLIED_STEP.get(name)
            disp = e["disposition"]
            insp = None
            if code in (64, 65) and disp in (6, 7):
                insp = "conformant" if disp == 6 else "non_conformant"
            place = None
            if e["location"]:
                gln = str(e["location"]).zfill(13)
                place = {"gln": gln, "name": names.places.get(gln)}
            docs = []
            for d in _docs_json(e["documents"]):
                h = d.removeprefix("0x")
                docs.append(names.documents.get(h) or {"sha256": h, "title": None, "doc_type": None,
                                                        "public": False, "download_url": None})
            steps.append({
                "seq": seq0 + i + 1, "event": name, "action": ACTIONS.get(name, "event"),
                "step": step_info(code), "disposition": disposition_info(disp),
                "enterprise": self.enterprise(names, actor),
                "counterparty": self.enterprise(names, other) if other else None,
                "place": place, "time": iso(e["event_time"]) if e["event_time"] else None,
                "via": via, "inspection": insp, "documents": docs, "epcis_hash": e["epcis_hash"],
                "block_number": e["block_number"], "tx_hash": e["tx_hash"], "log_index": e["log_index"],
                "reason": None,
            })
        if conn is not None:
            self.attach_reasons(conn, steps)
        return steps

    def attach_reasons(self, conn: Connection, steps: list[dict[str, Any]]) -> None:
        """Recall and lift steps show the reason text whose hash the chain carries."""
        wanted = {s["epcis_hash"]: s for s in steps
                  if s["action"] in ("recall", "lift_recall") and s["epcis_hash"]}
        for h, s in wanted.items():
            row = conn.execute(text("SELECT body FROM epcis_event WHERE event_hash = :h"), {"h": h}).first()
            body = row[0] if row else None
            if isinstance(body, str):
                body = orjson.loads(body)
            if isinstance(body, dict) and isinstance(body.get("reason"), str):
                s["reason"] = body["reason"]

    def current(self, conn: Connection, row: dict[str, Any] | None) -> dict[str, Any]:
        """Responsible enterprise, recall and custody state, following the units it is packed in."""
        if row is None:
            return {"registered": False, "recalled": False, "ended": False, "holder": None,
                    "pending": None, "disposition": None}
        recalled = bool(row["recalled"])
        holder = row["holder_id"]
        parent = row["parent_id"]
        for _ in range(5):
            if not parent:
                break
            prow = self.subject_row(conn, parent)
            if prow is None:
                break
            recalled = recalled or bool(prow["recalled"])
            holder = prow["holder_id"]
            parent = prow["parent_id"]
        return {"registered": True, "recalled": recalled, "ended": bool(row["ended"]), "holder": holder,
                "pending": row["pending_receiver_id"], "disposition": row["disposition"]}

    # ------------------------------------------------------------------ per lot
    def lot_context(self, conn: Connection, gtin: str, lot_code: str, lot_id: str) -> LotContext:
        # Rebuilt when the mirror moves (an event of the lot shows at once) and at least every few
        # seconds (names and master data change off chain).
        return self.lots.get((lot_id, self.mirror_block(conn)),
                             lambda: self._lot_context(conn, gtin, lot_code, lot_id))

    def _lot_context(self, conn: Connection, gtin: str, lot_code: str, lot_id: str) -> LotContext:
        names = self.names(conn)
        lot_row = self.subject_row(conn, lot_id)
        meta = conn.execute(
            text("SELECT production_date, expiry_date FROM lot WHERE lot_id = :l"), {"l": lot_id}
        ).first()
        events = self.subject_events(conn, lot_id, "lot")
        issuer = next((e["enterprise_id"] for e, _ in events if e["event"] == "LotRegistered"), None)
        lot_info = None
        if lot_row is not None or meta is not None:
            lot_info = {
                "lot": lot_code, "lot_id": lot_id,
                "production_date": meta[0] if meta else None, "expiry_date": meta[1] if meta else None,
                "item_count": lot_row["item_count"] if lot_row else None,
                "items_root": lot_row["items_root"] if lot_row else None,
                "manifest_hash": lot_row["manifest_hash"] if lot_row else None,
            }
        steps = self.render(names, events, conn=conn)
        return LotContext(
            lot_row=lot_row, lot_info=lot_info, product=self.product(conn, names, gtin), issuer=issuer,
            steps=steps, steps_json=orjson.dumps(steps),
            positions=[(e["block_number"], e["log_index"]) for e, _ in events],
            state=self.current(conn, lot_row), chain_root=self.chain_root(lot_id) if lot_row else None,
        )

    def product(self, conn: Connection, names: Names, gtin: str) -> dict[str, Any] | None:
        r = conn.execute(
            text("SELECT gtin, name_zh, name_en, brand, category, country_of_origin, shelf_life_days, "
                 "enterprise_id FROM product WHERE gtin = :g"), {"g": gtin},
        ).first()
        if r is None:
            return None
        return {"gtin": r[0], "name": {"zh": r[1], "en": r[2]}, "brand": r[3], "category": r[4],
                "country_of_origin": r[5], "shelf_life_days": r[6], "owner": self.enterprise(names, r[7])}

    def chain_root(self, lot_id: str) -> bytes | None:
        def read() -> bytes | None:
            try:
                root, _, _ = self.state.ledger().contract.functions.lotInfo(bytes.fromhex(lot_id[2:])).call()
                return bytes(root)
            except Exception:  # the chain being down must not break a scan: report unverified
                return None

        return self.state.chain_cache.get(("root", lot_id), read)

    def chain_item(self, item_id: str) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            try:
                return self.state.ledger().subject(bytes.fromhex(item_id[2:]))
            except Exception:
                return None

        return self.state.chain_cache.get(("item", item_id), read)

    def tree(self, lot_id: str, expected_root: bytes | None = None) -> TreeFile | None:
        """The lot's tree file (mmap), reopened if it no longer has the root the chain has."""
        tree = self._trees.get(lot_id)
        if tree is not None and expected_root is not None and tree.root != expected_root:
            tree = None  # replaced since it was opened (a new upload before registration)
        if tree is None:
            path = self.state.settings.data_dir / "manifests" / f"{lot_id}.tree"
            if not path.exists():
                return None
            tree = TreeFile(path)
            if len(self._trees) > 256:
                self._trees.clear()
            self._trees[lot_id] = tree
        return tree

    # ------------------------------------------------------------------ signature
    def signature(self, conn: Connection, names: Names, link: gs1.DigitalLink, issuer: int | None,
                  path: str | None = None) -> dict[str, Any]:
        sig = link.param("sig")
        out: dict[str, Any] = {"state": "missing", "kid": None, "issuer": None, "algorithm": "Ed25519"}
        if not sig:
            return out
        parsed = parse_sig(sig)
        if parsed is None:
            out["state"] = "invalid"
            return out
        out["kid"] = parsed.kid
        keys = self.qr_keys(conn)
        key = keys.get(parsed.kid)
        if key is None:
            out["state"] = "unknown_key"
            return out
        eid, public, status = key
        out["issuer"] = self.enterprise(names, eid)
        if status == "revoked":
            out["state"] = "revoked_key"
        elif not verify_qr(public, path or link.path, parsed.signature):
            out["state"] = "invalid"
        elif issuer is not None and eid != issuer:
            out["state"] = "wrong_issuer"
        else:
            out["state"] = "valid"
        return out

    def qr_keys(self, conn: Connection) -> dict[str, tuple[int, bytes, str]]:
        def load() -> dict[str, tuple[int, bytes, str]]:
            return {
                make_kid(r[0], r[1]): (r[0], b64url_decode(r[2]), r[3])
                for r in conn.execute(text(
                    "SELECT enterprise_id, version, public, status FROM signing_key WHERE purpose = 'qr'"
                ))
            }

        return self.state.chain_cache.get("qr_keys", load)

    # ------------------------------------------------------------------ the trace
    def links(self, link: gs1.DigitalLink, path: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """The link types this resolver answers, with their targets."""
        base = self.state.api.resolver_base_url.rstrip("/")
        sig = link.param("sig")
        q = f"?sig={sig}" if sig else ""
        path = path or link.path
        return {
            "gs1:pip": [{"href": f"{base}/pages{path}{q}", "title": "Product information / 产品信息",
                         "type": "text/html", "hreflang": ["zh", "en"]}],
            "gs1:traceability": [{"href": f"{base}/trace{path}{q}", "title": "Trace / 溯源",
                                  "type": "application/json", "hreflang": None}],
            "gs1:recallStatus": [{"href": f"{base}/recall-status{path}", "title": "Recall status / 召回状态",
                                  "type": "application/json", "hreflang": None}],
            "gs1:certificationInfo": [{"href": f"{base}/certifications{path}",
                                       "title": "Certificates / 证书", "type": "application/json",
                                       "hreflang": None}],
        }

    def trace(self, conn: Connection, link: gs1.DigitalLink, clone: CloneVerdict | None = None
              ) -> dict[str, Any]:
        names = self.names(conn)
        base = self.state.api.resolver_base_url.rstrip("/")
        assert link.gtin is not None
        path = link.path  # built once: it percent-encodes lot and serial
        out: dict[str, Any] = {
            "uri": base + path, "path": path, "kind": link.kind, "subject_id": None,
            "gtin": link.gtin, "lot": link.lot, "serial": link.serial, "product": None,
            "lot_info": None, "links": self.links(link, path),
        }
        no_clone = {"suspected": False, "reasons": [], "message": None}
        if link.kind == "product":
            out["product"] = self.product(conn, names, link.gtin)
            out["steps"] = []
            out["status"] = self._status(
                registered=out["product"] is not None, verified=False, cur=None,
                sig={"state": "missing", "kid": None, "issuer": None, "algorithm": "Ed25519"},
                names=names, clone=no_clone, conn=conn, genuine_needs_sig=False,
            )
            return out
        lot_path = link.lot_path
        assert lot_path is not None
        lot_id = subject_hex(lot_path)
        ctx = self.lot_context(conn, link.gtin, link.lot or "", lot_id)
        out["product"], out["lot_info"] = ctx.product, ctx.lot_info
        if link.kind == "lot":
            out["subject_id"] = lot_id
            out["steps"] = ctx.steps
            sig = self.signature(conn, names, link, ctx.issuer)
            out["status"] = self._status(
                registered=ctx.lot_row is not None, verified=ctx.chain_root is not None
                and ctx.lot_row is not None and ctx.chain_root.hex() == (ctx.lot_row["items_root"] or "")[2:],
                cur=ctx.state, sig=sig, names=names, clone=no_clone, conn=conn, genuine_needs_sig=False,
            )
            return out
        item_id = "0x" + keccak256(path.encode()).hex()
        out["subject_id"] = item_id
        item_bytes = bytes.fromhex(item_id[2:])
        tree = self.tree(lot_id, ctx.chain_root)
        if tree is not None and item_bytes not in self.split:
            # The common case, without a query: an item of a Merkle-registered lot, not split
            # (the lot's tree file answers membership; split items are tracked from the mirror).
            member = tree.find_leaf(keccak256(keccak256(item_bytes))) is not None
            item_row = None
            in_tree: bool | None = member
        else:
            # One indexed lookup (the item's recent scans come from the scan log).
            rows = fetch_all(conn, ITEM_SQL, (self.chain_id, item_id))
            hit = rows[0] if rows else None
            member = hit is not None
            item_row = self.subject_row(conn, item_id) if hit is None or hit[1] is not None else None
            in_tree = None
        in_lot = member and ctx.lot_row is not None
        steps = ctx.steps if in_lot else []  # an unknown serial borrows no history from its lot
        cur = ctx.state if in_lot else None
        verified = False
        if item_row is not None:
            # The item has its own state: the lot's history up to the split, then its own.
            own = self.subject_events(conn, item_id, "item")
            split_at = next(((e["block_number"], e["log_index"]) for e, _ in own
                             if e["event"] in ("ItemSplit", "ItemRegistered")), None)
            if split_at is not None:
                keep = [s for s, pos in zip(ctx.steps, ctx.positions, strict=True)
                        if pos < split_at or s["action"] in ("recall", "lift_recall")]
            else:
                keep = list(ctx.steps)
            rendered = self.render(names, own, conn=conn)
            merged = sorted(keep + rendered, key=lambda s: (s["block_number"], s["log_index"]))
            steps = [{**s, "seq": i + 1} for i, s in enumerate(merged)]
            cur = self.current(conn, item_row)
            if ctx.state.get("recalled"):
                cur["recalled"] = True
            chain = self.chain_item(item_id)
            verified = chain is not None and int(chain["kind"]) == 1
        elif in_lot:
            # The tree file's root was checked against the chain's (per lot, cached): the item's
            # leaf in it proves membership without hashing a proof on every scan.
            if in_tree is None and tree is not None:
                in_tree = tree.find_leaf(keccak256(keccak256(item_bytes))) is not None
            verified = (bool(in_tree) and tree is not None and ctx.chain_root is not None
                        and tree.root == ctx.chain_root)
        sig = self.signature(conn, names, link, ctx.issuer, path)
        out["steps"] = steps
        if steps is ctx.steps:
            out[SHARED_STEPS] = ctx.steps_json
        out["status"] = self._status(
            registered=in_lot or item_row is not None, verified=verified, cur=cur, sig=sig,
            names=names, clone=clone.as_dict() if clone else no_clone, conn=conn, genuine_needs_sig=True,
        )
        if cur is not None:
            out["status"]["delivered"] = bool(cur["ended"]) and any(
                s["step"] and s["step"]["code"] == CONSUMER_RECEIPT for s in steps[-3:]
            )
        return out

    def _status(self, *, registered: bool, verified: bool, cur: dict[str, Any] | None,
                sig: dict[str, Any], names: Names, clone: dict[str, Any], conn: Connection,
                genuine_needs_sig: bool) -> dict[str, Any]:
        cur = cur or {}
        genuine = registered and (sig["state"] == "valid" or not genuine_needs_sig)
        return {
            "genuine": genuine, "signature": sig, "registered": registered, "verified": verified,
            "recalled": bool(cur.get("recalled")), "delivered": False,
            "custody_ended": bool(cur.get("ended")),
            "disposition": disposition_info(cur.get("disposition")),
            "responsible": self.enterprise(names, cur.get("holder")),
            "pending_receiver": self.enterprise(names, cur.get("pending")),
            "clone_warning": clone, "mirror_block": self.mirror_block(conn),
        }

