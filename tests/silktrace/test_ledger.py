"""The ledger client against the deployed contract on Anvil: records signed together in Python."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from silktrace.chain import Deployment, Sender
from silktrace.ledger import (
    Action,
    Ledger,
    LedgerError,
    Record,
    batch_typed_data,
    sign_records,
)
from silktrace.vocab import Role, disposition_code, step

GLN = 6901234000005


@pytest.fixture
def parties(
    w3: Web3, deployment: Deployment, snapshot: None
) -> tuple[Ledger, LocalAccount, Ledger]:
    """An importer enterprise (its key and its client) and a relayer's client, on a reverted chain."""
    admin = Ledger(w3, deployment, Sender(w3, address=w3.eth.accounts[0]))
    importer = Account.create()
    admin.sender.send({"to": importer.address, "value": 10**18})
    admin.register_enterprise(os.urandom(32), os.urandom(32), Role.IMPORTER, importer.address)
    relayer = admin.with_sender(Sender(w3, address=w3.eth.accounts[1]))
    return admin.with_sender(Sender(w3, importer)), importer, relayer


def _storing(imp: Ledger, n: int) -> list[Record]:
    """`n` fresh items held by the importer, one storing record each that changes the disposition."""
    now = int(time.time())
    records = []
    for _ in range(n):
        item = os.urandom(32)
        imp.register_item(item, event_time=now)
        records.append(
            Record(
                Action.EVENT,
                item,
                step("storing").code,
                disposition_code("sellable_not_accessible"),
                0,
                GLN,
                now,
                os.urandom(32),
                (os.urandom(32), os.urandom(32)),
            )
        )
    return records


def test_python_digest_is_the_contracts(parties: tuple[Ledger, LocalAccount, Ledger]) -> None:
    imp, _importer, _relayer = parties
    records = _storing(imp, 3)
    data = batch_typed_data(records, 5, 2**40, imp.deployment.chain_id, imp.address)
    message = encode_typed_data(full_message=data)
    digest = keccak(b"\x19" + message.version + message.header + message.body)
    on_chain = imp.contract.functions.recordsDigest(
        [r.as_tuple() for r in records], 5, 2**40
    ).call()
    assert digest == bytes(on_chain)


def test_submit_signed_records_accepts_a_python_signed_batch(
    parties: tuple[Ledger, LocalAccount, Ledger],
) -> None:
    imp, importer, relayer = parties
    records = _storing(imp, 4)
    nonce = imp.nonce(importer.address)
    signed = imp.sign_records(importer, records)
    assert (signed.signer, signed.nonce) == (importer.address, nonce)

    receipt = relayer.submit_signed_records(signed)

    events = imp.events(receipt, "EventRecorded")
    assert [e["args"]["subject"] for e in events] == [r.subject for r in records]
    assert {e["args"]["account"] for e in events} == {importer.address}
    assert [list(e["args"]["documents"]) for e in events] == [list(r.documents) for r in records]
    assert imp.nonce(importer.address) == nonce + 1
    sellable = disposition_code("sellable_not_accessible")
    assert all(imp.subject(r.subject)["disposition"] == sellable for r in records)


def test_submit_signed_records_refuses_a_tampered_batch(
    parties: tuple[Ledger, LocalAccount, Ledger],
) -> None:
    imp, importer, relayer = parties
    records = _storing(imp, 3)
    signed = imp.sign_records(importer, records)
    altered = list(signed.records)
    altered[1] = dataclasses.replace(altered[1], disposition=disposition_code("damaged"))
    tampered = dataclasses.replace(signed, records=tuple(altered))

    with pytest.raises(LedgerError) as exc:
        relayer.submit_signed_records(tampered)

    assert exc.value.error_name == "TraceLedgerInvalidSigner"
    assert exc.value.error_args["signer"] == importer.address
    assert exc.value.error_args["recovered"] != importer.address
    assert imp.nonce(importer.address) == signed.nonce  # nothing consumed
    # The batch as signed still goes through.
    relayer.submit_signed_records(signed)
    assert imp.nonce(importer.address) == signed.nonce + 1


def test_submit_signed_records_refuses_a_replayed_nonce(
    parties: tuple[Ledger, LocalAccount, Ledger],
) -> None:
    imp, importer, relayer = parties
    signed = imp.sign_records(importer, _storing(imp, 2))
    relayer.submit_signed_records(signed)
    with pytest.raises(LedgerError) as exc:
        relayer.submit_signed_records(signed)
    assert exc.value.error_name == "InvalidAccountNonce"
    assert exc.value.error_args == {"account": importer.address, "currentNonce": signed.nonce + 1}


def test_sign_records_refuses_an_empty_batch() -> None:
    with pytest.raises(ValueError, match="at least one record"):
        sign_records(
            Account.create(), [], nonce=0, deadline=1, chain_id=1, contract="0x" + "11" * 20
        )
