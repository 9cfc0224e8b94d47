"""The sandbox in a real browser: the whole walkthrough, and what a Slack app's developer checks in the page.

Headless Chromium (the system's) driven by Playwright, against `coordbot demo`'s sandbox and coordbot itself
(uvicorn, the inbox and its worker, a SQLite file), as a newcomer would use it.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from slack_sdk import WebClient
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View

from handlers.sandbox import company
from handlers.sandbox import demo as sandbox_demo
from handlers.sandbox.walkthrough import ALICE, BOB, WAIT_MS, Person, walk
from tests.helpers import wait_until
from tests.test_sandbox import Page as Api

pytestmark = pytest.mark.browser


@pytest.fixture
def person(demo: sandbox_demo.Demo, page: Page) -> Person:
    someone = Person(page, demo.sandbox.base_url)
    someone.open()
    return someone


def test_the_walkthrough(demo: sandbox_demo.Demo, page: Page) -> None:
    shots: list[str] = []
    walk(demo.sandbox.base_url, page, lambda language, name: shots.append(f"{language}-{name}"))
    pictures = ["modal", "sheet", "reminder", "confirmed", "home", "digest", "incident"]
    assert shots == [f"en-{p}" for p in pictures] + [f"zh-{p}" for p in pictures if p != "confirmed"]
    # what the page showed is what coordbot stored
    sheets = [m for m in demo.sandbox.messages(company.PRODUCT) if "RW-" in json.dumps(m.get("blocks") or [])]
    assert sheets and "Confirmed" in json.dumps(sheets[0]["blocks"])


def test_a_required_field_left_empty_is_marked_in_the_modal_and_nothing_is_sent(person: Person) -> None:
    person.be(ALICE)
    person.go("general")
    person.say("general", "/requirement")
    modal = person.modal("Requirement sheet")
    before = len(person.page.locator("#calls li").all())
    modal.get_by_role("button", name="Post").click()
    errors = modal.get_by_role("alert")
    expect(errors.first).to_contain_text("Please complete this required field.", timeout=WAIT_MS)
    expect(modal.get_by_label("Background")).to_have_attribute("aria-invalid", "true")
    assert len(person.page.locator("#calls li").all()) == before  # Slack's client did not send it
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()


def test_coordbot_s_field_errors_show_inline_and_keep_what_was_typed(person: Person) -> None:
    person.be(ALICE)
    person.go("general")
    person.say("general", "/action")
    modal = person.modal(re.compile("action item", re.IGNORECASE))
    what = modal.get_by_role("textbox").first
    what.fill("Send the budget plan")
    due = modal.get_by_label(re.compile("Due", re.IGNORECASE)).first
    due.fill("someday maybe")
    modal.get_by_role("button", name=re.compile("Create|Save|Submit")).click()
    expect(modal.get_by_role("alert").first).to_be_visible(timeout=WAIT_MS)
    expect(what).to_have_value("Send the budget plan")


def test_messages_show_their_json_and_the_api_log_lists_every_call(person: Person, demo: sandbox_demo.Demo) -> None:
    person.be(ALICE)
    person.go("general")
    person.say("general", "/requirement help")
    help_text = person.message("/requirement")
    expect(help_text).to_contain_text("Only visible to you")
    person.say("general", "<script>window.pwned = 1</script> **hello** & <b>bold</b>")
    typed = person.message("<script>")
    expect(typed).to_contain_text("<script>window.pwned = 1</script>")
    assert person.page.evaluate("window.pwned === undefined")
    # coordbot's own message, with its JSON
    person.say("general", "/digest now")
    digest = person.message("Weekly digest")
    digest.hover()
    digest.get_by_role("button", name="View JSON").click()
    shown = json.loads(digest.locator("pre").inner_text())
    stored = next(m for m in demo.sandbox.messages("C_GENERAL") if m.get("blocks"))
    assert shown["blocks"] == stored["blocks"]
    # the API log
    person.page.get_by_role("button", name=re.compile("Web API calls")).click()
    calls = person.page.get_by_role("region", name="Web API calls")
    expect(calls).to_contain_text("chat.postMessage")
    # someone else does not see Alice's ephemeral help
    person.be(BOB)
    person.go("general")
    expect(person.messages().filter(has_text="Only visible to you")).to_have_count(0)


def test_a_message_becomes_an_action_item_from_its_menu(person: Person) -> None:
    person.be(BOB)
    person.go("general")
    person.say("general", "Could someone draft the rollout checklist?")
    message = person.message("rollout checklist")
    message.hover()
    message.get_by_role("group", name="Message actions").get_by_role("button", name="More actions").click()
    person.page.get_by_role("menuitem", name="Create action item").click()
    modal = person.modal("New action item")
    expect(modal.get_by_label("What is to be done")).to_have_value("Could someone draft the rollout checklist?")
    modal.get_by_label("Owner", exact=True).select_option(label=ALICE)
    modal.get_by_label("Due", exact=True).fill("next Friday")
    modal.get_by_role("button", name="Create").click()
    expect(modal).to_be_hidden(timeout=WAIT_MS)
    card = person.message(re.compile(r"ACT-\d{4}-\d{3}"))
    expect(card).to_contain_text("Could someone draft the rollout checklist?")


def test_the_app_home_pages_through_many_items(person: Person, demo: sandbox_demo.Demo) -> None:
    api = Api(demo.sandbox.base_url)
    for n in range(1, 13):
        typed = f"/action @alice Task {n} in 3 days"  # always ahead, whatever today is
        answer = api.post("send", {"as": "U_ALICE", "channel": "C_GENERAL", "text": typed})
        assert answer == {"ok": True}, answer
    wait_until(lambda: len([m for m in demo.sandbox.messages("C_GENERAL") if "ACT-" in str(m.get("blocks"))]) == 12)
    person.be(ALICE)
    person.go("Home")
    home = person.page.locator("#home")
    expect(home).to_contain_text("Showing 1–10 of 12", timeout=WAIT_MS)
    home.get_by_role("button", name="Show more (2 more)").click()
    expect(home).to_contain_text("Showing 11–12 of 12", timeout=WAIT_MS)
    expect(home).to_contain_text("Task 12")


def test_a_thread_opens_beside_the_channel_and_takes_replies(person: Person) -> None:
    person.be(BOB)
    person.go("general")
    person.say("general", "Launch moves to Thursday")
    message = person.message("Launch moves to Thursday")
    message.hover()
    message.get_by_role("button", name="Reply in thread").click()
    thread = person.page.get_by_role("complementary", name="Thread")
    expect(thread).to_be_visible()
    reply = thread.get_by_role("textbox", name="Reply to thread")
    reply.fill("Noted, 收到")
    reply.press("Enter")
    expect(thread.locator("li").filter(has_text="Noted, 收到")).to_be_visible(timeout=WAIT_MS)
    expect(message.get_by_role("button", name="1 reply")).to_be_visible(timeout=WAIT_MS)
    expect(person.messages().filter(has_text="Noted, 收到")).to_have_count(0)  # replies stay in the thread


def test_a_pushed_view_lies_on_top_and_closing_it_shows_the_first_as_left(
    person: Person, demo: sandbox_demo.Demo
) -> None:
    person.be(ALICE)
    person.go("general")
    person.say("general", "/requirement")
    first = person.modal("Requirement sheet")
    first.get_by_label("Background").fill("Typed before the push")
    parent = demo.sandbox.open_modals("U_ALICE")[-1]
    pushed = View(
        type="modal",
        callback_id="pushed",
        title="A second step",
        close="Back",
        blocks=[SectionBlock(text="Pushed on top of the sheet.")],
    ).to_dict()
    client = WebClient(token=sandbox_demo.BOT_TOKEN, base_url=demo.sandbox.api_url)
    client.views_push(trigger_id=demo.sandbox.new_trigger_id(user="U_ALICE", view_id=parent["id"]), view=pushed)
    second = person.modal("A second step")
    expect(second).to_contain_text("Pushed on top of the sheet.")
    second.get_by_role("button", name="Back").click()
    first = person.modal("Requirement sheet")
    expect(first.get_by_label("Background")).to_have_value("Typed before the push")
