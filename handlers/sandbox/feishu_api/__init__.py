"""A fake Feishu (Lark) Open API served over HTTP on 127.0.0.1 that records every call.

Point lark-oapi at it with ``lark.Client.builder().domain(fake.url)``. It answers the endpoints coordbot uses
(tenant tokens, messages, replies, card patches, image uploads, chats and their members, pins, users, reactions)
with the JSON shapes and error codes Feishu gives, checks what the bot sends (a content that is a JSON string, a
text that has ``text``, a card that Feishu would render with only image keys it issued, a patch only of the bot's
own shared cards, an upload that is a multipart form of an image), and can inject faults (``fail_next``: a rate
limit with ``x-ogw-ratelimit-reset``, a server error, a non-JSON gateway page).

Seed it with ``add_user`` and ``add_chat`` (``add_user_message`` records what a person said; the driver does
that); read ``messages`` (``messages_to``, ``card_texts``), ``chats``, ``pins``, ``reactions``, ``images``
(image_key -> the uploaded bytes) and ``calls`` (``wait_for``; an upload's form parts are in ``Call.files``).
``page_size_cap`` makes lists page; ``GET /open-apis/bot/v3/info`` gives the bot's open_id.

Tokens are derived from the app's credentials, so every fake with the same app_id and secret accepts a token
lark-oapi cached from another (the SDK's token cache is process-wide); ``expire_tokens`` invalidates them.

``FakeFeishu(marketplace=True)`` is a store app's Feishu instead: the app gets its app_access_token with the current
``app_ticket`` (``new_ticket`` rotates it; ``on_ticket_resend`` hears the app ask for it again), and a
tenant_access_token for each tenant that ``install``-ed it (``uninstall``); every ``Call`` says whose token it
carried (``Call.tenant``).

``FakeFeishu`` (fake.py, with the route table) is assembled from layers, each in a module of its own:

- workspace.py: the app and its bot, the people and chats it can see, ids derived from open_ids, the stored state;
- messages.py: messages people sent, and sending, replying, updating, reading and reacting to messages;
- content.py: what a message's content may be (texts, cards and their images), and reading a card's texts;
- images.py, chats.py, contact.py: image uploads, chats with their members and pins, who is who;
- server.py: the HTTP server, routing, tenant tokens, recorded calls, injected faults, the long connection's
  endpoint; multipart.py: reading an upload's form; calls.py: a recorded call and an error answer;
- marketplace.py: a store app's ticket, the tenants that installed it and their tokens.
"""

from __future__ import annotations

from handlers.sandbox.feishu_api.calls import Call, FeishuApiFailure, Handler
from handlers.sandbox.feishu_api.chats import CHAT_UUID_TTL, MAX_IDS
from handlers.sandbox.feishu_api.content import CARD_IMAGE_INVALID, CARD_INVALID, CARD_LIMIT, TEXT_LIMIT, card_texts
from handlers.sandbox.feishu_api.fake import FakeFeishu
from handlers.sandbox.feishu_api.images import (
    IMAGE_EMPTY,
    IMAGE_INVALID_PARAM,
    IMAGE_LIMIT,
    IMAGE_TOO_LARGE,
    IMAGE_TYPES,
    IMAGE_UNKNOWN_FORMAT,
    image_format,
)
from handlers.sandbox.feishu_api.marketplace import (
    APP_TOKEN_FAILED,
    APP_TOKEN_INVALID,
    INVALID_PARAM,
    RESEND_FAILED,
    SECRET_INVALID,
    TENANT_TOKEN_FAILED,
)
from handlers.sandbox.feishu_api.messages import MESSAGE_UUID_TTL
from handlers.sandbox.feishu_api.server import (
    RATE_LIMITED,
    TOKEN_INVALID,
    TOKEN_MISSING,
    TOKEN_TTL,
    TOKENLESS,
    WS_ENDPOINT,
)
from handlers.sandbox.feishu_api.workspace import MAX_UUID, bot_open_id, p2p_chat_id, union_id_of, user_id_of

__all__ = [
    "APP_TOKEN_FAILED",
    "APP_TOKEN_INVALID",
    "CARD_IMAGE_INVALID",
    "CARD_INVALID",
    "CARD_LIMIT",
    "CHAT_UUID_TTL",
    "IMAGE_EMPTY",
    "IMAGE_INVALID_PARAM",
    "IMAGE_LIMIT",
    "IMAGE_TOO_LARGE",
    "IMAGE_TYPES",
    "IMAGE_UNKNOWN_FORMAT",
    "INVALID_PARAM",
    "MAX_IDS",
    "MAX_UUID",
    "MESSAGE_UUID_TTL",
    "RATE_LIMITED",
    "RESEND_FAILED",
    "SECRET_INVALID",
    "TENANT_TOKEN_FAILED",
    "TEXT_LIMIT",
    "TOKENLESS",
    "TOKEN_INVALID",
    "TOKEN_MISSING",
    "TOKEN_TTL",
    "WS_ENDPOINT",
    "Call",
    "FakeFeishu",
    "FeishuApiFailure",
    "Handler",
    "bot_open_id",
    "card_texts",
    "image_format",
    "p2p_chat_id",
    "union_id_of",
    "user_id_of",
]
