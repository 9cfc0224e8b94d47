"""A first run without tracebacks: each wrong setting ends the real CLI with one line that names it, status 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from handlers.sandbox.slack_api import FakeSlack
from tests.conftest import SIGNING_SECRET
from tests.processes import CLEAN_ENV, ROOT, start_run

pytestmark = pytest.mark.processes  # every test here starts coordbot as processes of its own


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def coordbot(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, in a folder of its own, with only the settings given."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**CLEAN_ENV, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The command failed with status 2, and without a traceback: its last line, the one that says why."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done.stderr.strip().splitlines()[-1]


def http_env(slack: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        **extra,
    }


def test_slack_out_of_reach_names_the_url_and_starts_no_worker(tmp_path: Path) -> None:
    done = coordbot(
        "run",
        cwd=tmp_path,
        env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api/"},
    )
    line = one_line(done)
    assert line.startswith("coordbot: cannot reach Slack at http://127.0.0.1:9/api/ (SLACK_API_URL)"), line
    assert "worker process" not in done.stderr  # nothing started that would crash and start again
    assert not (tmp_path / "coordbot.db").exists()  # a wrong setting leaves nothing behind


def test_a_refused_token_is_named(tmp_path: Path, slack: FakeSlack) -> None:
    line = one_line(coordbot("run", cwd=tmp_path, env=http_env(slack, SLACK_BOT_TOKEN="xoxb-wrong")))
    assert line.startswith("coordbot: SLACK_BOT_TOKEN was refused by Slack: invalid_auth"), line
    line = one_line(
        coordbot(
            "tick",
            cwd=tmp_path,
            env=http_env(slack, SLACK_BOT_TOKEN="xoxb-wrong", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"),
        )
    )
    assert "no database at" in line  # tick only reads: it creates nothing


def test_a_database_out_of_reach_is_named_without_its_password(tmp_path: Path, slack: FakeSlack) -> None:
    url = "postgresql://coordbot:hunter2@127.0.0.1:9/coordbot"
    done = coordbot("run", cwd=tmp_path, env=http_env(slack, DATABASE_URL=url))
    line = one_line(done)
    assert line.startswith(
        "coordbot: cannot reach the database postgresql+psycopg://coordbot:***@127.0.0.1:9/coordbot (DATABASE_URL)"
    ), line
    assert "hunter2" not in done.stderr + done.stdout


def test_a_database_folder_that_cannot_be_written_is_named(tmp_path: Path, slack: FakeSlack) -> None:
    target = tmp_path / "missing" / "folder" / "coordbot.db"
    line = one_line(coordbot("run", cwd=tmp_path, env=http_env(slack, DATABASE_URL=f"sqlite:///{target}")))
    assert line == (
        f"coordbot: cannot create the database at {target}: {target.parent} is not a folder coordbot "
        "may write in (DATABASE_URL)"
    )
    line = one_line(coordbot("run", cwd=tmp_path, env=http_env(slack, DATABASE_URL="mysql+nodriver://x/y")))
    assert "DATABASE_URL" in line


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    for command in (["status"], ["export", "--kind", "requirements", "--format", "json"], ["retry", "1"]):
        line = one_line(coordbot(*command, cwd=tmp_path))
        assert line.startswith(f"coordbot: no database at {tmp_path / 'coordbot.db'}"), (command, line)
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = coordbot("--debug", "status", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" in done.stderr and "Preflight" in done.stderr


def test_socket_mode_is_told_only_what_socket_mode_needs(tmp_path: Path, slack: FakeSlack) -> None:
    done = coordbot("run", cwd=tmp_path, env={"SLACK_APP_TOKEN": "xapp-1"})
    assert done.returncode == 2 and "SLACK_BOT_TOKEN is not set" in done.stderr
    assert "SLACK_SIGNING_SECRET" not in done.stderr
    line = one_line(
        coordbot(
            "run",
            cwd=tmp_path,
            env={"SLACK_APP_TOKEN": "xapp-wrong", "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url},
        )
    )
    assert line.startswith("coordbot: SLACK_APP_TOKEN was refused by Slack: invalid_auth"), line


def test_the_manifest_url_must_be_https(tmp_path: Path) -> None:
    for url in ("coordbot.example.com", "http://coordbot.example.com", "ftp://x"):
        done = coordbot("manifest", "--url", url, cwd=tmp_path)
        assert done.returncode == 2 and "https://" in done.stderr, (url, done.stderr)
    for url in ("https://coordbot.example.com", "http://localhost:3000"):
        done = coordbot("manifest", "--url", url, cwd=tmp_path)
        assert done.returncode == 0 and f"{url}/slack/events" in done.stdout


def test_run_says_where_the_database_is(tmp_path: Path, slack: FakeSlack) -> None:
    proc, _ = start_run(
        tmp_path / "data.db",
        bot_token=slack.bot_token,
        signing_secret=SIGNING_SECRET,
        api_url=slack.api_url,
        args=["--workers", "0"],
    )
    try:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    finally:
        proc.kill()
    assert f"database: {tmp_path / 'data.db'} (SQLite)" in output
    assert "Slack: coordbot in workspace" in output
