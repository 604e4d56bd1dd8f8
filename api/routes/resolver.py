"""The GS1 Digital Link resolver: HTML for people, JSON for apps, the linkset, typed links."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import StateDep
from api.errors import ApiError
from api.routes.common import PUBLIC_ERRORS
from api.scans import client_hash, coarse
from api.schemas import CertificationInfo, Linkset, RecallStatus, TraceResponse
from api.state import AppState
from api.trace import dumps
from silktrace import gs1
from silktrace.errors import GS1Error

router = APIRouter(tags=["resolver"], responses=PUBLIC_ERRORS)

TEMPLATES = Environment(
    loader=FileSystemLoader(FsPath(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
GS1_VOC = "https://gs1.org/voc/"
LINK_TYPES = ("gs1:pip", "gs1:traceability", "gs1:recallStatus", "gs1:certificationInfo")

Gtin = Annotated[str, Path(pattern=r"^(\d{8}|\d{12,14})$", examples=["09312345000012"])]
LotCode = Annotated[str, Path(min_length=1, max_length=60, examples=["AU2026A"])]
Serial = Annotated[str, Path(min_length=1, max_length=60, examples=["000001"])]
Sig = Annotated[str | None, Query(max_length=200, description="QR signature (docs/qr-signature.md)")]
LinkType = Annotated[
    str | None,
    Query(alias="linkType", max_length=100,
          description="all | linkset | gs1:pip | gs1:traceability | gs1:recallStatus | gs1:certificationInfo"),
]
Lang = Annotated[str | None, Query(pattern=r"^(zh|en)$")]
Fmt = Annotated[str | None, Query(alias="format", pattern=r"^(json|html)$")]
Lat = Annotated[float | None, Query(ge=-90, le=90, description="coarse latitude of the scanner")]
Lon = Annotated[float | None, Query(ge=-180, le=180, description="coarse longitude of the scanner")]

TRACE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the trace (JSON), the linkset (linkType=all) or the HTML page",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TraceResponse"}},
            "application/linkset+json": {"schema": {"$ref": "#/components/schemas/Linkset"}},
            "text/html": {"schema": {"type": "string"}},
        },
    },
    307: {"description": "redirect to the target of the requested linkType"},
}


def _link(gtin: str, lot: str | None, serial: str | None, sig: str | None) -> gs1.DigitalLink:
    try:
        gtin = gs1.normalize_gtin(gtin)
        lot = gs1.check_cset82(lot, "lot") if lot is not None else None
        serial = gs1.check_cset82(serial, "serial") if serial is not None else None
        return gs1.DigitalLink(gtin=gtin, lot=lot, serial=serial, params=(("sig", sig),) if sig else ())
    except GS1Error as exc:
        raise ApiError(422, exc.code, exc.message) from exc


def _lang(request: Request, lang: str | None) -> str:
    if lang:
        return lang
    accept = request.headers.get("accept-language", "").lower()
    zh, en = accept.find("zh"), accept.find("en")
    if en >= 0 and (zh < 0 or en < zh):
        return "en"
    return "zh"


def _wants(request: Request, fmt: str | None) -> str:
    if fmt:
        return fmt
    accept = request.headers.get("accept", "")
    if "application/linkset+json" in accept:
        return "linkset"
    if "text/html" in accept:
        return "html"
    if "json" in accept:
        return "json"
    return "html"


def resolve(state: AppState, request: Request, link: gs1.DigitalLink, lat: float | None,
            lon: float | None, log_scan: bool = True) -> dict[str, Any]:
    """The trace, with the scan logged and the clone heuristics applied to items."""
    resolver = state.resolver
    with state.resolver.connection() as conn:
        trace = resolver.trace(conn, link)
        if link.kind == "item" and log_scan:
            now = time.time()
            ua = request.headers.get("user-agent", "")
            host = request.client.host if request.client else ""
            client = client_hash(state.client_secret, host, ua)
            lat, lon = coarse(lat), coarse(lon)
            delivered_at = None
            if trace["status"]["delivered"]:
                times = [s["time"] for s in trace["steps"] if s["step"] and s["step"]["code"] == 36]
                if times:
                    delivered_at = time.mktime(time.strptime(times[-1], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            lot_id = (trace.get("lot_info") or {}).get("lot_id")
            verdict = state.scans.check(conn, trace["subject_id"], lot_id, now, lat, lon, client,
                                        delivered_at)
            trace["status"]["clone_warning"] = verdict.as_dict()
            state.scans.record({
                "subject_id": trace["subject_id"], "lot_id": lot_id, "scanned_at": now,
                "client_hash": client, "lat": lat, "lon": lon,
                "signature_state": trace["status"]["signature"]["state"],
                "warning": bool(verdict.reasons),
            })
    return trace


def linkset(state: AppState, link: gs1.DigitalLink) -> dict[str, Any]:
    links = state.resolver.links(link)
    base = state.api.resolver_base_url.rstrip("/")
    entry: dict[str, Any] = {"anchor": base + link.path}
    for lt, targets in links.items():
        entry[GS1_VOC + lt.split(":", 1)[1]] = targets
    entry[GS1_VOC + "defaultLink"] = links["gs1:pip"]
    return {"linkset": [entry]}


def _json(body: Any, media_type: str = "application/json") -> Response:
    # Built by hand instead of through response_model: the hot path skips a second validation;
    # tests check the body against TraceResponse.
    return Response(dumps(body) if isinstance(body, dict) and "steps" in body else orjson.dumps(body),
                    media_type=media_type, headers={"Vary": "Accept, Accept-Language"})


def html_page(state: AppState, request: Request, trace: dict[str, Any], lang: str) -> HTMLResponse:
    q = dict(request.query_params)
    other = "en" if lang == "zh" else "zh"
    q["lang"] = other
    switch = request.url.path + "?" + "&".join(f"{k}={v}" for k, v in q.items() if k in ("sig", "lang"))
    page = TEMPLATES.get_template("trace.html").render(
        t=trace, lang=lang, switch_url=switch, other_lang=other,
        json_url=request.url.path + "?format=json" + (f"&sig={q['sig']}" if "sig" in q else ""),
    )
    return HTMLResponse(page, headers={"Vary": "Accept, Accept-Language", "Content-Language": lang})


async def answer(
    state: AppState, request: Request, link: gs1.DigitalLink, link_type: str | None, lang: str | None,
    fmt: str | None, lat: float | None, lon: float | None,
) -> Response:
    if link_type in ("all", "linkset"):
        return _json(linkset(state, link), "application/linkset+json")
    if link_type:
        targets = state.resolver.links(link).get(link_type) or state.resolver.links(link).get(
            "gs1:" + link_type.removeprefix(GS1_VOC))
        if not targets:
            raise ApiError(404, "link_type_not_found",
                           f"no link of type {link_type!r}; available: {', '.join(LINK_TYPES)}")
        return RedirectResponse(targets[0]["href"], status_code=307)
    wants = _wants(request, fmt)
    if wants == "linkset":
        return _json(linkset(state, link), "application/linkset+json")
    trace = resolve(state, request, link, lat, lon, log_scan=request.method == "GET")
    if wants == "json":
        return _json(trace)
    return html_page(state, request, trace, _lang(request, lang))


# The three Digital Link routes carry most of the traffic. Their parameters are declared in the
# OpenAPI document by hand and checked in `_query` with the same rules: FastAPI's per-parameter
# machinery cost more than the whole resolution.
_P_GTIN = {"name": "gtin", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": r"^(\d{8}|\d{12,14})$"}, "example": "09312345000012"}
_P_LOT = {"name": "lot", "in": "path", "required": True,
          "schema": {"type": "string", "minLength": 1, "maxLength": 60}, "example": "AU2026A"}
_P_SERIAL = {"name": "serial", "in": "path", "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": 60}, "example": "000001"}
_Q_COMMON = [
    {"name": "linkType", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100},
     "description": "all | linkset | gs1:pip | gs1:traceability | gs1:recallStatus | gs1:certificationInfo"},
    {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["zh", "en"]}},
    {"name": "format", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["json", "html"]}},
]
_Q_ITEM = [
    {"name": "sig", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200},
     "description": "QR signature (docs/qr-signature.md)"},
    *_Q_COMMON,
    {"name": "lat", "in": "query", "required": False,
     "schema": {"type": "number", "minimum": -90, "maximum": 90}, "description": "coarse latitude"},
    {"name": "lon", "in": "query", "required": False,
     "schema": {"type": "number", "minimum": -180, "maximum": 180}, "description": "coarse longitude"},
]
_GTIN_RE = re.compile(r"[0-9]{8}|[0-9]{12,14}")


def _bad(name: str, where: str, msg: str) -> ApiError:
    return ApiError(422, "validation_error", f"{where}.{name}: {msg}",
                    [{"loc": [where, name], "type": "value_error", "msg": msg}])


@dataclass(frozen=True, slots=True)
class Query_:
    sig: str | None = None
    link_type: str | None = None
    lang: str | None = None
    fmt: str | None = None
    lat: float | None = None
    lon: float | None = None


def _path(request: Request, name: str, max_len: int = 60) -> str:
    value = str(request.path_params.get(name, ""))
    if name == "gtin":
        if not _GTIN_RE.fullmatch(value):
            raise _bad(name, "path", "must be 8, 12, 13 or 14 digits")
    elif not 1 <= len(value) <= max_len:
        raise _bad(name, "path", f"must be 1 to {max_len} characters")
    return value


def _query(request: Request, item: bool) -> Query_:
    q = request.query_params
    out: dict[str, Any] = {}
    for name, key, limit in (("sig", "sig", 200), ("linkType", "link_type", 100)):
        v = q.get(name)
        if v is not None:
            if len(v) > limit:
                raise _bad(name, "query", f"at most {limit} characters")
            out[key] = v
    for name, key, allowed in (("lang", "lang", ("zh", "en")), ("format", "fmt", ("json", "html"))):
        v = q.get(name)
        if v is not None:
            if v not in allowed:
                raise _bad(name, "query", f"one of {', '.join(allowed)}")
            out[key] = v
    for name, bound in (("lat", 90.0), ("lon", 180.0)):
        v = q.get(name)
        if v is not None and item:
            try:
                f = float(v)
            except ValueError:
                raise _bad(name, "query", "a number") from None
            if not -bound <= f <= bound or f != f:
                raise _bad(name, "query", f"between -{bound:g} and {bound:g}")
            out[name] = f
    return Query_(**out)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.silktrace
    return state


@router.get("/01/{gtin}/10/{lot}/21/{serial}", responses=TRACE_RESPONSES, response_class=Response,
            openapi_extra={"parameters": [_P_GTIN, _P_LOT, _P_SERIAL, *_Q_ITEM]})
async def resolve_item(request: Request) -> Response:
    """Resolve an item's Digital Link (what its QR code holds)."""
    q = _query(request, item=True)
    link = _link(_path(request, "gtin"), _path(request, "lot"), _path(request, "serial"), q.sig)
    return await answer(_state(request), request, link, q.link_type, q.lang, q.fmt, q.lat, q.lon)


@router.get("/01/{gtin}/10/{lot}", responses=TRACE_RESPONSES, response_class=Response,
            openapi_extra={"parameters": [_P_GTIN, _P_LOT, *_Q_COMMON]})
async def resolve_lot(request: Request) -> Response:
    """Resolve a lot's Digital Link."""
    q = _query(request, item=False)
    link = _link(_path(request, "gtin"), _path(request, "lot"), None, None)
    return await answer(_state(request), request, link, q.link_type, q.lang, q.fmt, None, None)


@router.get("/01/{gtin}", responses=TRACE_RESPONSES, response_class=Response,
            openapi_extra={"parameters": [_P_GTIN, *_Q_COMMON]})
async def resolve_product(request: Request) -> Response:
    """Resolve a product's Digital Link (GTIN only)."""
    q = _query(request, item=False)
    link = _link(_path(request, "gtin"), None, None, None)
    return await answer(_state(request), request, link, q.link_type, q.lang, q.fmt, None, None)


class DigitalLinkFastPath:
    """ASGI middleware that answers GET on a Digital Link (most of the traffic: every scan) with
    the same handlers as the routes above, without FastAPI's router and dependency machinery,
    which cost a scan more than the resolution itself. HEAD is answered too (link checkers and
    resolver conformance tools use it), without logging a scan. Anything else goes on to the app.

    Errors are turned into responses by the application's own exception handlers, so a scan fails
    exactly as it would through the route; an unexpected one reaches the outer error middleware.
    """

    _ROUTES = (
        (re.compile(r"/01/([^/]+)/10/([^/]+)/21/([^/]+)"), ("gtin", "lot", "serial"), resolve_item),
        (re.compile(r"/01/([^/]+)/10/([^/]+)"), ("gtin", "lot"), resolve_lot),
        (re.compile(r"/01/([^/]+)"), ("gtin",), resolve_product),
    )

    def __init__(self, app: ASGIApp, handlers: dict[Any, Any]) -> None:
        self.app = app
        self.handlers = handlers  # the FastAPI application's exception handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
                and scope.get("root_path", "") == ""):
            path = scope["path"]
            for pattern, names, endpoint in self._ROUTES:
                m = pattern.fullmatch(path)
                if m is not None:
                    scope["path_params"] = dict(zip(names, m.groups(), strict=True))
                    request = Request(scope, receive)
                    try:
                        response = await endpoint(request)
                    except Exception as exc:
                        handler = self._handler(exc)
                        if handler is None:
                            raise
                        response = await handler(request, exc)
                    await response(scope, receive, send if scope["method"] == "GET" else _no_body(send))
                    return
        await self.app(scope, receive, send)

    def _handler(self, exc: Exception) -> Any:
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None  # left to the outer error middleware, as for any route
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None


def _no_body(send: Send) -> Send:
    """The response's headers (Content-Length included) without its body, for HEAD."""

    async def head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head


@router.get("/trace/01/{gtin}/10/{lot}/21/{serial}", response_model=TraceResponse)
async def trace_item(
    gtin: Gtin, lot: LotCode, serial: Serial, request: Request, state: StateDep, sig: Sig = None,
    lat: Lat = None, lon: Lon = None,
) -> Response:
    """gs1:traceability target: the item's trace as JSON."""
    return _json(resolve(state, request, _link(gtin, lot, serial, sig), lat, lon))


@router.get("/pages/01/{gtin}/10/{lot}/21/{serial}", response_class=Response,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                             "description": "the consumer page"}})
async def page_item(
    gtin: Gtin, lot: LotCode, serial: Serial, request: Request, state: StateDep, sig: Sig = None,
    lang: Lang = None,
) -> Response:
    """gs1:pip target: the consumer page (zh/en)."""
    trace = resolve(state, request, _link(gtin, lot, serial, sig), None, None)
    return html_page(state, request, trace, _lang(request, lang))


@router.get("/recall-status/01/{gtin}/10/{lot}/21/{serial}", response_model=RecallStatus)
async def recall_status(gtin: Gtin, lot: LotCode, serial: Serial, state: StateDep) -> RecallStatus:
    """gs1:recallStatus target: whether the item (its lot, its units) is recalled."""
    link = _link(gtin, lot, serial, None)
    with state.resolver.connection() as conn:
        trace = state.resolver.trace(conn, link)
    recalls = []
    open_: dict[str, dict[str, Any]] = {}
    for s in trace["steps"]:
        if s["action"] == "recall":
            open_[s["via"]] = {
                "subject_id": trace["subject_id"] if s["via"] == "item" else (
                    trace["lot_info"]["lot_id"] if s["via"] == "lot" else s["via"]),
                "via": s["via"], "recalled_by": s["enterprise"], "recalled_at": s["time"],
                "reason_hash": s["epcis_hash"], "lifted": False, "lifted_at": None,
            }
            recalls.append(open_[s["via"]])
        elif s["action"] == "lift_recall" and s["via"] in open_:
            open_.pop(s["via"]).update(lifted=True, lifted_at=s["time"])
    return RecallStatus(uri=trace["uri"], recalled=trace["status"]["recalled"], recalls=recalls)  # type: ignore[arg-type]


@router.get("/certifications/01/{gtin}/10/{lot}/21/{serial}", response_model=CertificationInfo)
async def certifications(gtin: Gtin, lot: LotCode, serial: Serial, state: StateDep) -> CertificationInfo:
    """gs1:certificationInfo target: every document the item's trace cites (hashes; public ones linked)."""
    link = _link(gtin, lot, serial, None)
    with state.resolver.connection() as conn:
        trace = state.resolver.trace(conn, link)
    seen: dict[str, Any] = {}
    for s in trace["steps"]:
        for d in s["documents"]:
            seen.setdefault(d["sha256"], d)
    return CertificationInfo(uri=trace["uri"], documents=list(seen.values()))


@router.get("/.well-known/gs1resolver", response_class=JSONResponse)
async def resolver_description(state: StateDep) -> dict[str, Any]:
    """The resolver's description document."""
    return {
        "name": "SilkTrace resolver",
        "resolverRoot": state.api.resolver_base_url,
        "supportedPrimaryKeys": ["gtin"],
        "supportedLinkType": [GS1_VOC + t.split(":")[1] for t in LINK_TYPES],
        "linkTypeDefaultCanBeLinkset": True,
        "qrSignatureKeys": state.api.resolver_base_url.rstrip("/") + "/.well-known/silktrace/qr-keys.json",
    }




@router.get("/linkset/01/{gtin}/10/{lot}/21/{serial}", response_model=Linkset, response_class=Response,
            responses={200: {"content": {"application/linkset+json": {
                "schema": {"$ref": "#/components/schemas/Linkset"}}}}})
async def linkset_item(gtin: Gtin, lot: LotCode, serial: Serial, state: StateDep, sig: Sig = None) -> Response:
    """The item's linkset (same as linkType=all)."""
    return _json(linkset(state, _link(gtin, lot, serial, sig)), "application/linkset+json")
