"""The API's settings (env prefix SILKTRACE_API_, `.env`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Keys, the resolver host, limits and background intervals of the HTTP service."""

    model_config = SettingsConfigDict(
        env_prefix="SILKTRACE_API_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    master_key: SecretStr | None = Field(
        default=None,
        description="32 bytes base64url that encrypt stored signing keys; default: generated once "
        "into data_dir/master.key (mode 0600)",
    )
    admin_key: SecretStr | None = Field(
        default=None,
        description="platform administrator's API key; default: generated once into "
        "data_dir/admin.key (mode 0600)",
    )
    resolver_base_url: str = Field(
        default="",
        description="host that QR codes' Digital Links point to; default: this API's own "
        "http://{api_host}:{api_port}",
    )
    token_ttl_s: int = Field(default=900, ge=30, le=86400, description="lifetime of a bearer token")
    max_manifest_items: int = 1_000_000
    max_document_bytes: int = 25 * 1024 * 1024
    max_label_sheet: int = Field(default=2000, description="labels in one PDF sheet request")
    fund_wei: int = Field(
        default=10**20, description="ether sent to new custodial accounts on a local dev chain"
    )
    signature_ttl_s: int = Field(default=3600, description="deadline of records the API signs")
    outbox_interval_s: float = Field(default=5.0, description="0 disables the outbox worker")
    outbox_resubmit_after_s: float = 10.0
    scan_flush_interval_s: float = 0.25
    scan_cache_items: int = Field(
        default=200_000, ge=1,
        description="items whose recent scans each worker keeps in memory for the clone check",
    )
    chain_cache_ttl_s: float = Field(default=5.0, description="cache of chain reads in resolution")
    clone_max_kmh: float = Field(default=900.0, description="faster than this between two scans")
    clone_sibling_factor: float = 10.0
    clone_min_scans: int = 20
