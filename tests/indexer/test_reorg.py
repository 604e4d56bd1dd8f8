"""Reorgs of depth 1, 3 and 10 with replacement transactions; deeper than allowed stops loudly."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from web3 import Web3

from indexer.config import IndexerConfig
from indexer.errors import ReorgTooDeep
from indexer.runner import Indexer, run
from indexer.verify import verify
from silktrace.chain import Deployment, Sender
from silktrace.config import Settings
from silktrace.ledger import Action, Record
from silktrace.vocab import Role
from tests.conftest import make_settings
from tests.indexer.world import FAST, Party, World, assert_state_equals_chain, count, h32

pytestmark = pytest.mark.chain


@pytest.fixture
def world(w3: Web3, deployment: Deployment, snapshot: None) -> World:
    return World(w3, deployment)


@pytest.fixture
def settings(chain_settings: Settings, db_url: str, engine: Engine) -> Settings:
    return make_settings(chain_settings.data_dir, chain_settings.rpc_url, database_url=db_url)


def _dev_party(world: World, index: int, roles: int) -> Party:
    """An enterprise acting through an unlocked dev account, so anvil_reorg can send for it."""
    addr = world.w3.eth.accounts[index]
    eid = world.admin.register_enterprise(h32(world.rng), h32(world.rng), roles, addr)
    return Party(eid, None, world.admin.with_sender(Sender(world.w3, address=addr)))  # type: ignore[arg-type]


def _tx(p: Party, fn: Any) -> dict[str, Any]:
    return {"from": p.ledger.sender.address, "to": p.ledger.address, "gas": 2_000_000,
            "data": fn._encode_transaction_data()}


def _record_tx(world: World, p: Party, action: Action, subject: bytes, step: int, disp: int,
               counterparty: int = 0) -> dict[str, Any]:
    rec = Record(action, subject, step, disp, counterparty, 1, int(time.time()) - 60,
                 h32(world.rng), (h32(world.rng),))
    return _tx(p, p.ledger.contract.functions.submit(rec.as_tuple()))


def _setup(world: World) -> tuple[Party, Party, list[bytes], bytes]:
    imp = _dev_party(world, 1, int(Role.IMPORTER))
    wh = _dev_party(world, 2, int(Role.WAREHOUSE))
    items = [h32(world.rng) for _ in range(4)]
    for it in items:
        imp.ledger.register_item(it)
    unit = h32(world.rng)
    imp.ledger.register_unit(unit)
    return imp, wh, items, unit


def _old_fork(world: World, imp: Party, wh: Party, items: list[bytes], unit: bytes, depth: int
              ) -> None:
    """`depth` blocks that the reorg will drop: packing, handovers, a recall, a new item."""
    steps = [
        lambda: imp.ledger.pack(unit, items[:2]),
        lambda: world.record(imp, Action.DISPATCH, items[2], 4, 3, counterparty=wh.id, docs=2),
        lambda: world.record(imp, Action.RECALL, items[3], 69),
        lambda: world.record(wh, Action.ACCEPT, items[2], 8, 4),
        lambda: imp.ledger.register_item(h32(world.rng)),
    ]
    for i in range(depth):
        steps[i % len(steps)]() if i < len(steps) else world.record(
            imp, Action.EVENT, items[3], 9, 4, docs=1)


def _replacements(world: World, imp: Party, wh: Party, items: list[bytes], unit: bytes, depth: int
                  ) -> list[list[Any]]:
    """Different transactions for the new fork, one per block where possible."""
    c = imp.ledger.contract.functions
    txs = [
        _tx(imp, c.pack(unit, [items[1]])),
        _record_tx(world, imp, Action.EVENT, items[0], 9, 4),
        _tx(imp, c.registerItem(h32(world.rng), b"\0" * 32, 0, int(time.time()) - 60, h32(world.rng))),
    ]
    return [[tx, min(i, depth - 1)] for i, tx in enumerate(txs[: max(depth, 1) + 2])]


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_reorg_replaces_blocks(world: World, settings: Settings, engine: Engine, depth: int) -> None:
    imp, wh, items, unit = _setup(world)
    run(settings, follow=False, config=FAST)
    _old_fork(world, imp, wh, items, unit, depth)
    run(settings, follow=False, config=FAST)
    old_events = count(engine, "SELECT COUNT(*) FROM ledger_event")
    head = world.w3.eth.block_number
    old_hash = world.w3.eth.get_block(head)["hash"].to_0x_hex()
    world.w3.provider.make_request(  # type: ignore[arg-type]
        "anvil_reorg", [depth, _replacements(world, imp, wh, items, unit, depth)]
    )
    assert world.w3.eth.get_block(head)["hash"].to_0x_hex() != old_hash
    run(settings, follow=False, config=FAST)
    assert count(engine, "SELECT COUNT(*) FROM ledger_event") != old_events
    assert count(engine, f"SELECT COUNT(*) FROM block_header WHERE hash = '{old_hash}'") == 0
    assert_state_equals_chain(engine, world)
    report = verify(settings)
    assert report.ok, report.differences


def test_rollback_then_longer_chain_while_following(
    world: World, settings: Settings, engine: Engine
) -> None:
    imp, wh, items, unit = _setup(world)
    stop = threading.Event()
    ix = Indexer(settings, FAST, stop_event=stop)
    t = threading.Thread(target=ix.run, kwargs={"follow": True})
    t.start()
    try:
        _old_fork(world, imp, wh, items, unit, 5)
        _wait(ix, world.w3.eth.block_number)
        world.w3.provider.make_request("anvil_rollback", [3])  # type: ignore[arg-type]
        world.record(imp, Action.EVENT, unit, 9, 5)
        world.record(imp, Action.RECALL, items[3], 69)
        world.mine(3)
        _wait(ix, world.w3.eth.block_number)
    finally:
        stop.set()
        t.join(10)
        ix.close()
    assert_state_equals_chain(engine, world)
    assert verify(settings).ok


def test_reorg_deeper_than_allowed_stops(world: World, settings: Settings, engine: Engine) -> None:
    imp, wh, items, unit = _setup(world)
    _old_fork(world, imp, wh, items, unit, 4)
    shallow = IndexerConfig(**{**FAST.model_dump(), "max_reorg_depth": 2})
    run(settings, follow=False, config=shallow)
    world.w3.provider.make_request(  # type: ignore[arg-type]
        "anvil_reorg", [4, _replacements(world, imp, wh, items, unit, 4)]
    )
    with pytest.raises(ReorgTooDeep, match="more than 2 blocks"):
        run(settings, follow=False, config=shallow)


def _wait(ix: Indexer, block: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ix.cursor is not None and ix.cursor.block_number >= block:
            return
        time.sleep(0.05)
    raise AssertionError(f"indexer at {ix.cursor} did not reach block {block}")
