"""`coordbot demo`: coordbot and a local Slack workspace side by side, in one process.

The sandbox (`web.Sandbox`) plays Slack: it answers coordbot's Web API calls and serves the page people use.
coordbot runs as `coordbot run` does (uvicorn, Bolt, the inbox and its worker, the outbox's heartbeat) on its own
SQLite file, with the sandbox's clock. People's actions reach coordbot as Slack's would: signed HTTP requests.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from bot.app import Runtime, build_runtime, build_serving
from bot.config import Settings
from bot.manifest import COMMANDS, SHORTCUTS
from bot.scheduler import start_heartbeat
from handlers.sandbox import company
from handlers.sandbox.clock import SandboxClock
from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.web import Sandbox
from handlers.serving.http import Server
from handlers.serving.work import Worker

logger = logging.getLogger(__name__)

BOT_TOKEN = "xoxb-sandbox"  # the sandbox's own; it never leaves this machine
TICK_SECONDS = 10  # the heartbeat; moving the clock ticks at once
SAVE_SECONDS = 5.0


def files(database: Path) -> dict[str, Path]:
    """The files a demo keeps beside its database: the workspace's messages and the clock."""
    return {
        "workspace": database.with_name(database.name + ".slack.json"),
        "clock": database.with_name(database.name + ".clock.json"),
    }


def reset(database: Path) -> None:
    """Forget an earlier demo: its database and the files beside it."""
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-turn"))):
        path.unlink(missing_ok=True)
    for path in files(database).values():
        path.unlink(missing_ok=True)


@dataclass
class Demo:
    """A running demo: the sandbox (Slack), coordbot's server, worker and heartbeat."""

    sandbox: Sandbox
    runtime: Runtime
    server: Server
    worker: Worker
    scheduler: BackgroundScheduler
    database: Path
    _stop: threading.Event = field(default_factory=threading.Event)
    _saver: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where people open the sandbox."""
        return self.sandbox.base_url + "/"

    def tick(self) -> int:
        """Deliver what is due as of the sandbox's clock; how many messages went out."""
        report = self.runtime.tick()
        self.sandbox.changed()
        return report.sent

    def save(self) -> None:
        """Keep the workspace's messages for the next `coordbot demo`."""
        self.sandbox.save(files(self.database)["workspace"])

    def stop(self) -> None:
        """Stop coordbot, then the sandbox, keeping what was done."""
        self._stop.set()
        self.scheduler.shutdown(wait=False)
        self.server.shutdown()
        self.worker.stop()
        self.save()
        self.sandbox.stop()
        self.runtime.engine.dispose()

    def _keep_saving(self) -> None:
        saved = -1
        while not self._stop.wait(SAVE_SECONDS):
            if self.sandbox.version != saved:
                saved = self.sandbox.version
                try:
                    self.save()
                except OSError as exc:
                    logger.warning("could not keep the sandbox's messages: %s", exc)


def start(database: Path, *, port: int = 0, fresh: bool = False, settings: Settings | None = None) -> Demo:
    """Start the sandbox on 127.0.0.1:`port` and coordbot beside it; `fresh` forgets an earlier demo first."""
    if fresh:
        reset(database)
    kept = files(database)
    clock = SandboxClock(kept["clock"])
    sandbox = Sandbox(
        clock,
        bot_token=BOT_TOKEN,
        commands=[{k: c[k] for k in ("command", "description", "usage_hint", "should_escape")} for c in COMMANDS],
        shortcuts=[{"callback_id": s["callback_id"], "name": s["name"]} for s in SHORTCUTS if s["type"] == "message"],
    )
    company.seed(sandbox)
    sandbox.load(kept["workspace"])
    sandbox.start(port=port)
    secret = secrets.token_hex(16)
    settings = settings or Settings(
        bot_token=BOT_TOKEN,
        signing_secret=secret,
        database_url=f"sqlite:///{database}",
        slack_api_url=sandbox.api_url,
        response_urls=sandbox.base_url + "/response/",
        tz="Asia/Shanghai",
        tick_seconds=TICK_SECONDS,
    )
    try:
        runtime = build_runtime(settings, clock=clock)
        runtime.directory.load()
        serving = build_serving(runtime, claim=True)
        server = Server(
            serving.app, signing_secret=settings.signing_secret, host="127.0.0.1", port=0, health=runtime.healthy
        ).start_background()
    except Exception:
        sandbox.stop()
        raise
    driver = SlackDriver(server.url + "/slack/events", settings.signing_secret, sandbox, team_id=sandbox.team_id)

    def beat() -> None:
        runtime.tick()
        sandbox.changed()

    scheduler = start_heartbeat(beat, settings.tick_seconds)
    demo = Demo(
        sandbox=sandbox,
        runtime=runtime,
        server=server,
        worker=serving.worker,
        scheduler=scheduler,
        database=database,
    )
    sandbox.connect(driver, demo.tick)
    demo._saver = threading.Thread(target=demo._keep_saving, name="sandbox-save", daemon=True)
    demo._saver.start()
    return demo
