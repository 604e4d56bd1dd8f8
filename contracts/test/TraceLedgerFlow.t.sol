// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {LedgerTest} from "./utils/LedgerTest.sol";
import {ITraceLedger} from "../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../src/libraries/TraceCodes.sol";

/// @notice submit(): events, handovers and recalls on the direct path.
contract TraceLedgerFlowTest is LedgerTest {
    function setUp() public override {
        super.setUp();
        _registerItem(importer, ITEM);
        _registerUnit(importer, UNIT);
    }

    // ---------------------------------------------------------------- Event: holder steps

    function test_submitEvent_succeedsForHolderStep() public {
        ITraceLedger.Record memory r =
            _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_STORING, TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE, 0);
        r.documents = _docs(3);
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
            r.documents
        );
        _submit(importer, r);
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE, "disposition");
    }

    function test_submitEvent_succeedsAndKeepsDispositionWhenZero() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_PICKING));
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_ACTIVE, "unchanged");
    }

    function test_submitEvent_succeedsForEveryRecordableHolderStep() public {
        uint8[18] memory steps = [
            TraceCodes.STEP_SHIPPING,
            TraceCodes.STEP_ACCEPTING,
            TraceCodes.STEP_DEPARTING,
            TraceCodes.STEP_ARRIVING,
            TraceCodes.STEP_RECEIVING,
            TraceCodes.STEP_STORING,
            TraceCodes.STEP_PICKING,
            TraceCodes.STEP_STAGING_OUTBOUND,
            TraceCodes.STEP_ENTERING_EXITING,
            TraceCodes.STEP_LOADING,
            TraceCodes.STEP_UNLOADING,
            TraceCodes.STEP_RETAIL_SELLING,
            TraceCodes.STEP_BONDED_ENTRY,
            TraceCodes.STEP_BONDED_EXIT,
            TraceCodes.STEP_ORDER_PLACED,
            TraceCodes.STEP_CUSTOMS_DECLARATION,
            TraceCodes.STEP_RETURN,
            TraceCodes.STEP_DESTROYING
        ];
        for (uint256 i; i < steps.length; ++i) {
            _submit(importer, _event(UNIT, steps[i]));
        }
        assertTrue(ledger.subject(UNIT).ended, "destroying ended custody");
    }

    function test_submitEvent_succeedsWithMaxDocumentsAndNone() public {
        ITraceLedger.Record memory r = _event(ITEM, TraceCodes.STEP_STORING);
        r.documents = _docs(ledger.MAX_DOCUMENTS());
        _submit(importer, r);
        r.documents = new bytes32[](0);
        _submit(importer, r);
    }

    function test_submitEvent_succeedsOnUnitForEverythingInside() public {
        _pack(importer, UNIT, ITEM);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EventRecorded(
            UNIT, IMPORTER_ID, TraceCodes.STEP_DEPARTING, 0, GLN, uint64(T0), EPCIS, importer, _one(DOC)
        );
        _submit(importer, _event(UNIT, TraceCodes.STEP_DEPARTING));
    }

    function test_submitEvent_consumerReceiptEndsCustody() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        assertTrue(ledger.subject(ITEM).ended, "ended");
        assertEq(ledger.responsibleOf(ITEM), IMPORTER_ID, "last holder stays on record");
    }

    function test_submitEvent_returnReopensCustodyByLastHolder() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        _submit(importer, _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_RETURN, TraceCodes.DISP_RETURNED, 0));
        ITraceLedger.Subject memory s = ledger.subject(ITEM);
        assertFalse(s.ended, "reopened");
        assertEq(s.holder, IMPORTER_ID, "holder");
        assertEq(s.disposition, TraceCodes.DISP_RETURNED, "returned");
    }

    function test_submitEvent_returnReopensCustodyByAnyImporter() public {
        _handOver(importer, ITEM, carrier, CARRIER_ID);
        _submit(carrier, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        _submit(importer2, _event(ITEM, TraceCodes.STEP_RETURN));
        assertEq(ledger.responsibleOf(ITEM), IMPORTER2_ID, "returned to the importer");
        assertFalse(ledger.subject(ITEM).ended, "reopened");
    }

    function test_submitEvent_failsIfReturnOfEndedSubjectByOtherNonImporter() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, WAREHOUSE_ID, IMPORTER_ID)
        );
        _submit(warehouse, _event(ITEM, TraceCodes.STEP_RETURN));
    }

    function test_submitEvent_failsIfCustodyEnded() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerCustodyEnded.selector, ITEM));
        _submit(importer, _event(ITEM, TraceCodes.STEP_STORING));
    }

    function test_submitEvent_succeedsForAuthorityOnEndedSubject() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_DESTROYING));
        _submit(customs, _event(ITEM, TraceCodes.STEP_INSPECTING));
    }

    function test_submitEvent_failsIfNotResponsible() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, CARRIER_ID, IMPORTER_ID)
        );
        _submit(carrier, _event(ITEM, TraceCodes.STEP_DEPARTING));
    }

    function test_submitEvent_failsIfPendingReceiverRecordsHolderStep() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, CARRIER_ID, IMPORTER_ID)
        );
        _submit(carrier, _event(ITEM, TraceCodes.STEP_DEPARTING));
    }

    function test_submitEvent_failsIfSubjectPacked() public {
        _pack(importer, UNIT, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectPacked.selector, ITEM, UNIT));
        _submit(importer, _event(ITEM, TraceCodes.STEP_STORING));
    }

    function test_submitEvent_failsIfEndingCustodyWithHandoverPending() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerHandoverPending.selector, ITEM, CARRIER_ID));
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
    }

    function test_submitEvent_failsIfStepReservedForOtherFunctions() public {
        uint8[5] memory steps = [
            TraceCodes.STEP_COMMISSIONING,
            TraceCodes.STEP_PACKING,
            TraceCodes.STEP_UNPACKING,
            TraceCodes.STEP_RECALL,
            TraceCodes.STEP_RECALL_LIFTED
        ];
        for (uint256 i; i < steps.length; ++i) {
            address who = steps[i] >= 64 ? regulator : importer;
            vm.expectRevert(
                abi.encodeWithSelector(
                    ITraceLedger.TraceLedgerStepNotAllowed.selector, ITraceLedger.Action.Event, steps[i]
                )
            );
            _submit(who, _event(ITEM, steps[i]));
        }
    }

    function test_submitEvent_failsIfStepUnknown() public {
        uint8[6] memory steps = [0, 17, 31, 38, 63, 71];
        for (uint256 i; i < steps.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownBizStep.selector, steps[i]));
            _submit(importer, _event(ITEM, steps[i]));
        }
    }

    function test_submitEvent_failsIfDispositionUnknown() public {
        uint8 bad = TraceCodes.LAST_DISPOSITION + 1;
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownDisposition.selector, bad));
        _submit(importer, _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_STORING, bad, 0));
    }

    function test_submitEvent_failsIfSubjectUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownSubject.selector, LOT));
        _submit(importer, _event(LOT, TraceCodes.STEP_STORING));
    }

    function test_submitEvent_failsIfEventTimeInFuture() public {
        ITraceLedger.Record memory r = _event(ITEM, TraceCodes.STEP_STORING);
        r.eventTime = uint64(T0 + 1 hours + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerEventTimeInFuture.selector, r.eventTime, block.timestamp)
        );
        _submit(importer, r);
    }

    function test_submitEvent_failsIfTooManyDocuments() public {
        ITraceLedger.Record memory r = _event(ITEM, TraceCodes.STEP_STORING);
        r.documents = _docs(17);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerTooManyDocuments.selector, 17, 16));
        _submit(importer, r);
    }

    function test_submit_failsIfUnknownAccount() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, stranger));
        _submit(stranger, _event(ITEM, TraceCodes.STEP_STORING));
    }

    function test_submit_failsIfEnterpriseSuspended() public {
        ledger.suspendEnterprise(IMPORTER_ID, REASON);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, IMPORTER_ID));
        _submit(importer, _event(ITEM, TraceCodes.STEP_STORING));
    }

    // ---------------------------------------------------------------- Event: authority steps

    function test_submitEvent_succeedsForAuthorityStepOnAnySubject() public {
        _pack(importer, UNIT, ITEM);
        _submit(importer, _dispatchRec(UNIT, CARRIER_ID));
        uint8[5] memory steps = [
            TraceCodes.STEP_INSPECTING,
            TraceCodes.STEP_SAMPLING,
            TraceCodes.STEP_HOLDING,
            TraceCodes.STEP_CUSTOMS_RELEASE,
            TraceCodes.STEP_THREE_DOCUMENT_MATCH
        ];
        for (uint256 i; i < steps.length; ++i) {
            _submit(customs, _event(ITEM, steps[i])); // packed child
            _submit(regulator, _event(UNIT, steps[i])); // pending handover
        }
        _submit(
            customs,
            _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_INSPECTING, TraceCodes.DISP_NON_CONFORMANT, 0)
        );
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_NON_CONFORMANT, "inspection result");
        assertEq(ledger.responsibleOf(ITEM), IMPORTER_ID, "custody untouched");
    }

    function test_submitEvent_failsIfAuthorityStepWithoutAuthorityRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerMissingRole.selector, IMPORTER_ID, TraceCodes.AUTHORITY_ROLES
            )
        );
        _submit(importer, _event(ITEM, TraceCodes.STEP_CUSTOMS_RELEASE));
    }

    // ---------------------------------------------------------------- Dispatch

    function test_submitDispatch_succeeds() public {
        vm.expectEmit(address(ledger));
        emit ITraceLedger.CustodyDispatched(
            ITEM,
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
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        ITraceLedger.Subject memory s = ledger.subject(ITEM);
        assertEq(s.pendingReceiver, CARRIER_ID, "pending");
        assertEq(s.holder, IMPORTER_ID, "holder unchanged");
        assertEq(s.disposition, TraceCodes.DISP_IN_TRANSIT, "disposition");
        assertEq(ledger.responsibleOf(ITEM), IMPORTER_ID, "responsibility stays");
    }

    function test_submitDispatch_failsIfNotResponsible() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, WAREHOUSE_ID, IMPORTER_ID)
        );
        _submit(warehouse, _dispatchRec(ITEM, CARRIER_ID));
    }

    function test_submitDispatch_failsIfSubjectPacked() public {
        _pack(importer, UNIT, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectPacked.selector, ITEM, UNIT));
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
    }

    function test_submitDispatch_failsIfCustodyEnded() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerCustodyEnded.selector, ITEM));
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
    }

    function test_submitDispatch_failsIfHandoverPending() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerHandoverPending.selector, ITEM, CARRIER_ID));
        _submit(importer, _dispatchRec(ITEM, WAREHOUSE_ID));
    }

    function test_submitDispatch_failsIfReceiverIsSelf() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidReceiver.selector, ITEM, IMPORTER_ID));
        _submit(importer, _dispatchRec(ITEM, IMPORTER_ID));
    }

    function test_submitDispatch_failsIfReceiverUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownEnterprise.selector, uint32(99)));
        _submit(importer, _dispatchRec(ITEM, 99));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownEnterprise.selector, uint32(0)));
        _submit(importer, _dispatchRec(ITEM, 0));
    }

    function test_submitDispatch_failsIfReceiverSuspended() public {
        ledger.suspendEnterprise(CARRIER_ID, REASON);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, CARRIER_ID));
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
    }

    function test_submitDispatch_failsIfReceiverNotCustodian() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidReceiver.selector, ITEM, CUSTOMS_ID));
        _submit(importer, _dispatchRec(ITEM, CUSTOMS_ID));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidReceiver.selector, ITEM, REGULATOR_ID));
        _submit(importer, _dispatchRec(ITEM, REGULATOR_ID));
    }

    function test_submitDispatch_failsIfStepNotAHandoverStep() public {
        uint8[5] memory steps = [
            TraceCodes.STEP_COMMISSIONING,
            TraceCodes.STEP_UNPACKING,
            TraceCodes.STEP_CONSUMER_RECEIPT,
            TraceCodes.STEP_DESTROYING,
            TraceCodes.STEP_INSPECTING
        ];
        for (uint256 i; i < steps.length; ++i) {
            ITraceLedger.Record memory r = _dispatchRec(ITEM, CARRIER_ID);
            r.bizStep = steps[i];
            vm.expectRevert(
                abi.encodeWithSelector(
                    ITraceLedger.TraceLedgerStepNotAllowed.selector, ITraceLedger.Action.Dispatch, steps[i]
                )
            );
            _submit(importer, r);
        }
    }

    function test_submitDispatch_failsIfStepUnknown() public {
        ITraceLedger.Record memory r = _dispatchRec(ITEM, CARRIER_ID);
        r.bizStep = 0;
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownBizStep.selector, uint8(0)));
        _submit(importer, r);
    }

    // ---------------------------------------------------------------- Accept

    function test_submitAccept_succeedsAndMovesResponsibility() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        ITraceLedger.Record memory r = _acceptRec(ITEM);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.CustodyAccepted(
            ITEM, IMPORTER_ID, CARRIER_ID, TraceCodes.STEP_ACCEPTING, 0, GLN, uint64(T0), EPCIS, carrier, _one(DOC)
        );
        _submit(carrier, r);
        ITraceLedger.Subject memory s = ledger.subject(ITEM);
        assertEq(s.holder, CARRIER_ID, "holder");
        assertEq(s.pendingReceiver, 0, "no pending");
        assertEq(s.disposition, TraceCodes.DISP_IN_TRANSIT, "kept the dispatch disposition");
        _submit(carrier, _event(ITEM, TraceCodes.STEP_DEPARTING));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, IMPORTER_ID, CARRIER_ID)
        );
        _submit(importer, _event(ITEM, TraceCodes.STEP_STORING));
    }

    function test_submitAccept_succeedsWithDisposition() public {
        _submit(importer, _dispatchRec(ITEM, WAREHOUSE_ID));
        _submit(
            warehouse,
            _rec(
                ITraceLedger.Action.Accept,
                ITEM,
                TraceCodes.STEP_BONDED_ENTRY,
                TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE,
                0
            )
        );
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE, "bonded stock");
    }

    function test_submitAccept_failsIfNoHandoverPending() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNoHandoverPending.selector, ITEM));
        _submit(carrier, _acceptRec(ITEM));
    }

    function test_submitAccept_failsIfNotReceiver() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotReceiver.selector, ITEM, WAREHOUSE_ID, CARRIER_ID)
        );
        _submit(warehouse, _acceptRec(ITEM));
    }

    function test_submitAccept_failsIfReceiverSuspendedSinceDispatch() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        ledger.suspendEnterprise(CARRIER_ID, REASON);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, CARRIER_ID));
        _submit(carrier, _acceptRec(ITEM));
    }

    function test_submitAccept_failsIfReceiverLostCustodianRole() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        ledger.updateEnterprise(CARRIER_ID, TraceCodes.ROLE_CUSTOMS, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, CARRIER_ID, TraceCodes.CUSTODIAN_ROLES)
        );
        _submit(carrier, _acceptRec(ITEM));
    }

    function test_submitAccept_failsIfStepNotAHandoverStep() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        ITraceLedger.Record memory r = _acceptRec(ITEM);
        r.bizStep = TraceCodes.STEP_HOLDING;
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerStepNotAllowed.selector, ITraceLedger.Action.Accept, TraceCodes.STEP_HOLDING
            )
        );
        _submit(carrier, r);
    }

    // ---------------------------------------------------------------- Reject / Cancel

    function test_submitReject_succeedsAndResponsibilityStays() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectEmit(address(ledger));
        emit ITraceLedger.CustodyRejected(ITEM, IMPORTER_ID, CARRIER_ID, uint64(T0), REASON, carrier);
        _submit(carrier, _actionRec(ITraceLedger.Action.Reject, ITEM));
        assertEq(ledger.subject(ITEM).pendingReceiver, 0, "cleared");
        assertEq(ledger.responsibleOf(ITEM), IMPORTER_ID, "stays");
        _submit(importer, _dispatchRec(ITEM, WAREHOUSE_ID));
    }

    function test_submitReject_failsIfNoHandoverPending() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNoHandoverPending.selector, ITEM));
        _submit(carrier, _actionRec(ITraceLedger.Action.Reject, ITEM));
    }

    function test_submitReject_failsIfNotReceiver() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotReceiver.selector, ITEM, IMPORTER_ID, CARRIER_ID)
        );
        _submit(importer, _actionRec(ITraceLedger.Action.Reject, ITEM));
    }

    function test_submitCancel_succeeds() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectEmit(address(ledger));
        emit ITraceLedger.CustodyCancelled(ITEM, IMPORTER_ID, CARRIER_ID, uint64(T0), REASON, importer);
        _submit(importer, _actionRec(ITraceLedger.Action.Cancel, ITEM));
        assertEq(ledger.subject(ITEM).pendingReceiver, 0, "cleared");
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNoHandoverPending.selector, ITEM));
        _submit(carrier, _acceptRec(ITEM));
    }

    function test_submitCancel_failsIfNoHandoverPending() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNoHandoverPending.selector, ITEM));
        _submit(importer, _actionRec(ITraceLedger.Action.Cancel, ITEM));
    }

    function test_submitCancel_failsIfNotSender() public {
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, CARRIER_ID, IMPORTER_ID)
        );
        _submit(carrier, _actionRec(ITraceLedger.Action.Cancel, ITEM));
    }

    // ---------------------------------------------------------------- Recall / LiftRecall

    function test_submitRecall_succeedsByRegulatorOnAnySubject() public {
        _handOver(importer, ITEM, carrier, CARRIER_ID);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.Recalled(ITEM, REGULATOR_ID, uint64(T0), REASON, regulator);
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
        assertTrue(ledger.subject(ITEM).recalled, "recalled");
        assertTrue(ledger.isRecalled(ITEM), "isRecalled");
    }

    function test_submitRecall_succeedsByResponsibleImporterWithStep() public {
        _submit(importer, _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_STORING, TraceCodes.DISP_DAMAGED, 0));
        ITraceLedger.Record memory r = _rec(ITraceLedger.Action.Recall, ITEM, TraceCodes.STEP_RECALL, 0, 0);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.Recalled(ITEM, IMPORTER_ID, uint64(T0), EPCIS, importer);
        _submit(importer, r);
        assertTrue(ledger.isRecalled(ITEM), "recalled");
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_DAMAGED, "disposition left as it was");
    }

    function test_submitRecall_failsIfDispositionGiven() public {
        ITraceLedger.Record memory r =
            _rec(ITraceLedger.Action.Recall, ITEM, TraceCodes.STEP_RECALL, TraceCodes.DISP_RECALLED, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerDispositionNotAllowed.selector,
                ITraceLedger.Action.Recall,
                TraceCodes.DISP_RECALLED
            )
        );
        _submit(regulator, r);
    }

    function test_submitRecall_failsIfUnknownDisposition() public {
        ITraceLedger.Record memory r = _actionRec(ITraceLedger.Action.Recall, ITEM);
        r.disposition = TraceCodes.LAST_DISPOSITION + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownDisposition.selector, TraceCodes.LAST_DISPOSITION + 1)
        );
        _submit(regulator, r);
    }

    function testFuzz_submitRecall_failsWithAnyDisposition(uint8 disposition, bool lift) public {
        disposition = uint8(bound(disposition, 1, TraceCodes.LAST_DISPOSITION));
        ITraceLedger.Action action = lift ? ITraceLedger.Action.LiftRecall : ITraceLedger.Action.Recall;
        if (lift) _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
        ITraceLedger.Record memory r = _actionRec(action, ITEM);
        r.disposition = disposition;
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerDispositionNotAllowed.selector, action, disposition)
        );
        _submit(regulator, r);
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_ACTIVE, "disposition untouched");
        assertEq(ledger.isRecalled(ITEM), lift, "recall flag untouched");
    }

    function test_submitRecall_succeedsByImporterResponsibleThroughUnit() public {
        _pack(importer, UNIT, ITEM);
        _submit(importer, _actionRec(ITraceLedger.Action.Recall, ITEM));
        assertTrue(ledger.isRecalled(ITEM), "recalled");
        assertFalse(ledger.isRecalled(UNIT), "unit itself not recalled");
    }

    function test_submitRecall_succeedsOnEndedSubject() public {
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
        assertTrue(ledger.isRecalled(ITEM), "recalled after receipt");
    }

    function test_submitRecall_failsIfImporterNotResponsible() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, IMPORTER2_ID, IMPORTER_ID)
        );
        _submit(importer2, _actionRec(ITraceLedger.Action.Recall, ITEM));
    }

    function test_submitRecall_failsIfMissingRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerMissingRole.selector,
                CUSTOMS_ID,
                TraceCodes.ROLE_REGULATOR | TraceCodes.ROLE_IMPORTER
            )
        );
        _submit(customs, _actionRec(ITraceLedger.Action.Recall, ITEM));
    }

    function test_submitRecall_failsIfAlreadyRecalled() public {
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerAlreadyRecalled.selector, ITEM));
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
    }

    function test_submitRecall_failsIfStepIsNotRecall() public {
        ITraceLedger.Record memory r = _actionRec(ITraceLedger.Action.Recall, ITEM);
        r.bizStep = TraceCodes.STEP_HOLDING;
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerStepNotAllowed.selector, ITraceLedger.Action.Recall, TraceCodes.STEP_HOLDING
            )
        );
        _submit(regulator, r);
    }

    function test_submitLiftRecall_succeeds() public {
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
        vm.expectEmit(address(ledger));
        emit ITraceLedger.RecallLifted(ITEM, REGULATOR_ID, uint64(T0), REASON, regulator);
        _submit(regulator, _actionRec(ITraceLedger.Action.LiftRecall, ITEM));
        assertFalse(ledger.isRecalled(ITEM), "lifted");
    }

    function test_submitLiftRecall_succeedsWithStep() public {
        _submit(importer, _rec(ITraceLedger.Action.Event, ITEM, TraceCodes.STEP_STORING, TraceCodes.DISP_DAMAGED, 0));
        _submit(regulator, _rec(ITraceLedger.Action.Recall, ITEM, TraceCodes.STEP_RECALL, 0, 0));
        _submit(regulator, _rec(ITraceLedger.Action.LiftRecall, ITEM, TraceCodes.STEP_RECALL_LIFTED, 0, 0));
        assertFalse(ledger.isRecalled(ITEM), "lifted");
        assertEq(ledger.subject(ITEM).disposition, TraceCodes.DISP_DAMAGED, "disposition never changed");
    }

    function test_submitLiftRecall_failsIfDispositionGiven() public {
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
        ITraceLedger.Record memory r =
            _rec(ITraceLedger.Action.LiftRecall, ITEM, TraceCodes.STEP_RECALL_LIFTED, TraceCodes.DISP_ACTIVE, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerDispositionNotAllowed.selector,
                ITraceLedger.Action.LiftRecall,
                TraceCodes.DISP_ACTIVE
            )
        );
        _submit(regulator, r);
    }

    function test_submitLiftRecall_failsIfNotRegulator() public {
        _submit(importer, _actionRec(ITraceLedger.Action.Recall, ITEM));
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, IMPORTER_ID, TraceCodes.ROLE_REGULATOR)
        );
        _submit(importer, _actionRec(ITraceLedger.Action.LiftRecall, ITEM));
    }

    function test_submitLiftRecall_failsIfNotRecalled() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNotRecalled.selector, ITEM));
        _submit(regulator, _actionRec(ITraceLedger.Action.LiftRecall, ITEM));
    }

    function test_submitLiftRecall_failsIfStepIsNotRecallLifted() public {
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, ITEM));
        ITraceLedger.Record memory r = _actionRec(ITraceLedger.Action.LiftRecall, ITEM);
        r.bizStep = TraceCodes.STEP_RECALL;
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerStepNotAllowed.selector, ITraceLedger.Action.LiftRecall, TraceCodes.STEP_RECALL
            )
        );
        _submit(regulator, r);
    }

    // ---------------------------------------------------------------- isRecalled

    function test_isRecalled_seesRecallOfEnclosingUnits() public {
        _registerUnit(importer, UNIT2);
        _pack(importer, UNIT, ITEM);
        _pack(importer, UNIT2, UNIT);
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, UNIT2));
        assertTrue(ledger.isRecalled(ITEM), "item in recalled container");
        assertTrue(ledger.isRecalled(UNIT), "case in recalled container");
        vm.prank(importer);
        ledger.unpack(UNIT2, _one(UNIT));
        assertFalse(ledger.isRecalled(ITEM), "out of the recalled container");
    }

    function test_isRecalled_seesRecallOfTheItemsLot() public {
        bytes32[] memory ids = _lotIds(4);
        _registerLot(importer, LOT, ids);
        vm.prank(importer);
        ledger.splitItem(LOT, ids[2], merkleProof(ids, 2));
        assertFalse(ledger.isRecalled(ids[2]), "not yet");
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, LOT));
        assertTrue(ledger.isRecalled(ids[2]), "lot recalled");
    }

    function test_isRecalled_falseForUnknownSubject() public view {
        assertFalse(ledger.isRecalled(LOT), "unknown");
    }

    // ---------------------------------------------------------------- a whole 1210 flow

    function test_flow1210_importToConsumerAndReturn() public {
        bytes32[] memory ids = _lotIds(10);
        _registerLot(supplier, LOT, ids);
        bytes32 container = keccak256("/00/069012345000000031");
        _registerUnit(supplier, container);
        _pack(supplier, container, LOT);
        _handOver(supplier, container, carrier, CARRIER_ID);
        _submit(carrier, _event(container, TraceCodes.STEP_DEPARTING));
        _submit(carrier, _event(container, TraceCodes.STEP_ARRIVING));
        _submit(carrier, _dispatchRec(container, WAREHOUSE_ID));
        _submit(
            warehouse,
            _rec(
                ITraceLedger.Action.Accept,
                container,
                TraceCodes.STEP_BONDED_ENTRY,
                TraceCodes.DISP_SELLABLE_NOT_ACCESSIBLE,
                0
            )
        );
        assertEq(ledger.responsibleOf(LOT), WAREHOUSE_ID, "lot in the bonded warehouse");
        _submit(
            customs, _rec(ITraceLedger.Action.Event, LOT, TraceCodes.STEP_INSPECTING, TraceCodes.DISP_CONFORMANT, 0)
        );
        vm.prank(warehouse);
        ledger.unpack(container, _one(LOT));
        _submit(warehouse, _event(LOT, TraceCodes.STEP_STORING));
        vm.prank(warehouse);
        ledger.splitItem(LOT, ids[7], merkleProof(ids, 7));
        bytes32 item = ids[7];
        // The bonded warehouse holds the goods, so it records the order and the declaration.
        _submit(
            warehouse, _rec(ITraceLedger.Action.Event, item, TraceCodes.STEP_ORDER_PLACED, TraceCodes.DISP_RESERVED, 0)
        );
        _submit(customs, _event(item, TraceCodes.STEP_THREE_DOCUMENT_MATCH));
        _submit(warehouse, _event(item, TraceCodes.STEP_CUSTOMS_DECLARATION));
        _submit(
            customs,
            _rec(
                ITraceLedger.Action.Event, item, TraceCodes.STEP_CUSTOMS_RELEASE, TraceCodes.DISP_SELLABLE_ACCESSIBLE, 0
            )
        );
        ITraceLedger.Record memory exit = _dispatchRec(item, CARRIER_ID);
        exit.bizStep = TraceCodes.STEP_BONDED_EXIT;
        _submit(warehouse, exit);
        _submit(carrier, _acceptRec(item));
        _submit(
            carrier,
            _rec(ITraceLedger.Action.Event, item, TraceCodes.STEP_CONSUMER_RECEIPT, TraceCodes.DISP_RETAIL_SOLD, 0)
        );
        assertTrue(ledger.subject(item).ended, "delivered");
        _submit(importer, _rec(ITraceLedger.Action.Event, item, TraceCodes.STEP_RETURN, TraceCodes.DISP_RETURNED, 0));
        assertEq(ledger.responsibleOf(item), IMPORTER_ID, "returned to the importer");
        _submit(regulator, _actionRec(ITraceLedger.Action.Recall, LOT));
        assertTrue(ledger.isRecalled(item), "lot recall reaches the split item");
        _submit(regulator, _actionRec(ITraceLedger.Action.LiftRecall, LOT));
        assertFalse(ledger.isRecalled(item), "lifted");
    }
}
