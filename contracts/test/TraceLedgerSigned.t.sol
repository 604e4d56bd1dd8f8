// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {LedgerTest} from "./utils/LedgerTest.sol";
import {ITraceLedger} from "../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../src/libraries/TraceCodes.sol";

/// @notice submitSigned / submitSignedBatch: EIP-712 records relayed by anyone.
contract TraceLedgerSignedTest is LedgerTest {
    address internal relayer = address(0xBEEF);

    function setUp() public override {
        super.setUp();
        _registerItem(importer, ITEM);
        _registerUnit(importer, UNIT);
    }

    function _relay(ITraceLedger.SignedRecord memory signed) internal {
        vm.prank(relayer);
        ledger.submitSigned(signed);
    }

    function _batch(ITraceLedger.SignedRecord memory a, ITraceLedger.SignedRecord memory b)
        internal
        pure
        returns (ITraceLedger.SignedRecord[] memory batch)
    {
        batch = new ITraceLedger.SignedRecord[](2);
        batch[0] = a;
        batch[1] = b;
    }

    // ---------------------------------------------------------------- digest

    function test_recordDigest_matchesEip712TypedData() public view {
        ITraceLedger.Record memory r = _dispatchRec(ITEM, CARRIER_ID);
        r.documents = _docs(2);
        bytes32 typeHash = keccak256(
            "Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents,uint256 nonce,uint256 deadline)"
        );
        assertEq(ledger.RECORD_TYPEHASH(), typeHash, "type hash");
        bytes32 structHash = keccak256(
            abi.encode(
                typeHash,
                uint8(r.action),
                r.subject,
                r.bizStep,
                r.disposition,
                r.counterparty,
                r.location,
                r.eventTime,
                r.epcisHash,
                keccak256(abi.encodePacked(r.documents)),
                uint256(7),
                uint256(T0 + 60)
            )
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("SilkTrace"),
                keccak256("1"),
                block.chainid,
                address(ledger)
            )
        );
        bytes32 expected = keccak256(abi.encodePacked("\x19\x01", domain, structHash));
        assertEq(ledger.recordDigest(r, 7, T0 + 60), expected, "digest");
    }

    // ---------------------------------------------------------------- submitSigned

    function test_submitSigned_succeedsAsTheSigner() public {
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EventRecorded(
            ITEM, IMPORTER_ID, TraceCodes.STEP_STORING, 0, GLN, uint64(T0), EPCIS, importer, _one(DOC)
        );
        _relay(signed);
        assertEq(ledger.nonces(importer), 1, "nonce used");
    }

    function test_submitSigned_succeedsForHandoverSignedByBothParties() public {
        _relay(_signNext(IMPORTER_KEY, _dispatchRec(ITEM, CARRIER_ID)));
        _relay(_signNext(CARRIER_KEY, _acceptRec(ITEM)));
        assertEq(ledger.responsibleOf(ITEM), CARRIER_ID, "accepted");
    }

    function test_submitSigned_succeedsAtDeadline() public {
        ITraceLedger.SignedRecord memory signed = _sign(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING), 0, T0);
        _relay(signed);
    }

    function test_submitSigned_failsIfExpired() public {
        ITraceLedger.SignedRecord memory signed = _sign(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING), 0, T0 - 1);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerExpiredSignature.selector, T0 - 1, T0));
        _relay(signed);
    }

    function test_submitSigned_failsIfSignedByAnotherKey() public {
        ITraceLedger.SignedRecord memory signed = _signNext(CARRIER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        signed.signer = importer;
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSigner.selector, carrier, importer));
        _relay(signed);
    }

    function test_submitSigned_failsIfRecordAltered() public {
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        bytes32 digest = ledger.recordDigest(signed.record, signed.nonce, signed.deadline);
        signed.record.documents = _docs(1);
        bytes32 altered = ledger.recordDigest(signed.record, signed.nonce, signed.deadline);
        assertTrue(digest != altered, "documents are signed");
        vm.expectRevert(); // recovers some other address
        _relay(signed);
    }

    function test_submitSigned_failsIfSignatureMalformed() public {
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        signed.signature = new bytes(64);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSigner.selector, address(0), importer));
        _relay(signed);
    }

    function test_submitSigned_failsIfNonceReplayed() public {
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        _relay(signed);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, importer, 1));
        _relay(signed);
    }

    function test_submitSigned_failsIfNonceFromTheFuture() public {
        ITraceLedger.SignedRecord memory signed = _sign(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING), 5, T0 + 60);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, importer, 0));
        _relay(signed);
    }

    function test_submitSigned_failsIfSignerUnknown() public {
        ITraceLedger.SignedRecord memory signed = _signNext(STRANGER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, stranger));
        _relay(signed);
    }

    function test_submitSigned_failsIfSignerSuspended() public {
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        ledger.suspendEnterprise(IMPORTER_ID, REASON);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, IMPORTER_ID));
        _relay(signed);
    }

    function test_submitSigned_failsIfSignerNotResponsible() public {
        ITraceLedger.SignedRecord memory signed = _signNext(CARRIER_KEY, _event(ITEM, TraceCodes.STEP_DEPARTING));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, CARRIER_ID, IMPORTER_ID)
        );
        _relay(signed);
    }

    function test_submitSigned_relayerIdentityIsIrrelevant() public {
        // The relayer may itself be an enterprise account: the record still acts as its signer.
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        vm.prank(carrier);
        ledger.submitSigned(signed);
        assertEq(ledger.nonces(carrier), 0, "relayer's nonce untouched");
    }

    // ---------------------------------------------------------------- submitSignedBatch

    function test_submitSignedBatch_succeedsInOrder() public {
        ITraceLedger.SignedRecord memory dispatch = _signNext(IMPORTER_KEY, _dispatchRec(UNIT, WAREHOUSE_ID));
        ITraceLedger.SignedRecord memory accept = _signNext(WAREHOUSE_KEY, _acceptRec(UNIT));
        vm.prank(relayer);
        ledger.submitSignedBatch(_batch(dispatch, accept));
        assertEq(ledger.responsibleOf(UNIT), WAREHOUSE_ID, "dispatched then accepted");
    }

    function test_submitSignedBatch_succeedsWithConsecutiveNoncesOfOneSigner() public {
        ITraceLedger.Record memory r = _event(ITEM, TraceCodes.STEP_STORING);
        ITraceLedger.SignedRecord[] memory batch = new ITraceLedger.SignedRecord[](5);
        for (uint256 i; i < batch.length; ++i) {
            batch[i] = _sign(IMPORTER_KEY, r, i, T0 + 60);
        }
        vm.prank(relayer);
        ledger.submitSignedBatch(batch);
        assertEq(ledger.nonces(importer), 5, "five nonces used");
    }

    function test_submitSignedBatch_failsIfEmpty() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEmptyBatch.selector));
        vm.prank(relayer);
        ledger.submitSignedBatch(new ITraceLedger.SignedRecord[](0));
    }

    function test_submitSignedBatch_failsAtomicallyIfOneRecordFails() public {
        ITraceLedger.SignedRecord memory ok = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        ITraceLedger.SignedRecord memory bad = _signNext(CARRIER_KEY, _event(ITEM, TraceCodes.STEP_DEPARTING));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, CARRIER_ID, IMPORTER_ID)
        );
        vm.prank(relayer);
        ledger.submitSignedBatch(_batch(ok, bad));
        assertEq(ledger.nonces(importer), 0, "first record rolled back");
    }

    function test_submitSignedBatch_failsIfSameNonceTwice() public {
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING));
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, importer, 1));
        vm.prank(relayer);
        ledger.submitSignedBatch(_batch(signed, signed));
    }
}
