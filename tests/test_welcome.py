"""A new install: the Add to Slack pages, the installer's first DM and the App Home's intro, in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from slack_sdk.models.views import View

from bot import text
from bot.catalog import welcome as catalog
from bot.text import EN, ZH, placeholders
from handlers import install_pages as pages
from handlers.blocks import welcome as wb
from handlers.blocks.home import Ids as HomeIds
from tests.helpers import leftovers, strings
from tests.test_builders import mrkdwn, validate_blocks, validate_view

HOSTILE = '<script>alert("x")</script> & <!channel> Co'
AUTHORIZE = "https://slack.com/oauth/v2/authorize?client_id=1.2&scope=chat:write,commands&state=abc"
HOME = "slack://app?team=T0001&id=A0001&tab=home"
HOME_HTTPS = "https://slack.com/app_redirect?app=A0001&team=T0001"
INSTALL = "https://coordbot.example.com/slack/install"
CJK = re.compile(r"[\u4e00-\u9fff]")
BOLT_REASONS = ("access_denied", "invalid_state", "missing_state", "invalid_browser", "missing_code", "invalid_code")


# -- the catalog ----------------------------------------------------------------------------------------------


def test_both_languages_have_every_key_with_the_same_placeholders() -> None:
    assert set(catalog.EN) == set(catalog.ZH)
    assert all(key.startswith(("welcome.", "install.")) for key in catalog.EN)
    assert {k: placeholders(v) for k, v in catalog.EN.items()} == {k: placeholders(v) for k, v in catalog.ZH.items()}
    assert catalog.EN.items() <= EN.items() and catalog.ZH.items() <= ZH.items()  # registered in FEATURES
    assert [k for k, v in catalog.ZH.items() if not CJK.search(v) and v != catalog.EN[k]] == []  # really translated


# -- Block Kit ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_welcome_dm_validates_and_says_what_coordbot_does(lang: str) -> None:
    fallback, blocks = wb.welcome_dm(lang, installer="U0ALICE", team_name="Acme", home_url=HOME)
    dicts = validate_blocks(blocks)
    body = "\n".join(mrkdwn(dicts))
    assert "<@U0ALICE>" in body and "Acme" in fallback and "Acme" in body
    for command in ("/requirement", "/meeting", "/action", "/incident", "/digest", "/invite @coordbot"):
        assert command in body
    for key in wb.DOES:
        assert text.t(lang, key) in body
    buttons = [e for d in dicts if d["type"] == "actions" for e in d["elements"]]
    assert [(b["url"], b["action_id"], b["text"]["text"]) for b in buttons] == [
        (HOME, HomeIds.OPEN, text.t(lang, "welcome.open_home"))
    ]  # a link button whose click the App Home's listener already acknowledges


def test_the_welcome_dm_escapes_the_team_name_and_a_name_that_is_not_a_user_id() -> None:
    fallback, blocks = wb.welcome_dm("en", installer="<!here> Bob", team_name=HOSTILE, home_url=HOME_HTTPS)
    texts = [fallback, *mrkdwn(validate_blocks(blocks))]
    joined = "\n".join(texts)
    assert "&lt;script&gt;" in joined and "&lt;!here&gt; Bob" in joined and "&amp;" in joined
    for raw in ("<script>", "<!channel>", "<!here>", " & "):
        assert raw not in joined


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_home_intro_is_a_few_lines_that_fit_a_home_tab(lang: str) -> None:
    blocks = wb.home_intro(lang)
    view = validate_view(View(type="home", blocks=blocks))
    assert [b["type"] for b in view["blocks"]] == ["section", "context"]
    lines = [line for s in mrkdwn(view) for line in s.splitlines()]
    assert len(lines) <= 8
    for command in ("/requirement", "/meeting", "/action", "/incident", "/digest"):
        assert sum(line.startswith(f"`{command}") for line in lines) == 1


PSEUDO = "xx"


@pytest.fixture
def pseudo_catalog() -> Iterator[None]:
    """A catalog whose every string is bracketed, so catalog text can be told from anything else."""
    text.CATALOG[PSEUDO] = {key: "⟦" + value + "⟧" for key, value in text.EN.items()}
    yield
    del text.CATALOG[PSEUDO]


@pytest.mark.usefixtures("pseudo_catalog")
def test_no_block_text_bypasses_the_catalog() -> None:
    fallback, blocks = wb.welcome_dm(PSEUDO, installer="U0ALICE", team_name="①②③", home_url=HOME)
    found = [fallback, *strings([b.to_dict() for b in blocks]), *strings([b.to_dict() for b in wb.home_intro(PSEUDO)])]
    assert len(found) >= 8
    assert leftovers(found) == []


# -- the web pages --------------------------------------------------------------------------------------------


class Page(HTMLParser):
    """What a page is made of: its tags with attributes, and its visible text by the language section it is in."""

    VOID = frozenset({"meta", "link", "img", "br", "hr", "input", "path"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, list[str]] = {}
        self.stack: list[tuple[str, str]] = []  # open elements, each with the language it is in

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag not in self.VOID:
            self.stack.append((tag, a.get("lang") or (self.stack[-1][1] if self.stack else "")))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and self.stack and self.stack[-1][0] not in ("style", "title"):
            self.texts.setdefault(self.stack[-1][1], []).append(data.strip())

    def of(self, tag: str) -> list[dict[str, str]]:
        return [a for name, a in self.tags if name == tag]

    def sections(self) -> list[str]:
        return [a["lang"] for a in self.of("section")]

    def links(self) -> list[str]:
        return [a["href"] for a in self.of("a")]


def parse(document: str) -> Page:
    assert document.startswith("<!doctype html>\n")
    page = Page()
    page.feed(document)
    page.close()
    assert page.stack == []  # every element closed
    assert page.of("meta")[0] == {"charset": "utf-8"} and page.of("title") and page.of("style")
    assert any(a.get("name") == "viewport" for a in page.of("meta"))  # responsive
    for tag in ("script", "img", "link", "iframe", "object", "embed"):
        assert page.of(tag) == [], tag  # nothing loaded or run
    return page


def only_given_urls(document: str, *urls: str) -> None:
    """Every http(s) address in the page is one it was given (no remote image, font or script)."""
    rest = document
    for url in urls:
        rest = rest.replace(pages.html.escape(url), "")
    assert re.findall(r"https?:", rest) == []
    assert "src=" not in rest and "url(" not in rest and "@import" not in rest


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ("en", "zh")),
        ("", ("en", "zh")),
        ("zh-CN,zh;q=0.9,en;q=0.8", ("zh", "en")),
        ("zh-TW", ("zh", "en")),
        ("ZH-hans-CN", ("zh", "en")),
        ("en-US,en;q=0.9,zh-CN;q=0.8", ("en", "zh")),
        ("en;q=0.5, zh;q=0.9", ("zh", "en")),  # by quality, not by order
        ("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", ("zh", "en")),  # the first language coordbot speaks
        ("fr-FR,de", ("en", "zh")),
        ("zh;q=0, en", ("en", "zh")),  # q=0: not acceptable
        ("zh;q=nonsense,en;q=0.1", ("en", "zh")),
        ("*", ("en", "zh")),
        ("zhx,xzh", ("en", "zh")),
    ],
)
def test_the_browser_s_language_comes_first(header: str | None, expected: tuple[str, str]) -> None:
    assert pages.preferred_langs(header) == expected


@pytest.mark.parametrize(("header", "first"), [("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9", "zh")])
def test_the_install_page_offers_add_to_slack_in_both_languages(header: str, first: str) -> None:
    document = pages.install_page(AUTHORIZE, header)
    page = parse(document)
    assert f'<html lang="{first}">' in document
    assert page.sections() == [first, "zh" if first == "en" else "en"]
    assert page.links() == [AUTHORIZE, AUTHORIZE]  # the button, in each language
    assert page.of("svg")  # Slack's mark, drawn inline
    for lang in ("en", "zh"):
        visible = page.texts[lang]
        assert text.t(lang, "install.title") in visible and text.t(lang, "install.button") in visible
        assert sum(text.t(lang, f"install.point.{p}") in visible for p in ("signoff", "meetings", "follow")) == 3
    assert " · ".join(text.t(lang, "install.title") for lang in page.sections()) in document  # <title>
    only_given_urls(document, AUTHORIZE)


def test_the_install_page_escapes_its_url() -> None:
    hostile = 'https://slack.com/oauth/v2/authorize?state="><script>x</script>'
    page = parse(pages.install_page(hostile, None))
    assert page.links() == [hostile, hostile] and page.of("script") == []


@pytest.mark.parametrize("home_url", [HOME, HOME_HTTPS])
def test_the_success_page_names_the_team_escaped_and_says_what_next(home_url: str) -> None:
    document = pages.success_page(team_name=HOSTILE, app_home_url=home_url, accept_language="zh-CN")
    page = parse(document)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;!channel&gt; Co" in document
    assert "<script>" not in document and page.of("script") == []
    assert page.sections() == ["zh", "en"] and page.links() == [home_url, home_url]
    for lang in ("en", "zh"):
        visible = " ".join(page.texts[lang])
        assert HOSTILE in visible  # shown as the text it is
        assert "/invite @coordbot" in visible and "/requirement" in visible
        assert text.t(lang, "install.done.dm") in visible and text.t(lang, "install.done.home") in visible
    assert [c for c in re.findall(r"<code>(.*?)</code>", document)] == ["/invite @coordbot", "/requirement"] * 2
    only_given_urls(document, home_url)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_failure_reason_has_its_own_human_message(lang: str) -> None:
    assert set(BOLT_REASONS) | {"storage_error"} == set(pages.REASONS)
    messages = {reason: pages.failure_message(lang, reason) for reason in (*pages.REASONS, "something_else")}
    assert len(set(messages.values())) == len(messages)  # distinct, the generic one included
    for reason, message in messages.items():
        assert reason not in message and "_" not in message  # words, not a code
        assert len(message) > 15 and (CJK.search(message) if lang == "zh" else not CJK.search(message))
    assert pages.failure_message(lang, "invalid_team_for_non_distributed_app") == messages["something_else"]


@pytest.mark.parametrize("reason", [*pages.REASONS, "invalid_scope"])
def test_the_failure_page_says_why_and_offers_to_try_again(reason: str) -> None:
    document = pages.failure_page(reason=reason, install_url=INSTALL, accept_language="en-GB,zh;q=0.5")
    page = parse(document)
    assert page.sections() == ["en", "zh"] and page.links() == [INSTALL, INSTALL]
    for lang in ("en", "zh"):
        visible = page.texts[lang]
        assert pages.failure_message(lang, reason) in visible
        assert text.t(lang, "install.failed.retry") in visible and reason in visible  # the code, for whoever helps
    only_given_urls(document, INSTALL)


def test_the_failure_page_escapes_and_cuts_a_reason_from_the_query_string() -> None:
    hostile = "<img src=https://evil.example/x onerror=alert(1)>" + "x" * 500
    document = pages.failure_page(reason=hostile, install_url="/slack/install", accept_language=None)
    page = parse(document)
    assert page.of("img") == [] and "&lt;img src=" in document
    assert page.links() == ["/slack/install", "/slack/install"]
    codes = re.findall(r"<code>(.*?)</code>", document)
    assert len(codes) == 2 and all(len(pages.html.unescape(c)) == pages.CODE_MAX for c in codes)
    assert pages.failure_message("en", hostile) == text.t("en", "install.reason.other")


@pytest.fixture
def bracketed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both catalogs bracketed, so the pages' catalog text can be told from anything else."""
    for lang in ("en", "zh"):
        monkeypatch.setitem(text.CATALOG, lang, {k: "⟦" + v + "⟧" for k, v in text.CATALOG[lang].items()})


@pytest.mark.usefixtures("bracketed")
def test_no_page_text_bypasses_the_catalog() -> None:
    documents = [
        pages.install_page(AUTHORIZE, None),
        pages.success_page(team_name="①②③", app_home_url=HOME, accept_language=None),
        pages.failure_page(reason="①②③", install_url=INSTALL, accept_language="zh"),
    ]
    found = []
    for document in documents:
        page = parse(document)
        found += [s for lang in ("en", "zh") for s in page.texts[lang]]
        title = re.search(r"<title>(.*)</title>", document)
        assert title is not None
        found.append(pages.html.unescape(title[1]))
    # a catalog text split by its placeholder's element (<code>, <strong>) leaves bracketed pieces
    stitched = [re.sub(r"^[^⟦⟧]*⟧|⟦[^⟦⟧]*$", "", s) for s in found]
    commands = re.compile(r"/invite @coordbot|/requirement")
    assert leftovers([commands.sub("", s) for s in stitched]) == []
