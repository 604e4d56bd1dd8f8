// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {LedgerTest} from "./utils/LedgerTest.sol";
import {ITraceLedger} from "../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../src/libraries/TraceCodes.sol";

/// @notice The role-by-action matrix: each single-role enterprise against each class of action.
/// Rows: importer, supplier, warehouse, carrier, customs, regulator. Columns: holder step, authority step,
/// dispatch, accept, recall, lift recall. The fixture importer (IMPORTER_ID) owns the subjects.
contract TraceLedgerRolesTest is LedgerTest {
    uint256 internal constant ROLES = 6;

    address[ROLES] internal acct;
    uint32[ROLES] internal ent;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < ROLES; ++i) {
            acct[i] = _enroll(0x2000 + i, uint8(1 << i), string(abi.encodePacked("matrix", bytes1(uint8(48 + i)))));
            ent[i] = ledger.enterpriseOf(acct[i]);
        }
    }

    function _role(uint256 i) internal pure returns (uint8) {
        return uint8(1 << i);
    }

    function _isCustodian(uint256 i) internal pure returns (bool) {
        return _role(i) & TraceCodes.CUSTODIAN_ROLES != 0;
    }

    function _subjectFor(uint256 i) internal returns (bytes32 id) {
        id = keccak256(abi.encode("matrix subject", i));
        _registerItem(importer, id);
    }

    // ---------------------------------------------------------------- holder step

    function test_matrix_holderStep_onlyByTheResponsibleCustodian() public {
        for (uint256 i; i < ROLES; ++i) {
            bytes32 id = _subjectFor(i);
            // Not holding it: refused whatever the role.
            vm.expectRevert(
                abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, id, ent[i], IMPORTER_ID)
            );
            _submit(acct[i], _event(id, TraceCodes.STEP_STORING));
            if (_isCustodian(i)) {
                _handOver(importer, id, acct[i], ent[i]);
                _submit(acct[i], _event(id, TraceCodes.STEP_STORING));
            } else {
                // Authorities can never become responsible, so never record holder steps.
                vm.expectRevert(abi.encodeWithSelector(ITraceLedger.TraceLedgerInvalidReceiver.selector, id, ent[i]));
                _submit(importer, _dispatchRec(id, ent[i]));
            }
        }
    }

    // ---------------------------------------------------------------- authority step

    function test_matrix_authorityStep_onlyByCustomsOrRegulator() public {
        for (uint256 i; i < ROLES; ++i) {
            bytes32 id = _subjectFor(i);
            if (_isCustodian(i)) _handOver(importer, id, acct[i], ent[i]); // holding it does not help
            if (_role(i) & TraceCodes.AUTHORITY_ROLES != 0) {
                _submit(acct[i], _event(id, TraceCodes.STEP_INSPECTING));
            } else {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        ITraceLedger.TraceLedgerMissingRole.selector, ent[i], TraceCodes.AUTHORITY_ROLES
                    )
                );
                _submit(acct[i], _event(id, TraceCodes.STEP_INSPECTING));
            }
        }
    }

    // ---------------------------------------------------------------- dispatch

    function test_matrix_dispatch_onlyByTheHolder() public {
        for (uint256 i; i < ROLES; ++i) {
            bytes32 id = _subjectFor(i);
            vm.expectRevert(
                abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, id, ent[i], IMPORTER_ID)
            );
            _submit(acct[i], _dispatchRec(id, IMPORTER2_ID));
            if (_isCustodian(i)) {
                _handOver(importer, id, acct[i], ent[i]);
                _submit(acct[i], _dispatchRec(id, IMPORTER2_ID));
                assertEq(ledger.subject(id).pendingReceiver, IMPORTER2_ID, "dispatched");
            }
        }
    }

    // ---------------------------------------------------------------- accept

    function test_matrix_accept_onlyByTheNamedCustodian() public {
        for (uint256 i; i < ROLES; ++i) {
            bytes32 id = _subjectFor(i);
            _submit(importer, _dispatchRec(id, IMPORTER2_ID));
            vm.expectRevert(
                abi.encodeWithSelector(ITraceLedger.TraceLedgerNotReceiver.selector, id, ent[i], IMPORTER2_ID)
            );
            _submit(acct[i], _acceptRec(id));
            _submit(importer, _actionRec(ITraceLedger.Action.Cancel, id));
            if (_isCustodian(i)) {
                _submit(importer, _dispatchRec(id, ent[i]));
                _submit(acct[i], _acceptRec(id));
                assertEq(ledger.responsibleOf(id), ent[i], "accepted");
            }
        }
    }

    // ---------------------------------------------------------------- recall

    function test_matrix_recall_byRegulatorOrResponsibleImporter() public {
        for (uint256 i; i < ROLES; ++i) {
            bytes32 id = _subjectFor(i);
            uint8 role = _role(i);
            if (role == TraceCodes.ROLE_REGULATOR) {
                _submit(acct[i], _actionRec(ITraceLedger.Action.Recall, id));
                assertTrue(ledger.isRecalled(id), "regulator recalls anything");
            } else if (role == TraceCodes.ROLE_IMPORTER) {
                vm.expectRevert(
                    abi.encodeWithSelector(ITraceLedger.TraceLedgerNotResponsible.selector, id, ent[i], IMPORTER_ID)
                );
                _submit(acct[i], _actionRec(ITraceLedger.Action.Recall, id));
                _handOver(importer, id, acct[i], ent[i]);
                _submit(acct[i], _actionRec(ITraceLedger.Action.Recall, id));
                assertTrue(ledger.isRecalled(id), "responsible importer recalls");
            } else {
                if (_isCustodian(i)) _handOver(importer, id, acct[i], ent[i]); // holding it does not help
                vm.expectRevert(
                    abi.encodeWithSelector(
                        ITraceLedger.TraceLedgerMissingRole.selector,
                        ent[i],
                        TraceCodes.ROLE_REGULATOR | TraceCodes.ROLE_IMPORTER
                    )
                );
                _submit(acct[i], _actionRec(ITraceLedger.Action.Recall, id));
            }
        }
    }

    // ---------------------------------------------------------------- lift recall

    function test_matrix_liftRecall_onlyByRegulator() public {
        for (uint256 i; i < ROLES; ++i) {
            bytes32 id = _subjectFor(i);
            _submit(regulator, _actionRec(ITraceLedger.Action.Recall, id));
            if (_role(i) == TraceCodes.ROLE_REGULATOR) {
                _submit(acct[i], _actionRec(ITraceLedger.Action.LiftRecall, id));
                assertFalse(ledger.isRecalled(id), "lifted");
            } else {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        ITraceLedger.TraceLedgerMissingRole.selector, ent[i], TraceCodes.ROLE_REGULATOR
                    )
                );
                _submit(acct[i], _actionRec(ITraceLedger.Action.LiftRecall, id));
            }
        }
    }

    // ---------------------------------------------------------------- registration

    function test_matrix_registration_lotsAndItemsByImporterOrSupplier_unitsByCustodians() public {
        for (uint256 i; i < ROLES; ++i) {
            uint8 role = _role(i);
            bytes32 lotId = keccak256(abi.encode("matrix lot", i));
            bytes32 unitId = keccak256(abi.encode("matrix unit", i));
            uint8 commissioners = TraceCodes.ROLE_IMPORTER | TraceCodes.ROLE_SUPPLIER;
            if (role & commissioners == 0) {
                vm.expectRevert(
                    abi.encodeWithSelector(ITraceLedger.TraceLedgerMissingRole.selector, ent[i], commissioners)
                );
            }
            vm.prank(acct[i]);
            ledger.registerLot(lotId, keccak256("root"), 1, MANIFEST, GLN, uint64(T0), EPCIS);
            if (!_isCustodian(i)) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        ITraceLedger.TraceLedgerMissingRole.selector, ent[i], TraceCodes.CUSTODIAN_ROLES
                    )
                );
            }
            _registerUnit(acct[i], unitId);
        }
    }
}
