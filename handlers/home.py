"""Slack listeners for the App Home: publish it, act from it (sign, done, record minutes) and page through it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.errors import Conflict, NotFound
from bot.services import Services
from bot.services.actions import ActionInfo, ActionStatus
from bot.services.meetings import MeetingInfo
from bot.services.requirements import RequirementInfo
from bot.services.visibility import home_channels
from handlers.actions import refresh_card, source_link_of
from handlers.blocks import home as blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks.home import PAGE_SIZE, Ids, Listing, Pages, last_page
from handlers.due.outbound import known_link, message_link
from handlers.requirement import refresh_sheet
from handlers.serving.replies import through_inbox
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import require_visible

logger = logging.getLogger(__name__)

LINK_WORKERS = 8  # permalinks of one page (and who may see which channel) are asked for side by side
ALL = 1_000_000  # "every one" as a page size
T = TypeVar("T")


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.event("app_home_opened")(through_inbox(publish_home))
    app.action(Ids.LANGUAGE)(through_inbox(choose_language))
    app.action(Ids.SIGN)(through_inbox(sign_from_home))
    app.action(Ids.DONE)(through_inbox(complete_from_home))
    app.action(Ids.RECORD_MINUTES)(through_inbox(open_minutes_from_home, opens_view=True))
    for pager in (Ids.MORE, Ids.PREVIOUS, Ids.FIRST):
        app.action(pager)(through_inbox(turn_page))
    app.action(Ids.OPEN)(through_inbox(follow_link))


def publish_home(event: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Show the viewer their App Home, every part on its first page."""
    if event.get("tab", "home") != "home":
        return
    render(client, services, directory, event["user"])


def choose_language(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """The viewer picks a language (or goes back to their Slack locale); the home re-renders in it."""
    ack()
    user = body["user"]["id"]
    choice = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    services.prefs.set_user_lang(
        directory.team_id, user, None if choice in (None, "auto") else choice, now=services.now()
    )
    render(client, services, directory, user, _pages(body))


def sign_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Sign: the viewer signs a sheet; the sheet's message and the home both show it."""
    ack()
    user, record_id = body["user"]["id"], _record_id(body)
    try:
        req = services.requirements.get(record_id)
        require_visible(directory, user, req.channel_id, NotFound("error.requirement_not_found", code=str(record_id)))
        outcome = services.requirements.sign(record_id, user_id=user, via="home", now=services.now())
    except (Conflict, NotFound):
        render(client, services, directory, user, _pages(body))  # the sheet moved on since this home was drawn
        raise
    if outcome.changed:
        refresh_sheet(
            client,
            services,
            directory,
            outcome.requirement.id,
            note=("thread.confirmed", None) if outcome.confirmed_now else None,
        )
    render(client, services, directory, user, _pages(body))


def complete_from_home(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Done: the item is finished; its card and the home both show it (refusals reach the error handler)."""
    ack()
    user, record_id = body["user"]["id"], _record_id(body)
    try:
        item = services.actions.get(record_id)
        require_visible(directory, user, item.channel_id, NotFound("error.action_not_found", code=str(record_id)))
    except NotFound:
        render(client, services, directory, user, _pages(body))  # drawn before the viewer left its channel
        raise
    item, changed = services.actions.set_status(record_id, user_id=user, status=ActionStatus.DONE, now=services.now())
    if changed and item.message_ts:
        refresh_card(
            client,
            services,
            directory,
            item,
            channel_id=item.channel_id,
            message_ts=item.message_ts,
            source_link=source_link_of(client, item),
        )
    render(client, services, directory, user, _pages(body))


def open_minutes_from_home(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Record minutes: the minutes modal, for the host or a participant."""
    ack()
    user = body["user"]["id"]
    info = services.meetings.get(_record_id(body))
    require_visible(directory, user, info.channel_id, NotFound("error.meeting_not_found", code=str(info.id)))
    services.meetings.check_can_record(info, user)
    view = meeting_blocks.minutes_modal(
        directory.lang_of(user),
        meeting=info,
        actions=services.actions.for_source("meeting", info.id),
        tz=directory.tz_of(user),
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def turn_page(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Show more / Previous / Back to the first: one part turns its page, the others stay where they were."""
    ack()
    pages = _pages(body).turned(str((body.get("actions") or [{}])[0].get("value") or ""))
    render(client, services, directory, body["user"]["id"], pages)


def follow_link(ack: Ack) -> None:
    """Open: Slack follows the link itself; the click only needs acknowledging."""
    ack()


def render(client: WebClient, services: Services, directory: Directory, user: str, pages: Pages | None = None) -> None:
    """Build and publish one person's home, each part on the page asked for (or its last one).

    Records in conversations the viewer cannot see (a private channel they are not in) are left
    out, and each part's counts and pages are of what is left.
    """
    pages = pages or Pages()
    team, now = directory.team_id, services.now()
    where = home_channels(services.session_scope, team_id=team, user_id=user, now=now)
    hidden = _hidden(directory, user, where.every)

    def part(of: _Part[T], page: int, hidden_here: frozenset[str]) -> Listing[T]:
        return _listing(client, directory, user, of, page, hidden_here)

    view = blocks.home(
        directory.lang_of(user, fetch=True),
        awaiting=part(_awaiting(services, team, user, now), pages.sign, hidden & where.awaiting),
        actions=part(_actions(services, team, user, now), pages.actions, hidden & where.actions),
        meetings=part(_meetings(services, team, user, now, upcoming=True), pages.meetings, hidden & where.meetings),
        minutes=part(_meetings(services, team, user, now, upcoming=False), pages.minutes, hidden & where.meetings),
        chosen_lang=services.prefs.user_lang(team, user),
        tz=directory.tz_of(user),
        now=now,
    )
    client.views_publish(user_id=user, view=view)


# -- gathering one page of each part ------------------------------------------------------------------
# Usually the viewer sees every channel their records are in, and a part is counted and paged by the
# database. When some are hidden, that part's records are read whole and counted and paged here.


def _hidden(directory: Directory, user: str, channels: frozenset[str]) -> frozenset[str]:
    """The channels among these that the viewer cannot see (each asked of Slack side by side, then cached)."""
    ordered = sorted(channels)
    if len(ordered) <= 1:
        return frozenset(c for c in ordered if not directory.can_see(user, c))
    with ThreadPoolExecutor(max_workers=min(LINK_WORKERS, len(ordered))) as pool:
        seen = list(pool.map(lambda c: directory.can_see(user, c), ordered))
    return frozenset(c for c, ok in zip(ordered, seen, strict=True) if not ok)


def _page_of(every: list[T], page: int) -> tuple[int, list[T]]:
    """The page asked for (or the last one) of a list already counted."""
    page = min(page, last_page(len(every)))
    return page, every[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]


@dataclass(frozen=True)
class _Part(Generic[T]):
    """How one part of the home reads its records from the database."""

    fetch: Callable[[int, int], tuple[list[T], int, int]]  # (offset, limit) -> a page, the total, how many late
    channel: Callable[[T], str]  # where a record lives
    late: Callable[[T], bool]
    message: Callable[[T], tuple[int, str, str | None]] | None = None  # (id, channel, ts) to link to; None: no links


def _listing(
    client: WebClient, directory: Directory, user: str, part: _Part[T], page: int, hidden: frozenset[str]
) -> Listing[T]:
    """One page of a part (or its last one), counted and paged by the database unless some channels are hidden."""

    def seen(found: list[T]) -> list[T]:
        return [r for r in found if part.channel(r) not in hidden and directory.can_see(user, part.channel(r))]

    if hidden:
        every = seen(part.fetch(0, ALL)[0])
        total, late = len(every), sum(1 for r in every if part.late(r))
        page, items = _page_of(every, page)
    else:
        items, total, late = part.fetch((page - 1) * PAGE_SIZE, PAGE_SIZE)
        if not items and page > last_page(total):  # fewer than when this page was drawn
            page = last_page(total)
            items, total, late = part.fetch((page - 1) * PAGE_SIZE, PAGE_SIZE)
        items = seen(items)
    links = _links(client, [part.message(r) for r in items]) if part.message else {}
    return Listing(items, total, page, late, links)


def _awaiting(services: Services, team: str, user: str, now: datetime) -> _Part[RequirementInfo]:
    """Sheets waiting for the viewer's signature; late once past their sign-by time."""
    reqs = services.requirements

    def fetch(offset: int, limit: int) -> tuple[list[RequirementInfo], int, int]:
        total, late = reqs.awaiting_counts(team, user, now)
        return (reqs.awaiting_page(team, user, offset=offset, limit=limit) if total else []), total, late

    return _Part(
        fetch, lambda r: r.channel_id, lambda r: r.confirm_by < now, lambda r: (r.id, r.channel_id, r.message_ts)
    )


def _actions(services: Services, team: str, user: str, now: datetime) -> _Part[ActionInfo]:
    """The viewer's open action items; late once past due."""
    acts = services.actions

    def fetch(offset: int, limit: int) -> tuple[list[ActionInfo], int, int]:
        total, overdue = acts.open_counts(team, user, now)
        return (acts.open_page(team, user, offset=offset, limit=limit) if total else []), total, overdue

    return _Part(fetch, lambda a: a.channel_id, lambda a: a.due < now, lambda a: (a.id, a.channel_id, a.message_ts))


def _meetings(services: Services, team: str, user: str, now: datetime, *, upcoming: bool) -> _Part[MeetingInfo]:
    """The viewer's meetings of the coming days (linked), or those whose minutes they still owe."""

    def fetch(offset: int, limit: int) -> tuple[list[MeetingInfo], int, int]:
        if upcoming:
            found, total = services.meetings.upcoming_page(
                team, user, now, within=timedelta(days=blocks.MEETING_DAYS), offset=offset, limit=limit
            )
        else:
            found, total = services.meetings.minutes_owed(team, user, now, offset=offset, limit=limit)
        return found, total, 0

    message = (lambda m: (m.id, m.channel_id, m.message_ts)) if upcoming else None
    return _Part(fetch, lambda m: m.channel_id, lambda _m: False, message)


def _links(client: WebClient, messages: Sequence[tuple[int, str, str | None]]) -> dict[int, str]:
    """Permalinks of the records' messages, by record id (records without a message have none).

    Those this process already has come from its cache; the others are asked of Slack side by side.
    """
    wanted = [(rid, channel, ts) for rid, channel, ts in messages if channel and ts]
    links = {rid: link for rid, channel, ts in wanted if ts and (link := known_link(client, channel, ts))}
    missing = [m for m in wanted if m[0] not in links]
    if not missing:
        return links
    with ThreadPoolExecutor(max_workers=min(LINK_WORKERS, len(missing))) as pool:
        found = pool.map(lambda m: (m[0], message_link(client, m[1], m[2])), missing)
        return links | {rid: link for rid, link in found if link}


def _record_id(body: dict[str, Any]) -> int:
    return int(body["actions"][0]["value"])


def _pages(body: dict[str, Any]) -> Pages:
    """The pages the clicked home showed."""
    return Pages.load((body.get("view") or {}).get("private_metadata"))
