// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title SilkTrace quality-responsibility ledger
/// @notice Records, for every imported item, lot and logistic unit, which enterprise was responsible
/// for it at every moment, who inspected it, and which documents each party stood behind.
/// @dev Subject ids are `keccak256(bytes(path))` of the canonical, uncompressed GS1 Digital Link path:
/// `/01/{gtin14}/10/{lot}/21/{serial}` (item), `/01/{gtin14}/10/{lot}` (lot), `/00/{sscc18}` (logistic
/// unit); lot and serial are percent-encoded with upper-case hex for every byte outside
/// `A-Z a-z 0-9 - . _ ~`. Step and disposition codes are listed in `TraceCodes`.
interface ITraceLedger {
    /// @notice Kind of a registered subject.
    enum SubjectKind {
        None,
        Item,
        Lot,
        Unit
    }

    /// @notice What a record does.
    enum Action {
        Event, // a step of the flow on a subject (TraceCodes step classes decide who may record it)
        Dispatch, // the holder proposes a handover to `counterparty`
        Accept, // the named receiver accepts; responsibility moves
        Reject, // the named receiver refuses; responsibility stays
        Cancel, // the holder withdraws a pending dispatch
        Recall, // a regulator or the responsible importer recalls the subject; disposition must be 0
        LiftRecall // a regulator lifts a recall; disposition must be 0
    }

    /// @notice A quality-responsibility record: the body of every flow step, direct or relayed.
    /// @dev As EIP-712 typed data it is signed as
    /// `Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents,uint256 nonce,uint256 deadline)`
    /// under the domain `{name: "SilkTrace", version: "1", chainId, verifyingContract}`.
    struct Record {
        Action action;
        bytes32 subject; // item, lot or unit id
        uint8 bizStep; // TraceCodes step code
        uint8 disposition; // TraceCodes disposition code; 0 keeps the current one (always 0 for Recall/LiftRecall)
        uint32 counterparty; // receiving enterprise of a Dispatch; 0 otherwise
        uint64 location; // GLN of the read point / business location as a number; 0 if unknown
        uint64 eventTime; // EPCIS eventTime, unix seconds
        bytes32 epcisHash; // sha-256 of the canonical off-chain EPCIS event (or reason document)
        bytes32[] documents; // sha-256 of each document the recorder stands behind
    }

    /// @notice A record signed off-chain by an enterprise account and submitted by any relayer.
    /// @dev One signature, nonce and deadline per record; see `submitSignedRecords` for many records under
    /// one signature.
    struct SignedRecord {
        Record record;
        address signer;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice Registered enterprise (party) as stored on chain.
    struct Enterprise {
        uint8 roles; // bit set of TraceCodes.ROLE_*
        bool suspended;
        bytes32 creditCodeHash; // keccak256 of the 18-character unified social credit code
        bytes32 metadataHash; // sha-256 of the off-chain enterprise filing
    }

    /// @notice Current on-chain state of a subject.
    struct Subject {
        SubjectKind kind;
        uint8 disposition;
        bool recalled; // recalled itself (ancestors and its lot are checked by `isRecalled`)
        bool ended; // custody ended with a consumer's receipt (or destruction)
        uint32 holder; // responsible enterprise while top-level (see `responsibleOf`)
        uint32 pendingReceiver; // receiver of a pending dispatch, 0 if none
        uint8 height; // upper bound of the nesting height below this subject (units)
        bytes32 parent; // logistic unit it is packed in, 0 if top-level
        bytes32 lot; // lot of an item, 0 otherwise
    }

    // ------------------------------------------------------------------ events: parties

    /// @notice An enterprise was registered with its first account.
    event EnterpriseRegistered(
        uint32 indexed enterpriseId, bytes32 indexed creditCodeHash, address indexed account, uint8 roles, bytes32 metadataHash
    );
    /// @notice An enterprise's roles or filing hash were changed.
    event EnterpriseUpdated(uint32 indexed enterpriseId, uint8 roles, bytes32 metadataHash);
    /// @notice An account may now act for an enterprise.
    event EnterpriseAccountAdded(uint32 indexed enterpriseId, address indexed account);
    /// @notice An account may no longer act for an enterprise.
    event EnterpriseAccountRemoved(uint32 indexed enterpriseId, address indexed account);
    /// @notice An enterprise was suspended; it can neither record nor receive custody.
    event EnterpriseSuspended(uint32 indexed enterpriseId, bytes32 reasonHash);
    /// @notice A suspended enterprise was reinstated.
    event EnterpriseReinstated(uint32 indexed enterpriseId, bytes32 reasonHash);

    // ------------------------------------------------------------------ events: identity

    /// @notice A lot was registered by anchoring the Merkle root of its item ids (commissioning).
    event LotRegistered(
        bytes32 indexed lotId,
        uint32 indexed enterpriseId,
        bytes32 itemsRoot,
        uint32 itemCount,
        bytes32 manifestHash,
        uint64 location,
        uint64 eventTime,
        bytes32 epcisHash,
        address account
    );
    /// @notice A single item was registered (commissioning), optionally as a member of `lotId`.
    event ItemRegistered(
        bytes32 indexed itemId,
        uint32 indexed enterpriseId,
        bytes32 indexed lotId,
        uint64 location,
        uint64 eventTime,
        bytes32 epcisHash,
        address account
    );
    /// @notice An item of a Merkle-registered lot was given its own state, proven a member of the lot.
    event ItemSplit(bytes32 indexed itemId, bytes32 indexed lotId, uint32 indexed enterpriseId, address account);
    /// @notice A logistic unit (SSCC) was registered.
    event UnitRegistered(
        bytes32 indexed unitId, uint32 indexed enterpriseId, uint64 location, uint64 eventTime, bytes32 epcisHash, address account
    );
    /// @notice A subject was packed into a logistic unit; steps on the unit now apply to it.
    event Packed(bytes32 indexed unitId, bytes32 indexed childId, uint32 indexed enterpriseId, address account);
    /// @notice A subject was taken out of a logistic unit.
    event Unpacked(bytes32 indexed unitId, bytes32 indexed childId, uint32 indexed enterpriseId, address account);

    // ------------------------------------------------------------------ events: flow

    /// @notice A step of the flow was recorded on a subject.
    event EventRecorded(
        bytes32 indexed subject,
        uint32 indexed enterpriseId,
        uint8 indexed bizStep,
        uint8 disposition,
        uint64 location,
        uint64 eventTime,
        bytes32 epcisHash,
        address account,
        bytes32[] documents
    );
    /// @notice The holder proposed to hand a subject to another enterprise.
    event CustodyDispatched(
        bytes32 indexed subject,
        uint32 indexed fromEnterprise,
        uint32 indexed toEnterprise,
        uint8 bizStep,
        uint8 disposition,
        uint64 location,
        uint64 eventTime,
        bytes32 epcisHash,
        address account,
        bytes32[] documents
    );
    /// @notice The receiver accepted a handover; it is now the responsible enterprise.
    event CustodyAccepted(
        bytes32 indexed subject,
        uint32 indexed fromEnterprise,
        uint32 indexed toEnterprise,
        uint8 bizStep,
        uint8 disposition,
        uint64 location,
        uint64 eventTime,
        bytes32 epcisHash,
        address account,
        bytes32[] documents
    );
    /// @notice The receiver refused a handover; responsibility stays with the sender.
    event CustodyRejected(
        bytes32 indexed subject,
        uint32 indexed fromEnterprise,
        uint32 indexed toEnterprise,
        uint64 eventTime,
        bytes32 reasonHash,
        address account
    );
    /// @notice The sender withdrew a pending handover.
    event CustodyCancelled(
        bytes32 indexed subject,
        uint32 indexed fromEnterprise,
        uint32 indexed toEnterprise,
        uint64 eventTime,
        bytes32 reasonHash,
        address account
    );
    /// @notice A subject (and everything in it) was recalled.
    /// @dev A recall is the subject's own flag (`isRecalled`): it never changes the stored disposition, so
    /// the event carries none and a mirror needs no call to know the subject's state.
    event Recalled(bytes32 indexed subject, uint32 indexed enterpriseId, uint64 eventTime, bytes32 reasonHash, address account);
    /// @notice A recall was lifted by a regulator.
    /// @dev Like {Recalled}, it leaves the stored disposition as it was.
    event RecallLifted(
        bytes32 indexed subject, uint32 indexed enterpriseId, uint64 eventTime, bytes32 reasonHash, address account
    );

    // ------------------------------------------------------------------ errors

    error TraceLedgerUnknownAccount(address account);
    error TraceLedgerUnknownEnterprise(uint32 enterpriseId);
    error TraceLedgerEnterpriseSuspended(uint32 enterpriseId);
    error TraceLedgerEnterpriseNotSuspended(uint32 enterpriseId);
    error TraceLedgerAccountAlreadyRegistered(address account, uint32 enterpriseId);
    error TraceLedgerInvalidRoles(uint8 roles);
    error TraceLedgerMissingRole(uint32 enterpriseId, uint8 requiredRoles);
    error TraceLedgerSubjectExists(bytes32 subject);
    error TraceLedgerUnknownSubject(bytes32 subject);
    error TraceLedgerWrongSubjectKind(bytes32 subject, SubjectKind expected, SubjectKind actual);
    error TraceLedgerInvalidSubject(bytes32 subject);
    error TraceLedgerInvalidLot(bytes32 itemsRoot, uint32 itemCount);
    error TraceLedgerNotLotMember(bytes32 lotId, bytes32 itemId);
    error TraceLedgerNotResponsible(bytes32 subject, uint32 enterpriseId, uint32 responsible);
    error TraceLedgerSubjectPacked(bytes32 subject, bytes32 parent);
    error TraceLedgerNotPackedIn(bytes32 child, bytes32 unitId, bytes32 parent);
    error TraceLedgerNestingTooDeep(bytes32 unitId, uint8 height);
    error TraceLedgerCustodyEnded(bytes32 subject);
    error TraceLedgerHandoverPending(bytes32 subject, uint32 pendingReceiver);
    error TraceLedgerNoHandoverPending(bytes32 subject);
    error TraceLedgerNotReceiver(bytes32 subject, uint32 enterpriseId, uint32 pendingReceiver);
    error TraceLedgerInvalidReceiver(bytes32 subject, uint32 receiver);
    error TraceLedgerUnknownBizStep(uint8 bizStep);
    error TraceLedgerUnknownDisposition(uint8 disposition);
    error TraceLedgerStepNotAllowed(Action action, uint8 bizStep);
    /// @notice `action` may not carry a disposition: Recall and LiftRecall records must have `disposition == 0`.
    error TraceLedgerDispositionNotAllowed(Action action, uint8 disposition);
    error TraceLedgerEventTimeInFuture(uint64 eventTime, uint256 blockTime);
    error TraceLedgerTooManyDocuments(uint256 count, uint256 max);
    error TraceLedgerAlreadyRecalled(bytes32 subject);
    error TraceLedgerNotRecalled(bytes32 subject);
    error TraceLedgerExpiredSignature(uint256 deadline, uint256 blockTime);
    error TraceLedgerInvalidSigner(address recovered, address signer);
    error TraceLedgerEmptyBatch();

    // ------------------------------------------------------------------ parties (admin)

    /// @notice Registers an enterprise and its first account. Only REGISTRAR_ROLE.
    /// @return enterpriseId the new enterprise's id (sequential from 1)
    function registerEnterprise(bytes32 creditCodeHash, bytes32 metadataHash, uint8 roles, address account)
        external
        returns (uint32 enterpriseId);

    /// @notice Changes an enterprise's roles and filing hash. Only REGISTRAR_ROLE.
    function updateEnterprise(uint32 enterpriseId, uint8 roles, bytes32 metadataHash) external;

    /// @notice Lets another account act for an enterprise. Only REGISTRAR_ROLE.
    function addAccount(uint32 enterpriseId, address account) external;

    /// @notice Removes an account from its enterprise. Only REGISTRAR_ROLE.
    function removeAccount(address account) external;

    /// @notice Suspends an enterprise with a reason document hash. Only REGISTRAR_ROLE.
    function suspendEnterprise(uint32 enterpriseId, bytes32 reasonHash) external;

    /// @notice Reinstates a suspended enterprise. Only REGISTRAR_ROLE.
    function reinstateEnterprise(uint32 enterpriseId, bytes32 reasonHash) external;

    /// @notice Stops every state-changing function but the administrator's. Only PAUSER_ROLE.
    function pause() external;

    /// @notice Resumes after `pause`. Only PAUSER_ROLE.
    function unpause() external;

    // ------------------------------------------------------------------ identity

    /// @notice Registers a lot of `itemCount` items by the Merkle root of their ids; gas does not depend
    /// on the count. The caller's enterprise (importer or supplier) becomes responsible.
    /// @dev Leaves are `keccak256(bytes.concat(keccak256(abi.encode(itemId))))` (OpenZeppelin
    /// StandardMerkleTree leaf encoding), pairs hashed in sorted order (OpenZeppelin MerkleProof).
    function registerLot(
        bytes32 lotId,
        bytes32 itemsRoot,
        uint32 itemCount,
        bytes32 manifestHash,
        uint64 location,
        uint64 eventTime,
        bytes32 epcisHash
    ) external;

    /// @notice Registers one item; `lotId` may be 0 or a lot the caller is responsible for.
    function registerItem(bytes32 itemId, bytes32 lotId, uint64 location, uint64 eventTime, bytes32 epcisHash)
        external;

    /// @notice Gives an item of a Merkle-registered lot its own state, so that it can be handed over,
    /// packed or recorded on alone. Only the lot's responsible enterprise.
    function splitItem(bytes32 lotId, bytes32 itemId, bytes32[] calldata proof) external;

    /// @notice Registers a logistic unit (SSCC) held by the caller's enterprise.
    function registerUnit(bytes32 unitId, uint64 location, uint64 eventTime, bytes32 epcisHash) external;

    /// @notice Packs top-level subjects the caller holds into a top-level unit it holds.
    function pack(bytes32 unitId, bytes32[] calldata children) external;

    /// @notice Takes subjects out of a unit the caller holds; they become top-level again.
    function unpack(bytes32 unitId, bytes32[] calldata children) external;

    // ------------------------------------------------------------------ flow

    /// @notice Applies a record as the caller's enterprise.
    /// @dev Recall and LiftRecall records must carry `disposition == 0` (the recall is a flag of its own and
    /// leaves the disposition unchanged); any other value reverts with `TraceLedgerDispositionNotAllowed`,
    /// or with `TraceLedgerUnknownDisposition` if it is not a known code at all.
    function submit(Record calldata record) external;

    /// @notice Applies a record signed by `signed.signer` (EIP-712), submitted by any relayer.
    function submitSigned(SignedRecord calldata signed) external;

    /// @notice Applies many signed records in order, atomically.
    /// @dev Each record carries its own signature, signer, nonce and deadline, so one batch may hold the
    /// records of many signers. For many records of one signer, `submitSignedRecords` is cheaper.
    function submitSignedBatch(SignedRecord[] calldata batch) external;

    /// @notice Applies many records signed together by one enterprise account (EIP-712), in order,
    /// atomically; submitted by any relayer. One nonce of `signer` is consumed for the whole batch.
    /// @dev `signature` is `signer`'s EIP-712 signature, under the domain
    /// `{name: "SilkTrace", version: "1", chainId, verifyingContract}`, of the typed data
    /// `RecordBatch(Record[] records,uint256 nonce,uint256 deadline)` whose nested type is
    /// `Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents)`
    /// (the record without nonce and deadline: those of the batch cover every record). Per EIP-712:
    /// - type hash `RECORD_BATCH_TYPEHASH = keccak256("RecordBatch(Record[] records,uint256 nonce,uint256 deadline)Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents)")`;
    /// - each record is hashed with `BATCHED_RECORD_TYPEHASH = keccak256("Record(uint8 action,bytes32 subject,uint8 bizStep,uint8 disposition,uint32 counterparty,uint64 location,uint64 eventTime,bytes32 epcisHash,bytes32[] documents)")`
    ///   as `keccak256(abi.encode(BATCHED_RECORD_TYPEHASH, action, subject, bizStep, disposition, counterparty, location, eventTime, epcisHash, keccak256(abi.encodePacked(documents))))`;
    /// - the array is `keccak256(abi.encodePacked(recordHash[0], ..., recordHash[n-1]))`;
    /// - the struct hash is `keccak256(abi.encode(RECORD_BATCH_TYPEHASH, recordsArrayHash, nonce, deadline))`,
    ///   and the digest `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)` (`recordsDigest`).
    /// The nested `Record` type is deliberately a different struct type from the one signed for
    /// `submitSigned` (which includes nonce and deadline), so neither signature can stand for the other.
    /// Each record then takes effect exactly as a `submit` by `signer` would. Reverts with
    /// `TraceLedgerEmptyBatch` for no records, `TraceLedgerExpiredSignature` after `deadline`,
    /// `TraceLedgerInvalidSigner` unless `signer` signed exactly these records, nonce and deadline, and
    /// `InvalidAccountNonce` unless `nonce` is `signer`'s next nonce.
    function submitSignedRecords(
        address signer,
        Record[] calldata records,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    // ------------------------------------------------------------------ views

    /// @notice The enterprise an account acts for (0 if none).
    function enterpriseOf(address account) external view returns (uint32);

    /// @notice An enterprise's stored state.
    function enterprise(uint32 enterpriseId) external view returns (Enterprise memory);

    /// @notice Number of registered enterprises (ids are 1..count).
    function enterpriseCount() external view returns (uint32);

    /// @notice A subject's stored state.
    function subject(bytes32 subjectId) external view returns (Subject memory);

    /// @notice The Merkle root, item count and manifest hash of a lot.
    function lotInfo(bytes32 lotId) external view returns (bytes32 itemsRoot, uint32 itemCount, bytes32 manifestHash);

    /// @notice Whether `itemId` is a member of `lotId`'s registered item set.
    function isLotMember(bytes32 lotId, bytes32 itemId, bytes32[] calldata proof) external view returns (bool);

    /// @notice The enterprise responsible for a registered subject now: the holder of its outermost unit.
    function responsibleOf(bytes32 subjectId) external view returns (uint32);

    /// @notice Whether the subject, its lot, or any unit it is packed in is recalled.
    function isRecalled(bytes32 subjectId) external view returns (bool);

    /// @notice The next nonce `signer` must use for a signed record.
    function nonces(address signer) external view returns (uint256);

    /// @notice EIP-712 digest that `signer` signs for `record`.
    function recordDigest(Record calldata record, uint256 nonce, uint256 deadline) external view returns (bytes32);

    /// @notice EIP-712 digest that a signer signs for a batch of records (`submitSignedRecords`).
    function recordsDigest(Record[] calldata records, uint256 nonce, uint256 deadline) external view returns (bytes32);
}
