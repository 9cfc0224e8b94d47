"""`coordbot manifest --distribute`: the manifest for installing in many workspaces and organizations."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner, Result

from bot.cli import main
from bot.manifest import manifest

BASE = "https://bot.example.com/"


def run(*args: str, app_token: str = "") -> Result:
    """`coordbot manifest` with SLACK_APP_TOKEN set (or unset)."""
    return CliRunner().invoke(main, ["manifest", *args], env={"SLACK_APP_TOKEN": app_token})


def test_distribute_adds_the_oauth_redirect_and_org_wide_installs() -> None:
    result = run("--url", BASE, "--distribute")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)  # stdout is the manifest alone
    assert data["oauth_config"]["redirect_urls"] == ["https://bot.example.com/slack/oauth_redirect"]
    assert data["oauth_config"]["scopes"] == manifest()["oauth_config"]["scopes"]
    assert data["settings"]["org_deploy_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.com/slack/events"
    # the step the manifest has no field for, on stderr
    assert "Manage Distribution" in result.stderr and "Activate Public Distribution" in result.stderr
    assert "https://bot.example.com/slack/install" in result.stderr


def test_without_distribute_the_manifest_is_for_one_workspace() -> None:
    for args in ((), ("--url", BASE)):
        result = run(*args)
        assert result.exit_code == 0 and result.stderr == ""
        data = yaml.safe_load(result.stdout)
        assert data["settings"]["org_deploy_enabled"] is False
        assert "redirect_urls" not in data["oauth_config"]


def test_distribute_needs_a_url() -> None:
    result = run("--distribute")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--distribute" in result.stderr and "--url" in result.stderr and "Socket Mode" in result.stderr


def test_distribute_is_refused_in_socket_mode() -> None:
    result = run("--url", BASE, "--distribute", app_token="xapp-1-A1-2-abc")
    assert result.exit_code == 2 and result.stdout == ""
    assert "SLACK_APP_TOKEN" in result.stderr and "Socket Mode" in result.stderr
    assert "xapp-1" not in result.stderr  # the token itself is never shown


def test_distribute_checks_the_url_first() -> None:
    result = run("--url", "http://bot.example.com", "--distribute")
    assert result.exit_code == 2 and "https://" in result.output


def test_the_manifest_function_refuses_distribution_without_a_url() -> None:
    with pytest.raises(ValueError, match="distribute"):
        manifest(distribute=True)
