"""Feishu cards for incidents (应急响应): the declare form, the incident card, and the resolve form."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from bot.errors import ValidationFailed
from bot.people import MENTION_RE, Member
from bot.services import presses
from bot.services.actions import ActionDraft
from bot.services.incident_text import OPEN_STATUSES, STATUS_EMOJI, Severity, Status, duration_text
from bot.services.incidents import (
    MAX_TITLE,
    IncidentDraft,
    IncidentInfo,
    ResolutionDraft,
    TimelineItem,
    parse_severity,
    validate,
    validate_resolution,
)
from bot.services.requirement_text import LineError
from bot.text import t
from handlers.feishu.cards.common import (
    Md,
    at,
    button,
    buttons,
    card,
    clip,
    errors_toast,
    escape_md,
    form,
    form_text,
    hr,
    lark_t,
    markdown,
    person_picker,
    plain,
    select,
    text_input,
    when,
)
from handlers.feishu.cards.meeting import form_people, parse_action_items, people_picker

logger = logging.getLogger(__name__)

FORM_KIND = "incident"  # the declare form's submit value's "form"
RESOLUTION_KIND = "resolution"  # the resolve form's submit value's "form" (with "incident": its id)
_DO = "incident"  # a button value's "do" is "<_DO>.<verb>" (written apart: the catalog check reads "x.y" as a key)
DO_ACK = presses.INCIDENT_ACK
DO_RESOLVE = f"{_DO}.resolve"  # opens the resolve form
DO_STATUS = presses.INCIDENT_STATUS  # with "status": the status to move to
DO_REVIEW_MEETING = f"{_DO}.review_meeting"  # the review reminder's button: the review meeting's form


class Names(StrEnum):
    """The names incidents own: the forms, their inputs (as the Slack forms name their fields) and the buttons."""

    FORM = "incident_form"
    SUBMIT = "incident_form_submit"  # what common.form names the form's submit button
    RESOLUTION_FORM = "incident_resolution_form"
    RESOLUTION_SUBMIT = "incident_resolution_form_submit"
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    IMPACT = "impact"
    COMMANDER = "commander"
    RESPONDERS = "responders"
    SUMMARY = "summary"
    DECISIONS = "decisions"
    FOLLOW_UPS = "follow_ups"
    ACK = "incident_ack"  # + "_<id>" in a card
    RESOLVE = "incident_resolve"
    STATUS = "incident_status"  # + "_<status>_<id>"


FIELDS = (Names.TITLE, Names.SEVERITY, Names.DESCRIPTION, Names.IMPACT, Names.COMMANDER, Names.RESPONDERS)
RESOLUTION_FIELDS = (Names.SUMMARY, Names.DECISIONS, Names.FOLLOW_UPS)
LABELS = {f.value: f"incident.field.{f.value}" for f in (*FIELDS, *RESOLUTION_FIELDS)}  # field -> its label's key
EMOJI = STATUS_EMOJI
TEMPLATE = {Severity.SEV1: "red", Severity.SEV2: "orange", Severity.SEV3: "yellow", Severity.SEV4: "blue"}
TEXT_MAX = 1500  # typed text shown on the card, before escaping


def severity_label(lang: str, severity: Severity) -> str:
    """SEV1 · Critical, in the reader's language."""
    return t(lang, f"incident.severity.{severity.value}")


def status_label(lang: str, status: Status) -> str:
    """A status with its emoji."""
    return f"{EMOJI[status]} {t(lang, f'incident.status.{status.value}')}"


def rich(text: str, limit: int = TEXT_MAX) -> Md:
    """Typed text as card markdown, shown as typed except the <@ou_…> mentions it holds (they notify)."""
    parts = MENTION_RE.split(clip(text, limit))  # text, id, text, id, … (the pattern has one group)
    return Md("".join(at(p) if i % 2 else escape_md(p) for i, p in enumerate(parts)))


def who(user_id: str) -> Md:
    """A person, or the bot itself for what it did on its own."""
    return Md("coordbot") if user_id == "coordbot" else at(user_id)


def incident_errors(lang: str, exc: ValidationFailed) -> dict[str, Any]:
    """A declare or resolve form's field errors as an error toast, each under its field's label."""
    return errors_toast(lang, exc, labels=LABELS)


# -- declaring ---------------------------------------------------------------------------------------------


def incident_form(
    lang: str, *, chat_id: str, tz: str, now: datetime, title: str = "", people: Sequence[str] = ()
) -> dict[str, Any]:
    """The declare form: title, severity, what is known, impact, commander (empty: the declarer), responders; its
    submit calls back with {"form": "incident", "chat": chat_id}. The pickers offer `people` (open_ids), or
    every member of the chat the card is in."""
    severities = [
        (s.value, f"{severity_label(lang, s)} — {t(lang, f'incident.severity_hint.{s.value}')}") for s in Severity
    ]
    elements = [
        text_input(Names.TITLE, t(lang, "incident.field.title"), required=True, max_length=MAX_TITLE, default=title),
        select(Names.SEVERITY, t(lang, "incident.field.severity"), severities, required=True),
        text_input(Names.DESCRIPTION, t(lang, "incident.field.description"), multiline=True),
        text_input(Names.IMPACT, t(lang, "incident.field.impact"), multiline=True),
        person_picker(Names.COMMANDER, t(lang, "incident.field.commander"), people=people),
        markdown(lark_t(lang, "incident.hint.commander"), notation=True),
        *people_picker(Names.RESPONDERS, t(lang, "incident.field.responders"), people=people),
    ]
    body = [
        markdown(lark_t(lang, "incident.intro")),
        form(Names.FORM, elements, t(lang, "incident.submit"), {"form": FORM_KIND, "chat": chat_id}),
    ]
    return card(t(lang, "incident.modal_title"), body, template="red")


def parse_incident_form(form_value: dict[str, Any], *, lang: str, user_id: str) -> IncidentDraft:
    """Read a submitted declare form into a draft (the commander defaults to the declarer `user_id`); raise
    ValidationFailed with the Slack form's field names and text keys."""
    severity = parse_severity(form_text(form_value, Names.SEVERITY))
    draft = IncidentDraft(
        title=form_text(form_value, Names.TITLE).strip(),
        severity=severity.value if severity else "",
        commander_id=form_text(form_value, Names.COMMANDER).strip() or user_id,
        description=form_text(form_value, Names.DESCRIPTION),
        impact=form_text(form_value, Names.IMPACT),
        responders=form_people(form_value, Names.RESPONDERS),
    )
    validate(draft)
    return draft


# -- the incident card -------------------------------------------------------------------------------------


def _field(lang: str, key: str, value: str) -> str:
    """One labelled line: **Label**: value (value already card markdown)."""
    return f"**{lark_t(lang, key)}**: {value}"


def lifecycle_text(lang: str, info: IncidentInfo, tz: str) -> str:
    """Reported, acknowledged, mitigated, resolved and reopened, as far as the incident got (card markdown)."""
    parts = [lark_t(lang, "incident.life.reported", when=when(info.reported_at, tz, lang))]
    for key, moment in (
        ("acknowledged", info.acknowledged_at),
        ("mitigated", info.mitigated_at),
        ("resolved", info.resolved_at),
    ):
        if moment is not None:
            parts.append(lark_t(lang, f"incident.life.{key}", when=when(moment, tz, lang)))
    if info.reopened_count and info.reopened_at is not None:
        parts.append(
            lark_t(lang, "incident.life.reopened", n=info.reopened_count, when=when(info.reopened_at, tz, lang))
        )
    return " · ".join(parts)


def _review_line(lang: str, info: IncidentInfo) -> str:
    if info.review_meeting_code:
        state = t(lang, f"incident.review_state.{info.review_state.value}")
        return lark_t(lang, "incident.review_line", code=info.review_meeting_code, state=state)
    return lark_t(lang, "incident.review_line_none")


def latest_update(info: IncidentInfo) -> TimelineItem | None:
    """The newest update posted on the incident, if its timeline was loaded and has one."""
    return next((e for e in reversed(info.timeline) if e.kind == "update"), None)


def _facts(lang: str, info: IncidentInfo, tz: str) -> str:
    none = escape_md(t(lang, "incident.none"))
    responders = " ".join(at(u) for u in info.responders[:60]) or none
    declared = lark_t(lang, "incident.declared_value", user=at(info.declared_by), when=when(info.declared_at, tz, lang))
    lines = [
        _field(lang, "incident.label.severity", escape_md(severity_label(lang, info.severity))),
        _field(lang, "incident.label.status", escape_md(status_label(lang, info.status))),
        _field(lang, "incident.label.commander", at(info.commander_id)),
        _field(lang, "incident.label.comms", at(info.comms_id) if info.comms_id else none),
        _field(lang, "incident.label.responders", responders),
        _field(lang, "incident.label.declared", declared),
    ]
    if info.resolved_at is not None:
        lines.append(_field(lang, "incident.label.resolved", escape_md(when(info.resolved_at, tz, lang))))
        lines.append(
            _field(lang, "incident.label.duration", escape_md(duration_text(lang, info.resolved_at - info.declared_at)))
        )
    return "\n".join(lines)


def _buttons(lang: str, info: IncidentInfo) -> dict[str, Any]:
    row = []
    if info.acknowledged_at is None:
        ack = {"do": DO_ACK, "id": info.id}
        row.append(button(t(lang, "incident.button.ack"), ack, kind="primary_filled", name=f"{Names.ACK}_{info.id}"))
    for status in OPEN_STATUSES:
        if status != info.status:
            value = {"do": DO_STATUS, "id": info.id, "status": status.value}
            row.append(button(status_label(lang, status), value, name=f"{Names.STATUS}_{status.value}_{info.id}"))
    resolve = button(
        t(lang, "incident.button.resolve"),
        {"do": DO_RESOLVE, "id": info.id},
        kind="danger",
        name=f"{Names.RESOLVE}_{info.id}",
    )
    resolve["confirm"] = {
        "title": {"tag": "plain_text", "content": plain(t(lang, "incident.confirm.title"))},
        "text": {"tag": "plain_text", "content": plain(t(lang, "incident.confirm.text", code=info.code), 300)},
    }
    row.append(resolve)
    return buttons(*row)


def incident_summary(lang: str, info: IncidentInfo) -> str:
    """The card's one-line preview in the chat list (plain text)."""
    return t(
        lang,
        "incident.fallback",
        code=info.code,
        severity=info.severity.value,
        title=clip(info.title, 200),
        status=t(lang, f"incident.status.{info.status.value}"),
    )


def incident_card(lang: str, info: IncidentInfo, *, tz: str) -> dict[str, Any]:
    """The incident: severity, status, roles, declared and resolved times, what is known, impact, the latest
    update; Acknowledge (until acknowledged), the other open statuses and Resolve while it is open."""
    elements: list[dict[str, Any]] = [
        markdown(_facts(lang, info, tz)),
        markdown(lifecycle_text(lang, info, tz), notation=True),
    ]
    if info.review_meeting_code or info.resolved:
        elements.append(markdown(_review_line(lang, info), notation=True))
    for key, value in (("description", info.description), ("impact", info.impact), ("resolution", info.resolution)):
        if value:
            elements.append(markdown(f"**{lark_t(lang, f'incident.label.{key}')}**\n{rich(value)}"))
    update = latest_update(info)
    if update is not None:
        head = lark_t(lang, "incident.update.header", code=info.code, status=status_label(lang, info.status))
        elements.append(markdown(f"{head}\n{rich(update.text)}"))
        by = lark_t(lang, "incident.update.by", user=who(update.actor_id), when=when(update.at, tz, lang))
        elements.append(markdown(by, notation=True))
    if not info.resolved:
        if info.acknowledged_at and info.acknowledged_by:
            ack = lark_t(
                lang, "incident.ack.done", user=at(info.acknowledged_by), when=when(info.acknowledged_at, tz, lang)
            )
        else:
            ack = lark_t(lang, "incident.ack.pending", commander=at(info.commander_id))
        elements += [hr(), markdown(ack, notation=True), _buttons(lang, info)]
    title = t(lang, "incident.header", code=info.code, title=clip(info.title, 120))
    subtitle = f"{severity_label(lang, info.severity)} · {status_label(lang, info.status)}"
    template = "green" if info.resolved else TEMPLATE[info.severity]
    return card(title, elements, template=template, subtitle=subtitle, summary=incident_summary(lang, info))


# -- resolving ---------------------------------------------------------------------------------------------


def resolution_form(lang: str, info: IncidentInfo, *, now: datetime | None = None) -> dict[str, Any]:
    """The resolve form: summary, decisions (one a line), follow-up action items (one a line); its submit calls
    back with {"form": "resolution", "incident": info.id}. With `now`, it says how long the incident has run."""
    intro = f"**{escape_md(info.code)} · {escape_md(clip(info.title, 200))}**"
    if now is not None:
        intro += "\n" + lark_t(lang, "incident.resolve_intro", duration=duration_text(lang, info.duration(now)))
    elements = [
        text_input(Names.SUMMARY, t(lang, "incident.field.summary"), required=True, multiline=True),
        text_input(Names.DECISIONS, t(lang, "incident.field.decisions"), multiline=True),
        markdown(lark_t(lang, "incident.hint.decisions"), notation=True),
        text_input(Names.FOLLOW_UPS, t(lang, "incident.field.follow_ups"), multiline=True),
        markdown(lark_t(lang, "incident.hint.follow_ups"), notation=True),
    ]
    submit = {"form": RESOLUTION_KIND, "incident": info.id}
    body = [markdown(intro), form(Names.RESOLUTION_FORM, elements, t(lang, "incident.resolve_submit"), submit)]
    return card(t(lang, "incident.resolve_title", code=info.code), body, template="green")


def parse_resolution_form(
    form_value: dict[str, Any],
    *,
    now: datetime,
    tz: str,
    lang: str,
    members: Sequence[Member],
    workday_end: time = time(18, 0),
) -> ResolutionDraft:
    """Read a submitted resolve form into a draft; an unreadable follow-up line is an error naming the field and
    the line; raise ValidationFailed with the Slack form's field names and text keys."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    follow_ups: tuple[ActionDraft, ...] = ()
    try:
        lines = parse_action_items(
            form_text(form_value, Names.FOLLOW_UPS), now=now, tz=tz, members=members, workday_end=workday_end
        )
        follow_ups = tuple(ActionDraft(a.title, a.owner_id, a.due, a.deliverable) for a in lines)
    except LineError as exc:
        errors[Names.FOLLOW_UPS] = (exc.key, dict(exc.params))
    decisions = tuple(
        d.strip().lstrip("-•*·").strip() for d in form_text(form_value, Names.DECISIONS).splitlines() if d.strip()
    )
    draft = ResolutionDraft(form_text(form_value, Names.SUMMARY).strip(), decisions, follow_ups)
    try:
        validate_resolution(draft)
    except ValidationFailed as exc:
        errors = {**exc.field_errors, **errors}  # an unreadable line says more than a count
    if errors:
        raise ValidationFailed(errors)
    return draft
