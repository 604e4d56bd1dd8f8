// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {LedgerTest} from "./utils/LedgerTest.sol";
import {TraceLedger} from "../src/TraceLedger.sol";
import {ITraceLedger} from "../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../src/libraries/TraceCodes.sol";

/// @notice Parties, roles, pause and the two-step admin hand-over.
contract TraceLedgerAdminTest is LedgerTest {
    bytes32 internal constant CREDIT = keccak256("91350500MA2XXXXXXX");
    bytes32 internal constant FILING = keccak256("filing");

    // ---------------------------------------------------------------- constructor

    function test_constructor_grantsAdminRegistrarPauser() public view {
        assertTrue(ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), address(this)), "admin");
        assertTrue(ledger.hasRole(ledger.REGISTRAR_ROLE(), address(this)), "registrar");
        assertTrue(ledger.hasRole(ledger.PAUSER_ROLE(), address(this)), "pauser");
        assertEq(ledger.defaultAdmin(), address(this), "defaultAdmin");
        assertEq(ledger.defaultAdminDelay(), ADMIN_DELAY, "delay");
        assertFalse(ledger.paused(), "not paused");
    }

    function test_supportsInterface_answersForLedgerAndAccessControl() public view {
        assertTrue(ledger.supportsInterface(type(ITraceLedger).interfaceId), "ITraceLedger");
        assertTrue(ledger.supportsInterface(type(IAccessControl).interfaceId), "IAccessControl");
        assertTrue(
            ledger.supportsInterface(type(IAccessControlDefaultAdminRules).interfaceId),
            "IAccessControlDefaultAdminRules"
        );
        assertTrue(ledger.supportsInterface(type(IERC165).interfaceId), "IERC165");
        assertFalse(ledger.supportsInterface(0xdeadbeef), "other");
    }

    function test_eip712Domain_isSilkTraceVersion1() public view {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = ledger.eip712Domain();
        assertEq(keccak256(bytes(name)), keccak256("SilkTrace"), "name");
        assertEq(keccak256(bytes(version)), keccak256("1"), "version");
        assertEq(chainId, block.chainid, "chainId");
        assertEq(verifying, address(ledger), "verifyingContract");
    }

    // ---------------------------------------------------------------- registerEnterprise

    function test_registerEnterprise_succeedsWithSequentialIdAndEvent() public {
        address account = vm.addr(0xBEEF);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EnterpriseRegistered(8, CREDIT, account, TraceCodes.ROLE_WAREHOUSE, FILING);
        uint32 id = ledger.registerEnterprise(CREDIT, FILING, TraceCodes.ROLE_WAREHOUSE, account);
        assertEq(id, 8, "id");
        assertEq(ledger.enterpriseCount(), 8, "count");
        assertEq(ledger.enterpriseOf(account), 8, "enterpriseOf");
        ITraceLedger.Enterprise memory e = ledger.enterprise(8);
        assertEq(e.roles, TraceCodes.ROLE_WAREHOUSE, "roles");
        assertFalse(e.suspended, "suspended");
        assertEq(e.creditCodeHash, CREDIT, "credit");
        assertEq(e.metadataHash, FILING, "metadata");
    }

    function test_registerEnterprise_succeedsWithAllRoles() public {
        uint32 id = ledger.registerEnterprise(CREDIT, FILING, TraceCodes.ALL_ROLES, vm.addr(0xBEEF));
        assertEq(ledger.enterprise(id).roles, TraceCodes.ALL_ROLES, "roles");
    }

    function test_registerEnterprise_failsIfNotRegistrar() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.REGISTRAR_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.registerEnterprise(CREDIT, FILING, TraceCodes.ROLE_IMPORTER, stranger);
    }

    function test_registerEnterprise_failsIfRolesZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidRoles.selector, uint8(0)));
        ledger.registerEnterprise(CREDIT, FILING, 0, stranger);
    }

    function test_registerEnterprise_failsIfRolesOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidRoles.selector, uint8(64)));
        ledger.registerEnterprise(CREDIT, FILING, 64, stranger);
    }

    function test_registerEnterprise_failsIfAccountZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, address(0)));
        ledger.registerEnterprise(CREDIT, FILING, TraceCodes.ROLE_IMPORTER, address(0));
    }

    function test_registerEnterprise_failsIfAccountAlreadyRegistered() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerAccountAlreadyRegistered.selector, carrier, CARRIER_ID)
        );
        ledger.registerEnterprise(CREDIT, FILING, TraceCodes.ROLE_IMPORTER, carrier);
    }

    function test_registerEnterprise_succeedsWhilePaused() public {
        ledger.pause();
        ledger.registerEnterprise(CREDIT, FILING, TraceCodes.ROLE_IMPORTER, stranger);
        assertEq(ledger.enterpriseOf(stranger), 8, "registered");
    }

    // ---------------------------------------------------------------- updateEnterprise

    function test_updateEnterprise_succeeds() public {
        bytes32 filing2 = keccak256("filing 2");
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EnterpriseUpdated(CARRIER_ID, TraceCodes.ROLE_CARRIER | TraceCodes.ROLE_WAREHOUSE, filing2);
        ledger.updateEnterprise(CARRIER_ID, TraceCodes.ROLE_CARRIER | TraceCodes.ROLE_WAREHOUSE, filing2);
        ITraceLedger.Enterprise memory e = ledger.enterprise(CARRIER_ID);
        assertEq(e.roles, TraceCodes.ROLE_CARRIER | TraceCodes.ROLE_WAREHOUSE, "roles");
        assertEq(e.metadataHash, filing2, "metadata");
        assertEq(e.creditCodeHash, keccak256("carrier"), "credit unchanged");
    }

    function test_updateEnterprise_failsIfNotRegistrar() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.REGISTRAR_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.updateEnterprise(CARRIER_ID, TraceCodes.ROLE_CARRIER, FILING);
    }

    function test_updateEnterprise_failsIfUnknownEnterprise() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownEnterprise.selector, uint32(99)));
        ledger.updateEnterprise(99, TraceCodes.ROLE_CARRIER, FILING);
    }

    function test_updateEnterprise_failsIfRolesInvalid() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidRoles.selector, uint8(0)));
        ledger.updateEnterprise(CARRIER_ID, 0, FILING);
    }

    // ---------------------------------------------------------------- accounts

    function test_addAccount_succeedsAndActsForEnterprise() public {
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EnterpriseAccountAdded(IMPORTER_ID, stranger);
        ledger.addAccount(IMPORTER_ID, stranger);
        assertEq(ledger.enterpriseOf(stranger), IMPORTER_ID, "enterpriseOf");
        _registerUnit(stranger, UNIT);
        assertEq(ledger.responsibleOf(UNIT), IMPORTER_ID, "acts for importer");
    }

    function test_addAccount_failsIfNotRegistrar() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.REGISTRAR_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.addAccount(IMPORTER_ID, stranger);
    }

    function test_addAccount_failsIfUnknownEnterprise() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownEnterprise.selector, uint32(0)));
        ledger.addAccount(0, stranger);
    }

    function test_addAccount_failsIfAccountAlreadyRegistered() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITraceLedger.TraceLedgerAccountAlreadyRegistered.selector, customs, CUSTOMS_ID)
        );
        ledger.addAccount(IMPORTER_ID, customs);
    }

    function test_addAccount_failsIfAccountZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, address(0)));
        ledger.addAccount(IMPORTER_ID, address(0));
    }

    function test_removeAccount_succeedsAndAccountCannotAct() public {
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EnterpriseAccountRemoved(WAREHOUSE_ID, warehouse);
        ledger.removeAccount(warehouse);
        assertEq(ledger.enterpriseOf(warehouse), 0, "enterpriseOf");
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, warehouse));
        vm.prank(warehouse);
        ledger.registerUnit(UNIT, GLN, uint64(T0), EPCIS);
    }

    function test_removeAccount_failsIfNotRegistrar() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.REGISTRAR_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.removeAccount(warehouse);
    }

    function test_removeAccount_failsIfUnknownAccount() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownAccount.selector, stranger));
        ledger.removeAccount(stranger);
    }

    // ---------------------------------------------------------------- suspend / reinstate

    function test_suspendEnterprise_succeedsAndBlocksActing() public {
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EnterpriseSuspended(WAREHOUSE_ID, REASON);
        ledger.suspendEnterprise(WAREHOUSE_ID, REASON);
        assertTrue(ledger.enterprise(WAREHOUSE_ID).suspended, "suspended");
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, WAREHOUSE_ID));
        vm.prank(warehouse);
        ledger.registerUnit(UNIT, GLN, uint64(T0), EPCIS);
    }

    function test_suspendEnterprise_failsIfNotRegistrar() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.REGISTRAR_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.suspendEnterprise(WAREHOUSE_ID, REASON);
    }

    function test_suspendEnterprise_failsIfUnknownEnterprise() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownEnterprise.selector, uint32(99)));
        ledger.suspendEnterprise(99, REASON);
    }

    function test_suspendEnterprise_failsIfAlreadySuspended() public {
        ledger.suspendEnterprise(WAREHOUSE_ID, REASON);
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseSuspended.selector, WAREHOUSE_ID));
        ledger.suspendEnterprise(WAREHOUSE_ID, REASON);
    }

    function test_reinstateEnterprise_succeedsAndEnterpriseActsAgain() public {
        ledger.suspendEnterprise(WAREHOUSE_ID, REASON);
        vm.expectEmit(address(ledger));
        emit ITraceLedger.EnterpriseReinstated(WAREHOUSE_ID, REASON);
        ledger.reinstateEnterprise(WAREHOUSE_ID, REASON);
        assertFalse(ledger.enterprise(WAREHOUSE_ID).suspended, "reinstated");
        _registerUnit(warehouse, UNIT);
        assertEq(ledger.responsibleOf(UNIT), WAREHOUSE_ID, "acts again");
    }

    function test_reinstateEnterprise_failsIfNotRegistrar() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.REGISTRAR_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.reinstateEnterprise(WAREHOUSE_ID, REASON);
    }

    function test_reinstateEnterprise_failsIfUnknownEnterprise() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerUnknownEnterprise.selector, uint32(99)));
        ledger.reinstateEnterprise(99, REASON);
    }

    function test_reinstateEnterprise_failsIfNotSuspended() public {
        vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerEnterpriseNotSuspended.selector, WAREHOUSE_ID));
        ledger.reinstateEnterprise(WAREHOUSE_ID, REASON);
    }

    // ---------------------------------------------------------------- pause

    function test_pause_succeedsAndBlocksEveryStateChange() public {
        _registerUnit(importer, UNIT);
        ledger.pause();
        assertTrue(ledger.paused(), "paused");
        bytes memory paused = abi.encodeWithSelector(Pausable.EnforcedPause.selector);

        vm.startPrank(importer);
        vm.expectRevert(paused);
        ledger.registerLot(LOT, bytes32(uint256(1)), 1, MANIFEST, GLN, uint64(T0), EPCIS);
        vm.expectRevert(paused);
        ledger.registerItem(ITEM, bytes32(0), GLN, uint64(T0), EPCIS);
        vm.expectRevert(paused);
        ledger.splitItem(LOT, ITEM, new bytes32[](0));
        vm.expectRevert(paused);
        ledger.registerUnit(UNIT2, GLN, uint64(T0), EPCIS);
        vm.expectRevert(paused);
        ledger.pack(UNIT, new bytes32[](0));
        vm.expectRevert(paused);
        ledger.unpack(UNIT, new bytes32[](0));
        vm.expectRevert(paused);
        ledger.submit(_event(UNIT, TraceCodes.STEP_STORING));
        ITraceLedger.SignedRecord memory signed = _signNext(IMPORTER_KEY, _event(UNIT, TraceCodes.STEP_STORING));
        vm.expectRevert(paused);
        ledger.submitSigned(signed);
        ITraceLedger.SignedRecord[] memory batch = new ITraceLedger.SignedRecord[](1);
        batch[0] = signed;
        vm.expectRevert(paused);
        ledger.submitSignedBatch(batch);
        ITraceLedger.Record[] memory records = new ITraceLedger.Record[](1);
        records[0] = _event(UNIT, TraceCodes.STEP_STORING);
        bytes memory sig = _signRecords(IMPORTER_KEY, records, 0, T0 + 60);
        vm.expectRevert(paused);
        ledger.submitSignedRecords(importer, records, 0, T0 + 60, sig);
        vm.stopPrank();
    }

    function test_pause_failsIfNotPauser() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.PAUSER_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.pause();
    }

    function test_pause_failsIfAlreadyPaused() public {
        ledger.pause();
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        ledger.pause();
    }

    function test_unpause_succeedsAndStateChangesResume() public {
        ledger.pause();
        ledger.unpause();
        assertFalse(ledger.paused(), "unpaused");
        _registerUnit(importer, UNIT);
        assertEq(ledger.responsibleOf(UNIT), IMPORTER_ID, "resumed");
    }

    function test_unpause_failsIfNotPauser() public {
        ledger.pause();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ledger.PAUSER_ROLE()
            )
        );
        vm.prank(stranger);
        ledger.unpause();
    }

    function test_unpause_failsIfNotPaused() public {
        vm.expectRevert(abi.encodeWithSelector(Pausable.ExpectedPause.selector));
        ledger.unpause();
    }

    // ---------------------------------------------------------------- roles granted by the admin

    function test_grantRole_letsAnotherAccountRegisterAndPause() public {
        ledger.grantRole(ledger.REGISTRAR_ROLE(), stranger);
        ledger.grantRole(ledger.PAUSER_ROLE(), stranger);
        vm.startPrank(stranger);
        ledger.registerEnterprise(CREDIT, FILING, TraceCodes.ROLE_CARRIER, vm.addr(0xBEEF));
        ledger.pause();
        vm.stopPrank();
        assertTrue(ledger.paused(), "paused by new pauser");
    }

    // ---------------------------------------------------------------- two-step admin hand-over

    function test_defaultAdminTransfer_succeedsAfterDelay() public {
        address next = vm.addr(0xAD);
        ledger.beginDefaultAdminTransfer(next);
        vm.warp(T0 + ADMIN_DELAY + 1);
        vm.prank(next);
        ledger.acceptDefaultAdminTransfer();
        assertEq(ledger.defaultAdmin(), next, "new admin");
        assertFalse(ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), address(this)), "old admin gone");
    }

    function test_defaultAdminTransfer_failsIfAcceptedBeforeDelay() public {
        address next = vm.addr(0xAD);
        ledger.beginDefaultAdminTransfer(next);
        (, uint48 schedule) = ledger.pendingDefaultAdmin();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        vm.prank(next);
        ledger.acceptDefaultAdminTransfer();
    }

    function test_defaultAdminTransfer_failsIfGrantedDirectly() public {
        bytes32 adminRole = ledger.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector)
        );
        ledger.grantRole(adminRole, stranger);
    }

    function test_constructor_failsIfAdminZero() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, address(0)
            )
        );
        new TraceLedger(address(0), ADMIN_DELAY);
    }
}
