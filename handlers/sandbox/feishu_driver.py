"""Plays Feishu's side of event delivery to coordbot's Feishu endpoint.

``FeishuDriver`` builds schema 2.0 event envelopes shaped like Feishu's (a message that @mentions the bot, a
DM, a card button or form submit, a reaction, a bot menu click, the URL verification), and the schema 1.0 app_ticket
event Feishu pushes a store app; the events are of the driver's ``tenant_key``. It encrypts them the way Feishu
does when an encrypt key is set (AES-256-CBC, key sha256(encrypt_key), a random 16-byte IV in front, base64), signs
them (X-Lark-Request-Timestamp, X-Lark-Request-Nonce, X-Lark-Signature) and POSTs them over real HTTP to
``url + "/feishu/events"``. ``envelope_bytes`` gives the same event as the long connection delivers it (plain JSON).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad

from handlers.sandbox.feishu_api import FakeFeishu, bot_open_id, p2p_chat_id, union_id_of, user_id_of

EVENTS_PATH = "/feishu/events"
ACK_TIMEOUT = 3.0
"""Seconds Feishu waits for an answer (a card action's answer must come within them)."""
NOT_DELIVERED = 0
"""Delivery.status of an event Feishu does not send the bot (a group message that @mentions nobody)."""


class Delivery(NamedTuple):
    """What the endpoint answered: the HTTP status and the body (parsed JSON, or the text when not JSON)."""

    status: int
    body: Any


def encrypt_payload(plaintext: str, encrypt_key: str) -> str:
    """Encrypt as Feishu does: base64(iv + AES-256-CBC(PKCS7(plaintext))) with key sha256(encrypt_key)."""
    key = hashlib.sha256(encrypt_key.encode("utf-8")).digest()
    iv = secrets.token_bytes(AES.block_size)
    cipher = AES.new(key, AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(pad(plaintext.encode("utf-8"), AES.block_size))).decode("ascii")


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """X-Lark-Signature: sha256 hex of timestamp + nonce + encrypt_key + the raw body."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + body).hexdigest()


class FeishuDriver:
    """Sends Feishu-shaped, encrypted and signed event callbacks to a coordbot endpoint."""

    def __init__(
        self,
        url: str,
        *,
        verification_token: str,
        encrypt_key: str,
        tenant_key: str = "tenant_test",
        app_id: str = "cli_test",
        fake: FakeFeishu | None = None,
        timeout: float = 10.0,
    ) -> None:
        """``url`` is the server's base URL; with ``fake``, messages people send are recorded there too."""
        self.url = url.rstrip("/")
        self.verification_token = verification_token
        self.encrypt_key = encrypt_key
        self.tenant_key = tenant_key
        self.app_id = app_id
        self.fake = fake
        self.timeout = timeout
        self.bot_open_id = bot_open_id(app_id)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------------ envelopes

    def envelope(self, event_type: str, event: Mapping[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """A schema 2.0 envelope around ``event``, with a fresh event_id unless one is given."""
        header = {
            "event_id": event_id or uuid.uuid4().hex,
            "token": self.verification_token,
            "create_time": _now_ms(),
            "event_type": event_type,
            "tenant_key": self.tenant_key,
            "app_id": self.app_id,
        }
        return {"schema": "2.0", "header": header, "event": dict(event)}

    def user_ids(self, open_id: str) -> dict[str, str]:
        """A person's ``{union_id, user_id, open_id}`` as events carry it."""
        return {"union_id": union_id_of(open_id), "user_id": user_id_of(open_id), "open_id": open_id}

    def bot_mention(self, key: str = "@_user_1", name: str = "coordbot") -> tuple[str, str, str]:
        """The (key, open_id, name) of an @mention of the bot, for ``mentions``."""
        return key, self.bot_open_id, name

    def message_event(
        self,
        text: str,
        *,
        user: str,
        chat: str,
        chat_type: str = "group",
        mentions: Iterable[tuple[str, str, str]] = (),
        message_id: str | None = None,
        root_id: str | None = None,
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        """im.message.receive_v1 for a text message; ``mentions`` are (key, open_id, name), keys used in ``text``."""
        message: dict[str, Any] = {
            "message_id": message_id or f"om_{uuid.uuid4().hex}",
            "create_time": _now_ms(),
            "update_time": _now_ms(),
            "chat_id": chat,
            "chat_type": chat_type,
            "message_type": "text",
            "content": json.dumps({"text": text}, ensure_ascii=False),
        }
        if root_id or parent_id:
            message["root_id"], message["parent_id"] = root_id or parent_id, parent_id or root_id
        mentioned = [
            {"key": key, "id": self.user_ids(open_id), "name": name, "tenant_key": self.tenant_key}
            for key, open_id, name in mentions
        ]
        if mentioned:
            message["mentions"] = mentioned
        sender = {"sender_id": self.user_ids(user), "sender_type": "user", "tenant_key": self.tenant_key}
        return self.envelope("im.message.receive_v1", {"sender": sender, "message": message})

    def card_action_event(
        self,
        *,
        user: str,
        chat: str,
        message_id: str,
        value: Mapping[str, Any],
        form_value: Mapping[str, Any] | None = None,
        name: str = "",
        tag: str = "button",
    ) -> dict[str, Any]:
        """card.action.trigger: a button (or a form's submit button, with ``form_value``) clicked in a card."""
        operator = {"tenant_key": self.tenant_key, **self.user_ids(user)}
        action: dict[str, Any] = {"value": dict(value), "tag": tag, "timezone": "Asia/Shanghai"}
        if name:
            action["name"] = name
        if form_value is not None:
            action["form_value"] = dict(form_value)
        event = {
            "operator": operator,
            "token": f"c-{secrets.token_hex(20)}",
            "action": action,
            "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": chat},
        }
        return self.envelope("card.action.trigger", event)

    def reaction_event(self, emoji_type: str, *, user: str, message_id: str, removed: bool = False) -> dict[str, Any]:
        """im.message.reaction.created_v1 (or deleted_v1): a person's emoji reaction on a message."""
        event = {
            "message_id": message_id,
            "reaction_type": {"emoji_type": emoji_type},
            "operator_type": "user",
            "user_id": self.user_ids(user),
            "action_time": _now_ms(),
        }
        kind = "deleted" if removed else "created"
        return self.envelope(f"im.message.reaction.{kind}_v1", event)

    def menu_event(self, event_key: str, *, user: str, name: str = "") -> dict[str, Any]:
        """application.bot.menu_v6: a person clicked the bot's menu item ``event_key``."""
        operator: dict[str, Any] = {"operator_id": self.user_ids(user)}
        if name:
            operator["operator_name"] = name
        event = {"operator": operator, "event_key": event_key, "timestamp": int(time.time())}
        return self.envelope("application.bot.menu_v6", event)

    def dm_entered_event(self, *, user: str) -> dict[str, Any]:
        """im.chat.access_event.bot_p2p_chat_entered_v1: a person opened their one-to-one chat with the bot."""
        event = {
            "chat_id": p2p_chat_id(user, self.app_id),
            "operator_id": self.user_ids(user),
            "last_message_id": "",
            "last_message_create_time": "",
        }
        return self.envelope("im.chat.access_event.bot_p2p_chat_entered_v1", event)

    def app_ticket_event(self, app_id: str, ticket: str) -> dict[str, Any]:
        """app_ticket: the schema 1.0 event Feishu pushes a store app hourly, and when the app asks for it."""
        return {
            "uuid": uuid.uuid4().hex,
            "token": self.verification_token,
            "ts": f"{time.time():.7f}",  # seconds, with a fraction, as a string
            "type": "event_callback",
            "event": {"app_id": app_id, "app_ticket": ticket, "type": "app_ticket"},
        }

    def envelope_bytes(self, envelope: Mapping[str, Any]) -> bytes:
        """The envelope as the long connection delivers it: plain JSON bytes, not encrypted."""
        return json.dumps(envelope, ensure_ascii=False).encode("utf-8")

    # ------------------------------------------------------------------ sending events

    def message(
        self,
        text: str,
        *,
        user: str,
        chat: str,
        chat_type: str = "group",
        mentions: Iterable[tuple[str, str, str]] = (),
        message_id: str | None = None,
        root_id: str | None = None,
        parent_id: str | None = None,
    ) -> Delivery:
        """A person sends ``text`` in ``chat``; in a group Feishu delivers it only when it @mentions someone.

        (Feishu sends the bot the group messages that @mention it; put ``bot_mention()`` among ``mentions``.)
        """
        envelope = self.message_event(
            text,
            user=user,
            chat=chat,
            chat_type=chat_type,
            mentions=list(mentions),
            message_id=message_id,
            root_id=root_id,
            parent_id=parent_id,
        )
        self._record(envelope)
        if chat_type == "group" and "mentions" not in envelope["event"]["message"]:
            return Delivery(NOT_DELIVERED, None)
        return self.post(envelope)

    def dm(self, text: str, *, user: str, message_id: str | None = None) -> Delivery:
        """A person sends ``text`` to the bot in their one-to-one chat."""
        chat = p2p_chat_id(user, self.app_id)
        return self.message(text, user=user, chat=chat, chat_type="p2p", message_id=message_id)

    def card_action(
        self,
        *,
        user: str,
        chat: str,
        message_id: str,
        value: Mapping[str, Any],
        form_value: Mapping[str, Any] | None = None,
        name: str = "",
    ) -> Delivery:
        """A person clicks a button (or submits a form) in the card ``message_id``."""
        envelope = self.card_action_event(
            user=user, chat=chat, message_id=message_id, value=value, form_value=form_value, name=name
        )
        return self.post(envelope)

    def react(self, emoji_type: str, *, user: str, message_id: str, removed: bool = False) -> Delivery:
        """A person adds (or removes) an emoji reaction."""
        return self.post(self.reaction_event(emoji_type, user=user, message_id=message_id, removed=removed))

    def menu(self, event_key: str, *, user: str) -> Delivery:
        """A person clicks a bot menu item."""
        return self.post(self.menu_event(event_key, user=user))

    def enter_dm(self, *, user: str) -> Delivery:
        """A person opens their one-to-one chat with the bot."""
        return self.post(self.dm_entered_event(user=user))

    def deliver_app_ticket(self, app_id: str, ticket: str) -> Delivery:
        """Feishu pushes the store app ``app_id`` its app_ticket."""
        return self.post(self.app_ticket_event(app_id, ticket))

    def verify_url(self, challenge: str) -> Delivery:
        """The URL verification Feishu sends when the callback URL is saved."""
        body = {"challenge": challenge, "token": self.verification_token, "type": "url_verification"}
        return self.post(body)

    # ------------------------------------------------------------------ transport

    def body_for(self, envelope: Mapping[str, Any], *, encrypt: bool = True) -> bytes:
        """The raw request body: ``{"encrypt": ...}`` when an encrypt key is set (and ``encrypt``), else plain JSON."""
        plaintext = json.dumps(envelope, ensure_ascii=False)
        if encrypt and self.encrypt_key:
            return json.dumps({"encrypt": encrypt_payload(plaintext, self.encrypt_key)}).encode("utf-8")
        return plaintext.encode("utf-8")

    def headers_for(self, body: bytes, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        """The headers Feishu sends with ``body``, its signature among them."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(8)
        return {
            "Content-Type": "application/json; charset=utf-8",
            "X-Request-Id": uuid.uuid4().hex,
            "X-Lark-Request-Timestamp": stamp,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature(stamp, nonce, self.encrypt_key, body),
        }

    def signed(
        self, envelope: Mapping[str, Any], *, encrypt: bool = True, timestamp: int | None = None, tamper: bool = False
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body Feishu would POST for ``envelope`` (for handing to a handler without HTTP).

        ``tamper`` changes the body after signing it: the same JSON, no longer the signed bytes.
        """
        body = self.body_for(envelope, encrypt=encrypt)
        headers = self.headers_for(body, timestamp=timestamp)
        return headers, (body[:-1] + b" " + body[-1:] if tamper else body)

    def post(
        self,
        envelope: Mapping[str, Any],
        *,
        sign: bool = True,
        encrypt: bool = True,
        tamper: bool = False,
        timestamp: int | None = None,
    ) -> Delivery:
        """POST ``envelope`` to the events URL, encrypted (when a key is set) and signed.

        ``tamper`` changes the body after signing it, ``sign=False`` leaves the signature headers out, and
        ``timestamp`` overrides X-Lark-Request-Timestamp (a stale one, for a replay).
        """
        headers, body = self.signed(envelope, encrypt=encrypt, timestamp=timestamp, tamper=tamper)
        if not sign:
            headers = {k: v for k, v in headers.items() if not k.startswith("X-Lark-")}
        return self.send(body, headers)

    def send(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """POST raw bytes with these headers to the events URL."""
        request = urllib.request.Request(self.url + EVENTS_PATH, data=body, headers=dict(headers), method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", errors="replace")
        try:
            return Delivery(status, json.loads(text))
        except ValueError:
            return Delivery(status, text)

    def _record(self, envelope: Mapping[str, Any]) -> None:
        """Record a person's message in the fake, so the bot can reply to, pin or read it."""
        if self.fake is None:
            return
        message = envelope["event"]["message"]
        self.fake.add_user_message(
            message["chat_id"],
            envelope["event"]["sender"]["sender_id"]["open_id"],
            json.loads(message["content"])["text"],
            message_id=message["message_id"],
            root_id=message.get("root_id"),
            parent_id=message.get("parent_id"),
            mentions=[
                {"key": m["key"], "id": m["id"]["open_id"], "name": m["name"]} for m in message.get("mentions", [])
            ],
            tenant_key=envelope["event"]["sender"]["tenant_key"],
        )


def _now_ms() -> str:
    return str(int(time.time() * 1000))
