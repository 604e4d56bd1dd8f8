"""SQL engines for SQLite (embedded default, WAL) and PostgreSQL (the scale path)."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned per backend: SQLite in WAL mode with a busy timeout, PostgreSQL pooled."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only power loss can lose
            # the last commits, and the indexer re-reads those blocks from the chain.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # 64 MiB of page cache (the default is 2 MiB): inserts into large random-keyed indexes
            # (scans, events) otherwise re-read their B-tree pages from the OS on every row.
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def metadata() -> Any:
    """The metadata of every table: the indexer's and the API's."""
    import indexer.schema  # noqa: F401 - registers the tables

    with contextlib.suppress(ImportError):  # the API package is optional for the indexer alone
        import api.models  # noqa: F401
    return SQLModel.metadata


def alembic_config() -> Any:
    """The project's Alembic configuration (migrations/ over every package's tables)."""
    from alembic.config import Config

    from silktrace.config import PROJECT_ROOT

    return Config(str(PROJECT_ROOT / "alembic.ini"))


def create_tables(engine: Engine) -> None:
    """Bring the database schema up to date with the Alembic migrations."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # API workers and the indexer may start together on an empty database.
            conn.execute(text("SELECT pg_advisory_xact_lock(7245189)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
