"""Domain errors that services raise and the Slack adapter turns into replies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CoordbotError(Exception):
    """Base of the errors a user may see; `key` names a text-catalog entry."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key, params)


class ValidationFailed(CoordbotError):
    """Input did not pass validation; `field_errors` maps field names to (key, params)."""

    key = "error.validation"

    def __init__(self, field_errors: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__()
        self.field_errors = dict(field_errors)


class NotAllowed(CoordbotError):
    """The user may not do this."""

    key = "error.not_allowed"


class NotFound(CoordbotError):
    """The record does not exist (or is not visible to this user)."""

    key = "error.not_found"


class Conflict(CoordbotError):
    """The record's state does not allow this now."""

    key = "error.conflict"


class DeliveryFailed(Exception):
    """A message could not be delivered; `permanent` ones are not retried."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
