// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice Builds Merkle trees of item ids in the test, independently of the contract: leaves are
/// `keccak256(bytes.concat(keccak256(abi.encode(id))))`, pairs hashed in sorted order, an odd node
/// carried up unhashed. Any such tree verifies with OpenZeppelin MerkleProof.
abstract contract MerkleBuilder {
    function leafOf(bytes32 id) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(id))));
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function merkleRoot(bytes32[] memory ids) internal pure returns (bytes32) {
        bytes32[] memory level = _leaves(ids);
        while (level.length > 1) {
            level = _up(level);
        }
        return level[0];
    }

    function merkleProof(bytes32[] memory ids, uint256 index) internal pure returns (bytes32[] memory proof) {
        bytes32[] memory level = _leaves(ids);
        bytes32[] memory path = new bytes32[](256);
        uint256 len;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) path[len++] = level[sibling];
            level = _up(level);
            index >>= 1;
        }
        proof = new bytes32[](len);
        for (uint256 i; i < len; ++i) {
            proof[i] = path[i];
        }
    }

    function _leaves(bytes32[] memory ids) private pure returns (bytes32[] memory level) {
        require(ids.length > 0, "empty tree");
        level = new bytes32[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            level[i] = leafOf(ids[i]);
        }
    }

    function _up(bytes32[] memory level) private pure returns (bytes32[] memory next) {
        next = new bytes32[]((level.length + 1) / 2);
        for (uint256 i; i < next.length; ++i) {
            uint256 l = 2 * i;
            next[i] = l + 1 < level.length ? hashPair(level[l], level[l + 1]) : level[l];
        }
    }
}
