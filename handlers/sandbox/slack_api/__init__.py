"""A fake Slack Web API served over HTTP on 127.0.0.1 that records every call.

Point ``slack_sdk.WebClient(base_url=fake.api_url)`` at it. Answers mimic Slack's JSON
shapes and error codes closely enough for a real Bolt app to run against it.

``FakeSlack`` (fake.py) is assembled from layers, each in a module of its own:

- workspace.py: the team, the seeded people (ALICE, BOB, CAROL, DAVE, the BOT) and channels (GENERAL), membership;
- messages.py: stored messages and ephemerals, and the checks on what the bot sends;
- views.py: trigger ids, modals and App Home, and the views.* methods;
- chat.py, conversations.py, users.py: the other Web API methods, one family a module;
- server.py: the HTTP server, recorded calls, injected faults and delays, response URLs;
- blockkit.py: Block Kit validation as Slack does it; calls.py: a recorded call and reading its parameters.

``FakeSlackCloud`` (cloud.py) serves several such workspaces (and Enterprise Grid orgs) behind one URL, with OAuth
installs (``oauth.v2.access``) and each call routed by its token.
"""

from __future__ import annotations

from handlers.sandbox.slack_api.blockkit import MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS
from handlers.sandbox.slack_api.calls import JSON_PARAMS, Call, SlackApiFailure
from handlers.sandbox.slack_api.cloud import FakeSlackCloud
from handlers.sandbox.slack_api.fake import FakeSlack
from handlers.sandbox.slack_api.messages import MAX_TEXT_LENGTH
from handlers.sandbox.slack_api.server import APP_TOKEN_METHODS, RESPONSE_URL_MAX_USES, _Server
from handlers.sandbox.slack_api.workspace import (
    ALICE,
    APP_ID,
    BOB,
    BOT,
    BOT_ID,
    CAROL,
    DAVE,
    GENERAL,
    TEAM_DOMAIN,
    TEAM_NAME,
)

__all__ = [
    "ALICE",
    "APP_ID",
    "APP_TOKEN_METHODS",
    "BOB",
    "BOT",
    "BOT_ID",
    "CAROL",
    "DAVE",
    "GENERAL",
    "JSON_PARAMS",
    "MAX_MESSAGE_BLOCKS",
    "MAX_TEXT_LENGTH",
    "MAX_VIEW_BLOCKS",
    "RESPONSE_URL_MAX_USES",
    "TEAM_DOMAIN",
    "TEAM_NAME",
    "Call",
    "FakeSlack",
    "FakeSlackCloud",
    "SlackApiFailure",
    "_Server",  # bench.common widens its listen backlog
]
