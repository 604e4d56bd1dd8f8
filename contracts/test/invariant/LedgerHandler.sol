// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Vm} from "../utils/Test.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {TraceLedger} from "../../src/TraceLedger.sol";
import {ITraceLedger} from "../../src/interfaces/ITraceLedger.sol";
import {TraceCodes} from "../../src/libraries/TraceCodes.sol";

/// @notice Drives the ledger with random but well-formed actions and keeps a ghost model of custody.
/// Every call may fail; the model changes only when the ledger accepted the action.
contract LedgerHandler is MerkleBuilder {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant MAX_SUBJECTS = 48;

    TraceLedger public immutable ledger;

    uint256[] internal keys;
    address[] public accounts;
    uint32[] public enterpriseIds;

    bytes32[] public subjects;
    bytes32[] public lots;
    bytes32[] public units;
    bytes32[] public splitItems;
    mapping(bytes32 lotId => bytes32[]) internal members;
    mapping(bytes32 itemId => bytes32[]) internal splitProof;

    // Ghost model of custody.
    mapping(bytes32 => uint32) public ghostHolder;
    mapping(bytes32 => bytes32) public ghostParent;

    // Ghost model of nonces and counters of broken properties (must stay 0).
    mapping(address => uint256) public ghostNonce;
    uint256 public nonHolderRecords;
    uint256 public replayedNonces;
    uint256 public calls;
    mapping(bytes4 selector => uint256) public succeeded;

    uint256 internal counter;

    constructor(TraceLedger ledger_, uint256[] memory keys_) {
        ledger = ledger_;
        keys = keys_;
        for (uint256 i; i < keys_.length; ++i) {
            address a = vm.addr(keys_[i]);
            accounts.push(a);
            enterpriseIds.push(ledger_.enterpriseOf(a));
        }
    }

    // ---------------------------------------------------------------- views for the invariants

    function subjectCount() external view returns (uint256) {
        return subjects.length;
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function splitCount() external view returns (uint256) {
        return splitItems.length;
    }

    function proofOf(bytes32 itemId) external view returns (bytes32[] memory) {
        return splitProof[itemId];
    }

    /// @dev Responsibility in the ghost model: holder of the outermost unit.
    function ghostResponsible(bytes32 id) public view returns (uint32) {
        while (ghostParent[id] != bytes32(0)) {
            id = ghostParent[id];
        }
        return ghostHolder[id];
    }

    // ---------------------------------------------------------------- picks

    function _actor(uint256 seed) internal view returns (uint256 i) {
        i = seed % accounts.length;
    }

    /// @dev Mostly the enterprise the action needs (so that actions succeed), sometimes anyone (so that
    /// refusals are exercised too).
    function _actorFor(uint32 enterpriseId, uint256 seed) internal view returns (uint256) {
        if (seed % 4 != 0) {
            for (uint256 i; i < enterpriseIds.length; ++i) {
                if (enterpriseIds[i] == enterpriseId) return i;
            }
        }
        return _actor(seed >> 2);
    }

    function _subject(uint256 seed) internal view returns (bytes32) {
        return subjects.length == 0 ? bytes32(uint256(seed)) : subjects[seed % subjects.length];
    }

    function _unit(uint256 seed) internal view returns (bytes32) {
        return units.length == 0 ? bytes32(uint256(seed)) : units[seed % units.length];
    }

    function _record(ITraceLedger.Action action, bytes32 id, uint8 step, uint32 counterparty)
        internal
        view
        returns (ITraceLedger.Record memory r)
    {
        r.action = action;
        r.subject = id;
        r.bizStep = step;
        r.counterparty = counterparty;
        r.eventTime = uint64(block.timestamp);
        r.epcisHash = keccak256(abi.encode(counter));
        r.documents = new bytes32[](1);
        r.documents[0] = keccak256(abi.encode("doc", counter));
    }

    function _track(bytes32 id, uint32 holder) internal {
        subjects.push(id);
        ghostHolder[id] = holder;
    }

    // ---------------------------------------------------------------- registration

    function registerLot(uint256 actorSeed, uint256 size) external {
        ++calls;
        if (subjects.length >= MAX_SUBJECTS) return;
        // Mostly the importers and the supplier (accounts 0..2), who may commission.
        uint256 a = actorSeed % 4 != 0 ? (actorSeed >> 2) % 3 : _actor(actorSeed >> 2);
        bytes32 lotId = keccak256(abi.encode("lot", ++counter));
        uint256 n = 1 + size % 9;
        bytes32[] memory ids = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = keccak256(abi.encode(lotId, i));
        }
        vm.prank(accounts[a]);
        try ledger.registerLot(lotId, merkleRoot(ids), uint32(n), bytes32(0), 0, uint64(block.timestamp), bytes32(0)) {
            ++succeeded[msg.sig];
            _track(lotId, enterpriseIds[a]);
            lots.push(lotId);
            members[lotId] = ids;
        } catch {}
    }

    function registerUnit(uint256 actorSeed) external {
        ++calls;
        if (subjects.length >= MAX_SUBJECTS) return;
        // Mostly custodians (accounts 0..5).
        uint256 a = actorSeed % 4 != 0 ? (actorSeed >> 2) % 6 : _actor(actorSeed >> 2);
        bytes32 unitId = keccak256(abi.encode("unit", ++counter));
        vm.prank(accounts[a]);
        try ledger.registerUnit(unitId, 0, uint64(block.timestamp), bytes32(0)) {
            ++succeeded[msg.sig];
            _track(unitId, enterpriseIds[a]);
            units.push(unitId);
        } catch {}
    }

    function splitItem(uint256 actorSeed, uint256 lotSeed, uint256 indexSeed) external {
        ++calls;
        if (lots.length == 0 || subjects.length >= MAX_SUBJECTS) return;
        bytes32 lotId = lots[lotSeed % lots.length];
        uint256 a = _actorFor(ledger.responsibleOf(lotId), actorSeed);
        bytes32[] memory ids = members[lotId];
        uint256 index = indexSeed % ids.length;
        bytes32[] memory proof = merkleProof(ids, index);
        vm.prank(accounts[a]);
        try ledger.splitItem(lotId, ids[index], proof) {
            ++succeeded[msg.sig];
            _track(ids[index], enterpriseIds[a]);
            splitItems.push(ids[index]);
            splitProof[ids[index]] = proof;
        } catch {}
    }

    // ---------------------------------------------------------------- packing

    function pack(uint256 actorSeed, uint256 unitSeed, uint256 childSeed) external {
        ++calls;
        bytes32 unitId = _unit(unitSeed);
        bytes32 child = _subject(childSeed);
        uint256 a = _actorFor(ledger.responsibleOf(unitId), actorSeed);
        bytes32[] memory children = new bytes32[](1);
        children[0] = child;
        vm.prank(accounts[a]);
        try ledger.pack(unitId, children) {
            ++succeeded[msg.sig];
            ghostParent[child] = unitId;
        } catch {}
    }

    function unpack(uint256 actorSeed, uint256 childSeed) external {
        ++calls;
        bytes32 child = _subject(childSeed);
        bytes32 unitId = ghostParent[child];
        uint256 a = _actorFor(ledger.responsibleOf(unitId), actorSeed);
        bytes32[] memory children = new bytes32[](1);
        children[0] = child;
        vm.prank(accounts[a]);
        try ledger.unpack(unitId, children) {
            ++succeeded[msg.sig];
            ghostParent[child] = bytes32(0);
            ghostHolder[child] = enterpriseIds[a];
        } catch {}
    }

    // ---------------------------------------------------------------- flow

    function holderStep(uint256 actorSeed, uint256 subjectSeed, uint256 stepSeed) external {
        ++calls;
        uint8[6] memory steps = [
            TraceCodes.STEP_STORING,
            TraceCodes.STEP_DEPARTING,
            TraceCodes.STEP_BONDED_ENTRY,
            TraceCodes.STEP_CONSUMER_RECEIPT,
            TraceCodes.STEP_RETURN,
            TraceCodes.STEP_DESTROYING
        ];
        bytes32 id = _subject(subjectSeed);
        uint8 step = steps[stepSeed % steps.length];
        uint32 responsible = ledger.responsibleOf(id);
        uint256 a = _actorFor(responsible, actorSeed);
        ITraceLedger.Subject memory before = ledger.subject(id);
        vm.prank(accounts[a]);
        try ledger.submit(_record(ITraceLedger.Action.Event, id, step, 0)) {
            ++succeeded[msg.sig];
            uint32 actor = enterpriseIds[a];
            bool reopening = before.ended && step == TraceCodes.STEP_RETURN;
            bool allowed = reopening
                ? (actor == before.holder || ledger.enterprise(actor).roles & TraceCodes.ROLE_IMPORTER != 0)
                : actor == responsible && before.parent == bytes32(0);
            if (!allowed) ++nonHolderRecords;
            if (reopening) ghostHolder[id] = actor;
        } catch {}
    }

    function authorityStep(uint256 actorSeed, uint256 subjectSeed) external {
        ++calls;
        uint256 a = _actor(actorSeed);
        vm.prank(accounts[a]);
        try ledger.submit(_record(ITraceLedger.Action.Event, _subject(subjectSeed), TraceCodes.STEP_INSPECTING, 0)) {
            ++succeeded[msg.sig];
        } catch {}
    }

    function dispatch(uint256 actorSeed, uint256 subjectSeed, uint256 toSeed) external {
        ++calls;
        bytes32 id = _subject(subjectSeed);
        uint32 responsible = ledger.responsibleOf(id);
        uint256 a = _actorFor(responsible, actorSeed);
        vm.prank(accounts[a]);
        try ledger.submit(
            _record(ITraceLedger.Action.Dispatch, id, TraceCodes.STEP_SHIPPING, enterpriseIds[_actor(toSeed)])
        ) {
            ++succeeded[msg.sig];
            if (enterpriseIds[a] != responsible) ++nonHolderRecords;
        } catch {}
    }

    function accept(uint256 actorSeed, uint256 subjectSeed) external {
        ++calls;
        bytes32 id = _subject(subjectSeed);
        uint256 a = _actorFor(ledger.subject(id).pendingReceiver, actorSeed);
        vm.prank(accounts[a]);
        try ledger.submit(_record(ITraceLedger.Action.Accept, id, TraceCodes.STEP_RECEIVING, 0)) {
            ++succeeded[msg.sig];
            ghostHolder[id] = enterpriseIds[a];
        } catch {}
    }

    function rejectOrCancel(uint256 actorSeed, uint256 subjectSeed, bool reject) external {
        ++calls;
        bytes32 id = _subject(subjectSeed);
        ITraceLedger.Subject memory s = ledger.subject(id);
        uint256 a = _actorFor(reject ? s.pendingReceiver : s.holder, actorSeed);
        ITraceLedger.Action action = reject ? ITraceLedger.Action.Reject : ITraceLedger.Action.Cancel;
        vm.prank(accounts[a]);
        try ledger.submit(_record(action, id, 0, 0)) {
            ++succeeded[msg.sig];
        } catch {}
    }

    function recall(uint256 actorSeed, uint256 subjectSeed, bool lift) external {
        ++calls;
        uint256 a = _actor(actorSeed);
        ITraceLedger.Action action = lift ? ITraceLedger.Action.LiftRecall : ITraceLedger.Action.Recall;
        vm.prank(accounts[a]);
        try ledger.submit(_record(action, _subject(subjectSeed), 0, 0)) {
            ++succeeded[msg.sig];
        } catch {}
    }

    /// @dev A signed holder step, sometimes with a nonce that was already used.
    function signedStep(uint256 actorSeed, uint256 subjectSeed, bool replay) external {
        ++calls;
        bytes32 id = _subject(subjectSeed);
        uint32 responsible = ledger.responsibleOf(id);
        uint256 a = _actorFor(responsible, actorSeed);
        address signer = accounts[a];
        uint256 current = ledger.nonces(signer);
        uint256 nonce = replay && current > 0 ? current - 1 : current;
        ITraceLedger.Record memory r = _record(ITraceLedger.Action.Event, id, TraceCodes.STEP_STORING, 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[a], ledger.recordDigest(r, nonce, deadline));
        ITraceLedger.SignedRecord memory signed = ITraceLedger.SignedRecord({
            record: r, signer: signer, nonce: nonce, deadline: deadline, signature: abi.encodePacked(rr, s, v)
        });
        try ledger.submitSigned(signed) {
            ++succeeded[msg.sig];
            if (nonce != ghostNonce[signer]) ++replayedNonces;
            ++ghostNonce[signer];
            if (enterpriseIds[a] != responsible) ++nonHolderRecords;
        } catch {}
    }

    /// @dev Holder steps on up to three subjects signed together, sometimes with a nonce already used.
    function signedRecords(uint256 actorSeed, uint256 subjectSeed, uint256 count, bool replay) external {
        ++calls;
        bytes32 id = _subject(subjectSeed);
        uint32 responsible = ledger.responsibleOf(id);
        uint256 a = _actorFor(responsible, actorSeed);
        address signer = accounts[a];
        uint256 current = ledger.nonces(signer);
        uint256 nonce = replay && current > 0 ? current - 1 : current;
        ITraceLedger.Record[] memory records = new ITraceLedger.Record[](1 + count % 3);
        bool allHeld = true;
        for (uint256 i; i < records.length; ++i) {
            bytes32 sid = i == 0 ? id : _subject(subjectSeed >> (8 * i));
            if (ledger.responsibleOf(sid) != enterpriseIds[a] || ledger.subject(sid).parent != bytes32(0)) {
                allHeld = false;
            }
            records[i] = _record(ITraceLedger.Action.Event, sid, TraceCodes.STEP_STORING, 0);
        }
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[a], ledger.recordsDigest(records, nonce, deadline));
        try ledger.submitSignedRecords(signer, records, nonce, deadline, abi.encodePacked(rr, s, v)) {
            ++succeeded[msg.sig];
            if (nonce != ghostNonce[signer]) ++replayedNonces;
            ++ghostNonce[signer];
            if (!allHeld) ++nonHolderRecords;
        } catch {}
    }

    function warp(uint256 secondsAhead) external {
        ++calls;
        vm.warp(block.timestamp + secondsAhead % 1 days);
    }
}
