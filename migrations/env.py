"""Alembic environment: the indexer's and the API's tables, on SQLite or PostgreSQL."""

from __future__ import annotations

from alembic import context

from silktrace.config import get_settings
from silktrace.db import create_db_engine, metadata

target_metadata = metadata()


def run_migrations_offline() -> None:
    context.configure(
        url=get_settings().sql_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(get_settings().sql_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    # Batch mode lets ALTER TABLE work on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
