// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {LedgerTest} from "./utils/LedgerTest.sol";
import {ITraceLedger} from "../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../src/libraries/TraceCodes.sol";

/// @notice Registration of lots, items and units; splitting; packing and unpacking; identity views.
contract TraceLedgerIdentityTest is LedgerTest {
    bytes32 internal constant ROOT = keccak256("root");

    // ---------------------------------------------------------------- registerLot

    function test_registerLot_succeeds() public {
        vm.expectEmit(address(ledger));
        emit ITraceLedger.LotRegistered(LOT, IMPORTER_ID, ROOT, 50_000, MANIFEST, GLN, uint64(T0), EPCIS, importer);
        vm.prank(importer);
        ledger.registerLot(LOT, ROOT, 50_000, MANIFEST, GLN, uint64(T0), EPCIS);

        ITraceLedger.Subject memory s = ledger.subject(LOT);
        assertEq(uint8(s.kind), uint8(ITraceLedger.SubjectKind.Lot), "kind");
        assertEq(s.disposition, TraceCodes.DISP_ACTIVE, "disposition");
        assertEq(s.holder, IMPORTER_ID, "holder");
        assertEq(s.pendingReceiver, 0, "pending");
        assertFalse(s.recalled, "recalled");
        assertFalse(s.ended, "ended");
        assertEq(s.parent, bytes32(0), "parent");
        assertEq(s.lot, bytes32(0), "lot");
        (bytes32 root, uint32 count, bytes32 manifest) = ledger.lotInfo(LOT);
        assertEq(root, ROOT, "root");
        assertEq(count, 50_000, "count");
        assertEq(manifest, MANIFEST, "manifest");
        assertEq(ledger.responsibleOf(LOT), IMPORTER_ID, "responsible");
    }

    function test_registerLot_succeedsForSupplier() public {
        vm.prank(supplier);
        ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
        assertEq(ledger.responsibleOf(LOT), SUPPLIER_ID, "supplier holds");
    }

    function test_registerLot_succeedsWithEventTimeAtSkewLimit() public {
        vm.prank(importer);
        ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, uint64(T0 + 1 hours), EPCIS);
        assertEq(ledger.responsibleOf(LOT), IMPORTER_ID, "registered");
    }

    function test_registerLot_failsIfMissingRole() public {
        uint8 need = TraceCodes.ROLE_IMPORTER | TraceCodes.ROLE_SUPPLIER;
        address[4] memory others = [warehouse, carrier, customs, regulator];
        uint32[4] memory ids = [WAREHOUSE_ID, CARRIER_ID, CUSTOMS_ID, REGULATOR_ID];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, ids[i], need));
            vm.prank(others[i]);
            ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
        }
    }

    function test_registerLot_failsIfUnknownAccount() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, stranger));
        vm.prank(stranger);
        ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
    }

    function test_registerLot_failsIfEnterpriseSuspended() public {
        ledger.suspendEnterprise(IMPORTER_ID, REASON);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, IMPORTER_ID));
        vm.prank(importer);
        ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
    }

    function test_registerLot_failsIfRootZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidLot.selector, bytes32(0), uint32(5)));
        vm.prank(importer);
        ledger.registerLot(LOT, bytes32(0), 5, MANIFEST, GLN, uint64(T0), EPCIS);
    }

    function test_registerLot_failsIfCountZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidLot.selector, ROOT, uint32(0)));
        vm.prank(importer);
        ledger.registerLot(LOT, ROOT, 0, MANIFEST, GLN, uint64(T0), EPCIS);
    }

    function test_registerLot_failsIfIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSubject.selector, bytes32(0)));
        vm.prank(importer);
        ledger.registerLot(bytes32(0), ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
    }

    function test_registerLot_failsIfSubjectExists() public {
        _registerUnit(carrier, UNIT);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectExists.selector, UNIT));
        vm.prank(importer);
        ledger.registerLot(UNIT, ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
    }

    function test_registerLot_failsIfEventTimeInFuture() public {
        uint64 late = uint64(T0 + 1 hours + 1);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEventTimeInFuture.selector, late, T0));
        vm.prank(importer);
        ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, late, EPCIS);
    }

    // ---------------------------------------------------------------- registerItem

    function test_registerItem_succeedsStandalone() public {
        vm.expectEmit(address(ledger));
        emit ITraceLedger.ItemRegistered(ITEM, SUPPLIER_ID, bytes32(0), GLN, uint64(T0), EPCIS, supplier);
        _registerItem(supplier, ITEM);
        ITraceLedger.Subject memory s = ledger.subject(ITEM);
        assertEq(uint8(s.kind), uint8(ITraceLedger.SubjectKind.Item), "kind");
        assertEq(s.disposition, TraceCodes.DISP_ACTIVE, "disposition");
        assertEq(s.holder, SUPPLIER_ID, "holder");
        assertEq(s.lot, bytes32(0), "lot");
    }

    function test_registerItem_succeedsInLotTheCallerHolds() public {
        vm.prank(importer);
        ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.ItemRegistered(ITEM, IMPORTER_ID, LOT, GLN, uint64(T0), EPCIS, importer);
        vm.prank(importer);
        ledger.registerItem(ITEM, LOT, GLN, uint64(T0), EPCIS);
        assertEq(ledger.subject(ITEM).lot, LOT, "lot");
    }

    function test_registerItem_failsIfMissingRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerMissingRole.selector,
                CARRIER_ID,
                TraceCodes.ROLE_IMPORTER | TraceCodes.ROLE_SUPPLIER
            )
        );
        _registerItem(carrier, ITEM);
    }

    function test_registerItem_failsIfLotUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownSubject.selector, LOT));
        vm.prank(importer);
        ledger.registerItem(ITEM, LOT, GLN, uint64(T0), EPCIS);
    }

    function test_registerItem_failsIfLotIsNotALot() public {
        _registerUnit(importer, UNIT);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerWrongSubjectKind.selector,
                UNIT,
                ITraceLedger.SubjectKind.Lot,
                ITraceLedger.SubjectKind.Unit
            )
        );
        vm.prank(importer);
        ledger.registerItem(ITEM, UNIT, GLN, uint64(T0), EPCIS);
    }

    function test_registerItem_failsIfNotResponsibleForLot() public {
        vm.prank(importer);
        ledger.registerLot(LOT, ROOT, 1, MANIFEST, GLN, uint64(T0), EPCIS);
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, LOT, SUPPLIER_ID, IMPORTER_ID)
        );
        vm.prank(supplier);
        ledger.registerItem(ITEM, LOT, GLN, uint64(T0), EPCIS);
    }

    function test_registerItem_failsIfSubjectExists() public {
        _registerItem(importer, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectExists.selector, ITEM));
        _registerItem(importer, ITEM);
    }

    function test_registerItem_failsIfIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSubject.selector, bytes32(0)));
        _registerItem(importer, bytes32(0));
    }

    function test_registerItem_failsIfEventTimeInFuture() public {
        uint64 late = uint64(T0 + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEventTimeInFuture.selector, late, T0));
        vm.prank(importer);
        ledger.registerItem(ITEM, bytes32(0), GLN, late, EPCIS);
    }

    // ---------------------------------------------------------------- splitItem

    function test_splitItem_succeedsWithProofAndInheritsLotState() public {
        bytes32[] memory ids = _lotIds(7);
        _registerLot(importer, LOT, ids);
        _handOver(importer, LOT, warehouse, WAREHOUSE_ID);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.ItemSplit(ids[5], LOT, WAREHOUSE_ID, warehouse);
        vm.prank(warehouse);
        ledger.splitItem(LOT, ids[5], merkleProof(ids, 5));
        ITraceLedger.Subject memory s = ledger.subject(ids[5]);
        assertEq(uint8(s.kind), uint8(ITraceLedger.SubjectKind.Item), "kind");
        assertEq(s.holder, WAREHOUSE_ID, "held by the lot's holder");
        assertEq(s.lot, LOT, "lot");
        assertEq(s.disposition, TraceCodes.DISP_IN_TRANSIT, "lot's disposition");
        assertEq(ledger.responsibleOf(ids[5]), WAREHOUSE_ID, "responsible");
    }

    function test_splitItem_succeedsWhenLotIsPackedInHeldUnit() public {
        bytes32[] memory ids = _lotIds(3);
        _registerLot(importer, LOT, ids);
        _registerUnit(importer, UNIT);
        _pack(importer, UNIT, LOT);
        vm.prank(importer);
        ledger.splitItem(LOT, ids[0], merkleProof(ids, 0));
        assertEq(ledger.subject(ids[0]).parent, bytes32(0), "split item is top-level");
    }

    function test_splitItem_failsIfProofInvalid() public {
        bytes32[] memory ids = _lotIds(8);
        _registerLot(importer, LOT, ids);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNotLotMember.selector, LOT, ids[2]));
        vm.prank(importer);
        ledger.splitItem(LOT, ids[2], merkleProof(ids, 3));
    }

    function test_splitItem_failsIfItemNotMember() public {
        bytes32[] memory ids = _lotIds(8);
        _registerLot(importer, LOT, ids);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNotLotMember.selector, LOT, ITEM));
        vm.prank(importer);
        ledger.splitItem(LOT, ITEM, merkleProof(ids, 0));
    }

    function test_splitItem_failsIfLotUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownSubject.selector, LOT));
        vm.prank(importer);
        ledger.splitItem(LOT, ITEM, new bytes32[](0));
    }

    function test_splitItem_failsIfNotALot() public {
        _registerItem(importer, ITEM);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerWrongSubjectKind.selector,
                ITEM,
                ITraceLedger.SubjectKind.Lot,
                ITraceLedger.SubjectKind.Item
            )
        );
        vm.prank(importer);
        ledger.splitItem(ITEM, ITEM, new bytes32[](0));
    }

    function test_splitItem_failsIfNotResponsibleForLot() public {
        bytes32[] memory ids = _lotIds(2);
        _registerLot(importer, LOT, ids);
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, LOT, WAREHOUSE_ID, IMPORTER_ID)
        );
        vm.prank(warehouse);
        ledger.splitItem(LOT, ids[0], merkleProof(ids, 0));
    }

    function test_splitItem_failsIfAlreadySplit() public {
        bytes32[] memory ids = _lotIds(2);
        _registerLot(importer, LOT, ids);
        vm.startPrank(importer);
        ledger.splitItem(LOT, ids[1], merkleProof(ids, 1));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectExists.selector, ids[1]));
        ledger.splitItem(LOT, ids[1], merkleProof(ids, 1));
        vm.stopPrank();
    }

    function test_splitItem_failsIfLotCustodyEnded() public {
        bytes32[] memory ids = _lotIds(2);
        _registerLot(importer, LOT, ids);
        _submit(importer, _event(LOT, TraceCodes.STEP_DESTROYING));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerCustodyEnded.selector, LOT));
        vm.prank(importer);
        ledger.splitItem(LOT, ids[0], merkleProof(ids, 0));
    }

    function test_splitItem_failsIfLotHandoverPending() public {
        bytes32[] memory ids = _lotIds(2);
        _registerLot(importer, LOT, ids);
        _submit(importer, _dispatchRec(LOT, CARRIER_ID));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerHandoverPending.selector, LOT, CARRIER_ID));
        vm.prank(importer);
        ledger.splitItem(LOT, ids[0], merkleProof(ids, 0));
    }

    function test_splitItem_failsIfUnknownAccount() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, stranger));
        vm.prank(stranger);
        ledger.splitItem(LOT, ITEM, new bytes32[](0));
    }

    // ---------------------------------------------------------------- isLotMember

    function test_isLotMember_trueForEveryMemberFalseOtherwise() public {
        bytes32[] memory ids = _lotIds(5);
        _registerLot(importer, LOT, ids);
        for (uint256 i; i < ids.length; ++i) {
            assertTrue(ledger.isLotMember(LOT, ids[i], merkleProof(ids, i)), "member");
        }
        assertFalse(ledger.isLotMember(LOT, ITEM, merkleProof(ids, 0)), "non-member");
        assertFalse(ledger.isLotMember(UNIT, ids[0], merkleProof(ids, 0)), "unknown lot");
    }

    function test_isLotMember_singleItemLotHasEmptyProof() public {
        bytes32[] memory ids = _lotIds(1);
        _registerLot(importer, LOT, ids);
        assertTrue(ledger.isLotMember(LOT, ids[0], new bytes32[](0)), "root is the leaf");
    }

    // ---------------------------------------------------------------- registerUnit

    function test_registerUnit_succeedsForEveryCustodian() public {
        address[4] memory who = [importer, supplier, warehouse, carrier];
        uint32[4] memory ids = [IMPORTER_ID, SUPPLIER_ID, WAREHOUSE_ID, CARRIER_ID];
        for (uint256 i; i < who.length; ++i) {
            bytes32 unitId = keccak256(abi.encode("unit", i));
            vm.expectEmit(address(ledger));
            emit ITraceLedger.UnitRegistered(unitId, ids[i], GLN, uint64(T0), EPCIS, who[i]);
            _registerUnit(who[i], unitId);
            ITraceLedger.Subject memory s = ledger.subject(unitId);
            assertEq(uint8(s.kind), uint8(ITraceLedger.SubjectKind.Unit), "kind");
            assertEq(s.holder, ids[i], "holder");
            assertEq(s.disposition, TraceCodes.DISP_ACTIVE, "disposition");
            assertEq(s.height, 0, "height");
        }
    }

    function test_registerUnit_failsIfMissingRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, CUSTOMS_ID, TraceCodes.CUSTODIAN_ROLES)
        );
        _registerUnit(customs, UNIT);
    }

    function test_registerUnit_failsIfSubjectExists() public {
        _registerUnit(carrier, UNIT);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectExists.selector, UNIT));
        _registerUnit(warehouse, UNIT);
    }

    function test_registerUnit_failsIfIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSubject.selector, bytes32(0)));
        _registerUnit(carrier, bytes32(0));
    }

    function test_registerUnit_failsIfEventTimeInFuture() public {
        uint64 late = uint64(T0 + 3601);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEventTimeInFuture.selector, late, T0));
        vm.prank(carrier);
        ledger.registerUnit(UNIT, GLN, late, EPCIS);
    }

    // ---------------------------------------------------------------- pack

    function test_pack_succeedsAndUnitStepAppliesToChildren() public {
        bytes32[] memory ids = _lotIds(4);
        _registerLot(importer, LOT, ids);
        _registerItem(importer, ITEM);
        _registerUnit(importer, UNIT);
        bytes32[] memory children = new bytes32[](2);
        children[0] = LOT;
        children[1] = ITEM;
        vm.expectEmit(address(ledger));
        emit ITraceLedger.Packed(UNIT, LOT, IMPORTER_ID, importer);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.Packed(UNIT, ITEM, IMPORTER_ID, importer);
        vm.prank(importer);
        ledger.pack(UNIT, children);
        assertEq(ledger.subject(LOT).parent, UNIT, "lot parent");
        assertEq(ledger.subject(ITEM).parent, UNIT, "item parent");
        assertEq(ledger.subject(UNIT).height, 1, "height");

        _handOver(importer, UNIT, carrier, CARRIER_ID);
        assertEq(ledger.responsibleOf(LOT), CARRIER_ID, "lot moved with the unit");
        assertEq(ledger.responsibleOf(ITEM), CARRIER_ID, "item moved with the unit");
        assertEq(ledger.subject(ITEM).holder, IMPORTER_ID, "stored holder is stale while packed");
    }

    function test_pack_succeedsNestedUpToMaxHeight() public {
        _registerItem(importer, ITEM);
        bytes32 child = ITEM;
        for (uint256 h = 1; h <= ledger.MAX_HEIGHT(); ++h) {
            bytes32 unitId = keccak256(abi.encode("level", h));
            _registerUnit(importer, unitId);
            _pack(importer, unitId, child);
            assertEq(ledger.subject(unitId).height, h, "height");
            child = unitId;
        }
        _handOver(importer, child, carrier, CARRIER_ID);
        assertEq(ledger.responsibleOf(ITEM), CARRIER_ID, "walks the whole chain");
    }

    function test_pack_keepsHeightAsUpperBound() public {
        _registerItem(importer, ITEM);
        _registerUnit(importer, UNIT2);
        _pack(importer, UNIT2, ITEM);
        _registerUnit(importer, UNIT);
        _pack(importer, UNIT, UNIT2);
        assertEq(ledger.subject(UNIT).height, 2, "height 2");
        vm.prank(importer);
        ledger.unpack(UNIT, _one(UNIT2));
        assertEq(ledger.subject(UNIT).height, 2, "not lowered on unpack");
        bytes32 other = keccak256("other item");
        _registerItem(importer, other);
        _pack(importer, UNIT, other);
        assertEq(ledger.subject(UNIT).height, 2, "max, not last");
    }

    function test_pack_failsIfNestingTooDeep() public {
        _registerItem(importer, ITEM);
        bytes32 child = ITEM;
        uint8 max = ledger.MAX_HEIGHT();
        for (uint256 h = 1; h <= max; ++h) {
            bytes32 unitId = keccak256(abi.encode("level", h));
            _registerUnit(importer, unitId);
            _pack(importer, unitId, child);
            child = unitId;
        }
        _registerUnit(importer, UNIT);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNestingTooDeep.selector, UNIT, max + 1));
        _pack(importer, UNIT, child);
    }

    function test_pack_failsIfUnitUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownSubject.selector, UNIT));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfUnitIsNotAUnit() public {
        _registerItem(importer, ITEM);
        bytes32[] memory ids = _lotIds(1);
        _registerLot(importer, LOT, ids);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceLedger.TraceLedgerWrongSubjectKind.selector,
                LOT,
                ITraceLedger.SubjectKind.Unit,
                ITraceLedger.SubjectKind.Lot
            )
        );
        _pack(importer, LOT, ITEM);
    }

    function test_pack_failsIfUnitNotHeld() public {
        _registerUnit(carrier, UNIT);
        _registerItem(importer, ITEM);
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, UNIT, IMPORTER_ID, CARRIER_ID)
        );
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfUnitPacked() public {
        _registerUnit(importer, UNIT);
        _registerUnit(importer, UNIT2);
        _pack(importer, UNIT2, UNIT);
        _registerItem(importer, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectPacked.selector, UNIT, UNIT2));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfUnitCustodyEnded() public {
        _registerUnit(importer, UNIT);
        _submit(importer, _event(UNIT, TraceCodes.STEP_CONSUMER_RECEIPT));
        _registerItem(importer, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerCustodyEnded.selector, UNIT));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfUnitHandoverPending() public {
        _registerUnit(importer, UNIT);
        _submit(importer, _dispatchRec(UNIT, CARRIER_ID));
        _registerItem(importer, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerHandoverPending.selector, UNIT, CARRIER_ID));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfChildIsTheUnit() public {
        _registerUnit(importer, UNIT);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidSubject.selector, UNIT));
        _pack(importer, UNIT, UNIT);
    }

    function test_pack_failsIfChildUnknown() public {
        _registerUnit(importer, UNIT);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownSubject.selector, ITEM));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfChildNotHeld() public {
        _registerUnit(importer, UNIT);
        _registerItem(supplier, ITEM);
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, ITEM, IMPORTER_ID, SUPPLIER_ID)
        );
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfChildAlreadyPacked() public {
        _registerUnit(importer, UNIT);
        _registerUnit(importer, UNIT2);
        _registerItem(importer, ITEM);
        _pack(importer, UNIT2, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectPacked.selector, ITEM, UNIT2));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfChildHandoverPending() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        _submit(importer, _dispatchRec(ITEM, CARRIER_ID));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerHandoverPending.selector, ITEM, CARRIER_ID));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfChildCustodyEnded() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        _submit(importer, _event(ITEM, TraceCodes.STEP_CONSUMER_RECEIPT));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerCustodyEnded.selector, ITEM));
        _pack(importer, UNIT, ITEM);
    }

    function test_pack_failsIfSameChildTwiceInOneCall() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        bytes32[] memory twice = new bytes32[](2);
        twice[0] = ITEM;
        twice[1] = ITEM;
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectPacked.selector, ITEM, UNIT));
        vm.prank(importer);
        ledger.pack(UNIT, twice);
    }

    // ---------------------------------------------------------------- unpack

    function test_unpack_succeedsAndChildIsHeldByUnitHolder() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        _pack(importer, UNIT, ITEM);
        _handOver(importer, UNIT, warehouse, WAREHOUSE_ID);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.Unpacked(UNIT, ITEM, WAREHOUSE_ID, warehouse);
        vm.prank(warehouse);
        ledger.unpack(UNIT, _one(ITEM));
        ITraceLedger.Subject memory s = ledger.subject(ITEM);
        assertEq(s.parent, bytes32(0), "top-level");
        assertEq(s.holder, WAREHOUSE_ID, "holder refreshed");
        assertEq(ledger.responsibleOf(ITEM), WAREHOUSE_ID, "responsible");
        _submit(warehouse, _event(ITEM, TraceCodes.STEP_STORING));
    }

    function test_unpack_failsIfNotPackedInUnit() public {
        _registerUnit(importer, UNIT);
        _registerUnit(importer, UNIT2);
        _registerItem(importer, ITEM);
        _pack(importer, UNIT2, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNotPackedIn.selector, ITEM, UNIT, UNIT2));
        vm.prank(importer);
        ledger.unpack(UNIT, _one(ITEM));
    }

    function test_unpack_failsIfChildTopLevel() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerNotPackedIn.selector, ITEM, UNIT, bytes32(0)));
        vm.prank(importer);
        ledger.unpack(UNIT, _one(ITEM));
    }

    function test_unpack_failsIfUnitNotHeld() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        _pack(importer, UNIT, ITEM);
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, UNIT, CARRIER_ID, IMPORTER_ID)
        );
        vm.prank(carrier);
        ledger.unpack(UNIT, _one(ITEM));
    }

    function test_unpack_failsIfUnitPacked() public {
        _registerUnit(importer, UNIT);
        _registerUnit(importer, UNIT2);
        _registerItem(importer, ITEM);
        _pack(importer, UNIT, ITEM);
        _pack(importer, UNIT2, UNIT);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerSubjectPacked.selector, UNIT, UNIT2));
        vm.prank(importer);
        ledger.unpack(UNIT, _one(ITEM));
    }

    function test_unpack_failsIfUnitHandoverPending() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        _pack(importer, UNIT, ITEM);
        _submit(importer, _dispatchRec(UNIT, CARRIER_ID));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerHandoverPending.selector, UNIT, CARRIER_ID));
        vm.prank(importer);
        ledger.unpack(UNIT, _one(ITEM));
    }

    function test_unpack_failsIfUnitCustodyEnded() public {
        _registerUnit(importer, UNIT);
        _registerItem(importer, ITEM);
        _pack(importer, UNIT, ITEM);
        _submit(importer, _event(UNIT, TraceCodes.STEP_DESTROYING));
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerCustodyEnded.selector, UNIT));
        vm.prank(importer);
        ledger.unpack(UNIT, _one(ITEM));
    }

    function test_unpack_failsIfUnitUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownSubject.selector, UNIT));
        vm.prank(importer);
        ledger.unpack(UNIT, _one(ITEM));
    }

    // ---------------------------------------------------------------- views

    function test_responsibleOf_zeroForUnknownSubject() public view {
        assertEq(ledger.responsibleOf(ITEM), 0, "unknown");
    }

    function test_subject_emptyForUnknownSubject() public view {
        ITraceLedger.Subject memory s = ledger.subject(ITEM);
        assertEq(uint8(s.kind), 0, "kind None");
        assertEq(s.holder, 0, "holder");
    }

    function test_lotInfo_zeroForUnknownLot() public view {
        (bytes32 root, uint32 count, bytes32 manifest) = ledger.lotInfo(LOT);
        assertEq(root, bytes32(0), "root");
        assertEq(count, 0, "count");
        assertEq(manifest, bytes32(0), "manifest");
    }

    function test_enterprise_emptyForUnknownId() public view {
        ITraceLedger.Enterprise memory e = ledger.enterprise(99);
        assertEq(e.roles, 0, "roles");
        assertEq(ledger.enterpriseOf(stranger), 0, "enterpriseOf");
    }
}
