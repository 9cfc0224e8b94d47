"""Queries for user and channel preferences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ChannelPref, UserPref


def user_langs(session: Session, team_id: str) -> dict[str, str]:
    """Every user's language override in a workspace."""
    rows = session.execute(
        select(col(UserPref.user_id), col(UserPref.lang)).where(col(UserPref.team_id) == team_id)
    ).all()
    return {u: lang for u, lang in rows if lang}


def user_tzs(session: Session, team_id: str) -> dict[str, str]:
    """Every user's own timezone in a workspace (where the messenger gives none)."""
    rows = session.execute(
        select(col(UserPref.user_id), col(UserPref.tz)).where(col(UserPref.team_id) == team_id)
    ).all()
    return {u: tz for u, tz in rows if tz}


def set_user_tz(session: Session, *, team_id: str, user_id: str, tz: str | None, now: datetime) -> None:
    """Store (or clear, with None) a user's timezone."""
    row = session.get(UserPref, (team_id, user_id))
    if row is None:
        session.add(UserPref(team_id=team_id, user_id=user_id, tz=tz, updated_at=now))
    else:
        row.tz, row.updated_at = tz, now
        session.add(row)


def channel_langs(session: Session, team_id: str) -> dict[str, str]:
    """Every channel's language setting in a workspace."""
    rows = session.execute(
        select(col(ChannelPref.channel_id), col(ChannelPref.lang)).where(col(ChannelPref.team_id) == team_id)
    ).all()
    return {c: lang for c, lang in rows if lang}


def set_user_lang(session: Session, *, team_id: str, user_id: str, lang: str | None, now: datetime) -> None:
    """Store (or clear, with None) a user's language."""
    row = session.get(UserPref, (team_id, user_id))
    if row is None:
        session.add(UserPref(team_id=team_id, user_id=user_id, lang=lang, updated_at=now))
    else:
        row.lang, row.updated_at = lang, now
        session.add(row)


def set_channel_lang(session: Session, *, team_id: str, channel_id: str, lang: str | None, now: datetime) -> None:
    """Store (or clear, with None) a channel's language."""
    row = session.get(ChannelPref, (team_id, channel_id))
    if row is None:
        session.add(ChannelPref(team_id=team_id, channel_id=channel_id, lang=lang, updated_at=now))
    else:
        row.lang, row.updated_at = lang, now
        session.add(row)
