"""Merkle trees of item ids."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from silktrace.merkle import MerkleTree, verify


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True))
def test_every_member_proves_and_outsiders_do_not(ids: list[bytes]) -> None:
    tree = MerkleTree(ids)
    for item_id in ids:
        assert verify(tree.root, item_id, tree.proof(item_id))
    outsider = os.urandom(32)
    assert not verify(tree.root, outsider, tree.proof(ids[0]))


def test_tree_failsIfDuplicateIds() -> None:
    item = os.urandom(32)
    with pytest.raises(ValueError, match="duplicate"):
        MerkleTree([item, item])


def test_proof_failsIfNotMember() -> None:
    with pytest.raises(KeyError):
        MerkleTree([os.urandom(32)]).proof(os.urandom(32))
