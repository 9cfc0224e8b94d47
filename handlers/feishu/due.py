"""Due work from the outbox, as Feishu shows it: the Feishu twin of `handlers/due/*` for `feishu:<tenant>` rows.

Each kind follows its Slack renderer's rules (when it is skipped, who gets it, in whose language and timezone,
what is marked afterwards); only the sending differs. A person gets a card in the bot's chat with them, a group
chat gets a card in it, and every send carries an idempotency key made of the row's ID: Feishu keeps it an
hour, so a row sent and then claimed again after a crash is not shown twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from bot.errors import DeliveryFailed, NotFound
from bot.markup import escape, mention, truncate
from bot.messenger import Platform, platform_of
from bot.outbox import Deliver, DueWork, Outcome
from bot.services import Services
from bot.services.actions import KIND_ACTION_ESCALATE, KIND_ACTION_OVERDUE, KIND_ACTION_REMINDER, ActionInfo
from bot.services.digests import KIND_DIGEST
from bot.services.incidents import KIND_ESCALATE, KIND_REVIEW_DUE, KIND_UPDATE_DUE, IncidentInfo
from bot.services.meetings import KIND_AGENDA, KIND_MINUTES_DM, KIND_MINUTES_MISSING, KIND_START, MeetingInfo
from bot.services.requirements import KIND_OVERDUE, KIND_QUESTION_REMINDER, KIND_SIGN_REMINDER, Status
from bot.services.workspaces import KIND_WELCOME
from bot.text import t
from handlers.feishu.api import FeishuApi, FeishuError
from handlers.feishu.cards import common
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards.digest import digest_card
from handlers.feishu.digest import upload_chart
from handlers.feishu.people import FeishuPeople

logger = logging.getLogger(__name__)

FeishuDeliverer = Callable[[DueWork, datetime], Outcome]
TITLE_MAX = 100  # characters of a card's header
_DO = "incident"  # written apart: the catalog check reads "x.y" as a text key
# the review reminder's button: {"do": DO_REVIEW_MEETING, "id": incident id}; the other buttons are the cards' own
DO_REVIEW_MEETING = f"{_DO}.review_meeting"


class Refresher(Protocol):
    """Shows a record's card again, in place, after due work changed the record (supplied by the adapter)."""

    def refresh(self, kind: str, record_id: int) -> None:
        """Re-render the card of record `record_id` of `kind` ("action", "incident", ...)."""


def idempotency_key(work: DueWork, part: str = "") -> str:
    """The uuid a row's message is sent with: the same row (and part) is one message, however often it is sent."""
    return f"coordbot-{work.id}" + (f"-{part}" if part else "")


def failure(exc: FeishuError) -> DeliveryFailed:
    """A refused or failed Open API call as the outbox's delivery failure (retried unless permanent)."""
    reason = f"feishu {exc.code}: {exc.msg}"[:300]
    if exc.permanent:
        return DeliveryFailed(reason, permanent=True)
    return DeliveryFailed(reason, permanent=False, retry_after=exc.retry_after)


def chat_link(services: Services, chat_id: str | None) -> str:
    """A link that opens a group chat in the Feishu (or Lark) client; Feishu has no permalinks of messages."""
    host = "applink.larksuite.com" if "larksuite" in services.settings.feishu_domain else "applink.feishu.cn"
    return f"https://{host}/client/chat/open?openChatId={quote(chat_id or '', safe='')}"


def _title(code: str, title: str = "") -> str:
    return common.plain(f"{code} · {title}" if title else code, TITLE_MAX)


def _minutes(delta: Any) -> int:
    return int(delta.total_seconds() // 60) if delta else 0


def feishu_deliverers(
    api: FeishuApi, services: Services, people: FeishuPeople, *, refresh: Refresher
) -> dict[str, FeishuDeliverer]:
    """Renderers of every kind of due work for one Feishu workspace, by kind."""
    reqs, actions, meetings, incidents = services.requirements, services.actions, services.meetings, services.incidents

    def who(user: str) -> tuple[str, str]:
        return people.lang_of(user, fetch=True), people.tz_of(user, fetch=True)

    def when(dt: datetime, tz: str, lang: str) -> str:
        return common.when(dt, tz, lang)

    def md(*texts: str) -> list[dict[str, Any]]:
        return [common.markdown(common.lark_md(text)) for text in texts if text]

    def dm(
        work: DueWork,
        user: str,
        title: str,
        elements: list[dict[str, Any]],
        *,
        template: str = "blue",
        subtitle: str | None = None,
    ) -> None:
        card = common.card(title, elements, template=template, subtitle=subtitle)
        api.send_card(open_id=user, card=card, uuid=idempotency_key(work))

    def refreshed(kind: str, record_id: int) -> None:
        try:
            refresh.refresh(kind, record_id)
        except FeishuError as exc:  # the notice is out; a stale card is shown right at the next change
            logger.warning("could not refresh %s #%d after due work: %s %s", kind, record_id, exc.code, exc.msg)

    def channel(info: IncidentInfo) -> str:
        return f"<{chat_link(services, info.channel_id)}|{info.code}>" if info.channel_id else info.code

    def channel_lang(chat: str) -> str:
        return services.prefs.channel_lang(people.workspace, chat) or people.default_lang

    # -- requirement sheets ---------------------------------------------------------------------------------

    def sign_reminder(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        req = reqs.get(int(work.payload["requirement_id"]))
        if (
            req.status != Status.AWAITING
            or req.revision != work.payload.get("revision")
            or user not in req.unsigned_owners
            or now >= req.confirm_by
        ):
            return Outcome.SKIPPED
        lang, tz = who(user)
        link = chat_link(services, req.channel_id)
        text = t(lang, "remind.sign", code=req.code, when=when(req.confirm_by, tz, lang), link=link)
        dm(work, user, _title(req.code), md(text))
        return Outcome.SENT

    def req_overdue(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        req = reqs.get(int(work.payload["requirement_id"]))
        if req.status != Status.AWAITING or req.revision != work.payload.get("revision") or not req.unsigned_owners:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "remind.overdue",
            code=req.code,
            when=when(req.confirm_by, tz, lang),
            who=", ".join(mention(u) for u in req.unsigned_owners),
            link=chat_link(services, req.channel_id),
        )
        dm(work, user, _title(req.code), md(text), template="orange")
        return Outcome.SENT

    def question_reminder(work: DueWork, now: datetime) -> Outcome:
        req, question = reqs.question_info(int(work.payload["question_id"]))
        if question.answered_at is not None:
            return Outcome.SKIPPED
        user = question.owner_id
        lang, tz = who(user)
        text = t(
            lang,
            "remind.question",
            code=req.code,
            when=when(question.deadline, tz, lang),
            text=escape(truncate(question.text, 500)),
            link=chat_link(services, req.channel_id),
        )
        dm(work, user, _title(req.code), md(text))
        return Outcome.SENT

    # -- meetings -------------------------------------------------------------------------------------------

    def upcoming_for(work: DueWork, now: datetime) -> tuple[MeetingInfo, str] | None:
        info = meetings.get(int(work.payload["meeting_id"]))
        user = str(work.payload["user_id"])
        if now >= info.start or int(info.start.timestamp()) != work.payload.get("start") or user not in info.attendees:
            return None
        return info, user

    def agenda(work: DueWork, now: datetime) -> Outcome:
        found = upcoming_for(work, now)
        if found is None:
            return Outcome.SKIPPED
        info, user = found
        lang, tz = who(user)
        intro = t(
            lang,
            "meeting.dm.agenda",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            when=when(info.start, tz, lang),
        )
        shown = meeting_cards.meeting_card(lang, info, tz=tz)
        details = shown["body"]["elements"][:-1]  # the card without its buttons
        open_link = t(lang, "meeting.dm.open", link=chat_link(services, info.channel_id))
        elements = [*md(intro), *details, *md(open_link)]
        dm(work, user, shown["header"]["title"]["content"], elements, subtitle=_subtitle(shown))
        return Outcome.SENT

    def start(work: DueWork, now: datetime) -> Outcome:
        found = upcoming_for(work, now)
        if found is None:
            return Outcome.SKIPPED
        info, user = found
        lang, tz = who(user)
        where = t(lang, "meeting.dm.where", location=escape(truncate(info.location, 300))) if info.location else ""
        text = t(
            lang,
            "meeting.dm.start",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            when=when(info.start, tz, lang),
            where=where,
        )
        title = t(lang, "meeting.header", code=info.code, title=info.title)
        dm(work, user, common.plain(title, TITLE_MAX), md(text))
        return Outcome.SENT

    def minutes_missing(work: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(work.payload["meeting_id"]))
        if info.minutes_at is not None:
            return Outcome.SKIPPED
        user = info.host_id
        lang, tz = who(user)
        text = t(
            lang,
            "meeting.dm.minutes_missing",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            when=when(info.end, tz, lang),
            link=chat_link(services, info.channel_id),
        )
        title = t(lang, "meeting.header", code=info.code, title=info.title)
        dm(work, user, common.plain(title, TITLE_MAX), md(text), template="orange")
        return Outcome.SENT

    def minutes_copy(work: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(work.payload["meeting_id"]))
        user = str(work.payload["user_id"])
        if info.minutes_at is None or user not in info.attendees:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "meeting.dm.minutes",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            link=chat_link(services, info.channel_id),
        )
        shown = meeting_cards.minutes_card(lang, info, actions.for_source("meeting", info.id), tz=tz, ack_button=True)
        elements = [*md(text), *shown["body"]["elements"]]
        dm(work, user, shown["header"]["title"]["content"], elements, template="green")
        return Outcome.SENT

    # -- action items ---------------------------------------------------------------------------------------

    def with_link(lang: str, text: str, item: ActionInfo) -> str:
        if not item.channel_id:
            return text
        return f"{text}\n{t(lang, 'action.open_message', link=chat_link(services, item.channel_id))}"

    def action_reminder(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed or now >= item.due:
            return Outcome.SKIPPED  # finished, or the overdue notice says it better
        lang, tz = who(user)
        text = t(
            lang,
            "action.remind",
            code=item.code,
            when=when(item.due, tz, lang),
            title=escape(truncate(item.title, 500)),
        )
        dm(work, user, _title(item.code, item.title), md(with_link(lang, text, item)))
        return Outcome.SENT

    def action_overdue(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "action.overdue_owner" if user == item.owner_id else "action.overdue_escalate",
            code=item.code,
            when=when(item.due, tz, lang),
            title=escape(truncate(item.title, 500)),
            owner=mention(item.owner_id),
        )
        dm(work, user, _title(item.code, item.title), md(with_link(lang, text, item)), template="orange")
        return Outcome.SENT

    def action_escalate(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed or item.escalated_at is not None:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "action.escalated",
            code=item.code,
            when=when(item.due, tz, lang),
            title=escape(truncate(item.title, 500)),
            owner=mention(item.owner_id),
            days=actions.escalation_days,
        )
        dm(work, user, _title(item.code, item.title), md(with_link(lang, text, item)), template="red")
        actions.mark_escalated(item.id, now=now)
        refreshed("action", item.id)
        return Outcome.SENT

    # -- the weekly digest ----------------------------------------------------------------------------------

    def weekly(work: DueWork, now: datetime) -> Outcome:
        team, chat = str(work.payload["team_id"]), str(work.payload["channel_id"])
        # the row's own due time moves when a post is retried; the payload keeps the period's
        due_at = datetime.fromisoformat(str(work.payload["due_at"]))
        period = services.digests.start_period(team_id=team, channel_id=chat, due_at=due_at, now=now)
        if period is None:
            return Outcome.SKIPPED  # unsubscribed, or the digest moved to another day
        if period.late:
            logger.info("digest for %s was due %s; posting it late", chat, due_at.isoformat())
        digest = services.digests.content(
            team, chat, now=now, open_incidents=services.incidents.with_open_followups(team, chat)
        )
        lang, tz = channel_lang(chat), services.settings.tz
        late_due = due_at if period.late else None
        chart = upload_chart(api, services, workspace=team, chat=chat, lang=lang, tz=tz, now=now)
        card = digest_card(lang, digest, tz=tz, name_of=people.name_of, late_due=late_due, chart_key=chart)
        api.send_card(chat_id=chat, card=card, uuid=idempotency_key(work))
        logger.info("digest posted in %s", chat)
        return Outcome.SENT

    # -- incidents ------------------------------------------------------------------------------------------

    def planned_at_another_severity(work: DueWork, info: IncidentInfo) -> bool:
        planned = work.payload.get("severity")
        return planned is not None and planned != info.severity.value

    def incident_escalate(work: DueWork, now: datetime) -> Outcome:
        info = incidents.get(int(work.payload["incident_id"]))
        if info.resolved or info.acknowledged_at is not None or planned_at_another_severity(work, info):
            return Outcome.SKIPPED
        user = str(work.payload["user_id"])
        if user == info.commander_id:  # command was handed to this backup meanwhile
            return Outcome.SKIPPED
        info, first = incidents.mark_escalated(info.id, now=now)
        minutes = _minutes(incidents.ack_window(info.severity))
        if first and info.channel_id:
            chat_lang = channel_lang(info.channel_id)
            backups = " ".join(mention(u) for u in incidents.backups if u != info.commander_id)
            post = t(
                chat_lang,
                "incident.post.escalated",
                commander=mention(info.commander_id),
                minutes=minutes,
                users=backups,
            )
            card = common.card(_title(info.code, info.title), md(post), template="red")
            api.send_card(chat_id=info.channel_id, card=card, uuid=idempotency_key(work, "chat"))
            refreshed("incident", info.id)
        lang = people.lang_of(user, fetch=True)
        intro = t(
            lang,
            "incident.dm.escalate",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            severity=incident_cards.severity_label(lang, info.severity),
            commander=mention(info.commander_id),
            minutes=minutes,
            channel=channel(info),
        )
        ack = common.button(
            t(lang, "incident.button.ack"),
            {"do": incident_cards.DO_ACK, "id": info.id},
            kind="primary_filled",
            name=f"{incident_cards.Names.ACK}_{info.id}",
        )
        dm(work, user, _title(info.code, info.title), [*md(intro), common.buttons(ack)], template="red")
        return Outcome.SENT

    def update_due(work: DueWork, now: datetime) -> Outcome:
        info = incidents.get(int(work.payload["incident_id"]))
        if info.resolved or int(info.last_update_at.timestamp()) != work.payload.get("since"):
            return Outcome.SKIPPED
        if planned_at_another_severity(work, info):
            return Outcome.SKIPPED
        user = info.commander_id
        lang = people.lang_of(user, fetch=True)
        text = t(
            lang,
            "incident.dm.update_due",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            minutes=_minutes(now - info.last_update_at),
            severity=info.severity.value,
            cadence=_minutes(incidents.update_cadence(info.severity)),
            channel=channel(info),
        )
        dm(work, user, _title(info.code, info.title), md(text), template="orange")
        incidents.plan_next_reminder(info.id, after=work.due_at, plan=str(work.payload.get("plan") or ""), now=now)
        return Outcome.SENT

    def review_due(work: DueWork, now: datetime) -> Outcome:
        info = incidents.review_reminder_due(int(work.payload["incident_id"]), resolved=int(work.payload["resolved"]))
        if info is None or info.resolved_at is None:  # a review meeting exists, or it was reopened since
            return Outcome.SKIPPED
        user = info.commander_id
        lang, tz = who(user)
        intro = t(
            lang,
            "incident.dm.review_due",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            severity=incident_cards.severity_label(lang, info.severity),
            when=when(info.resolved_at, tz, lang),
            days=incidents.review_due_days,
            channel=channel(info),
        )
        schedule = common.button(
            t(lang, "incident.button.review_meeting"),
            {"do": DO_REVIEW_MEETING, "id": info.id},
            kind="primary_filled",
            name=f"incident_review_meeting_{info.id}",
        )
        dm(work, user, _title(info.code, info.title), [*md(intro), common.buttons(schedule)])
        return Outcome.SENT

    # -- the install's welcome ------------------------------------------------------------------------------

    def welcome(work: DueWork, now: datetime) -> Outcome:
        # A Feishu tenant adds the app in its admin console, with no install flow that schedules this; should a
        # row come anyway, the person gets the short hello (the install welcome speaks of Slack).
        user = str(work.payload["user_id"])
        dm(work, user, "coordbot", md(t(people.lang_of(user, fetch=True), "feishu.hello")))
        return Outcome.SENT

    return {
        KIND_SIGN_REMINDER: sign_reminder,
        KIND_OVERDUE: req_overdue,
        KIND_QUESTION_REMINDER: question_reminder,
        KIND_AGENDA: agenda,
        KIND_START: start,
        KIND_MINUTES_MISSING: minutes_missing,
        KIND_MINUTES_DM: minutes_copy,
        KIND_ACTION_REMINDER: action_reminder,
        KIND_ACTION_OVERDUE: action_overdue,
        KIND_ACTION_ESCALATE: action_escalate,
        KIND_DIGEST: weekly,
        KIND_ESCALATE: incident_escalate,
        KIND_UPDATE_DUE: update_due,
        KIND_REVIEW_DUE: review_due,
        KIND_WELCOME: welcome,
    }


def _subtitle(card: dict[str, Any]) -> str | None:
    subtitle = card["header"].get("subtitle")
    return str(subtitle["content"]) if subtitle else None


def make_feishu_deliver(
    api: FeishuApi,
    services: Services,
    people_for: Callable[[str], FeishuPeople],
    *,
    refresh: Refresher,
) -> Deliver:
    """The delivery function the tick hands each Feishu workspace's due row to: sent by its kind."""
    built: dict[str, tuple[FeishuPeople, dict[str, FeishuDeliverer]]] = {}

    def deliver(work: DueWork, now: datetime) -> Outcome:
        if platform_of(work.team_id) != Platform.FEISHU:
            raise DeliveryFailed(f"{work.team_id or 'no workspace'} is not a Feishu workspace", permanent=True)
        people = people_for(work.team_id)
        known = built.get(work.team_id)
        if known is None or known[0] is not people:
            known = built[work.team_id] = (people, feishu_deliverers(api, services, people, refresh=refresh))
        handler = known[1].get(work.kind)
        if handler is None:
            raise DeliveryFailed(f"unknown kind {work.kind}", permanent=True)
        try:
            return handler(work, now)
        except NotFound:
            return Outcome.SKIPPED
        except FeishuError as exc:
            raise failure(exc) from exc

    return deliver
