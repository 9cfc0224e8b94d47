"""Who may see a record: the members of the conversation it lives in, asked of Slack and kept briefly.

A record (requirement sheet, meeting card, action item card, incident) is shown only to people who
can see the conversation it was posted in:

- a public channel: every full member of the workspace (guests only when they are in it);
- a private channel: its members (conversations.members, paged);
- a direct message: the one person the bot talks to there;
- a group DM: like a private channel, would Slack answer (the bot does not ask for mpim:read, so a
  record posted in one shows to nobody).

When Slack will not say (a missing scope, a channel the bot was removed from, a network failure),
the answer is "not visible", and the reason is logged once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.errors import NotFound

logger = logging.getLogger(__name__)

TTL = 60.0  # seconds a conversation's kind and members are trusted
QUICK_SECONDS = 0.5  # how long a form's answer waits for conversations.info (it usually knows already)
MEMBERS_PAGE = 1000  # conversations.members' largest page
_V = TypeVar("_V")


class Kind(StrEnum):
    """Who a conversation is open to."""

    PUBLIC = "public"
    PRIVATE = "private"
    DM = "dm"


@dataclass(frozen=True)
class Conversation:
    """What decides who sees a conversation: its kind, and for a direct message, whose it is; and whether the bot
    is in it (Slack sends the bot reactions only from conversations it is a member of)."""

    kind: Kind
    dm_user: str | None = None
    bot_is_member: bool = True
    archived: bool = False


class Sees(Protocol):
    """Anything that answers whether a person may see a conversation (the member directory does)."""

    def can_see(self, user_id: str, channel_id: str) -> bool:
        """Whether the person may see what is posted in the conversation."""
        ...


def require_visible(directory: Sees, user_id: str, channel_id: str, missing: NotFound) -> None:
    """Raise `missing`, the very answer a record that does not exist gets, unless the person may see the channel.

    Raise it before anything about the record reaches the person (and before permission checks
    whose refusal would name the record), so a record in a channel they are not in stays unknown.
    """
    if not directory.can_see(user_id, channel_id):
        raise missing


def listed_with_source(directory: Sees, user_id: str, channel_id: str, *, source_channel: str) -> bool:
    """Whether a record reached through its source (an incident's follow-up, a meeting's action item) may be shown
    to someone who may see the source.

    It may when it lives where its source does, was handed to its owner by direct message (the source
    lists it already), or lives in a conversation the person can see; not when it was posted in a
    private channel they are not in.
    """
    return channel_id in ("", source_channel) or channel_id.startswith("D") or directory.can_see(user_id, channel_id)


class ChannelAccess:
    """Answers "may this person see this conversation?" from conversations.info and conversations.members."""

    def __init__(
        self,
        client: WebClient,
        *,
        is_guest: Callable[[str], bool],
        ttl: float = TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        # for questions asked while a person waits for an answer (a form's check): a slow Slack is not waited for
        self._quick = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=QUICK_SECONDS,  # type: ignore[arg-type]  # urllib takes fractions too
            retry_handlers=[],
        )
        self._is_guest = is_guest
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: dict[str, tuple[float, Conversation | None]] = {}
        self._members: dict[str, tuple[float, frozenset[str] | None]] = {}
        self._told: set[tuple[str, str]] = set()

    def can_see(self, user_id: str, channel_id: str) -> bool:
        """Whether the person may see what is posted in the conversation; False whenever Slack will not say."""
        if not user_id or not channel_id:
            return False
        conversation = self.conversation(channel_id)
        if conversation is None:
            return False
        if conversation.kind == Kind.DM:
            return conversation.dm_user == user_id
        if conversation.kind == Kind.PUBLIC and not self._is_guest(user_id):
            return True
        members = self.members(channel_id)
        return members is not None and user_id in members

    def is_public(self, channel_id: str) -> bool:
        """Whether every full member of the workspace may see the conversation (a public channel)."""
        conversation = self.conversation(channel_id) if channel_id else None
        return conversation is not None and conversation.kind == Kind.PUBLIC

    def forget(self, channel_id: str | None = None) -> None:
        """Drop what is kept about one conversation (or all), so the next question asks Slack again."""
        with self._lock:
            for cache in (self._kinds, self._members):
                if channel_id is None:
                    cache.clear()
                else:
                    cache.pop(channel_id, None)

    # -- asking Slack, briefly remembered ------------------------------------------------------------------

    def conversation(self, channel_id: str) -> Conversation | None:
        """The conversation's kind (conversations.info); None when Slack will not say."""
        try:
            return self.lookup(channel_id)
        except (SlackRequestError, OSError) as exc:
            self._refused("conversations.info", channel_id, exc)
            return None

    def lookup(self, channel_id: str, *, quick: bool = False, fresh: bool = False) -> Conversation | None:
        """Like `conversation`, but Slack out of reach raises (SlackRequestError, OSError) instead of answering None;
        `quick` gives Slack QUICK_SECONDS to answer, once, instead of the client's timeout and retries; `fresh`
        asks Slack even when the answer is known."""
        cached = None if fresh else self._cached(self._kinds, channel_id)
        if cached is not None:
            return cached[0]
        try:
            client = self._quick if quick else self._client
            channel = dict(client.conversations_info(channel=channel_id).get("channel") or {})
        except SlackApiError as exc:
            self._refused("conversations.info", channel_id, exc)
            self._keep(self._kinds, channel_id, None)  # a refusal stands for a while; a network failure does not
            return None
        member, archived = channel.get("is_member") is not False, bool(channel.get("is_archived"))
        if channel.get("is_im"):
            found = Conversation(Kind.DM, str(channel.get("user") or "") or None)
        elif channel.get("is_private") or channel.get("is_group") or channel.get("is_mpim"):
            found = Conversation(Kind.PRIVATE, bot_is_member=member, archived=archived)
        else:
            found = Conversation(Kind.PUBLIC, bot_is_member=member, archived=archived)
        self._keep(self._kinds, channel_id, found)
        return found

    def known(self, channel_id: str) -> bool:
        """Whether what Slack said of the conversation is still kept (a lookup would not ask again)."""
        return self._cached(self._kinds, channel_id) is not None

    def joined(self, channel_id: str) -> None:
        """The bot has just joined the channel."""
        with self._lock:
            entry = self._kinds.get(channel_id)
            if entry is not None and entry[1] is not None:
                self._kinds[channel_id] = (entry[0], replace(entry[1], bot_is_member=True))

    def members(self, channel_id: str) -> frozenset[str] | None:
        """Everyone in the conversation (conversations.members, every page); None when Slack will not say."""
        cached = self._cached(self._members, channel_id)
        if cached is not None:
            return cached[0]
        found: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                resp = self._client.conversations_members(channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor)
                found.update(str(m) for m in resp.get("members") or [])
                cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:
            self._refused("conversations.members", channel_id, exc)
            self._keep(self._members, channel_id, None)
            return None
        except (SlackRequestError, OSError) as exc:
            self._refused("conversations.members", channel_id, exc)
            return None
        members = frozenset(found)
        self._keep(self._members, channel_id, members)
        return members

    def _cached(self, cache: dict[str, tuple[float, _V]], channel_id: str) -> tuple[_V] | None:
        with self._lock:
            entry = cache.get(channel_id)
        if entry is None or self._clock() - entry[0] >= self._ttl:
            return None
        return (entry[1],)

    def _keep(self, cache: dict[str, tuple[float, _V]], channel_id: str, value: _V) -> None:
        with self._lock:
            cache[channel_id] = (self._clock(), value)

    def _refused(self, method: str, channel_id: str, exc: Exception) -> None:
        """Log a refusal once per method and reason (a missing scope would otherwise fill the log)."""
        reason = str(exc.response.get("error") or "") if isinstance(exc, SlackApiError) else type(exc).__name__
        key = (method, reason)
        with self._lock:
            first = key not in self._told
            self._told.add(key)
        if first:
            needed = exc.response.get("needed") if isinstance(exc, SlackApiError) else None
            logger.warning(
                "%s refused (%s%s), e.g. for %s: records there are treated as not visible",
                method,
                reason,
                f", needs {needed}" if needed else "",
                channel_id,
            )
        else:
            logger.debug("%s refused for %s: %s", method, channel_id, reason)
