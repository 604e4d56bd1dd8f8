"""Lots: creation, the manifest that registers their items on chain, membership proofs."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api import service
from api.deps import CurrentEnterpriseDep, SessionDep, StateDep
from api.errors import forbidden, invalid, not_found
from api.manifest import detect_format, save_upload
from api.models import Lot, ManifestItem
from api.routes.common import ERRORS, IdempotencyKey
from api.schemas import LotIn, LotOut, ManifestOut, ProofOut
from api.state import AppState
from silktrace import gs1
from silktrace.errors import GS1Error
from silktrace.merkle import verify

router = APIRouter(tags=["lots"], responses=ERRORS)

LotId = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$", description="keccak of the lot's Digital Link path")]
GlnQuery = Annotated[str | None, Query(pattern=r"^\d{13}$")]


def lot_out(state: AppState, lot: Lot) -> LotOut:
    uri = gs1.lot(lot.gtin, lot.lot_code).uri(state.api.resolver_base_url)
    return LotOut(
        lot_id=lot.lot_id, uri=uri, gtin=lot.gtin, lot=lot.lot_code, enterprise_id=lot.enterprise_id,
        status=lot.status, production_date=lot.production_date, expiry_date=lot.expiry_date,
        item_count=lot.item_count, items_root=lot.items_root, manifest_hash=lot.manifest_hash,
    )


def get_lot_or_404(session: SessionDep, lot_id: str) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise not_found("unknown_lot", f"no lot {lot_id}")
    return lot


@router.post("/lots", response_model=LotOut, status_code=201)
def create_lot(data: LotIn, principal: CurrentEnterpriseDep, session: SessionDep, state: StateDep) -> LotOut:
    """Create a lot of a registered product; its items are registered by uploading a manifest."""
    return lot_out(state, service.create_lot(session, principal, data))


@router.get("/lots/{lot_id}", response_model=LotOut)
def get_lot(lot_id: LotId, session: SessionDep, state: StateDep) -> LotOut:
    """One lot."""
    return lot_out(state, get_lot_or_404(session, lot_id))


MANIFEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "the lot's items, streamed: CSV with a `serial` column, a JSON array of "
        "serials or of {\"serial\": …} objects, or NDJSON; at most 1,000,000 items",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "serial\n000001\n000002\n"},
            "application/json": {
                "schema": {"type": "array", "items": {"type": "string"}},
                "example": ["000001", "000002"],
            },
            "application/x-ndjson": {"schema": {"type": "string"}, "example": '{"serial": "000001"}\n'},
        },
    }
}


@router.post(
    "/lots/{lot_id}/manifest", response_model=ManifestOut, status_code=201, openapi_extra=MANIFEST_BODY,
    responses={413: ERRORS[422], 415: ERRORS[422]},
)
async def upload_manifest(
    lot_id: LotId, request: Request, principal: CurrentEnterpriseDep, session: SessionDep,
    state: StateDep, idempotency_key: IdempotencyKey = None, location_gln: GlnQuery = None,
) -> ManifestOut:
    """Register the lot's items on chain as one Merkle root (commissioning); the manifest is kept."""
    lot = get_lot_or_404(session, lot_id)
    if lot.enterprise_id != principal.enterprise_id:
        raise forbidden("not_lot_owner", "only the enterprise that created the lot registers it")
    fmt = detect_format(request.headers.get("content-type"))
    tmp = state.settings.data_dir / "manifests" / "uploads" / f"{secrets.token_hex(8)}.{fmt}"
    try:
        sha = await save_upload(request.stream(), tmp, max_bytes=state.api.max_manifest_items * 64 + 4096)
        manifest, write = await run_in_threadpool(
            service.register_manifest, state, session, principal, lot, tmp, sha, fmt,
            idempotency_key=idempotency_key, location_gln=location_gln,
        )
        keep = state.settings.data_dir / "manifests" / f"{sha}.{fmt}"
        if not keep.exists():
            tmp.replace(keep)
    finally:
        tmp.unlink(missing_ok=True)
    return ManifestOut(lot_id=lot_id, item_count=manifest.item_count, items_root=manifest.items_root,
                       manifest_hash=manifest.sha256, write=write)


@router.get("/lots/{lot_id}/items/{serial}/proof", response_model=ProofOut)
def item_proof(
    lot_id: LotId, serial: Annotated[str, Path(min_length=1, max_length=60)], session: SessionDep,
    state: StateDep,
) -> ProofOut:
    """The Merkle proof that an item belongs to the lot's registered item set (public)."""
    lot = get_lot_or_404(session, lot_id)
    try:
        link = gs1.item(lot.gtin, lot.lot_code, serial)
    except GS1Error as exc:
        raise invalid(exc.code, exc.message) from exc
    item_id = "0x" + link.subject_id.hex()
    if session.get(ManifestItem, item_id) is None or lot.items_root is None:
        raise not_found("unknown_item", f"serial {serial} is not in the lot's manifest")
    proof = service.item_proof(state, lot_id, item_id) or []
    ok = verify(bytes.fromhex(lot.items_root[2:]), link.subject_id, proof)
    return ProofOut(item_id=item_id, lot_id=lot_id, serial=serial, items_root=lot.items_root,
                    proof=["0x" + p.hex() for p in proof], verified=ok)
