"""`coordbot status` and `coordbot export` on a database serving several workspaces (`--team`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from bot.app import Runtime
from bot.cli import main
from storage.db import make_engine, migrate
from tests.test_forget import GONE, KEPT, at, seed_workspace


def cli(database_url: str, *args: str) -> Result:
    """Run a coordbot command in process against the test database."""
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": database_url, "COORDBOT_TZ": "Asia/Shanghai"})


def counted(output: str, section: str, kind: str, state: str) -> int:
    """The count `status` shows for (kind, state) in its inbox or outbox section (0 when not listed)."""
    part = output.split(section, 1)[1].split("\n", 1)[1]
    part = re.split(r"\n\S", part, maxsplit=1)[0]  # up to the next section's heading
    found = re.search(rf"^  {re.escape(kind)}\s+{re.escape(state)}\s+(\d+)$", part, re.M)
    return int(found.group(1)) if found else 0


def test_status_lists_the_workspaces_and_counts_one_with_team(runtime: Runtime, database_url: str) -> None:
    seed_workspace(runtime, GONE)
    seed_workspace(runtime, KEPT)
    runtime.services.workspaces.uninstalled(team_id=KEPT, enterprise_id=None, reason="app_uninstalled", now=at(40))
    held = next(w.held for w in runtime.services.workspaces.all() if w.team_id == KEPT)
    assert held > 0

    everything = cli(database_url, "status")
    assert everything.exit_code == 0, everything.output
    out = everything.stdout
    assert "workspaces (team, enterprise, state, held due work, name):" in out
    assert re.search(rf"^  {GONE}\s+-\s+active\s+held 0\s+{GONE} Inc$", out, re.M), out
    assert re.search(rf"^  {KEPT}\s+-\s+uninstalled: app_uninstalled\s+held {held}\s+{KEPT} Inc$", out, re.M), out
    assert counted(out, "inbox (", "command", "pending") == 2
    assert counted(out, "outbox (", "req.sign_reminder", "pending") == 2
    assert counted(out, "outbox (", "req.sign_reminder", "held") == 2

    mine = cli(database_url, "status", "--team", GONE.lower())
    assert mine.exit_code == 0, mine.output
    assert f"below: workspace {GONE} only" in mine.stdout
    assert counted(mine.stdout, "inbox (", "command", "pending") == 1
    assert counted(mine.stdout, "outbox (", "req.sign_reminder", "pending") == 2  # its own, not the other's
    outbox = mine.stdout.split("outbox (due work):", 1)[1].split("channels the bot", 1)[0]
    assert " held " not in outbox  # the held rows are the other workspace's
    assert "C0LEFT (team T0GONE)" in mine.stdout and "(team T0KEPT)" not in mine.stdout
    # both workspaces are still listed above the counts
    assert KEPT in mine.stdout.split("below:", 1)[0]

    theirs = cli(database_url, "status", "--team", KEPT)
    assert " held " in theirs.stdout.split("outbox (due work):", 1)[1]

    unknown = cli(database_url, "status", "--team", "T0NOBODY")
    assert unknown.exit_code == 0 and "no workspace T0NOBODY is recorded" in unknown.stderr
    assert "inbox (requests answered, worked on by the workers):\n  empty" in unknown.stdout


def test_status_in_single_workspace_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    migrate(make_engine(url))
    result = cli(url, "status")
    assert result.exit_code == 0, result.output
    assert "workspaces: none recorded (single-workspace mode records none)" in result.stdout
    assert cli(url, "status", "--team", "").exit_code == 2


def test_export_refuses_several_workspaces_without_team(runtime: Runtime, database_url: str) -> None:
    seed_workspace(runtime, GONE)
    seed_workspace(runtime, KEPT)
    result = cli(database_url, "export", "--kind", "requirements", "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert f"this database holds 2 workspaces: export one with --team ({GONE}, {KEPT})" in result.stderr

    for team in (GONE, KEPT):
        for kind in ("requirements", "meetings", "actions", "incidents"):
            result = cli(database_url, "export", "--kind", kind, "--format", "json", "--team", team)
            assert result.exit_code == 0, result.output
            records = json.loads(result.stdout)
            assert records and {r["team_id"] for r in records} == {team}, (kind, records)
    # the same code exists in both workspaces: --id finds the one of the workspace asked for
    one = cli(
        database_url, "export", "--kind", "requirements", "--format", "json", "--team", KEPT, "--id", "RW-2026-001"
    )
    [record] = json.loads(one.stdout)
    assert record["team_id"] == KEPT


def test_export_with_one_workspace_needs_no_team(runtime: Runtime, database_url: str) -> None:
    seed_workspace(runtime, GONE)
    result = cli(database_url, "export", "--kind", "actions", "--format", "json")
    assert result.exit_code == 0, result.output
    assert {r["team_id"] for r in json.loads(result.stdout)} == {GONE}
    other = cli(database_url, "export", "--kind", "actions", "--format", "json", "--team", KEPT)
    assert other.exit_code == 0 and json.loads(other.stdout) == []
