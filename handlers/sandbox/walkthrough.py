"""The sandbox's walkthrough in a real browser: what the browser test checks and `coordbot demo --screenshots` shows.

Played in headless Chromium (the system's own browser) with Playwright, step by step as a person would: pick who
you are, type a slash command, fill the modal, react, move the clock, open the App Home. Each step waits for what
it should bring (Playwright's `expect`), so a walkthrough that completes is a walkthrough that worked.
Playwright is needed only here (`pip install 'coordbot[screenshots]'`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

ALICE, BOB, LI_LEI, WANG_FANG = "Alice Chen", "Bob Becker", "李雷", "王芳"
WAIT_MS = 15_000
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "the walkthrough needs Chromium and Playwright for Python: `apt-get install chromium` (Debian/Ubuntu) "
    "and `pip install 'coordbot[screenshots]'`; COORDBOT_CHROMIUM names another Chromium-based browser"
)

Shoot = Callable[[str], None]


class BrowserMissing(RuntimeError):
    """No browser, or no Playwright, to play the walkthrough with."""


def chromium_path() -> str:
    """The system's Chromium (COORDBOT_CHROMIUM first); BrowserMissing when there is none."""
    named = os.environ.get("COORDBOT_CHROMIUM", "").strip()
    if named:
        if not Path(named).exists() and not shutil.which(named):
            raise BrowserMissing(f"COORDBOT_CHROMIUM={named} does not exist; {INSTALL_HINT}")
        return shutil.which(named) or named
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(f"no Chromium found; {INSTALL_HINT}")


@contextmanager
def browser() -> Iterator[Browser]:
    """Headless Chromium, the system's own, under Playwright."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserMissing(f"Playwright for Python is not installed; {INSTALL_HINT}") from exc
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Person:
    """The sandbox page, used as one person at a time would use it."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")

    def open(self) -> None:
        """Load the page and wait for the workspace to show."""
        from playwright.sync_api import expect

        self.page.goto(self.base_url + "/")
        expect(self.page.get_by_label("You are")).to_be_enabled(timeout=WAIT_MS)
        expect(self.page.get_by_role("navigation", name="Conversations").get_by_role("button").first).to_be_visible(
            timeout=WAIT_MS
        )

    def be(self, name: str) -> None:
        """Switch who you are."""
        from playwright.sync_api import expect

        chooser = self.page.get_by_label("You are")
        value = chooser.locator("option", has_text=name).first.get_attribute("value")
        assert value, f"nobody called {name} in the sandbox"
        chooser.select_option(value)
        expect(chooser).to_have_value(value)

    def go(self, conversation: str) -> None:
        """Open a conversation from the sidebar: a channel's name, "coordbot" (the DM) or "Home"."""
        from playwright.sync_api import expect

        nav = self.page.get_by_role("navigation", name="Conversations")
        nav.get_by_role("button", name=re.compile(rf"^\W*{re.escape(conversation)}\b")).first.click()
        expect(self.page.locator("#conv-title")).to_contain_text(conversation)

    def say(self, channel: str, text: str) -> None:
        """Type into the channel's composer and send with Enter."""
        composer = self.page.get_by_role("textbox", name=re.compile(rf"^Message #?{re.escape(channel)}"))
        composer.fill(text)
        composer.press("Enter")

    def modal(self, title: str | re.Pattern[str]) -> Locator:
        """The open modal with this title."""
        from playwright.sync_api import expect

        dialog = self.page.get_by_role("dialog", name=title)
        expect(dialog).to_be_visible(timeout=WAIT_MS)
        return dialog

    def messages(self) -> Locator:
        """The messages of the open conversation."""
        return self.page.locator("#messages > li")

    def message(self, text: str | re.Pattern[str]) -> Locator:
        """The newest message of the open conversation that shows `text`."""
        from playwright.sync_api import expect

        found = self.messages().filter(has_text=text).last
        expect(found).to_be_visible(timeout=WAIT_MS)
        return found

    def react(self, message: Locator, emoji: str) -> None:
        """Add a reaction from the message's toolbar."""
        message.hover()
        message.get_by_role("button", name="Add reaction").click()
        self.page.get_by_role("button", name=emoji).last.click()

    def move_clock(self, phrase: str) -> None:
        """Move the sandbox's time forward with a phrase; wait for the clock to confirm."""
        from playwright.sync_api import expect

        self.page.get_by_label("Move time to").fill(phrase)
        self.page.get_by_label("Move time to").press("Enter")
        expect(self.page.get_by_role("status")).to_contain_text("Moved", timeout=WAIT_MS)

    def shoot(self, path: Path) -> None:
        """A picture of the whole window."""
        self.page.screenshot(path=str(path))


@dataclass(frozen=True)
class Words:
    """What a person of one language reads and types in the walkthrough."""

    sheet_title: str
    post: str
    cancel: str
    labels: dict[str, str]  # the sheet's field -> its label
    values: dict[str, str]  # the sheet's field -> what is typed or chosen
    confirmed: str
    digest: str
    incident_title: str
    declare: str
    incident: dict[str, str]  # label -> what is typed or chosen


ENGLISH = Words(
    sheet_title="Requirement sheet",
    post="Post",
    cancel="Cancel",
    labels={
        "requester_dept": "Requesting department",
        "receiver_dept": "Receiving department",
        "receiver_owner": "Receiver owner",
        "background": "Background",
        "goal": "Core goal (measurable)",
        "description": "Description",
        "priority": "Priority",
        "due": "Expected completion",
        "open_questions": "Open questions",
        "channel": "Post to",
    },
    values={
        "requester_dept": "Marketing",
        "receiver_dept": "Engineering",
        "receiver_owner": BOB,
        "background": "The spring campaign needs its own landing page.",
        "goal": "Sign-ups +20% by March",
        "description": "A landing page with a sign-up form and analytics.",
        "priority": "High",
        "due": "下周五下午3点前",
        "open_questions": "Which analytics tool?",
    },
    confirmed="Confirmed",
    digest="Weekly digest",
    incident_title="Declare an incident",
    declare="Declare",
    incident={"What is broken?": "Checkout API answers 502", "Severity": "SEV2 · Major"},
)
CHINESE = Words(
    sheet_title="需求沟通与确认表",
    post="发布",
    cancel="取消",
    labels={
        "requester_dept": "需求方部门",
        "receiver_dept": "承接方部门",
        "receiver_owner": "承接方负责人",
        "background": "需求背景",
        "goal": "核心目标（可衡量）",
        "description": "具体需求描述",
        "priority": "优先级",
        "due": "期望完成时间",
        "open_questions": "待确认事项",
        "channel": "发布到频道",
    },
    values={
        "requester_dept": "平台部",
        "receiver_dept": "运维部",
        "receiver_owner": WANG_FANG,
        "background": "日志平台的存储一个月后将用满。",
        "goal": "查询延迟 P95 低于 2 秒，存储成本降低 30%",
        "description": "冷热数据分层，90 天前的日志转入对象存储。",
        "priority": "高",
        "due": "下周三下班前",
        "open_questions": "对象存储用哪家？",
    },
    confirmed="已确认",
    digest="每周进展摘要",
    incident_title="启动应急响应",
    declare="启动",
    incident={"出了什么问题？": "支付回调大量超时", "严重程度": "SEV2 · 重大"},
)


def requirement(person: Person, words: Words, *, channel: str, shoot: Shoot) -> str:
    """File a requirement sheet in `channel`: the modal, a date typed in words and its echo; the sheet's ID."""
    from playwright.sync_api import expect

    person.go(channel)
    person.say(channel, "/requirement")
    modal = person.modal(words.sheet_title)
    for field, value in words.values.items():
        control = modal.get_by_label(words.labels[field], exact=True)
        if field in ("receiver_owner", "priority"):
            control.select_option(label=value)
        else:
            control.fill(value)
        if field == "due":  # coordbot reads the date as it is typed and shows what it understood
            expect(modal.locator("[data-block-id=due_echo]")).to_contain_text("→", timeout=WAIT_MS)
    modal.get_by_label(words.labels["channel"], exact=True).select_option(label=f"#{channel}")
    # and the open question: its owner and deadline (numbered as on the sheet)
    expect(modal.locator("[data-block-id=open_questions_echo]")).to_contain_text("1.", timeout=WAIT_MS)
    shoot("modal")
    modal.get_by_role("button", name=words.post, exact=True).click()
    expect(modal).to_be_hidden(timeout=WAIT_MS)
    return record_id(person, "RW")


def record_id(person: Person, prefix: str) -> str:
    """The ID (RW-2026-001) of the newest record of a kind posted in the open conversation."""
    pattern = re.compile(rf"{prefix}-\d{{4}}-\d{{3}}")
    found = pattern.search(person.message(pattern).inner_text())
    assert found, f"no {prefix} record shown"
    return found[0]


def action_item(person: Person, channel: str, command: str) -> str:
    """Create an action item in one line; its ID."""
    person.say(channel, command)
    return record_id(person, "ACT")


def reminder(person: Person, owner: str, question: str) -> None:
    """Move the clock a day at a time until the open question's reminder is in its owner's DM."""
    person.be(owner)
    person.go("coordbot")
    for _ in range(8):
        if person.messages().filter(has_text=question).count():
            break
        person.move_clock("+1 day")
    person.message(question)


def sign(person: Person, channel: str, sheet: str, *owners: str) -> None:
    """Each owner adds ✅ to the sheet."""
    for owner in owners:
        person.be(owner)
        person.go(channel)
        person.react(person.message(sheet), "✅")


def incident(person: Person, words: Words, channel: str) -> None:
    """Declare an incident from `channel`; open the incident's own channel when it appears in the sidebar."""
    from playwright.sync_api import expect

    person.go(channel)
    person.say(channel, "/incident")
    modal = person.modal(words.incident_title)
    for label, value in words.incident.items():
        control = modal.get_by_label(label, exact=True)
        if label in ("Severity", "严重程度"):
            control.select_option(label=value)
        else:
            control.fill(value)
    modal.get_by_role("button", name=words.declare, exact=True).click()
    expect(modal).to_be_hidden(timeout=WAIT_MS)
    nav = person.page.get_by_role("navigation", name="Conversations")
    opened = nav.get_by_role("button", name=re.compile(r"inc-")).last
    expect(opened).to_be_visible(timeout=WAIT_MS)
    opened.click()
    person.message(re.compile(r"INC-\d{4}-\d{3}"))


def walk(base_url: str, page: Page, shoot_as: Callable[[str, str], None]) -> None:
    """The whole walkthrough, in English and in Chinese; `shoot_as(language, name)` where a picture tells the story."""
    from playwright.sync_api import expect

    person = Person(page, base_url)
    person.open()

    def en(name: str) -> None:
        shoot_as("en", name)

    def zh(name: str) -> None:
        shoot_as("zh", name)

    # Alice (New York, English) files a sheet in #product; Bob (Berlin) owns its open question
    person.be(ALICE)
    sheet = requirement(person, ENGLISH, channel="product", shoot=en)
    en("sheet")
    reminder(person, BOB, ENGLISH.values["open_questions"])
    en("reminder")
    sign(person, "product", sheet, BOB, ALICE)
    expect(person.message(sheet)).to_contain_text(ENGLISH.confirmed, timeout=WAIT_MS)
    en("confirmed")
    # an action item in one line, with its date in Chinese words; Alice's App Home lists it
    item = action_item(person, "product", "/action @alice Send the budget plan 下周五前")
    person.go("Home")
    expect(page.locator("#home")).to_contain_text(item, timeout=WAIT_MS)
    en("home")
    person.go("product")
    person.say("product", "/digest now")
    person.message(ENGLISH.digest)
    en("digest")
    incident(person, ENGLISH, "product")
    en("incident")

    # 李雷 (Shanghai, Chinese) in #platform, which coordbot speaks Chinese in
    person.be(LI_LEI)
    person.go("platform")
    person.say("platform", "/digest lang zh")
    sheet = requirement(person, CHINESE, channel="platform", shoot=zh)
    zh("sheet")
    reminder(person, WANG_FANG, CHINESE.values["open_questions"])
    zh("reminder")
    sign(person, "platform", sheet, WANG_FANG, LI_LEI)
    expect(person.message(sheet)).to_contain_text(CHINESE.confirmed, timeout=WAIT_MS)
    item = action_item(person, "platform", "/action @lilei 整理发布检查清单 明天下班前")
    person.go("Home")
    expect(page.locator("#home")).to_contain_text(item, timeout=WAIT_MS)
    expect(page.locator("#home")).to_contain_text(re.compile("[\u4e00-\u9fff]"))
    zh("home")
    person.go("platform")
    person.say("platform", "/digest now")
    person.message(CHINESE.digest)
    zh("digest")
    incident(person, CHINESE, "platform")
    zh("incident")


def take_pictures(directory: Path, *, port: int = 0) -> list[Path]:
    """Play the walkthrough on a fresh sandbox of its own and write its pictures into `directory`."""
    from handlers.sandbox import demo

    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="coordbot-pictures-") as scratch, browser() as chromium:
        running = demo.start(Path(scratch) / "demo.db", port=port, fresh=True)
        try:
            context = chromium.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
            page = context.new_page()

            def shoot(language: str, name: str) -> None:
                path = directory / f"{language}-{name}.png"
                page.screenshot(path=str(path))
                written.append(path)

            walk(running.sandbox.base_url, page, shoot)
            context.close()
        finally:
            running.stop()
    return written
