"""Trust under load, faults and bad input: timely acks, no double effects, nothing lost, bad input refused."""

from __future__ import annotations

import enum
import importlib
import json
import pkgutil
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import SQLModel

import handlers.blocks
from bot.app import Runtime
from bot.manifest import BOT_EVENTS, manifest
from bot.services.actions import ActionDraft, ActionInfo
from bot.services.meetings import MeetingDraft, MeetingInfo
from handlers import actions as action_handlers
from handlers import meeting as meeting_handlers
from handlers.blocks import actions as action_blocks
from handlers.blocks import history as history_blocks
from handlers.blocks import home as home_blocks
from handlers.blocks import incident as incident_blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks import requirement as requirement_blocks
from handlers.membership import POST_AGAIN
from tests.conftest import START, Bot
from tests.fakes.driver import Reply
from tests.fakes.slack_api import ALICE, BOB, BOT, CAROL, DAVE, GENERAL
from tests.helpers import (
    MINUTES_STATE,
    REQUIREMENT_STATE,
    SHEET_VALUES,
    create_sheet,
    history_actions,
    open_modal,
    record,
    wait_until,
)

TEAM = "T0001"
ACK_LIMIT = 1.5  # seconds; Slack gives up at 3
SLOW_API = 2.0  # every Web API call takes this long while a request is acknowledged
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
INCIDENT_VALUES: dict[str, Any] = {
    "title": "Checkout is down",
    "severity": "SEV2",
    "description": "502s",
    "impact": "Nobody can pay",
    "commander": ALICE,
    "responders": [DAVE],
}
RESOLVE_VALUES: dict[str, Any] = {
    "summary": "A bad deploy; rolled back.",
    "decisions": "Freeze deploys",
    "follow_ups": "Add a canary — @bob — 2026-12-01",
}


# -- building what a request acts on (with a fast Web API) --------------------------------------------------------


def meeting(bot: Bot, *, start: datetime = LATER, participants: tuple[str, ...] = (ALICE, BOB)) -> MeetingInfo:
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


def incident(bot: Bot) -> Any:
    """An incident declared by Bob (Alice commands), announced and summarized in its own channel."""
    assert bot.slack.slash("/incident", "Checkout is down", user=BOB).status == 200
    bot.fake.wait_for("views.open")
    assert bot.slack.submit_view(INCIDENT_VALUES, user=BOB, callback_id=incident_blocks.Ids.MODAL).status == 200
    return wait_until(
        lambda: (i := _first_incident(bot)) and i.summary_ts and i.announce_ts and i, what="the incident's summary"
    )


def _first_incident(bot: Bot) -> Any:
    try:
        return bot.runtime.services.incidents.get(1)
    except Exception:
        return None


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


def home(bot: Bot, user: str) -> dict[str, Any]:
    """The user's App Home as published."""
    before = len(bot.fake.calls("views.publish"))
    bot.slack.app_home_opened(user)
    bot.fake.wait_for("views.publish", before + 1)
    view = bot.fake.home_view(user)
    assert view is not None
    return view


def press(
    bot: Bot,
    action_id: str,
    value: str,
    *,
    user: str,
    view: dict[str, Any] | None = None,
    on: dict[str, Any] | None = None,
    selected: bool = False,
) -> Reply:
    """A click Slack would send for an element, whether or not the view on screen shows it right now."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": "b1",
        "type": "button",
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }
    if selected:
        action = {
            **action,
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
        del action["value"]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0001",
        "token": "verification-token-test",
        "team": {"id": TEAM, "domain": "coordbot-test"},
        "trigger_id": bot.fake.new_trigger_id(user=user),
        "actions": [action],
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload.update(container={"type": "view", "view_id": view.get("id")}, view=view)
    else:
        channel, ts = (on or {}).get("channel") or GENERAL, (on or {}).get("ts") or "1.0"
        payload.update(
            container={"type": "message", "message_ts": ts, "channel_id": channel},
            channel={"id": channel, "name": channel.lower()},
            response_url=bot.fake.new_response_url(channel=channel, message_ts=ts, user=user),
        )
        if on is not None:
            payload["message"] = {k: v for k, v in on.items() if k != "channel"}
    return bot.slack.post_payload(payload)


# -- every request Slack can send, each acknowledged in time while the Web API takes 2 s a call -------------------


@dataclass(frozen=True)
class Case:
    """One kind of request: what it covers and how to set it up; `prepare` returns the request to time."""

    name: str
    covers: tuple[str, ...]
    prepare: Callable[[Bot], Callable[[], Reply]]
    answer: str = "any"  # "closed": a submission that closes the modal; "errors": one answered with field errors


def _sheet_click(action: requirement_blocks.Ids, user: str = BOB, **values: Any) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        sheet = create_sheet(bot, **values)
        return lambda: bot.slack.click(action, user=user, message=sheet)

    return prepare


def _card_click(action: str, user: str = ALICE, start: datetime = LATER) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        info = meeting(bot, start=start)
        card = message(bot, GENERAL, info.message_ts)
        return lambda: bot.slack.click(action, user=user, message=card)

    return prepare


def _item_click(action: str, user: str = BOB) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        item = action_item(bot)
        card = message(bot, GENERAL, item.message_ts)  # In progress shows only on a blocked item's card
        return lambda: press(bot, action, str(item.id), user=user, on=card)

    return prepare


def _home_click(
    action: str, make: Callable[[Bot], Any], value: Callable[[Any], str], *, selected: bool = False
) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        made = make(bot)
        view = home(bot, BOB)
        return lambda: press(bot, action, value(made), user=BOB, view=view, selected=selected)

    return prepare


def _incident_click(action: str, user: str = ALICE) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        info = incident(bot)
        summary = message(bot, info.channel_id, info.summary_ts)
        return lambda: bot.slack.click(action, user=user, message=summary)

    return prepare


def _command(
    command: str,
    text: str = "",
    *,
    make: Callable[[Bot], Any] | None = None,
    user: str = ALICE,
    in_incident: bool = False,
) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        made: Any = make(bot) if make else None
        channel = made.channel_id if in_incident else GENERAL
        return lambda: bot.slack.slash(command, text, user=user, channel=channel)

    return prepare


def _submit(
    open_it: Callable[[Bot], Reply],
    values: dict[str, Any],
    *,
    user: str = ALICE,
    make: Callable[[Bot], Any] | None = None,
) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        if make:
            make(bot)
        view = open_view(bot, lambda: open_it(bot))
        return lambda: bot.slack.submit_view(values, user=user, view=view)

    return prepare


def _type(open_it: Callable[[Bot], Reply], block_id: str, text: str) -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        view = open_view(bot, lambda: open_it(bot))
        return lambda: bot.slack.type_in(block_id, text, view=view)

    return prepare


def _react(name: str, *, removed: bool = False, on: str = "sheet") -> Callable[[Bot], Any]:
    def prepare(bot: Bot) -> Callable[[], Reply]:
        if on == "incident":
            info = incident(bot)
            posted = bot.fake.add_message(info.channel_id, "The deploy at 13:50 broke checkout", user=DAVE)
            channel, ts = info.channel_id, posted["ts"]
        else:
            channel, ts = GENERAL, create_sheet(bot)["ts"]
        if removed:
            bot.slack.react(name, channel=channel, ts=ts, user=BOB)
            bot.fake.wait_for("chat.update")
        return lambda: bot.slack.react(name, channel=channel, ts=ts, user=BOB, removed=removed)

    return prepare


def _bot_membership(kind: str) -> Callable[[Bot], Any]:
    """The bot removed from (or invited back to) the channel of a sheet."""

    def prepare(bot: Bot) -> Callable[[], Reply]:
        create_sheet(bot)
        event = {"type": kind, "channel": GENERAL}
        if kind.startswith("member_"):
            event.update(user=BOT, channel_type="C", team="T0001")
        return lambda: bot.slack.event(event)

    return prepare


def _post_again(bot: Bot) -> Callable[[], Reply]:
    """ "Post again" in the direct message about a sheet the bot could not post (it was removed meanwhile)."""
    bot.fake.set_channel("G_LEFT", name="left", is_private=True, bot_is_member=True)
    open_view(bot, lambda: bot.slack.slash("/requirement", "", channel="G_LEFT"))
    wait_until(
        lambda: [c for c in bot.fake.calls("conversations.info") if c.params.get("channel") == "G_LEFT"],
        what="the channel looked up",
    )
    bot.fake.remove_bot("G_LEFT")
    bot.slack.submit_view(SHEET_VALUES)
    note = wait_until(
        lambda: [m for m in bot.fake.messages() if POST_AGAIN in json.dumps(m.get("blocks"))],
        what="the direct message with Post again",
    )[0]
    bot.fake.invite_bot("G_LEFT")
    return lambda: bot.slack.click(POST_AGAIN, user=ALICE, message=note)


def _edit_sheet(bot: Bot) -> Reply:
    sheet = create_sheet(bot)
    return bot.slack.click(requirement_blocks.Ids.EDIT, user=ALICE, message=sheet)


def _request_changes(bot: Bot) -> Reply:
    sheet = create_sheet(bot)
    return bot.slack.click(requirement_blocks.Ids.REQUEST_CHANGES, user=BOB, message=sheet)


def _record_minutes(bot: Bot) -> Reply:
    info = meeting(bot, start=EARLIER)
    return bot.slack.click(
        meeting_blocks.Ids.RECORD_MINUTES, user=ALICE, message=message(bot, GENERAL, info.message_ts)
    )


def _blocked(bot: Bot) -> Reply:
    item = action_item(bot)
    return bot.slack.click(action_blocks.Ids.BLOCKED, user=BOB, message=message(bot, GENERAL, item.message_ts))


def _resolve(bot: Bot) -> Reply:
    info = incident(bot)
    return bot.slack.click(
        incident_blocks.Ids.RESOLVE, user=ALICE, message=message(bot, info.channel_id, info.summary_ts)
    )


def _shortcut(bot: Bot) -> Callable[[], Reply]:
    said = bot.fake.add_message(GENERAL, "Can someone write the launch post by Friday?", user=CAROL)
    return lambda: bot.slack.shortcut(action_blocks.Ids.SHORTCUT, user=ALICE, message=said)


def _history(bot: Bot) -> Callable[[], Reply]:
    sheet = create_sheet(bot)
    return lambda: bot.slack.click(history_blocks.ACTION_ID, user=CAROL, message=sheet, value="requirement:1")


def _home_opened(bot: Bot) -> Callable[[], Reply]:
    create_sheet(bot)
    return lambda: bot.slack.app_home_opened(BOB)


R, M, A, H, INC = (requirement_blocks.Ids, meeting_blocks.Ids, action_blocks.Ids, home_blocks.Ids, incident_blocks.Ids)
CASES = [
    # slash commands and their subcommands
    Case("/requirement", ("command:/requirement",), _command("/requirement")),
    Case("/requirement list", (), _command("/requirement", "list", make=create_sheet)),
    Case("/requirement help", (), _command("/requirement", "help")),
    Case("/requirement RW-…", (), _command("/requirement", "RW-2026-001", make=create_sheet)),
    Case("/requirement unknown", (), _command("/requirement", "what is this")),
    Case("/meeting", ("command:/meeting",), _command("/meeting")),
    Case("/meeting help", (), _command("/meeting", "help")),
    Case("/meeting MTG-…", (), _command("/meeting", "MTG-2026-001", make=meeting)),
    Case(
        "/meeting minutes MTG-…",
        (),
        _command("/meeting", "minutes MTG-2026-001", make=lambda b: meeting(b, start=EARLIER)),
    ),
    Case("/action", ("command:/action",), _command("/action")),
    Case("/action one line", (), _command("/action", "@bob write the launch post by next Friday 3pm")),
    Case("/action unclear", (), _command("/action", "@bob write the launch post some day")),
    Case("/action help", (), _command("/action", "help")),
    Case("/digest subscribe", ("command:/digest",), _command("/digest", "subscribe fri 17:00")),
    Case("/digest unsubscribe", (), _command("/digest", "unsubscribe")),
    Case("/digest now", (), _command("/digest", "now", make=create_sheet)),
    Case("/digest lang", (), _command("/digest", "lang zh")),
    Case("/digest help", (), _command("/digest", "")),
    Case("/incident", ("command:/incident",), _command("/incident", "Checkout is down")),
    Case("/incident help", (), _command("/incident", "help")),
    Case("/incident status", (), _command("/incident", "status identified", make=incident, in_incident=True)),
    Case("/incident update", (), _command("/incident", "update Rolled back", make=incident, in_incident=True)),
    Case("/incident decision", (), _command("/incident", "decision Freeze deploys", make=incident, in_incident=True)),
    Case("/incident role", (), _command("/incident", "role comms @carol", make=incident, in_incident=True)),
    Case("/incident lead", (), _command("/incident", "lead @dave", make=incident, in_incident=True)),
    Case("/incident resolve", (), _command("/incident", "resolve", make=incident, in_incident=True)),
    Case("/incident export", (), _command("/incident", "export INC-2026-001", make=incident)),
    # buttons, menus and shortcuts
    Case("sign with the button", ("requirement.CONFIRM",), _sheet_click(R.CONFIRM)),
    Case("request changes", ("requirement.REQUEST_CHANGES",), _sheet_click(R.REQUEST_CHANGES)),
    Case("edit the sheet", ("requirement.EDIT",), _sheet_click(R.EDIT, user=ALICE)),
    Case(
        "question answered",
        ("requirement.ANSWERED",),
        _sheet_click(R.ANSWERED, open_questions="Which API? — @bob — 2026-11-28 12:00"),
    ),
    Case(
        "typing a date in the sheet",
        ("requirement.INPUT",),
        _type(lambda b: b.slack.slash("/requirement", ""), "due", "下周五下午3点前"),
    ),
    Case("record minutes", ("meeting.RECORD_MINUTES",), _card_click(M.RECORD_MINUTES, start=EARLIER)),
    Case("edit the meeting", ("meeting.EDIT",), _card_click(M.EDIT)),
    Case(
        "acknowledge the minutes",
        ("meeting.ACK",),
        lambda b: (lambda info: lambda: press(b, M.ACK, str(info.id), user=BOB))(meeting(b, start=EARLIER)),
    ),
    Case(
        "typing a meeting start",
        ("meeting.INPUT",),
        _type(lambda b: b.slack.slash("/meeting", ""), "start", "Monday 10am"),
    ),
    Case("accept an item", ("actions.ACCEPT",), _item_click(A.ACCEPT)),
    Case("item in progress", ("actions.IN_PROGRESS",), _item_click(A.IN_PROGRESS)),
    Case("item done", ("actions.DONE",), _item_click(A.DONE)),
    Case("item blocked", ("actions.BLOCKED",), _item_click(A.BLOCKED)),
    Case(
        "typing an item's due date",
        ("actions.INPUT",),
        _type(lambda b: b.slack.slash("/action", ""), "due", "next Friday 3pm"),
    ),
    Case("create action item shortcut", ("actions.SHORTCUT",), _shortcut),
    Case("history menu", ("history.ACTION_ID",), _history),
    Case("home: language", ("home.LANGUAGE",), _home_click(H.LANGUAGE, lambda b: None, lambda _: "zh", selected=True)),
    Case("home: sign", ("home.SIGN",), _home_click(H.SIGN, create_sheet, lambda _: "1")),
    Case("home: done", ("home.DONE",), _home_click(H.DONE, action_item, lambda item: str(item.id))),
    Case(
        "home: record minutes",
        ("home.RECORD_MINUTES",),
        _home_click(H.RECORD_MINUTES, lambda b: meeting(b, start=EARLIER), lambda info: str(info.id)),
    ),
    Case("home: open link", ("home.OPEN",), _home_click(H.OPEN, action_item, lambda item: str(item.id))),
    Case("home: more", ("home.MORE",), _home_click(H.MORE, action_item, lambda _: "actions:2")),
    Case("home: previous", ("home.PREVIOUS",), _home_click(H.PREVIOUS, action_item, lambda _: "actions:1")),
    Case("home: first", ("home.FIRST",), _home_click(H.FIRST, action_item, lambda _: "actions:1")),
    Case("incident: acknowledge", ("incident.ACK",), _incident_click(INC.ACK)),
    Case("incident: status button", ("incident.STATUS",), _incident_click(f"{INC.STATUS}identified")),
    Case("incident: resolve", ("incident.RESOLVE",), _incident_click(INC.RESOLVE)),
    Case(
        "incident: review meeting",
        ("incident.REVIEW_MEETING",),
        lambda b: (lambda info: lambda: press(b, INC.REVIEW_MEETING, str(info.id), user=ALICE))(incident(b)),
    ),
    # modal submissions
    Case(
        "new sheet",
        ("requirement.MODAL",),
        _submit(lambda b: b.slack.slash("/requirement", ""), SHEET_VALUES),
        answer="closed",
    ),
    Case(
        "sheet with errors",
        (),
        _submit(lambda b: b.slack.slash("/requirement", ""), {**SHEET_VALUES, "due": "?"}),
        answer="errors",
    ),
    Case("edited sheet", (), _submit(_edit_sheet, {"goal": "Sign-ups +30%"}), answer="closed"),
    Case(
        "changes requested",
        ("requirement.CHANGES_MODAL",),
        _submit(_request_changes, {"reason": "Budget first"}, user=BOB),
        answer="closed",
    ),
    Case(
        "new meeting",
        ("meeting.MODAL",),
        _submit(lambda b: b.slack.slash("/meeting", ""), MEETING_VALUES),
        answer="closed",
    ),
    Case(
        "minutes",
        ("meeting.MINUTES_MODAL",),
        _submit(_record_minutes, {"decisions": "Launch Dec 1", "action_items": "Post — @bob — 2026-12-01"}),
        answer="closed",
    ),
    Case(
        "new action item",
        ("actions.MODAL",),
        _submit(lambda b: b.slack.slash("/action", ""), ACTION_VALUES),
        answer="closed",
    ),
    Case(
        "blocked reason",
        ("actions.BLOCKED_MODAL",),
        _submit(_blocked, {"reason": "Waiting on legal"}, user=BOB),
        answer="closed",
    ),
    Case(
        "declare an incident",
        ("incident.MODAL",),
        _submit(lambda b: b.slack.slash("/incident", "Checkout is down", user=BOB), INCIDENT_VALUES, user=BOB),
        answer="closed",
    ),
    Case("resolve an incident", ("incident.RESOLVE_MODAL",), _submit(_resolve, RESOLVE_VALUES), answer="closed"),
    # events
    Case("✅ added", ("event:reaction_added",), _react("white_check_mark")),
    Case("✅ removed", ("event:reaction_removed",), _react("white_check_mark", removed=True)),
    Case("📌 in an incident channel", (), _react("pushpin", on="incident")),
    Case("home opened", ("event:app_home_opened",), _home_opened),
    Case("bot removed from a channel", ("event:member_left_channel",), _bot_membership("member_left_channel")),
    Case("bot invited back", ("event:member_joined_channel",), _bot_membership("member_joined_channel")),
    Case("bot left a channel", ("event:channel_left",), _bot_membership("channel_left")),
    Case("bot left a private channel", ("event:group_left",), _bot_membership("group_left")),
    Case("post again", (), _post_again),
]

# Ids members Slack never sends back to the app: block ids, and inputs that dispatch no actions.
NOT_SENT = {
    "requirement.REASON": "a block id",
    "actions.REASON": "a block id",
    "actions.SOURCE": "a block id",
    "actions.BUTTONS": "a block id prefix",
    "incident.INPUT": "inputs without dispatch_action",
    **{f"digest.{m.name}": "a block id" for m in importlib.import_module("handlers.blocks.digest").Ids},
}


def _ids_members() -> set[str]:
    """Every member of every builder module's Ids enum, and the history menu's action_id."""
    found = {"history.ACTION_ID"}
    for module_info in pkgutil.iter_modules(handlers.blocks.__path__):
        module = importlib.import_module(f"handlers.blocks.{module_info.name}")
        ids = getattr(module, "Ids", None)
        if isinstance(ids, type) and issubclass(ids, enum.Enum):
            found |= {f"{module_info.name}.{m.name}" for m in ids}
    return found


def test_the_cases_cover_every_id_command_and_event_slack_can_send() -> None:
    covered = {c for case in CASES for c in case.covers}
    commands = {f"command:{c['command']}" for c in manifest()["features"]["slash_commands"]}
    events = {f"event:{e}" for e in BOT_EVENTS}
    assert commands | events <= covered, sorted(commands | events - covered)
    assert _ids_members() - set(NOT_SENT) <= covered, sorted(_ids_members() - set(NOT_SENT) - covered)
    assert not set(NOT_SENT) & covered
    assert set(NOT_SENT) <= _ids_members(), sorted(set(NOT_SENT) - _ids_members())


@pytest.fixture
def slow_api(bot: Bot) -> Any:
    """The Web API takes SLOW_API seconds a call while the test runs; fast again for the teardown."""
    yield lambda: bot.fake.set_delay(SLOW_API)
    bot.fake.set_delay(0)


@pytest.mark.both_modes
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_request_is_acknowledged_in_time_when_the_web_api_is_slow(bot: Bot, case: Case, slow_api: Any) -> None:
    send = case.prepare(bot)
    slow_api()
    reply = send()
    bot.fake.set_delay(0)  # the answer is in: calls waiting for the slow API go on at once
    print(f"acknowledged {case.name!r} in {reply.elapsed * 1000:.0f} ms")
    assert reply.status == 200, (reply.status, reply.body)
    assert reply.elapsed < ACK_LIMIT, f"{case.name}: acknowledged after {reply.elapsed:.2f}s"
    if case.answer == "closed":
        assert reply.json() is None, reply.body
    elif case.answer == "errors":
        assert (reply.json() or {}).get("response_action") == "errors", reply.body


# -- no double effects: retried events, resubmitted modals, double clicks ------------------------------------------


def api_calls(bot: Bot, *, settle: float = 0.3) -> int:
    """How many Web API calls the bot has made, once it has been quiet for a moment."""
    time.sleep(settle)
    return len(bot.fake.calls())


def count(bot: Bot, model: type[SQLModel]) -> int:
    """Rows in a table."""
    with bot.runtime.services.session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_retried_reaction_signs_once(bot: Bot) -> None:
    sheet = create_sheet(bot)
    reply = bot.slack.react("white_check_mark", channel=GENERAL, ts=sheet["ts"], user=BOB, event_id="EvSIGN1")
    assert reply.status == 200
    bot.fake.wait_for("chat.update")
    calls = api_calls(bot)
    for retry in (1, 2, 3):  # Slack's three retries, each with the same event_id
        reply = bot.slack.react(
            "white_check_mark", channel=GENERAL, ts=sheet["ts"], user=BOB, event_id="EvSIGN1", retry_num=retry
        )
        assert (reply.status, reply.body) == (200, "")
    assert api_calls(bot) == calls
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed"]


def test_a_late_retry_of_a_removal_does_not_undo_a_newer_signature(bot: Bot) -> None:
    ts = create_sheet(bot)["ts"]
    for n, (event_id, removed) in enumerate((("EvADD1", False), ("EvREMOVE", True), ("EvADD2", False)), start=1):
        bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB, removed=removed, event_id=event_id)
        bot.fake.wait_for("chat.update", n)
    # the removal's first delivery was slow to acknowledge, so Slack delivers it again, after the new signature
    reply = bot.slack.react(
        "white_check_mark", channel=GENERAL, ts=ts, user=BOB, removed=True, event_id="EvREMOVE", retry_num=1
    )
    assert reply.status == 200
    api_calls(bot)
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed", "withdrawn", "signed"]
    assert BOB not in bot.runtime.services.requirements.get(record(bot).id or 0).unsigned_owners


def posted(bot: Bot, code: str = "RW-2026-001") -> str | None:
    """The message ts of a sheet once it is stored and posted, else None."""
    from storage.models import Requirement

    with bot.runtime.services.session_scope() as s:
        row = s.scalars(select(Requirement).where(Requirement.code == code)).first()  # type: ignore[arg-type]
        return row.message_ts if row else None


def shown_modal(bot: Bot) -> dict[str, Any]:
    """Run /requirement and return the modal as Slack shows it (with its id and hash)."""
    open_modal(bot)
    view = bot.fake.last_view(requirement_blocks.Ids.MODAL)
    assert view is not None and view["id"]
    return view


def test_a_resubmitted_modal_creates_one_record(bot: Bot) -> None:
    from storage.models import Requirement

    view = shown_modal(bot)
    first = bot.slack.submit_view(SHEET_VALUES, view=view)
    again = bot.slack.submit_view(SHEET_VALUES, view=view)  # Submit clicked twice
    assert (first.status, first.body, again.status, again.body) == (200, "", 200, "")
    wait_until(lambda: posted(bot), what="the sheet posted")
    view = shown_modal(bot)
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=lambda: replies.append(bot.slack.submit_view(SHEET_VALUES, view=view)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [200, 200, 200]
    wait_until(lambda: posted(bot, "RW-2026-002"), what="the second sheet posted")
    api_calls(bot)
    assert count(bot, Requirement) == 2
    assert len([c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == GENERAL]) == 2


def test_a_refused_submission_can_be_submitted_again(bot: Bot) -> None:
    from storage.models import Requirement

    view = shown_modal(bot)
    bad = {**SHEET_VALUES, "due": "whenever"}
    for _ in range(2):  # the same refused form twice: refused twice, not silently dropped
        reply = bot.slack.submit_view(bad, view=view)
        assert "due" in ((reply.json() or {}).get("errors") or {}), reply.body
    assert bot.slack.submit_view(SHEET_VALUES, view=view).json() is None
    wait_until(lambda: posted(bot), what="the sheet posted")
    assert count(bot, Requirement) == 1


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


def test_a_double_clicked_button_changes_state_once(bot: Bot) -> None:
    sheet = create_sheet(bot)
    clicks = [click_payload(bot, sheet, requirement_blocks.Ids.CONFIRM, user=BOB) for _ in range(2)]
    replies: list[Reply] = []
    threads = [threading.Thread(target=lambda c=c: replies.append(bot.slack.post_payload(c))) for c in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [200, 200]
    said = bot.fake.wait_for("response_url")
    api_calls(bot)
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed"]
    assert len(bot.fake.calls("chat.update")) == 1
    assert ["already signed" in c.params["text"] for c in said] == [True]
    # the very same click delivered twice is acknowledged and dropped
    calls = api_calls(bot)
    assert (bot.slack.post_payload(clicks[0]).body, api_calls(bot)) == ("", calls)


def test_a_double_clicked_done_moves_the_item_once(bot: Bot) -> None:
    item = action_item(bot)
    card = message(bot, GENERAL, item.message_ts)
    clicks = [click_payload(bot, card, action_blocks.Ids.DONE, user=BOB) for _ in range(3)]
    threads = [threading.Thread(target=bot.slack.post_payload, args=(c,)) for c in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.fake.wait_for("response_url", 2)
    api_calls(bot)
    moves = [
        e for e in bot.runtime.services.actions.get(item.id, with_history=True).history if e.action == "status_changed"
    ]
    assert [e.detail.get("to") for e in moves] == ["done"]


def test_a_retried_event_costs_one_insert_and_done_requests_are_forgotten_after_a_day(bot: Bot) -> None:
    from sqlalchemy import event, update

    from storage.models import InboxItem

    ts = create_sheet(bot)["ts"]
    bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB, event_id="EvONCE")
    bot.fake.wait_for("chat.update")
    api_calls(bot)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(bot.runtime.engine, "before_cursor_execute", seen)
    try:  # Slack's retry finds the first delivery's key taken: one insert that inserts nothing
        reply = bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB, event_id="EvONCE", retry_num=1)
    finally:
        event.remove(bot.runtime.engine, "before_cursor_execute", seen)
    assert reply.status == 200
    work = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(work) == 1 and work[0].startswith("INSERT INTO inbox"), work
    assert count(bot, InboxItem) >= 2  # the sheet's submission and the reaction, kept for retries
    assert bot.runtime.services.inbox.prune() == 0  # done only just now
    with bot.runtime.services.session_scope() as s:
        s.execute(update(InboxItem).values(done_at=datetime.now(UTC) - timedelta(days=1, minutes=1)))
    assert bot.runtime.services.inbox.prune() >= 2
    assert count(bot, InboxItem) == 0


# -- nothing lost, nothing repeated: crashes, timeouts and permanent errors while delivering ----------------------

ROOT = Path(__file__).resolve().parent.parent


def sign_reminders(bot: Bot) -> list[Any]:
    """The outbox rows of sign reminders, oldest first."""
    from storage.models import OutboxItem

    with bot.runtime.services.session_scope() as s:
        rows = s.scalars(
            select(OutboxItem)
            .where(OutboxItem.kind == "req.sign_reminder")  # type: ignore[arg-type]
            .order_by(OutboxItem.id)
        ).all()  # type: ignore[arg-type]
        return list(rows)


def reminder_of(bot: Bot, row: Any) -> tuple[str, str]:
    """(user, record code) a sign reminder row is for."""
    payload = json.loads(row.payload)
    return str(payload["user_id"]), bot.runtime.services.requirements.get(int(payload["requirement_id"])).code


def delivered(bot: Bot) -> list[tuple[str, str]]:
    """(user, record code) of every sign reminder Slack accepted, in order."""
    out = []
    for call in bot.fake.calls("chat.postMessage"):
        if call.params["channel"].startswith("U_") and call.response and call.response.get("ok"):
            found = re.search(r"RW-\d{4}-\d{3}", str(call.params["text"]))
            out.append((call.params["channel"], found.group(0) if found else ""))
    return out


def tick_process(bot: Bot, now: datetime) -> Any:
    """`python -m bot tick --now …` as its own process against the test's database and fake Slack."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": bot.fake.bot_token,
        "SLACK_API_URL": bot.fake.api_url,
        "DATABASE_URL": bot.runtime.settings.database_url,
        "COORDBOT_TZ": "Asia/Shanghai",
        "COORDBOT_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", "--now", now.isoformat()],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.processes
def test_kill_9_in_the_middle_of_a_tick_loses_nothing(bot: Bot) -> None:
    for _ in range(4):
        create_sheet(bot)
    due = record(bot).confirm_by - timedelta(hours=1)
    rows = sign_reminders(bot)
    assert len(rows) == 8
    bot.fake.fail("chat.postMessage", delay=1.0, times=2)  # the first two reminders each take a second
    victim = tick_process(bot, due)
    wait_until(lambda: delivered(bot), timeout=60, what="the first reminder")
    victim.kill()  # SIGKILL: no cleanup, no rollback, leases left behind
    victim.communicate(timeout=30)
    time.sleep(2.0)  # a request already on its way (1 s at Slack) is still answered, to nobody
    before = delivered(bot)
    states = {r.id: r.state for r in sign_reminders(bot)}
    assert set(states.values()) <= {"sent", "claimed"} and "claimed" in states.values(), states
    sent_rows = {reminder_of(bot, r) for r in sign_reminders(bot) if r.state == "sent"}
    # The documented window: Slack took the message, but the process died before it recorded that.
    window = {reminder_of(bot, r) for r in sign_reminders(bot) if r.state == "claimed"} & set(before)
    print(f"killed with {len(sent_rows)} sent, {len(window)} in the window, {8 - len(sent_rows)} to retry")
    assert len(window) <= 1  # rows are sent one at a time, so at most one can be caught in between
    assert sorted(before) == sorted(sent_rows | window)

    still_leased = tick_process(bot, due + timedelta(minutes=1))
    assert "sent 0," in still_leased.communicate(timeout=60)[0]  # the dead process's leases still hold
    retry = tick_process(bot, due + timedelta(minutes=6))  # the 5-minute lease has run out
    out, err = retry.communicate(timeout=60)
    assert retry.returncode == 0, err
    assert f"sent {8 - len(sent_rows)}," in out, out
    assert {r.state for r in sign_reminders(bot)} == {"sent"}
    after = delivered(bot)
    expected = {reminder_of(bot, r): 1 + (reminder_of(bot, r) in window) for r in sign_reminders(bot)}
    assert {key: after.count(key) for key in expected} == expected
    assert len(after) == 8 + len(window)


def test_a_timeout_is_retried_with_backoff(bot: Bot) -> None:
    from dataclasses import replace

    from bot.app import build_runtime
    from bot.config import ConfigError, Settings

    assert Settings.from_env({"COORDBOT_HTTP_TIMEOUT": "0.5"}).http_timeout == 0.5
    assert Settings.from_env({}).http_timeout == 15
    for wrong in ("soon", "0", "-1", "nan", "100000"):
        with pytest.raises(ConfigError, match="COORDBOT_HTTP_TIMEOUT"):
            Settings.from_env({"COORDBOT_HTTP_TIMEOUT": wrong})
    create_sheet(bot)
    due = record(bot).confirm_by - timedelta(hours=1)
    impatient = build_runtime(replace(bot.runtime.settings, http_timeout=0.5), clock=bot.clock)
    try:
        assert impatient.client.timeout == 0.5
        bot.fake.fail("chat.postMessage", delay=1.0, times=1)
        report = impatient.tick(due)
        assert (report.sent, report.retried, report.failed) == (1, 1, 0), report
        (late,) = [r for r in sign_reminders(bot) if r.state == "pending"]
        assert "timed out" in (late.last_error or "").lower(), late.last_error
        assert late.due_at == due + timedelta(seconds=30)  # the first backoff
        assert impatient.tick(due + timedelta(seconds=29)).sent == 0
        assert impatient.tick(due + timedelta(seconds=30)).sent == 1
    finally:
        impatient.engine.dispose()
    # A timeout cannot tell whether Slack took the message: at least once, as in the crash window.
    wait_until(
        lambda: sorted(delivered(bot).count(key) for key in set(delivered(bot))) == [1, 2],
        what="Slack to finish the message whose answer came too late",
    )


def due_rows(runtime: Runtime, n: int, due: datetime) -> None:
    """n rows of due work."""
    from bot.outbox import schedule

    with runtime.services.session_scope() as s:
        for i in range(n):
            schedule(s, kind="test.kind", subject=f"test:{i}", key=f"test:{i}", due_at=due, now=due)


def test_a_claim_takes_one_batch_at_most(runtime: Runtime) -> None:
    from bot.outbox import Outbox

    due_rows(runtime, 10, START)
    box = Outbox(runtime.services.session_scope, batch=4)
    sizes = [len(box.claim(START)[1]) for _ in range(4)]
    assert sizes == [4, 4, 2, 0]


def test_a_slow_tick_stops_before_its_lease_could_run_out_so_a_later_one_never_sends_twice(runtime: Runtime) -> None:
    from bot.outbox import DueWork, Outbox, Outcome

    due_rows(runtime, 8, START)
    lease = timedelta(seconds=1)
    sent: list[tuple[str, int]] = []

    def slowly(name: str) -> Callable[[DueWork, datetime], Outcome]:
        def deliver(item: DueWork, now: datetime) -> Outcome:
            time.sleep(0.2)
            sent.append((name, item.id))
            return Outcome.SENT

        return deliver

    scope = runtime.services.session_scope
    first = threading.Thread(target=lambda: Outbox(scope, lease=lease).tick(START, slowly("first")))
    first.start()
    time.sleep(1.1)  # a second process ticks once the first one's leases have run out
    Outbox(scope, lease=lease).tick(START + timedelta(seconds=1.1), slowly("second"))
    first.join()
    twice = [i for i in {i for _, i in sent} if [j for _, j in sent].count(i) > 1]
    assert twice == [], sent
    assert sum(1 for name, _ in sent if name == "first") < 8  # it stopped and gave the rest back
    later = START + timedelta(seconds=2)
    while Outbox(scope, lease=lease).tick(later, slowly("later")).handled:  # what was given back goes out next
        later += timedelta(seconds=1)
    ids = [i for _, i in sent]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 8, sent
    from storage.models import OutboxItem

    with scope() as s:
        rows = s.scalars(select(OutboxItem)).all()
        assert {(r.state, r.attempts) for r in rows} == {("sent", 1)}  # a row given back did not count an attempt


PERMANENT = ("channel_not_found", "user_not_found", "account_inactive", "not_in_channel")


def test_permanent_errors_fail_the_row_with_the_reason_shown_by_status(bot: Bot) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    for _ in range(2):
        create_sheet(bot)
    due = record(bot).confirm_by - timedelta(hours=1)
    for error in PERMANENT:
        bot.fake.fail("chat.postMessage", error=error, times=1)
    report = bot.runtime.tick(due)
    assert (report.sent, report.retried, report.failed) == (0, 0, 4), report
    rows = sign_reminders(bot)
    assert sorted((r.state, r.last_error) for r in rows) == sorted(("failed", e) for e in PERMANENT)
    assert bot.runtime.tick(due + timedelta(minutes=50)).handled == 0  # never retried
    result = CliRunner().invoke(main, ["status"], env={"DATABASE_URL": bot.runtime.settings.database_url})
    assert result.exit_code == 0, result.output
    assert any(line.split() == ["req.sign_reminder", "failed", "4"] for line in result.output.splitlines())
    for row in rows:
        assert f"failed #{row.id} req.sign_reminder {row.subject}: {row.last_error}" in result.output


# -- bad input: a clear answer, no server error, nothing changed, the process keeps serving -----------------------

LEAKS = re.compile(r"Traceback|File \"|(Key|Type|Value|Attribute|Index|JSONDecode|Integrity|Operational)Error")
BOOKKEEPING = {"inbox", "inbox_effect", "alembic_version"}


def snapshot(bot: Bot) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the records live in."""
    with bot.runtime.engine.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
            for table in SQLModel.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


def said_to_people(bot: Bot, since: int) -> list[str]:
    """Every text the bot sent to Slack after the first `since` calls."""
    texts = []
    for call in bot.fake.calls()[since:]:
        for key in ("text", "blocks", "view"):
            if key in call.params:
                texts.append(json.dumps(call.params[key], ensure_ascii=False))
    return texts


@pytest.fixture
def populated(bot: Bot) -> Bot:
    """A bot with a sheet, a meeting whose minutes are owed and an action item to (not) change."""
    create_sheet(bot)
    meeting(bot, start=EARLIER)
    action_item(bot)
    api_calls(bot)
    return bot


def form(**fields: str) -> tuple[str, str]:
    """A slash command body with these fields (others missing)."""
    from urllib.parse import urlencode

    return urlencode(fields), "application/x-www-form-urlencoded"


def interactive(payload: Any) -> tuple[str, str]:
    """An interactivity body: payload=<json>."""
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def events(body: Any) -> tuple[str, str]:
    """An Events API body."""
    return json.dumps(body), "application/json"


USER = {"id": DAVE, "username": "dave", "team_id": TEAM}
BIG = "长" * 50_000 + "x" * 50_000  # 100 KB of text, more in UTF-8


def _click(action_id: str, value: Any, **extra: Any) -> tuple[str, str]:
    return interactive(
        {
            "type": "block_actions",
            "user": USER,
            "team": {"id": TEAM},
            "trigger_id": "1.2.3",
            "actions": [
                {"action_id": action_id, "block_id": "b", "type": "button", "value": value, "action_ts": "1.2"}
            ],
            **extra,
        }
    )


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


def _submission(callback_id: str, values: Any, metadata: Any = "") -> tuple[str, str]:
    return interactive(submission_payload(callback_id, values, metadata))


def _event(event: Any, **extra: Any) -> tuple[str, str]:
    return events(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "event_id": "EvFUZZ",
            "event_time": 1,
            "event": event,
            **extra,
        }
    )


MALFORMED: dict[str, tuple[str, str]] = {
    "command without a user": form(command="/requirement", text="list", channel_id=GENERAL, team_id=TEAM),
    "command without a channel": form(command="/meeting", text="MTG-2026-001", user_id=DAVE, team_id=TEAM),
    "command without a trigger": form(command="/action", text="", user_id=DAVE, channel_id=GENERAL, team_id=TEAM),
    "command for an unknown record": form(
        command="/requirement", text="RW-2026-999", user_id=DAVE, channel_id=GENERAL, team_id=TEAM, response_url=""
    ),
    "command with 100 KB": form(command="/action", text=BIG, user_id=DAVE, channel_id=GENERAL, team_id=TEAM),
    "command with control characters": form(
        command="/requirement", text="\x00\x1b[2J\u202e", user_id=DAVE, channel_id=GENERAL, team_id=TEAM
    ),
    "unknown command": form(command="/nope", text="x", user_id=DAVE, channel_id=GENERAL, team_id=TEAM),
    "no command at all": form(text="hello"),
    "payload not JSON": ("payload=%7B%22type%22%3A", "application/x-www-form-urlencoded"),
    "payload a list": interactive([1, 2]),
    "payload null": interactive(None),
    "payload a string": interactive("block_actions"),
    "actions missing": interactive({"type": "block_actions", "user": USER}),
    "actions not a list": interactive({"type": "block_actions", "user": USER, "actions": "x"}),
    "an empty action": interactive({"type": "block_actions", "user": USER, "actions": [{}]}),
    "user is a string": _click(R.CONFIRM, "1", user="U_DAVE"),
    "no user": interactive({"type": "block_actions", "actions": [{"action_id": R.CONFIRM, "value": "1"}]}),
    "value not a number": _click(R.CONFIRM, "one"),
    "value a list": _click(A.DONE, [1]),
    "value huge": _click(M.RECORD_MINUTES, "9" * 5000),
    "unknown sheet": _click(R.CONFIRM, "999999"),
    "unknown item": _click(A.DONE, "999999"),
    "unknown meeting": _click(M.EDIT, "-1"),
    "unknown question": _click(R.ANSWERED, "0"),
    "unknown incident": _click(INC.ACK, "424242"),
    "status of nothing": _click(f"{INC.STATUS}nonsense", "x:y"),
    "home page garbage": _click(H.MORE, "actions:99999999999999999999"),
    "history garbage": interactive(
        {
            "type": "block_actions",
            "user": USER,
            "actions": [
                {"action_id": history_blocks.ACTION_ID, "type": "overflow", "selected_option": "requirement:1"}
            ],
        }
    ),
    "language garbage": interactive(
        {
            "type": "block_actions",
            "user": USER,
            "view": {"private_metadata": "{"},
            "actions": [{"action_id": H.LANGUAGE, "selected_option": {"value": "xx"}}],
        }
    ),
    "view missing": interactive({"type": "view_submission", "user": USER}),
    "state missing": interactive(
        {"type": "view_submission", "user": USER, "view": {"id": "V1", "callback_id": R.MODAL}}
    ),
    "values a list": _submission(R.MODAL, []),
    "values of the wrong types": _submission(M.MODAL, {"start": {"value": {"value": 5}}, "title": [None]}),
    "sheet with nothing": _submission(R.MODAL, {}),
    "sheet with 100 KB": _submission(R.MODAL, {"description": {"value": {"type": "plain_text_input", "value": BIG}}}),
    "edit of an unknown sheet": _submission(R.MODAL, REQUIREMENT_STATE, metadata='{"c": "C_GENERAL", "r": 999}'),
    "edit with a wrong revision type": _submission(R.MODAL, REQUIREMENT_STATE, metadata='{"r": "1", "v": []}'),
    "metadata garbage": _submission(M.MINUTES_MODAL, {}, metadata="{not json"),
    "minutes of nobody's meeting": _submission(M.MINUTES_MODAL, MINUTES_STATE, metadata='{"m": "x"}'),
    "minutes of an unknown meeting": _submission(M.MINUTES_MODAL, MINUTES_STATE, metadata='{"m": 999}'),
    "changes to an unknown sheet": _submission(
        R.CHANGES_MODAL, {"reason": {"value": {"value": "x"}}}, metadata='{"r": 999}'
    ),
    "blocked reason for nothing": _submission(A.BLOCKED_MODAL, {"reason": {"value": {"value": "x"}}}, metadata="abc"),
    "incident with nothing": _submission(INC.MODAL, {"severity": {"value": {"selected_option": "SEV1"}}}),
    "resolution of nothing": _submission(INC.RESOLVE_MODAL, {}, metadata='{"i": 77}'),
    "unknown callback": _submission("nope", {}),
    "shortcut without a message": interactive(
        {"type": "message_action", "callback_id": A.SHORTCUT, "user": USER, "trigger_id": "1.2.3"}
    ),
    "event missing": events({"type": "event_callback", "event_id": "EvNONE"}),
    "event a string": _event("reaction_added"),
    "reaction without an item": _event({"type": "reaction_added", "user": DAVE, "reaction": "white_check_mark"}),
    "reaction with an odd item": _event(
        {
            "type": "reaction_added",
            "user": DAVE,
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": ["C"], "ts": {"x": 1}},
        }
    ),
    "reaction without a user": _event(
        {
            "type": "reaction_removed",
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": GENERAL, "ts": "1790000000.000100"},
        }
    ),
    "reaction 100 KB": _event(
        {
            "type": "reaction_added",
            "user": DAVE,
            "reaction": BIG,
            "item": {"type": "message", "channel": GENERAL, "ts": "1790000000.000100"},
        }
    ),
    "home without a user": _event({"type": "app_home_opened", "tab": "home"}),
    "unknown event": _event({"type": "channel_created", "channel": {}}),
    "JSON array": ("[]", "application/json"),
    "JSON scalar": ("7", "application/json"),
    "deep nesting": ("[" * 5000 + "]" * 5000, "application/json"),
}


def test_signed_malformed_requests_get_a_clear_answer_and_change_nothing(populated: Bot) -> None:
    bot = populated
    before, calls = snapshot(bot), len(bot.fake.calls())
    statuses = {}
    for name, (body, ctype) in MALFORMED.items():
        reply = bot.slack.post(body, ctype)
        statuses[name] = reply.status
        assert not LEAKS.search(reply.body), (name, reply.body)
    assert {n: s for n, s in statuses.items() if s >= 500} == {}
    api_calls(bot, settle=1.0)
    assert snapshot(bot) == before
    leaked = [text for text in said_to_people(bot, calls) if LEAKS.search(text)]
    assert leaked == []
    # still serving, and serving right
    assert bot.slack.slash("/requirement", "help", user=DAVE).status == 200
    assert bot.slack.slash("/requirement", "RW-2026-001", user=DAVE).status == 200
    shown = wait_until(
        lambda: [
            c for c in bot.fake.calls("response_url")[-1:] if "RW-2026-001" in json.dumps(c.params, ensure_ascii=False)
        ],
        what="the record shown",
    )
    assert shown


def test_100_kb_in_a_field_is_a_field_error_not_a_crash(bot: Bot) -> None:
    from storage.models import ActionItem, Meeting, Requirement

    for command, values, field in (
        ("/requirement", {**SHEET_VALUES, "description": BIG}, "description"),
        ("/meeting", {**MEETING_VALUES, "title": BIG}, "title"),
        ("/action", {**ACTION_VALUES, "what": BIG}, "what"),
    ):
        view = open_view(bot, lambda c=command: bot.slack.slash(c, "", user=ALICE))  # type: ignore[misc]
        reply = bot.slack.submit_view(values, view=view, enforce_required=False)
        assert reply.status == 200 and reply.acked_in_time, (command, reply.status)
        errors = (reply.json() or {}).get("errors") or {}
        assert field in errors and len(errors[field]) <= 150, (command, reply.body[:300])
    api_calls(bot)
    assert (count(bot, Requirement), count(bot, Meeting), count(bot, ActionItem)) == (0, 0, 0)


INJECTION = "<!channel> <!here|here> <@U_DAVE> <https://evil.example|click> *bold* \x00\x07\x1b[31m&amp;"


def test_mrkdwn_injection_and_control_characters_are_shown_as_typed_not_obeyed(bot: Bot) -> None:
    sheet = create_sheet(bot, background=INJECTION, goal=INJECTION, requester_dept="Ops <!channel>")
    bot.slack.slash("/action", f"@bob {INJECTION} by tomorrow 3pm", user=ALICE)
    card = wait_until(
        lambda: [
            c
            for c in bot.fake.calls("chat.postMessage")
            if c.params["channel"] == GENERAL and "ACT-" in str(c.params.get("text"))
        ],
        what="the action card",
    )[0]
    for shown in (json.dumps(sheet, ensure_ascii=False), json.dumps(card.params, ensure_ascii=False)):
        for obeyed in ("<!channel>", "<!here", "<@U_DAVE>", "<https://evil", "\\u0000", "\\u0007", "\\u001b"):
            assert obeyed not in shown, obeyed
        assert "&lt;!channel&gt;" in shown and "&amp;lt;" not in shown.replace("&amp;amp;", "")


# -- fuzz: signed requests of every kind, garbled at random ---------------------------------------------------------

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def garble(data: st.DataObject, valid: dict[str, Any]) -> Any:
    """A valid payload with a few parts removed, retyped or replaced by junk."""
    body: Any = json.loads(json.dumps(valid))
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(body)
        path = data.draw(st.sampled_from(paths))
        replacement = data.draw(st.one_of(st.just("<delete>"), junk, st.text(max_size=200)))
        if not path:
            body = replacement
            break
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if replacement == "<delete>":
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    return body


def _valid_requests(bot: Bot) -> dict[str, tuple[Callable[[Any], tuple[str, str]], dict[str, Any]]]:
    """One request of each kind that would change nothing even if it arrived intact (Dave owns nothing)."""
    sheet = create_sheet(bot)
    command = {
        "command": "/requirement",
        "text": "RW-2026-999",
        "user_id": DAVE,
        "channel_id": GENERAL,
        "team_id": TEAM,
        "trigger_id": "1.2.3",
        "response_url": bot.fake.new_response_url(channel=GENERAL),
    }
    click = click_payload(bot, sheet, requirement_blocks.Ids.CONFIRM, user=DAVE)
    submission = submission_payload(
        R.MODAL, {**REQUIREMENT_STATE, "due": {"value": {"type": "plain_text_input", "value": "whenever"}}}
    )
    reaction = {
        "type": "event_callback",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "event_id": "EvFUZZ0",
        "event_time": 1,
        "event": {
            "type": "reaction_added",
            "user": DAVE,
            "reaction": "thumbsup",
            "item": {"type": "message", "channel": GENERAL, "ts": sheet["ts"]},
        },
    }

    def as_form(fields: Any) -> tuple[str, str]:
        from urllib.parse import urlencode

        if isinstance(fields, dict):
            return urlencode(
                {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
            ), "application/x-www-form-urlencoded"
        return urlencode({"command": json.dumps(fields)}), "application/x-www-form-urlencoded"

    return {
        "slash command": (as_form, command),
        "button": (interactive, click),
        "view submission": (interactive, submission),
        "event": (events, reaction),
    }


@pytest.mark.parametrize("kind", ["slash command", "button", "view submission", "event"])
def test_garbled_requests_never_get_a_server_error_nor_change_anything(bot: Bot, kind: str) -> None:
    encode, valid = _valid_requests(bot)[kind]
    api_calls(bot)
    before = snapshot(bot)
    statuses: list[int] = []

    @FUZZ
    @given(data=st.data())
    def send(data: st.DataObject) -> None:
        body, ctype = encode(garble(data, valid))
        if data.draw(st.booleans()):  # and sometimes cut or spliced at the byte level
            cut = data.draw(st.integers(0, len(body)))
            body = body[:cut] + data.draw(st.text(max_size=20)) + body[cut + data.draw(st.integers(0, 20)) :]
        reply = bot.slack.post(body, ctype)
        statuses.append(reply.status)
        assert reply.status < 500, (reply.status, body[:500])
        assert not LEAKS.search(reply.body), reply.body

    send()
    api_calls(bot, settle=0.5)
    assert snapshot(bot) == before
    assert bot.slack.slash("/requirement", "help", user=DAVE).status == 200
    assert len(statuses) >= 40
