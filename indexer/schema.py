"""SQL tables the indexer owns; the API and the regulator read them.

Ids are lower-case 0x-hex text (subjects, hashes, accounts) so that SQLite and PostgreSQL behave
alike. Every row derived from the chain carries the block it came from, so a reorg can undo it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

# 64-bit ids; on SQLite an INTEGER PRIMARY KEY (64-bit there too) is the rowid itself, which saves
# the separate primary-key index on every insert.
ID = BigInteger().with_variant(Integer(), "sqlite")


class IndexerCursor(SQLModel, table=True):
    """How far the mirror has followed one contract on one chain; moves with the rows it covers."""

    __tablename__ = "indexer_cursor"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    contract: str = Field(primary_key=True, max_length=42)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    genesis_hash: str = Field(max_length=66)
    updated_at: datetime


class BlockHeader(SQLModel, table=True):
    """Recent indexed blocks, for parent-hash checks and finding the common ancestor of a reorg."""

    __tablename__ = "block_header"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    number: int = Field(primary_key=True, sa_type=BigInteger)
    hash: str = Field(max_length=66)
    parent_hash: str = Field(max_length=66)
    timestamp: int = Field(sa_type=BigInteger)


class LedgerEvent(SQLModel, table=True):
    """One row per ledger log, decoded; the trace and `silktrace verify` read this table.

    Every index costs each of the bulk inserts, so there are only those the readers need: the
    idempotency key, a subject's trace (whose `subject_id IS NULL` range holds the parties' events
    a reorg replays), and block order (reorgs, verify, recent items). The API adds `child_id`.
    """

    __tablename__ = "ledger_event"
    __table_args__ = (
        UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_ledger_event_log"),
        Index("ix_ledger_event_subject", "subject_id", "block_number", "log_index"),
        Index("ix_ledger_event_chain_block", "chain_id", "block_number", "log_index"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    chain_id: int = Field(sa_type=BigInteger)
    contract: str = Field(max_length=42)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    block_time: int = Field(sa_type=BigInteger)
    tx_hash: str = Field(max_length=66)
    log_index: int
    event: str = Field(max_length=40)  # contract event name, e.g. CustodyAccepted
    subject_id: str | None = Field(default=None, max_length=66)  # item, lot or unit
    enterprise_id: int | None = None  # actor (or sender of a handover)
    counterparty_id: int | None = None  # receiver of a handover
    child_id: str | None = Field(default=None, max_length=66)  # Packed/Unpacked child, ItemSplit lot
    biz_step: int | None = None
    disposition: int | None = None
    location: int | None = Field(default=None, sa_type=BigInteger)  # GLN as a number
    event_time: int | None = Field(default=None, sa_type=BigInteger)
    epcis_hash: str | None = Field(default=None, max_length=66)  # or reason / manifest document
    account: str | None = Field(default=None, max_length=42)
    documents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # other fields


class Enterprise(SQLModel, table=True):
    """A registered party and its roles (bit set as on chain)."""

    __tablename__ = "enterprise"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    enterprise_id: int = Field(primary_key=True)
    credit_code_hash: str = Field(max_length=66, index=True)
    metadata_hash: str = Field(max_length=66)
    roles: int
    suspended: bool = False
    registered_block: int = Field(sa_type=BigInteger)
    updated_block: int = Field(sa_type=BigInteger)


class EnterpriseAccount(SQLModel, table=True):
    """An account that may act for an enterprise."""

    __tablename__ = "enterprise_account"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    account: str = Field(primary_key=True, max_length=42)
    enterprise_id: int = Field(index=True)
    updated_block: int = Field(sa_type=BigInteger)


class Subject(SQLModel, table=True):
    """Current state of an item, lot or logistic unit: custody, responsibility, recall, packing."""

    __tablename__ = "subject"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    subject_id: str = Field(primary_key=True, max_length=66)
    kind: str = Field(max_length=8)  # item | lot | unit
    holder_id: int | None = Field(default=None, index=True)  # responsible while top-level
    pending_receiver_id: int | None = None
    disposition: int = 0
    recalled: bool = False
    ended: bool = False
    parent_id: str | None = Field(default=None, max_length=66, index=True)  # unit packed in
    lot_id: str | None = Field(default=None, max_length=66, index=True)  # lot of an item
    items_root: str | None = Field(default=None, max_length=66)  # lots
    item_count: int | None = None
    manifest_hash: str | None = Field(default=None, max_length=66)
    registered_block: int = Field(sa_type=BigInteger)
    updated_block: int = Field(sa_type=BigInteger)


class Recall(SQLModel, table=True):
    """Each recall of a subject and its lifting."""

    __tablename__ = "recall"
    __table_args__ = (Index("ix_recall_subject", "chain_id", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    chain_id: int = Field(sa_type=BigInteger)
    subject_id: str = Field(max_length=66)
    recalled_event_id: int = Field(sa_type=BigInteger, foreign_key="ledger_event.id", ondelete="CASCADE")
    recalled_by: int
    recalled_at: int = Field(sa_type=BigInteger)
    reason_hash: str = Field(max_length=66)
    lifted_event_id: int | None = Field(default=None, sa_type=BigInteger)
    lifted_by: int | None = None
    lifted_at: int | None = Field(default=None, sa_type=BigInteger)
    lift_reason_hash: str | None = Field(default=None, max_length=66)


class Document(SQLModel, table=True):
    """A document hash some event stood behind (the file itself is the API's business)."""

    __tablename__ = "document"
    __table_args__ = (Index("ix_document_hash", "doc_hash"),)

    event_id: int = Field(
        primary_key=True, sa_type=BigInteger, foreign_key="ledger_event.id", ondelete="CASCADE"
    )
    position: int = Field(primary_key=True)
    doc_hash: str = Field(max_length=66)
