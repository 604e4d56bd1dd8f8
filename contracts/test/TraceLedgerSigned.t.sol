// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {LedgerTest} from "./utils/LedgerTest.sol";
import {ITraceLedger} from "../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../src/libraries/TraceCodes.sol";

/// @notice submitSigned / submitSignedBatch / submitSignedRecords: EIP-712 records relayed by anyone.
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

    // ---------------------------------------------------------------- submitSignedRecords

    uint256 internal constant DEADLINE = T0 + 60;

    function _relayRecords(address signer, ITraceLedger.Record[] memory records, uint256 nonce, bytes memory sig)
        internal
    {
        vm.prank(relayer);
        ledger.submitSignedRecords(signer, records, nonce, DEADLINE, sig);
    }

    function _recovered(ITraceLedger.Record[] memory records, uint256 nonce, bytes memory sig)
        internal
        view
        returns (address)
    {
        return _recoveredRecords(records, nonce, DEADLINE, sig);
    }

    function _twoRecords() internal pure returns (ITraceLedger.Record[] memory) {
        ITraceLedger.Record memory stored =
            _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_STORING, TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE, 0);
        return _records(stored, _dispatchRec(UNIT, CARRIER_ID));
    }

    function test_recordBatchTypeHashes_areTheDocumentedStrings() public view {
        bytes memory record =
            "Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents)";
        assertEq(ledger.BATCHED_RECORD_TYPEHASH(), keccak256(record), "nested record");
        assertEq(
            ledger.RECORD_BATCH_TYPEHASH(),
            keccak256(bytes.concat("RecordBatch(Record[] records,uint256 nonce,uint256 deadline)", record)),
            "batch: referenced types appended"
        );
        assertTrue(ledger.BATCHED_RECORD_TYPEHASH() != ledger.RECORD_TYPEHASH(), "not the single-record type");
    }

    function test_recordsDigest_matchesEip712TypedData() public view {
        ITraceLedger.Record[] memory records = _twoRecords();
        records[1].documents = _docs(3);
        records[0].documents = new bytes32[](0);
        bytes32[] memory hashes = new bytes32[](2);
        for (uint256 i; i < 2; ++i) {
            ITraceLedger.Record memory r = records[i];
            hashes[i] = keccak256(
                abi.encode(
                    ledger.BATCHED_RECORD_TYPEHASH(),
                    uint8(r.action),
                    r.subject,
                    r.bizStep,
                    r.disposition,
                    r.counterparty,
                    r.location,
                    r.eventTime,
                    r.epcisHash,
                    keccak256(abi.encodePacked(r.documents))
                )
            );
        }
        bytes32 structHash = keccak256(
            abi.encode(ledger.RECORD_BATCH_TYPEHASH(), keccak256(abi.encodePacked(hashes)), uint256(7), DEADLINE)
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
        assertEq(ledger.recordsDigest(records, 7, DEADLINE), expected, "digest");
    }

    function test_recordsDigest_dependsOnOrderAndCount() public view {
        ITraceLedger.Record[] memory records = _twoRecords();
        ITraceLedger.Record[] memory swapped = _records(records[1], records[0]);
        ITraceLedger.Record[] memory first = new ITraceLedger.Record[](1);
        first[0] = records[0];
        bytes32 digest = ledger.recordsDigest(records, 0, DEADLINE);
        assertTrue(digest != ledger.recordsDigest(swapped, 0, DEADLINE), "order is signed");
        assertTrue(digest != ledger.recordsDigest(first, 0, DEADLINE), "count is signed");
        assertTrue(
            ledger.recordsDigest(first, 0, DEADLINE) != ledger.recordDigest(first[0], 0, DEADLINE), "not a single"
        );
    }

    function test_submitSignedRecords_succeedsAsTheSigner() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, DEADLINE);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EventRecorded(
            ITEM,
            IMPORTER_ID,
            TraceCodes.STEP_STORING,
            TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE,
            GLN,
            uint64(T0),
            EPCIS,
            importer,
            _one(DOC)
        );
        vm.expectEmit(address(ledger));
        emit ITraceLedger.CustodyDispatched(
            UNIT,
            IMPORTER_ID,
            CARRIER_ID,
            TraceCodes.STEP_SHIPPING,
            TraceCodes.DISP_IN_TRANSIT,
            GLN,
            uint64(T0),
            EPCIS,
            importer,
            _one(DOC)
        );
        _relayRecords(importer, records, 0, sig);
        assertEq(ledger.nonces(importer), 1, "one nonce for the batch");
        assertEq(ledger.nonces(relayer), 0, "relayer's nonce untouched");
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE, "first applied");
        assertEq(ledger.subject(UNIT).pendingReceiver, CARRIER_ID, "second applied");
    }

    function test_submitSignedRecords_succeedsInOrderOnOneSubject() public {
        // Dispatch, cancel, dispatch again: each record sees the state the previous one left.
        ITraceLedger.Record[] memory records = new ITraceLedger.Record[](3);
        records[0] = _dispatchRec(ITEM, CARRIER_ID);
        records[1] = _actionRec(ITraceLedger.Action.Cancel, ITEM);
        records[2] = _dispatchRec(ITEM, WAREHOUSE_ID);
        _relayRecords(importer, records, 0, _signRecords(IMPORTER_KEY, records, 0, DEADLINE));
        assertEq(ledger.subject(ITEM).pendingReceiver, WAREHOUSE_ID, "last dispatch stands");
    }

    function test_submitSignedRecords_succeedsAtDeadline() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, T0);
        vm.prank(relayer);
        ledger.submitSignedRecords(importer, records, 0, T0, sig);
        assertEq(ledger.nonces(importer), 1, "nonce used");
    }

    function test_submitSignedRecords_succeedsAfterSingleRecordsOfTheSameSigner() public {
        _relay(_signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING)));
        ITraceLedger.Record[] memory records = _twoRecords();
        _relayRecords(importer, records, 1, _signRecords(IMPORTER_KEY, records, 1, DEADLINE));
        assertEq(ledger.nonces(importer), 2, "one nonce sequence for both forms");
    }

    function test_submitSignedRecords_failsIfExpired() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, T0 - 1);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerExpiredSignature.selector, T0 - 1, T0));
        vm.prank(relayer);
        ledger.submitSignedRecords(importer, records, 0, T0 - 1, sig);
    }

    function test_submitSignedRecords_failsIfSignedByAnotherKey() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(CARRIER_KEY, records, 0, DEADLINE);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSigner.selector, carrier, importer));
        _relayRecords(importer, records, 0, sig);
    }

    function test_submitSignedRecords_failsIfRecordInsideTampered() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, DEADLINE);
        records[1].counterparty = WAREHOUSE_ID; // the relayer redirects the second record's handover
        address recovered = _recovered(records, 0, sig);
        assertTrue(recovered != importer, "recovers someone else");
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSigner.selector, recovered, importer));
        _relayRecords(importer, records, 0, sig);
        assertEq(ledger.nonces(importer), 0, "nonce not used");
    }

    function test_submitSignedRecords_failsIfDocumentTampered() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, DEADLINE);
        records[0].documents = _docs(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerInvalidSigner.selector, _recovered(records, 0, sig), importer
            )
        );
        _relayRecords(importer, records, 0, sig);
    }

    function test_submitSignedRecords_failsIfRecordDroppedOrReordered() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, DEADLINE);
        ITraceLedger.Record[] memory first = new ITraceLedger.Record[](1);
        first[0] = records[0];
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSigner.selector, _recovered(first, 0, sig), importer)
        );
        _relayRecords(importer, first, 0, sig);
        ITraceLedger.Record[] memory swapped = _records(records[1], records[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerInvalidSigner.selector, _recovered(swapped, 0, sig), importer
            )
        );
        _relayRecords(importer, swapped, 0, sig);
    }

    function test_submitSignedRecords_failsIfDeadlineOrNonceAltered() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, DEADLINE);
        vm.expectRevert(); // recovers some other address
        vm.prank(relayer);
        ledger.submitSignedRecords(importer, records, 0, DEADLINE + 1, sig);
        _relay(_signNext(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING))); // nonce 0 used
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerInvalidSigner.selector, _recovered(records, 1, sig), importer
            )
        );
        _relayRecords(importer, records, 1, sig);
    }

    function test_submitSignedRecords_failsIfSingleRecordSignatureReused() public {
        // A signature of one record (with its nonce and deadline) does not sign a batch of that record.
        ITraceLedger.SignedRecord memory single =
            _sign(IMPORTER_KEY, _event(ITEM, TraceCodes.STEP_STORING), 0, DEADLINE);
        ITraceLedger.Record[] memory records = new ITraceLedger.Record[](1);
        records[0] = single.record;
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerInvalidSigner.selector, _recovered(records, 0, single.signature), importer
            )
        );
        _relayRecords(importer, records, 0, single.signature);
    }

    function test_submitSignedRecords_failsIfSignatureMalformed() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSigner.selector, address(0), importer));
        _relayRecords(importer, records, 0, new bytes(64));
    }

    function test_submitSignedRecords_failsIfNonceReplayed() public {
        ITraceLedger.Record[] memory records = new ITraceLedger.Record[](1);
        records[0] = _event(ITEM, TraceCodes.STEP_STORING);
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, DEADLINE);
        _relayRecords(importer, records, 0, sig);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, importer, 1));
        _relayRecords(importer, records, 0, sig);
    }

    function test_submitSignedRecords_failsIfNonceFromTheFuture() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 3, DEADLINE);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, importer, 0));
        _relayRecords(importer, records, 3, sig);
    }

    function test_submitSignedRecords_failsIfEmpty() public {
        ITraceLedger.Record[] memory none = new ITraceLedger.Record[](0);
        bytes memory sig = _signRecords(IMPORTER_KEY, none, 0, DEADLINE);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEmptyBatch.selector));
        _relayRecords(importer, none, 0, sig);
    }

    function test_submitSignedRecords_failsIfSignerUnknown() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(STRANGER_KEY, records, 0, DEADLINE);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, stranger));
        _relayRecords(stranger, records, 0, sig);
    }

    function test_submitSignedRecords_failsIfSignerSuspended() public {
        ITraceLedger.Record[] memory records = _twoRecords();
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, DEADLINE);
        ledger.suspendEnterprise(IMPORTER_ID, REASON);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, IMPORTER_ID));
        _relayRecords(importer, records, 0, sig);
    }

    function test_submitSignedRecords_failsAtomicallyIfOneRecordFails() public {
        // The carrier signs a step on the importer's item: the whole batch is refused, its nonce unused.
        _handOver(importer, UNIT, carrier, CARRIER_ID);
        ITraceLedger.Record[] memory records =
            _records(_event(UNIT, TraceCodes.STEP_DEPARTING), _event(ITEM, TraceCodes.STEP_DEPARTING));
        bytes memory sig = _signRecords(CARRIER_KEY, records, 0, DEADLINE);
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, CARRIER_ID, IMPORTER_ID)
        );
        _relayRecords(carrier, records, 0, sig);
        assertEq(ledger.nonces(carrier), 0, "nonce rolled back");
    }

    function test_submitSignedRecords_failsIfRecallCarriesDisposition() public {
        ITraceLedger.Record[] memory records = new ITraceLedger.Record[](1);
        records[0] = _rec(ITraceLedger.Action.Recall, ITEM, TraceCodes.STEP_RECALL, TraceCodes.DISP_RECALLED, 0);
        bytes memory sig = _signRecords(REGULATOR_KEY, records, 0, DEADLINE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerDispositionNotAllowed.selector,
                ITraceLedger.Action.Recall,
                TraceCodes.DISP_RECALLED
            )
        );
        _relayRecords(regulator, records, 0, sig);
    }

    // Calldata words of submitSignedRecords: signer, records offset, nonce, deadline, signature offset, records
    // length, record 0 offset, then record 0: action, subject, bizStep. Of recordsDigest: records offset, nonce,
    // deadline, records length, record 0 offset, then record 0.
    uint256 internal constant SUBMIT_BIZSTEP_AT = 4 + 32 * 9;
    uint256 internal constant DIGEST_BIZSTEP_AT = 4 + 32 * 7;

    function _oneStoring() internal pure returns (ITraceLedger.Record[] memory records) {
        records = new ITraceLedger.Record[](1);
        records[0] = _event(ITEM, TraceCodes.STEP_STORING);
    }

    /// @dev submitSignedRecords calldata with record 0's bizStep word dirtied to 0x0109.
    function _dirtySubmit(bytes memory sig) internal view returns (bytes memory data) {
        data = abi.encodeCall(ledger.submitSignedRecords, (importer, _oneStoring(), 0, DEADLINE, sig));
        assertEq(uint8(data[SUBMIT_BIZSTEP_AT + 31]), TraceCodes.STEP_STORING, "found bizStep");
        data[SUBMIT_BIZSTEP_AT + 30] = 0x01;
    }

    function test_submitSignedRecords_failsIfFieldDirtiedAfterSigning() public {
        // The digest covers each static field's word as sent: a relayer cannot re-encode a signed value.
        bytes memory sig = _signRecords(IMPORTER_KEY, _oneStoring(), 0, DEADLINE);
        vm.prank(relayer);
        (bool ok, bytes memory ret) = address(ledger).call(_dirtySubmit(sig));
        assertFalse(ok, "refused");
        assertEq(bytes4(ret), ITraceLedger.TraceLedgerInvalidSigner.selector, "not what was signed");
        assertEq(ledger.nonces(importer), 0, "nothing applied");
    }

    function test_submitSignedRecords_failsIfSignedFieldNonCanonical() public {
        // Even a signature over the dirty word itself does not make the ledger read another value: the
        // checked decoder refuses the record before it applies.
        bytes memory digestCall = abi.encodeCall(ledger.recordsDigest, (_oneStoring(), 0, DEADLINE));
        assertEq(uint8(digestCall[DIGEST_BIZSTEP_AT + 31]), TraceCodes.STEP_STORING, "found bizStep");
        digestCall[DIGEST_BIZSTEP_AT + 30] = 0x01;
        (bool ok, bytes memory digest) = address(ledger).staticcall(digestCall);
        assertTrue(ok, "digest of the dirty encoding");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(IMPORTER_KEY, abi.decode(digest, (bytes32)));
        bytes memory data = _dirtySubmit(abi.encodePacked(r, s, v));
        vm.prank(relayer);
        bytes memory ret;
        (ok, ret) = address(ledger).call(data);
        assertFalse(ok, "refused by the decoder");
        assertEq(ret.length, 0, "a decoding revert, not a ledger error");
        assertEq(ledger.nonces(importer), 0, "nothing applied");
    }
}
