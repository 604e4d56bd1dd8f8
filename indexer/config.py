"""Indexer settings (env prefix SILKTRACE_INDEXER_), apart from the shared chain and SQL settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IndexerConfig(BaseSettings):
    """How the indexer reads the chain and writes SQL."""

    model_config = SettingsConfigDict(
        env_prefix="SILKTRACE_INDEXER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    initial_range: int = Field(
        default=10, ge=1, description="first eth_getLogs block span (then it adapts, x2 a step)"
    )
    min_range: int = Field(default=1, ge=1, description="smallest span before giving up")
    max_range: int = Field(default=100_000, ge=1, description="largest eth_getLogs block span")
    target_logs: int = Field(
        default=5_000, ge=1, description="logs per request the span adapts towards"
    )
    header_batch: int = Field(default=200, ge=1, description="block headers per JSON-RPC batch")
    commit_events: int = Field(
        default=20_000, ge=1, description="events per database transaction (ranges are merged)"
    )
    prefetch: int = Field(
        default=4, ge=0, description="decoded ranges kept ahead of the writer (0: no prefetching)"
    )
    confirmations: int = Field(default=0, ge=0, description="blocks behind head left unindexed")
    max_reorg_depth: int = Field(
        default=64, ge=1, description="deepest reorg handled; deeper ones stop the indexer"
    )
    poll_interval: float = Field(default=0.25, gt=0, description="seconds between head polls")
    rpc_timeout: float = Field(default=30.0, gt=0)
    retry_initial: float = Field(default=0.2, gt=0, description="first back-off, seconds")
    retry_max: float = Field(default=5.0, gt=0, description="longest back-off, seconds")
    node_down_timeout: float | None = Field(
        default=None, description="give up after the node is away this long (None: never)"
    )
    db_down_timeout: float | None = Field(
        default=None, description="give up after the database is away this long (None: never)"
    )
    metrics_port: int | None = Field(default=None, description="Prometheus port (None: off)")
    metrics_host: str = "127.0.0.1"
    progress_interval: float = Field(default=0.5, ge=0, description="seconds between reports")
