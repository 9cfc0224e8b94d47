"""The sandbox: the emulated Slack workspace plus the web page people use it from.

`Sandbox` is the emulated Web API (`slack_api.FakeSlack`) that also serves the page (`static/`) and a small JSON
API the page calls: what a person sees (`GET /sandbox/state`), and what they do (`POST /sandbox/<verb>`), each
turned into the request Slack would send coordbot, signed, over HTTP (`driver.SlackDriver`).
"""

from __future__ import annotations

import itertools
import json
import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from handlers.sandbox.clock import ClockError, SandboxClock, read_local, read_move
from handlers.sandbox.driver import Reply, SlackDriver, view_state
from handlers.sandbox.slack_api import BOT, FakeSlack
from handlers.sandbox.slack_api.calls import Call
from handlers.sandbox.slack_api.server import _Answer
from handlers.sandbox.slack_api.views import _ViewRecord

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
CALLS_SHOWN = 300
REACTION_CHOICES = ("white_check_mark", "heavy_check_mark", "pushpin", "eyes", "+1", "tada", "x")
REQUIRED = "Please complete this required field."
_MENTION = re.compile(r"(?<![\w&])([@#])([^\s@#<>&,，。:：;；!?！？()（）]+)")
_TEXT_INPUTS = ("plain_text_input", "number_input", "email_text_input", "url_text_input")


class Refused(Exception):
    """What a person asked for cannot be done; the message says why."""


class Sandbox(FakeSlack):
    """The emulated workspace, its page, and the people's actions sent to coordbot as Slack sends them."""

    def __init__(
        self,
        clock: SandboxClock,
        *,
        bot_token: str,
        commands: list[dict[str, Any]] | None = None,
        shortcuts: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(bot_token=bot_token, trigger_ttl=3.0)
        self.clock = clock
        self.ts_clock = clock.timestamp
        self.commands = commands or []
        self.shortcuts = shortcuts or []
        self.driver: SlackDriver | None = None
        self.tick: Callable[[], int] = lambda: 0
        self._version = 0
        self._version_lock = threading.Lock()
        self._verbs: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "send": self._send,
            "action": self._action,
            "view_submit": self._view_submit,
            "view_type": self._view_type,
            "view_close": self._view_close,
            "react": self._react,
            "shortcut": self._shortcut,
            "home_opened": self._home_opened,
            "clock": self._move_clock,
        }

    def connect(self, driver: SlackDriver, tick: Callable[[], int]) -> None:
        """Where people's actions go (coordbot's endpoint), and how coordbot delivers what is due."""
        self.driver = driver
        self.tick = tick

    @property
    def version(self) -> int:
        """Grows whenever anything a person could see may have changed."""
        with self._version_lock:
            return self._version

    def changed(self) -> None:
        """Something a person could see may have changed."""
        with self._version_lock:
            self._version += 1

    # ------------------------------------------------------------------ kept between runs

    def save(self, path: Path) -> None:
        """Write the workspace's channels, messages and Home tabs to `path` (JSON), atomically."""
        with self._lock:
            next_channel, next_id = next(self._channel_seq), next(self._id_seq)
            self._channel_seq, self._id_seq = itertools.count(next_channel), itertools.count(next_id)
            snapshot = {
                "channels": self._channels,
                "messages": list(self._messages.values()),
                "homes": {user: self._views[view_id].view for user, view_id in self._home.items()},
                "next_channel": next_channel,
                "next_id": next_id,
                "last_micros": self._last_micros,
            }
            data = json.dumps(snapshot, ensure_ascii=False)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(data, encoding="utf-8")
        partial.replace(path)

    def load(self, path: Path) -> bool:
        """Read what `save` wrote (False when there is nothing, or nothing readable, to read)."""
        try:
            snapshot = json.loads(path.read_text(encoding="utf-8"))
            channels = dict(snapshot["channels"])
            messages = {(m["channel"], m["ts"]): m for m in snapshot["messages"]}
            homes = dict(snapshot["homes"])
            next_channel, next_id = int(snapshot["next_channel"]), int(snapshot["next_id"])
            last_micros = int(snapshot["last_micros"])
        except FileNotFoundError:
            return False
        except (ValueError, KeyError, TypeError):
            logger.warning("sandbox: %s is not readable; the workspace starts afresh", path)
            return False
        with self._lock:
            self._channels.update(channels)
            self._messages.update(messages)
            for user, view in homes.items():
                self._views[view["id"]] = _ViewRecord(view, "views.publish", user)
                self._home[user] = view["id"]
            self._channel_seq = itertools.count(next_channel)
            self._id_seq = itertools.count(next_id)
            self._last_micros = last_micros
        self.changed()
        return True

    # ------------------------------------------------------------------ HTTP

    def _finish(self, call: Call, answer: _Answer) -> _Answer:
        result = super()._finish(call, answer)
        self.changed()
        return result

    def _other(self, verb: str, path: str, query: str, raw: bytes, headers: dict[str, str]) -> _Answer | None:
        # Only pages of this machine's own address may use the sandbox: another site in the same browser cannot
        # reach it through a name that resolves here (DNS rebinding), nor post to it (a JSON body needs CORS
        # consent, which is never given).
        host = _header(headers, "Host")
        if host not in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
            return _Answer(403, {"ok": False, "error": "the sandbox answers only at its own address"})
        if verb == "POST" and not _header(headers, "Content-Type").startswith("application/json"):
            return _Answer(415, {"ok": False, "error": "send JSON (Content-Type: application/json)"})
        if verb == "GET" and path in ("/", "/index.html"):
            return _file(STATIC / "index.html")
        if verb == "GET" and path.startswith("/static/"):
            name = path[len("/static/") :]
            found = STATIC / name
            if "/" in name or name.startswith(".") or not found.is_file():
                return None
            return _file(found)
        if verb == "GET" and path.startswith("/sandbox/files/"):
            shared = self.shared_file(path[len("/sandbox/files/") :])
            if shared is None:
                return None
            data, content_type = shared
            return _Answer(200, {}, raw=data, content_type=content_type)
        if verb == "GET" and path == "/sandbox/state":
            params = {k: v[-1] for k, v in parse_qs(query).items()}
            try:
                return _Answer(200, self.state(params.get("as", ""), since=params.get("since")))
            except Refused as exc:
                return _Answer(400, {"ok": False, "error": str(exc)})
        if verb == "POST" and path.startswith("/sandbox/"):
            handler = self._verbs.get(path[len("/sandbox/") :])
            if handler is None:
                return None
            try:
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            except ValueError:
                return _Answer(400, {"ok": False, "error": "the body must be a JSON object"})
            return _Answer(200, self._do(handler, body))
        return None

    def _do(self, handler: Callable[[dict[str, Any]], dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        try:
            self._person(body.get("as"))
            return {"ok": True, **handler(body)}
        except (Refused, ClockError) as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # the page shows it; the sandbox keeps serving
            logger.exception("sandbox: %s failed", handler.__name__)
            return {"ok": False, "error": f"the sandbox could not do that: {type(exc).__name__}: {exc}"[:300]}
        finally:
            self.changed()

    # ------------------------------------------------------------------ what a person sees

    def state(self, viewer: str, *, since: str | None = None) -> dict[str, Any]:
        """Everything `viewer` can see now (or only the version, when nothing changed since `since`)."""
        version = self.version
        if since is not None and since == str(version):
            return {"version": version, "unchanged": True}
        if not viewer:  # the page's first visit: the first person of the workspace
            viewer = next(u["id"] for u in self.people() if not u["is_bot"] and not u["deleted"])
        person = self._person(viewer)
        visible = self._conversations(viewer)
        ahead = self.clock.offset.total_seconds()
        seen = {c["id"] for c in visible}
        messages = [_message_json(m) for m in self.messages() if m["channel"] in seen]
        ephemerals = [_message_json(m) for m in self.ephemerals(user=viewer) if m["channel"] in seen]
        return {
            "version": version,
            "now": self.clock().isoformat(),
            "team": {"id": self.team_id, "name": self.team_name, "domain": self.team_domain},
            "bot": {"id": BOT, "name": "coordbot"},
            "viewer": person,
            "users": [_person_json(u) for u in self.people()],
            "conversations": visible,
            "messages": messages,
            "ephemerals": ephemerals,
            "home": self.home_view(viewer),
            "modals": self.open_modals(viewer),
            "shortcuts": self.shortcuts,
            "commands": self.commands,
            "reaction_choices": list(REACTION_CHOICES),
            "calls": [_call_json(n, c, ahead) for n, c in list(enumerate(self.calls(), 1))[-CALLS_SHOWN:]],
        }

    def _person(self, user: object) -> dict[str, Any]:
        info = self.user(user) if isinstance(user, str) and user else None
        if info is None or info["is_bot"] or info["deleted"]:
            raise Refused(f"no such person in this workspace: {str(user)[:40]!r}")
        return _person_json(info)

    def _conversations(self, viewer: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for channel_id in self.channel_ids():
            info = self.channel(channel_id)
            members = self.members(channel_id)
            if info is None or info.get("is_archived") or viewer not in members:
                continue
            found.append(
                {
                    "id": channel_id,
                    "name": info["name"],
                    "kind": "private" if info["is_private"] else "channel",
                    "is_member": True,
                    "bot_is_member": BOT in members,
                }
            )
        found.append(
            {
                "id": "D" + viewer,
                "name": "coordbot",
                "kind": "dm",
                "user": BOT,
                "is_member": True,
                "bot_is_member": True,
            }
        )
        return found

    def _can_see(self, viewer: str, channel: object) -> str:
        if not isinstance(channel, str) or channel not in {c["id"] for c in self._conversations(viewer)}:
            raise Refused("you are not in that conversation")
        return channel

    # ------------------------------------------------------------------ what a person does

    def _slack(self) -> SlackDriver:
        if self.driver is None:
            raise Refused("coordbot is not connected yet")
        return self.driver

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = str(body["as"])
        channel = self._can_see(viewer, body.get("channel"))
        text = str(body.get("text") or "").strip()
        if not text:
            raise Refused("nothing to send")
        thread_ts = body.get("thread_ts") or None
        if not text.startswith("/"):
            self.add_message(channel, self._as_slack_writes(text, names=False), user=viewer, thread_ts=thread_ts)
            return {}
        command, _, rest = text.partition(" ")
        known = {c["command"]: c for c in self.commands}
        if command not in known:
            raise Refused(f"{command[:40]} is not a valid command. In Slack, messages that start with / are commands.")
        escape = bool(known[command].get("should_escape"))
        rest = self._as_slack_writes(rest.strip(), names=True) if escape else _entities(rest.strip())
        reply = self._slack().slash(command, rest, user=viewer, channel=channel)
        self._check(reply, f"{command} failed")
        answer = reply.json()
        if answer and (answer.get("text") or answer.get("blocks")):
            if answer.get("response_type") == "in_channel":
                self._post_as_bot(channel, answer)
            else:
                self._show_ephemeral(channel, viewer, answer)
        elif reply.body.strip() and answer is None:
            self._show_ephemeral(channel, viewer, {"text": reply.body})
        return {}

    def _action(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = str(body["as"])
        action = body.get("action")
        container = body.get("container")
        if not isinstance(action, dict) or not isinstance(container, dict) or not action.get("action_id"):
            raise Refused("which element was used?")
        value = action.get("value")
        if container.get("type") == "view":
            view = self._own_view(viewer, container.get("view_id"))
            values = body.get("values") if isinstance(body.get("values"), dict) else {}
            reply = self._slack().click(
                str(action["action_id"]),
                user=viewer,
                view=view,
                value=value,
                block_id=action.get("block_id"),
                values=self._submitted(view, values or {}),
            )
        else:
            channel = self._can_see(viewer, container.get("channel"))
            ephemeral = bool(container.get("ephemeral"))
            message = self._find_message(viewer, channel, str(container.get("ts") or ""), ephemeral=ephemeral)
            reply = self._slack().click(
                str(action["action_id"]),
                user=viewer,
                message=message,
                value=value,
                block_id=action.get("block_id"),
                ephemeral=ephemeral,
            )
        self._check(reply, "coordbot did not take the action")
        return {}

    def _view_submit(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = str(body["as"])
        view = self._own_view(viewer, body.get("view_id"))
        given = body.get("values") if isinstance(body.get("values"), dict) else {}
        values = self._submitted(view, given or {})
        state = view_state(view, values)["values"]
        missing = {
            b["block_id"]: REQUIRED
            for b in view.get("blocks") or []
            if b.get("type") == "input"
            and not b.get("optional")
            and all(_empty(v) for k, v in next(iter(state[b["block_id"]].values())).items() if k != "type")
        }
        if missing:  # Slack's client checks required fields itself; coordbot never hears of it
            return {"errors": missing}
        reply = self._slack().submit_view(values, user=viewer, view=view, enforce_required=False)
        self._check(reply, "coordbot did not accept the form")
        answer = reply.json() or {}
        if answer.get("response_action") == "errors":
            return {"errors": answer.get("errors") or {}}
        return {}

    def _view_type(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = str(body["as"])
        if body.get("view_id") not in {v["id"] for v in self.open_modals(viewer)}:
            return {}  # typed just before the form closed: Slack's client sends nothing then
        view = self._own_view(viewer, body.get("view_id"))
        given = body.get("values") if isinstance(body.get("values"), dict) else {}
        values = self._submitted(view, given or {})
        block_id = str(body.get("block_id") or "")
        values.pop(block_id, None)
        reply = self._slack().type_in(block_id, str(body.get("text") or ""), user=viewer, view=view, values=values)
        self._check(reply, "coordbot did not take what was typed")
        return {}

    def _view_close(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = str(body["as"])
        view = self._own_view(viewer, body.get("view_id"))
        if view.get("notify_on_close"):
            self._slack().close_view(user=viewer, view=view)
        else:
            self.close_view(str(view["id"]))
        return {}

    def _react(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = str(body["as"])
        channel = self._can_see(viewer, body.get("channel"))
        name = str(body.get("name") or "").strip(":")
        if not name or len(name) > 60:
            raise Refused("which reaction?")
        ts = str(body.get("ts") or "")
        if self.message(channel, ts) is None:
            raise Refused("that message is gone")
        reply = self._slack().react(name, channel=channel, ts=ts, user=viewer, removed=bool(body.get("removed")))
        if reply.status:  # 0: not delivered (the bot is not in the conversation), as in Slack
            self._check(reply, "coordbot did not take the reaction")
        return {}

    def _shortcut(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = str(body["as"])
        channel = self._can_see(viewer, body.get("channel"))
        callback_id = str(body.get("callback_id") or "")
        if callback_id not in {s["callback_id"] for s in self.shortcuts}:
            raise Refused("no such shortcut")
        message = self._find_message(viewer, channel, str(body.get("ts") or ""), ephemeral=False)
        reply = self._slack().shortcut(callback_id, user=viewer, message=message, channel=channel)
        self._check(reply, "coordbot did not take the shortcut")
        return {}

    def _home_opened(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check(self._slack().app_home_opened(str(body["as"])), "coordbot did not answer")
        return {}

    def _move_clock(self, body: dict[str, Any]) -> dict[str, Any]:
        viewer = self._person(body.get("as"))
        now = self.clock()
        if body.get("phrase"):
            when = read_move(str(body["phrase"]), now=now, tz=viewer["tz"])
        elif body.get("to"):
            when = read_local(str(body["to"]), tz=viewer["tz"])
        elif body.get("advance_minutes") is not None:
            minutes = body["advance_minutes"]
            if not isinstance(minutes, int | float) or minutes <= 0:
                raise Refused("advance_minutes must be a positive number")
            when = now + timedelta(minutes=minutes)
        else:
            raise Refused("say where to: phrase, to or advance_minutes")
        moved = self.clock.move_to(when)
        delivered = self.tick()
        return {"now": moved.astimezone(UTC).isoformat(), "delivered": delivered}

    # ------------------------------------------------------------------ helpers

    def _check(self, reply: Reply, what: str) -> None:
        if reply.status != 200:
            raise Refused(f"{what}: coordbot answered HTTP {reply.status} (Slack would show 'dispatch_failed')")

    def _own_view(self, viewer: str, view_id: object) -> dict[str, Any]:
        mine = {v["id"]: v for v in self.open_modals(viewer)}
        home = self.home_view(viewer)
        if home is not None:
            mine[home["id"]] = home
        if not isinstance(view_id, str) or view_id not in mine:
            raise Refused("that form is closed")
        return mine[view_id]

    def _find_message(self, viewer: str, channel: str, ts: str, *, ephemeral: bool) -> dict[str, Any]:
        if ephemeral:
            found = next((m for m in self.ephemerals(channel=channel, user=viewer) if m["ts"] == ts), None)
        else:
            found = self.message(channel, ts)
        if found is None:
            raise Refused("that message is gone")
        return found

    def _submitted(self, view: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, object]:
        """The page's values, as the driver takes them (rich text inputs get Slack's rich_text shape)."""
        kinds = {
            b["block_id"]: b["element"].get("type")
            for b in view.get("blocks") or []
            if b.get("type") == "input" and isinstance(b.get("element"), dict)
        }
        values: dict[str, object] = {}
        for block_id, value in given.items():
            kind = kinds.get(block_id)
            if kind is None:
                continue  # a field the view no longer has
            if kind == "rich_text_input" and isinstance(value, str):
                value = _rich_text(value) if value.strip() else None
            elif kind in _TEXT_INPUTS and value == "":
                value = None
            values[block_id] = value
        return values

    def _as_slack_writes(self, text: str, *, names: bool) -> str:
        """Text as Slack passes it on: `&`, `<`, `>` escaped, `@person` and `#channel` turned into mentions.

        A slash command whose manifest entry escapes names gets `<@U…|name>` / `<#C…|name>`; messages get `<@U…>`.
        """
        people: dict[str, tuple[str, str]] = {}  # any of a person's names -> (id, handle)
        for info in self.people():
            if info["deleted"]:
                continue
            for handle in (info["name"], info["real_name"], (info.get("profile") or {}).get("display_name")):
                if handle:
                    people.setdefault(str(handle).lower(), (info["id"], info["name"]))
        channels = {str(c["name"]).lower(): c["id"] for c in map(self.channel, self.channel_ids()) if c}

        def mention(match: re.Match[str]) -> str:
            sigil, word = match[1], match[2]
            if sigil == "@" and word.lower() in people:
                user, handle = people[word.lower()]
                return f"<@{user}|{handle}>" if names else f"<@{user}>"
            if sigil == "#" and word.lower() in channels:
                return f"<#{channels[word.lower()]}|{word.lower()}>" if names else f"<#{channels[word.lower()]}>"
            return match[0]

        return _MENTION.sub(mention, _entities(text))

    def _post_as_bot(self, channel: str, answer: Mapping[str, Any]) -> None:
        with self._lock:
            self._store_bot_message(channel, dict(answer))

    def _show_ephemeral(self, channel: str, user: str, answer: Mapping[str, Any]) -> None:
        with self._lock:
            self._ephemerals.append(
                {
                    "channel": channel,
                    "user": user,
                    "text": answer.get("text", ""),
                    "blocks": answer.get("blocks"),
                    "ts": self._next_ts(),
                    "thread_ts": None,
                }
            )


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), "")


def _file(path: Path) -> _Answer:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "text/javascript"):
        kind += "; charset=utf-8"
    return _Answer(200, {}, {"Cache-Control": "no-cache"}, raw=path.read_bytes(), content_type=kind)


def _person_json(info: Mapping[str, Any]) -> dict[str, Any]:
    profile = info.get("profile") or {}
    return {
        "id": info["id"],
        "name": info["name"],
        "real_name": info.get("real_name") or info["name"],
        "display_name": profile.get("display_name") or info["name"],
        "tz": info.get("tz") or "UTC",
        "locale": info.get("locale") or "en-US",
        "is_bot": bool(info.get("is_bot")),
    }


def _message_json(message: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "channel": message["channel"],
        "ts": message["ts"],
        "user": message.get("user"),
        "bot_id": message.get("bot_id"),
        "text": message.get("text") or "",
        "blocks": message.get("blocks") or None,
        "thread_ts": message.get("thread_ts"),
        "reply_count": message.get("reply_count", 0),
        "reactions": message.get("reactions") or [],
        "edited": message.get("edited"),
        # files shared with the message (a digest's chart): shown from this sandbox, never from Slack's hosts
        "files": [
            {
                "id": f["id"],
                "title": f.get("title") or "",
                "alt": f.get("alt_txt") or "",
                "src": f"/sandbox/files/{f['id']}",
            }
            for f in message.get("files") or []
            if str(f.get("mimetype", "")).startswith("image/")
        ],
    }


def _call_json(seq: int, call: Call, ahead: float) -> dict[str, Any]:
    """A recorded call as the page lists it; `at` on the sandbox's clock (`ahead` seconds past the real one)."""
    params = {k: v for k, v in call.params.items() if k != "token"}
    return {
        "seq": seq,
        "method": call.method,
        "params": params,
        "ok": call.error is None,
        "error": call.error,
        "at": call.at + ahead,
    }


def _rich_text(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def _entities(text: str) -> str:
    """Slack's escaping of what people type: only these three characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _empty(value: object) -> bool:
    return value is None or value == "" or value == []
