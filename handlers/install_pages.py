"""The web pages of "Add to Slack": install, success and failure, each in English and Chinese on one page.

Pure functions returning whole HTML documents. Every interpolated value (catalog text included) goes through
`html.escape`; the pages load nothing from elsewhere (no remote images, fonts or scripts), so they render the
same behind any proxy and leak nothing to third parties.
"""

from __future__ import annotations

import html
import logging
import re

from bot.text import t

logger = logging.getLogger(__name__)

LANGS = ("en", "zh")
REASONS = (
    "access_denied",  # the user pressed Cancel on Slack's consent screen
    "invalid_state",
    "missing_state",
    "invalid_browser",  # the state cookie is missing: finished in another browser, or cookies blocked
    "missing_code",
    "invalid_code",
    "storage_error",
)
"""Failure reasons with their own message (Bolt's OAuthFlow, or Slack's `error`); any other gets a generic one."""
CODE_MAX = 100  # an unknown reason is shown as given (it comes from the query string), cut to this
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in HTML text
_MARK = re.compile(r"\x00(\d+)\x00")

_SLACK_MARK = (
    '<svg class="mark" viewBox="0 0 122.8 122.8" aria-hidden="true" focusable="false">'
    '<path fill="#e01e5a" d="M25.8 77.6c0 7.1-5.8 12.9-12.9 12.9S0 84.7 0 77.6s5.8-12.9 12.9-12.9h12.9v12.9z'
    'm6.5 0c0-7.1 5.8-12.9 12.9-12.9s12.9 5.8 12.9 12.9v32.3c0 7.1-5.8 12.9-12.9 12.9s-12.9-5.8-12.9-12.9V77.6z"/>'
    '<path fill="#36c5f0" d="M45.2 25.8c-7.1 0-12.9-5.8-12.9-12.9S38.1 0 45.2 0s12.9 5.8 12.9 12.9v12.9H45.2z'
    'm0 6.5c7.1 0 12.9 5.8 12.9 12.9s-5.8 12.9-12.9 12.9H12.9C5.8 58.1 0 52.3 0 45.2s5.8-12.9 12.9-12.9h32.3z"/>'
    '<path fill="#2eb67d" d="M97 45.2c0-7.1 5.8-12.9 12.9-12.9s12.9 5.8 12.9 12.9-5.8 12.9-12.9 12.9H97V45.2z'
    'm-6.5 0c0 7.1-5.8 12.9-12.9 12.9s-12.9-5.8-12.9-12.9V12.9C64.7 5.8 70.5 0 77.6 0s12.9 5.8 12.9 12.9v32.3z"/>'
    '<path fill="#ecb22e" d="M77.6 97c7.1 0 12.9 5.8 12.9 12.9s-5.8 12.9-12.9 12.9-12.9-5.8-12.9-12.9V97h12.9z'
    'm0-6.5c-7.1 0-12.9-5.8-12.9-12.9s5.8-12.9 12.9-12.9h32.3c7.1 0 12.9 5.8 12.9 12.9s-5.8 12.9-12.9 12.9H77.6z"/>'
    "</svg>"
)

_STYLE = """
:root { color-scheme: light dark; }
* { box-sizing: border-box; }
body { margin: 0; background: #f8f8f8; color: #1d1c1d; line-height: 1.55;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
main { max-width: 40rem; margin: 0 auto; padding: 2rem 1.25rem; }
section { background: #fff; border: 1px solid #e2e2e2; border-radius: 8px; padding: 1.5rem; margin-bottom: 1.25rem; }
h1 { font-size: 1.5rem; line-height: 1.3; margin: 0 0 .75rem; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
ul { padding-left: 1.25rem; margin: .5rem 0 1.25rem; }
li { margin: .3rem 0; }
p { margin: .5rem 0; overflow-wrap: anywhere; }
.lead { font-size: 1.1rem; }
.muted { color: #616061; font-size: .9rem; }
code { background: #f2f2f2; border: 1px solid #e2e2e2; border-radius: 3px; padding: 0 .3em; font-size: .95em; }
.button { display: inline-flex; align-items: center; justify-content: center; gap: .75rem; min-height: 48px;
  max-width: 100%; padding: 0 1.5rem; border: 1px solid #ddd; border-radius: 4px; background: #fff; color: #000;
  font-size: 1rem; font-weight: 600; text-decoration: none; }
.button:hover, .button:focus-visible { box-shadow: 0 1px 4px rgba(0, 0, 0, .2); }
.button.primary { background: #4a154b; border-color: #4a154b; color: #fff; }
.mark { width: 20px; height: 20px; flex: none; }
@media (max-width: 30rem) { main { padding: 1rem .75rem; } section { padding: 1.1rem; } .button { width: 100%; } }
@media (prefers-color-scheme: dark) {
  body { background: #1a1d21; color: #d1d2d3; }
  section { background: #222529; border-color: #35373b; }
  .muted { color: #9a9b9d; }
  code { background: #2c2d30; border-color: #35373b; }
}
"""


def preferred_langs(accept_language: str | None) -> tuple[str, ...]:
    """("zh", "en") when the browser prefers Chinese to English (by q-value, then order), else ("en", "zh")."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        primary = tag.lower().split("-")[0]
        if primary not in LANGS:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, primary))
    first = min(ranked)[2] if ranked else "en"
    return (first, *(lang for lang in LANGS if lang != first))


def _text(lang: str, key: str, **fragments: str) -> str:
    """Catalog text as HTML: the text escaped, each placeholder filled with a fragment that is already HTML."""
    names = list(fragments)
    escaped = html.escape(t(lang, key, **{name: f"\x00{i}\x00" for i, name in enumerate(names)}))
    return _MARK.sub(lambda m: fragments[names[int(m[1])]], escaped)  # one pass: a fragment is never rescanned


def _user(text: str) -> str:
    """User text (a team name, a reason from the query string) as HTML text."""
    return html.escape(_CONTROL.sub("", text))


def _code(text: str) -> str:
    return f"<code>{_user(text)}</code>"


def _link(href: str, label: str, *, primary: bool = False, mark: bool = False) -> str:
    cls = "button primary" if primary else "button"
    return f'<a class="{cls}" href="{html.escape(href)}">{_SLACK_MARK if mark else ""}<span>{label}</span></a>'


def _document(langs: tuple[str, ...], title: str, sections: dict[str, str]) -> str:
    """A whole page: one section per language, the preferred one first."""
    body = "\n".join(f'<section lang="{lang}">\n{sections[lang]}\n</section>' for lang in langs)
    return (
        "<!doctype html>\n"
        f'<html lang="{langs[0]}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def install_page(authorize_url: str, accept_language: str | None) -> str:
    """The "Add coordbot to Slack" page: what it does and the button to Slack's consent screen, in both languages."""
    langs = preferred_langs(accept_language)
    sections = {
        lang: "\n".join(
            [
                f"<h1>{_text(lang, 'install.title')}</h1>",
                f'<p class="lead">{_text(lang, "install.lead")}</p>',
                "<ul>",
                *(f"<li>{_text(lang, f'install.point.{p}')}</li>" for p in ("signoff", "meetings", "follow")),
                "</ul>",
                f"<p>{_link(authorize_url, _text(lang, 'install.button'), mark=True)}</p>",
                f'<p class="muted">{_text(lang, "install.note")}</p>',
            ]
        )
        for lang in langs
    }
    return _document(langs, " · ".join(_text(lang, "install.title") for lang in langs), sections)


def success_page(*, team_name: str, app_home_url: str, accept_language: str | None) -> str:
    """The page after a successful install: where coordbot now is, what to do next, a link to its App Home."""
    langs = preferred_langs(accept_language)
    team = f"<strong>{_user(team_name)}</strong>"
    sections = {
        lang: "\n".join(
            [
                f"<h1>{_text(lang, 'install.done.title', team=team)}</h1>",
                f"<h2>{_text(lang, 'install.done.next')}</h2>",
                "<ul>",
                f"<li>{_text(lang, 'install.done.invite', command=_code('/invite @coordbot'))}</li>",
                f"<li>{_text(lang, 'install.done.try', command=_code('/requirement'))}</li>",
                f"<li>{_text(lang, 'install.done.dm')}</li>",
                "</ul>",
                f"<p>{_link(app_home_url, _text(lang, 'install.done.home'), primary=True)}</p>",
            ]
        )
        for lang in langs
    }
    title = " · ".join(_text(lang, "install.done.title", team=_user(team_name)) for lang in langs)
    return _document(langs, title, sections)


def failure_message(lang: str, reason: str) -> str:
    """Why the installation failed, in words (plain text): one message per known reason, a generic one otherwise."""
    return t(lang, f"install.reason.{reason if reason in REASONS else 'other'}")


def failure_page(*, reason: str, install_url: str, accept_language: str | None) -> str:
    """The page after a failed install: why, in words, the reason's code, and a link to start again."""
    langs = preferred_langs(accept_language)
    code = _code(reason[:CODE_MAX])
    sections = {
        lang: "\n".join(
            [
                f"<h1>{_text(lang, 'install.failed.title')}</h1>",
                f'<p class="reason">{html.escape(failure_message(lang, reason))}</p>',
                f"<p>{_link(install_url, _text(lang, 'install.failed.retry'), primary=True)}</p>",
                f'<p class="muted">{_text(lang, "install.failed.code", code=code)}</p>',
            ]
        )
        for lang in langs
    }
    return _document(langs, " · ".join(_text(lang, "install.failed.title") for lang in langs), sections)
