"""Shared fixtures: a real Anvil per session, the deployed ledger, and SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from web3 import Web3

from silktrace.chain import Anvil, Deployment, connect, deploy
from silktrace.config import PROJECT_ROOT, Settings

POSTGRES_URL = os.environ.get(
    "SILKTRACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(data_dir: Path, rpc_url: str, **overrides: object) -> Settings:
    """Settings isolated from the developer's `.env` and data directory."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        rpc_url=rpc_url,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    """The real Anvil binary (not the Node shim, which does not pass on SIGKILL) on a free port."""
    port = free_port()
    node = Anvil(
        PROJECT_ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil",
        port=port,
        log_file=tmp_path_factory.mktemp("anvil") / "anvil.log",
    )
    node.start()
    yield node
    node.kill()


@pytest.fixture(scope="session")
def w3(anvil: Anvil) -> Web3:
    return connect(anvil.url)


@pytest.fixture(scope="session")
def chain_settings(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"), anvil.url, chain_port=anvil.port)


@pytest.fixture(scope="session")
def deployment(chain_settings: Settings, w3: Web3) -> Deployment:
    """The ledger deployed once per session on the session's Anvil."""
    return deploy(chain_settings, w3, log=lambda *_: None)


@pytest.fixture
def snapshot(w3: Web3) -> Iterator[None]:
    """Reverts the chain to where it was when the test started (Anvil snapshot/revert)."""
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]


def _postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own (runs never collide)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'silktrace.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the fresh database, with every table created."""
    from silktrace.db import create_db_engine, create_tables

    eng = create_db_engine(db_url)
    create_tables(eng)
    yield eng
    eng.dispose()
