"""Shared steps for tests that drive the bot like a user would."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from bot.app import Runtime
from bot.config import Settings
from bot.errors import NotFound
from bot.people import Member
from bot.services import Services
from bot.services.actions import ActionDraft, ActionInfo
from bot.services.incidents import IncidentInfo
from bot.services.meetings import ActionDraftLine, MeetingDraft, MeetingInfo, MinutesDraft
from bot.services.requirements import QuestionDraft, RequirementDraft
from handlers import actions as action_handlers
from handlers import meeting as meeting_handlers
from handlers.blocks import requirement as requirement_blocks
from handlers.blocks.common import ModalMeta
from handlers.blocks.home import MAX_BLOCKS
from handlers.blocks.incident import Ids as IncidentIds
from handlers.blocks.meeting import Ids as MeetingIds
from handlers.sandbox.driver import Reply, view_state
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage.db import make_engine, make_session_scope, migrate
from storage.models import HistoryEntry, Incident, OutboxItem, Requirement
from tests.conftest import START, Bot, FixedClock

SHEET_VALUES: dict[str, Any] = {
    "requester_dept": "Marketing",
    "receiver_dept": "Engineering",
    "receiver_owner": BOB,
    "background": "Q1 campaign needs a landing page.",
    "goal": "Sign-ups +20% by March.",
    "description": "A landing page with a sign-up form and analytics.",
    "priority": "high",
    "due": "2026-12-10",
}


def open_modal(bot: Bot, *, user: str = ALICE, channel: str = GENERAL) -> dict[str, Any]:
    """Run /requirement and return the opened view."""
    before = len(bot.fake.calls("views.open"))
    reply = bot.slack.slash("/requirement", "", user=user, channel=channel)
    assert reply.status == 200, reply.body
    call = bot.fake.wait_for("views.open", before + 1)[-1]
    assert call.error is None, call.error
    return dict(call.params["view"])


def create_sheet(bot: Bot, *, user: str = ALICE, channel: str = GENERAL, **values: Any) -> dict[str, Any]:
    """Open the modal, submit it, and return the posted sheet message."""
    open_modal(bot, user=user, channel=channel)
    posted_before = len(bot.fake.calls("chat.postMessage"))
    reply = bot.slack.submit_view({**SHEET_VALUES, **values}, user=user)
    assert reply.status == 200, reply.body
    assert reply.json() is None, reply.body  # closed, no errors
    call = bot.fake.wait_for("chat.postMessage", posted_before + 1)[-1]
    assert call.response is not None
    message = bot.fake.message(call.params["channel"], call.response["ts"])
    assert message is not None
    wait_attached(bot, message["ts"])
    return message


def wait_attached(bot: Bot, ts: str) -> Requirement:
    """Wait until the record knows its message (the listener stores it after posting)."""
    import time

    deadline = time.time() + 5
    while time.time() < deadline:
        with bot.runtime.services.session_scope() as s:
            row = s.scalars(select(Requirement).where(col(Requirement.message_ts) == ts)).first()
            if row is not None:
                return row
        time.sleep(0.02)
    raise AssertionError(f"no requirement attached to message {ts}")


def record(bot: Bot, code: str = "RW-2026-001") -> Requirement:
    """The stored requirement by code."""
    with bot.runtime.services.session_scope() as s:
        row = s.scalars(select(Requirement).where(col(Requirement.code) == code)).one()
        return row


def history_actions(bot: Bot, requirement_id: int) -> list[str]:
    """The actions in a record's history, oldest first."""
    with bot.runtime.services.session_scope() as s:
        return list(
            s.scalars(
                select(col(HistoryEntry.action))
                .where(col(HistoryEntry.subject_id) == requirement_id)
                .order_by(col(HistoryEntry.id))
            ).all()
        )


def block_text(message: dict[str, Any]) -> str:
    """All the text in a message's blocks, flattened."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(out)


def wait_until(predicate: Any, timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until predicate() is truthy (a record that is not stored yet counts as not yet)."""
    import time

    from bot.errors import NotFound

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
        except NotFound:
            value = None
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def settle(bot: Bot, quiet: float = 0.15) -> int:
    """Wait until the bot has made no Web API call for `quiet` seconds (its work so far is done)."""
    import time

    seen = -1
    while (now := len(bot.fake.calls())) != seen:
        seen = now
        time.sleep(quiet)
    return seen


# -- meetings (test_meetings) ---------------------------------------------------------------------------------


MEETING: dict[str, Any] = {
    "title": "Q1 launch plan",
    "goal": "Decide the launch date and owners",
    "start": "2026-12-03 10:00",
    "duration_minutes": "60",
    "participants": [ALICE, BOB, DAVE],
    "materials": "https://docs.example.com/plan",
    "agenda": "Launch date — @bob — 20 min\nBudget — <@U_DAVE> — 15 min\nRisks — 10分钟",
}
"""The /meeting form's values: an hour with Alice, Bob and Dave a week after the test clock's Thursday."""


def schedule(bot: Bot, *, user: str = ALICE, **values: Any) -> dict[str, Any]:
    """Run /meeting, submit the modal, return the posted card."""
    before = len(bot.fake.calls("views.open"))
    assert bot.slack.slash("/meeting", "", user=user).status == 200
    bot.fake.wait_for("views.open", before + 1)
    posted = len([c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == GENERAL])
    reply = bot.slack.submit_view({**MEETING, **values}, user=user)
    assert reply.status == 200 and reply.json() is None, reply.body
    call = wait_until(
        lambda: [
            c
            for c in bot.fake.calls("chat.postMessage")
            if c.params["channel"] == GENERAL and not c.params.get("thread_ts")
        ][posted:],
        what="card",
    )[0]
    wait_until(lambda: bot.runtime.services.meetings.by_message(GENERAL, call.response["ts"]), what="card stored")
    return bot.fake.message(GENERAL, call.response["ts"]) or {}


def record_minutes(bot: Bot, card: dict[str, Any], *, user: str, **values: Any) -> Any:
    """Press Record minutes on the card and submit the minutes modal."""
    opened = len(bot.fake.calls("views.open"))
    bot.slack.click(MeetingIds.RECORD_MINUTES, user=user, message=card)
    bot.fake.wait_for("views.open", opened + 1)
    return bot.slack.submit_view(values, user=user, callback_id=MeetingIds.MINUTES_MODAL)


# -- incidents (test_incidents) -------------------------------------------------------------------------------


DECLARATION: dict[str, Any] = {
    "title": "Checkout is down",
    "severity": "SEV1",
    "description": "Payments fail with 502 since 13:55.",
    "impact": "All web customers cannot pay <!channel> & co",
    "commander": ALICE,
    "responders": [DAVE],
}
"""The /incident form's values: a SEV1 led by Alice, with Dave responding."""


def declare(bot: Bot, *, user: str = BOB, text: str = "", timeout: float = 5.0, **values: Any) -> IncidentInfo:
    """Run /incident, submit the modal and wait until the incident is announced; return it."""
    before = len(bot.fake.calls("views.open"))
    assert bot.slack.slash("/incident", text, user=user).status == 200
    bot.fake.wait_for("views.open", before + 1)
    with bot.runtime.services.session_scope() as session:
        n = len(session.scalars(select(Incident)).all()) + 1
    reply = bot.slack.submit_view({**DECLARATION, **values}, user=user, callback_id=IncidentIds.MODAL)
    assert reply.status == 200 and reply.json() is None, reply.body

    def announced() -> IncidentInfo | None:
        try:
            info = bot.runtime.services.incidents.get(n)
        except NotFound:
            return None
        return info if info.announce_ts and info.summary_ts else None

    return wait_until(announced, timeout=timeout, what="the announcement")


# -- reminders (test_reminders) -------------------------------------------------------------------------------


def outbox_rows(runtime: Runtime) -> list[OutboxItem]:
    """Every outbox row."""
    with runtime.services.session_scope() as s:
        return list(s.scalars(select(OutboxItem).order_by(col(OutboxItem.id))).all())


# -- forms (test_properties) ----------------------------------------------------------------------------------


NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
"""The test clock's moment the forms are read at (Thursday 2026-11-26 14:00 in Shanghai)."""
TZ = "Asia/Shanghai"
"""The timezone the forms are read in."""
MEMBERS = [
    Member("U_ALICE", "alice", "", "Alice Chen", "Asia/Shanghai", "zh-CN"),
    Member("U_BOB", "bob", "", "Bob Smith", "America/New_York", "en-US"),
    Member("U_CAROL", "carol", "", "Carol Li", "UTC", "en-US"),
    Member("U_CAROL2", "carol.l", "carol", "Carol Lee", "UTC", "en-US"),  # two Carols: "@carol" is ambiguous
    Member("U_BOT", "coordbot", "", "Coordbot", "UTC", None, is_bot=True),
    Member("U_GONE", "gone", "", "Gone Person", "UTC", None, deleted=True),
]
"""The workspace the forms are read against; "@carol" is ambiguous, the bot and a deleted user are listed."""


SHEET = {
    "requester_dept": "Marketing",
    "receiver_dept": "Engineering",
    "receiver_owner": "U_BOB",
    "background": "Q1 campaign",
    "goal": "Sign-ups +20%",
    "description": "A landing page",
    "priority": "high",
    "due": "2026-12-10",
    "open_questions": "Which API? — @bob — 2026-12-01 12:00",
    "confirm_by": "tomorrow 6pm",
}
"""A requirement form every field of which reads."""


def _state(view: Any, valid: dict[str, Any]) -> dict[str, Any]:
    """The view state Slack would send for `view` filled in with `valid`."""
    return dict(view_state(view.to_dict(), valid)["values"])


REQUIREMENT_STATE = _state(
    requirement_blocks.modal("en", meta=ModalMeta("C_GENERAL"), user_id="U_ALICE", now=NOW, tz=TZ, members=MEMBERS),
    SHEET,
)
"""The state of a valid requirement modal, as Slack sends it on submit."""


MINUTES_STATE = {
    f: {"value": {"type": "plain_text_input", "value": v}}
    for f, v in (
        ("decisions", "Launch on Dec 1"),
        ("action_items", "Write the post — @bob — 2026-12-01 — a post"),
        ("notes", ""),
    )
}
"""The state of a valid minutes modal, as Slack sends it on submit."""


# -- languages (test_languages) -------------------------------------------------------------------------------


USER_TEXT = "①②③"
"""What a person typed: no letters, so any letter left must come from the bot."""
CATALOG_TEXT = re.compile(r"⟦[^⟦⟧]*⟧")
"""Text from the pseudo catalog, which brackets every string."""
STRIP = [
    re.compile(r"<@[A-Z0-9_]+>|<#[A-Z0-9_]+>"),  # mentions
    re.compile(r"<!date\^[^>]*>"),  # dates each reader sees in local time
    re.compile(r"<https?://[^>]*>"),  # links
    re.compile(r"RW-\d{4}-\d+"),  # record IDs
    re.compile(r"English|中文"),  # language names shown in their own language
]
"""What may carry letters outside the catalog: mentions, dates, links, record IDs, language names."""


def strings(node: Any) -> list[str]:
    """Every visible text in a Block Kit payload."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                out.append(value)
            elif key not in (
                "action_id",
                "block_id",
                "value",
                "callback_id",
                "private_metadata",
                "type",
                "initial_user",
                "initial_conversation",
                "style",
                "initial_value",
            ):
                out.extend(strings(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(strings(item))
    return out


def leftovers(texts: list[str]) -> list[str]:
    """Text with letters that is not catalog text, user text, a mention, a date, a link or an ID."""
    bad = []
    for s in texts:
        rest = s
        while (inner := CATALOG_TEXT.sub("", rest)) != rest:  # catalog text, innermost first
            rest = inner
        for pattern in STRIP:
            rest = pattern.sub("", rest)
        if re.search(r"[^\W\d_]", rest.replace(USER_TEXT, "")):
            bad.append(s)
    return bad


# -- digest (test_digest) -------------------------------------------------------------------------------------


SHANGHAI = ZoneInfo("Asia/Shanghai")
"""The timezone of the digest tests' times."""
TEAM = "T0001"
"""The workspace the digest tests' records are created in."""
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
"""The first Monday 09:00 after the test clock's Thursday."""


def sh(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    """A Shanghai time in late 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def digests(bot: Bot, channel: str = GENERAL) -> list[dict[str, Any]]:
    """Digests posted in a channel (params of successful chat.postMessage calls)."""
    return [
        c.params
        for c in bot.fake.calls("chat.postMessage")
        if c.params["channel"] == channel
        and c.response
        and c.response.get("ok")
        and any(b.get("block_id") == "digest_header" for b in c.params.get("blocks") or [])
    ]


def post_now(bot: Bot, user: str = CAROL, channel: str = GENERAL) -> dict[str, Any]:
    """Run /digest now and return the digest it posted."""
    before = len(digests(bot, channel))
    assert bot.slack.slash("/digest", "now", user=user, channel=channel).status == 200
    return wait_until(lambda: digests(bot, channel)[before:], what="the digest")[0]


def meeting(bot: Bot, *, title: str, start: datetime, host: str = ALICE, channel: str = GENERAL) -> tuple[int, str]:
    """A meeting posted in the channel; returns its id and the card's ts."""
    svc = bot.runtime.services.meetings
    info = svc.create(
        team_id=TEAM,
        creator_id=host,
        now=min(start, bot.clock()) - timedelta(hours=1),
        draft=MeetingDraft(
            title=title,
            goal="Decide",
            start=start,
            duration_minutes=60,
            host_id=host,
            participants=(BOB, DAVE),
            channel_id=channel,
        ),
    )
    ts = bot.fake.add_message(channel, f"card {info.code}")["ts"]
    svc.attach_message(info.id, channel_id=channel, message_ts=ts)
    return info.id, ts


def minutes(bot: Bot, meeting_id: int, at: datetime, *lines: tuple[str, str, datetime]) -> list[int]:
    """Record minutes with action items; each item's card goes to its owner by DM, as the app does."""
    outcome = bot.runtime.services.meetings.record_minutes(
        meeting_id,
        user_id=ALICE,
        now=at,
        draft=MinutesDraft(decisions=("Go",), actions=tuple(ActionDraftLine(t, o, d) for t, o, d in lines)),
    )
    for item in outcome.new_actions:
        dm = bot.fake.add_message(item.owner_id, f"card {item.code}")
        bot.runtime.services.actions.attach_message(item.id, channel_id=dm["channel"], message_ts=dm["ts"])
    return [a.id for a in outcome.new_actions]


# -- home (test_home) -----------------------------------------------------------------------------------------


def publishes(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Every home view published for a user, oldest first."""
    return [c.params["view"] for c in bot.fake.calls("views.publish") if c.params["user_id"] == user]


def open_home(bot: Bot, user: str) -> dict[str, Any]:
    """The user opens the Home tab; returns the view as Slack stores it."""
    before = len(publishes(bot, user))
    assert bot.slack.app_home_opened(user).status == 200
    return next_home(bot, user, before)


def next_home(bot: Bot, user: str, before: int) -> dict[str, Any]:
    """Wait for the next publish after `before` and return the stored home view."""
    wait_until(lambda: len(publishes(bot, user)) > before, what="views.publish")
    view = bot.fake.home_view(user)
    assert view is not None
    assert len(view["blocks"]) <= MAX_BLOCKS
    return view


def headers(view: dict[str, Any]) -> list[str]:
    """The header texts, top to bottom."""
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def elements(view: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    """Every element with this action_id, top to bottom."""
    out = []
    for b in view["blocks"]:
        for e in [b.get("accessory"), *(b.get("elements") or [])]:
            if isinstance(e, dict) and e.get("action_id") == action_id:
                out.append(e)
    return out


# -- robustness (test_timely_acks, test_duplicate_requests, test_bad_input, test_fuzzed_requests) -----------------


LATER = START + timedelta(days=7)  # a meeting next week
EARLIER = START - timedelta(hours=3)  # a meeting that already happened
MEETING_VALUES: dict[str, Any] = {
    "title": "Q1 launch plan",
    "goal": "Decide the launch date",
    "start": "2026-12-03 10:00",
    "duration_minutes": "60",
    "participants": [ALICE, BOB],
    "agenda": "Launch date — @bob — 20 min",
}
ACTION_VALUES: dict[str, Any] = {"what": "Write the launch post", "owner": BOB, "due": "2026-12-01 15:00"}


def posted_meeting(bot: Bot, *, start: datetime = LATER, participants: tuple[str, ...] = (ALICE, BOB)) -> MeetingInfo:
    """A meeting with its card posted."""
    services = bot.runtime.services
    draft = MeetingDraft(
        title="Launch sync",
        goal="Decide the launch date",
        start=start,
        duration_minutes=60,
        host_id=ALICE,
        participants=participants,
        channel_id=GENERAL,
    )
    info = services.meetings.create(team_id=TEAM, creator_id=ALICE, draft=draft, now=bot.clock())
    meeting_handlers.post_card(bot.runtime.client, services, bot.runtime.directory, info, author=ALICE)
    return services.meetings.get(info.id)


def action_item(bot: Bot, *, owner: str = BOB) -> ActionInfo:
    """An action item with its card posted in #general."""
    services = bot.runtime.services
    (item,) = services.actions.create_many(
        team_id=TEAM,
        creator_id=ALICE,
        now=bot.clock(),
        channel_id=GENERAL,
        drafts=[ActionDraft("Write the launch post", owner, START + timedelta(days=2))],
    )
    action_handlers.post_card(bot.runtime.client, services, bot.runtime.directory, item, author=ALICE)
    return services.actions.get(item.id)


def message(bot: Bot, channel: str, ts: str | None) -> dict[str, Any]:
    """A stored message, which must exist."""
    found = bot.fake.message(channel, ts or "")
    assert found is not None
    return found


def open_view(bot: Bot, run: Callable[[], Reply]) -> dict[str, Any]:
    """Do something that opens a modal and return the modal."""
    reply = run()  # may itself open other modals first (creating the record it then edits)
    assert reply.status == 200
    sent = time.time() - reply.elapsed
    call = wait_until(
        lambda: next((c for c in bot.fake.calls("views.open") if c.at >= sent), None),
        what="the modal opened by the last request",
    )
    assert call.error is None, call.error
    return dict(call.response["view"]) if call.response else {}


def api_calls(bot: Bot, *, settle: float = 0.3) -> int:
    """How many Web API calls the bot has made, once it has been quiet for a moment."""
    time.sleep(settle)
    return len(bot.fake.calls())


def count(bot: Bot, model: type[SQLModel]) -> int:
    """Rows in a table."""
    with bot.runtime.services.session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def click_payload(bot: Bot, message: dict[str, Any], action_id: str, *, user: str) -> dict[str, Any]:
    """A click on a message's button as Slack sends it (each click has its own action_ts)."""
    element = next(
        e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if e.get("action_id") == action_id
    )
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0001",
        "token": "verification-token-test",
        "team": {"id": TEAM, "domain": "coordbot-test"},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": GENERAL, "is_ephemeral": False},
        "trigger_id": bot.fake.new_trigger_id(user=user),
        "channel": {"id": GENERAL, "name": "general"},
        "message": {k: v for k, v in message.items() if k != "channel"},
        "state": {"values": {}},
        "response_url": bot.fake.new_response_url(channel=GENERAL, message_ts=message["ts"], user=user),
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "type": "button",
                "value": element.get("value"),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


LEAKS = re.compile(r"Traceback|File \"|(Key|Type|Value|Attribute|Index|JSONDecode|Integrity|Operational)Error")
"""What no answer and no message may show: a traceback or the name of an exception."""
BOOKKEEPING = {"inbox", "inbox_effect", "alembic_version"}
"""Tables left out of snapshot(): they note deliveries and migrations, not records."""


def snapshot(bot: Bot) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the records live in."""
    with bot.runtime.engine.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
            for table in SQLModel.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


def interactive(payload: Any) -> tuple[str, str]:
    """An interactivity body: payload=<json>."""
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def events(body: Any) -> tuple[str, str]:
    """An Events API body."""
    return json.dumps(body), "application/json"


USER = {"id": DAVE, "username": "dave", "team_id": TEAM}
"""The sender of the malformed and garbled requests: Dave, who owns nothing."""


def submission_payload(callback_id: str, values: Any, metadata: Any = "") -> dict[str, Any]:
    """A view_submission as Slack sends it."""
    return {
        "type": "view_submission",
        "user": USER,
        "team": {"id": TEAM},
        "trigger_id": "1.2.3",
        "view": {
            "id": "V_FUZZ",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": values},
            "hash": "1",
        },
    }


def posts(bot: Bot, channel: str) -> list[dict[str, Any]]:
    """What the bot posted in a channel or DM (params of successful calls), threads included."""
    return [
        c.params
        for c in bot.fake.calls("chat.postMessage")
        if c.params["channel"] == channel and c.response and c.response.get("ok")
    ]


@contextmanager
def core_services(database: Path | str, **settings: Any) -> Iterator[Services]:
    """The core alone over a real database (a SQLite file in the folder `database`, or a URL), for tests that need
    no messenger: Shanghai time, every hour a working hour, Carol the incident backup, no charts (each
    overridable)."""
    defaults: dict[str, Any] = {
        "tz": "Asia/Shanghai",
        "lang": "en",
        "work_hours": "00:00-23:59",
        "work_days": "mon-sun",
        "incident_escalation": (CAROL,),
        "digest_charts": False,
    }
    url = database if isinstance(database, str) else f"sqlite:///{database / 'coordbot.db'}"
    config = Settings(database_url=url, **(defaults | settings))
    engine = make_engine(config.database_url)
    migrate(engine)
    try:
        yield Services.build(config, make_session_scope(engine), clock=FixedClock())
    finally:
        engine.dispose()


def sheet_draft(
    *,
    requester: str = ALICE,
    receiver: str = BOB,
    channel: str = GENERAL,
    confirm_by: datetime | None = None,
    due: datetime | None = None,
    questions: tuple[QuestionDraft, ...] = (),
) -> RequirementDraft:
    """A requirement sheet from Marketing to Engineering: to sign a day after START, due two weeks after."""
    return RequirementDraft(
        requester_dept="Marketing",
        requester_owner=requester,
        receiver_dept="Engineering",
        receiver_owner=receiver,
        background="bg",
        goal="goal",
        description="desc",
        priority="medium",
        due=due or START + timedelta(days=14),
        confirm_by=confirm_by or START + timedelta(days=1),
        channel_id=channel,
        questions=questions,
    )
