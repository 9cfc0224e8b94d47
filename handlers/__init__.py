"""The Slack adapter: one module of listeners per feature, wired by `register_all`."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    actions,
    digest,
    history,
    home,
    incident,
    install,
    meeting,
    membership,
    reactions,
    requirement,
)
from handlers.serving import hygiene, intake
from handlers.serving.replies import handle_error


def register_all(app: App, *, worker: bool = False) -> None:
    """Register every feature's listeners and the app-wide error handler.

    The serving app mends bodies and sends events to the inbox before any listener; a worker's app runs
    requests stored that way (already mended, already checked for duplicates).
    """
    if not worker:
        hygiene.register(app)  # first: nothing may see (or store) a string that cannot be stored
        intake.register(app)  # then: an event is stored and answered without meeting a listener
    requirement.register(app)
    meeting.register(app)
    actions.register(app)
    incident.register(app)
    history.register(app)
    reactions.register(app)
    home.register(app)
    digest.register(app)
    membership.register(app)
    install.register(app)
    app.error(handle_error)
