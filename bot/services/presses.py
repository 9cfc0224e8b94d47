"""What a button on a record's message does, for every messenger: sign a sheet, mark a question answered, move
an action item, acknowledge minutes, acknowledge an incident or move its status.

An adapter turns its platform's button press into a `bot.messenger.ButtonPressed` whose `action` is one of the
names below (Feishu's cards carry them as they are; Slack's action IDs are mapped to them), hands it to
`press`, and shows what the answer says: the record again when it changed, a reply to the presser alone when
it did not, a line in the record's channel when the change is news there, people to add to that channel.
Buttons that open a form are each adapter's own (a modal on Slack, a form card on Feishu).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.errors import NotFound
from bot.messenger import ButtonPressed
from bot.notices import Label, Person, Text
from bot.services import Services
from bot.services.actions import ActionStatus
from bot.services.incident_text import STATUS_EMOJI, Status
from bot.services.reactions import ACTION, MINUTES, SHEET

INCIDENT = "incident"

# What a button does. These are the values Feishu's cards carry (cards already posted keep working), written
# as parts so that no name reads as a catalog key.
_ACT, _MEET, _INC = "action", "meeting", "incident"
SIGN = "requirement.sign"  # a sheet's owner signs
ANSWERED = "requirement.answered"  # an open question on a sheet is answered (record_id: the question's)
START = f"{_ACT}.start"  # an item is taken on, or resumed after being blocked: in progress
DONE = f"{_ACT}.done"
REOPEN = f"{_ACT}.reopen"  # an item that won't be done is open again
MINUTES_ACK = f"{_MEET}.ack"  # a participant acknowledges the minutes
INCIDENT_ACK = f"{_INC}.ack"  # the commander (or a backup escalated to) acknowledges
INCIDENT_STATUS = f"{_INC}.status"  # detail["status"]: the open status to move to

_ITEM_STATUS = {START: ActionStatus.IN_PROGRESS, DONE: ActionStatus.DONE, REOPEN: ActionStatus.OPEN}
PRESSES = frozenset({SIGN, ANSWERED, MINUTES_ACK, INCIDENT_ACK, INCIDENT_STATUS, *_ITEM_STATUS})


@dataclass(frozen=True)
class Pressed:
    """What a press did to which record, and what the adapter is to show for it."""

    kind: str  # SHEET, MINUTES, ACTION or INCIDENT
    record_id: int  # the record to show again (a sheet's, for a question's button)
    changed: bool
    reply: Text | None = None  # to the presser alone (why nothing changed, or that it was done)
    news: Text | None = None  # a line for the record's channel
    joined: tuple[str, ...] = ()  # people to add to the record's channel (a backup who took an incident on)
    confirmed_now: bool = False  # a sheet's second signature
    backup: bool = False  # an incident acknowledged by someone of the backup list


def press(services: Services, event: ButtonPressed, *, teams: Collection[str] | None) -> Pressed:
    """Carry out a record's button; refusals are raised (`NotAllowed`, `Conflict`, `NotFound`) for the adapter's
    error handling. `teams`: the workspaces whose records the presser may act on (None: any, with one
    configured workspace); a record of another workspace is not found."""
    user, now, rid = event.user, event.received_at, event.record_id
    if event.action == SIGN:
        reqs = services.requirements
        _check(reqs.get(rid).team_id, teams, rid)
        via = "home" if event.detail.get("via") == "home" else "button"  # pressed on the person's own page
        outcome = reqs.sign(rid, user_id=user, via=via, now=now)  # NotAllowed for anyone but the owners
        code = outcome.requirement.code
        reply = None if outcome.changed else Text("reply.already_signed", {"code": code})
        return Pressed(SHEET, rid, outcome.changed, reply=reply, confirmed_now=outcome.confirmed_now)
    if event.action == ANSWERED:
        req = services.requirements.answer_question(rid, user_id=user, now=now, teams=teams)
        return Pressed(SHEET, req.id, changed=True)
    if event.action in _ITEM_STATUS:
        actions = services.actions
        item = actions.get(rid)
        _check(item.team_id, teams, rid)
        item, changed = actions.set_status(rid, user_id=user, status=_ITEM_STATUS[event.action], now=now)
        status = Label(f"{_ACT}.status.{item.status.value}")
        reply = None if changed else Text("action.reply.unchanged", {"code": item.code, "status": status})
        return Pressed(ACTION, rid, changed, reply=reply)
    if event.action == MINUTES_ACK:
        meetings = services.meetings
        _check(meetings.get(rid).team_id, teams, rid)
        meeting, changed = meetings.acknowledge(rid, user_id=user, now=now)
        key = "meeting.reply.acknowledged" if changed else "meeting.reply.already_acknowledged"
        return Pressed(MINUTES, rid, changed, reply=Text(key, {"code": meeting.code}))
    if event.action == INCIDENT_ACK:
        incidents = services.incidents
        _check(incidents.get(rid).team_id, teams, rid)
        acked = incidents.acknowledge(rid, user_id=user, now=now)
        info = acked.incident
        if not acked.changed:
            return Pressed(INCIDENT, rid, False, reply=Text("incident.reply.already_acked", {"code": info.code}))
        key = "incident.post.acked_backup" if acked.backup else "incident.post.acked"
        news = Text(key, {"user": Person(user), "code": info.code})
        joined = (user,) if acked.backup and info.channel_id else ()
        return Pressed(INCIDENT, rid, True, news=news, joined=joined, backup=acked.backup)
    if event.action == INCIDENT_STATUS:
        incidents = services.incidents
        _check(incidents.get(rid).team_id, teams, rid)
        to = Status(str(event.detail.get("status") or ""))
        info, before = incidents.set_status(rid, user_id=user, status=to, now=now)
        now_label = Label(f"{_INC}.status.{info.status.value}", mark=STATUS_EMOJI[info.status])
        if before is None:
            status = Label(f"{_INC}.status.{info.status.value}")
            return Pressed(
                INCIDENT, rid, False, reply=Text("incident.reply.unchanged", {"code": info.code, "status": status})
            )
        was = Label(f"{_INC}.status.{before.value}")
        news = Text("incident.post.status", {"code": info.code, "user": Person(user), "to": now_label, "from": was})
        return Pressed(INCIDENT, rid, True, news=news)
    raise NotFound("error.not_found", code=event.action)


def _check(team: str, teams: Collection[str] | None, record_id: int) -> None:
    """A record of another workspace is, to this presser, not there."""
    if teams is not None and team not in teams:
        raise NotFound("error.not_found", code=str(record_id))


__all__ = ["ACTION", "INCIDENT", "MINUTES", "PRESSES", "SHEET", "Pressed", "press"]
