// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Test} from "../utils/Test.sol";
import {LedgerHandler} from "./LedgerHandler.sol";
import {TraceLedger} from "../../src/TraceLedger.sol";
import {ITraceLedger} from "../../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../../src/libraries/TraceCodes.sol";

/// @notice Stateful properties of the ledger under random sequences of actions by eight enterprises.
contract TraceLedgerInvariantTest is Test {
    TraceLedger internal ledger;
    LedgerHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        ledger = new TraceLedger(address(this), 1 days);
        uint8[8] memory roles = [
            TraceCodes.ROLE_IMPORTER,
            TraceCodes.ROLE_IMPORTER,
            TraceCodes.ROLE_SUPPLIER,
            TraceCodes.ROLE_WAREHOUSE,
            TraceCodes.ROLE_CARRIER,
            TraceCodes.ROLE_CARRIER | TraceCodes.ROLE_WAREHOUSE,
            TraceCodes.ROLE_CUSTOMS,
            TraceCodes.ROLE_REGULATOR
        ];
        uint256[] memory keys = new uint256[](roles.length);
        for (uint256 i; i < roles.length; ++i) {
            keys[i] = 0x3000 + i;
            ledger.registerEnterprise(bytes32(i), bytes32(0), roles[i], vm.addr(keys[i]));
        }
        handler = new LedgerHandler(ledger, keys);

        _targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = LedgerHandler.registerLot.selector;
        selectors[1] = LedgerHandler.registerUnit.selector;
        selectors[2] = LedgerHandler.splitItem.selector;
        selectors[3] = LedgerHandler.pack.selector;
        selectors[4] = LedgerHandler.unpack.selector;
        selectors[5] = LedgerHandler.holderStep.selector;
        selectors[6] = LedgerHandler.authorityStep.selector;
        selectors[7] = LedgerHandler.dispatch.selector;
        selectors[8] = LedgerHandler.accept.selector;
        selectors[9] = LedgerHandler.rejectOrCancel.selector;
        selectors[10] = LedgerHandler.recall.selector;
        selectors[11] = LedgerHandler.signedStep.selector;
        selectors[12] = LedgerHandler.warp.selector;
        selectors[13] = LedgerHandler.signedRecords.selector;
        _targetSelector(address(handler), selectors);
    }

    /// @notice Every registered subject has exactly one responsible enterprise: a registered custodian, the
    /// one the ghost model of handovers and packing predicts.
    function invariant_exactlyOneResponsibleCustodian() public view {
        uint256 n = handler.subjectCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.subjects(i);
            uint32 responsible = ledger.responsibleOf(id);
            assertTrue(responsible != 0, "someone is responsible");
            assertTrue(ledger.enterprise(responsible).roles & TraceCodes.CUSTODIAN_ROLES != 0, "a custodian");
            assertEq(responsible, handler.ghostResponsible(id), "as the handovers say");
            assertEq(ledger.subject(id).parent, handler.ghostParent(id), "packed where the model says");
            uint32 pending = ledger.subject(id).pendingReceiver;
            if (pending != 0) {
                assertTrue(pending != responsible, "never hands over to itself");
                assertTrue(ledger.enterprise(pending).roles & TraceCodes.CUSTODIAN_ROLES != 0, "to a custodian");
            }
        }
    }

    /// @notice No holder step or dispatch was ever accepted from an enterprise that was not responsible.
    function invariant_nothingRecordedByNonHolder() public view {
        assertEq(handler.nonHolderRecords(), 0, "records by non-holders");
    }

    /// @notice A signer's nonce is accepted once: the chain's counter matches the accepted records.
    function invariant_nonceNeverAcceptedTwice() public view {
        assertEq(handler.replayedNonces(), 0, "replayed nonces accepted");
        uint256 n = handler.accountCount();
        for (uint256 i; i < n; ++i) {
            address a = handler.accounts(i);
            assertEq(ledger.nonces(a), handler.ghostNonce(a), "nonce counter");
        }
    }

    /// @notice A split item always remains a proven member of its lot.
    function invariant_splitItemIsLotMember() public view {
        uint256 n = handler.splitCount();
        for (uint256 i; i < n; ++i) {
            bytes32 item = handler.splitItems(i);
            ITraceLedger.Subject memory s = ledger.subject(item);
            assertEq(uint8(s.kind), uint8(ITraceLedger.SubjectKind.Item), "an item");
            assertTrue(ledger.isLotMember(s.lot, item, handler.proofOf(item)), "member of its lot");
        }
    }

    /// @notice Parent chains stay within MAX_HEIGHT, so every walk is bounded.
    function invariant_nestingBounded() public view {
        uint256 n = handler.subjectCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.subjects(i);
            uint256 depth;
            while (ledger.subject(id).parent != bytes32(0)) {
                id = ledger.subject(id).parent;
                ++depth;
            }
            assertLe(depth, ledger.MAX_HEIGHT(), "depth");
        }
    }
}
