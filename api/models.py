"""SQL tables the API owns: keys, master data, manifests, documents, the outbox and scans.

The chain mirror (`indexer.schema`) is read, never written, here. Ids are lower-case 0x-hex text
like the mirror's, so joins between both work on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.signing import utcnow
from indexer.schema import LedgerEvent

# SQLite auto-increments only INTEGER PRIMARY KEY columns; PostgreSQL gets a 64-bit id.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ApiKey(SQLModel, table=True):
    """An enterprise's API key: only the SHA-256 of its secret is kept."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=24)
    enterprise_id: int = Field(index=True)
    name: str = Field(default="", max_length=80)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class EnterpriseProfile(SQLModel, table=True):
    """The off-chain filing of an enterprise (its hash is the on-chain metadataHash)."""

    __tablename__ = "enterprise_profile"

    enterprise_id: int = Field(primary_key=True)
    chain_id: int = Field(sa_type=BigInteger)
    name_zh: str = Field(max_length=120)
    name_en: str = Field(max_length=120)
    credit_code: str = Field(max_length=18, unique=True)
    country: str = Field(default="CN", max_length=2)
    roles: int
    account: str = Field(max_length=42, index=True)  # current ledger account
    custodial: bool = True  # SilkTrace holds the ledger key
    metadata_hash: str = Field(max_length=66)
    created_at: datetime = Field(default_factory=utcnow)


class SigningKey(SQLModel, table=True):
    """One version of an enterprise key: `ledger` (secp256k1) or `qr` (Ed25519), sealed by the master key."""

    __tablename__ = "signing_key"
    __table_args__ = (UniqueConstraint("enterprise_id", "purpose", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(index=True)
    purpose: str = Field(max_length=8)  # ledger | qr
    version: int
    public: str = Field(max_length=66)  # address (ledger) or base64url raw key (qr)
    sealed: str | None = Field(default=None, max_length=200)  # None: the enterprise keeps it
    status: str = Field(default="active", max_length=8)  # active | retired | revoked
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class Place(SQLModel, table=True):
    """A location (GLN) an enterprise filed with its name, for read points in traces."""

    __tablename__ = "place"

    gln: str = Field(primary_key=True, max_length=13)
    enterprise_id: int = Field(index=True)
    name_zh: str = Field(max_length=120)
    name_en: str = Field(max_length=120)


class Product(SQLModel, table=True):
    """A trade item by GTIN-14."""

    __tablename__ = "product"

    gtin: str = Field(primary_key=True, max_length=14)
    enterprise_id: int = Field(index=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    brand: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=80)
    country_of_origin: str | None = Field(default=None, max_length=2)
    shelf_life_days: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Lot(SQLModel, table=True):
    """A batch of a product; registered on chain by the Merkle root of its manifest."""

    __tablename__ = "lot"
    __table_args__ = (UniqueConstraint("gtin", "lot_code"),)

    lot_id: str = Field(primary_key=True, max_length=66)  # keccak of the lot's Digital Link path
    gtin: str = Field(max_length=14, index=True)
    lot_code: str = Field(max_length=20)
    enterprise_id: int = Field(index=True)
    production_date: str | None = Field(default=None, max_length=10)
    expiry_date: str | None = Field(default=None, max_length=10)
    status: str = Field(default="created", max_length=12)  # created | registered
    item_count: int | None = None
    items_root: str | None = Field(default=None, max_length=66)
    manifest_hash: str | None = Field(default=None, max_length=66)
    tx_hash: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow)
    registered_at: datetime | None = None


class Manifest(SQLModel, table=True):
    """An uploaded item list of a lot, kept as a file with its Merkle tree beside it."""

    __tablename__ = "manifest"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: str = Field(max_length=66, index=True)
    sha256: str = Field(max_length=66)
    format: str = Field(max_length=8)  # csv | json | ndjson
    item_count: int
    items_root: str = Field(max_length=66)
    status: str = Field(default="built", max_length=12)  # built | registered
    created_at: datetime = Field(default_factory=utcnow)


class ManifestItem(SQLModel, table=True):
    """One serialised item of a manifest."""

    __tablename__ = "manifest_item"
    __table_args__ = (Index("ix_manifest_item_lot_serial", "lot_id", "serial"),)

    item_id: str = Field(primary_key=True, max_length=66)
    manifest_id: int = Field(index=True)
    lot_id: str = Field(max_length=66)
    serial: str = Field(max_length=20)


class DocumentFile(SQLModel, table=True):
    """An uploaded document, stored content-addressed in data_dir/documents."""

    __tablename__ = "document_file"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=BigInteger)
    content_type: str = Field(max_length=100)
    title: str | None = Field(default=None, max_length=200)
    doc_type: str | None = Field(default=None, max_length=40)
    uploaded_by: int = Field(index=True)
    public: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class DocumentGrant(SQLModel, table=True):
    """An enterprise the uploader allowed to download a private document."""

    __tablename__ = "document_grant"

    sha256: str = Field(primary_key=True, max_length=64)
    enterprise_id: int = Field(primary_key=True)


class OutboxEntry(SQLModel, table=True):
    """A write kept from signing until the mirror has it; resubmitted if the chain lost it."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)  # type: ignore[call-overload]
    idempotency_key: str = Field(max_length=128, unique=True)
    enterprise_id: int = Field(index=True)
    op: str = Field(max_length=32)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    request_hash: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=10, index=True)
    tx_hash: str | None = Field(default=None, max_length=66, index=True)
    block_number: int | None = Field(default=None, sa_type=BigInteger)
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, max_length=500)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EpcisEvent(SQLModel, table=True):
    """The off-chain EPCIS 2.0 event whose canonical SHA-256 a record carries as epcisHash."""

    __tablename__ = "epcis_event"

    event_hash: str = Field(primary_key=True, max_length=66)
    subject_id: str = Field(max_length=66, index=True)
    enterprise_id: int
    body: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Scan(SQLModel, table=True):
    """One resolution of a code: when, coarse where, and a hash of who."""

    __tablename__ = "scan"
    __table_args__ = (Index("ix_scan_subject_time", "subject_id", "scanned_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)  # type: ignore[call-overload]
    subject_id: str = Field(max_length=66)
    lot_id: str | None = Field(default=None, max_length=66, index=True)
    scanned_at: float
    client_hash: str = Field(max_length=16)
    lat: float | None = None  # rounded to 0.1 degree: coarse on purpose
    lon: float | None = None
    signature_state: str = Field(default="missing", max_length=12)
    warning: bool = False


class LogisticUnit(SQLModel, table=True):
    """A logistic unit (SSCC) registered through the API, so its id can be named back."""

    __tablename__ = "logistic_unit"

    unit_id: str = Field(primary_key=True, max_length=66)
    sscc: str = Field(max_length=18)
    enterprise_id: int = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)


# The trace follows a subject into the units it was packed in by `child_id`, which the indexer's
# table does not index: without this, every lot's trace would scan the whole event table.
Index(
    "ix_ledger_event_child",
    LedgerEvent.__table__.c.chain_id,  # type: ignore[attr-defined]
    LedgerEvent.__table__.c.child_id,  # type: ignore[attr-defined]
)
