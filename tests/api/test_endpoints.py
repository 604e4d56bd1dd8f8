"""Each endpoint's success and failure paths, on SQLite and PostgreSQL, against the real chain."""

from __future__ import annotations

import json
import time
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from api.outbox import reconcile_once
from silktrace import gs1
from tests.api.conftest import GTIN, ApiEnv

LOT = f"/01/{GTIN}/10/L1"


def err(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body["error"]) >= {"code", "message"}
    return str(body["error"]["code"])


def sid(path: str) -> str:
    return "0x" + gs1.subject_id(path).hex()


def test_health_and_steps(api_env: ApiEnv) -> None:
    h = api_env.client.get("/health").json()
    assert h["status"] == "ok" and h["chain"] == "ok" and h["database"] == "ok"
    api_env.index()  # also forgets the resolver's reading of the mirror
    assert api_env.state.w3 is not None
    assert api_env.client.get("/health").json()["mirror_block"] == api_env.state.w3.eth.block_number
    steps = {s["name"]: s for s in api_env.client.get("/steps").json()}
    assert steps["customs_release"]["authority"] and steps["consumer_receipt"]["ends_custody"]
    assert err(api_env.client.get("/nope"), 404) == "not_found"
    assert err(api_env.client.delete("/health"), 405) == "method_not_allowed"


def test_enterprise_registration_and_keys(api_env: ApiEnv) -> None:
    c = api_env.client
    body = {"name_zh": "甲", "name_en": "A", "credit_code": "91350500MA2Y000011", "roles": ["importer"]}
    assert err(c.post("/enterprises", json=body), 401) == "not_authenticated"
    assert err(c.post("/enterprises", json=body, headers={"Authorization": "Bearer stk_x"}), 401) == "invalid_api_key"
    assert err(c.post("/enterprises", json={**body, "credit_code": "123"}, headers=api_env.admin), 422) == "validation_error"
    api_env.register("importer")
    assert err(c.post("/enterprises", json=body, headers=api_env.admin), 409) == "credit_code_exists"
    assert err(c.post("/enterprises", json={**body, "credit_code": "91350500MA2Y000099"},
                      headers=api_env.h("importer")), 403) == "admin_only"
    me = c.get("/enterprises/me", headers=api_env.h("importer")).json()
    assert me["roles"] == ["importer"] and me["custodial"] and me["account"].startswith("0x")
    assert c.get(f"/enterprises/{me['id']}").json()["name"]["zh"] == "importer 公司"
    assert err(c.get("/enterprises/999"), 404) == "unknown_enterprise"
    assert [e["id"] for e in c.get("/enterprises").json()] == [me["id"]]
    assert err(c.get("/enterprises/me", headers=api_env.admin), 403) == "enterprise_only"
    # a second key, a token, revocation
    key = c.post("/enterprises/me/api-keys", headers=api_env.h("importer")).json()
    kh = {"Authorization": f"Bearer {key['api_key']}"}
    tok = c.post("/auth/token", headers=kh).json()
    th = {"Authorization": f"Bearer {tok['access_token']}"}
    assert tok["expires_at"] > time.time() and c.get("/enterprises/me", headers=th).status_code == 200
    forged = tok["access_token"][:-2] + ("AA" if not tok["access_token"].endswith("AA") else "BB")
    assert err(c.get("/enterprises/me", headers={"Authorization": f"Bearer {forged}"}), 401) == "invalid_token"
    assert c.delete(f"/enterprises/me/api-keys/{key['key_id']}", headers=api_env.h("importer")).status_code == 204
    assert err(c.get("/enterprises/me", headers=kh), 401) == "invalid_api_key"
    assert err(c.get("/enterprises/me", headers=th), 401) == "invalid_token"
    assert err(c.delete("/enterprises/me/api-keys/aaaaaaaaaaaa", headers=api_env.h("importer")), 404) == "unknown_api_key"
    expired, _ = api_env.state.tokens.issue(me["id"], "x" * 12, -10)
    assert err(c.get("/enterprises/me", headers={"Authorization": f"Bearer {expired}"}), 401) == "token_expired"


def test_key_rotation(world: ApiEnv, lot: dict[str, Any]) -> None:
    c, imp = world.client, world.id("importer")
    keys_before = c.get("/qr/keys").json()["keys"]
    r = c.post(f"/enterprises/{imp}/keys/rotate", json={"purpose": "qr"}, headers=world.h("importer"))
    assert r.status_code == 200 and r.json()["version"] == 2
    keys = {k["kid"]: k["status"] for k in c.get("/.well-known/silktrace/qr-keys.json").json()["keys"]}
    assert keys[f"{imp}.1"] == "retired" and keys[f"{imp}.2"] == "active" and len(keys) == len(keys_before) + 1
    assert err(c.post(f"/enterprises/{imp}/keys/rotate", json={"purpose": "ledger"},
                      headers=world.h("importer")), 403) == "not_allowed"
    old = c.get("/enterprises/me", headers=world.h("importer")).json()["account"]
    r = c.post(f"/enterprises/{imp}/keys/rotate", json={"purpose": "ledger"}, headers=world.admin)
    assert r.status_code == 200, r.text
    assert r.json()["public"] != old
    assert world.state.ledger().enterprise_of(r.json()["public"]) == imp
    assert world.state.ledger().enterprise_of(old) == 0
    # the importer still records with its new key
    ok = world.post("/events", "importer", json={"subject": LOT, "step": "storing"})
    assert ok.status_code == 201, ok.text
    assert err(c.post("/enterprises/999/keys/rotate", json={"purpose": "qr"}, headers=world.admin), 404) == "unknown_enterprise"


def test_places(world: ApiEnv) -> None:
    c = world.client
    gln = "6901234000016"
    r = c.put(f"/enterprises/me/places/{gln}", json={"name_zh": "港", "name_en": "Port"}, headers=world.h("carrier"))
    assert r.status_code == 200 and r.json()["enterprise_id"] == world.id("carrier")
    assert err(c.put(f"/enterprises/me/places/{gln}", json={"name_zh": "x", "name_en": "x"},
                     headers=world.h("warehouse")), 409) == "place_owned"
    assert err(c.put("/enterprises/me/places/6901234000017", json={"name_zh": "x", "name_en": "x"},
                     headers=world.h("carrier")), 422) == "invalid_check_digit"


def test_products(world: ApiEnv) -> None:
    c = world.client
    body = {"gtin": GTIN, "name_zh": "奶粉", "name_en": "Formula", "country_of_origin": "AU"}
    assert err(world.post("/products", "warehouse", json=body), 403) == "missing_role"
    assert err(world.post("/products", "importer", json={**body, "gtin": GTIN[:-1] + "9"}), 422) == "invalid_check_digit"
    assert err(world.post("/products", "importer", json={**body, "gtin": "12345"}), 422) == "validation_error"
    r = world.post("/products", "importer", json={**body, "gtin": GTIN[1:]})  # GTIN-13 becomes 14 digits
    assert r.status_code == 201 and r.json()["gtin"] == GTIN
    assert err(world.post("/products", "importer", json=body), 409) == "product_exists"
    assert c.get(f"/products/{GTIN}").json()["name_en"] == "Formula"
    assert err(c.get(f"/products/{gs1.make_gtin('0931234500009')}"), 404) == "unknown_product"
    assert [p["gtin"] for p in c.get("/products").json()] == [GTIN]


def test_lots_and_manifests(world: ApiEnv) -> None:
    c = world.client
    assert err(world.post("/lots", "importer", json={"gtin": GTIN, "lot": "X"}), 404) == "unknown_product"
    world.post("/products", "importer", json={"gtin": GTIN, "name_zh": "奶粉", "name_en": "Formula"})
    assert err(world.post("/lots", "importer", json={"gtin": GTIN, "lot": "bad lot"}), 422) == "invalid_lot"
    lot = world.post("/lots", "importer", json={"gtin": GTIN, "lot": "J1"}).json()
    assert lot["status"] == "created" and lot["uri"] == f"https://id.test/01/{GTIN}/10/J1"
    assert err(world.post("/lots", "importer", json={"gtin": GTIN, "lot": "J1"}), 409) == "lot_exists"
    url = f"/lots/{lot['lot_id']}/manifest"
    js = {"Content-Type": "application/json"}
    assert err(world.post(url, "importer", content=b'["A1","A2","A1"]', headers=js), 422) == "duplicate_serial"
    assert err(world.post(url, "importer", content=b'["A1","bad serial"]', headers=js), 422) == "invalid_serial"
    assert err(world.post(url, "importer", content=b"[]", headers=js), 422) == "empty_manifest"
    assert err(world.post(url, "importer", content=b'{"a":', headers=js), 422) == "invalid_manifest"
    assert err(world.post(url, "importer", content=b"x", headers={"Content-Type": "image/png"}), 415) == "unsupported_manifest_type"
    assert err(world.post(url, "carrier", content=b'["A1"]', headers=js), 403) == "not_lot_owner"
    body = json.dumps([{"serial": f"A{i}"} for i in range(1, 501)]).encode()
    r = world.post(url, "importer", content=body, headers=js)
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["item_count"] == 500 and m["write"]["logs"][0]["event"] == "LotRegistered"
    assert err(world.post(url, "importer", content=body, headers=js), 409) == "lot_registered"
    assert c.get(f"/lots/{lot['lot_id']}").json()["items_root"] == m["items_root"]
    proof = c.get(f"/lots/{lot['lot_id']}/items/A77/proof").json()
    assert proof["verified"] and len(proof["proof"]) == 9
    ledger = world.state.ledger()
    assert ledger.contract.functions.isLotMember(
        bytes.fromhex(lot["lot_id"][2:]), bytes.fromhex(proof["item_id"][2:]),
        [bytes.fromhex(p[2:]) for p in proof["proof"]]).call()
    assert err(c.get(f"/lots/{lot['lot_id']}/items/A999/proof"), 404) == "unknown_item"
    assert err(c.get("/lots/0x" + "ab" * 32), 404) == "unknown_lot"
    # NDJSON and CSV with quoting
    lot2 = world.post("/lots", "importer", json={"gtin": GTIN, "lot": "J2"}).json()
    nd = b'{"serial": "N1"}\n"N2"\n\n{"serial": "N,3"}\n'
    r = world.post(f"/lots/{lot2['lot_id']}/manifest", "importer", content=nd,
                   headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 201 and r.json()["item_count"] == 3
    lot3 = world.post("/lots", "importer", json={"gtin": GTIN, "lot": "J3"}).json()
    csv = b'id,serial\n1,"C,1"\n2,C2\n'
    r = world.post(f"/lots/{lot3['lot_id']}/manifest", "importer", content=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 201 and r.json()["item_count"] == 2
    world.index()
    t = c.get(f"/01/{GTIN}/10/J3/21/C%2C1?format=json").json()
    assert t["status"]["registered"] and t["status"]["verified"]


def test_events_permissions_and_idempotency(world: ApiEnv, lot: dict[str, Any]) -> None:
    ev = {"subject": LOT, "step": "storing", "event_time": int(time.time()) - 60}
    assert err(world.post("/events", "importer", json={**ev, "step": "flying"}), 422) == "unknown_step"
    assert err(world.post("/events", "importer", json={**ev, "disposition": "shiny"}), 422) == "unknown_disposition"
    assert err(world.post("/events", "importer", json={**ev, "step": "inspecting"}), 403) == "missing_role"
    assert err(world.post("/events", "customs", json=ev), 403) == "missing_role"
    assert err(world.post("/events", "warehouse", json=ev), 403) == "TraceLedgerNotResponsible"
    assert err(world.post("/events", "importer", json={**ev, "step": "recall"}), 422) == "step_not_allowed"
    assert err(world.post("/events", "importer", json={**ev, "step": "commissioning"}), 422) == "step_not_allowed"
    assert err(world.post("/events", "importer", json={**ev, "subject": f"/01/{GTIN[:-1]}0/10/L1"}), 422) == "invalid_check_digit"
    assert err(world.post("/events", "importer", json={**ev, "subject": "/01/09312345000012/10/NOPE"}), 404) == "TraceLedgerUnknownSubject"
    assert err(world.post("/events", "importer", json={**ev, "documents": ["ab" * 32]}), 422) == "unknown_document"
    assert err(world.post("/events", "importer", json={**ev, "location_gln": "1234567890123"}), 422) == "invalid_check_digit"
    future = {**ev, "event_time": int(time.time()) + 7200}
    assert err(world.post("/events", "importer", json=future), 422) == "TraceLedgerEventTimeInFuture"
    # the same record twice: one transaction
    first = world.post("/events", "importer", json=ev)
    again = world.post("/events", "importer", json=ev)
    assert first.status_code == again.status_code == 201
    assert first.json()["tx_hash"] == again.json()["tx_hash"] and again.json()["idempotent_replay"]
    # an explicit key: replayed, and refused for a different body
    key = {"Idempotency-Key": "order-42"}
    a = world.post("/events", "importer", json={"subject": LOT, "step": "storing"}, headers=key)
    b = world.post("/events", "importer", json={"subject": LOT, "step": "storing"}, headers=key)
    assert a.json()["tx_hash"] == b.json()["tx_hash"]
    assert err(world.post("/events", "importer", json={"subject": LOT, "step": "picking"}, headers=key), 409) == "idempotency_conflict"
    entry = world.client.get(f"/outbox/{a.json()['outbox_id']}", headers=world.h("importer")).json()
    assert entry["status"] == "mined"
    assert err(world.client.get(f"/outbox/{a.json()['outbox_id']}", headers=world.h("carrier")), 404) == "unknown_outbox_entry"
    world.index()
    reconcile_once(world.state)
    entry = world.client.get(f"/outbox/{a.json()['outbox_id']}", headers=world.h("importer")).json()
    assert entry["status"] == "confirmed"


def test_custody_failures(world: ApiEnv, lot: dict[str, Any]) -> None:
    lid = lot["lot_id"]
    acc = {"step": "accepting"}
    assert err(world.post(f"/items/{lid}/custody/accept", "carrier", json=acc), 409) == "TraceLedgerNoHandoverPending"
    assert err(world.post(f"/items/{lid}/custody/dispatch", "importer", json={"to_enterprise": 999}), 404) == "TraceLedgerUnknownEnterprise"
    assert err(world.post(f"/items/{lid}/custody/dispatch", "importer",
                          json={"to_enterprise": world.id("customs")}), 422) == "TraceLedgerInvalidReceiver"
    assert err(world.post(f"/items/{lid}/custody/dispatch", "importer",
                          json={"to_enterprise": world.id("carrier"), "step": "consumer_receipt"}), 422) == "step_not_allowed"
    assert world.post(f"/items/{lid}/custody/dispatch", "importer", json={"to_enterprise": world.id("carrier")}).status_code == 201
    assert err(world.post(f"/items/{lid}/custody/accept", "warehouse", json=acc), 403) == "TraceLedgerNotReceiver"
    assert err(world.post(f"/items/{lid}/custody/dispatch", "importer",
                          json={"to_enterprise": world.id("warehouse")}), 409) == "TraceLedgerHandoverPending"
    assert err(world.post(f"/items/{lid}/custody/cancel", "carrier", json={"reason": "x"}), 403) == "TraceLedgerNotResponsible"
    assert world.post(f"/items/{lid}/custody/cancel", "importer", json={"reason": "wrong truck"}).status_code == 201
    assert err(world.post(f"/items/{lid}/custody/reject", "carrier", json={"reason": "x"}), 409) == "TraceLedgerNoHandoverPending"
    assert err(world.post("/items/0x" + "12" * 32 + "/custody/accept", "carrier", json=acc), 404) == "unknown_subject"
    assert err(world.post("/items/nothex/custody/accept", "carrier", json=acc), 422) == "validation_error"
    assert err(world.post(f"/items/{lid}/custody/accept", "customs", json=acc), 403) == "missing_role"
    # an item that was never split, by someone who cannot split it
    item = sid(f"{LOT}/21/S2")
    assert err(world.post(f"/items/{item}/custody/accept", "carrier", json=acc), 409) == "item_not_split"


def test_units(world: ApiEnv, lot: dict[str, Any]) -> None:
    assert err(world.post("/units", "importer", json={"sscc": "393123450000000014"}), 422) == "invalid_check_digit"
    assert err(world.post("/units", "customs", json={"sscc": "393123450000000013"}), 403) == "missing_role"
    assert world.post("/units", "carrier", json={"sscc": "393123450000000013"}).status_code == 201
    assert err(world.post("/units", "carrier", json={"sscc": "393123450000000013"}), 409) == "TraceLedgerSubjectExists"
    pack = {"children": [LOT]}
    assert err(world.post("/units/393123450000000013/pack", "importer", json=pack), 403) == "TraceLedgerNotResponsible"
    assert err(world.post("/units/393123450000000013/pack", "carrier", json=pack), 403) == "TraceLedgerNotResponsible"
    assert err(world.post("/units/393123450000000013/unpack", "carrier", json=pack), 409) == "TraceLedgerNotPackedIn"
    assert err(world.post("/units/393123450000000013/pack", "carrier", json={"children": []}), 422) == "validation_error"
    # an item split from the lot on packing, then packed and unpacked
    world.post("/units", "importer", json={"sscc": "393123450000000020"})
    item = {"children": [f"{LOT}/21/S3"]}
    r = world.post("/units/393123450000000020/pack", "importer", json=item)
    assert r.status_code == 201, r.text
    assert err(world.post("/events", "importer", json={"subject": f"{LOT}/21/S3", "step": "storing"}), 409) == "TraceLedgerSubjectPacked"
    assert world.post("/units/393123450000000020/unpack", "importer", json=item).status_code == 201


def test_documents(world: ApiEnv) -> None:
    c = world.client
    r = c.post("/documents?title=Lab&doc_type=inspection_report", headers=world.h("customs"), content=b"secret report")
    assert r.status_code == 201
    sha = r.json()["sha256"]
    pub = c.post("/documents?public=true", headers=world.h("importer"), content=b"public certificate").json()
    assert c.get(f"/documents/{pub['sha256']}").content == b"public certificate"
    assert err(c.get(f"/documents/{sha}"), 401) == "not_authenticated"
    assert err(c.get(f"/documents/{sha}", headers=world.h("carrier")), 403) == "no_right"
    assert c.get(f"/documents/{sha}", headers=world.h("customs")).content == b"secret report"
    assert c.get(f"/documents/{sha}", headers=world.h("regulator")).status_code == 200  # authority
    assert err(c.post(f"/documents/{sha}/grants", json={"enterprise_id": world.id("carrier")},
                      headers=world.h("carrier")), 403) == "not_uploader"
    assert c.post(f"/documents/{sha}/grants", json={"enterprise_id": world.id("carrier")},
                  headers=world.h("customs")).status_code == 204
    assert c.get(f"/documents/{sha}/meta", headers=world.h("carrier")).json()["title"] == "Lab"
    assert err(c.get("/documents/" + "0" * 64), 404) == "unknown_document"
    assert err(c.post("/documents", headers=world.h("customs"), content=b""), 422) == "empty_document"
    assert err(c.post("/documents", content=b"x"), 401) == "not_authenticated"
    # content-addressed: the same bytes again are the same document
    assert c.post("/documents", headers=world.h("carrier"), content=b"secret report").json()["sha256"] == sha


def test_self_signed_records(world: ApiEnv, lot: dict[str, Any]) -> None:
    """An enterprise that keeps its own key signs EIP-712 records; the API relays them."""
    own = Account.create()
    r = world.client.post("/enterprises", headers=world.admin, json={
        "name_zh": "自管", "name_en": "Self", "credit_code": "91350500MA2Y000077", "roles": ["customs"],
        "account": own.address})
    assert r.status_code == 201 and r.json()["enterprise"]["custodial"] is False
    h = {"Authorization": f"Bearer {r.json()['api_key']}"}
    prep = world.client.post("/records/prepare", headers=h, json={
        "action": 0, "subject": LOT, "biz_step": 64, "disposition": 6}).json()
    sig = own.sign_message(encode_typed_data(full_message=_typed(prep["typed_data"]))).signature
    msg = prep["typed_data"]["message"]
    signed = {"action": 0, "subject": msg["subject"], "biz_step": 64, "disposition": 6,
              "event_time": msg["eventTime"], "signer": own.address, "nonce": prep["nonce"],
              "deadline": prep["deadline"], "signature": "0x" + bytes(sig).hex()}
    r = world.client.post("/records/signed", headers=h, json=signed)
    assert r.status_code == 201, r.text
    assert r.json()["logs"][0]["event"] == "EventRecorded"
    again = world.client.post("/records/signed", headers=h, json=signed)
    assert again.json()["idempotent_replay"]
    other = world.client.post("/records/signed", headers=world.h("customs"), json=signed)
    assert err(other, 403) == "signer_not_enterprise"
    expired = {**signed, "deadline": int(time.time()) - 10}
    assert err(world.client.post("/records/signed", headers=h, json=expired), 422) == "expired_signature"
    bad = {**signed, "nonce": prep["nonce"] + 1, "disposition": 7}
    assert err(world.client.post("/records/signed", headers=h, json=bad), 422) == "TraceLedgerInvalidSigner"
    # a custodial write for a self-custody enterprise cannot be signed here
    r = world.client.post("/events", headers=h, json={"subject": LOT, "step": "inspecting"})
    assert err(r, 409) == "self_custody"


def _typed(td: dict[str, Any]) -> dict[str, Any]:
    msg = dict(td["message"])
    msg["subject"] = bytes.fromhex(msg["subject"][2:])
    msg["epcisHash"] = bytes.fromhex(msg["epcisHash"][2:])
    msg["documents"] = [bytes.fromhex(d[2:]) for d in msg["documents"]]
    return {**td, "message": msg}


def test_outbox_resubmits_what_the_chain_lost(world: ApiEnv, lot: dict[str, Any]) -> None:
    w3 = world.state.ledger().w3
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    r = world.post("/events", "importer", json={"subject": LOT, "step": "storing"})
    assert r.status_code == 201
    tx = r.json()["tx_hash"]
    # what a hard kill of Anvil does: the last blocks are gone
    w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    assert _receipt(w3, tx) is None
    world.state.api.outbox_resubmit_after_s = 0
    counts = reconcile_once(world.state)
    assert counts["resubmitted"] == 1
    entry = world.client.get(f"/outbox/{r.json()['outbox_id']}", headers=world.h("importer")).json()
    # sent again as it was: same relayer nonce and data, so the same transaction hash, mined again
    assert entry["status"] == "mined" and w3.eth.get_transaction_receipt(tx)["status"] == 1
    world.index()
    reconcile_once(world.state)
    entry = world.client.get(f"/outbox/{r.json()['outbox_id']}", headers=world.h("importer")).json()
    assert entry["status"] == "confirmed"
    steps = world.client.get(f"{LOT}?format=json").json()["steps"]
    assert [s["step"]["name"] for s in steps if s["step"]][-1] == "storing"


def _receipt(w3: Any, tx: str) -> Any:
    from web3.exceptions import TransactionNotFound

    try:
        return w3.eth.get_transaction_receipt(tx)
    except TransactionNotFound:
        return None


def test_resolver_inputs(world: ApiEnv, lot: dict[str, Any]) -> None:
    c = world.client
    world.index()
    assert err(c.get(f"/01/{GTIN[:-1]}5/10/L1/21/S1?format=json"), 422) == "invalid_check_digit"
    assert err(c.get(f"/01/{GTIN}/10/L1/21/bad%20serial?format=json"), 422) == "invalid_serial"
    assert err(c.get("/01/123/10/L1/21/S1"), 422) == "validation_error"
    t = c.get(f"/01/{GTIN}/10/L1/21/S1?sig=1.1.AAAA&format=json").json()
    assert t["status"]["signature"]["state"] == "invalid"
    t = c.get(f"/01/{GTIN}/10/L1/21/S1?sig=77.1.{'A' * 86}&format=json").json()
    assert t["status"]["signature"]["state"] == "unknown_key"
    lot_t = c.get(f"{LOT}", headers={"Accept": "application/json"}).json()
    assert lot_t["kind"] == "lot" and lot_t["status"]["registered"] and lot_t["lot_info"]["item_count"] == 3
    prod = c.get(f"/01/{GTIN}?format=json").json()
    assert prod["kind"] == "product" and prod["product"]["name"]["en"] == "Infant formula" and prod["steps"] == []
    unknown = c.get(f"/01/{gs1.make_gtin('0931234500007')}/10/Z/21/1?format=json").json()
    assert not unknown["status"]["registered"] and unknown["product"] is None
    page = c.get(f"{LOT}/21/S1", headers={"Accept": "text/html", "Accept-Language": "en-US,en;q=0.9"})
    assert page.headers["content-language"] == "en" and "Not verified" not in page.text
    ls = c.get(f"{LOT}/21/S1", headers={"Accept": "application/linkset+json"})
    assert ls.headers["content-type"].startswith("application/linkset+json")
    desc = c.get("/.well-known/gs1resolver").json()
    assert desc["resolverRoot"] == "https://id.test"


def test_qr_endpoints(world: ApiEnv, lot: dict[str, Any]) -> None:
    c, lid = world.client, lot["lot_id"]
    svg = c.get(f"/lots/{lid}/items/S2/qr?format=svg", headers=world.h("importer"))
    assert svg.status_code == 200 and b"<svg" in svg.content
    uri = svg.headers["X-Digital-Link"]
    assert uri.startswith(f"https://id.test/01/{GTIN}/10/L1/21/S2?sig={world.id('importer')}.1.")
    assert err(c.get(f"/lots/{lid}/items/S2/qr", headers=world.h("carrier")), 403) == "not_lot_owner"
    assert err(c.get(f"/lots/{lid}/items/S9/qr", headers=world.h("importer")), 404) == "unknown_item"
    assert err(c.get(f"/lots/{lid}/labels.pdf?limit=0", headers=world.h("importer")), 422) == "validation_error"
    assert err(c.get(f"/lots/{lid}/labels.pdf"), 401) == "not_authenticated"
    other = world.post("/lots", "importer", json={"gtin": GTIN, "lot": "L2"}).json()
    assert err(c.get(f"/lots/{other['lot_id']}/qr-codes", headers=world.h("importer")), 404) == "lot_not_registered"


def test_event_batch_is_one_atomic_transaction(world: ApiEnv, lot: dict[str, Any]) -> None:
    other = world.post("/units", "carrier", json={"sscc": "393123450000000013"})
    assert other.status_code == 201
    ok_batch = {"events": [{"subject": LOT, "step": "storing"},
                           {"subject": LOT, "step": "picking", "location_gln": "6901234000016"}]}
    r = world.post("/events/batch", "importer", json=ok_batch)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [lg["event"] for lg in body["logs"]] == ["EventRecorded", "EventRecorded"]
    assert len(body["event_ids"]) == 2
    # the second record is refused by the chain: the first is not applied either
    bad = {"events": [{"subject": LOT, "step": "storing"},
                      {"subject": "/00/393123450000000013", "step": "storing"}]}
    assert err(world.post("/events/batch", "importer", json=bad), 403) == "TraceLedgerNotResponsible"
    assert err(world.post("/events/batch", "importer", json={"events": [
        {"subject": LOT, "step": "inspecting"}]}), 403) == "missing_role"
    assert err(world.post("/events/batch", "importer", json={"events": []}), 422) == "validation_error"
    world.index()
    steps = [s["step"]["name"] for s in world.client.get(f"{LOT}?format=json").json()["steps"] if s["step"]]
    assert steps == ["commissioning", "storing", "picking"]
