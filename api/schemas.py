"""Response and request models of the HTTP API; the resolver's are the scanner app's contract."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

GTIN_EXAMPLE = "09312345000012"
ITEM_PATH_EXAMPLE = "/01/09312345000012/10/AU2026A/21/000001"
ITEM_URI_EXAMPLE = "https://id.silktrace.example" + ITEM_PATH_EXAMPLE
HEX32_EXAMPLE = "0x" + "3f" * 32
SIG_EXAMPLE = "1.1." + "A" * 86

Hex32 = str  # lower-case 0x-prefixed hex of 32 bytes


class Localized(BaseModel):
    """A text in Chinese and English."""

    zh: str = Field(examples=["澳洲婴儿配方奶粉"])
    en: str = Field(examples=["Australian infant formula"])


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a machine-readable code and a clear message."""

    code: str = Field(examples=["invalid_check_digit"])
    message: str = Field(examples=["GTIN 09312345000013 has check digit 3, expected 2"])
    details: dict[str, Any] | list[Any] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# ---------------------------------------------------------------------------------------- resolver


class EnterpriseRef(BaseModel):
    """An enterprise as the trace names it."""

    id: int = Field(examples=[1])
    name: Localized
    roles: list[str] = Field(examples=[["importer"]])
    country: str | None = Field(default=None, examples=["CN"])


class StepInfo(BaseModel):
    """A business step from `silktrace.vocab`: CBV 2.0 or a SilkTrace extension."""

    code: int = Field(examples=[64])
    name: str = Field(examples=["inspecting"])
    uri: str = Field(examples=["https://ref.gs1.org/cbv/BizStep-inspecting"])
    label: Localized
    authority: bool = Field(description="recorded by customs or a regulator", examples=[True])


class DispositionInfo(BaseModel):
    code: int = Field(examples=[6])
    name: str = Field(examples=["conformant"])
    uri: str = Field(examples=["https://ref.gs1.org/cbv/Disp-conformant"])
    label: Localized


class PlaceRef(BaseModel):
    """A read point or business location by GLN, named when its enterprise filed it."""

    gln: str = Field(examples=["6901234000018"])
    name: Localized | None = None


class DocumentRef(BaseModel):
    """A document an enterprise stood behind: only its hash is on chain."""

    sha256: str = Field(examples=["ab" * 32], description="hex, no 0x")
    title: str | None = Field(default=None, examples=["Inspection certificate"])
    doc_type: str | None = Field(default=None, examples=["inspection_report"])
    public: bool = False
    download_url: str | None = Field(default=None, description="present only for public documents")


class TraceStep(BaseModel):
    """One ledger event that applies to the subject, in chain order."""

    seq: int = Field(examples=[3])
    event: str = Field(description="ledger event name", examples=["EventRecorded"])
    action: Literal[
        "register", "split", "event", "dispatch", "accept", "reject", "cancel", "pack", "unpack",
        "recall", "lift_recall",
    ]
    step: StepInfo | None = None
    disposition: DispositionInfo | None = None
    enterprise: EnterpriseRef | None = Field(default=None, description="who recorded it")
    counterparty: EnterpriseRef | None = Field(default=None, description="other side of a handover")
    place: PlaceRef | None = None
    time: str | None = Field(default=None, description="event time, ISO 8601 UTC")
    via: str = Field(
        description="what the event was recorded on: item, lot, or unit:<sscc> it was packed in",
        examples=["lot"],
    )
    inspection: Literal["conformant", "non_conformant"] | None = None
    documents: list[DocumentRef] = []
    epcis_hash: Hex32 | None = None
    block_number: int = Field(examples=[42])
    tx_hash: Hex32 = Field(examples=[HEX32_EXAMPLE])
    log_index: int = 0


class SignatureStatus(BaseModel):
    """The QR code's signature: genuine if the issuer's published key verifies it."""

    state: Literal["valid", "invalid", "missing", "unknown_key", "wrong_issuer", "revoked_key"]
    kid: str | None = Field(default=None, examples=["1.1"])
    issuer: EnterpriseRef | None = None
    algorithm: str = "Ed25519"


class CloneWarning(BaseModel):
    suspected: bool
    reasons: list[Literal["scanned_after_delivery", "impossible_travel", "scanned_too_often"]] = []
    message: Localized | None = None


class TraceStatus(BaseModel):
    """The state now."""

    genuine: bool = Field(description="signature valid and the item registered")
    signature: SignatureStatus
    registered: bool
    verified: bool = Field(
        description="the item's registration (Merkle membership or own record) was checked against "
        "the state read from the chain; false if the chain could not be reached"
    )
    recalled: bool
    delivered: bool
    custody_ended: bool
    disposition: DispositionInfo | None = None
    responsible: EnterpriseRef | None = None
    pending_receiver: EnterpriseRef | None = None
    clone_warning: CloneWarning
    mirror_block: int | None = Field(default=None, description="last chain block in the mirror")


class ProductInfo(BaseModel):
    gtin: str = Field(examples=[GTIN_EXAMPLE])
    name: Localized
    brand: str | None = Field(default=None, examples=["Koala Dairy"])
    category: str | None = Field(default=None, examples=["infant_formula"])
    country_of_origin: str | None = Field(default=None, examples=["AU"])
    shelf_life_days: int | None = Field(default=None, examples=[720])
    owner: EnterpriseRef | None = None


class LotInfo(BaseModel):
    lot: str = Field(examples=["AU2026A"])
    lot_id: Hex32
    production_date: str | None = Field(default=None, examples=["2026-08-01"])
    expiry_date: str | None = Field(default=None, examples=["2028-07-31"])
    item_count: int | None = Field(default=None, examples=[1200])
    items_root: Hex32 | None = None
    manifest_hash: Hex32 | None = None


class Link(BaseModel):
    """One target of a linkset entry (RFC 9264)."""

    href: str
    title: str | None = None
    type: str | None = Field(default=None, examples=["application/json"])
    hreflang: list[str] | None = None


class TraceResponse(BaseModel):
    """What a scan of a Digital Link shows: identity, the state now and every step in order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uri": ITEM_URI_EXAMPLE,
                    "path": ITEM_PATH_EXAMPLE,
                    "kind": "item",
                    "subject_id": HEX32_EXAMPLE,
                    "gtin": GTIN_EXAMPLE,
                    "lot": "AU2026A",
                    "serial": "000001",
                    "status": {
                        "genuine": True,
                        "signature": {"state": "valid", "kid": "1.1", "algorithm": "Ed25519"},
                        "registered": True,
                        "verified": True,
                        "recalled": False,
                        "delivered": True,
                        "custody_ended": True,
                        "clone_warning": {"suspected": False, "reasons": []},
                    },
                    "steps": [],
                    "links": {},
                }
            ]
        }
    )

    uri: str = Field(description="canonical Digital Link URI under this resolver")
    path: str
    kind: Literal["item", "lot", "product"]
    subject_id: Hex32 | None = None
    gtin: str
    lot: str | None = None
    serial: str | None = None
    product: ProductInfo | None = None
    lot_info: LotInfo | None = None
    status: TraceStatus
    steps: list[TraceStep]
    links: dict[str, list[Link]] = Field(description="link type (e.g. gs1:pip) -> targets")


class RecallInfo(BaseModel):
    subject_id: Hex32
    via: str = Field(examples=["lot"])
    recalled_by: EnterpriseRef | None = None
    recalled_at: str | None = None
    reason_hash: Hex32 | None = None
    lifted: bool = False
    lifted_at: str | None = None


class RecallStatus(BaseModel):
    """gs1:recallStatus of a Digital Link."""

    uri: str
    recalled: bool
    recalls: list[RecallInfo]


class CertificationInfo(BaseModel):
    """gs1:certificationInfo: the documents the trace's parties stood behind."""

    uri: str
    documents: list[DocumentRef]


class LinksetEntry(BaseModel):
    anchor: str
    links: dict[str, list[Link]] = Field(
        description="RFC 9264 link relations: full GS1 link type URIs as keys"
    )


class Linkset(BaseModel):
    """The whole linkset of a Digital Link (linkType=all)."""

    linkset: list[LinksetEntry]


class QrKey(BaseModel):
    """An issuer's public key for QR signatures (also a JWK: kty OKP, crv Ed25519, x)."""

    kid: str = Field(examples=["1.1"], description="{enterprise_id}.{version}")
    enterprise_id: int
    version: int
    kty: Literal["OKP"] = "OKP"
    crv: Literal["Ed25519"] = "Ed25519"
    alg: Literal["EdDSA"] = "EdDSA"
    x: str = Field(description="raw 32-byte public key, base64url without padding")
    status: Literal["active", "retired", "revoked"]
    created_at: str
    issuer: Localized | None = None


class QrKeySet(BaseModel):
    """The well-known key set the scanner app caches to check QR signatures offline."""

    scheme: Literal["silktrace-qr-v1"] = "silktrace-qr-v1"
    message_prefix: str = "SilkTrace-QR-v1|"
    resolver_base_url: str
    keys: list[QrKey]
