"""QR codes: signed Digital Links as PNG/SVG per item, PDF label sheets and bulk issue per lot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import text
from sqlmodel import Session, select

from api import qr
from api.deps import CurrentEnterpriseDep, SessionDep, StateDep
from api.errors import forbidden, not_found
from api.manifest import item_path
from api.models import EnterpriseProfile, Lot, ManifestItem, Product, SigningKey
from api.routes.common import ERRORS, PUBLIC_ERRORS
from api.routes.lots import LotId, get_lot_or_404
from api.schemas import Localized, QrKey, QrKeySet
from api.state import AppState
from silktrace import gs1
from silktrace.errors import GS1Error

router = APIRouter(tags=["qr"], responses=ERRORS)
public = APIRouter(tags=["qr"], responses=PUBLIC_ERRORS)


def key_set(state: AppState, session: Session) -> QrKeySet:
    rows = session.exec(select(SigningKey).where(SigningKey.purpose == "qr").order_by(
        SigningKey.enterprise_id, SigningKey.version)).all()  # type: ignore[arg-type]
    names = {p.enterprise_id: p for p in session.exec(select(EnterpriseProfile)).all()}
    keys = []
    for r in rows:
        p = names.get(r.enterprise_id)
        keys.append(QrKey(
            kid=f"{r.enterprise_id}.{r.version}", enterprise_id=r.enterprise_id, version=r.version,
            x=r.public, status=r.status,  # type: ignore[arg-type]
            created_at=r.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            issuer=Localized(zh=p.name_zh, en=p.name_en) if p else None,
        ))
    return QrKeySet(resolver_base_url=state.api.resolver_base_url, keys=keys)


@public.get("/.well-known/silktrace/qr-keys.json", response_model=QrKeySet)
def well_known_keys(state: StateDep, session: SessionDep, response: Response) -> QrKeySet:
    """Every issuer's QR public key (docs/qr-signature.md): the scanner app caches this set."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return key_set(state, session)


@public.get("/qr/keys", response_model=QrKeySet)
def keys(state: StateDep, session: SessionDep) -> QrKeySet:
    """Same as /.well-known/silktrace/qr-keys.json."""
    return key_set(state, session)


def _owned_lot(session: Session, principal: CurrentEnterpriseDep, lot_id: str) -> Lot:
    lot = get_lot_or_404(session, lot_id)
    if lot.enterprise_id != principal.enterprise_id:
        raise forbidden("not_lot_owner", "only the lot's issuer prints its codes")
    if lot.status != "registered":
        raise not_found("lot_not_registered", "upload the lot's manifest first")
    return lot


def _uri(state: AppState, session: Session, lot: Lot, serial: str) -> str:
    kid, private = state.qr_signing_key(session, lot.enterprise_id)
    return qr.signed_uri(state.api.resolver_base_url, item_path(lot.gtin, lot.lot_code, serial), kid, private)


@router.get(
    "/lots/{lot_id}/items/{serial}/qr",
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}, "description": "the QR code"}},
    response_class=Response,
)
def item_qr(
    lot_id: LotId, serial: Annotated[str, Path(min_length=1, max_length=60)],
    principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    format: Literal["png", "svg"] = "png",
) -> Response:
    """One item's QR code: its signed GS1 Digital Link."""
    lot = _owned_lot(session, principal, lot_id)
    try:
        link = gs1.item(lot.gtin, lot.lot_code, serial)
    except GS1Error as exc:
        raise not_found("unknown_item", exc.message) from exc
    if session.get(ManifestItem, "0x" + link.subject_id.hex()) is None:
        raise not_found("unknown_item", f"serial {serial} is not in the lot's manifest")
    uri = _uri(state, session, lot, serial)
    headers = {"X-Digital-Link": uri}
    if format == "svg":
        return Response(qr.svg(uri), media_type="image/svg+xml", headers=headers)
    return Response(qr.png(uri), media_type="image/png", headers=headers)


def _serials(state: AppState, lot_id: str, offset: int, limit: int | None) -> Iterator[str]:
    # A connection of its own: a streamed response outlives the request's session.
    with state.engine.connect() as conn:
        sql = "SELECT serial FROM manifest_item WHERE lot_id = :l ORDER BY serial"
        params: dict[str, object] = {"l": lot_id}
        if limit is not None:
            sql += " LIMIT :n OFFSET :o"
            params.update(n=limit, o=offset)
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(text(sql), params)
        for row in result:
            yield row[0]


@router.get("/lots/{lot_id}/labels.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "A4 label sheet"}})
def labels(
    lot_id: LotId, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> Response:
    """A printable A4 sheet of QR labels (32 a page) for `limit` items from `offset`."""
    lot = _owned_lot(session, principal, lot_id)
    product = session.get(Product, lot.gtin)
    title = product.name_en if product else lot.gtin
    kid, private = state.qr_signing_key(session, lot.enterprise_id)
    base = state.api.resolver_base_url
    sheet = qr.label_sheet(
        qr.Label(qr.signed_uri(base, item_path(lot.gtin, lot.lot_code, s), kid, private), title, s,
                 lot.lot_code, lot.gtin)
        for s in _serials(state, lot_id, offset, limit)
    )
    return Response(sheet, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="labels-{lot.lot_code}.pdf"'})


@router.get("/lots/{lot_id}/qr-codes", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "serial,uri per item"}})
def bulk_issue(lot_id: LotId, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep) -> StreamingResponse:
    """Every item's signed Digital Link as CSV, streamed (for label printers)."""
    lot = _owned_lot(session, principal, lot_id)
    kid, private = state.qr_signing_key(session, lot.enterprise_id)
    base = state.api.resolver_base_url
    gtin, code = lot.gtin, lot.lot_code

    def rows() -> Iterator[bytes]:
        yield b"serial,uri\n"
        buf = []
        for s in _serials(state, lot_id, 0, None):
            uri = qr.signed_uri(base, item_path(gtin, code, s), kid, private)
            quoted = '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"') else s
            buf.append(f"{quoted},{uri}\n")
            if len(buf) >= 1000:
                yield "".join(buf).encode()
                buf = []
        if buf:
            yield "".join(buf).encode()

    return StreamingResponse(rows(), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="qr-{code}.csv"'})
