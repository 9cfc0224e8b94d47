"""Records with their full history as JSON, CSV or Markdown, for archives and audits.

Each kind of record is one `Kind` in `KINDS`: how to load it, its structured record (JSON, and the
CSV row flattened from it), its CSV columns and its Markdown. Rendering is pure; loading only calls
the services it is handed. People appear as user IDs: an export runs offline against the database.
`render_report` writes `coordbot report`'s figures the same three ways. Every CSV cell goes through
`csv_safe`, so no cell opens as a formula in a spreadsheet.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.text import t

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.actions import ActionInfo
    from bot.services.incidents import IncidentReview
    from bot.services.meetings import MeetingInfo
    from bot.services.metrics import Report
    from bot.services.requirements import HistoryItem, RequirementInfo

logger = logging.getLogger(__name__)

FORMATS = ("json", "csv", "md")
Stamp = Callable[[datetime], str]  # how a record writes its times
B = TypeVar("B")


@dataclass(frozen=True)
class Kind(Generic[B]):
    """One exportable kind of record."""

    name: str  # the --kind value
    subject: str  # its history subject type and table (storage.export.TABLES)
    load: Callable[[Services, Sequence[int]], list[B]]
    code: Callable[[B], str]
    record: Callable[[B, Stamp], dict[str, Any]]
    columns: tuple[str, ...]
    markdown: Callable[[B, str, ZoneInfo], list[str]]


KINDS: dict[str, Kind[Any]] = {}


def register(kind: Kind[B]) -> Kind[B]:
    """Add a kind to the registry (its name becomes a --kind choice)."""
    KINDS[kind.name] = kind
    return kind


# -- filters and loading ------------------------------------------------------------------------


def parse_since(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date (midnight in `zone`) or date-time (in `zone` unless it has an offset), in UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())  # a bare date reads as its midnight
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date: {text!r} (e.g. 2026-11-01 or 2026-11-01T09:00+08:00)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def collect(
    services: Services,
    kind: Kind[B],
    *,
    since: datetime | None = None,
    channel_id: str | None = None,
    codes: Sequence[str] = (),
    team_id: str | None = None,
) -> list[B]:
    """The records of a kind that match every filter given (one workspace's with `team_id`), oldest first,
    with their history."""
    from storage import export as repo

    with services.session_scope() as s:
        ids = repo.matching_ids(s, kind.subject, since=since, channel_id=channel_id, codes=codes, team_id=team_id)
    return kind.load(services, ids)


# -- rendering ------------------------------------------------------------------------------------


def render(kind: Kind[B], records: Sequence[B], fmt: str, *, lang: str, zone: ZoneInfo, now: datetime) -> str:
    """The export as text: a JSON list, CSV with a header row, or a Markdown document."""
    if fmt == "json":
        data = [kind.record(r, utc_stamp) for r in records]
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(kind, records, zone)
    if fmt == "md":
        return _markdown(kind, records, lang, zone, now)
    raise ValueError(f"unknown format {fmt!r}")


def utc_stamp(moment: datetime) -> str:
    """ISO 8601 in UTC, e.g. 2026-11-26T06:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def zone_stamp(zone: ZoneInfo) -> Stamp:
    """ISO 8601 in a timezone, with its offset, e.g. 2026-11-26T14:00:00+08:00."""
    return lambda moment: moment.astimezone(zone).isoformat()


def md_time(moment: datetime, zone: ZoneInfo) -> str:
    """A time for people, in the workspace timezone with its offset: 2026-11-26 14:00 +08:00."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:5]}"


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (OWASP)


def csv_safe(value: str | int | float | None) -> str:
    """One CSV cell that no spreadsheet runs as a formula (OWASP "CSV injection").

    Text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which Excel and
    LibreOffice hide and which keeps the cell text. A number the program itself writes (an int or a finite
    float, e.g. -3 or -0.5) stays as it is: it holds no formula, and prefixing it would turn it into text a
    spreadsheet no longer adds up. Text that merely looks like a number ("-3" typed by someone) is prefixed.
    """
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _csv(kind: Kind[B], records: Sequence[B], zone: ZoneInfo) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: CRLF rows, quotes where a cell needs them
    writer.writerow(kind.columns)
    stamp = zone_stamp(zone)
    for r in records:
        data = kind.record(r, stamp)
        writer.writerow([csv_safe(_cell(data.get(c), history=c == "history")) for c in kind.columns])
    return buffer.getvalue()


def _cell(value: Any, *, history: bool = False) -> str:
    """One CSV cell: lists one item a line, a dict as `key=value; …`, a history entry as `at actor action …`."""
    if value is None:
        return ""
    if history:
        return "\n".join(" ".join(filter(None, (h["at"], h["actor"], h["action"], _cell(h["detail"])))) for h in value)
    if isinstance(value, list):
        return "\n".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_cell(v).replace(chr(10), ', ')}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _markdown(kind: Kind[B], records: Sequence[B], lang: str, zone: ZoneInfo, now: datetime) -> str:
    lines = [
        f"# {t(lang, f'export.title.{kind.name}')}",
        "",
        t(lang, "export.summary", n=len(records), when=md_time(now, zone)),
        "",
    ]
    if not records:
        lines += [t(lang, "export.none"), ""]
    for r in records:
        lines += kind.markdown(r, lang, zone)
    return "\n".join(lines).rstrip("\n") + "\n"


# -- shared pieces ---------------------------------------------------------------------------------


def _plain(value: Any, stamp: Stamp) -> Any:
    """A domain value as JSON-ready data, times written by `stamp`."""
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), stamp) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v, stamp) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, stamp) for k, v in value.items()}
    return value


def _fields(info: Any, stamp: Stamp, skip: Sequence[str]) -> dict[str, Any]:
    """Every field of a domain object except `skip` (new fields are exported without changes here)."""
    return {f.name: _plain(getattr(info, f.name), stamp) for f in dataclasses.fields(info) if f.name not in skip}


def _history(items: Sequence[HistoryItem], stamp: Stamp) -> list[dict[str, Any]]:
    return [
        {"at": stamp(h.at), "actor": h.actor_id, "action": h.action, "detail": _plain(h.detail, stamp)} for h in items
    ]


def _action_line(lang: str, a: ActionInfo, zone: ZoneInfo) -> str:
    """An action item as a list entry: its ID, what, who, by when, and its status."""
    return "- " + t(
        lang,
        "export.action_line",
        code=a.code,
        title=_text(a.title),
        owner=a.owner_id,
        when=md_time(a.due, zone),
        status=t(lang, f"action.status.{a.status.value}"),
    )


def _text(value: str | None) -> str:
    """User text made safe for a Markdown line or table cell."""
    if not value or not value.strip():
        return "—"
    safe = html.escape(value.strip(), quote=False).replace("|", "\\|")
    return safe.replace("\r\n", "\n").replace("\n", "<br>")


def _opt(lang: str, key: str, default: str, **params: Any) -> str:
    """A catalog text, or `default` when the catalog has no such key."""
    text = t(lang, key, **params)
    return default if text == key else text


def _table(lang: str, rows: Sequence[tuple[str, str]]) -> list[str]:
    lines = [f"| {t(lang, 'export.col.field')} | {t(lang, 'export.col.value')} |", "| --- | --- |"]
    return [*lines, *(f"| {label} | {value} |" for label, value in rows), ""]


def _history_md(items: Sequence[HistoryItem], lang: str, zone: ZoneInfo, heading: str) -> list[str]:
    lines = [f"{heading} {t(lang, 'view.history')}", ""]
    if not items:
        return [*lines, t(lang, "export.no_history"), ""]
    lines += [
        "| " + " | ".join(t(lang, f"export.col.{c}") for c in ("at", "actor", "action", "detail")) + " |",
        "| --- | --- | --- | --- |",
    ]
    for h in items:
        label = _opt(lang, f"export.event.{h.action}", h.action)
        detail = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in h.detail.items())
        lines.append(f"| {md_time(h.at, zone)} | {h.actor_id} | {label} | {_text(detail) if detail else ''} |")
    return [*lines, ""]


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return md_time(moment, zone) if moment else "—"


# -- requirements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """The content of one kept revision."""

    revision: int
    created_by: str
    created_at: datetime
    content: dict[str, Any]


@dataclass(frozen=True)
class RequirementExport:
    """A requirement with its history and every revision's content."""

    info: RequirementInfo
    revisions: tuple[Revision, ...]


def _load_requirements(services: Services, ids: Sequence[int]) -> list[RequirementExport]:
    from storage import export as repo

    out = []
    for rid in ids:
        info = services.requirements.get(rid, with_history=True)
        with services.session_scope() as s:
            revisions = tuple(
                Revision(r.revision, r.created_by, r.created_at, json.loads(r.content or "{}"))
                for r in repo.revisions(s, rid)
            )
        out.append(RequirementExport(info, revisions))
    return out


_TIME_KEYS = frozenset({"due", "confirm_by", "deadline"})


def _retime(value: Any, stamp: Stamp, key: str = "") -> Any:
    """A revision's stored content with its times rewritten by `stamp`."""
    if isinstance(value, dict):
        return {k: _retime(v, stamp, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_retime(v, stamp) for v in value]
    if key in _TIME_KEYS and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return stamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return value


def requirement_record(r: RequirementExport, stamp: Stamp) -> dict[str, Any]:
    """A requirement as data: all fields, signatures, questions, revisions and history."""
    info = r.info
    data: dict[str, Any] = {
        "kind": "requirement",
        **_fields(info, stamp, skip=("id", "signatures", "questions", "history")),
    }
    data["signatures"] = [_plain(s, stamp) for s in info.signatures]
    data["questions"] = [
        {
            "n": q.position + 1,
            "text": q.text,
            "owner_id": q.owner_id,
            "deadline": stamp(q.deadline),
            "answered_at": stamp(q.answered_at) if q.answered_at else None,
            "answered_by": q.answered_by,
        }
        for q in info.questions
    ]
    data["revisions"] = [
        {
            "revision": v.revision,
            "created_by": v.created_by,
            "created_at": stamp(v.created_at),
            "content": _retime(v.content, stamp),
        }
        for v in r.revisions
    ]
    data["history"] = _history(info.history, stamp)
    return data


def requirement_markdown(r: RequirementExport, lang: str, zone: ZoneInfo) -> list[str]:
    """A requirement as the handbook's sheet (需求沟通与确认表), then its signatures and history."""
    info = r.info
    status = f"{t(lang, f'status.{info.status.value}')} · {t(lang, 'sheet.revision', n=info.revision)}"
    rows = [
        (t(lang, "sheet.code"), info.code),
        (t(lang, "sheet.status"), status),
        (t(lang, "sheet.requester"), f"{_text(info.requester_dept)} · {info.requester_owner}"),
        (t(lang, "sheet.receiver"), f"{_text(info.receiver_dept)} · {info.receiver_owner}"),
        (t(lang, "field.background"), _text(info.background)),
        (t(lang, "field.goal"), _text(info.goal)),
        (t(lang, "field.description"), _text(info.description)),
        (t(lang, "field.priority"), _opt(lang, f"priority.{info.priority}", info.priority)),
        (t(lang, "field.due"), md_time(info.due, zone)),
        (t(lang, "field.resources"), _text(info.resources)),
        (t(lang, "field.confirm_by"), md_time(info.confirm_by, zone)),
        (t(lang, "export.channel"), info.channel_id),
        (t(lang, "export.author"), info.author_id),
        (t(lang, "export.created"), md_time(info.created_at, zone)),
        (t(lang, "export.updated"), md_time(info.updated_at, zone)),
        (t(lang, "export.confirmed_at"), _when(info.confirmed_at, zone)),
    ]
    if info.change_reason:
        rows.append((t(lang, "export.change_reason"), _text(info.change_reason)))
    lines = [f"## {t(lang, 'sheet.header', code=info.code)}", "", *_table(lang, rows)]

    lines += [f"### {t(lang, 'field.open_questions')}", ""]
    for q in info.questions:
        params = {"n": q.position + 1, "text": _text(q.text), "owner": q.owner_id, "when": md_time(q.deadline, zone)}
        lines.append(
            t(lang, "export.question_answered", user=q.answered_by or "—", at=md_time(q.answered_at, zone), **params)
            if q.answered_at
            else t(lang, "sheet.question", **params)
        )
    if not info.questions:
        lines.append(t(lang, "sheet.no_questions"))
    lines.append("")

    lines += [f"### {t(lang, 'sheet.signatures')}", ""]
    signed = {s.role.value: s for s in info.signatures}
    for role, owner in (("requester", info.requester_owner), ("receiver", info.receiver_owner)):
        label, sig = t(lang, f"sheet.{role}"), signed.get(role)
        lines.append(
            "- "
            + (
                t(
                    lang,
                    "export.signed",
                    role=label,
                    user=sig.user_id,
                    when=md_time(sig.signed_at, zone),
                    via=_opt(lang, f"export.via.{sig.via}", sig.via),
                )
                if sig
                else t(lang, "export.unsigned", role=label, user=owner)
            )
        )
    lines.append("")

    if r.revisions:
        lines += [f"### {t(lang, 'export.revisions')}", ""]
        lines += [
            "- " + t(lang, "export.revision_line", n=v.revision, user=v.created_by, when=md_time(v.created_at, zone))
            for v in r.revisions
        ]
        lines.append("")
    return lines + _history_md(info.history, lang, zone, "###")


REQUIREMENTS = register(
    Kind(
        name="requirements",
        subject="requirement",
        load=_load_requirements,
        code=lambda r: r.info.code,
        record=requirement_record,
        markdown=requirement_markdown,
        columns=(
            "code",
            "team_id",
            "status",
            "revision",
            "requester_dept",
            "requester_owner",
            "receiver_dept",
            "receiver_owner",
            "background",
            "goal",
            "description",
            "priority",
            "due",
            "resources",
            "confirm_by",
            "channel_id",
            "author_id",
            "created_at",
            "updated_at",
            "confirmed_at",
            "change_reason",
            "signatures",
            "questions",
            "history",
        ),
    )
)


# -- meetings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingExport:
    """A meeting with its history and the action items its minutes created."""

    info: MeetingInfo
    actions: tuple[ActionInfo, ...]


def _load_meetings(services: Services, ids: Sequence[int]) -> list[MeetingExport]:
    return [
        MeetingExport(services.meetings.get(mid, with_history=True), tuple(services.actions.for_source("meeting", mid)))
        for mid in ids
    ]


def meeting_record(m: MeetingExport, stamp: Stamp) -> dict[str, Any]:
    """A meeting as data: all fields, participants, agenda, decisions, acknowledgments, action items, history."""
    info = m.info
    data: dict[str, Any] = {"kind": "meeting", **_fields(info, stamp, skip=("id", "acks", "history"))}
    data["end"] = stamp(info.end)
    data["acknowledgments"] = [{"user_id": user, "at": stamp(at)} for user, at in info.acks]
    data["action_items"] = [a.code for a in m.actions]
    data["history"] = _history(info.history, stamp)
    return data


def meeting_markdown(m: MeetingExport, lang: str, zone: ZoneInfo) -> list[str]:
    """A meeting as minutes: goal, time, people, agenda, decisions, action items, acknowledgments, history."""
    info = m.info
    rows = [
        (t(lang, "meeting.goal"), _text(info.goal)),
        (
            t(lang, "meeting.when"),
            t(lang, "meeting.when_value", when=md_time(info.start, zone), minutes=info.duration_minutes),
        ),
        (t(lang, "meeting.location"), _text(info.location)),
        (t(lang, "meeting.host"), info.host_id),
        (t(lang, "meeting.participants"), ", ".join(info.participants) or "—"),
        (t(lang, "meeting.materials"), _text(info.materials)),
        (t(lang, "export.channel"), info.channel_id),
        (
            t(lang, "export.created"),
            t(lang, "export.created_by", user=info.created_by, when=md_time(info.created_at, zone)),
        ),
    ]
    lines = [f"## {t(lang, 'meeting.header', code=info.code, title=_text(info.title))}", "", *_table(lang, rows)]

    lines += [f"### {t(lang, 'meeting.agenda')}", ""]
    lines += [
        t(lang, "meeting.agenda_line", n=n, topic=_text(a.topic), owner=a.owner_id, minutes=a.minutes)
        for n, a in enumerate(info.agenda, start=1)
    ] or [t(lang, "meeting.no_agenda")]
    lines += ["", f"### {t(lang, 'meeting.minutes_title')}", ""]
    if info.minutes_at is None:
        lines += [t(lang, "export.no_minutes"), ""]
    else:
        lines += [t(lang, "export.minutes_by", user=info.minutes_by or "—", when=md_time(info.minutes_at, zone)), ""]
        lines += [f"#### {t(lang, 'meeting.minutes.decisions')}", ""]
        lines += [f"- {_text(d)}" for d in info.decisions or ()] or [t(lang, "meeting.minutes.none")]
        if info.notes:
            lines += ["", f"#### {t(lang, 'meeting.minutes.notes')}", "", _text(info.notes)]
        lines.append("")
    lines += [f"#### {t(lang, 'meeting.minutes.actions')}", ""]
    lines += [_action_line(lang, a, zone) for a in m.actions] or [t(lang, "meeting.minutes.none")]
    lines += ["", f"#### {t(lang, 'export.acks')}", ""]
    lines += [f"- {t(lang, 'export.ack_line', user=user, when=md_time(at, zone))}" for user, at in info.acks] or [
        t(lang, "meeting.minutes.none")
    ]
    return [*lines, "", *_history_md(info.history, lang, zone, "###")]


MEETINGS = register(
    Kind(
        name="meetings",
        subject="meeting",
        load=_load_meetings,
        code=lambda m: m.info.code,
        record=meeting_record,
        markdown=meeting_markdown,
        columns=(
            "code",
            "team_id",
            "title",
            "goal",
            "start",
            "end",
            "duration_minutes",
            "location",
            "materials",
            "host_id",
            "participants",
            "channel_id",
            "created_by",
            "created_at",
            "agenda",
            "decisions",
            "notes",
            "minutes_at",
            "minutes_by",
            "acknowledgments",
            "action_items",
            "history",
        ),
    )
)


# -- action items ---------------------------------------------------------------------------------------


def _load_actions(services: Services, ids: Sequence[int]) -> list[ActionInfo]:
    return [services.actions.get(aid, with_history=True) for aid in ids]


def action_record(a: ActionInfo, stamp: Stamp) -> dict[str, Any]:
    """An action item as data: all fields, its source record and history."""
    data: dict[str, Any] = {
        "kind": "action",
        **_fields(a, stamp, skip=("id", "history", "source_type", "source_id", "source_code")),
    }
    data["source"] = {"type": a.source_type, "code": a.source_code} if a.source_type or a.source_code else None
    data["history"] = _history(a.history, stamp)
    return data


def action_markdown(a: ActionInfo, lang: str, zone: ZoneInfo) -> list[str]:
    """An action item as a short list of its fields, then its history."""
    status = t(lang, f"action.status.{a.status.value}")
    if a.blocked_reason:
        status += " — " + t(lang, "action.blocked_reason", reason=_text(a.blocked_reason))
    if a.done_at:
        status += " — " + t(lang, "action.done_at", when=md_time(a.done_at, zone))
    items = [
        (t(lang, "action.status"), status),
        (t(lang, "action.owner"), a.owner_id),
        (t(lang, "action.due"), md_time(a.due, zone)),
        (t(lang, "action.deliverable"), _text(a.deliverable)),
        (t(lang, "action.source"), a.source_code or "—"),
        (t(lang, "export.channel"), a.channel_id or "—"),
        (t(lang, "export.created"), t(lang, "export.created_by", user=a.creator_id, when=md_time(a.created_at, zone))),
    ]
    lines = [f"## {a.code} · {_text(a.title)}", "", *(f"- **{label}**: {value}" for label, value in items), ""]
    return lines + _history_md(a.history, lang, zone, "###")


ACTIONS = register(
    Kind(
        name="actions",
        subject="action",
        load=_load_actions,
        code=lambda a: a.code,
        record=action_record,
        markdown=action_markdown,
        columns=(
            "code",
            "team_id",
            "title",
            "owner_id",
            "creator_id",
            "due",
            "deliverable",
            "status",
            "blocked_reason",
            "source",
            "escalate_to",
            "channel_id",
            "created_at",
            "updated_at",
            "done_at",
            "history",
        ),
    )
)


# -- incidents ------------------------------------------------------------------------------------------


def _load_incidents(services: Services, ids: Sequence[int]) -> list[IncidentReview]:
    return [services.incidents.review(iid) for iid in ids]


def incident_record(r: IncidentReview, stamp: Stamp) -> dict[str, Any]:
    """An incident as data: all fields, how long it lasted, its timeline and follow-up action items."""
    info = r.incident
    data: dict[str, Any] = {"kind": "incident", **_fields(info, stamp, skip=("id", "timeline"))}
    data["duration_minutes"] = int(info.duration(info.resolved_at).total_seconds() // 60) if info.resolved_at else None
    data["timeline"] = [
        {"at": stamp(e.at), "actor": e.actor_id, "kind": e.kind, "text": e.text, "detail": _plain(e.detail, stamp)}
        for e in info.timeline
    ]
    data["action_items"] = [a.code for a in r.follow_ups]
    data["wont_do"] = {a.code: a.closed_reason for a in r.dropped_follow_ups}
    data["review_decisions"] = list(r.review_decisions)
    return data


def incident_markdown(r: IncidentReview, lang: str, zone: ZoneInfo) -> list[str]:
    """An incident as its review (复盘): facts, summary, impact, timeline, decisions and follow-ups."""
    from bot.services.incident_text import duration_text, event_text

    info = r.incident
    resolved = (
        t(lang, "export.created_by", user=info.resolved_by or "—", when=md_time(info.resolved_at, zone))
        if info.resolved_at
        else "—"
    )
    duration = duration_text(lang, info.duration(info.resolved_at)) if info.resolved_at else "—"
    rows = [
        (t(lang, "incident.label.severity"), t(lang, f"incident.severity.{info.severity.value}")),
        (t(lang, "incident.label.status"), t(lang, f"incident.status.{info.status.value}")),
        (t(lang, "incident.label.commander"), info.commander_id),
        (t(lang, "incident.label.comms"), info.comms_id or "—"),
        (t(lang, "incident.label.responders"), ", ".join(info.responders) or "—"),
        (
            t(lang, "incident.label.declared"),
            t(lang, "export.created_by", user=info.declared_by, when=md_time(info.declared_at, zone)),
        ),
        (
            t(lang, "incident.label.acknowledged"),
            t(lang, "export.created_by", user=info.acknowledged_by or "—", when=md_time(info.acknowledged_at, zone))
            if info.acknowledged_at
            else "—",
        ),
        (t(lang, "incident.label.mitigated"), md_time(info.mitigated_at, zone) if info.mitigated_at else "—"),
        (t(lang, "incident.label.resolved"), resolved),
        (t(lang, "incident.label.duration"), duration),
        (
            t(lang, "incident.label.reopened"),
            t(lang, "incident.export.reopened", n=info.reopened_count, when=md_time(info.reopened_at, zone))
            if info.reopened_count and info.reopened_at
            else "—",
        ),
        (
            t(lang, "incident.label.review"),
            f"{info.review_meeting_code} · {t(lang, f'incident.review_state.{info.review_state.value}')}"
            if info.review_meeting_code
            else t(lang, "incident.review_state.none"),
        ),
        (t(lang, "incident.label.channel"), f"{info.channel_id} #{info.channel_name}" if info.channel_id else "—"),
    ]
    lines = [
        f"## {t(lang, 'incident.review.header', code=info.code, title=_text(info.title))}",
        "",
        *_table(lang, rows),
    ]
    for label, value in (
        (t(lang, "incident.review.summary"), info.resolution),
        (t(lang, "incident.label.impact"), info.impact),
        (t(lang, "incident.label.description"), info.description),
    ):
        lines += [f"### {label}", "", _text(value), ""]
    lines += [f"### {t(lang, 'incident.review.timeline')}", ""]
    lines += [
        f"- {md_time(e.at, zone)} · {e.actor_id} · {event_text(lang, e, person=str, text=_text)}" for e in info.timeline
    ] or [t(lang, "incident.review.none")]
    lines += ["", f"### {t(lang, 'incident.review.decisions')}", ""]
    decisions = [f"- {_text(d.text)} — {d.actor_id}" for d in info.decisions]
    decisions += [f"- {_text(d)} — {info.review_meeting_code}" for d in r.review_decisions]  # from the review's minutes
    lines += decisions or [t(lang, "incident.review.none")]
    lines += ["", f"### {t(lang, 'incident.review.follow_ups')}", ""]
    lines += [_action_line(lang, a, zone) for a in r.kept_follow_ups] or [t(lang, "incident.review.none")]
    dropped = r.dropped_follow_ups
    if dropped:
        lines += ["", f"### {t(lang, 'incident.review.wont_do')}", ""]
        lines += [f"- {a.code} · {_text(a.title)} — {a.owner_id}: {_text(a.closed_reason or '—')}" for a in dropped]
    return [*lines, ""]


INCIDENTS = register(
    Kind(
        name="incidents",
        subject="incident",
        load=_load_incidents,
        code=lambda r: r.incident.code,
        record=incident_record,
        markdown=incident_markdown,
        columns=(
            "code",
            "team_id",
            "title",
            "severity",
            "status",
            "description",
            "impact",
            "commander_id",
            "comms_id",
            "responders",
            "declared_by",
            "declared_at",
            "acknowledged_at",
            "acknowledged_by",
            "escalated_at",
            "resolved_at",
            "resolved_by",
            "duration_minutes",
            "resolution",
            "channel_id",
            "channel_name",
            "announce_channel_id",
            "timeline",
            "action_items",
        ),
    )
)


# -- the report (`coordbot report`) ---------------------------------------------------------------------------

REPORT_FORMATS = ("md", "csv", "json")
REPORT_COLUMNS = ("section", "figure", "group", "value", "unit")


def render_report(report: Report, fmt: str, *, lang: str, zone: ZoneInfo) -> str:
    """A report as Markdown tables (in `lang`), CSV (one row per figure) or JSON (exact numbers, times in UTC)."""
    if fmt == "json":
        return json.dumps(_plain(report, utc_stamp), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        from bot.services.metrics import figures

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(REPORT_COLUMNS)
        for f in figures(report):
            writer.writerow([csv_safe(f.section), csv_safe(f.figure), csv_safe(f.group), csv_safe(f.value), f.unit])
        return buffer.getvalue()
    if fmt == "md":
        return _report_markdown(report, lang, zone)
    raise ValueError(f"unknown format {fmt!r}")


def report_scope(lang: str, team_id: str | None, channel_id: str | None) -> str:
    """Whose records a report counts: every workspace or one, and maybe one channel."""
    scope = t(lang, "metrics.scope.team", team=team_id) if team_id else t(lang, "metrics.scope.all")
    return t(lang, "metrics.scope.channel", scope=scope, channel=channel_id) if channel_id else scope


def _report_markdown(report: Report, lang: str, zone: ZoneInfo) -> str:
    from bot.services.metrics import duration_text, percent_text

    def rows(head: tuple[str, ...], body: Sequence[Sequence[str]]) -> list[str]:
        return [
            "| " + " | ".join(head) + " |",
            "|" + " --- |" * len(head),
            *("| " + " | ".join(line) + " |" for line in body),
            "",
        ]

    def figure_rows(body: Sequence[tuple[str, str]]) -> list[str]:
        return rows((t(lang, "metrics.col.figure"), t(lang, "metrics.col.value")), [(t(lang, k), v) for k, v in body])

    def when(seconds: float | None) -> str:
        return duration_text(lang, seconds)

    inc, fu, req, act, mtg = report.incidents, report.follow_ups, report.requirements, report.actions, report.meetings
    window = t(
        lang,
        "metrics.report.window",
        since=md_time(report.since, zone),
        until=md_time(report.until, zone),
        scope=report_scope(lang, report.team_id, report.channel_id),
    )
    lines = [f"# {t(lang, 'metrics.report.title')}", "", window, ""]

    lines += [f"## {t(lang, 'metrics.section.incidents')}", ""]
    head = tuple(t(lang, f"metrics.col.{c}") for c in ("severity", "count", "mtta_median", "mtta_p90", "mttr_median"))
    lines += rows(
        (*head, t(lang, "metrics.col.mttr_p90")),
        [
            (
                t(lang, f"incident.severity.{s.severity}") if s.severity != "all" else t(lang, "metrics.all"),
                str(s.count),
                when(s.mtta.median),
                when(s.mtta.p90),
                when(s.mttr.median),
                when(s.mttr.p90),
            )
            for s in (*inc.by_severity, inc.total)
        ],
    )
    lines += figure_rows([("metrics.row.reopened", percent_text(lang, inc.reopened))])

    lines += [f"## {t(lang, 'metrics.section.follow_ups')}", ""]
    lines += figure_rows(
        [
            ("metrics.row.follow_ups", str(fu.total)),
            ("metrics.row.done", str(fu.done)),
            ("metrics.row.wont_do", str(fu.wont_do)),
            ("metrics.row.overdue", str(fu.overdue)),
            ("metrics.row.open", str(fu.open)),
        ]
    )

    lines += [f"## {t(lang, 'metrics.section.requirements')}", ""]
    lines += figure_rows(
        [
            ("metrics.row.posted", str(req.posted)),
            ("metrics.row.confirmed", str(req.confirmed)),
            ("metrics.row.confirm_median", when(req.time_to_confirm.median)),
            ("metrics.row.confirm_p90", when(req.time_to_confirm.p90)),
            ("metrics.row.by_deadline", percent_text(lang, req.confirmed_by_deadline)),
            ("metrics.row.changes_requested", str(req.changes_requested)),
            ("metrics.row.with_changes", str(req.with_changes_requested)),
        ]
    )

    lines += [f"## {t(lang, 'metrics.section.actions')}", ""]
    lines += figure_rows(
        [
            ("metrics.row.on_time", percent_text(lang, act.on_time)),
            ("metrics.row.overdue_items", str(act.overdue_age.count)),
            ("metrics.row.overdue_median", when(act.overdue_age.median)),
            ("metrics.row.overdue_max", when(act.overdue_age.max)),
        ]
    )
    for column, groups in (("channel", act.on_time_by_channel), ("owner", act.on_time_by_owner)):
        if groups:
            lines += rows(
                (t(lang, f"metrics.col.{column}"), t(lang, "metrics.col.on_time")),
                [(_text(g.group), percent_text(lang, g.ratio)) for g in groups],
            )

    lines += [f"## {t(lang, 'metrics.section.meetings')}", ""]
    lines += figure_rows(
        [
            ("metrics.row.meetings", str(mtg.meetings)),
            ("metrics.row.minutes_in_time", percent_text(lang, mtg.minutes_in_time)),
            ("metrics.row.acknowledged", percent_text(lang, mtg.acknowledged)),
        ]
    )
    lines += [
        t(lang, "metrics.report.as_of", when=md_time(report.as_of, zone)),
        "",
        t(lang, "metrics.report.definitions"),
    ]
    return "\n".join(lines) + "\n"
