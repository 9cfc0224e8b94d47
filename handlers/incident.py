"""Slack listeners for incidents (应急响应): the wiring of them all, and /incident with its sub-commands."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from slack_bolt import App

from bot.errors import NotAllowed
from bot.messenger import ButtonPressed
from bot.services import presses
from bot.services.incident_text import Status, parse_command, parse_status, plain_text
from bot.services.incidents import IncidentInfo, parse_severity
from bot.text import t
from handlers.blocks import incident as blocks
from handlers.blocks.common import ModalMeta, mention, truncate
from handlers.blocks.incident import STATUS_ACTION, Ids
from handlers.blocks.stats import stats_blocks, stats_text
from handlers.commands import Invocation, Routes, command_listener
from handlers.incident_declaration import declare_incident, post_text
from handlers.incident_declaration import refresh as refresh  # meeting.py brings a review's incident up to date
from handlers.incident_lifecycle import (
    change_severity,
    change_severity_by_select,
    open_edit_modal,
    reopen,
    reopen_by_button,
    save_edit,
)
from handlers.incident_review import export_review, open_resolve_modal, open_review_meeting, save_resolution
from handlers.incident_running import (
    acknowledge_by_button,
    change_roles,
    change_status,
    change_status_by_button,
    post_update,
)
from handlers.incident_running import on_reaction as on_reaction  # reactions.py hands 📌 here
from handlers.serving.replies import through_inbox

logger = logging.getLogger(__name__)


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
    event = ButtonPressed(
        workspace=cmd.directory.team_id,
        user=cmd.user,
        received_at=cmd.services.now(),
        action=presses.INCIDENT_STATUS,
        record_id=info.id,
        channel=cmd.channel,
        message="",
        detail={"status": status.value},
    )  # the same as the summary's status button
    change_status(cmd.client, cmd.respond, cmd.services, cmd.directory, event)


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
    post_text(
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
