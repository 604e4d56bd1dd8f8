"""One table of business steps, dispositions and roles: CBV 2.0 codes plus SilkTrace extensions.

The integer codes are the ones in ``contracts/src/libraries/TraceCodes.sol``; a test checks both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

CBV = "https://ref.gs1.org/cbv/"
EXT = "https://silktrace.example/voc/"  # project extension namespace, as EPCIS allows


class Role(IntFlag):
    """Enterprise roles, a bit set as on chain."""

    IMPORTER = 1
    SUPPLIER = 2
    WAREHOUSE = 4
    CARRIER = 8
    CUSTOMS = 16
    REGULATOR = 32


CUSTODIAN_ROLES = Role.IMPORTER | Role.SUPPLIER | Role.WAREHOUSE | Role.CARRIER
AUTHORITY_ROLES = Role.CUSTOMS | Role.REGULATOR


@dataclass(frozen=True, slots=True)
class Step:
    """A business step: its code, name, URI, who may record it, and its usual disposition."""

    code: int
    name: str
    extension: bool
    authority: bool  # customs/regulator on any subject; otherwise only the responsible party
    disposition: str | None  # CBV disposition usually set by the step
    event_type: str = "ObjectEvent"
    zh: str = ""
    en: str = ""

    @property
    def uri(self) -> str:
        return (EXT + "bizstep-" if self.extension else CBV + "BizStep-") + self.name

    @property
    def ends_custody(self) -> bool:
        return self.name in ("consumer_receipt", "destroying")


STEPS: tuple[Step, ...] = (
    Step(1, "commissioning", False, False, "active", zh="登记", en="Registered"),
    Step(2, "packing", False, False, "container_closed", "AggregationEvent", "装箱", "Packed"),
    Step(3, "unpacking", False, False, "container_open", "AggregationEvent", "拆箱", "Unpacked"),
    Step(4, "shipping", False, False, "in_transit", zh="发运", en="Shipped"),
    Step(5, "accepting", False, False, "in_transit", zh="承运接收", en="Accepted by carrier"),
    Step(6, "departing", False, False, "in_transit", zh="启运", en="Departed"),
    Step(7, "arriving", False, False, "in_transit", zh="抵港", en="Arrived"),
    Step(8, "receiving", False, False, "sellable_not_accessible", zh="收货", en="Received"),
    Step(9, "storing", False, False, "sellable_not_accessible", zh="仓储", en="Stored"),
    Step(10, "picking", False, False, None, zh="拣货", en="Picked"),
    Step(11, "staging_outbound", False, False, None, zh="待出库", en="Staged for dispatch"),
    Step(12, "entering_exiting", False, False, None, zh="出入区", en="Entered / left the zone"),
    Step(13, "loading", False, False, None, zh="装载", en="Loaded"),
    Step(14, "unloading", False, False, None, zh="卸载", en="Unloaded"),
    Step(15, "retail_selling", False, False, "retail_sold", zh="销售", en="Sold"),
    Step(16, "destroying", False, False, "destroyed", zh="销毁", en="Destroyed"),
    Step(
        32,
        "bonded_entry",
        True,
        False,
        "sellable_not_accessible",
        zh="入区",
        en="Entered bonded zone",
    ),
    Step(33, "bonded_exit", True, False, "in_transit", zh="出区", en="Left bonded zone"),
    Step(34, "order_placed", True, False, "reserved", "TransactionEvent", "下单", "Ordered"),
    Step(35, "customs_declaration", True, False, None, zh="清单申报", en="Declared to customs"),
    Step(36, "consumer_receipt", True, False, "retail_sold", zh="签收", en="Delivered"),
    Step(37, "return", True, False, "returned", zh="退货", en="Returned"),
    Step(64, "inspecting", False, True, None, zh="检验检疫", en="Inspected"),
    Step(65, "sampling", False, True, None, zh="抽样", en="Sampled"),
    Step(
        66, "holding", False, True, "sellable_not_accessible", zh="海关扣留", en="Held by customs"
    ),
    Step(
        67,
        "customs_release",
        True,
        True,
        "sellable_accessible",
        zh="放行",
        en="Released by customs",
    ),
    Step(
        68,
        "three_document_match",
        True,
        True,
        None,
        "TransactionEvent",
        "三单对碰",
        "Order, payment and waybill matched",
    ),
    Step(69, "recall", True, True, "recalled", zh="召回", en="Recalled"),
    Step(70, "recall_lifted", True, True, None, zh="解除召回", en="Recall lifted"),
)

DISPOSITIONS: tuple[tuple[int, str, str, str], ...] = (
    (1, "active", "在库", "Active"),
    (2, "container_closed", "已封箱", "Container closed"),
    (3, "in_transit", "运输中", "In transit"),
    (4, "sellable_not_accessible", "保税在库", "In bonded stock"),
    (5, "sellable_accessible", "已放行可售", "Released, sellable"),
    (6, "conformant", "合格", "Conformant"),
    (7, "non_conformant", "不合格", "Non-conformant"),
    (8, "reserved", "已预订", "Reserved"),
    (9, "retail_sold", "已售出", "Sold"),
    (10, "returned", "已退货", "Returned"),
    (11, "recalled", "已召回", "Recalled"),
    (12, "destroyed", "已销毁", "Destroyed"),
    (13, "damaged", "已损坏", "Damaged"),
    (14, "expired", "已过期", "Expired"),
    (15, "in_progress", "处理中", "In progress"),
    (16, "container_open", "已拆箱", "Container open"),
)

STEP_BY_CODE = {s.code: s for s in STEPS}
STEP_BY_NAME = {s.name: s for s in STEPS}
DISPOSITION_BY_CODE = {code: name for code, name, _, _ in DISPOSITIONS}
DISPOSITION_BY_NAME = {name: code for code, name, _, _ in DISPOSITIONS}
DISPOSITION_LABEL = {name: {"zh": zh, "en": en} for _, name, zh, en in DISPOSITIONS}


def step(name_or_code: str | int) -> Step:
    """Look a step up by code or name (KeyError if unknown)."""
    if isinstance(name_or_code, int):
        return STEP_BY_CODE[name_or_code]
    return STEP_BY_NAME[name_or_code]


def disposition_code(name: str | None) -> int:
    """The on-chain code of a disposition name; 0 keeps the current one."""
    return 0 if name is None else DISPOSITION_BY_NAME[name]


def disposition_uri(name: str) -> str:
    return CBV + "Disp-" + name
