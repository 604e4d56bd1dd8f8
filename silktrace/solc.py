"""Compile the contracts through py-solc-x and the project's solc wrapper, cached by source hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError
from solcx.wrapper import get_solc_version

from silktrace.config import Settings
from silktrace.errors import CompileError

OPTIMIZER_RUNS = 10_000  # same as contracts/foundry.toml
EVM_VERSION = "prague"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str

    @property
    def abi_sha256(self) -> str:
        return abi_hash(self.abi)


def abi_hash(abi: list[dict[str, Any]]) -> str:
    """sha-256 of the ABI in canonical JSON form."""
    return hashlib.sha256(
        json.dumps(abi, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _sources(settings: Settings) -> dict[str, Path]:
    src = settings.contracts_dir / "src"
    return {p.relative_to(settings.contracts_dir).as_posix(): p for p in sorted(src.rglob("*.sol"))}


def standard_input(settings: Settings) -> dict[str, Any]:
    """The standard-JSON input equivalent to the forge build (remappings as in foundry.toml)."""
    return {
        "language": "Solidity",
        "sources": {
            name: {"content": path.read_text()} for name, path in _sources(settings).items()
        },
        "settings": {
            "remappings": ["@openzeppelin/contracts/=../node_modules/@openzeppelin/contracts/"],
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "metadata": {"bytecodeHash": "none"},
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }


def compiler_version(settings: Settings) -> str:
    return str(get_solc_version(settings.solc_bin, with_commit_hash=True))


def compile_contracts(settings: Settings, *, force: bool = False) -> dict[str, Artifact]:
    """Compile `contracts/src`, reusing the cached output when sources and compiler are unchanged."""
    data = standard_input(settings)
    oz = settings.node_modules / "@openzeppelin/contracts/package.json"
    key_material = json.dumps(data, sort_keys=True) + (oz.read_text() if oz.exists() else "")
    key = hashlib.sha256(key_material.encode()).hexdigest()[:16]
    cache = settings.build_dir / f"solc-{key}.json"
    if cache.exists() and not force:
        output = json.loads(cache.read_text())
    else:
        try:
            output = solcx.compile_standard(
                data,
                solc_binary=settings.solc_bin,
                base_path=settings.contracts_dir,
                allow_paths=[settings.contracts_dir, settings.node_modules],
            )
        except SolcError as exc:
            raise CompileError(f"solc failed: {exc.stderr_data or exc}") from exc
        errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
        if errors:
            raise CompileError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(output))
        tmp.replace(cache)
    artifacts: dict[str, Artifact] = {}
    for source, contracts in output["contracts"].items():
        if not source.startswith("src/"):
            continue
        for name, c in contracts.items():
            artifacts[name] = Artifact(
                name=name,
                abi=c["abi"],
                bytecode=c["evm"]["bytecode"]["object"],
                deployed_bytecode=c["evm"]["deployedBytecode"]["object"],
            )
    return artifacts
