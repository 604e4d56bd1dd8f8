"""Deployment file, redeploy decisions, and the local chain kept across restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from silktrace.chain import LEDGER, Anvil, Deployment, Sender, connect, deploy
from silktrace.config import PROJECT_ROOT
from silktrace.errors import ChainError
from silktrace.ledger import Ledger
from tests.conftest import free_port, make_settings

ANVIL = PROJECT_ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"


def test_deploy_writes_a_deployment_file_that_matches_the_chain(
    deployment, chain_settings, w3
) -> None:
    raw = json.loads(chain_settings.deployment_file.read_text())
    assert raw["chain_id"] == w3.eth.chain_id == deployment.chain_id
    info = raw["contracts"][LEDGER]
    assert w3.eth.get_code(info["address"])
    assert info["start_block"] == w3.eth.get_transaction_receipt(info["tx_hash"])["blockNumber"]
    assert len(info["abi_sha256"]) == 64 and raw["abi"][LEDGER]
    Deployment.load(chain_settings.deployment_file).check(w3)


def test_deploy_reuses_a_matching_deployment(deployment, chain_settings, w3) -> None:
    again = deploy(chain_settings, w3, log=lambda *_: None)
    assert again.ledger.address == deployment.ledger.address


def test_deployment_load_failsIfMissing(tmp_path: Path) -> None:
    with pytest.raises(ChainError) as exc:
        Deployment.load(tmp_path / "nope.json")
    assert exc.value.code == "not_deployed"


def _mine_transfers(w3, n: int) -> None:  # type: ignore[no-untyped-def]
    dev = Sender(w3, address=w3.eth.accounts[0])
    for _ in range(n):
        dev.send({"to": w3.eth.accounts[1], "value": 1})


@pytest.mark.slow
def test_restart_keeps_every_block_and_the_deployment(tmp_path: Path) -> None:
    port = free_port()
    node = Anvil(ANVIL, port=port, state_dir=tmp_path / "chain")
    with node:
        w3 = connect(node.url)
        settings = make_settings(tmp_path, node.url)
        d = deploy(settings, w3, log=lambda *_: None)
        _mine_transfers(w3, 3)
        head = w3.eth.block_number
        hashes = [w3.eth.get_block(n)["hash"] for n in range(head + 1)]
    assert node.state_file is not None and node.state_file.exists()
    with Anvil(ANVIL, port=port, state_dir=tmp_path / "chain") as again:
        w3 = connect(again.url)
        assert w3.eth.block_number == head
        assert [w3.eth.get_block(n)["hash"] for n in range(head + 1)] == hashes
        Deployment.load(settings.deployment_file).check(w3)
        assert deploy(settings, w3, log=lambda *_: None).ledger.address == d.ledger.address


@pytest.mark.slow
def test_hard_kill_loses_at_most_the_last_state_interval(tmp_path: Path) -> None:
    port = free_port()
    node = Anvil(ANVIL, port=port, state_dir=tmp_path / "chain", state_interval=1)
    node.start()
    w3 = connect(node.url)
    _mine_transfers(w3, 3)
    time.sleep(2.5)  # longer than the state interval: these blocks are on disk
    kept = w3.eth.block_number
    _mine_transfers(w3, 2)
    node.kill()
    with Anvil(ANVIL, port=port, state_dir=tmp_path / "chain") as again:
        assert kept <= connect(again.url).eth.block_number <= kept + 2


def test_check_detects_a_reset_chain(tmp_path: Path, deployment: Deployment) -> None:
    with Anvil(ANVIL, port=free_port()) as fresh, pytest.raises(ChainError) as exc:
        deployment.check(connect(fresh.url))
    assert exc.value.code in ("chain_reset", "wrong_chain")


def test_ledger_errors_come_back_decoded(deployment, w3, snapshot) -> None:
    stranger = Ledger(w3, deployment, Sender(w3, address=w3.eth.accounts[5]))
    with pytest.raises(ChainError) as exc:
        stranger.register_item(b"\x01" * 32)
    assert exc.value.code == "TraceLedgerUnknownAccount"
    assert exc.value.error_args == {"account": w3.eth.accounts[5]}  # type: ignore[attr-defined]
