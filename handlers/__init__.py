"""The Slack adapter: one module of listeners per feature, wired by `register_all`."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, digest, history, home, meeting, reactions, requirement
from handlers.replies import handle_error


def register_all(app: App) -> None:
    """Register every feature's listeners and the app-wide error handler."""
    requirement.register(app)
    meeting.register(app)
    actions.register(app)
    history.register(app)
    reactions.register(app)
    home.register(app)
    digest.register(app)
    app.error(handle_error)
