"""Queries through the driver's cursor, for the resolver's hot path."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection


def fetch_all(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Rows through the driver's cursor: the hot path skips SQLAlchemy's result machinery."""
    return list(_cursor(conn, sql, params).fetchall())


def _cursor(conn: Connection, sql: str, params: tuple[Any, ...]) -> Any:
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cur = raw.cursor()
    cur.execute(sql, params)
    return cur
