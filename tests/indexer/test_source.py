"""The source without a node: parsing large eth_getLogs answers, decoding in parts, proxies."""

from __future__ import annotations

import base64
import gzip
import http.server
import json
import random
import threading
from itertools import pairwise
from typing import Any, ClassVar

import orjson
import pytest
from eth_abi import encode

from indexer import source
from indexer.config import IndexerConfig
from indexer.decode import TOPIC0
from indexer.errors import RpcError
from indexer.source import Download, Header, LogSource, Rpc, _log_pieces, _logs

ADDRESS = "0x" + "ab" * 20


def _logs_of(rng: random.Random, blocks: int, per_block: int, first: int = 100
             ) -> list[dict[str, Any]]:
    """Packed and EventRecorded logs as a node sends them, `per_block` in each of `blocks`."""
    out = []
    for b in range(first, first + blocks):
        block_hash = "0x" + rng.randbytes(32).hex()
        for i in range(per_block):
            if i % 2:
                topics = [TOPIC0["Packed"], "0x" + rng.randbytes(32).hex(),
                          "0x" + rng.randbytes(32).hex(), "0x" + encode(["uint32"], [7]).hex()]
                data = "0x" + encode(["address"], ["0x" + "cd" * 20]).hex()
            else:
                topics = [TOPIC0["EventRecorded"], "0x" + rng.randbytes(32).hex(),
                          "0x" + encode(["uint32"], [7]).hex(), "0x" + encode(["uint8"], [9]).hex()]
                data = "0x" + encode(
                    ["uint8", "uint64", "uint64", "bytes32", "address", "bytes32[]"],
                    [4, 5, 6, rng.randbytes(32), "0x" + "cd" * 20, [rng.randbytes(32)]],
                ).hex()
            out.append({
                "address": ADDRESS, "topics": topics, "data": data, "blockHash": block_hash,
                "blockNumber": hex(b), "blockTimestamp": hex(1_700_000_000 + b),
                "transactionHash": "0x" + rng.randbytes(32).hex(), "transactionIndex": "0x0",
                "logIndex": hex(i), "removed": False,
            })
    return out


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "_PIECE", 4096)  # many pieces from a test-sized answer


def test_large_answers_parse_in_pieces_to_the_same_logs(small_pieces: None) -> None:
    logs = _logs_of(random.Random(1), 20, 30)
    body = orjson.dumps({"jsonrpc": "2.0", "id": 3, "result": logs})
    pieces = list(_log_pieces(body))
    assert len(pieces) > 10
    assert [x for p in pieces for x in p] == logs == _logs(body)
    # Another key order, and separators with blanks (no cut point: parsed as one piece).
    assert _logs(orjson.dumps({"result": logs, "id": 3, "jsonrpc": "2.0"})) == logs
    assert _logs(json.dumps({"jsonrpc": "2.0", "id": 3, "result": logs}).encode()) == logs


def test_a_piece_that_does_not_parse_falls_back_to_the_whole_answer(small_pieces: None) -> None:
    logs = _logs_of(random.Random(2), 10, 30)
    for x in logs[100:]:  # a node that nests objects: `},{` inside logs, where cuts go wrong
        x["extra"] = [{"x": 1}, {"y": 2}]
    body = orjson.dumps({"jsonrpc": "2.0", "id": 3, "result": logs})
    pieces = list(_log_pieces(body))
    assert len(pieces) > 1 and pieces[-1] == logs[sum(map(len, pieces[:-1])) :]
    assert _logs(body) == logs


def _source(logs: list[dict[str, Any]]) -> LogSource:
    config = IndexerConfig(_env_file=None)  # type: ignore[call-arg]
    src = LogSource(Rpc("http://127.0.0.1:1"), ADDRESS, config, 31337)
    by_number = {int(x["blockNumber"], 16): x["blockHash"] for x in logs}

    def headers(numbers: Any) -> dict[int, Header]:
        return {n: Header(n, by_number.get(n, f"0x{n:064x}"), f"0x{n - 1:064x}", 1_700_000_000 + n)
                for n in numbers}

    src.headers = headers  # type: ignore[method-assign]
    return src


def test_decoding_in_parts_gives_the_same_events_cut_between_blocks(small_pieces: None) -> None:
    logs = _logs_of(random.Random(3), 12, 25)
    body = orjson.dumps({"jsonrpc": "2.0", "id": 3, "result": logs})
    src = _source(logs)
    dl = Download(100, 115, False, None, body)  # four blocks past the last log
    whole = src.finish(dl, dense_from=10**9)
    parts = list(src.finish_parts(dl, dense_from=10**9, part=60))
    assert len(parts) > 3
    assert parts[0].start == 100 and parts[-1].end == 115
    assert all(a.end + 1 == b.start for a, b in pairwise(parts))
    for p in parts:
        assert all(p.start <= e.block_number <= p.end for e in p.events)
        assert p.end in p.headers  # the cursor's block, for the writer
    assert [list(e) for p in parts for e in p.events] == [list(e) for e in whole.events]
    assert [e.block_time for e in whole.events] == [1_700_000_000 + e.block_number
                                                    for e in whole.events]


class _Proxy(http.server.BaseHTTPRequestHandler):
    """An HTTP proxy that answers JSON-RPC itself and remembers what it was asked."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.seen.append((self.path, self.headers.get("proxy-authorization")))
        request_id = orjson.loads(body)["id"]
        answer = orjson.dumps({"jsonrpc": "2.0", "id": request_id, "result": "0x7a69"})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        if "gzip" in self.headers.get("accept-encoding", ""):  # as a remote node may answer
            answer = gzip.compress(answer)
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def test_rpc_goes_through_the_environment_proxy_and_inflates_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv("HTTP_PROXY", f"http://me:secret@127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        rpc = Rpc("http://node.invalid:8545/rpc")
        assert rpc.call("eth_chainId") == "0x7a69"
        path, auth = _Proxy.seen[-1]
        assert path == "http://node.invalid:8545/rpc"
        assert auth == "Basic " + base64.b64encode(b"me:secret").decode()
        rpc.close()
        monkeypatch.setenv("NO_PROXY", "node.invalid")  # bypassed: straight to a host that is not
        with pytest.raises(RpcError, match="unreachable"):
            Rpc("http://node.invalid:8545/rpc", timeout=2).call("eth_chainId")
    finally:
        server.shutdown()
        server.server_close()
