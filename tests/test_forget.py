"""`coordbot forget --team`: one workspace's rows go, every other workspace's stay exactly as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import literal_column, select
from sqlmodel import SQLModel

from bot.app import Runtime
from bot.cli import main
from bot.inbox import Row, working_on
from bot.services.actions import ActionDraft
from bot.services.admin import WorkspaceAdmin
from bot.services.digest_text import Schedule
from bot.services.incidents import IncidentDraft
from bot.services.meetings import ActionDraftLine, AgendaEntry, MeetingDraft, MinutesDraft
from bot.services.requirements import QuestionDraft, RequirementDraft
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage import forget as storage_forget
from tests.conftest import START

GONE, KEPT = "T0GONE", "T0KEPT"


def at(hours: float) -> datetime:
    """The test clock's start plus some hours."""
    return START + timedelta(hours=hours)


def sheet(**overrides: Any) -> RequirementDraft:
    """A requirement sheet with an open question for Bob."""
    values: dict[str, Any] = dict(
        requester_dept="Marketing",
        requester_owner=ALICE,
        receiver_dept="Engineering",
        receiver_owner=BOB,
        background="Launch",
        goal="Sign-ups +20%",
        description="v1",
        priority="high",
        due=at(24 * 14),
        confirm_by=at(24 * 2),
        channel_id=GENERAL,
        questions=(QuestionDraft("Which API version?", BOB, at(24)),),
    )
    values.update(overrides)
    return RequirementDraft(**values)


def seed_workspace(rt: Runtime, team: str) -> None:
    """A workspace with a row in every table `forget` covers, stored the way the bot stores them."""
    s = rt.services
    s.workspaces.installed(
        team_id=team, enterprise_id=None, org_install=False, name=f"{team} Inc", installer_id=ALICE, now=at(0)
    )
    store = SQLAlchemyInstallationStore(client_id="111.222", engine=rt.engine)
    store.save(
        Installation(
            app_id="A1",
            team_id=team,
            team_name=f"{team} Inc",
            bot_token=f"xoxb-{team}",
            bot_id="B1",
            bot_user_id="UBOT",
            bot_scopes=["chat:write"],
            user_id=ALICE,
            installed_at=at(0).timestamp(),
        )
    )
    req = s.requirements.create(team_id=team, author_id=CAROL, draft=sheet(), now=at(0))
    s.requirements.sign(req.id, user_id=BOB, via="reaction", now=at(1))
    s.requirements.revise(req.id, user_id=ALICE, draft=sheet(description="v2"), now=at(2))
    meeting = s.meetings.create(
        team_id=team,
        creator_id=ALICE,
        now=at(3),
        draft=MeetingDraft(
            title="Launch plan",
            goal="Pick a date",
            start=at(24),
            duration_minutes=30,
            host_id=ALICE,
            participants=(BOB, DAVE),
            channel_id=GENERAL,
            agenda=(AgendaEntry("Date", BOB, 10),),
        ),
    )
    s.meetings.record_minutes(
        meeting.id,
        user_id=ALICE,
        now=at(25),
        draft=MinutesDraft(decisions=("Dec 15",), actions=(ActionDraftLine("Ship it", BOB, at(24 * 7)),)),
    )
    s.meetings.acknowledge(meeting.id, user_id=BOB, now=at(26))
    s.incidents.declare(
        team_id=team,
        declarer_id=ALICE,
        draft=IncidentDraft(title="Checkout down", severity="SEV2", commander_id=ALICE, responders=(BOB,)),
        origin_channel=GENERAL,
        now=at(27),
    )
    s.digests.subscribe(team_id=team, channel_id=GENERAL, user_id=ALICE, schedule=Schedule(4, time(17)), now=at(28))
    s.prefs.set_user_lang(team, ALICE, "zh", now=at(28))
    s.prefs.set_channel_lang(team, GENERAL, "en", now=at(28))
    s.presence.left(team_id=team, channel_id="C0LEFT", now=at(29))
    inbox_id = s.inbox.put(
        team_id=team, kind="command", dedupe_key=f"{team}:1", order_key=None, payload="{}", received_at=at(30)
    )
    assert inbox_id is not None
    with working_on(Row(id=inbox_id, team_id=team, kind="command", payload="{}", received_at=at(30), attempts=1)):
        s.actions.create_many(
            team_id=team, creator_id=ALICE, drafts=[ActionDraft("Book ads", DAVE, at(24 * 8))], now=at(30)
        )


def dump(rt: Runtime) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table."""
    with rt.engine.connect() as conn:
        return {
            name: {tuple(row) for row in conn.execute(select(table))}
            for name, table in SQLModel.metadata.tables.items()
        }


@pytest.fixture
def two(runtime: Runtime) -> Iterator[Runtime]:
    """Two workspaces in one database, with the same record codes in each."""
    seed_workspace(runtime, GONE)
    seed_workspace(runtime, KEPT)
    yield runtime


def test_every_table_of_a_workspace_is_covered() -> None:
    """A table added with a team_id column (or hanging off a covered one) must be added to forget's plan."""
    tables = SQLModel.metadata.tables
    with_team = {name for name, table in tables.items() if "team_id" in table.c}
    assert with_team - set(storage_forget.TABLES) == set(), "add these to storage/forget.py PLAN"
    children = {
        name
        for name, table in tables.items()
        for fk in table.foreign_keys
        if fk.column.table.name in storage_forget.TABLES
    }
    assert children - set(storage_forget.TABLES) == set(), "add these to storage/forget.py PLAN"
    # and every other table says why it holds nothing of a workspace
    assert set(tables) - set(storage_forget.TABLES) == storage_forget.KEPT
    # children go before their parents (PostgreSQL checks the foreign keys)
    order = {name: i for i, name in enumerate(storage_forget.TABLES)}
    for name, table in tables.items():
        for fk in table.foreign_keys:
            if name in order:
                assert order[name] < order[fk.column.table.name], (name, fk.column.table.name)


def test_forget_deletes_one_workspace_and_leaves_the_other_untouched(two: Runtime) -> None:
    admin = WorkspaceAdmin(two.services.session_scope)
    gone, kept = admin.stored(GONE), admin.stored(KEPT)
    assert all(gone.values()) and all(kept.values()), (gone, kept)  # the seed reaches every table
    before = dump(two)

    deleted = admin.forget(GONE)

    assert deleted == gone
    assert set(admin.stored(GONE).values()) == {0}
    assert admin.stored(KEPT) == kept
    after = dump(two)
    for name in before:
        assert after[name] <= before[name], name  # nothing of the other workspace changed
        assert len(before[name]) - len(after[name]) == deleted.get(name, 0), name
    with two.engine.connect() as conn:  # no row anywhere still names the workspace
        for name, table in SQLModel.metadata.tables.items():
            if "team_id" in table.c:
                assert conn.execute(select(table).where(table.c.team_id == GONE)).first() is None, name
    # the remaining workspace still works: its records read back
    assert two.services.requirements.by_code(KEPT, "RW-2026-001").revision == 2


def test_forget_needs_a_team() -> None:
    with pytest.raises(ValueError):
        storage_forget.forget(None, "")  # type: ignore[arg-type]


# -- the command ---------------------------------------------------------------------------------


def forget(database_url: str, *args: str, answer: str | None = None) -> Result:
    """Run `coordbot forget` in process, typing `answer` at the prompt."""
    return CliRunner().invoke(main, ["forget", *args], env={"DATABASE_URL": database_url}, input=answer)


def rows_of(rt: Runtime, team: str) -> int:
    return sum(WorkspaceAdmin(rt.services.session_scope).stored(team).values())


def test_the_command_shows_what_goes_and_aborts_on_anything_but_the_team_id(two: Runtime, database_url: str) -> None:
    total = rows_of(two, GONE)
    for typed in ("yes\n", "t0gone\n", "\n", f"{KEPT}\n"):
        result = forget(database_url, "--team", GONE, answer=typed)
        assert result.exit_code == 1, result.output
        assert f"workspace {GONE}: {total} rows to delete for good" in result.stdout
        assert "requirement " in result.stdout and "slack_installations" in result.stdout
        assert f"Type {GONE} to delete all of this" in result.stdout
        assert "aborted: nothing was deleted" in result.stderr
        assert "still installed" in result.stderr
        assert rows_of(two, GONE) == total
    result = forget(database_url, "--team", GONE)  # no terminal to answer from
    assert result.exit_code == 1 and rows_of(two, GONE) == total


def test_the_command_deletes_when_the_team_id_is_typed(two: Runtime, database_url: str) -> None:
    total, kept = rows_of(two, GONE), rows_of(two, KEPT)
    result = forget(database_url, "--team", f" {GONE.lower()} ", answer=f"{GONE}\n")
    assert result.exit_code == 0, result.output
    assert f"forgot workspace {GONE}: {total} rows deleted" in result.stdout
    assert rows_of(two, GONE) == 0 and rows_of(two, KEPT) == kept
    again = forget(database_url, "--team", GONE, "--yes")
    assert again.exit_code == 0 and f"coordbot has nothing stored of workspace {GONE}" in again.stdout


def test_yes_deletes_without_asking(two: Runtime, database_url: str) -> None:
    kept = rows_of(two, KEPT)
    result = forget(database_url, "--team", KEPT, "--yes")
    assert result.exit_code == 0, result.output
    assert "Type" not in result.output and rows_of(two, KEPT) == 0
    assert rows_of(two, GONE) == kept  # the same seed


def test_the_command_checks_its_team_argument(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert forget(url).exit_code == 2  # --team is required
    result = forget(url, "--team", "T1; DROP TABLE")
    assert result.exit_code == 2 and "not a workspace" in result.output


def test_forget_runs_in_one_transaction(two: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure part-way leaves every row in place."""
    admin = WorkspaceAdmin(two.services.session_scope)
    total = rows_of(two, GONE)
    plan = list(storage_forget.PLAN)
    plan.insert(len(plan) // 2, ("requirement", lambda _team: literal_column("no_such_column") == 1))
    monkeypatch.setattr(storage_forget, "PLAN", tuple(plan))
    with pytest.raises(Exception, match="no_such_column"):
        admin.forget(GONE)
    monkeypatch.undo()
    assert rows_of(two, GONE) == total
