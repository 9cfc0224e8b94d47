"""Tables. Datetime fields are timezone-aware and stored in UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel


class Counter(SQLModel, table=True):
    """Per-workspace, per-prefix, per-year sequence for human IDs like RW-2026-001."""

    __tablename__ = "counter"
    team_id: str = Field(primary_key=True, max_length=64)
    prefix: str = Field(primary_key=True, max_length=16)
    year: int = Field(primary_key=True)
    value: int = 0


class Requirement(SQLModel, table=True):
    """A requirement confirmation sheet (需求沟通与确认表); current revision's content."""

    __tablename__ = "requirement"
    __table_args__ = (
        UniqueConstraint("team_id", "code", name="uq_requirement_code"),
        # message first: Feishu's message IDs find a record without its chat, Slack's ts with its channel
        Index("ix_requirement_message_first", "message_ts", "channel_id"),
        Index("ix_requirement_channel_created", "channel_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=64)
    code: str = Field(max_length=32)
    revision: int = 1
    status: str = Field(default="awaiting", max_length=24)
    author_id: str = Field(max_length=64)
    requester_dept: str = Field(sa_column=Column(Text, nullable=False))
    requester_owner: str = Field(max_length=64, index=True)
    receiver_dept: str = Field(sa_column=Column(Text, nullable=False))
    receiver_owner: str = Field(max_length=64, index=True)
    background: str = Field(sa_column=Column(Text, nullable=False))
    goal: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    priority: str = Field(max_length=8)
    due_at: datetime
    resources: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    confirm_by: datetime
    channel_id: str = Field(max_length=64)
    message_ts: str | None = Field(default=None, max_length=64)
    change_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None


class Signature(SQLModel, table=True):
    """One owner's signature on one revision; a row per role (requester / receiver)."""

    __tablename__ = "signature"
    __table_args__ = (UniqueConstraint("requirement_id", "revision", "role", name="uq_signature_role"),)

    id: int | None = Field(default=None, primary_key=True)
    requirement_id: int = Field(foreign_key="requirement.id", index=True)
    revision: int
    role: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    via: str = Field(max_length=16)
    signed_at: datetime


class OpenQuestion(SQLModel, table=True):
    """A 待确认事项 line: a question with an owner and a feedback deadline."""

    __tablename__ = "open_question"

    id: int | None = Field(default=None, primary_key=True)
    requirement_id: int = Field(foreign_key="requirement.id", index=True)
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner_id: str = Field(max_length=64)
    deadline: datetime
    answered_at: datetime | None = None
    answered_by: str | None = Field(default=None, max_length=64)


class RequirementRevision(SQLModel, table=True):
    """The content of every revision, kept when a record is edited."""

    __tablename__ = "requirement_revision"
    __table_args__ = (UniqueConstraint("requirement_id", "revision", name="uq_requirement_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    requirement_id: int = Field(foreign_key="requirement.id", index=True)
    revision: int
    content: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime


class HistoryEntry(SQLModel, table=True):
    """Append-only log of state changes: who did what, when."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_subject", "subject_type", "subject_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=24)
    subject_id: int
    at: datetime
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=40)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class OutboxItem(SQLModel, table=True):
    """A piece of due work (a reminder, a notice): the database is the schedule."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe"),
        Index("ix_outbox_due", "state", "due_at"),
        Index("ix_outbox_subject", "subject"),
        Index("ix_outbox_team", "team_id", "state"),
        Index("ix_outbox_platform", "platform", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default="", max_length=64)  # whose token sends it; "" for rows from before workspaces
    platform: str = Field(default="slack", sa_column=Column(String(16), nullable=False, server_default="slack"))
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=64)
    dedupe_key: str = Field(max_length=160)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    due_at: datetime
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    lease_until: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = None
    created_at: datetime


class UserPref(SQLModel, table=True):
    """A person's own settings, overriding what Slack says about them."""

    __tablename__ = "user_pref"
    team_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    lang: str | None = Field(default=None, max_length=8)
    tz: str | None = Field(default=None, max_length=64)  # an IANA zone, where the messenger gives none
    updated_at: datetime


class ChannelPref(SQLModel, table=True):
    """A channel's settings: the language of what the bot posts there."""

    __tablename__ = "channel_pref"
    team_id: str = Field(primary_key=True, max_length=64)
    channel_id: str = Field(primary_key=True, max_length=64)
    lang: str | None = Field(default=None, max_length=8)
    updated_at: datetime


class Meeting(SQLModel, table=True):
    """A cross-department meeting: goal, time, agenda, and afterwards its minutes."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("team_id", "code", name="uq_meeting_code"),
        Index("ix_meeting_message_first", "message_ts", "channel_id"),
        Index("ix_meeting_minutes_first", "minutes_ts", "channel_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=64)
    code: str = Field(max_length=32)
    title: str = Field(sa_column=Column(Text, nullable=False))
    goal: str = Field(sa_column=Column(Text, nullable=False))
    start_at: datetime
    duration_minutes: int
    location: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    materials: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    host_id: str = Field(max_length=64, index=True)
    channel_id: str = Field(max_length=64)
    message_ts: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime
    updated_at: datetime
    decisions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON list
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    minutes_at: datetime | None = None
    minutes_by: str | None = Field(default=None, max_length=64)
    minutes_ts: str | None = Field(default=None, max_length=64)
    incident_id: int | None = Field(default=None, index=True)  # the incident this meeting reviews (复盘)


class MeetingParticipant(SQLModel, table=True):
    """Who is invited to a meeting."""

    __tablename__ = "meeting_participant"
    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=64, index=True)


class AgendaItem(SQLModel, table=True):
    """One agenda line: topic, owner, timebox."""

    __tablename__ = "agenda_item"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    position: int
    topic: str = Field(sa_column=Column(Text, nullable=False))
    owner_id: str = Field(max_length=64)
    minutes: int


class MinutesAck(SQLModel, table=True):
    """A participant acknowledged the minutes (✅ on the minutes message)."""

    __tablename__ = "minutes_ack"
    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=64)
    at: datetime


class ActionItem(SQLModel, table=True):
    """An action item (行动项): what, owner, due, deliverable, status; linked to its source."""

    __tablename__ = "action_item"
    __table_args__ = (
        UniqueConstraint("team_id", "code", name="uq_action_code"),
        Index("ix_action_owner_status", "owner_id", "status"),
        Index("ix_action_source", "source_type", "source_id"),
        Index("ix_action_channel", "channel_id", "created_at"),
        Index("ix_action_message", "message_ts", "channel_id"),  # a reaction or a button finds its card's item
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=64)
    code: str = Field(max_length=32)
    title: str = Field(sa_column=Column(Text, nullable=False))
    owner_id: str = Field(max_length=64)
    creator_id: str = Field(max_length=64)
    due_at: datetime
    deliverable: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="open", max_length=16)
    blocked_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source_type: str = Field(default="", max_length=16)
    source_id: int | None = None
    source_code: str = Field(default="", max_length=32)
    escalate_to: str | None = Field(default=None, max_length=64)
    channel_id: str = Field(default="", max_length=64)
    message_ts: str | None = Field(default=None, max_length=64)
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None = None
    context: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    escalated_at: datetime | None = None
    closed_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why "won't do"


class DigestSubscription(SQLModel, table=True):
    """A channel's weekly digest: which weekday and time, in which timezone."""

    __tablename__ = "digest_subscription"
    team_id: str = Field(primary_key=True, max_length=64)
    channel_id: str = Field(primary_key=True, max_length=64)
    weekday: int = 0  # Monday
    time_of_day: str = Field(default="09:00", max_length=5)
    tz: str = Field(default="UTC", max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime
    updated_at: datetime


class Incident(SQLModel, table=True):
    """An emergency (应急响应): who leads, what is known, where it is run, and how it ended."""

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("team_id", "code", name="uq_incident_code"),
        Index("ix_incident_channel", "channel_id"),
        Index("ix_incident_announcement", "announce_channel_id", "announce_ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=64)
    code: str = Field(max_length=32)
    title: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=8)
    status: str = Field(default="investigating", max_length=16)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    impact: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    commander_id: str = Field(max_length=64)
    comms_id: str | None = Field(default=None, max_length=64)
    declared_by: str = Field(max_length=64)
    declared_in: str = Field(default="", max_length=64)
    channel_id: str = Field(default="", max_length=64)
    channel_name: str = Field(default="", max_length=80)
    summary_ts: str | None = Field(default=None, max_length=64)
    announce_channel_id: str = Field(default="", max_length=64)
    announce_ts: str | None = Field(default=None, max_length=64)
    declared_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=64)
    escalated_at: datetime | None = None
    last_update_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=64)
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mitigated_at: datetime | None = None  # the first time it went to `monitoring`
    reopened_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    reopened_at: datetime | None = None  # the latest reopening
    created_at: datetime
    updated_at: datetime


class IncidentResponder(SQLModel, table=True):
    """Someone working on an incident besides its commander."""

    __tablename__ = "incident_responder"
    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=64)
    added_at: datetime


class IncidentTimeline(SQLModel, table=True):
    """One moment of an incident: declared, acknowledged, status, update, role, decision, 📌 message, resolved."""

    __tablename__ = "incident_timeline"
    __table_args__ = (Index("ix_incident_timeline", "incident_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    at: datetime
    actor_id: str = Field(max_length=64)
    kind: str = Field(max_length=24)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    message_ts: str | None = Field(default=None, max_length=64)


class InboxItem(SQLModel, table=True):
    """A request Slack delivered and was answered: stored before the answer, worked on by whoever claims it."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_inbox_dedupe"),
        Index("ix_inbox_claimable", "state", "next_attempt_at"),
        Index("ix_inbox_order", "order_key", "state"),
        Index("ix_inbox_platform", "platform", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default="", max_length=64)
    platform: str = Field(default="slack", sa_column=Column(String(16), nullable=False, server_default="slack"))
    kind: str = Field(max_length=80)
    dedupe_key: str | None = Field(default=None, max_length=200)  # Slack's retries and double clicks share one
    order_key: str | None = Field(default=None, max_length=120)  # rows about one message run in arrival order
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    done_at: datetime | None = None


class InboxEffect(SQLModel, table=True):
    """A record an inbox row created, written in the same transaction: a row run twice creates it once."""

    __tablename__ = "inbox_effect"

    inbox_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=40)
    record_id: int


class LeftChannel(SQLModel, table=True):
    """A channel the bot was removed from: reactions on the records there no longer reach it."""

    __tablename__ = "left_channel"

    team_id: str = Field(primary_key=True, max_length=64)
    channel_id: str = Field(primary_key=True, max_length=64)
    left_at: datetime


class Workspace(SQLModel, table=True):
    """A workspace coordbot has served: where its token comes from, and whether it is still installed.

    On Enterprise Grid a workspace may be served by its organization's install (`org_install`), whose token
    is stored under the organization rather than the workspace.
    """

    __tablename__ = "workspace"

    team_id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(default="slack", sa_column=Column(String(16), nullable=False, server_default="slack"))
    enterprise_id: str | None = Field(default=None, max_length=64, index=True)
    org_install: bool = False
    name: str = Field(default="", max_length=200)
    state: str = Field(default="active", max_length=16)  # active | uninstalled
    reason: str | None = Field(default=None, max_length=64)  # why it stopped: app_uninstalled, tokens_revoked
    installer_id: str | None = Field(default=None, max_length=64)
    installed_at: datetime | None = None
    changed_at: datetime


class AppTicket(SQLModel, table=True):
    """The latest ticket a messenger pushed to an app installable by many tenants (Feishu's store apps get
    one about hourly): with the app's secret it is what obtains the app's token, so every process reads it here."""

    __tablename__ = "app_ticket"

    platform: str = Field(primary_key=True, max_length=16)
    app_id: str = Field(primary_key=True, max_length=64)
    ticket: str = Field(max_length=512)
    received_at: datetime


# The tables slack_sdk's SQLAlchemy installation and OAuth state stores use (their `build_*_table` class
# methods), declared here so that migrations create exactly them; a test compares them with slack_sdk's.
def _install_columns() -> list[Column]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
    ]


def _bot_columns() -> list[Column]:
    return [
        Column("bot_token", String(200)),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", String(200)),
        Column("bot_token_expires_at", DateTime),
    ]


slack_installations = Table(
    "slack_installations",
    SQLModel.metadata,
    *_install_columns(),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_bot_columns(),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, server_default=func.now()),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

slack_bots = Table(
    "slack_bots",
    SQLModel.metadata,
    *_install_columns(),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_bot_columns(),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, server_default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
