"""Slack listeners for incidents (应急响应): /incident, the modals, the summary's buttons, 📌 on messages."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import inbox
from bot.errors import NotAllowed, NotFound, ValidationFailed
from bot.people import find_people
from bot.services import Services
from bot.services.incident_text import (
    CODE_RE,
    ROLE_WORDS,
    Severity,
    Status,
    channel_name,
    parse_command,
    parse_status,
    plain_text,
)
from bot.services.incidents import (
    IncidentInfo,
    parse_severity,
    review_meeting_draft,
    validate,
    validate_edit,
    validate_resolution,
)
from bot.text import t
from handlers.actions import send_action_dms
from handlers.blocks import incident as blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks.common import ModalMeta, escape, mention, pack_lines, section, truncate
from handlers.blocks.incident import STATUS_ACTION, Ids
from handlers.blocks.stats import stats_blocks, stats_text
from handlers.commands import Invocation, Routes, command_listener
from handlers.due.outbound import RecordLocks, message_link
from handlers.membership import Unposted, post_record, repostable
from handlers.serving.replies import field_errors, through_inbox
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import listed_with_source, require_visible

logger = logging.getLogger(__name__)

PIN = "pushpin"
MAX_NAME_ATTEMPTS = 20
EXPORT_PIECE = 3800  # characters of Markdown a reply carries
EXPORT_PIECES = 4  # a response_url takes 5 posts
_locks = RecordLocks()


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.command("/incident")(through_inbox(handle_command, opens_view=True))
    app.view_submission(Ids.MODAL)(through_inbox(declare_incident))
    app.view_submission(Ids.RESOLVE_MODAL)(through_inbox(save_resolution))
    app.action(Ids.ACK)(through_inbox(acknowledge_by_button))
    app.action(STATUS_ACTION)(through_inbox(change_status_by_button))
    app.action(Ids.RESOLVE)(through_inbox(open_resolve_modal, opens_view=True))
    app.action(Ids.REVIEW_MEETING)(through_inbox(open_review_meeting, opens_view=True))
    app.action(Ids.SEVERITY)(through_inbox(change_severity_by_select))
    app.action(Ids.EDIT)(through_inbox(open_edit_modal, opens_view=True))
    app.view_submission(Ids.EDIT_MODAL)(through_inbox(save_edit))
    app.action(Ids.REOPEN)(through_inbox(reopen_by_button))


# -- /incident ------------------------------------------------------------------------------------------------


def open_declaration(cmd: Invocation) -> None:
    """`/incident [title]`: the declaration modal, the title filled in, opened right after the acknowledgment."""
    cmd.ack()
    user = cmd.user
    cmd.client.views_open(
        trigger_id=cmd.trigger_id,
        view=blocks.incident_modal(cmd.lang, meta=ModalMeta(cmd.channel), user_id=user, title=truncate(cmd.rest, 150)),
    )
    cmd.directory.get(user, fetch=True)


def show_help(cmd: Invocation) -> None:
    """`/incident help`: the usage, as the acknowledgment."""
    cmd.ack(text=t(cmd.lang, "incident.help"))


def send_export(cmd: Invocation) -> None:
    """`/incident export [INC-…]`: the review as Markdown (this channel's incident when no ID is given)."""
    cmd.ack()
    export_review(
        cmd.respond,
        cmd.services,
        cmd.directory,
        user=cmd.user,
        team_id=cmd.team_id,
        channel=cmd.channel,
        code=cmd.rest,
    )


def _here(cmd: Invocation) -> IncidentInfo:
    """The incident run in the channel the command came from; NotAllowed anywhere else."""
    info = cmd.services.incidents.by_channel(cmd.channel)
    if info is None:
        raise NotAllowed("error.incident_not_in_channel")
    return info


def open_resolution(cmd: Invocation) -> None:
    """`/incident resolve`: the resolution modal, for the commander and responders of an open incident."""
    cmd.ack()
    info = _here(cmd)
    services = cmd.services
    services.incidents.check_can_run(info, cmd.user)
    services.incidents.check_open(info)
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=blocks.resolve_modal(cmd.lang, info, now=services.now()))


def set_status(cmd: Invocation) -> None:
    """`/incident status <status>`: move the incident on (`resolved` asks for the resolution)."""
    status = parse_status(cmd.rest)
    # "/incident status page is down" outside an incident names a new one; only this rare reading needs
    # the database before the acknowledgment
    if status is None and cmd.services.incidents.by_channel(cmd.channel) is None:
        open_declaration(dataclasses.replace(cmd, verb="declare", rest=cmd.text))
        return
    if status == Status.RESOLVED:
        open_resolution(cmd)
        return
    cmd.ack()
    info = _here(cmd)
    if status is None:
        cmd.respond(text=t(cmd.lang, "incident.reply.usage.status"), response_type="ephemeral")
        return
    change_status(cmd.client, cmd.respond, cmd.services, cmd.directory, info.id, user=cmd.user, status=status)


def add_update(cmd: Invocation) -> None:
    """`/incident update <text>`: an update in the channel and the announcement's thread."""
    cmd.ack()
    info = _here(cmd)
    if not cmd.rest:
        cmd.respond(text=t(cmd.lang, "incident.reply.usage.update"), response_type="ephemeral")
        return
    post_update(cmd.client, cmd.services, cmd.directory, info.id, user=cmd.user, text=cmd.rest)


def record_decision(cmd: Invocation) -> None:
    """`/incident decision <text>`: a decision on the timeline, posted in the channel."""
    cmd.ack()
    info = _here(cmd)
    if not cmd.rest:
        cmd.respond(text=t(cmd.lang, "incident.reply.usage.decision"), response_type="ephemeral")
        return
    info = cmd.services.incidents.add_decision(info.id, user_id=cmd.user, text=cmd.rest, now=cmd.services.now())
    _post(
        cmd.client,
        info.channel_id,
        t(
            cmd.directory.channel_lang(info.channel_id),
            "incident.post.decision",
            user=mention(cmd.user),
            text=blocks.rich(truncate(cmd.rest, 2500)),
        ),
    )


def assign_role(cmd: Invocation) -> None:
    """`/incident role comms|responder @x` and `/incident lead @x`: the commander hands out roles."""
    cmd.ack()
    info = _here(cmd)
    change_roles(
        cmd.client, cmd.respond, cmd.services, cmd.directory, info, user=cmd.user, verb=cmd.verb, rest=cmd.rest
    )


def change_severity_here(cmd: Invocation) -> None:
    """`/incident severity SEV1`: the commander raises or lowers the severity (outside an incident: a title)."""
    severity = parse_severity(cmd.rest)
    if severity is None and cmd.services.incidents.by_channel(cmd.channel) is None:
        open_declaration(dataclasses.replace(cmd, verb="declare", rest=cmd.text))
        return
    cmd.ack()
    info = _here(cmd)
    if severity is None:
        cmd.respond(text=t(cmd.lang, "incident.reply.usage.severity"), response_type="ephemeral")
        return
    change_severity(cmd.client, cmd.respond, cmd.services, cmd.directory, info.id, user=cmd.user, severity=severity)


def open_edit(cmd: Invocation) -> None:
    """`/incident edit`: the commander's edit modal (outside an incident, `edit …` is a title)."""
    if cmd.rest and cmd.services.incidents.by_channel(cmd.channel) is None:
        open_declaration(dataclasses.replace(cmd, verb="declare", rest=cmd.text))
        return
    cmd.ack()
    info = _here(cmd)
    cmd.services.incidents.check_commander(info, cmd.user)
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=blocks.edit_modal(cmd.lang, info))


def reopen_here(cmd: Invocation) -> None:
    """`/incident reopen`: the resolved incident of this channel runs again."""
    cmd.ack()
    info = _here(cmd)
    reopen(cmd.client, cmd.services, cmd.directory, info.id, user=cmd.user)


STATS_DAYS = 90  # `/incident stats` without a number: the last quarter


def show_stats(cmd: Invocation) -> None:
    """`/incident stats [days]`: the workspace's incidents of the last days (90 by default), to the asker only."""
    cmd.ack()
    words = cmd.rest.split()
    days = int(words[0]) if words and words[0].isdigit() and 0 < int(words[0]) <= 3660 else STATS_DAYS
    now = cmd.services.now()
    report = cmd.services.metrics.report(team_id=cmd.team_id, since=now - timedelta(days=days), until=now, now=now)
    lang = cmd.lang
    scope = t(lang, "metrics.scope.team", team=cmd.command.get("team_domain") or cmd.team_id)
    cmd.respond(
        text=stats_text(lang, report),
        blocks=stats_blocks(lang, report, scope_label=scope, tz=cmd.tz),
        response_type="ephemeral",
    )


# `/incident`'s newer verbs, in English and Chinese (the others are in bot.services.incident_text.VERBS)
MORE_VERBS: dict[str, str] = {
    "severity": "severity",
    "sev": "severity",
    "严重程度": "severity",
    "级别": "severity",
    "edit": "edit",
    "编辑": "edit",
    "修改": "edit",
    "reopen": "reopen",
    "重新打开": "reopen",
    "重开": "reopen",
    "stats": "stats",
    "统计": "stats",
}


def parse(text: str) -> tuple[str, str]:
    """`/incident`'s own reading (English and Chinese verbs, see VERBS): the verb and the rest, else `declare`."""
    head, _, rest = text.strip().partition(" ")
    verb = MORE_VERBS.get(head.lower())
    if verb is not None:
        return verb, rest.strip()
    command = parse_command(text)
    return command.verb, command.rest


# keyed by the verbs `parse` returns; the words people type for them (状态, 进展, 解决, …) are in VERBS
COMMANDS: Routes = {
    "declare": open_declaration,
    "help": show_help,
    "export": send_export,
    "resolve": open_resolution,
    "status": set_status,
    "update": add_update,
    "decision": record_decision,
    "role": assign_role,
    "lead": assign_role,
    "severity": change_severity_here,
    "edit": open_edit,
    "reopen": reopen_here,
    "stats": show_stats,
}
handle_command = command_listener(
    COMMANDS,
    fallback=open_declaration,
    parse=parse,
    clean=plain_text,
    doc="`/incident [title]` declares; inside an incident channel: status, update, role, lead, decision, severity, "
    "edit, resolve, reopen; anywhere: stats [days].",
)


# -- declaring ---------------------------------------------------------------------------------------------------


def declare_incident(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, services: Services, directory: Directory
) -> None:
    """Validate without network calls and acknowledge; then the channel, the summary and the announcement."""
    user = body["user"]["id"]
    lang = directory.lang_of(user)
    draft = blocks.parse_incident_form(body["view"]["state"]["values"])
    try:
        validate(draft)
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    meta = ModalMeta.load(body["view"].get("private_metadata"))
    team = context.team_id or ""
    info = services.incidents.declare(
        team_id=team, declarer_id=user, draft=draft, origin_channel=meta.origin_channel, now=services.now()
    )
    # a second run of this request (its worker died) picks up where the first left off
    again = inbox.rerun()
    if not (again and info.channel_id):
        info = open_channel(client, services, directory, info, declarer=user)
    if not (again and info.announce_ts):
        info = announce(client, services, directory, info, declarer=user)
    if not (again and info.summary_ts):
        info = post_summary(client, services, directory, info)
    if info.acknowledged_at is None:
        ask_commander(client, services, directory, info)


def open_channel(
    client: WebClient, services: Services, directory: Directory, info: IncidentInfo, *, declarer: str
) -> IncidentInfo:
    """Create `inc-<date>-<slug>` (with a suffix when taken) and invite the commander, responders and declarer."""
    created: dict[str, Any] | None = None
    error = ""
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = channel_name(info.code, info.title, info.declared_at, services.settings.tz, attempt)
        try:
            created = dict(client.conversations_create(name=name, is_private=False)["channel"])
            break
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error != "name_taken":
                break
    if created is None:
        logger.warning("no channel for %s: %s", info.code, error)
        client.chat_postMessage(
            channel=declarer,
            text=t(directory.lang_of(declarer), "incident.reply.no_channel", code=info.code, error=error),
        )
        return info
    info = services.incidents.attach_channel(
        info.id, channel_id=str(created["id"]), channel_name=str(created.get("name") or "")
    )
    invite(client, directory, info.channel_id, [info.commander_id, *info.responders, declarer])
    return info


def invite(client: WebClient, directory: Directory, channel_id: str, users: list[str]) -> None:
    """Invite people to the incident channel; who is already there, or cannot be invited, is skipped."""
    wanted = [u for u in dict.fromkeys(users) if u and not ((m := directory.get(u)) and m.is_bot)]
    if not wanted:
        return
    try:
        client.conversations_invite(channel=channel_id, users=",".join(wanted))
    except SlackApiError as exc:
        logger.info("invite to %s: %s", channel_id, exc.response.get("error"))
        if len(wanted) > 1:  # one at a time, so that one who is there already or refused keeps no one else out
            for user in wanted:
                try:
                    client.conversations_invite(channel=channel_id, users=user)
                except SlackApiError as one:
                    logger.info("invite of %s to %s: %s", user, channel_id, one.response.get("error"))


def post_summary(client: WebClient, services: Services, directory: Directory, info: IncidentInfo) -> IncidentInfo:
    """Post the summary in the incident channel and pin it (without a channel: in the announcement's thread)."""
    channel = info.summary_channel
    if not channel:
        return info
    lang, tz, now = directory.channel_lang(channel), services.settings.tz, services.now()
    resp = post_record(
        client,
        directory,
        ref=f"incident-summary:{info.id}",
        code=info.code,
        channel=channel,
        author=info.commander_id,
        tell=False,
        thread_ts=None if info.channel_id else info.announce_ts,
        text=blocks.summary_text(lang, info),
        blocks=blocks.summary_blocks(lang, info, tz=tz, now=now),
        unfurl_links=False,
    )
    if resp is None:  # the channel went away under the incident: the commander has the summary in /incident
        return info
    ts = str(resp["ts"])
    if info.channel_id:
        try:
            client.pins_add(channel=channel, timestamp=ts)
        except SlackApiError as exc:
            logger.info("could not pin the summary of %s: %s", info.code, exc.response.get("error"))
    return services.incidents.attach_summary(info.id, ts=ts)


def announce(
    client: WebClient, services: Services, directory: Directory, info: IncidentInfo, *, declarer: str, tell: bool = True
) -> IncidentInfo:
    """Announce in COORDBOT_INCIDENT_CHANNEL, or where the incident was declared."""
    target = services.settings.incident_channel or info.declared_in
    if not target:
        return info
    lang, tz = directory.channel_lang(target), services.settings.tz
    resp = post_record(
        client,
        directory,
        ref=f"incident:{info.id}",
        code=info.code,
        channel=target,
        author=declarer,
        tell=tell,
        text=blocks.announcement_text(lang, info),
        blocks=blocks.announcement_blocks(lang, info, tz=tz, now=services.now()),
        unfurl_links=False,
    )
    if resp is None:
        return info
    return services.incidents.attach_announcement(info.id, channel_id=str(resp["channel"]), ts=str(resp["ts"]))


def _unposted(services: Services, incident_id: int) -> Unposted:
    info = services.incidents.get(incident_id)
    target = services.settings.incident_channel or info.declared_in
    return Unposted(info.code, target, bool(info.announce_ts), frozenset({info.commander_id, info.declared_by}))


def _post_again(client: WebClient, services: Services, directory: Directory, incident_id: int, user: str) -> bool:
    info = announce(client, services, directory, services.incidents.get(incident_id), declarer=user, tell=False)
    return bool(info.announce_ts)


repostable("incident", _unposted, _post_again)


def ask_commander(client: WebClient, services: Services, directory: Directory, info: IncidentInfo) -> None:
    """DM the commander an Acknowledge button (a declarer who leads has acknowledged by declaring)."""
    user = info.commander_id
    lang = directory.lang_of(user, fetch=True)
    window = services.incidents.ack_window(info.severity)
    intro = t(
        lang,
        "incident.dm.commander",
        user=mention(info.declared_by),
        code=info.code,
        title=escape(truncate(info.title, 200)),
        severity=blocks.severity_label(lang, info.severity),
        window=t(lang, "incident.dm.window", minutes=int(window.total_seconds() // 60)) if window else "",
        channel=blocks.channel_link(info),
    )
    client.chat_postMessage(channel=user, text=intro, blocks=blocks.ack_request_blocks(lang, info, intro))


def refresh(client: WebClient, services: Services, directory: Directory, incident_id: int) -> IncidentInfo:
    """Re-render the pinned summary and the announcement from the database (one render at a time)."""
    with _locks[incident_id]:
        info = services.incidents.get(incident_id)
        tz, now = services.settings.tz, services.now()
        if info.summary_channel and info.summary_ts:
            lang = directory.channel_lang(info.summary_channel)
            client.chat_update(
                channel=info.summary_channel,
                ts=info.summary_ts,
                text=blocks.summary_text(lang, info),
                blocks=blocks.summary_blocks(lang, info, tz=tz, now=now),
            )
        if info.announce_channel_id and info.announce_ts:
            lang = directory.channel_lang(info.announce_channel_id)
            client.chat_update(
                channel=info.announce_channel_id,
                ts=info.announce_ts,
                text=blocks.announcement_text(lang, info),
                blocks=blocks.announcement_blocks(lang, info, tz=tz, now=now),
            )
    return info


def _post(client: WebClient, channel: str, text: str, **extra: Any) -> None:
    if channel:
        client.chat_postMessage(channel=channel, text=text, unfurl_links=False, **extra)


# -- running -----------------------------------------------------------------------------------------------------


def acknowledge_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """The commander acknowledges (summary or DM); a backup called by the escalation takes it and joins."""
    ack()
    user = body["user"]["id"]
    lang = directory.lang_of(user)
    outcome = services.incidents.acknowledge(int(body["actions"][0]["value"]), user_id=user, now=services.now())
    info = outcome.incident
    in_dm = str((body.get("container") or {}).get("channel_id") or "").startswith("D")
    if not outcome.changed:
        respond(
            text=t(lang, "incident.reply.already_acked", code=info.code),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if outcome.backup and info.channel_id:
        invite(client, directory, info.channel_id, [user])
    refresh(client, services, directory, info.id)
    key = "incident.post.acked_backup" if outcome.backup else "incident.post.acked"
    _post(client, info.channel_id, t(directory.channel_lang(info.channel_id), key, user=mention(user), code=info.code))
    if in_dm:
        done = t(
            lang,
            "incident.dm.joined" if outcome.backup else "incident.dm.acked",
            code=info.code,
            channel=blocks.channel_link(info),
        )
        respond(text=done, blocks=[section(done)], replace_original=True)  # the button goes


def change_status_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """A status button on the summary: for the commander and the responders."""
    ack()
    raw_id, _, status = str(body["actions"][0]["value"]).partition(":")
    change_status(client, respond, services, directory, int(raw_id), user=body["user"]["id"], status=Status(status))


def change_status(
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    incident_id: int,
    *,
    user: str,
    status: Status,
) -> None:
    """Move the status, post the change in the channel, and bring the summary and announcement up to date."""
    info, before = services.incidents.set_status(incident_id, user_id=user, status=status, now=services.now())
    if before is None:
        lang = directory.lang_of(user)
        respond(
            text=t(
                lang, "incident.reply.unchanged", code=info.code, status=t(lang, f"incident.status.{info.status.value}")
            ),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    lang = directory.channel_lang(info.channel_id)
    _post(
        client,
        info.channel_id,
        t(
            lang,
            "incident.post.status",
            code=info.code,
            user=mention(user),
            to=blocks.status_label(lang, info.status),
            **{"from": t(lang, f"incident.status.{before.value}")},
        ),
    )
    refresh(client, services, directory, info.id)


def post_update(
    client: WebClient, services: Services, directory: Directory, incident_id: int, *, user: str, text: str
) -> None:
    """Post a formatted update in the incident channel and in the announcement's thread."""
    now, tz = services.now(), services.settings.tz
    info = services.incidents.post_update(incident_id, user_id=user, text=text, now=now)
    targets: list[tuple[str, str | None]] = [(info.channel_id, None)] if info.channel_id else []
    if info.announce_channel_id and info.announce_ts:
        targets.append((info.announce_channel_id, info.announce_ts))  # stakeholders follow the thread
    for channel, thread in targets:
        lang = directory.channel_lang(channel)
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=blocks.update_text(lang, info, text),
            blocks=blocks.update_blocks(lang, info, text=text, user_id=user, at=now, tz=tz),
            unfurl_links=False,
        )


def _person(rest: str, directory: Directory) -> str:
    people = find_people(rest, directory.members())
    for ref in people:
        if ref.error:
            raise NotAllowed(ref.error, name=ref.written.lstrip("@"), names=", ".join(ref.candidates))
    ids = list(dict.fromkeys(p.user_id for p in people if p.user_id))
    if len(ids) != 1:
        raise NotAllowed("error.incident_need_person")
    return ids[0]


def change_roles(
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    info: IncidentInfo,
    *,
    user: str,
    verb: str,
    rest: str,
) -> None:
    """`role comms @x`, `role responder @x` and `lead @x`: the commander's; both people hear by DM."""
    lang, now = directory.lang_of(user), services.now()
    services.incidents.check_commander(info, user)
    if verb == "role":
        word, _, rest = rest.partition(" ")
        role = ROLE_WORDS.get(word.lower())
        if role is None or not rest.strip():
            respond(text=t(lang, "incident.reply.usage.role"), response_type="ephemeral")
            return
    elif not rest.strip():
        respond(text=t(lang, "incident.reply.usage.lead"), response_type="ephemeral")
        return
    target = _person(rest, directory)
    channel_lang = directory.channel_lang(info.channel_id)
    link = blocks.channel_link(info)
    title = escape(truncate(info.title, 200))
    if verb == "lead":
        info = services.incidents.hand_over(info.id, user_id=user, target_id=target, now=now)
        invite(client, directory, info.channel_id, [target])
        _post(
            client, info.channel_id, t(channel_lang, "incident.post.lead", user=mention(user), target=mention(target))
        )
        new_lang = directory.lang_of(target, fetch=True)
        _post(
            client,
            target,
            t(
                new_lang,
                "incident.dm.lead_new",
                user=mention(user),
                code=info.code,
                title=title,
                severity=blocks.severity_label(new_lang, info.severity),
                channel=link,
            ),
        )
        _post(client, user, t(lang, "incident.dm.lead_old", code=info.code, new=mention(target)))
        refresh(client, services, directory, info.id)
        return
    updated, previous = services.incidents.assign_role(info.id, user_id=user, role=str(role), target_id=target, now=now)
    invite(client, directory, info.channel_id, [target])
    _post(
        client,
        info.channel_id,
        t(channel_lang, f"incident.post.role_{role}", user=mention(user), target=mention(target)),
    )
    target_lang = directory.lang_of(target, fetch=True)
    _post(
        client,
        target,
        t(target_lang, f"incident.dm.role_{role}", user=mention(user), code=info.code, title=title, channel=link),
    )
    if previous and previous != target:
        _post(
            client,
            previous,
            t(
                directory.lang_of(previous, fetch=True),
                "incident.dm.role_removed",
                user=mention(user),
                new=mention(target),
                code=info.code,
            ),
        )
    refresh(client, services, directory, updated.id)


def on_reaction(
    event: dict[str, Any], client: WebClient, services: Services, directory: Directory, *, removed: bool
) -> bool:
    """📌 on a message in an incident channel puts it on the timeline (its last 📌 removed takes it off)."""
    item = event.get("item") or {}
    if event.get("reaction") != PIN:
        return False
    channel, ts = str(item.get("channel")), str(item.get("ts"))
    info = services.incidents.by_channel(channel)
    if info is None:
        return False
    message = fetch_message(client, channel, ts)
    if removed:
        still = any(r.get("name") == PIN for r in (message or {}).get("reactions") or [])
        if not still:
            services.incidents.unpin_message(info.id, message_ts=ts)
        return True
    text = plain_text(str((message or {}).get("text") or ""))
    author = str((message or {}).get("user") or event.get("item_user") or "")
    try:
        at: datetime | None = datetime.fromtimestamp(float(ts), UTC)
    except ValueError:
        at = None
    added = services.incidents.pin_message(
        info.id, message_ts=ts, author_id=author, pinned_by=str(event["user"]), text=text, at=at, now=services.now()
    )
    if added is not None:
        try:
            client.chat_postEphemeral(
                channel=channel,
                user=str(event["user"]),
                text=t(directory.lang_of(str(event["user"])), "incident.reply.pinned", code=info.code),
            )
        except SlackApiError as exc:
            logger.info("could not confirm the 📌 on %s: %s", info.code, exc.response.get("error"))
    return True


def fetch_message(client: WebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """A message's current text and reactions: conversations.history, or conversations.replies for a thread reply."""
    try:
        resp = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
        found = next((m for m in resp.get("messages") or [] if m.get("ts") == ts), None)
        if found is None:
            resp = client.conversations_replies(channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True)
            found = next((m for m in resp.get("messages") or [] if m.get("ts") == ts), None)
    except SlackApiError as exc:
        logger.info("could not read message %s in %s: %s", ts, channel, exc.response.get("error"))
        return None
    return dict(found) if found else None


# -- changing as it unfolds: severity, edits, reopening ---------------------------------------------------------


def change_severity_by_select(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """A severity picked on the summary: for the commander."""
    ack()
    chosen = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    incident_id, severity = blocks.severity_choice(str(chosen))
    if not incident_id:
        return
    change_severity(
        client, respond, services, directory, incident_id, user=body["user"]["id"], severity=Severity(severity)
    )


def change_severity(
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    incident_id: int,
    *,
    user: str,
    severity: Severity,
) -> None:
    """Change the severity; say so in the channel and to the announcement's readers; update both in place."""
    incidents = services.incidents
    info, before = incidents.change_severity(incident_id, user_id=user, severity=severity, now=services.now())
    if before is None:
        lang = directory.lang_of(user)
        respond(
            text=t(
                lang,
                "incident.reply.severity_unchanged",
                code=info.code,
                severity=blocks.severity_label(lang, severity),
            ),
            response_type="ephemeral",
            replace_original=False,
        )
        refresh(client, services, directory, info.id)  # the select shows the severity it has
        return
    for channel, thread in _audiences(info):
        lang = directory.channel_lang(channel)
        text = t(
            lang,
            "incident.post.severity",
            user=mention(user),
            code=info.code,
            before=blocks.severity_label(lang, before),
            after=blocks.severity_label(lang, info.severity),
            cadence=_cadence(lang, services, info),
        )
        _post(client, channel, text, thread_ts=thread, reply_broadcast=True if thread else None)
    refresh(client, services, directory, info.id)


def _audiences(info: IncidentInfo) -> list[tuple[str, str | None]]:
    """Where a change is told: the incident channel, and the announcement's thread (shown in its channel too)."""
    targets: list[tuple[str, str | None]] = [(info.channel_id, None)] if info.channel_id else []
    if info.announce_channel_id and info.announce_ts:
        targets.append((info.announce_channel_id, info.announce_ts))
    return targets


def _cadence(lang: str, services: Services, info: IncidentInfo) -> str:
    """What the incident's severity asks for now (the acknowledgment only while it is awaited)."""
    ack = services.incidents.ack_window(info.severity) if info.acknowledged_at is None else None
    update = services.incidents.update_cadence(info.severity)
    return blocks.cadence_text(
        lang, int(ack.total_seconds() // 60) if ack else None, int(update.total_seconds() // 60) if update else None
    )


def open_edit_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Edit on the summary: the commander corrects the title, what is known and the impact."""
    ack()
    user = body["user"]["id"]
    info = services.incidents.get(int(body["actions"][0]["value"]))
    services.incidents.check_commander(info, user)
    client.views_open(trigger_id=body["trigger_id"], view=blocks.edit_modal(directory.lang_of(user), info))


def save_edit(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Store the corrections (each on the timeline), say what changed, and update the summary and announcement."""
    user = body["user"]["id"]
    lang = directory.lang_of(user)
    draft = blocks.parse_edit_form(body["view"]["state"]["values"])
    try:
        validate_edit(draft)
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    incident_id = blocks.resolve_meta(body["view"].get("private_metadata"))
    info, changed = services.incidents.edit(incident_id, user_id=user, draft=draft, now=services.now())
    if not changed:
        _post(client, user, t(lang, "incident.reply.nothing_edited", code=info.code))
        return
    channel_lang = directory.channel_lang(info.summary_channel)
    fields = ", ".join(t(channel_lang, f"incident.label.{name}") for name in changed)
    _post(
        client,
        info.channel_id,
        t(channel_lang, "incident.post.edited", user=mention(user), code=info.code, fields=escape(fields)),
    )
    refresh(client, services, directory, info.id)


def reopen_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Reopen on the resolution message; the message then says who reopened it instead of offering it again."""
    ack()
    user = body["user"]["id"]
    info = reopen(client, services, directory, int(body["actions"][0]["value"]), user=user)
    container = body.get("container") or {}
    channel, ts = str(container.get("channel_id") or ""), str(container.get("message_ts") or "")
    if channel and ts:
        lang = directory.channel_lang(channel)
        said = str((body.get("message") or {}).get("text") or info.code)
        client.chat_update(
            channel=channel,
            ts=ts,
            text=said,
            blocks=blocks.reopened_blocks(lang, said, user_id=user, at=services.now(), tz=services.settings.tz),
        )


def reopen(client: WebClient, services: Services, directory: Directory, incident_id: int, *, user: str) -> IncidentInfo:
    """Reopen the incident (a clear refusal outside the window); tell the channel and the announcement's readers."""
    info = services.incidents.reopen(incident_id, user_id=user, now=services.now())
    for channel, thread in _audiences(info):
        lang = directory.channel_lang(channel)
        text = t(
            lang,
            "incident.post.reopened",
            user=mention(user),
            code=info.code,
            status=blocks.status_label(lang, info.status),
            n=info.reopened_count,
            cadence=_cadence(lang, services, info),
        )
        _post(client, channel, text, thread_ts=thread, reply_broadcast=True if thread else None)
    return refresh(client, services, directory, info.id)


# -- resolving and reviewing ---------------------------------------------------------------------------------------


def open_resolve_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Resolve: for the commander and responders, it asks for the summary."""
    ack()
    user = body["user"]["id"]
    info = services.incidents.get(int(body["actions"][0]["value"]))
    services.incidents.check_can_run(info, user)
    services.incidents.check_open(info)
    client.views_open(
        trigger_id=body["trigger_id"], view=blocks.resolve_modal(directory.lang_of(user), info, now=services.now())
    )


def save_resolution(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Resolve; post the resolution and the review (复盘) draft; hand the follow-ups to their owners."""
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    try:
        draft = blocks.parse_resolve_form(
            body["view"]["state"]["values"],
            now=now,
            tz=tz,
            members=directory.members(),
            workday_end=services.settings.workday_end,
        )
        validate_resolution(draft)
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    outcome = services.incidents.resolve(
        blocks.resolve_meta(body["view"].get("private_metadata")), user_id=user, draft=draft, now=now
    )
    info = outcome.incident
    home = info.channel_id or info.announce_channel_id
    home_lang = directory.channel_lang(home)
    _post(
        client,
        home,
        blocks.resolution_text(home_lang, info, now=now),
        blocks=blocks.resolution_blocks(home_lang, info, now=now, reopen_days=services.incidents.reopen_days),
    )
    if info.announce_ts and info.announce_channel_id:
        _post(
            client,
            info.announce_channel_id,
            blocks.resolution_text(directory.channel_lang(info.announce_channel_id), info, now=now),
            thread_ts=info.announce_ts,
        )
    refresh(client, services, directory, info.id)
    post_review(client, services, directory, info.id, channel=home)
    link = message_link(client, info.channel_id, info.summary_ts)
    send_action_dms(client, services, directory, outcome.follow_ups, source_link=link)


def post_review(client: WebClient, services: Services, directory: Directory, incident_id: int, *, channel: str) -> None:
    """Post the review draft as messages: summary, timeline, decisions and follow-ups, the meeting offer."""
    if not channel:
        return
    review = services.incidents.review(incident_id)
    lang = directory.channel_lang(channel)
    for body in blocks.review_messages(lang, review, tz=services.settings.tz, now=services.now()):
        client.chat_postMessage(
            channel=channel, text=blocks.review_text(lang, review.incident), blocks=body, unfurl_links=False
        )


def open_review_meeting(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """The meeting modal, prefilled for the review: the team, an hour two working days on, a standard agenda."""
    ack()
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    info = services.incidents.get(int(body["actions"][0]["value"]))
    later = services.settings.calendar.add_working_days(now, 2, tz)
    start = later.replace(hour=10, minute=0, second=0, microsecond=0)
    draft = review_meeting_draft(info, lang=lang, start=start)
    client.views_open(
        trigger_id=body["trigger_id"],
        view=meeting_blocks.meeting_modal(
            lang,
            meta=ModalMeta(draft.channel_id),
            user_id=user,
            now=now,
            tz=tz,
            draft=draft,
            workday_end=services.settings.workday_end,
            incident_id=info.id,  # the meeting it schedules reviews this incident
        ),
    )


def export_review(
    respond: Respond, services: Services, directory: Directory, *, user: str, team_id: str, channel: str, code: str
) -> None:
    """`/incident export INC-…`: the review as Markdown, only to the person who asked."""
    from bot.export import KINDS, collect, render

    lang = directory.lang_of(user)
    code = code.strip().upper()
    if not code:
        here = services.incidents.by_channel(channel)
        code = here.code if here else ""
    if not CODE_RE.match(code):
        respond(text=t(lang, "incident.reply.usage.export"), response_type="ephemeral")
        return
    info = services.incidents.by_code(team_id, code)  # NotFound reaches the error handler
    # an incident whose channel the person is not in stays unknown to them, like a missing one
    require_visible(directory, user, info.summary_channel, NotFound("error.incident_not_found", code=code))
    kind = KINDS["incidents"]
    records = [
        dataclasses.replace(
            r,
            follow_ups=tuple(
                a
                for a in r.follow_ups
                if listed_with_source(directory, user, a.channel_id, source_channel=r.incident.summary_channel)
            ),
        )
        for r in collect(services, kind, codes=[code])
        if r.incident.team_id == team_id
    ]
    markdown = render(kind, records, "md", lang=lang, zone=services.settings.zone, now=services.now())
    pieces = pack_lines(markdown.replace("```", "'''").splitlines(), EXPORT_PIECE)  # ``` inside defused
    for piece in pieces[:EXPORT_PIECES]:
        respond(text=f"```\n{piece}\n```", response_type="ephemeral")
    if len(pieces) > EXPORT_PIECES:
        respond(text=t(lang, "incident.reply.export_cut", code=code), response_type="ephemeral")
