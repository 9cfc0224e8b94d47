"""Forgetting one workspace for good: every row of every table that belongs to it, in one transaction.

A table belongs to a workspace through its own `team_id` column, or through the row it hangs off (a
signature through its requirement, an agenda line through its meeting, a history entry through its
record, an inbox effect through its inbox row). `PLAN` lists them all, children before their parents
(PostgreSQL checks foreign keys); a test walks `SQLModel.metadata` and fails when a table is added that
`PLAN` does not cover and `KEPT` does not name.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, Table, and_, delete, false, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (declares the tables on SQLModel.metadata)
from storage.export import TABLES as RECORDS  # history subject type → its record table

# Tables holding nothing of any one workspace: OAuth `state` values live for minutes and name no team; a store
# app's ticket belongs to the app (every organization's token is got with it).
KEPT = frozenset({"slack_oauth_states", "app_ticket"})

Where = Callable[[str], ColumnElement[bool]]


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _own(name: str) -> Where:
    """Rows of a table with a team_id column."""
    return lambda team_id: _table(name).c.team_id == team_id


def _ids(name: str, team_id: str) -> Select[tuple[int]]:
    table = _table(name)
    return select(table.c.id).where(table.c.team_id == team_id)


def _child(name: str, column: str, parent: str) -> Where:
    """Rows of a table without team_id, through the ids of the parent rows they belong to."""
    return lambda team_id: _table(name).c[column].in_(_ids(parent, team_id))


def _history(team_id: str) -> ColumnElement[bool]:
    """History entries of the workspace's records (they point at them by subject type and id)."""
    history = _table("history")
    kinds = [
        and_(history.c.subject_type == kind, history.c.subject_id.in_(_ids(model.__tablename__, team_id)))
        for kind, model in RECORDS.items()
    ]
    return or_(false(), *kinds)


# (table, which of its rows belong to a workspace), children before parents.
PLAN: tuple[tuple[str, Where], ...] = (
    ("signature", _child("signature", "requirement_id", "requirement")),
    ("open_question", _child("open_question", "requirement_id", "requirement")),
    ("requirement_revision", _child("requirement_revision", "requirement_id", "requirement")),
    ("meeting_participant", _child("meeting_participant", "meeting_id", "meeting")),
    ("agenda_item", _child("agenda_item", "meeting_id", "meeting")),
    ("minutes_ack", _child("minutes_ack", "meeting_id", "meeting")),
    ("incident_responder", _child("incident_responder", "incident_id", "incident")),
    ("incident_timeline", _child("incident_timeline", "incident_id", "incident")),
    ("history", _history),
    ("inbox_effect", _child("inbox_effect", "inbox_id", "inbox")),
    ("requirement", _own("requirement")),
    ("meeting", _own("meeting")),
    ("action_item", _own("action_item")),
    ("incident", _own("incident")),
    ("digest_subscription", _own("digest_subscription")),
    ("user_pref", _own("user_pref")),
    ("channel_pref", _own("channel_pref")),
    ("counter", _own("counter")),
    ("inbox", _own("inbox")),
    ("outbox", _own("outbox")),
    ("left_channel", _own("left_channel")),
    ("workspace", _own("workspace")),
    # slack_sdk's installation store: the workspace's own installs (an organization's install, stored
    # under its enterprise with no team, serves other workspaces too and is kept)
    ("slack_bots", _own("slack_bots")),
    ("slack_installations", _own("slack_installations")),
)

TABLES: tuple[str, ...] = tuple(name for name, _ in PLAN)


def stored(session: Session, team_id: str) -> dict[str, int]:
    """How many rows of each table belong to the workspace (what `forget` would delete)."""
    return {
        name: int(session.scalar(select(func.count()).select_from(_table(name)).where(where(team_id))) or 0)
        for name, where in PLAN
    }


def forget(session: Session, team_id: str) -> dict[str, int]:
    """Delete every row that belongs to the workspace, in the caller's transaction; rows deleted per table."""
    if not team_id:
        raise ValueError("a team ID is needed")  # "" is the team of rows from before workspaces: all of them
    deleted: dict[str, int] = {}
    for name, where in PLAN:
        result = session.execute(delete(_table(name)).where(where(team_id)))
        deleted[name] = int(getattr(result, "rowcount", 0) or 0)
    return deleted
