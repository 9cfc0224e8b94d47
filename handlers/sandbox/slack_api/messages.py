"""Messages in the fake: what the bot posted, edited and showed ephemerally, and what people posted."""

from __future__ import annotations

import copy
from collections.abc import Callable
from itertools import count
from typing import Any

from handlers.sandbox.slack_api.blockkit import MAX_MESSAGE_BLOCKS, _block_errors, _with_block_ids
from handlers.sandbox.slack_api.calls import SlackApiFailure
from handlers.sandbox.slack_api.workspace import ALICE, BOT, BOT_ID, Workspace

MAX_TEXT_LENGTH = 40_000

_TS_BASE = 1_790_000_000


class Messages(Workspace):
    """The workspace with its messages, and the Block Kit and length checks on what the bot sends."""

    def __init__(self, *, team_id: str, app_id: str) -> None:
        super().__init__(team_id=team_id, app_id=app_id)
        self.validation_errors: list[str] = []
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._ts_seq = count(1)
        self._id_seq = count(1)  # numbers trigger ids, view ids and response URLs alike
        self.ts_clock: Callable[[], float] | None = None  # Unix seconds message ts follow; None: a fixed series
        self._last_micros = 0

    # ------------------------------------------------------------------ messages

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The current state of a message (text, blocks, ts, channel, ...), or None."""
        with self._lock:
            found = self._messages.get((self._dm_or_id(channel), ts))
            return copy.deepcopy(found) if found is not None else None

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """All stored messages in posting order, optionally of one channel (a user id means the DM)."""
        with self._lock:
            wanted = None if channel is None else self._dm_or_id(channel)
            found = [m for m in self._messages.values() if wanted is None or m["channel"] == wanted]
            return copy.deepcopy(sorted(found, key=lambda m: _ts_key(m["ts"])))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages shown so far, optionally filtered."""
        with self._lock:
            wanted = None if channel is None else self._dm_or_id(channel)
            return copy.deepcopy(
                [
                    m
                    for m in self._ephemerals
                    if (wanted is None or m["channel"] == wanted) and (user is None or m["user"] == user)
                ]
            )

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = ALICE,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """Store a message as if a person had posted it; returns it."""
        with self._lock:
            channel_id = self._dm_or_id(channel)
            message: dict[str, Any] = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": self._next_ts(),
                "team": self.team_id,
            }
            if blocks is not None:
                message["blocks"] = _with_block_ids(copy.deepcopy(blocks), message["ts"])
            if thread_ts:
                self._thread_reply(channel_id, thread_ts, message)
            self._messages[(channel_id, message["ts"])] = {"channel": channel_id, **message}
            return copy.deepcopy(self._messages[(channel_id, message["ts"])])

    def apply_reaction(self, channel: str, ts: str, name: str, user: str, *, removed: bool = False) -> None:
        """Reflect a person's reaction on a stored message (no-op when the message is unknown)."""
        with self._lock:
            message = self._messages.get((self._dm_or_id(channel), ts))
            if message is None:
                return
            if removed:
                _remove_reaction(message, name, user)
            else:
                _add_reaction(message, name, user)

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        if self.ts_clock is None:
            micros = _TS_BASE * 1_000_000 + next(self._ts_seq) * 100
        else:  # the sandbox: message times follow its clock, still one after another
            micros = max(int(self.ts_clock() * 1_000_000), self._last_micros + 100)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _invalid(self, method: str, errors: list[str]) -> SlackApiFailure:
        self.validation_errors.extend(f"{method}: {e}" for e in errors)
        return SlackApiFailure(
            "invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
        )

    def _check_message_blocks(self, method: str, blocks: Any) -> None:
        errors = _block_errors(blocks, limit=MAX_MESSAGE_BLOCKS, pointer="/blocks")
        if errors:
            raise self._invalid(method, errors)

    def _check_text(self, method: str, params: dict[str, Any]) -> None:
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
            self.validation_errors.append(f"{method}: text is {len(text)} characters (max {MAX_TEXT_LENGTH})")
            raise SlackApiFailure("msg_too_long")

    def _store_bot_message(self, channel_id: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": BOT,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": self.app_id,
            "text": params.get("text") or "",
            "team": self.team_id,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": self.app_id,
                "name": "coordbot",
                "deleted": False,
                "team_id": self.team_id,
            },
        }
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key) is not None:
                message[key] = copy.deepcopy(params[key])
        if "blocks" in message:
            message["blocks"] = _with_block_ids(message["blocks"], ts)
        if params.get("thread_ts"):
            self._thread_reply(channel_id, str(params["thread_ts"]), message)
        self._messages[(channel_id, ts)] = {"channel": channel_id, **message}
        return message

    def _thread_reply(self, channel_id: str, thread_ts: str, message: dict[str, Any]) -> None:
        message["thread_ts"] = thread_ts
        parent = self._messages.get((channel_id, thread_ts))
        if parent is not None:
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = message["ts"]

    def _replace_content(self, message: dict[str, Any], params: dict[str, Any]) -> None:
        if "text" in params:
            message["text"] = params.get("text") or ""
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                if params[key]:
                    message[key] = copy.deepcopy(params[key])
                else:
                    message.pop(key, None)
        if message.get("blocks"):
            message["blocks"] = _with_block_ids(message["blocks"], message["ts"])
        message["edited"] = {"user": BOT, "ts": self._next_ts()}

    def _existing_message(self, channel: Any, ts: Any) -> dict[str, Any]:
        channel_id = self._resolve_channel(channel)
        message = self._messages.get((channel_id, str(ts or "")))
        if message is None:
            raise SlackApiFailure("message_not_found")
        return message


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction or 0)


def _add_reaction(message: dict[str, Any], name: str, user: str) -> bool:
    reactions = message.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        reactions.append({"name": name, "users": [user], "count": 1})
        return True
    if user in entry["users"]:
        return False
    entry["users"].append(user)
    entry["count"] = len(entry["users"])
    return True


def _remove_reaction(message: dict[str, Any], name: str, user: str) -> bool:
    reactions = message.get("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None or user not in entry["users"]:
        return False
    entry["users"].remove(user)
    entry["count"] = len(entry["users"])
    if not entry["users"]:
        reactions.remove(entry)
    if not reactions:
        message.pop("reactions", None)
    return True
