"""Settings shared by every SilkTrace command (env prefix SILKTRACE_, `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where the chain, the deployment file and the data directory are."""

    model_config = SettingsConfigDict(
        env_prefix="SILKTRACE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=PROJECT_ROOT / ".data", description="state of a local install")
    rpc_url: str = Field(default="http://127.0.0.1:8545", description="JSON-RPC of the EVM chain")
    chain_host: str = "127.0.0.1"
    chain_port: int = 8545
    chain_id: int = 31337
    chain_state_interval: int = Field(default=1, description="seconds between Anvil state dumps")
    anvil_bin: Path = PROJECT_ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    solc_bin: Path = PROJECT_ROOT / "contracts/solc-wrapper/solc"
    contracts_dir: Path = PROJECT_ROOT / "contracts"
    node_modules: Path = PROJECT_ROOT / "node_modules"
    deployer_key: SecretStr | None = Field(
        default=None,
        description="hex private key that deploys and administers the ledger; on a local Anvil "
        "an unlocked dev account is used when unset",
    )
    admin_delay_s: int = Field(default=0, description="delay of the two-step admin hand-over")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data directory"
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    @property
    def deployment_file(self) -> Path:
        return self.data_dir / "deployment.json"

    @property
    def chain_dir(self) -> Path:
        return self.data_dir / "chain"

    @property
    def build_dir(self) -> Path:
        return self.data_dir / "build"

    def sql_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'silktrace.db'}"


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
