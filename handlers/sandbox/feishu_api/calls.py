"""A recorded call, the Open API's error answer, and the small helpers every family of endpoints uses."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class FeishuApiFailure(Exception):
    """An Open API error answer: ``{"code": code, "msg": msg}`` with an HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status


@dataclass
class Call:
    """One request the fake answered; unpacks as ``(method, path, body, query)``."""

    method: str
    path: str
    body: dict[str, Any] | None
    query: dict[str, str]
    name: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)  # a multipart form's parts (its text ones also in body)
    tenant: str | None = None  # whose tenant_access_token the call carried (None: an auth call, or no valid token)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.method, self.path, self.body, self.query))

    @property
    def code(self) -> int | None:
        """The answer's ``code`` (0: success), None when the answer was not JSON."""
        value = self.response.get("code")
        return value if isinstance(value, int) else None


Handler = Callable[[Call, dict[str, str]], dict[str, Any]]


def _hex(*parts: str, length: int = 32) -> str:
    return hashlib.sha256(":".join(parts).encode("utf-8")).hexdigest()[:length]


def _matches(fragment: str, name: str, path: str) -> bool:
    return fragment == name or fragment in path


def _ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": data}


def _body(call: Call, *required: str) -> dict[str, Any]:
    body = call.body or {}
    missing = [name for name in required if name not in body or body[name] is None]
    if missing:
        raise FeishuApiFailure(99992402, f"field validation failed: {', '.join(missing)} required")
    return body
