// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Test} from "./Test.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";
import {TraceLedger} from "../../src/TraceLedger.sol";
import {ITraceLedger} from "../../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../../src/libraries/TraceCodes.sol";

/// @notice Shared fixture: a ledger administered by this contract and one enterprise per role.
abstract contract LedgerTest is Test, MerkleBuilder {
    uint256 internal constant T0 = 1_750_000_000;
    uint48 internal constant ADMIN_DELAY = 2 days;

    TraceLedger internal ledger;

    // Signing keys of the enterprise accounts (test-only keys).
    uint256 internal constant IMPORTER_KEY = 0x1001;
    uint256 internal constant SUPPLIER_KEY = 0x1002;
    uint256 internal constant WAREHOUSE_KEY = 0x1003;
    uint256 internal constant CARRIER_KEY = 0x1004;
    uint256 internal constant CUSTOMS_KEY = 0x1005;
    uint256 internal constant REGULATOR_KEY = 0x1006;
    uint256 internal constant IMPORTER2_KEY = 0x1007;
    uint256 internal constant STRANGER_KEY = 0x1999;

    address internal importer;
    address internal supplier;
    address internal warehouse;
    address internal carrier;
    address internal customs;
    address internal regulator;
    address internal importer2;
    address internal stranger;

    uint32 internal constant IMPORTER_ID = 1;
    uint32 internal constant SUPPLIER_ID = 2;
    uint32 internal constant WAREHOUSE_ID = 3;
    uint32 internal constant CARRIER_ID = 4;
    uint32 internal constant CUSTOMS_ID = 5;
    uint32 internal constant REGULATOR_ID = 6;
    uint32 internal constant IMPORTER2_ID = 7;

    bytes32 internal constant LOT = keccak256("/01/06901234567892/10/LOT1");
    bytes32 internal constant ITEM = keccak256("/01/06901234567892/10/LOT1/21/SN1");
    bytes32 internal constant UNIT = keccak256("/00/069012345000000017");
    bytes32 internal constant UNIT2 = keccak256("/00/069012345000000024");
    bytes32 internal constant EPCIS = keccak256("epcis event");
    bytes32 internal constant DOC = keccak256("document");
    bytes32 internal constant MANIFEST = keccak256("manifest");
    bytes32 internal constant REASON = keccak256("reason");
    uint64 internal constant GLN = 6_901_234_000_017;

    function setUp() public virtual {
        vm.warp(T0);
        ledger = new TraceLedger(address(this), ADMIN_DELAY);
        importer = _enroll(IMPORTER_KEY, TraceCodes.ROLE_IMPORTER, "importer");
        supplier = _enroll(SUPPLIER_KEY, TraceCodes.ROLE_SUPPLIER, "supplier");
        warehouse = _enroll(WAREHOUSE_KEY, TraceCodes.ROLE_WAREHOUSE, "warehouse");
        carrier = _enroll(CARRIER_KEY, TraceCodes.ROLE_CARRIER, "carrier");
        customs = _enroll(CUSTOMS_KEY, TraceCodes.ROLE_CUSTOMS, "customs");
        regulator = _enroll(REGULATOR_KEY, TraceCodes.ROLE_REGULATOR, "regulator");
        importer2 = _enroll(IMPORTER2_KEY, TraceCodes.ROLE_IMPORTER, "importer2");
        stranger = vm.addr(STRANGER_KEY);
        vm.label(stranger, "stranger");
    }

    // ---------------------------------------------------------------- fixtures

    function _enroll(uint256 key, uint8 roles, string memory name) internal returns (address account) {
        account = vm.addr(key);
        vm.label(account, name);
        ledger.registerEnterprise(keccak256(bytes(name)), keccak256(abi.encode(name, "filing")), roles, account);
    }

    /// @dev A lot of `ids` registered by `who`, with the root of a tree built here.
    function _registerLot(address who, bytes32 lotId, bytes32[] memory ids) internal returns (bytes32 root) {
        root = merkleRoot(ids);
        vm.prank(who);
        ledger.registerLot(lotId, root, uint32(ids.length), MANIFEST, GLN, uint64(T0), EPCIS);
    }

    function _lotIds(uint256 n) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = keccak256(abi.encodePacked("/01/06901234567892/10/LOT1/21/SN", i));
        }
    }

    function _registerItem(address who, bytes32 itemId) internal {
        vm.prank(who);
        ledger.registerItem(itemId, bytes32(0), GLN, uint64(T0), EPCIS);
    }

    function _registerUnit(address who, bytes32 unitId) internal {
        vm.prank(who);
        ledger.registerUnit(unitId, GLN, uint64(T0), EPCIS);
    }

    function _pack(address who, bytes32 unitId, bytes32 child) internal {
        vm.prank(who);
        ledger.pack(unitId, _one(child));
    }

    function _one(bytes32 x) internal pure returns (bytes32[] memory a) {
        a = new bytes32[](1);
        a[0] = x;
    }

    function _docs(uint256 n) internal pure returns (bytes32[] memory d) {
        d = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            d[i] = keccak256(abi.encode("document", i));
        }
    }

    // ---------------------------------------------------------------- records

    function _rec(ITraceLedger.Action action, bytes32 subjectId, uint8 step, uint8 disposition, uint32 counterparty)
        internal
        pure
        returns (ITraceLedger.Record memory r)
    {
        r = ITraceLedger.Record({
            action: action,
            subject: subjectId,
            bizStep: step,
            disposition: disposition,
            counterparty: counterparty,
            location: GLN,
            eventTime: uint64(T0),
            epcisHash: EPCIS,
            documents: _one(DOC)
        });
    }

    function _event(bytes32 subjectId, uint8 step) internal pure returns (ITraceLedger.Record memory) {
        return _rec(ITraceLedger.Action.Event, subjectId, step, 0, 0);
    }

    function _dispatchRec(bytes32 subjectId, uint32 to) internal pure returns (ITraceLedger.Record memory) {
        return _rec(ITraceLedger.Action.Dispatch, subjectId, TraceCodes.STEP_SHIPPING, TraceCodes.DISP_IN_TRANSIT, to);
    }

    function _acceptRec(bytes32 subjectId) internal pure returns (ITraceLedger.Record memory) {
        return _rec(ITraceLedger.Action.Accept, subjectId, TraceCodes.STEP_ACCEPTING, 0, 0);
    }

    function _actionRec(ITraceLedger.Action action, bytes32 subjectId)
        internal
        pure
        returns (ITraceLedger.Record memory r)
    {
        r = _rec(action, subjectId, 0, 0, 0);
        r.epcisHash = REASON;
    }

    function _submit(address who, ITraceLedger.Record memory r) internal {
        vm.prank(who);
        ledger.submit(r);
    }

    function _handOver(address from, bytes32 subjectId, address to, uint32 toId) internal {
        _submit(from, _dispatchRec(subjectId, toId));
        _submit(to, _acceptRec(subjectId));
    }

    function _sign(uint256 key, ITraceLedger.Record memory r, uint256 nonce, uint256 deadline)
        internal
        view
        returns (ITraceLedger.SignedRecord memory)
    {
        (uint8 v, bytes32 rs, bytes32 s) = vm.sign(key, ledger.recordDigest(r, nonce, deadline));
        return ITraceLedger.SignedRecord({
            record: r, signer: vm.addr(key), nonce: nonce, deadline: deadline, signature: abi.encodePacked(rs, s, v)
        });
    }

    function _signNext(uint256 key, ITraceLedger.Record memory r)
        internal
        view
        returns (ITraceLedger.SignedRecord memory)
    {
        return _sign(key, r, ledger.nonces(vm.addr(key)), block.timestamp + 1 hours);
    }

    /// @dev `key`'s signature of `records` signed together (`submitSignedRecords`).
    function _signRecords(uint256 key, ITraceLedger.Record[] memory records, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 rs, bytes32 s) = vm.sign(key, ledger.recordsDigest(records, nonce, deadline));
        return abi.encodePacked(rs, s, v);
    }

    /// @dev The address `sig` recovers to for `records` (what the ledger reports when it is the wrong one).
    function _recoveredRecords(ITraceLedger.Record[] memory records, uint256 nonce, uint256 deadline, bytes memory sig)
        internal
        view
        returns (address)
    {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
        return ecrecover(ledger.recordsDigest(records, nonce, deadline), v, r, s);
    }

    function _records(ITraceLedger.Record memory a, ITraceLedger.Record memory b)
        internal
        pure
        returns (ITraceLedger.Record[] memory records)
    {
        records = new ITraceLedger.Record[](2);
        records[0] = a;
        records[1] = b;
    }

    function _err(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }
}
