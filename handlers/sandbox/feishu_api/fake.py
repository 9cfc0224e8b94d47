"""FakeFeishu: the server, the workspace and every family of Open API endpoints in one object."""

from __future__ import annotations

from handlers.sandbox.feishu_api.chats import ChatMethods
from handlers.sandbox.feishu_api.contact import ContactMethods
from handlers.sandbox.feishu_api.images import ImageMethods
from handlers.sandbox.feishu_api.marketplace import MarketplaceMethods
from handlers.sandbox.feishu_api.server import _pattern

_ROUTES = [  # (verb, path, name); the name's handler is the method "_" + name with dots as underscores
    ("POST", "/open-apis/auth/v3/tenant_access_token/internal", "auth.tenant_access_token"),
    ("POST", "/open-apis/auth/v3/app_access_token", "auth.app_access_token"),
    ("POST", "/open-apis/auth/v3/tenant_access_token", "auth.isv_tenant_access_token"),
    ("POST", "/open-apis/auth/v3/app_ticket/resend", "auth.app_ticket.resend"),
    ("GET", "/open-apis/bot/v3/info", "bot.info"),
    ("POST", "/open-apis/im/v1/messages", "im.message.create"),
    ("POST", "/open-apis/im/v1/messages/{message_id}/reply", "im.message.reply"),
    ("PATCH", "/open-apis/im/v1/messages/{message_id}", "im.message.patch"),
    ("GET", "/open-apis/im/v1/messages/{message_id}", "im.message.get"),
    ("POST", "/open-apis/im/v1/messages/{message_id}/reactions", "im.message_reaction.create"),
    ("POST", "/open-apis/im/v1/images", "im.image.create"),
    ("POST", "/open-apis/im/v1/chats", "im.chat.create"),
    ("GET", "/open-apis/im/v1/chats/{chat_id}", "im.chat.get"),
    ("POST", "/open-apis/im/v1/chats/{chat_id}/members", "im.chat_members.create"),
    ("GET", "/open-apis/im/v1/chats/{chat_id}/members", "im.chat_members.get"),
    ("POST", "/open-apis/im/v1/pins", "im.pin.create"),
    ("GET", "/open-apis/im/v1/pins", "im.pin.list"),
    ("GET", "/open-apis/contact/v3/users/{user_id}", "contact.user.get"),
]


class FakeFeishu(MarketplaceMethods, ChatMethods, ImageMethods, ContactMethods):
    """A recording, fault-injecting stand-in for https://open.feishu.cn on 127.0.0.1."""

    def __init__(
        self,
        app_id: str = "cli_test",
        app_secret: str = "secret",
        tenant_key: str = "tenant_test",
        *,
        marketplace: bool = False,
    ) -> None:
        """A custom app of tenant ``tenant_key``; with ``marketplace``, a store app of the tenants ``install``-ed."""
        super().__init__(app_id=app_id, app_secret=app_secret, tenant_key=tenant_key, marketplace=marketplace)
        self._routes = [
            (verb, _pattern(path), name, getattr(self, "_" + name.replace(".", "_"))) for verb, path, name in _ROUTES
        ]
