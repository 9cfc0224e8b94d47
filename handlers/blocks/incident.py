"""Block Kit for incidents: the declare and resolve modals, the pinned summary, the announcement,
updates, DMs, and the review (复盘) draft."""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.errors import ValidationFailed
from bot.people import Member
from bot.services import incident_text
from bot.services.actions import ActionDraft, ActionInfo
from bot.services.incident_text import OPEN_STATUSES, STATUS_EMOJI, Severity, Status, duration_text
from bot.services.incidents import (
    IncidentDraft,
    IncidentEdit,
    IncidentInfo,
    IncidentReview,
    ResolutionDraft,
    TimelineItem,
    parse_severity,
)
from bot.services.meeting_text import parse_action_lines
from bot.services.requirement_text import LineError
from bot.text import t
from handlers.blocks.common import (
    SECTION_MAX,
    ModalMeta,
    context,
    date_token,
    escape,
    form_element,
    form_text,
    labelled_field,
    mention,
    pack_lines,
    plain,
    section,
    text_input,
    truncate,
)


class Ids(StrEnum):
    """callback_id, block_id and action_id values incidents own."""

    MODAL = "incident_modal"
    RESOLVE_MODAL = "incident_resolve_modal"
    ACK = "incident_ack"
    STATUS = "incident_status_"  # + the status: one action_id per button
    RESOLVE = "incident_resolve"
    REVIEW_MEETING = "incident_review_meeting"
    SEVERITY = "incident_severity"  # the select on the summary: value "<incident id>:<severity>"
    EDIT = "incident_edit"
    EDIT_MODAL = "incident_edit_modal"
    REOPEN = "incident_reopen"
    INPUT = "value"


FIELDS = ("title", "severity", "description", "impact", "commander", "responders")
RESOLVE_FIELDS = ("summary", "decisions", "follow_ups")
EDIT_FIELDS = ("title", "description", "impact")
STATUS_ACTION = re.compile(r"^incident_status_[a-z]+$")
MESSAGE_BLOCKS = 45  # under Slack's 50 a message
_MENTION = re.compile(r"&lt;@([UW][A-Z0-9_]+)&gt;")
EMOJI = STATUS_EMOJI


def rich(text: str) -> str:
    """User text escaped for mrkdwn, keeping the <@U…> mentions it holds (they notify, nothing else does)."""
    return _MENTION.sub(r"<@\1>", escape(text))


def who(user_id: str) -> str:
    """A person, or the bot itself for what it did on its own."""
    return "coordbot" if user_id == "coordbot" else mention(user_id)


def channel_link(info: IncidentInfo) -> str:
    """The incident channel as a Slack link, or its code when there is no channel."""
    return f"<#{info.channel_id}>" if info.channel_id else info.code


def severity_label(lang: str, severity: Severity) -> str:
    """SEV1 · Critical, in the reader's language."""
    return t(lang, f"incident.severity.{severity.value}")


def status_label(lang: str, status: Status) -> str:
    """A status with its emoji."""
    return f"{EMOJI[status]} {t(lang, f'incident.status.{status.value}')}"


# -- declaring ---------------------------------------------------------------------------------------------


def _severity_option(lang: str, severity: Severity) -> Option:
    return Option(
        value=severity.value,
        text=plain(severity_label(lang, severity)),
        description=plain(t(lang, f"incident.severity_hint.{severity.value}")),
    )


def incident_modal(lang: str, *, meta: ModalMeta, user_id: str, title: str = "") -> View:
    """The declare modal: title, severity, what is known, impact, commander (default the caller), responders."""
    blocks: list[Block] = [
        section(escape(t(lang, "incident.intro"))),
        text_input("title", t(lang, "incident.field.title"), max_length=150, initial=title or None),
        InputBlock(
            block_id="severity",
            label=plain(t(lang, "incident.field.severity")),
            element=StaticSelectElement(action_id=Ids.INPUT, options=[_severity_option(lang, s) for s in Severity]),
        ),
        text_input("description", t(lang, "incident.field.description"), multiline=True, optional=True),
        text_input("impact", t(lang, "incident.field.impact"), multiline=True, optional=True),
        InputBlock(
            block_id="commander",
            label=plain(t(lang, "incident.field.commander")),
            hint=plain(t(lang, "incident.hint.commander"), 2000),
            element=UserSelectElement(action_id=Ids.INPUT, initial_user=user_id),
        ),
        InputBlock(
            block_id="responders",
            label=plain(t(lang, "incident.field.responders")),
            optional=True,
            element=UserMultiSelectElement(action_id=Ids.INPUT),
        ),
    ]
    return View(
        type="modal",
        callback_id=Ids.MODAL,
        private_metadata=meta.dump(),
        blocks=blocks,
        title=plain(t(lang, "incident.modal_title"), 24),
        submit=plain(t(lang, "incident.submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
    )


def parse_incident_form(values: dict[str, Any]) -> IncidentDraft:
    """Turn the declare modal's state into a draft (validation is the service's)."""
    option = form_element(values, "severity").get("selected_option")
    users = form_element(values, "responders").get("selected_users")
    return IncidentDraft(
        title=form_text(values, "title"),
        severity=str(option.get("value") or "") if isinstance(option, dict) else "",
        description=form_text(values, "description"),
        impact=form_text(values, "impact"),
        commander_id=form_text(values, "commander", "selected_user"),
        responders=tuple(u for u in (users if isinstance(users, list) else []) if isinstance(u, str)),
    )


# -- resolving ---------------------------------------------------------------------------------------------


def resolve_modal(lang: str, info: IncidentInfo, *, now: datetime) -> View:
    """Ask for the resolution summary, the decisions and the follow-up action items."""
    blocks: list[Block] = [
        section(
            f"*{escape(info.code)} · {escape(truncate(info.title, 200))}*\n"
            + t(lang, "incident.resolve_intro", duration=duration_text(lang, info.duration(now)))
        ),
        text_input("summary", t(lang, "incident.field.summary"), multiline=True),
        text_input(
            "decisions",
            t(lang, "incident.field.decisions"),
            multiline=True,
            optional=True,
            hint=t(lang, "incident.hint.decisions"),
        ),
        text_input(
            "follow_ups",
            t(lang, "incident.field.follow_ups"),
            multiline=True,
            optional=True,
            hint=t(lang, "incident.hint.follow_ups"),
        ),
    ]
    return View(
        type="modal",
        callback_id=Ids.RESOLVE_MODAL,
        private_metadata=json.dumps({"i": info.id}),
        title=plain(t(lang, "incident.resolve_title", code=info.code), 24),
        submit=plain(t(lang, "incident.resolve_submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
        blocks=blocks,
    )


def parse_resolve_form(
    values: dict[str, Any], *, now: datetime, tz: str, members: list[Member], workday_end: time = time(18, 0)
) -> ResolutionDraft:
    """Turn the resolve modal's state into a draft; an unreadable follow-up line is a field error naming it."""
    try:
        lines = parse_action_lines(
            form_text(values, "follow_ups"), now=now, tz=tz, members=members, workday_end=workday_end
        )
    except LineError as exc:
        raise ValidationFailed({"follow_ups": (exc.key, dict(exc.params))}) from exc
    decisions = tuple(
        d.strip().lstrip("-•*·").strip() for d in form_text(values, "decisions").splitlines() if d.strip()
    )
    return ResolutionDraft(
        summary=form_text(values, "summary"),
        decisions=decisions,
        follow_ups=tuple(ActionDraft(a.title, a.owner_id, a.due, a.deliverable) for a in lines),
    )


def resolve_meta(raw: str | None) -> int:
    """The incident ID the resolve modal carries."""
    try:
        return int(json.loads(raw or "{}").get("i") or 0)
    except (ValueError, AttributeError, TypeError):
        return 0


# -- editing -----------------------------------------------------------------------------------------------


def edit_modal(lang: str, info: IncidentInfo) -> View:
    """The commander's corrections: title, what is known, impact, prefilled with what they say now."""
    blocks: list[Block] = [
        section(t(lang, "incident.edit_intro", code=info.code)),
        text_input("title", t(lang, "incident.field.title"), max_length=150, initial=info.title),
        text_input(
            "description",
            t(lang, "incident.field.description"),
            multiline=True,
            optional=True,
            initial=info.description or None,
        ),
        text_input(
            "impact", t(lang, "incident.field.impact"), multiline=True, optional=True, initial=info.impact or None
        ),
    ]
    return View(
        type="modal",
        callback_id=Ids.EDIT_MODAL,
        private_metadata=json.dumps({"i": info.id}),
        title=plain(t(lang, "incident.edit_title", code=info.code), 24),
        submit=plain(t(lang, "incident.edit_submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
        blocks=blocks,
    )


def parse_edit_form(values: dict[str, Any]) -> IncidentEdit:
    """Turn the edit modal's state into an edit (validation is the service's)."""
    return IncidentEdit(
        title=form_text(values, "title"),
        description=form_text(values, "description"),
        impact=form_text(values, "impact"),
    )


def severity_choice(value: str) -> tuple[int, str]:
    """The incident and severity a choice in the summary's select names ("12:SEV1"); (0, "") when unreadable."""
    raw_id, _, raw = value.partition(":")
    severity = parse_severity(raw)
    return (int(raw_id), severity.value) if raw_id.isdigit() and severity else (0, "")


# -- the summary and the announcement -------------------------------------------------------------------------


def _ack_line(lang: str, info: IncidentInfo, tz: str) -> str:
    if info.acknowledged_at and info.acknowledged_by:
        return t(
            lang, "incident.ack.done", user=mention(info.acknowledged_by), when=date_token(info.acknowledged_at, tz)
        )
    return t(lang, "incident.ack.pending", commander=mention(info.commander_id))


def _severity_select(lang: str, info: IncidentInfo) -> StaticSelectElement:
    options = [Option(value=f"{info.id}:{s.value}", text=plain(severity_label(lang, s), 75)) for s in Severity]
    return StaticSelectElement(
        action_id=Ids.SEVERITY,
        placeholder=plain(t(lang, "incident.button.severity"), 150),
        options=options,
        initial_option=options[info.severity.position],
    )


def lifecycle_text(lang: str, info: IncidentInfo, tz: str) -> str:
    """Reported, acknowledged, mitigated, resolved and reopened, as far as the incident got."""
    parts = [t(lang, "incident.life.reported", when=date_token(info.reported_at, tz))]
    for key, when in (
        ("acknowledged", info.acknowledged_at),
        ("mitigated", info.mitigated_at),
        ("resolved", info.resolved_at),
    ):
        if when is not None:
            parts.append(t(lang, f"incident.life.{key}", when=date_token(when, tz)))
    if info.reopened_count and info.reopened_at is not None:
        parts.append(t(lang, "incident.life.reopened", n=info.reopened_count, when=date_token(info.reopened_at, tz)))
    return " · ".join(parts)


def review_line(lang: str, info: IncidentInfo) -> str:
    """Where the review (复盘) stands: its meeting's code and state, or that there is none yet."""
    if info.review_meeting_code:
        return t(
            lang,
            "incident.review_line",
            code=info.review_meeting_code,
            state=t(lang, f"incident.review_state.{info.review_state.value}"),
        )
    return t(lang, "incident.review_line_none")


def summary_blocks(lang: str, info: IncidentInfo, *, tz: str, now: datetime) -> list[Block]:
    """The pinned summary: severity (the commander changes it here), status, roles, lifecycle times, what is
    known and impact (Edit), the review meeting; the buttons while it is open."""
    fields = [
        labelled_field(t(lang, "incident.label.severity"), severity_label(lang, info.severity)),
        labelled_field(t(lang, "incident.label.status"), status_label(lang, info.status)),
        labelled_field(t(lang, "incident.label.commander"), mention(info.commander_id)),
        labelled_field(
            t(lang, "incident.label.comms"), mention(info.comms_id) if info.comms_id else t(lang, "incident.none")
        ),
        labelled_field(
            t(lang, "incident.label.declared"),
            t(lang, "incident.declared_value", user=mention(info.declared_by), when=date_token(info.declared_at, tz)),
        ),
    ]
    if info.resolved_at:
        fields.append(labelled_field(t(lang, "incident.label.duration"), duration_text(lang, info.duration(now))))
    responders = " ".join(mention(u) for u in info.responders[:60]) or t(lang, "incident.none")
    blocks: list[Block] = [
        HeaderBlock(text=plain(t(lang, "incident.header", code=info.code, title=info.title), 150)),
        SectionBlock(fields=fields, accessory=None if info.resolved else _severity_select(lang, info)),
        context(lifecycle_text(lang, info, tz)),
    ]
    if info.review_meeting_code or info.resolved:
        blocks.append(context(review_line(lang, info)))
    blocks.append(section(f"*{escape(t(lang, 'incident.label.responders'))}*\n{responders}"))
    for key, value in (("description", info.description), ("impact", info.impact), ("resolution", info.resolution)):
        editable = key == "description" and not info.resolved  # the Edit button sits by what is known
        if value or editable:
            head = f"*{escape(t(lang, f'incident.label.{key}'))}*\n"
            shown = truncate(rich(value), SECTION_MAX - len(head)) if value else t(lang, "incident.none")
            edit = ButtonElement(action_id=Ids.EDIT, text=plain(t(lang, "incident.button.edit")), value=str(info.id))
            blocks.append(
                SectionBlock(text=MarkdownTextObject(text=head + shown), accessory=edit if editable else None)
            )
    if info.resolved:
        return blocks
    blocks.append(context(_ack_line(lang, info, tz)))
    blocks.append(context(t(lang, "incident.summary.help")))
    buttons: list[ButtonElement] = []
    if info.acknowledged_at is None:
        buttons.append(
            ButtonElement(
                action_id=Ids.ACK, text=plain(t(lang, "incident.button.ack")), value=str(info.id), style="primary"
            )
        )
    buttons += [
        ButtonElement(
            action_id=f"{Ids.STATUS}{s.value}", text=plain(status_label(lang, s)), value=f"{info.id}:{s.value}"
        )
        for s in OPEN_STATUSES
        if s != info.status
    ]
    buttons.append(
        ButtonElement(
            action_id=Ids.RESOLVE,
            text=plain(t(lang, "incident.button.resolve")),
            value=str(info.id),
            style="danger",
            confirm=ConfirmObject(
                title=plain(t(lang, "incident.confirm.title"), 100),
                text=plain(t(lang, "incident.confirm.text", code=info.code), 300),
                confirm=plain(t(lang, "incident.confirm.yes"), 30),
                deny=plain(t(lang, "modal.close"), 30),
            ),
        )
    )
    blocks.append(ActionsBlock(block_id=f"incident_actions_{info.id}", elements=buttons))
    return blocks


def summary_text(lang: str, info: IncidentInfo) -> str:
    """The summary's notification text."""
    return t(
        lang,
        "incident.fallback",
        code=info.code,
        severity=info.severity.value,
        title=escape(truncate(info.title, 200)),
        status=t(lang, f"incident.status.{info.status.value}"),
    )


def announcement_blocks(lang: str, info: IncidentInfo, *, tz: str, now: datetime) -> list[Block]:
    """The announcement in the incidents channel, kept up to date as the incident moves."""
    fields = [
        labelled_field(t(lang, "incident.label.status"), status_label(lang, info.status)),
        labelled_field(t(lang, "incident.label.commander"), mention(info.commander_id)),
        labelled_field(t(lang, "incident.label.channel"), channel_link(info)),
        labelled_field(t(lang, "incident.label.declared"), date_token(info.declared_at, tz)),
    ]
    blocks: list[Block] = [
        section(
            t(
                lang,
                "incident.announce.title",
                severity=severity_label(lang, info.severity),
                code=info.code,
                title=escape(truncate(info.title, 300)),
            )
        ),
        SectionBlock(fields=fields),
    ]
    if info.impact:
        head = f"*{escape(t(lang, 'incident.label.impact'))}*\n"
        blocks.append(section(head + truncate(rich(info.impact), SECTION_MAX - len(head))))
    if info.resolved_at:
        blocks.append(
            context(
                t(
                    lang,
                    "incident.announce.resolved",
                    when=date_token(info.resolved_at, tz),
                    duration=duration_text(lang, info.duration(now)),
                )
            )
        )
        if info.resolution:
            head = f"*{escape(t(lang, 'incident.label.resolution'))}*\n"
            blocks.append(section(head + truncate(rich(info.resolution), SECTION_MAX - len(head))))
    else:
        blocks.append(
            context(_ack_line(lang, info, tz) + " · " + t(lang, "incident.announce.follow", channel=channel_link(info)))
        )
    return blocks


def announcement_text(lang: str, info: IncidentInfo) -> str:
    """The announcement's notification text."""
    return t(
        lang,
        "incident.announce.fallback",
        severity=info.severity.value,
        code=info.code,
        title=escape(truncate(info.title, 200)),
        status=t(lang, f"incident.status.{info.status.value}"),
        commander=mention(info.commander_id),
        channel=channel_link(info),
    )


def ack_request_blocks(lang: str, info: IncidentInfo, intro: str) -> list[Block]:
    """A DM asking for acknowledgment, with the button."""
    return [
        section(intro),
        ActionsBlock(
            block_id=f"incident_ack_{info.id}",
            elements=[
                ButtonElement(
                    action_id=Ids.ACK, text=plain(t(lang, "incident.button.ack")), value=str(info.id), style="primary"
                )
            ],
        ),
    ]


def review_due_blocks(lang: str, info: IncidentInfo, intro: str) -> list[Block]:
    """A DM to the commander that the review meeting is due, with the button that schedules it."""
    return [
        section(intro),
        ActionsBlock(
            block_id=f"incident_review_due_{info.id}",
            elements=[
                ButtonElement(
                    action_id=Ids.REVIEW_MEETING,
                    text=plain(t(lang, "incident.button.review_meeting")),
                    value=str(info.id),
                    style="primary",
                )
            ],
        ),
    ]


# -- what happens in the channel -----------------------------------------------------------------------------


def update_blocks(lang: str, info: IncidentInfo, *, text: str, user_id: str, at: datetime, tz: str) -> list[Block]:
    """A formatted update: status, what is known now, who and when."""
    head = t(lang, "incident.update.header", code=info.code, status=status_label(lang, info.status)) + "\n"
    return [
        section(head + truncate(rich(text), SECTION_MAX - len(head))),
        context(t(lang, "incident.update.by", user=mention(user_id), when=date_token(at, tz))),
    ]


def update_text(lang: str, info: IncidentInfo, text: str) -> str:
    """An update's notification text."""
    return t(lang, "incident.update.fallback", code=info.code, text=escape(truncate(text, 200)))


def resolution_text(lang: str, info: IncidentInfo, *, now: datetime) -> str:
    """The resolution as posted in the channel and in the announcement's thread."""
    return t(
        lang,
        "incident.post.resolved",
        code=info.code,
        user=mention(info.resolved_by or ""),
        duration=duration_text(lang, info.duration(now)),
        summary=rich(truncate(info.resolution or "", 2500)),
    )


def resolution_blocks(lang: str, info: IncidentInfo, *, now: datetime, reopen_days: int) -> list[Block]:
    """The resolution in the incident channel, with Reopen for the days it may be reopened."""
    return [
        section(resolution_text(lang, info, now=now)),
        context(t(lang, "incident.reopen_hint", days=reopen_days)),
        ActionsBlock(
            block_id=f"incident_reopen_{info.id}",
            elements=[
                ButtonElement(action_id=Ids.REOPEN, text=plain(t(lang, "incident.button.reopen")), value=str(info.id))
            ],
        ),
    ]


def reopened_blocks(lang: str, text: str, *, user_id: str, at: datetime, tz: str) -> list[Block]:
    """A resolution message once the incident was reopened from it: the button gives way to who reopened it."""
    return [
        section(truncate(text, SECTION_MAX)),
        context(t(lang, "incident.reopened_by", user=mention(user_id), when=date_token(at, tz))),
    ]


def cadence_text(lang: str, ack: int | None, update: int | None) -> str:
    """What a severity asks for: an acknowledgment within N minutes, an update every M minutes."""
    parts = []
    if ack:
        parts.append(t(lang, "incident.cadence.ack", minutes=ack))
    parts.append(t(lang, "incident.cadence.update", minutes=update) if update else t(lang, "incident.cadence.none"))
    return " ".join(parts)


# -- the review (复盘) draft ------------------------------------------------------------------------------------


def event_text(lang: str, entry: TimelineItem) -> str:
    """What one timeline entry says, for Slack (mentions notify, user text escaped)."""
    d = entry.detail
    if entry.kind == "severity":
        return t(
            lang,
            "incident.event.severity_change",
            before=severity_label(lang, Severity(d.get("from") or Severity.SEV4)),
            after=severity_label(lang, Severity(d.get("to") or Severity.SEV4)),
        )
    if entry.kind.startswith("edit.") and "before" in d:
        return t(
            lang,
            "incident.event.edit_change",
            field=t(lang, f"incident.label.{entry.kind.removeprefix('edit.')}"),
            before=rich(truncate(str(d.get("before") or ""), 300)) or t(lang, "incident.none"),
            after=rich(truncate(str(d.get("after") or ""), 300)) or t(lang, "incident.none"),
        )
    if entry.kind == "reopened":
        return t(
            lang, "incident.event.reopened_to", status=t(lang, f"incident.status.{d.get('to') or 'investigating'}")
        )
    return incident_text.event_text(lang, entry, person=mention, text=lambda s: rich(truncate(s, 600)))


def timeline_lines(lang: str, info: IncidentInfo, tz: str) -> list[str]:
    """The timeline, one line a moment: when, who, what."""
    return [
        t(lang, "incident.timeline_line", when=date_token(e.at, tz), user=who(e.actor_id), event=event_text(lang, e))
        for e in info.timeline
    ]


def follow_up_line(lang: str, a: ActionInfo, tz: str) -> str:
    """A follow-up action item with its owner and due date."""
    return t(
        lang,
        "incident.review.follow_up",
        code=a.code,
        title=escape(truncate(a.title, 300)),
        owner=mention(a.owner_id),
        when=date_token(a.due, tz),
        status=t(lang, f"action.status.{a.status.value}"),
    )


def dropped_line(lang: str, a: ActionInfo) -> str:
    """A follow-up decided against, with why."""
    return t(
        lang,
        "incident.review.dropped",
        code=a.code,
        title=escape(truncate(a.title, 300)),
        owner=mention(a.owner_id),
        reason=escape(truncate(a.closed_reason or "", 500)) or t(lang, "incident.none"),
    )


def review_messages(lang: str, review: IncidentReview, *, tz: str, now: datetime) -> list[list[Block]]:
    """The review draft as messages: summary, impact and duration; the timeline; decisions, follow-ups and
    the offer to schedule the review meeting."""
    info = review.incident
    none = t(lang, "incident.review.none")
    span = t(
        lang,
        "incident.review.span",
        start=date_token(info.declared_at, tz),
        end=date_token(info.resolved_at or now, tz),
        duration=duration_text(lang, info.duration(now)),
    )
    first: list[Block] = [
        HeaderBlock(text=plain(t(lang, "incident.review.header", code=info.code, title=info.title), 150)),
        context(t(lang, "incident.review.intro")),
        section(
            f"*{escape(t(lang, 'incident.review.summary'))}*\n" + (rich(truncate(info.resolution or "", 2800)) or none)
        ),
        section(f"*{escape(t(lang, 'incident.label.impact'))}*\n" + (rich(truncate(info.impact, 2800)) or none)),
        section(f"*{escape(t(lang, 'incident.label.duration'))}*\n{span}"),
        context(lifecycle_text(lang, info, tz)),
        context(review_line(lang, info)),
    ]
    messages = [first]
    head = f"*{escape(t(lang, 'incident.review.timeline'))}*"
    chunks = pack_lines(timeline_lines(lang, info, tz)) or [none]
    timeline: list[Block] = [section(head)]
    for chunk in chunks:
        if len(timeline) >= MESSAGE_BLOCKS:
            messages.append(timeline)
            timeline = []
        timeline.append(section(chunk))
    messages.append(timeline)
    decisions = [f"• {rich(truncate(d.text, 500))} — {who(d.actor_id)}" for d in info.decisions]
    meeting = escape(info.review_meeting_code or "")
    decisions += [f"• {escape(truncate(d, 500))} — {meeting}" for d in review.review_decisions]
    follow = [follow_up_line(lang, a, tz) for a in review.kept_follow_ups]
    last: list[Block] = [section(f"*{escape(t(lang, 'incident.review.decisions'))}*")]
    last += [section(c) for c in (pack_lines(decisions) or [none])[:10]]
    last.append(section(f"*{escape(t(lang, 'incident.review.follow_ups'))}*"))
    last += [section(c) for c in (pack_lines(follow) or [none])[:10]]
    dropped = [dropped_line(lang, a) for a in review.dropped_follow_ups]
    if dropped:
        last.append(section(f"*{escape(t(lang, 'incident.review.wont_do'))}*"))
        last += [section(c) for c in pack_lines(dropped)[:5]]
    last += [
        context(t(lang, "incident.review.follow_up_hint")),
        DividerBlock(),
        section(t(lang, "incident.review.schedule")),
        ActionsBlock(
            block_id=f"incident_review_{info.id}",
            elements=[
                ButtonElement(
                    action_id=Ids.REVIEW_MEETING,
                    text=plain(t(lang, "incident.button.review_meeting")),
                    value=str(info.id),
                    style="primary",
                )
            ],
        ),
    ]
    messages.append(last)
    return messages


def review_text(lang: str, info: IncidentInfo) -> str:
    """The review draft's notification text."""
    return t(lang, "incident.review.fallback", code=info.code)
