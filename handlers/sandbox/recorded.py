"""The calls a fake Web API answered, kept in order, and waiting for them: what the fake Slack, its cloud and the
fake Feishu share. Each fake says how a call is named (`_is`, `_label`); the lock and the list are its own."""

from __future__ import annotations

import threading
import time
from typing import Generic, Protocol, TypeVar


class _Named(Protocol):
    method: str


CallT = TypeVar("CallT", bound=_Named)


class CallLog(Generic[CallT]):
    """`calls`, `wait_for` and `reset` over a fake's `_calls`, guarded by its `_lock`."""

    _lock: threading.RLock
    _calls: list[CallT]

    def _is(self, call: CallT, which: str) -> bool:
        """Whether `call` is one of `which` (Slack: the method's name)."""
        return call.method == which

    def _label(self, call: CallT) -> str:
        """How a call is named in a failure's message."""
        return call.method

    def calls(self, which: str | None = None) -> list[CallT]:
        """A copy of the recorded calls, optionally only those of one kind."""
        with self._lock:
            return [c for c in self._calls if which is None or self._is(c, which)]

    def wait_for(self, which: str, count: int = 1, timeout: float = 5.0) -> list[CallT]:
        """Wait until `which` has been answered `count` times; return those calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(which)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                seen = [self._label(c) for c in self.calls()]
                raise AssertionError(
                    f"expected {count} call(s) of {which!r} within {timeout}s, got {len(found)}; "
                    f"calls seen in order: {seen or 'none'}"
                )
            time.sleep(0.005)

    def reset(self) -> None:
        """Forget the recorded calls (what the fake holds stays)."""
        with self._lock:
            self._calls.clear()
