"""Keys: the encrypted key store (ledger and QR keys) and the QR signature scheme silktrace-qr-v1.

See docs/qr-signature.md for the exact algorithm the scanner app checks offline.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.signers.local import LocalAccount
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from api.errors import ApiError

QR_PREFIX = b"SilkTrace-QR-v1|"
SIG_PARAM = "sig"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------------------- master key


def load_master_key(configured: str | None, data_dir: Path) -> bytes:
    """The 32-byte master key: from the settings, or made once into data_dir/master.key (0600)."""
    if configured:
        try:
            key = b64url_decode(configured.strip())
        except ValueError as exc:
            raise ValueError("master key must be 32 bytes in base64url") from exc
        if len(key) != 32:
            raise ValueError("master key must be 32 bytes in base64url")
        return key
    path = data_dir / "master.key"
    if path.exists():
        return load_master_key(path.read_text().strip(), data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL so that two processes starting together cannot write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return load_master_key(path.read_text().strip(), data_dir)
    with os.fdopen(fd, "w") as f:
        f.write(b64url(key) + "\n")
    return key


class KeyBox:
    """AES-256-GCM under the master key; the key row's id is bound as associated data."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)

    def seal(self, secret: bytes, context: str) -> str:
        nonce = secrets.token_bytes(12)
        return b64url(nonce + self._aead.encrypt(nonce, secret, context.encode()))

    def open(self, sealed: str, context: str) -> bytes:
        raw = b64url_decode(sealed)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode())
        except InvalidTag as exc:
            raise ApiError(
                500, "key_store_corrupt", "a stored key cannot be decrypted with the master key"
            ) from exc

    def __repr__(self) -> str:  # never show key material in logs
        return "KeyBox(<sealed>)"


# ---------------------------------------------------------------------------------- key material


def new_ledger_key() -> tuple[LocalAccount, bytes]:
    """A fresh secp256k1 account for an enterprise's on-chain records."""
    account: LocalAccount = Account.create()
    return account, bytes(account.key)


def ledger_account(secret: bytes) -> LocalAccount:
    acct: LocalAccount = Account.from_key(secret)
    return acct


def new_qr_key() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key: (raw private 32 bytes, raw public 32 bytes)."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return raw, qr_public_key(raw)


def qr_public_key(private_raw: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_raw).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


# ---------------------------------------------------------------------------------- QR signatures


def qr_message(canonical_path: str) -> bytes:
    """The bytes signed for a QR code: fixed prefix + canonical Digital Link path (UTF-8)."""
    return QR_PREFIX + canonical_path.encode("utf-8")


def make_kid(enterprise_id: int, version: int) -> str:
    return f"{enterprise_id}.{version}"


def sign_qr(private_raw: bytes, kid: str, canonical_path: str) -> str:
    """The `sig` parameter value: ``{enterprise_id}.{version}.{base64url(Ed25519 signature)}``."""
    signature = Ed25519PrivateKey.from_private_bytes(private_raw).sign(qr_message(canonical_path))
    return f"{kid}.{b64url(signature)}"


@dataclass(frozen=True, slots=True)
class SigParam:
    enterprise_id: int
    version: int
    signature: bytes

    @property
    def kid(self) -> str:
        return make_kid(self.enterprise_id, self.version)


def parse_sig(value: str) -> SigParam | None:
    """The parts of a `sig` parameter, or None when it is malformed."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        return None
    if len(signature) != 64 or len(parts[0]) > 9 or len(parts[1]) > 9:
        return None
    return SigParam(int(parts[0]), int(parts[1]), signature)


def verify_qr(public_raw: bytes, canonical_path: str, signature: bytes) -> bool:
    """RFC 8032 verification through libsodium (about twice as fast as OpenSSL's here)."""
    key = _VERIFY_KEYS.get(public_raw)
    try:
        if key is None:
            key = _VERIFY_KEYS[public_raw] = VerifyKey(public_raw)
        key.verify(qr_message(canonical_path), signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False
    return True


_VERIFY_KEYS: dict[bytes, VerifyKey] = {}


def verify_qr_openssl(public_raw: bytes, canonical_path: str, signature: bytes) -> bool:
    """The same check through `cryptography` (kept to cross-check libsodium in the tests)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, qr_message(canonical_path))
    except (InvalidSignature, ValueError):
        return False
    return True


def utcnow() -> datetime:
    return datetime.now(UTC)
