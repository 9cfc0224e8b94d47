"""Slack listeners for the App Home: publish it, act from it (sign, done, record minutes) and page through it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.errors import Conflict, CoordbotError, NotFound
from bot.services import Services, presses
from bot.services.home_page import Listed, Window, Windows, home_page
from bot.services.presses import press
from handlers.actions import refresh_card, source_link_of
from handlers.blocks import home as blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks.home import PAGE_SIZE, Ids, Listing, Pages
from handlers.due.outbound import known_link, message_link
from handlers.presses import pressed
from handlers.requirement import refresh_sheet
from handlers.serving.replies import through_inbox
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import require_visible

logger = logging.getLogger(__name__)

LINK_WORKERS = 8  # permalinks of one page (and who may see which channel) are asked for side by side
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
    # the core's Sign, recorded as made from the home; what the core has for the presser alone (already signed)
    # is not said: the home drawn again shows it
    event = replace(pressed(body, services, directory, presses.SIGN), detail={"via": "home"})
    with _drawn_again_on((Conflict, NotFound), client, services, directory, body):  # the sheet moved on
        req = services.requirements.get(event.record_id)
        missing = NotFound("error.requirement_not_found", code=str(event.record_id))
        require_visible(directory, event.user, req.channel_id, missing)
        done = press(services, event, teams=directory.scope())
    if done.changed:
        note = ("thread.confirmed", None) if done.confirmed_now else None
        refresh_sheet(client, services, directory, done.record_id, note=note)
    render(client, services, directory, event.user, _pages(body))


def complete_from_home(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Done: the item is finished; its card and the home both show it (refusals reach the error handler)."""
    ack()
    event = pressed(body, services, directory, presses.DONE)
    with _drawn_again_on((NotFound,), client, services, directory, body):  # drawn before the viewer left its channel
        item = services.actions.get(event.record_id)
        missing = NotFound("error.action_not_found", code=str(event.record_id))
        require_visible(directory, event.user, item.channel_id, missing)
        done = press(services, event, teams=directory.scope())
    if done.changed and (item := services.actions.get(done.record_id)).message_ts:
        refresh_card(
            client,
            services,
            directory,
            item,
            channel_id=item.channel_id,
            message_ts=item.message_ts,
            source_link=source_link_of(client, item),
        )
    render(client, services, directory, event.user, _pages(body))


@contextmanager
def _drawn_again_on(
    errors: tuple[type[CoordbotError], ...],
    client: WebClient,
    services: Services,
    directory: Directory,
    body: dict[str, Any],
) -> Iterator[None]:
    """On these refusals, publish the clicked home again (it was drawn before the record moved on), then raise."""
    try:
        yield
    except errors:
        render(client, services, directory, str(body["user"]["id"]), _pages(body))
        raise


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

    What each part lists, counts and pages is the core's (`bot.services.home_page`), records in conversations
    the viewer cannot see left out; here are only its permalinks and its blocks.
    """
    pages = pages or Pages()
    now = services.now()
    listed = home_page(
        services,
        team_id=directory.team_id,
        user_id=user,
        now=now,
        can_see=lambda channel: directory.can_see(user, channel),  # a record in no conversation: not shown
        windows=Windows(
            awaiting=_window(pages.sign),
            actions=_window(pages.actions),
            meetings=_window(pages.meetings),
            minutes=_window(pages.minutes),
        ),
        asked_together=LINK_WORKERS,
    )
    view = blocks.home(
        directory.lang_of(user, fetch=True),
        awaiting=_listing(client, listed.awaiting, lambda r: (r.id, r.channel_id, r.message_ts)),
        actions=_listing(client, listed.actions, lambda a: (a.id, a.channel_id, a.message_ts)),
        meetings=_listing(client, listed.meetings, lambda m: (m.id, m.channel_id, m.message_ts)),
        minutes=_listing(client, listed.minutes, None),  # minutes owed: the button records them, no link
        chosen_lang=services.prefs.user_lang(directory.team_id, user),
        tz=directory.tz_of(user),
        now=now,
    )
    client.views_publish(user_id=user, view=view)


def _window(page: int) -> Window:
    """A page of the home (1-based) as the core's window."""
    return Window((page - 1) * PAGE_SIZE, PAGE_SIZE)


def _listing(
    client: WebClient, listed: Listed[T], message: Callable[[T], tuple[int, str, str | None]] | None
) -> Listing[T]:
    """A part as the builder shows it: its page, with the permalinks of its records' messages (`message`: a
    record's id, channel and ts; None: no links)."""
    links = _links(client, [message(r) for r in listed.items]) if message else {}
    return Listing(listed.items, listed.total, listed.offset // PAGE_SIZE + 1, listed.late, links)


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
