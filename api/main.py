"""The application: settings, lifespan (engine, chain, ledger, background workers), routers, errors."""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.config import ApiSettings
from api.errors import ApiError, from_shared
from api.outbox import OutboxWorker
from api.routes import (
    custody,
    documents,
    enterprises,
    events,
    health,
    lots,
    products,
    qr,
    recalls,
    resolver,
    scan,
    units,
)
from api.scans import ScanLog
from api.security import TokenSigner, load_admin_key
from api.signing import KeyBox, load_master_key
from api.state import AppState, TTLCache
from api.trace import Resolver
from silktrace.config import Settings, get_settings
from silktrace.db import create_db_engine, create_tables
from silktrace.errors import SilkTraceError

log = logging.getLogger("silktrace.api")

DESCRIPTION = """SilkTrace: quality-responsibility traceability of cross-border imported goods.

* **Enterprises** (importers, bonded warehouses, carriers, customs, market supervision) sign in with
  an API key (`Authorization: Bearer stk_…`) or a short-lived token from `POST /auth/token`, and
  record every step of the 1210 bonded import flow; writes answer once mined, with the transaction
  hash and the EPCIS event ids.
* **Consumers** scan a QR code: its GS1 Digital Link (`/01/{gtin}/10/{lot}/21/{serial}?sig=…`)
  answers with a page (zh/en), the trace as JSON (`Accept: application/json`) or the linkset
  (`linkType=all`). QR signatures: `/.well-known/silktrace/qr-keys.json`, docs/qr-signature.md.

Every error is `{"error": {"code", "message", "details"}}` with a 4xx status.
"""


def build_state(settings: Settings, api_settings: ApiSettings) -> AppState:
    """Engine, keys and chain connection (the chain may be unreachable: writes then answer 503)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not api_settings.resolver_base_url:
        api_settings = api_settings.model_copy(
            update={"resolver_base_url": f"http://{settings.api_host}:{settings.api_port}"}
        )
    engine = create_db_engine(settings.sql_url())
    create_tables(engine)
    master = load_master_key(
        api_settings.master_key.get_secret_value() if api_settings.master_key else None, settings.data_dir
    )
    admin = load_admin_key(
        api_settings.admin_key.get_secret_value() if api_settings.admin_key else None, settings.data_dir
    )
    state = AppState(
        settings=settings, api=api_settings, engine=engine, keybox=KeyBox(master),
        tokens=TokenSigner(master), admin_key=admin,
        chain_cache=TTLCache(api_settings.chain_cache_ttl_s),
        client_secret=hashlib.sha256(master + b"scan clients").digest(),
    )
    state.connect_chain()
    state.resolver = Resolver(state)
    state.scans = ScanLog(
        engine, max_kmh=api_settings.clone_max_kmh, sibling_factor=api_settings.clone_sibling_factor,
        min_scans=api_settings.clone_min_scans, flush_interval_s=api_settings.scan_flush_interval_s,
        cache_items=api_settings.scan_cache_items,
    )
    state.scans.hooks.append(state.resolver.sync_split)
    return state


def create_app(settings: Settings | None = None, api_settings: ApiSettings | None = None) -> FastAPI:
    """The FastAPI application (uvicorn factory)."""
    settings = settings or get_settings()
    api_settings = api_settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings, api_settings)
        app.state.silktrace = state
        # What start-up built (modules, routes, schemas) lives as long as the process: out of the
        # collector's reach, a full collection no longer walks it while scans wait.
        gc.collect()
        gc.freeze()
        state.scans.start()
        worker = None
        if api_settings.outbox_interval_s > 0:
            worker = OutboxWorker(state)
            worker.start()
        if state.chain_error:
            log.warning("chain not available at start-up: %s", state.chain_error)
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            state.scans.stop()
            state.resolver.close()
            state.engine.dispose()
            gc.unfreeze()  # an application rebuilt in the same process (tests) is collectable

    app = FastAPI(
        title="SilkTrace API", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
    )
    # The resolver first: scans are most of the traffic and routes are matched in order.
    app.include_router(resolver.router)
    for module in (health, enterprises, products, lots, events, custody, units, recalls, documents):
        app.include_router(module.router)
    app.include_router(qr.public)
    app.include_router(qr.router)
    app.include_router(scan.make_router())
    install_error_handlers(app)
    app.add_middleware(resolver.DigitalLinkFastPath, handlers=app.exception_handlers)
    return app


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as `{"error": {...}}` with its status; nothing escapes as a bare 500."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(SilkTraceError)
    async def shared_error(_: Request, exc: SilkTraceError) -> JSONResponse:
        err = from_shared(exc)
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
            for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(x) for x in first["loc"])
        err = ApiError(422, "validation_error", f"{where}: {first['msg']}", details)
        return JSONResponse(err.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated", 403: "forbidden"}
        err = ApiError(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
        return JSONResponse(err.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database error: %s", str(exc).splitlines()[0])
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            err = ApiError(503, "database_unavailable", "the database is not available; retry shortly")
        else:
            err = ApiError(409, "database_conflict", "the request conflicts with stored data")
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        err = ApiError(500, "internal_error", f"unexpected {type(exc).__name__}")
        return JSONResponse(err.body(), status_code=500)
