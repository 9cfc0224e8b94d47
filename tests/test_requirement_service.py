"""The requirement service on a real database: IDs, rules, signatures, revisions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import Runtime
from bot.errors import Conflict, NotAllowed, ValidationFailed
from bot.services.requirements import QuestionDraft, RequirementDraft, Status, validate

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def draft(now: datetime = NOW, **overrides: object) -> RequirementDraft:
    """A valid draft relative to `now`."""
    base = RequirementDraft(
        requester_dept="Marketing",
        requester_owner="U_ALICE",
        receiver_dept="Engineering",
        receiver_owner="U_BOB",
        background="bg",
        goal="goal",
        description="desc",
        priority="medium",
        due=now + timedelta(days=14),
        confirm_by=now + timedelta(days=1),
        channel_id="C1",
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_ids_restart_each_year_in_the_workspace_timezone(runtime: Runtime) -> None:
    reqs = runtime.services.requirements  # workspace timezone Asia/Shanghai
    late_2026 = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    codes = [
        reqs.create(team_id="T1", author_id="U_ALICE", draft=draft(late_2026), now=late_2026).code for _ in range(2)
    ]
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 2027-01-01 00:00 in Shanghai
    codes += [
        reqs.create(team_id="T1", author_id="U_ALICE", draft=draft(new_year), now=new_year).code for _ in range(2)
    ]
    other_team = reqs.create(team_id="T2", author_id="U_ALICE", draft=draft(new_year), now=new_year).code
    assert codes == ["RW-2026-001", "RW-2026-002", "RW-2027-001", "RW-2027-002"]
    assert other_team == "RW-2027-001"


def test_ids_past_999_keep_growing(runtime: Runtime) -> None:
    from storage.models import Counter

    with runtime.services.session_scope() as s:
        s.add(Counter(team_id="T1", prefix="RW", year=2026, value=999))
    assert (
        runtime.services.requirements.create(team_id="T1", author_id="U", draft=draft(), now=NOW).code == "RW-2026-1000"
    )


def test_concurrent_creation_gives_distinct_ids(runtime: Runtime) -> None:
    reqs = runtime.services.requirements
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda _: reqs.create(team_id="T1", author_id="U", draft=draft(), now=NOW).code, range(16))
        )
    assert sorted(codes) == [f"RW-2026-{i:03d}" for i in range(1, 17)]


@pytest.mark.parametrize(
    ("overrides", "field", "key"),
    [
        ({"due": NOW - timedelta(minutes=1)}, "due", "error.in_past"),
        ({"confirm_by": NOW}, "confirm_by", "error.in_past"),
        ({"confirm_by": NOW + timedelta(days=20)}, "confirm_by", "error.confirm_after_due"),
        ({"priority": "urgent"}, "priority", "error.required"),
        ({"goal": "  "}, "goal", "error.required"),
        ({"background": "x" * 3001}, "background", "error.too_long"),
        ({"receiver_owner": ""}, "receiver_owner", "error.required"),
        ({"questions": (QuestionDraft("q"),) * 16}, "open_questions", "error.too_many_questions"),
        (
            {"questions": (QuestionDraft("q", None, NOW - timedelta(hours=1)),)},
            "open_questions",
            "error.question_deadline_past",
        ),
    ],
)
def test_validation_rules(overrides: dict[str, Any], field: str, key: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate(replace(draft(), **overrides), NOW)
    assert exc.value.field_errors[field][0] == key


def test_sign_rules_and_history(runtime: Runtime) -> None:
    reqs = runtime.services.requirements
    req = reqs.create(team_id="T1", author_id="U_CAROL", draft=draft(), now=NOW)
    with pytest.raises(NotAllowed):
        reqs.sign(req.id, user_id="U_CAROL", via="button", now=NOW)
    first = reqs.sign(req.id, user_id="U_ALICE", via="reaction", now=NOW)
    assert first.changed and not first.confirmed_now and first.requirement.unsigned_owners == ["U_BOB"]
    assert not reqs.sign(req.id, user_id="U_ALICE", via="button", now=NOW).changed
    done = reqs.sign(req.id, user_id="U_BOB", via="button", now=NOW + timedelta(minutes=5))
    assert done.confirmed_now and done.requirement.status == Status.CONFIRMED
    with pytest.raises(Conflict):
        reqs.sign(req.id, user_id="U_BOB", via="button", now=NOW)
    assert not reqs.withdraw(req.id, user_id="U_ALICE", now=NOW).changed  # locked
    full = reqs.get(req.id, with_history=True)
    assert [h.action for h in full.history] == ["created", "signed", "signed", "confirmed"]
    assert [h.actor_id for h in full.history] == ["U_CAROL", "U_ALICE", "U_BOB", "U_BOB"]


def test_revision_keeps_old_content_and_answered_questions(runtime: Runtime) -> None:
    reqs = runtime.services.requirements
    req = reqs.create(
        team_id="T1",
        author_id="U_ALICE",
        draft=draft(questions=(QuestionDraft("Which API?"), QuestionDraft("Budget?"))),
        now=NOW,
    )
    reqs.answer_question(req.questions[0].id, user_id="U_BOB", now=NOW)
    with pytest.raises(NotAllowed):
        reqs.revise(req.id, user_id="U_BOB", draft=draft(goal="new"), now=NOW)
    revised = reqs.revise(
        req.id,
        user_id="U_ALICE",
        draft=draft(
            goal="new", questions=(QuestionDraft("Which API?"), QuestionDraft("Budget?"), QuestionDraft("Hosting?"))
        ),
        now=NOW,
        expected_revision=1,
    )
    assert revised.revision == 2 and revised.goal == "new"
    assert [q.answered_at is not None for q in revised.questions] == [True, False, False]
    with pytest.raises(Conflict):
        reqs.revise(req.id, user_id="U_ALICE", draft=draft(goal="newer"), now=NOW, expected_revision=1)
    from sqlalchemy import select
    from sqlmodel import col

    from storage.models import RequirementRevision

    with runtime.services.session_scope() as s:
        revisions = s.scalars(select(RequirementRevision).order_by(col(RequirementRevision.revision))).all()
        assert [r.revision for r in revisions] == [1, 2]
        assert '"goal": "goal"' in revisions[0].content and '"goal": "new"' in revisions[1].content
    history = reqs.get(req.id, with_history=True).history
    assert history[-1].action == "revised" and "goal" in history[-1].detail["fields"]


def test_request_changes_only_by_owners_with_a_reason(runtime: Runtime) -> None:
    reqs = runtime.services.requirements
    req = reqs.create(team_id="T1", author_id="U_ALICE", draft=draft(), now=NOW)
    with pytest.raises(ValidationFailed):
        reqs.request_changes(req.id, user_id="U_BOB", reason=" ", now=NOW)
    with pytest.raises(NotAllowed):
        reqs.request_changes(req.id, user_id="U_CAROL", reason="no", now=NOW)
    changed = reqs.request_changes(req.id, user_id="U_BOB", reason="add budget", now=NOW)
    assert changed.status == Status.CHANGES_REQUESTED and changed.change_reason == "add budget"
    assert reqs.awaiting("T1", "U_BOB") == []
