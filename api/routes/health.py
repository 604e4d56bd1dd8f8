"""Liveness and the vocabulary."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from api.deps import StateDep
from api.schemas import Health, Localized, StepOut
from silktrace.vocab import STEPS

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health(state: StateDep) -> Health:
    """Whether the service answers, whether it reached the chain at start-up, and the block the
    SQL mirror has reached (the resolver's reading, at most a second old)."""
    chain = "ok" if state.relayer is not None else f"unavailable: {state.chain_error}"
    try:
        with state.resolver.connection() as conn:
            mirror = state.resolver.mirror_block(conn)
        database = "ok"
    except (SQLAlchemyError, OSError) as exc:
        mirror, database = None, f"unavailable: {type(exc).__name__}"
    ok = state.relayer is not None and database == "ok"
    return Health(status="ok" if ok else "degraded", chain=chain, database=database, mirror_block=mirror)


@router.get("/steps", response_model=list[StepOut])
async def steps() -> list[StepOut]:
    """Every business step (CBV 2.0 and SilkTrace extensions) an event may carry."""
    return [
        StepOut(code=s.code, name=s.name, uri=s.uri, label=Localized(zh=s.zh, en=s.en),
                authority=s.authority, ends_custody=s.ends_custody,
                default_disposition=s.disposition, event_type=s.event_type)
        for s in STEPS
    ]
