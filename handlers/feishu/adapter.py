"""The Feishu adapter, wired: intake (callbacks or long connection), the runner of stored events, and the
sender of due work, over one lark-oapi client and the shared services."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.errors import CoordbotError, NotAllowed, ValidationFailed
from bot.inbox import Row
from bot.messenger import (
    ButtonPressed,
    CommandTyped,
    FormSubmitted,
    HomeOpened,
    Inbound,
    Platform,
    ReactionChanged,
    tenant_of,
)
from bot.outbox import Deliver
from bot.services import Services
from bot.services.reactions import MINUTES, SHEET, react
from bot.text import t, text_lang
from handlers.feishu import actions, digest, home, incident, meeting, requirement, settings
from handlers.feishu.api import FeishuApi, FeishuError
from handlers.feishu.cards.home import pressed_on_page
from handlers.feishu.due import make_feishu_deliver
from handlers.feishu.events import inbound
from handlers.feishu.forms import Forms
from handlers.feishu.intake import FeishuCallbacks, FeishuIntake, LongConnection
from handlers.feishu.people import FeishuPeople
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)
TICKET_KEPT = 60.0  # seconds a store app's ticket is used before the database is read again (Feishu: hourly)
TICKET_ASK_EVERY = 60.0  # seconds between two requests to Feishu to push a ticket


class Feishu:
    """Everything coordbot does on Feishu, for the tenants of one Feishu app."""

    def __init__(self, services: Services, *, api: FeishuApi | None = None) -> None:
        settings = services.settings
        self.services = services
        self.api = api or FeishuApi(
            app_id=settings.feishu_app_id,
            app_secret=settings.feishu_app_secret,
            domain=settings.feishu_domain,
            timeout=settings.http_timeout,
            store=settings.feishu_store,
            ticket=self.ticket,
            no_ticket=self.ask_for_ticket,
        )
        self._people: dict[str, FeishuPeople] = {}
        self._apis: dict[str, FeishuApi] = {}
        self._lock = threading.Lock()
        self._ticket: tuple[float, str | None] = (-TICKET_KEPT, None)
        self._asked_at = -TICKET_ASK_EVERY
        self.forms = Forms(services, self.people_for, services.now)
        tickets = self.keep_ticket if settings.feishu_store else None
        self.intake = FeishuIntake(services.inbox, forms=self.forms, now=services.now, tickets=tickets)

    def api_for(self, workspace: str) -> FeishuApi:
        """The calls for one tenant (a store app's are made with that tenant's token)."""
        with self._lock:
            found = self._apis.get(workspace)
            if found is None:
                found = self._apis[workspace] = self.api.for_tenant(tenant_of(workspace))
            return found

    # -- a store app's ticket ----------------------------------------------------------------------------------

    def ticket(self) -> str | None:
        """The latest ticket Feishu pushed to this store app (read from the database at most once a minute)."""
        read_at, ticket = self._ticket
        if time.monotonic() - read_at < TICKET_KEPT and ticket:
            return ticket
        ticket = self.services.workspaces.app_ticket(Platform.FEISHU, self.services.settings.feishu_app_id)
        self._ticket = (time.monotonic(), ticket)
        return ticket

    def keep_ticket(self, app_id: str, ticket: str) -> None:
        """A ticket Feishu pushed (a verified callback): kept for every process; another app's is ignored."""
        if app_id != self.services.settings.feishu_app_id:
            logger.warning("a ticket for another app (%s) was pushed here: ignored", app_id)
            return
        self.services.workspaces.keep_app_ticket(Platform.FEISHU, app_id, ticket, now=self.services.now())
        self._ticket = (time.monotonic(), ticket)
        logger.info("Feishu pushed the store app a new ticket")

    def ask_for_ticket(self) -> None:
        """Feishu would not give the app its token (no ticket yet, or a stale one): ask it to push one, at most
        once a minute; it arrives at the callback URL within seconds."""
        self._ticket = (-TICKET_KEPT, None)  # read the database again at the next call
        now = time.monotonic()
        if now - self._asked_at < TICKET_ASK_EVERY:
            return
        self._asked_at = now
        try:
            self.api.resend_ticket()
        except FeishuError as exc:
            logger.warning("could not ask Feishu to push a ticket: %s %s", exc.code, exc.msg)

    def people_for(self, workspace: str) -> FeishuPeople:
        """The people of one tenant (made once)."""
        api = self.api_for(workspace)
        with self._lock:
            found = self._people.get(workspace)
            if found is None:
                settings = self.services.settings
                found = self._people[workspace] = FeishuPeople(
                    api,
                    workspace=workspace,
                    prefs=self.services.prefs,
                    default_tz=settings.tz,
                    default_lang=settings.lang,
                )
            return found

    # -- intake ------------------------------------------------------------------------------------------

    def callbacks(self, *, wake: Callable[[], None] | None = None) -> FeishuCallbacks:
        """The HTTP callback route (signature checked with FEISHU_ENCRYPT_KEY)."""
        settings = self.services.settings
        self.intake.wake = wake
        return FeishuCallbacks(
            self.intake,
            encrypt_key=settings.feishu_encrypt_key,
            verification_token=settings.feishu_verification_token,
        )

    def long_connection(self, *, wake: Callable[[], None] | None = None) -> LongConnection:
        """The long-connection client (no public URL needed), not yet started."""
        settings = self.services.settings
        self.intake.wake = wake
        return LongConnection(
            self.intake,
            app_id=settings.feishu_app_id,
            app_secret=settings.feishu_app_secret,
            domain=settings.feishu_domain,
        )

    # -- running stored events -------------------------------------------------------------------------------

    def bot_open_id(self, workspace: str = "") -> str:
        """The bot's open_id, to tell its own @mention in a group from the people named (asked once; without it
        the first mention of a group message is taken as the bot's, as Feishu delivers only those)."""
        try:
            return (self.api_for(workspace) if workspace else self.api).bot_open_id()
        except FeishuError as exc:
            logger.warning("could not ask Feishu for the bot's open_id (%s): the first @mention is taken as it", exc)
            return ""

    def run(self, row: Row) -> None:
        """Run one stored event in full (the worker's runner for Feishu rows); raises when it should be retried."""
        payload = json.loads(row.payload)
        if payload.get("uuid") and not payload.get("header"):  # schema 1.0: a store app's life in a tenant
            self._app_event(row.team_id, payload.get("event") or {}, row.received_at)
            return
        bot = self.bot_open_id(row.team_id)
        event = inbound(payload, received_at=row.received_at, bot_open_id=bot)
        if event is None:
            return
        api, people = self.api_for(event.workspace), self.people_for(event.workspace)
        turn = Turn(event=event, api=api, services=self.services, people=people)
        try:
            self._dispatch(turn, event)
        except ValidationFailed as exc:  # a form checked on arrival, read again later: the person is told why
            key, params = next(iter(exc.field_errors.values()), ("error.generic", {"ref": row.id}))
            turn.tell(key, **params)
        except CoordbotError as exc:  # not allowed, not found, changed meanwhile: said to the person alone
            turn.tell(exc.key, **{"ref": row.id, **exc.params})

    def _app_event(self, workspace: str, event: dict[str, Any], at: datetime) -> None:
        """An organization installed the store app (its installer is welcomed), started or stopped using it, or
        removed it: while it is not using it, its due work is held, not failed."""
        kind, status = str(event.get("type") or ""), str(event.get("status") or "")
        workspaces = self.services.workspaces
        if kind == "app_open" or (kind == "app_status_change" and status.startswith("start")):
            # only a first install welcomes someone: whoever installed it (an admin, or a member without review)
            who = (event.get("installer") or event.get("installer_employee") or {}) if kind == "app_open" else {}
            installer = str(who.get("open_id") or "") or None
            workspaces.installed(
                team_id=workspace,
                enterprise_id=None,
                org_install=False,
                name="",
                installer_id=installer,
                now=at,
                app_id=str(event.get("app_id") or ""),
            )
        elif kind == "app_uninstalled" or (kind == "app_status_change" and status.startswith("stop")):
            # an organization that installed the app before this deployment knew of it has no row yet
            workspaces.seen(team_id=workspace, enterprise_id=None, org_install=False, now=at)
            workspaces.uninstalled(team_id=workspace, enterprise_id=None, reason=status or kind, now=at)

    def tell_parked(self, row: Row) -> None:
        """Tell the person behind a row that was given up on, with the row's number to quote."""
        event = inbound(json.loads(row.payload), received_at=row.received_at)
        if event is None or not event.user:
            return
        api, people = self.api_for(event.workspace), self.people_for(event.workspace)
        turn = Turn(event=event, api=api, services=self.services, people=people)
        try:
            turn.tell("error.generic", ref=row.id)
        except Exception:  # Feishu is what failed, most likely: the row stays parked with its reason
            logger.warning("could not tell %s that request %s was parked", event.user, row.id)

    def _dispatch(self, turn: Turn, event: Inbound) -> None:
        if isinstance(event, CommandTyped):
            if event.text:
                turn.people.heard(turn.user, text_lang(event.text, turn.lang))
            self._command(turn, event)
        elif isinstance(event, FormSubmitted):
            handler = FORMS.get(event.form)
            if handler is not None:
                handler(turn, event)
        elif isinstance(event, ButtonPressed):
            pressed = BUTTONS.get(event.action.partition(".")[0])
            if pressed is not None and pressed_on_page(event.detail):
                home.act_on_page(turn, event, pressed)  # the record's own handler, then the page drawn again
            elif pressed is not None:
                pressed(turn, event)
        elif isinstance(event, ReactionChanged):
            self._react(turn, event)
        elif isinstance(event, HomeOpened):
            turn.tell("feishu.hello")
            home.show(turn)

    def _react(self, turn: Turn, event: ReactionChanged) -> None:
        """A reaction on a record's card, applied by the core's rules; the card shown again when it changed."""
        sign = event.emoji in requirement.SIGN_EMOJI
        try:  # Feishu's message IDs are unique on their own: no chat needed to find the record
            reacted = react(self.services, event, sign=sign, teams=[turn.workspace], channel=None)
        except NotAllowed:
            return  # a ✅ from someone who may not sign or close is just a reaction here: nobody is messaged
        if reacted is None or not reacted.changed:
            return
        if reacted.kind == SHEET:
            requirement.refresh(turn, reacted.record_id, confirmed_now=reacted.confirmed_now)
        elif reacted.kind == MINUTES:
            meeting.refresh_minutes(turn, reacted.record_id)
        else:
            actions.refresh(turn, reacted.record_id)

    def _command(self, turn: Turn, cmd: CommandTyped) -> None:
        if cmd.command == "help":
            turn.tell("feishu.help")
        elif cmd.command in COMMANDS:
            COMMANDS[cmd.command](turn, cmd)
        else:
            turn.tell("feishu.unknown", text=cmd.text[:100])

    # -- due work --------------------------------------------------------------------------------------------

    def deliver(self) -> Deliver:
        """The outbox's sender for Feishu workspaces' rows."""
        return make_feishu_deliver(self.api, self.services, self.people_for)

    def say_hello(self, user: str, workspace: str, now: datetime) -> None:
        """A first message to a person (used by the sandbox)."""
        lang = self.people_for(workspace).lang_of(user)
        Turn(
            event=Inbound(workspace=workspace, user=user, received_at=now),
            api=self.api_for(workspace),
            services=self.services,
            people=self.people_for(workspace),
        ).tell_text(t(lang, "feishu.hello"), purpose="hello")


COMMANDS: dict[str, Callable[[Turn, CommandTyped], None]] = {
    "requirement": requirement.on_command,
    "action": actions.on_command,
    "incident": incident.on_command,
    "meeting": meeting.on_command,
    "minutes": meeting.on_minutes_command,
    "digest": digest.on_command,
    "lang": settings.on_command,
    "tz": settings.on_command,
    "settings": settings.on_command,
    "home": home.on_command,
}
FORMS: dict[str, Callable[[Turn, FormSubmitted], None]] = {
    "requirement": requirement.on_form,
    "action": actions.on_form,
    "incident": incident.on_form,
    "meeting": meeting.on_form,
    "minutes": meeting.on_minutes_form,
    "resolution": incident.on_resolution_form,
    "settings": settings.on_form,
}
BUTTONS: dict[str, Callable[[Turn, ButtonPressed], None]] = {
    "requirement": requirement.on_button,
    "action": actions.on_button,
    "incident": incident.on_button,
    "meeting": meeting.on_button,
}
