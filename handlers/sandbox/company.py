"""The sandbox's company: people in Shanghai, New York and Berlin, in Chinese and English, and their channels."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL, FakeSlack

TEAM_NAME = "Acme 协作 (sandbox)"
TEAM_DOMAIN = "acme-sandbox"
EVE = "U_EVE"
FRANK = "U_FRANK"
GRACE = "U_GRACE"
PRODUCT = "C_PRODUCT"
PLATFORM = "C_PLATFORM"
LEADS = "G_LEADS"


@dataclass(frozen=True)
class Person:
    """One member of the sandbox's workspace."""

    id: str
    name: str
    real_name: str
    locale: str
    tz: str


PEOPLE = (
    Person(ALICE, "alice", "Alice Chen", "en-US", "America/New_York"),
    Person(BOB, "bob", "Bob Becker", "en-US", "Europe/Berlin"),
    Person(CAROL, "wangfang", "王芳", "zh-CN", "Asia/Shanghai"),
    Person(DAVE, "lilei", "李雷", "zh-CN", "Asia/Shanghai"),
    Person(EVE, "hanmeimei", "韩梅梅", "zh-CN", "Asia/Shanghai"),
    Person(FRANK, "frank", "Frank Miller", "en-US", "America/New_York"),
    Person(GRACE, "zhangwei", "张伟", "zh-CN", "Europe/Berlin"),
)

CHANNELS = (
    # id, name, private, members (None: everyone)
    (GENERAL, "general", False, None),
    (PRODUCT, "product", False, (ALICE, BOB, CAROL, DAVE, EVE)),
    (PLATFORM, "platform", False, (BOB, DAVE, FRANK, GRACE, CAROL)),
    (LEADS, "leads", True, (ALICE, CAROL, FRANK)),
)


def seed(fake: FakeSlack) -> None:
    """Fill the emulated workspace: its name, the people and the channels, coordbot invited to each."""
    fake.team_name = TEAM_NAME
    fake.team_domain = TEAM_DOMAIN
    for person in PEOPLE:
        fake.add_user(person.id, person.name, real_name=person.real_name, tz=person.tz, locale=person.locale)
    for channel_id, name, private, members in CHANNELS:
        fake.set_channel(channel_id, name=name, members=members, is_private=private, bot_is_member=True)
