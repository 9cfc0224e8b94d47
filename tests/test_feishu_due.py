"""Due work delivered to a Feishu workspace: the real services and outbox, a real FeishuApi, the fake Open API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot import outbox
from bot.config import Settings
from bot.outbox import Deliver, TickReport
from bot.services import Services
from bot.services.actions import ActionDraft, ActionStatus
from bot.services.digest_text import Schedule
from bot.services.incidents import IncidentDraft, IncidentInfo
from bot.services.incidents.review import ResolutionDraft
from bot.services.meetings import AgendaEntry, MeetingDraft, MeetingInfo, MinutesDraft
from bot.services.requirements import QuestionDraft, RequirementInfo
from handlers.feishu.api import FeishuApi
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards.common import validate_card
from handlers.feishu.due import make_feishu_deliver
from handlers.feishu.people import FeishuPeople
from handlers.sandbox.feishu_api import FakeFeishu, card_texts
from storage.db import make_engine, make_session_scope, migrate
from storage.models import OutboxItem
from tests.conftest import START, FixedClock
from tests.helpers import sheet_draft

WS = "feishu:tenant_test"
ALICE, BOB, CAROL, GHOST = "ou_alice", "ou_bob", "ou_carol", "ou_ghost"
GENERAL, INCIDENT_CHAT = "oc_general", "oc_incident"
TZ = "Asia/Shanghai"


@dataclass
class Env:
    """A Feishu workspace's due work, ready to tick."""

    fake: FakeFeishu
    services: Services
    people: FeishuPeople
    deliver: Deliver

    def tick(self, at: datetime) -> TickReport:
        """Deliver everything due at `at`."""
        return self.services.outbox.tick(at, self.deliver)

    def dms(self, user: str) -> list[dict[str, Any]]:
        """The bot's messages in its chat with a person."""
        return [m for m in self.fake.messages_to(open_id=user) if m["sender_type"] == "app"]

    def rows(self, kind: str | None = None) -> list[OutboxItem]:
        """The outbox's rows (of one kind)."""
        with self.services.session_scope() as s:
            found = s.scalars(select(OutboxItem).order_by(col(OutboxItem.id))).all()
            return [r for r in found if kind is None or r.kind == kind]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """A tenant with Alice (who reads Chinese), Bob and Carol, a group chat and an incident chat."""
    fake = FakeFeishu().start()
    for open_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        fake.add_user(open_id, name)
    fake.add_chat(GENERAL, "general", [ALICE, BOB, CAROL])
    fake.add_chat(INCIDENT_CHAT, "inc", [ALICE, BOB, CAROL])
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'coordbot.db'}",
        tz=TZ,
        lang="en",
        work_hours="00:00-23:59",
        work_days="mon-sun",
        incident_escalation=(CAROL,),
        digest_charts=False,
        feishu_app_id=fake.app_id,
        feishu_app_secret=fake.app_secret,
        feishu_domain=fake.url,
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    services = Services.build(settings, make_session_scope(engine), clock=FixedClock())
    services.prefs.set_user_lang(WS, ALICE, "zh", now=START)
    api = FeishuApi(app_id=fake.app_id, app_secret=fake.app_secret, domain=fake.url)
    people = FeishuPeople(api, workspace=WS, prefs=services.prefs, default_tz=TZ, default_lang="en")
    deliver = make_feishu_deliver(api, services, lambda _team: people)
    yield Env(fake, services, people, deliver)
    fake.stop()
    engine.dispose()


def texts(message: dict[str, Any]) -> str:
    """Every text of a message, one string."""
    return "\n".join(card_texts(message))


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The callback values of a card's buttons."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("tag") == "button":
                found.extend(b["value"] for b in node.get("behaviors") or [] if b.get("type") == "callback")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message["content"])
    return found


def sheet(env: Env, *, questions: tuple[QuestionDraft, ...] = ()) -> RequirementInfo:
    """A sheet Alice asks of Bob, to sign by tomorrow 14:00 in Shanghai."""
    draft = sheet_draft(requester=ALICE, receiver=BOB, channel=GENERAL, questions=questions)
    return env.services.requirements.create(team_id=WS, author_id=ALICE, draft=draft, now=START)


def meeting(env: Env, start: datetime) -> MeetingInfo:
    """Alice's meeting with Bob in the group chat."""
    draft = MeetingDraft(
        title="Launch <review>",
        goal="Agree on the launch date",
        start=start,
        duration_minutes=60,
        host_id=ALICE,
        participants=(BOB,),
        channel_id=GENERAL,
        location="Room 5",
        agenda=(AgendaEntry("Dates", BOB, 30),),
    )
    return env.services.meetings.create(team_id=WS, creator_id=ALICE, draft=draft, now=START)


def incident(env: Env, severity: str = "SEV1") -> IncidentInfo:
    """Declared by Alice with Bob commanding (not acknowledged yet), its own chat attached."""
    draft = IncidentDraft(title="Checkout down", severity=severity, commander_id=BOB)
    info = env.services.incidents.declare(team_id=WS, declarer_id=ALICE, draft=draft, origin_channel=GENERAL, now=START)
    return env.services.incidents.attach_channel(info.id, channel_id=INCIDENT_CHAT, channel_name="inc")


# -- requirement sheets --------------------------------------------------------------------------------------


def test_sign_reminders_reach_each_owner_in_their_language(env: Env) -> None:
    req = sheet(env)
    report = env.tick(START + timedelta(hours=23))  # two hours before the deadline, and one more
    assert report.sent == 2
    [to_alice], [to_bob] = env.dms(ALICE), env.dms(BOB)
    assert to_alice["msg_type"] == "interactive"
    validate_card(to_alice["content"])
    assert "提醒" in texts(to_alice) and "2026-11-27（周五）14:00" in texts(to_alice)
    assert "Reminder" in texts(to_bob) and "2026-11-27 (Fri) 14:00" in texts(to_bob)
    assert req.code in texts(to_bob) and f"openChatId={GENERAL}" in texts(to_bob)
    ids = {r.id for r in env.rows("req.sign_reminder")}
    assert {to_alice["uuid"], to_bob["uuid"]} == {f"coordbot-{i}" for i in ids}


def test_a_reminder_shows_each_reader_their_feishu_language_unless_they_chose_one(env: Env) -> None:
    sheet(env)
    env.tick(START + timedelta(hours=23))
    [to_alice], [to_bob] = env.dms(ALICE), env.dms(BOB)
    assert "i18n_content" not in json.dumps(to_alice["content"])  # Alice chose Chinese
    locales = {
        tuple(sorted(node["i18n_content"]))
        for node in walk(to_bob["content"])
        if isinstance(node.get("i18n_content"), dict)
    }
    assert locales == {("en_us", "zh_cn")}  # Bob did not: Feishu shows him his client's language
    reminder = next(node for node in walk(to_bob["content"]) if "Reminder" in str(node.get("content")))
    assert "提醒" in reminder["i18n_content"]["zh_cn"] and reminder["content"] == reminder["i18n_content"]["en_us"]


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_the_overdue_notice_names_who_has_not_signed(env: Env) -> None:
    req = sheet(env)
    env.services.requirements.sign(req.id, user_id=BOB, via="button", now=START + timedelta(hours=1))
    report = env.tick(START + timedelta(days=1, minutes=1))
    assert report.sent == 2  # the overdue notice to both owners (the reminder went to Alice too)
    overdue = [m for m in env.dms(BOB) if "was not signed" in texts(m)]
    assert len(overdue) == 1
    assert f"<at id={ALICE}></at>" in texts(overdue[0]) and f"<at id={BOB}></at>" not in texts(overdue[0])


def test_an_open_question_is_reminded_and_an_answered_one_is_not(env: Env) -> None:
    question = QuestionDraft("Which *markets* <first>?", CAROL, START + timedelta(hours=6))
    req = sheet(env, questions=(question,))
    report = env.tick(START + timedelta(hours=5))
    assert report.sent == 1
    [to_carol] = env.dms(CAROL)
    assert "Which **markets** &#60;first&#62;?" in texts(to_carol)  # typed markup cannot tag, as in Slack
    assert req.code in texts(to_carol) and "2026-11-26 (Thu) 20:00" in texts(to_carol)


def test_a_question_answered_while_its_reminder_was_claimed_is_not_reminded(env: Env) -> None:
    question = QuestionDraft("Which markets?", CAROL, START + timedelta(hours=6))
    req = sheet(env, questions=(question,))
    at = START + timedelta(hours=5)
    env.services.outbox.claim(at)  # claimed, then the process died
    env.services.requirements.answer_question(req.questions[0].id, user_id=CAROL, now=at)
    report = env.tick(at + env.services.outbox.lease + timedelta(seconds=1))
    assert (report.sent, report.skipped) == (0, 1)
    assert env.dms(CAROL) == []


# -- meetings ------------------------------------------------------------------------------------------------


def test_a_meeting_mails_its_agenda_reminds_its_start_and_asks_for_minutes(env: Env) -> None:
    start = START + timedelta(days=4)
    info = meeting(env, start)
    report = env.tick(start - timedelta(days=3) + timedelta(minutes=1))
    assert report.sent == 2
    [agenda] = env.dms(BOB)
    assert "Launch &#60;review&#62;" in texts(agenda) and "Agree on the launch date" in texts(agenda)
    assert "2026-11-30 (Mon) 14:00" in texts(agenda) and f"<at id={ALICE}></at>" in texts(agenda)
    assert "会议目标" in texts(env.dms(ALICE)[0])
    env.tick(start - timedelta(minutes=10))
    assert "starts 2026-11-30 (Mon) 14:00 in Room 5" in texts(env.dms(BOB)[-1])
    env.tick(info.end + timedelta(hours=25))
    [*_, missing] = env.dms(ALICE)
    assert "尚未记录会议纪要" in texts(missing)
    assert len(env.dms(BOB)) == 2  # the host alone is asked for the minutes


def test_the_minutes_go_to_every_attendee_with_an_acknowledge_button(env: Env) -> None:
    start = START + timedelta(hours=1)
    info = meeting(env, start)
    minutes = MinutesDraft(decisions=("Ship on Monday",), notes="n")
    env.services.meetings.record_minutes(info.id, user_id=ALICE, draft=minutes, now=start + timedelta(hours=2))
    env.tick(start + timedelta(hours=2, minutes=1))
    [copy] = [m for m in env.dms(BOB) if "Minutes of" in texts(m)]
    assert "Ship on Monday" in texts(copy)
    assert buttons(copy) == [{"do": meeting_cards.DO_ACK, "id": info.id}]
    validate_card(copy["content"])
    assert not [m for m in env.dms(BOB) if "No minutes yet" in texts(m)]


# -- action items --------------------------------------------------------------------------------------------


def action(env: Env, *, owner: str = BOB, due: datetime | None = None) -> int:
    """An action item Alice gives `owner`, due in three days unless said."""
    draft = ActionDraft(title="Send the budget", owner_id=owner, due=due or START + timedelta(days=3))
    [info] = env.services.actions.create_many(
        team_id=WS, creator_id=ALICE, drafts=[draft], now=START, channel_id=GENERAL
    )
    return info.id


def test_an_action_item_done_after_its_reminder_was_claimed_is_not_reminded(env: Env) -> None:
    item = action(env)
    at = START + timedelta(days=2, hours=1)
    [(_, claimed)] = [env.services.outbox.claim(at)]
    assert [w.kind for w in claimed] == ["action.reminder"]
    env.services.actions.set_status(item, user_id=BOB, status=ActionStatus.DONE, now=at)  # the claimed row stays
    report = env.tick(at + env.services.outbox.lease + timedelta(seconds=1))
    assert (report.sent, report.skipped) == (0, 1)
    assert env.dms(BOB) == []


def test_an_overdue_action_item_is_escalated_once(env: Env) -> None:
    item = action(env)
    env.tick(START + timedelta(days=2, hours=1))
    assert "Reminder: action item" in texts(env.dms(BOB)[0])
    env.tick(START + timedelta(days=3, minutes=1))
    assert "is not done yet" in texts(env.dms(BOB)[-1])
    report = env.tick(START + timedelta(days=6))
    assert report.sent == 1
    [escalated] = env.dms(ALICE)
    assert "需关注" in texts(escalated) and f"<at id={BOB}></at>" in texts(escalated)
    assert escalated["content"]["header"]["template"] == "red"
    assert env.services.actions.get(item).escalated_at == START + timedelta(days=6)


# -- incidents -----------------------------------------------------------------------------------------------


def test_an_unacknowledged_incident_calls_the_backups(env: Env) -> None:
    info = incident(env)
    report = env.tick(START + timedelta(minutes=5))
    assert report.sent == 1
    [post] = [m for m in env.fake.messages_to(chat_id=INCIDENT_CHAT) if m["sender_type"] == "app"]
    assert f"<at id={BOB}></at>" in texts(post) and f"<at id={CAROL}></at>" in texts(post)
    [ask] = env.dms(CAROL)
    assert "backup list" in texts(ask) and f"openChatId={INCIDENT_CHAT}" in texts(ask)
    assert buttons(ask) == [{"do": incident_cards.DO_ACK, "id": info.id}]
    assert env.services.incidents.get(info.id).escalated_at is not None


def test_the_commander_is_reminded_to_post_an_update(env: Env) -> None:
    info = incident(env)
    env.services.incidents.acknowledge(info.id, user_id=BOB, now=START + timedelta(minutes=1))
    report = env.tick(START + timedelta(minutes=31))
    assert (report.sent, len(env.dms(CAROL))) == (1, 0)  # acknowledged: no escalation
    [reminder] = env.dms(BOB)
    assert "No update on" in texts(reminder) and "one every 30 minutes" in texts(reminder)
    assert len(env.rows("incident.update_due")) == 2  # the next one is planned


def test_a_resolved_sev1_without_a_review_meeting_reminds_its_commander(env: Env) -> None:
    info = incident(env)
    env.services.incidents.acknowledge(info.id, user_id=BOB, now=START + timedelta(minutes=1))
    resolved_at = START + timedelta(hours=1)
    env.services.incidents.resolve(info.id, user_id=BOB, draft=ResolutionDraft(summary="fixed"), now=resolved_at)
    [row] = env.rows("incident.review_due")
    env.tick(row.due_at.replace(tzinfo=UTC) + timedelta(minutes=1))
    [reminder] = [m for m in env.dms(BOB) if "review meeting" in texts(m)]
    assert "2026-11-26 (Thu) 15:00" in texts(reminder)
    assert buttons(reminder) == [{"do": incident_cards.DO_REVIEW_MEETING, "id": info.id}]


# -- the digest, the welcome, and what cannot be delivered ----------------------------------------------------


def test_the_weekly_digest_is_posted_in_its_chat(env: Env) -> None:
    action(env)
    sub = env.services.digests.subscribe(
        team_id=WS, channel_id=GENERAL, user_id=ALICE, schedule=Schedule(4, time(15, 0)), now=START
    )
    assert sub.next_at == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # Friday 15:00 in Shanghai
    report = env.tick(sub.next_at + timedelta(minutes=1))
    assert report.sent == 1
    [digest] = [m for m in env.fake.messages_to(chat_id=GENERAL) if m["sender_type"] == "app"]
    assert digest["msg_type"] == "interactive"
    validate_card(digest["content"])
    assert "ACT-2026-001" in texts(digest)


def test_a_welcome_row_is_a_short_hello_in_feishu(env: Env) -> None:
    with env.services.session_scope() as s:
        outbox.schedule(
            s,
            team_id=WS,
            kind="welcome.dm",
            subject="welcome",
            key="welcome:x",
            due_at=START,
            now=START,
            payload={"user_id": ALICE},
        )
    assert env.tick(START).sent == 1
    [hello] = env.dms(ALICE)
    assert "你好" in texts(hello) and "**帮助**" in texts(hello)


def test_a_rate_limit_is_waited_out(env: Env) -> None:
    sheet(env)
    env.fake.fail_next("im.message.create", retry_after=7)
    at = START + timedelta(hours=23)
    report = env.tick(at)
    assert (report.sent, report.retried) == (1, 1)
    [waiting] = [r for r in env.rows("req.sign_reminder") if r.state == "pending"]
    assert waiting.due_at.replace(tzinfo=UTC) == at + timedelta(seconds=7)
    assert "99991400" in (waiting.last_error or "")
    assert env.tick(at + timedelta(seconds=8)).sent == 1
    assert len(env.dms(ALICE)) == len(env.dms(BOB)) == 1


def test_a_person_feishu_does_not_know_fails_at_once(env: Env) -> None:
    action(env, owner=GHOST)
    report = env.tick(START + timedelta(days=2, hours=1))
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    [row] = env.rows("action.reminder")
    assert row.state == "failed" and "230013" in (row.last_error or "")


def test_a_row_sent_again_after_a_crash_is_one_message(env: Env) -> None:
    sheet(env)
    at = START + timedelta(hours=23)
    _, claimed = env.services.outbox.claim(at)
    first = next(w for w in claimed if w.payload["user_id"] == BOB)
    env.deliver(first, at)  # sent, then the process died before the row was marked
    later = at + env.services.outbox.lease + timedelta(seconds=1)
    assert env.tick(later).sent == 2  # both rows claimed again once the lease ran out
    assert len(env.fake.calls("im.message.create")) == 3
    assert len(env.dms(BOB)) == 1 and len(env.dms(ALICE)) == 1


def test_an_unknown_kind_or_a_slack_row_fails_for_good(env: Env) -> None:
    with env.services.session_scope() as s:
        for team, kind in ((WS, "req.nonsense"), ("T123", "req.sign_reminder")):
            outbox.schedule(s, team_id=team, kind=kind, subject="x", key=f"{team}:{kind}", due_at=START, now=START)
    report = env.tick(START)
    assert (report.failed, report.retried) == (2, 0)
    assert env.fake.messages == []
    assert {r.last_error for r in env.rows()} == {"unknown kind req.nonsense", "T123 is not a Feishu workspace"}
