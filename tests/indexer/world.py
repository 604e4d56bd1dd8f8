"""Chain activity for the indexer tests, through the shared ledger client, and mirror checks."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import text
from sqlalchemy.engine import Engine
from web3 import Web3

from indexer.config import IndexerConfig
from silktrace.chain import Deployment, Sender
from silktrace.ledger import Action, Ledger, Record
from silktrace.merkle import MerkleTree
from silktrace.vocab import Role

FAST = IndexerConfig(
    _env_file=None,  # type: ignore[call-arg]
    poll_interval=0.05, retry_initial=0.05, retry_max=0.5, progress_interval=0.0,
)


def h32(rng: random.Random) -> bytes:
    return rng.randbytes(32)


@dataclass
class Party:
    """An enterprise with one funded account that sends its own transactions."""

    id: int
    account: LocalAccount
    ledger: Ledger


class World:
    """Enterprises and subjects on the session's ledger, made through `silktrace.ledger`."""

    def __init__(self, w3: Web3, deployment: Deployment, seed: int = 0) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.rng = random.Random(seed ^ int.from_bytes(os.urandom(4)))
        self.admin = Ledger(w3, deployment, Sender(w3, address=deployment.deployer))

    def fund(self, address: str) -> None:
        tx = self.w3.eth.send_transaction(
            {"from": self.deployment.deployer, "to": address, "value": 10**20}
        )
        self.w3.eth.wait_for_transaction_receipt(tx)

    def party(self, roles: int) -> Party:
        acct = Account.create()
        self.fund(acct.address)
        eid = self.admin.register_enterprise(h32(self.rng), h32(self.rng), roles, acct.address)
        return Party(eid, acct, self.admin.with_sender(Sender(self.w3, acct)))

    def record(self, p: Party, action: Action, subject: bytes, step: int = 0, disposition: int = 0,
               counterparty: int = 0, docs: int = 0) -> Any:
        rec = Record(action, subject, step, disposition, counterparty, self.rng.getrandbits(40),
                     0, h32(self.rng), tuple(h32(self.rng) for _ in range(docs)))
        return p.ledger.submit(rec)

    # ------------------------------------------------------------------ scenarios
    def rich(self) -> dict[str, Any]:
        """Every event type at least once, with handovers, packing, recalls and a return."""
        rng = self.rng
        imp = self.party(int(Role.IMPORTER))
        wh = self.party(int(Role.WAREHOUSE))
        car = self.party(int(Role.CARRIER))
        cus = self.party(int(Role.CUSTOMS))
        reg = self.party(int(Role.REGULATOR))
        items_of_lot = [h32(rng) for _ in range(5)]
        tree = MerkleTree(items_of_lot)
        lot = h32(rng)
        imp.ledger.register_lot(lot, tree.root, len(tree), h32(rng), location=7)
        self.record(imp, Action.EVENT, lot, 9, 4, docs=2)  # stored: lot disposition 4
        split = items_of_lot[:2]
        for item in split:
            imp.ledger.split_item(lot, item, tree.proof(item))
        loose = [h32(rng) for _ in range(3)]
        imp.ledger.register_item(loose[0], lot)
        imp.ledger.register_item(loose[1])
        imp.ledger.register_item(loose[2])
        unit, outer = h32(rng), h32(rng)
        imp.ledger.register_unit(unit)
        imp.ledger.register_unit(outer)
        imp.ledger.pack(unit, [split[0], loose[0]])
        imp.ledger.pack(outer, [unit])
        self.record(imp, Action.EVENT, outer, 4, 3, docs=3)
        self.record(imp, Action.DISPATCH, outer, 4, 3, counterparty=car.id, docs=1)
        self.record(car, Action.ACCEPT, outer, 5, 0)
        self.record(car, Action.DISPATCH, outer, 7, 0, counterparty=wh.id)
        self.record(wh, Action.REJECT, outer)
        self.record(car, Action.DISPATCH, outer, 7, 0, counterparty=wh.id)
        self.record(car, Action.CANCEL, outer)
        self.record(car, Action.DISPATCH, outer, 32, 4, counterparty=wh.id, docs=2)
        self.record(wh, Action.ACCEPT, outer, 32, 4)
        wh.ledger.unpack(outer, [unit])
        wh.ledger.unpack(unit, [split[0]])
        self.record(cus, Action.EVENT, split[0], 64, 6, docs=1)
        self.record(reg, Action.RECALL, loose[1], 69)
        self.record(reg, Action.RECALL, lot, 69)
        self.record(reg, Action.LIFT_RECALL, loose[1], 70)
        self.record(wh, Action.EVENT, split[0], 36, 9)  # consumer receipt: custody ends
        self.record(imp, Action.EVENT, split[0], 37, 10)  # return: importer responsible again
        self.record(imp, Action.RECALL, loose[2], 69)
        extra = Account.create()
        self.admin.transact(self.admin.contract.functions.updateEnterprise(
            wh.id, int(Role.WAREHOUSE | Role.CARRIER), h32(rng)))
        self.admin.transact(self.admin.contract.functions.addAccount(wh.id, extra.address))
        self.admin.transact(self.admin.contract.functions.suspendEnterprise(car.id, h32(rng)))
        self.admin.transact(self.admin.contract.functions.reinstateEnterprise(car.id, h32(rng)))
        self.admin.transact(self.admin.contract.functions.removeAccount(extra.address))
        self.admin.transact(self.admin.contract.functions.suspendEnterprise(cus.id, h32(rng)))
        return {"parties": [imp, wh, car, cus, reg], "lot": lot}

    def bulk(self, n_events: int, *, width: int = 100) -> None:
        """About `n_events` Packed/Unpacked events, `width` a transaction, plus some records."""
        imp = self.party(int(Role.IMPORTER))
        unit = h32(self.rng)
        imp.ledger.register_unit(unit)
        items = [h32(self.rng) for _ in range(width)]
        for it in items:
            imp.ledger.register_item(it)
        done = width + 1
        while done < n_events:
            imp.ledger.pack(unit, items)
            imp.ledger.unpack(unit, items)
            self.record(imp, Action.EVENT, items[done % width], 9, 4, docs=1)
            done += 2 * width + 1

    def mine(self, n: int = 1) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(n)])  # type: ignore[arg-type]


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def assert_state_equals_chain(engine: Engine, world: World) -> int:
    """Every derived subject, enterprise and account row equals the contract's own view."""
    c = world.admin.contract
    zero = "0x" + "00" * 32
    with engine.connect() as conn:
        subjects = conn.execute(text("SELECT * FROM subject")).mappings().all()
        enterprises = conn.execute(text("SELECT * FROM enterprise")).mappings().all()
        accounts = conn.execute(text("SELECT * FROM enterprise_account")).mappings().all()
        chain_subjects = {
            r[0] for r in conn.execute(text(
                "SELECT DISTINCT subject_id FROM ledger_event WHERE event IN "
                "('LotRegistered', 'ItemRegistered', 'ItemSplit', 'UnitRegistered')"))
        }
        open_recalls = {
            r[0] for r in conn.execute(text(
                "SELECT subject_id FROM recall WHERE lifted_event_id IS NULL"))
        }
    assert {s["subject_id"] for s in subjects} == chain_subjects
    kinds = {1: "item", 2: "lot", 3: "unit"}
    for s in subjects:
        v = c.functions.subject(bytes.fromhex(s["subject_id"][2:])).call()
        kind, disposition, recalled, ended, holder, pending, _h, parent, lot = v
        got = (s["kind"], s["disposition"], bool(s["recalled"]), bool(s["ended"]), s["holder_id"],
               s["pending_receiver_id"] or 0, s["parent_id"] or zero, s["lot_id"] or zero)
        want = (kinds[kind], disposition, recalled, ended, holder, pending, "0x" + parent.hex(),
                "0x" + lot.hex())
        assert got == want, (s["subject_id"], got, want)
        assert (s["subject_id"] in open_recalls) == recalled
    assert len(enterprises) == c.functions.enterpriseCount().call()
    for e in enterprises:
        roles, suspended, credit, meta = c.functions.enterprise(e["enterprise_id"]).call()
        assert (e["roles"], bool(e["suspended"]), e["credit_code_hash"], e["metadata_hash"]) == (
            roles, suspended, "0x" + credit.hex(), "0x" + meta.hex()
        )
    for a in accounts:
        assert c.functions.enterpriseOf(Web3.to_checksum_address(a["account"])).call() == (
            a["enterprise_id"]
        )
    return len(subjects)
