"""Gas of the ledger's operations on a real Anvil: prints a table and ends with `RESULT {json}`.

Usage: .venv/bin/python scripts/bench/gas.py [--sizes 1000,100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from silktrace import gs1
from silktrace.chain import Anvil, Sender, connect, deploy
from silktrace.config import PROJECT_ROOT, Settings
from silktrace.ledger import Action, Ledger, Record
from silktrace.merkle import MerkleTree
from silktrace.vocab import Role, disposition_code, step

TARGETS = {
    "single_step_gas": 45_000,
    "handover_gas": 110_000,
    "relayed_record_gas": 18_000,
    "register_gas_1000": 120_000,
    "register_gas_100000": 120_000,
    "register_gas_1000000": 120_000,
    "unit_step_gas_50000": 120_000,
}
GTIN = gs1.make_gtin("0950600013435")
console = Console()


def item_ids(lot: str, n: int) -> list[bytes]:
    return [gs1.item(GTIN, lot, f"{i:08d}").subject_id for i in range(n)]


def funded(w3, dev: Sender, ledger: Ledger, roles: int, name: str):  # type: ignore[no-untyped-def]
    """A new enterprise account, registered and funded from the dev account."""
    acct = Account.create()
    dev.send({"to": acct.address, "value": 10**19})
    ledger.register_enterprise(os.urandom(32), os.urandom(32), roles, acct.address)
    return acct, ledger.with_sender(Sender(w3, acct))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000,1000000", help="lot sizes to register")
    parser.add_argument("--batch", type=int, default=100, help="signed records per relayed batch")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        node = Anvil(
            PROJECT_ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil", port=18645
        )
        with node:
            settings = Settings(_env_file=None, data_dir=Path(tmp), rpc_url=node.url)  # type: ignore[call-arg]
            w3 = connect(node.url)
            deployment = deploy(settings, w3, log=lambda *_: None)
            dev = Sender(w3, address=w3.eth.accounts[0])
            admin = Ledger(w3, deployment, dev)
            importer, imp = funded(w3, dev, admin, Role.IMPORTER, "importer")
            _carrier, car = funded(w3, dev, admin, Role.CARRIER, "carrier")
            carrier_id = imp.enterprise_of(_carrier.address)
            now = int(time.time())
            results: dict[str, int] = {}

            # Registration of lots of growing size: one root, whatever the count.
            for n in sizes:
                t = time.time()
                tree = MerkleTree(item_ids(f"R{n}", n))
                lot = gs1.lot(GTIN, f"R{n}").subject_id
                r = imp.register_lot(
                    lot, tree.root, n, os.urandom(32), location=6901234000005, event_time=now
                )
                results[f"register_gas_{n}"] = r["gasUsed"]
                console.log(
                    f"registered a lot of {n:,} items ({time.time() - t:.1f}s to build the tree)"
                )

            # A single recorded step with one document.
            lot = gs1.lot(GTIN, f"R{sizes[0]}").subject_id
            rec = Record(
                Action.EVENT,
                lot,
                step("storing").code,
                disposition_code("sellable_not_accessible"),
                0,
                6901234000005,
                now,
                os.urandom(32),
                (os.urandom(32),),
            )
            results["single_step_gas"] = imp.submit(rec)["gasUsed"]

            # Dispatch + accept.
            d = imp.submit(
                Record(
                    Action.DISPATCH,
                    lot,
                    step("shipping").code,
                    disposition_code("in_transit"),
                    carrier_id,
                    6901234000005,
                    now,
                    os.urandom(32),
                    (os.urandom(32),),
                )
            )
            a = car.submit(
                Record(
                    Action.ACCEPT,
                    lot,
                    step("accepting").code,
                    0,
                    0,
                    6901234000005,
                    now,
                    os.urandom(32),
                    (os.urandom(32),),
                )
            )
            results["handover_gas"] = d["gasUsed"] + a["gasUsed"]

            # A step on a unit holding a lot of 50,000 items.
            tree = MerkleTree(item_ids("U50000", 50_000))
            big = gs1.lot(GTIN, "U50000").subject_id
            imp.register_lot(big, tree.root, 50_000, os.urandom(32), event_time=now)
            unit = gs1.unit("106141411234567897").subject_id
            imp.register_unit(unit, event_time=now)
            imp.pack(unit, [big])
            r = imp.submit(
                Record(
                    Action.EVENT,
                    unit,
                    step("departing").code,
                    0,
                    0,
                    6901234000005,
                    now,
                    os.urandom(32),
                    (os.urandom(32),),
                )
            )
            results["unit_step_gas_50000"] = r["gasUsed"]
            assert imp.responsible_of(big) == imp.enterprise_of(importer.address)

            # N signed records relayed in one transaction, each on its own subject and changing its
            # disposition: once signed together by one enterprise (one signature and nonce for the
            # batch, `submitSignedRecords`), once each under its own signature (`submitSignedBatch`,
            # the path for records of many signers).
            relayer = Ledger(w3, deployment, Sender(w3, address=w3.eth.accounts[1]))

            def relay_records(lot_code: str) -> list[Record]:
                records = []
                for i in range(args.batch):
                    sid = gs1.item(GTIN, lot_code, f"{i:06d}").subject_id
                    imp.register_item(sid, event_time=now)
                    records.append(
                        Record(
                            Action.EVENT,
                            sid,
                            step("storing").code,
                            disposition_code("sellable_not_accessible"),
                            0,
                            6901234000005,
                            now,
                            os.urandom(32),
                            (os.urandom(32),),
                        )
                    )
                return records

            together = imp.sign_records(
                importer,
                relay_records("RELAY"),
                nonce=imp.nonce(importer.address),
                deadline=now + 3600,
            )
            r = relayer.submit_signed_records(together)
            assert len(imp.events(r, "EventRecorded")) == args.batch
            results["relayed_record_gas"] = r["gasUsed"] // args.batch

            nonce = imp.nonce(importer.address)
            batch = [
                imp.sign(importer, rec, nonce=nonce + i, deadline=now + 3600)
                for i, rec in enumerate(relay_records("RELAYM"))
            ]
            r = relayer.submit_signed_batch(batch)
            assert len(imp.events(r, "EventRecorded")) == args.batch
            results["relayed_record_gas_multi_signer"] = r["gasUsed"] // args.batch
            results["relayed_batch_size"] = args.batch

    table = Table("operation", "gas", "target", "ok")
    for key, target in TARGETS.items():
        if key in results:
            table.add_row(
                key, f"{results[key]:,}", f"≤ {target:,}", "✓" if results[key] <= target else "✗"
            )
        if key == "relayed_record_gas" and "relayed_record_gas_multi_signer" in results:
            # For information: records each under their own signature (no target of its own).
            gas = results["relayed_record_gas_multi_signer"]
            table.add_row("relayed_record_gas_multi_signer", f"{gas:,}", "", "")
    console.print(table)
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
