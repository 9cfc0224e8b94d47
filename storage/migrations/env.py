"""Alembic environment: runs on the connection the caller hands over."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Upgrade using the connection in config.attributes, or one made from the URL."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        from storage.db import normalize_url

        engine = create_engine(normalize_url(context.config.get_main_option("sqlalchemy.url") or ""))
        with engine.begin() as conn:
            _run(conn)
        return
    _run(connection)


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write SQLModel's string type as SQLAlchemy's, so a new migration needs no sqlmodel import."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
