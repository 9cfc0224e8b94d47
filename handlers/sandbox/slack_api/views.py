"""Modals and App Home: trigger ids, the stack of open views, and the views.* methods."""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass
from typing import Any

from handlers.sandbox.slack_api.blockkit import _view_errors, _with_block_ids
from handlers.sandbox.slack_api.calls import Call, SlackApiFailure, _require
from handlers.sandbox.slack_api.messages import Messages
from handlers.sandbox.slack_api.workspace import BOT_ID


@dataclass
class _ViewRecord:
    view: dict[str, Any]
    source: str
    user: str | None = None
    closed: bool = False


@dataclass
class _Trigger:
    issued: float
    user: str | None
    view_id: str | None
    used: bool = False


class Views(Messages):
    """The workspace and messages, with the modals and home tabs the bot shows."""

    def __init__(self, *, team_id: str, app_id: str, trigger_ttl: float | None) -> None:
        super().__init__(team_id=team_id, app_id=app_id)
        self.trigger_ttl = trigger_ttl
        self._views: dict[str, _ViewRecord] = {}
        self._home: dict[str, str] = {}
        self._triggers: dict[str, _Trigger] = {}

    # ------------------------------------------------------------------ views and triggers

    def new_trigger_id(self, *, user: str | None = None, view_id: str | None = None) -> str:
        """Issue a trigger_id usable once by views.open / views.push within ``trigger_ttl``."""
        with self._lock:
            trigger_id = f"{10_000_000_000 + next(self._id_seq)}.{1_000_000_001}.{uuid.uuid4().hex}"
            self._triggers[trigger_id] = _Trigger(time.time(), user, view_id)
            return trigger_id

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The current JSON of a view by id, or None."""
        with self._lock:
            record = self._views.get(view_id)
            return copy.deepcopy(record.view) if record else None

    def views(self, *, open_only: bool = False) -> list[dict[str, Any]]:
        """Every modal and home view in creation order."""
        with self._lock:
            return [copy.deepcopy(r.view) for r in self._views.values() if not (open_only and r.closed)]

    def last_view(self, callback_id: str | None = None, *, open_only: bool = True) -> dict[str, Any] | None:
        """The most recently opened or pushed modal, optionally with a given callback_id."""
        with self._lock:
            for record in reversed(list(self._views.values())):
                if record.source not in ("views.open", "views.push", "response_action"):
                    continue
                if open_only and record.closed:
                    continue
                if callback_id is None or record.view.get("callback_id") == callback_id:
                    return copy.deepcopy(record.view)
            return None

    def open_modals(self, user: str) -> list[dict[str, Any]]:
        """The modals shown to ``user``, the first opened first (a pushed view lies on top of its parent)."""
        with self._lock:
            return [
                copy.deepcopy(r.view)
                for r in self._views.values()
                if r.user == user and not r.closed and r.source in ("views.open", "views.push", "response_action")
            ]

    def home_view(self, user: str) -> dict[str, Any] | None:
        """The App Home view last published for ``user``, or None."""
        with self._lock:
            view_id = self._home.get(user)
            return self.view(view_id) if view_id else None

    def is_view_open(self, view_id: str) -> bool:
        """Whether a modal is still shown to the user."""
        with self._lock:
            record = self._views.get(view_id)
            return record is not None and not record.closed

    def close_view(self, view_id: str, *, clear: bool = False) -> None:
        """Close a modal, or with ``clear`` every modal of its stack."""
        with self._lock:
            record = self._views.get(view_id)
            if record is None:
                return
            root = record.view.get("root_view_id")
            for other in self._views.values():
                if other.view["id"] == view_id or (clear and other.view.get("root_view_id") == root):
                    other.closed = True

    def apply_view_submission_response(self, view_id: str, response: dict[str, Any] | None) -> None:
        """Do what Slack does with the app's answer to a view_submission."""
        action = (response or {}).get("response_action")
        if action == "errors":
            return
        if action == "clear":
            self.close_view(view_id, clear=True)
            return
        if action not in ("update", "push"):
            self.close_view(view_id)
            return
        new_view = (response or {}).get("view")
        errors = _view_errors(new_view)
        with self._lock:
            if errors:
                self.validation_errors.extend(f"response_action {action}: {e}" for e in errors)
                return
            record = self._views.get(view_id)
            if record is None:
                return
            assert isinstance(new_view, dict)
            if action == "update":
                record.view = self._view_json(
                    new_view,
                    view_id=view_id,
                    root=record.view["root_view_id"],
                    previous=record.view.get("previous_view_id"),
                )
            else:
                pushed = self._view_json(
                    new_view, view_id=self._new_view_id(), root=record.view["root_view_id"], previous=view_id
                )
                self._views[pushed["id"]] = _ViewRecord(pushed, "response_action", record.user)

    # ------------------------------------------------------------------ helpers

    def _new_view_id(self) -> str:
        return f"V{next(self._id_seq):08d}"

    def _use_trigger(self, params: dict[str, Any], call: Call) -> _Trigger:
        _require(params, "trigger_id")
        trigger = self._triggers.get(str(params["trigger_id"]))
        if trigger is None:
            raise SlackApiFailure("invalid_trigger_id")
        if trigger.used:
            raise SlackApiFailure("trigger_exchanged")
        if self.trigger_ttl is not None and call.at - trigger.issued > self.trigger_ttl:
            raise SlackApiFailure("expired_trigger_id")
        trigger.used = True
        return trigger

    def _checked_view(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        _require(params, "view")
        errors = _view_errors(params["view"])
        if errors:
            raise self._invalid(method, errors)
        return dict(params["view"])

    def _view_json(
        self, view: dict[str, Any], *, view_id: str, root: str | None, previous: str | None
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": None,
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": previous,
            "root_view_id": root or view_id,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        for key, value in view.items():
            if key not in ("id", "hash", "state", "root_view_id", "previous_view_id", "team_id"):
                result[key] = copy.deepcopy(value)
        result["blocks"] = _with_block_ids(result["blocks"], view_id)
        return result

    def _find_view(self, params: dict[str, Any]) -> _ViewRecord:
        if params.get("view_id"):
            record = self._views.get(str(params["view_id"]))
        elif params.get("external_id"):
            record = next((r for r in self._views.values() if r.view.get("external_id") == params["external_id"]), None)
        else:
            raise SlackApiFailure("invalid_arguments")
        if record is None:
            raise SlackApiFailure("not_found")
        return record

    # ------------------------------------------------------------------ methods

    def _views_open(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        view = self._checked_view("views.open", params)
        trigger = self._use_trigger(params, call)
        stored = self._view_json(view, view_id=self._new_view_id(), root=None, previous=None)
        self._views[stored["id"]] = _ViewRecord(stored, "views.open", trigger.user)
        return {"view": copy.deepcopy(stored)}

    def _views_push(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        view = self._checked_view("views.push", params)
        trigger = self._use_trigger(params, call)
        parent = self._views.get(trigger.view_id or "")
        if parent is None:
            parent_view = self.last_view()
            parent = self._views.get(parent_view["id"]) if parent_view else None
        if parent is None:
            raise SlackApiFailure("not_found")
        depth, cursor = 1, parent.view
        while cursor.get("previous_view_id") and cursor["previous_view_id"] in self._views:
            depth += 1
            cursor = self._views[cursor["previous_view_id"]].view
        if depth >= 3:
            raise SlackApiFailure("push_limit_reached")
        stored = self._view_json(
            view, view_id=self._new_view_id(), root=parent.view["root_view_id"], previous=parent.view["id"]
        )
        self._views[stored["id"]] = _ViewRecord(stored, "views.push", trigger.user)
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        view = self._checked_view("views.update", params)
        record = self._find_view(params)
        if params.get("hash") and params["hash"] != record.view["hash"]:
            raise SlackApiFailure("hash_conflict")
        record.view = self._view_json(
            view,
            view_id=record.view["id"],
            root=record.view["root_view_id"],
            previous=record.view.get("previous_view_id"),
        )
        return {"view": copy.deepcopy(record.view)}

    def _views_publish(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "user_id")
        user = str(params["user_id"])
        if user not in self._users:
            raise SlackApiFailure("user_not_found")
        view = self._checked_view("views.publish", params)
        if view.get("type") != "home":
            raise self._invalid("views.publish", ["must be home [json-pointer:/view/type]"])
        view_id = self._home.get(user)
        if view_id and params.get("hash") and params["hash"] != self._views[view_id].view["hash"]:
            raise SlackApiFailure("hash_conflict")
        view_id = view_id or self._new_view_id()
        stored = self._view_json(view, view_id=view_id, root=None, previous=None)
        self._views[view_id] = _ViewRecord(stored, "views.publish", user)
        self._home[user] = view_id
        return {"view": copy.deepcopy(stored)}
