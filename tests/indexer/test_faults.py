"""Faults: kill -9 mid-batch, node restart and reset, database outage, node size limits, tampering."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from web3 import Web3

from indexer.errors import ChainMismatch
from indexer.runner import Indexer, run
from indexer.source import Rpc
from indexer.verify import verify
from silktrace.chain import Anvil, Deployment, connect, deploy
from silktrace.config import PROJECT_ROOT, Settings
from tests.conftest import POSTGRES_URL, free_port, make_settings
from tests.indexer.world import FAST, World, assert_state_equals_chain, count

pytestmark = pytest.mark.chain

ANVIL = PROJECT_ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"


@pytest.fixture
def world(w3: Web3, deployment: Deployment, snapshot: None) -> World:
    return World(w3, deployment)


@pytest.fixture
def settings(chain_settings: Settings, db_url: str, engine: Engine) -> Settings:
    return make_settings(chain_settings.data_dir, chain_settings.rpc_url, database_url=db_url)


def _spawn(settings: Settings, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SILKTRACE_DATA_DIR": str(settings.data_dir),
        "SILKTRACE_RPC_URL": settings.rpc_url,
        "SILKTRACE_DATABASE_URL": settings.sql_url(),
        # Many small batches, so that a kill lands inside one.
        "SILKTRACE_INDEXER_INITIAL_RANGE": "1",
        "SILKTRACE_INDEXER_TARGET_LOGS": "150",
        "SILKTRACE_INDEXER_COMMIT_EVENTS": "150",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", "--no-follow"], cwd=cwd, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def test_kill_9_mid_backfill_then_resume(
    world: World, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    world.bulk(3000)
    world.rich()
    total = len(world.w3.eth.get_logs({
        "address": world.admin.address, "fromBlock": world.deployment.ledger.start_block,
    }))
    rng = random.Random()
    positions = []
    for _ in range(4):
        before = _events(engine)
        proc = _spawn(settings, tmp_path)
        deadline = time.monotonic() + 30
        while _events(engine) <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # started writing: now kill it at a random moment
        time.sleep(rng.uniform(0, 0.4))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        positions.append(count(engine, "SELECT COUNT(*) FROM ledger_event"))
        report = verify(settings)
        # Killed anywhere, the mirror is exactly the chain up to its cursor.
        assert report.ok, report.differences[:5]
    proc = _spawn(settings, tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert positions[0] < total, "the first kill came after the end; nothing was tested"
    assert count(engine, "SELECT COUNT(*) FROM ledger_event") >= total - 60  # + the ledger's own
    report = verify(settings)
    assert report.ok, report.differences[:5]
    assert world.w3.eth.block_number == report.indexed_block
    assert_state_equals_chain(engine, world)


def _events(engine: Engine) -> int:
    try:
        return count(engine, "SELECT COUNT(*) FROM ledger_event")
    except Exception:  # the tables do not exist before the first run
        return 0


class _Node:
    """An Anvil of the test's own, kept in a state file, that can be stopped and restarted."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.state = tmp / "chain"
        self.anvil = self._new(state=True)

    def _new(self, *, state: bool) -> Anvil:
        return Anvil(ANVIL, port=self.port, state_dir=self.state if state else None,
                     state_interval=1)

    def restart(self, *, state: bool = True) -> None:
        self.anvil.stop()
        self.anvil = self._new(state=state)
        self.anvil.start()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[_Node]:
    n = _Node(tmp_path)
    n.anvil.start()
    yield n
    n.anvil.kill()


def _own_chain(node: _Node, tmp_path: Path, db_url: str) -> tuple[Settings, World]:
    settings = make_settings(tmp_path / "data", node.anvil.url, database_url=db_url)
    w3 = connect(node.anvil.url)
    deployment = deploy(settings, w3, log=lambda *_: None)
    return settings, World(w3, deployment)


def _follow(settings: Settings) -> tuple[Indexer, threading.Thread, threading.Event, list[Any]]:
    stop = threading.Event()
    errors: list[Any] = []
    ix = Indexer(settings, FAST, stop_event=stop)

    def body() -> None:
        try:
            ix.run(follow=True)
        except Exception as exc:
            errors.append(exc)

    t = threading.Thread(target=body)
    t.start()
    return ix, t, stop, errors


def _wait_for(ix: Indexer, w3: Web3, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head = w3.eth.block_number
        if ix.cursor is not None and ix.cursor.block_number >= head:
            return
        time.sleep(0.05)
    raise AssertionError(f"indexer at {ix.cursor}, head {w3.eth.block_number}")


def test_node_restart_from_state_file(node: _Node, tmp_path: Path, db_url: str,
                                      engine: Engine) -> None:
    settings, world = _own_chain(node, tmp_path, db_url)
    ix, t, stop, errors = _follow(settings)
    try:
        world.rich()
        _wait_for(ix, world.w3)
        node.restart()  # SIGINT: Anvil writes its state file, then comes back from it
        world.w3 = connect(node.anvil.url, wait=10)
        world.rich()
        _wait_for(ix, world.w3)
    finally:
        stop.set()
        t.join(15)
        ix.close()
    assert not errors
    assert_state_equals_chain(engine, world)
    assert verify(settings).ok


def test_node_reset_is_detected(node: _Node, tmp_path: Path, db_url: str, engine: Engine) -> None:
    settings, world = _own_chain(node, tmp_path, db_url)
    world.rich()
    run(settings, follow=False, config=FAST)
    ix, t, stop, errors = _follow(settings)
    try:
        node.restart(state=False)  # a fresh chain on the same port
        t.join(30)
    finally:
        stop.set()
        t.join(5)
        ix.close()
    assert len(errors) == 1 and isinstance(errors[0], ChainMismatch), errors
    assert "reset" in str(errors[0])
    with pytest.raises(ChainMismatch):
        run(settings, follow=False, config=FAST)


def test_database_outage_is_survived(world: World, chain_settings: Settings, tmp_path: Path
                                     ) -> None:
    """PostgreSQL connections killed under the indexer: it retries and loses nothing."""
    schema = f"t_outage_{random.getrandbits(40):x}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}&application_name=ix_outage"
    settings = make_settings(chain_settings.data_dir, chain_settings.rpc_url, database_url=url)
    ix, t, stop, errors = _follow(settings)
    try:
        for _ in range(3):
            world.rich()
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE application_name = 'ix_outage'"))
        _wait_for(ix, world.w3)
    finally:
        stop.set()
        t.join(15)
        ix.close()
        eng = create_engine(url)
        try:
            assert not errors
            assert verify(settings).ok
            assert_state_equals_chain(eng, world)
        finally:
            eng.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_node_size_limits_shrink_the_range(
    world: World, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.bulk(600, width=50)
    refused = []
    real = Rpc.call_raw

    def limited(self: Rpc, method: str, params: Any = ()) -> bytes:
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            if span > 4:
                refused.append(span)
                # What a node answers (Infura's code and wording): the source must recognise it.
                return (b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,'
                        b'"message":"query returned more than 10000 results"}}')
        return real(self, method, params)

    monkeypatch.setattr(Rpc, "call_raw", limited)
    run(settings, follow=False, config=FAST)
    assert refused
    assert verify(settings).ok
    assert_state_equals_chain(engine, world)


def test_tampering_is_caught(world: World, settings: Settings, engine: Engine) -> None:
    world.rich()
    run(settings, follow=False, config=FAST)
    assert verify(settings).ok
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM ledger_event ORDER BY id"))]
        conn.execute(text("UPDATE ledger_event SET enterprise_id = 999 WHERE id = :i"),
                     {"i": ids[3]})
        conn.execute(text("UPDATE ledger_event SET documents = '[]' WHERE id = ("
                          "SELECT MIN(event_id) FROM document)"))
        conn.execute(text("DELETE FROM document WHERE event_id = :i"), {"i": ids[5]})
        conn.execute(text("DELETE FROM ledger_event WHERE id = :i"), {"i": ids[5]})
        conn.execute(text(
            "INSERT INTO ledger_event (id, chain_id, contract, block_number, block_hash, "
            "block_time, tx_hash, log_index, event, documents, data) SELECT :n, chain_id, "
            "contract, block_number, block_hash, block_time, tx_hash, 999, event, documents, "
            "data FROM ledger_event WHERE id = :i"), {"n": ids[-1] + 1, "i": ids[7]})
    report = verify(settings)
    assert not report.ok
    assert (report.missing, report.extra, report.altered) == (1, 1, 2), report.differences
    assert any("enterprise_id" in d for d in report.differences)
    assert any("documents" in d for d in report.differences)
