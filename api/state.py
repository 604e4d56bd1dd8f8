"""What the running service holds: settings, the SQL engine, the chain and the key store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web3 import Web3

from api.config import ApiSettings
from api.errors import ApiError
from api.models import SigningKey
from api.security import TokenSigner, hash_secret, split_api_key
from api.signing import (
    KeyBox,
    b64url,
    b64url_decode,
    ledger_account,
    make_kid,
    new_ledger_key,
    new_qr_key,
    utcnow,
)
from silktrace.chain import Deployment, Sender, connect
from silktrace.config import Settings
from silktrace.errors import ChainError
from silktrace.ledger import Ledger

T = TypeVar("T")


class TTLCache:
    """A small thread-safe cache of values that may be a few seconds stale."""

    def __init__(self, ttl_s: float, max_items: int = 100_000) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if len(self._data) >= self.max_items:
                self._data.clear()
            self._data[key] = (now + self.ttl_s, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass
class AppState:
    """Everything a request handler needs; one per application."""

    settings: Settings
    api: ApiSettings
    engine: Engine
    keybox: KeyBox
    tokens: TokenSigner
    admin_key: str
    w3: Web3 | None = None
    deployment: Deployment | None = None
    relayer: Ledger | None = None
    chain_error: str | None = None
    # One writer at a time: nonces of the relayer and of custodial accounts stay in order.
    write_lock: threading.RLock = field(default_factory=threading.RLock)
    chain_cache: TTLCache = field(default_factory=lambda: TTLCache(5.0))
    _ledgers: dict[str, Ledger] = field(default_factory=dict)
    resolver: Any = None  # api.trace.Resolver
    scans: Any = None  # api.scans.ScanLog
    client_secret: bytes = b""  # keys the hash of scanning clients
    _next_connect: float = 0.0

    # ------------------------------------------------------------------ chain
    def connect_chain(self) -> None:
        """Connect and load the deployment; keeps the reason if the chain is not usable yet."""
        now = time.monotonic()
        if now < self._next_connect:
            return  # a dead node must not cost every request a connection attempt
        self._next_connect = now + 2.0
        try:
            w3 = connect(self.settings.rpc_url, timeout=30.0)
            deployment = Deployment.load(self.settings.deployment_file)
            deployment.check(w3)
            self.relayer = Ledger(w3, deployment, Sender.from_settings(w3, self.settings))
            self.w3, self.deployment, self.chain_error = w3, deployment, None
        except ChainError as exc:
            self.chain_error = exc.message

    def ledger(self) -> Ledger:
        """The ledger as the platform relayer (registrar) sees it; 503 when the chain is down."""
        if self.relayer is None:
            self.connect_chain()
        if self.relayer is None:
            raise ApiError(503, "chain_unavailable", f"the chain is not available: {self.chain_error}")
        return self.relayer

    def ledger_as(self, account: LocalAccount) -> Ledger:
        relayer = self.ledger()
        cached = self._ledgers.get(account.address)
        if cached is None:
            cached = relayer.with_sender(Sender(relayer.w3, account))
            self._ledgers[account.address] = cached
        return cached

    @property
    def chain_id(self) -> int:
        return self.ledger().deployment.chain_id

    def enterprise_roles(self, enterprise_id: int) -> tuple[int, bool]:
        """(roles, suspended) of an enterprise as the chain says, cached a few seconds."""

        def read() -> tuple[int, bool]:
            data = self.ledger().contract.functions.enterprise(enterprise_id).call()
            return int(data[0]), bool(data[1])

        return self.chain_cache.get(("roles", enterprise_id), read)

    # ------------------------------------------------------------------ API keys
    def check_admin_key(self, value: str) -> bool:
        parsed = split_api_key(value)
        admin = split_api_key(self.admin_key)
        return bool(parsed and admin and hash_secret(parsed[1]) == hash_secret(admin[1]))

    # ------------------------------------------------------------------ key store
    def _active_key(self, session: Session, enterprise_id: int, purpose: str) -> SigningKey | None:
        return session.exec(
            select(SigningKey).where(
                SigningKey.enterprise_id == enterprise_id,
                SigningKey.purpose == purpose,
                SigningKey.status == "active",
            )
        ).first()

    def add_key(
        self, session: Session, enterprise_id: int, purpose: str, public: str,
        secret: bytes | None = None, sealed: str | None = None,
    ) -> SigningKey:
        """Store a new active key version, retiring the previous one (caller commits)."""
        current = self._active_key(session, enterprise_id, purpose)
        versions = session.exec(
            select(SigningKey.version).where(
                SigningKey.enterprise_id == enterprise_id, SigningKey.purpose == purpose
            )
        ).all()
        version = max(versions, default=0) + 1
        if current is not None:
            current.status = "retired"
            current.retired_at = utcnow()
            session.add(current)
        row = SigningKey(enterprise_id=enterprise_id, purpose=purpose, version=version, public=public)
        if secret is not None:
            row.sealed = self.keybox.seal(secret, f"{purpose}/{public}")
        elif sealed is not None:
            row.sealed = sealed
        session.add(row)
        return row

    def new_ledger_key(self, session: Session, enterprise_id: int) -> LocalAccount:
        account, secret = new_ledger_key()
        self.add_key(session, enterprise_id, "ledger", account.address.lower(), secret)
        return account

    def new_qr_key(self, session: Session, enterprise_id: int) -> SigningKey:
        private, public = new_qr_key()
        return self.add_key(session, enterprise_id, "qr", b64url(public), private)

    def ledger_account(self, session: Session, enterprise_id: int) -> LocalAccount | None:
        """The custodial ledger account of an enterprise, or None if it keeps its own key."""
        row = self._active_key(session, enterprise_id, "ledger")
        if row is None or row.sealed is None:
            return None
        secret = self.keybox.open(row.sealed, f"ledger/{row.public}")
        return ledger_account(secret)

    def qr_signing_key(self, session: Session, enterprise_id: int) -> tuple[str, bytes]:
        """(kid, raw Ed25519 private key) of the enterprise's active QR key; made on first use."""
        row = self._active_key(session, enterprise_id, "qr")
        if row is None:
            row = self.new_qr_key(session, enterprise_id)
            session.commit()
            session.refresh(row)
        assert row.sealed is not None
        secret = self.keybox.open(row.sealed, f"qr/{row.public}")
        return make_kid(enterprise_id, row.version), secret

    def qr_public_keys(self, session: Session) -> dict[str, tuple[int, bytes, str]]:
        """kid -> (enterprise id, raw public key, status), cached briefly for resolution."""

        def read() -> dict[str, tuple[int, bytes, str]]:
            rows = session.exec(select(SigningKey).where(SigningKey.purpose == "qr")).all()
            return {
                make_kid(r.enterprise_id, r.version): (r.enterprise_id, b64url_decode(r.public), r.status)
                for r in rows
            }

        return self.chain_cache.get("qr_keys", read)
