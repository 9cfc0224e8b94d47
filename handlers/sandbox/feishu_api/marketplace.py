"""A store (marketplace) app's view of Feishu: its app_ticket, the tenants that installed it, and their tokens.

A store app gets an app_access_token with the app_ticket Feishu last pushed it (auth.app_access_token), then one
tenant_access_token per tenant that installed it (auth.isv_tenant_access_token); it may ask for the ticket to be
pushed again (auth.app_ticket.resend, which calls ``on_ticket_resend``). A custom app's internal token is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from itertools import count
from typing import Any

from handlers.sandbox.feishu_api.calls import Call, FeishuApiFailure, _hex
from handlers.sandbox.feishu_api.server import TOKEN_TTL, FeishuServer

# Codes of Feishu's server error table (open.feishu.cn/document/server-docs/api-call-guide/generic-error-code)
INVALID_PARAM = 10003  # "invalid param": also what the fake answers an app_id of the other kind of app
APP_TOKEN_FAILED = 10012  # "get app access token fail": the app_ticket is not the current one
TENANT_TOKEN_FAILED = 10013  # "get tenant access token fail": the tenant has not installed the app
SECRET_INVALID = 10014  # what the fake answers a wrong app_secret, as on the custom app's token endpoint
RESEND_FAILED = 10016  # "app resend fail": a custom app has no ticket to push
APP_TOKEN_INVALID = 99991664  # "invalid app token"


class MarketplaceMethods(FeishuServer):
    """auth.app_access_token, auth.isv_tenant_access_token and auth.app_ticket.resend; tickets and installs."""

    def __init__(self, *, app_id: str, app_secret: str, tenant_key: str, marketplace: bool = False) -> None:
        super().__init__(app_id=app_id, app_secret=app_secret, tenant_key=tenant_key)
        self.marketplace = marketplace
        self.app_ticket = _new_ticket()
        self.on_ticket_resend: Callable[[str], None] | None = None
        self._installs: dict[str, int] = {}  # tenant_key -> which installation (a reinstall gets new tokens)
        self._install_seq = count(1)

    # ------------------------------------------------------------------ tickets and installs

    def new_ticket(self) -> str:
        """Rotate the app_ticket, as Feishu does hourly: only the new one gets an app_access_token."""
        with self._lock:
            self.app_ticket = _new_ticket()
            return self.app_ticket

    def install(self, tenant_key: str) -> None:
        """A tenant installs the app: a tenant_access_token can be had for it (installing again changes nothing)."""
        with self._lock:
            self._installs.setdefault(tenant_key, next(self._install_seq))

    def uninstall(self, tenant_key: str) -> None:
        """A tenant removes the app: its token stops working and no new one is issued."""
        with self._lock:
            self._installs.pop(tenant_key, None)

    @property
    def installed(self) -> frozenset[str]:
        """The tenant_keys of the tenants that have the app installed."""
        with self._lock:
            return frozenset(self._installs)

    @property
    def app_token(self) -> str:
        """The store app's app_access_token currently valid."""
        return "a-" + _hex("app token", self.app_id, self.app_secret, str(self._generation), length=40)

    def tenant_token(self, tenant_key: str) -> str:
        """The tenant_access_token currently valid for an installed tenant (KeyError when it is not installed)."""
        with self._lock:
            install = str(self._installs[tenant_key])
            return "t-" + _hex("tenant token", self.app_id, tenant_key, install, str(self._generation), length=40)

    def _tenant_of(self, token: str) -> str | None:
        if not self.marketplace:
            return super()._tenant_of(token)
        with self._lock:
            return next((tenant for tenant in self._installs if self.tenant_token(tenant) == token), None)

    # ------------------------------------------------------------------ endpoints

    def _auth_tenant_access_token(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        if self.marketplace:  # the internal token is a custom app's: a store app's id is not one
            raise FeishuApiFailure(INVALID_PARAM, "invalid param")
        return super()._auth_tenant_access_token(call, params)

    def _auth_app_access_token(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        self._check_store_app(call)
        if (call.body or {}).get("app_ticket") != self.app_ticket:
            raise FeishuApiFailure(APP_TOKEN_FAILED, "get app access token fail")
        return {"code": 0, "msg": "success", "app_access_token": self.app_token, "expire": TOKEN_TTL}

    def _auth_isv_tenant_access_token(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = call.body or {}
        if not self.marketplace or body.get("app_access_token") != self.app_token:
            raise FeishuApiFailure(APP_TOKEN_INVALID, "invalid app token")
        tenant_key = body.get("tenant_key")
        if not isinstance(tenant_key, str) or tenant_key not in self._installs:
            raise FeishuApiFailure(TENANT_TOKEN_FAILED, "get tenant access token fail")
        token = self.tenant_token(tenant_key)
        return {"code": 0, "msg": "success", "tenant_access_token": token, "expire": TOKEN_TTL}

    def _auth_app_ticket_resend(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        if not self.marketplace:
            raise FeishuApiFailure(RESEND_FAILED, "app resend fail")
        self._check_store_app(call)
        hook, ticket = self.on_ticket_resend, self.app_ticket
        if hook is not None:
            self._after_sending(call, lambda: hook(ticket))
        return {"code": 0, "msg": "success"}

    def _check_store_app(self, call: Call) -> None:
        body = call.body or {}
        if not self.marketplace or body.get("app_id") != self.app_id:
            raise FeishuApiFailure(INVALID_PARAM, "invalid param")
        if body.get("app_secret") != self.app_secret:
            raise FeishuApiFailure(SECRET_INVALID, "app secret invalid")


def _new_ticket() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]
