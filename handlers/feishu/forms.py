"""Card forms checked as they arrive, without network calls: Feishu waits 3 seconds for the answer, and a form
with a mistake is answered with what is wrong (a toast) instead of being stored."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.errors import CoordbotError, ValidationFailed
from bot.services import Services
from bot.text import t
from handlers.feishu.cards import actions as action_cards
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards import requirement as requirement_cards
from handlers.feishu.cards.common import errors_toast, toast
from handlers.feishu.people import FeishuPeople

logger = logging.getLogger(__name__)


class Forms:
    """Reads a card action's form with the same parsers the worker uses, as of now."""

    def __init__(self, services: Services, people_for: Callable[[str], FeishuPeople], now: Callable[[], datetime]):
        self.services = services
        self.people_for = people_for
        self.now = now

    def check(self, workspace: str, user: str, action: dict[str, Any]) -> dict[str, Any]:
        """The answer for an acceptable action (a toast); raises ValidationFailed for a form with mistakes.

        A form that names people by @name is read against its group's members, which are kept a few minutes:
        the first form of a group may wait for Feishu's member list.
        """
        value = action.get("value") or {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = {}
        people = self.people_for(workspace)
        lang = people.lang_of(user)
        form = str(value.get("form") or "") if isinstance(value, dict) else ""
        if not form:
            return {}  # a button: its work is done by the worker, its card updated in place
        values = dict(action.get("form_value") or {})
        tz, now, end = people.tz_of(user), self.now(), self.services.settings.workday_end
        chat = str(value.get("chat") or "")
        if form == requirement_cards.FORM_KIND:
            requirement_cards.parse_requirement_form(
                values, now=now, tz=tz, lang=lang, workday_end=end, chat_id=chat, members=people.members(chat)
            )
        elif form == action_cards.FORM_KIND:
            action_cards.parse_action_form(values, now=now, tz=tz, lang=lang, workday_end=end)
        elif form == incident_cards.FORM_KIND:
            incident_cards.parse_incident_form(values, lang=lang, user_id=user)
        elif form == incident_cards.RESOLUTION_KIND:
            info = self.services.incidents.get(int(value.get("incident") or 0))
            members = people.members(info.channel_id) if info.channel_id else []
            incident_cards.parse_resolution_form(values, now=now, tz=tz, lang=lang, members=members, workday_end=end)
        elif form == meeting_cards.FORM_KIND:
            meeting_cards.parse_meeting_form(
                values,
                now=now,
                tz=tz,
                lang=lang,
                workday_end=end,
                host_id=user,
                chat_id=chat,
                members=people.members(chat),
            )
        elif form == meeting_cards.MINUTES_KIND:
            meeting = self.services.meetings.get(int(value.get("meeting") or 0))
            members = people.members(meeting.channel_id)
            meeting_cards.parse_minutes_form(values, now=now, tz=tz, lang=lang, workday_end=end, members=members)
        elif form != "settings":  # the settings card offers only valid choices
            return toast("error", t(lang, "feishu.unknown", text=form[:40]))
        return toast("success", t(lang, "feishu.saved"))

    def refusal(self, workspace: str, operator: dict[str, Any], exc: CoordbotError) -> dict[str, Any]:
        """The toast that says why a form was refused (its record gone, not allowed), in the person's language."""
        lang = self.people_for(workspace).lang_of(str(operator.get("open_id") or ""))
        return toast("error", t(lang, exc.key, **{"ref": "-", **exc.params}))

    def errors_answer(
        self, workspace: str, operator: dict[str, Any], action: dict[str, Any], exc: ValidationFailed
    ) -> dict[str, Any]:
        """The toast that names what is wrong (with the form's own field labels), in the person's language."""
        lang = self.people_for(workspace).lang_of(str(operator.get("open_id") or ""))
        value = action.get("value") if isinstance(action.get("value"), dict) else {}
        form = str((value or {}).get("form") or "")
        if form in (incident_cards.FORM_KIND, incident_cards.RESOLUTION_KIND):
            return incident_cards.incident_errors(lang, exc)
        if form in (meeting_cards.FORM_KIND, meeting_cards.MINUTES_KIND):
            return meeting_cards.meeting_errors(lang, exc)
        labels = action_cards.LABELS if form == action_cards.FORM_KIND else requirement_cards.LABELS
        return errors_toast(lang, exc, labels=labels)
