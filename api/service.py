"""The service layer: every write of the API (and of the demo) goes through here, then the outbox."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from sqlalchemy import delete, insert
from sqlmodel import Session, select

from api import outbox
from api.deps import Principal
from api.epcis import SubjectRef, build_event, canonical_json, event_hash
from api.errors import ApiError, conflict, forbidden, invalid, not_found
from api.manifest import TreeFile, item_path, serials, write_tree
from api.models import (
    ApiKey,
    DocumentFile,
    EnterpriseProfile,
    LogisticUnit,
    Lot,
    Manifest,
    ManifestItem,
    Product,
)
from api.schemas import (
    EnterpriseIn,
    EnterpriseOut,
    EventIn,
    Localized,
    LotIn,
    ProductIn,
    RecordFields,
    SignedRecordIn,
    WriteResult,
)
from api.security import new_api_key
from api.signing import new_ledger_key, utcnow
from api.state import AppState
from silktrace import gs1
from silktrace.chain import is_dev_node
from silktrace.errors import GS1Error
from silktrace.ledger import Action, Record
from silktrace.merkle import leaf
from silktrace.vocab import (
    AUTHORITY_ROLES,
    CUSTODIAN_ROLES,
    DISPOSITION_BY_NAME,
    STEP_BY_NAME,
    Role,
    Step,
)

ROLE_BY_NAME = {str(r.name).lower(): r for r in Role}


def role_names(roles: int) -> list[str]:
    return [str(r.name).lower() for r in Role if roles & r]


def hex32(b: bytes) -> str:
    return "0x" + b.hex()


# ------------------------------------------------------------------------------ subjects


def parse_link(ref: str) -> gs1.DigitalLink:
    try:
        return gs1.parse(ref)
    except GS1Error as exc:
        raise ApiError(422, exc.code, exc.message) from exc


def resolve_subject(session: Session, ref: str) -> SubjectRef:
    """An item, lot or unit from a Digital Link (URI or path) or a 0x subject id known here."""
    ref = ref.strip()
    if ref.startswith("0x"):
        sid = ref.lower()
        if len(sid) != 66 or any(c not in "0123456789abcdef" for c in sid[2:]):
            raise invalid("invalid_subject_id", "a subject id is 0x and 64 hex digits")
        item = session.get(ManifestItem, sid)
        if item is not None:
            lot = session.get(Lot, item.lot_id)
            assert lot is not None
            return SubjectRef.from_link(gs1.item(lot.gtin, lot.lot_code, item.serial))
        lot = session.get(Lot, sid)
        if lot is not None:
            return SubjectRef.from_link(gs1.lot(lot.gtin, lot.lot_code))
        unit = session.get(LogisticUnit, sid)
        if unit is not None:
            return SubjectRef.from_link(gs1.unit(unit.sscc))
        raise not_found("unknown_subject", f"no item, lot or unit with id {sid} is known here")
    link = parse_link(ref)
    if link.kind == "product":
        raise invalid("not_a_subject", "a GTIN alone is a product class: name a lot or an item")
    return SubjectRef.from_link(link)


def step_of(name: str) -> Step:
    step = STEP_BY_NAME.get(name)
    if step is None:
        raise invalid("unknown_step", f"unknown business step {name!r} (see GET /steps)")
    return step


def disposition_of(step: Step, name: str | None) -> tuple[int, str | None]:
    if name is None:
        name = step.disposition
    if name is None or name == "unchanged":
        return 0, None
    code = DISPOSITION_BY_NAME.get(name)
    if code is None:
        raise invalid("unknown_disposition", f"unknown disposition {name!r}")
    return code, name


def location_of(gln: str | None) -> int:
    if gln is None:
        return 0
    try:
        return int(gs1.normalize_gln(gln))
    except GS1Error as exc:
        raise invalid(exc.code, exc.message) from exc


def documents_of(session: Session, principal: Principal, docs: list[str]) -> tuple[bytes, ...]:
    out = []
    for d in docs:
        d = d.lower().removeprefix("0x")
        if len(d) != 64 or any(c not in "0123456789abcdef" for c in d):
            raise invalid("invalid_document_hash", f"{d!r} is not a sha-256 in hex")
        row = session.get(DocumentFile, d)
        if row is None:
            raise invalid("unknown_document", f"document {d} was not uploaded (POST /documents)")
        out.append(bytes.fromhex(d))
    return tuple(out)


# ------------------------------------------------------------------------------ enterprises


def enterprise_out(p: EnterpriseProfile) -> EnterpriseOut:
    return EnterpriseOut(
        id=p.enterprise_id, name=Localized(zh=p.name_zh, en=p.name_en), credit_code=p.credit_code,
        country=p.country, roles=role_names(p.roles), account=p.account, custodial=p.custodial,
    )


def fund(state: AppState, address: str) -> None:
    """Give a new custodial account gas money on a local dev chain (unlocked dev accounts)."""
    ledger = state.ledger()
    if state.api.fund_wei <= 0 or not is_dev_node(ledger.w3):
        return
    if ledger.w3.eth.get_balance(to_checksum_address(address)) >= state.api.fund_wei // 2:
        return
    with state.write_lock:
        ledger.sender.send({"to": to_checksum_address(address), "value": state.api.fund_wei})


def register_enterprise(
    state: AppState, session: Session, data: EnterpriseIn, idempotency_key: str | None = None
) -> tuple[EnterpriseProfile, str, WriteResult]:
    """File an enterprise, register it on chain, give it keys; returns (profile, API key, write)."""
    if session.exec(
        select(EnterpriseProfile).where(EnterpriseProfile.credit_code == data.credit_code)
    ).first():
        raise conflict("credit_code_exists", f"an enterprise with credit code {data.credit_code} exists")
    roles = 0
    for name in data.roles:
        roles |= int(ROLE_BY_NAME[name])
    filing = {"name_zh": data.name_zh, "name_en": data.name_en, "credit_code": data.credit_code,
              "country": data.country, "roles": roles}
    metadata_hash = hashlib.sha256(canonical_json(filing)).digest()
    sealed = None
    if data.account is None:
        account, secret = new_ledger_key()
        address = account.address
        sealed = state.keybox.seal(secret, f"ledger/{address.lower()}")
    else:
        address = to_checksum_address(data.account)
    credit_hash = keccak(text=data.credit_code)
    payload: dict[str, Any] = {
        "fn": "registerEnterprise",
        "args": outbox.enc([credit_hash, metadata_hash, roles, address]),
        "sealed": sealed,
    }
    result = outbox.execute(
        state, session, enterprise_id=0, op="admin", payload=payload,
        idempotency_key=idempotency_key or f"register-enterprise:{data.credit_code}",
    )
    reg = next((lg for lg in result.logs if lg.event == "EnterpriseRegistered"), None)
    if reg is None or reg.subject_id is None:
        raise ApiError(502, "unexpected_receipt", "the registration emitted no EnterpriseRegistered")
    enterprise_id = int(reg.subject_id, 16)
    entry_payload = session.exec(
        select(outbox.OutboxEntry).where(outbox.OutboxEntry.id == result.outbox_id)
    ).one().payload
    profile = EnterpriseProfile(
        enterprise_id=enterprise_id, chain_id=state.chain_id, name_zh=data.name_zh,
        name_en=data.name_en, credit_code=data.credit_code, country=data.country, roles=roles,
        account=address.lower(), custodial=data.account is None, metadata_hash=hex32(metadata_hash),
    )
    session.add(profile)
    state.add_key(session, enterprise_id, "ledger", address.lower(), sealed=entry_payload.get("sealed"))
    entry = session.get(outbox.OutboxEntry, result.outbox_id)
    if entry is not None:  # the key now lives in the key store only
        entry.payload = {**entry.payload, "sealed": None}
        session.add(entry)
    state.new_qr_key(session, enterprise_id)
    key_id, api_key, secret_hash = new_api_key()
    session.add(ApiKey(id=key_id, enterprise_id=enterprise_id, name="initial", secret_hash=secret_hash))
    session.commit()
    session.refresh(profile)
    if profile.custodial:
        fund(state, address)
    return profile, api_key, result


def create_api_key(session: Session, enterprise_id: int, name: str = "") -> tuple[str, str]:
    key_id, api_key, secret_hash = new_api_key()
    session.add(ApiKey(id=key_id, enterprise_id=enterprise_id, name=name[:80], secret_hash=secret_hash))
    session.commit()
    return key_id, api_key


def rotate_ledger_key(state: AppState, session: Session, enterprise_id: int) -> tuple[str, int, WriteResult]:
    """A new custodial ledger key: added on chain, then the old account removed."""
    profile = session.get(EnterpriseProfile, enterprise_id)
    if profile is None:
        raise not_found("unknown_enterprise", f"no enterprise {enterprise_id}")
    if not profile.custodial:
        raise conflict("self_custody", "the enterprise keeps its own key: rotate it with the registrar")
    old = profile.account
    account, secret = new_ledger_key()
    row = state.add_key(session, enterprise_id, "ledger", account.address.lower(), secret=secret)
    session.commit()
    session.refresh(row)
    fund(state, account.address)
    result = outbox.execute(
        state, session, enterprise_id=0, op="admin",
        payload={"fn": "addAccount", "args": [enterprise_id, account.address]},
    )
    outbox.execute(
        state, session, enterprise_id=0, op="admin",
        payload={"fn": "removeAccount", "args": [to_checksum_address(old)]},
    )
    profile.account = account.address.lower()
    session.add(profile)
    session.commit()
    return account.address.lower(), row.version, result


# ------------------------------------------------------------------------------ products and lots


def normalize_gtin(gtin: str) -> str:
    try:
        return gs1.normalize_gtin(gtin)
    except GS1Error as exc:
        raise invalid(exc.code, exc.message) from exc


def create_product(session: Session, principal: Principal, data: ProductIn) -> Product:
    principal.require(Role.IMPORTER | Role.SUPPLIER, "registering a product")
    gtin = normalize_gtin(data.gtin)
    existing = session.get(Product, gtin)
    if existing is not None:
        raise conflict("product_exists", f"GTIN {gtin} is already registered")
    product = Product(**{**data.model_dump(), "gtin": gtin}, enterprise_id=principal.enterprise_id)
    session.add(product)
    session.commit()
    session.refresh(product)
    return product


def create_lot(session: Session, principal: Principal, data: LotIn) -> Lot:
    principal.require(Role.IMPORTER | Role.SUPPLIER, "creating a lot")
    gtin = normalize_gtin(data.gtin)
    if session.get(Product, gtin) is None:
        raise not_found("unknown_product", f"GTIN {gtin} is not registered (POST /products)")
    try:
        link = gs1.lot(gtin, data.lot)
    except GS1Error as exc:
        raise invalid(exc.code, exc.message) from exc
    lot_id = hex32(link.subject_id)
    if session.get(Lot, lot_id) is not None:
        raise conflict("lot_exists", f"lot {data.lot} of {gtin} already exists")
    lot = Lot(
        lot_id=lot_id, gtin=gtin, lot_code=data.lot, enterprise_id=principal.enterprise_id,
        production_date=data.production_date, expiry_date=data.expiry_date,
    )
    session.add(lot)
    session.commit()
    session.refresh(lot)
    return lot


def tree_path(state: AppState, lot_id: str) -> Path:
    return state.settings.data_dir / "manifests" / f"{lot_id}.tree"


def register_manifest(
    state: AppState,
    session: Session,
    principal: Principal,
    lot: Lot,
    upload: Path,
    sha256_hex: str,
    fmt: str,
    *,
    idempotency_key: str | None = None,
    location_gln: str | None = None,
    event_time: int | None = None,
    batch: int = 20_000,
) -> tuple[Manifest, WriteResult]:
    """Validate a stored upload, keep its items and tree, and register the lot's Merkle root."""
    principal.require(Role.IMPORTER | Role.SUPPLIER, "registering a lot")
    if lot.enterprise_id != principal.enterprise_id:
        raise forbidden("not_lot_owner", "only the enterprise that created the lot registers it")
    if lot.status == "registered":
        raise conflict("lot_registered", "the lot is already registered on chain")
    leaves: list[bytes] = []
    for n, serial in serials(upload, fmt):
        if len(leaves) >= state.api.max_manifest_items:
            raise invalid("manifest_too_large", f"at most {state.api.max_manifest_items} items", {"line": n})
        leaves.append(leaf(gs1.subject_id(item_path(lot.gtin, lot.lot_code, serial))))
    if not leaves:
        raise invalid("empty_manifest", "the manifest lists no items")
    leaves.sort()
    for i in range(1, len(leaves)):
        if leaves[i] == leaves[i - 1]:
            raise invalid("duplicate_serial", "the manifest lists a serial more than once")
    root = write_tree(leaves, tree_path(state, lot.lot_id))
    del leaves
    manifest_hash = "0x" + sha256_hex
    # A new upload before registration replaces the previous one.
    old = session.exec(select(Manifest).where(Manifest.lot_id == lot.lot_id)).all()
    session.execute(delete(ManifestItem).where(ManifestItem.lot_id == lot.lot_id))  # type: ignore[arg-type]
    for m in old:
        session.delete(m)
    manifest = Manifest(
        lot_id=lot.lot_id, sha256=manifest_hash, format=fmt, item_count=0, items_root=hex32(root)
    )
    session.add(manifest)
    session.flush()
    count = 0
    rows: list[dict[str, Any]] = []
    table = ManifestItem.__table__  # type: ignore[attr-defined]
    for _, serial in serials(upload, fmt):
        item_id = hex32(gs1.subject_id(item_path(lot.gtin, lot.lot_code, serial)))
        rows.append({"item_id": item_id, "manifest_id": manifest.id, "lot_id": lot.lot_id, "serial": serial})
        if len(rows) >= batch:
            session.execute(insert(table), rows)
            count += len(rows)
            rows = []
    if rows:
        session.execute(insert(table), rows)
        count += len(rows)
    manifest.item_count = count
    lot.item_count, lot.items_root, lot.manifest_hash = count, hex32(root), manifest_hash
    session.add_all([manifest, lot])
    session.commit()
    lot_link = gs1.lot(lot.gtin, lot.lot_code)
    when = event_time or int(time.time())
    body = build_event(
        step=STEP_BY_NAME["commissioning"], subject=SubjectRef.from_link(lot_link), event_time=when,
        recorder=principal.enterprise_id, disposition="active", gln=location_gln,
    )
    body["silktrace:itemsRoot"] = hex32(root)
    body["silktrace:itemCount"] = count
    body["silktrace:manifestHash"] = manifest_hash
    h = event_hash(body)
    result = outbox.execute(
        state, session, enterprise_id=principal.enterprise_id, op="direct",
        payload={"fn": "registerLot", "args": outbox.enc([
            lot_link.subject_id, root, count, bytes.fromhex(sha256_hex), location_of(location_gln),
            when, bytes.fromhex(h[2:]),
        ])},
        idempotency_key=idempotency_key, epcis=[(h, lot.lot_id, body)],
    )
    lot.status = "registered"
    lot.tx_hash = result.tx_hash
    lot.registered_at = utcnow()
    manifest.status = "registered"
    session.add_all([lot, manifest])
    session.commit()
    session.refresh(manifest)
    return manifest, result


def item_proof(state: AppState, lot_id: str, item_id: str) -> list[bytes] | None:
    path = tree_path(state, lot_id)
    if not path.exists():
        return None
    tree = TreeFile(path)
    try:
        return tree.proof(bytes.fromhex(item_id[2:]))
    finally:
        tree.close()


# ------------------------------------------------------------------------------ records


def chain_kind(state: AppState, subject_id: str) -> int:
    data = state.ledger().contract.functions.subject(bytes.fromhex(subject_id[2:])).call()
    return int(data[0])


def ensure_split(state: AppState, session: Session, principal: Principal, subject: SubjectRef) -> None:
    """Give a Merkle-registered item its own state before an item-level record."""
    if subject.kind != "item" or chain_kind(state, subject.subject_id) != 0:
        return
    lot_id = subject.lot_id
    assert lot_id is not None
    item = session.get(ManifestItem, subject.subject_id)
    if item is None:
        raise not_found("unknown_item", f"{subject.path} is in no registered manifest")
    proof = item_proof(state, lot_id, subject.subject_id)
    if proof is None:
        raise not_found("unknown_item", f"{subject.path} is in no registered manifest")
    outbox.execute(
        state, session, enterprise_id=principal.enterprise_id, op="direct",
        payload={"fn": "splitItem", "args": outbox.enc([bytes.fromhex(lot_id[2:]),
                                                        subject.id_bytes, proof])},
    )


def record(
    state: AppState,
    session: Session,
    principal: Principal,
    subject: SubjectRef,
    action: Action,
    *,
    step: Step | None,
    disposition: str | None = None,
    counterparty: int = 0,
    fields: RecordFields | None = None,
    reason: str | None = None,
    reason_document: str | None = None,
    idempotency_key: str | None = None,
) -> WriteResult:
    """One flow record: checked here first, signed with the enterprise's key, relayed."""
    fields = fields or RecordFields()
    _check_permission(principal, action, step)
    disp_code, disp_name = disposition_of(step, disposition) if step else (0, None)
    docs = documents_of(session, principal, fields.documents)
    when = fields.event_time or int(time.time())
    if reason is not None:
        body: dict[str, Any] = {
            "type": "silktrace:Reason", "action": action.name.lower(), "subject": subject.path,
            "reason": reason, "eventTime": when, "recordedBy": principal.enterprise_id,
        }
        if reason_document:
            body["document"] = reason_document
    else:
        assert step is not None
        body = build_event(
            step=step, subject=subject, event_time=when, recorder=principal.enterprise_id,
            disposition=disp_name, gln=fields.location_gln,
            biz_transactions=[t.model_dump() for t in fields.biz_transactions],
            source=principal.enterprise_id if action == Action.DISPATCH else None,
            destination=counterparty or None,
            action_note=action.name.lower(),
        )
        if docs:
            body["silktrace:documents"] = [d.hex() for d in docs]
    h = event_hash(body)
    if action in (Action.EVENT, Action.DISPATCH) or (action == Action.RECALL and principal.has(Role.IMPORTER)
                                                      and not principal.has(Role.REGULATOR)):
        if step is None or not step.authority:
            ensure_split(state, session, principal, subject)
    elif subject.kind == "item" and chain_kind(state, subject.subject_id) == 0:
        raise conflict(
            "item_not_split",
            "this item has no state of its own yet: record on its lot, or let the holder act on it first",
        )
    rec = Record(
        action=action, subject=subject.id_bytes, biz_step=step.code if step else 0,
        disposition=disp_code, counterparty=counterparty, location=location_of(fields.location_gln),
        event_time=when, epcis_hash=bytes.fromhex(h[2:]), documents=docs,
    )
    return outbox.execute(
        state, session, enterprise_id=principal.enterprise_id, op="record",
        payload={"record": outbox.record_to_json(rec)}, idempotency_key=idempotency_key,
        epcis=[(h, subject.subject_id, body)], dedupe=fields.event_time is not None,
    )


def record_batch(
    state: AppState, session: Session, principal: Principal, events: list[EventIn],
    idempotency_key: str | None = None,
) -> WriteResult:
    """Many steps of one enterprise in one transaction: one signature over all (RecordBatch)."""
    records: list[dict[str, Any]] = []
    epcis: list[tuple[str, str, dict[str, Any]]] = []
    now = int(time.time())
    for data in events:
        subject = resolve_subject(session, data.subject)
        step = step_of(data.step)
        _check_permission(principal, Action.EVENT, step)
        disp_code, disp_name = disposition_of(step, data.disposition)
        docs = documents_of(session, principal, data.documents)
        when = data.event_time or now
        body = build_event(
            step=step, subject=subject, event_time=when, recorder=principal.enterprise_id,
            disposition=disp_name, gln=data.location_gln,
            biz_transactions=[t.model_dump() for t in data.biz_transactions], action_note="event",
        )
        if docs:
            body["silktrace:documents"] = [d.hex() for d in docs]
        h = event_hash(body)
        if not step.authority:
            ensure_split(state, session, principal, subject)
        elif subject.kind == "item" and chain_kind(state, subject.subject_id) == 0:
            raise conflict("item_not_split", f"{subject.path} has no state of its own yet: record on its lot")
        rec = Record(
            action=Action.EVENT, subject=subject.id_bytes, biz_step=step.code, disposition=disp_code,
            location=location_of(data.location_gln), event_time=when, epcis_hash=bytes.fromhex(h[2:]),
            documents=docs,
        )
        records.append(outbox.record_to_json(rec))
        epcis.append((h, subject.subject_id, body))
    return outbox.execute(
        state, session, enterprise_id=principal.enterprise_id, op="records",
        payload={"records": records}, idempotency_key=idempotency_key, epcis=epcis,
        dedupe=all(e.event_time is not None for e in events),
    )


def _check_permission(principal: Principal, action: Action, step: Step | None) -> None:
    if action == Action.EVENT:
        assert step is not None
        if step.name in ("commissioning", "packing", "unpacking"):
            raise invalid("step_not_allowed", f"{step.name} has its own endpoint (lots, units)")
        if step.name in ("recall", "recall_lifted"):
            raise invalid("step_not_allowed", "recalls are recorded through /recalls")
        if step.authority:
            principal.require(AUTHORITY_ROLES, f"recording {step.name}")
        else:
            principal.require(CUSTODIAN_ROLES, f"recording {step.name}")
    elif action in (Action.DISPATCH, Action.ACCEPT):
        assert step is not None
        if step.authority or step.ends_custody or step.name in ("commissioning", "packing", "unpacking"):
            raise invalid("step_not_allowed", f"{step.name} cannot carry a handover")
        principal.require(CUSTODIAN_ROLES, "a handover")
    elif action == Action.RECALL:
        principal.require(Role.REGULATOR | Role.IMPORTER, "a recall")
    elif action == Action.LIFT_RECALL:
        principal.require(Role.REGULATOR, "lifting a recall")
    else:
        principal.require(CUSTODIAN_ROLES, "a handover")


# ------------------------------------------------------------------------------ units


def register_unit(
    state: AppState, session: Session, principal: Principal, sscc: str,
    location_gln: str | None = None, event_time: int | None = None, idempotency_key: str | None = None,
) -> tuple[SubjectRef, WriteResult]:
    principal.require(CUSTODIAN_ROLES, "registering a logistic unit")
    try:
        link = gs1.unit(sscc)
    except GS1Error as exc:
        raise invalid(exc.code, exc.message) from exc
    subject = SubjectRef.from_link(link)
    when = event_time or int(time.time())
    body = build_event(
        step=STEP_BY_NAME["commissioning"], subject=subject, event_time=when,
        recorder=principal.enterprise_id, disposition="active", gln=location_gln,
    )
    h = event_hash(body)
    if session.get(LogisticUnit, subject.subject_id) is None:
        session.add(LogisticUnit(unit_id=subject.subject_id, sscc=link.sscc or "",
                                 enterprise_id=principal.enterprise_id))
        session.commit()
    result = outbox.execute(
        state, session, enterprise_id=principal.enterprise_id, op="direct",
        payload={"fn": "registerUnit", "args": outbox.enc([
            subject.id_bytes, location_of(location_gln), when, bytes.fromhex(h[2:])])},
        idempotency_key=idempotency_key, epcis=[(h, subject.subject_id, body)],
        dedupe=event_time is not None,
    )
    return subject, result


def pack(
    state: AppState, session: Session, principal: Principal, unit: SubjectRef,
    children: list[SubjectRef], *, unpack: bool = False, idempotency_key: str | None = None,
) -> WriteResult:
    principal.require(CUSTODIAN_ROLES, "packing")
    if unit.kind != "unit":
        raise invalid("not_a_unit", "packing goes into a logistic unit (SSCC)")
    if not unpack:
        for child in children:
            ensure_split(state, session, principal, child)
    step = STEP_BY_NAME["unpacking" if unpack else "packing"]
    body = build_event(
        step=step, subject=unit, event_time=int(time.time()), recorder=principal.enterprise_id,
        children=children, disposition=step.disposition,
    )
    h = event_hash(body)
    return outbox.execute(
        state, session, enterprise_id=principal.enterprise_id, op="direct",
        payload={"fn": "unpack" if unpack else "pack",
                 "args": outbox.enc([unit.id_bytes, [c.id_bytes for c in children]])},
        idempotency_key=idempotency_key, epcis=[(h, unit.subject_id, body)], dedupe=False,
    )


# ------------------------------------------------------------------------------ self-signed


def relay_signed(
    state: AppState, session: Session, principal: Principal, data: SignedRecordIn,
    idempotency_key: str | None = None,
) -> WriteResult:
    """Relay a record the enterprise signed with its own key; the signer must be its account."""
    ledger = state.ledger()
    signer_enterprise = ledger.enterprise_of(data.signer)
    if signer_enterprise != principal.enterprise_id:
        raise forbidden(
            "signer_not_enterprise", "the signer is not an account of the calling enterprise",
        )
    if data.deadline < time.time():
        raise invalid("expired_signature", "the record's signature deadline has passed")
    rec = Record(
        action=Action(data.action), subject=bytes.fromhex(data.subject[2:]), biz_step=data.biz_step,
        disposition=data.disposition, counterparty=data.counterparty, location=data.location,
        event_time=data.event_time, epcis_hash=bytes.fromhex(data.epcis_hash[2:]),
        documents=tuple(bytes.fromhex(d.removeprefix("0x")) for d in data.documents),
    )
    return outbox.execute(
        state, session, enterprise_id=principal.enterprise_id, op="signed_record",
        payload={"record": outbox.record_to_json(rec), "signed": {
            "signer": to_checksum_address(data.signer), "nonce": data.nonce, "deadline": data.deadline,
            "signature": data.signature[2:].lower()}},
        idempotency_key=idempotency_key,
    )
