"""Flow records: every step of the 1210 flow, and records the enterprise signed itself."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path

from api import service
from api.deps import CurrentEnterpriseDep, SessionDep, StateDep
from api.errors import not_found
from api.models import EnterpriseProfile, OutboxEntry
from api.outbox import result_of
from api.routes.common import ERRORS, IdempotencyKey
from api.schemas import (
    EventBatchIn,
    EventIn,
    PreparedRecord,
    PrepareIn,
    SignedRecordIn,
    WriteResult,
)
from silktrace.ledger import Action, Record, typed_data

router = APIRouter(tags=["events"], responses=ERRORS)


@router.post("/events", response_model=WriteResult, status_code=201)
def record_event(
    data: EventIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Record one step (GET /steps) on an item, lot or unit; answered once mined.

    Holder steps (shipping, departing, arriving, storing, order_placed, customs_declaration,
    bonded_exit, consumer_receipt, return, destroying, ...) need the enterprise to be responsible;
    authority steps (inspecting, sampling, holding, customs_release, three_document_match) need the
    customs or regulator role. Handovers use /items/{item_id}/custody, recalls /recalls.
    """
    subject = service.resolve_subject(session, data.subject)
    step = service.step_of(data.step)
    return service.record(
        state, session, principal, subject, Action.EVENT, step=step, disposition=data.disposition,
        fields=data, idempotency_key=idempotency_key,
    )


@router.post("/events/batch", response_model=WriteResult, status_code=201)
def record_events(
    data: EventBatchIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Record up to 200 steps in one transaction, all or none (e.g. inspecting every lot of a ship)."""
    return service.record_batch(state, session, principal, data.events, idempotency_key)


@router.post("/records/prepare", response_model=PreparedRecord)
def prepare(data: PrepareIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep) -> PreparedRecord:
    """The EIP-712 typed data an enterprise that keeps its own key signs (eth_signTypedData_v4)."""
    ledger = state.ledger()
    subject = service.resolve_subject(session, data.subject)
    profile = session.get(EnterpriseProfile, principal.enterprise_id)
    if profile is None:
        raise not_found("unknown_enterprise", "the calling enterprise has no profile here")
    rec = Record(
        action=Action(data.action), subject=subject.id_bytes, biz_step=data.biz_step,
        disposition=data.disposition, counterparty=data.counterparty, location=data.location,
        event_time=data.event_time or int(time.time()),
        documents=tuple(bytes.fromhex(d.removeprefix("0x")) for d in data.documents),
    )
    nonce = ledger.nonce(profile.account)
    deadline = int(time.time()) + state.api.signature_ttl_s
    td = typed_data(rec, nonce, deadline, ledger.deployment.chain_id, ledger.address)
    msg = td["message"]
    msg["subject"] = "0x" + msg["subject"].hex()
    msg["epcisHash"] = "0x" + msg["epcisHash"].hex()
    msg["documents"] = ["0x" + d.hex() for d in msg["documents"]]
    return PreparedRecord(typed_data=td, nonce=nonce, deadline=deadline)


@router.post("/records/signed", response_model=WriteResult, status_code=201)
def relay_signed(
    data: SignedRecordIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Relay a record signed by one of the calling enterprise's own accounts."""
    return service.relay_signed(state, session, principal, data, idempotency_key)


@router.get("/outbox/{outbox_id}", response_model=WriteResult)
def outbox_entry(
    outbox_id: Annotated[int, Path(ge=1, le=2**62)], principal: CurrentEnterpriseDep, session: SessionDep,
) -> WriteResult:
    """The state of one write of the calling enterprise: mined, confirmed (in the mirror) or failed."""
    entry = session.get(OutboxEntry, outbox_id)
    if entry is None or entry.enterprise_id != principal.enterprise_id:
        raise not_found("unknown_outbox_entry", f"no write {outbox_id} of this enterprise")
    return result_of(entry, replay=False)
