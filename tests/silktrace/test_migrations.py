"""The Alembic migrations create exactly the tables the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from silktrace.db import metadata


def test_migrations_match_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata())
    assert diff == [], "models changed: run `alembic revision --autogenerate -m ...`"


def test_upgrade_creates_every_table(engine) -> None:  # type: ignore[no-untyped-def]
    tables = set(inspect(engine).get_table_names())
    assert set(metadata().tables) | {"alembic_version"} <= tables
