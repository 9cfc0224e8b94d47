"""Slack listeners for the App Home: publish it, act from it (sign, done, record minutes) and page through it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

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
from handlers.due.outbound import message_link
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
    view = blocks.home(
        directory.lang_of(user, fetch=True),
        awaiting=_awaiting(client, services, directory, team, user, pages.sign, now, hidden & where.awaiting),
        actions=_actions(client, services, directory, team, user, pages.actions, now, hidden & where.actions),
        meetings=_meetings(
            client, services, directory, team, user, pages.meetings, now, hidden & where.meetings, upcoming=True
        ),
        minutes=_meetings(
            client, services, directory, team, user, pages.minutes, now, hidden & where.meetings, upcoming=False
        ),
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


def _awaiting(
    client: WebClient,
    services: Services,
    directory: Directory,
    team: str,
    user: str,
    page: int,
    now: datetime,
    hidden: frozenset[str],
) -> Listing[RequirementInfo]:
    reqs = services.requirements
    total, late = reqs.awaiting_counts(team, user, now)
    if hidden:
        every = (
            [
                r
                for r in reqs.awaiting_page(team, user, offset=0, limit=total)
                if r.channel_id not in hidden and directory.can_see(user, r.channel_id)
            ]
            if total
            else []
        )
        total, late = len(every), sum(1 for r in every if r.confirm_by < now)
        page, items = _page_of(every, page)
    else:
        page = min(page, last_page(total))
        items = (
            [
                r
                for r in reqs.awaiting_page(team, user, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
                if directory.can_see(user, r.channel_id)
            ]
            if total
            else []
        )
    return Listing(items, total, page, late, _links(client, [(r.id, r.channel_id, r.message_ts) for r in items]))


def _actions(
    client: WebClient,
    services: Services,
    directory: Directory,
    team: str,
    user: str,
    page: int,
    now: datetime,
    hidden: frozenset[str],
) -> Listing[ActionInfo]:
    acts = services.actions
    total, overdue = acts.open_counts(team, user, now)
    if hidden:
        every = (
            [
                a
                for a in acts.open_page(team, user, offset=0, limit=total)
                if a.channel_id not in hidden and directory.can_see(user, a.channel_id)
            ]
            if total
            else []
        )
        total, overdue = len(every), sum(1 for a in every if a.due < now)
        page, items = _page_of(every, page)
    else:
        page = min(page, last_page(total))
        items = (
            [
                a
                for a in acts.open_page(team, user, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
                if directory.can_see(user, a.channel_id)
            ]
            if total
            else []
        )
    return Listing(items, total, page, overdue, _links(client, [(a.id, a.channel_id, a.message_ts) for a in items]))


def _meetings(
    client: WebClient,
    services: Services,
    directory: Directory,
    team: str,
    user: str,
    page: int,
    now: datetime,
    hidden: frozenset[str],
    *,
    upcoming: bool,
) -> Listing[MeetingInfo]:
    def fetch(offset: int, limit: int) -> tuple[list[MeetingInfo], int]:
        if upcoming:
            return services.meetings.upcoming_page(
                team, user, now, within=timedelta(days=blocks.MEETING_DAYS), offset=offset, limit=limit
            )
        return services.meetings.minutes_owed(team, user, now, offset=offset, limit=limit)

    def seen(found: list[MeetingInfo]) -> list[MeetingInfo]:
        return [m for m in found if m.channel_id not in hidden and directory.can_see(user, m.channel_id)]

    if hidden:
        every = seen(fetch(0, ALL)[0])
        total = len(every)
        page, items = _page_of(every, page)
    else:
        items, total = fetch((page - 1) * PAGE_SIZE, PAGE_SIZE)
        if not items and page > last_page(total):  # fewer than when this page was drawn
            page = last_page(total)
            items, total = fetch((page - 1) * PAGE_SIZE, PAGE_SIZE)
        items = seen(items)
    links = _links(client, [(m.id, m.channel_id, m.message_ts) for m in items]) if upcoming else {}
    return Listing(items, total, page, 0, links)


def _links(client: WebClient, messages: Sequence[tuple[int, str, str | None]]) -> dict[int, str]:
    """Permalinks of the records' messages, by record id (records without a message have none)."""
    wanted = [(rid, channel, ts) for rid, channel, ts in messages if channel and ts]
    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=min(LINK_WORKERS, len(wanted))) as pool:
        found = pool.map(lambda m: (m[0], message_link(client, m[1], m[2])), wanted)
        return {rid: link for rid, link in found if link}


def _record_id(body: dict[str, Any]) -> int:
    return int(body["actions"][0]["value"])


def _pages(body: dict[str, Any]) -> Pages:
    """The pages the clicked home showed."""
    return Pages.load((body.get("view") or {}).get("private_metadata"))
