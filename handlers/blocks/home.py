"""Block Kit for the App Home: what awaits the viewer, and their language."""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, Option, SectionBlock, StaticSelectElement
from slack_sdk.models.views import View

from bot.services.requirements import RequirementInfo
from bot.text import t
from handlers.blocks.common import context, date_token, mention, plain, section

MAX_LISTED = 20


class Ids(StrEnum):
    """action_id values the App Home owns."""

    LANGUAGE = "home_language"


def home(lang: str, *, awaiting: list[RequirementInfo], chosen_lang: str | None, tz: str) -> View:
    """The App Home for one viewer."""
    lines = [t(lang, "list.line", code=r.code, status=t(lang, f"status.{r.status.value}"),
               requester=mention(r.requester_owner), receiver=mention(r.receiver_owner),
               when=date_token(r.confirm_by, tz)) for r in awaiting[:MAX_LISTED]]
    options = [Option(value="auto", label=t(lang, "home.lang_auto")),
               Option(value="en", label="English"), Option(value="zh", label="中文")]
    initial = next(o for o in options if o.value == (chosen_lang or "auto"))
    blocks: list[Block] = [
        HeaderBlock(text=plain(t(lang, "home.title"), 150)),
        section(f"*{t(lang, 'list.awaiting_title')}*\n" + ("\n".join(lines) or t(lang, "list.none_awaiting"))),
        DividerBlock(),
        SectionBlock(text=t(lang, "home.lang_label"),
                     accessory=StaticSelectElement(action_id=Ids.LANGUAGE, options=options, initial_option=initial)),
        context(t(lang, "home.help")),
    ]
    return View(type="home", blocks=blocks)
