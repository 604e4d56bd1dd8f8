"""The Python vocabulary table agrees with the contract's TraceCodes library."""

import re

from silktrace import vocab
from silktrace.config import PROJECT_ROOT

SOURCE = (PROJECT_ROOT / "contracts/src/libraries/TraceCodes.sol").read_text()
CONSTANTS = {
    m.group(1): int(m.group(2))
    for m in re.finditer(r"uint8 internal constant (\w+) = (\d+);", SOURCE)
}


def test_every_step_code_matches_the_contract() -> None:
    steps = {k[5:].lower(): v for k, v in CONSTANTS.items() if k.startswith("STEP_")}
    assert steps == {s.name: s.code for s in vocab.STEPS}


def test_every_disposition_code_matches_the_contract() -> None:
    disps = {k[5:].lower(): v for k, v in CONSTANTS.items() if k.startswith("DISP_") and v}
    assert disps == {name: code for code, name, _, _ in vocab.DISPOSITIONS}


def test_roles_match_the_contract() -> None:
    roles = {k[5:]: v for k, v in CONSTANTS.items() if k.startswith("ROLE_")}
    assert roles == {r.name: r.value for r in vocab.Role}


def test_authority_steps_are_the_contracts_range() -> None:
    for s in vocab.STEPS:
        assert s.authority == (s.code >= 64), s.name
        assert s.disposition is None or s.disposition in vocab.DISPOSITION_BY_NAME
