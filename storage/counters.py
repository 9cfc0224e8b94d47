"""Sequences for human-readable IDs."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import Counter


def next_value(session: Session, *, team_id: str, prefix: str, year: int) -> int:
    """Increment and return the sequence for (team, prefix, year), starting at 1."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Counter)
        .values(team_id=team_id, prefix=prefix, year=year, value=0)
        .on_conflict_do_nothing(index_elements=["team_id", "prefix", "year"])
    )
    # The UPDATE takes the row lock, so concurrent callers get distinct values.
    session.execute(
        update(Counter)
        .where(col(Counter.team_id) == team_id, col(Counter.prefix) == prefix, col(Counter.year) == year)
        .values(value=col(Counter.value) + 1)
    )
    value = session.scalar(
        select(col(Counter.value)).where(
            col(Counter.team_id) == team_id, col(Counter.prefix) == prefix, col(Counter.year) == year
        )
    )
    return int(value or 0)
