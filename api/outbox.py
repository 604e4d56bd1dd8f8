"""The outbox: every write is stored before it is sent, acknowledged when mined, and sent again
if the chain lost it, until the mirror shows it (an acknowledged record is never lost)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import text
from sqlmodel import Session, select
from web3.exceptions import TransactionNotFound

from api.epcis import canonical_json, event_id
from api.errors import ApiError, from_shared
from api.models import EpcisEvent, OutboxEntry
from api.schemas import LogRef, WriteResult
from api.signing import utcnow
from api.state import AppState
from silktrace.errors import ChainError, SilkTraceError
from silktrace.ledger import Action, LedgerError, Record, SignedRecord, sign_record

log = logging.getLogger("silktrace.api.outbox")


# ------------------------------------------------------------------------------ payload encoding


def enc(value: Any) -> Any:
    """JSON-safe form of call arguments: bytes become {"$b": hex}."""
    if isinstance(value, bytes | bytearray | HexBytes):
        return {"$b": bytes(value).hex()}
    if isinstance(value, list | tuple):
        return [enc(v) for v in value]
    return value


def dec(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$b"}:
        return bytes.fromhex(value["$b"])
    if isinstance(value, list):
        return [dec(v) for v in value]
    return value


def record_to_json(r: Record) -> dict[str, Any]:
    return {
        "action": int(r.action), "subject": enc(r.subject), "biz_step": r.biz_step,
        "disposition": r.disposition, "counterparty": r.counterparty, "location": r.location,
        "event_time": r.event_time, "epcis_hash": enc(r.epcis_hash), "documents": enc(list(r.documents)),
    }


def record_from_json(d: dict[str, Any]) -> Record:
    return Record(
        action=Action(d["action"]), subject=dec(d["subject"]), biz_step=d["biz_step"],
        disposition=d["disposition"], counterparty=d["counterparty"], location=d["location"],
        event_time=d["event_time"], epcis_hash=dec(d["epcis_hash"]),
        documents=tuple(dec(d["documents"])),
    )


# ------------------------------------------------------------------------------ running one op


def _run(state: AppState, session: Session, entry: OutboxEntry) -> Any:
    """Send the entry's transaction and wait until it is mined; returns the receipt."""
    p = entry.payload
    relayer = state.ledger()
    if entry.op == "record":
        record = record_from_json(p["record"])
        signed = p.get("signed")
        if signed is None or signed.get("deadline", 0) <= time.time() + 30 or _nonce_used(state, signed):
            account = state.ledger_account(session, entry.enterprise_id)
            if account is None:
                raise ApiError(409, "self_custody", "the enterprise keeps its own key: sign the record")
            s = sign_record(
                account, record, nonce=relayer.nonce(account.address),
                deadline=int(time.time()) + state.api.signature_ttl_s,
                chain_id=relayer.deployment.chain_id, contract=relayer.address,
            )
            p = {**p, "signed": {"signer": s.signer, "nonce": s.nonce, "deadline": s.deadline,
                                 "signature": s.signature.hex()}}
            entry.payload = p  # keep what was sent, for a resubmission of the same signature
            session.add(entry)
            session.commit()
        sig = p["signed"]
        return relayer.submit_signed(
            SignedRecord(record, sig["signer"], sig["nonce"], sig["deadline"], bytes.fromhex(sig["signature"]))
        )
    if entry.op == "records":
        # Batches under one signature (submitSignedRecords) arrived with the ledger client's
        # `sign_records`; imported here so that single records work with an older client too.
        from silktrace.ledger import SignedRecords, sign_records

        records = [record_from_json(r) for r in p["records"]]
        signed = p.get("signed")
        if signed is None or signed.get("deadline", 0) <= time.time() + 30 or _nonce_used(state, signed):
            account = state.ledger_account(session, entry.enterprise_id)
            if account is None:
                raise ApiError(409, "self_custody", "the enterprise keeps its own key: sign the records")
            sr = sign_records(
                account, records, nonce=relayer.nonce(account.address),
                deadline=int(time.time()) + state.api.signature_ttl_s,
                chain_id=relayer.deployment.chain_id, contract=relayer.address,
            )
            p = {**p, "signed": {"signer": sr.signer, "nonce": sr.nonce, "deadline": sr.deadline,
                                 "signature": sr.signature.hex()}}
            entry.payload = p
            session.add(entry)
            session.commit()
        sig = p["signed"]
        return relayer.submit_signed_records(SignedRecords(
            tuple(records), sig["signer"], sig["nonce"], sig["deadline"], bytes.fromhex(sig["signature"])))
    if entry.op == "signed_record":
        sig = p["signed"]
        return relayer.submit_signed(
            SignedRecord(record_from_json(p["record"]), sig["signer"], sig["nonce"], sig["deadline"],
                         bytes.fromhex(sig["signature"]))
        )
    if entry.op == "direct":
        account = state.ledger_account(session, entry.enterprise_id)
        if account is None:
            raise ApiError(
                409, "self_custody",
                "the enterprise keeps its own key: send this transaction from its account",
            )
        ledger = state.ledger_as(account)
        fn = getattr(ledger.contract.functions, p["fn"])(*dec(p["args"]))
        return ledger.transact(fn)
    if entry.op == "admin":
        fn = getattr(relayer.contract.functions, p["fn"])(*dec(p["args"]))
        return relayer.transact(fn)
    raise ApiError(500, "unknown_op", f"unknown outbox op {entry.op}")


def _nonce_used(state: AppState, signed: dict[str, Any]) -> bool:
    # A signature whose nonce the chain has moved past can never be mined: it needs a new one.
    return state.ledger().nonce(signed["signer"]) > int(signed["nonce"])


def _logs(state: AppState, receipt: Any) -> list[LogRef]:
    ledger = state.ledger()
    topics = _event_topics(state)
    out = []
    for lg in receipt["logs"]:
        if lg["address"] != ledger.contract.address or not lg["topics"]:
            continue
        name = topics.get(bytes(lg["topics"][0]), "unknown")
        subject = "0x" + bytes(lg["topics"][1]).hex() if len(lg["topics"]) > 1 else None
        out.append(LogRef(event=name, log_index=int(lg["logIndex"]), subject_id=subject))
    return out


_TOPICS: dict[str, dict[bytes, str]] = {}


def _event_topics(state: AppState) -> dict[bytes, str]:
    ledger = state.ledger()
    cached = _TOPICS.get(ledger.address)
    if cached is None:
        cached = {}
        for item in ledger.deployment.abi["TraceLedger"]:
            if item.get("type") == "event":
                cached[bytes(HexBytes(getattr(ledger.contract.events, item["name"])().topic))] = item["name"]
        _TOPICS[ledger.address] = cached
    return cached


def result_of(entry: OutboxEntry, replay: bool) -> WriteResult:
    """The answer to a write, from its outbox entry."""
    r = entry.result
    return WriteResult(
        tx_hash=entry.tx_hash or "", block_number=entry.block_number or 0,
        event_ids=r.get("event_ids", []), logs=[LogRef(**x) for x in r.get("logs", [])],
        outbox_id=entry.id or 0, status=entry.status, idempotent_replay=replay,
    )


def request_hash(enterprise_id: int, op: str, payload: dict[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "signed"} if op in ("record", "records") else payload
    return hashlib.sha256(canonical_json([enterprise_id, op, body])).hexdigest()


def execute(
    state: AppState,
    session: Session,
    *,
    enterprise_id: int,
    op: str,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
    epcis: list[tuple[str, str, dict[str, Any]]] | None = None,
    dedupe: bool = True,
) -> WriteResult:
    """Store, send, wait until mined; the same key answers the first result.

    Without a key, a request identical to an earlier one (`dedupe`) answers the earlier result;
    records whose time the server chose are never identical, so they are not deduplicated.
    """
    rhash = request_hash(enterprise_id, op, payload)
    if idempotency_key is None and not dedupe:
        idempotency_key = "auto-" + secrets.token_hex(16)
    key = f"{enterprise_id}:{idempotency_key or rhash}"
    entry = session.exec(select(OutboxEntry).where(OutboxEntry.idempotency_key == key)).first()
    if entry is not None:
        if entry.request_hash != rhash:
            raise ApiError(
                409, "idempotency_conflict",
                "this Idempotency-Key was already used for a different request",
            )
        if entry.status in ("mined", "confirmed"):
            return result_of(entry, replay=True)
    else:
        entry = OutboxEntry(
            idempotency_key=key, enterprise_id=enterprise_id, op=op, payload=payload, request_hash=rhash,
            result={"event_ids": [event_id(h) for h, _, _ in (epcis or [])]},
        )
        session.add(entry)
        for h, subject_id, body in epcis or []:
            if session.get(EpcisEvent, h) is None:
                session.add(EpcisEvent(event_hash=h, subject_id=subject_id, enterprise_id=enterprise_id, body=body))
        session.commit()
        session.refresh(entry)
    return send(state, session, entry)


def send(state: AppState, session: Session, entry: OutboxEntry, *, resend: bool = False
         ) -> WriteResult:
    """Send the entry (again) unless another thread got it mined meanwhile."""
    with state.write_lock:
        session.refresh(entry)
        if entry.status == "confirmed" or (entry.status == "mined" and not resend):
            return result_of(entry, replay=True)
        entry.attempts += 1
        try:
            receipt = _run(state, session, entry)
        except LedgerError as exc:
            _fail(session, entry, exc.error_name, exc.message)
            raise from_shared(exc) from exc
        except ApiError as exc:
            if exc.status < 500:
                _fail(session, entry, exc.code, exc.message)
            raise
        except SilkTraceError as exc:
            # Not mined or chain down: the entry stays pending and the worker sends it again.
            session.add(entry)
            session.commit()
            raise from_shared(exc) if not isinstance(exc, ChainError) else ApiError(
                503, exc.code, f"not acknowledged, kept in the outbox for resubmission: {exc.message}",
                {"outbox_id": entry.id},
            ) from exc
    entry.status = "mined"
    entry.tx_hash = receipt["transactionHash"].to_0x_hex()
    entry.block_number = int(receipt["blockNumber"])
    entry.error_code = entry.error_message = None
    entry.result = {
        "event_ids": entry.result.get("event_ids", []),
        "logs": [x.model_dump() for x in _logs(state, receipt)],
    }
    entry.updated_at = _now()
    session.add(entry)
    session.commit()
    session.refresh(entry)
    return result_of(entry, replay=False)


def _now() -> datetime:
    return utcnow()  # one place to change if the outbox ever needs a clock of its own


def _fail(session: Session, entry: OutboxEntry, code: str, message: str) -> None:
    entry.status = "failed"
    entry.error_code = code[:64]
    entry.error_message = message[:500]
    entry.updated_at = _now()
    session.add(entry)
    session.commit()


# ------------------------------------------------------------------------------ reconciliation


def reconcile_once(state: AppState) -> dict[str, int]:
    """Confirm mined entries the mirror shows; resend those the chain lost and stale pending ones."""
    counts = {"confirmed": 0, "resubmitted": 0, "failed": 0}
    w3 = state.ledger().w3
    stale = _now() - timedelta(seconds=state.api.outbox_resubmit_after_s)
    with Session(state.engine) as session:
        mined = session.exec(select(OutboxEntry).where(OutboxEntry.status == "mined")).all()
        for entry in mined:
            if _in_mirror(session, entry.tx_hash or ""):
                entry.status = "confirmed"
                entry.updated_at = _now()
                session.add(entry)
                session.commit()
                counts["confirmed"] += 1
                continue
            try:
                w3.eth.get_transaction_receipt(HexBytes(entry.tx_hash or ""))
                continue  # still on chain; the indexer will get to it
            except TransactionNotFound:
                log.warning("outbox %s: tx %s lost by the chain, resubmitting", entry.id, entry.tx_hash)
            counts["resubmitted" if _resend(state, session, entry) else "failed"] += 1
        pending = session.exec(
            select(OutboxEntry).where(OutboxEntry.status == "pending", OutboxEntry.updated_at < stale)
        ).all()
        for entry in pending:
            counts["resubmitted" if _resend(state, session, entry) else "failed"] += 1
    return counts


def _resend(state: AppState, session: Session, entry: OutboxEntry) -> bool:
    try:
        send(state, session, entry, resend=entry.status == "mined")
        return True
    except ApiError as exc:
        log.warning("outbox %s: resubmission refused: %s %s", entry.id, exc.code, exc.message)
        return False


def _in_mirror(session: Session, tx_hash: str) -> bool:
    try:
        row = session.execute(
            text("SELECT 1 FROM ledger_event WHERE tx_hash = :h LIMIT 1"), {"h": tx_hash.lower()}
        ).first()
    except Exception:  # mirror tables absent: nothing can be confirmed yet
        session.rollback()
        return False
    return row is not None


class OutboxWorker(threading.Thread):
    """Runs `reconcile_once` every few seconds until stopped."""

    def __init__(self, state: AppState) -> None:
        super().__init__(name="silktrace-outbox", daemon=True)
        self.state = state
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.state.api.outbox_interval_s):
            try:
                reconcile_once(self.state)
            except Exception as exc:  # the worker must outlive a chain or database hiccup
                log.warning("outbox reconciliation failed: %s", exc)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)
