"""Recalls: started by market supervision (or the responsible importer), lifted by a regulator."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api import service
from api.deps import CurrentEnterpriseDep, SessionDep, StateDep
from api.routes.common import ERRORS, IdempotencyKey
from api.schemas import RecallIn, RecordFields, WriteResult
from silktrace.ledger import Action
from silktrace.vocab import DISPOSITION_BY_CODE, STEP_BY_NAME

router = APIRouter(tags=["recalls"], responses=ERRORS)


@router.post("/recalls", response_model=WriteResult, status_code=201)
def recall(
    data: RecallIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Recall an item, lot or unit and everything in it; every scan warns from now on."""
    subject = service.resolve_subject(session, data.subject)
    return service.record(
        state, session, principal, subject, Action.RECALL, step=STEP_BY_NAME["recall"],
        disposition="unchanged", fields=RecordFields(event_time=data.event_time), reason=data.reason,
        reason_document=data.document, idempotency_key=idempotency_key,
    )


@router.post("/recalls/lift", response_model=WriteResult, status_code=201)
def lift(
    data: RecallIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Lift a recall (regulators only)."""
    subject = service.resolve_subject(session, data.subject)
    return service.record(
        state, session, principal, subject, Action.LIFT_RECALL, step=STEP_BY_NAME["recall_lifted"],
        disposition=_before_recall(state, session, subject.subject_id),
        fields=RecordFields(event_time=data.event_time), reason=data.reason,
        reason_document=data.document, idempotency_key=idempotency_key,
    )


def _before_recall(state: StateDep, session: SessionDep, subject_id: str) -> str:
    """The disposition the subject had before its recall (from the mirror), restored on lifting."""
    rows = session.execute(text(
        "SELECT event, disposition FROM ledger_event WHERE chain_id = :c AND subject_id = :s "
        "ORDER BY block_number DESC, log_index DESC"
    ), {"c": state.resolver.chain_id, "s": subject_id}).all()
    seen_recall = False
    for event, disposition in rows:
        if event == "Recalled":
            seen_recall = True
        elif seen_recall and disposition:
            return DISPOSITION_BY_CODE.get(int(disposition), "unchanged")
    return "unchanged"


@router.get("/recalls", response_model=list[dict[str, Any]])
def open_recalls(state: StateDep, session: SessionDep) -> list[dict[str, Any]]:
    """Recalls not lifted, from the mirror (public)."""
    rows = session.execute(text(
        "SELECT subject_id, recalled_by, recalled_at, reason_hash FROM recall "
        "WHERE chain_id = :c AND lifted_event_id IS NULL ORDER BY recalled_at"
    ), {"c": state.resolver.chain_id}).all()
    return [{"subject_id": r[0], "recalled_by": r[1], "recalled_at": r[2], "reason_hash": r[3]} for r in rows]
