"""Many workspaces from one deployment: Add to Slack, each workspace with its own token and records, Grid, uninstall.

The deployment runs as `coordbot run` does with SLACK_CLIENT_ID/SECRET and no bot token: Bolt's OAuth flow on
slack_sdk's SQLAlchemy stores in coordbot's database, served by uvicorn. Slack is the fake cloud of workspaces
(handlers/sandbox/slack_api/cloud.py): it issues codes, exchanges them for tokens, and records each call under the
workspace whose token made it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text, update
from sqlmodel import col

from bot.app import Runtime, build_runtime, build_serving
from bot.cli import main
from bot.config import Settings
from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.slack_api import ALICE, BOB, GENERAL, FakeSlack, FakeSlackCloud
from handlers.serving.http import Server
from storage.db import make_engine
from storage.models import ActionItem, OutboxItem, Requirement, Workspace, slack_bots
from tests.conftest import SIGNING_SECRET, Bot, FixedClock
from tests.helpers import SHEET_VALUES, create_sheet, post_now, wait_until
from tests.processes import start_run
from tests.test_crash import burst
from tests.test_crash import pending as crash_pending
from tests.test_crash import records as crash_records
from tests.test_crash import sheets as crash_sheets
from tests.test_crash import wait_for as crash_wait

CLIENT_ID, CLIENT_SECRET = "1111.2222", "client-secret-test"
STATE_COOKIE = "slack-app-oauth-state"


@dataclass
class Page:
    """What a browser got for a GET."""

    status: int
    body: str
    headers: dict[str, str]

    def cookie(self) -> str | None:
        """The state cookie's value, as set (empty when it is being deleted)."""
        cookies = " ".join(v for k, v in self.headers.items() if k.lower() == "set-cookie")
        match = re.search(rf"{STATE_COOKIE}=([^;]*)", cookies)
        return match.group(1) if match else None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def links(html: str) -> list[str]:
    """Every link of a page, unescaped."""
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


@dataclass
class Deployment:
    """coordbot installable in many workspaces, and the cloud of workspaces it is installed in."""

    runtime: Runtime
    server: Server
    cloud: FakeSlackCloud
    clock: FixedClock
    worker: Any

    def get(self, path: str, *, cookie: str | None = None, accept_language: str = "en-US") -> Page:
        """GET as a browser would (no redirects followed)."""
        headers = {"Accept-Language": accept_language}
        if cookie is not None:
            headers["Cookie"] = f"{STATE_COOKIE}={cookie}"
        request = urllib.request.Request(self.server.url + path, headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return Page(response.status, response.read().decode(), dict(response.headers.items()))
        except urllib.error.HTTPError as exc:
            return Page(exc.code, exc.read().decode(), dict(exc.headers.items()))

    def start_install(self, accept_language: str = "en-US") -> tuple[str, str]:
        """Open the install page; returns the state in its Add to Slack link and the state cookie."""
        page = self.get("/slack/install", accept_language=accept_language)
        assert page.status == 200, page.body
        authorize = sorted({h for h in links(page.body) if h.startswith("https://slack.com/oauth/v2/authorize")})
        assert len(authorize) == 1, links(page.body)  # the same button, in each language
        query = parse_qs(urlsplit(authorize[0]).query)
        assert query["client_id"] == [CLIENT_ID]
        assert set(query["scope"][0].split(",")) >= {"chat:write", "commands", "users:read"}
        cookie = page.cookie()
        assert cookie and cookie == query["state"][0]
        return query["state"][0], cookie

    def install(
        self,
        team_id: str | None = None,
        *,
        enterprise_id: str | None = None,
        user: str = ALICE,
        accept_language: str = "en-US",
    ) -> Page:
        """The whole flow: install page, Slack's consent (a code), back to the redirect URL with the cookie."""
        state, cookie = self.start_install(accept_language)
        code = self.cloud.authorize(
            team_id=team_id, enterprise_id=enterprise_id, user=user, org_install=team_id is None
        )
        welcomed = self.welcomes() if self.runtime is not None else 0
        page = self.get("/slack/oauth_redirect?" + urlencode({"code": code, "state": state}), cookie=cookie)
        if page.status == 200 and self.runtime is not None:
            # the welcome goes out from a thread of its own: let it, before the test's own messages are counted
            wait_until(lambda: self.welcomes() > welcomed, what="the installer's welcome sent")
        return page

    def welcomes(self) -> int:
        """Welcome messages sent so far."""
        return self.count(
            select(func.count()).where(col(OutboxItem.kind) == "welcome.dm", col(OutboxItem.state) == "sent")
        )

    def bot(self, fake: FakeSlack, *, org_install: bool = False) -> Bot:
        """A test handle for one workspace: requests from it, signed as Slack signs them."""
        driver = SlackDriver(
            self.server.url + "/slack/events",
            SIGNING_SECRET,
            fake,
            team_id=fake.team_id,
            api_app_id=self.cloud.app_id,
            enterprise_id=fake.enterprise_id,
            org_install=org_install,
        )
        return Bot(self.runtime, self.server, driver, fake, self.clock, self.worker)

    def count(self, stmt: Any) -> int:
        """A count from the database."""
        with self.runtime.services.session_scope() as s:
            return int(s.scalar(stmt) or 0)


@pytest.fixture
def cloud() -> Iterator[FakeSlackCloud]:
    """Slack: two workspaces with the same people and channel names, and a Grid org of two more."""
    with FakeSlackCloud(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as slack:
        slack.add_workspace("T_ACME", name="Acme", domain="acme")
        slack.add_workspace("T_BETA", name="Beta & Co <b>", domain="beta")
        slack.add_workspace("T_SALES", name="Org Sales", domain="org-sales", enterprise_id="E_ORG")
        slack.add_workspace("T_OPS", name="Org Ops", domain="org-ops", enterprise_id="E_ORG")
        yield slack
        for fake in slack.workspaces():
            assert not fake.validation_errors, fake.validation_errors


@pytest.fixture
def deployment(database_url: str, cloud: FakeSlackCloud, clock: FixedClock) -> Iterator[Deployment]:
    """coordbot with OAuth (no bot token), serving and working in one process."""
    settings = Settings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        signing_secret=SIGNING_SECRET,
        database_url=database_url,
        slack_api_url=cloud.api_url,
        response_urls=cloud.base_url + "/response/",
        inbox_poll=0.02,
        tz="Asia/Shanghai",
        work_hours="00:00-23:59",
        work_days="mon-sun",
    )
    assert settings.oauth and not settings.missing_for_run()
    runtime = build_runtime(settings, clock=clock)
    serving = build_serving(runtime, claim=True)
    server = Server(serving.app, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0).start_background()
    try:
        yield Deployment(runtime, server, cloud, clock, serving.worker)
    finally:
        server.shutdown(wait=False)
        serving.worker.stop()
        runtime.engine.dispose()


def dm_texts(fake: FakeSlack, user: str) -> list[str]:
    """Texts of the messages the bot sent to a person's DM in one workspace."""
    return [
        str(c.params.get("text"))
        for c in fake.calls("chat.postMessage")
        if c.params.get("channel") == user and c.response and c.response.get("ok")
    ]


def test_add_to_slack_installs_welcomes_the_installer_in_their_language_and_serves_the_workspace(
    deployment: Deployment, cloud: FakeSlackCloud
) -> None:
    acme = cloud.workspace("T_ACME")
    page = deployment.install("T_ACME", user=ALICE, accept_language="zh-CN,zh;q=0.9")
    assert page.status == 200, page.body
    assert "Acme" in page.body and "/invite @coordbot" in page.body
    assert page.cookie() == "deleted"  # the state cookie is cleared
    exchange = cloud.calls("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].error is None
    # the installer, and only the installer, is welcomed: Alice's Slack locale is zh-CN
    wait_until(lambda: dm_texts(acme, ALICE), what="the welcome message")
    welcome = [c for c in acme.calls("chat.postMessage") if c.params.get("channel") == ALICE]
    assert len(welcome) == 1 and "coordbot" in str(welcome[0].params["text"])
    assert re.search(r"[\u4e00-\u9fff]", str(welcome[0].params["text"]))
    assert dm_texts(acme, BOB) == []
    with deployment.runtime.services.session_scope() as s:
        row = s.get(Workspace, "T_ACME")
        assert row is not None and row.state == "active" and row.installer_id == ALICE and row.name == "Acme"
    # the workspace is served with its own token
    sheet = create_sheet(deployment.bot(acme))
    assert "RW-2026-001" in str(sheet.get("text")) or "RW-2026-001" in repr(sheet.get("blocks"))
    assert {c.headers.get("Authorization") for c in acme.calls("chat.postMessage")} == {
        f"Bearer {cloud.token_for(team_id='T_ACME')}"
    }


def test_install_refuses_a_replayed_a_foreign_and_an_expired_state_and_explains_a_cancel(
    deployment: Deployment, cloud: FakeSlackCloud
) -> None:
    state, cookie = deployment.start_install()
    code = cloud.authorize(team_id="T_ACME")
    done = deployment.get("/slack/oauth_redirect?" + urlencode({"code": code, "state": state}), cookie=cookie)
    assert done.status == 200
    # the same state again (a replayed redirect): refused, nothing exchanged
    again = deployment.get(
        "/slack/oauth_redirect?" + urlencode({"code": cloud.authorize(team_id="T_BETA"), "state": state}),
        cookie=cookie,
    )
    assert again.status == 401 and "/slack/install" in links(again.body)
    # a state from another browser (no cookie, or someone else's)
    state2, _ = deployment.start_install()
    other = deployment.get(
        "/slack/oauth_redirect?" + urlencode({"code": cloud.authorize(team_id="T_BETA"), "state": state2}),
        cookie="someone-elses",
    )
    assert other.status == 400
    # an install started too long ago
    state3, cookie3 = deployment.start_install()
    with deployment.runtime.engine.begin() as conn:
        conn.execute(text("UPDATE slack_oauth_states SET expire_at = '2000-01-01 00:00:00'"))
    late = deployment.get(
        "/slack/oauth_redirect?" + urlencode({"code": cloud.authorize(team_id="T_BETA"), "state": state3}),
        cookie=cookie3,
    )
    assert late.status == 401
    # the person pressed Cancel on Slack's consent page
    cancel = deployment.get("/slack/oauth_redirect?error=access_denied&state=x", cookie="x")
    assert cancel.status == 200 and "cancel" in cancel.body.lower()
    assert len(cloud.calls("oauth.v2.access")) == 1  # only the first install reached Slack
    assert deployment.count(select(func.count()).select_from(slack_bots)) == 1
    for refused in (again, other, late, cancel):
        assert "Traceback" not in refused.body


def test_two_workspaces_side_by_side_share_nothing(deployment: Deployment, cloud: FakeSlackCloud) -> None:
    acme, beta = cloud.workspace("T_ACME"), cloud.workspace("T_BETA")
    assert deployment.install("T_ACME", user=ALICE).status == 200
    assert deployment.install("T_BETA", user=BOB).status == 200
    in_acme, in_beta = deployment.bot(acme), deployment.bot(beta)
    sheet_a = create_sheet(in_acme, goal="Acme's goal")
    sheet_b = create_sheet(in_beta, goal="Beta's goal")
    with deployment.runtime.services.session_scope() as s:
        rows = {r.team_id: r for r in s.scalars(select(Requirement)).all()}
    assert set(rows) == {"T_ACME", "T_BETA"}
    assert rows["T_ACME"].code == rows["T_BETA"].code == "RW-2026-001"  # numbering restarts per workspace
    # each workspace's due work carries it, and goes out with its own token
    assert deployment.count(select(func.count()).where(col(OutboxItem.team_id) == "T_ACME")) > 0
    assert deployment.count(select(func.count()).where(col(OutboxItem.team_id) == "T_BETA")) > 0
    report = deployment.runtime.tick(rows["T_ACME"].confirm_by - timedelta(hours=1))
    assert report.sent >= 4 and report.failed == 0, report.errors
    for fake, mine, theirs in ((acme, "Acme", "Beta"), (beta, "Beta", "Acme")):
        reminders = [t for t in dm_texts(fake, BOB) if "RW-2026-001" in t]
        assert len(reminders) == 1, dm_texts(fake, BOB)
        everything = repr([c.params for c in fake.calls()])
        assert mine + "'s goal" in everything and theirs + "'s goal" not in everything
    # a ✅ in Beta signs only Beta's sheet, even where the channel and the message ts look the same
    in_beta.slack.react("white_check_mark", channel=GENERAL, ts=sheet_b["ts"], user=BOB)
    wait_until(lambda: len(beta.calls("chat.update")) >= 1, what="Beta's sheet updated")
    in_acme.slack.react("white_check_mark", channel=GENERAL, ts=sheet_b["ts"], user=BOB)  # not Acme's message
    in_acme.slack.react("white_check_mark", channel=GENERAL, ts=sheet_a["ts"], user=ALICE)
    wait_until(lambda: len(acme.calls("chat.update")) >= 1, what="Acme's sheet updated")
    with deployment.runtime.services.session_scope() as s:
        a, b = (s.scalars(select(Requirement).where(col(Requirement.team_id) == t)).one() for t in ("T_ACME", "T_BETA"))
        assert a.message_ts == sheet_a["ts"] and b.message_ts == sheet_b["ts"]
    signed = {c.params["channel"] + c.params["ts"] + str(id(f)) for f in (acme, beta) for c in f.calls("chat.update")}
    assert len(signed) == 2
    # looking a record up by its code finds the workspace's own
    in_beta.slack.slash("/requirement", "RW-2026-001", user=BOB)
    shown = wait_until(lambda: [c for c in beta.calls("response_url") if "RW-2026-001" in repr(c.params)], what="shown")
    assert "Beta's goal" in repr(shown[-1].params) and "Acme's goal" not in repr(shown[-1].params)


def test_uninstall_holds_due_work_and_a_reinstall_resumes_it(deployment: Deployment, cloud: FakeSlackCloud) -> None:
    acme, beta = cloud.workspace("T_ACME"), cloud.workspace("T_BETA")
    deployment.install("T_ACME")
    deployment.install("T_BETA")
    create_sheet(deployment.bot(acme))
    create_sheet(deployment.bot(beta))
    with deployment.runtime.services.session_scope() as s:
        due = s.scalars(select(Requirement).where(col(Requirement.team_id) == "T_ACME")).one().confirm_by
    cloud.revoke(team_id="T_ACME")
    # Slack sends both events; in either order they leave the same state
    handle = deployment.bot(acme)
    assert handle.slack.tokens_revoked(bot_ids=["U_BOT"]).status == 200
    assert handle.slack.uninstall().status == 200

    def stopped() -> bool:
        with deployment.runtime.services.session_scope() as s:
            row = s.get(Workspace, "T_ACME")
            return row is not None and row.state == "uninstalled"

    wait_until(stopped, what="Acme marked uninstalled")
    assert deployment.count(select(func.count()).select_from(slack_bots).where(text("team_id = 'T_ACME'"))) == 0
    held = deployment.count(
        select(func.count()).where(col(OutboxItem.team_id) == "T_ACME", col(OutboxItem.state) == "held")
    )
    assert held > 0
    before = len(acme.calls())
    report = deployment.runtime.tick(due - timedelta(hours=1))
    assert report.failed == 0 and len(acme.calls()) == before  # nothing sent to (or tried in) Acme
    assert [t for t in dm_texts(beta, BOB) if "RW-2026-001" in t]  # Beta carries on
    gone = deployment.runtime.services.workspaces.get("T_ACME")
    assert gone is not None and gone.reason in ("tokens_revoked", "app_uninstalled")
    # records are kept for export; a re-install resumes the held work with the new token
    assert deployment.count(select(func.count()).where(col(Requirement.team_id) == "T_ACME")) == 1
    assert deployment.install("T_ACME", user=BOB).status == 200
    wait_until(lambda: dm_texts(acme, BOB), what="the welcome message to the one who installed it again")
    report = deployment.runtime.tick(due - timedelta(hours=1))
    assert report.sent >= 2 and report.failed == 0, report.errors
    assert [t for t in dm_texts(acme, BOB) if "RW-2026-001" in t]  # the held reminder, with the new token
    assert (
        deployment.count(
            select(func.count()).where(col(OutboxItem.team_id) == "T_ACME", col(OutboxItem.state) == "held")
        )
        == 0
    )


def test_an_org_wide_install_serves_every_workspace_of_the_org(deployment: Deployment, cloud: FakeSlackCloud) -> None:
    sales, ops = cloud.workspace("T_SALES"), cloud.workspace("T_OPS")
    page = deployment.install(enterprise_id="E_ORG", user=ALICE)
    assert page.status == 200, page.body
    wait_until(lambda: dm_texts(sales, ALICE) or dm_texts(ops, ALICE), what="the installer welcomed")
    in_sales, in_ops = deployment.bot(sales, org_install=True), deployment.bot(ops, org_install=True)
    create_sheet(in_sales, goal="Sales goal")
    create_sheet(in_ops, goal="Ops goal")
    with deployment.runtime.services.session_scope() as s:
        rows = {r.team_id: r for r in s.scalars(select(Requirement)).all()}
        known = {w.team_id: (w.enterprise_id, w.org_install) for w in s.scalars(select(Workspace)).all()}
    assert set(rows) == {"T_SALES", "T_OPS"} and {r.code for r in rows.values()} == {"RW-2026-001"}
    assert known["T_SALES"] == known["T_OPS"] == ("E_ORG", True)
    report = deployment.runtime.tick(rows["T_SALES"].confirm_by - timedelta(hours=1))
    assert report.failed == 0 and report.held == 0, report.errors
    token = cloud.token_for(enterprise_id="E_ORG")
    for fake, team in ((sales, "T_SALES"), (ops, "T_OPS")):
        reminders = [c for c in fake.calls("chat.postMessage") if c.params.get("channel") == BOB]
        assert reminders, f"no reminder in {team}"
        assert {c.headers.get("Authorization") for c in reminders} == {f"Bearer {token}"}
        assert {c.params.get("team_id") for c in reminders} == {team}  # the org's token says where it acts


def test_in_a_channel_shared_between_two_workspaces_of_the_org_both_owners_sign(
    deployment: Deployment, cloud: FakeSlackCloud
) -> None:
    sales, ops = cloud.workspace("T_SALES"), cloud.workspace("T_OPS")
    for fake in (sales, ops):  # listed in both workspaces; Slack holds it once (the cloud routes calls to Sales)
        fake.set_channel("C_SHARED", name="sales-ops", bot_is_member=True)
    cloud.share_channel("C_SHARED", "T_SALES", "T_OPS")
    deployment.install(enterprise_id="E_ORG", user=ALICE)
    sheet = create_sheet(deployment.bot(sales, org_install=True), channel="C_SHARED")  # Alice asks, from Sales
    # Bob signs from Ops: the event comes from his workspace, the record lives in Sales
    reply = deployment.bot(ops, org_install=True).slack.react(
        "white_check_mark", channel="C_SHARED", ts=sheet["ts"], user=BOB
    )
    assert reply.status == 200, reply.body
    deployment.bot(sales, org_install=True).slack.react(
        "white_check_mark", channel="C_SHARED", ts=sheet["ts"], user=ALICE
    )

    def confirmed() -> bool:
        with deployment.runtime.services.session_scope() as s:
            return s.scalars(select(Requirement)).one().status == "confirmed"

    wait_until(confirmed, what="both owners' signatures")
    with deployment.runtime.services.session_scope() as s:
        assert s.scalars(select(Requirement)).one().team_id == "T_SALES"


def test_a_workspace_digest_uploads_its_chart_with_its_own_token(deployment: Deployment, cloud: FakeSlackCloud) -> None:
    acme = cloud.workspace("T_ACME")
    deployment.install("T_ACME")
    in_acme = deployment.bot(acme)
    assert in_acme.slack.slash("/action", "<@U_BOB> write the launch post in 3 days", user=ALICE).status == 200
    wait_until(lambda: deployment.count(select(func.count()).select_from(ActionItem)), what="the action item")
    post_now(in_acme, user=ALICE)
    done = wait_until(lambda: acme.calls("files.completeUploadExternal"), what="the chart shared")
    assert done[-1].error is None
    (chart,) = [f for f in acme.uploaded_files() if f.completed]
    assert chart.data and chart.data.startswith(b"\x89PNG") and chart.channel == GENERAL
    assert cloud.workspace("T_BETA").calls() == []


def test_forgotten_rows_of_a_workspace_never_installed_are_held_not_failed(
    deployment: Deployment, cloud: FakeSlackCloud
) -> None:
    deployment.install("T_ACME")
    create_sheet(deployment.bot(cloud.workspace("T_ACME")))
    with deployment.runtime.services.session_scope() as s:
        s.execute(update(OutboxItem).values(team_id="T_NOWHERE"))
        due = s.scalars(select(Requirement)).one().confirm_by
    report = deployment.runtime.tick(due)
    assert report.failed == 0 and report.held > 0


def test_coordbot_run_with_client_credentials_installs_and_works_in_its_worker_process(
    tmp_path: Path, cloud: FakeSlackCloud
) -> None:
    acme = cloud.workspace("T_ACME")
    proc, url = start_run(
        tmp_path / "multi.db",
        bot_token="",
        signing_secret=SIGNING_SECRET,
        api_url=cloud.api_url,
        env={"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET},
        output=(tmp_path / "run.log").open("w"),
    )
    try:
        browser = Deployment(
            runtime=None,  # type: ignore[arg-type]  # only the HTTP side is used
            server=SimpleNamespace(url=url),  # type: ignore[arg-type]
            cloud=cloud,
            clock=FixedClock(),
            worker=None,
        )
        assert browser.install("T_ACME", user=BOB).status == 200
        wait_until(lambda: dm_texts(acme, BOB), timeout=15, what="the welcome message from the worker process")
        driver = SlackDriver(url + "/slack/events", SIGNING_SECRET, acme, team_id="T_ACME", api_app_id=cloud.app_id)
        assert driver.slash("/requirement", "", user=BOB).status == 200
        opened = acme.wait_for("views.open", timeout=15)
        assert opened[-1].error is None
        assert opened[-1].headers.get("Authorization") == f"Bearer {cloud.token_for(team_id='T_ACME')}"
        # a workspace coordbot was never installed in is not served
        beta = SlackDriver(url + "/slack/events", SIGNING_SECRET, cloud.workspace("T_BETA"), team_id="T_BETA")
        beta.slash("/requirement", "", user=BOB)
        assert cloud.workspace("T_BETA").calls("views.open") == []
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    log = (tmp_path / "run.log").read_text()
    assert CLIENT_SECRET not in log and "xoxb-" not in log


def test_installs_need_http_mode_and_both_client_credentials() -> None:
    runner = CliRunner()
    both = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET, "SLACK_BOT_TOKEN": ""}
    socket = runner.invoke(main, ["run"], env={**both, "SLACK_APP_TOKEN": "xapp-1", "SLACK_SIGNING_SECRET": "s"})
    assert socket.exit_code == 2 and "Socket Mode" in socket.output and "HTTP" in socket.output
    half = runner.invoke(
        main, ["run"], env={"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": ""}
    )
    assert half.exit_code == 2 and "SLACK_CLIENT_SECRET" in half.output
    assert Settings.from_env(both).oauth and not Settings.from_env({**both, "SLACK_BOT_TOKEN": "xoxb-1"}).oauth


@pytest.mark.processes
def test_sigkill_of_every_process_mid_burst_loses_nothing_answered_in_an_installed_workspace(
    tmp_path: Path, cloud: FakeSlackCloud, database_url: str
) -> None:
    """With tokens from installs, as with one token: every submission answered 200 becomes exactly one sheet,
    posted with the workspace's own token, after every process of `coordbot run` was SIGKILLed mid-burst."""
    acme = cloud.workspace("T_ACME")
    log = (tmp_path / "run.log").open("a")
    env = {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "COORDBOT_INBOX_LEASE_SECONDS": "2",
        "COORDBOT_WORKERS": "2",
    }

    def start() -> tuple[subprocess.Popen[str], str]:
        return start_run(
            database_url,
            bot_token="",
            signing_secret=SIGNING_SECRET,
            api_url=cloud.api_url,
            env=env,
            new_session=True,
            output=log,
        )

    proc, url = start()
    try:
        browser = Deployment(None, SimpleNamespace(url=url), cloud, FixedClock(), None)  # type: ignore[arg-type]
        assert browser.install("T_ACME", user=ALICE).status == 200
        slack = SlackDriver(url + "/slack/events", SIGNING_SECRET, acme, team_id="T_ACME", api_app_id=cloud.app_id)
        before = len(acme.calls("views.open"))
        assert slack.slash("/requirement", "", user=ALICE).status == 200
        view = dict(acme.wait_for("views.open", before + 1, timeout=10)[-1].params["view"])

        def kill_all() -> None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

        answered = burst(
            lambda i: slack.submit_view({**SHEET_VALUES, "goal": f"Burst goal {i}"}, user=ALICE, view=view),
            120,
            kill_at=60,
            kill=kill_all,
        )
        assert len(answered) >= 60
        proc, url = start()  # the same database: what the dead processes left is taken again
        engine = make_engine(database_url)
        try:
            wanted = {f"Burst goal {i}" for i in answered}
            crash_wait(lambda: wanted <= {r.goal for r in crash_records(engine) if r.message_ts}, "all posted")
            crash_wait(lambda: not crash_pending(engine), "the inbox to empty")
            rows = crash_records(engine)
        finally:
            engine.dispose()
        by_goal = Counter(r.goal for r in rows)
        assert max(by_goal.values()) == 1 and all(by_goal[g] == 1 for g in wanted)
        assert {r.team_id for r in rows} == {"T_ACME"}
        shown = crash_sheets(acme)
        assert set(shown) == {f"requirement:{r.id}" for r in rows} and set(shown.values()) == {1}
        token = f"Bearer {cloud.token_for(team_id='T_ACME')}"
        assert {c.headers.get("Authorization") for c in acme.calls("chat.postMessage")} == {token}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
