"""One handler per ledger event: how each event changes the derived tables.

Handlers work on an in-memory `State` of the rows a batch touches (loaded in bulk, written back in
bulk by the sink), so the per-event cost is a few dict operations. The same handlers replay a
subject's, an enterprise's or an account's remaining events after a reorg: in a replay, `State`
holds only the keys being rebuilt, and a handler leaves alone any key the state does not hold.
They follow TraceLedger.sol's storage updates exactly; a test compares them with the contract's views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from indexer.decode import Event

STEP_DESTROYING = 16
STEP_CONSUMER_RECEIPT = 36
STEP_RETURN = 37
DISP_ACTIVE = 1

ENTERPRISE_EVENTS = frozenset({
    "EnterpriseRegistered", "EnterpriseUpdated", "EnterpriseSuspended", "EnterpriseReinstated",
})
ACCOUNT_EVENTS = frozenset({
    "EnterpriseRegistered", "EnterpriseAccountAdded", "EnterpriseAccountRemoved",
})
# Events that change the subject named in `child_id` rather than in `subject_id`.
CHILD_EVENTS = frozenset({"Packed", "Unpacked"})
SUBJECT_EVENTS = frozenset({
    "LotRegistered", "ItemRegistered", "ItemSplit", "UnitRegistered", "Packed", "Unpacked",
    "EventRecorded", "CustodyDispatched", "CustodyAccepted", "CustodyRejected", "CustodyCancelled",
    "Recalled", "RecallLifted",
})
RECALL_EVENTS = frozenset({"Recalled", "RecallLifted"})

_ABSENT: Any = object()


@dataclass
class State:
    """Rows the handlers read and write: key -> row dict, or None where the row does not exist."""

    subjects: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    enterprises: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    open_recalls: dict[str, dict[str, Any]] = field(default_factory=dict)  # subject -> open recall
    recall_scope: set[str] = field(default_factory=set)  # subjects whose recall rows are handled
    new_recalls: list[dict[str, Any]] = field(default_factory=list)
    lifted_recalls: list[dict[str, Any]] = field(default_factory=list)  # stored rows now lifted
    dirty_subjects: set[str] = field(default_factory=set)
    dirty_enterprises: set[int] = field(default_factory=set)
    dirty_accounts: set[str] = field(default_factory=set)


@dataclass
class Keys:
    """Which rows a set of events reads or writes."""

    subjects: set[str] = field(default_factory=set)
    recall_subjects: set[str] = field(default_factory=set)
    enterprises: set[int] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)


def keys_of(events: Iterable[Event]) -> Keys:
    """The rows the handlers of `events` will read or write (to load them in bulk)."""
    k = Keys()
    for ev in events:
        name = ev.name
        if name in SUBJECT_EVENTS:
            if name in CHILD_EVENTS:
                k.subjects.add(ev.child_id)  # type: ignore[arg-type]
            else:
                k.subjects.add(ev.subject_id)  # type: ignore[arg-type]
                if name == "ItemSplit":
                    k.subjects.add(ev.child_id)  # type: ignore[arg-type]  # reads the lot
                elif name in RECALL_EVENTS:
                    k.recall_subjects.add(ev.subject_id)  # type: ignore[arg-type]
        else:
            if name in ENTERPRISE_EVENTS:
                k.enterprises.add(ev.enterprise_id)  # type: ignore[arg-type]
            if name in ACCOUNT_EVENTS:
                k.accounts.add(ev.account)  # type: ignore[arg-type]
    return k


def written_keys(events: Iterable[Event]) -> Keys:
    """The rows `events` change (a reorg that removes them must rebuild these)."""
    k = keys_of(events)
    # ItemSplit only reads its lot; dropping it must not rebuild the lot for nothing.
    k.subjects = set()
    for ev in events:
        if ev.name in SUBJECT_EVENTS:
            k.subjects.add(ev.child_id if ev.name in CHILD_EVENTS else ev.subject_id)  # type: ignore[arg-type]
    return k


# ---------------------------------------------------------------------- subjects


def _new_subject(st: State, ev: Event, kind: str, holder: int | None, disposition: int,
                 lot_id: str | None = None) -> dict[str, Any] | None:
    sid = ev.subject_id
    if st.subjects.get(sid, _ABSENT) is _ABSENT:  # type: ignore[arg-type]
        return None  # not rebuilt in this replay
    row = {
        "subject_id": sid, "kind": kind, "holder_id": holder, "pending_receiver_id": None,
        "disposition": disposition, "recalled": False, "ended": False, "parent_id": None,
        "lot_id": lot_id, "items_root": None, "item_count": None, "manifest_hash": None,
        "registered_block": ev.block_number, "updated_block": ev.block_number,
    }
    st.subjects[sid] = row  # type: ignore[index]
    st.dirty_subjects.add(sid)  # type: ignore[arg-type]
    return row


def _subject(st: State, sid: str | None, block: int) -> dict[str, Any] | None:
    row = st.subjects.get(sid)  # type: ignore[arg-type]
    if row is not None:
        row["updated_block"] = block
        st.dirty_subjects.add(sid)  # type: ignore[arg-type]
    return row


def on_lot_registered(st: State, ev: Event) -> None:
    row = _new_subject(st, ev, "lot", ev.enterprise_id, DISP_ACTIVE)
    if row is not None:
        row["items_root"] = ev.data["items_root"]
        row["item_count"] = ev.data["item_count"]
        row["manifest_hash"] = ev.data["manifest_hash"]


def on_item_registered(st: State, ev: Event) -> None:
    _new_subject(st, ev, "item", ev.enterprise_id, DISP_ACTIVE, ev.child_id)


def on_item_split(st: State, ev: Event) -> None:
    # The item leaves the lot as it is: the lot's disposition at that moment.
    lot = st.subjects.get(ev.child_id)  # type: ignore[arg-type]
    disposition = lot["disposition"] if lot is not None else 0
    _new_subject(st, ev, "item", ev.enterprise_id, disposition, ev.child_id)


def on_unit_registered(st: State, ev: Event) -> None:
    _new_subject(st, ev, "unit", ev.enterprise_id, DISP_ACTIVE)


def on_packed(st: State, ev: Event) -> None:
    row = _subject(st, ev.child_id, ev.block_number)
    if row is not None:
        row["parent_id"] = ev.subject_id


def on_unpacked(st: State, ev: Event) -> None:
    row = _subject(st, ev.child_id, ev.block_number)
    if row is not None:
        row["parent_id"] = None
        # The stored holder went stale while packed: the unit's holder is responsible now.
        row["holder_id"] = ev.enterprise_id


def on_event_recorded(st: State, ev: Event) -> None:
    row = _subject(st, ev.subject_id, ev.block_number)
    if row is None:
        return
    step = ev.biz_step
    if step == STEP_RETURN and row["ended"]:
        row["ended"] = False
        row["holder_id"] = ev.enterprise_id
    elif step in (STEP_CONSUMER_RECEIPT, STEP_DESTROYING):
        row["ended"] = True
    if ev.disposition:
        row["disposition"] = ev.disposition


def on_custody_dispatched(st: State, ev: Event) -> None:
    row = _subject(st, ev.subject_id, ev.block_number)
    if row is not None:
        row["pending_receiver_id"] = ev.counterparty_id
        if ev.disposition:
            row["disposition"] = ev.disposition


def on_custody_accepted(st: State, ev: Event) -> None:
    row = _subject(st, ev.subject_id, ev.block_number)
    if row is not None:
        row["holder_id"] = ev.counterparty_id
        row["pending_receiver_id"] = None
        if ev.disposition:
            row["disposition"] = ev.disposition


def on_custody_rejected(st: State, ev: Event) -> None:
    row = _subject(st, ev.subject_id, ev.block_number)
    if row is not None:
        row["pending_receiver_id"] = None


on_custody_cancelled = on_custody_rejected


def on_recalled(st: State, ev: Event) -> None:
    row = _subject(st, ev.subject_id, ev.block_number)
    if row is not None:
        row["recalled"] = True  # a flag of its own: the disposition stays as it was
    if ev.subject_id in st.recall_scope:
        recall = {
            "subject_id": ev.subject_id, "recalled_event_id": ev.id,
            "recalled_by": ev.enterprise_id, "recalled_at": ev.event_time,
            "reason_hash": ev.epcis_hash, "lifted_event_id": None, "lifted_by": None,
            "lifted_at": None, "lift_reason_hash": None,
        }
        st.new_recalls.append(recall)
        st.open_recalls[ev.subject_id] = recall  # type: ignore[index]


def on_recall_lifted(st: State, ev: Event) -> None:
    row = _subject(st, ev.subject_id, ev.block_number)
    if row is not None:
        row["recalled"] = False
    if ev.subject_id in st.recall_scope:
        recall = st.open_recalls.pop(ev.subject_id, None)  # type: ignore[arg-type]
        if recall is not None:
            recall.update(lifted_event_id=ev.id, lifted_by=ev.enterprise_id,
                          lifted_at=ev.event_time, lift_reason_hash=ev.epcis_hash)
            if "id" in recall:  # already stored: update it in place
                st.lifted_recalls.append(recall)


# ---------------------------------------------------------------------- parties


def _enterprise(st: State, ev: Event) -> dict[str, Any] | None:
    row = st.enterprises.get(ev.enterprise_id)  # type: ignore[arg-type]
    if row is not None:
        row["updated_block"] = ev.block_number
        st.dirty_enterprises.add(ev.enterprise_id)  # type: ignore[arg-type]
    return row


def on_enterprise_registered(st: State, ev: Event) -> None:
    eid = ev.enterprise_id
    if st.enterprises.get(eid, _ABSENT) is not _ABSENT:  # type: ignore[arg-type]
        st.enterprises[eid] = {  # type: ignore[index]
            "enterprise_id": eid, "credit_code_hash": ev.data["credit_code_hash"],
            "metadata_hash": ev.data["metadata_hash"], "roles": ev.data["roles"],
            "suspended": False, "registered_block": ev.block_number,
            "updated_block": ev.block_number,
        }
        st.dirty_enterprises.add(eid)  # type: ignore[arg-type]
    _set_account(st, ev, eid)


def on_enterprise_updated(st: State, ev: Event) -> None:
    row = _enterprise(st, ev)
    if row is not None:
        row["roles"] = ev.data["roles"]
        row["metadata_hash"] = ev.data["metadata_hash"]


def on_enterprise_suspended(st: State, ev: Event) -> None:
    row = _enterprise(st, ev)
    if row is not None:
        row["suspended"] = True


def on_enterprise_reinstated(st: State, ev: Event) -> None:
    row = _enterprise(st, ev)
    if row is not None:
        row["suspended"] = False


def _set_account(st: State, ev: Event, enterprise_id: int | None) -> None:
    acct = ev.account
    if st.accounts.get(acct, _ABSENT) is _ABSENT:  # type: ignore[arg-type]
        return
    st.accounts[acct] = (  # type: ignore[index]
        None if enterprise_id is None
        else {"account": acct, "enterprise_id": enterprise_id, "updated_block": ev.block_number}
    )
    st.dirty_accounts.add(acct)  # type: ignore[arg-type]


def on_enterprise_account_added(st: State, ev: Event) -> None:
    _set_account(st, ev, ev.enterprise_id)


def on_enterprise_account_removed(st: State, ev: Event) -> None:
    _set_account(st, ev, None)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


HANDLERS: dict[str, Callable[[State, Event], None]] = {
    name: globals()["on_" + _snake(name)]
    for name in (*sorted(SUBJECT_EVENTS), *sorted(ENTERPRISE_EVENTS | ACCOUNT_EVENTS))
}


def apply(st: State, events: Iterable[Event]) -> None:
    """Run every event's handler in chain order."""
    handlers = HANDLERS
    for ev in events:
        handlers[ev.name](st, ev)
