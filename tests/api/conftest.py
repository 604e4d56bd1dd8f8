"""Fixtures of the API tests: the app on a fresh database against the session's Anvil."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.config import ApiSettings
from api.main import create_app
from api.state import AppState
from silktrace.config import Settings
from silktrace.gs1 import make_gtin
from tests.conftest import make_settings

BASE = "https://id.test"
ROLES = {
    "importer": ["importer"],
    "warehouse": ["warehouse"],
    "carrier": ["carrier"],
    "courier": ["carrier"],
    "customs": ["customs"],
    "regulator": ["regulator"],
}
CREDIT = {
    "importer": "91350500MA2Y000011",
    "warehouse": "91350500MA2Y000022",
    "carrier": "91350500MA2Y000033",
    "courier": "91350500MA2Y000044",
    "customs": "11350500MA2Y000055",
    "regulator": "11350500MA2Y000066",
}


@dataclass
class ApiEnv:
    client: TestClient
    settings: Settings
    state: AppState
    admin: dict[str, str]
    parties: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)

    def index(self) -> None:
        """Catch the mirror up with the chain, and forget what the resolver cached."""
        from indexer.config import IndexerConfig
        from indexer.runner import run

        run(self.settings, follow=False, config=IndexerConfig(_env_file=None))  # type: ignore[call-arg]
        self.state.resolver.sync_split()  # what the background loop does every flush interval
        self.state.resolver.lots.clear()
        self.state.resolver.names_cache.clear()
        self.state.resolver.mirror.clear()
        self.state.chain_cache.clear()

    def h(self, party: str) -> dict[str, str]:
        return self.parties[party][1]

    def id(self, party: str) -> int:
        return self.parties[party][0]

    def register(self, party: str, roles: list[str] | None = None, credit: str | None = None) -> None:
        r = self.client.post("/enterprises", headers=self.admin, json={
            "name_zh": f"{party} 公司", "name_en": f"{party} Co.", "credit_code": credit or CREDIT[party],
            "roles": roles or ROLES[party],
        })
        assert r.status_code == 201, r.text
        body = r.json()
        self.parties[party] = (body["enterprise"]["id"], {"Authorization": f"Bearer {body['api_key']}"})

    def post(self, path: str, party: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.post(path, headers={**self.h(party), **(headers or {})}, **kw)


def api_settings(**overrides: Any) -> ApiSettings:
    return ApiSettings(  # type: ignore[call-arg]
        _env_file=None, resolver_base_url=BASE, outbox_interval_s=0, scan_flush_interval_s=0.05,
        **overrides,
    )


@pytest.fixture
def api_env(
    db_url: str, chain_settings: Settings, deployment: Any, tmp_path: Path, snapshot: None
) -> Iterator[ApiEnv]:
    """The app on a fresh database (SQLite and PostgreSQL); the chain is reverted afterwards."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(chain_settings.deployment_file, data / "deployment.json")
    settings = make_settings(data, chain_settings.rpc_url, chain_port=chain_settings.chain_port,
                             database_url=db_url)
    app = create_app(settings, api_settings())
    with TestClient(app) as client:
        state: AppState = app.state.silktrace
        yield ApiEnv(client, settings, state, {"Authorization": f"Bearer {state.admin_key}"})


@pytest.fixture
def world(api_env: ApiEnv) -> ApiEnv:
    """Six enterprises of the Quanzhou zone, one per role (two carriers)."""
    for party in ROLES:
        api_env.register(party)
    return api_env


GTIN = make_gtin("0931234500001")


@pytest.fixture
def lot(world: ApiEnv) -> dict[str, Any]:
    """A product and a registered lot of three items held by the importer."""
    r = world.post("/products", "importer", json={
        "gtin": GTIN, "name_zh": "婴儿配方奶粉", "name_en": "Infant formula", "brand": "Koala",
        "category": "infant_formula", "country_of_origin": "AU", "shelf_life_days": 720,
    })
    assert r.status_code == 201, r.text
    r = world.post("/lots", "importer", json={"gtin": GTIN, "lot": "L1", "expiry_date": "2028-01-31"})
    assert r.status_code == 201, r.text
    lot = r.json()
    r = world.post(f"/lots/{lot['lot_id']}/manifest", "importer", content=b"serial\nS1\nS2\nS3\n",
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    return {**lot, "manifest": r.json()}
