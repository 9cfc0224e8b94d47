"""What a person's own page lists is decided in the core for every messenger (`bot.services.home_page`): the sheets
awaiting their signature, their open action items, their meetings ahead and the minutes they owe, with totals,
late counts and windows, leaving out what lives in conversations they cannot see.

These tests ask the core the way an adapter does, on `bot` alone, over a real database (a SQLite file; also
PostgreSQL when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.messenger import ButtonPressed
from bot.services import Services, presses
from bot.services.actions import ActionDraft, ActionInfo, ActionStatus
from bot.services.home_page import MEETING_DAYS, HomePage, Listed, Window, Windows, home_page, last_start
from bot.services.meetings import MeetingDraft, MeetingInfo, MinutesDraft
from bot.services.requirements import RequirementInfo, Role
from tests.conftest import START
from tests.helpers import core_services, sheet_draft

WS, OTHER = "T_PLAIN", "feishu:tenant_other"
ALICE, BOB, CAROL = "U_ALICE", "U_BOB", "U_CAROL"
GENERAL, SECRET = "C_GENERAL", "C_SECRET"  # Bob is not in the secret one
NOW = START


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    with core_services(database_url, incident_escalation=()) as core:
        yield core


# -- seeding -------------------------------------------------------------------------------------------------


def sheet(
    services: Services,
    *,
    receiver: str = BOB,
    confirm_by: datetime | None = None,
    channel: str = GENERAL,
    team: str = WS,
) -> RequirementInfo:
    """A sheet Alice asks `receiver` to sign; one already late was entered a week before its sign-by time."""
    confirm_by = confirm_by or NOW + timedelta(days=2)
    draft = sheet_draft(
        receiver=receiver, channel=channel, confirm_by=confirm_by, due=max(confirm_by, NOW) + timedelta(days=7)
    )
    return services.requirements.create(
        team_id=team, author_id=ALICE, draft=draft, now=min(NOW, confirm_by - timedelta(days=7))
    )


def item(
    services: Services, *, owner: str = BOB, due: datetime | None = None, channel: str = GENERAL, team: str = WS
) -> ActionInfo:
    """An item Alice hands `owner`; an overdue one was made a week before it fell due."""
    due = due or NOW + timedelta(days=2)
    draft = ActionDraft(title="Task", owner_id=owner, due=due)
    made = min(NOW, due - timedelta(days=7))
    [info] = services.actions.create_many(team_id=team, creator_id=ALICE, drafts=[draft], now=made, channel_id=channel)
    return info


def meeting(
    services: Services,
    start: datetime,
    *,
    participants: Sequence[str] = (BOB,),
    channel: str = GENERAL,
    team: str = WS,
    minutes: int = 60,
) -> MeetingInfo:
    """A meeting Alice hosts, ahead or over."""
    draft = MeetingDraft(
        title="Sync",
        goal="decide",
        start=start,
        duration_minutes=minutes,
        host_id=ALICE,
        participants=tuple(participants),
        channel_id=channel,
    )
    return services.meetings.create(team_id=team, creator_id=ALICE, draft=draft, now=NOW)


def everywhere(_channel: str) -> bool:
    return True


def page(
    services: Services,
    *,
    user: str = BOB,
    team: str = WS,
    can_see: Callable[[str], bool] = everywhere,
    windows: Windows | None = None,
    together: int = 1,
) -> HomePage:
    return home_page(
        services,
        team_id=team,
        user_id=user,
        now=NOW,
        can_see=can_see,
        windows=windows or Windows.first(10),
        asked_together=together,
    )


def ids(listed: Listed[Any]) -> list[int]:
    return [r.id for r in listed.items]


def only(*, actions: Window | None = None, awaiting: Window | None = None) -> Windows:
    """The first ten of every part, but these windows for these."""
    first = Window(0, 10)
    return Windows(awaiting=awaiting or first, actions=actions or first, meetings=first, minutes=first)


# -- what each part lists ----------------------------------------------------------------------------------------


def test_each_part_lists_the_persons_own_records_in_order_with_late_counts(services: Services) -> None:
    late_sheet = sheet(services, confirm_by=NOW - timedelta(days=1))
    fresh_sheet = sheet(services, confirm_by=NOW + timedelta(days=3))
    soon_sheet = sheet(services, confirm_by=NOW + timedelta(hours=5))
    signed = sheet(services)
    services.requirements.sign(signed.id, user_id=BOB, via="button", now=NOW)  # Bob's side is done
    sheet(services, receiver=CAROL)  # Carol's
    sheet(services, team=OTHER)  # Bob's, in another workspace

    later = item(services, due=NOW + timedelta(days=4))
    overdue = item(services, due=NOW - timedelta(days=2))
    due_soon = item(services, due=NOW + timedelta(hours=3))
    just_late = item(services, due=NOW - timedelta(hours=1))
    finished = item(services)
    services.actions.set_status(finished.id, user_id=BOB, status=ActionStatus.DONE, now=NOW)
    item(services, owner=CAROL)
    item(services, team=OTHER)

    ahead = meeting(services, NOW + timedelta(days=3))
    under_way = meeting(services, NOW - timedelta(minutes=30))
    last_day = meeting(services, NOW + timedelta(days=MEETING_DAYS) - timedelta(hours=1))
    meeting(services, NOW + timedelta(days=MEETING_DAYS, hours=1))  # beyond the days the page looks ahead
    meeting(services, NOW + timedelta(days=1), participants=(CAROL,))
    meeting(services, NOW + timedelta(days=1), team=OTHER)
    owed_old = meeting(services, NOW - timedelta(days=3))
    owed_new = meeting(services, NOW - timedelta(days=1))
    recorded = meeting(services, NOW - timedelta(days=2))
    services.meetings.record_minutes(recorded.id, user_id=ALICE, draft=MinutesDraft(decisions=("go",)), now=NOW)

    bob = page(services)
    assert ids(bob.awaiting) == [late_sheet.id, soon_sheet.id, fresh_sheet.id]  # the earliest sign-by first
    assert (bob.awaiting.total, bob.awaiting.late, bob.awaiting.offset) == (3, 1, 0)
    assert ids(bob.actions) == [overdue.id, just_late.id, due_soon.id, later.id]  # the soonest due first
    assert (bob.actions.total, bob.actions.late) == (4, 2)
    assert ids(bob.meetings) == [under_way.id, ahead.id, last_day.id]
    assert (bob.meetings.total, bob.meetings.late) == (3, 0)
    assert ids(bob.minutes) == [owed_old.id, owed_new.id]  # the oldest first
    assert (bob.minutes.total, bob.minutes.late) == (2, 0)

    # Alice hosts every meeting of her workspace and signs the requester's side of every sheet she asked for
    alice = page(services, user=ALICE)
    assert alice.awaiting.total == 5 and signed.id in ids(alice.awaiting) and ids(alice.actions) == []
    assert alice.meetings.total == 4 and alice.minutes.total == 2

    carol = page(services, user=CAROL)
    assert (carol.awaiting.total, carol.actions.total, carol.meetings.total, carol.minutes.total) == (1, 1, 1, 0)

    # the other workspace's page has only its own records
    other = page(services, team=OTHER)
    assert (other.awaiting.total, other.actions.total, other.meetings.total, other.minutes.total) == (1, 1, 1, 0)
    assert ids(other.awaiting)[0] not in ids(bob.awaiting)


def test_a_person_with_nothing_has_an_empty_page(services: Services) -> None:
    sheet(services)
    item(services)
    empty = page(services, user=CAROL)
    for listed in (empty.awaiting, empty.actions, empty.meetings, empty.minutes):
        assert listed == Listed()


# -- windows --------------------------------------------------------------------------------------------------


def test_windows_page_through_a_part_and_past_the_end_show_the_last_one(services: Services) -> None:
    made = [item(services, due=NOW + timedelta(hours=n - 5)) for n in range(25)]  # five overdue
    in_order = [i.id for i in made]
    first = page(services, windows=only(actions=Window(0, 10))).actions
    assert (ids(first), first.total, first.late, first.offset) == (in_order[:10], 25, 5, 0)
    second = page(services, windows=only(actions=Window(10, 10))).actions
    assert (ids(second), second.total, second.late, second.offset) == (in_order[10:20], 25, 5, 10)
    last = page(services, windows=only(actions=Window(20, 10))).actions
    assert (ids(last), last.offset) == (in_order[20:], 20)
    # a page drawn when there were more: the last one that has records
    gone = page(services, windows=only(actions=Window(70, 10))).actions
    assert (ids(gone), gone.total, gone.offset) == (in_order[20:], 25, 20)
    # a smaller window, as a card shows: the first few, and how many in all
    few = page(services, windows=Windows.first(3))
    assert (ids(few.actions), few.actions.total, few.actions.late) == (in_order[:3], 25, 5)
    # the other parts keep their own windows
    assert page(services, windows=only(actions=Window(10, 10))).awaiting == Listed()


def test_a_window_past_the_end_of_an_emptied_part_starts_at_the_beginning(services: Services) -> None:
    assert page(services, windows=only(awaiting=Window(30, 10))).awaiting == Listed()
    assert [last_start(n, 10) for n in (0, 1, 10, 11, 25)] == [0, 0, 0, 10, 20]


# -- what the person may see -------------------------------------------------------------------------------------


class Sight:
    """Bob's view of the conversations: all but SECRET; and how often each was asked about."""

    def __init__(self, hidden: frozenset[str] = frozenset({SECRET})) -> None:
        self.hidden = hidden
        self.asked: list[str] = []

    def __call__(self, channel: str) -> bool:
        self.asked.append(channel)
        return channel not in self.hidden


def test_records_in_conversations_the_person_cannot_see_are_left_out_and_not_counted(services: Services) -> None:
    shown_sheets = [sheet(services, confirm_by=NOW + timedelta(days=1, hours=n)) for n in range(12)]
    hidden_late = sheet(services, channel=SECRET, confirm_by=NOW - timedelta(days=1))
    hidden_sheet = sheet(services, channel=SECRET)
    shown_item = item(services)
    hidden_item = item(services, channel=SECRET, due=NOW - timedelta(hours=3))
    shown_meeting = meeting(services, NOW + timedelta(days=2))
    meeting(services, NOW + timedelta(days=1), channel=SECRET)
    meeting(services, NOW - timedelta(days=1), channel=SECRET)

    sight = Sight()
    bob = page(services, can_see=sight)
    assert ids(bob.awaiting) == [r.id for r in shown_sheets[:10]]
    assert not {hidden_late.id, hidden_sheet.id} & set(ids(bob.awaiting)) and hidden_item.id not in ids(bob.actions)
    # the counts are of what Bob may see: the hidden late sheet and overdue item are not late for him
    assert (bob.awaiting.total, bob.awaiting.late) == (12, 0)
    assert (ids(bob.actions), bob.actions.total, bob.actions.late) == ([shown_item.id], 1, 0)
    assert (ids(bob.meetings), bob.meetings.total) == ([shown_meeting.id], 1)
    assert (ids(bob.minutes), bob.minutes.total) == ([], 0)
    assert sorted(sight.asked) == [GENERAL, SECRET]  # each conversation asked about once

    # the windows are of what is left, and one past the end shows the last
    second = page(services, can_see=Sight(), windows=only(awaiting=Window(10, 10))).awaiting
    assert (ids(second), second.total, second.offset) == ([r.id for r in shown_sheets[10:]], 12, 10)
    beyond = page(services, can_see=Sight(), windows=only(awaiting=Window(40, 10))).awaiting
    assert (ids(beyond), beyond.offset) == ([r.id for r in shown_sheets[10:]], 10)

    # asked side by side, the same answer
    assert page(services, can_see=Sight(), together=4) == bob

    # once Bob may see it, all of it, counted by the database
    everything = page(services, can_see=Sight(frozenset()))
    assert (everything.awaiting.total, everything.awaiting.late) == (14, 1)
    assert ids(everything.awaiting)[0] == hidden_late.id
    assert (everything.actions.total, everything.actions.late) == (2, 1)
    assert (everything.meetings.total, everything.minutes.total) == (2, 1)


def test_a_record_in_no_conversation_is_shown_as_the_adapter_says(services: Services) -> None:
    """An item made outside any conversation: the messenger's answer for "" decides (Feishu shows it as the
    person's own; Slack, which cannot say, leaves it out)."""
    own = item(services, channel="")
    shared = item(services, channel=GENERAL, due=NOW + timedelta(days=3))
    assert ids(page(services, can_see=lambda c: not c or c == GENERAL).actions) == [own.id, shared.id]
    left_out = page(services, can_see=lambda c: c == GENERAL).actions
    assert (ids(left_out), left_out.total) == ([shared.id], 1)


# -- a signature made on the page ---------------------------------------------------------------------------------


def test_a_signature_from_the_page_is_recorded_as_made_there(services: Services) -> None:
    first, second = sheet(services), sheet(services)

    def sign(record_id: int, user: str, detail: dict[str, str]) -> None:
        event = ButtonPressed(
            workspace=WS,
            user=user,
            received_at=NOW,
            action=presses.SIGN,
            record_id=record_id,
            channel="",
            message="",
            detail=detail,
        )
        assert presses.press(services, event, teams=(WS,)).changed

    sign(first.id, BOB, {"via": "home"})
    sign(first.id, ALICE, {"via": "somewhere"})  # only the page is noted; anything else is the button
    sign(second.id, BOB, {})
    signed = services.requirements.get(first.id)
    assert [(s.role, s.via) for s in signed.signatures] == [(Role.RECEIVER, "home"), (Role.REQUESTER, "button")]
    [plain] = services.requirements.get(second.id).signatures
    assert plain.via == "button"
