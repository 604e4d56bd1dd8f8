"""Two-party handover of an item, lot or logistic unit: dispatch, accept, reject, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import service
from api.deps import CurrentEnterpriseDep, SessionDep, StateDep
from api.routes.common import ERRORS, IdempotencyKey
from api.schemas import AcceptIn, DispatchIn, ReasonIn, RecordFields, WriteResult
from silktrace.ledger import Action

router = APIRouter(tags=["custody"], responses=ERRORS)

ItemId = Annotated[
    str,
    Path(pattern=r"^0x[0-9a-fA-F]{64}$",
         description="subject id of an item, lot or unit (keccak of its Digital Link path)"),
]


@router.post("/items/{item_id}/custody/dispatch", response_model=WriteResult, status_code=201)
def dispatch(
    item_id: ItemId, data: DispatchIn, principal: CurrentEnterpriseDep, state: StateDep,
    session: SessionDep, idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """The holder proposes to hand the subject to another enterprise; responsibility stays until accepted."""
    subject = service.resolve_subject(session, item_id)
    return service.record(
        state, session, principal, subject, Action.DISPATCH, step=service.step_of(data.step),
        disposition=data.disposition, counterparty=data.to_enterprise, fields=data,
        idempotency_key=idempotency_key,
    )


@router.post("/items/{item_id}/custody/accept", response_model=WriteResult, status_code=201)
def accept(
    item_id: ItemId, data: AcceptIn, principal: CurrentEnterpriseDep, state: StateDep,
    session: SessionDep, idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """The named receiver accepts; it is responsible from now on."""
    subject = service.resolve_subject(session, item_id)
    return service.record(
        state, session, principal, subject, Action.ACCEPT, step=service.step_of(data.step),
        disposition=data.disposition, fields=data, idempotency_key=idempotency_key,
    )


@router.post("/items/{item_id}/custody/reject", response_model=WriteResult, status_code=201)
def reject(
    item_id: ItemId, data: ReasonIn, principal: CurrentEnterpriseDep, state: StateDep,
    session: SessionDep, idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """The named receiver refuses; responsibility stays with the sender."""
    subject = service.resolve_subject(session, item_id)
    return service.record(
        state, session, principal, subject, Action.REJECT, step=None,
        fields=RecordFields(event_time=data.event_time), reason=data.reason,
        idempotency_key=idempotency_key,
    )


@router.post("/items/{item_id}/custody/cancel", response_model=WriteResult, status_code=201)
def cancel(
    item_id: ItemId, data: ReasonIn, principal: CurrentEnterpriseDep, state: StateDep,
    session: SessionDep, idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """The sender withdraws a pending handover."""
    subject = service.resolve_subject(session, item_id)
    return service.record(
        state, session, principal, subject, Action.CANCEL, step=None,
        fields=RecordFields(event_time=data.event_time), reason=data.reason,
        idempotency_key=idempotency_key,
    )
