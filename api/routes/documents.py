"""Documents: uploaded once, stored by SHA-256, downloadable only by parties with a right."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse

from api.deps import CurrentEnterpriseDep, OptionalPrincipalDep, SessionDep, StateDep
from api.errors import ApiError, forbidden, not_found
from api.models import DocumentFile, DocumentGrant
from api.routes.common import ERRORS
from api.schemas import DocumentOut, GrantIn
from api.state import AppState
from silktrace.vocab import AUTHORITY_ROLES

router = APIRouter(tags=["documents"], responses=ERRORS)

Sha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


def doc_path(state: AppState, sha: str) -> FsPath:
    return state.settings.data_dir / "documents" / sha[:2] / sha


def _out(d: DocumentFile) -> DocumentOut:
    return DocumentOut.model_validate(d, from_attributes=True)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "the file itself, any content type (PDF, image, XML …)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/documents", response_model=DocumentOut, status_code=201, openapi_extra=UPLOAD_BODY,
             responses={413: ERRORS[422]})
async def upload(
    request: Request, principal: CurrentEnterpriseDep, state: StateDep, session: SessionDep,
    title: Annotated[str | None, Query(max_length=200)] = None,
    doc_type: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$", examples=["inspection_report"])] = None,
    public: bool = False,
) -> DocumentOut:
    """Store a certificate, report or customs paper; records then cite its SHA-256."""
    tmp = state.settings.data_dir / "documents" / "uploads" / secrets.token_hex(8)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    try:
        with tmp.open("wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > state.api.max_document_bytes:
                    raise ApiError(413, "document_too_large",
                                   f"a document is at most {state.api.max_document_bytes} bytes")
                digest.update(chunk)
                f.write(chunk)
        if size == 0:
            raise ApiError(422, "empty_document", "the document is empty")
        sha = digest.hexdigest()
        existing = session.get(DocumentFile, sha)
        if existing is not None:
            if existing.uploaded_by != principal.enterprise_id and session.get(
                DocumentGrant, (sha, principal.enterprise_id)
            ) is None:
                session.add(DocumentGrant(sha256=sha, enterprise_id=principal.enterprise_id))
                session.commit()
            return _out(existing)
        dest = doc_path(state, sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    doc = DocumentFile(
        sha256=sha, size=size,
        content_type=(request.headers.get("content-type") or "application/octet-stream")[:100],
        title=title, doc_type=doc_type, uploaded_by=principal.enterprise_id, public=public,
    )
    session.add(doc)
    session.commit()
    session.refresh(doc)
    if state.resolver is not None:
        state.resolver.names_cache.clear()
    return _out(doc)


def _may_read(session: SessionDep, principal: OptionalPrincipalDep, doc: DocumentFile) -> bool:
    if doc.public:
        return True
    if principal is None:
        return False
    if principal.is_admin or principal.enterprise_id == doc.uploaded_by or principal.has(AUTHORITY_ROLES):
        return True
    return session.get(DocumentGrant, (doc.sha256, principal.enterprise_id)) is not None


def _get(session: SessionDep, principal: OptionalPrincipalDep, sha: str) -> DocumentFile:
    doc = session.get(DocumentFile, sha)
    if doc is None:
        raise not_found("unknown_document", f"no document {sha}")
    if not _may_read(session, principal, doc):
        if principal is None:
            raise ApiError(401, "not_authenticated", "this document is not public: authenticate")
        raise forbidden("no_right", "the document is not shared with this enterprise")
    return doc


@router.get("/documents/{sha256}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}})
def download(sha256: Sha, principal: OptionalPrincipalDep, state: StateDep, session: SessionDep) -> FileResponse:
    """The file: public documents for anyone, others for the uploader, grantees and authorities."""
    doc = _get(session, principal, sha256)
    return FileResponse(doc_path(state, sha256), media_type=doc.content_type,
                        headers={"ETag": f'"{sha256}"', "Cache-Control": "private, max-age=31536000, immutable"})


@router.get("/documents/{sha256}/meta", response_model=DocumentOut)
def meta(sha256: Sha, principal: OptionalPrincipalDep, session: SessionDep) -> DocumentOut:
    """A document's description, with the same rights as the file."""
    return _out(_get(session, principal, sha256))


@router.post("/documents/{sha256}/grants", status_code=204)
def grant(sha256: Sha, data: GrantIn, principal: CurrentEnterpriseDep, session: SessionDep) -> None:
    """The uploader lets another enterprise download a private document."""
    doc = session.get(DocumentFile, sha256)
    if doc is None:
        raise not_found("unknown_document", f"no document {sha256}")
    if doc.uploaded_by != principal.enterprise_id:
        raise forbidden("not_uploader", "only the uploader shares a document")
    if session.get(DocumentGrant, (sha256, data.enterprise_id)) is None:
        session.add(DocumentGrant(sha256=sha256, enterprise_id=data.enterprise_id))
        session.commit()
