"""The demo scenario: built once, idempotent, and what its QR links show."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from api.demo import load_demo
from api.main import create_app
from api.schemas import TraceResponse
from silktrace.config import Settings
from tests.api.conftest import api_settings
from tests.conftest import make_settings


@pytest.mark.slow
def test_demo_builds_once_and_resolves(
    db_url: str, chain_settings: Settings, deployment: Any, w3: Web3, tmp_path: Path, snapshot: None
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(chain_settings.deployment_file, data / "deployment.json")
    settings = make_settings(data, chain_settings.rpc_url, database_url=db_url)
    info = load_demo(settings, log=lambda *_: None, api_settings=api_settings())
    assert set(info.enterprises) == {"importer", "warehouse", "carrier", "courier", "customs", "regulator"}
    assert len(info.links) == 3
    block = w3.eth.block_number
    again = load_demo(settings, log=lambda *_: None, api_settings=api_settings())
    assert again.links == info.links and w3.eth.block_number == block

    from indexer.config import IndexerConfig
    from indexer.runner import run

    run(settings, follow=False, config=IndexerConfig(_env_file=None))  # type: ignore[call-arg]
    with TestClient(create_app(settings, api_settings())) as client:
        traces = {}
        for label, uri in info.qr_links.items():
            u = urlsplit(uri)
            r = client.get(f"{u.path}?{u.query}", headers={"Accept": "application/json"})
            assert r.status_code == 200, r.text
            traces[label.split(" ")[0]] = TraceResponse.model_validate(r.json())
    delivered, stored, recalled = traces["delivered"], traces["in"], traces["recalled"]
    for t in traces.values():
        assert t.status.genuine and t.status.verified
    assert delivered.status.delivered and not delivered.status.recalled
    assert len(delivered.steps) >= 18
    assert not stored.status.delivered and stored.status.disposition
    assert stored.status.disposition.name == "sellable_not_accessible"
    assert stored.status.responsible and stored.status.responsible.id == info.enterprises["warehouse"]
    assert recalled.status.recalled
    assert any(s.inspection == "non_conformant" for s in recalled.steps)
    recall = next(s for s in recalled.steps if s.action == "recall")
    assert recall.reason == "Enterobacter sakazakii detected"
    assert all(s.reason is None for s in delivered.steps)
    with TestClient(create_app(settings, api_settings())) as client:
        u = urlsplit(next(uri for label, uri in info.qr_links.items() if label.startswith("recalled")))
        page = client.get(f"{u.path}?{u.query}", headers={"Accept": "text/html", "Accept-Language": "en"})
        assert page.status_code == 200
        assert "Reason: Enterobacter sakazakii detected" in page.text
