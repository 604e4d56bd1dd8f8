"""Smoke: the app starts, registers enterprises and a lot."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ApiEnv


def test_lot_registered(world: ApiEnv, lot: dict[str, Any]) -> None:
    assert lot["manifest"]["item_count"] == 3
    assert lot["manifest"]["write"]["tx_hash"].startswith("0x")
    world.index()
    r = world.client.get(f"/01/{lot['gtin']}/10/L1/21/S1", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"]["registered"] is True
    assert body["status"]["verified"] is True
    assert body["steps"][0]["event"] == "LotRegistered"
