"""The off-chain EPCIS 2.0 event of each record, and its hash that goes on chain as epcisHash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from silktrace import gs1
from silktrace.vocab import EXT, Step, disposition_uri

GS1_ID = "https://id.gs1.org"


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """An item, lot or logistic unit by its Digital Link and on-chain id."""

    subject_id: str  # 0x-hex keccak of path
    kind: str  # item | lot | unit
    path: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None

    @property
    def lot_id(self) -> str | None:
        if self.kind != "item" or self.gtin is None or self.lot is None:
            return None
        return "0x" + gs1.lot(self.gtin, self.lot).subject_id.hex()

    @property
    def id_bytes(self) -> bytes:
        return bytes.fromhex(self.subject_id[2:])

    @classmethod
    def from_link(cls, link: gs1.DigitalLink) -> SubjectRef:
        kind = link.kind
        return cls(
            "0x" + link.subject_id.hex(), kind, link.path, link.gtin, link.lot, link.serial, link.sscc
        )


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_json(body: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes that are hashed."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(body: dict[str, Any]) -> str:
    return "0x" + hashlib.sha256(canonical_json(body)).hexdigest()


def event_id(hash_hex: str) -> str:
    """The EPCIS eventID form of a hash (RFC 6920 named information)."""
    return f"ni:///sha-256;{hash_hex.removeprefix('0x')}?ver=CBV2.0"


def party(enterprise_id: int) -> str:
    return f"{EXT}party/{enterprise_id}"


def build_event(
    *,
    step: Step,
    subject: SubjectRef,
    event_time: int,
    recorder: int,
    disposition: str | None = None,
    gln: str | None = None,
    biz_transactions: list[dict[str, str]] | None = None,
    source: int | None = None,
    destination: int | None = None,
    children: list[SubjectRef] | None = None,
    action_note: str | None = None,
) -> dict[str, Any]:
    """An EPCIS 2.0 JSON-LD event for one record on one subject."""
    body: dict[str, Any] = {
        "type": step.event_type,
        "eventTime": iso(event_time),
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD" if step.name in ("commissioning", "packing", "order_placed") else "OBSERVE",
        "bizStep": step.uri,
    }
    if step.name == "unpacking":
        body["action"] = "DELETE"
    uri = GS1_ID + subject.path
    if children is not None:
        body["parentID"] = uri
        body["childEPCs"] = [GS1_ID + c.path for c in children]
    elif subject.kind == "lot":
        body["quantityList"] = [{"epcClass": uri}]
    else:
        body["epcList"] = [uri]
    if disposition:
        body["disposition"] = disposition_uri(disposition)
    if gln:
        body["readPoint"] = {"id": f"{GS1_ID}/414/{gln}"}
        body["bizLocation"] = {"id": f"{GS1_ID}/414/{gln}"}
    if biz_transactions:
        body["bizTransactionList"] = [
            {"type": _btt(t["type"]), "bizTransaction": t["id"]} for t in biz_transactions
        ]
    if source is not None:
        body["sourceList"] = [{"type": "https://ref.gs1.org/cbv/SDT-owning_party", "source": party(source)}]
    if destination is not None:
        body["destinationList"] = [
            {"type": "https://ref.gs1.org/cbv/SDT-owning_party", "destination": party(destination)}
        ]
    body["silktrace:recordedBy"] = party(recorder)
    if action_note:
        body["silktrace:action"] = action_note
    body["@context"] = [
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        {"silktrace": EXT},
    ]
    return body


_CBV_BTT = {"po", "inv", "bol", "desadv", "recadv", "prodorder", "pedigree", "poc", "rma", "cert", "testprd"}


def _btt(kind: str) -> str:
    if kind in _CBV_BTT:
        return f"https://ref.gs1.org/cbv/BTT-{kind}"
    return f"{EXT}btt-{kind}"  # customs ids: invtNo, orderNo, logisticsNo, emsNo, gatePass
