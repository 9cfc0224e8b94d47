"""Upgrades: a database from any earlier schema, filled with plain SQL, upgrades with its records intact and usable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.app import Runtime, build_runtime, make_client
from bot.config import Settings
from bot.services.actions import ActionStatus
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, GENERAL, FakeSlack
from storage.db import make_engine, migrate
from tests.conftest import FixedClock

pytestmark = pytest.mark.empty_schema  # each test builds the schema from an earlier revision

VERSIONS = sorted(
    p.name.split("_")[0]
    for p in (Path(__file__).resolve().parent.parent / "storage" / "migrations" / "versions").glob("0*.py")
)
CREATED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
CONFIRM_BY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def at(engine: Engine, when: datetime) -> str:
    """A time as a SQL literal, the way each backend stores the app's UTC times."""
    if engine.dialect.name == "sqlite":
        return "'" + when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "'"
    return "'" + when.isoformat() + "'"


def run_sql(engine: Engine, script: str) -> None:
    """Plain SQL statements, one a line-group separated by ';'."""
    with engine.begin() as conn:
        for statement in filter(str.strip, script.split(";\n")):
            conn.execute(text(statement))


def first_release_records(engine: Engine) -> None:
    """A sheet signed by its requester, an open question, its history and reminders, as the first release wrote them."""
    t = lambda when: at(engine, when)  # noqa: E731
    snapshot = (
        '{"background": "Q1 campaign", "channel_id": "C_GENERAL", "confirm_by": "2026-11-27T10:00:00+00:00", '
        '"description": "A landing page", "due": "2026-12-10T10:00:00+00:00", "goal": "Sign-ups +20%", '
        '"priority": "high", "questions": [], "receiver_dept": "Engineering", "receiver_owner": "U_BOB", '
        '"requester_dept": "Marketing", "requester_owner": "U_ALICE", "resources": ""}'
    )
    run_sql(
        engine,
        f"""
INSERT INTO counter (team_id, prefix, year, value) VALUES ('T0001', 'RW', 2026, 1);
INSERT INTO requirement (team_id, code, revision, status, author_id, requester_dept, requester_owner, receiver_dept,
    receiver_owner, background, goal, description, priority, due_at, resources, confirm_by, channel_id, message_ts,
    change_reason, created_at, updated_at, confirmed_at)
  VALUES ('T0001', 'RW-2026-001', 1, 'awaiting', '{ALICE}', 'Marketing', '{ALICE}', 'Engineering', '{BOB}',
    'Q1 campaign', 'Sign-ups +20%', 'A landing page — 落地页 & <b>', 'high',
    {t(datetime(2026, 12, 10, 10, tzinfo=UTC))}, '', {t(CONFIRM_BY)}, '{GENERAL}', '1790000000.000100', NULL,
    {t(CREATED)}, {t(CREATED)}, NULL);
INSERT INTO requirement_revision (requirement_id, revision, content, created_by, created_at)
  VALUES (1, 1, '{snapshot}', '{ALICE}', {t(CREATED)});
INSERT INTO signature (requirement_id, revision, role, user_id, via, signed_at)
  VALUES (1, 1, 'requester', '{ALICE}', 'reaction', {t(CREATED + timedelta(minutes=5))});
INSERT INTO open_question (requirement_id, position, text, owner_id, deadline, answered_at, answered_by)
  VALUES (1, 0, 'Which API version?', '{CAROL}', {t(datetime(2026, 11, 28, 4, tzinfo=UTC))}, NULL, NULL);
INSERT INTO history (subject_type, subject_id, at, actor_id, action, detail)
  VALUES ('requirement', 1, {t(CREATED)}, '{ALICE}', 'created', '{{"revision": 1}}');
INSERT INTO history (subject_type, subject_id, at, actor_id, action, detail)
  VALUES ('requirement', 1, {t(CREATED + timedelta(minutes=5))}, '{ALICE}', 'signed',
          '{{"roles": ["requester"], "via": "reaction", "revision": 1}}');
INSERT INTO outbox (kind, subject, dedupe_key, payload, due_at, state, attempts, lease_until, claimed_by,
    last_error, sent_at, created_at)
  VALUES ('req.sign_reminder', 'req:1:{BOB}', 'req:1:r1:sign:{BOB}',
          '{{"requirement_id": 1, "revision": 1, "user_id": "{BOB}"}}', {t(CONFIRM_BY - timedelta(hours=2))},
          'pending', 0, NULL, NULL, NULL, NULL, {t(CREATED)});
INSERT INTO outbox (kind, subject, dedupe_key, payload, due_at, state, attempts, lease_until, claimed_by,
    last_error, sent_at, created_at)
  VALUES ('req.sign_reminder', 'req:1:{ALICE}', 'req:1:r1:sign:{ALICE}',
          '{{"requirement_id": 1, "revision": 1, "user_id": "{ALICE}"}}', {t(CONFIRM_BY - timedelta(hours=2))},
          'failed', 1, NULL, 'w1', 'account_inactive', NULL, {t(CREATED)})
""",
    )


@pytest.fixture
def slack(fake: FakeSlack) -> FakeSlack:
    """The fake Web API, with the sheet's message in #general."""
    return fake


def runtime_on(settings: Settings) -> Runtime:
    """The bot's services over the upgraded database (build_runtime upgrades too: a no-op by now)."""
    rt = build_runtime(
        settings, clock=FixedClock(datetime(2026, 11, 27, 8, 30, tzinfo=UTC)), client=make_client(settings)
    )
    rt.directory.load()
    return rt


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the empty test database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def version(engine: Engine) -> str:
    """The schema revision the database is at."""
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())


@pytest.mark.parametrize("start", VERSIONS[:-1])
def test_a_sheet_from_an_earlier_schema_is_intact_and_can_be_signed_after_the_upgrade(
    engine: Engine, settings: Settings, slack: FakeSlack, start: str
) -> None:
    migrate(engine, start)
    assert version(engine) == start
    first_release_records(engine)
    migrate(engine)
    assert version(engine) == VERSIONS[-1]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT code, status, description, receiver_owner FROM requirement")).one()
        assert tuple(row) == ("RW-2026-001", "awaiting", "A landing page — 落地页 & <b>", BOB)
        assert conn.execute(text("SELECT count(*) FROM history")).scalar() == 2
    rt = runtime_on(settings)
    try:
        services = rt.services
        req = services.requirements.get(1, with_history=True)
        assert (req.code, req.unsigned_owners, req.confirm_by) == ("RW-2026-001", [BOB], CONFIRM_BY)
        assert [q.text for q in req.questions] == ["Which API version?"]
        assert [h.action for h in req.history] == ["created", "signed"]
        # the reminder the old version scheduled is delivered by the new one, once
        report = rt.tick()
        assert (report.sent, report.failed) == (1, 0)
        dm = [c for c in slack.calls("chat.postMessage") if c.params["channel"] == BOB]
        assert len(dm) == 1 and "RW-2026-001" in dm[0].params["text"]
        # and the sheet can be signed: both signatures, confirmed, locked
        outcome = services.requirements.sign(1, user_id=BOB, via="button", now=services.now())
        assert outcome.confirmed_now and outcome.requirement.status.value == "confirmed"
        # the counter carried over: the next sheet gets the next number
        from bot.services.requirements import RequirementDraft

        draft = RequirementDraft(
            requester_dept="Ops",
            requester_owner=ALICE,
            receiver_dept="IT",
            receiver_owner=BOB,
            background="b",
            goal="g",
            description="d",
            priority="low",
            due=CONFIRM_BY + timedelta(days=10),
            confirm_by=CONFIRM_BY + timedelta(days=1),
            channel_id=GENERAL,
        )
        new = services.requirements.create(team_id="T0001", author_id=ALICE, draft=draft, now=services.now())
        assert new.code == "RW-2026-002"
        status = services.outbox.status()
        assert [(f["kind"], f["error"]) for f in status["failures"]] == [("req.sign_reminder", "account_inactive")]
    finally:
        rt.engine.dispose()


def test_meetings_and_action_items_from_their_first_schema_survive_the_upgrade(
    engine: Engine, settings: Settings, slack: FakeSlack
) -> None:
    first = next(v for v in VERSIONS if v >= "0003")  # the schema that introduced them
    migrate(engine, first)
    t = lambda when: at(engine, when)  # noqa: E731
    start = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    run_sql(
        engine,
        f"""
INSERT INTO counter (team_id, prefix, year, value) VALUES ('T0001', 'MTG', 2026, 1);
INSERT INTO counter (team_id, prefix, year, value) VALUES ('T0001', 'ACT', 2026, 1);
INSERT INTO meeting (team_id, code, title, goal, start_at, duration_minutes, location, materials, host_id,
    channel_id, message_ts, created_by, created_at, updated_at, decisions, notes, minutes_at, minutes_by, minutes_ts)
  VALUES ('T0001', 'MTG-2026-001', 'Q1 launch plan', 'Decide the date', {t(start)}, 60, 'Room 1', '', '{ALICE}',
    '{GENERAL}', '1790000000.000200', '{ALICE}', {t(CREATED)}, {t(CREATED)}, '["Launch on Dec 1"]', 'n',
    {t(start + timedelta(hours=1))}, '{ALICE}', '1790000000.000300');
INSERT INTO meeting_participant (meeting_id, user_id) VALUES (1, '{ALICE}');
INSERT INTO meeting_participant (meeting_id, user_id) VALUES (1, '{BOB}');
INSERT INTO agenda_item (meeting_id, position, topic, owner_id, minutes) VALUES (1, 0, 'Launch date', '{BOB}', 20);
INSERT INTO action_item (team_id, code, title, owner_id, creator_id, due_at, deliverable, status, blocked_reason,
    source_type, source_id, source_code, escalate_to, channel_id, message_ts, created_at, updated_at, done_at)
  VALUES ('T0001', 'ACT-2026-001', 'Write the launch post', '{BOB}', '{ALICE}', {t(CREATED + timedelta(days=10))}, '',
    'open', NULL, 'meeting', 1, 'MTG-2026-001', '{ALICE}', '{GENERAL}', NULL, {t(CREATED)}, {t(CREATED)}, NULL);
INSERT INTO history (subject_type, subject_id, at, actor_id, action, detail)
  VALUES ('action', 1, {t(CREATED)}, '{ALICE}', 'created', '{{"source": "MTG-2026-001"}}')
""",
    )
    migrate(engine)
    rt = runtime_on(settings)
    try:
        services = rt.services
        info = services.meetings.get(1)
        assert (info.code, info.title, info.decisions, set(info.attendees)) == (
            "MTG-2026-001",
            "Q1 launch plan",
            ("Launch on Dec 1",),
            {ALICE, BOB},
        )
        item = services.actions.get(1, with_history=True)
        assert (item.code, item.context, item.escalated_at, item.source_code) == (
            "ACT-2026-001",
            "",
            None,
            "MTG-2026-001",
        )
        item, changed = services.actions.set_status(1, user_id=BOB, status=ActionStatus.DONE, now=services.now())
        assert changed and item.status == ActionStatus.DONE
        assert [h.action for h in services.actions.get(1, with_history=True).history] == ["created", "status_changed"]
        assert [a.code for a in services.actions.for_source("meeting", 1)] == ["ACT-2026-001"]
    finally:
        rt.engine.dispose()


def test_the_upgraded_schema_is_exactly_the_models_schema(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    migrate(engine, VERSIONS[0])
    first_release_records(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
