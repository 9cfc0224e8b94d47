"""The `coordbot` command: run (HTTP mode, end to end), tick, status and manifest."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.manifest import BOT_EVENTS, BOT_SCOPES, manifest
from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.slack_api import ALICE, BOB, GENERAL, FakeSlack
from storage.db import make_engine, migrate
from tests.conftest import SIGNING_SECRET
from tests.helpers import SHEET_VALUES, block_text
from tests.processes import ROOT, start_run


def test_run_without_tokens_says_what_is_missing() -> None:
    result = CliRunner().invoke(
        main, ["run"], env={k: "" for k in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")}
    )
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set" in result.output
    assert "coordbot manifest" in result.output


def test_socket_mode_needs_no_signing_secret() -> None:
    from bot.config import Settings

    assert Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}).missing_for_run() == []
    assert Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).missing_for_run() == ["SLACK_SIGNING_SECRET"]


def test_bad_configuration_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["run"], env={"COORDBOT_TZ": "Mars/Olympus"})
    assert result.exit_code != 0 and "COORDBOT_TZ is not an IANA timezone" in result.output


def test_secrets_are_not_in_the_settings_repr() -> None:
    from bot.config import Settings

    text = repr(
        Settings.from_env(
            {"SLACK_BOT_TOKEN": "xoxb-secret-1", "SLACK_SIGNING_SECRET": "shh-2", "SLACK_APP_TOKEN": "xapp-secret-3"}
        )
    )
    assert "secret-1" not in text and "shh-2" not in text and "secret-3" not in text


def test_manifest_file_matches_the_command() -> None:
    assert (ROOT / "manifest.yaml").read_text() == CliRunner().invoke(main, ["manifest"]).output
    data = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["event_subscriptions"]["bot_events"] == BOT_EVENTS
    commands = [c["command"] for c in data["features"]["slash_commands"]]
    assert commands == ["/requirement", "/meeting", "/action", "/incident", "/digest"]


def test_manifest_for_http_mode_fills_request_urls() -> None:
    data = yaml.safe_load(CliRunner().invoke(main, ["manifest", "--url", "https://bot.example.com/"]).output)
    url = "https://bot.example.com/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in data["features"]["slash_commands"]} == {url}


def test_every_registered_command_is_in_the_manifest() -> None:
    from handlers.blocks.requirement import Ids  # noqa: F401  (features register their commands)

    source = "\n".join(p.read_text() for p in (ROOT / "handlers").glob("*.py"))
    registered = {
        line.split('app.command("')[1].split('"')[0] for line in source.splitlines() if 'app.command("' in line
    }
    assert registered == {c["command"] for c in manifest()["features"]["slash_commands"]}
    events = {line.split('app.event("')[1].split('"')[0] for line in source.splitlines() if 'app.event("' in line}
    assert events == set(BOT_EVENTS)
    assert len(BOT_SCOPES) == len(set(BOT_SCOPES))


def test_tick_and_status_on_an_empty_database(tmp_path: Path, fake: FakeSlack) -> None:
    env = {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
    }
    migrate(make_engine(env["DATABASE_URL"]))  # as `coordbot run` leaves it: these only read what exists
    result = CliRunner().invoke(main, ["tick", "--now", "2026-11-26T10:00:00+08:00"], env=env)
    assert result.exit_code == 0, result.output
    assert "sent 0, skipped 0, retrying 0, failed 0" in result.output
    result = CliRunner().invoke(main, ["status"], env=env)
    assert result.exit_code == 0
    assert f"database: {tmp_path / 'c.db'} (SQLite)" in result.output
    assert "inbox (requests answered, worked on by the workers):\n  empty\noutbox (due work):\n  empty" in result.output
    result = CliRunner().invoke(main, ["tick", "--now", "yesterday"], env=env)
    assert result.exit_code != 0 and "not an ISO 8601 time" in result.output


@pytest.fixture
def running_bot(tmp_path: Path, fake: FakeSlack) -> Iterator[str]:
    """`coordbot run` as a process in HTTP mode, against the fake Web API."""
    proc, url = start_run(
        tmp_path / "run.db", bot_token=fake.bot_token, signing_secret=SIGNING_SECRET, api_url=fake.api_url
    )
    try:
        yield url
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
        assert proc.returncode == 0, out
        assert fake.bot_token not in out and SIGNING_SECRET not in out  # secrets never logged
        assert [line for line in out.splitlines() if " WARNING " in line] == []  # a clean run warns of nothing


@pytest.mark.processes
def test_run_in_http_mode_completes_the_flow(running_bot: str, fake: FakeSlack, tmp_path: Path) -> None:
    slack = SlackDriver(running_bot + "/slack/events", SIGNING_SECRET, fake)
    assert fake.wait_for("users.list")  # the directory loads at start
    assert slack.slash("/requirement", "", user=ALICE).acked_in_time
    fake.wait_for("views.open")
    assert slack.submit_view(SHEET_VALUES, user=ALICE).status == 200
    posted = fake.wait_for("chat.postMessage")[0]
    ts = posted.response["ts"] if posted.response else ""
    deadline = time.time() + 10  # the listener stores the message ts right after posting
    while time.time() < deadline:
        with sqlite3.connect(tmp_path / "run.db") as db:
            if db.execute("SELECT 1 FROM requirement WHERE message_ts = ?", (ts,)).fetchone():
                break
        time.sleep(0.05)
    for user in (ALICE, BOB):
        assert slack.react("white_check_mark", channel=GENERAL, ts=ts, user=user).status == 200
    deadline = time.time() + 10
    while time.time() < deadline and "Confirmed" not in block_text(fake.message(GENERAL, ts) or {}):
        time.sleep(0.05)
    assert "Confirmed" in block_text(fake.message(GENERAL, ts) or {})
    assert "RW-2026-001" in block_text(fake.message(GENERAL, ts) or {})
