"""Indexer throughput on a real Anvil: raw eth_getLogs ceiling, web3.py decoding, and `silktrace
index` into SQLite and PostgreSQL from empty to caught up; then the lag while following a chain
that mines a block a second. Ends with `RESULT {json}`.

Usage: .venv/bin/python scripts/bench/indexer.py [--events 100000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from indexer.config import IndexerConfig
from indexer.decode import NAME_BY_TOPIC0, TOPIC0
from indexer.runner import Indexer
from silktrace.chain import Anvil, Deployment, Sender, connect, deploy
from silktrace.config import PROJECT_ROOT, Settings
from silktrace.ledger import RECORD_TYPES, Action, Ledger, Record, SignedRecord
from silktrace.vocab import Role

POSTGRES_URL = os.environ.get(
    "SILKTRACE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RECORD_TYPEHASH = keccak(text="Record(" + ",".join(
    f"{f['type']} {f['name']}" for f in RECORD_TYPES["Record"]) + ")")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FastSigner:
    """EIP-712 signing of records without eth_account's generic typed-data encoder (~50x faster)."""

    def __init__(self, account: Any, chain_id: int, contract: str) -> None:
        self.account = account
        domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,"
                                  "address verifyingContract)")
        self.domain = keccak(encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [domain_type, keccak(text="SilkTrace"), keccak(text="1"), chain_id, contract],
        ))

    def sign(self, r: Record, nonce: int, deadline: int) -> SignedRecord:
        struct = keccak(encode(
            ["bytes32", "uint8", "bytes32", "uint8", "uint8", "uint32", "uint64", "uint64",
             "bytes32", "bytes32", "uint256", "uint256"],
            [RECORD_TYPEHASH, int(r.action), r.subject, r.biz_step, r.disposition, r.counterparty,
             r.location, r.event_time, r.epcis_hash, keccak(b"".join(r.documents)), nonce,
             deadline],
        ))
        digest = keccak(b"\x19\x01" + self.domain + struct)
        sig = self.account.unsafe_sign_hash(digest).signature
        return SignedRecord(r, self.account.address, nonce, deadline, bytes(sig))


def emit(w3: Any, deployment: Deployment, n_events: int, width: int, batch: int) -> int:
    """About `n_events` ledger events in few transactions: pack/unpack of `width` children and
    relayed batches of `batch` signed records (each with a document)."""
    dev = Sender(w3, address=w3.eth.accounts[0])
    admin = Ledger(w3, deployment, dev)
    acct = Account.create()
    admin.register_enterprise(os.urandom(32), os.urandom(32), int(Role.IMPORTER), acct.address)
    imp = admin.with_sender(Sender(w3, address=w3.eth.accounts[1]))
    admin.transact(admin.contract.functions.addAccount(1, w3.eth.accounts[1]))
    signer = FastSigner(acct, deployment.chain_id, imp.address)
    unit = os.urandom(32)
    imp.register_unit(unit)
    items = [os.urandom(32) for _ in range(width)]
    # Register items without waiting for each receipt: automine mines each on arrival.
    fn = imp.contract.functions
    now = int(time.time()) - 60
    for it in items:
        tx = fn.registerItem(it, b"\0" * 32, 0, now, os.urandom(32)).build_transaction(
            {"from": imp.sender.address, "gas": 300_000})
        last = w3.eth.send_transaction(tx)
    w3.eth.wait_for_transaction_receipt(last)
    emitted = width + 3
    nonce = 0
    deadline = int(time.time()) + 86_400
    k = 0
    while emitted < n_events:
        if k % 2 == 0:
            imp.pack(unit, items)
            imp.unpack(unit, items)
            emitted += 2 * width
        else:
            records = []
            for i in range(batch):
                # Records on the unit: it stays top-level and held, every step is allowed.
                rec = Record(Action.EVENT, unit, 9, 4, 0, i, now, os.urandom(32),
                             (os.urandom(32),))
                records.append(signer.sign(rec, nonce, deadline))
                nonce += 1
            imp.submit_signed_batch(records)
            emitted += batch
        k += 1
        if k % 50 == 0:
            print(f"  emitted {emitted:,} events", file=sys.stderr)
    return emitted


def raw_ceiling(url: str, address: str, start: int, end: int, span: int, loads: Any = orjson.loads
                ) -> tuple[int, float]:
    """Plain eth_getLogs over HTTP, parsed (orjson by default), not decoded: what the node serves."""
    topics = [sorted(TOPIC0.values())]
    n = 0
    t0 = time.perf_counter()
    with httpx.Client(timeout=120) as client:
        b = start
        while b <= end:
            e = min(end, b + span - 1)
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [
                {"address": address, "topics": topics, "fromBlock": hex(b), "toBlock": hex(e)}]}
            resp = client.post(url, content=orjson.dumps(body),
                               headers={"content-type": "application/json"})
            n += len(loads(resp.content)["result"])
            b = e + 1
    return n, time.perf_counter() - t0


def web3_rate(w3: Any, deployment: Deployment, start: int, end: int, span: int, limit: int
              ) -> tuple[int, float]:
    """web3.py's own path: w3.eth.get_logs, then each log decoded by its contract event."""
    contract = deployment.contract(w3)
    events = {t: getattr(contract.events, name)() for t, name in NAME_BY_TOPIC0.items()}
    n = 0
    t0 = time.perf_counter()
    b = start
    while b <= end and n < limit:
        e = min(end, b + span - 1)
        logs = w3.eth.get_logs({"address": contract.address, "fromBlock": b, "toBlock": e,
                                "topics": [list(TOPIC0.values())]})
        for log in logs:
            events["0x" + bytes(log["topics"][0]).hex()].process_log(log)
        n += len(logs)
        b = e + 1
    return n, time.perf_counter() - t0


def index_once(settings: Settings, config: IndexerConfig) -> tuple[int, float]:
    ix = Indexer(settings, config)
    t0 = time.perf_counter()
    try:
        ix.run(follow=False)
    finally:
        ix.close()
    return ix.events_total, time.perf_counter() - t0


def follow_lag(settings: Settings, config: IndexerConfig, w3: Any, deployment: Deployment,
               seconds: float) -> list[float]:
    """Seconds from a block's first sight on the node to its being in SQL, mining 1 block/s."""
    seen: dict[int, float] = {}
    indexed: dict[int, float] = {}

    def progress(block: int, head: int, events: int, eps: float) -> None:
        indexed.setdefault(block, time.perf_counter())

    stop = threading.Event()
    ix = Indexer(settings, config, stop_event=stop, on_progress=progress)
    t = threading.Thread(target=ix.run, kwargs={"follow": True}, daemon=True)
    t.start()
    while ix.cursor is None or ix.cursor.block_number < w3.eth.block_number:
        time.sleep(0.05)
    w3.provider.make_request("evm_setIntervalMining", [1])
    imp = Ledger(w3, deployment, Sender(w3, address=w3.eth.accounts[1]))
    unit = os.urandom(32)
    fn = imp.contract.functions
    w3.eth.send_transaction(fn.registerUnit(unit, 0, int(time.time()) - 60, os.urandom(32))
                            .build_transaction({"from": imp.sender.address, "gas": 300_000}))
    client = httpx.Client()
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})
    t_end = time.perf_counter() + seconds
    next_tx = 0.0
    while time.perf_counter() < t_end:
        now = time.perf_counter()
        head = int(orjson.loads(client.post(settings.rpc_url, content=body,
                                            headers={"content-type": "application/json"})
                                .content)["result"], 16)
        seen.setdefault(head, now)
        if now > next_tx:  # a record in most blocks, so that following has events to write
            rec = Record(Action.EVENT, unit, 9, 4, 0, 0, int(time.time()) - 60, os.urandom(32),
                         (os.urandom(32),))
            w3.eth.send_transaction(fn.submit(rec.as_tuple()).build_transaction(
                {"from": imp.sender.address, "gas": 300_000}))
            next_tx = now + 0.5
        time.sleep(0.005)
    stop.set()
    t.join(10)
    ix.close()
    client.close()
    w3.provider.make_request("evm_setIntervalMining", [0])
    first = min(seen)
    lags = [indexed[b] - seen[b] for b in seen if b > first and b in indexed]
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--width", type=int, default=250, help="children packed per transaction")
    parser.add_argument("--batch", type=int, default=150, help="signed records per transaction")
    parser.add_argument("--web3-sample", type=int, default=20_000,
                        help="events decoded by web3.py (its rate is what counts)")
    parser.add_argument("--follow-seconds", type=float, default=15.0)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        port = free_port()
        node = Anvil(PROJECT_ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil",
                     port=port, log_file=data / "anvil.log")
        node.start()
        try:
            settings = Settings(_env_file=None, data_dir=data, rpc_url=node.url)  # type: ignore[call-arg]
            w3 = connect(node.url, timeout=120)
            deployment = deploy(settings, w3, log=lambda *_: None)
            t0 = time.perf_counter()
            emitted = emit(w3, deployment, args.events, args.width, args.batch)
            print(f"emitted {emitted:,} events in {time.perf_counter() - t0:.1f}s, "
                  f"head {w3.eth.block_number}", file=sys.stderr)
            start, end = deployment.ledger.start_block, w3.eth.block_number
            config = IndexerConfig(_env_file=None)  # type: ignore[call-arg]
            span = 64  # blocks a request: about target_logs logs with this emitter

            n_raw, t_raw = raw_ceiling(node.url, deployment.ledger.address, start, end, span)
            raw_eps = n_raw / t_raw
            print(f"raw eth_getLogs    {n_raw:>9,} events {t_raw:7.2f}s {raw_eps:>9,.0f} ev/s "
                  "(httpx + orjson: the strict ceiling the ratios use)")
            n_js, t_js = raw_ceiling(node.url, deployment.ledger.address, start, end, span,
                                     json.loads)
            raw_json_eps = n_js / t_js
            print(f"raw, stdlib json   {n_js:>9,} events {t_js:7.2f}s {raw_json_eps:>9,.0f} ev/s")
            n_w3, t_w3 = web3_rate(w3, deployment, start, end, span, args.web3_sample)
            web3_eps = n_w3 / t_w3
            print(f"web3.py get_logs   {n_w3:>9,} events {t_w3:7.2f}s {web3_eps:>9,.0f} ev/s "
                  f"({web3_eps / raw_eps:.0%} of raw)")

            sqlite = Settings(_env_file=None, data_dir=data, rpc_url=node.url,  # type: ignore[call-arg]
                              database_url=f"sqlite:///{data / 'bench.db'}")
            n_sq, t_sq = index_once(sqlite, config)
            sqlite_eps = n_sq / t_sq
            print(f"index -> SQLite    {n_sq:>9,} events {t_sq:7.2f}s {sqlite_eps:>9,.0f} ev/s "
                  f"({sqlite_eps / raw_eps:.0%} of raw)")

            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                pg = Settings(_env_file=None, data_dir=data, rpc_url=node.url,  # type: ignore[call-arg]
                              database_url=f"{args.postgres_url}?options=-csearch_path%3D{schema}")
                n_pg, t_pg = index_once(pg, config)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
            postgres_eps = n_pg / t_pg
            print(f"index -> Postgres  {n_pg:>9,} events {t_pg:7.2f}s {postgres_eps:>9,.0f} ev/s "
                  f"({postgres_eps / raw_eps:.0%} of raw)")
            assert n_sq == n_pg == n_raw, (n_sq, n_pg, n_raw)

            lags = follow_lag(sqlite, config, w3, deployment, args.follow_seconds)
            lag = max(lags) if lags else float("nan")
            print(f"follow lag         {len(lags)} blocks at 1 block/s: median "
                  f"{statistics.median(lags):.3f}s, max {lag:.3f}s")
        finally:
            node.kill()

    result = {
        "n_events": n_raw,
        "raw_eps": round(raw_eps),
        "raw_json_eps": round(raw_json_eps),
        "web3_eps": round(web3_eps),
        "sqlite_eps": round(sqlite_eps),
        "postgres_eps": round(postgres_eps),
        "sqlite_ratio": round(sqlite_eps / raw_eps, 3),
        "postgres_ratio": round(postgres_eps / raw_eps, 3),
        "follow_lag_s": round(lag, 3),
        "follow_lag_median_s": round(statistics.median(lags), 3) if lags else None,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
