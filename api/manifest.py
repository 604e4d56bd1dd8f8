"""Manifests: streamed parsing of CSV / JSON / NDJSON item lists and the Merkle tree file of a lot.

The upload is written to disk while it is read and parsed record by record; only the 32-byte item
ids are held, since the Merkle root needs all of them sorted. The tree is kept as one file of fixed
32-byte nodes, level after level, so that a proof is a few seeks (the leaves are sorted, so an
item's leaf is found by binary search).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import mmap
import os
import struct
from array import array
from bisect import bisect_left
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from api.errors import ApiError
from silktrace import gs1
from silktrace.errors import GS1Error
from silktrace.merkle import _pair, leaf

HEADER = struct.Struct(">8sQ")
PREFIX = struct.Struct(">I28x")  # the leading 32 bits of a 32-byte node
MAGIC = b"STMTREE1"


class ManifestError(ApiError):
    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(422, code, message, {"line": line} if line is not None else None)


async def save_upload(chunks: AsyncIterator[bytes], dest: Path, max_bytes: int) -> str:
    """Stream the request body to `dest`; returns its SHA-256 (hex)."""
    digest = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as f:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, "manifest_too_large", f"a manifest is at most {max_bytes} bytes")
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


def _lines(path: Path) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                pending += decoder.decode(chunk)
                *complete, pending = pending.split("\n")
                yield from complete
            pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ManifestError("invalid_manifest", "the manifest is not UTF-8") from exc
    if pending:
        yield pending


def _serial_of(obj: object, line: int) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, int) and not isinstance(obj, bool):
        return str(obj)
    if isinstance(obj, dict) and isinstance(obj.get("serial"), str | int):
        return str(obj["serial"])
    raise ManifestError("invalid_manifest", "each item needs a serial (string)", line)


def _csv_serials(path: Path) -> Iterator[tuple[int, str]]:
    reader = csv.reader(_lines(path))
    header = next(reader, None)
    if header is None:
        return
    cols = [h.strip().lower() for h in header]
    if "serial" in cols:
        idx = cols.index("serial")
    elif len(cols) == 1:
        # A one-column file without header: the first line is already a serial.
        idx = 0
        yield 1, header[0].strip()
    else:
        raise ManifestError("invalid_manifest", "the CSV needs a 'serial' column", 1)
    for n, row in enumerate(reader, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if idx >= len(row):
            raise ManifestError("invalid_manifest", "row has no serial", n)
        yield n, row[idx].strip()


def _ndjson_serials(path: Path) -> Iterator[tuple[int, str]]:
    for n, text in enumerate(_lines(path), start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise ManifestError("invalid_manifest", f"line {n} is not JSON", n) from exc
        yield n, _serial_of(obj, n)


def _json_serials(path: Path) -> Iterator[tuple[int, str]]:
    """A JSON array (or {"items": [...]}) read element by element with raw_decode."""
    decoder = json.JSONDecoder()
    buf = ""
    chunks = _chunks(path)
    pos = 0
    started = False
    index = 0

    def more() -> bool:
        nonlocal buf, pos
        nxt = next(chunks, None)
        if nxt is None:
            return False
        buf = buf[pos:] + nxt
        pos = 0
        return True

    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            if buf[pos] == "," and not started:
                raise ManifestError("invalid_manifest", "the JSON manifest must be an array")
            pos += 1
        if pos >= len(buf):
            if not more():
                raise ManifestError("invalid_manifest", "the JSON array is not closed")
            continue
        ch = buf[pos]
        if not started:
            if buf.startswith('{"items"', pos) or buf.startswith("{", pos):
                # {"items": [ ... ]}: skip to the array.
                k = buf.find("[", pos)
                if k < 0:
                    if not more():
                        raise ManifestError("invalid_manifest", "expected a JSON array of items")
                    continue
                pos = k
                ch = "["
            if ch != "[":
                raise ManifestError("invalid_manifest", "the JSON manifest must be an array")
            started = True
            pos += 1
            continue
        if ch == "]":
            return
        try:
            obj, end = decoder.raw_decode(buf, pos)
        except ValueError as exc:
            if more():
                continue
            raise ManifestError("invalid_manifest", f"item {index + 1} is not valid JSON") from exc
        if end == len(buf) and more():
            continue  # a number may continue in the next chunk
        index += 1
        yield index, _serial_of(obj, index)
        pos = end


def _chunks(path: Path) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                yield decoder.decode(chunk)
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
    except UnicodeDecodeError as exc:
        raise ManifestError("invalid_manifest", "the manifest is not UTF-8") from exc


def detect_format(content_type: str | None) -> str:
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in ("text/csv", "application/csv", "text/plain"):
        return "csv"
    if ct in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        return "ndjson"
    if ct == "application/json":
        return "json"
    raise ApiError(
        415, "unsupported_manifest_type",
        "send the manifest as text/csv, application/json or application/x-ndjson",
    )


def serials(path: Path, fmt: str) -> Iterator[tuple[int, str]]:
    """(line or index, serial) of every item, validated against GS1's character set."""
    source = {"csv": _csv_serials, "ndjson": _ndjson_serials, "json": _json_serials}[fmt](path)
    for n, serial in source:
        try:
            gs1.check_cset82(serial, "serial")
        except GS1Error as exc:
            raise ManifestError("invalid_serial", exc.message, n) from exc
        yield n, serial


def item_path(gtin: str, lot_code: str, serial: str) -> str:
    return f"/01/{gtin}/10/{gs1.encode_component(lot_code)}/21/{gs1.encode_component(serial)}"


# ---------------------------------------------------------------------------------- tree file


def write_tree(sorted_leaves: list[bytes], dest: Path) -> bytes:
    """Write every level of the tree; returns the root."""
    n = len(sorted_leaves)
    tmp = dest.with_suffix(".tmp")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("wb") as f:
        f.write(HEADER.pack(MAGIC, n))
        level = sorted_leaves
        f.write(b"".join(level))
        while len(level) > 1:
            nxt = [_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            f.write(b"".join(nxt))
            level = nxt
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(dest)
    return level[0]


def _level_sizes(n: int) -> list[int]:
    sizes = [n]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class TreeFile:
    """Read-only view of a tree file through mmap."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        magic, self.n = HEADER.unpack_from(self._mm, 0)
        if magic != MAGIC:
            raise ValueError(f"{path} is not a tree file")
        self._starts: array | None = None
        self._shift = 0
        self._offsets = []
        off = HEADER.size
        for size in _level_sizes(self.n):
            self._offsets.append((off, size))
            off += size * 32

    def node(self, level: int, index: int) -> bytes:
        off, _ = self._offsets[level]
        return self._mm[off + index * 32 : off + index * 32 + 32]

    @property
    def root(self) -> bytes:
        return self.node(len(self._offsets) - 1, 0)

    def find(self, item_id: bytes) -> int | None:
        return self.find_leaf(leaf(item_id))

    def find_leaf(self, target: bytes) -> int | None:
        """Index of a leaf in the sorted leaf level, or None: the leaves are hashes, spread evenly,
        so a table of where each leading-bits prefix starts leaves one or two to compare."""
        if self._starts is None:
            self._starts, self._shift = self._prefix_table()
        prefix = int.from_bytes(target[:4], "big") >> self._shift
        lo, hi = self._starts[prefix], self._starts[prefix + 1]
        while lo < hi:
            mid = (lo + hi) // 2
            if self.node(0, mid) < target:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < self.n and self.node(0, lo) == target else None

    def _prefix_table(self) -> tuple[array, int]:
        """Start index of every `bits`-bit prefix among the leaves (one pass, built on first use)."""
        bits = max(1, min(20, self.n.bit_length() - 1))
        shift = 32 - bits
        off, _ = self._offsets[0]
        prefixes = [p >> shift for (p,) in PREFIX.iter_unpack(self._mm[off : off + self.n * 32])]
        starts = array("I", (bisect_left(prefixes, k) for k in range((1 << bits) + 1)))
        return starts, shift

    def proof(self, item_id: bytes) -> list[bytes] | None:
        index = self.find(item_id)
        if index is None:
            return None
        path: list[bytes] = []
        for level, (_, size) in enumerate(self._offsets[:-1]):
            sibling = index ^ 1
            if sibling < size:
                path.append(self.node(level, sibling))
            index //= 2
        return path

    def close(self) -> None:
        self._mm.close()
