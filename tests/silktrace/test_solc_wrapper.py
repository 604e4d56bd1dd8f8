"""The native-solc stand-in over npm solc: its command line, and identical builds via py-solc-x and forge."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from solcx.wrapper import get_solc_version

from silktrace.config import PROJECT_ROOT, Settings
from silktrace.solc import compile_contracts

WRAPPER = PROJECT_ROOT / "contracts/solc-wrapper/solc"
FORGE = PROJECT_ROOT / "node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
NPM_SOLC_VERSION = json.loads((PROJECT_ROOT / "node_modules/solc/package.json").read_text())[
    "version"
]

PROBE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
contract Probe is Ownable {
    constructor() Ownable(msg.sender) {}
    function signer(bytes32 digest, bytes calldata sig) external pure returns (address) {
        return ECDSA.recover(digest, sig);
    }
}
"""


def run(
    args: list[str], stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRAPPER), *args], input=stdin, capture_output=True, text=True, cwd=cwd
    )


def test_version_has_native_format() -> None:
    out = run(["--version"])
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "solc, the solidity compiler commandline interface"
    assert re.fullmatch(
        rf"Version: {re.escape(NPM_SOLC_VERSION)}\+commit\.[0-9a-f]{{8}}\..+", lines[1]
    )
    assert str(get_solc_version(WRAPPER)) == NPM_SOLC_VERSION


def test_standard_json_writes_only_json(tmp_path: Path) -> None:
    src = {
        "language": "Solidity",
        "sources": {"A.sol": {"content": "pragma solidity ^0.8.0; contract A {}"}},
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    out = run(["--standard-json"], json.dumps(src))
    assert out.returncode == 0
    assert json.loads(out.stdout)["contracts"]["A.sol"]["A"]["abi"] == []


def test_standard_json_reports_invalid_input_as_json() -> None:
    out = run(["--standard-json"], "{not json")
    errors = json.loads(out.stdout)["errors"]
    assert errors[0]["severity"] == "error" and "Invalid JSON" in errors[0]["message"]


def test_imports_resolve_through_base_and_include_paths(tmp_path: Path) -> None:
    (tmp_path / "lib/dep").mkdir(parents=True)
    (tmp_path / "lib/dep/B.sol").write_text("pragma solidity ^0.8.0; contract B {}")
    (tmp_path / "src").mkdir()
    src = {
        "language": "Solidity",
        "sources": {
            "src/A.sol": {
                "content": 'pragma solidity ^0.8.0; import "dep/B.sol"; contract A is B {}'
            }
        },
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    ok = run(
        ["--base-path", str(tmp_path), "--include-path", str(tmp_path / "lib"), "--standard-json"],
        json.dumps(src),
    )
    assert "B" in json.loads(ok.stdout)["contracts"]["dep/B.sol"]
    missing = run(["--base-path", str(tmp_path), "--standard-json"], json.dumps(src))
    assert any("not found" in e["message"] for e in json.loads(missing.stdout)["errors"])


def test_imports_outside_allowed_paths_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.sol"
    outside.write_text("pragma solidity ^0.8.0; contract S {}")
    (tmp_path / "proj").mkdir()
    src = {
        "language": "Solidity",
        "sources": {
            "A.sol": {"content": f'pragma solidity ^0.8.0; import "{outside}"; contract A {{}}'}
        },
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    out = run(["--base-path", str(tmp_path / "proj"), "--standard-json"], json.dumps(src))
    assert any("outside of allowed" in e["message"] for e in json.loads(out.stdout)["errors"])


def test_unknown_option_fails_clearly() -> None:
    out = run(["--bin", "x.sol"])
    assert out.returncode == 2 and "unsupported option --bin" in out.stderr


@pytest.mark.slow
def test_openzeppelin_contract_builds_identically_via_py_solc_x_and_forge(tmp_path: Path) -> None:
    project = tmp_path / "contracts"
    (project / "src").mkdir(parents=True)
    (project / "src/Probe.sol").write_text(PROBE)
    (tmp_path / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    toml = (PROJECT_ROOT / "contracts/foundry.toml").read_text()
    (project / "foundry.toml").write_text(
        toml.replace('solc = "solc-wrapper/solc"', f'solc = "{WRAPPER}"')
    )
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        contracts_dir=project,  # type: ignore[call-arg]
        node_modules=tmp_path / "node_modules",
    )
    via_py = compile_contracts(settings)["Probe"]

    build = subprocess.run(
        [str(FORGE), "build", "--root", str(project)], capture_output=True, text=True
    )
    assert build.returncode == 0, build.stdout + build.stderr
    artifact = json.loads((project / "out/Probe.sol/Probe.json").read_text())
    assert artifact["bytecode"]["object"].removeprefix("0x") == via_py.bytecode
    assert artifact["deployedBytecode"]["object"].removeprefix("0x") == via_py.deployed_bytecode
    assert len(via_py.bytecode) > 1000
