"""Idempotency keys: a request Slack delivers twice is processed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ProcessedEvent

KEY_MAX = 200


def claim(session: Session, *, key: str, at: datetime) -> bool:
    """Insert the key unless it exists: True for the first claimer, False for every later one."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (insert(ProcessedEvent).values(key=key[:KEY_MAX], at=at)
            .on_conflict_do_nothing(index_elements=["key"]).returning(col(ProcessedEvent.key)))
    return session.execute(stmt).first() is not None  # no row back: someone claimed it first


def release(session: Session, *, key: str) -> None:
    """Forget a key, so the same request may be processed again (it was answered with errors)."""
    session.execute(delete(ProcessedEvent).where(col(ProcessedEvent.key) == key[:KEY_MAX]))


def prune(session: Session, *, before: datetime) -> int:
    """Forget keys claimed before `before`; Slack stops retrying long before."""
    result = session.execute(delete(ProcessedEvent).where(col(ProcessedEvent.at) < before))
    return int(getattr(result, "rowcount", 0) or 0)
