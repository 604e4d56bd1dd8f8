"""Merkle trees of item ids, verifiable with OpenZeppelin's MerkleProof (sorted-pair hashing).

Leaves use OpenZeppelin StandardMerkleTree's encoding, ``keccak256(keccak256(abi.encode(itemId)))``,
so a leaf can never be mistaken for an inner node.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from eth_utils import keccak


def leaf(item_id: bytes) -> bytes:
    """The leaf of one 32-byte item id."""
    if len(item_id) != 32:
        raise ValueError("item ids are 32 bytes")
    return keccak(keccak(item_id))  # abi.encode(bytes32) is the 32 bytes themselves


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


class MerkleTree:
    """All levels of a tree over sorted leaves; O(n) memory, O(log n) proofs."""

    def __init__(self, item_ids: Iterable[bytes]) -> None:
        leaves = sorted(leaf(i) for i in item_ids)
        if not leaves:
            raise ValueError("a Merkle tree needs at least one item")
        for a, b in pairwise(leaves):
            if a == b:
                raise ValueError("duplicate item id in the tree")
        self.levels: list[list[bytes]] = [leaves]
        while len(self.levels[-1]) > 1:
            prev = self.levels[-1]
            nxt = [_pair(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)]
            if len(prev) % 2:
                nxt.append(prev[-1])  # an odd node moves up unchanged
            self.levels.append(nxt)
        self._index = {h: i for i, h in enumerate(leaves)}

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def proof(self, item_id: bytes) -> list[bytes]:
        """Sibling hashes from the leaf up; KeyError if the item is not in the tree."""
        index = self._index[leaf(item_id)]
        path: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path


def verify(root: bytes, item_id: bytes, proof: Iterable[bytes]) -> bool:
    """Whether `proof` shows `item_id` under `root`, as MerkleProof.verify computes it."""
    node = leaf(item_id)
    for sibling in proof:
        node = _pair(node, sibling)
    return node == root
