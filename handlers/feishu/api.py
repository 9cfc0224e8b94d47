"""The Feishu Open API calls coordbot makes, through lark-oapi's typed client (the only module that calls it).

lark-oapi fetches and caches the tenant_access_token; when Feishu says a cached token is no longer valid, the
token is forgotten and the call made once more. A store app (installed by many tenants) calls for one tenant at a
time (`for_tenant`): lark-oapi gets that tenant's token with the app's token, which needs the latest ticket
Feishu pushed (`ticket`). Failures become ``FeishuError``: Feishu's code and msg, the
seconds to wait from ``x-ogw-ratelimit-reset``, and whether retrying can help (``permanent``).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import lark_oapi as lark
import requests
from lark_oapi.api.auth.v3 import ResendAppTicketRequest, ResendAppTicketRequestBody
from lark_oapi.api.contact.v3 import GetUserRequest
from lark_oapi.api.im.v1 import (
    CreateChatMembersRequest,
    CreateChatMembersRequestBody,
    CreateChatRequest,
    CreateChatRequestBody,
    CreateImageRequest,
    CreateImageRequestBody,
    CreateMessageReactionRequest,
    CreateMessageReactionRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    CreatePinRequest,
    CreatePinRequestBody,
    Emoji,
    GetChatMembersRequest,
    GetMessageRequest,
    ListPinRequest,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.exception import NoAuthorizationException, ObtainAccessTokenException
from lark_oapi.core.token import TokenManager

logger = logging.getLogger(__name__)

RATE_LIMITED = 99991400
TOKEN_CODES = frozenset({99991661, 99991663, 99991664})  # missing / invalid tenant or app access token
RETRYABLE_CODES = frozenset({RATE_LIMITED, 230020, 11232})  # the API's, a chat's and a bot's frequency limits
MAX_IDS = 50  # open_ids per chat-creation or add-members call
MAX_UUID = 50  # characters of an idempotency key
PAGE_SIZE = 50
NO_ANSWER = -1  # code of a failure without a Feishu answer (connection, timeout, a body that is not JSON)


class FeishuError(Exception):
    """A Feishu Open API call that failed: Feishu's code and msg, and whether (and when) to retry it."""

    def __init__(
        self,
        code: int,
        msg: str,
        *,
        retry_after: float | None = None,
        http_status: int | None = None,
        log_id: str | None = None,
        permanent: bool | None = None,
    ) -> None:
        super().__init__(f"Feishu error {code}: {msg}" + (f" (log_id {log_id})" if log_id else ""))
        self.code = code
        self.msg = msg
        self.retry_after = retry_after
        self.http_status = http_status
        self.log_id = log_id
        self._permanent = permanent

    @property
    def permanent(self) -> bool:
        """True when retrying cannot help: a bad id, the bot not in the chat, no permission, an invalid card."""
        if self._permanent is not None:
            return self._permanent
        if self.code <= 0 or self.code in RETRYABLE_CODES or self.code in TOKEN_CODES:
            return False
        return not (self.http_status is not None and (self.http_status >= 500 or self.http_status == 429))


@dataclass(frozen=True)
class Sent:
    """A message Feishu accepted."""

    message_id: str
    chat_id: str


@dataclass(frozen=True)
class FeishuUser:
    """A person as the contact API describes them."""

    open_id: str
    name: str
    en_name: str = ""


class ChatPace:
    """At most `per_second` messages to one chat in any second, from this process (Feishu allows about 5): a
    burst of reminders to one group waits its turn here instead of meeting Feishu's rate-limit answer."""

    def __init__(self, per_second: int = 5, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_turn(self, chat: str, sleep: Callable[[float], None] = time.sleep) -> float:
        """Block until a message to `chat` may go; the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                recent = self._sent.setdefault(chat, deque())
                while recent and now - recent[0] >= 1.0:
                    recent.popleft()
                if len(recent) < self.per_second:
                    recent.append(now)
                    if len(self._sent) > 10_000:  # forget idle chats now and then
                        for key in [k for k, v in self._sent.items() if not v]:
                            del self._sent[key]
                    return waited
                pause = 1.0 - (now - recent[0])
            sleep(pause)
            waited += pause


class FeishuApi:
    """coordbot's calls to one Feishu app's Open API."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        domain: str,
        timeout: float = 10.0,
        store: bool = False,
        ticket: Callable[[], str | None] | None = None,
        no_ticket: Callable[[], None] | None = None,
    ) -> None:
        """``domain``: https://open.feishu.cn, https://open.larksuite.com, or a fake's http://127.0.0.1:PORT.
        ``store``: a store app, whose calls are made for one tenant (`for_tenant`) with the latest ``ticket``;
        ``no_ticket`` is told when Feishu refused to give the app its token (no ticket yet, or a stale one)."""
        self._app_id = app_id
        self._app_secret = app_secret  # for asking Feishu to push a ticket (never logged: not in repr)
        self.pace = ChatPace()
        self._bot_open_id: str | None = None
        self._store = store
        self._tenant = ""
        self._ticket = ticket or (lambda: None)
        self._no_ticket = no_ticket or (lambda: None)
        builder = (
            lark.Client.builder()
            .app_id(app_id)
            .app_secret(app_secret)
            .domain(domain.rstrip("/"))
            .timeout(timeout)
            .log_level(lark.LogLevel.WARNING)
        )
        if store:
            builder = builder.app_type(lark.AppType.ISV)
        self._client = builder.build()

    def __repr__(self) -> str:
        return f"FeishuApi(app_id={self._app_id!r}" + (f", tenant={self._tenant!r})" if self._tenant else ")")

    @property
    def store(self) -> bool:
        """A store app: its calls are made for one tenant at a time."""
        return self._store

    def for_tenant(self, tenant_key: str) -> FeishuApi:
        """The calls for one tenant: a store app's token is the tenant's; a custom app serves only its own."""
        if not self._store:
            return self
        view = copy.copy(self)  # the same client, pace and ticket source
        view._tenant, view._bot_open_id = tenant_key, None
        return view

    def resend_ticket(self) -> None:
        """Ask Feishu to push the store app a ticket now (it arrives at the event callback URL)."""
        body = ResendAppTicketRequestBody.builder().app_id(self._app_id).app_secret(self._client._config.app_secret)
        request = ResendAppTicketRequest.builder().request_body(body.build()).build()
        response = self._attempt(
            "auth.app_ticket.resend", self._client.auth.v3.app_ticket.resend, request, tokens=False
        )
        if not response.success():
            raise _error(response)

    # ------------------------------------------------------------------ messages

    def send_text(
        self, *, chat_id: str | None = None, open_id: str | None = None, text: str, uuid: str | None = None
    ) -> Sent:
        """Send a text message to a chat, or to a person's one-to-one chat with the bot."""
        return self._send(chat_id, open_id, "text", _text_content(text), uuid)

    def send_card(
        self, *, chat_id: str | None = None, open_id: str | None = None, card: dict[str, Any], uuid: str | None = None
    ) -> Sent:
        """Send an interactive card to a chat, or to a person's one-to-one chat with the bot."""
        return self._send(chat_id, open_id, "interactive", _json(card), uuid)

    def reply_text(self, message_id: str, text: str, *, uuid: str | None = None) -> Sent:
        """Reply to a message with text."""
        body = ReplyMessageRequestBody.builder().msg_type("text").content(_text_content(text))
        if uuid:
            body = body.uuid(_uuid(uuid))
        request = ReplyMessageRequest.builder().message_id(message_id).request_body(body.build()).build()
        return _sent(self._call("im.message.reply", self._client.im.v1.message.reply, request))

    def update_card(self, message_id: str, card: dict[str, Any]) -> None:
        """Replace a card the bot sent (a shared card: config.update_multi true) in place."""
        body = PatchMessageRequestBody.builder().content(_json(card)).build()
        request = PatchMessageRequest.builder().message_id(message_id).request_body(body).build()
        self._call("im.message.patch", self._client.im.v1.message.patch, request)

    def message_text(self, message_id: str) -> str:
        """A text message's text, mentions written as @name ("" for other kinds of message)."""
        request = GetMessageRequest.builder().message_id(message_id).build()
        data = self._call("im.message.get", self._client.im.v1.message.get, request)
        items = getattr(data, "items", None) or []
        if not items or items[0].msg_type != "text" or items[0].body is None:
            return ""
        try:
            content = json.loads(items[0].body.content or "{}")
        except ValueError:
            return ""
        text = str(content.get("text", "")) if isinstance(content, dict) else ""
        for mention in sorted(items[0].mentions or [], key=lambda m: len(m.key or ""), reverse=True):
            if mention.key:
                text = text.replace(mention.key, f"@{mention.name or ''}")
        return text

    def react(self, message_id: str, emoji_type: str) -> None:
        """Add the bot's emoji reaction (``DONE``, ``THUMBSUP``, …) to a message."""
        emoji = Emoji.builder().emoji_type(emoji_type).build()
        body = CreateMessageReactionRequestBody.builder().reaction_type(emoji).build()
        request = CreateMessageReactionRequest.builder().message_id(message_id).request_body(body).build()
        self._call("im.message_reaction.create", self._client.im.v1.message_reaction.create, request)

    def pin(self, message_id: str) -> None:
        """Pin a message in its chat (pinning a pinned message is not an error)."""
        body = CreatePinRequestBody.builder().message_id(message_id).build()
        request = CreatePinRequest.builder().request_body(body).build()
        self._call("im.pin.create", self._client.im.v1.pin.create, request)

    def pins(self, chat_id: str) -> list[str]:
        """The ids of the messages pinned in a chat, oldest pin first."""
        found: list[tuple[int, str]] = []
        for page in self._pages("im.pin.list", self._client.im.v1.pin.list, _pin_list(chat_id)):
            found.extend((int(p.create_time or 0), p.message_id) for p in page.items or [])
        return [message_id for _, message_id in sorted(found, key=lambda pin: pin[0])]

    # ------------------------------------------------------------------ images

    def upload_image(self, png: bytes) -> str:
        """Upload an image for messages and cards (image_type message); return its image_key."""

        def create(_: object, option: lark.RequestOption | None = None) -> Any:
            # a request of its own for each attempt: sending turns the body into a multipart stream read once
            body = CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(png)).build()
            return self._client.im.v1.image.create(CreateImageRequest.builder().request_body(body).build(), option)

        data = self._call("im.image.create", create, None)
        image_key = getattr(data, "image_key", None)
        if not image_key:
            raise FeishuError(NO_ANSWER, "the answer has no image_key", permanent=True)
        return str(image_key)

    # ------------------------------------------------------------------ chats and people

    def create_chat(self, *, name: str, description: str, members: list[str], uuid: str | None = None) -> str:
        """Create a private group chat with the bot and these people in it; return its chat_id."""
        body = (
            CreateChatRequestBody.builder()
            .name(name)
            .description(description)
            .user_id_list(members[:MAX_IDS])
            .chat_mode("group")
            .chat_type("private")
            .build()
        )
        request = CreateChatRequest.builder().user_id_type("open_id").request_body(body)
        if uuid:
            request = request.uuid(_uuid(uuid))
        data = self._call("im.chat.create", self._client.im.v1.chat.create, request.build())
        chat_id = getattr(data, "chat_id", None)
        if not chat_id:
            raise FeishuError(NO_ANSWER, "the answer has no chat_id", permanent=True)
        if len(members) > MAX_IDS:
            self.add_members(chat_id, members[MAX_IDS:])
        return chat_id

    def add_members(self, chat_id: str, open_ids: list[str]) -> None:
        """Add people to a group chat; ids Feishu cannot add are logged, not raised."""
        for start in range(0, len(open_ids), MAX_IDS):
            body = CreateChatMembersRequestBody.builder().id_list(open_ids[start : start + MAX_IDS]).build()
            request = (
                CreateChatMembersRequest.builder()
                .chat_id(chat_id)
                .member_id_type("open_id")
                .succeed_type(1)  # add whoever can be added, list the others
                .request_body(body)
                .build()
            )
            data = self._call("im.chat_members.create", self._client.im.v1.chat_members.create, request)
            skipped = [
                *(getattr(data, "invalid_id_list", None) or []),
                *(getattr(data, "not_existed_id_list", None) or []),
            ]
            if skipped:
                logger.warning("Feishu did not add %s to chat %s", skipped, chat_id)

    def chat_members(self, chat_id: str) -> list[str]:
        """The open_ids of a chat's members (the bot not among them)."""
        return [person.open_id for person in self.chat_people(chat_id)]

    def chat_people(self, chat_id: str) -> list[FeishuUser]:
        """A chat's members with the names the member list gives (no contact lookup per person)."""
        make = _members_request(chat_id)
        pages = self._pages("im.chat_members.get", self._client.im.v1.chat_members.get, make)
        return [
            FeishuUser(open_id=m.member_id, name=m.name or "")
            for page in pages
            for m in page.items or []
            if m.member_id
        ]

    def bot_open_id(self) -> str:
        """The bot's own open_id (bot/v3/info, which lark-oapi has no typed request for), asked once."""
        if self._bot_open_id is None:
            request = (
                lark.BaseRequest.builder()
                .http_method(lark.HttpMethod.GET)
                .uri("/open-apis/bot/v3/info")
                .token_types({lark.AccessTokenType.TENANT})
                .build()
            )
            response = self._attempt("bot.info", self._client.request, request)
            if response.code != 0:
                raise FeishuError(int(response.code or NO_ANSWER), str(response.msg or ""))
            answer = json.loads(response.raw.content or b"{}")
            self._bot_open_id = str((answer.get("bot") or {}).get("open_id") or "")
        return self._bot_open_id

    def user(self, open_id: str) -> FeishuUser:
        """A person's name; FeishuError (permanent) when the app cannot see them."""
        request = GetUserRequest.builder().user_id(open_id).user_id_type("open_id").build()
        data = self._call("contact.user.get", self._client.contact.v3.user.get, request)
        user = getattr(data, "user", None)
        if user is None:
            raise FeishuError(NO_ANSWER, "the answer has no user", permanent=True)
        return FeishuUser(open_id=user.open_id or open_id, name=user.name or "", en_name=user.en_name or "")

    # ------------------------------------------------------------------ plumbing

    def _send(self, chat_id: str | None, open_id: str | None, msg_type: str, content: str, uuid: str | None) -> Sent:
        if (chat_id is None) == (open_id is None):
            raise ValueError("give exactly one of chat_id and open_id")
        id_type, receive_id = ("chat_id", chat_id) if chat_id is not None else ("open_id", open_id)
        self.pace.wait_turn(f"{id_type}:{receive_id}")
        body = CreateMessageRequestBody.builder().receive_id(receive_id).msg_type(msg_type).content(content)
        if uuid:
            body = body.uuid(_uuid(uuid))
        request = CreateMessageRequest.builder().receive_id_type(id_type).request_body(body.build()).build()
        return _sent(self._call("im.message.create", self._client.im.v1.message.create, request))

    def _call(self, what: str, method: Callable[[Any], Any], request: Any) -> Any:
        """Make one call; once more with a fresh token when Feishu refuses the cached one. Return its data."""
        response = self._attempt(what, method, request)
        if response.code in TOKEN_CODES:
            logger.info("Feishu refused the cached tenant_access_token (%s); fetching a new one", response.code)
            TokenManager.cache.set(self._token_cache_key(), "", 0)
            response = self._attempt(what, method, request)
        if not response.success():
            error = _error(response)
            logger.debug("Feishu %s failed: %s", what, error)
            raise error
        return getattr(response, "data", None)  # a patch's answer has no data

    def _token_cache_key(self) -> str:
        """Where lark-oapi keeps the token this view's calls use."""
        if self._store:
            return f"isv_tenant_token:{self._app_id}:{self._tenant}"
        return f"self_tenant_token:{self._app_id}"

    def _option(self) -> lark.RequestOption | None:
        """A store app's calls say for which tenant, and carry the ticket lark-oapi gets the app's token with."""
        if not self._store:
            return None
        if not self._tenant:
            raise FeishuError(NO_ANSWER, "a store app's call must say which tenant it is for", permanent=True)
        return lark.RequestOption.builder().tenant_key(self._tenant).app_ticket(self._ticket() or "").build()

    def _attempt(self, what: str, method: Callable[..., Any], request: Any, *, tokens: bool = True) -> Any:
        try:
            option = self._option() if tokens else None
            return method(request, option) if option is not None else method(request)
        except ObtainAccessTokenException as exc:
            if self._store:  # no ticket yet, or a stale one: Feishu is asked to push one
                self._no_ticket()
            raise FeishuError(int(exc.code or NO_ANSWER), f"access token: {exc.msg}") from None
        except NoAuthorizationException as exc:
            raise FeishuError(NO_ANSWER, str(exc.msg), permanent=True) from None
        except requests.RequestException as exc:
            raise FeishuError(NO_ANSWER, f"{what}: {type(exc).__name__}") from exc
        except ValueError as exc:  # the answer was not JSON (a gateway's error page)
            raise FeishuError(NO_ANSWER, f"{what}: an answer that is not JSON") from exc

    def _pages(self, what: str, method: Callable[[Any], Any], make: Callable[[str | None], Any]) -> Iterator[Any]:
        token: str | None = None
        while True:
            data = self._call(what, method, make(token))
            yield data
            token = data.page_token
            if not data.has_more or not token:
                return


def _sent(data: Any) -> Sent:
    message_id, chat_id = getattr(data, "message_id", None), getattr(data, "chat_id", None)
    if not message_id or not chat_id:
        raise FeishuError(NO_ANSWER, "the answer has no message_id or chat_id", permanent=True)
    return Sent(message_id=message_id, chat_id=chat_id)


def _pin_list(chat_id: str) -> Callable[[str | None], Any]:
    def make(page_token: str | None) -> Any:
        builder = ListPinRequest.builder().chat_id(chat_id).page_size(PAGE_SIZE)
        return (builder.page_token(page_token) if page_token else builder).build()

    return make


def _members_request(chat_id: str) -> Callable[[str | None], Any]:
    def make(page_token: str | None) -> Any:
        builder = GetChatMembersRequest.builder().chat_id(chat_id).member_id_type("open_id").page_size(PAGE_SIZE)
        return (builder.page_token(page_token) if page_token else builder).build()

    return make


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text_content(text: str) -> str:
    return _json({"text": text})


def _uuid(key: str) -> str:
    """Feishu takes idempotency keys of up to 50 characters; a longer key is hashed (the same key, the same uuid)."""
    return key if len(key) <= MAX_UUID else hashlib.sha256(key.encode("utf-8")).hexdigest()[:MAX_UUID]


def _error(response: Any) -> FeishuError:
    raw = response.raw
    headers = {str(k).lower(): str(v) for k, v in (raw.headers if raw is not None else {}).items()}
    error = response.error  # a dict: the typed responses leave Feishu's "error" object undecoded
    log_id = error.get("log_id") if isinstance(error, dict) else getattr(error, "log_id", None)
    return FeishuError(
        response.code if isinstance(response.code, int) else NO_ANSWER,
        response.msg or "",
        retry_after=_seconds(headers.get("x-ogw-ratelimit-reset")),
        http_status=raw.status_code if raw is not None else None,
        log_id=log_id or headers.get("x-tt-logid"),
    )


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
