"""Response and request models of the HTTP API; the resolver's are the scanner app's contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

GTIN_EXAMPLE = "09312345000012"
ITEM_PATH_EXAMPLE = "/01/09312345000012/10/AU2026A/21/000001"
ITEM_URI_EXAMPLE = "https://id.silktrace.example" + ITEM_PATH_EXAMPLE
HEX32_EXAMPLE = "0x" + "3f" * 32
SIG_EXAMPLE = "1.1." + "A" * 86

Hex32 = str  # lower-case 0x-prefixed hex of 32 bytes
DocHash = Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]


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
    reason: str | None = Field(
        default=None, description="recall or lift: the reason text whose hash is on chain",
        examples=["Enterobacter sakazakii detected"],
    )


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
    """RFC 9264: the anchor, and each link relation (a full GS1 link type URI) as a key."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "additionalProperties": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
            "examples": [{"anchor": ITEM_URI_EXAMPLE, "https://gs1.org/voc/pip": [
                {"href": "https://id.silktrace.example/pages" + ITEM_PATH_EXAMPLE}]}],
        },
    )

    anchor: str


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


# ---------------------------------------------------------------------------------------- writes

RoleName = Literal["importer", "supplier", "warehouse", "carrier", "customs", "regulator"]
StepName = str


class LogRef(BaseModel):
    """A ledger log the write produced."""

    event: str = Field(examples=["EventRecorded"])
    log_index: int
    subject_id: Hex32 | None = None


class WriteResult(BaseModel):
    """A write acknowledged once mined."""

    tx_hash: Hex32 = Field(examples=[HEX32_EXAMPLE])
    block_number: int = Field(examples=[42])
    event_ids: list[str] = Field(
        description="EPCIS event ids (ni:///sha-256 of the off-chain event whose hash is on chain)",
        examples=[["ni:///sha-256;" + "ab" * 32 + "?ver=CBV2.0"]],
    )
    logs: list[LogRef]
    outbox_id: int
    status: str = Field(examples=["mined"], description="mined, or confirmed once in the mirror")
    idempotent_replay: bool = Field(
        default=False, description="true when this answers an earlier identical request"
    )


class BizTransaction(BaseModel):
    type: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,31}$",
        description="CBV type (po, inv, bol, cert, ...) or a customs id (invtNo, orderNo, "
        "logisticsNo, emsNo, gatePass)",
        examples=["invtNo"],
    )
    id: str = Field(min_length=1, max_length=100, examples=["35012026I000123456"])





class RecordFields(BaseModel):
    """Fields every flow record may carry."""

    model_config = ConfigDict(extra="forbid")

    location_gln: str | None = Field(default=None, pattern=r"^\d{13}$", examples=["6901234000018"])
    event_time: int | None = Field(
        default=None, ge=946684800, le=4102444800,
        description="unix seconds; default now (give it to make retries idempotent)",
    )
    documents: list[DocHash] = Field(
        default=[], max_length=16, description="sha-256 (hex) of uploaded documents",
        examples=[["ab" * 32]],
    )
    biz_transactions: list[BizTransaction] = Field(default=[], max_length=20)


class EventIn(RecordFields):
    """A step of the 1210 flow recorded on an item, lot or logistic unit."""

    subject: str = Field(
        min_length=3, max_length=300,
        description="Digital Link URI or path of an item, lot or unit, or its 0x subject id",
        examples=[ITEM_PATH_EXAMPLE],
    )
    step: StepName = Field(examples=["inspecting"], description="business step name (GET /steps)")
    disposition: str | None = Field(
        default=None, examples=["conformant"],
        description="disposition name; default: the step's usual one; 'unchanged' keeps it",
    )


class EventBatchIn(BaseModel):
    """Steps of one enterprise recorded in one transaction (one signature over all of them)."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=200)


class DispatchIn(RecordFields):
    to_enterprise: int = Field(ge=1, le=2**32 - 1, examples=[3])
    step: StepName = Field(default="shipping", examples=["shipping"])
    disposition: str | None = Field(default=None, examples=["in_transit"])


class AcceptIn(RecordFields):
    step: StepName = Field(default="accepting", examples=["bonded_entry"])
    disposition: str | None = Field(default=None, examples=["sellable_not_accessible"])


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, examples=["damaged packaging"])
    event_time: int | None = Field(default=None, ge=946684800, le=4102444800)


class RecallIn(ReasonIn):
    subject: str = Field(min_length=3, max_length=300, examples=["/01/09312345000012/10/AU2026C"])
    document: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="reason document")


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sscc: str = Field(pattern=r"^\d{18}$", examples=["393123450000000018"])
    location_gln: str | None = Field(default=None, pattern=r"^\d{13}$")
    event_time: int | None = Field(default=None, ge=946684800, le=4102444800)


class PackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    children: list[str] = Field(
        min_length=1, max_length=200,
        description="Digital Links or subject ids of items, lots or units",
        examples=[["/01/09312345000012/10/AU2026A"]],
    )


class SignedRecordIn(BaseModel):
    """A record the enterprise signed itself (EIP-712, see POST /records/prepare)."""

    model_config = ConfigDict(extra="forbid")

    action: int = Field(ge=0, le=6)
    subject: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    biz_step: int = Field(ge=0, le=255)
    disposition: int = Field(ge=0, le=255)
    counterparty: int = Field(default=0, ge=0, le=2**32 - 1)
    location: int = Field(default=0, ge=0, le=2**64 - 1)
    event_time: int = Field(ge=0, le=2**64 - 1)
    epcis_hash: str = Field(default="0x" + "00" * 32, pattern=r"^0x[0-9a-fA-F]{64}$")
    documents: list[DocHash] = Field(default=[], max_length=16)
    signer: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    nonce: int = Field(ge=0, le=2**64)
    deadline: int = Field(ge=0, le=2**64)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class PrepareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: int = Field(ge=0, le=6)
    subject: str = Field(min_length=3, max_length=300)
    biz_step: int = Field(default=0, ge=0, le=255)
    disposition: int = Field(default=0, ge=0, le=255)
    counterparty: int = Field(default=0, ge=0, le=2**32 - 1)
    location: int = Field(default=0, ge=0, le=2**64 - 1)
    event_time: int | None = Field(default=None, ge=0, le=2**63)
    documents: list[DocHash] = Field(default=[], max_length=16)


class PreparedRecord(BaseModel):
    typed_data: dict[str, Any]
    nonce: int
    deadline: int


# ---------------------------------------------------------------------------------------- parties


class EnterpriseIn(BaseModel):
    """An enterprise filing; the platform admin registers it on chain."""

    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(min_length=1, max_length=120, examples=["泉州澳优进口贸易有限公司"])
    name_en: str = Field(min_length=1, max_length=120, examples=["Quanzhou AusJoy Import Co., Ltd."])
    credit_code: str = Field(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
        description="18-character unified social credit code", examples=["91350500MA2YABCD1X"],
    )
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    roles: list[RoleName] = Field(min_length=1, examples=[["importer"]])
    account: str | None = Field(
        default=None, pattern=r"^0x[0-9a-fA-F]{40}$",
        description="the enterprise's own ledger account; omit to let SilkTrace hold a key",
    )


class EnterpriseOut(BaseModel):
    id: int
    name: Localized
    credit_code: str
    country: str
    roles: list[str]
    account: str
    custodial: bool


class EnterpriseCreated(BaseModel):
    enterprise: EnterpriseOut
    api_key: str = Field(description="shown once; only its hash is stored")
    write: WriteResult


class ApiKeyOut(BaseModel):
    key_id: str
    api_key: str = Field(description="shown once")


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Literal["ledger", "qr"]


class RotateOut(BaseModel):
    purpose: str
    version: int
    public: str = Field(description="new ledger address, or QR public key (base64url)")
    write: WriteResult | None = None


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(min_length=1, max_length=120, examples=["泉州综合保税区 3号仓"])
    name_en: str = Field(min_length=1, max_length=120, examples=["Quanzhou CBZ warehouse 3"])


class PlaceOut(PlaceIn):
    gln: str
    enterprise_id: int


# ---------------------------------------------------------------------------------------- goods


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gtin: str = Field(min_length=8, max_length=14, examples=[GTIN_EXAMPLE])
    name_zh: str = Field(min_length=1, max_length=200, examples=["婴儿配方奶粉 1段 800克"])
    name_en: str = Field(min_length=1, max_length=200, examples=["Infant formula stage 1 800 g"])
    brand: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=80)
    country_of_origin: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    shelf_life_days: int | None = Field(default=None, ge=1, le=36500)


class ProductOut(ProductIn):
    enterprise_id: int


class LotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gtin: str = Field(min_length=8, max_length=14, examples=[GTIN_EXAMPLE])
    lot: str = Field(min_length=1, max_length=20, examples=["AU2026A"])
    production_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    expiry_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class LotOut(BaseModel):
    lot_id: Hex32
    uri: str
    gtin: str
    lot: str
    enterprise_id: int
    status: str
    production_date: str | None = None
    expiry_date: str | None = None
    item_count: int | None = None
    items_root: Hex32 | None = None
    manifest_hash: Hex32 | None = None


class ManifestOut(BaseModel):
    lot_id: Hex32
    item_count: int
    items_root: Hex32
    manifest_hash: Hex32
    write: WriteResult


class ProofOut(BaseModel):
    item_id: Hex32
    lot_id: Hex32
    serial: str
    items_root: Hex32
    proof: list[Hex32]
    verified: bool = Field(description="the proof leads to the root stored for the lot")


class DocumentOut(BaseModel):
    sha256: str
    size: int
    content_type: str
    title: str | None = None
    doc_type: str | None = None
    public: bool
    uploaded_by: int


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enterprise_id: int = Field(ge=1, le=2**32 - 1)


class StepOut(BaseModel):
    code: int
    name: str
    uri: str
    label: Localized
    authority: bool
    ends_custody: bool
    default_disposition: str | None = None
    event_type: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    chain: str
    database: str = "ok"
    mirror_block: int | None = Field(
        default=None, description="last block the indexer has mirrored; null before the first"
    )
