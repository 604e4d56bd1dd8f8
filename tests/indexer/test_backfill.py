"""Backfill and follow against the real Anvil, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.engine import Engine
from web3 import Web3

from indexer.runner import Indexer, run
from indexer.verify import verify
from silktrace.chain import Deployment
from silktrace.config import Settings
from tests.conftest import make_settings
from tests.indexer.world import FAST, World, assert_state_equals_chain, count

pytestmark = pytest.mark.chain


@pytest.fixture
def world(w3: Web3, deployment: Deployment, snapshot: None) -> World:
    return World(w3, deployment)


@pytest.fixture
def settings(chain_settings: Settings, db_url: str, engine: Engine) -> Settings:
    return make_settings(chain_settings.data_dir, chain_settings.rpc_url, database_url=db_url)


def test_backfill_equals_the_chain(world: World, settings: Settings, engine: Engine) -> None:
    world.rich()
    seen: list[tuple[int, int, int, float]] = []
    run(settings, follow=False, config=FAST, on_progress=lambda *a: seen.append(a))
    head = world.w3.eth.block_number
    assert seen and seen[-1][0] == head and seen[-1][1] == head
    assert assert_state_equals_chain(engine, world) == 8
    report = verify(settings)
    assert report.ok, report.differences
    assert count(engine, "SELECT COUNT(*) FROM recall") == 3
    assert count(engine, "SELECT COUNT(*) FROM recall WHERE lifted_event_id IS NOT NULL") == 1
    assert count(engine, "SELECT COUNT(*) FROM document") == 9
    # A second run finds nothing new and changes nothing.
    before = count(engine, "SELECT COUNT(*) FROM ledger_event")
    run(settings, follow=False, config=FAST)
    assert count(engine, "SELECT COUNT(*) FROM ledger_event") == before
    assert seen[-1][2] == before


def test_follow_picks_up_new_blocks(world: World, settings: Settings, engine: Engine) -> None:
    stop = threading.Event()
    seen: list[tuple[int, int, int, float]] = []
    ix = Indexer(settings, FAST, stop_event=stop, on_progress=lambda *a: seen.append(a))
    t = threading.Thread(target=ix.run, kwargs={"follow": True})
    t.start()
    try:
        world.rich()
        head = world.w3.eth.block_number
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (ix.cursor is None or ix.cursor.block_number < head):
            time.sleep(0.05)
        assert ix.cursor is not None and ix.cursor.block_number == head
    finally:
        stop.set()
        t.join(10)
        ix.close()
    assert not t.is_alive()
    assert_state_equals_chain(engine, world)
    assert verify(settings).ok
