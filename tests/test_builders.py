"""Builders of meetings, action items, incidents, digests and the App Home, validated by slack_sdk.models.

Each record is filled to the limit (long texts holding `<&>`, mentions and links typed by users, many people,
many lines), serialized with Slack's own validators, parsed back, and checked for escaping and for the buttons
each state offers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.services.actions import ActionInfo, ActionStatus
from bot.services.digests import Digest, Entry, OwnerGroup, Ref, Trend
from bot.services.incident_text import OPEN_STATUSES, Severity, Status
from bot.services.incidents import IncidentInfo, IncidentReview, TimelineItem
from bot.services.meetings import AgendaEntry, MeetingDraft, MeetingInfo
from bot.services.requirements import RequirementInfo
from bot.services.requirements import Status as ReqStatus
from bot.text import t
from handlers.blocks import actions as ab
from handlers.blocks import digest as db
from handlers.blocks import history
from handlers.blocks import home as hb
from handlers.blocks import incident as ib
from handlers.blocks import meeting as mb
from handlers.blocks.common import ModalMeta, date_token

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
LANGS = ["en", "zh"]
LONG = "<&>" * 1000  # 3,000 characters that triple in length once escaped
ESCAPED = "&lt;&amp;&gt;"
EVIL = "<!channel> <https://evil|x> & <@U_EVIL>"  # typed by a user: must neither ping nor link
PERMALINK = "https://acme.slack.com/archives/C1/p1700000000000100"
PARTICIPANTS = tuple(f"U_P{i:03d}" for i in range(80))


# -- checks -------------------------------------------------------------------------------------------------


def as_dicts(blocks: Sequence[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    return [b if isinstance(b, dict) else b.to_dict() for b in blocks]


def validate_blocks(blocks: Sequence[Block | dict[str, Any]], limit: int = 50) -> list[dict[str, Any]]:
    """Serialize with Slack's validators, parse back, and check what slack_sdk does not: unique block_ids,
    unique action_ids within a block, section field lengths."""
    dicts = as_dicts(blocks)
    assert 0 < len(dicts) <= limit
    for d in dicts:
        parsed = Block.parse(d)
        assert parsed is not None
        assert parsed.to_dict() == d
        ids = [e["action_id"] for e in d.get("elements") or [] if isinstance(e, dict) and "action_id" in e]
        assert len(ids) == len(set(ids)), d
        for f in d.get("fields") or []:
            assert len(f["text"]) <= 2000
        if d["type"] == "section" and "text" in d:
            assert len(d["text"]["text"]) <= 3000
    block_ids = [d["block_id"] for d in dicts if "block_id" in d]
    assert len(block_ids) == len(set(block_ids)), block_ids
    return dicts


def validate_view(view: View, limit: int = 100) -> dict[str, Any]:
    """A modal or Home tab: Slack's view validators, its blocks, and initial values within their max_length."""
    d = view.to_dict()
    assert View(**d).to_dict() == d
    validate_blocks(d["blocks"], limit)
    assert len(d.get("private_metadata") or "") < 3000
    if d["type"] == "modal":
        assert 1 <= len(d["title"]["text"]) <= 24
    for block in d["blocks"]:
        element = block.get("element") or {}
        if "initial_value" in element and "max_length" in element:
            assert len(element["initial_value"]) <= element["max_length"]
    return d


def mrkdwn(node: Any) -> list[str]:
    """Every mrkdwn text in blocks or a view (where user text must be escaped)."""
    out: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if n.get("type") == "mrkdwn":
                out.append(n["text"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return out


def all_text(node: Any) -> str:
    return "\n".join(mrkdwn(node))


def assert_escaped(node: Any, *, mentions: bool = False) -> None:
    """User text reaches mrkdwn escaped: no raw `<&>`, no @channel, no link from the user, and no mention of
    a person unless `mentions` (incident texts keep the <@U…> typed in them, on purpose)."""
    text = all_text(node)
    assert ESCAPED in text
    for raw in ("<&>", "<!channel>", "<https://evil"):
        assert raw not in text
    assert ("<@U_EVIL>" in text) == mentions


def action_ids(node: Any) -> list[str]:
    """The action_ids of every interactive element, in order."""
    out: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if "action_id" in n and n.get("type") in ("button", "overflow", "static_select"):
                out.append(n["action_id"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return out


def tokens_closed(text: str) -> bool:
    """Every Slack token (<@U…>, <!date^…>, <link|…>) is closed: `<` and `>` alternate and end closed."""
    depth = 0
    for ch in text:
        if ch == "<":
            if depth:
                return False
            depth = 1
        elif ch == ">":
            if not depth:
                return False
            depth = 0
    return depth == 0


# -- records filled to the limit --------------------------------------------------------------------------------


def meeting(**overrides: Any) -> MeetingInfo:
    base: dict[str, Any] = dict(
        id=3,
        code="MTG-2026-003",
        team_id="T1",
        title=EVIL + " " + "T" * 200,
        goal=EVIL + LONG,
        start=NOW + timedelta(days=1),
        duration_minutes=90,
        location=EVIL + LONG,
        materials=EVIL + LONG,
        host_id="U_ALICE",
        channel_id="C1",
        message_ts="1700000000.000100",
        created_by="U_ALICE",
        created_at=NOW,
        participants=PARTICIPANTS,
        agenda=tuple(AgendaEntry(f"{EVIL} topic {n}", "U_BOB", 4) for n in range(20)),
        decisions=tuple(f"{EVIL} {n} " + "<&>" * 160 for n in range(30)),
        notes=EVIL + LONG,
        minutes_at=None,
        minutes_by=None,
        minutes_ts=None,
    )
    base.update(overrides)
    return MeetingInfo(**base)


def action(**overrides: Any) -> ActionInfo:
    base: dict[str, Any] = dict(
        id=9,
        code="ACT-2026-009",
        team_id="T1",
        title=EVIL + LONG,
        owner_id="U_BOB",
        creator_id="U_ALICE",
        due=NOW + timedelta(days=2),
        deliverable=EVIL + LONG,
        status=ActionStatus.OPEN,
        blocked_reason=None,
        source_type="meeting",
        source_id=3,
        source_code="MTG-2026-003",
        escalate_to="U_ALICE",
        channel_id="C1",
        message_ts="1700000000.000200",
        created_at=NOW,
        updated_at=NOW,
        done_at=None,
        context=f"{PERMALINK}\n{EVIL}{LONG}",
        escalated_at=NOW,
    )
    base.update(overrides)
    return ActionInfo(**base)


def in_state(status: ActionStatus) -> ActionInfo:
    return action(
        status=status,
        blocked_reason=EVIL + LONG if status == ActionStatus.BLOCKED else None,
        done_at=NOW if status == ActionStatus.DONE else None,
    )


KINDS = ("declared", "acknowledged", "escalated", "status", "update", "role", "lead", "decision", "pinned", "resolved")
DETAIL: dict[str, dict[str, Any]] = {
    "declared": {"severity": "SEV1", "commander": "U_ALICE"},
    "acknowledged": {"backup": True},
    "escalated": {"to": ["U_CAROL", "U_DAVE"]},
    "status": {"from": "investigating", "to": "identified"},
    "resolved": {"from": "monitoring", "to": "resolved"},
    "role": {"role": "comms", "user": "U_CAROL"},
    "lead": {"to": "U_CAROL"},
}


def incident(**overrides: Any) -> IncidentInfo:
    timeline = tuple(
        TimelineItem(
            NOW - timedelta(hours=3) + timedelta(seconds=30 * n),
            "coordbot" if n % 7 == 0 else "U_BOB",
            KINDS[n % len(KINDS)],
            text=f"{EVIL} <@U_BOB> " + "<&>" * 200,
            detail=DETAIL.get(KINDS[n % len(KINDS)], {}),
        )
        for n in range(300)
    )
    base: dict[str, Any] = dict(
        id=5,
        code="INC-2026-005",
        team_id="T1",
        title=EVIL + " " + "I" * 150,
        severity=Severity.SEV1,
        status=Status.INVESTIGATING,
        description=f"{EVIL} ask <@U_BOB> {LONG}",
        impact=EVIL + LONG,
        commander_id="U_ALICE",
        comms_id="U_CAROL",
        responders=PARTICIPANTS,
        declared_by="U_ALICE",
        declared_in="C1",
        channel_id="C_INC",
        channel_name="inc-20261126-db",
        summary_ts="1.1",
        announce_channel_id="C_ANN",
        announce_ts="1.2",
        declared_at=NOW - timedelta(hours=3),
        acknowledged_at=None,
        acknowledged_by=None,
        escalated_at=NOW - timedelta(hours=2),
        last_update_at=NOW,
        resolved_at=None,
        resolved_by=None,
        resolution=None,
        created_at=NOW,
        updated_at=NOW,
        timeline=timeline,
    )
    base.update(overrides)
    return IncidentInfo(**base)


def resolved(info: IncidentInfo) -> IncidentInfo:
    return replace(info, status=Status.RESOLVED, resolved_at=NOW, resolved_by="U_ALICE", resolution=EVIL + LONG)


def requirement(n: int) -> RequirementInfo:
    return RequirementInfo(
        id=n,
        code=f"RW-2026-{n:03d}",
        team_id="T1",
        revision=1,
        status=ReqStatus.AWAITING,
        author_id="U_ALICE",
        requester_dept="D",
        requester_owner="U_ALICE",
        receiver_dept="E",
        receiver_owner="U_BOB",
        background=LONG,
        goal=LONG,
        description=LONG,
        priority="high",
        due=NOW + timedelta(days=9),
        resources="",
        confirm_by=NOW - timedelta(days=n % 3),
        channel_id="C1",
        message_ts=f"1700000000.{n:06d}",
        change_reason=None,
        created_at=NOW,
        updated_at=NOW,
        confirmed_at=None,
    )


# -- meetings --------------------------------------------------------------------------------------------------

MEETING_STATES: dict[str, dict[str, Any]] = {
    "upcoming": {},
    "minutes_owed": {"start": NOW - timedelta(hours=3)},
    "recorded": {"start": NOW - timedelta(hours=3), "minutes_at": NOW, "minutes_by": "U_ALICE", "minutes_ts": "1.3"},
    "acknowledged": {
        "start": NOW - timedelta(hours=3),
        "minutes_at": NOW,
        "minutes_by": "U_ALICE",
        "minutes_ts": "1.3",
        "acks": tuple((u, NOW) for u in PARTICIPANTS[:5]),
    },
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", list(MEETING_STATES))
def test_meeting_card_in_each_state(lang: str, state: str) -> None:
    info = meeting(**MEETING_STATES[state])
    dicts = validate_blocks(mb.card_blocks(lang, info, tz="Asia/Shanghai"))
    assert_escaped(dicts)
    assert dicts[0]["type"] == "header" and dicts[0]["text"]["text"].startswith("MTG-2026-003 · ")
    assert len(dicts[0]["text"]["text"]) <= 150
    text = all_text(dicts)
    assert "<@U_P059>" in text and "<@U_P060>" not in text  # 60 participants at most
    buttons = {e["action_id"]: e for e in dicts[-1]["elements"]}
    assert list(buttons) == [mb.Ids.RECORD_MINUTES, mb.Ids.EDIT, history.ACTION_ID]
    assert buttons[history.ACTION_ID]["options"][0]["value"] == "meeting:3"
    recorded = info.minutes_at is not None
    assert (buttons[mb.Ids.RECORD_MINUTES].get("style") == "primary") == (not recorded)
    label = t(lang, "meeting.button.edit_minutes" if recorded else "meeting.button.minutes")
    assert buttons[mb.Ids.RECORD_MINUTES]["text"]["text"] == label
    assert (t(lang, "meeting.minutes_pending") in text) == (not recorded)
    if state == "recorded":
        assert t(lang, "meeting.nobody") in text
    if state == "acknowledged":
        assert all(f"<@{u}>" in text for u in PARTICIPANTS[:5]) and t(lang, "meeting.nobody") not in text


@pytest.mark.parametrize("lang", LANGS)
def test_meeting_agenda_lists_every_item_and_says_when_there_is_none(lang: str) -> None:
    agenda = tuple(AgendaEntry(f"{EVIL} topic {n}", f"U_O{n:02d}", 4) for n in range(20))
    card = mb.card_blocks(lang, meeting(agenda=agenda), tz="UTC")[:-1]  # the agenda DM: the card, no buttons
    dicts = validate_blocks(card)
    assert "actions" not in [d["type"] for d in dicts] and action_ids(dicts) == []
    text = all_text(dicts)
    assert_escaped(dicts)
    for n in range(20):
        assert f"{n + 1}. &lt;!channel&gt;" in text and f"<@U_O{n:02d}>" in text
    empty = all_text(validate_blocks(mb.card_blocks(lang, meeting(agenda=(), location="", materials=""), tz="UTC")))
    assert t(lang, "meeting.no_agenda") in empty


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("ack_button", [False, True])
def test_minutes_message_at_every_limit(lang: str, ack_button: bool) -> None:
    info = meeting(**MEETING_STATES["recorded"])
    actions = [action(id=100 + n, code=f"ACT-2026-{100 + n}") for n in range(45)]
    dicts = validate_blocks(mb.minutes_blocks(lang, info, actions, tz="Asia/Shanghai", ack_button=ack_button))
    assert_escaped(dicts)
    assert dicts[0]["text"]["text"].startswith(t(lang, "meeting.minutes.header", code="MTG-2026-003", title=""))
    assert "ACT-2026-100" in all_text(dicts)
    assert action_ids(dicts) == ([mb.Ids.ACK] if ack_button else [])
    nothing = all_text(validate_blocks(mb.minutes_blocks(lang, meeting(decisions=(), notes=""), [], tz="UTC")))
    assert nothing.count(t(lang, "meeting.minutes.none")) == 2


@pytest.mark.parametrize("lang", LANGS)
def test_meeting_modals_are_valid_views(lang: str) -> None:
    info = meeting(**MEETING_STATES["recorded"])
    new = validate_view(mb.meeting_modal(lang, meta=ModalMeta("C1"), user_id="U_ALICE", now=NOW, tz="UTC"))
    draft = replace(info.draft(), title="T" * 400, participants=PARTICIPANTS)
    edit = validate_view(
        mb.meeting_modal(
            lang, meta=ModalMeta("C1", 3), user_id="U_ALICE", now=NOW, tz="UTC", draft=draft, code=info.code
        )
    )
    assert [b.get("block_id") for b in new["blocks"]][-1] == "channel"
    assert "channel" not in [b.get("block_id") for b in edit["blocks"]]
    assert "MTG-2026-003" in edit["title"]["text"]
    assert new["callback_id"] == edit["callback_id"] == mb.Ids.MODAL
    assert ModalMeta.load(edit["private_metadata"]) == ModalMeta("C1", 3)
    fields = {b["block_id"]: b for b in edit["blocks"] if "block_id" in b}
    assert fields["participants"]["element"]["initial_users"] == list(PARTICIPANTS)
    assert t(lang, "meeting.echo.too_many", n=80, max=10) in all_text(fields["participants_echo"])
    minutes = validate_view(mb.minutes_modal(lang, meeting=info, actions=[action()] * 25, tz="UTC"))
    assert mb.minutes_meta(minutes["private_metadata"]) == 3
    assert "MTG-2026-003" in minutes["title"]["text"]
    assert_escaped(minutes)
    inputs = [b["block_id"] for b in minutes["blocks"] if b["type"] == "input"]
    assert inputs == list(mb.MINUTES_FIELDS)


def test_meeting_draft_prefill_survives_a_draft_at_the_limits() -> None:
    draft = MeetingDraft(
        title="x" * 150,
        goal=LONG,
        start=NOW + timedelta(days=1),
        duration_minutes=90,
        host_id="U_ALICE",
        participants=PARTICIPANTS,
        channel_id="C1",
        location=LONG,
        materials=LONG,
        agenda=tuple(AgendaEntry("t" * 200, "U_BOB", 4) for _ in range(20)),
    )
    view = validate_view(
        mb.meeting_modal(
            "en", meta=ModalMeta("C1", 3), user_id="U_ALICE", now=NOW, tz="UTC", draft=draft, code="MTG-2026-003"
        )
    )
    agenda = next(b for b in view["blocks"] if b.get("block_id") == "agenda")["element"]
    assert agenda["initial_value"].startswith("t" * 200 + " — <@U_BOB> — 4 min")


def long_list(where: str, lang: str, n: int, count: int = 40) -> list[str]:
    """The mrkdwn of a builder that lists `count` lines (20 at most on the card) of `n`-character titles,
    each with a mention and a date."""
    if where == "card agenda":
        agenda = tuple(AgendaEntry("a" * n, "U_BOB", 4) for _ in range(min(count, 20)))
        return mrkdwn(as_dicts(mb.card_blocks(lang, meeting(agenda=agenda), tz="UTC")))
    items = [action(title="b" * n, deliverable="") for _ in range(count)]
    if where == "minutes":
        return mrkdwn(as_dicts(mb.minutes_blocks(lang, meeting(), items, tz="UTC")))
    return mrkdwn(mb.minutes_modal(lang, meeting=meeting(), actions=items, tz="UTC").to_dict())


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("where", ["card agenda", "minutes", "minutes modal"])
def test_long_meeting_lists_are_cut_between_slack_tokens(where: str, lang: str) -> None:
    lengths = range(100, 300) if where == "card agenda" else range(50, 150)
    broken = [(n, text[-40:]) for n in lengths for text in long_list(where, lang, n) if not tokens_closed(text)]
    assert broken == []


def test_lists_that_fit_keep_every_token_closed() -> None:
    for where in ("card agenda", "minutes", "minutes modal"):
        for lang in LANGS:
            texts = long_list(where, lang, 20, count=10)
            assert all(tokens_closed(text) for text in texts)
            assert sum(text.count("<@U_BOB>") for text in texts) >= 10


# -- action items ---------------------------------------------------------------------------------------------

OFFERED = {  # "Won't do…" sits beside the card's fields; the rest are the card's buttons
    ActionStatus.OPEN: [ab.Ids.WONT_DO, ab.Ids.ACCEPT, ab.Ids.BLOCKED, ab.Ids.DONE, history.ACTION_ID],
    ActionStatus.IN_PROGRESS: [ab.Ids.WONT_DO, ab.Ids.BLOCKED, ab.Ids.DONE, history.ACTION_ID],
    ActionStatus.BLOCKED: [ab.Ids.WONT_DO, ab.Ids.IN_PROGRESS, ab.Ids.DONE, history.ACTION_ID],
    ActionStatus.DONE: [],
    ActionStatus.WONT_DO: [ab.Ids.REOPEN, history.ACTION_ID],
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", list(ActionStatus))
@pytest.mark.parametrize("link", [None, PERMALINK])
def test_action_card_in_every_status(lang: str, status: ActionStatus, link: str | None) -> None:
    item = in_state(status)
    dicts = validate_blocks(ab.action_card(lang, item, tz="Asia/Shanghai", source_link=link))
    assert_escaped(dicts)
    text = all_text(dicts)
    assert "*ACT-2026-009*" in text and "<@U_BOB>" in text
    assert action_ids(dicts) == OFFERED[status]
    source = next(d for d in dicts if d.get("block_id") == ab.Ids.SOURCE)
    assert (f"<{PERMALINK}|MTG-2026-003>" in source["elements"][0]["text"]) == (link is not None)
    assert ab.shown_source_link(dicts) == link
    reason = t(lang, "action.blocked_reason", reason="&lt;!channel&gt; &lt;https://evil|x&gt;")
    assert (reason in text) == (status == ActionStatus.BLOCKED)
    done = t(lang, "action.done_at", when=date_token(NOW, "Asia/Shanghai"))
    assert (done in text) == (status == ActionStatus.DONE)
    assert f"<{PERMALINK}|" in text  # the context keeps the original message's link


@pytest.mark.parametrize("lang", LANGS)
def test_action_card_without_source_context_or_buttons(lang: str) -> None:
    item = action(source_code="", source_type="", source_id=None, context=f"\n{EVIL}{LONG}", deliverable="")
    dicts = validate_blocks(ab.action_card(lang, item, tz="UTC", source_link=PERMALINK))
    assert ab.Ids.SOURCE not in [d.get("block_id") for d in dicts]
    assert ab.shown_source_link(dicts) is None
    assert t(lang, "action.no_deliverable") in all_text(dicts)
    assert_escaped(dicts)
    quiet = validate_blocks(ab.action_card(lang, item, tz="UTC", source_link=None, buttons=False))
    assert action_ids(quiet) == [] and "actions" not in [d["type"] for d in quiet]
    assert EVIL not in ab.action_text(lang, item, "UTC") and "ACT-2026-009" in ab.action_text(lang, item, "UTC")


@pytest.mark.parametrize("lang", LANGS)
def test_action_modal_and_blocked_modal_are_valid_views(lang: str) -> None:
    empty = validate_view(ab.action_modal(lang, meta=ModalMeta("C1"), user_id="U_ALICE", now=NOW, tz="UTC"))
    prefill = ab.ActionPrefill(
        title=EVIL + LONG * 2,
        owner_id="U_BOB",
        due_text="next friday " * 20,
        deliverable=LONG,
        source="MTG-2026-003" * 5,
    )
    full = validate_view(
        ab.action_modal(
            lang,
            meta=ModalMeta("C1", context_ts="1.2"),
            user_id="U_ALICE",
            now=NOW,
            tz="Asia/Shanghai",
            prefill=prefill,
        )
    )
    for view in (empty, full):
        assert [b.get("block_id") for b in view["blocks"]] == [
            "what",
            "owner",
            "due",
            "due_echo",
            "deliverable",
            "channel",
            "source",
        ]
        assert view["callback_id"] == ab.Ids.MODAL
    assert ModalMeta.load(full["private_metadata"]).context_ts == "1.2"
    fields = {b["block_id"]: b for b in full["blocks"]}
    assert fields["owner"]["element"]["initial_user"] == "U_BOB"
    assert len(fields["what"]["element"]["initial_value"]) <= 500
    assert all_text(fields["due_echo"]).startswith("⚠️")  # twenty "next friday"s are not a date
    echoed = validate_view(ab.with_due_echo(full, "→ soon"))
    assert next(b for b in echoed["blocks"] if b["block_id"] == "due_echo")["elements"][0]["text"] == "→ soon"
    blocked = validate_view(ab.blocked_modal(lang, action(title=EVIL + LONG)))
    assert blocked["callback_id"] == ab.Ids.BLOCKED_MODAL and blocked["private_metadata"] == "9"
    assert [b.get("block_id") for b in blocked["blocks"] if b["type"] == "input"] == [ab.Ids.REASON]
    assert "*ACT-2026-009*" in all_text(blocked)
    assert_escaped(blocked)


# -- incidents ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("severity", list(Severity))
def test_incident_summary_in_each_status_and_severity(lang: str, status: Status, severity: Severity) -> None:
    acked = severity in (Severity.SEV2, Severity.SEV4)
    info = replace(
        incident(severity=severity, status=status),
        acknowledged_at=NOW if acked else None,
        acknowledged_by="U_ALICE" if acked else None,
    )
    if status == Status.RESOLVED:
        info = resolved(info)
    dicts = validate_blocks(ib.summary_blocks(lang, info, tz="Asia/Shanghai", now=NOW))
    assert_escaped(dicts, mentions=True)
    text = all_text(dicts)
    assert dicts[0]["text"]["text"].startswith("🚨 INC-2026-005 · ")
    assert ib.severity_label(lang, severity) in text and ib.status_label(lang, status) in text
    assert "ask <@U_BOB>" in text  # a mention typed in the description still notifies
    assert "<@U_P059>" in text and "<@U_P060>" not in text
    ids = action_ids(dicts)
    if status == Status.RESOLVED:
        assert ids == [] and t(lang, "incident.label.duration") in text
        return
    statuses = [f"{ib.Ids.STATUS}{s.value}" for s in OPEN_STATUSES if s != status]
    assert ids == [ib.Ids.SEVERITY, ib.Ids.EDIT] + ([] if acked else [ib.Ids.ACK]) + statuses + [ib.Ids.RESOLVE]
    resolve = next(e for e in dicts[-1]["elements"] if e["action_id"] == ib.Ids.RESOLVE)
    assert "INC-2026-005" in resolve["confirm"]["text"]["text"] and resolve["style"] == "danger"
    assert ("<@U_ALICE>" in text) and (ib.summary_text(lang, info).count("<!channel>") == 0)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", list(Status))
def test_incident_announcement_in_each_status(lang: str, status: Status) -> None:
    info = incident(status=status)
    if status == Status.RESOLVED:
        info = resolved(info)
    dicts = validate_blocks(ib.announcement_blocks(lang, info, tz="UTC", now=NOW))
    assert_escaped(dicts, mentions=True)
    text = all_text(dicts)
    assert "*INC-2026-005 · " in text and "<#C_INC>" in text and action_ids(dicts) == []
    assert (t(lang, "incident.label.resolution") in text) == (status == Status.RESOLVED)
    fallback = ib.announcement_text(lang, info)
    assert "INC-2026-005" in fallback and "<!channel>" not in fallback and "<#C_INC>" in fallback
    no_channel = all_text(
        validate_blocks(ib.announcement_blocks(lang, replace(info, channel_id=""), tz="UTC", now=NOW))
    )
    assert "<#" not in no_channel


@pytest.mark.parametrize("lang", LANGS)
def test_incident_updates_ack_requests_and_resolution(lang: str) -> None:
    info = incident()
    update = validate_blocks(ib.update_blocks(lang, info, text=EVIL + LONG, user_id="U_BOB", at=NOW, tz="UTC"))
    assert_escaped(update, mentions=True)
    assert "INC-2026-005" in all_text(update)
    assert "<!channel>" not in ib.update_text(lang, info, EVIL)
    ack = validate_blocks(ib.ack_request_blocks(lang, info, "intro"))
    assert action_ids(ack) == [ib.Ids.ACK] and ack[-1]["elements"][0]["value"] == "5"
    done = ib.resolution_text(lang, resolved(info), now=NOW)
    assert "INC-2026-005" in done and "<@U_ALICE>" in done and ESCAPED in done
    assert "<!channel>" not in done and "<https://evil" not in done


@pytest.mark.parametrize("lang", LANGS)
def test_incident_review_is_split_into_messages_under_the_limit(lang: str) -> None:
    follow_ups = tuple(
        action(id=200 + n, code=f"ACT-2026-{200 + n}", source_type="incident", source_code="INC") for n in range(40)
    )
    messages = ib.review_messages(lang, IncidentReview(resolved(incident()), follow_ups), tz="UTC", now=NOW)
    assert len(messages) >= 3  # summary, a timeline of 300 moments over several messages, the last part
    for message in messages:
        dicts = validate_blocks(message, ib.MESSAGE_BLOCKS)
        assert "<&>" not in all_text(dicts) and "<!channel>" not in all_text(dicts)
    everything = [d for m in messages for d in as_dicts(m)]
    assert_escaped(everything, mentions=True)
    assert action_ids(everything) == [ib.Ids.REVIEW_MEETING]
    assert "INC-2026-005" in everything[0]["text"]["text"]
    text = all_text(everything)
    assert "ACT-2026-200" in text and "coordbot" in text


@pytest.mark.parametrize("lang", LANGS)
def test_incident_declare_and_resolve_modals(lang: str) -> None:
    declare = validate_view(ib.incident_modal(lang, meta=ModalMeta("C1"), user_id="U_ALICE", title=EVIL * 40))
    assert [b.get("block_id") for b in declare["blocks"] if b["type"] == "input"] == list(ib.FIELDS)
    severity = next(b for b in declare["blocks"] if b.get("block_id") == "severity")["element"]
    assert [o["value"] for o in severity["options"]] == [s.value for s in Severity]
    assert all(len(o["text"]["text"]) <= 75 and len(o["description"]["text"]) <= 75 for o in severity["options"])
    commander = next(b for b in declare["blocks"] if b.get("block_id") == "commander")["element"]
    assert commander["initial_user"] == "U_ALICE"
    resolve = validate_view(ib.resolve_modal(lang, resolved(incident()), now=NOW))
    assert ib.resolve_meta(resolve["private_metadata"]) == 5
    assert "INC-2026-005" in resolve["title"]["text"] and "*INC-2026-005 · " in all_text(resolve)
    assert [b.get("block_id") for b in resolve["blocks"] if b["type"] == "input"] == list(ib.RESOLVE_FIELDS)
    assert "<!channel>" not in all_text(resolve)


# -- digests ------------------------------------------------------------------------------------------------


def entry(n: int, **overrides: Any) -> Entry:
    base: dict[str, Any] = dict(
        ref=Ref(f"ACT-2026-{n:03d}", "C1", f"1700000000.{n:06d}"),
        title=EVIL + " " + LONG,
        people=("U_ALICE", "U_BOB", "U_CAROL"),
        when=NOW - timedelta(days=1),
        overdue=n % 2 == 0,
        done=n % 3 == 0,
        note=EVIL + LONG,
        source=Ref("MTG-2026-003", "C1", "1700000000.000100"),
    )
    base.update(overrides)
    return Entry(**base)


def full_digest() -> Digest:
    many = tuple(entry(n) for n in range(40))
    calm = tuple(replace(e, overdue=False) for e in many)  # lists whose people are never pinged
    return Digest(
        channel_id="C1",
        start=NOW - timedelta(days=7),
        end=NOW,
        needs_attention=many,
        confirmed=calm,
        awaiting=many,
        changes_requested=calm,
        done=calm,
        overdue=tuple(OwnerGroup(f"U_O{n:02d}", many[:7]) for n in range(30)),
        blocked=many,
        open=many,
        held=many,
        minutes_missing=many,
        upcoming=many,
        confirmed_trend=Trend(40, 3),
        done_trend=Trend(1, 9),
        overdue_trend=Trend(5, 5),
        incidents=tuple(entry(n, ref=Ref(f"INC-2026-{n:03d}", "C_INC", "1.1"), note=str(n)) for n in range(12)),
    )


def evil_name(user_id: str) -> str:
    return f"{EVIL} {user_id} <&>"  # a display name holds at most 80 characters


LIST_IDS = [
    db.Ids.INCIDENTS,
    db.Ids.ATTENTION,
    db.Ids.CONFIRMED,
    db.Ids.AWAITING,
    db.Ids.CHANGES,
    db.Ids.DONE,
    db.Ids.OVERDUE,
    db.Ids.BLOCKED,
    db.Ids.OPEN,
    db.Ids.HELD,
    db.Ids.MINUTES_MISSING,
    db.Ids.UPCOMING,
]


@pytest.mark.parametrize("lang", LANGS)
def test_digest_with_many_records_of_every_kind(lang: str) -> None:
    d = full_digest()
    dicts = validate_blocks(
        db.digest_blocks(
            lang,
            d,
            tz="Asia/Shanghai",
            name_of=evil_name,
            base_url="https://acme.slack.com/",
            late_due=NOW - timedelta(days=2),
        )
    )
    assert len(dicts) <= 25
    assert_escaped(dicts)
    by_id = {b["block_id"]: all_text(b) for b in dicts if "block_id" in b}
    assert [i for i in by_id if i in LIST_IDS] == LIST_IDS
    assert "<https://acme.slack.com/archives/C1/p1700000000000000|ACT-2026-000>" in by_id[db.Ids.OPEN]
    shown = by_id[db.Ids.OPEN].count("\n• ")
    assert 1 <= shown <= db.TOP  # at most TOP listed, fewer when long lines fill the section (here 4)
    assert by_id[db.Ids.OPEN].endswith("\n" + t(lang, "digest.more", n=40 - shown))  # the rest are counted
    owners = by_id[db.Ids.OVERDUE].count("\n• ")
    assert by_id[db.Ids.OVERDUE].endswith("\n" + t(lang, "digest.more_owners", n=30 - owners))
    assert "<@U_O00>" in by_id[db.Ids.OVERDUE]  # overdue work pings its owner
    assert "<@" not in by_id[db.Ids.CONFIRMED]  # everyone else is only named
    assert "&amp; &lt;@U_EVIL&gt; U_ALICE &lt;&amp;&gt;" in by_id[db.Ids.CONFIRMED]  # named, escaped
    assert t(lang, "digest.late", when=date_token(NOW - timedelta(days=2), "Asia/Shanghai")) in by_id[db.Ids.WINDOW]
    text = db.digest_text(lang, d, tz="UTC")
    assert "<@" not in text and "<#C1>" in text


@pytest.mark.parametrize("lang", LANGS)
def test_empty_digest_says_so(lang: str) -> None:
    empty = Digest(
        "C1",
        NOW - timedelta(days=7),
        NOW,
        (),
        (),
        (),
        (),
        (),
        (),
        (),
        (),
        (),
        (),
        (),
        Trend(0, 0),
        Trend(0, 0),
        Trend(0, 0),
    )
    dicts = validate_blocks(db.digest_blocks(lang, empty, tz="UTC", name_of=evil_name, base_url=None))
    assert [b["block_id"] for b in dicts] == [db.Ids.HEADER, db.Ids.WINDOW, db.Ids.EMPTY]
    assert all_text(dicts[-1]) == t(lang, "digest.empty")
    assert "<#C1>" in all_text(dicts[1])


def test_digest_without_workspace_url_names_records_without_links() -> None:
    dicts = validate_blocks(db.digest_blocks("en", full_digest(), tz="UTC", name_of=evil_name, base_url=None))
    text = all_text(dicts)
    assert "`ACT-2026-000`" in text and "<https://" not in text
    assert_escaped(dicts)


# -- the App Home ---------------------------------------------------------------------------------------------


def listing(records: Sequence[Any], *, total: int, page: int, links: bool = True) -> hb.Listing[Any]:
    return hb.Listing(
        records,
        total=total,
        page=page,
        late=total // 2,
        links={r.id: f"{PERMALINK}{r.id:04d}" for r in records} if links else {},
    )


def full_home(lang: str, page: int, total: int = 300) -> dict[str, Any]:
    first = (page - 1) * hb.PAGE_SIZE
    ids = range(first, min(first + hb.PAGE_SIZE, total))
    statuses = [ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED]
    actions = [
        replace(in_state(statuses[n % 3]), id=n, code=f"ACT-2026-{n:03d}", due=NOW - timedelta(days=n % 5)) for n in ids
    ]
    meetings = [
        meeting(
            id=n,
            code=f"MTG-2026-{n:03d}",
            start=NOW - timedelta(minutes=30) if n == first else NOW + timedelta(hours=n),
        )
        for n in ids
    ]
    view = hb.home(
        lang,
        awaiting=listing([requirement(n) for n in ids], total=total, page=page),
        actions=listing(actions, total=total, page=page),
        meetings=listing(meetings, total=total, page=page),
        minutes=listing(meetings, total=total, page=page, links=False),
        chosen_lang="zh",
        tz="Asia/Shanghai",
        now=NOW,
    )
    return validate_view(view, hb.MAX_BLOCKS)


@pytest.mark.parametrize("lang", LANGS)
def test_home_with_hundreds_of_items_stays_within_slack_limits(lang: str) -> None:
    view = full_home(lang, page=7)
    assert view["type"] == "home" and len(view["blocks"]) <= hb.MAX_BLOCKS
    assert hb.Pages.load(view["private_metadata"]) == hb.Pages(7, 7, 7, 7)
    assert_escaped(view)
    ids = action_ids(view)
    for button in (hb.Ids.SIGN, hb.Ids.DONE, hb.Ids.RECORD_MINUTES):
        assert ids.count(button) == hb.PAGE_SIZE
    assert ids.count(hb.Ids.OPEN) == 2 * hb.PAGE_SIZE  # the actions' and the upcoming meetings' links
    for pager in (hb.Ids.FIRST, hb.Ids.PREVIOUS, hb.Ids.MORE):
        assert ids.count(pager) == 4  # one of each for every part
    more = [e for b in view["blocks"] for e in b.get("elements") or [] if e.get("action_id") == hb.Ids.MORE]
    assert sorted(e["value"] for e in more) == sorted(f"{p.value}:8" for p in hb.Part)
    text = all_text(view)
    assert "ACT-2026-060" in text and "RW-2026-069" in text and "MTG-2026-065" in text
    assert t(lang, "home.showing", first=61, last=70, total=300) in text
    assert text.count(t(lang, "home.meetings.now")) == 1  # the meeting under way says so
    assert ids[-1] == hb.Ids.LANGUAGE


@pytest.mark.parametrize("lang", LANGS)
def test_home_on_its_first_and_last_pages(lang: str) -> None:
    first = action_ids(full_home(lang, page=1, total=205))
    assert hb.Ids.FIRST not in first and hb.Ids.PREVIOUS not in first and first.count(hb.Ids.MORE) == 4
    last = full_home(lang, page=21, total=205)
    ids = action_ids(last)
    assert hb.Ids.MORE not in ids and ids.count(hb.Ids.PREVIOUS) == 4 and ids.count(hb.Ids.SIGN) == 5
    assert t(lang, "home.showing", first=201, last=205, total=205) in all_text(last)


@pytest.mark.parametrize("lang", LANGS)
def test_empty_home(lang: str) -> None:
    view = validate_view(hb.home(lang, awaiting=hb.Listing(), chosen_lang=None, tz="UTC", now=NOW), hb.MAX_BLOCKS)
    assert action_ids(view) == [hb.Ids.LANGUAGE]
    text = all_text(view)
    for key in ("home.sign.none", "home.actions.none", "home.minutes.none"):
        assert t(lang, key) in text
    assert t(lang, "home.meetings.none", days=hb.MEETING_DAYS) in text
    select = next(b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == hb.Ids.LANGUAGE)
    assert select["accessory"]["initial_option"]["value"] == "auto"
    assert json.loads(view["private_metadata"]) == {p.value: 1 for p in hb.Part}
