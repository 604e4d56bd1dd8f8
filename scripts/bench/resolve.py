"""Benchmark: resolving random item codes as JSON, against /health of the same server.

Sets up a real Anvil with the ledger, registers lots on chain by their Merkle roots, inserts the
1,000,000 items of their manifests straight into SQL (SQLite file and a PostgreSQL schema), lets
the real indexer mirror the chain into both, then runs `uvicorn api.main:create_app` (one worker)
on each database and drives it with an asyncio HTTP client (aiohttp): /health first, then random
signed item codes with `Accept: application/json`.

    .venv/bin/python scripts/bench/resolve.py [--items 1000000] [--lots 10] [--seconds 15]

Ends with `RESULT {json}`: items, health_rps, sqlite_rps, sqlite_p99_ms, postgres_rps,
postgres_p99_ms, sqlite_ratio, postgres_ratio (resolution requests/s over the /health
requests/s of the same server, the two measured in alternating windows; health_rps is the mean
of both servers').
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.manifest import item_path, write_tree  # noqa: E402
from api.signing import b64url, new_qr_key, sign_qr  # noqa: E402
from silktrace import gs1  # noqa: E402
from silktrace.chain import Anvil, Sender, connect, deploy  # noqa: E402
from silktrace.config import Settings  # noqa: E402
from silktrace.db import create_db_engine, create_tables  # noqa: E402
from silktrace.ledger import Action, Ledger, Record  # noqa: E402
from silktrace.merkle import leaf  # noqa: E402
from silktrace.vocab import DISPOSITION_BY_NAME, STEP_BY_NAME  # noqa: E402

PG = os.environ.get("SILKTRACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------ data


def build_chain(settings: Settings, lots: list[dict[str, Any]]) -> tuple[int, str]:
    """Deploy, register one importer and the lots (roots on chain) and a few steps per lot."""
    w3 = connect(settings.rpc_url, wait=10)
    deployment = deploy(settings, w3, log=lambda *_: None)
    admin = Ledger(w3, deployment, Sender.from_settings(w3, settings))
    importer_addr = list(w3.eth.accounts)[1]  # an unlocked dev account
    eid = admin.register_enterprise(b"\x01" * 32, b"\x02" * 32, 1 | 4, importer_addr)
    ledger = admin.with_sender(Sender(w3, address=importer_addr))
    t0 = int(time.time()) - 86400 * 20
    for i, lot in enumerate(lots):
        ledger.register_lot(lot["lot_bytes"], lot["root"], lot["count"], b"\x03" * 32,
                            location=6901234000016, event_time=t0 + i)
        for k, step in enumerate(("storing", "departing", "arriving", "bonded_entry", "storing")):
            ledger.submit(Record(
                Action.EVENT, lot["lot_bytes"], STEP_BY_NAME[step].code,
                DISPOSITION_BY_NAME.get(STEP_BY_NAME[step].disposition or "", 0), 0, 6901234000016,
                t0 + 3600 * (k + 1) + i, b"\x04" * 32, (b"\x05" * 32,),
            ))
    return eid, importer_addr


def make_lots(n_items: int, n_lots: int, work: Path, gtin: str) -> list[dict[str, Any]]:
    per = n_items // n_lots
    lots = []
    for i in range(n_lots):
        code = f"BENCH{i:03d}"
        serials = [f"{j:07d}" for j in range(per)]
        ids = [gs1.subject_id(item_path(gtin, code, s)) for s in serials]
        leaves = sorted(leaf(x) for x in ids)
        lot_link = gs1.lot(gtin, code)
        lot_id = "0x" + lot_link.subject_id.hex()
        root = write_tree(leaves, work / "manifests" / f"{lot_id}.tree")
        lots.append({"code": code, "lot_id": lot_id, "lot_bytes": lot_link.subject_id, "root": root,
                     "count": per, "serials": serials, "ids": ["0x" + x.hex() for x in ids]})
        log(f"lot {code}: {per} items, tree written")
    return lots


def fill_sql(url: str, lots: list[dict[str, Any]], gtin: str, eid: int, account: str,
             qr_public: str) -> None:
    """The API's own rows, inserted straight into SQL (items in bulk)."""
    engine = create_db_engine(url)
    create_tables(engine)
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    ph = "?" if url.startswith("sqlite") else "%s"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO enterprise_profile (enterprise_id, chain_id, name_zh, name_en, credit_code, country, "
            f"roles, account, custodial, metadata_hash, created_at) VALUES ({','.join([ph] * 11)})",
            (eid, 31337, "泉州基准进口公司", "Quanzhou Bench Import", "91350500MA2XQK9999", "CN", 5,
             account.lower(), False, "0x" + "02" * 32, now),
        )
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO signing_key (enterprise_id, purpose, version, public, status, created_at) "
            f"VALUES ({ph},{ph},{ph},{ph},{ph},{ph})", (eid, "qr", 1, qr_public, "active", now))
        conn.exec_driver_sql(
            f"INSERT INTO product (gtin, enterprise_id, name_zh, name_en, brand, category, country_of_origin, "
            f"shelf_life_days, created_at) VALUES ({','.join([ph] * 9)})",
            (gtin, eid, "婴儿配方奶粉", "Infant formula", "Koala", "infant_formula", "AU", 720, now))
        for i, lot in enumerate(lots):
            conn.exec_driver_sql(
                f"INSERT INTO lot (lot_id, gtin, lot_code, enterprise_id, status, item_count, items_root, "
                f"created_at) VALUES ({','.join([ph] * 8)})",
                (lot["lot_id"], gtin, lot["code"], eid, "registered", lot["count"], "0x" + lot["root"].hex(), now))
            conn.exec_driver_sql(
                f"INSERT INTO manifest (id, lot_id, sha256, format, item_count, items_root, status, created_at) "
                f"VALUES ({','.join([ph] * 8)})",
                (i + 1, lot["lot_id"], "0x" + "03" * 32, "csv", lot["count"], "0x" + lot["root"].hex(),
                 "registered", now))
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        for i, lot in enumerate(lots):
            db.executemany("INSERT INTO manifest_item (item_id, manifest_id, lot_id, serial) VALUES (?,?,?,?)",
                           ((x, i + 1, lot["lot_id"], s) for x, s in zip(lot["ids"], lot["serials"], strict=True)))
            db.commit()
        db.close()
    else:
        import psycopg

        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy("COPY manifest_item (item_id, manifest_id, lot_id, serial) FROM STDIN") as cp:  # type: ignore[attr-defined]
                for i, lot in enumerate(lots):
                    for x, s in zip(lot["ids"], lot["serials"], strict=True):
                        cp.write_row((x, i + 1, lot["lot_id"], s))
            raw.commit()
        finally:
            raw.close()
        _ = psycopg
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def index(settings: Settings) -> None:
    from indexer.config import IndexerConfig
    from indexer.runner import run

    run(settings, follow=False, config=IndexerConfig(_env_file=None))  # type: ignore[call-arg]


# ------------------------------------------------------------------------------ load


async def load(url_for: Any, seconds: float, concurrency: int) -> tuple[int, float, list[float], int]:
    """(requests, elapsed s, latencies s, errors) of `concurrency` clients for `seconds`."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn, headers={"Accept": "application/json"}) as session:

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                async with session.get(url_for()) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return len(latencies), elapsed, latencies, errors


def pct(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def serve(data: Path, db_url: str, rpc: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SILKTRACE_DATA_DIR": str(data), "SILKTRACE_DATABASE_URL": db_url,
           "SILKTRACE_RPC_URL": rpc, "SILKTRACE_API_OUTBOX_INTERVAL_S": "0",
           "SILKTRACE_API_RESOLVER_BASE_URL": "https://id.bench"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning",
         "--loop", "uvloop", "--http", "httptools"],
        cwd=ROOT, env=env,
    )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run_db(name: str, data: Path, db_url: str, rpc: str, codes: list[str], seconds: float,
           concurrency: int, workers: int, rounds: int) -> dict[str, float]:
    """/health and resolution in alternating windows, so that the machine's load (shared with
    other work) drifts over both alike; totals over all windows."""
    port = free_port()
    proc = serve(data, db_url, rpc, port, workers)
    base = f"http://127.0.0.1:{port}"
    h, r = Tally(), Tally()
    try:
        asyncio.run(load(lambda: base + random.choice(codes), 3, concurrency))  # warm-up
        for _ in range(rounds):
            for tally, url_for in ((h, lambda: base + "/health"),
                                   (r, lambda: base + random.choice(codes))):
                n, elapsed, lat, errors = asyncio.run(load(url_for, seconds / rounds, concurrency))
                tally.requests += n
                tally.seconds += elapsed
                tally.latencies += lat
                tally.errors += errors
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log(f"{name}: /health {h.rps:.0f} req/s (p99 {pct(h.latencies, 0.99):.1f} ms); resolve "
        f"{r.rps:.0f} req/s p50 {pct(r.latencies, 0.5):.1f} ms p99 {pct(r.latencies, 0.99):.1f} ms, "
        f"errors {h.errors + r.errors}")
    if h.errors or r.errors:
        raise RuntimeError(f"{name}: {h.errors + r.errors} requests failed")
    return {"health": h.rps, "rps": r.rps, "p50": pct(r.latencies, 0.5), "p99": pct(r.latencies, 0.99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--lots", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=15, help="per kind of request and database")
    ap.add_argument("--rounds", type=int, default=5, help="alternating /health and resolution windows")
    ap.add_argument("--concurrency", type=int, default=8, help="connections kept busy")
    ap.add_argument("--codes", type=int, default=100_000, help="distinct signed codes in the request mix")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (one per core)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory and skip the load")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="silktrace-bench-"))
    gtin = gs1.make_gtin("0931234599999")
    anvil = Anvil(ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil", port=free_port())
    anvil.start()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    from sqlalchemy import create_engine, text

    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    pg_url = f"{PG}?options=-csearch_path%3D{schema}"
    try:
        data_sqlite, data_pg = work / "sqlite", work / "pg"
        data_sqlite.mkdir()
        lots = make_lots(args.items, args.lots, data_sqlite, gtin)
        settings = Settings(_env_file=None, data_dir=data_sqlite, rpc_url=anvil.url)  # type: ignore[call-arg]
        eid, account = build_chain(settings, lots)
        shutil.copytree(data_sqlite, data_pg)
        private, public = new_qr_key()
        kid = f"{eid}.1"
        sqlite_url = f"sqlite:///{data_sqlite / 'silktrace.db'}"
        for url, data in ((sqlite_url, data_sqlite), (pg_url, data_pg)):
            t = time.time()
            fill_sql(url, lots, gtin, eid, account, b64url(public))
            index(Settings(_env_file=None, data_dir=data, rpc_url=anvil.url, database_url=url))  # type: ignore[call-arg]
            log(f"{url.split(':')[0]}: {args.items} items inserted and mirror indexed in {time.time() - t:.0f}s")
        rng = random.Random(7)
        codes = []
        for _ in range(args.codes):
            lot = rng.choice(lots)
            path = item_path(gtin, lot["code"], rng.choice(lot["serials"]))
            codes.append(f"{path}?sig={sign_qr(private, kid, path)}")
        del lots
        if args.keep:
            (work / "codes.json").write_text(json.dumps({"codes": codes, "pg": pg_url, "rpc": anvil.url}))
            log(f"kept {work}; Anvil runs at {anvil.url} until Enter")
            input()
            return
        s = run_db("sqlite", data_sqlite, sqlite_url, anvil.url, codes, args.seconds, args.concurrency,
                   args.workers, args.rounds)
        p = run_db("postgres", data_pg, pg_url, anvil.url, codes, args.seconds, args.concurrency,
                   args.workers, args.rounds)
        health = (s["health"] + p["health"]) / 2
        result = {
            "items": args.items,
            "health_rps": round(health, 1),
            "sqlite_rps": round(s["rps"], 1),
            "sqlite_p99_ms": round(s["p99"], 2),
            "postgres_rps": round(p["rps"], 1),
            "postgres_p99_ms": round(p["p99"], 2),
            # Each against the /health of the same server process, measured in windows alternating
            # with its own: the machine is shared, and its load drifts.
            "sqlite_ratio": round(s["rps"] / s["health"], 3),
            "postgres_ratio": round(p["rps"] / p["health"], 3),
        }
        print("RESULT " + json.dumps(result), flush=True)
    finally:
        anvil.stop()
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
