"""Logistic units (SSCC): registration, packing and unpacking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import service
from api.deps import CurrentEnterpriseDep, SessionDep, StateDep
from api.epcis import SubjectRef
from api.routes.common import ERRORS, IdempotencyKey
from api.schemas import PackIn, UnitIn, WriteResult

router = APIRouter(tags=["units"], responses=ERRORS)

Sscc = Annotated[str, Path(pattern=r"^\d{18}$")]


@router.post("/units", response_model=WriteResult, status_code=201)
def register_unit(
    data: UnitIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Register a case, pallet or container by SSCC; the caller holds it."""
    _, result = service.register_unit(
        state, session, principal, data.sscc, data.location_gln, data.event_time, idempotency_key
    )
    return result


def _unit(session: SessionDep, sscc: str) -> SubjectRef:
    return service.resolve_subject(session, f"/00/{sscc}")


@router.post("/units/{sscc}/pack", response_model=WriteResult, status_code=201)
def pack(
    sscc: Sscc, data: PackIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Pack items, lots or units the caller holds into the unit; steps on the unit apply to them."""
    children = [service.resolve_subject(session, c) for c in data.children]
    return service.pack(state, session, principal, _unit(session, sscc), children,
                        idempotency_key=idempotency_key)


@router.post("/units/{sscc}/unpack", response_model=WriteResult, status_code=201)
def unpack(
    sscc: Sscc, data: PackIn, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    """Take subjects out of the unit; the unit's holder becomes responsible for them."""
    children = [service.resolve_subject(session, c) for c in data.children]
    return service.pack(state, session, principal, _unit(session, sscc), children, unpack=True,
                        idempotency_key=idempotency_key)
