"""FastAPI dependencies: the state, a SQL session, the caller and the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.errors import ApiError
from api.models import ApiKey
from api.security import TOKEN_PREFIX, hash_secret, split_api_key
from api.state import AppState
from silktrace.ledger import Ledger
from silktrace.vocab import Role


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.silktrace
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with Session(state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

bearer = HTTPBearer(
    auto_error=False,
    description="an API key `stk_…` or a short-lived token `stt.…` from POST /auth/token",
)


@dataclass(frozen=True)
class Principal:
    """Who calls: an enterprise (by key or token) or the platform administrator."""

    enterprise_id: int  # 0 for the administrator
    key_id: str | None
    is_admin: bool = False
    roles: int = 0

    def has(self, roles: Role | int) -> bool:
        return bool(self.roles & int(roles))

    def require(self, roles: Role | int, what: str) -> None:
        """Defence in depth: refuse before the chain would."""
        if self.is_admin or not self.has(roles):
            names = [r.name.lower() for r in Role if r & int(roles)]  # type: ignore[union-attr]
            raise ApiError(
                403, "missing_role", f"{what} needs one of the roles {names}",
                {"enterprise_id": self.enterprise_id, "required": names},
            )


def _authenticate(
    state: AppState, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "not_authenticated", "send `Authorization: Bearer <API key or token>`")
    value = credentials.credentials.strip()
    if value.startswith(TOKEN_PREFIX + "."):
        claims = state.tokens.verify(value)
        key = session.get(ApiKey, claims.key_id)
        if key is None or key.revoked_at is not None:
            raise ApiError(401, "invalid_token", "the API key behind this token was revoked")
        return _with_roles(state, Principal(claims.enterprise_id, claims.key_id))
    if state.check_admin_key(value):
        return Principal(0, None, is_admin=True)
    parsed = split_api_key(value)
    if parsed is None:
        raise ApiError(401, "invalid_api_key", "malformed API key")
    key = session.get(ApiKey, parsed[0])
    if key is None or key.revoked_at is not None or key.secret_hash != hash_secret(parsed[1]):
        raise ApiError(401, "invalid_api_key", "unknown or revoked API key")
    return _with_roles(state, Principal(key.enterprise_id, key.id))


def _with_roles(state: AppState, principal: Principal) -> Principal:
    roles, suspended = state.enterprise_roles(principal.enterprise_id)
    if suspended:
        raise ApiError(
            403, "TraceLedgerEnterpriseSuspended", "the enterprise is suspended on chain",
            {"enterpriseId": principal.enterprise_id},
        )
    return Principal(principal.enterprise_id, principal.key_id, False, roles)


def get_principal(
    state: StateDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return _authenticate(state, session, credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_enterprise(principal: PrincipalDep) -> Principal:
    if principal.is_admin:
        raise ApiError(403, "enterprise_only", "this endpoint acts as an enterprise, not the admin")
    return principal


CurrentEnterpriseDep = Annotated[Principal, Depends(get_enterprise)]


def get_admin(principal: PrincipalDep) -> Principal:
    if not principal.is_admin:
        raise ApiError(403, "admin_only", "only the platform administrator may do this")
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]


def get_ledger(state: StateDep) -> Ledger:
    return state.ledger()


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_optional_principal(
    state: StateDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    return _authenticate(state, session, credentials)


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]
