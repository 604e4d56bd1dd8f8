"""GS1 keys, Digital Link parsing and the subject-id rule."""

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from silktrace import gs1
from silktrace.errors import GS1Error


@pytest.mark.parametrize(
    ("body", "digit"),
    [("0950600013435", 2), ("400638133393", 1), ("03600029145", 2), ("10614141123456789", 7)],
)
def test_check_digit_matches_known_gtins(body: str, digit: int) -> None:
    assert gs1.check_digit(body) == digit


def test_normalize_gtin_pads_to_14_digits() -> None:
    assert gs1.normalize_gtin("4006381333931") == "04006381333931"
    assert gs1.normalize_gtin("036000291452") == "00036000291452"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("4006381333932", "invalid_check_digit"),
        ("12345", "invalid_gtin"),
        ("62910415002x3", "invalid_gtin"),
    ],
)
def test_normalize_gtin_failsIfMalformed(value: str, code: str) -> None:
    with pytest.raises(GS1Error) as exc:
        gs1.normalize_gtin(value)
    assert exc.value.code == code


def test_item_path_is_canonical_and_percent_encoded() -> None:
    link = gs1.item("09506000134352", "L24/07", "A1&B")
    assert link.path == "/01/09506000134352/10/L24%2F07/21/A1%26B"
    assert link.subject_id == keccak(text=link.path)
    assert link.lot_path == "/01/09506000134352/10/L24%2F07"


def test_parse_roundtrips_uri_with_prefix_and_query() -> None:
    link = gs1.parse(
        "https://id.example.com/some/prefix/01/09506000134352/10/L1/21/S%2F1?sig=abc&linkType=all"
    )
    assert (link.gtin, link.lot, link.serial, link.kind) == ("09506000134352", "L1", "S/1", "item")
    assert link.param("sig") == "abc"
    assert gs1.parse(link.uri("https://x.cn")).path == link.path


def test_parse_sscc_unit() -> None:
    sscc = "106141411234567897"
    link = gs1.parse(f"/00/{sscc}")
    assert link.kind == "unit" and link.path == f"/00/{sscc}"


@pytest.mark.parametrize(
    "uri",
    [
        "/01/09506000134353/10/L1",  # wrong check digit
        "/01/09506000134352/21/S1/10/L1",  # qualifiers out of order
        "/01/09506000134352/21/S1",  # serial without lot
        "/01/09506000134352/10/" + "L" * 21,  # lot too long
        "/02/09506000134352",  # no primary key
        "/01/09506000134352/10",  # odd segments
        "/00/106141411234567890",  # SSCC check digit
    ],
)
def test_parse_failsIfMalformed(uri: str) -> None:
    with pytest.raises(GS1Error):
        gs1.parse(uri)


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"%&'()*+,-./:;<=>?_",
        min_size=1,
        max_size=20,
    ),
    st.text(alphabet="0123456789ABCxyz-./%", min_size=1, max_size=20),
)
def test_parse_inverts_format_for_any_cset82_values(lot: str, serial: str) -> None:
    link = gs1.item("09506000134352", lot, serial)
    parsed = gs1.parse(link.uri("https://id.example.com"))
    assert (parsed.lot, parsed.serial) == (lot, serial)
    assert parsed.subject_id == link.subject_id
