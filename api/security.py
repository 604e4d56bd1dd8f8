"""API keys (stored as hashes) and short-lived bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from api.errors import ApiError
from api.signing import b64url, b64url_decode

KEY_PREFIX = "stk"
TOKEN_PREFIX = "stt"


def hash_secret(secret: str) -> str:
    # API key secrets are 192 random bits: a plain SHA-256 is enough, no slow KDF needed.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """A new key: (key id, the full key shown once, hash of its secret)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secret}", hash_secret(secret)


def split_api_key(value: str) -> tuple[str, str] | None:
    parts = value.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1], parts[2]


def load_admin_key(configured: str | None, data_dir: Path) -> str:
    """The platform admin's API key: from the settings or generated once into data_dir/admin.key."""
    if configured:
        return configured
    path = data_dir / "admin.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = f"{KEY_PREFIX}_{'0' * 12}_{secrets.token_urlsafe(24)}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


@dataclass(frozen=True, slots=True)
class TokenClaims:
    enterprise_id: int
    key_id: str
    expires: int


class TokenSigner:
    """HMAC-SHA256 tokens `stt.{claims}.{mac}` under a key derived from the master key."""

    def __init__(self, master_key: bytes) -> None:
        self._key = hmac.new(master_key, b"silktrace api token v1", hashlib.sha256).digest()

    def issue(self, enterprise_id: int, key_id: str, ttl_s: int) -> tuple[str, int]:
        expires = int(time.time()) + ttl_s
        claims = b64url(json.dumps({"e": enterprise_id, "k": key_id, "x": expires}).encode())
        return f"{TOKEN_PREFIX}.{claims}.{self._mac(claims)}", expires

    def _mac(self, claims: str) -> str:
        return b64url(hmac.new(self._key, claims.encode(), hashlib.sha256).digest())

    def verify(self, token: str) -> TokenClaims:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise ApiError(401, "invalid_token", "malformed bearer token")
        if not hmac.compare_digest(self._mac(parts[1]), parts[2]):
            raise ApiError(401, "invalid_token", "bearer token signature does not match")
        try:
            raw = json.loads(b64url_decode(parts[1]))
            claims = TokenClaims(int(raw["e"]), str(raw["k"]), int(raw["x"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(401, "invalid_token", "malformed bearer token") from exc
        if claims.expires < time.time():
            raise ApiError(401, "token_expired", "the bearer token has expired: get a new one")
        return claims
