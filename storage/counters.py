"""Sequences for human-readable IDs."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import Counter


def next_value(session: Session, *, team_id: str, prefix: str, year: int) -> int:
    """Increment and return the sequence for (team, prefix, year), starting at 1.

    One statement: the upsert takes the row's lock (or, on SQLite, the database's write lock the
    transaction already holds), so concurrent callers get distinct values.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(Counter).values(team_id=team_id, prefix=prefix, year=year, value=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["team_id", "prefix", "year"], set_={"value": col(Counter.value) + 1}
    )
    return int(session.execute(stmt.returning(col(Counter.value))).scalar_one())
