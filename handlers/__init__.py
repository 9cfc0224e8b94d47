"""The Slack adapter: one module of listeners per feature, wired by `register_all`."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, dedupe, digest, history, home, hygiene, incident, meeting, reactions, requirement
from handlers.replies import handle_error


def register_all(app: App, *, worker: bool = False) -> None:
    """Register every feature's listeners and the app-wide error handler.

    A worker process (handlers.handoff) leaves the duplicate check out: the serving process that handed
    it a request has already made it (the worker records it), and gets bodies already mended.
    """
    if not worker:
        hygiene.register(app)  # first: nothing may see a string that cannot be stored
    dedupe.register(app, worker=worker)  # then: a duplicate reaches no listener
    requirement.register(app)
    meeting.register(app)
    actions.register(app)
    incident.register(app)
    history.register(app)
    reactions.register(app)
    home.register(app)
    digest.register(app)
    app.error(handle_error)
