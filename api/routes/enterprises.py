"""Enterprises: registration by the platform admin, API keys, tokens, key rotation, places."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlmodel import select

from api import service
from api.deps import AdminDep, CurrentEnterpriseDep, PrincipalDep, SessionDep, StateDep
from api.errors import ApiError, forbidden, invalid, not_found
from api.models import ApiKey, EnterpriseProfile, Place
from api.routes.common import ERRORS, IdempotencyKey
from api.schemas import (
    ApiKeyOut,
    EnterpriseCreated,
    EnterpriseIn,
    EnterpriseOut,
    PlaceIn,
    PlaceOut,
    RotateIn,
    RotateOut,
    TokenOut,
)
from api.signing import utcnow
from silktrace import gs1
from silktrace.errors import GS1Error

router = APIRouter(tags=["enterprises"], responses=ERRORS)

EnterpriseId = Annotated[int, Path(ge=1, le=2**32 - 1)]


@router.post("/enterprises", response_model=EnterpriseCreated, status_code=status.HTTP_201_CREATED)
def register_enterprise(
    data: EnterpriseIn, state: StateDep, session: SessionDep, _admin: AdminDep,
    idempotency_key: IdempotencyKey = None,
) -> EnterpriseCreated:
    """Register an enterprise on chain (platform admin only); returns its first API key once."""
    profile, api_key, write = service.register_enterprise(state, session, data, idempotency_key)
    return EnterpriseCreated(enterprise=service.enterprise_out(profile), api_key=api_key, write=write)


@router.get("/enterprises", response_model=list[EnterpriseOut])
def list_enterprises(session: SessionDep) -> list[EnterpriseOut]:
    """Every registered enterprise (public: the trace names them)."""
    rows = session.exec(select(EnterpriseProfile).order_by(EnterpriseProfile.enterprise_id)).all()  # type: ignore[arg-type]
    return [service.enterprise_out(p) for p in rows]


@router.get("/enterprises/me", response_model=EnterpriseOut)
def me(principal: CurrentEnterpriseDep, session: SessionDep) -> EnterpriseOut:
    """The calling enterprise."""
    profile = session.get(EnterpriseProfile, principal.enterprise_id)
    if profile is None:
        raise not_found("unknown_enterprise", "the calling enterprise has no profile here")
    return service.enterprise_out(profile)


@router.get("/enterprises/{enterprise_id}", response_model=EnterpriseOut)
def get_enterprise(enterprise_id: EnterpriseId, session: SessionDep) -> EnterpriseOut:
    """One enterprise."""
    profile = session.get(EnterpriseProfile, enterprise_id)
    if profile is None:
        raise not_found("unknown_enterprise", f"no enterprise {enterprise_id}")
    return service.enterprise_out(profile)


@router.post("/enterprises/me/api-keys", response_model=ApiKeyOut, status_code=201)
def new_api_key(principal: CurrentEnterpriseDep, session: SessionDep) -> ApiKeyOut:
    """Another API key for the calling enterprise (shown once)."""
    key_id, api_key = service.create_api_key(session, principal.enterprise_id)
    return ApiKeyOut(key_id=key_id, api_key=api_key)


@router.delete("/enterprises/me/api-keys/{key_id}", status_code=204)
def revoke_api_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")], principal: CurrentEnterpriseDep,
    session: SessionDep,
) -> None:
    """Revoke one of the calling enterprise's API keys (and the tokens made from it)."""
    key = session.get(ApiKey, key_id)
    if key is None or key.enterprise_id != principal.enterprise_id:
        raise not_found("unknown_api_key", f"no API key {key_id} of this enterprise")
    key.revoked_at = utcnow()
    session.add(key)
    session.commit()


@router.post("/auth/token", response_model=TokenOut)
def token(principal: CurrentEnterpriseDep, state: StateDep) -> TokenOut:
    """A short-lived bearer token in exchange for an API key."""
    if principal.key_id is None:
        raise forbidden("api_key_required", "tokens are issued for API keys")
    value, expires = state.tokens.issue(principal.enterprise_id, principal.key_id, state.api.token_ttl_s)
    return TokenOut(access_token=value, expires_at=expires)


@router.post("/enterprises/{enterprise_id}/keys/rotate", response_model=RotateOut)
def rotate_key(
    enterprise_id: EnterpriseId, data: RotateIn, principal: PrincipalDep, state: StateDep,
    session: SessionDep,
) -> RotateOut:
    """Rotate the enterprise's custodial ledger key (admin) or its QR key (admin or itself)."""
    if not principal.is_admin and (principal.enterprise_id != enterprise_id or data.purpose == "ledger"):
        raise forbidden("not_allowed", "the admin rotates ledger keys; an enterprise its own QR key")
    if session.get(EnterpriseProfile, enterprise_id) is None:
        raise not_found("unknown_enterprise", f"no enterprise {enterprise_id}")
    if data.purpose == "qr":
        row = state.new_qr_key(session, enterprise_id)
        session.commit()
        session.refresh(row)
        state.chain_cache.clear()
        return RotateOut(purpose="qr", version=row.version, public=row.public)
    address, version, write = service.rotate_ledger_key(state, session, enterprise_id)
    return RotateOut(purpose="ledger", version=version, public=address, write=write)


@router.put("/enterprises/me/places/{gln}", response_model=PlaceOut)
def put_place(
    gln: Annotated[str, Path(pattern=r"^\d{13}$")], data: PlaceIn, principal: CurrentEnterpriseDep,
    session: SessionDep, state: StateDep,
) -> PlaceOut:
    """File the name of a location (GLN) the enterprise records events at."""
    try:
        gln = gs1.normalize_gln(gln)
    except GS1Error as exc:
        raise invalid(exc.code, exc.message) from exc
    place = session.get(Place, gln)
    if place is not None and place.enterprise_id != principal.enterprise_id:
        raise ApiError(409, "place_owned", f"GLN {gln} was filed by another enterprise")
    place = place or Place(gln=gln, enterprise_id=principal.enterprise_id, name_zh="", name_en="")
    place.name_zh, place.name_en = data.name_zh, data.name_en
    session.add(place)
    session.commit()
    state.resolver.names_cache.clear()
    return PlaceOut(gln=gln, enterprise_id=place.enterprise_id, name_zh=place.name_zh, name_en=place.name_en)
