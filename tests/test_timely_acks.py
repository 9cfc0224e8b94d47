"""Every request Slack can send is acknowledged in time while the Web API takes 2 s a call."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

import handlers.blocks
from bot.manifest import BOT_EVENTS, manifest
from handlers.blocks import actions as action_blocks
from handlers.blocks import history as history_blocks
from handlers.blocks import home as home_blocks
from handlers.blocks import incident as incident_blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks import requirement as requirement_blocks
from handlers.membership import POST_AGAIN
from handlers.sandbox.driver import Reply
from handlers.sandbox.slack_api import ALICE, BOB, BOT, CAROL, DAVE, GENERAL
from tests.conftest import Bot
from tests.helpers import (
    ACTION_VALUES,
    EARLIER,
    LATER,
    MEETING_VALUES,
    SHEET_VALUES,
    TEAM,
    action_item,
    create_sheet,
    message,
    open_view,
    posted_meeting,
    wait_until,
)

ACK_LIMIT = 1.5  # seconds; Slack gives up at 3
SLOW_API = 2.0  # every Web API call takes this long while a request is acknowledged
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
        info = posted_meeting(bot, start=start)
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
    info = posted_meeting(bot, start=EARLIER)
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


def _resolved_incident(bot: Bot) -> Any:
    """An incident resolved by its commander, its resolution posted with Reopen in its channel."""
    from bot.services.incidents import ResolutionDraft

    info = incident(bot)
    services = bot.runtime.services
    done = services.incidents.resolve(
        info.id, user_id=ALICE, draft=ResolutionDraft(summary="Rolled back"), now=bot.clock()
    ).incident
    body = incident_blocks.resolution_blocks("en", done, now=bot.clock(), reopen_days=7)
    posted = bot.runtime.client.chat_postMessage(
        channel=done.channel_id, text="resolved", blocks=[b.to_dict() for b in body]
    )
    return dataclasses.replace(done, summary_ts=str(posted["ts"]))  # the resolution stands in for the summary


def _reopen(bot: Bot) -> Callable[[], Reply]:
    info = _resolved_incident(bot)
    said = message(bot, info.channel_id, info.summary_ts)
    return lambda: bot.slack.click(incident_blocks.Ids.REOPEN, user=ALICE, message=said)


def _severity(bot: Bot) -> Callable[[], Reply]:
    info = incident(bot)
    summary = message(bot, info.channel_id, info.summary_ts)
    return lambda: bot.slack.click(incident_blocks.Ids.SEVERITY, user=ALICE, message=summary, value=f"{info.id}:SEV1")


def _edit_incident(bot: Bot) -> Reply:
    info = incident(bot)
    return bot.slack.click(incident_blocks.Ids.EDIT, user=ALICE, message=message(bot, info.channel_id, info.summary_ts))


def _wont_do(bot: Bot) -> Reply:
    item = action_item(bot)
    return bot.slack.click(action_blocks.Ids.WONT_DO, user=BOB, message=message(bot, GENERAL, item.message_ts))


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
    Case("/meeting MTG-…", (), _command("/meeting", "MTG-2026-001", make=posted_meeting)),
    Case(
        "/meeting minutes MTG-…",
        (),
        _command("/meeting", "minutes MTG-2026-001", make=lambda b: posted_meeting(b, start=EARLIER)),
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
    Case("/incident stats", (), _command("/incident", "stats 30", make=incident)),
    Case("/incident severity", (), _command("/incident", "severity SEV1", make=incident, in_incident=True)),
    Case("/incident edit", (), _command("/incident", "edit", make=incident, in_incident=True)),
    Case("/incident reopen", (), _command("/incident", "reopen", make=_resolved_incident, in_incident=True)),
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
        lambda b: (lambda info: lambda: press(b, M.ACK, str(info.id), user=BOB))(posted_meeting(b, start=EARLIER)),
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
    Case("item won't do", ("actions.WONT_DO",), _item_click(A.WONT_DO)),
    Case("item reopened", ("actions.REOPEN",), _item_click(A.REOPEN)),
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
        _home_click(H.RECORD_MINUTES, lambda b: posted_meeting(b, start=EARLIER), lambda info: str(info.id)),
    ),
    Case("home: open link", ("home.OPEN",), _home_click(H.OPEN, action_item, lambda item: str(item.id))),
    Case("home: more", ("home.MORE",), _home_click(H.MORE, action_item, lambda _: "actions:2")),
    Case("home: previous", ("home.PREVIOUS",), _home_click(H.PREVIOUS, action_item, lambda _: "actions:1")),
    Case("home: first", ("home.FIRST",), _home_click(H.FIRST, action_item, lambda _: "actions:1")),
    Case("incident: acknowledge", ("incident.ACK",), _incident_click(INC.ACK)),
    Case("incident: status button", ("incident.STATUS",), _incident_click(f"{INC.STATUS}identified")),
    Case("incident: resolve", ("incident.RESOLVE",), _incident_click(INC.RESOLVE)),
    Case("incident: severity select", ("incident.SEVERITY",), _severity),
    Case("incident: edit", ("incident.EDIT",), _incident_click(INC.EDIT)),
    Case("incident: reopen", ("incident.REOPEN",), _reopen),
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
    Case(
        "edit an incident",
        ("incident.EDIT_MODAL",),
        _submit(_edit_incident, {"title": "Checkout is down in the EU"}),
        answer="closed",
    ),
    Case(
        "won't do reason",
        ("actions.WONT_DO_MODAL",),
        _submit(_wont_do, {"reason": "Replaced by the new launch plan"}, user=BOB),
        answer="closed",
    ),
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
    # with one configured token nothing listens to these, but they are stored and answered like any event
    Case("app uninstalled", ("event:app_uninstalled",), lambda bot: bot.slack.uninstall),
    Case("bot token revoked", ("event:tokens_revoked",), lambda bot: bot.slack.tokens_revoked),
]

# Ids members Slack never sends back to the app: block ids, and inputs that dispatch no actions.
NOT_SENT = {
    "requirement.REASON": "a block id",
    "actions.REASON": "a block id",
    "actions.SOURCE": "a block id",
    "actions.BUTTONS": "a block id prefix",
    "incident.INPUT": "inputs without dispatch_action",
    **{f"digest.{m.name}": "a block id" for m in importlib.import_module("handlers.blocks.digest").Ids},
    **{f"stats.{m.name}": "a block id" for m in importlib.import_module("handlers.blocks.stats").Ids},
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


# On PostgreSQL every case stores its row with the same INSERT before the answer: a sample of each kind of request
POSTGRES_CASES = frozenset(
    {
        "/requirement",
        "/action one line",
        "/incident",
        "sign with the button",
        "record minutes",
        "item done",
        "home: sign",
        "incident: acknowledge",
        "edited sheet",
        "✅ added",
        "📌 in an incident channel",
        "home opened",
        "bot removed from a channel",
        "app uninstalled",
    }
)


@pytest.mark.both_modes
@pytest.mark.postgres_cases(POSTGRES_CASES)
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
