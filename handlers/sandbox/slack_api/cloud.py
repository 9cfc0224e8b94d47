"""FakeSlackCloud: several fake workspaces behind one Web API URL, with OAuth installs and per-token identities.

Each workspace is a ``FakeSlack`` of its own (people, channels, messages, recorded calls, faults). The cloud listens
for all of them, answers ``oauth.v2.access`` itself, and hands every other call to the workspace that owns its
token, which answers it exactly as a lone FakeSlack does. An org-wide (Enterprise Grid) install has one token for
every workspace of its org: a call with it goes to the workspace its ``team_id`` names, else to the one that has its
``channel``/``user``/``users``, else to the org's first workspace.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from itertools import count
from typing import Any, Self

from bot.manifest import BOT_SCOPES
from handlers.sandbox.recorded import CallLog
from handlers.sandbox.slack_api.calls import Call, MethodHandler, SlackApiFailure, _id_list, _parse_params
from handlers.sandbox.slack_api.fake import FakeSlack
from handlers.sandbox.slack_api.files import UPLOAD_PATH
from handlers.sandbox.slack_api.server import (
    APP_TOKEN_METHODS,
    Listener,
    WebApiServer,
    _Answer,
    _bearer,
    _header,
    _read,
    _send,
)
from handlers.sandbox.slack_api.workspace import ALICE, APP_ID, BOT, BOT_ID

CODE_TTL = 600.0
"""Seconds an OAuth code can be exchanged after Slack issued it."""


@dataclass
class _Org:
    enterprise_id: str
    name: str
    domain: str
    teams: list[str] = field(default_factory=list)


@dataclass
class _Code:
    team_id: str | None  # None: an org-wide install
    enterprise_id: str | None
    user: str
    scopes: tuple[str, ...]
    redirect_uri: str | None
    issued: float
    used: bool = False


@dataclass
class _Grant:
    """One bot token: of a workspace install (``team_id``) or of an org-wide install (``team_id`` None)."""

    token: str
    team_id: str | None
    enterprise_id: str | None
    user: str
    scopes: tuple[str, ...]
    state: str = "active"  # active | replaced (by a later install) | revoked


class FakeSlackCloud(CallLog[Call], Listener):
    """Slack for many workspaces and orgs on one 127.0.0.1 port: OAuth installs, and tokens that tell who calls."""

    def __init__(
        self,
        client_id: str = "1111.2222",
        client_secret: str = "shh",
        *,
        app_id: str = APP_ID,
        app_token: str = "xapp-test",
        trigger_ttl: float | None = 3.0,
        code_ttl: float = CODE_TTL,
    ) -> None:
        """Create the cloud of the app ``app_id`` with these OAuth client credentials; no workspace yet."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_id = app_id
        self.app_token = app_token
        self.trigger_ttl = trigger_ttl
        self.code_ttl = code_ttl
        self.clock: Callable[[], float] = time.time  # when codes are issued and expire
        self._lock = threading.RLock()
        self._workspaces: dict[str, FakeSlack] = {}
        self._orgs: dict[str, _Org] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}
        self._current: dict[str, str] = {}  # team_id, or enterprise_id of an org-wide install -> its latest token
        self._shared: dict[str, str] = {}  # a channel shared between workspaces of an org -> the workspace holding it
        self._calls: list[Call] = []
        self._id_seq = count(1)  # shared by the workspaces: trigger ids, view ids and response URLs stay unique
        self._seq = count(1)
        self._methods: dict[str, MethodHandler] = {
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> Self:
        """Listen on 127.0.0.1 (on `port`, or an ephemeral one) in a daemon thread."""
        self._listen(port, name="fake-slack-cloud")
        return self

    # ------------------------------------------------------------------ workspaces and orgs

    def add_workspace(
        self,
        team_id: str,
        *,
        name: str | None = None,
        domain: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
    ) -> FakeSlack:
        """A new workspace seeded as FakeSlack is, the app not installed; in the Grid org ``enterprise_id`` if given."""
        with self._lock:
            if team_id in self._workspaces:
                raise ValueError(f"workspace {team_id!r} exists already")
            fake = FakeSlack(bot_token="", team_id=team_id, app_id=self.app_id, trigger_ttl=self.trigger_ttl)
            fake.team_name = name or team_id
            fake.team_domain = domain or _domain(team_id)
            fake._id_seq = self._id_seq
            fake._host = self
            fake._methods["auth.test"] = self._auth_test(fake._methods["auth.test"])
            self._workspaces[team_id] = fake
            if enterprise_id is not None:
                org = self._orgs.get(enterprise_id)
                if org is None:
                    org = _Org(enterprise_id, enterprise_name or enterprise_id, _domain(enterprise_id))
                    self._orgs[enterprise_id] = org
                elif enterprise_name is not None:
                    org.name = enterprise_name
                org.teams.append(team_id)
                fake.enterprise_id = enterprise_id
                for member in self._org_workspaces(org):
                    member.enterprise_name = org.name
            return fake

    def share_channel(self, channel_id: str, host: str, *guests: str) -> None:
        """Share the host workspace's channel with other workspaces of its org (Grid): one channel, one history,
        reached with the org's token from any of them, whichever workspace a call names."""
        with self._lock:
            holder = self._workspaces[host]
            if channel_id not in holder.channel_ids():
                raise ValueError(f"{host} has no channel {channel_id}")
            for guest in guests:
                if self._workspaces[guest].enterprise_id != holder.enterprise_id or holder.enterprise_id is None:
                    raise ValueError("channels are shared between workspaces of one Grid org")
            self._shared[channel_id] = host

    def workspace(self, team_id: str) -> FakeSlack:
        """The workspace ``team_id`` (KeyError if there is none)."""
        with self._lock:
            return self._workspaces[team_id]

    def workspaces(self, enterprise_id: str | None = None) -> list[FakeSlack]:
        """Every workspace in the order added, or those of one org."""
        with self._lock:
            return [w for w in self._workspaces.values() if enterprise_id is None or w.enterprise_id == enterprise_id]

    # ------------------------------------------------------------------ installs

    def authorize(
        self,
        *,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        user: str = ALICE,
        org_install: bool = False,
        scopes: Iterable[str] | None = None,
        redirect_uri: str | None = None,
    ) -> str:
        """What Slack does when ``user`` clicks Allow: a one-time code for oauth.v2.access, good for ``code_ttl`` s.

        ``org_install`` installs the app org-wide in ``enterprise_id``; otherwise in workspace ``team_id``.
        ``scopes`` default to the manifest's bot scopes; a ``redirect_uri`` must come back with the exchange.
        """
        with self._lock:
            if org_install:
                if enterprise_id not in self._orgs or team_id is not None:
                    raise ValueError(f"an org-wide install takes a known org's enterprise_id, not {enterprise_id!r}")
                team: str | None = None
            else:
                if team_id not in self._workspaces:
                    raise ValueError(f"no workspace {team_id!r}; add_workspace() it first")
                if enterprise_id is not None and self._workspaces[team_id].enterprise_id != enterprise_id:
                    raise ValueError(f"workspace {team_id!r} is not in org {enterprise_id!r}")
                team, enterprise_id = team_id, self._workspaces[team_id].enterprise_id
            now = self.clock()
            code = f"{int(now)}.{next(self._seq)}.{secrets.token_hex(16)}"
            granted = tuple(BOT_SCOPES if scopes is None else scopes)
            self._codes[code] = _Code(team, enterprise_id, user, granted, redirect_uri, now)
            return code

    def revoke(self, *, team_id: str | None = None, enterprise_id: str | None = None) -> None:
        """Uninstall: the token of workspace ``team_id``'s install (or ``enterprise_id``'s org-wide one) is revoked."""
        if (team_id is None) == (enterprise_id is None):
            raise ValueError("revoke(team_id=...) or revoke(enterprise_id=...)")
        key = str(team_id or enterprise_id)
        with self._lock:
            token = self._current.get(key)
            if token is None:
                raise ValueError(f"{key!r} has no install to revoke")
            self._grants[token].state = "revoked"
            self._sync_bot_tokens()

    def token_for(self, *, team_id: str | None = None, enterprise_id: str | None = None) -> str | None:
        """The working token of workspace ``team_id``'s install (or of ``enterprise_id``'s org-wide one), or None."""
        with self._lock:
            return self._active(str(team_id or enterprise_id))

    # ------------------------------------------------------------------ recorded calls

    # ------------------------------------------------------------------ what the workspaces ask of their host

    def refused(self, fake: WebApiServer, method: str, token: str) -> str | None:
        """Why a call with ``token`` to ``fake`` is refused (None: it is not)."""
        if method in APP_TOKEN_METHODS:
            return None if token == self.app_token else "invalid_auth"
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or not _covers(grant, fake):
            return "invalid_auth"
        if grant.state == "revoked":
            return "token_revoked"
        return None if grant.state == "active" else "invalid_auth"

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.time()
        split, raw, headers = _read(request)
        if split.path.startswith("/api/"):
            answer = self._api(split.path[len("/api/") :], split.query, raw, headers, arrived)
        elif split.path.startswith("/response/"):
            answer = self._response_url(split.path[len("/response/") :], raw, headers, arrived)
        elif split.path.startswith(UPLOAD_PATH):  # a file's bytes, to the workspace that gave out the URL
            ticket = split.path[len(UPLOAD_PATH) :]
            holder = next((w for w in self.workspaces() if w.has_upload_ticket(ticket)), None)
            answer = (
                holder._upload(request.command, ticket, raw, headers, arrived)
                if holder is not None
                else _Answer(404, {"ok": False, "error": "invalid_upload_url"})
            )
        else:
            answer = _Answer(404, {"ok": False, "error": "not_found"})
        _send(request, answer)

    def _api(self, method: str, query: str, raw: bytes, headers: dict[str, str], arrived: float) -> _Answer:
        if method in self._methods:
            return self._answer(method, query, raw, headers, arrived)
        try:
            params = _parse_params(query, raw, _header(headers, "Content-Type"))
        except SlackApiFailure:
            params = {}
        token = _bearer(headers) or params.get("token")
        if not token:
            return self._answer(method, query, raw, headers, arrived, error="not_authed")
        with self._lock:
            grant = self._grants.get(str(token))
        if grant is None:
            return self._answer(method, query, raw, headers, arrived, error="invalid_auth")
        target = self._route(grant, method, params)
        if target is None:
            return self._answer(method, query, raw, headers, arrived, error="team_access_not_granted")
        return target._api(method, query, raw, headers, arrived)

    def _route(self, grant: _Grant, method: str, params: dict[str, Any]) -> FakeSlack | None:
        with self._lock:
            if grant.team_id is not None:
                return self._workspaces[grant.team_id]
            members = self._org_workspaces(self._orgs[str(grant.enterprise_id)])
            host = self._shared.get(str(params.get("channel") or ""))
        if host is not None and any(w.team_id == host for w in members):
            return self._workspaces[host]
        wanted = params.get("team_id") or (params.get("team") if method == "team.info" else None)
        if wanted:
            return next((w for w in members if w.team_id == wanted), None)
        for key in ("channel", "user", "users"):
            ids = _id_list(params.get(key)) if key == "users" else [str(params.get(key) or "")]
            for member in members:
                if any(_owns(member, i) for i in ids if i):
                    return member
        return members[0] if members else None

    def _answer(
        self, method: str, query: str, raw: bytes, headers: dict[str, str], arrived: float, *, error: str = ""
    ) -> _Answer:
        call = Call(method=method, params={}, headers=headers, at=arrived)
        try:
            call.params = _parse_params(query, raw, _header(headers, "Content-Type"))
            if error:
                raise SlackApiFailure(error)
            body = {"ok": True, **self._methods[method](call.params, call)}
        except SlackApiFailure as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
        return self._finish(call, _Answer(200, body))

    def _finish(self, call: Call, answer: _Answer) -> _Answer:
        call.status = answer.status
        call.response = answer.body
        if not answer.body.get("ok", True) or answer.status != 200:
            call.error = str(answer.body.get("error", f"http_{answer.status}"))
        with self._lock:
            self._calls.append(call)
        return answer

    def _response_url(self, key: str, raw: bytes, headers: dict[str, str], arrived: float) -> _Answer:
        for fake in self.workspaces():
            if key in fake._response_urls:
                return fake._response_url(key, raw, headers, arrived)
        call = Call(
            method="response_url", params={"_url": f"{self.base_url}/response/{key}"}, headers=headers, at=arrived
        )
        return self._finish(call, _Answer(404, {"ok": False, "error": "no_service"}))

    # ------------------------------------------------------------------ methods the cloud answers

    def _oauth_v2_access(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        client_id, client_secret = _client_credentials(params, call.headers)
        if client_id != self.client_id:
            raise SlackApiFailure("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackApiFailure("bad_client_secret")
        if str(params.get("grant_type") or "authorization_code") != "authorization_code":
            raise SlackApiFailure("invalid_grant_type")  # token rotation is off in the manifest
        with self._lock:
            code = self._codes.get(str(params.get("code") or ""))
            if code is None or code.used or self.clock() - code.issued > self.code_ttl:
                raise SlackApiFailure("invalid_code")
            if code.redirect_uri is not None and params.get("redirect_uri") != code.redirect_uri:
                raise SlackApiFailure("bad_redirect_uri")
            code.used = True
            key = str(code.team_id or code.enterprise_id)
            token = f"xoxb-{next(self._seq)}-{secrets.token_hex(12)}"
            previous = self._grants.get(self._current.get(key, ""))
            if previous is not None and previous.state == "active":
                previous.state = "replaced"
            self._grants[token] = _Grant(token, code.team_id, code.enterprise_id, code.user, code.scopes)
            self._current[key] = token
            self._sync_bot_tokens()
            team = self._workspaces[code.team_id] if code.team_id is not None else None
            org = self._orgs[code.enterprise_id] if code.enterprise_id is not None else None
        return {
            "app_id": self.app_id,
            "authed_user": {"id": code.user},
            "scope": ",".join(code.scopes),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT,
            "team": None if team is None else {"id": team.team_id, "name": team.team_name},
            "enterprise": None if org is None else {"id": org.enterprise_id, "name": org.name},
            "is_enterprise_install": team is None,
        }

    def _apps_connections_open(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        if (_bearer(call.headers) or params.get("token")) != self.app_token:
            raise SlackApiFailure("invalid_auth")
        return {"url": f"wss://127.0.0.1:1/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"}

    def _auth_test(self, workspace_answer: MethodHandler) -> MethodHandler:
        """auth.test of a workspace: with an org-wide token it answers for the org, as Slack does."""

        def answer(params: dict[str, Any], call: Call) -> dict[str, Any]:
            with self._lock:
                grant = self._grants.get(str(_bearer(call.headers) or params.get("token") or ""))
                org = self._orgs.get(str(grant.enterprise_id)) if grant is not None and grant.team_id is None else None
            if org is None:
                return workspace_answer(params, call)
            return {
                "url": f"https://{org.domain}.enterprise.slack.com/",
                "team": org.name,
                "user": "coordbot",
                "team_id": org.enterprise_id,
                "user_id": BOT,
                "bot_id": BOT_ID,
                "enterprise_id": org.enterprise_id,
                "is_enterprise_install": True,
            }

        return answer

    # ------------------------------------------------------------------ helpers

    def _org_workspaces(self, org: _Org) -> list[FakeSlack]:
        return [self._workspaces[t] for t in org.teams if t in self._workspaces]

    def _active(self, key: str) -> str | None:
        grant = self._grants.get(self._current.get(key, ""))
        return grant.token if grant is not None and grant.state == "active" else None

    def _sync_bot_tokens(self) -> None:
        """Each workspace's ``bot_token`` is the token that works there now ("" when none does)."""
        for fake in self._workspaces.values():
            org_token = self._active(fake.enterprise_id) if fake.enterprise_id is not None else None
            fake.bot_token = self._active(fake.team_id) or org_token or ""


def _covers(grant: _Grant, fake: WebApiServer) -> bool:
    if grant.team_id is not None:
        return grant.team_id == fake.team_id
    return grant.enterprise_id is not None and grant.enterprise_id == fake.enterprise_id


def _owns(fake: FakeSlack, some_id: str) -> bool:
    """Whether a user or channel ID (a DM's too) is the workspace's."""
    if some_id[:1] == "D":
        some_id = some_id[1:]
    if some_id[:1] in ("U", "W"):
        return fake.user(some_id) is not None
    return some_id in fake.channel_ids()


def _client_credentials(params: dict[str, Any], headers: dict[str, str]) -> tuple[str, str]:
    """client_id and client_secret from HTTP Basic auth (what slack_sdk sends), else from the parameters."""
    value = _header(headers, "Authorization")
    if value.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(value[len("Basic ") :].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")


def _domain(some_id: str) -> str:
    return some_id.lower().replace("_", "-")
