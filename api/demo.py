"""Demo data: the Quanzhou bonded-import scenario, built through the service layer.

`load_demo` is idempotent: it writes data_dir/demo.json when done and a later call on the same
data directory only reads it back.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from api import qr, service
from api.config import ApiSettings
from api.deps import Principal
from api.manifest import item_path
from api.models import DocumentFile, EnterpriseProfile, Lot, Place, Product
from api.schemas import AcceptIn, DispatchIn, EnterpriseIn, LotIn, ProductIn, RecordFields
from api.state import AppState
from silktrace import gs1
from silktrace.config import Settings
from silktrace.ledger import Action
from silktrace.vocab import STEP_BY_NAME

DAY = 86400


@dataclass
class DemoInfo:
    """What `silktrace up` prints: who is who, their API keys, and QR links to open."""

    enterprises: dict[str, int] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    admin_key: str = ""
    qr_links: dict[str, str] = field(default_factory=dict)

    @property
    def links(self) -> list[str]:
        return list(self.qr_links.values())


PARTIES: dict[str, dict[str, Any]] = {
    "importer": {"name_zh": "泉州澳优跨境电商有限公司", "name_en": "Quanzhou AusNutri Cross-border Trade Co., Ltd.",
                 "credit_code": "91350500MA2XQK0011", "roles": ["importer"]},
    "warehouse": {"name_zh": "泉州综合保税区保税仓储有限公司",
                  "name_en": "Quanzhou Comprehensive Bonded Zone Warehousing Co., Ltd.",
                  "credit_code": "91350500MA2XQK0022", "roles": ["warehouse"]},
    "carrier": {"name_zh": "澳中国际物流有限公司", "name_en": "AusChina International Logistics Pty Ltd",
                "credit_code": "91350500MA2XQK0033", "roles": ["carrier"], "country": "AU"},
    "courier": {"name_zh": "泉州速达快递有限公司", "name_en": "Quanzhou Suda Express Co., Ltd.",
                "credit_code": "91350500MA2XQK0044", "roles": ["carrier"]},
    "customs": {"name_zh": "泉州海关", "name_en": "Quanzhou Customs",
                "credit_code": "11350500MB0XQK0055", "roles": ["customs"]},
    "regulator": {"name_zh": "泉州市市场监督管理局", "name_en": "Quanzhou Administration for Market Regulation",
                  "credit_code": "11350500MB0XQK0066", "roles": ["regulator"]},
}
# GLN -> (owner, zh, en)
PLACES = {
    "9312345000019": ("importer", "澳大利亚墨尔本出口仓", "Melbourne export warehouse, Australia"),
    "6901234000016": ("carrier", "泉州石湖港", "Quanzhou Shihu port"),
    "6901234000023": ("warehouse", "泉州综合保税区 3 号保税仓", "Quanzhou CBZ bonded warehouse 3"),
    "6901234000030": ("courier", "泉州丰泽区配送站", "Fengze district delivery station, Quanzhou"),
}


def _gln(code12: str) -> str:
    return code12 + str(gs1.check_digit(code12))


def load_demo(settings: Settings, log: Callable[[str], Any] = print,
              api_settings: ApiSettings | None = None) -> DemoInfo:
    """Build the demo scenario once per data directory; returns the demo's links and keys."""
    marker = settings.data_dir / "demo.json"
    if marker.exists():
        raw = json.loads(marker.read_text())
        return DemoInfo(**raw)
    from api.main import build_state

    state = build_state(settings, api_settings or ApiSettings())
    try:
        info = _build(state, log)
    finally:
        state.engine.dispose()
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(info), ensure_ascii=False, indent=2))
    tmp.replace(marker)
    return info


def _build(state: AppState, log: Callable[[str], Any]) -> DemoInfo:
    info = DemoInfo(admin_key=state.admin_key)
    p: dict[str, Principal] = {}
    with Session(state.engine) as s:
        for key, data in PARTIES.items():
            existing = s.exec(select(EnterpriseProfile).where(
                EnterpriseProfile.credit_code == data["credit_code"])).first()
            if existing is None:
                profile, api_key, _ = service.register_enterprise(state, s, EnterpriseIn(**data))
            else:
                profile = existing
                _, api_key = service.create_api_key(s, profile.enterprise_id, "demo")
            info.enterprises[key] = profile.enterprise_id
            info.api_keys[key] = api_key
            p[key] = Principal(profile.enterprise_id, None, roles=profile.roles)
            log(f"enterprise {profile.enterprise_id}: {profile.name_en}")
        for gln, (owner, zh, en) in PLACES.items():
            gln = _gln(gln[:12])
            if s.get(Place, gln) is None:
                s.add(Place(gln=gln, enterprise_id=p[owner].enterprise_id, name_zh=zh, name_en=en))
        s.commit()
        glns = {owner: _gln(g[:12]) for g, (owner, _, _) in PLACES.items()}

        def doc(owner: str, title: str, doc_type: str, body: bytes, public: bool) -> str:
            import hashlib

            sha = hashlib.sha256(body).hexdigest()
            path = state.settings.data_dir / "documents" / sha[:2] / sha
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            if s.get(DocumentFile, sha) is None:
                s.add(DocumentFile(sha256=sha, size=len(body), content_type="text/plain", title=title,
                                   doc_type=doc_type, uploaded_by=p[owner].enterprise_id, public=public))
                s.commit()
            return sha

        origin = doc("importer", "Certificate of origin (ChAFTA)", "certificate",
                     b"Certificate of origin, ChAFTA, exporter Koala Dairy Pty Ltd, Victoria, Australia", True)
        health = doc("importer", "Health certificate (DAFF)", "certificate",
                     b"Australian DAFF dairy health certificate no. AU-HC-2026-0415", True)
        bol = doc("carrier", "Bill of lading MSKU7261534", "bol", b"B/L MSKU7261534 Melbourne -> Quanzhou", False)
        report_ok = doc("customs", "Inspection report: conformant", "inspection_report",
                        b"Quanzhou customs lab: infant formula AU2611A/B conformant to GB 10765-2021", True)
        report_bad = doc("customs", "Inspection report: non-conformant", "inspection_report",
                         b"Quanzhou customs lab: lot AU2610R Enterobacter sakazakii detected", True)
        recall_notice = doc("regulator", "Recall notice", "recall_notice",
                            b"Quanzhou AMR recall notice 2026-17: infant formula lot AU2610R", True)

        products = [
            ProductIn(gtin=gs1.make_gtin("0931234500001"), name_zh="考拉牧场 婴儿配方奶粉 1段 800克",
                      name_en="Koala Dairy infant formula stage 1, 800 g", brand="Koala Dairy",
                      category="infant_formula", country_of_origin="AU", shelf_life_days=720),
            ProductIn(gtin=gs1.make_gtin("0931234500002"), name_zh="考拉牧场 较大婴儿配方奶粉 2段 800克",
                      name_en="Koala Dairy follow-on formula stage 2, 800 g", brand="Koala Dairy",
                      category="infant_formula", country_of_origin="AU", shelf_life_days=720),
        ]
        for prod in products:
            if s.get(Product, prod.gtin) is None:
                service.create_product(s, p["importer"], prod)

        now = int(time.time())
        t = now - 30 * DAY

        def at(days: float) -> int:
            return int(t + days * DAY)

        def lot(gtin: str, code: str, serials: list[str], days: float) -> tuple[str, str]:
            link = gs1.lot(gtin, code)
            lot_id = "0x" + link.subject_id.hex()
            row = s.get(Lot, lot_id)
            if row is None:
                row = service.create_lot(s, p["importer"], LotIn(
                    gtin=gtin, lot=code, production_date="2026-09-01", expiry_date="2028-08-31"))
            if row.status != "registered":
                with tempfile.TemporaryDirectory() as tmp:
                    f = Path(tmp) / "m.csv"
                    f.write_text("serial\n" + "\n".join(serials) + "\n")
                    import hashlib

                    service.register_manifest(
                        state, s, p["importer"], row, f, hashlib.sha256(f.read_bytes()).hexdigest(), "csv",
                        location_gln=glns["importer"], event_time=at(days),
                    )
            log(f"lot {code} of {gtin}: {len(serials)} items registered")
            return link.path, lot_id

        def ev(who: str, subject: str, step: str, days: float, disposition: str | None = None,
               docs: list[str] | None = None, gln: str | None = None,
               btx: list[dict[str, str]] | None = None) -> None:
            service.record(
                state, s, p[who], service.resolve_subject(s, subject), Action.EVENT,
                step=STEP_BY_NAME[step], disposition=disposition,
                fields=RecordFields(event_time=at(days), documents=docs or [], location_gln=gln,
                                    biz_transactions=btx or []),  # type: ignore[arg-type]
            )

        def handover(frm: str, to: str, subject: str, days: float, accept_step: str = "accepting",
                     docs: list[str] | None = None, disposition: str | None = None) -> None:
            ref = service.resolve_subject(s, subject)
            service.record(state, s, p[frm], ref, Action.DISPATCH, step=STEP_BY_NAME["shipping"],
                           counterparty=p[to].enterprise_id,
                           fields=DispatchIn(to_enterprise=p[to].enterprise_id, event_time=at(days),
                                             documents=docs or [], location_gln=glns.get(frm)))
            service.record(state, s, p[to], ref, Action.ACCEPT, step=STEP_BY_NAME[accept_step],
                           disposition=disposition,
                           fields=AcceptIn(event_time=at(days + 0.1), location_gln=glns.get(to)))

        g1, g2 = products[0].gtin, products[1].gtin
        serials_a = [f"{i:06d}" for i in range(1, 13)]
        # lot A: the whole flow, one tin to a consumer
        a_path, _ = lot(g1, "AU2611A", serials_a, 0)
        ev("importer", a_path, "storing", 0.5, disposition="unchanged", gln=glns["importer"])
        handover("importer", "carrier", a_path, 1, docs=[origin, health])
        ev("carrier", a_path, "departing", 2, btx=[{"type": "bol", "id": "MSKU7261534"}], docs=[bol])
        ev("carrier", a_path, "arriving", 14, gln=glns["carrier"])
        handover("carrier", "warehouse", a_path, 15, accept_step="bonded_entry",
                 disposition="sellable_not_accessible")
        ev("customs", a_path, "inspecting", 16, disposition="conformant", docs=[report_ok])
        ev("warehouse", a_path, "storing", 16.5, gln=glns["warehouse"],
           btx=[{"type": "emsNo", "id": "T3501W000123"}])
        item = item_path(g1, "AU2611A", serials_a[0])
        ev("warehouse", item, "order_placed", 25, btx=[{"type": "orderNo", "id": "JD2026111812345"}])
        ev("customs", item, "three_document_match", 25.1)
        ev("warehouse", item, "customs_declaration", 25.2,
           btx=[{"type": "invtNo", "id": "35012026I000456789"}])
        ev("customs", item, "customs_release", 25.3)
        ev("warehouse", item, "bonded_exit", 25.5, gln=glns["warehouse"],
           btx=[{"type": "gatePass", "id": "HF3501202611250001"}, {"type": "logisticsNo", "id": "SD9988776655"}])
        handover("warehouse", "courier", item, 25.6, disposition="in_transit")
        ev("courier", item, "consumer_receipt", 27, gln=glns["courier"])
        log("lot AU2611A: item 000001 delivered to a consumer")

        # lot B: in the bonded warehouse
        serials_b = [f"{i:06d}" for i in range(1, 7)]
        b_path, _ = lot(g2, "AU2611B", serials_b, 3)
        handover("importer", "carrier", b_path, 4, docs=[origin, health])
        ev("carrier", b_path, "departing", 5)
        ev("carrier", b_path, "arriving", 17, gln=glns["carrier"])
        handover("carrier", "warehouse", b_path, 18, accept_step="bonded_entry",
                 disposition="sellable_not_accessible")
        ev("customs", b_path, "inspecting", 19, disposition="conformant", docs=[report_ok])
        ev("warehouse", b_path, "storing", 19.5, gln=glns["warehouse"])
        log("lot AU2611B: stored in the bonded warehouse")

        # lot R: failed inspection, recalled by market supervision
        serials_r = [f"{i:06d}" for i in range(1, 7)]
        r_path, _ = lot(g1, "AU2610R", serials_r, 1)
        handover("importer", "carrier", r_path, 2)
        ev("carrier", r_path, "arriving", 15, gln=glns["carrier"])
        handover("carrier", "warehouse", r_path, 16, accept_step="bonded_entry")
        ev("customs", r_path, "sampling", 17, disposition="non_conformant", docs=[report_bad])
        ev("customs", r_path, "holding", 17.2)
        service.record(state, s, p["regulator"], service.resolve_subject(s, r_path), Action.RECALL,
                       step=STEP_BY_NAME["recall"], disposition="unchanged",
                       fields=RecordFields(event_time=at(18)), reason="Enterobacter sakazakii detected",
                       reason_document=recall_notice)
        log("lot AU2610R: recalled")

        base = state.api.resolver_base_url
        for label, (gtin, code, serial) in {
            "delivered (lot AU2611A, 000001)": (g1, "AU2611A", serials_a[0]),
            "in the bonded warehouse (lot AU2611B, 000001)": (g2, "AU2611B", serials_b[0]),
            "recalled (lot AU2610R, 000001)": (g1, "AU2610R", serials_r[0]),
        }.items():
            kid, private = state.qr_signing_key(s, p["importer"].enterprise_id)
            info.qr_links[label] = qr.signed_uri(base, item_path(gtin, code, serial), kid, private)
    return info
