"""Being in the channels where records live.

Slack sends the bot `reaction_added` / `reaction_removed` only from conversations it is a member of, and a
bot with `chat:write.public` can post in a public channel without being in it: a sheet posted so could
never be signed with ✅. So before a record people answer with reactions is posted:

- in a public channel the bot is not in, it joins (`conversations.join`); conversations.info is asked at
  most once a minute per channel (handlers.workspace.visibility), and a join is remembered at once;
- in a private channel the bot is not in, nothing is posted: the form refuses the channel (`form_error`),
  and where there was no form the record is kept unposted and its author gets a direct message saying how
  to invite the bot, with a "Post again" button (`post_record`).

When the bot is removed from a channel (`member_left_channel` for the bot, `channel_left`, `group_left`),
the channel is noted (`coordbot status` lists it with its open records) and the people behind each open
record there are told; when it is invited back (`member_joined_channel`), the note goes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot import inbox
from bot.errors import NotAllowed, ValidationFailed
from bot.services import Services
from bot.text import t
from handlers.due.outbound import post_once
from handlers.serving.replies import through_inbox
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import Conversation, Kind

logger = logging.getLogger(__name__)

POST_AGAIN = "record_post_again"  # action_id of the button in the author's direct message
# what chat.postMessage / conversations.join answer for a conversation the bot cannot post in
UNREACHABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "method_not_supported_for_channel_type"})


class Unreachable(Exception):
    """The bot cannot be in the channel on its own: a private channel it was not invited to, or an archived one."""

    def __init__(self, channel_id: str, reason: str) -> None:
        super().__init__(f"{channel_id}: {reason}")
        self.channel_id = channel_id
        self.reason = reason


def ensure_member(client: WebClient, directory: Directory, channel_id: str) -> None:
    """Be a member of the channel before posting a record there: join a public one; raise Unreachable otherwise.

    A direct message needs nothing. When Slack cannot be reached the error propagates (the request is tried
    again); when it will not describe the channel, the post itself says what is wrong.
    """
    if not channel_id or channel_id.startswith("D"):
        return
    conversation = directory.channels.lookup(channel_id)
    if conversation is None:
        raise Unreachable(channel_id, "channel_not_found")  # a private channel the bot is not in is invisible to it
    if conversation.kind == Kind.DM or conversation.bot_is_member:
        return
    if conversation.archived:
        raise Unreachable(channel_id, "is_archived")
    if conversation.kind == Kind.PRIVATE:
        raise Unreachable(channel_id, "not_in_channel")
    try:
        client.conversations_join(channel=channel_id)
    except SlackApiError as exc:
        reason = str(exc.response.get("error") or "")
        if reason in UNREACHABLE:
            directory.channels.forget(channel_id)
            raise Unreachable(channel_id, reason) from exc
        raise
    logger.info("joined %s to see the reactions on the records posted there", channel_id)
    directory.channels.joined(channel_id)


def form_error(directory: Directory, channel_id: str | None) -> tuple[str, dict[str, Any]] | None:
    """A form's error for a channel the bot cannot post records in (a private one it is not in, an archived one).

    Checked only where the form is answered (the serving process): a worker running the stored submission
    does not ask again, and a channel that became unreachable in between keeps the record unposted instead.
    """
    if not channel_id or channel_id.startswith("D") or inbox.running() is not None:
        return None
    try:
        remembered = directory.channels.known(channel_id)
        error = _refusal(directory.channels.lookup(channel_id, quick=True))
        if error is not None and remembered:  # the person may have just invited the bot: ask Slack again
            error = _refusal(directory.channels.lookup(channel_id, quick=True, fresh=True))
    except (SlackRequestError, OSError):  # Slack slow or out of reach: nothing is refused here, posting finds out
        return None
    return error


def _refusal(conversation: Conversation | None) -> tuple[str, dict[str, Any]] | None:
    if conversation is None:  # Slack would not describe it: a private channel the bot is not in
        return "channel.error.invite_first", {}
    if conversation.archived:
        return "channel.error.archived", {}
    if conversation.kind == Kind.PRIVATE and not conversation.bot_is_member:
        return "channel.error.invite_first", {}
    return None


def warm(directory: Directory, channel_id: str) -> None:
    """Learn about the channel a form proposes while the person fills it in (its submission then asks nobody)."""
    if channel_id and not channel_id.startswith("D"):
        directory.channels.conversation(channel_id)


def refuse_channel(directory: Directory, channel_id: str | None, *, field: str) -> None:
    """Raise the form's field error when the bot cannot post records in the chosen channel (see `form_error`)."""
    error = form_error(directory, channel_id)
    if error is not None:
        raise ValidationFailed({field: error})


def post_record(
    client: WebClient,
    directory: Directory,
    *,
    ref: str,
    code: str,
    channel: str,
    author: str,
    tell: bool = True,
    **message: Any,
) -> Mapping[str, str] | None:
    """Join if needed and post a record's message once (handlers.due.outbound.post_once); None when the bot cannot
    post in the channel, after telling `author` how to fix it (unless `tell` is False)."""
    try:
        ensure_member(client, directory, channel)
        return post_once(client, ref=ref, channel=channel, **message)
    except Unreachable as exc:
        reason = exc.reason
    except SlackApiError as exc:
        reason = str(exc.response.get("error") or "")
        if reason not in UNREACHABLE:
            raise
        directory.channels.forget(channel)
    logger.info("could not post %s in %s: %s", code, channel, reason)
    if tell:
        tell_unposted(client, directory, ref=ref, code=code, channel=channel, author=author, reason=reason)
    return None


def tell_unposted(
    client: WebClient, directory: Directory, *, ref: str, code: str, channel: str, author: str, reason: str
) -> None:
    """Direct message the author: the record is kept, how to let the bot in, and a button to post it then."""
    lang = directory.lang_of(author)
    where = f"<#{channel}>"
    if reason == "is_archived":
        client.chat_postMessage(channel=author, text=t(lang, "channel.unposted_archived", code=code, channel=where))
        return
    text = t(lang, "channel.unposted", code=code, channel=where)
    client.chat_postMessage(
        channel=author,
        text=text,
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": POST_AGAIN,
                        "value": ref[:2000],
                        "text": {"type": "plain_text", "text": t(lang, "channel.post_again")},
                    }
                ],
            },
        ],
    )


# -- "Post again" ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unposted:
    """What "Post again" needs to know about a record: its code, channel, whether it is posted, who may post it."""

    code: str
    channel_id: str
    posted: bool
    people: frozenset[str]


Describe = Callable[[Services, int], Unposted]
Post = Callable[[WebClient, Services, Directory, int, str], bool]  # (…, record id, author) -> posted?
_kinds: dict[str, tuple[Describe, Post]] = {}


def repostable(kind: str, describe: Describe, post: Post) -> None:
    """Let "Post again" post records of `kind` (the prefix of their `ref`, e.g. "requirement")."""
    _kinds[kind] = (describe, post)


def post_again(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """The author invited the bot and presses "Post again"."""
    ack()
    user = body["user"]["id"]
    lang = directory.lang_of(user)
    kind, _, raw_id = str(body["actions"][0].get("value") or "").partition(":")
    found = _kinds.get(kind)
    if found is None or not raw_id.isdigit():
        return
    describe, post = found
    record = describe(services, int(raw_id))
    if user not in record.people:
        raise NotAllowed("error.not_allowed")
    where = f"<#{record.channel_id}>"
    if record.posted:
        respond(text=t(lang, "channel.already_posted", code=record.code, channel=where), replace_original=True)
        return
    directory.channels.forget(record.channel_id)  # the invitation is news: ask Slack again
    if post(client, services, directory, int(raw_id), user):
        respond(text=t(lang, "channel.posted_again", code=record.code, channel=where), replace_original=True)
    else:
        respond(
            text=t(lang, "channel.still_unreachable", channel=where), response_type="ephemeral", replace_original=False
        )


# -- leaving and joining -----------------------------------------------------------------------------------------


def on_member_left(
    event: dict[str, Any],
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    services: Services,
    directory: Directory,
) -> None:
    """Someone left a channel: when it is the bot, note it and tell the people behind the records there."""
    if event.get("user") and event.get("user") == context.bot_user_id:
        bot_left(client, services, directory, team_id=_team(body, event), channel_id=str(event.get("channel") or ""))


def on_bot_left(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """`channel_left` / `group_left`: the bot was removed from a channel."""
    bot_left(client, services, directory, team_id=_team(body, event), channel_id=str(event.get("channel") or ""))


def on_member_joined(
    event: dict[str, Any], body: dict[str, Any], context: BoltContext, services: Services, directory: Directory
) -> None:
    """Someone joined a channel: when it is the bot (invited back), forget that it had left."""
    if event.get("user") and event.get("user") == context.bot_user_id and event.get("channel"):
        channel_id = str(event["channel"])
        directory.channels.forget(channel_id)
        services.presence.joined(team_id=_team(body, event), channel_id=channel_id)


def bot_left(client: WebClient, services: Services, directory: Directory, *, team_id: str, channel_id: str) -> None:
    """Note that the bot is out of the channel and tell each person behind an open record there, once."""
    if not channel_id:
        return
    directory.channels.forget(channel_id)
    records = services.presence.left(team_id=team_id, channel_id=channel_id, now=services.now())
    if not records:
        return
    codes: dict[str, list[str]] = defaultdict(list)
    for record in records:
        for person in dict.fromkeys(p for p in record.people if p):
            codes[person].append(record.code)
    for person, theirs in codes.items():
        text = t(directory.lang_of(person), "channel.removed", channel=f"<#{channel_id}>", codes=", ".join(theirs))
        try:
            client.chat_postMessage(channel=person, text=text)
        except SlackApiError as exc:
            logger.info("could not tell %s about leaving %s: %s", person, channel_id, exc.response.get("error"))


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or "")


def register(app: App) -> None:
    """Wire "Post again" and the membership events."""
    app.action(POST_AGAIN)(through_inbox(post_again))
    app.event("member_left_channel")(through_inbox(on_member_left))
    app.event("channel_left")(through_inbox(on_bot_left))
    app.event("group_left")(through_inbox(on_bot_left))
    app.event("member_joined_channel")(through_inbox(on_member_joined))
