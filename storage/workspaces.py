"""Queries for the workspaces coordbot serves: seen, installed, uninstalled, and forgetting one for good."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import AppTicket, OutboxItem, Workspace

__all__ = ["Workspace"]
from storage.outbox import HELD, PENDING, platform_of

ACTIVE, UNINSTALLED = "active", "uninstalled"


def get(session: Session, team_id: str) -> Workspace | None:
    """The workspace with this ID, if coordbot has served it."""
    return session.get(Workspace, team_id)


def seen(
    session: Session, *, team_id: str, enterprise_id: str | None, org_install: bool, now: datetime, name: str = ""
) -> Workspace:
    """Remember a workspace a request came from (and whose install serves it); returns its row."""
    row = session.get(Workspace, team_id)
    if row is None:
        row = Workspace(
            team_id=team_id,
            platform=platform_of(team_id),
            enterprise_id=enterprise_id,
            org_install=org_install,
            name=name,
            changed_at=now,
        )
        session.add(row)
    elif (row.enterprise_id, row.org_install) != (enterprise_id, org_install) or (name and row.name != name):
        row.enterprise_id, row.org_install = enterprise_id, org_install
        row.name = name or row.name
        row.changed_at = now
    return row


def installed(
    session: Session,
    *,
    team_id: str,
    enterprise_id: str | None,
    org_install: bool,
    name: str,
    installer_id: str | None,
    now: datetime,
) -> int:
    """Mark a workspace installed (again); its held due work goes back to pending. Returns rows resumed."""
    row = seen(session, team_id=team_id, enterprise_id=enterprise_id, org_install=org_install, now=now, name=name)
    row.state, row.reason = ACTIVE, None
    row.installer_id, row.installed_at, row.changed_at = installer_id, now, now
    teams = [team_id]
    if org_install and enterprise_id:
        teams = org_teams(session, enterprise_id)
        session.execute(
            update(Workspace)
            .where(col(Workspace.enterprise_id) == enterprise_id, col(Workspace.org_install).is_(True))
            .values(state=ACTIVE, reason=None, changed_at=now)
        )
    result = session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.team_id).in_(teams), col(OutboxItem.state) == HELD)
        .values(state=PENDING, last_error=None, attempts=0)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def org_teams(session: Session, enterprise_id: str) -> list[str]:
    """The workspaces served through an organization's install."""
    return list(
        session.scalars(
            select(col(Workspace.team_id)).where(
                col(Workspace.enterprise_id) == enterprise_id, col(Workspace.org_install).is_(True)
            )
        ).all()
    )


def enterprise_teams(session: Session, enterprise_id: str) -> list[str]:
    """Every workspace of an organization, whichever install serves it."""
    return list(session.scalars(select(col(Workspace.team_id)).where(col(Workspace.enterprise_id) == enterprise_id)))


def uninstalled(
    session: Session, *, team_id: str | None, enterprise_id: str | None, reason: str, now: datetime
) -> tuple[list[str], int]:
    """Mark a workspace (or every workspace an organization's install serves) uninstalled and hold its pending
    due work with the reason. Returns the workspaces and the number of rows held."""
    if team_id:
        teams = [team_id]
    elif enterprise_id:
        teams = org_teams(session, enterprise_id)
    else:
        return [], 0
    session.execute(
        update(Workspace)
        .where(col(Workspace.team_id).in_(teams))
        .values(state=UNINSTALLED, reason=reason, changed_at=now)
    )
    result = session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.team_id).in_(teams), col(OutboxItem.state) == PENDING)
        .values(state=HELD, last_error=reason)
    )
    return teams, int(getattr(result, "rowcount", 0) or 0)


def all_workspaces(session: Session) -> list[Workspace]:
    """Every workspace, oldest change first."""
    return list(session.scalars(select(Workspace).order_by(col(Workspace.changed_at))).all())


def held_counts(session: Session) -> dict[str, int]:
    """Held outbox rows by workspace."""
    rows = session.execute(
        select(col(OutboxItem.team_id), func.count())
        .where(col(OutboxItem.state) == HELD)
        .group_by(col(OutboxItem.team_id))
    ).all()
    return {str(t): int(n) for t, n in rows}


def is_active(session: Session, team_id: str) -> bool:
    """Whether the workspace may be sent to (unknown workspaces are: single-workspace mode never records one)."""
    row = session.get(Workspace, team_id)
    return row is None or row.state == ACTIVE


def app_ticket(session: Session, *, platform: str, app_id: str) -> AppTicket | None:
    """The latest ticket pushed to a store app, if one arrived."""
    return session.get(AppTicket, (platform, app_id))


def keep_app_ticket(session: Session, *, platform: str, app_id: str, ticket: str, now: datetime) -> None:
    """Keep the ticket just pushed to a store app, in place of the one before."""
    row = session.get(AppTicket, (platform, app_id))
    if row is None:
        session.add(AppTicket(platform=platform, app_id=app_id, ticket=ticket, received_at=now))
    else:
        row.ticket, row.received_at = ticket, now
