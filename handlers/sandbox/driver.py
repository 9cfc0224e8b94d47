"""Plays Slack's side of the HTTP conversation with a running Bolt endpoint.

``SlackDriver`` builds slash command, interactivity and Events API payloads shaped like
Slack's, signs them with the signing secret and POSTs them over real HTTP to a Bolt endpoint
(the bot served by uvicorn, ``handlers.serving.http.Server``).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from handlers.sandbox.slack_api import ALICE, BOT, GENERAL, FakeSlack

ACK_TIMEOUT = 3.0
"""Seconds Slack waits for an acknowledgement before showing an error or retrying."""

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

_MISSING = object()

_STATE_KEYS: dict[str, tuple[str, str | None, Any]] = {
    # element type: (state key, initial-value key, empty value)
    "plain_text_input": ("value", "initial_value", None),
    "email_text_input": ("value", "initial_value", None),
    "url_text_input": ("value", "initial_value", None),
    "number_input": ("value", "initial_value", None),
    "users_select": ("selected_user", "initial_user", None),
    "multi_users_select": ("selected_users", "initial_users", []),
    "static_select": ("selected_option", "initial_option", None),
    "external_select": ("selected_option", "initial_option", None),
    "multi_static_select": ("selected_options", "initial_options", []),
    "multi_external_select": ("selected_options", "initial_options", []),
    "radio_buttons": ("selected_option", "initial_option", None),
    "checkboxes": ("selected_options", "initial_options", []),
    "overflow": ("selected_option", None, None),
    "datepicker": ("selected_date", "initial_date", None),
    "timepicker": ("selected_time", "initial_time", None),
    "datetimepicker": ("selected_date_time", "initial_date_time", None),
    "conversations_select": ("selected_conversation", "initial_conversation", None),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", []),
    "channels_select": ("selected_channel", "initial_channel", None),
    "multi_channels_select": ("selected_channels", "initial_channels", []),
    "rich_text_input": ("rich_text_value", "initial_value", None),
}
_OPTION_TYPES = frozenset({"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"})


NOT_DELIVERED = 0  # Reply.status of an event Slack does not send the bot


@dataclass
class Reply:
    """What the Bolt endpoint answered."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    def json(self) -> dict[str, Any] | None:
        """The body decoded as a JSON object, or None when empty or not JSON."""
        if not self.body.strip():
            return None
        try:
            decoded = json.loads(self.body)
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict) else None

    @property
    def acked_in_time(self) -> bool:
        """True when Slack would have accepted this as a timely acknowledgement."""
        return self.status == 200 and self.elapsed < ACK_TIMEOUT


class SlackDriver:
    """Sends signed, Slack-shaped requests to a Bolt HTTP endpoint."""

    def __init__(
        self,
        endpoint_url: str,
        signing_secret: str,
        fake: FakeSlack,
        team_id: str = "T0001",
        api_app_id: str = "A0001",
        *,
        verification_token: str = "verification-token-test",
        timeout: float = 10.0,
        wait_timeout: float = 5.0,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        org_install: bool = False,
    ) -> None:
        """``wait_timeout`` bounds how long click/submit_view wait for a message or view to appear.

        With ``enterprise_id`` the workspace is in that Enterprise Grid org and every payload says so;
        ``org_install``: the app is installed org-wide there (``is_enterprise_install`` true).
        """
        if org_install and enterprise_id is None:
            raise ValueError("an org-wide install needs the org's enterprise_id")
        self.endpoint_url = endpoint_url
        self.signing_secret = signing_secret
        self.fake = fake
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self.enterprise_id = enterprise_id
        same_org = enterprise_id is not None and fake.enterprise_id == enterprise_id
        self.enterprise_name = enterprise_name or (fake.enterprise_name if same_org else None) or enterprise_id
        self.org_install = org_install
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        self._verifier = SignatureVerifier(signing_secret)
        self._seq = count(1)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------------ transport

    def headers_for(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        """The X-Slack-Request-Timestamp / X-Slack-Signature headers Slack would send."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=stamp, body=body)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or ""}

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Reply:
        """POST a raw body, signed unless ``signature`` overrides it."""
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **self.headers_for(body, timestamp=timestamp),
        }
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        request = urllib.request.Request(self.endpoint_url, data=body.encode("utf-8"), headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, raw, got = response.status, response.read(), dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            status, raw, got = exc.code, exc.read(), dict(exc.headers.items())
        return Reply(status, raw.decode("utf-8", "replace"), got, time.perf_counter() - started)

    def post_form(self, fields: Mapping[str, str], **kwargs: Any) -> Reply:
        """POST form fields (slash commands)."""
        return self.post(urlencode(fields), FORM, **kwargs)

    def post_payload(self, payload: Mapping[str, Any], **kwargs: Any) -> Reply:
        """POST an interactivity payload as the form field ``payload``."""
        return self.post(urlencode({"payload": json.dumps(payload)}), FORM, **kwargs)

    def post_json(self, body: Mapping[str, Any], **kwargs: Any) -> Reply:
        """POST an Events API JSON body."""
        return self.post(json.dumps(body), JSON, **kwargs)

    # ------------------------------------------------------------------ slash commands

    def slash(
        self,
        command: str,
        text: str = "",
        *,
        user: str = ALICE,
        channel: str = GENERAL,
        channel_name: str | None = None,
    ) -> Reply:
        """Invoke a slash command the way Slack does (form-encoded)."""
        name = channel_name or self._channel_name(channel)
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.fake.team_domain,
            **(
                {"enterprise_id": self.enterprise_id, "enterprise_name": self.enterprise_name or ""}
                if self.enterprise_id is not None
                else {}
            ),
            "channel_id": channel,
            "channel_name": name,
            "user_id": user,
            "user_name": self._user_name(user),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "true" if self.org_install else "false",
            "response_url": self.fake.new_response_url(channel=channel, user=user),
            "trigger_id": self.fake.new_trigger_id(user=user),
        }
        return self.post_form(fields)

    # ------------------------------------------------------------------ modals

    def submit_view(
        self,
        values: Mapping[str, object] | None = None,
        *,
        user: str = ALICE,
        view: dict[str, Any] | None = None,
        callback_id: str | None = None,
        enforce_required: bool = True,
    ) -> Reply:
        """Submit a modal with ``values`` keyed by input block_id; others keep their initial values.

        Without ``view`` the last open modal in the fake (with ``callback_id`` if given) is used.
        Like Slack's client, refuses (ValueError) to submit when a required input is empty.
        """
        if view is None:
            view = self._wait(
                lambda: self.fake.last_view(callback_id),
                f"an open modal{f' with callback_id {callback_id!r}' if callback_id else ''}",
            )
        state = view_state(view, values or {})
        if enforce_required:
            _check_required(view, state)
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self.fake.new_trigger_id(user=user, view_id=view.get("id")),
            "view": self._view_payload(view, state),
            "response_urls": [],
            **self._grid(),
        }
        reply = self.post_payload(payload)
        if reply.status == 200 and view.get("id"):
            self.fake.apply_view_submission_response(str(view["id"]), reply.json())
        return reply

    def close_view(self, *, user: str = ALICE, view: dict[str, Any] | None = None) -> Reply:
        """Close a modal with its Cancel button (``view_closed``; sent only when notify_on_close)."""
        if view is None:
            view = self._wait(lambda: self.fake.last_view(), "an open modal")
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "view": self._view_payload(view, view_state(view, {})),
            "is_cleared": False,
            **self._grid(),
        }
        reply = self.post_payload(payload)
        if view.get("id"):
            self.fake.close_view(str(view["id"]))
        return reply

    # ------------------------------------------------------------------ interactivity

    def click(
        self,
        action_id: str,
        *,
        user: str = ALICE,
        message: dict[str, Any] | None = None,
        value: str | Sequence[str] | None = None,
        view: dict[str, Any] | None = None,
        block_id: str | None = None,
        ephemeral: bool = False,
        values: Mapping[str, object] | None = None,
    ) -> Reply:
        """Use an interactive element (button, select, ...) of a message or view.

        Without ``message``/``view`` the newest stored message holding ``action_id`` is used.
        ``value`` picks the button value or option value(s); the element's own value otherwise.
        ``block_id`` tells apart elements of one action_id in different blocks; ``ephemeral``: ``message`` is
        an ephemeral one; ``values``: what the person has entered in the view's inputs so far.
        """
        if view is not None:
            return self._click_in_view(action_id, user=user, view=view, value=value, block_id=block_id, values=values)
        if message is not None:
            stored = message if ephemeral else self.fake.message(message["channel"], message["ts"]) or message
            found = _find_element(stored.get("blocks") or [], action_id, block_id)
            if found is None:
                raise AssertionError(f"action_id {action_id!r} not found in message {message.get('ts')}")
            return self._click_in_message(stored, found, user=user, value=value, ephemeral=ephemeral)

        def search() -> tuple[dict[str, Any], tuple[str, dict[str, Any]], bool] | None:
            for candidate in reversed(self.fake.messages()):
                hit = _find_element(candidate.get("blocks") or [], action_id)
                if hit is not None:
                    return candidate, hit, False
            for candidate in reversed(self.fake.ephemerals(user=user)):
                hit = _find_element(candidate.get("blocks") or [], action_id)
                if hit is not None:
                    return candidate, hit, True
            return None

        stored, found, ephemeral = self._wait(search, f"a message with action_id {action_id!r}")
        return self._click_in_message(stored, found, user=user, value=value, ephemeral=ephemeral)

    def shortcut(
        self, callback_id: str, *, user: str = ALICE, message: dict[str, Any] | None = None, channel: str | None = None
    ) -> Reply:
        """A message shortcut on ``message``, or a global shortcut when ``message`` is None."""
        base: dict[str, Any] = {
            "type": "shortcut",
            "token": self.verification_token,
            "action_ts": _now_ts(),
            "team": self._team(),
            "user": self._user(user),
            **self._grid(),
            "callback_id": callback_id,
            "trigger_id": self.fake.new_trigger_id(user=user),
        }
        if message is None:
            return self.post_payload(base)
        channel_id = channel or message.get("channel") or GENERAL
        base.update(
            {
                "type": "message_action",
                "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
                "response_url": self.fake.new_response_url(channel=channel_id, user=user),
                "message_ts": message["ts"],
                "message": {k: v for k, v in message.items() if k != "channel"},
            }
        )
        return self.post_payload(base)

    # ------------------------------------------------------------------ events

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None) -> Reply:
        """Deliver any Events API event inside an ``event_callback`` envelope."""
        inner = {"event_ts": _now_ts(), **event}
        context_json = json.dumps({"tid": self.team_id, "aid": self.api_app_id})
        context = base64.b64encode(context_json.encode()).decode()
        body = {
            "token": self.verification_token,
            "team_id": self.team_id,
            **({"enterprise_id": self.enterprise_id} if self.enterprise_id is not None else {}),
            "context_team_id": self.team_id,
            "context_enterprise_id": self.enterprise_id,
            "api_app_id": self.api_app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": BOT,
                    "is_bot": True,
                    "is_enterprise_install": self.org_install,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{context}",
        }
        return self.post_json(body, retry_num=retry_num)

    def react(
        self,
        name: str,
        *,
        channel: str,
        ts: str,
        user: str = ALICE,
        removed: bool = False,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> Reply:
        """A user adds (or removes) a reaction on a message.

        Like Slack, the event reaches the bot only from a conversation it is a member of: elsewhere the
        reaction is shown on the message and nothing is sent (`NOT_DELIVERED`).
        """
        stored = self.fake.message(channel, ts)
        if stored is not None and retry_num is None:
            self.fake.apply_reaction(channel, ts, name, user, removed=removed)
        if not self.fake.bot_is_member(stored["channel"] if stored else channel):
            return Reply(NOT_DELIVERED, "not delivered: the bot is not a member of the conversation")
        event = {
            "type": "reaction_removed" if removed else "reaction_added",
            "user": user,
            "reaction": name,
            "item": {"type": "message", "channel": stored["channel"] if stored else channel, "ts": ts},
            "item_user": stored.get("user", BOT) if stored else BOT,
        }
        return self.event(event, event_id=event_id, retry_num=retry_num)

    def app_home_opened(self, user: str = ALICE) -> Reply:
        """The user opens the app's Home tab."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
        home = self.fake.home_view(user)
        if home is not None:
            event["view"] = home
        return self.event(event)

    def uninstall(self) -> Reply:
        """The app is uninstalled from the workspace (or the org): the ``app_uninstalled`` event."""
        return self.event({"type": "app_uninstalled"})

    def tokens_revoked(self, *, bot_ids: Sequence[str] | None = None, user_ids: Sequence[str] = ()) -> Reply:
        """The app's tokens are revoked: ``tokens_revoked`` lists user IDs by kind (default: the bot's)."""
        if bot_ids is None:
            bot_ids = [] if user_ids else [BOT]
        tokens: dict[str, list[str]] = {}
        if user_ids:
            tokens["oauth"] = list(user_ids)
        if bot_ids:
            tokens["bot"] = list(bot_ids)
        return self.event({"type": "tokens_revoked", "tokens": tokens})

    def url_verification(self, challenge: str) -> Reply:
        """The handshake Slack performs when the Request URL is saved."""
        return self.post_json({"token": self.verification_token, "challenge": challenge, "type": "url_verification"})

    # ------------------------------------------------------------------ internals

    def _wait(self, probe: Any, what: str) -> Any:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                methods = [c.method for c in self.fake.calls()]
                raise AssertionError(f"no {what} after {self.wait_timeout}s; Slack API calls so far: {methods}")
            time.sleep(0.005)

    def _team(self) -> dict[str, str]:
        team = {"id": self.team_id, "domain": self.fake.team_domain}
        if self.enterprise_id is not None:
            team.update({"enterprise_id": self.enterprise_id, "enterprise_name": self.enterprise_name or ""})
        return team

    def _grid(self) -> dict[str, Any]:
        """An interactivity payload's ``enterprise`` and ``is_enterprise_install``."""
        enterprise = None if self.enterprise_id is None else {"id": self.enterprise_id, "name": self.enterprise_name}
        return {"enterprise": enterprise, "is_enterprise_install": self.org_install}

    def _user_name(self, user: str) -> str:
        info = self.fake.user(user)
        return str(info["name"]) if info else user.lower()

    def _user(self, user: str) -> dict[str, str]:
        name = self._user_name(user)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _channel_name(self, channel: str) -> str:
        if channel.startswith("D"):
            return "directmessage"
        info = self.fake.channel(channel)
        return str(info["name"]) if info and "name" in info else channel.lower()

    def _view_payload(self, view: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "id",
            "team_id",
            "type",
            "blocks",
            "private_metadata",
            "callback_id",
            "hash",
            "title",
            "clear_on_close",
            "notify_on_close",
            "close",
            "submit",
            "previous_view_id",
            "root_view_id",
            "app_id",
            "external_id",
            "app_installed_team_id",
            "bot_id",
        )
        payload = {k: view.get(k) for k in keys}
        payload["team_id"] = payload["team_id"] or self.team_id
        payload["app_id"] = payload["app_id"] or self.api_app_id
        payload["private_metadata"] = payload["private_metadata"] or ""
        payload["callback_id"] = payload["callback_id"] or ""
        payload["state"] = state
        return payload

    def _click_in_message(
        self,
        message: dict[str, Any],
        found: tuple[str, dict[str, Any]],
        *,
        user: str,
        value: str | Sequence[str] | None,
        ephemeral: bool,
    ) -> Reply:
        block_id, element = found
        channel = str(message["channel"])
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": self.fake.new_trigger_id(user=user),
            "team": self._team(),
            **self._grid(),
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "state": {"values": {}},
            "response_url": self.fake.new_response_url(
                channel=channel, message_ts=None if ephemeral else message["ts"], user=user
            ),
            "actions": [_action(element, block_id, value)],
        }
        if not ephemeral:
            payload["message"] = {k: v for k, v in message.items() if k != "channel"}
        return self.post_payload(payload)

    def type_in(
        self,
        block_id: str,
        text: str,
        *,
        user: str = ALICE,
        view: dict[str, Any] | None = None,
        values: Mapping[str, object] | None = None,
    ) -> Reply:
        """Type into a text input that dispatches actions (``dispatch_action``), as Slack reports it."""
        if view is None:
            view = self._wait(lambda: self.fake.last_view(), "an open modal")
        current = self.fake.view(str(view.get("id"))) or view
        block = next((b for b in current.get("blocks") or [] if b.get("block_id") == block_id), None)
        if block is None or not block.get("dispatch_action"):
            raise AssertionError(f"block {block_id!r} is not an input that dispatches actions")
        element = block["element"]
        payload = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": current.get("id")},
            "trigger_id": self.fake.new_trigger_id(user=user, view_id=current.get("id")),
            "team": self._team(),
            **self._grid(),
            "view": self._view_payload(current, view_state(current, {**(values or {}), block_id: text})),
            "actions": [
                {
                    "type": element["type"],
                    "block_id": block_id,
                    "action_id": element["action_id"],
                    "value": text,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.post_payload(payload)

    def _click_in_view(
        self,
        action_id: str,
        *,
        user: str,
        view: dict[str, Any],
        value: str | Sequence[str] | None,
        block_id: str | None = None,
        values: Mapping[str, object] | None = None,
    ) -> Reply:
        current = self.fake.view(str(view.get("id"))) or view
        found = _find_element(current.get("blocks") or [], action_id, block_id)
        if found is None:
            raise AssertionError(f"action_id {action_id!r} not found in view {current.get('id')}")
        found_block, element = found
        payload = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": current.get("id")},
            "trigger_id": self.fake.new_trigger_id(user=user, view_id=current.get("id")),
            "team": self._team(),
            **self._grid(),
            "view": self._view_payload(current, view_state(current, values or {})),
            "actions": [_action(element, found_block, value)],
        }
        return self.post_payload(payload)


# ---------------------------------------------------------------------- payload helpers


def view_state(view: Mapping[str, Any], values: Mapping[str, object]) -> dict[str, Any]:
    """Build ``view.state`` as Slack would from a view's input blocks and submitted ``values``."""
    unknown = set(values) - {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
    if unknown:
        raise ValueError(f"no input block(s) {sorted(unknown)} in view {view.get('callback_id')!r}")
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        given = values.get(block["block_id"], _MISSING)
        state[block["block_id"]] = {element["action_id"]: _element_state(element, given)}
    return {"values": state}


def _element_state(element: Mapping[str, Any], given: object) -> dict[str, Any]:
    kind = str(element.get("type"))
    if kind not in _STATE_KEYS:
        raise ValueError(f"element type {kind!r} is not supported")
    key, initial_key, empty = _STATE_KEYS[kind]
    if given is _MISSING:
        given = element.get(initial_key, empty) if initial_key else empty
        if kind in _OPTION_TYPES or kind.endswith("external_select"):
            return {"type": kind, key: given}
    return {"type": kind, key: _convert(element, kind, given, empty)}


def _convert(element: Mapping[str, Any], kind: str, given: object, empty: Any) -> Any:
    if given is None:
        return empty
    if kind in _OPTION_TYPES:
        if _holds_options(kind):
            return [_option(element, item) for item in _as_list(given)]
        return _option(element, given)
    if kind.endswith("external_select"):
        if _holds_options(kind):
            return [_as_option(item) for item in _as_list(given)]
        return _as_option(given)
    if kind == "datepicker":
        return given.isoformat() if isinstance(given, date | datetime) else str(given)
    if kind == "datetimepicker":
        return int(given.timestamp()) if isinstance(given, datetime) else int(str(given))
    if isinstance(empty, list):
        return _as_list(given)
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return str(given)
    return given


def _as_list(value: object) -> list[Any]:
    if isinstance(value, str | dict):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _holds_options(kind: str) -> bool:
    return kind in ("checkboxes", "multi_static_select", "multi_external_select")


def _option(element: Mapping[str, Any], value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        value = value.get("value")
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return dict(option)
    raise ValueError(
        f"{value!r} is not an option of {element.get('action_id')!r}; options are {[o.get('value') for o in options]}"
    )


def _as_option(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}


def _check_required(view: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or block.get("optional"):
            continue
        entry = next(iter(state["values"][block["block_id"]].values()))
        current = [v for k, v in entry.items() if k != "type"]
        if not current or current[0] in (None, "", []):
            raise ValueError(f"Slack would not submit: required input {block['block_id']!r} is empty")


def _iter_elements(blocks: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                yield block_id, block[key]
        if block.get("type") in ("actions", "context"):
            for element in block.get("elements") or []:
                if isinstance(element, dict):
                    yield block_id, element


def _find_element(
    blocks: Sequence[Mapping[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    return next(
        (
            (b, e)
            for b, e in _iter_elements(blocks)
            if e.get("action_id") == action_id and (block_id is None or b == block_id)
        ),
        None,
    )


def _action(element: Mapping[str, Any], block_id: str, value: str | Sequence[str] | None) -> dict[str, Any]:
    kind = str(element.get("type"))
    action: dict[str, Any] = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "type": kind,
        "action_ts": _now_ts(),
    }
    if kind == "button":
        action["text"] = element.get("text")
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if element.get("style"):
            action["style"] = element["style"]
        return action
    if kind in _OPTION_TYPES and value is None and kind in ("overflow", "static_select", "radio_buttons"):
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            options.extend(group.get("options") or [])
        default = element.get("initial_option") or (options[0] if options else None)
        value = default.get("value") if default else None
    state = _element_state(element, _MISSING if value is None else value)
    action.update({k: v for k, v in state.items() if k != "type"})
    if element.get("placeholder"):
        action["placeholder"] = element["placeholder"]
    return action


def _now_ts() -> str:
    return f"{time.time():.6f}"
