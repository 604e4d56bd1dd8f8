"""Fixed-layout decoding of the ledger's events straight from the JSON-RPC hex strings.

web3.py's generic decoder costs ~0.6 ms a log; every ledger event has a fixed ABI layout, so each
field is a slice of `topics` or of the 32-byte words of `data` (tests check equality with web3).
Values come out in the `ledger_event` column form: ids and hashes as lower-case 0x-hex text.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

import orjson
from eth_utils import keccak

from indexer.errors import ChainChanged, IndexerError

# Event signatures of ITraceLedger, as the ABI spells them; the runner checks the deployment's ABI.
SIGNATURES: dict[str, str] = {
    "EnterpriseRegistered": "EnterpriseRegistered(uint32,bytes32,address,uint8,bytes32)",
    "EnterpriseUpdated": "EnterpriseUpdated(uint32,uint8,bytes32)",
    "EnterpriseAccountAdded": "EnterpriseAccountAdded(uint32,address)",
    "EnterpriseAccountRemoved": "EnterpriseAccountRemoved(uint32,address)",
    "EnterpriseSuspended": "EnterpriseSuspended(uint32,bytes32)",
    "EnterpriseReinstated": "EnterpriseReinstated(uint32,bytes32)",
    "LotRegistered": "LotRegistered(bytes32,uint32,bytes32,uint32,bytes32,uint64,uint64,bytes32,address)",
    "ItemRegistered": "ItemRegistered(bytes32,uint32,bytes32,uint64,uint64,bytes32,address)",
    "ItemSplit": "ItemSplit(bytes32,bytes32,uint32,address)",
    "UnitRegistered": "UnitRegistered(bytes32,uint32,uint64,uint64,bytes32,address)",
    "Packed": "Packed(bytes32,bytes32,uint32,address)",
    "Unpacked": "Unpacked(bytes32,bytes32,uint32,address)",
    "EventRecorded": "EventRecorded(bytes32,uint32,uint8,uint8,uint64,uint64,bytes32,address,bytes32[])",
    "CustodyDispatched": (
        "CustodyDispatched(bytes32,uint32,uint32,uint8,uint8,uint64,uint64,bytes32,address,bytes32[])"
    ),
    "CustodyAccepted": (
        "CustodyAccepted(bytes32,uint32,uint32,uint8,uint8,uint64,uint64,bytes32,address,bytes32[])"
    ),
    "CustodyRejected": "CustodyRejected(bytes32,uint32,uint32,uint64,bytes32,address)",
    "CustodyCancelled": "CustodyCancelled(bytes32,uint32,uint32,uint64,bytes32,address)",
    "Recalled": "Recalled(bytes32,uint32,uint64,bytes32,address)",
    "RecallLifted": "RecallLifted(bytes32,uint32,uint64,bytes32,address)",
}
TOPIC0: dict[str, str] = {name: "0x" + keccak(text=sig).hex() for name, sig in SIGNATURES.items()}
NAME_BY_TOPIC0: dict[str, str] = {t: n for n, t in TOPIC0.items()}

ZERO32 = "0x" + "0" * 64

# Decoded body: (event, subject_id, enterprise_id, counterparty_id, child_id, biz_step,
#                disposition, location, event_time, epcis_hash, account, documents, data)
Body = tuple[
    str, str | None, int | None, int | None, str | None, int | None, int | None,
    int | None, int | None, str | None, str | None, list[str], dict[str, Any],
]
# What a per-event decoder gives: the body with documents and data already as their JSON column
# text, i.e. the columns from `event` to `data` exactly as ledger_event stores them.
Tail = tuple[Any, ...]

# Columns of ledger_event in the order `Event.row` gives them (the sink prepends nothing else).
EVENT_COLUMNS = (
    "id", "chain_id", "contract", "block_number", "block_hash", "block_time", "tx_hash",
    "log_index", "event", "subject_id", "enterprise_id", "counterparty_id", "child_id", "biz_step",
    "disposition", "location", "event_time", "epcis_hash", "account", "documents", "data",
)


_DOCS, _DATA = 19, 20  # positions of the JSON columns in a row
_NO_DOCS = "[]"
_NO_DATA = "{}"


class Event(list):  # type: ignore[type-arg]
    """One decoded ledger log, as its `ledger_event` row: a list in `EVENT_COLUMNS` order.

    A list, not an object with fields, because the row goes to the driver as it is (the id is set
    in place when the batch is written) and bulk indexing cannot afford more objects an event than
    the row: no attributes of its own, the document hashes and the data are read back from their
    JSON columns when needed (rarely: most events have neither). Named properties read the columns.
    """

    __slots__ = ()

    @classmethod
    def make(cls, chain_id: int, contract: str, block_number: int, block_hash: str, tx_hash: str,
             log_index: int, body: Body) -> Event:
        """An event from its place in the chain and its decoded body."""
        return cls((None, chain_id, contract, block_number, block_hash, 0, tx_hash, log_index,
                    *body[:11], _docs_json(body[11]), _data_json(body[12])))

    @classmethod
    def from_row(cls, row: Any) -> Event:
        """An event back from a `ledger_event` row (mapping), for replays and verification."""
        docs, data = row["documents"], row["data"]
        if isinstance(docs, str | bytes):  # JSON columns read without SQLAlchemy's type
            docs = orjson.loads(docs)
        if isinstance(data, str | bytes):
            data = orjson.loads(data)
        values = [row[c] for c in EVENT_COLUMNS]
        values[_DOCS] = _docs_json(list(docs or []))
        values[_DATA] = _data_json(data or {})
        return cls(values)

    id = property(itemgetter(0))
    chain_id = property(itemgetter(1))
    contract = property(itemgetter(2))
    block_number = property(itemgetter(3))
    block_hash = property(itemgetter(4))
    block_time = property(itemgetter(5))
    tx_hash = property(itemgetter(6))
    log_index = property(itemgetter(7))
    name = property(itemgetter(8))
    subject_id = property(itemgetter(9))
    enterprise_id = property(itemgetter(10))
    counterparty_id = property(itemgetter(11))
    child_id = property(itemgetter(12))
    biz_step = property(itemgetter(13))
    disposition = property(itemgetter(14))
    location = property(itemgetter(15))
    event_time = property(itemgetter(16))
    epcis_hash = property(itemgetter(17))
    account = property(itemgetter(18))

    @property
    def docs(self) -> list[str]:
        """The document hashes, in order."""
        text = self[_DOCS]
        return [] if text == _NO_DOCS else list(orjson.loads(text))

    documents = docs

    @property
    def data(self) -> dict[str, Any]:
        text = self[_DATA]
        return {} if text == _NO_DATA else dict(orjson.loads(text))

    def body(self) -> Body:
        """The decoded fields, as the per-event decoders give them."""
        return (*self[8:19], self.docs, self.data)  # type: ignore[return-value]

    def chain_values(self) -> tuple[Any, ...]:
        """Everything the chain determines about this row (not the mirror's id)."""
        return (*self[3:19], self.docs, self.data)

    def __repr__(self) -> str:
        return f"<{self.name} {self.block_number}:{self.log_index} {self.subject_id}>"

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _docs_json(docs: list[str]) -> str:
    return '["' + '","'.join(docs) + '"]' if docs else _NO_DOCS


def _data_json(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode() if data else _NO_DATA


# ---------------------------------------------------------------------- per-event layouts
# `t` is the topics list, `d` the data hex string with its 0x; word i of data is d[2+64i:66+64i].
# Each decoder returns the event's Tail: its columns from `event` to `data`.


def _w(d: str, i: int) -> str:
    return d[2 + 64 * i : 66 + 64 * i]


def _docs(d: str, slot: int) -> str:
    """The JSON text of a bytes32[] whose head offset is in word `slot`."""
    start = int(_w(d, slot), 16) // 32
    n = int(_w(d, start), 16)
    if not n:
        return _NO_DOCS
    base = 2 + 64 * (start + 1)
    if len(d) < base + 64 * n:
        raise ValueError(f"{n} documents do not fit in {len(d)} hex digits")
    if n == 1:
        return '["0x' + d[base : base + 64] + '"]'
    return '["0x' + '","0x'.join([d[base + 64 * k : base + 64 * (k + 1)] for k in range(n)]) + '"]'


def _enterprise_registered(t: list[str], d: str) -> Tail:
    data = {
        "roles": int(d[2:66], 16),
        "credit_code_hash": t[2],
        "metadata_hash": "0x" + d[66:130],
    }
    return ("EnterpriseRegistered", None, int(t[1], 16), None, None, None, None, None, None,
            None, "0x" + t[3][26:], _NO_DOCS, _data_json(data))


def _enterprise_updated(t: list[str], d: str) -> Tail:
    data = {"roles": int(d[2:66], 16), "metadata_hash": "0x" + d[66:130]}
    return ("EnterpriseUpdated", None, int(t[1], 16), None, None, None, None, None, None, None,
            None, _NO_DOCS, _data_json(data))


def _account(name: str) -> Callable[[list[str], str], Tail]:
    def dec(t: list[str], d: str) -> Tail:
        return (name, None, int(t[1], 16), None, None, None, None, None, None, None,
                "0x" + t[2][26:], _NO_DOCS, _NO_DATA)

    return dec


def _enterprise_reason(name: str) -> Callable[[list[str], str], Tail]:
    def dec(t: list[str], d: str) -> Tail:
        return (name, None, int(t[1], 16), None, None, None, None, None, None, "0x" + d[2:66],
                None, _NO_DOCS, _NO_DATA)

    return dec


def _lot_registered(t: list[str], d: str) -> Tail:
    data = {
        "items_root": "0x" + d[2:66],
        "item_count": int(d[66:130], 16),
        "manifest_hash": "0x" + d[130:194],
    }
    return ("LotRegistered", t[1], int(t[2], 16), None, None, None, None, int(d[194:258], 16),
            int(d[258:322], 16), "0x" + d[322:386], "0x" + d[410:450], _NO_DOCS, _data_json(data))


def _item_registered(t: list[str], d: str) -> Tail:
    lot = t[3]
    return ("ItemRegistered", t[1], int(t[2], 16), None, None if lot == ZERO32 else lot, None,
            None, int(d[2:66], 16), int(d[66:130], 16), "0x" + d[130:194], "0x" + d[218:258],
            _NO_DOCS, _NO_DATA)


def _item_split(t: list[str], d: str) -> Tail:
    return ("ItemSplit", t[1], int(t[3], 16), None, t[2], None, None, None, None, None,
            "0x" + d[26:66], _NO_DOCS, _NO_DATA)


def _unit_registered(t: list[str], d: str) -> Tail:
    return ("UnitRegistered", t[1], int(t[2], 16), None, None, None, None, int(d[2:66], 16),
            int(d[66:130], 16), "0x" + d[130:194], "0x" + d[218:258], _NO_DOCS, _NO_DATA)


def _aggregation(name: str) -> Callable[[list[str], str], Tail]:
    def dec(t: list[str], d: str) -> Tail:
        return (name, t[1], int(t[3], 16), None, t[2], None, None, None, None, None,
                "0x" + d[26:66], _NO_DOCS, _NO_DATA)

    return dec


def _event_recorded(t: list[str], d: str) -> Tail:
    return ("EventRecorded", t[1], int(t[2], 16), None, None, int(t[3], 16), int(d[2:66], 16),
            int(d[66:130], 16), int(d[130:194], 16), "0x" + d[194:258], "0x" + d[282:322],
            _docs(d, 5), _NO_DATA)


def _custody_move(name: str) -> Callable[[list[str], str], Tail]:
    def dec(t: list[str], d: str) -> Tail:
        return (name, t[1], int(t[2], 16), int(t[3], 16), None, int(d[2:66], 16),
                int(d[66:130], 16), int(d[130:194], 16), int(d[194:258], 16), "0x" + d[258:322],
                "0x" + d[346:386], _docs(d, 6), _NO_DATA)

    return dec


def _custody_end(name: str) -> Callable[[list[str], str], Tail]:
    def dec(t: list[str], d: str) -> Tail:
        return (name, t[1], int(t[2], 16), int(t[3], 16), None, None, None, None,
                int(d[2:66], 16), "0x" + d[66:130], "0x" + d[154:194], _NO_DOCS, _NO_DATA)

    return dec


def _recall(name: str) -> Callable[[list[str], str], Tail]:
    def dec(t: list[str], d: str) -> Tail:
        return (name, t[1], int(t[2], 16), None, None, None, None, None, int(d[2:66], 16),
                "0x" + d[66:130], "0x" + d[154:194], _NO_DOCS, _NO_DATA)

    return dec


_DECODERS: dict[str, Callable[[list[str], str], Tail]] = {
    "EnterpriseRegistered": _enterprise_registered,
    "EnterpriseUpdated": _enterprise_updated,
    "EnterpriseAccountAdded": _account("EnterpriseAccountAdded"),
    "EnterpriseAccountRemoved": _account("EnterpriseAccountRemoved"),
    "EnterpriseSuspended": _enterprise_reason("EnterpriseSuspended"),
    "EnterpriseReinstated": _enterprise_reason("EnterpriseReinstated"),
    "LotRegistered": _lot_registered,
    "ItemRegistered": _item_registered,
    "ItemSplit": _item_split,
    "UnitRegistered": _unit_registered,
    "Packed": _aggregation("Packed"),
    "Unpacked": _aggregation("Unpacked"),
    "EventRecorded": _event_recorded,
    "CustodyDispatched": _custody_move("CustodyDispatched"),
    "CustodyAccepted": _custody_move("CustodyAccepted"),
    "CustodyRejected": _custody_end("CustodyRejected"),
    "CustodyCancelled": _custody_end("CustodyCancelled"),
    "Recalled": _recall("Recalled"),
    "RecallLifted": _recall("RecallLifted"),
}
DECODER_BY_TOPIC0: dict[str, Callable[[list[str], str], Tail]] = {
    TOPIC0[name]: fn for name, fn in _DECODERS.items()
}


def decode_body(topics: list[str], data: str) -> Body:
    """The fields of one ledger log given its topics and data as 0x-hex strings."""
    try:
        tail = DECODER_BY_TOPIC0[topics[0]](topics, data)
    except KeyError as exc:
        raise IndexerError(f"not a ledger event: topic0 {topics[0] if topics else None}") from exc
    except (ValueError, IndexError) as exc:
        raise IndexerError(f"malformed ledger log (topic0 {topics[0]}): {exc}") from exc
    documents, fields = list(orjson.loads(tail[11])), dict(orjson.loads(tail[12]))
    return (*tail[:11], documents, fields)  # type: ignore[return-value]


# Per block of a decoded range: its hash and, when the node puts it in the logs, its timestamp.
BlockRefs = dict[int, tuple[str, int | None]]


def decode_logs(logs: list[dict[str, Any]], chain_id: int = 0, contract: str = "",
                blocks: BlockRefs | None = None) -> list[Event]:
    """Decode raw `eth_getLogs` results (JSON dicts with hex strings) into rows, in order.

    `block_time` comes from the logs' `blockTimestamp` where the node gives one (else 0, for the
    caller to fill in from the headers); `blocks`, if given, receives each block's hash and that
    timestamp, so that the caller checks the logs against the chain's headers once a block.
    """
    decoders = DECODER_BY_TOPIC0
    refs: BlockRefs = {} if blocks is None else blocks
    out: list[Event] = []
    append = out.append
    last = ""
    number = time = 0
    block_hash = ""
    for log in logs:
        try:
            topics = log["topics"]
            fn = decoders.get(topics[0]) if topics else None
            if fn is None:
                raise IndexerError(
                    f"not a ledger event in block {log.get('blockNumber')}: {topics}")
            tail = fn(topics, log["data"])
            if log["blockNumber"] != last or log["blockHash"] != block_hash:
                last, block_hash = log["blockNumber"], log["blockHash"]
                number = int(last, 16)
                stamp = log.get("blockTimestamp")
                time = int(stamp, 16) if stamp else 0
                seen = refs.setdefault(number, (block_hash, time if stamp else None))
                if seen[0] != block_hash:
                    raise ChainChanged(f"the logs of block {number} name two block hashes")
            append(Event((None, chain_id, contract, number, block_hash, time,
                          log["transactionHash"], int(log["logIndex"], 16), *tail)))
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise IndexerError(f"malformed ledger log {log}: {exc}") from exc
    return out


def check_abi(abi: list[dict[str, Any]]) -> None:
    """Fail loudly when the deployed ABI's events differ from the layouts decoded here."""
    found = {}
    for item in abi:
        if item.get("type") == "event" and item["name"] in SIGNATURES:
            found[item["name"]] = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
    for name, sig in SIGNATURES.items():
        if found.get(name) != sig:
            raise IndexerError(
                f"the deployed ABI's {name} is {found.get(name)!r}, the indexer decodes {sig!r}",
                code="abi_mismatch",
            )
