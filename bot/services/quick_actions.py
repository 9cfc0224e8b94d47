"""An action item from one typed line, for every messenger: `/action @Bob send the budget by Friday` on Slack,
`行动项 @李雷 提交预算方案 下周五前` to the bot on Feishu.

The line is read by the core's rules: the owner from the people it mentions, the due time from the phrase that
says when, the rest as what is to be done. A line typed as a reply to a message may leave the title out: the
message it answers is the title, and its context. What is clear becomes the item at once, raised in the channel
it was typed in (an incident's, when typed there); what is not comes back with the reason to say and what was
understood, for the adapter to offer its form prefilled.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.markup import escape, truncate
from bot.messenger import CommandTyped
from bot.people import Member
from bot.services import Services
from bot.services.action_text import QuickAction, parse_quick
from bot.services.actions import MAX_TITLE, ActionDraft, ActionInfo, quick_problem_key


@dataclass(frozen=True)
class QuickAdded:
    """The item made from a line, or why none was: `reason` is a catalog key, said with `reason_params`."""

    item: ActionInfo | None
    understood: QuickAction  # what the line was read as (to prefill the form with)
    reason: str = ""
    reason_params: dict[str, str] | None = None


def add_quick(
    services: Services,
    typed: CommandTyped,
    *,
    members: list[Member],
    tz: str,
    replied: str = "",
    context: str = "",
) -> QuickAdded:
    """Make the item a typed line describes (read in the typist's `tz`, naming `members`), or say why not.
    `replied`: the text of the message the line answers ("" when none); `context`: where that message is,
    shown with the item before its text."""
    now, workday_end = typed.received_at, services.settings.workday_end
    quick = parse_quick(typed.text, now=now, tz=tz, members=members, workday_end=workday_end)
    title = quick.title or (truncate(replied, MAX_TITLE - 10) if quick.problem in (None, "no_title") else "")
    if quick.problem not in (None, "no_title") or not (title and quick.owner_id and quick.due):
        params = {"text": escape(truncate(quick.due_text, 80))}
        return QuickAdded(None, quick, reason=quick_problem_key(quick.problem), reason_params=params)
    (item,) = services.actions.create_many(
        team_id=typed.workspace,
        creator_id=typed.user,
        drafts=[ActionDraft(title=title, owner_id=quick.owner_id, due=quick.due)],
        now=now,
        channel_id=typed.channel,
        context="\n".join(x for x in (context, replied) if x) if replied else "",
        **services.incidents.source_for(typed.channel),
    )
    return QuickAdded(item, quick)


__all__ = ["QuickAdded", "add_quick"]
