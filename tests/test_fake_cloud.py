"""The fake Slack of many workspaces (FakeSlackCloud) and the driver's Enterprise Grid payloads, without the bot."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import sqlalchemy
import yaml
from slack_bolt import BoltRequest
from slack_bolt.middleware.authorization.internals import _is_no_auth_test_events
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request.internals import extract_enterprise_id, extract_is_enterprise_install, extract_team_id
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.webhook import WebhookClient

from bot.manifest import BOT_SCOPES
from handlers.sandbox.driver import Reply, SlackDriver
from handlers.sandbox.slack_api import ALICE, APP_ID, BOB, BOT, BOT_ID, GENERAL, FakeSlack, FakeSlackCloud

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "shh"


@pytest.fixture
def cloud() -> Iterator[FakeSlackCloud]:
    with FakeSlackCloud(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as started:
        started.add_workspace("T_A", name="Acme", domain="acme")
        started.add_workspace("T_B", name="Beta", domain="beta")
        started.add_workspace(
            "T_G1", name="Org Sales", domain="org-sales", enterprise_id="E_ORG", enterprise_name="Org"
        )
        started.add_workspace("T_G2", enterprise_id="E_ORG", name="Org Ops", domain="org-ops")
        yield started


def web(cloud: FakeSlackCloud, token: str | None = None) -> WebClient:
    """A real slack_sdk client pointed at the cloud."""
    return WebClient(token=token, base_url=cloud.api_url)


def exchange(cloud: FakeSlackCloud, code: str, **kwargs: Any) -> dict[str, Any]:
    """oauth.v2.access as slack_bolt's OAuthFlow calls it (client credentials by HTTP Basic auth)."""
    kwargs = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **kwargs}
    return dict(web(cloud).oauth_v2_access(code=code, **kwargs).data)  # type: ignore[arg-type]


def install(cloud: FakeSlackCloud, **kwargs: Any) -> str:
    """Authorize and exchange the code; the new bot token."""
    return str(exchange(cloud, cloud.authorize(**kwargs))["access_token"])


def error(call: Callable[[], object]) -> str:
    """The Slack error code a Web API call fails with."""
    with pytest.raises(SlackApiError) as failed:
        call()
    return str(failed.value.response["error"])


def post(cloud: FakeSlackCloud, token: str, channel: str = GENERAL, **kwargs: Any) -> dict[str, Any]:
    """chat.postMessage with ``token``; the answer."""
    return dict(web(cloud, token).chat_postMessage(channel=channel, text="hello", **kwargs).data)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- workspace installs


def test_a_workspace_has_no_working_token_before_it_is_installed(cloud: FakeSlackCloud) -> None:
    acme = cloud.workspace("T_A")
    assert acme.bot_token == "" and cloud.token_for(team_id="T_A") is None
    assert error(lambda: post(cloud, "xoxb-test")) == "invalid_auth"
    assert error(lambda: web(cloud).auth_test()) == "not_authed"
    assert [c.error for c in cloud.calls("chat.postMessage")] == ["invalid_auth"]
    assert acme.calls() == []


def test_an_install_answers_as_slack_does_and_its_token_works_in_that_workspace_only(cloud: FakeSlackCloud) -> None:
    acme, beta = cloud.workspace("T_A"), cloud.workspace("T_B")
    answer = exchange(cloud, cloud.authorize(team_id="T_A", user=BOB))
    token = answer.pop("access_token")
    assert token.startswith("xoxb-")
    assert answer == {
        "ok": True,
        "app_id": APP_ID,
        "authed_user": {"id": BOB},
        "scope": ",".join(BOT_SCOPES),
        "token_type": "bot",
        "bot_user_id": BOT,
        "team": {"id": "T_A", "name": "Acme"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    exchanged = cloud.calls("oauth.v2.access")
    assert len(exchanged) == 1 and exchanged[0].headers["Authorization"].startswith("Basic ")
    assert acme.bot_token == token == cloud.token_for(team_id="T_A")

    post(cloud, token)
    assert [m["text"] for m in acme.messages(GENERAL)] == ["hello"]
    assert beta.messages() == [] and beta.calls() == []
    assert [c.method for c in acme.calls()] == ["chat.postMessage"]
    assert cloud.calls("chat.postMessage") == []

    who = web(cloud, token).auth_test()
    assert (who["team_id"], who["team"], who["url"]) == ("T_A", "Acme", "https://acme.slack.com/")
    assert (who["user_id"], who["bot_id"], who["is_enterprise_install"]) == (BOT, BOT_ID, False)
    assert who.get("enterprise_id") is None
    team = web(cloud, token).team_info()["team"]
    assert (team["id"], team["name"], team["domain"]) == ("T_A", "Acme", "acme")

    other = install(cloud, team_id="T_B")
    assert other != token
    post(cloud, other, team_id="T_A")  # a workspace token ignores team_id, as Slack does
    assert [m["text"] for m in beta.messages(GENERAL)] == ["hello"]
    assert len(acme.messages()) == 1


def test_client_credentials_may_come_as_parameters(cloud: FakeSlackCloud) -> None:
    code = cloud.authorize(team_id="T_A")
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code}
    answer = web(cloud).api_call("oauth.v2.access", data=data)
    assert answer["team"] == {"id": "T_A", "name": "Acme"}
    assert "Authorization" not in cloud.calls("oauth.v2.access")[0].headers


def test_a_second_install_replaces_the_workspace_token(cloud: FakeSlackCloud) -> None:
    first = install(cloud, team_id="T_A")
    second = install(cloud, team_id="T_A")
    assert first != second and cloud.workspace("T_A").bot_token == second
    assert error(lambda: post(cloud, first)) == "invalid_auth"
    assert post(cloud, second)["ok"] is True


def test_codes_are_refused_to_the_wrong_client_and_when_reused_expired_or_redirected_elsewhere(
    cloud: FakeSlackCloud,
) -> None:
    code = cloud.authorize(team_id="T_A", redirect_uri="https://bot.example.com/slack/oauth_redirect")
    assert error(lambda: exchange(cloud, code, client_id="9999.0000")) == "invalid_client_id"
    assert error(lambda: exchange(cloud, code, client_secret="wrong")) == "bad_client_secret"
    assert error(lambda: exchange(cloud, code)) == "bad_redirect_uri"
    assert error(lambda: exchange(cloud, code, redirect_uri="https://evil.example.com/")) == "bad_redirect_uri"
    assert error(lambda: exchange(cloud, "12345.1.nonsense")) == "invalid_code"
    redirect = "https://bot.example.com/slack/oauth_redirect"
    assert exchange(cloud, code, redirect_uri=redirect)["ok"] is True
    assert error(lambda: exchange(cloud, code, redirect_uri=redirect)) == "invalid_code"  # used already

    now = cloud.clock()
    late, in_time = cloud.authorize(team_id="T_B"), cloud.authorize(team_id="T_B")
    cloud.clock = lambda: now + 599
    assert exchange(cloud, in_time)["ok"] is True
    cloud.clock = lambda: now + 601
    assert error(lambda: exchange(cloud, late)) == "invalid_code"
    assert [c.error for c in cloud.calls("oauth.v2.access")].count(None) == 2


def test_the_default_scopes_are_the_manifests(cloud: FakeSlackCloud) -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    scope = exchange(cloud, cloud.authorize(team_id="T_A"))["scope"]
    assert scope.split(",") == manifest["oauth_config"]["scopes"]["bot"]
    assert exchange(cloud, cloud.authorize(team_id="T_A", scopes=["chat:write"]))["scope"] == "chat:write"


# ---------------------------------------------------------------------- Enterprise Grid


def test_a_workspace_install_inside_an_org(cloud: FakeSlackCloud) -> None:
    answer = exchange(cloud, cloud.authorize(team_id="T_G1"))
    assert answer["team"] == {"id": "T_G1", "name": "Org Sales"}
    assert answer["enterprise"] == {"id": "E_ORG", "name": "Org"}
    assert answer["is_enterprise_install"] is False
    token = answer["access_token"]
    who = web(cloud, token).auth_test()
    assert (who["team_id"], who["enterprise_id"], who["is_enterprise_install"]) == ("T_G1", "E_ORG", False)
    assert who["url"] == "https://org-sales.slack.com/"
    team = web(cloud, token).team_info()["team"]
    assert (team["id"], team["enterprise_id"], team["enterprise_name"]) == ("T_G1", "E_ORG", "Org")
    post(cloud, token, team_id="T_G2")  # not an org token: stays in its own workspace
    assert len(cloud.workspace("T_G1").messages()) == 1 and cloud.workspace("T_G2").calls() == []


def test_an_org_install_has_one_token_routed_by_team_id_then_by_channel_or_user_then_to_the_first_workspace(
    cloud: FakeSlackCloud,
) -> None:
    sales, ops = cloud.workspace("T_G1"), cloud.workspace("T_G2")
    ops.set_channel("C_OPS", name="ops", bot_is_member=True)
    ops.add_user("U_OPSONLY", "olga")
    answer = exchange(cloud, cloud.authorize(enterprise_id="E_ORG", user=ALICE, org_install=True))
    assert (answer["team"], answer["enterprise"]) == (None, {"id": "E_ORG", "name": "Org"})
    assert answer["is_enterprise_install"] is True
    token = answer["access_token"]
    assert sales.bot_token == ops.bot_token == token == cloud.token_for(enterprise_id="E_ORG")

    post(cloud, token, team_id="T_G2")
    assert [len(sales.messages()), len(ops.messages())] == [0, 1]
    post(cloud, token, channel="C_OPS")
    assert [len(sales.messages()), len(ops.messages(channel="C_OPS"))] == [0, 1]
    assert web(cloud, token).users_info(user="U_OPSONLY")["user"]["team_id"] == "T_G2"
    post(cloud, token)  # C_GENERAL is in both: the first workspace that has it
    assert [len(sales.messages()), len(ops.messages())] == [1, 2]

    who = web(cloud, token).auth_test()
    assert who["is_enterprise_install"] is True
    assert (who["enterprise_id"], who["team_id"], who["team"]) == ("E_ORG", "E_ORG", "Org")
    assert (who["url"], who["user_id"], who["bot_id"]) == ("https://e-org.enterprise.slack.com/", BOT, BOT_ID)
    assert [c.method for c in sales.calls("auth.test")] == ["auth.test"]  # the org's first workspace records it
    assert web(cloud, token).team_info(team="T_G2")["team"]["name"] == "Org Ops"

    assert error(lambda: post(cloud, token, team_id="T_A")) == "team_access_not_granted"
    assert cloud.workspace("T_A").calls() == []
    assert [c.error for c in cloud.calls("chat.postMessage")] == ["team_access_not_granted"]


def test_revoked_tokens_fail_with_token_revoked_and_a_reinstall_works_again(cloud: FakeSlackCloud) -> None:
    acme, beta = cloud.workspace("T_A"), cloud.workspace("T_B")
    token_a, token_b = install(cloud, team_id="T_A"), install(cloud, team_id="T_B")
    org = install(cloud, enterprise_id="E_ORG", org_install=True)
    cloud.revoke(team_id="T_A")
    assert error(lambda: post(cloud, token_a)) == "token_revoked"
    assert [c.error for c in acme.calls()] == ["token_revoked"]  # recorded by the workspace whose token it was
    assert acme.bot_token == "" and cloud.token_for(team_id="T_A") is None
    assert post(cloud, token_b)["ok"] is True and len(beta.messages()) == 1
    assert post(cloud, org, team_id="T_G2")["ok"] is True

    cloud.revoke(enterprise_id="E_ORG")
    assert error(lambda: post(cloud, org, team_id="T_G2")) == "token_revoked"
    assert error(lambda: web(cloud, org).auth_test()) == "token_revoked"
    assert cloud.workspace("T_G1").bot_token == ""
    with pytest.raises(ValueError):
        cloud.revoke(team_id="T_G1")

    fresh = install(cloud, team_id="T_A")
    assert post(cloud, fresh)["ok"] is True and acme.bot_token == fresh
    assert error(lambda: post(cloud, token_a)) == "token_revoked"


# ---------------------------------------------------------------------- the workspaces behind the cloud


def test_a_workspace_of_the_cloud_uses_its_url_for_response_urls_and_trigger_ids(cloud: FakeSlackCloud) -> None:
    acme, beta = cloud.workspace("T_A"), cloud.workspace("T_B")
    assert (acme.port, acme.base_url, acme.api_url) == (cloud.port, cloud.base_url, cloud.api_url)
    assert acme.start() is acme and acme.port == cloud.port  # not started on a port of its own

    url_a = acme.new_response_url(channel=GENERAL, user=ALICE)
    url_b = beta.new_response_url(channel=GENERAL, user=BOB)
    assert url_a.startswith(f"{cloud.base_url}/response/") and url_a != url_b
    assert WebhookClient(url_a).send(text="only you can see this").status_code == 200
    assert [e["text"] for e in acme.ephemerals(user=ALICE)] == ["only you can see this"]
    assert beta.ephemerals() == []
    assert [c.method for c in acme.calls()] == ["response_url"]
    assert WebhookClient(f"{cloud.base_url}/response/999999").send(text="x").status_code == 404

    token = install(cloud, team_id="T_A")
    text = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": [text]}
    web(cloud, token).views_open(trigger_id=acme.new_trigger_id(user=ALICE), view=modal)
    assert len(acme.views()) == 1 and beta.views() == []
    other = beta.new_trigger_id(user=ALICE)
    assert error(lambda: web(cloud, token).views_open(trigger_id=other, view=modal)) == "invalid_trigger_id"


def test_faults_and_delays_of_a_workspace_still_apply(cloud: FakeSlackCloud) -> None:
    acme = cloud.workspace("T_A")
    token = install(cloud, team_id="T_A")
    acme.fail("chat.postMessage", error="channel_not_found")
    assert error(lambda: post(cloud, token)) == "channel_not_found"
    assert post(cloud, token)["ok"] is True
    assert [c.error for c in acme.wait_for("chat.postMessage", 2)] == ["channel_not_found", None]


def test_socket_mode_uses_the_apps_token_for_every_workspace(cloud: FakeSlackCloud) -> None:
    assert web(cloud, "xapp-test").apps_connections_open(app_token="xapp-test")["url"].startswith("wss://")
    assert error(lambda: web(cloud).apps_connections_open(app_token="xapp-wrong")) == "invalid_auth"


def test_bolts_oauth_flow_installs_against_the_cloud_and_its_store_finds_each_token(
    cloud: FakeSlackCloud, tmp_path: Path
) -> None:
    store = SQLAlchemyInstallationStore(CLIENT_ID, sqlalchemy.create_engine("sqlite://"))
    store.create_tables()
    settings = OAuthSettings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        installation_store=store,
        state_store=FileOAuthStateStore(expiration_seconds=600, base_dir=str(tmp_path)),
    )
    flow = OAuthFlow(client=web(cloud), settings=settings)
    workspace = flow.run_installation(cloud.authorize(team_id="T_A"))
    org = flow.run_installation(cloud.authorize(enterprise_id="E_ORG", org_install=True))
    assert workspace is not None and org is not None
    assert (workspace.team_id, workspace.enterprise_id, workspace.is_enterprise_install) == ("T_A", None, False)
    assert (workspace.bot_id, workspace.bot_user_id, workspace.user_id) == (BOT_ID, BOT, ALICE)
    assert (org.team_id, org.enterprise_id, org.is_enterprise_install) == (None, "E_ORG", True)
    assert org.enterprise_url == "https://e-org.enterprise.slack.com/"
    store.save(workspace)
    store.save(org)

    found = store.find_bot(enterprise_id="E_ORG", team_id="T_G2", is_enterprise_install=True)
    assert found is not None and found.bot_token == cloud.token_for(enterprise_id="E_ORG")
    post(cloud, str(found.bot_token), team_id="T_G2")
    assert len(cloud.workspace("T_G2").messages()) == 1
    found = store.find_bot(enterprise_id=None, team_id="T_A")
    assert found is not None and found.bot_token == cloud.token_for(team_id="T_A")


def test_a_lone_fake_slack_keeps_its_single_token() -> None:
    with FakeSlack("xoxb-test", "T0001") as fake:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        who = client.auth_test()
        assert (who["team_id"], who["is_enterprise_install"], who.get("enterprise_id")) == ("T0001", False, None)
        assert fake.new_response_url().startswith(f"{fake.base_url}/response/")
        wrong = WebClient(token="xoxb-other", base_url=fake.api_url)
        assert error(lambda: wrong.chat_postMessage(channel=GENERAL, text="x")) == "invalid_auth"


# ---------------------------------------------------------------------- the driver's Enterprise Grid payloads


class Capture(SlackDriver):
    """Builds and keeps the driver's requests instead of sending them."""

    def __init__(self, fake: FakeSlack, **kwargs: Any) -> None:
        super().__init__("http://127.0.0.1:9/slack/events", "secret", fake, team_id=fake.team_id, **kwargs)
        self.sent: list[tuple[str, str]] = []

    def post(self, body: str, content_type: str, **kwargs: Any) -> Reply:
        """Keep the body."""
        self.sent.append((body, content_type))
        return Reply(200, "")

    def body(self) -> dict[str, Any]:
        """The last request's body as Slack's receiver decodes it."""
        body, content_type = self.sent[-1]
        if content_type == "application/json":
            return dict(json.loads(body))
        fields = dict(parse_qsl(body))
        return dict(json.loads(fields["payload"])) if "payload" in fields else fields


GRIDS: dict[str, tuple[str, dict[str, Any], str | None, str, bool]] = {
    # name: (workspace, driver keywords, expected enterprise_id, team_id, is_enterprise_install)
    "no-grid": ("T_A", {}, None, "T_A", False),
    "grid-workspace-install": ("T_G1", {"enterprise_id": "E_ORG"}, "E_ORG", "T_G1", False),
    "org-install": ("T_G2", {"enterprise_id": "E_ORG", "org_install": True}, "E_ORG", "T_G2", True),
}


def send_every_kind(driver: Capture) -> Iterator[str]:
    """Send one request of each kind; after each, its name."""
    button = {"type": "button", "action_id": "go", "value": "1", "text": {"type": "plain_text", "text": "Go"}}
    message = {"channel": GENERAL, "ts": "1790000000.000100", "blocks": [{"type": "actions", "elements": [button]}]}
    modal = {"type": "modal", "callback_id": "cb", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    sends: dict[str, Callable[[], Reply]] = {
        "slash command": lambda: driver.slash("/action", "do it"),
        "block_actions": lambda: driver.click("go", message=message),
        "view_submission": lambda: driver.submit_view({}, view=modal),
        "view_closed": lambda: driver.close_view(view=modal),
        "shortcut": lambda: driver.shortcut("create_action_item"),
        "event": lambda: driver.app_home_opened(),
        "app_uninstalled": driver.uninstall,
        "tokens_revoked": lambda: driver.tokens_revoked(),
    }
    for kind, send in sends.items():
        send()
        yield kind


@pytest.mark.parametrize("grid", list(GRIDS))
def test_every_payload_carries_the_org_as_slack_bolt_reads_it(cloud: FakeSlackCloud, grid: str) -> None:
    team_id, keywords, enterprise_id, expected_team, org_install = GRIDS[grid]
    driver = Capture(cloud.workspace(team_id), **keywords)
    for kind in send_every_kind(driver):
        body = driver.body()
        got = (extract_enterprise_id(body), extract_team_id(body), extract_is_enterprise_install(body))
        assert got == (enterprise_id, expected_team, org_install), kind
        raw, content_type = driver.sent[-1]
        context = BoltRequest(body=raw, headers={"content-type": content_type}).context
        assert (context.enterprise_id, context.team_id, context.is_enterprise_install) == got, kind


def test_grid_payloads_have_slacks_field_names(cloud: FakeSlackCloud) -> None:
    driver = Capture(cloud.workspace("T_G1"), enterprise_id="E_ORG", org_install=True)
    driver.slash("/digest", "now")
    slash = driver.body()
    assert (slash["enterprise_id"], slash["enterprise_name"]) == ("E_ORG", "Org")
    assert (slash["team_id"], slash["is_enterprise_install"]) == ("T_G1", "true")
    driver.shortcut("create_action_item")
    shortcut = driver.body()
    assert shortcut["enterprise"] == {"id": "E_ORG", "name": "Org"} and shortcut["is_enterprise_install"] is True
    assert shortcut["team"] == {"id": "T_G1", "domain": "org-sales", "enterprise_id": "E_ORG", "enterprise_name": "Org"}
    driver.app_home_opened()
    event = driver.body()
    assert (event["enterprise_id"], event["context_enterprise_id"]) == ("E_ORG", "E_ORG")
    assert (event["team_id"], event["context_team_id"]) == ("T_G1", "T_G1")
    assert event["authorizations"] == [
        {"enterprise_id": "E_ORG", "team_id": "T_G1", "user_id": BOT, "is_bot": True, "is_enterprise_install": True}
    ]

    plain = Capture(cloud.workspace("T_A"))
    plain.slash("/digest", "now")
    assert "enterprise_id" not in plain.body() and plain.body()["is_enterprise_install"] == "false"
    plain.app_home_opened()
    assert "enterprise_id" not in plain.body() and plain.body()["context_enterprise_id"] is None
    with pytest.raises(ValueError):
        Capture(cloud.workspace("T_A"), org_install=True)


def test_uninstall_events_have_slacks_shape_and_skip_bolts_authorization(cloud: FakeSlackCloud) -> None:
    driver = Capture(cloud.workspace("T_A"))
    driver.uninstall()
    body = driver.body()
    assert (body["type"], body["event"]["type"], body["team_id"], body["api_app_id"]) == (
        "event_callback",
        "app_uninstalled",
        "T_A",
        APP_ID,
    )
    driver.tokens_revoked()
    assert driver.body()["event"] == {"type": "tokens_revoked", "tokens": {"bot": [BOT]}, **_ts(driver.body())}
    driver.tokens_revoked(user_ids=[ALICE])
    assert driver.body()["event"]["tokens"] == {"oauth": [ALICE]}
    driver.tokens_revoked(bot_ids=[BOT], user_ids=[ALICE, BOB])
    assert driver.body()["event"]["tokens"] == {"oauth": [ALICE, BOB], "bot": [BOT]}
    for raw, content_type in driver.sent:
        assert _is_no_auth_test_events(BoltRequest(body=raw, headers={"content-type": content_type}))


def _ts(body: dict[str, Any]) -> dict[str, Any]:
    return {"event_ts": body["event"]["event_ts"]}
