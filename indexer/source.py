"""The chain side: raw JSON-RPC over HTTP (batched), adaptive `eth_getLogs` ranges, prefetching.

web3.py's middleware and formatters cost more than the node's own work for bulk log reads, so this
module speaks JSON-RPC directly over the standard library's HTTP client (a keep-alive connection
per thread; it reads a body in one call where httpx costs twice the CPU in small chunks) and parses
with orjson; web3 is used only for setup.
"""

from __future__ import annotations

import base64
import http.client
import logging
import queue
import threading
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import orjson

from indexer.config import IndexerConfig
from indexer.decode import TOPIC0, BlockRefs, Event, decode_logs
from indexer.errors import ChainChanged, RangeTooLarge, RpcError

log = logging.getLogger(__name__)

# Phrases nodes use when a log query is too large (geth, erigon, besu, nethermind, Alchemy, Infura,
# QuickNode, Ankr...); matched lower-case. Code -32005 is Infura's "limit exceeded".
_TOO_LARGE = (
    "more than", "too many", "limit exceeded", "response size", "block range", "range too",
    "too large", "exceed", "query timeout", "returned more", "max results", "response is too big",
    "log response size",
)


@dataclass(frozen=True, slots=True)
class Header:
    """The few fields of a block header the indexer keeps."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @classmethod
    def from_json(cls, block: dict[str, Any]) -> Header:
        return cls(int(block["number"], 16), block["hash"], block["parentHash"],
                   int(block["timestamp"], 16))


def _inflate(content: bytes) -> bytes:
    """A gzip or deflate body (zlib-wrapped, or raw as some servers send it) decompressed."""
    try:
        return zlib.decompress(content, 47)  # 32 + 15: a gzip or a zlib header
    except zlib.error:
        return zlib.decompress(content, -15)


def _basic(url: urllib.parse.SplitResult) -> str:
    """HTTP Basic credentials from a URL's user:password."""
    cred = f"{urllib.parse.unquote(url.username or '')}:{urllib.parse.unquote(url.password or '')}"
    return "Basic " + base64.b64encode(cred.encode()).decode()


class Rpc:
    """A JSON-RPC client over one keep-alive HTTP connection, with batch calls (one thread each)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RpcError(f"not an HTTP(S) JSON-RPC URL: {url}", transient=False)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"content-type": "application/json", "accept": "application/json",
                         "accept-encoding": "gzip, deflate"}  # remote nodes compress log answers
        if parts.username is not None:  # https://user:key@host/...
            self._headers["authorization"] = _basic(parts)
        # HTTP(S)_PROXY / ALL_PROXY / NO_PROXY as httpx and requests read them.
        self._proxy: urllib.parse.SplitResult | None = None
        proxy = urllib.request.getproxies().get(parts.scheme) or urllib.request.getproxies().get(
            "all")
        if proxy and not urllib.request.proxy_bypass(parts.hostname):
            self._proxy = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            if not self._https:  # plain HTTP goes to the proxy with the absolute URL
                netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
                self._path = f"http://{netloc}{self._path}"
                if self._proxy.username is not None:
                    self._headers["proxy-authorization"] = _basic(self._proxy)
        self._conn: http.client.HTTPConnection | None = None
        self._id = 0
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            proxy = self._proxy
            if proxy is None:
                cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                self._conn = cls(self._host, self._port, timeout=self.timeout)
            elif not self._https:
                self._conn = http.client.HTTPConnection(proxy.hostname or "", proxy.port,
                                                        timeout=self.timeout)
            else:  # TLS to the node through a CONNECT tunnel
                self._conn = http.client.HTTPSConnection(proxy.hostname or "", proxy.port,
                                                         timeout=self.timeout)
                auth = {} if proxy.username is None else {"Proxy-Authorization": _basic(proxy)}
                self._conn.set_tunnel(self._host, self._port, headers=auth)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send(self, payload: Any) -> bytes:
        try:
            conn = self._connection()
            conn.request("POST", self._path, orjson.dumps(payload), self._headers)
            resp = conn.getresponse()
            status, content = resp.status, resp.read()
            encoding = (resp.getheader("content-encoding") or "").lower()
            if encoding in ("gzip", "deflate"):
                content = _inflate(content)
        except (OSError, http.client.HTTPException, zlib.error) as exc:
            self.close()  # a broken keep-alive connection must not be reused
            raise RpcError(f"node unreachable at {self.url}: {type(exc).__name__}: {exc}") from exc
        if status == 413:
            raise RangeTooLarge("the node refused the request size (HTTP 413)")
        if status >= 400 and not content.startswith((b"{", b"[")):
            text = content[:200].decode(errors="replace")
            raise RpcError(f"HTTP {status} from {self.url}: {text}")
        return content

    @staticmethod
    def parse(body: bytes) -> Any:
        """A JSON-RPC answer's JSON."""
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RpcError(f"malformed JSON-RPC answer: {body[:200]!r}") from exc

    def _post(self, payload: Any) -> Any:
        return self.parse(self._send(payload))

    def _next_id(self) -> int:
        with self._lock:
            self._id += 1
            return self._id

    @staticmethod
    def error(method: str, err: dict[str, Any]) -> RpcError:
        """The exception for a JSON-RPC error object."""
        message = str(err.get("message", err))
        code = err.get("code")
        lowered = message.lower()
        if method == "eth_getLogs" and (code == -32005 or any(p in lowered for p in _TOO_LARGE)):
            return RangeTooLarge(f"{method}: {message}", rpc_code=code)
        return RpcError(f"{method}: {message}", rpc_code=code, transient=False)

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call; a JSON-RPC error raises RpcError (RangeTooLarge for oversized log queries)."""
        answer = self._post({"jsonrpc": "2.0", "id": self._next_id(), "method": method,
                             "params": list(params)})
        if not isinstance(answer, dict):
            raise RpcError(f"{method}: unexpected answer {str(answer)[:200]}")
        if "error" in answer:
            raise self.error(method, answer["error"])
        return answer.get("result")

    def call_raw(self, method: str, params: Sequence[Any] = ()) -> bytes:
        """One call whose answer stays the node's bytes: parsing (and errors) are the caller's."""
        return self._send({"jsonrpc": "2.0", "id": self._next_id(), "method": method,
                           "params": list(params)})

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls in one HTTP request; results in the order of `calls`."""
        if not calls:
            return []
        first = self._next_id()
        payload = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
                   for i, (m, p) in enumerate(calls)]
        with self._lock:
            self._id = first + len(calls)
        answer = self._post(payload)
        if isinstance(answer, dict):  # some nodes answer a whole batch with one error object
            raise self.error(calls[0][0], answer.get("error", answer))
        by_id = {a.get("id"): a for a in answer}
        out = []
        for i, (method, _params) in enumerate(calls):
            a = by_id.get(first + i)
            if a is None:
                raise RpcError(f"{method}: missing from the batch answer")
            if "error" in a:
                raise self.error(method, a["error"])
            out.append(a.get("result"))
        return out


@dataclass
class Chunk:
    """The ledger's logs in blocks [start, end], decoded, with the headers needed to check them."""

    start: int
    end: int
    events: list[Event]
    headers: dict[int, Header]  # end, every block with events, and all of [start, end] if `dense`
    dense: bool  # every header of the range is present and linked (the unsafe zone near head)
    fetched_at: float = field(default_factory=time.monotonic)


@dataclass
class Download:
    """The node's answer to one `eth_getLogs`, not yet parsed (large answers) or parsed (small)."""

    start: int
    end: int
    dense: bool  # the range reaches the unsafe zone near the head
    before: Header | None  # the end block, read before the logs (dense ranges)
    body: bytes | None  # the JSON-RPC answer as the node sent it
    logs: list[dict[str, Any]] | None = None  # or already parsed
    # Every header of [start, end], read after the logs, when the range has no more blocks than
    # logs (one batch here, rather than one a decoded part where the decoding is).
    headers: dict[int, Header] | None = None


# Answers up to this size are parsed where they arrive (errors are small; so are sparse ranges).
_PARSE_AT_ONCE = 64 * 1024


class LogSource:
    """Reads the ledger's logs with `eth_getLogs` in block spans that adapt to the node."""

    def __init__(self, rpc: Rpc, address: str, config: IndexerConfig, chain_id: int = 0) -> None:
        self.rpc = rpc
        self.address = address.lower()
        self.chain_id = chain_id
        self.config = config
        self.topics = [sorted(TOPIC0.values())]
        self.span = config.initial_range
        self.requests = 0

    # ------------------------------------------------------------------ primitives
    def head(self) -> Header:
        """The latest block."""
        block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        if block is None:
            raise RpcError("the node has no latest block")
        return Header.from_json(block)

    def headers(self, numbers: Sequence[int]) -> dict[int, Header]:
        """Headers by number, in batches; a missing block raises ChainChanged."""
        found = self.maybe_headers(numbers)
        for n, h in found.items():
            if h is None:
                raise ChainChanged(f"block {n} is no longer on the node's chain")
        return found  # type: ignore[return-value]

    def maybe_headers(self, numbers: Sequence[int]) -> dict[int, Header | None]:
        """Headers by number, in batches; None for a block the node does not have."""
        out: dict[int, Header | None] = {}
        size = self.config.header_batch
        nums = sorted(set(numbers))
        for i in range(0, len(nums), size):
            part = nums[i : i + size]
            blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in part])
            for n, block in zip(part, blocks, strict=True):
                out[n] = None if block is None else Header.from_json(block)
        return out

    def raw_logs(self, start: int, end: int) -> list[dict[str, Any]]:
        """The logs of [start, end], parsed."""
        body, logs = self._get_logs(start, end)
        return logs if logs is not None else _logs(body)

    def _get_logs(self, start: int, end: int) -> tuple[bytes, list[dict[str, Any]] | None]:
        """The node's answer to eth_getLogs of [start, end]; a small one is parsed (and errors
        raised) at once, a large one (never an error) is left to parse where it is decoded."""
        self.requests += 1
        body = self.rpc.call_raw("eth_getLogs", [{
            "address": self.address, "topics": self.topics,
            "fromBlock": hex(start), "toBlock": hex(end),
        }])
        return body, (_logs(body) if len(body) <= _PARSE_AT_ONCE else None)

    # ------------------------------------------------------------------ one range
    def download(self, start: int, end: int, *, dense_from: int) -> Download:
        """The node's answer for the logs of [start, end], end cut to the adaptive span.

        Only as much parsing as adapting the span needs: the decoding is `finish`'s, which may run
        on another thread while this one waits for the node's next answer.
        """
        cfg = self.config
        while True:
            stop = min(end, start + self.span - 1)
            dense = stop >= dense_from
            before = self.headers([stop])[stop] if dense else None
            try:
                body, logs = self._get_logs(start, stop)
            except RangeTooLarge:
                if stop == start or self.span <= cfg.min_range:
                    raise
                self.span = max(cfg.min_range, (stop - start + 1) // 2)
                log.info("node refused %d blocks of logs; span now %d", stop - start + 1, self.span)
                continue
            break
        n = len(logs) if logs is not None else body.count(b'"logIndex"')
        # Aim at `target_logs` a request: sparse ranges grow fast, dense ones shrink.
        if n < cfg.target_logs // 2 and stop - start + 1 >= self.span:
            self.span = min(cfg.max_range, self.span * 2)
        elif n > cfg.target_logs:
            self.span = max(cfg.min_range, int(self.span * cfg.target_logs / n))
        headers = None
        if logs is None and not dense and stop - start + 1 <= n:
            headers = self.headers(range(start, stop + 1))
        return Download(start, stop, dense, before, None if logs is not None else body, logs,
                        headers)

    def finish(self, dl: Download, *, dense_from: int) -> Chunk:
        """Decode a download and check it against the chain's headers, as one chunk."""
        logs = dl.logs if dl.logs is not None else _logs(dl.body or b"")
        blocks: BlockRefs = {}
        events = decode_logs(logs, self.chain_id, self.address, blocks)
        return self._checked(dl.start, dl.end, events, blocks, dense_from=dense_from,
                             dense=dl.dense, before=dl.before, known=dl.headers)

    def finish_parts(self, dl: Download, *, dense_from: int, part: int) -> Iterator[Chunk]:
        """Like `finish`, but a large download comes out as it is decoded, in chunks of about
        `part` events cut between blocks, so that the writer can start on the first ones."""
        if dl.dense or dl.body is None:
            yield self.finish(dl, dense_from=dense_from)
            return
        blocks: BlockRefs = {}
        events: list[Event] = []
        start = dl.start
        for logs in _log_pieces(dl.body):
            events += decode_logs(logs, self.chain_id, self.address, blocks)
            if len(events) < part:
                continue
            last = events[-1][3]  # its logs may go on in the next piece
            cut = len(events) - 1
            while cut > 0 and events[cut - 1][3] == last:
                cut -= 1
            if cut == 0:
                continue
            done = {n: blocks.pop(n) for n in [n for n in blocks if n < last]}
            yield self._checked(start, last - 1, events[:cut], done, dense_from=dense_from,
                                known=dl.headers)
            events = events[cut:]
            start = last
        yield self._checked(start, dl.end, events, blocks, dense_from=dense_from,
                            known=dl.headers)

    def _checked(self, start: int, stop: int, events: list[Event], blocks: BlockRefs, *,
                 dense_from: int, dense: bool = False, before: Header | None = None,
                 known: dict[int, Header] | None = None) -> Chunk:
        """The chunk of [start, stop] once its events are checked against the chain's headers.

        Blocks at or above `dense_from` are near the head, where reorgs happen: for them every
        header is fetched, the end block's hash is read before and after the logs so the logs
        provably belong to that chain, and the headers must link.
        """
        wanted = set(blocks)
        wanted.add(stop)
        if dense:
            wanted.update(range(max(start, dense_from), stop + 1))
        if known is not None and wanted.issubset(known.keys()):
            headers = {n: known[n] for n in wanted}
        else:
            headers = self.headers(sorted(wanted))
        if before is not None and headers[stop].hash != before.hash:
            raise ChainChanged(f"block {stop} changed while its logs were read")
        untimed = False
        for number, (block_hash, stamp) in blocks.items():
            h = headers[number]
            if block_hash != h.hash:
                raise ChainChanged(f"logs of block {number} are not on the current chain")
            if stamp is None:
                untimed = True
            elif stamp != h.timestamp:
                raise RpcError(f"the node's logs of block {number} have another timestamp "
                               f"({stamp}) than its header ({h.timestamp})", transient=False)
        if untimed:  # the node does not put blockTimestamp in its logs
            for e in events:
                e[5] = headers[e[3]].timestamp
        if dense:
            for k in range(max(start, dense_from) + 1, stop + 1):
                if headers[k].parent_hash != headers[k - 1].hash:
                    raise ChainChanged(f"blocks {k - 1} and {k} do not link")
        return Chunk(start, stop, events, headers, dense and start >= dense_from)

    def fetch(self, start: int, end: int, *, dense_from: int) -> Chunk:
        """Logs of [start, end] (end may be cut to the adaptive span), decoded and checked."""
        return self.finish(self.download(start, end, dense_from=dense_from), dense_from=dense_from)

    def ranges(self, start: int, end: int, *, dense_from: int) -> Iterator[Chunk]:
        """Consecutive chunks from `start` to `end`."""
        while start <= end:
            chunk = self.fetch(start, end, dense_from=dense_from)
            yield chunk
            start = chunk.end + 1


# A large answer is parsed in pieces of about this size (see `_log_pieces`).
_PIECE = 256 * 1024


def _log_pieces(body: bytes) -> Iterator[list[dict[str, Any]]]:
    """The log list of an eth_getLogs answer, in consecutive pieces as they are parsed.

    One orjson call holds the GIL for all its work (about 4 ms a megabyte here), which would stall
    the writer thread each time it comes back from a SQLite step; pieces keep each hold short, and
    let decoding start before the whole answer is parsed. They are cut between log objects, at
    `},{`, which occurs nowhere inside one (a log is a flat object of hex strings and one array of
    them). Should a piece not parse after all, the rest comes from parsing the whole answer.
    """
    start = body.find(b'"result"') if len(body) > 2 * _PIECE else -1
    start = body.find(b"[", start) if start >= 0 else -1
    end = body.rfind(b"}]")
    if start < 0 or end < start or body[start + 1 : start + 2] != b"{":
        yield _whole(body)
        return
    view = memoryview(body)
    done = 0
    a = start + 1
    while True:
        cut = body.find(b"},{", a + _PIECE, end)
        b = end + 1 if cut < 0 else cut + 1
        try:
            piece = orjson.loads(b"".join((b"[", view[a:b], b"]")))
        except orjson.JSONDecodeError:
            piece = None
        if not isinstance(piece, list):
            yield _whole(body)[done:]
            return
        done += len(piece)
        yield piece
        if cut < 0:
            return
        a = cut + 2


def _logs(body: bytes) -> list[dict[str, Any]]:
    """The log list of an eth_getLogs answer."""
    pieces = list(_log_pieces(body))
    return pieces[0] if len(pieces) == 1 else list(chain.from_iterable(pieces))


def _whole(body: bytes) -> list[dict[str, Any]]:
    """The log list of an eth_getLogs answer, parsed in one go."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RpcError(f"malformed JSON-RPC answer: {body[:200]!r}") from exc
    logs = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(logs, list):
        if isinstance(answer, dict) and "error" in answer:
            raise Rpc.error("eth_getLogs", answer["error"])
        raise RpcError(f"eth_getLogs: unexpected answer {str(answer)[:200]}")
    return logs


class Prefetcher:
    """Chunks ahead of the consumer, on two threads: one waits for the node's answers, the other
    decodes them, so that the node, the decoding and the consumer's SQL all overlap."""

    _DONE = object()

    def __init__(self, source: LogSource, start: int, end: int, *, dense_from: int, depth: int) -> None:
        # Sources of their own: one HTTP connection per thread.
        def own() -> LogSource:
            s = LogSource(Rpc(source.rpc.url, timeout=source.rpc.timeout), source.address,
                          source.config, source.chain_id)
            s.span = source.span
            return s

        self.source = own()  # downloads, and adapts the span
        self._part = max(source.config.target_logs // 2, 1)  # events a decoded chunk
        self._decoding = own()  # header reads of the decoder
        # Raw answers wait for the decoder (which keeps up); decoded chunks wait for the writer,
        # `depth` answers' worth of them (an answer is decoded in two chunks or more).
        self.raw: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.q: queue.Queue[Any] = queue.Queue(maxsize=2 * max(depth, 1))
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._download, args=(start, end, dense_from),
                             name="indexer-download", daemon=True),
            threading.Thread(target=self._decode, args=(dense_from,), name="indexer-decode",
                             daemon=True),
        ]
        for t in self._threads:
            t.start()

    @property
    def span(self) -> int:
        return self.source.span

    def ready(self) -> bool:
        """Whether a chunk (or the end) is waiting for the consumer."""
        return not self.q.empty()

    def _download(self, start: int, end: int, dense_from: int) -> None:
        try:
            while start <= end:
                dl = self.source.download(start, end, dense_from=dense_from)
                if not self._put(self.raw, dl):
                    return
                start = dl.end + 1
        except BaseException as exc:  # handed to the consumer, which decides
            self._put(self.raw, exc)
            return
        self._put(self.raw, self._DONE)

    def _decode(self, dense_from: int) -> None:
        while not self._stop.is_set():
            try:
                item = self.raw.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is self._DONE or isinstance(item, BaseException):
                self._put(self.q, item)
                return
            try:
                for chunk in self._decoding.finish_parts(item, dense_from=dense_from,
                                                         part=self._part):
                    if not self._put(self.q, chunk):
                        return
            except BaseException as exc:
                self._put(self.q, exc)
                return

    def _put(self, q: queue.Queue[Any], item: Any) -> bool:
        while not self._stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            item = self.q.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        self.source.rpc.close()
        self._decoding.rpc.close()
