"""One root error for the API, mapped to HTTP once: code, status and message."""

from __future__ import annotations

from typing import Any

from silktrace.errors import ChainError, GS1Error, SilkTraceError

# Ledger custom errors by the HTTP status they deserve; the code stays the contract's error name.
_LEDGER_STATUS: dict[str, int] = {
    "TraceLedgerUnknownAccount": 403,
    "TraceLedgerUnknownEnterprise": 404,
    "TraceLedgerEnterpriseSuspended": 403,
    "TraceLedgerAccountAlreadyRegistered": 409,
    "TraceLedgerInvalidRoles": 422,
    "TraceLedgerMissingRole": 403,
    "TraceLedgerSubjectExists": 409,
    "TraceLedgerUnknownSubject": 404,
    "TraceLedgerWrongSubjectKind": 409,
    "TraceLedgerInvalidSubject": 422,
    "TraceLedgerInvalidLot": 422,
    "TraceLedgerNotLotMember": 422,
    "TraceLedgerNotResponsible": 403,
    "TraceLedgerSubjectPacked": 409,
    "TraceLedgerNotPackedIn": 409,
    "TraceLedgerNestingTooDeep": 409,
    "TraceLedgerCustodyEnded": 409,
    "TraceLedgerHandoverPending": 409,
    "TraceLedgerNoHandoverPending": 409,
    "TraceLedgerNotReceiver": 403,
    "TraceLedgerInvalidReceiver": 422,
    "TraceLedgerUnknownBizStep": 422,
    "TraceLedgerUnknownDisposition": 422,
    "TraceLedgerStepNotAllowed": 422,
    "TraceLedgerEventTimeInFuture": 422,
    "TraceLedgerTooManyDocuments": 422,
    "TraceLedgerAlreadyRecalled": 409,
    "TraceLedgerNotRecalled": 409,
    "TraceLedgerExpiredSignature": 422,
    "TraceLedgerInvalidSigner": 422,
    "TraceLedgerEmptyBatch": 422,
    "EnforcedPause": 503,
    "AccessControlUnauthorizedAccount": 403,
}


class ApiError(Exception):
    """An error with an HTTP status and a machine-readable code; never a bare 500."""

    def __init__(
        self, status: int, code: str, message: str,
        details: dict[str, Any] | list[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def not_found(code: str, message: str) -> ApiError:
    return ApiError(404, code, message)


def forbidden(code: str, message: str) -> ApiError:
    return ApiError(403, code, message)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def invalid(code: str, message: str, details: Any = None) -> ApiError:
    return ApiError(422, code, message, details)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def from_shared(exc: SilkTraceError) -> ApiError:
    """The API error for an error of the shared package (GS1, chain, ledger)."""
    from silktrace.ledger import LedgerError

    if isinstance(exc, LedgerError):
        status = _LEDGER_STATUS.get(exc.error_name, 422)
        details = {k: _jsonable(v) for k, v in exc.error_args.items()}
        return ApiError(status, exc.error_name, exc.message, details)
    if isinstance(exc, GS1Error):
        return ApiError(422, exc.code, exc.message)
    if isinstance(exc, ChainError):
        if exc.code == "reverted":
            return ApiError(422, "chain_reverted", exc.message)
        return ApiError(503, exc.code, f"the chain is not available: {exc.message}")
    return ApiError(400, exc.code, exc.message)
