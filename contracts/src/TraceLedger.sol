// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ITraceLedger} from "./interfaces/ITraceLedger.sol";
import {TraceCodes} from "./libraries/TraceCodes.sol";

/// @title SilkTrace quality-responsibility ledger
/// @notice Implementation of {ITraceLedger}: enterprises, subjects (items, lots, logistic units), custody
/// handovers, flow steps and recalls, recorded directly or relayed as EIP-712 signed records.
/// @dev Storage is laid out for the hot path: a subject's custody state is one slot, an enterprise's
/// roles and suspension one slot; parent, lot and Merkle data sit in their own slots and are read only
/// when needed. Nothing loops over storage that users can grow: parent chains are bounded by MAX_HEIGHT.
contract TraceLedger is ITraceLedger, AccessControlDefaultAdminRules, Pausable, EIP712, Nonces {
    /// @notice Role that registers, updates, suspends and reinstates enterprises.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Role that pauses and unpauses the ledger.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Deepest nesting of logistic units: item -> case -> pallet -> container -> one spare level.
    uint8 public constant MAX_HEIGHT = 4;
    /// @notice Most document hashes a single record may carry.
    uint256 public constant MAX_DOCUMENTS = 16;
    /// @notice How far in the future an eventTime may be, for clock skew between recorders and the chain.
    uint256 public constant MAX_CLOCK_SKEW = 1 hours;

    /// @notice EIP-712 type hash of {ITraceLedger-Record} with its nonce and deadline.
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant RECORD_TYPEHASH = keccak256(
        "Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents,uint256 nonce,uint256 deadline)"
    );

    /// @notice EIP-712 type hash of {ITraceLedger-Record} as nested in a signed batch: without nonce and deadline.
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant BATCHED_RECORD_TYPEHASH = keccak256(
        "Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents)"
    );

    /// @notice EIP-712 type hash of a batch of records signed together (`submitSignedRecords`).
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant RECORD_BATCH_TYPEHASH = keccak256(
        "RecordBatch(Record[] records,uint256 nonce,uint256 deadline)Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents)"
    );

    // Subject flag bits, kept in the subject's single hot slot.
    uint8 private constant FLAG_RECALLED = 1;
    uint8 private constant FLAG_ENDED = 2;
    uint8 private constant FLAG_PACKED = 4;

    /// @dev One storage slot per subject: everything a flow step reads or writes.
    struct SubjectState {
        SubjectKind kind;
        uint8 disposition;
        uint8 flags;
        uint8 height;
        uint32 holder;
        uint32 pendingReceiver;
        uint32 itemCount; // lots only; shares the slot so registering a lot writes one slot fewer
    }

    uint32 private _enterpriseCount;
    mapping(uint32 enterpriseId => Enterprise) private _enterprises;
    mapping(address account => uint32 enterpriseId) private _accountEnterprise;

    mapping(bytes32 subjectId => SubjectState) private _subjects;
    mapping(bytes32 subjectId => bytes32 unitId) private _parent;
    mapping(bytes32 itemId => bytes32 lotId) private _lotOf;
    mapping(bytes32 lotId => bytes32 root) private _itemsRoot;
    mapping(bytes32 lotId => bytes32 manifestHash) private _manifest;

    /// @param admin receives the default admin, registrar and pauser roles
    /// @param adminDelay delay of the two-step default admin hand-over, in seconds
    constructor(address admin, uint48 adminDelay)
        AccessControlDefaultAdminRules(adminDelay, admin)
        EIP712("SilkTrace", "1")
    {
        _grantRole(REGISTRAR_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ================================================================== parties (admin)

    /// @inheritdoc ITraceLedger
    function registerEnterprise(bytes32 creditCodeHash, bytes32 metadataHash, uint8 roles, address account)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (uint32 enterpriseId)
    {
        _checkRoles(roles);
        _checkNewAccount(account);
        unchecked {
            // uint32 ids: four billion enterprises cannot be registered by one registrar's gas budget.
            enterpriseId = ++_enterpriseCount;
        }
        _enterprises[enterpriseId] =
            Enterprise({roles: roles, suspended: false, creditCodeHash: creditCodeHash, metadataHash: metadataHash});
        _accountEnterprise[account] = enterpriseId;
        emit EnterpriseRegistered(enterpriseId, creditCodeHash, account, roles, metadataHash);
    }

    /// @inheritdoc ITraceLedger
    function updateEnterprise(uint32 enterpriseId, uint8 roles, bytes32 metadataHash)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        _checkRoles(roles);
        Enterprise storage e = _existingEnterprise(enterpriseId);
        e.roles = roles;
        e.metadataHash = metadataHash;
        emit EnterpriseUpdated(enterpriseId, roles, metadataHash);
    }

    /// @inheritdoc ITraceLedger
    function addAccount(uint32 enterpriseId, address account) external onlyRole(REGISTRAR_ROLE) {
        _existingEnterprise(enterpriseId);
        _checkNewAccount(account);
        _accountEnterprise[account] = enterpriseId;
        emit EnterpriseAccountAdded(enterpriseId, account);
    }

    /// @inheritdoc ITraceLedger
    function removeAccount(address account) external onlyRole(REGISTRAR_ROLE) {
        uint32 enterpriseId = _accountEnterprise[account];
        if (enterpriseId == 0) revert TraceLedgerUnknownAccount(account);
        delete _accountEnterprise[account];
        emit EnterpriseAccountRemoved(enterpriseId, account);
    }

    /// @inheritdoc ITraceLedger
    function suspendEnterprise(uint32 enterpriseId, bytes32 reasonHash) external onlyRole(REGISTRAR_ROLE) {
        Enterprise storage e = _existingEnterprise(enterpriseId);
        if (e.suspended) revert TraceLedgerEnterpriseSuspended(enterpriseId);
        e.suspended = true;
        emit EnterpriseSuspended(enterpriseId, reasonHash);
    }

    /// @inheritdoc ITraceLedger
    function reinstateEnterprise(uint32 enterpriseId, bytes32 reasonHash) external onlyRole(REGISTRAR_ROLE) {
        Enterprise storage e = _existingEnterprise(enterpriseId);
        if (!e.suspended) revert TraceLedgerEnterpriseNotSuspended(enterpriseId);
        e.suspended = false;
        emit EnterpriseReinstated(enterpriseId, reasonHash);
    }

    /// @inheritdoc ITraceLedger
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ITraceLedger
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ================================================================== identity

    /// @inheritdoc ITraceLedger
    function registerLot(
        bytes32 lotId,
        bytes32 itemsRoot,
        uint32 itemCount,
        bytes32 manifestHash,
        uint64 location,
        uint64 eventTime,
        bytes32 epcisHash
    ) external whenNotPaused {
        (uint32 actor,) = _registrar(TraceCodes.ROLE_IMPORTER | TraceCodes.ROLE_SUPPLIER, eventTime);
        if (itemsRoot == bytes32(0) || itemCount == 0) revert TraceLedgerInvalidLot(itemsRoot, itemCount);
        SubjectState storage s = _newSubject(lotId);
        s.kind = SubjectKind.Lot;
        s.disposition = TraceCodes.DISP_ACTIVE;
        s.holder = actor;
        s.itemCount = itemCount;
        _itemsRoot[lotId] = itemsRoot;
        _manifest[lotId] = manifestHash;
        emit LotRegistered(lotId, actor, itemsRoot, itemCount, manifestHash, location, eventTime, epcisHash, msg.sender);
    }

    /// @inheritdoc ITraceLedger
    function registerItem(bytes32 itemId, bytes32 lotId, uint64 location, uint64 eventTime, bytes32 epcisHash)
        external
        whenNotPaused
    {
        (uint32 actor,) = _registrar(TraceCodes.ROLE_IMPORTER | TraceCodes.ROLE_SUPPLIER, eventTime);
        if (lotId != bytes32(0)) {
            _checkKind(lotId, _subjects[lotId].kind, SubjectKind.Lot);
            uint32 responsible = _responsibleOf(lotId);
            if (responsible != actor) revert TraceLedgerNotResponsible(lotId, actor, responsible);
        }
        SubjectState storage s = _newSubject(itemId);
        if (lotId != bytes32(0)) _lotOf[itemId] = lotId;
        s.kind = SubjectKind.Item;
        s.disposition = TraceCodes.DISP_ACTIVE;
        s.holder = actor;
        emit ItemRegistered(itemId, actor, lotId, location, eventTime, epcisHash, msg.sender);
    }

    /// @inheritdoc ITraceLedger
    function splitItem(bytes32 lotId, bytes32 itemId, bytes32[] calldata proof) external whenNotPaused {
        (uint32 actor,) = _actor(msg.sender);
        SubjectState memory lot = _subjects[lotId];
        _checkKind(lotId, lot.kind, SubjectKind.Lot);
        if (lot.flags & FLAG_ENDED != 0) revert TraceLedgerCustodyEnded(lotId);
        if (lot.pendingReceiver != 0) revert TraceLedgerHandoverPending(lotId, lot.pendingReceiver);
        uint32 responsible = _responsibleOf(lotId);
        if (responsible != actor) revert TraceLedgerNotResponsible(lotId, actor, responsible);
        if (!MerkleProof.verifyCalldata(proof, _itemsRoot[lotId], _leaf(itemId))) {
            revert TraceLedgerNotLotMember(lotId, itemId);
        }
        SubjectState storage s = _newSubject(itemId);
        s.kind = SubjectKind.Item;
        // The item leaves the lot as it is: same condition, same responsible enterprise.
        s.disposition = lot.disposition;
        s.holder = actor;
        _lotOf[itemId] = lotId;
        emit ItemSplit(itemId, lotId, actor, msg.sender);
    }

    /// @inheritdoc ITraceLedger
    function registerUnit(bytes32 unitId, uint64 location, uint64 eventTime, bytes32 epcisHash) external whenNotPaused {
        (uint32 actor,) = _registrar(TraceCodes.CUSTODIAN_ROLES, eventTime);
        SubjectState storage s = _newSubject(unitId);
        s.kind = SubjectKind.Unit;
        s.disposition = TraceCodes.DISP_ACTIVE;
        s.holder = actor;
        emit UnitRegistered(unitId, actor, location, eventTime, epcisHash, msg.sender);
    }

    /// @inheritdoc ITraceLedger
    function pack(bytes32 unitId, bytes32[] calldata children) external whenNotPaused {
        (uint32 actor,) = _actor(msg.sender);
        SubjectState storage unit = _packableUnit(unitId, actor);
        uint8 height = unit.height;
        uint256 n = children.length;
        for (uint256 i; i < n; ++i) {
            bytes32 childId = children[i];
            if (childId == unitId) revert TraceLedgerInvalidSubject(childId);
            SubjectState storage child = _subjects[childId];
            _checkTopLevelHeld(childId, child, actor);
            uint8 childHeight = child.height + 1;
            if (childHeight > MAX_HEIGHT) revert TraceLedgerNestingTooDeep(unitId, childHeight);
            if (childHeight > height) height = childHeight;
            child.flags |= FLAG_PACKED;
            _parent[childId] = unitId;
            emit Packed(unitId, childId, actor, msg.sender);
        }
        // Never lowered on unpack: a conservative bound is enough to bound every parent walk.
        unit.height = height;
    }

    /// @inheritdoc ITraceLedger
    function unpack(bytes32 unitId, bytes32[] calldata children) external whenNotPaused {
        (uint32 actor,) = _actor(msg.sender);
        _packableUnit(unitId, actor);
        uint256 n = children.length;
        for (uint256 i; i < n; ++i) {
            bytes32 childId = children[i];
            bytes32 parent = _parent[childId];
            if (parent != unitId) revert TraceLedgerNotPackedIn(childId, unitId, parent);
            SubjectState storage child = _subjects[childId];
            child.flags &= ~FLAG_PACKED;
            // The stored holder went stale while packed: the unit's holder is responsible now.
            child.holder = actor;
            delete _parent[childId];
            emit Unpacked(unitId, childId, actor, msg.sender);
        }
    }

    // ================================================================== flow

    /// @inheritdoc ITraceLedger
    function submit(Record calldata record) external whenNotPaused {
        (uint32 actor, uint8 roles) = _actor(msg.sender);
        _apply(actor, roles, msg.sender, record);
    }

    /// @inheritdoc ITraceLedger
    function submitSigned(SignedRecord calldata signed) external whenNotPaused {
        address signer = _verifySigned(signed);
        (uint32 actor, uint8 roles) = _actor(signer);
        _apply(actor, roles, signer, signed.record);
    }

    /// @inheritdoc ITraceLedger
    function submitSignedBatch(SignedRecord[] calldata batch) external whenNotPaused {
        uint256 n = batch.length;
        if (n == 0) revert TraceLedgerEmptyBatch();
        address lastSigner = address(0);
        uint32 actor = 0;
        uint8 roles = 0;
        for (uint256 i = 0; i < n; ++i) {
            SignedRecord calldata signed = batch[i];
            address signer = _verifySigned(signed);
            // A relayer groups each signer's records: look the enterprise up once per run of records. Nothing
            // in a batch can change an enterprise, so the cached roles and suspension stay true.
            if (signer != lastSigner) {
                (actor, roles) = _actor(signer);
                lastSigner = signer;
            }
            _apply(actor, roles, signer, signed.record);
        }
    }

    /// @inheritdoc ITraceLedger
    function submitSignedRecords(
        address signer,
        Record[] calldata records,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        _verifySignedRecords(signer, records, nonce, deadline, signature);
        // Nothing in a batch can change an enterprise, so one look-up serves every record.
        (uint32 actor, uint8 roles) = _actor(signer);
        uint256 n = records.length;
        for (uint256 i; i < n;) {
            _apply(actor, roles, signer, records[i]);
            unchecked {
                ++i;
            }
        }
    }

    // ================================================================== views

    /// @inheritdoc ITraceLedger
    function enterpriseOf(address account) external view returns (uint32) {
        return _accountEnterprise[account];
    }

    /// @inheritdoc ITraceLedger
    function enterprise(uint32 enterpriseId) external view returns (Enterprise memory) {
        return _enterprises[enterpriseId];
    }

    /// @inheritdoc ITraceLedger
    function enterpriseCount() external view returns (uint32) {
        return _enterpriseCount;
    }

    /// @inheritdoc ITraceLedger
    function subject(bytes32 subjectId) external view returns (Subject memory) {
        SubjectState memory s = _subjects[subjectId];
        return Subject({
            kind: s.kind,
            disposition: s.disposition,
            recalled: s.flags & FLAG_RECALLED != 0,
            ended: s.flags & FLAG_ENDED != 0,
            holder: s.holder,
            pendingReceiver: s.pendingReceiver,
            height: s.height,
            parent: _parent[subjectId],
            lot: _lotOf[subjectId]
        });
    }

    /// @inheritdoc ITraceLedger
    function lotInfo(bytes32 lotId) external view returns (bytes32 itemsRoot, uint32 itemCount, bytes32 manifestHash) {
        return (_itemsRoot[lotId], _subjects[lotId].itemCount, _manifest[lotId]);
    }

    /// @inheritdoc ITraceLedger
    function isLotMember(bytes32 lotId, bytes32 itemId, bytes32[] calldata proof) external view returns (bool) {
        bytes32 root = _itemsRoot[lotId];
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, _leaf(itemId));
    }

    /// @inheritdoc ITraceLedger
    function responsibleOf(bytes32 subjectId) external view returns (uint32) {
        return _responsibleOf(subjectId);
    }

    /// @inheritdoc ITraceLedger
    function isRecalled(bytes32 subjectId) external view returns (bool) {
        SubjectState storage s = _subjects[subjectId];
        if (s.kind == SubjectKind.Item) {
            bytes32 lotId = _lotOf[subjectId];
            if (lotId != bytes32(0) && _subjects[lotId].flags & FLAG_RECALLED != 0) return true;
        }
        // Parents are units (never items), so only the subject itself can have a lot.
        for (uint256 i; i <= MAX_HEIGHT; ++i) {
            uint8 flags = s.flags;
            if (flags & FLAG_RECALLED != 0) return true;
            if (flags & FLAG_PACKED == 0) return false;
            subjectId = _parent[subjectId];
            s = _subjects[subjectId];
        }
        return false;
    }

    /// @inheritdoc ITraceLedger
    function nonces(address signer) public view override(ITraceLedger, Nonces) returns (uint256) {
        return super.nonces(signer);
    }

    /// @inheritdoc ITraceLedger
    function recordDigest(Record calldata record, uint256 nonce, uint256 deadline) external view returns (bytes32) {
        return _hashTypedDataV4(_recordHash(record, nonce, deadline));
    }

    /// @inheritdoc ITraceLedger
    function recordsDigest(Record[] calldata records, uint256 nonce, uint256 deadline) external view returns (bytes32) {
        return _hashTypedDataV4(_recordBatchHash(records, nonce, deadline));
    }

    /// @notice ERC-165: also answers for {ITraceLedger}.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ITraceLedger).interfaceId || super.supportsInterface(interfaceId);
    }

    // ================================================================== internal: records

    /// @dev Checks a relayed record's deadline, signature and nonce (consuming it) and returns its signer.
    function _verifySigned(SignedRecord calldata signed) private returns (address signer) {
        uint256 deadline = signed.deadline;
        if (block.timestamp > deadline) revert TraceLedgerExpiredSignature(deadline, block.timestamp);
        uint256 nonce = signed.nonce;
        signer = signed.signer;
        bytes32 digest = _hashTypedDataV4(_recordHash(signed.record, nonce, deadline));
        // The error's argument only details a malformed signature, which fails here either way.
        // slither-disable-next-line unused-return
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signed.signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) {
            revert TraceLedgerInvalidSigner(recovered, signer);
        }
        _useCheckedNonce(signer, nonce);
    }

    /// @dev Checks a batch's size, deadline, signature and nonce (consuming it) before any record applies.
    function _verifySignedRecords(
        address signer,
        Record[] calldata records,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        if (records.length == 0) revert TraceLedgerEmptyBatch();
        if (block.timestamp > deadline) revert TraceLedgerExpiredSignature(deadline, block.timestamp);
        bytes32 digest = _hashTypedDataV4(_recordBatchHash(records, nonce, deadline));
        // The error's argument only details a malformed signature, which fails here either way.
        // slither-disable-next-line unused-return
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) {
            revert TraceLedgerInvalidSigner(recovered, signer);
        }
        _useCheckedNonce(signer, nonce);
    }

    /// @dev The one place a record takes effect, whether submitted directly or relayed.
    function _apply(uint32 actor, uint8 roles, address account, Record calldata r) private {
        uint64 eventTime = r.eventTime;
        if (eventTime > block.timestamp + MAX_CLOCK_SKEW) {
            revert TraceLedgerEventTimeInFuture(eventTime, block.timestamp);
        }
        uint256 documents = r.documents.length;
        if (documents > MAX_DOCUMENTS) revert TraceLedgerTooManyDocuments(documents, MAX_DOCUMENTS);
        uint8 disposition = r.disposition;
        if (disposition > TraceCodes.LAST_DISPOSITION) revert TraceLedgerUnknownDisposition(disposition);
        SubjectState storage s = _subjects[r.subject];
        if (s.kind == SubjectKind.None) revert TraceLedgerUnknownSubject(r.subject);

        Action action = r.action;
        if (action == Action.Event) {
            _recordEvent(s, actor, roles, account, r);
        } else if (action == Action.Dispatch) {
            _dispatch(s, actor, account, r);
        } else if (action == Action.Accept) {
            _accept(s, actor, roles, account, r);
        } else if (action == Action.Reject || action == Action.Cancel) {
            _closeHandover(s, actor, account, r);
        } else if (action == Action.Recall) {
            _recall(s, actor, roles, account, r);
        } else {
            _liftRecall(s, actor, roles, account, r);
        }
    }

    /// @dev Action.Event: a holder step by the responsible enterprise, or an authority step by customs or a
    /// regulator on any subject.
    function _recordEvent(SubjectState storage s, uint32 actor, uint8 roles, address account, Record calldata r)
        private
    {
        uint8 step = r.bizStep;
        if (!TraceCodes.isKnownStep(step)) revert TraceLedgerUnknownBizStep(step);
        if (TraceCodes.isHolderStep(step)) {
            if (step <= TraceCodes.STEP_UNPACKING) revert TraceLedgerStepNotAllowed(Action.Event, step);
            uint8 flags = s.flags;
            uint32 holder = s.holder;
            if (flags & FLAG_ENDED != 0) {
                // Only a return reopens custody, by the last holder or an importer taking the goods back.
                if (step != TraceCodes.STEP_RETURN) revert TraceLedgerCustodyEnded(r.subject);
                if (holder != actor && roles & TraceCodes.ROLE_IMPORTER == 0) {
                    revert TraceLedgerNotResponsible(r.subject, actor, holder);
                }
                s.flags = flags & ~FLAG_ENDED;
                s.holder = actor;
            } else {
                if (flags & FLAG_PACKED != 0) revert TraceLedgerSubjectPacked(r.subject, _parent[r.subject]);
                if (holder != actor) revert TraceLedgerNotResponsible(r.subject, actor, holder);
                if (TraceCodes.endsCustody(step)) {
                    if (s.pendingReceiver != 0) revert TraceLedgerHandoverPending(r.subject, s.pendingReceiver);
                    s.flags = flags | FLAG_ENDED;
                }
            }
        } else {
            if (step >= TraceCodes.STEP_RECALL) revert TraceLedgerStepNotAllowed(Action.Event, step);
            if (roles & TraceCodes.AUTHORITY_ROLES == 0) {
                revert TraceLedgerMissingRole(actor, TraceCodes.AUTHORITY_ROLES);
            }
        }
        uint8 disposition = r.disposition;
        if (disposition != 0) s.disposition = disposition;
        emit EventRecorded(
            r.subject, actor, step, disposition, r.location, r.eventTime, r.epcisHash, account, r.documents
        );
    }

    /// @dev Action.Dispatch: the holder names the receiving enterprise; responsibility does not move yet.
    function _dispatch(SubjectState storage s, uint32 actor, address account, Record calldata r) private {
        uint8 step = r.bizStep;
        _checkHandoverStep(Action.Dispatch, step);
        _checkTopLevelHeld(r.subject, s, actor);
        uint32 receiver = r.counterparty;
        if (receiver == actor) revert TraceLedgerInvalidReceiver(r.subject, receiver);
        Enterprise storage e = _enterprises[receiver];
        uint8 receiverRoles = e.roles;
        // Registered enterprises always have roles, so zero roles means no such enterprise.
        if (receiverRoles == 0) revert TraceLedgerUnknownEnterprise(receiver);
        if (e.suspended) revert TraceLedgerEnterpriseSuspended(receiver);
        if (receiverRoles & TraceCodes.CUSTODIAN_ROLES == 0) revert TraceLedgerInvalidReceiver(r.subject, receiver);
        s.pendingReceiver = receiver;
        uint8 disposition = r.disposition;
        if (disposition != 0) s.disposition = disposition;
        emit CustodyDispatched(
            r.subject, actor, receiver, step, disposition, r.location, r.eventTime, r.epcisHash, account, r.documents
        );
    }

    /// @dev Action.Accept: the named receiver takes responsibility.
    function _accept(SubjectState storage s, uint32 actor, uint8 roles, address account, Record calldata r) private {
        uint8 step = r.bizStep;
        _checkHandoverStep(Action.Accept, step);
        uint32 receiver = s.pendingReceiver;
        if (receiver == 0) revert TraceLedgerNoHandoverPending(r.subject);
        if (receiver != actor) revert TraceLedgerNotReceiver(r.subject, actor, receiver);
        // Roles may have changed since the dispatch: only a custodian may become responsible.
        if (roles & TraceCodes.CUSTODIAN_ROLES == 0) revert TraceLedgerMissingRole(actor, TraceCodes.CUSTODIAN_ROLES);
        uint32 sender = s.holder;
        s.holder = actor;
        s.pendingReceiver = 0;
        uint8 disposition = r.disposition;
        if (disposition != 0) s.disposition = disposition;
        emit CustodyAccepted(
            r.subject, sender, actor, step, disposition, r.location, r.eventTime, r.epcisHash, account, r.documents
        );
    }

    /// @dev Action.Reject (by the receiver) and Action.Cancel (by the sender) drop a pending handover.
    function _closeHandover(SubjectState storage s, uint32 actor, address account, Record calldata r) private {
        uint32 receiver = s.pendingReceiver;
        if (receiver == 0) revert TraceLedgerNoHandoverPending(r.subject);
        uint32 sender = s.holder;
        if (r.action == Action.Reject) {
            if (receiver != actor) revert TraceLedgerNotReceiver(r.subject, actor, receiver);
            s.pendingReceiver = 0;
            emit CustodyRejected(r.subject, sender, receiver, r.eventTime, r.epcisHash, account);
        } else {
            if (sender != actor) revert TraceLedgerNotResponsible(r.subject, actor, sender);
            s.pendingReceiver = 0;
            emit CustodyCancelled(r.subject, sender, receiver, r.eventTime, r.epcisHash, account);
        }
    }

    /// @dev Action.Recall: a regulator on any subject, or an importer on a subject it is responsible for. The
    /// recall is a flag of its own: the record carries no disposition and the stored one is left as it was.
    function _recall(SubjectState storage s, uint32 actor, uint8 roles, address account, Record calldata r) private {
        uint8 step = r.bizStep;
        if (step != 0 && step != TraceCodes.STEP_RECALL) revert TraceLedgerStepNotAllowed(Action.Recall, step);
        uint8 disposition = r.disposition;
        if (disposition != 0) revert TraceLedgerDispositionNotAllowed(Action.Recall, disposition);
        if (roles & TraceCodes.ROLE_REGULATOR == 0) {
            if (roles & TraceCodes.ROLE_IMPORTER == 0) {
                revert TraceLedgerMissingRole(actor, TraceCodes.ROLE_REGULATOR | TraceCodes.ROLE_IMPORTER);
            }
            uint32 responsible = _responsibleOf(r.subject);
            if (responsible != actor) revert TraceLedgerNotResponsible(r.subject, actor, responsible);
        }
        uint8 flags = s.flags;
        if (flags & FLAG_RECALLED != 0) revert TraceLedgerAlreadyRecalled(r.subject);
        s.flags = flags | FLAG_RECALLED;
        emit Recalled(r.subject, actor, r.eventTime, r.epcisHash, account);
    }

    /// @dev Action.LiftRecall: regulators only; like a recall, it carries no disposition and changes none.
    function _liftRecall(SubjectState storage s, uint32 actor, uint8 roles, address account, Record calldata r)
        private
    {
        uint8 step = r.bizStep;
        if (step != 0 && step != TraceCodes.STEP_RECALL_LIFTED) {
            revert TraceLedgerStepNotAllowed(Action.LiftRecall, step);
        }
        uint8 disposition = r.disposition;
        if (disposition != 0) revert TraceLedgerDispositionNotAllowed(Action.LiftRecall, disposition);
        if (roles & TraceCodes.ROLE_REGULATOR == 0) revert TraceLedgerMissingRole(actor, TraceCodes.ROLE_REGULATOR);
        uint8 flags = s.flags;
        if (flags & FLAG_RECALLED == 0) revert TraceLedgerNotRecalled(r.subject);
        s.flags = flags & ~FLAG_RECALLED;
        emit RecallLifted(r.subject, actor, r.eventTime, r.epcisHash, account);
    }

    // ================================================================== internal: checks and helpers

    /// @dev The enterprise an acting account stands for, and its roles; suspended enterprises cannot act.
    function _actor(address account) private view returns (uint32 enterpriseId, uint8 roles) {
        enterpriseId = _accountEnterprise[account];
        if (enterpriseId == 0) revert TraceLedgerUnknownAccount(account);
        Enterprise storage e = _enterprises[enterpriseId];
        if (e.suspended) revert TraceLedgerEnterpriseSuspended(enterpriseId);
        roles = e.roles;
    }

    /// @dev The caller as a registering enterprise holding one of `anyOf`, with a plausible eventTime.
    function _registrar(uint8 anyOf, uint64 eventTime) private view returns (uint32 enterpriseId, uint8 roles) {
        (enterpriseId, roles) = _actor(msg.sender);
        if (roles & anyOf == 0) revert TraceLedgerMissingRole(enterpriseId, anyOf);
        if (eventTime > block.timestamp + MAX_CLOCK_SKEW) {
            revert TraceLedgerEventTimeInFuture(eventTime, block.timestamp);
        }
    }

    /// @dev A fresh subject's slot; 0 is not an id because unset mappings read as 0.
    function _newSubject(bytes32 subjectId) private view returns (SubjectState storage s) {
        if (subjectId == bytes32(0)) revert TraceLedgerInvalidSubject(subjectId);
        s = _subjects[subjectId];
        if (s.kind != SubjectKind.None) revert TraceLedgerSubjectExists(subjectId);
    }

    /// @dev Reverts unless `subjectId` is registered with kind `expected`.
    function _checkKind(bytes32 subjectId, SubjectKind actual, SubjectKind expected) private pure {
        if (actual == SubjectKind.None) revert TraceLedgerUnknownSubject(subjectId);
        if (actual != expected) revert TraceLedgerWrongSubjectKind(subjectId, expected, actual);
    }

    /// @dev A top-level unit the actor holds, open and not being handed over: the only kind one can pack.
    function _packableUnit(bytes32 unitId, uint32 actor) private view returns (SubjectState storage unit) {
        unit = _subjects[unitId];
        _checkKind(unitId, unit.kind, SubjectKind.Unit);
        _checkTopLevelHeld(unitId, unit, actor);
    }

    /// @dev Reverts unless the subject is registered, custody is open, it is not packed, the actor holds it
    /// and no handover is pending.
    function _checkTopLevelHeld(bytes32 subjectId, SubjectState storage s, uint32 actor) private view {
        SubjectState memory m = s;
        if (m.kind == SubjectKind.None) revert TraceLedgerUnknownSubject(subjectId);
        if (m.flags & FLAG_ENDED != 0) revert TraceLedgerCustodyEnded(subjectId);
        if (m.flags & FLAG_PACKED != 0) revert TraceLedgerSubjectPacked(subjectId, _parent[subjectId]);
        if (m.holder != actor) revert TraceLedgerNotResponsible(subjectId, actor, m.holder);
        if (m.pendingReceiver != 0) revert TraceLedgerHandoverPending(subjectId, m.pendingReceiver);
    }

    /// @dev Dispatch and Accept carry a holder step of the flow, not one reserved for other functions.
    function _checkHandoverStep(Action action, uint8 step) private pure {
        if (!TraceCodes.isKnownStep(step)) revert TraceLedgerUnknownBizStep(step);
        if (!TraceCodes.isHolderStep(step) || step <= TraceCodes.STEP_UNPACKING || TraceCodes.endsCustody(step)) {
            revert TraceLedgerStepNotAllowed(action, step);
        }
    }

    /// @dev Holder of the outermost unit; the walk is bounded because every parent is at least one higher.
    function _responsibleOf(bytes32 subjectId) private view returns (uint32) {
        SubjectState storage s = _subjects[subjectId];
        for (uint256 i; i < MAX_HEIGHT && s.flags & FLAG_PACKED != 0; ++i) {
            subjectId = _parent[subjectId];
            s = _subjects[subjectId];
        }
        return s.holder;
    }

    /// @dev Reverts with the exact reason `roles` cannot be an enterprise's role set.
    function _checkRoles(uint8 roles) private pure {
        if (roles == 0 || roles & ~TraceCodes.ALL_ROLES != 0) revert TraceLedgerInvalidRoles(roles);
    }

    /// @dev Reverts unless `account` is a usable account not yet acting for any enterprise.
    function _checkNewAccount(address account) private view {
        if (account == address(0)) revert TraceLedgerUnknownAccount(account);
        uint32 existing = _accountEnterprise[account];
        if (existing != 0) revert TraceLedgerAccountAlreadyRegistered(account, existing);
    }

    /// @dev A registered enterprise's storage, or a revert.
    function _existingEnterprise(uint32 enterpriseId) private view returns (Enterprise storage e) {
        e = _enterprises[enterpriseId];
        if (e.roles == 0) revert TraceLedgerUnknownEnterprise(enterpriseId);
    }

    /// @dev EIP-712 struct hash of a record with its nonce and deadline, built in scratch memory: the eight
    /// static fields are copied from calldata as they are, so any non-canonical encoding changes the hash and
    /// fails the signature check instead of being silently cleaned.
    function _recordHash(Record calldata r, uint256 nonce, uint256 deadline) private pure returns (bytes32 h) {
        bytes32[] calldata documents = r.documents;
        bytes32 typeHash = RECORD_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let size := shl(5, documents.length)
            calldatacopy(m, documents.offset, size)
            let documentsHash := keccak256(m, size)
            mstore(m, typeHash)
            // action, subject, bizStep, disposition, counterparty, location, eventTime, epcisHash
            calldatacopy(add(m, 0x20), r, 0x100)
            mstore(add(m, 0x120), documentsHash)
            mstore(add(m, 0x140), nonce)
            mstore(add(m, 0x160), deadline)
            h := keccak256(m, 0x180)
        }
    }

    /// @dev EIP-712 struct hash of a `RecordBatch`: each record hashed as a nested `Record` (no nonce, no
    /// deadline) into a scratch array, the array hashed, then the batch. As in `_recordHash`, each record's
    /// eight static fields are copied from calldata as they are; `_apply` reads them through Solidity's
    /// checked calldata accessors, which revert on anything non-canonical, so what is applied is what was
    /// hashed. The record offsets and the documents offset are resolved exactly as those accessors do.
    function _recordBatchHash(Record[] calldata records, uint256 nonce, uint256 deadline)
        private
        pure
        returns (bytes32 h)
    {
        bytes32 recordTypeHash = BATCHED_RECORD_TYPEHASH;
        bytes32 batchTypeHash = RECORD_BATCH_TYPEHASH;
        assembly ("memory-safe") {
            let n := records.length
            let hashes := mload(0x40)
            let m := add(hashes, shl(5, n)) // one record's encoding, after the array of record hashes
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let r := add(records.offset, calldataload(add(records.offset, shl(5, i))))
                let documents := add(r, calldataload(add(r, 0x100)))
                let size := shl(5, calldataload(documents))
                calldatacopy(m, add(documents, 0x20), size)
                let documentsHash := keccak256(m, size)
                mstore(m, recordTypeHash)
                // action, subject, bizStep, disposition, counterparty, location, eventTime, epcisHash
                calldatacopy(add(m, 0x20), r, 0x100)
                mstore(add(m, 0x120), documentsHash)
                mstore(add(hashes, shl(5, i)), keccak256(m, 0x140))
            }
            let recordsHash := keccak256(hashes, shl(5, n))
            mstore(m, batchTypeHash)
            mstore(add(m, 0x20), recordsHash)
            mstore(add(m, 0x40), nonce)
            mstore(add(m, 0x60), deadline)
            h := keccak256(m, 0x80)
        }
    }

    /// @dev OpenZeppelin StandardMerkleTree leaf of an item id (double hashed against second preimages).
    function _leaf(bytes32 itemId) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(itemId))));
    }
}
