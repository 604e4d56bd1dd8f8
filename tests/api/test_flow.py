"""The whole 1210 flow through the API alone, then what a consumer sees when scanning."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from api.epcis import event_hash
from api.models import EpcisEvent
from api.schemas import Linkset, TraceResponse
from api.signing import b64url_decode, parse_sig, verify_qr
from tests.api.conftest import GTIN, ApiEnv

SSCC = "393123450000000013"
GLN_PORT = "6901234000016"


def ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def test_whole_flow_to_consumer(world: ApiEnv, lot: dict[str, Any]) -> None:
    w = world
    lot_id = lot["lot_id"]
    lot_path = f"/01/{GTIN}/10/L1"
    item_path = f"{lot_path}/21/S1"
    item_id = "0x" + __import__("silktrace.gs1", fromlist=["x"]).subject_id(item_path).hex()
    unit_id = "0x" + __import__("silktrace.gs1", fromlist=["x"]).subject_id(f"/00/{SSCC}").hex()
    ok(w.client.put(f"/enterprises/me/places/{GLN_PORT}", headers=w.h("carrier"),
                    json={"name_zh": "泉州石湖港", "name_en": "Quanzhou Shihu port"}), 200)
    cert = ok(w.client.post("/documents?title=Origin%20certificate&doc_type=certificate&public=true",
                            headers={**w.h("importer"), "Content-Type": "application/pdf"},
                            content=b"%PDF-1.4 certificate of origin"))
    # packed on a pallet, shipped with the international carrier
    ok(w.post("/units", "importer", json={"sscc": SSCC}))
    ok(w.post(f"/units/{SSCC}/pack", "importer", json={"children": [lot_path]}))
    d = ok(w.post(f"/items/{unit_id}/custody/dispatch", "importer", json={
        "to_enterprise": w.id("carrier"), "documents": [cert["sha256"]],
        "biz_transactions": [{"type": "bol", "id": "MSKU1234567"}]}))
    assert d["logs"][0]["event"] == "CustodyDispatched" and d["event_ids"][0].startswith("ni:///sha-256;")
    ok(w.post(f"/items/{unit_id}/custody/accept", "carrier", json={"step": "accepting"}))
    ok(w.post("/events", "carrier", json={"subject": f"/00/{SSCC}", "step": "departing"}))
    ok(w.post("/events", "carrier", json={"subject": f"/00/{SSCC}", "step": "arriving",
                                          "location_gln": GLN_PORT}))
    ok(w.post(f"/items/{unit_id}/custody/dispatch", "carrier", json={"to_enterprise": w.id("warehouse")}))
    ok(w.post(f"/items/{unit_id}/custody/accept", "warehouse", json={"step": "bonded_entry"}))
    ok(w.post(f"/units/{SSCC}/unpack", "warehouse", json={"children": [lot_path]}))
    report = ok(w.client.post("/documents?title=Inspection&doc_type=inspection_report",
                              headers=w.h("customs"), content=b"lab report: conformant"))
    ok(w.post("/events", "customs", json={"subject": lot_path, "step": "inspecting",
                                          "disposition": "conformant", "documents": [report["sha256"]]}))
    ok(w.post("/events", "warehouse", json={"subject": lot_path, "step": "storing"}))
    # a consumer orders item S1: the warehouse splits it from the lot automatically
    ok(w.post("/events", "warehouse", json={"subject": item_path, "step": "order_placed",
                                            "biz_transactions": [{"type": "orderNo", "id": "O-1"}]}))
    ok(w.post("/events", "customs", json={"subject": item_path, "step": "three_document_match"}))
    ok(w.post("/events", "warehouse", json={"subject": item_path, "step": "customs_declaration",
                                            "biz_transactions": [{"type": "invtNo", "id": "INV-1"}]}))
    ok(w.post("/events", "customs", json={"subject": item_path, "step": "customs_release"}))
    ok(w.post("/events", "warehouse", json={"subject": item_path, "step": "bonded_exit"}))
    # a refused handover, then the accepted one
    ok(w.post(f"/items/{item_id}/custody/dispatch", "warehouse", json={"to_enterprise": w.id("courier")}))
    ok(w.post(f"/items/{item_id}/custody/reject", "courier", json={"reason": "wrong parcel label"}))
    ok(w.post(f"/items/{item_id}/custody/dispatch", "warehouse", json={"to_enterprise": w.id("courier")}))
    ok(w.post(f"/items/{item_id}/custody/accept", "courier", json={}))
    ok(w.post("/events", "courier", json={"subject": item_path, "step": "consumer_receipt"}))

    # the importer prints the label; the QR holds the signed Digital Link
    r = w.client.get(f"/lots/{lot_id}/items/S1/qr", headers=w.h("importer"))
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    uri = r.headers["X-Digital-Link"]
    parts = urlsplit(uri)
    assert parts.path == item_path
    sig = parts.query.split("sig=")[1]
    keys = ok(w.client.get("/.well-known/silktrace/qr-keys.json"), 200)
    key = next(k for k in keys["keys"] if k["kid"] == parse_sig(sig).kid)  # type: ignore[union-attr]
    assert verify_qr(b64url_decode(key["x"]), item_path, parse_sig(sig).signature)  # type: ignore[union-attr]

    w.index()
    body = ok(w.client.get(f"{item_path}?sig={sig}", headers={"Accept": "application/json"}), 200)
    trace = TraceResponse.model_validate(body)
    st = trace.status
    assert st.genuine and st.verified and st.delivered and st.custody_ended and not st.recalled
    assert st.signature.state == "valid"
    names = [s.step.name for s in trace.steps if s.step]
    expected = ["commissioning", "packing", "shipping", "accepting", "departing", "arriving", "shipping",
                "bonded_entry", "unpacking", "inspecting", "storing", "order_placed",
                "three_document_match", "customs_declaration", "customs_release", "bonded_exit",
                "shipping", "shipping", "accepting", "consumer_receipt"]
    assert [n for n in names if n != "commissioning" or names.index(n) == 0] == expected
    assert any(s.action == "reject" for s in trace.steps)
    inspected = next(s for s in trace.steps if s.step and s.step.name == "inspecting")
    assert inspected.inspection == "conformant" and inspected.enterprise and inspected.enterprise.id == w.id("customs")
    assert inspected.documents[0].sha256 == report["sha256"] and inspected.documents[0].download_url is None
    arriving = next(s for s in trace.steps if s.step and s.step.name == "arriving")
    assert arriving.via == f"unit:{SSCC}" and arriving.place and arriving.place.name
    assert arriving.place.name.en == "Quanzhou Shihu port"
    shipped = next(s for s in trace.steps if s.action == "dispatch")
    assert shipped.documents[0].download_url  # public certificate
    accept = next(s for s in trace.steps if s.action == "accept")
    assert accept.enterprise and accept.enterprise.id == w.id("carrier")

    # every step's off-chain EPCIS event hashes to the epcisHash on chain (tamper evidence)
    with Session(w.state.engine) as session:
        for s in trace.steps:
            if s.action in ("pack", "unpack", "split") or s.epcis_hash is None:
                continue
            stored = session.get(EpcisEvent, s.epcis_hash)
            assert stored is not None, s
            assert event_hash(stored.body) == s.epcis_hash

    # a sibling still in the warehouse: the lot's history, held by the warehouse
    sib = TraceResponse.model_validate(ok(w.client.get(f"{lot_path}/21/S2?format=json"), 200))
    assert sib.status.registered and sib.status.verified and not sib.status.genuine
    assert sib.status.signature.state == "missing"
    assert sib.status.responsible and sib.status.responsible.id == w.id("warehouse")
    assert not any(s.step and s.step.name == "order_placed" for s in sib.steps)

    # an invented serial, a copied signature
    fake = TraceResponse.model_validate(
        ok(w.client.get(f"{lot_path}/21/S9?sig={sig}", headers={"Accept": "application/json"}), 200))
    assert not fake.status.registered and not fake.status.genuine and fake.status.signature.state == "invalid"
    assert fake.steps == [] and not fake.status.verified  # no history borrowed from the lot
    copied = TraceResponse.model_validate(
        ok(w.client.get(f"{lot_path}/21/S2?sig={sig}&format=json"), 200))
    assert copied.status.signature.state == "invalid"

    # browser page in both languages, linkset, typed links
    page = w.client.get(f"{item_path}?sig={sig}", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "正品码" in page.text and "lang=en" in page.text
    page_en = w.client.get(f"{item_path}?sig={sig}&lang=en", headers={"Accept": "text/html"})
    assert "Genuine code" in page_en.text and "Inspected" in page_en.text
    ls = Linkset.model_validate(ok(w.client.get(f"{item_path}?linkType=all"), 200))
    entry = ls.linkset[0].model_dump()
    assert entry["anchor"] == f"https://id.test{item_path}"
    assert entry["https://gs1.org/voc/traceability"][0]["href"].startswith("https://id.test/trace/")
    assert Linkset.model_validate(ok(w.client.get(f"/linkset{item_path}?sig={sig}"), 200)).linkset
    r = w.client.get(f"{item_path}?linkType=gs1:pip&sig={sig}", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"https://id.test/pages{item_path}?sig={sig}"
    pip = w.client.get(f"/pages{item_path}?sig={sig}&lang=en")
    assert pip.status_code == 200 and "Genuine code" in pip.text
    r = w.client.get(f"{item_path}?linkType=gs1:recallStatus", follow_redirects=False)
    assert r.status_code == 307 and "/recall-status/" in r.headers["location"]
    rs = ok(w.client.get(r.headers["location"]), 200)
    assert rs["recalled"] is False
    certs = ok(w.client.get(f"/certifications{item_path}"), 200)
    assert {d["sha256"] for d in certs["documents"]} == {cert["sha256"], report["sha256"]}
    assert w.client.get(f"{item_path}?linkType=gs1:nothing").json()["error"]["code"] == "link_type_not_found"

    # the PDF label sheet and the streamed bulk issue
    pdf = w.client.get(f"/lots/{lot_id}/labels.pdf", headers=w.h("importer"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = w.client.get(f"/lots/{lot_id}/qr-codes", headers=w.h("importer")).text.splitlines()
    assert csv[0] == "serial,uri" and len(csv) == 4 and csv[1].startswith("S1,https://id.test/01/")
    assert csv[1].split(",", 1)[1] == uri

    # scanned by someone else after delivery: clone warning
    w.client.get(f"{item_path}?sig={sig}&format=json", headers={"User-Agent": "phone-a"})
    again = ok(w.client.get(f"{item_path}?sig={sig}&format=json", headers={"User-Agent": "phone-b"}), 200)
    assert "scanned_after_delivery" in again["status"]["clone_warning"]["reasons"]
    assert hashlib.sha256(b"x").hexdigest()


def test_recall_warns_every_item(world: ApiEnv, lot: dict[str, Any]) -> None:
    lot_path = f"/01/{GTIN}/10/L1"
    r = world.post("/recalls", "carrier", json={"subject": lot_path, "reason": "no right"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "missing_role"
    r = world.post("/recalls", "importer", json={"subject": lot_path, "reason": "contamination"})
    assert r.status_code == 201, r.text
    again = world.post("/recalls", "regulator", json={"subject": lot_path, "reason": "again"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "TraceLedgerAlreadyRecalled"
    world.index()
    body = world.client.get(f"{lot_path}/21/S3?format=json").json()
    assert body["status"]["recalled"] is True
    open_recalls = world.client.get("/recalls").json()
    assert [r["subject_id"] for r in open_recalls] == [body["lot_info"]["lot_id"]]
    assert open_recalls[0]["recalled_by"] == world.id("importer")
    assert body["steps"][-1]["action"] == "recall"
    assert world.client.get(f"/recall-status{lot_path}/21/S3").json()["recalled"] is True
    page = world.client.get(f"{lot_path}/21/S3?lang=en", headers={"Accept": "text/html"}).text
    assert "has been recalled" in page
    lift = world.post("/recalls/lift", "customs", json={"subject": lot_path, "reason": "x"})
    assert lift.status_code == 403
    assert world.post("/recalls/lift", "regulator", json={"subject": lot_path, "reason": "cleared"}).status_code == 201
    world.index()
    lifted = world.client.get(f"{lot_path}/21/S3?format=json").json()["status"]
    assert lifted["recalled"] is False and lifted["disposition"]["name"] == "active"  # as before
    assert world.client.get("/recalls").json() == []
