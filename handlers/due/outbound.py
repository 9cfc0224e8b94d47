"""Sending due work from the outbox: each feature renders its kinds; failures are classified here."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot import inbox
from bot.errors import DeliveryFailed, NotFound
from bot.markup import RecordLocks as RecordLocks  # the Slack listeners take it from here
from bot.outbox import Deliver, DueWork, Outcome
from bot.services import Services
from handlers.workspace.tenants import Tenant, Tenants

logger = logging.getLogger(__name__)

# Errors that will not go away by retrying: the row fails with the reason instead.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "account_inactive",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "restricted_action",
    }
)


def classify(exc: Exception) -> DeliveryFailed:
    """Turn a Web API failure into a retryable or permanent delivery failure."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        if exc.response.status_code == 429:
            retry = exc.response.headers.get("retry-after") or exc.response.headers.get("Retry-After")
            try:
                return DeliveryFailed("ratelimited", permanent=False, retry_after=float(retry or 30))
            except (TypeError, ValueError):
                return DeliveryFailed("ratelimited", permanent=False)
        return DeliveryFailed(error, permanent=error in PERMANENT_ERRORS)
    return DeliveryFailed(f"{type(exc).__name__}: {exc}"[:300], permanent=False)


PERMALINKS_KEPT = 20_000  # about 3 MB of links: every record a busy workspace shows for weeks
RECORD_EVENT = "coordbot_record"  # the metadata event type a record's message carries


def post_once(client: WebClient, *, ref: str, channel: str, **kwargs: Any) -> Mapping[str, Any]:
    """Post the message that shows a record, once, even when the request that posts it runs again.

    The message carries the record's reference in its metadata. When the request is being tried again (the
    first try may have posted and then died before remembering the message), the channel's latest
    messages are searched for it first, and the one found is returned instead of posting a second.
    """
    if inbox.rerun():
        found = find_posted(client, channel, ref)
        if found is not None:
            logger.info("found %s already posted in %s (%s)", ref, channel, found["ts"])
            return found
    metadata = {"event_type": RECORD_EVENT, "event_payload": {"ref": ref}}
    resp = client.chat_postMessage(channel=channel, metadata=metadata, **kwargs)
    return {"channel": str(resp["channel"]), "ts": str(resp["ts"])}


def find_posted(client: WebClient, channel: str, ref: str) -> dict[str, str] | None:
    """The message among the channel's latest 200 that shows this record, if the bot can read them."""
    try:
        resp = client.conversations_history(channel=channel, limit=200, include_all_metadata=True)
    except SlackApiError as exc:
        logger.warning(
            "could not look for %s in %s (%s): it may be posted twice", ref, channel, exc.response.get("error")
        )
        return None
    for message in resp.get("messages") or []:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == RECORD_EVENT and (metadata.get("event_payload") or {}).get("ref") == ref:
            return {"channel": channel, "ts": str(message["ts"])}
    return None


class PermalinkCache:
    """Permalinks already asked of Slack, by workspace, channel and message: a message's permalink never changes.

    Thread-safe and bounded (the least recently used go first); per process. Only answers are kept: a
    failure is asked about again next time.
    """

    def __init__(self, size: int = PERMALINKS_KEPT) -> None:
        self._size = size
        self._links: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        """The permalink kept for a message, if any."""
        with self._lock:
            link = self._links.get(key)
            if link is not None:
                self._links.move_to_end(key)
            return link

    def put(self, key: tuple[str, str, str], link: str) -> None:
        """Keep a permalink, forgetting the least recently used beyond the bound."""
        with self._lock:
            self._links[key] = link
            self._links.move_to_end(key)
            while len(self._links) > self._size:
                self._links.popitem(last=False)

    def clear(self) -> None:
        """Forget every permalink."""
        with self._lock:
            self._links.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._links)


PERMALINKS = PermalinkCache()


def _workspace(client: WebClient) -> str:
    """Whose permalinks: a channel shared between workspaces has a permalink in each (the token tells which)."""
    token = client.token or ""
    return f"{client.base_url}|{hashlib.sha256(token.encode()).hexdigest()[:16]}"


def known_link(client: WebClient, channel_id: str, ts: str) -> str | None:
    """The message's permalink if this process already has it (no call to Slack)."""
    return PERMALINKS.get((_workspace(client), channel_id, ts))


def message_link(client: WebClient, channel_id: str | None, ts: str | None) -> str | None:
    """A permalink to a message the bot posted, or None when there is none (or Slack will not say).

    Each message's permalink is asked of Slack once per process (see `PermalinkCache`).
    """
    if not channel_id or not ts:
        return None
    key = (_workspace(client), channel_id, ts)
    known = PERMALINKS.get(key)
    if known is not None:
        return known
    try:
        resp = client.chat_getPermalink(channel=channel_id, message_ts=ts)
    except SlackApiError as exc:
        logger.info("no permalink for %s/%s: %s", channel_id, ts, exc.response.get("error"))
        return None
    link = str(resp.get("permalink") or "") or None
    if link is not None:
        PERMALINKS.put(key, link)
    return link


def link_or_channel(client: WebClient, channel_id: str, ts: str | None) -> str:
    """The message's permalink, or a link to its channel when the message is unknown."""
    return message_link(client, channel_id, ts) or f"slack://channel?id={channel_id}"


Deliverer = Callable[[DueWork, datetime], Outcome]
# Errors after which a workspace's token is no good: its due work is held (until a re-install), not failed
NO_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive", "team_not_found"})


def make_deliver(tenants: Tenants, services: Services) -> Deliver:
    """The delivery function the tick hands each due row to: sent with its workspace's token, by its kind."""
    by_tenant: dict[int, tuple[Tenant, Deliverer]] = {}

    def deliver(item: DueWork, now: datetime) -> Outcome:
        tenant = tenants.get(item.team_id)
        if tenant is None:  # uninstalled (or never installed): kept for a re-install
            return Outcome.HELD
        known = by_tenant.get(id(tenant))
        if known is None or known[0] is not tenant:
            from handlers.due.notices import deliverer  # it renders with the features' builders, which use this

            known = by_tenant[id(tenant)] = (tenant, deliverer(tenant.client, services, tenant.directory))
        handler = known[1]
        try:
            with tenants.acting_for(tenant):
                return handler(item, now)
        except NotFound:
            return Outcome.SKIPPED
        except SlackApiError as exc:
            if tenants.multi and exc.response.get("error") in NO_TOKEN_ERRORS:
                tenants.forget(item.team_id)
                fresh = tenants.get(item.team_id)
                if fresh is not None and fresh.client.token != tenant.client.token:  # re-installed meanwhile
                    raise DeliveryFailed("the workspace's token was replaced", permanent=False, retry_after=0) from exc
                logger.warning("%s's token was refused (%s): its due work is held", item.team_id, exc.response["error"])
                return Outcome.HELD
            raise classify(exc) from exc
        except (SlackRequestError, OSError) as exc:
            raise classify(exc) from exc

    return deliver
