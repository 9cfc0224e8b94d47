"""The sandbox's Block Kit renderer (handlers/sandbox/static/blockkit.js) in a real browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ChannelMultiSelectElement,
    ChannelSelectElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    ConversationMultiSelectElement,
    ConversationSelectElement,
    DatePickerElement,
    DateTimePickerElement,
    DividerBlock,
    EmailInputElement,
    HeaderBlock,
    ImageBlock,
    ImageElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    RichTextBlock,
    RichTextElementParts,
    RichTextInputElement,
    RichTextListElement,
    RichTextPreformattedElement,
    RichTextQuoteElement,
    RichTextSectionElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UrlInputElement,
    UserMultiSelectElement,
    UserSelectElement,
)

Json = dict[str, Any]
PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACw="  # no network in tests: a 1×1 image inline

# The lab page: the renderer, a small workspace, and hooks that record what the renderer reports.
LAB = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="BASE/blockkit.css"></head>
<body><div id="root"></div>
<script type="module">
import * as bk from "BASE/blockkit.js";
window.bk = bk;
window.actions = [];
window.wheres = [];
window.dispatched = [];
const users = {
  U_ALICE: { name: "alice", real_name: "Alice Chen", display_name: "alice" },
  U_BOB: { name: "bob", real_name: "Bob Li", display_name: "bob" },
  U_CAROL: { name: "carol", real_name: "王卡罗", display_name: "" },
  U_BOT: { name: "coordbot", real_name: "coordbot", is_bot: true },
  U_GONE: { name: "gone", real_name: "Gone Person", deleted: true },
};
const channels = {
  C_GENERAL: { name: "general", kind: "channel" },
  C_RANDOM: { name: "random", kind: "channel" },
  G_LEADS: { name: "leads", kind: "private" },
  D_BOT: { name: "coordbot", kind: "dm", user: "U_BOT" },
};
document.addEventListener("input", () => (window.lastInput = performance.now()), true);
window.ctxFor = (extra = {}) => ({
  viewer: { id: "U_ALICE", tz: "Asia/Shanghai", locale: "zh-CN" },
  users,
  channels,
  onAction(action, where) {
    window.actions.push(action);
    window.wheres.push(where?.tagName?.toLowerCase() ?? null);
  },
  onDispatchInput(blockId, text) {
    window.dispatched.push({ block_id: blockId, text, at: performance.now() });
  },
  ...extra,
  now: extra.now ? new Date(extra.now) : undefined,
});
window.show = (kind, data, extra, opts) => {
  const ctx = window.ctxFor(extra ?? {});
  const render = { blocks: bk.renderBlocks, mrkdwn: bk.renderMrkdwn, text: bk.renderText }[kind];
  const node = kind === "view" ? bk.renderView(data, ctx, opts ?? {}) : render(data, ctx);
  document.getElementById("root").replaceChildren(node);
};
// the markup's shape: tags and text only, to compare renderings compactly
window.shape = (node) =>
  [...node.childNodes]
    .map((n) => {
      if (n.nodeType === Node.TEXT_NODE) return n.textContent;
      if (n.nodeType !== Node.ELEMENT_NODE) return "";
      const tag = n.tagName.toLowerCase();
      return tag === "br" ? "<br>" : `<${tag}>${window.shape(n)}</${tag}>`;
    })
    .join("");
const open = window.open;
window.reset = () => {
  window.actions = [];
  window.wheres = [];
  window.dispatched = [];
  window.open = open;
  delete window.opened;
  delete window.pwned;
  document.querySelectorAll("dialog").forEach((d) => d.remove());
  document.getElementById("root").replaceChildren();
};
window.ready = true;
</script></body></html>"""


@pytest.fixture(scope="module")
def lab_page(chromium: Browser, static_server: str) -> Iterator[Page]:
    """One page for the module with the renderer loaded from the static server (same origin for the import)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(f"{static_server}/blockkit.js")
    tab.set_content(LAB.replace("BASE", static_server))
    tab.wait_for_function("window.ready === true")
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def lab(lab_page: Page) -> Page:
    """The lab page, emptied: nothing rendered, no recorded actions, no dialog open."""
    lab_page.evaluate("window.reset()")
    lab_page.mouse.move(0, 0)
    return lab_page


def show(lab: Page, kind: str, data: Any, ctx: Json | None = None, **opts: Any) -> None:
    """Render blocks / a view / mrkdwn / a text object into #root."""
    lab.evaluate("([kind, data, extra, opts]) => window.show(kind, data, extra, opts)", [kind, data, ctx or {}, opts])


def shape(lab: Page, selector: str = "#root") -> str:
    """The rendered markup as tags and text."""
    return str(lab.evaluate("(sel) => window.shape(document.querySelector(sel))", selector))


def actions(lab: Page) -> list[Json]:
    """What the renderer reported through ctx.onAction, in order."""
    return list(lab.evaluate("window.actions"))


def collect(lab: Page) -> Json:
    """collectValues over #root."""
    return dict(lab.evaluate("window.bk.collectValues(document.getElementById('root'))"))


def subset(action: Json, expected: Json) -> Json:
    """The keys of `action` that `expected` names."""
    return {key: action.get(key) for key in expected}


def unix(when: str) -> int:
    """Unix seconds of an ISO time in UTC."""
    return int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp())


def options(*values: str) -> list[Option]:
    """Options whose labels are "Option <VALUE>"."""
    return [Option(value=v, label=f"Option {v.upper()}") for v in values]


# ---------------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------------


def test_header_is_a_heading_with_emoji(lab: Page) -> None:
    show(lab, "blocks", [HeaderBlock(text=":tada: Launch <day>", block_id="h1").to_dict()])
    heading = lab.get_by_role("heading", name="🎉 Launch <day>")
    assert heading.is_visible()
    block = lab.locator('[data-block-id="h1"]')
    assert block.get_attribute("data-block-type") == "header"
    assert block.get_attribute("class") == "bk-block bk-header"


def test_section_text_and_fields_in_two_columns(lab: Page) -> None:
    fields = [MarkdownTextObject(text=f"*Field {n}*\nvalue {n}") for n in range(1, 5)]
    section = SectionBlock(block_id="s1", text=MarkdownTextObject(text="*Requirement* ready"), fields=fields)
    show(lab, "blocks", [section.to_dict()])
    assert shape(lab, ".bk-section-text") == "<span><b>Requirement</b> ready</span>"
    assert lab.locator(".bk-field").count() == 4
    assert shape(lab, ".bk-field") == "<span><b>Field 1</b><br>value 1</span>"
    columns = lab.locator(".bk-fields").evaluate("el => getComputedStyle(el).gridTemplateColumns.split(' ').length")
    assert columns == 2
    first, second, third = (lab.locator(".bk-field").nth(i).bounding_box() for i in range(3))
    assert first and second and third
    assert first["y"] == second["y"] and second["x"] > first["x"] and third["y"] > first["y"]


def _choose_from_menu(p: Page, item: str) -> None:
    p.get_by_role("button", name="More actions").click()
    p.get_by_role("menuitem", name=item).click()


ACCESSORIES: list[tuple[str, Json, Callable[[Page], object], Json]] = [
    (
        "button",
        ButtonElement(text="Approve", action_id="approve", value="req-1").to_dict(),
        lambda p: p.get_by_role("button", name="Approve").click(),
        {"type": "button", "action_id": "approve", "block_id": "acc", "value": "req-1"},
    ),
    (
        "overflow",
        OverflowMenuElement(action_id="more", options=options("edit", "drop")).to_dict(),
        lambda p: _choose_from_menu(p, "Option DROP"),
        {"type": "overflow", "action_id": "more", "value": "drop", "selected_option": options("drop")[0].to_dict()},
    ),
    (
        "static_select",
        StaticSelectElement(placeholder="Priority", action_id="prio", options=options("low", "high")).to_dict(),
        lambda p: p.get_by_role("combobox", name="Priority").select_option("high"),
        {"type": "static_select", "value": "high", "selected_option": options("high")[0].to_dict()},
    ),
    (
        "users_select",
        UserSelectElement(placeholder="Assignee", action_id="who").to_dict(),
        lambda p: p.get_by_role("combobox", name="Assignee").select_option("U_BOB"),
        {"type": "users_select", "action_id": "who", "value": "U_BOB", "selected_user": "U_BOB"},
    ),
    (
        "conversations_select",
        ConversationSelectElement(placeholder="Where", action_id="where").to_dict(),
        lambda p: p.get_by_role("combobox", name="Where").select_option("G_LEADS"),
        {"type": "conversations_select", "value": "G_LEADS", "selected_conversation": "G_LEADS"},
    ),
    (
        "datepicker",
        DatePickerElement(action_id="due", initial_date="2026-12-04", placeholder="Due date").to_dict(),
        lambda p: p.get_by_label("Due date").fill("2026-12-07"),
        {"type": "datepicker", "action_id": "due", "value": "2026-12-07", "selected_date": "2026-12-07"},
    ),
    (
        "timepicker",
        TimePickerElement(action_id="at", initial_time="09:00").to_dict(),
        lambda p: p.get_by_label("Select a time").fill("14:30"),
        {"type": "timepicker", "value": "14:30", "selected_time": "14:30"},
    ),
    (
        "checkboxes",
        CheckboxesElement(action_id="notify", options=options("email", "sms")).to_dict(),
        lambda p: p.get_by_label("Option SMS").check(),
        {"type": "checkboxes", "value": ["sms"], "selected_options": [options("sms")[0].to_dict()]},
    ),
    (
        "radio_buttons",
        RadioButtonsElement(action_id="freq", options=options("daily", "weekly")).to_dict(),
        lambda p: p.get_by_label("Option WEEKLY").check(),
        {"type": "radio_buttons", "value": "weekly", "selected_option": options("weekly")[0].to_dict()},
    ),
]


@pytest.mark.parametrize(("element", "use", "expected"), [a[1:] for a in ACCESSORIES], ids=[a[0] for a in ACCESSORIES])
def test_section_accessory_reports_its_action(
    lab: Page, element: Json, use: Callable[[Page], object], expected: Json
) -> None:
    show(lab, "blocks", [SectionBlock(block_id="acc", text="Pick", accessory=element).to_dict()])
    assert lab.locator(f'.bk-accessory [data-action-id="{element["action_id"]}"]').count() == 1
    use(lab)
    lab.wait_for_function("window.actions.length > 0")
    got = actions(lab)
    assert len(got) == 1
    assert subset(got[0], expected) == expected
    assert got[0]["block_id"] == "acc"


def test_people_and_conversation_pickers_offer_the_workspace(lab: Page) -> None:
    blocks = [
        ActionsBlock(
            block_id="pick",
            elements=[
                UserSelectElement(placeholder="Person", action_id="u"),
                ConversationSelectElement(placeholder="Conversation", action_id="c"),
                ChannelSelectElement(placeholder="Channel", action_id="ch"),
            ],
        ).to_dict()
    ]
    show(lab, "blocks", blocks)
    texts = "(el) => [...el.options].map((o) => o.value + '=' + o.textContent)"
    people = lab.get_by_role("combobox", name="Person").evaluate(texts)
    assert people == ["=Person", "U_ALICE=Alice Chen", "U_BOB=Bob Li", "U_CAROL=王卡罗"]  # no bot, no deleted user
    conversations = lab.get_by_role("combobox", name="Conversation").evaluate(texts)
    assert conversations == [
        "=Conversation",
        "C_GENERAL=#general",
        "C_RANDOM=#random",
        "G_LEADS=🔒 leads",
        "D_BOT=@coordbot",
    ]
    assert lab.get_by_role("combobox", name="Channel").evaluate(texts) == [
        "=Channel",
        "C_GENERAL=#general",
        "C_RANDOM=#random",
    ]


def test_section_accessory_image(lab: Page) -> None:
    show(
        lab,
        "blocks",
        [SectionBlock(text="Chart", accessory=ImageElement(image_url=PIXEL, alt_text="a chart")).to_dict()],
    )
    image = lab.get_by_role("img", name="a chart")
    assert image.get_attribute("src") == PIXEL
    assert lab.locator(".bk-accessory-image img").count() == 1


def test_context_is_small_and_grey_with_text_and_images(lab: Page) -> None:
    context = ContextBlock(
        block_id="ctx",
        elements=[
            ImageElement(image_url=PIXEL, alt_text="avatar"),
            MarkdownTextObject(text="By <@U_BOB> :pushpin:"),
            PlainTextObject(text="*not bold*"),
        ],
    )
    show(lab, "blocks", [context.to_dict()])
    block = lab.locator('[data-block-type="context"]')
    assert (
        shape(lab, ".bk-context")
        == "<img></img><span><span>By <span>@bob</span> 📌</span></span><span><span>*not bold*</span></span>"
    )
    style = block.evaluate("el => [getComputedStyle(el).fontSize, getComputedStyle(el).color]")
    assert style == ["13px", "rgb(97, 96, 97)"]
    assert lab.get_by_role("img", name="avatar").is_visible()


def test_actions_buttons_have_slack_styles_and_values(lab: Page) -> None:
    block = ActionsBlock(
        block_id="act",
        elements=[
            ButtonElement(text="Approve", action_id="yes", value="1", style="primary"),
            ButtonElement(text="Reject", action_id="no", value="2", style="danger"),
            ButtonElement(text="Later", action_id="later"),
        ],
    )
    show(lab, "blocks", [block.to_dict()])
    colour = "el => getComputedStyle(el).backgroundColor"
    assert lab.get_by_role("button", name="Approve").evaluate(colour) == "rgb(0, 122, 90)"
    assert lab.get_by_role("button", name="Reject").evaluate(colour) == "rgb(224, 30, 90)"
    assert lab.get_by_role("button", name="Later").evaluate(colour) == "rgb(255, 255, 255)"
    assert lab.get_by_role("button", name="Approve").get_attribute("type") == "button"
    for name in ("Reject", "Later"):
        lab.get_by_role("button", name=name).click()
    assert actions(lab) == [
        {"type": "button", "action_id": "no", "block_id": "act", "value": "2"},
        {"type": "button", "action_id": "later", "block_id": "act"},
    ]
    assert lab.evaluate("window.wheres") == ["button", "button"]


def test_a_confirmed_button_fires_once_and_a_cancelled_one_never(lab: Page) -> None:
    confirm = ConfirmObject(
        title="Delete the item?", text="*This* cannot be undone.", confirm="Delete", deny="Keep", style="danger"
    )
    button = ButtonElement(text="Delete", action_id="del", value="42", style="danger", confirm=confirm)
    show(lab, "blocks", [ActionsBlock(block_id="b", elements=[button]).to_dict()])
    lab.get_by_role("button", name="Delete").click()
    dialog = lab.get_by_role("dialog", name="Delete the item?")
    assert dialog.is_visible()
    assert dialog.locator(".bk-dialog-text").inner_text() == "This cannot be undone."
    assert dialog.get_by_role("button", name="Delete").evaluate("el => getComputedStyle(el).backgroundColor") == (
        "rgb(224, 30, 90)"
    )
    dialog.get_by_role("button", name="Keep").click()
    expect(lab.locator("dialog")).to_have_count(0)
    lab.get_by_role("button", name="Delete").click()
    lab.keyboard.press("Escape")
    expect(lab.locator("dialog")).to_have_count(0)
    assert actions(lab) == []
    lab.get_by_role("button", name="Delete").click()
    lab.get_by_role("dialog", name="Delete the item?").get_by_role("button", name="Delete").click()
    expect(lab.locator("dialog")).to_have_count(0)
    assert actions(lab) == [{"type": "button", "action_id": "del", "block_id": "b", "value": "42"}]


def test_selects_in_messages_confirm_and_report_their_choices(lab: Page) -> None:
    confirm = ConfirmObject(title="Change the priority?", text="Everyone is told.", confirm="Change", deny="Keep")
    block = ActionsBlock(
        block_id="sel",
        elements=[
            StaticSelectElement(placeholder="Priority", action_id="prio", options=options("p1", "p2"), confirm=confirm),
            StaticMultiSelectElement(placeholder="Tags", action_id="tags", options=options("ui", "api", "db")),
        ],
    )
    show(lab, "blocks", [block.to_dict()])
    priority = lab.get_by_role("combobox", name="Priority")
    priority.select_option("p1")
    lab.get_by_role("dialog", name="Change the priority?").get_by_role("button", name="Keep").click()
    expect(priority).to_have_value("")  # the old choice is back
    priority.select_option("p2")
    lab.get_by_role("dialog", name="Change the priority?").get_by_role("button", name="Change").click()
    expect(lab.locator("dialog")).to_have_count(0)  # it closes, then reports
    expect(priority).to_have_value("p2")
    lab.get_by_role("listbox", name="Tags").select_option(["api", "db"])
    assert [subset(a, {"action_id": 0, "value": 0}) for a in actions(lab)] == [
        {"action_id": "prio", "value": "p2"},
        {"action_id": "tags", "value": ["api", "db"]},
    ]
    assert actions(lab)[1]["selected_options"] == [o.to_dict() for o in options("api", "db")]


def test_a_link_button_opens_its_url_and_still_reports(lab: Page) -> None:
    lab.evaluate("() => { window.opened = []; window.open = (...args) => void window.opened.push(args); }")
    button = ButtonElement(text="Open doc", action_id="doc", url="https://example.com/doc?a=1")
    show(lab, "blocks", [ActionsBlock(block_id="b", elements=[button]).to_dict()])
    lab.get_by_role("button", name="Open doc").click()
    assert lab.evaluate("window.opened") == [["https://example.com/doc?a=1", "_blank", "noopener,noreferrer"]]
    assert actions(lab) == [{"type": "button", "action_id": "doc", "block_id": "b"}]


def test_overflow_menu_opens_closes_and_reports_the_choice(lab: Page) -> None:
    overflow = OverflowMenuElement(action_id="menu", options=options("edit", "close"))
    show(lab, "blocks", [ActionsBlock(block_id="o", elements=[overflow]).to_dict()])
    toggle = lab.get_by_role("button", name="More actions")
    assert toggle.inner_text() == "⋯" and toggle.get_attribute("aria-haspopup") == "menu"
    menu = lab.get_by_role("menu")
    assert not menu.is_visible()
    toggle.click()
    assert menu.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert lab.get_by_role("menuitem").all_inner_texts() == ["Option EDIT", "Option CLOSE"]
    lab.keyboard.press("Escape")
    assert not menu.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    lab.locator("#root").click(position={"x": 600, "y": 5})  # a click elsewhere closes it
    assert not menu.is_visible()
    assert actions(lab) == []
    toggle.click()
    lab.get_by_role("menuitem", name="Option EDIT").click()
    assert not menu.is_visible()
    assert actions(lab) == [
        {
            "type": "overflow",
            "action_id": "menu",
            "block_id": "o",
            "value": "edit",
            "selected_option": options("edit")[0].to_dict(),
        }
    ]


def test_divider_and_image_blocks(lab: Page) -> None:
    blocks = [
        DividerBlock(block_id="d").to_dict(),
        ImageBlock(block_id="i", image_url=PIXEL, alt_text="Burn-down chart", title="Sprint 12").to_dict(),
        ImageBlock(block_id="bad", image_url="javascript:alert(1)", alt_text="bad").to_dict(),
    ]
    show(lab, "blocks", blocks)
    assert lab.locator('[data-block-id="d"] hr').count() == 1
    assert lab.locator('[data-block-id="i"] figcaption').inner_text() == "Sprint 12"
    assert lab.get_by_role("img", name="Burn-down chart").get_attribute("src") == PIXEL
    assert lab.locator('[data-block-id="bad"] img').get_attribute("src") is None


def test_rich_text_sections_lists_quotes_and_code(lab: Page) -> None:
    parts = RichTextElementParts
    rich = RichTextBlock(
        block_id="rt",
        elements=[
            RichTextSectionElement(
                elements=[
                    parts.Text(text="plain "),
                    parts.Text(text="bold", style={"bold": True}),
                    parts.Text(text=" "),
                    parts.Text(text="it", style={"italic": True}),
                    parts.Text(text=" "),
                    parts.Text(text="gone", style={"strike": True}),
                    parts.Text(text=" "),
                    parts.Text(text="x=1", style={"code": True}),
                    parts.Text(text=" by "),
                    parts.User(user_id="U_BOB"),
                    parts.Text(text=" in "),
                    parts.Channel(channel_id="C_GENERAL"),
                    parts.Text(text=" "),
                    parts.Emoji(name="white_check_mark"),
                    parts.Text(text=" "),
                    parts.Link(url="https://example.com", text="docs"),
                    parts.Text(text=" "),
                    parts.Date(timestamp=unix("2026-12-04T01:00:00"), format="{date_num} {time}", fallback="x"),
                ]
            ),
            RichTextListElement(style="bullet", elements=[RichTextSectionElement(elements=[parts.Text(text="one")])]),
            RichTextListElement(
                style="ordered",
                indent=1,
                elements=[RichTextSectionElement(elements=[parts.Text(text=t)]) for t in ("a", "b")],
            ),
            RichTextQuoteElement(elements=[parts.Text(text="quoted")]),
            RichTextPreformattedElement(elements=[parts.Text(text="line 1\nline 2")]),
        ],
    )
    show(lab, "blocks", [rich.to_dict()])
    assert shape(lab, '[data-block-id="rt"]') == (
        "<div>plain <b>bold</b> <i>it</i> <s>gone</s> <code>x=1</code> by <span>@bob</span> in "
        "<span>#general</span> <span>✅</span> <a>docs</a> <time>2026-12-04 9:00</time></div>"
        "<ul><li>one</li></ul><ol><li>a</li><li>b</li></ol>"
        "<blockquote>quoted</blockquote><pre>line 1<br>line 2</pre>"
    )
    list_styles = lab.locator(".bk-list").evaluate_all("els => els.map((el) => getComputedStyle(el).listStyleType)")
    assert list_styles == ["disc", "lower-alpha"]
    assert lab.get_by_role("link", name="docs").get_attribute("target") == "_blank"


# ---------------------------------------------------------------------------------------------------------------
# Input blocks in views
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """An input element: how it starts, what the person does to it, and what collectValues then reads."""

    kind: str
    element: Json
    control: str  # what the label points at: "input:text", "textarea", "select", "select:multiple", "radiogroup"…
    initial: Any
    use: Callable[[Page], object]
    after: Any
    empty: Any = None


def _fill(text: str) -> Callable[[Page], object]:
    return lambda p: p.get_by_label("Field", exact=True).fill(text)


def _select(*values: str) -> Callable[[Page], object]:
    return lambda p: p.get_by_label("Field", exact=True).select_option(list(values))


def _swap_checks(p: Page) -> None:
    p.get_by_label("Option B").check()
    p.get_by_label("Option A").uncheck()


RICH_INITIAL = RichTextBlock(
    elements=[
        RichTextSectionElement(
            elements=[
                RichTextElementParts.Text(text="Hello "),
                RichTextElementParts.Text(text="bold", style={"bold": True}),
            ]
        )
    ]
)
FIELDS = [
    Field("plain_text_input", PlainTextInputElement(action_id="a", initial_value="Hi").to_dict(), "input:text", "Hi",
          _fill("World"), "World"),
    Field("plain_text_input_multiline", PlainTextInputElement(action_id="a", initial_value="a\nb", multiline=True,
          max_length=50).to_dict(), "textarea", "a\nb", _fill("x\ny"), "x\ny"),
    Field("number_input", NumberInputElement(action_id="a", initial_value=3, is_decimal_allowed=True).to_dict(),
          "input:number", "3", _fill("4.5"), "4.5"),
    Field("email_text_input", EmailInputElement(action_id="a", initial_value="a@example.com").to_dict(), "input:email",
          "a@example.com", _fill("b@example.org"), "b@example.org"),
    Field("url_text_input", UrlInputElement(action_id="a", initial_value="https://a.example").to_dict(), "input:url",
          "https://a.example", _fill("https://b.example/x"), "https://b.example/x"),
    Field("rich_text_input", RichTextInputElement(action_id="a", initial_value=RICH_INITIAL).to_dict(), "textarea",
          "Hello bold", _fill("new text"), "new text"),
    Field("static_select", StaticSelectElement(action_id="a", options=options("a", "b", "c"),
          initial_option=options("b")[0]).to_dict(), "select", "b", _select("c"), "c"),
    Field("multi_static_select", StaticMultiSelectElement(action_id="a", options=options("a", "b", "c"),
          initial_options=options("a")).to_dict(), "select:multiple", ["a"], _select("b", "c"), ["b", "c"], []),
    Field("users_select", UserSelectElement(action_id="a", initial_user="U_BOB").to_dict(), "select", "U_BOB",
          _select("U_CAROL"), "U_CAROL"),
    Field("multi_users_select", UserMultiSelectElement(action_id="a", initial_users=["U_ALICE"]).to_dict(),
          "select:multiple", ["U_ALICE"], _select("U_BOB", "U_CAROL"), ["U_BOB", "U_CAROL"], []),
    Field("conversations_select", ConversationSelectElement(action_id="a", initial_conversation="C_GENERAL").to_dict(),
          "select", "C_GENERAL", _select("G_LEADS"), "G_LEADS"),
    Field("multi_conversations_select", ConversationMultiSelectElement(action_id="a",
          initial_conversations=["D_BOT"]).to_dict(), "select:multiple", ["D_BOT"], _select("C_GENERAL", "G_LEADS"),
          ["C_GENERAL", "G_LEADS"], []),
    Field("channels_select", ChannelSelectElement(action_id="a", initial_channel="C_GENERAL").to_dict(), "select",
          "C_GENERAL", _select("C_RANDOM"), "C_RANDOM"),
    Field("multi_channels_select", ChannelMultiSelectElement(action_id="a", initial_channels=["C_RANDOM"]).to_dict(),
          "select:multiple", ["C_RANDOM"], _select("C_GENERAL"), ["C_GENERAL"], []),
    Field("datepicker", DatePickerElement(action_id="a", initial_date="2026-12-04").to_dict(), "input:date",
          "2026-12-04", _fill("2026-12-07"), "2026-12-07"),
    Field("timepicker", TimePickerElement(action_id="a", initial_time="09:00").to_dict(), "input:time", "09:00",
          _fill("14:30"), "14:30"),
    Field("datetimepicker", DateTimePickerElement(action_id="a", initial_date_time=unix("2026-12-04T02:00:00"))
          .to_dict(), "input:datetime-local", unix("2026-12-04T02:00:00"), _fill("2026-12-07T09:15"),
          unix("2026-12-07T01:15:00")),  # the viewer is in Asia/Shanghai (UTC+8)
    Field("radio_buttons", RadioButtonsElement(action_id="a", options=options("a", "b", "c"),
          initial_option=options("b")[0]).to_dict(), "radiogroup", "b",
          lambda p: p.get_by_label("Option C").check(), "c"),
    Field("checkboxes", CheckboxesElement(action_id="a", options=options("a", "b", "c"),
          initial_options=options("a")).to_dict(), "group", ["a"],
          _swap_checks, ["b"], []),
]  # fmt: skip


def field_view(fields: list[Field], *, initial: bool = True) -> Json:
    """A modal with one input block per field (block_id = the field's kind, label "Field" when alone)."""
    blocks = []
    for f in fields:
        element = f.element if initial else {k: v for k, v in f.element.items() if not k.startswith("initial_")}
        label = "Field" if len(fields) == 1 else f.kind
        blocks.append(InputBlock(block_id=f.kind, label=label, element=element, optional=True).to_dict())
    return {"type": "modal", "callback_id": "lab", "title": {"type": "plain_text", "text": "Lab"}, "blocks": blocks}


@pytest.mark.parametrize("field", FIELDS, ids=[f.kind for f in FIELDS])
def test_each_input_element_is_labelled_starts_initial_and_round_trips(lab: Page, field: Field) -> None:
    show(lab, "view", field_view([field]))
    if field.control in ("radiogroup", "group"):
        control = lab.get_by_role(field.control, name="Field")  # type: ignore[arg-type]
        assert control.evaluate("el => el.tagName") == "FIELDSET"
    else:
        control = lab.get_by_label("Field", exact=True)
        kind = control.evaluate("el => el.tagName.toLowerCase() + (el.multiple ? ':multiple' : '')"
                                " + (el.tagName === 'INPUT' ? ':' + el.type : '')")  # fmt: skip
        assert kind == field.control
    assert control.get_attribute("data-action-id") == "a"
    assert collect(lab) == {field.kind: field.initial}
    field.use(lab)
    assert collect(lab) == {field.kind: field.after}
    assert actions(lab) == []  # input blocks without dispatch_action report nothing as they change


def test_empty_inputs_collect_as_null_or_empty_lists(lab: Page) -> None:
    show(lab, "view", field_view(FIELDS, initial=False))
    assert collect(lab) == {f.kind: f.empty for f in FIELDS}


def test_values_override_the_initial_values(lab: Page) -> None:
    values = {f.kind: f.after for f in FIELDS}
    show(lab, "view", field_view(FIELDS), values=values)
    assert collect(lab) == values
    assert lab.get_by_label("plain_text_input", exact=True).input_value() == "World"


def test_input_text_attributes_placeholders_and_limits(lab: Page) -> None:
    element = PlainTextInputElement(action_id="t", placeholder="Say it :wave:", max_length=20, multiline=True)
    number = NumberInputElement(action_id="n", min_value=1, max_value=9, placeholder="How many")
    show(
        lab,
        "view",
        {
            "type": "modal",
            "blocks": [
                InputBlock(block_id="t", label="Text", element=element).to_dict(),
                InputBlock(block_id="n", label="Count", element=number).to_dict(),
            ],
        },
    )
    text = lab.get_by_label("Text")
    assert [text.get_attribute(a) for a in ("placeholder", "maxlength")] == ["Say it 👋", "20"]
    count = lab.get_by_label("Count")
    assert [count.get_attribute(a) for a in ("placeholder", "min", "max", "step")] == ["How many", "1", "9", "1"]


def test_labels_hints_optional_marker_and_inline_errors(lab: Page) -> None:
    view = {
        "type": "modal",
        "blocks": [
            SectionBlock(text="Fill in *both*").to_dict(),
            InputBlock(
                block_id="title",
                label="Title",
                hint="Keep it short",
                element=PlainTextInputElement(action_id="title", placeholder="What is needed?"),
            ).to_dict(),
            InputBlock(
                block_id="notes",
                label="Notes",
                optional=True,
                element=PlainTextInputElement(action_id="notes", multiline=True),
            ).to_dict(),
            InputBlock(
                block_id="size",
                label="Size",
                element=RadioButtonsElement(action_id="size", options=options("s", "m")),
            ).to_dict(),
        ],
    }
    show(lab, "view", view, errors={"title": "A title is required", "size": "Pick a size"})
    title = lab.get_by_label("Title", exact=True)
    assert title.get_attribute("placeholder") == "What is needed?"
    assert title.get_attribute("aria-invalid") == "true" and title.get_attribute("aria-required") == "true"
    alerts = lab.get_by_role("alert")
    assert alerts.all_inner_texts() == ["A title is required", "Pick a size"]
    described = (title.get_attribute("aria-describedby") or "").split()
    assert alerts.first.get_attribute("id") in described
    assert lab.locator(f"#{described[-1]}").inner_text() == "Keep it short"
    assert lab.locator('[data-block-id="title"] .bk-hint').inner_text() == "Keep it short"
    # the error sits under its own field
    assert lab.locator('[data-block-id="title"] [role="alert"]').count() == 1
    notes = lab.get_by_label("Notes", exact=True)
    assert notes.get_attribute("aria-invalid") is None and notes.get_attribute("aria-required") is None
    assert lab.locator('[data-block-id="notes"] .bk-optional').inner_text() == "(optional)"
    assert lab.locator('[data-block-id="title"] .bk-optional').count() == 0
    assert lab.get_by_label("Option S").get_attribute("aria-invalid") == "true"
    assert lab.get_by_role("radiogroup", name="Size").is_visible()


def test_dispatch_action_reports_typing_after_a_pause(lab: Page) -> None:
    block = InputBlock(
        block_id="search", label="Search", dispatch_action=True, element=PlainTextInputElement(action_id="q")
    )
    show(lab, "view", {"type": "modal", "blocks": [block.to_dict()]})
    lab.get_by_label("Search").press_sequentially("abc", delay=120)  # keys closer together than the pause
    lab.wait_for_function("window.dispatched.length > 0")
    lab.wait_for_timeout(450)
    dispatched = lab.evaluate("window.dispatched")
    assert [(d["block_id"], d["text"]) for d in dispatched] == [("search", "abc")]  # once, not on every key
    assert dispatched[0]["at"] - lab.evaluate("window.lastInput") >= 380  # about 400 ms after the last key
    lab.get_by_label("Search").press_sequentially("d")
    lab.keyboard.press("Enter")  # Enter sends what is pending at once
    assert [d["text"] for d in lab.evaluate("window.dispatched")] == ["abc", "abcd"]
    lab.wait_for_timeout(450)
    assert len(lab.evaluate("window.dispatched")) == 2
    assert actions(lab) == []


def test_a_dispatching_select_in_a_view_reports_a_block_action(lab: Page) -> None:
    block = InputBlock(
        block_id="pick",
        label="Pick",
        dispatch_action=True,
        element=StaticSelectElement(action_id="p", options=options("a", "b")),
    )
    show(lab, "view", {"type": "modal", "blocks": [block.to_dict()]})
    lab.get_by_label("Pick").select_option("b")
    assert [(a["action_id"], a["block_id"], a["value"]) for a in actions(lab)] == [("p", "pick", "b")]


# ---------------------------------------------------------------------------------------------------------------
# mrkdwn and text objects
# ---------------------------------------------------------------------------------------------------------------

MRKDWN = [
    ("*bold* _italic_ ~strike~ `code`", "<b>bold</b> <i>italic</i> <s>strike</s> <code>code</code>"),
    ("*bold with _nested italic_*", "<b>bold with <i>nested italic</i></b>"),
    ("snake_case_name, 2*3*4 and a * b", "snake_case_name, 2*3*4 and a * b"),
    ("*重要*：请在周五前确认", "<b>重要</b>：请在周五前确认"),
    ("`*not bold*`", "<code>*not bold*</code>"),
    ("line one\nline two", "line one<br>line two"),
    ("```\nlet x = *y*;\n  indented\n```", "<pre>let x = *y*;\n  indented</pre>"),
    ("before\n```code```\nafter", "before<pre>code</pre>after"),
    ("&gt; quoted\n&gt; more\nplain", "<blockquote>quoted<br>more</blockquote>plain"),
    ("> typed quote", "<blockquote>typed quote</blockquote>"),
    ("&gt;&gt;&gt; all\nof this", "<blockquote>all<br>of this</blockquote>"),
    ("• one\n- two", "• one<br>- two"),
    ("<https://example.com/a?b=1&amp;c=2|Example> or <https://example.com>", "<a>Example</a> or <a>https://example.com</a>"),
    ("<mailto:bob@example.com|Email Bob>", "<a>Email Bob</a>"),
    ("see https://example.com/x.", "see <a>https://example.com/x</a>."),
    ("<javascript:alert(1)|click>", "click"),
    ("<@U_BOB> <@U_CAROL> <@U_NOBODY> <@U_ALICE>",
     "<span>@bob</span> <span>@王卡罗</span> <span>@U_NOBODY</span> <span>@alice</span>"),
    ("<#C_GENERAL> <#C_NEW|new-room>", "<span>#general</span> <span>#new-room</span>"),
    ("<!here> <!channel> <!subteam^S1|@leads>", "<span>@here</span> <span>@channel</span> <span>@leads</span>"),
    ("a &amp; b &lt;tag&gt; &amp;lt;", "a & b <tag> &lt;"),
    (":white_check_mark: done :+1: :thumbsup::skin-tone-3: :no_such_emoji: 10:30:00",
     "✅ done 👍 👍 :no_such_emoji: 10:30:00"),
    ("a < b > c", "a < b > c"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), MRKDWN, ids=[str(n) for n in range(len(MRKDWN))])
def test_mrkdwn(lab: Page, text: str, expected: str) -> None:
    show(lab, "mrkdwn", text)
    assert shape(lab) == expected


def test_mrkdwn_links_and_mentions_attributes(lab: Page) -> None:
    show(lab, "mrkdwn", "<https://example.com/a?b=1&amp;c=2|Example> <@U_ALICE> <@U_BOB> <#C_GENERAL>")
    anchor = lab.get_by_role("link", name="Example")
    assert [anchor.get_attribute(a) for a in ("href", "target", "rel")] == [
        "https://example.com/a?b=1&c=2",
        "_blank",
        "noopener noreferrer",
    ]
    assert lab.locator(".bk-mention-self").inner_text() == "@alice"  # the viewer's own mention stands out
    assert lab.locator('.bk-mention[data-user-id="U_BOB"]').inner_text() == "@bob"
    assert lab.locator('.bk-channel[data-channel-id="C_GENERAL"]').inner_text() == "#general"


NOW = "2026-12-04T02:00:00Z"  # 10:00 on Friday the 4th in Shanghai; 21:00 on Thursday the 3rd in New York
SHANGHAI = {"viewer": {"id": "U_ALICE", "tz": "Asia/Shanghai", "locale": "zh-CN"}, "now": NOW}
NEW_YORK = {"viewer": {"id": "U_BOB", "tz": "America/New_York", "locale": "en-US"}, "now": NOW}
DATES = [
    # (when, format, in Shanghai zh-CN, in New York en-US)
    ("2026-12-04T15:30:00", "{date_pretty} {time}", "今天 23:30", "Tomorrow 10:30 AM"),
    ("2026-12-04T01:00:00", "{date_num} {date_short_pretty}", "2026-12-04 今天", "2026-12-03 Today"),
    ("2026-12-03T03:00:00", "{date_long_pretty} at {time_secs}", "昨天 at 11:00:00", "Yesterday at 10:00:00 PM"),
    ("2026-12-04T01:00:00", "{date_long}", "2026年12月4日星期五", "Thursday, December 3rd, 2026"),
    ("2026-11-20T01:00:00", "{date} / {date_short}", "2026年11月20日 / 2026年11月20日",
     "November 19th, 2026 / Nov 19, 2026"),
    ("2026-12-04T01:00:00", "{ago}", "1小时前", "1 hour ago"),
]  # fmt: skip


@pytest.mark.parametrize(("when", "fmt", "shanghai", "new_york"), DATES, ids=[d[1] for d in DATES])
def test_dates_show_in_the_viewers_timezone_and_language(
    lab: Page, when: str, fmt: str, shanghai: str, new_york: str
) -> None:
    text = f"<!date^{unix(when)}^{fmt}|fallback>"
    shown = []
    for ctx in (SHANGHAI, NEW_YORK):
        show(lab, "mrkdwn", text, ctx)
        shown.append(lab.locator("time").inner_text().replace("\u202f", " "))
    assert shown == [shanghai, new_york]


def test_date_links_and_fallbacks(lab: Page) -> None:
    show(
        lab,
        "mrkdwn",
        f"<!date^{unix('2026-12-04T01:00:00')}^{{date_num}}^https://example.com/d|fb> <!date^x^{{date}}|Fallback>",
        SHANGHAI,
    )
    assert shape(lab) == "<a><time>2026-12-04</time></a> Fallback"
    assert lab.get_by_role("link").get_attribute("href") == "https://example.com/d"
    assert lab.locator("time").get_attribute("datetime") == "2026-12-04T01:00:00.000Z"


def test_text_objects_and_emoji_flag(lab: Page) -> None:
    show(lab, "text", PlainTextObject(text="*raw* :tada: &amp;", emoji=True).to_dict())
    assert shape(lab) == "<span>*raw* 🎉 &amp;</span>"
    show(lab, "text", {"type": "plain_text", "text": ":tada:", "emoji": False})
    assert shape(lab) == "<span>:tada:</span>"
    show(lab, "text", MarkdownTextObject(text="*md* :tada:").to_dict())
    assert shape(lab) == "<span><b>md</b> 🎉</span>"


REQUIRED_EMOJI = [
    "white_check_mark",
    "heavy_check_mark",
    "x",
    "warning",
    "pushpin",
    "eyes",
    "+1",
    "thumbsup",
    "-1",
    "tada",
    "rotating_light",
    "fire",
    "memo",
    "calendar",
    "spiral_calendar_pad",
    "alarm_clock",
    "hourglass",
    "hourglass_flowing_sand",
    "bell",
    "red_circle",
    "large_green_circle",
    "large_yellow_circle",
    "large_orange_circle",
    "white_circle",
    "black_circle",
    "arrow_right",
    "link",
    "lock",
    "unlock",
    "mag",
    "bulb",
    "question",
    "exclamation",
    "heavy_plus_sign",
    "clipboard",
    "bar_chart",
    "chart_with_upwards_trend",
    "sos",
    "construction",
    "wrench",
    "hammer_and_wrench",
    "speech_balloon",
    "busts_in_silhouette",
    "bust_in_silhouette",
    "inbox_tray",
    "outbox_tray",
    "page_facing_up",
    "scroll",
    "triangular_flag_on_post",
    "checkered_flag",
    "no_entry",
    "stopwatch",
    "zzz",
    "wave",
    "smile",
    "slightly_smiling_face",
    "pray",
    "raised_hands",
    "rocket",
    "sparkles",
    "star",
    "heart",
]


def test_emoji_table(lab: Page) -> None:
    got = lab.evaluate("(names) => names.map((n) => window.bk.emoji(n))", REQUIRED_EMOJI)
    missing = [name for name, char in zip(REQUIRED_EMOJI, got, strict=True) if char.startswith(":")]
    assert missing == []
    assert got[:3] == ["✅", "✔️", "❌"]
    assert lab.evaluate("[window.bk.emoji('no_such_emoji'), window.bk.emoji(':tada:')]") == [":no_such_emoji:", "🎉"]


def test_hostile_text_is_shown_and_never_run(lab: Page) -> None:
    evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    escaped = "&lt;img src=x onerror=window.pwned=3&gt;"
    users = {"U_EVIL": {"name": "evil", "real_name": '<img src=x onerror="window.pwned=4">', "display_name": ""}}
    blocks = [
        HeaderBlock(text=evil).to_dict(),
        SectionBlock(text=MarkdownTextObject(text=f"{evil} {escaped} <@U_EVIL> *<b>x</b>*"), block_id="s").to_dict(),
        ContextBlock(elements=[PlainTextObject(text=evil)]).to_dict(),
        ActionsBlock(
            elements=[
                ButtonElement(text=evil, action_id="b"),
                StaticSelectElement(placeholder=evil, action_id="s", options=[Option(value="v", label=evil)]),
            ]
        ).to_dict(),
    ]
    show(lab, "blocks", blocks, {"users": users})
    lab.wait_for_timeout(200)  # time for any injected image to fail to load and run its onerror
    assert lab.evaluate("window.pwned") is None
    assert lab.locator("#root script, #root img, #root b b").count() == 0
    assert lab.get_by_role("heading").inner_text() == evil
    section = lab.locator('[data-block-id="s"]').inner_text()
    assert section == f"{evil} <img src=x onerror=window.pwned=3> @{users['U_EVIL']['real_name']} <b>x</b>"
    assert lab.get_by_role("button", name=evil).is_visible()


def test_static_server_serves_the_renderer_read_only(page: Page, static_server: str) -> None:
    response = page.goto(f"{static_server}/blockkit.js")
    assert response is not None and response.ok
    assert "javascript" in response.headers["content-type"]  # what a module import needs
    put = "(url) => fetch(url, {method: 'PUT', body: 'x'}).then((r) => r.status)"
    assert page.evaluate(put, f"{static_server}/blockkit.js") == 501
    assert page.evaluate("(url) => fetch(url).then((r) => r.status)", f"{static_server}/../README.md") == 404
