"""A Feishu store app: one deployment serving every organization that installs it, each with its own token.

Feishu pushes the app a ticket (about hourly, and when asked); lark-oapi gets the app's token with it, then each
tenant's token. The fake Feishu plays a store app's Feishu: it issues tokens only for the current ticket and
installed tenants, and records which tenant's token each call carried.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from lark_oapi.core.token import TokenManager
from sqlalchemy import select
from sqlmodel import col

from bot.app import Runtime
from bot.config import ConfigError, Settings
from bot.messenger import Platform
from handlers.sandbox.feishu_api import FakeFeishu
from handlers.sandbox.feishu_driver import FeishuDriver
from handlers.sandbox.slack_api import FakeSlack
from storage.models import OutboxItem
from storage.models import Workspace as WorkspaceRow
from tests.conftest import SIGNING_SECRET, FixedClock
from tests.helpers import wait_until
from tests.test_feishu import served

ENCRYPT_KEY = "store-encrypt-key"
TOKEN = "store-verification-token"
APP_ID = "cli_store"
TENANTS = {"tenant_a": ("ou_a_lei", "ou_a_mei", "oc_a_team"), "tenant_b": ("ou_b_lei", "ou_b_mei", "oc_b_team")}


@dataclass
class Store:
    """A store app installed by two organizations, served over HTTP callbacks."""

    runtime: Runtime
    fake: FakeFeishu
    drivers: dict[str, FeishuDriver]
    clock: FixedClock

    def one_liner(self, tenant: str) -> None:
        """`@coordbot 行动项 @梅 提交预算方案 下周五前` in the tenant's group, by its first person."""
        creator, owner, chat = TENANTS[tenant]
        driver = self.drivers[tenant]
        delivery = driver.message(
            "@_user_1 行动项 @_user_2 提交预算方案 下周五前",
            user=creator,
            chat=chat,
            mentions=[driver.bot_mention(), ("@_user_2", owner, "梅")],
        )
        assert delivery.status == 200, delivery

    def sent_to(self, receive_id: str) -> list[str | None]:
        """The tenant of the token each message sent to a chat or person was sent with."""
        return [
            call.tenant
            for call in self.fake.calls("im.message.create")
            if (call.body or {}).get("receive_id") == receive_id and call.status == 200
        ]


def _forget_tokens() -> None:
    """lark-oapi keeps tokens process-wide by app ID: a test starts without another's."""
    TokenManager.cache.set(f"isv_app_token:{APP_ID}", "", 0)
    for tenant in TENANTS:
        TokenManager.cache.set(f"isv_tenant_token:{APP_ID}:{tenant}", "", 0)


@pytest.fixture
def store(database_url: str, clock: FixedClock) -> Iterator[Store]:
    _forget_tokens()
    with FakeSlack() as slack, FakeFeishu(app_id=APP_ID, app_secret="store-secret", marketplace=True) as fake:
        for tenant, (lei, mei, chat) in TENANTS.items():
            fake.install(tenant)
            fake.add_user(lei, "雷")
            fake.add_user(mei, "梅")
            fake.add_chat(chat, f"{tenant} 团队", [lei, mei])
        settings = Settings(
            bot_token=slack.bot_token,
            signing_secret=SIGNING_SECRET,
            database_url=database_url,
            slack_api_url=slack.api_url,
            inbox_poll=0.02,
            tz="Asia/Shanghai",
            lang="zh",
            work_hours="00:00-23:59",
            work_days="mon-sun",
            feishu_app_id=fake.app_id,
            feishu_app_secret=fake.app_secret,
            feishu_verification_token=TOKEN,
            feishu_encrypt_key=ENCRYPT_KEY,
            feishu_domain=fake.url,
            feishu_app_type="store",
        )
        with served(settings, clock) as (runtime, server):
            drivers = {
                tenant: FeishuDriver(
                    server.url,
                    verification_token=TOKEN,
                    encrypt_key=ENCRYPT_KEY,
                    tenant_key=tenant,
                    app_id=APP_ID,
                    fake=fake,
                )
                for tenant in TENANTS
            }
            # Feishu pushes the ticket to the app's callback URL when the app asks for one
            fake.on_ticket_resend = lambda ticket: drivers["tenant_a"].deliver_app_ticket(APP_ID, ticket)
            yield Store(runtime, fake, drivers, clock)
    _forget_tokens()


def test_two_organizations_each_get_their_own_records_and_tokens(store: Store) -> None:
    """The pushed ticket is kept; each organization's one-liner is its ACT-2026-001, its card sent with its own
    token, and the reminders go out with each one's token too."""
    workspaces = store.runtime.services.workspaces
    assert store.drivers["tenant_b"].deliver_app_ticket(APP_ID, store.fake.app_ticket).status == 200
    assert workspaces.app_ticket(Platform.FEISHU, APP_ID) == store.fake.app_ticket
    actions = store.runtime.services.actions
    for tenant in TENANTS:
        store.one_liner(tenant)
    for tenant, (_, owner, chat) in TENANTS.items():
        item = wait_until(lambda t=tenant: actions.by_code(f"feishu:{t}", "ACT-2026-001"), what=f"{tenant}'s item")
        assert (item.owner_id, item.channel_id) == (owner, chat)
        wait_until(lambda c=chat: store.sent_to(c), what=f"{tenant}'s card")
        assert set(store.sent_to(chat)) == {tenant}
    report = store.runtime.tick(store.clock.advance(timedelta(days=8)))  # the owners' reminders, then overdue
    assert report.sent >= 2, report
    for tenant, (_, owner, _) in TENANTS.items():
        assert store.sent_to(owner) and set(store.sent_to(owner)) == {tenant}


def test_without_a_ticket_coordbot_asks_feishu_for_one_and_goes_on(store: Store) -> None:
    """Before the first hourly push (a fresh deployment), the first call cannot get a token: coordbot asks Feishu
    to push the ticket, keeps it, and the request is run again with it."""
    workspaces = store.runtime.services.workspaces
    assert workspaces.app_ticket(Platform.FEISHU, APP_ID) is None
    store.one_liner("tenant_a")
    wait_until(lambda: store.fake.calls("auth.app_ticket.resend"), what="coordbot asking for a ticket")
    wait_until(lambda: workspaces.app_ticket(Platform.FEISHU, APP_ID) == store.fake.app_ticket, what="ticket kept")
    _, _, chat = TENANTS["tenant_a"]
    wait_until(lambda: store.sent_to(chat), timeout=15, what="the card, once the request ran again")
    assert store.runtime.services.actions.by_code("feishu:tenant_a", "ACT-2026-001").channel_id == chat


def test_a_ticket_for_another_app_or_an_unsigned_one_is_not_kept(store: Store) -> None:
    workspaces = store.runtime.services.workspaces
    other = store.drivers["tenant_a"].deliver_app_ticket("cli_someone_else", "forged")
    assert other.status == 200  # verified, from Feishu: answered, and ignored
    assert workspaces.app_ticket(Platform.FEISHU, APP_ID) is None
    driver = store.drivers["tenant_a"]
    body = driver.body_for(driver.app_ticket_event(APP_ID, "forged"))
    unsigned = driver.send(body, {"content-type": "application/json"})
    assert unsigned.status == 401
    assert workspaces.app_ticket(Platform.FEISHU, APP_ID) is None


def test_a_store_app_cannot_take_the_long_connection() -> None:
    with pytest.raises(ConfigError, match="long connection"):
        Settings.from_env(
            {"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": "s", "FEISHU_APP_TYPE": "store", "FEISHU_EVENTS": "ws"}
        )
    settings = Settings.from_env({"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": "s", "FEISHU_APP_TYPE": "store"})
    assert settings.feishu_store and settings.feishu_callbacks
    assert set(settings.missing_for_run()) >= {"FEISHU_ENCRYPT_KEY", "FEISHU_VERIFICATION_TOKEN"}


def app_event(store: Store, tenant: str, kind: str, **fields: object) -> dict[str, object]:
    """A schema 1.0 event about the app's life in an organization, as Feishu pushes it."""
    envelope = store.drivers["tenant_a"].app_ticket_event(APP_ID, "")
    envelope["event"] = {"app_id": APP_ID, "tenant_key": tenant, "type": kind, **fields}
    return envelope


def test_an_organization_installing_stopping_and_starting_the_app(store: Store) -> None:
    """app_open: the organization is a workspace, its installer welcomed with its own token (once, however often
    the event comes); app_status_change stop: its due work is held, not failed; start: it goes out."""
    store.drivers["tenant_a"].deliver_app_ticket(APP_ID, store.fake.app_ticket)
    workspaces = store.runtime.services.workspaces
    store.fake.install("tenant_c")
    store.fake.add_user("ou_c_admin", "管理员")
    opened = app_event(store, "tenant_c", "app_open", installer={"open_id": "ou_c_admin"}, applicants=[])
    driver = store.drivers["tenant_a"]
    assert driver.post(opened).status == 200
    assert driver.post(opened).status == 200  # Feishu delivers again: one install, one welcome
    info = wait_until(lambda: workspaces.get("feishu:tenant_c"), what="the new workspace")
    assert (info.installer_id, info.active) == ("ou_c_admin", True)
    with store.runtime.services.session_scope() as s:
        assert s.get(WorkspaceRow, "feishu:tenant_c").platform == "feishu"
    store.runtime.tick(store.clock())
    wait_until(lambda: store.sent_to("ou_c_admin"), what="the installer's welcome")
    assert store.sent_to("ou_c_admin") == ["tenant_c"]

    store.one_liner("tenant_a")
    actions = store.runtime.services.actions
    item = wait_until(lambda: actions.by_code("feishu:tenant_a", "ACT-2026-001"), what="tenant_a's item")
    _, owner, _ = TENANTS["tenant_a"]
    stopped = app_event(store, "tenant_a", "app_status_change", status="stop_by_tenant", operator={})
    assert driver.post(stopped).status == 200
    wait_until(lambda: not workspaces.is_active("feishu:tenant_a"), what="tenant_a stopped")
    before = len(store.sent_to(owner))
    store.runtime.tick(store.clock.advance(timedelta(days=8)))
    assert len(store.sent_to(owner)) == before  # the reminders wait
    with store.runtime.services.session_scope() as s:
        states = [r.state for r in s.scalars(select(OutboxItem).where(col(OutboxItem.team_id) == "feishu:tenant_a"))]
    assert states and set(states) == {"held"}
    started = app_event(store, "tenant_a", "app_status_change", status="start_by_tenant", operator={})
    assert driver.post(started).status == 200
    wait_until(lambda: workspaces.is_active("feishu:tenant_a"), what="tenant_a started again")
    report = store.runtime.tick(store.clock.advance(timedelta(minutes=1)))
    assert report.sent >= 1, report
    assert len(store.sent_to(owner)) > before and set(store.sent_to(owner)) == {"tenant_a"}
    assert actions.get(item.id).owner_id == owner
