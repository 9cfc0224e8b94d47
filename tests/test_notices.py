"""What due work comes to is decided in the core: a third messenger is a formatter and a sender, nothing more.

`PlainText` below is such a messenger, written on `bot` alone: it renders every notice the core plans as a line
of text. The tests tick the real outbox over a real SQLite file with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import notices as n
from bot.errors import DeliveryFailed
from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services import notices as rules
from bot.services.actions import ActionDraft, ActionStatus
from bot.services.incidents import IncidentDraft
from bot.services.requirements import QuestionDraft
from bot.text import t
from tests.conftest import START
from tests.helpers import core_services, sheet_draft

WS = "T_PLAIN"
ALICE, BOB, CAROL = "U_ALICE", "U_BOB", "U_CAROL"
GENERAL = "C_GENERAL"


class PlainFormat:
    """Times as ISO text in the reader's zone, links to messages as `msg:`, channels as `#`."""

    def when(self, at: datetime, tz: str, lang: str, *, with_time: bool = True) -> str:
        from zoneinfo import ZoneInfo

        return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")

    def link(self, channel: str | None, ts: str | None, *, fallback: bool) -> str | None:
        if channel and ts:
            return f"msg:{channel}/{ts}"
        return f"#{channel}" if channel and fallback else None

    def room(self, channel: str | None, code: str) -> str:
        return f"#{channel}" if channel else code


@dataclass
class PlainText:
    """A messenger that shows each notice as text: (to, kind, text) in the order sent."""

    services: Services
    langs: dict[str, str] = field(default_factory=dict)
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    fail: bool = False

    def deliver(self, work: DueWork, now: datetime) -> Outcome:
        plan = rules.plan(self.services, work, now)
        if plan.skipped:
            return Outcome.SKIPPED
        for notice in plan.notices:
            if self.fail:
                raise DeliveryFailed("messenger down", permanent=False, retry_after=0)
            lang = self.langs.get(notice.to, "en")
            text = n.render(notice.text, lang, "Asia/Shanghai", PlainFormat()) if notice.text else ""
            footer = n.render(notice.footer, lang, "Asia/Shanghai", PlainFormat()) if notice.footer else None
            self.sent.append((notice.to, work.kind, "\n".join(x for x in (text, footer) if x)))
        if plan.then is not None:
            plan.then()
        return Outcome.SENT

    def to(self, user: str) -> list[str]:
        return [text for who, _, text in self.sent if who == user]


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[PlainText]:
    with core_services(tmp_path) as services:
        yield PlainText(services, langs={ALICE: "zh"})


def tick(plain: PlainText, at: datetime) -> None:
    plain.services.outbox.tick(at, plain.deliver)


# -- rendering -------------------------------------------------------------------------------------------------


def test_typed_text_is_escaped_and_cut_once_for_every_messenger() -> None:
    text = n.Text.of(
        "remind.question", code="RW-1", when=n.When(START), text=n.Typed("<b>R&D " + "x" * 600, 500), link=""
    )
    shown = n.render(text, "en", "UTC", PlainFormat())
    assert shown is not None
    assert "&lt;b&gt;R&amp;D " in shown and "<b>" not in shown
    assert "x" * 470 in shown and "x" * 490 not in shown  # cut to 500 characters, the escapes counted


def test_people_labels_and_nested_texts_render_in_the_readers_language() -> None:
    where = n.Text.of("meeting.dm.where", location=n.Typed("Room 5", 300))
    text = n.Text.of("meeting.dm.start", code="MTG-1", title=n.Typed("Sync", 200), when=n.When(START), where=where)
    zh, en = (n.render(text, lang, "Asia/Shanghai", PlainFormat()) for lang in ("zh", "en"))
    assert zh is not None and en is not None
    assert "Room 5" in zh and "Room 5" in en and zh != en
    assert "2026-11-26 14:00" in en  # START is 06:00 UTC, 14:00 in Shanghai
    label = n.Text.of(
        "incident.post.escalated", commander=n.Person(BOB), minutes=5, users=n.People((ALICE, CAROL), " ")
    )
    assert f"<@{ALICE}> <@{CAROL}>" in (n.render(label, "en", "UTC", PlainFormat()) or "")
    severity = n.Text.of("meeting.dm.where", location=n.Label("incident.severity.SEV1"))
    assert t("zh", "incident.severity.SEV1") in (n.render(severity, "zh", "UTC", PlainFormat()) or "")


def test_a_line_whose_link_is_unknown_is_left_out() -> None:
    footer = n.Text.of("action.open_message", link=n.Link(GENERAL, None, fallback=False))
    assert n.render(footer, "en", "UTC", PlainFormat()) is None
    with_channel = n.Text.of("action.open_message", link=n.Link(GENERAL, None, fallback=True))
    assert f"#{GENERAL}" in (n.render(with_channel, "en", "UTC", PlainFormat()) or "")


# -- the rules, through a messenger written on the core alone ----------------------------------------------------


def test_sign_and_question_reminders_reach_each_owner_in_their_language(plain: PlainText) -> None:
    question = QuestionDraft("Which <markets>?", CAROL, START + timedelta(hours=6))
    draft = sheet_draft(requester=ALICE, receiver=BOB, channel=GENERAL, questions=(question,))
    req = plain.services.requirements.create(team_id=WS, author_id=ALICE, draft=draft, now=START)
    plain.services.requirements.attach_message(req.id, channel_id=GENERAL, message_ts="1.5")
    tick(plain, START + timedelta(hours=23))
    [to_alice], [to_bob], [to_carol] = plain.to(ALICE), plain.to(BOB), plain.to(CAROL)
    assert "提醒" in to_alice and "Reminder" in to_bob
    assert f"msg:{GENERAL}/1.5" in to_bob and "2026-11-27 14:00" in to_bob
    assert "Which &lt;markets&gt;?" in to_carol
    plain.services.requirements.sign(req.id, user_id=BOB, via="button", now=START + timedelta(hours=23))
    tick(plain, START + timedelta(days=1, minutes=1))
    overdue = [text for _, kind, text in plain.sent if kind == "req.overdue"]
    assert len(overdue) == 2 and all(f"<@{ALICE}>" in t and f"<@{BOB}>" not in t for t in overdue)


def test_an_action_items_escalation_is_marked_only_once_it_went_out(plain: PlainText) -> None:
    draft = ActionDraft(title="Send the budget", owner_id=BOB, due=START + timedelta(days=3))
    [item] = plain.services.actions.create_many(
        team_id=WS, creator_id=ALICE, drafts=[draft], now=START, channel_id=GENERAL
    )
    tick(plain, START + timedelta(days=2, hours=1))
    tick(plain, START + timedelta(days=3, minutes=1))
    assert [kind for _, kind, _ in plain.sent] == ["action.reminder", "action.overdue"]
    assert all("Open the message" not in text for text in plain.to(BOB))  # the item shows in no message yet
    plain.fail = True
    tick(plain, START + timedelta(days=6))
    assert plain.services.actions.get(item.id).escalated_at is None  # not sent: not marked
    plain.fail = False
    tick(plain, START + timedelta(days=6, minutes=5))
    assert [kind for _, kind, _ in plain.sent].count("action.escalate") == 1
    assert plain.services.actions.get(item.id).escalated_at is not None
    plain.services.actions.set_status(item.id, user_id=BOB, status=ActionStatus.DONE, now=START + timedelta(days=7))
    assert rules.plan(plain.services, _row(plain, "action.overdue"), START + timedelta(days=7)).skipped


def test_an_unacknowledged_incident_tells_its_channel_once_and_each_backup(plain: PlainText) -> None:
    draft = IncidentDraft(title="Checkout <down>", severity="SEV1", commander_id=BOB)
    info = plain.services.incidents.declare(
        team_id=WS, declarer_id=ALICE, draft=draft, origin_channel=GENERAL, now=START
    )
    plain.services.incidents.attach_channel(info.id, channel_id="C_INC", channel_name="inc")
    tick(plain, START + timedelta(minutes=5))
    assert [(to, kind) for to, kind, _ in plain.sent] == [("C_INC", "incident.escalate"), (CAROL, "incident.escalate")]
    [ask] = plain.to(CAROL)
    assert "Checkout &lt;down&gt;" in ask and "#C_INC" in ask and f"<@{BOB}>" in ask
    row = _row(plain, "incident.escalate")
    again = rules.plan(plain.services, row, START + timedelta(minutes=6))
    assert [notice.in_channel for notice in again.notices] == [False]  # the channel heard it the first time


def test_a_kind_no_rule_knows_fails_its_row_for_good(plain: PlainText) -> None:
    work = DueWork(id=1, kind="nobody.knows", subject="", payload={}, due_at=START, attempts=0, team_id=WS)
    with pytest.raises(DeliveryFailed) as failed:
        rules.plan(plain.services, work, START)
    assert failed.value.permanent


def _row(plain: PlainText, kind: str) -> DueWork:
    """A due row of `kind` as the outbox hands it over (the latest one)."""
    from sqlalchemy import select
    from sqlmodel import col

    from storage.models import OutboxItem

    with plain.services.session_scope() as s:
        row = s.scalars(select(OutboxItem).where(col(OutboxItem.kind) == kind).order_by(col(OutboxItem.id))).all()[-1]
        return DueWork(
            id=row.id,
            team_id=row.team_id,
            kind=row.kind,
            subject=row.subject,
            payload=json.loads(row.payload),
            due_at=row.due_at.replace(tzinfo=UTC),
            attempts=row.attempts,
        )
