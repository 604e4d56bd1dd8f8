// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Codes shared by the ledger and every off-chain layer
/// @notice Roles, CBV 2.0 business steps and dispositions (plus SilkTrace extensions) as small integers.
/// @dev `silktrace/vocab.py` holds the same table with the EPCIS URIs; a test checks they agree.
library TraceCodes {
    // ---------------------------------------------------------------- roles (bit set)
    uint8 internal constant ROLE_IMPORTER = 1; // cross-border e-commerce enterprise / domestic agent
    uint8 internal constant ROLE_SUPPLIER = 2;
    uint8 internal constant ROLE_WAREHOUSE = 4; // bonded warehouse / zone operator
    uint8 internal constant ROLE_CARRIER = 8; // international or last-mile logistics
    uint8 internal constant ROLE_CUSTOMS = 16;
    uint8 internal constant ROLE_REGULATOR = 32; // market supervision
    uint8 internal constant ALL_ROLES = 63;
    /// @dev Roles that may hold goods (be responsible for a subject).
    uint8 internal constant CUSTODIAN_ROLES = ROLE_IMPORTER | ROLE_SUPPLIER | ROLE_WAREHOUSE | ROLE_CARRIER;
    /// @dev Roles that may record authority steps on any subject.
    uint8 internal constant AUTHORITY_ROLES = ROLE_CUSTOMS | ROLE_REGULATOR;

    // ---------------------------------------------------------------- business steps
    // 1..31: CBV steps the holder records. 32..63: SilkTrace extensions the holder records.
    // 64..95: authority steps (customs, regulator) on any subject.
    uint8 internal constant STEP_COMMISSIONING = 1;
    uint8 internal constant STEP_PACKING = 2;
    uint8 internal constant STEP_UNPACKING = 3;
    uint8 internal constant STEP_SHIPPING = 4;
    uint8 internal constant STEP_ACCEPTING = 5;
    uint8 internal constant STEP_DEPARTING = 6;
    uint8 internal constant STEP_ARRIVING = 7;
    uint8 internal constant STEP_RECEIVING = 8;
    uint8 internal constant STEP_STORING = 9;
    uint8 internal constant STEP_PICKING = 10;
    uint8 internal constant STEP_STAGING_OUTBOUND = 11;
    uint8 internal constant STEP_ENTERING_EXITING = 12;
    uint8 internal constant STEP_LOADING = 13;
    uint8 internal constant STEP_UNLOADING = 14;
    uint8 internal constant STEP_RETAIL_SELLING = 15;
    uint8 internal constant STEP_DESTROYING = 16; // ends custody
    uint8 internal constant LAST_CBV_HOLDER_STEP = 16;

    uint8 internal constant STEP_BONDED_ENTRY = 32;
    uint8 internal constant STEP_BONDED_EXIT = 33;
    uint8 internal constant STEP_ORDER_PLACED = 34;
    uint8 internal constant STEP_CUSTOMS_DECLARATION = 35;
    uint8 internal constant STEP_CONSUMER_RECEIPT = 36; // ends custody
    uint8 internal constant STEP_RETURN = 37; // reopens custody after receipt
    uint8 internal constant LAST_EXT_HOLDER_STEP = 37;

    uint8 internal constant STEP_INSPECTING = 64;
    uint8 internal constant STEP_SAMPLING = 65;
    uint8 internal constant STEP_HOLDING = 66;
    uint8 internal constant STEP_CUSTOMS_RELEASE = 67;
    uint8 internal constant STEP_THREE_DOCUMENT_MATCH = 68;
    uint8 internal constant STEP_RECALL = 69; // used by Recall records
    uint8 internal constant STEP_RECALL_LIFTED = 70; // used by LiftRecall records
    uint8 internal constant LAST_AUTHORITY_STEP = 70;

    // ---------------------------------------------------------------- dispositions (0 = unchanged)
    uint8 internal constant DISP_UNCHANGED = 0;
    uint8 internal constant DISP_ACTIVE = 1;
    uint8 internal constant DISP_CONTAINER_CLOSED = 2;
    uint8 internal constant DISP_IN_TRANSIT = 3;
    uint8 internal constant DISP_SELLABLE_NOT_ACCESSIBLE = 4;
    uint8 internal constant DISP_SELLABLE_ACCESSIBLE = 5;
    uint8 internal constant DISP_CONFORMANT = 6;
    uint8 internal constant DISP_NON_CONFORMANT = 7;
    uint8 internal constant DISP_RESERVED = 8;
    uint8 internal constant DISP_RETAIL_SOLD = 9;
    uint8 internal constant DISP_RETURNED = 10;
    uint8 internal constant DISP_RECALLED = 11;
    uint8 internal constant DISP_DESTROYED = 12;
    uint8 internal constant DISP_DAMAGED = 13;
    uint8 internal constant DISP_EXPIRED = 14;
    uint8 internal constant DISP_IN_PROGRESS = 15;
    uint8 internal constant DISP_CONTAINER_OPEN = 16;
    uint8 internal constant LAST_DISPOSITION = 16;

    /// @notice Whether `step` is a known code.
    function isKnownStep(uint8 step) internal pure returns (bool) {
        return (step >= 1 && step <= LAST_CBV_HOLDER_STEP) || (step >= 32 && step <= LAST_EXT_HOLDER_STEP)
            || (step >= 64 && step <= LAST_AUTHORITY_STEP);
    }

    /// @notice Whether `step` may only be recorded by the subject's responsible enterprise.
    function isHolderStep(uint8 step) internal pure returns (bool) {
        return step < 64;
    }

    /// @notice Whether `step` ends the chain of custody.
    function endsCustody(uint8 step) internal pure returns (bool) {
        return step == STEP_CONSUMER_RECEIPT || step == STEP_DESTROYING;
    }
}
