"""The fixed-layout decoder equals web3.py's own event decoding, for every ledger event."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3

from indexer.decode import SIGNATURES, TOPIC0, Event, check_abi, decode_body, decode_logs
from indexer.errors import IndexerError
from silktrace.config import Settings
from silktrace.solc import compile_contracts

# web3 argument name -> ledger_event column (or data key) of the decoded body
COLUMN_OF = {
    "subject": "subject_id", "lotId": "subject_id", "itemId": "subject_id", "unitId": "subject_id",
    "enterpriseId": "enterprise_id", "fromEnterprise": "enterprise_id",
    "toEnterprise": "counterparty_id", "childId": "child_id", "bizStep": "biz_step",
    "disposition": "disposition", "location": "location", "eventTime": "event_time",
    "epcisHash": "epcis_hash", "reasonHash": "epcis_hash", "account": "account",
    "documents": "documents",
}
DATA_OF = {
    "roles": "roles", "creditCodeHash": "credit_code_hash", "metadataHash": "metadata_hash",
    "itemsRoot": "items_root", "itemCount": "item_count", "manifestHash": "manifest_hash",
}
BODY_FIELDS = (
    "event", "subject_id", "enterprise_id", "counterparty_id", "child_id", "biz_step",
    "disposition", "location", "event_time", "epcis_hash", "account", "documents", "data",
)


@pytest.fixture(scope="module")
def abi(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("build"))  # type: ignore[call-arg]
    return compile_contracts(settings)["ITraceLedger"].abi


def _value(typ: str, rng: random.Random) -> Any:
    if typ == "bytes32":
        return rng.randbytes(32)
    if typ == "address":
        return Web3.to_checksum_address(rng.randbytes(20))
    if typ == "bytes32[]":
        return [rng.randbytes(32) for _ in range(rng.randint(0, 4))]
    bits = int(typ[4:])
    return rng.choice([0, 1, 2**bits - 1, rng.getrandbits(bits)])


def _synthetic_log(item: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """A log as eth_getLogs returns it (JSON hex strings) with random argument values."""
    values = {i["name"]: _value(i["type"], rng) for i in item["inputs"]}
    sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
    topics = ["0x" + keccak(text=sig).hex()]
    for i in item["inputs"]:
        if i["indexed"]:
            topics.append("0x" + encode([i["type"]], [values[i["name"]]]).hex())
    plain = [i for i in item["inputs"] if not i["indexed"]]
    data = encode([i["type"] for i in plain], [values[i["name"]] for i in plain])
    log = {
        "address": "0x" + "ab" * 20,
        "topics": topics,
        "data": "0x" + data.hex(),
        "blockNumber": hex(rng.randint(1, 10**6)),
        "blockHash": "0x" + rng.randbytes(32).hex(),
        "transactionHash": "0x" + rng.randbytes(32).hex(),
        "transactionIndex": "0x0",
        "logIndex": hex(rng.randint(0, 500)),
        "removed": False,
    }
    return log, values


def _web3_body(w3: Web3, abi: list[dict[str, Any]], log: dict[str, Any]) -> dict[str, Any]:
    """web3.py's decoding of the log, mapped onto the ledger_event columns."""
    contract = w3.eth.contract(address=Web3.to_checksum_address(log["address"]), abi=abi)
    name = next(n for n, t in TOPIC0.items() if t == log["topics"][0])
    web3_log = {
        **log,
        "address": Web3.to_checksum_address(log["address"]),
        "topics": [HexBytes(t) for t in log["topics"]],
        "data": HexBytes(log["data"]),
        "blockNumber": int(log["blockNumber"], 16),
        "logIndex": int(log["logIndex"], 16),
        "transactionIndex": 0,
        "blockHash": HexBytes(log["blockHash"]),
        "transactionHash": HexBytes(log["transactionHash"]),
    }
    decoded = getattr(contract.events, name)().process_log(web3_log)
    out: dict[str, Any] = {f: None for f in BODY_FIELDS}
    out.update(event=decoded["event"], documents=[], data={})
    for arg, value in decoded["args"].items():
        v: Any = value
        if isinstance(v, bytes):
            v = "0x" + v.hex()
        elif isinstance(v, list | tuple):
            v = ["0x" + bytes(x).hex() for x in v]
        elif isinstance(v, str):
            v = v.lower()
        if arg in DATA_OF:
            out["data"][DATA_OF[arg]] = v
        elif name in ("ItemRegistered",) and arg == "lotId":
            out["child_id"] = None if v == "0x" + "00" * 32 else v
        elif name == "ItemSplit" and arg == "lotId":
            out["child_id"] = v
        else:
            out[COLUMN_OF[arg]] = v
    return out


def test_signatures_match_the_interface(abi: list[dict[str, Any]]) -> None:
    check_abi(abi)
    events = {i["name"] for i in abi if i["type"] == "event"}
    assert events == set(SIGNATURES)


def test_abi_change_is_refused(abi: list[dict[str, Any]]) -> None:
    changed = json.loads(json.dumps(abi))
    next(i for i in changed if i.get("name") == "Packed")["inputs"].pop()
    with pytest.raises(IndexerError, match="Packed"):
        check_abi(changed)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_decode_equals_web3_synthetic(abi: list[dict[str, Any]], name: str) -> None:
    rng = random.Random(name)
    w3 = Web3()
    item = next(i for i in abi if i.get("type") == "event" and i["name"] == name)
    for _ in range(30):
        log, _values = _synthetic_log(item, rng)
        (ev,) = decode_logs([log])
        ours = dict(zip(BODY_FIELDS, ev.body(), strict=True))
        assert ours == _web3_body(w3, abi, log)
        assert ev.block_number == int(log["blockNumber"], 16)
        assert ev.log_index == int(log["logIndex"], 16)
        assert ev.block_hash == log["blockHash"] and ev.tx_hash == log["transactionHash"]
        assert decode_body(log["topics"], log["data"]) == ev.body()


def test_foreign_topic_is_refused() -> None:
    log = {"topics": ["0x" + "11" * 32], "data": "0x", "blockNumber": "0x1"}
    with pytest.raises(IndexerError, match="not a ledger event"):
        decode_logs([log])


def test_event_round_trips_through_a_row() -> None:
    rng = random.Random(1)
    body = ("EventRecorded", "0x" + rng.randbytes(32).hex(), 3, None, None, 9, 4, 123, 456,
            "0x" + "00" * 32, "0x" + "aa" * 20, ["0x" + "bb" * 32], {})
    ev = Event.make(1, "0x" + "ee" * 20, 5, "0x" + "cc" * 32, "0x" + "dd" * 32, 7, body)
    row = {"id": 1, "block_time": 99, "event": ev.name, "block_number": 5,
           "block_hash": ev.block_hash, "tx_hash": ev.tx_hash, "log_index": 7, "chain_id": 1,
           "contract": ev.contract}
    row.update({k: getattr(ev, k) for k in (
        "subject_id", "enterprise_id", "counterparty_id", "child_id", "biz_step", "disposition",
        "location", "event_time", "epcis_hash", "account", "documents", "data")})
    back = Event.from_row(row)
    assert back.body() == ev.body() and back.id == 1 and back.block_time == 99
