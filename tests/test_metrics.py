"""The figures of `coordbot report` and `/incident stats`, checked against arithmetic done by hand.

Every seed uses times relative to the test clock's start (START, Thursday 2026-11-26 14:00 in Shanghai); the
window is [START, START + 240 h) and what is open is judged at its end unless a test says otherwise.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from slack_sdk.models.blocks import Block

from bot.app import Runtime
from bot.catalog import metrics as metrics_catalog
from bot.cli import main
from bot.services.actions import ActionDraft, ActionStatus
from bot.services.incidents import IncidentDraft, ResolutionDraft
from bot.services.meetings import ActionDraftLine, MeetingDraft, MinutesDraft
from bot.services.metrics import MetricsService, Report, duration_text, figures, p90, spread
from bot.services.requirements import RequirementDraft
from bot.text import placeholders
from handlers.blocks.stats import Ids, stats_blocks, stats_text
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage.models import ActionItem, Incident, Meeting, Workspace
from tests.conftest import START, Bot
from tests.helpers import declare, wait_until

OTHER = "C_OTHER"
UNTIL = START + timedelta(hours=240)
CLI_WINDOW = ("--since", "2026-11-26T14:00+08:00", "--until", "2026-12-06T14:00+08:00", "--now", "2026-12-06T06:00Z")


def at(hours: float) -> datetime:
    """The test clock's start plus some hours."""
    return START + timedelta(hours=hours)


def report(rt: Runtime, *, team: str | None = "T1", now: datetime | None = None, **kw: Any) -> Report:
    """The figures of the test window."""
    return MetricsService(rt.services.session_scope).report(team_id=team, since=START, until=UNTIL, now=now, **kw)


def update(rt: Runtime, model: Any, row_id: int, **values: Any) -> None:
    """Set columns directly, for what no service does yet (reopening, "won't do", a review meeting's link)."""
    with rt.services.session_scope() as s:
        row = s.get(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)


# -- seeds ----------------------------------------------------------------------------------------------------


def incident(rt: Runtime, *, declared: datetime, severity: str = "SEV1", team: str = "T1", by: str = BOB) -> int:
    """An incident commanded by Alice (declared by Bob unless `by` says otherwise: Alice declaring acknowledges)."""
    draft = IncidentDraft(title="Checkout is down", severity=severity, commander_id=ALICE)
    info = rt.services.incidents.declare(
        team_id=team, declarer_id=by, draft=draft, origin_channel=GENERAL, now=declared
    )
    return info.id


def seed_incidents(rt: Runtime) -> dict[str, int]:
    """Four incidents of T1 in the window, one before it, one of T2; follow-ups from an incident and its review.

    SEV1  I1 declared at 0 h, acknowledged +5 min, resolved +60 min            (MTTA 300 s,  MTTR 3,600 s)
    SEV1  I2 declared at 1 h, acknowledged +15 min, resolved +180 min, reopened, resolved again +240 min
                                                                              (MTTA 900 s,  MTTR 14,400 s)
    SEV2  I3 declared at 2 h by Alice, its commander: acknowledged by declaring (MTTA 0 s), still open
    SEV1  I4 declared at 3 h, acknowledged +25 min, resolved +120 min          (MTTA 1,500 s, MTTR 7,200 s)
    SEV1  I5 declared 24 h before the window (left out), with an overdue follow-up (left out too)
    SEV1  I6 of workspace T2, declared at 5 h, acknowledged +1 min (only in a report over every workspace)
    Follow-ups of I1: F1 done before due, F2 won't do; from I1's review meeting: R1 past due (overdue at the
    window's end), R2 due after the window (open).
    """
    svc, actions, meetings = rt.services.incidents, rt.services.actions, rt.services.meetings
    minute = timedelta(minutes=1)

    i1 = incident(rt, declared=at(0))
    svc.acknowledge(i1, user_id=ALICE, now=at(0) + 5 * minute)
    follow = (ActionDraft("Add a payment canary", BOB, at(72)), ActionDraft("Rewrite checkout", DAVE, at(96)))
    outcome = svc.resolve(
        i1, user_id=ALICE, draft=ResolutionDraft("Rolled back", follow_ups=follow), now=at(0) + 60 * minute
    )
    f1, f2 = (a.id for a in outcome.follow_ups)
    actions.set_status(f1, user_id=BOB, status=ActionStatus.DONE, now=at(70))
    update(rt, ActionItem, f2, status="wont_do", closed_reason="Replaced by the new service")
    review = meetings.create(
        team_id="T1",
        creator_id=ALICE,
        now=at(2),
        draft=MeetingDraft(
            title="Review INC",
            goal="Learn",
            start=at(30),
            duration_minutes=60,
            host_id=ALICE,
            participants=(BOB, DAVE),
            channel_id=GENERAL,
        ),
    )
    update(rt, Meeting, review.id, incident_id=i1)
    meetings.record_minutes(
        review.id,
        user_id=ALICE,
        now=at(32),
        draft=MinutesDraft(
            decisions=("Add alerts",),
            actions=(ActionDraftLine("Alert on 502s", BOB, at(120)), ActionDraftLine("Runbook", DAVE, at(720))),
        ),
    )

    i2 = incident(rt, declared=at(1))
    svc.acknowledge(i2, user_id=ALICE, now=at(1) + 15 * minute)
    svc.resolve(i2, user_id=ALICE, draft=ResolutionDraft("Fixed"), now=at(1) + 180 * minute)
    update(rt, Incident, i2, reopened_count=1, reopened_at=at(1) + 200 * minute, resolved_at=at(1) + 240 * minute)

    i3 = incident(rt, declared=at(2), severity="SEV2", by=ALICE)

    i4 = incident(rt, declared=at(3))
    svc.acknowledge(i4, user_id=ALICE, now=at(3) + 25 * minute)
    svc.resolve(i4, user_id=ALICE, draft=ResolutionDraft("Fixed"), now=at(3) + 120 * minute)

    i5 = incident(rt, declared=at(-24))
    svc.acknowledge(i5, user_id=ALICE, now=at(-23))
    early = (ActionDraft("Old follow-up", BOB, at(-10)),)
    svc.resolve(i5, user_id=ALICE, draft=ResolutionDraft("Old", follow_ups=early), now=at(-20))

    i6 = incident(rt, declared=at(5), team="T2")
    svc.acknowledge(i6, user_id=ALICE, now=at(5) + minute)
    return {"i1": i1, "i2": i2, "i3": i3, "i4": i4, "i5": i5, "i6": i6}


def sheet(*, confirm_by: datetime, due: datetime | None = None, channel: str = GENERAL) -> RequirementDraft:
    """A requirement from Alice (requester) to Bob (receiver)."""
    return RequirementDraft(
        requester_dept="Marketing",
        requester_owner=ALICE,
        receiver_dept="Engineering",
        receiver_owner=BOB,
        background="Launch",
        goal="Sign-ups +20%",
        description="A landing page",
        priority="high",
        due=due or at(24 * 21),
        confirm_by=confirm_by,
        channel_id=channel,
    )


def seed_requirements(rt: Runtime) -> None:
    """Four requirements posted in the window, one before it.

    Q1 posted at 0 h, sign by 48 h; both sign at 10 h                   → confirmed after 36,000 s, in time
    Q2 posted at 24 h, sign by 48 h; Bob asks for changes at 30 h, Alice revises at 40 h, both sign at 72 h
                                                                        → confirmed after 172,800 s, late
    Q3 posted at 48 h, sign by 480 h; changes asked twice (50 h, 51 h)   → not confirmed, deadline not reached
    Q4 posted at 60 h, sign by 96 h; nobody signs                        → not confirmed, deadline passed
    Q0 posted 48 h before the window, changes asked (left out)
    """
    reqs = rt.services.requirements
    q1 = reqs.create(team_id="T1", author_id=ALICE, draft=sheet(confirm_by=at(48)), now=at(0))
    reqs.sign(q1.id, user_id=ALICE, via="button", now=at(9))
    reqs.sign(q1.id, user_id=BOB, via="reaction", now=at(10))

    q2 = reqs.create(team_id="T1", author_id=ALICE, draft=sheet(confirm_by=at(48)), now=at(24))
    reqs.request_changes(q2.id, user_id=BOB, reason="Which API?", now=at(30))
    reqs.revise(q2.id, user_id=ALICE, draft=sheet(confirm_by=at(48), due=at(24 * 22)), now=at(40))
    reqs.sign(q2.id, user_id=ALICE, via="button", now=at(71))
    reqs.sign(q2.id, user_id=BOB, via="button", now=at(72))

    q3 = reqs.create(team_id="T1", author_id=ALICE, draft=sheet(confirm_by=at(480)), now=at(48))
    reqs.request_changes(q3.id, user_id=BOB, reason="Scope?", now=at(50))
    reqs.request_changes(q3.id, user_id=ALICE, reason="Budget?", now=at(51))

    reqs.create(team_id="T1", author_id=ALICE, draft=sheet(confirm_by=at(96)), now=at(60))

    q0 = reqs.create(team_id="T1", author_id=ALICE, draft=sheet(confirm_by=at(24)), now=at(-48))
    reqs.request_changes(q0.id, user_id=BOB, reason="Old", now=at(-47))


def item(rt: Runtime, owner: str, channel: str, created: float, due: float) -> int:
    """An action item created by Alice."""
    (created_item,) = rt.services.actions.create_many(
        team_id="T1",
        creator_id=ALICE,
        now=at(created),
        channel_id=channel,
        drafts=[ActionDraft(f"Item due at {due} h", owner, at(due))],
    )
    return created_item.id


def seed_actions(rt: Runtime) -> None:
    """Action items (created at → due at, how they ended):

    A1 Bob   #general  0 → 48 h,  done at 40 h      due in window: on time
    A2 Bob   #general  0 → 50 h,  done at 60 h      due in window: late
    A3 Dave  #other    0 → 100 h, open              due in window: late; overdue 240 − 100 = 140 h
    A4 Dave  #other    0 → 120 h, won't do          left out of both
    A5 Dave  #other  −48 → 10 h,  done at 5 h       due in window: on time (created before it)
    A6 Bob   #general −48 → −1 h, open              left out: due and created before the window
    A7 Carol #general  1 → 720 h, open              due after the window, not overdue
    A8 Carol #general  2 → 200 h, blocked           due in window: late; overdue 40 h
    A9 Carol #general  3 → 230 h, open              due in window: late; overdue 10 h
    """
    actions = rt.services.actions
    a1 = item(rt, BOB, GENERAL, 0, 48)
    actions.set_status(a1, user_id=BOB, status=ActionStatus.DONE, now=at(40))
    a2 = item(rt, BOB, GENERAL, 0, 50)
    actions.set_status(a2, user_id=BOB, status=ActionStatus.DONE, now=at(60))
    item(rt, DAVE, OTHER, 0, 100)
    a4 = item(rt, DAVE, OTHER, 0, 120)
    update(rt, ActionItem, a4, status="wont_do", closed_reason="Not needed")
    a5 = item(rt, DAVE, OTHER, -48, 10)
    actions.set_status(a5, user_id=DAVE, status=ActionStatus.DONE, now=at(5))
    item(rt, BOB, GENERAL, -48, -1)
    item(rt, CAROL, GENERAL, 1, 720)
    a8 = item(rt, CAROL, GENERAL, 2, 200)
    actions.set_status(a8, user_id=CAROL, status=ActionStatus.BLOCKED, reason="Waiting for legal", now=at(3))
    item(rt, CAROL, GENERAL, 3, 230)


def meeting(rt: Runtime, start: float, minutes: int, people: tuple[str, ...], channel: str = GENERAL) -> int:
    """A meeting hosted by Alice, created a day before it starts."""
    info = rt.services.meetings.create(
        team_id="T1",
        creator_id=ALICE,
        now=at(start - 24),
        draft=MeetingDraft(
            title="Sync",
            goal="Decide",
            start=at(start),
            duration_minutes=minutes,
            host_id=ALICE,
            participants=people,
            channel_id=channel,
        ),
    )
    return info.id


def seed_meetings(rt: Runtime) -> None:
    """Meetings (start, length, participants; the host Alice is not a participant):

    M1 24 h, 60 min, Bob + Dave: minutes at 27 h (ends 25 h: 2 h after), Bob acknowledges      → in time, 1 of 2
    M2 48 h, 30 min, Bob + Carol + Dave: minutes at 78.5 h (30 h after the end); Bob, Carol and the host
       acknowledge (the host is not counted)                                                  → late, 2 of 3
    M3 100 h, 60 min, Bob: no minutes, 24 h passed at 125 h                                    → missing
    M4 230 h, 60 min, Bob: no minutes, 24 h not passed at the window's end (255 h)             → not judged
    M0 24 h before the window, with minutes (left out)
    """
    meetings = rt.services.meetings
    m1 = meeting(rt, 24, 60, (BOB, DAVE))
    meetings.record_minutes(m1, user_id=ALICE, now=at(27), draft=MinutesDraft(decisions=("Go",)))
    meetings.acknowledge(m1, user_id=BOB, now=at(28))
    m2 = meeting(rt, 48, 30, (BOB, CAROL, DAVE))
    meetings.record_minutes(m2, user_id=ALICE, now=at(78.5), draft=MinutesDraft(decisions=("Go",)))
    for user in (BOB, CAROL, ALICE):
        meetings.acknowledge(m2, user_id=user, now=at(79))
    meeting(rt, 100, 60, (BOB,))
    meeting(rt, 230, 60, (BOB,))
    m0 = meeting(rt, -24, 60, (BOB,))
    meetings.record_minutes(m0, user_id=ALICE, now=at(-10), draft=MinutesDraft(decisions=("Go",)))


# -- arithmetic -------------------------------------------------------------------------------------------------


def test_p90_is_the_nearest_rank_and_the_median_the_middle() -> None:
    assert p90([]) is None
    assert p90([7.0]) == 7.0
    assert p90([float(v) for v in range(1, 11)]) == 9.0  # ⌈0.9·10⌉ = 9th smallest
    assert p90([float(v) for v in range(20, 0, -1)]) == 18.0  # ⌈0.9·20⌉ = 18th smallest, input order ignored
    assert p90([float(v) for v in range(1, 12)]) == 10.0  # ⌈0.9·11⌉ = ⌈9.9⌉ = 10th
    s = spread([600.0, 60.0, 300.0, 120.0])
    assert (s.count, s.median, s.p90, s.max) == (4, (120 + 300) / 2, 600.0, 600.0)  # ⌈3.6⌉ = 4th
    assert spread([]).median is None


def test_durations_read_in_both_languages() -> None:
    assert duration_text("en", 4800) == "1 h 20 min"
    assert duration_text("zh", 4800) == "1小时20分"
    assert duration_text("en", 45) == "45 s"
    assert duration_text("en", 900) == "15 min"
    assert duration_text("zh", 2 * 86400 + 3 * 3600) == "2天3小时"
    assert duration_text("en", None) == "—"


# -- each figure --------------------------------------------------------------------------------------------------


def test_incidents_by_severity_mtta_mttr_and_reopen_rate(runtime: Runtime) -> None:
    seed_incidents(runtime)
    r = report(runtime)
    sev1, sev2, sev3, sev4 = r.incidents.by_severity
    # SEV1: I1, I2, I4. MTTA [300, 900, 1500]: median 900, p90 ⌈0.9·3⌉ = 3rd = 1500.
    assert (sev1.severity, sev1.count) == ("SEV1", 3)
    assert (sev1.mtta.count, sev1.mtta.median, sev1.mtta.p90) == (3, 900.0, 1500.0)
    # MTTR [3600, 7200, 14400] (I2 counts to its latest resolution): median 7200, p90 14400.
    assert (sev1.mttr.count, sev1.mttr.median, sev1.mttr.p90) == (3, 7200.0, 14400.0)
    # SEV2: I3, acknowledged by declaring (0 s), not resolved.
    assert (sev2.count, sev2.mtta.median, sev2.mtta.p90, sev2.mttr.count, sev2.mttr.median) == (1, 0.0, 0.0, 0, None)
    assert sev3.count == sev4.count == 0 and sev3.mtta.median is None
    # All four: MTTA [0, 300, 900, 1500]: median (300 + 900) / 2 = 600, p90 ⌈3.6⌉ = 4th = 1500.
    assert (r.incidents.total.count, r.incidents.total.mtta.median, r.incidents.total.mtta.p90) == (4, 600.0, 1500.0)
    assert (r.incidents.total.mttr.median, r.incidents.total.mttr.p90) == (7200.0, 14400.0)
    # Resolved at least once: I1, I2, I4; reopened: I2 → 1 / 3.
    assert (r.incidents.reopened.part, r.incidents.reopened.whole) == (1, 3)
    assert r.incidents.reopened.rate == pytest.approx(1 / 3)

    everyone = report(runtime, team=None)  # I6 of T2 joins SEV1: MTTA [60, 300, 900, 1500] → median 600
    assert everyone.incidents.by_severity[0].count == 4 and everyone.incidents.by_severity[0].mtta.median == 600.0
    assert report(runtime, channel_id="C_ELSEWHERE").incidents.total.count == 0
    assert report(runtime, channel_id=GENERAL).incidents.total.count == 4  # declared in #general


def test_follow_ups_done_wont_do_overdue(runtime: Runtime) -> None:
    seed_incidents(runtime)
    fu = report(runtime).follow_ups
    # F1 done, F2 won't do, R1 due at 120 h < 240 h (overdue), R2 due at 720 h (open); I5's item left out.
    assert (fu.total, fu.done, fu.wont_do, fu.overdue, fu.open) == (4, 1, 1, 1, 1)
    # judged at 100 h instead, R1 (due 120 h) is not overdue yet
    early = report(runtime, now=at(100)).follow_ups
    assert (early.overdue, early.open) == (0, 2)


def test_requirements_time_to_confirm_deadlines_and_changes(runtime: Runtime) -> None:
    seed_requirements(runtime)
    req = report(runtime).requirements
    assert (req.posted, req.confirmed) == (4, 2)
    # Q1: 10 h = 36,000 s; Q2: 72 − 24 = 48 h = 172,800 s. Median (36,000 + 172,800) / 2 = 104,400; p90 2nd.
    assert (req.time_to_confirm.median, req.time_to_confirm.p90) == (104_400.0, 172_800.0)
    # Judged: Q1 (confirmed), Q2 (confirmed), Q4 (sign-by 96 h passed); in time: Q1 only → 1 / 3.
    assert (req.confirmed_by_deadline.part, req.confirmed_by_deadline.whole) == (1, 3)
    # Changes requested: once on Q2, twice on Q3 (Q0's before the window) → 3 times, 2 requirements.
    assert (req.changes_requested, req.with_changes_requested) == (3, 2)


def test_action_items_on_time_by_channel_and_owner_and_overdue_ages(runtime: Runtime) -> None:
    seed_actions(runtime)
    act = report(runtime).actions
    # Judged: A1 ✓, A2 ✗, A3 ✗, A5 ✓, A8 ✗, A9 ✗ → 2 / 6.
    assert (act.on_time.part, act.on_time.whole) == (2, 6)
    # #general: A1 ✓ A2 ✗ A8 ✗ A9 ✗ → 1 / 4; #other: A3 ✗ A5 ✓ → 1 / 2.
    assert [(g.group, g.ratio.part, g.ratio.whole) for g in act.on_time_by_channel] == [
        (GENERAL, 1, 4),
        (OTHER, 1, 2),
    ]
    # Bob: A1 ✓ A2 ✗; Carol: A8 ✗ A9 ✗; Dave: A3 ✗ A5 ✓.
    assert [(g.group, g.ratio.part, g.ratio.whole) for g in act.on_time_by_owner] == [
        (BOB, 1, 2),
        (CAROL, 0, 2),
        (DAVE, 1, 2),
    ]
    # Overdue, created in the window: A3 140 h, A8 40 h, A9 10 h → median 40 h = 144,000 s, max 504,000 s.
    age = act.overdue_age
    assert (age.count, age.median, age.max) == (3, 144_000.0, 504_000.0)

    # judged at 110 h: A1 ✓ A2 ✗ A3 ✗ A5 ✓ (A8, A9 not due yet) → 2 / 4; overdue A3 by 10 h
    early = report(runtime, now=at(110)).actions
    assert (early.on_time.part, early.on_time.whole) == (2, 4)
    assert (early.overdue_age.count, early.overdue_age.max) == (1, 36_000.0)
    only = report(runtime, channel_id=OTHER).actions
    assert (only.on_time.part, only.on_time.whole) == (1, 2) and only.overdue_age.count == 1  # A3


def test_meetings_minutes_within_a_day_and_acknowledgments(runtime: Runtime) -> None:
    seed_meetings(runtime)
    mtg = report(runtime).meetings
    assert mtg.meetings == 4  # M1–M4
    # Judged: M1 (in time), M2 (late), M3 (missing); M4's 24 h not over → 1 / 3.
    assert (mtg.minutes_in_time.part, mtg.minutes_in_time.whole) == (1, 3)
    # Meetings with minutes: M1 1 of 2, M2 2 of 3 (the host's ✅ not counted) → 3 / 5.
    assert (mtg.acknowledged.part, mtg.acknowledged.whole) == (3, 5)
    assert mtg.acknowledged.rate == pytest.approx(0.6)


def test_an_empty_window_has_no_numbers_and_a_bad_window_is_refused(runtime: Runtime) -> None:
    r = report(runtime)
    assert r.incidents.total.count == 0 and r.incidents.reopened.rate is None
    assert r.actions.on_time.rate is None and r.requirements.time_to_confirm.median is None
    assert all(f.value in (0, None) for f in figures(r))
    with pytest.raises(ValueError):
        MetricsService(runtime.services.session_scope).report(team_id=None, since=UNTIL, until=START)


# -- the CLI -------------------------------------------------------------------------------------------------------


def run(database_url: str, *args: str, lang: str = "en") -> Result:
    """`coordbot report` in process against the test database."""
    env = {"DATABASE_URL": database_url, "COORDBOT_TZ": "Asia/Shanghai", "COORDBOT_LANG": lang}
    return CliRunner().invoke(main, ["report", *args], env=env)


def ok(result: Result) -> str:
    """The output of a successful run."""
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout_bytes.decode("utf-8")


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    """Incidents and requirements seeded."""
    seed_incidents(runtime)
    seed_requirements(runtime)
    return runtime


def test_cli_json_holds_exact_numbers(seeded: Runtime, database_url: str) -> None:
    data = json.loads(ok(run(database_url, *CLI_WINDOW, "--team", "T1", "--format", "json")))
    assert data["since"] == "2026-11-26T06:00:00Z" and data["until"] == "2026-12-06T06:00:00Z"
    assert data["team_id"] == "T1"
    sev1 = data["incidents"]["by_severity"][0]
    assert sev1 == {
        "severity": "SEV1",
        "count": 3,
        "mtta": {"count": 3, "median": 900.0, "p90": 1500.0, "max": 1500.0},
        "mttr": {"count": 3, "median": 7200.0, "p90": 14400.0, "max": 14400.0},
    }
    assert data["incidents"]["reopened"] == {"part": 1, "whole": 3, "rate": 1 / 3}
    assert data["follow_ups"] == {"total": 4, "done": 1, "wont_do": 1, "overdue": 1, "open": 1}
    assert data["requirements"]["time_to_confirm"]["median"] == 104_400.0
    assert data["requirements"]["changes_requested"] == 3


def test_cli_csv_has_one_row_per_figure(seeded: Runtime, database_url: str) -> None:
    text = ok(run(database_url, *CLI_WINDOW, "--team", "T1", "--format", "csv"))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "figure", "group", "value", "unit"]
    values = {(s, f, g): (v, u) for s, f, g, v, u in rows[1:]}
    assert len(values) == len(rows) - 1  # each figure once
    assert values[("incidents", "incidents", "SEV1")] == ("3", "count")
    assert values[("incidents", "mtta_median", "SEV1")] == ("900.0", "s")
    assert values[("incidents", "mttr_p90", "all")] == ("14400.0", "s")
    assert values[("incidents", "mttr_median", "SEV2")] == ("", "s")  # nothing resolved: no number
    assert float(values[("incidents", "reopen_rate", "all")][0]) == pytest.approx(1 / 3)
    assert values[("follow_ups", "overdue", "all")] == ("1", "count")
    assert values[("requirements", "confirmed_by_deadline", "all")] == ("1", "count")
    assert values[("requirements", "deadline_reached", "all")] == ("3", "count")


def test_cli_markdown_in_both_languages(seeded: Runtime, database_url: str) -> None:
    en = ok(run(database_url, *CLI_WINDOW, "--team", "T1"))
    assert en.startswith("# coordbot report\n")
    assert "| SEV1 · Critical | 3 | 15 min | 25 min | 2 h 0 min | 4 h 0 min |" in en
    assert "| All | 4 | 10 min | 25 min | 2 h 0 min | 4 h 0 min |" in en
    assert "| Reopened (of those resolved) | 33% (1 of 3) |" in en
    assert "| Time to confirmation, median | 1 d 5 h |" in en  # 104,400 s = 29 h
    assert "2026-11-26 14:00 +08:00 → 2026-12-06 14:00 +08:00" in en and "workspace T1" in en
    zh = ok(run(database_url, *CLI_WINDOW, "--team", "T1", "--lang", "zh"))
    assert "| SEV1 · 严重 | 3 | 15分 | 25分 | 2小时0分 | 4小时0分 |" in zh
    assert "33%（3 项中 1 项）" in zh
    assert ok(run(database_url, *CLI_WINDOW, "--team", "T1", lang="zh")) == zh  # COORDBOT_LANG


def test_cli_charts_are_the_digest_s_charts_as_png_files(seeded: Runtime, database_url: str, tmp_path: Path) -> None:
    result = run(
        database_url, *CLI_WINDOW, "--team", "T1", "--format", "json", "--charts", str(tmp_path / "c"), "--lang", "zh"
    )
    assert json.loads(ok(result))["team_id"] == "T1"
    written = sorted((tmp_path / "c").glob("*.png"))
    # the whole workspace: its action items, and every incident (there are some in the seeded history)
    assert [p.name.split("-")[1] for p in written] == ["actions", "incidents"], written
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 10_000
        assert f"wrote {path}" in result.stderr


def test_cli_refuses_bad_windows_and_asks_for_a_team(runtime: Runtime, database_url: str) -> None:
    assert run(database_url, "--since", "soon").exit_code == 2
    backwards = run(database_url, "--since", "2026-12-01", "--until", "2026-11-01")
    assert backwards.exit_code == 2 and "--until" in backwards.output
    with runtime.services.session_scope() as s:
        s.add(Workspace(team_id="T1", changed_at=START))
        s.add(Workspace(team_id="T2", changed_at=START))
    several = run(database_url, *CLI_WINDOW)
    assert several.exit_code == 2 and "--team" in several.stderr and "T1, T2" in several.stderr
    assert ok(run(database_url, *CLI_WINDOW, "--team", "t2", "--format", "json"))


# -- /incident stats ------------------------------------------------------------------------------------------------


def validate(blocks: list[Block]) -> list[dict[str, Any]]:
    """Serialize with slack_sdk's validators and parse back."""
    dicts = [b.to_dict() for b in blocks]
    assert 0 < len(dicts) <= 50
    for d in dicts:
        parsed = Block.parse(d)
        assert parsed is not None
        assert parsed.to_dict() == d
    return dicts


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stats_blocks_validate_and_show_the_figures(runtime: Runtime, lang: str) -> None:
    seed_incidents(runtime)
    r = report(runtime)
    blocks = validate(stats_blocks(lang, r, scope_label="#general <&>", tz="Asia/Shanghai"))
    by_id = {b["block_id"]: b for b in blocks}
    severities = by_id[Ids.SEVERITIES]["text"]["text"]
    if lang == "en":
        assert by_id[Ids.HEADER]["text"]["text"] == "Incident stats"
        assert "*SEV1 · Critical* — 3 · MTTA 15 min (p90 25 min) · MTTR 2 h 0 min (p90 4 h 0 min)" in severities
        assert "*SEV2 · Major* — 1 · MTTA 0 s (p90 0 s) · MTTR — (p90 —)" in severities
        assert "SEV3" not in severities  # no incidents of that severity
        assert by_id[Ids.REOPENED]["text"]["text"] == "*Reopened:* 33% (1 of 3)"
        assert by_id[Ids.FOLLOW_UPS]["text"]["text"] == ("*Follow-ups:* 4 — 1 done, 1 won't do, 1 overdue, 1 open")
    else:
        assert by_id[Ids.HEADER]["text"]["text"] == "事故统计"
        assert "*SEV1 · 严重* — 3 起 · MTTA 15分（p90 25分）· MTTR 2小时0分（p90 4小时0分）" in severities
        assert "已完成 1，不做 1，逾期 1，进行中 1" in by_id[Ids.FOLLOW_UPS]["text"]["text"]
    window = by_id[Ids.WINDOW]["elements"][0]["text"]
    assert "#general &lt;&amp;&gt;" in window and f"<!date^{int(START.timestamp())}^" in window
    # as Slack takes them: the fake validates every message (and the fixture fails on any error)
    posted = runtime.client.chat_postMessage(channel=GENERAL, blocks=blocks, text=stats_text(lang, r))
    assert posted["ok"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stats_blocks_of_a_quiet_period(runtime: Runtime, lang: str) -> None:
    blocks = validate(stats_blocks(lang, report(runtime), scope_label="#general"))
    ids = [b["block_id"] for b in blocks]
    assert ids == [Ids.HEADER, Ids.WINDOW, Ids.EMPTY, Ids.FOOTNOTE]
    assert runtime.client.chat_postMessage(channel=GENERAL, blocks=blocks, text=stats_text(lang, report(runtime)))["ok"]


def test_the_metrics_catalog_has_both_languages() -> None:
    assert set(metrics_catalog.EN) == set(metrics_catalog.ZH)
    assert all(key.startswith("metrics.") for key in metrics_catalog.EN)
    assert {
        k for k in metrics_catalog.EN if placeholders(metrics_catalog.EN[k]) != placeholders(metrics_catalog.ZH[k])
    } == set()


def test_the_readme_defines_every_csv_figure(runtime: Runtime) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Numbers: coordbot report", 1)[1].split("\n## ", 1)[0]
    names = {f.figure for f in figures(report(runtime))}
    assert len(names) > 25
    assert {n for n in names if f"`{n}`" not in section} == set()


def test_incident_stats_in_slack_answer_the_asker_with_the_workspace_s_figures(bot: Bot) -> None:
    declare(bot, severity="SEV2", title="Checkout fails")  # declared by its commander: acknowledged at once
    bot.clock.advance(timedelta(minutes=5))
    before = len(bot.fake.calls("response_url"))
    assert bot.slack.slash("/incident", "stats 7", user=CAROL, channel=GENERAL).status == 200
    (answer,) = wait_until(lambda: bot.fake.calls("response_url")[before:], what="the stats")
    assert answer.error is None and answer.params.get("response_type") == "ephemeral"
    shown = json.dumps(answer.params["blocks"], ensure_ascii=False)
    assert "Incident stats" in shown and "MTTA" in shown
    assert "— 1 · MTTA" in shown  # one incident of one severity in the period, and the same in all
    assert bot.fake.calls("chat.postMessage") == [] or all(
        "Incident stats" not in json.dumps(c.params, ensure_ascii=False) for c in bot.fake.calls("chat.postMessage")
    )  # nobody else sees it
