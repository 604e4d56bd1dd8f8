// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {LedgerTest} from "./utils/LedgerTest.sol";
import {ITraceLedger} from "../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../src/libraries/TraceCodes.sol";

/// @notice Property tests over fuzzed inputs.
contract TraceLedgerFuzzTest is LedgerTest {
    function _ids(uint256 n, bytes32 salt) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = keccak256(abi.encode(salt, i));
        }
    }

    // ---------------------------------------------------------------- Merkle membership

    function testFuzz_splitItem_everyMemberOfAnyTreeSplits(uint256 n, uint256 index, bytes32 salt) public {
        n = bound(n, 1, 70);
        index = bound(index, 0, n - 1);
        bytes32[] memory ids = _ids(n, salt);
        _registerLot(importer, LOT, ids);
        bytes32[] memory proof = merkleProof(ids, index);
        assertTrue(ledger.isLotMember(LOT, ids[index], proof), "member");
        vm.prank(importer);
        ledger.splitItem(LOT, ids[index], proof);
        assertEq(ledger.subject(ids[index]).lot, LOT, "split");
    }

    function testFuzz_splitItem_nonMemberNeverSplits(uint256 n, uint256 index, bytes32 salt, bytes32 outsider) public {
        n = bound(n, 1, 70);
        index = bound(index, 0, n - 1);
        bytes32[] memory ids = _ids(n, salt);
        for (uint256 i; i < n; ++i) {
            vm.assume(ids[i] != outsider);
        }
        vm.assume(outsider != bytes32(0));
        _registerLot(importer, LOT, ids);
        bytes32[] memory proof = merkleProof(ids, index);
        assertFalse(ledger.isLotMember(LOT, outsider, proof), "outsider");
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNotLotMember.selector, LOT, outsider));
        vm.prank(importer);
        ledger.splitItem(LOT, outsider, proof);
    }

    function testFuzz_isLotMember_wrongProofFails(uint256 n, uint256 index, uint256 other, bytes32 salt) public {
        n = bound(n, 2, 70);
        index = bound(index, 0, n - 1);
        other = bound(other, 0, n - 1);
        vm.assume(other != index);
        bytes32[] memory ids = _ids(n, salt);
        _registerLot(importer, LOT, ids);
        bytes32[] memory proof = merkleProof(ids, other);
        // A proof for one leaf proves another only if both share every sibling, which distinct leaves never do.
        assertFalse(ledger.isLotMember(LOT, ids[index], proof), "proof of another leaf");
    }

    function testFuzz_registerLot_anyCountCostsTheSame(uint32 count) public {
        count = uint32(bound(count, 1, type(uint32).max));
        vm.prank(importer);
        ledger.registerLot(LOT, keccak256("root"), count, MANIFEST, GLN, uint64(T0), EPCIS);
        (, uint32 stored,) = ledger.lotInfo(LOT);
        assertEq(stored, count, "count");
    }

    // ---------------------------------------------------------------- eventTime bounds

    function testFuzz_submit_eventTimeBound(uint64 eventTime) public {
        _registerItem(importer, ITEM);
        ITraceLedger.Record memory r = _event(ITEM, TraceCodes.STEP_STORING);
        r.eventTime = eventTime;
        if (eventTime > T0 + 1 hours) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEventTimeInFuture.selector, eventTime, T0));
        }
        _submit(importer, r);
    }

    function testFuzz_registerUnit_eventTimeBound(uint64 eventTime, uint256 now_) public {
        now_ = bound(now_, 1, type(uint64).max - 2 hours);
        vm.warp(now_);
        if (eventTime > now_ + 1 hours) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEventTimeInFuture.selector, eventTime, now_));
        }
        vm.prank(carrier);
        ledger.registerUnit(UNIT, GLN, eventTime, EPCIS);
    }

    // ---------------------------------------------------------------- codes

    function testFuzz_submit_bizStepFollowsTheStepClasses(uint8 step) public {
        _registerItem(importer, ITEM);
        bool known = TraceCodes.isKnownStep(step);
        bool reserved = step == TraceCodes.STEP_COMMISSIONING || step == TraceCodes.STEP_PACKING
            || step == TraceCodes.STEP_UNPACKING || step == TraceCodes.STEP_RECALL
            || step == TraceCodes.STEP_RECALL_LIFTED;
        address who = step >= 64 ? customs : importer;
        if (!known) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownBizStep.selector, step));
        } else if (reserved) {
            vm.expectRevert(
                abi.encodeWithSelector(ITraceLedger.TraceLedgerStepNotAllowed.selector, ITraceLedger.Action.Event, step)
            );
        }
        _submit(who, _event(ITEM, step));
        if (known && !reserved) {
            assertEq(ledger.subject(ITEM).ended, TraceCodes.endsCustody(step), "ends custody");
        }
    }

    function testFuzz_submit_dispositionStoredIfKnown(uint8 disposition) public {
        _registerItem(importer, ITEM);
        if (disposition > TraceCodes.LAST_DISPOSITION) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownDisposition.selector, disposition));
        }
        _submit(importer, _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_STORING, disposition, 0));
        if (disposition <= TraceCodes.LAST_DISPOSITION) {
            uint8 expected = disposition == 0 ? TraceCodes.DISP_ACTIVE : disposition;
            assertEq(ledger.subject(ITEM).disposition, expected, "disposition");
        }
    }

    function testFuzz_submit_documentCount(uint8 n) public {
        _registerItem(importer, ITEM);
        n = uint8(bound(n, 0, 40));
        ITraceLedger.Record memory r = _event(ITEM, TraceCodes.STEP_STORING);
        r.documents = _docs(n);
        if (n > 16) vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerTooManyDocuments.selector, n, 16));
        _submit(importer, r);
    }

    // ---------------------------------------------------------------- roles

    function testFuzz_roles_decideEveryActionClass(uint8 roles) public {
        address account = vm.addr(0xF00D);
        if (roles == 0 || roles > TraceCodes.ALL_ROLES) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidRoles.selector, roles));
            ledger.registerEnterprise(bytes32(0), bytes32(0), roles, account);
            return;
        }
        uint32 id = ledger.registerEnterprise(bytes32(0), bytes32(0), roles, account);
        _registerItem(importer, ITEM);

        // Commissioning: importer or supplier.
        uint8 commissioners = TraceCodes.ROLE_IMPORTER | TraceCodes.ROLE_SUPPLIER;
        if (roles & commissioners == 0) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, id, commissioners));
        }
        _registerItem(account, keccak256("own item"));

        // Authority steps: customs or regulator, on a subject held by someone else.
        if (roles & TraceCodes.AUTHORITY_ROLES == 0) {
            vm.expectRevert(
                abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, id, TraceCodes.AUTHORITY_ROLES)
            );
        }
        _submit(account, _event(ITEM, TraceCodes.STEP_HOLDING));

        // Receiving custody: any custodian role.
        if (roles & TraceCodes.CUSTODIAN_ROLES == 0) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidReceiver.selector, ITEM, id));
            _submit(importer, _dispatchRec(ITEM, id));
        } else {
            _handOver(importer, ITEM, account, id);
            assertEq(ledger.responsibleOf(ITEM), id, "custodian holds");
        }

        // Recall: regulator anywhere, importer on what it holds.
        bool canRecall = roles & TraceCodes.ROLE_REGULATOR != 0
            || (roles & TraceCodes.ROLE_IMPORTER != 0 && roles & TraceCodes.CUSTODIAN_ROLES != 0);
        if (!canRecall) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ITraceLedger.TraceLedgerMissingRole.selector,
                    id,
                    TraceCodes.ROLE_REGULATOR | TraceCodes.ROLE_IMPORTER
                )
            );
        }
        _submit(account, _actionRec(ITraceLedger.Action.Recall, ITEM));
        if (!canRecall) _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));

        // Lifting: regulator only.
        if (roles & TraceCodes.ROLE_REGULATOR == 0) {
            vm.expectRevert(
                abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, id, TraceCodes.ROLE_REGULATOR)
            );
        }
        _submit(account, _actionRec(ITraceLedger.Action.LiftRecall, ITEM));
    }

    // ---------------------------------------------------------------- signatures

    function testFuzz_submitSigned_anyRegisteredKeySignsForItsEnterprise(uint256 key, uint64 deadlineAhead) public {
        key = bound(key, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        address account = vm.addr(key);
        vm.assume(ledger.enterpriseOf(account) == 0);
        ledger.addAccount(IMPORTER_ID, account);
        _registerItem(importer, ITEM);
        uint256 deadline = T0 + bound(deadlineAhead, 0, 365 days);
        ITraceLedger.SignedRecord memory signed = _sign(key, _event(ITEM, TraceCodes.STEP_STORING), 0, deadline);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EventRecorded(
            ITEM, IMPORTER_ID, TraceCodes.STEP_STORING, 0, GLN, uint64(T0), EPCIS, account, _one(DOC)
        );
        ledger.submitSigned(signed);
        assertEq(ledger.nonces(account), 1, "nonce");
    }

    // ---------------------------------------------------------------- records signed together

    /// @dev `n` items registered by the importer, one storing record each with a fuzzed disposition and
    /// document count.
    function _storingRecords(uint256 n, uint256 seed) internal returns (ITraceLedger.Record[] memory records) {
        records = new ITraceLedger.Record[](n);
        bytes32[] memory ids = _ids(n, bytes32(seed));
        for (uint256 i; i < n; ++i) {
            _registerItem(importer, ids[i]);
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            records[i] = _rec(
                ITraceLedger.Action.Event,
                ids[i],
                TraceCodes.STEP_STORING,
                uint8(r % (TraceCodes.LAST_DISPOSITION + 1)),
                0
            );
            records[i].documents = _docs((r >> 8) % 4);
            records[i].epcisHash = keccak256(abi.encode(r));
        }
    }

    function testFuzz_submitSignedRecords_appliesEveryRecordAsTheSigner(uint256 n, uint256 seed, uint64 deadlineAhead)
        public
    {
        n = bound(n, 1, 24);
        uint256 deadline = T0 + bound(deadlineAhead, 0, 365 days);
        ITraceLedger.Record[] memory records = _storingRecords(n, seed);
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, deadline);
        vm.prank(stranger);
        ledger.submitSignedRecords(importer, records, 0, deadline, sig);
        assertEq(ledger.nonces(importer), 1, "one nonce");
        for (uint256 i; i < n; ++i) {
            uint8 d = records[i].disposition;
            assertEq(ledger.subject(records[i].subject).disposition, d == 0 ? TraceCodes.DISP_ACTIVE : d, "applied");
        }
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, importer, 1));
        ledger.submitSignedRecords(importer, records, 0, deadline, sig);
    }

    function testFuzz_submitSignedRecords_anyTamperedFieldFails(uint256 n, uint256 index, uint8 field, bytes32 value)
        public
    {
        n = bound(n, 1, 8);
        index = bound(index, 0, n - 1);
        ITraceLedger.Record[] memory records = _storingRecords(n, uint256(value));
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, T0 + 60);
        ITraceLedger.Record memory r = records[index];
        field = uint8(bound(field, 0, 8));
        uint256 v = uint256(value);
        if (field == 0) r.action = ITraceLedger.Action(uint8(uint8(r.action) + 1 + v % 6) % 7);
        else if (field == 1) r.subject = r.subject ^ (value == 0 ? bytes32(uint256(1)) : value);
        else if (field == 2) r.bizStep = uint8(r.bizStep + 1 + v % 255);
        else if (field == 3) r.disposition = uint8(r.disposition + 1 + v % 255);
        else if (field == 4) r.counterparty = uint32(r.counterparty + 1 + v % type(uint32).max);
        else if (field == 5) r.location = uint64(r.location + 1 + v % type(uint64).max);
        else if (field == 6) r.eventTime = uint64(r.eventTime + 1 + v % type(uint64).max);
        else if (field == 7) r.epcisHash = r.epcisHash ^ (value == 0 ? bytes32(uint256(1)) : value);
        else r.documents = _docs(r.documents.length + 1);
        address recovered = _recoveredRecords(records, 0, T0 + 60, sig);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSigner.selector, recovered, importer));
        ledger.submitSignedRecords(importer, records, 0, T0 + 60, sig);
    }
}
