"""What a reaction on a record's message does, for every messenger: ✅ signs a sheet, acknowledges minutes,
marks an action item done; taking it off undoes that. An adapter turns its platform's reaction event into a
`bot.messenger.ReactionChanged`, hands it here, and shows the record again when something changed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.errors import NotAllowed
from bot.messenger import ReactionChanged
from bot.services import Services
from bot.services.actions import ActionInfo, ActionStatus

SHEET, MINUTES, ACTION = "requirement", "minutes", "action"


@dataclass(frozen=True)
class Reacted:
    """The record a reaction landed on, and whether the reaction changed it."""

    kind: str  # SHEET, MINUTES or ACTION
    record_id: int
    changed: bool
    confirmed_now: bool = False  # a sheet's second signature


def react(
    services: Services,
    reaction: ReactionChanged,
    *,
    sign: bool,
    teams: Collection[str] | None,
    channel: str | None,
) -> Reacted | None:
    """Apply a reaction to the record whose message it is on; None when the message shows no record.

    `sign`: the emoji is one of the platform's ✅-like ones (any other reaction is just a reaction).
    `teams`: the workspaces whose records the message may show (None: any, with one configured workspace).
    `channel`: the message's channel, or None on a platform whose message IDs are unique on their own.
    Raises `NotAllowed` when someone puts a ✅ on a sheet they may not sign or an item they may not close
    (the adapter decides whether to say so).
    """
    user, now = reaction.user, reaction.received_at
    reqs = services.requirements
    req = reqs.by_message(channel, reaction.message, teams=teams)
    if req is not None:
        if not sign:
            return Reacted(SHEET, req.id, changed=False)
        if not reaction.added:
            changed = user in req.owners and reqs.withdraw(req.id, user_id=user, now=now).changed
            return Reacted(SHEET, req.id, changed=changed)
        outcome = reqs.sign(req.id, user_id=user, via="reaction", now=now)  # NotAllowed for anyone but the owners
        return Reacted(SHEET, req.id, changed=outcome.changed, confirmed_now=outcome.confirmed_now)
    meeting = services.meetings.by_message(channel, reaction.message, teams=teams)
    if meeting is not None:
        if meeting.minutes_ts != reaction.message or not sign:  # the meeting's card, or another emoji
            return Reacted(MINUTES, meeting.id, changed=False)
        meetings = services.meetings
        act = meetings.acknowledge if reaction.added else meetings.withdraw_ack
        _, changed = act(meeting.id, user_id=user, now=now)
        return Reacted(MINUTES, meeting.id, changed=changed)
    item = services.actions.by_message(channel, reaction.message, teams=teams)
    if item is None:
        return None
    if not sign:
        return Reacted(ACTION, item.id, changed=False)
    if reaction.added:
        status = ActionStatus.DONE  # set_status refuses anyone but the owner and the creator (NotAllowed)
    elif item.status == ActionStatus.DONE and user in (item.owner_id, item.creator_id):
        status = status_before_done(services.actions.get(item.id, with_history=True))
    else:
        return Reacted(ACTION, item.id, changed=False)
    _, changed = services.actions.set_status(item.id, user_id=user, status=status, now=now)
    return Reacted(ACTION, item.id, changed=changed)


def status_before_done(item: ActionInfo) -> ActionStatus:
    """The open status an item had before it was marked done (one that won't be done comes back open)."""
    for entry in reversed(item.history):
        if entry.action == "status_changed" and entry.detail.get("to") == ActionStatus.DONE:
            before = ActionStatus(entry.detail.get("from") or ActionStatus.OPEN)
            if before == ActionStatus.WONT_DO:
                return ActionStatus.OPEN
            return ActionStatus.IN_PROGRESS if before == ActionStatus.BLOCKED else before
    return ActionStatus.OPEN


__all__ = ["ACTION", "MINUTES", "SHEET", "NotAllowed", "Reacted", "react", "status_before_done"]
