"""GS1 keys and Digital Link URIs, and the rule from a Digital Link path to an on-chain subject id.

The id of a subject is ``keccak256(canonical_path)``: the uncompressed Digital Link path with
qualifiers in GS1 order and every byte outside ``A-Z a-z 0-9 - . _ ~`` percent-encoded in upper-case
hex. Anyone holding a QR code can recompute it without asking SilkTrace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from eth_utils import keccak

from silktrace.errors import GS1Error

# GS1 AI encodable character set 82 (General Specifications, figure 7.11-1).
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_UNRESERVED = "-._~"
_PLAIN = re.compile(r"[A-Za-z0-9._~-]*")


def check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits before it (weights 3,1,3,… from the right)."""
    if not (body.isascii() and body.isdigit()):
        raise GS1Error(f"not all digits: {body!r}", code="invalid_digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _checked(value: str, length: int, name: str, code: str) -> str:
    if not (value.isascii() and value.isdigit()) or len(value) != length:
        raise GS1Error(f"{name} must be {length} digits, got {value!r}", code=code)
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise GS1Error(
            f"{name} {value} has check digit {value[-1]}, expected {expected}",
            code="invalid_check_digit",
        )
    return value


@lru_cache(maxsize=4096)
def normalize_gtin(gtin: str) -> str:
    """A GTIN-8/12/13/14 as 14 digits, check digit verified (a resolver sees few distinct GTINs)."""
    gtin = gtin.strip()
    if not (gtin.isascii() and gtin.isdigit()) or len(gtin) not in (8, 12, 13, 14):
        raise GS1Error(f"GTIN must be 8, 12, 13 or 14 digits, got {gtin!r}", code="invalid_gtin")
    return _checked(gtin.zfill(14), 14, "GTIN", "invalid_gtin")


def make_gtin(body13: str) -> str:
    """The GTIN-14 with the right check digit after 13 given digits."""
    return body13 + str(check_digit(body13))


def normalize_sscc(sscc: str) -> str:
    """An 18-digit SSCC, check digit verified."""
    return _checked(sscc.strip(), 18, "SSCC", "invalid_sscc")


def normalize_gln(gln: str) -> str:
    """A 13-digit GLN, check digit verified."""
    return _checked(gln.strip(), 13, "GLN", "invalid_gln")


def check_cset82(value: str, name: str) -> str:
    """A lot or serial: 1 to 20 characters of GS1's character set 82."""
    if not _CSET82.fullmatch(value):
        raise GS1Error(
            f"{name} must be 1-20 characters of the GS1 character set, got {value!r}",
            code=f"invalid_{name}",
        )
    return value


def encode_component(value: str) -> str:
    """Percent-encode a path value for the canonical Digital Link form."""
    if _PLAIN.fullmatch(value):
        return value  # most lots and serials need no encoding
    return quote(value, safe=_UNRESERVED)


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A parsed GS1 Digital Link: one primary key and its qualifiers."""

    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.sscc is not None:
            if self.gtin or self.lot or self.serial:
                raise GS1Error("an SSCC takes no GTIN qualifiers", code="invalid_digital_link")
        elif self.gtin is None:
            raise GS1Error(
                "a Digital Link needs a GTIN (01) or an SSCC (00)", code="invalid_digital_link"
            )
        elif self.serial is not None and self.lot is None:
            raise GS1Error(
                "SilkTrace items are identified by GTIN + lot + serial", code="invalid_digital_link"
            )

    @property
    def kind(self) -> str:
        """'item', 'lot', 'product' or 'unit'."""
        if self.sscc:
            return "unit"
        if self.serial:
            return "item"
        return "lot" if self.lot else "product"

    @property
    def path(self) -> str:
        """The canonical, uncompressed path that the subject id is the hash of."""
        if self.sscc:
            return f"/00/{self.sscc}"
        path = f"/01/{self.gtin}"
        if self.lot is not None:
            path += f"/10/{encode_component(self.lot)}"
        if self.serial is not None:
            path += f"/21/{encode_component(self.serial)}"
        return path

    @property
    def lot_path(self) -> str | None:
        return None if self.lot is None else f"/01/{self.gtin}/10/{encode_component(self.lot)}"

    @property
    def subject_id(self) -> bytes:
        return subject_id(self.path)

    def uri(self, base: str) -> str:
        """The full URI under a resolver base such as ``https://id.example.com``."""
        return base.rstrip("/") + self.path

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


def item(gtin: str, lot: str, serial: str) -> DigitalLink:
    """A validated SGTIN Digital Link."""
    return DigitalLink(
        gtin=normalize_gtin(gtin),
        lot=check_cset82(lot, "lot"),
        serial=check_cset82(serial, "serial"),
    )


def lot(gtin: str, lot_code: str) -> DigitalLink:
    """A validated LGTIN Digital Link."""
    return DigitalLink(gtin=normalize_gtin(gtin), lot=check_cset82(lot_code, "lot"))


def unit(sscc: str) -> DigitalLink:
    """A validated SSCC Digital Link."""
    return DigitalLink(sscc=normalize_sscc(sscc))


def subject_id(path: str) -> bytes:
    """keccak256 of a canonical path: the on-chain subject id."""
    return keccak(text=path)


_PRIMARY = {"01", "00"}
_QUALIFIERS = {"01": ("10", "21")}


def parse(uri_or_path: str) -> DigitalLink:
    """Parse an uncompressed Digital Link URI or path (any host, any path prefix)."""
    parts = urlsplit(uri_or_path.strip())
    segments = [s for s in parts.path.split("/") if s != ""]
    start = next((i for i, s in enumerate(segments) if s in _PRIMARY), None)
    if start is None or (len(segments) - start) % 2:
        raise GS1Error(f"not a GS1 Digital Link: {uri_or_path!r}", code="invalid_digital_link")
    pairs = [(segments[i], unquote(segments[i + 1])) for i in range(start, len(segments), 2)]
    primary, value = pairs[0]
    params = tuple(parse_qsl(parts.query, keep_blank_values=True))
    if primary == "00":
        if len(pairs) > 1:
            raise GS1Error("an SSCC takes no qualifiers", code="invalid_digital_link")
        return DigitalLink(sscc=normalize_sscc(value), params=params)
    allowed = _QUALIFIERS["01"]
    seen: dict[str, str] = {}
    last = -1
    for ai, v in pairs[1:]:
        if ai not in allowed:
            raise GS1Error(f"unsupported qualifier AI {ai}", code="invalid_digital_link")
        idx = allowed.index(ai)
        if idx <= last:
            raise GS1Error("qualifiers must be in the order 10, 21", code="invalid_digital_link")
        last = idx
        seen[ai] = v
    gtin = normalize_gtin(value)
    lot_code = check_cset82(seen["10"], "lot") if "10" in seen else None
    serial = check_cset82(seen["21"], "serial") if "21" in seen else None
    return DigitalLink(gtin=gtin, lot=lot_code, serial=serial, params=params)
