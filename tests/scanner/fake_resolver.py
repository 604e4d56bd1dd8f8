"""A small stand-in for the resolver, for the states the demo chain cannot show on demand.

It answers Digital Links with `api.schemas.TraceResponse` JSON (validated through the model, so it
follows the API's contract), serves the well-known QR key set, and mounts the real /scan router.
The codes it knows are signed with `api.signing`, the scheme the scanner checks in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routes.scan import make_router
from api.schemas import QrKeySet, TraceResponse
from api.signing import b64url, new_qr_key, sign_qr
from silktrace import gs1
from silktrace.vocab import DISPOSITION_LABEL, disposition_uri, step

GTIN = gs1.make_gtin("0931234500001")
LOT = "AU2026A"
ISSUER = 1
KID = "1.1"

ENTERPRISES: dict[int, dict[str, Any]] = {
    1: {
        "id": 1,
        "name": {"zh": "闽南优品跨境电商有限公司", "en": "Minnan Select Cross-border Co."},
        "roles": ["importer"],
        "country": "CN",
    },
    2: {
        "id": 2,
        "name": {"zh": "考拉乳业有限公司", "en": "Koala Dairy Pty Ltd"},
        "roles": ["supplier"],
        "country": "AU",
    },
    3: {
        "id": 3,
        "name": {"zh": "太平洋远洋运输", "en": "Pacific Ocean Lines"},
        "roles": ["carrier"],
        "country": "SG",
    },
    4: {
        "id": 4,
        "name": {"zh": "石湖港保税物流中心", "en": "Shihu Port Bonded Logistics Centre"},
        "roles": ["warehouse"],
        "country": "CN",
    },
    5: {
        "id": 5,
        "name": {"zh": "泉州海关", "en": "Quanzhou Customs"},
        "roles": ["customs"],
        "country": "CN",
    },
    6: {
        "id": 6,
        "name": {"zh": "闽速快递", "en": "Minsu Express"},
        "roles": ["carrier"],
        "country": "CN",
    },
    7: {
        "id": 7,
        "name": {"zh": "泉州市市场监督管理局", "en": "Quanzhou Market Supervision Bureau"},
        "roles": ["regulator"],
        "country": "CN",
    },
}
PLACES = {
    "melbourne": {"gln": "9312345000019", "name": {"zh": "墨尔本工厂", "en": "Melbourne factory"}},
    "port_mel": {"gln": "9312345000026", "name": {"zh": "墨尔本港", "en": "Port of Melbourne"}},
    "shihu": {"gln": "6901234000018", "name": {"zh": "泉州石湖港", "en": "Quanzhou Shihu Port"}},
    "bonded": {
        "gln": "6901234000025",
        "name": {"zh": "石湖港保税物流中心(B型)", "en": "Shihu Bonded Logistics Centre (B)"},
    },
    "home": {"gln": "6901234000032", "name": {"zh": "泉州市丰泽区", "en": "Fengze, Quanzhou"}},
}

# (action, step name, enterprise, counterparty, place, time, via, disposition, inspection, docs)
JOURNEY: list[tuple[Any, ...]] = [
    (
        "register",
        "commissioning",
        2,
        None,
        "melbourne",
        "2026-08-01T02:00:00Z",
        "lot",
        "active",
        None,
        [("Certificate of origin", "certificate_of_origin", True)],
    ),
    (
        "dispatch",
        "shipping",
        2,
        3,
        "port_mel",
        "2026-08-05T06:30:00Z",
        "lot",
        "in_transit",
        None,
        [("Bill of lading", "bol", False)],
    ),
    (
        "accept",
        "accepting",
        3,
        2,
        "port_mel",
        "2026-08-05T09:00:00Z",
        "lot",
        "in_transit",
        None,
        [],
    ),
    (
        "event",
        "departing",
        3,
        None,
        "port_mel",
        "2026-08-06T01:00:00Z",
        "lot",
        "in_transit",
        None,
        [],
    ),
    ("event", "arriving", 3, None, "shihu", "2026-08-19T04:00:00Z", "lot", "in_transit", None, []),
    (
        "accept",
        "bonded_entry",
        4,
        3,
        "bonded",
        "2026-08-19T09:20:00Z",
        "lot",
        "sellable_not_accessible",
        None,
        [("Entry record list", "entry_record", False)],
    ),
    (
        "event",
        "inspecting",
        5,
        None,
        "bonded",
        "2026-08-20T03:00:00Z",
        "lot",
        "conformant",
        "conformant",
        [("Inspection certificate", "inspection_report", True)],
    ),
    (
        "event",
        "storing",
        4,
        None,
        "bonded",
        "2026-08-21T01:00:00Z",
        "lot",
        "sellable_not_accessible",
        None,
        [],
    ),
    ("event", "order_placed", 1, None, None, "2026-09-02T12:10:00Z", "item", "reserved", None, []),
    (
        "event",
        "three_document_match",
        5,
        None,
        None,
        "2026-09-02T12:11:00Z",
        "item",
        None,
        None,
        [],
    ),
    ("event", "customs_declaration", 1, None, None, "2026-09-02T12:12:00Z", "item", None, None, []),
    (
        "event",
        "customs_release",
        5,
        None,
        "bonded",
        "2026-09-02T14:00:00Z",
        "item",
        "sellable_accessible",
        None,
        [],
    ),
    (
        "dispatch",
        "bonded_exit",
        4,
        6,
        "bonded",
        "2026-09-03T01:30:00Z",
        "item",
        "in_transit",
        None,
        [("Gate pass", "gate_pass", False)],
    ),
    ("accept", "accepting", 6, 4, "bonded", "2026-09-03T02:00:00Z", "item", "in_transit", None, []),
    (
        "event",
        "consumer_receipt",
        6,
        None,
        "home",
        "2026-09-04T08:45:00Z",
        "item",
        "retail_sold",
        None,
        [],
    ),
]


def _disposition(name: str | None) -> dict[str, Any] | None:
    if name is None:
        return None
    from silktrace.vocab import DISPOSITION_BY_NAME

    return {
        "code": DISPOSITION_BY_NAME[name],
        "name": name,
        "uri": disposition_uri(name),
        "label": DISPOSITION_LABEL[name],
    }


def _step_info(name: str) -> dict[str, Any]:
    s = step(name)
    return {
        "code": s.code,
        "name": s.name,
        "uri": s.uri,
        "label": {"zh": s.zh, "en": s.en},
        "authority": s.authority,
    }


def _steps(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    out = []
    for i, (action, name, eid, cid, place, when, via, disp, insp, docs) in enumerate(rows):
        out.append(
            {
                "seq": i,
                "event": "EventRecorded",
                "action": action,
                "step": _step_info(name),
                "disposition": _disposition(disp),
                "enterprise": ENTERPRISES[eid],
                "counterparty": ENTERPRISES[cid] if cid else None,
                "place": PLACES[place] if place else None,
                "time": when,
                "via": via,
                "inspection": insp,
                "documents": [
                    {
                        "sha256": f"{i:02x}" * 32,
                        "title": title,
                        "doc_type": kind,
                        "public": public,
                        "download_url": f"/documents/{i:02x}" if public else None,
                    }
                    for title, kind, public in docs
                ],
                "block_number": 100 + i * 3,
                "tx_hash": "0x" + f"{i + 16:02x}" * 32,
                "log_index": 0,
            }
        )
    return out


@dataclass
class Item:
    serial: str
    steps: list[tuple[Any, ...]]
    recalled: bool = False
    verified: bool = True
    clone: list[str] = field(default_factory=list)

    @property
    def link(self) -> gs1.DigitalLink:
        return gs1.item(GTIN, LOT, self.serial)


ITEMS = {
    "000001": Item("000001", JOURNEY),
    "000002": Item(
        "000002",
        [
            *JOURNEY[:8],
            (
                "recall",
                "recall",
                7,
                None,
                None,
                "2026-09-10T02:00:00Z",
                "lot",
                "recalled",
                None,
                [("Cronobacter found in retained samples of lot AU2026A", "recall_notice", True)],
            ),
        ],
        recalled=True,
    ),
    "000003": Item("000003", JOURNEY, clone=["scanned_after_delivery", "impossible_travel"]),
    "000004": Item("000004", JOURNEY[:8], verified=False),
}


@dataclass
class FakeResolver:
    """The app plus the codes it knows; `uri(serial)` is a signed QR text."""

    base_url: str = "https://id.silktrace.example"
    private: bytes = b""
    public: bytes = b""
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        self.private, self.public = new_qr_key()

    def uri(self, serial: str, *, sign_as: str | None = None) -> str:
        link = gs1.item(GTIN, LOT, serial)
        sig = sign_qr(self.private, KID, sign_as or link.path)
        return f"{self.base_url}{link.path}?sig={sig}"

    def forged_uri(self, serial: str) -> str:
        """A code for `serial` signed with a key that is not the issuer's, under its kid."""
        forger, _ = new_qr_key()
        link = gs1.item(GTIN, LOT, serial)
        return f"{self.base_url}{link.path}?sig={sign_qr(forger, KID, link.path)}"

    def key_set(self) -> dict[str, Any]:
        return QrKeySet(
            resolver_base_url=self.base_url,
            keys=[
                {  # type: ignore[list-item]
                    "kid": KID,
                    "enterprise_id": ISSUER,
                    "version": 1,
                    "x": b64url(self.public),
                    "status": "active",
                    "created_at": "2026-07-01T00:00:00Z",
                    "issuer": ENTERPRISES[ISSUER]["name"],
                }
            ],
        ).model_dump(mode="json")

    def trace(self, item: Item, sig: str | None) -> dict[str, Any]:
        from api.signing import parse_sig, verify_qr

        parsed = parse_sig(sig) if sig else None
        if sig is None:
            state = "missing"
        elif parsed is None:
            state = "invalid"
        else:
            ok = parsed.kid == KID and verify_qr(self.public, item.link.path, parsed.signature)
            state = "valid" if ok else "invalid"
        steps = _steps(item.steps)
        last = steps[-1]
        delivered = any(s["step"]["name"] == "consumer_receipt" for s in steps)
        body = {
            "uri": item.link.uri(self.base_url),
            "path": item.link.path,
            "kind": "item",
            "subject_id": "0x" + item.link.subject_id.hex(),
            "gtin": GTIN,
            "lot": LOT,
            "serial": item.serial,
            "product": {
                "gtin": GTIN,
                "name": {
                    "zh": "考拉金装婴儿配方奶粉 1段 800克",
                    "en": "Koala Gold Infant Formula Stage 1, 800 g",
                },
                "brand": "Koala Dairy",
                "category": "infant_formula",
                "country_of_origin": "AU",
                "shelf_life_days": 720,
                "owner": ENTERPRISES[1],
            },
            "lot_info": {
                "lot": LOT,
                "lot_id": "0x" + gs1.lot(GTIN, LOT).subject_id.hex(),
                "production_date": "2026-08-01",
                "expiry_date": "2028-07-31",
                "item_count": 1200,
            },
            "status": {
                "genuine": state == "valid",
                "registered": True,
                "verified": item.verified,
                "signature": {
                    "state": state,
                    "kid": parsed.kid if parsed else None,
                    "issuer": ENTERPRISES[ISSUER] if parsed else None,
                },
                "recalled": item.recalled,
                "delivered": delivered,
                "custody_ended": delivered,
                "disposition": last["disposition"],
                "responsible": None if delivered else last["enterprise"],
                "clone_warning": {"suspected": bool(item.clone), "reasons": item.clone},
                "mirror_block": 180,
            },
            "steps": steps,
            "links": {},
        }
        return TraceResponse.model_validate(body).model_dump(mode="json")

    def app(self) -> FastAPI:
        import asyncio

        app = FastAPI()
        app.include_router(make_router())

        @app.get("/.well-known/silktrace/qr-keys.json")
        def keys() -> dict[str, Any]:
            return self.key_set()

        @app.get("/01/{gtin}/10/{lot}/21/{serial}")
        async def resolve(gtin: str, lot: str, serial: str, request: Request) -> JSONResponse:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            item = ITEMS.get(serial) if (gtin, lot) == (GTIN, LOT) else None
            if item is None:
                return JSONResponse(
                    {"error": {"code": "unknown_subject", "message": "no such item"}}, 404
                )
            return JSONResponse(self.trace(item, request.query_params.get("sig")))

        return app
