"""Processes the latency benchmark talks to: the fake Slack Web API, and a bare Bolt app that only acknowledges.

`python -m bench.servers fake` serves handlers/sandbox/slack_api/ in its own process, so its work (answering,
validating Block Kit) does not share an interpreter with the clients being timed. It prints its API URL, then
answers one JSON line per command read from stdin: `triggers N USER`, `responses N USER CHANNEL`, `counts`,
`modals CALLBACK_ID`, `sheets CHANNEL`, `calltimes METHOD`.

`python -m bench.servers bare --port P --api-url URL [--before-response]` serves a Bolt app whose listeners only
acknowledge, through the same server and adapter `coordbot run` uses (handlers.serving.http.Server: uvicorn, h11, Bolt's
ASGI adapter, dispatch on a thread pool), until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bench.common import widen_fake_backlog
from handlers.blocks.requirement import Ids as RequirementIds
from handlers.sandbox.slack_api import Call, FakeSlack
from handlers.serving.http import Server

BOT_TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret"
MARK = "benchmark-mark-"  # followed by digits: makes one request's text findable in the Web API call it causes
_MARK = re.compile(re.escape(MARK) + r"\d+")


def serve_fake() -> None:
    """The fake Slack Web API with a line-oriented control channel on stdin/stdout."""
    widen_fake_backlog()
    # trigger_ids are issued ahead of the timed requests, so they must not expire while waiting
    with FakeSlack(bot_token=BOT_TOKEN, trigger_ttl=None) as fake:
        _reply({"api_url": fake.api_url, "base_url": fake.base_url})
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            _reply(_command(fake, words))


def _command(fake: FakeSlack, words: list[str]) -> Any:
    verb = words[0]
    if verb == "triggers":
        return [fake.new_trigger_id(user=words[2]) for _ in range(int(words[1]))]
    if verb == "responses":
        return [fake.new_response_url(user=words[2], channel=words[3]) for _ in range(int(words[1]))]
    if verb == "counts":
        calls = Counter(c.method for c in fake.calls())
        failed = Counter(c.method for c in fake.calls() if c.error)
        return {
            "calls": dict(calls),
            "failed": dict(failed),
            "validation_errors": fake.validation_errors[-5:],
            "validation_error_count": len(fake.validation_errors),
        }
    if verb == "modals":  # every modal opened with this callback_id, oldest first
        return [v for v in fake.views() if v.get("callback_id") == words[1]]
    if verb == "sheets":
        return [
            m["ts"]
            for m in fake.messages(words[1])
            if m.get("user") == "U_BOT" and m.get("thread_ts") in (None, m["ts"]) and m.get("blocks")
        ]
    if verb == "member":  # whether the bot is in the channel (coordbot joins one before it posts a sheet there)
        return fake.bot_is_member(words[1])
    if verb == "calltimes":
        return [_call_time(c) for c in fake.calls(words[1])]
    return {"error": f"unknown command {verb}"}


def _call_time(call: Call) -> dict[str, Any]:
    """When a Web API call arrived (time.time() in this process) and what identifies the request behind it."""
    params = call.params
    found = _MARK.search(json.dumps([params.get("text"), params.get("blocks")], ensure_ascii=False))
    return {
        "at": call.at,
        "ok": call.error is None,
        "trigger_id": params.get("trigger_id"),
        "channel": params.get("channel"),
        "ts": params.get("ts"),
        "thread_ts": params.get("thread_ts"),
        "mark": found.group(0) if found else None,
    }


def _reply(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def bare_app(api_url: str, *, before_response: bool = False) -> App:
    """A Bolt app with Bolt's defaults for HTTP, whose three listeners only acknowledge.

    `before_response`: process_before_response=True (each listener on the request's thread, as coordbot's
    serving app runs them), instead of Bolt's default (listeners on Bolt's pool, the request's thread polling
    every 10 ms for the `ack()`).
    """
    client = WebClient(token=BOT_TOKEN, base_url=api_url)
    app = App(
        client=client,
        signing_secret=SIGNING_SECRET,
        process_before_response=before_response,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.command("/requirement")
    def on_command(ack: Ack) -> None:
        ack()

    @app.view_submission(RequirementIds.MODAL)
    def on_submission(ack: Ack) -> None:
        ack()

    @app.event("reaction_added")
    def on_reaction(ack: Ack) -> None:
        ack()

    return app


def serve_bare(port: int, api_url: str, before_response: bool = False) -> None:
    """Serve the bare app with coordbot's server until SIGTERM."""
    logging.basicConfig(level=logging.WARNING)
    server = Server(
        bare_app(api_url, before_response=before_response), signing_secret=SIGNING_SECRET, host="127.0.0.1", port=port
    )
    server.run()


def main() -> None:
    """Entry point of the helper processes."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("fake")
    bare = sub.add_parser("bare")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--api-url", required=True)
    bare.add_argument(
        "--before-response",
        action="store_true",
        help="process_before_response=True: listeners run on the request's thread",
    )
    args = parser.parse_args()
    if args.what == "fake":
        serve_fake()
    else:
        serve_bare(args.port, args.api_url, args.before_response)


if __name__ == "__main__":
    main()
