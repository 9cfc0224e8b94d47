"""The command line with Feishu: the console checklist, and a start refused in one line when Feishu refuses."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from handlers.feishu.intake import CARD_ACTION, EVENT_TYPES
from handlers.feishu.setup import SCOPES
from handlers.sandbox.feishu_api import FakeFeishu


def test_feishu_setup_lists_permissions_events_and_the_callback_url() -> None:
    result = CliRunner().invoke(main, ["feishu-setup", "--url", "https://bot.example.com/"], env={"FEISHU_EVENTS": ""})
    assert result.exit_code == 0, result.output
    assert "https://bot.example.com/feishu/events" in result.output
    assert all(scope in result.output for scope, _, _ in SCOPES)
    assert all(event in result.output for event in (*EVENT_TYPES, CARD_ACTION))
    chinese = CliRunner().invoke(main, ["feishu-setup", "--lang", "zh"]).output
    assert "长连接" in chinese and "/feishu/events" not in chinese  # no URL: the long connection
    refused = CliRunner().invoke(main, ["feishu-setup", "--url", "bot.example.com"])
    assert refused.exit_code == 2 and "https://" in refused.output


def test_run_stops_in_one_line_when_feishu_refuses_the_app(tmp_path: Path) -> None:
    with FakeFeishu(app_id="cli_wrong_secret") as fake:
        env = {
            "FEISHU_APP_ID": fake.app_id,
            "FEISHU_APP_SECRET": "not-the-secret",
            "FEISHU_DOMAIN": fake.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
            "SLACK_BOT_TOKEN": "",
            "SLACK_SIGNING_SECRET": "",
            "SLACK_APP_TOKEN": "",
        }
        result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code == 2, result.output
    assert "Feishu did not accept FEISHU_APP_ID cli_wrong_secret" in result.output
    assert "not-the-secret" not in result.output  # a secret is never shown
    assert not (tmp_path / "c.db").exists()  # stopped before anything was made
