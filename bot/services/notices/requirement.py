"""When the requirement sheet's reminders go out, to whom, saying what."""

from __future__ import annotations

from datetime import datetime

from bot.notices import Link, Notice, People, Plan, Record, Text, Tone, Typed, When
from bot.outbox import DueWork
from bot.services.requirements import RequirementInfo, RequirementService, Status

KIND = "requirement"


def _record(req: RequirementInfo) -> Record:
    return Record(KIND, req.id, req.code)  # a sheet's notices are headed by its code alone


def sign_reminder(reqs: RequirementService, work: DueWork, now: datetime) -> Plan:
    """An owner who has not signed yet, before the sign-by time of the revision the row was planned for."""
    user = str(work.payload["user_id"])
    req = reqs.get(int(work.payload["requirement_id"]))
    if (
        req.status != Status.AWAITING
        or req.revision != work.payload.get("revision")
        or user not in req.unsigned_owners
        or now >= req.confirm_by
    ):
        return Plan.skip()
    link = Link(req.channel_id, req.message_ts)
    text = Text.of("remind.sign", code=req.code, when=When(req.confirm_by), link=link)
    return Plan((Notice(user, _record(req), text),))


def overdue(reqs: RequirementService, work: DueWork, now: datetime) -> Plan:
    """Past the sign-by time with owners still unsigned: the row's person hears who is missing."""
    user = str(work.payload["user_id"])
    req = reqs.get(int(work.payload["requirement_id"]))
    if req.status != Status.AWAITING or req.revision != work.payload.get("revision") or not req.unsigned_owners:
        return Plan.skip()
    text = Text.of(
        "remind.overdue",
        code=req.code,
        when=When(req.confirm_by),
        who=People(tuple(req.unsigned_owners)),
        link=Link(req.channel_id, req.message_ts),
    )
    return Plan((Notice(user, _record(req), text, tone=Tone.WARN),))


def question_reminder(reqs: RequirementService, work: DueWork, now: datetime) -> Plan:
    """An open question's owner, until it is answered."""
    req, question = reqs.question_info(int(work.payload["question_id"]))
    if question.answered_at is not None:
        return Plan.skip()
    text = Text.of(
        "remind.question",
        code=req.code,
        when=When(question.deadline),
        text=Typed(question.text, 500),
        link=Link(req.channel_id, req.message_ts),
    )
    return Plan((Notice(question.owner_id, _record(req), text),))
