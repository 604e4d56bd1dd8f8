"""A typed client of the TraceLedger contract: transactions, EIP-712 signed records, decoded errors."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from eth_abi import decode as abi_decode
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from silktrace.chain import Deployment, Sender
from silktrace.errors import ChainError

ZERO32 = b"\x00" * 32


class Action(IntEnum):
    """ITraceLedger.Action."""

    EVENT = 0
    DISPATCH = 1
    ACCEPT = 2
    REJECT = 3
    CANCEL = 4
    RECALL = 5
    LIFT_RECALL = 6


@dataclass(frozen=True)
class Record:
    """ITraceLedger.Record."""

    action: Action
    subject: bytes
    biz_step: int = 0
    disposition: int = 0
    counterparty: int = 0
    location: int = 0
    event_time: int = 0
    epcis_hash: bytes = ZERO32
    documents: tuple[bytes, ...] = ()

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            int(self.action),
            self.subject,
            self.biz_step,
            self.disposition,
            self.counterparty,
            self.location,
            self.event_time or int(time.time()),
            self.epcis_hash,
            list(self.documents),
        )

    def typed_message(self, nonce: int, deadline: int) -> dict[str, Any]:
        """The EIP-712 message of this record signed alone (with its own nonce and deadline)."""
        return {**self.batched_message(), "nonce": nonce, "deadline": deadline}

    def batched_message(self) -> dict[str, Any]:
        """The EIP-712 message of this record as nested in a `RecordBatch` (no nonce, no deadline)."""
        return {
            "action": int(self.action),
            "subject": self.subject,
            "bizStep": self.biz_step,
            "disposition": self.disposition,
            "counterparty": self.counterparty,
            "location": self.location,
            "eventTime": self.event_time,
            "epcisHash": self.epcis_hash,
            "documents": list(self.documents),
        }


@dataclass(frozen=True)
class SignedRecord:
    """ITraceLedger.SignedRecord."""

    record: Record
    signer: str
    nonce: int
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.record.as_tuple(), self.signer, self.nonce, self.deadline, self.signature)


@dataclass(frozen=True)
class SignedRecords:
    """Records signed together by one account: the arguments of `submitSignedRecords`."""

    records: tuple[Record, ...]
    signer: str
    nonce: int
    deadline: int
    signature: bytes

    def as_args(self) -> tuple[Any, ...]:
        return (
            self.signer,
            [r.as_tuple() for r in self.records],
            self.nonce,
            self.deadline,
            self.signature,
        )


EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
RECORD_FIELDS = [
    {"name": "action", "type": "uint8"},
    {"name": "subject", "type": "bytes32"},
    {"name": "bizStep", "type": "uint8"},
    {"name": "disposition", "type": "uint8"},
    {"name": "counterparty", "type": "uint32"},
    {"name": "location", "type": "uint64"},
    {"name": "eventTime", "type": "uint64"},
    {"name": "epcisHash", "type": "bytes32"},
    {"name": "documents", "type": "bytes32[]"},
]
NONCE_DEADLINE = [
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
# A record signed alone: `Record(...,bytes32[] documents,uint256 nonce,uint256 deadline)`.
RECORD_TYPES = {
    "EIP712Domain": EIP712_DOMAIN_TYPE,
    "Record": RECORD_FIELDS + NONCE_DEADLINE,
}
# Records signed together: `RecordBatch(Record[] records,uint256 nonce,uint256 deadline)` with the nested
# `Record(...,bytes32[] documents)`, which has no nonce or deadline of its own.
RECORD_BATCH_TYPES = {
    "EIP712Domain": EIP712_DOMAIN_TYPE,
    "RecordBatch": [{"name": "records", "type": "Record[]"}, *NONCE_DEADLINE],
    "Record": RECORD_FIELDS,
}


def _domain(chain_id: int, contract: str) -> dict[str, Any]:
    return {
        "name": "SilkTrace",
        "version": "1",
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(contract),
    }


def typed_data(
    record: Record, nonce: int, deadline: int, chain_id: int, contract: str
) -> dict[str, Any]:
    """The EIP-712 typed data an enterprise signs for a record."""
    return {
        "types": RECORD_TYPES,
        "primaryType": "Record",
        "domain": _domain(chain_id, contract),
        "message": record.typed_message(nonce, deadline),
    }


def batch_typed_data(
    records: Sequence[Record], nonce: int, deadline: int, chain_id: int, contract: str
) -> dict[str, Any]:
    """The EIP-712 typed data an enterprise signs for many records at once."""
    return {
        "types": RECORD_BATCH_TYPES,
        "primaryType": "RecordBatch",
        "domain": _domain(chain_id, contract),
        "message": {
            "records": [r.batched_message() for r in records],
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def sign_record(
    account: LocalAccount,
    record: Record,
    *,
    nonce: int,
    deadline: int,
    chain_id: int,
    contract: str,
) -> SignedRecord:
    """Sign a record off-chain with an enterprise account's key."""
    if not record.event_time:
        raise ValueError("a signed record needs an explicit event_time")
    message = encode_typed_data(
        full_message=typed_data(record, nonce, deadline, chain_id, contract)
    )
    signature = account.sign_message(message).signature
    return SignedRecord(record, account.address, nonce, deadline, bytes(signature))


def sign_records(
    account: LocalAccount,
    records: Sequence[Record],
    *,
    nonce: int,
    deadline: int,
    chain_id: int,
    contract: str,
) -> SignedRecords:
    """Sign many records off-chain at once with an enterprise account's key (one nonce for all)."""
    if not records:
        raise ValueError("a signed batch needs at least one record")
    if any(not r.event_time for r in records):
        raise ValueError("a signed record needs an explicit event_time")
    message = encode_typed_data(
        full_message=batch_typed_data(records, nonce, deadline, chain_id, contract)
    )
    signature = account.sign_message(message).signature
    return SignedRecords(tuple(records), account.address, nonce, deadline, bytes(signature))


class LedgerError(ChainError):
    """A transaction the ledger refused, with its custom error decoded."""

    code = "ledger_rejected"

    def __init__(self, name: str, args: dict[str, Any], message: str | None = None) -> None:
        self.error_name = name
        self.error_args = args
        shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
        super().__init__(message or f"{name}({shown})", code=name)


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


@dataclass
class ErrorDecoder:
    """Decodes revert data into the ledger's custom errors."""

    abi: list[dict[str, Any]]
    _by_selector: dict[bytes, dict[str, Any]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.abi:
            if item.get("type") == "error":
                sig = f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})"
                self._by_selector[keccak(text=sig)[:4]] = item

    def decode(self, data: str | bytes | None) -> LedgerError | None:
        raw = HexBytes(data) if data else b""
        item = self._by_selector.get(bytes(raw[:4]))
        if item is None:
            return None
        values = abi_decode([_abi_type(i) for i in item["inputs"]], bytes(raw[4:]))
        args = {
            i["name"]: to_checksum_address(v) if i["type"] == "address" else v
            for i, v in zip(item["inputs"], values, strict=True)
        }
        return LedgerError(item["name"], args)


def _abi_type(inp: dict[str, Any]) -> str:
    if inp["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in inp["components"])
        return f"({inner}){inp['type'][5:]}"
    return str(inp["type"])


class Ledger:
    """The ledger as one account sees it: every call is simulated first so errors come back decoded."""

    def __init__(self, w3: Web3, deployment: Deployment, sender: Sender) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.sender = sender
        self.contract = deployment.contract(w3)
        self.errors = ErrorDecoder(deployment.abi["TraceLedger"])

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def with_sender(self, sender: Sender) -> Ledger:
        return Ledger(self.w3, self.deployment, sender)

    def _decoded(self, exc: Exception) -> Exception:
        data = getattr(exc, "data", None)
        if isinstance(data, dict):
            data = data.get("data")
        decoded = self.errors.decode(data) if isinstance(data, str | bytes) else None
        return decoded or ChainError(f"transaction reverted: {exc}", code="reverted")

    def transact(self, fn: Any, *, gas: int | None = None) -> Any:
        """Simulate, then send and wait for the receipt; a refusal raises LedgerError."""
        tx: dict[str, Any] = {"from": self.sender.address}
        try:
            estimate = fn.estimate_gas(tx)
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._decoded(exc) from exc
        tx["gas"] = gas or int(estimate * 1.25) + 10_000
        try:
            return self.sender.send(fn.build_transaction(tx))
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._decoded(exc) from exc

    def events(self, receipt: Any, name: str) -> list[Any]:
        """Decoded logs of one event type in a receipt (from this contract only)."""
        event = getattr(self.contract.events, name)()
        topic = HexBytes(event.topic)
        return [
            event.process_log(log)
            for log in receipt["logs"]
            if log["address"] == self.contract.address and HexBytes(log["topics"][0]) == topic
        ]

    # ----------------------------------------------------------------- parties
    def register_enterprise(
        self, credit_code_hash: bytes, metadata_hash: bytes, roles: int, account: str
    ) -> int:
        receipt = self.transact(
            self.contract.functions.registerEnterprise(
                credit_code_hash, metadata_hash, int(roles), to_checksum_address(account)
            )
        )
        return int(self.events(receipt, "EnterpriseRegistered")[0]["args"]["enterpriseId"])

    def enterprise_of(self, account: str) -> int:
        return int(self.contract.functions.enterpriseOf(to_checksum_address(account)).call())

    # ----------------------------------------------------------------- identity
    def register_lot(
        self,
        lot_id: bytes,
        items_root: bytes,
        item_count: int,
        manifest_hash: bytes,
        *,
        location: int = 0,
        event_time: int | None = None,
        epcis_hash: bytes = ZERO32,
    ) -> Any:
        return self.transact(
            self.contract.functions.registerLot(
                lot_id,
                items_root,
                item_count,
                manifest_hash,
                location,
                event_time or int(time.time()),
                epcis_hash,
            )
        )

    def register_item(
        self,
        item_id: bytes,
        lot_id: bytes = ZERO32,
        *,
        location: int = 0,
        event_time: int | None = None,
        epcis_hash: bytes = ZERO32,
    ) -> Any:
        return self.transact(
            self.contract.functions.registerItem(
                item_id, lot_id, location, event_time or int(time.time()), epcis_hash
            )
        )

    def split_item(self, lot_id: bytes, item_id: bytes, proof: Sequence[bytes]) -> Any:
        return self.transact(self.contract.functions.splitItem(lot_id, item_id, list(proof)))

    def register_unit(
        self,
        unit_id: bytes,
        *,
        location: int = 0,
        event_time: int | None = None,
        epcis_hash: bytes = ZERO32,
    ) -> Any:
        return self.transact(
            self.contract.functions.registerUnit(
                unit_id, location, event_time or int(time.time()), epcis_hash
            )
        )

    def pack(self, unit_id: bytes, children: Sequence[bytes]) -> Any:
        return self.transact(self.contract.functions.pack(unit_id, list(children)))

    def unpack(self, unit_id: bytes, children: Sequence[bytes]) -> Any:
        return self.transact(self.contract.functions.unpack(unit_id, list(children)))

    # ----------------------------------------------------------------- flow
    def submit(self, record: Record) -> Any:
        return self.transact(self.contract.functions.submit(record.as_tuple()))

    def nonce(self, signer: str) -> int:
        return int(self.contract.functions.nonces(to_checksum_address(signer)).call())

    def sign(
        self,
        account: LocalAccount,
        record: Record,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> SignedRecord:
        """Sign a record as `account` for this deployment (nonce read from the chain if not given)."""
        if not record.event_time:
            record = Record(**{**record.__dict__, "event_time": int(time.time())})
        return sign_record(
            account,
            record,
            nonce=self.nonce(account.address) if nonce is None else nonce,
            deadline=deadline or int(time.time()) + 3600,
            chain_id=self.deployment.chain_id,
            contract=self.address,
        )

    def sign_records(
        self,
        account: LocalAccount,
        records: Sequence[Record],
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> SignedRecords:
        """Sign many records at once as `account` for this deployment (one nonce, read if not given)."""
        now = int(time.time())
        records = [
            r if r.event_time else Record(**{**r.__dict__, "event_time": now}) for r in records
        ]
        return sign_records(
            account,
            records,
            nonce=self.nonce(account.address) if nonce is None else nonce,
            deadline=deadline or now + 3600,
            chain_id=self.deployment.chain_id,
            contract=self.address,
        )

    def submit_signed_records(self, signed: SignedRecords) -> Any:
        """Relay records one account signed together (`submitSignedRecords`)."""
        return self.transact(self.contract.functions.submitSignedRecords(*signed.as_args()))

    def submit_signed(self, signed: SignedRecord) -> Any:
        return self.transact(self.contract.functions.submitSigned(signed.as_tuple()))

    def submit_signed_batch(self, batch: Sequence[SignedRecord]) -> Any:
        return self.transact(
            self.contract.functions.submitSignedBatch([s.as_tuple() for s in batch])
        )

    # ----------------------------------------------------------------- views
    def responsible_of(self, subject_id: bytes) -> int:
        return int(self.contract.functions.responsibleOf(subject_id).call())

    def is_recalled(self, subject_id: bytes) -> bool:
        return bool(self.contract.functions.isRecalled(subject_id).call())

    def subject(self, subject_id: bytes) -> dict[str, Any]:
        names = (
            "kind",
            "disposition",
            "recalled",
            "ended",
            "holder",
            "pendingReceiver",
            "height",
            "parent",
            "lot",
        )
        return dict(zip(names, self.contract.functions.subject(subject_id).call(), strict=True))
