"""What every router shares: documented error answers and the Idempotency-Key header."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

from api.schemas import ErrorResponse

_ERR: dict[str, Any] = {"model": ErrorResponse}

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERR, "description": "bad request"},
    401: {**_ERR, "description": "missing, invalid or expired credentials"},
    403: {**_ERR, "description": "the caller lacks the role or the right (code says which)"},
    404: {**_ERR, "description": "unknown resource"},
    409: {**_ERR, "description": "conflicts with the current state (on chain or here)"},
    422: {**_ERR, "description": "invalid input; `code` is machine-readable"},
    503: {**_ERR, "description": "the chain is not reachable; the write is kept in the outbox"},
}
PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {k: v for k, v in ERRORS.items() if k in (400, 404, 422, 503)}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=128, pattern=r"^[\x21-\x7e]+$",
        description="the same key returns the first result instead of writing twice",
    ),
]
