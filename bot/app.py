"""The composition root: builds the Web API client, the Bolt app and the runtime around them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine, text

import handlers
from bot.config import Settings
from bot.outbox import TickReport
from bot.services import Services, utc_now
from handlers.directory import Directory
from handlers.handoff import CONTEXT_KEY as HANDOFF_KEY
from handlers.handoff import Direct, Handoff, events_straight_through
from handlers.outbound import make_deliver
from storage.db import make_engine, make_session_scope, migrate

logger = logging.getLogger(__name__)


def make_client(settings: Settings) -> WebClient:
    """The one Web API client: SLACK_API_URL, retries for rate limits, 5xx and dropped connections."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=settings.http_timeout,  # type: ignore[arg-type]  # urllib takes fractions too
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(max_retry_count=1),
        ],
    )


@dataclass
class Runtime:
    """Everything `coordbot run` and `coordbot tick` need, wired together."""

    settings: Settings
    engine: Engine
    services: Services
    client: WebClient
    directory: Directory

    def tick(self, now: datetime | None = None) -> TickReport:
        """Deliver everything due as of `now` (default: the clock's now)."""
        self.directory.ensure_team()  # `coordbot tick` runs without loading the member list
        deliver = make_deliver(self.client, self.services, self.directory)
        return self.services.outbox.tick(now or self.services.now(), deliver)

    def healthy(self) -> bool:
        """The database answers."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True


def build_runtime(settings: Settings, *, clock: Callable[[], datetime] = utc_now,
                  client: WebClient | None = None, upgrade: bool = True) -> Runtime:
    """Open the database (upgrading its schema) and build services, client and directory."""
    engine = make_engine(settings.database_url)
    if upgrade:
        migrate(engine)
    services = Services.build(settings, make_session_scope(engine), clock=clock)
    client = client or make_client(settings)
    directory = Directory(client, default_tz=settings.tz, default_lang=settings.lang, prefs=services.prefs)
    # reminders are placed in each recipient's working hours, in their Slack timezone
    services.requirements.tz_of = directory.tz_of
    services.actions.tz_of = directory.tz_of
    services.meetings.tz_of = directory.tz_of
    return Runtime(settings=settings, engine=engine, services=services, client=client, directory=directory)


class _QuietTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client given to it wins; that is the intent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def create_app(runtime: Runtime, *, token_verification: bool = True, forwarder: Handoff | None = None,
               worker: bool = False) -> App:
    """The Bolt app with every feature's listeners, the services middleware and the error handler.

    With a `forwarder`, listeners stop at their acknowledgment and hand the request to the worker process;
    `worker=True` builds that worker's app, which runs the requests handed to it in full.
    """
    settings = runtime.settings
    bolt_logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _QuietTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_QuietTokenNotice())
    app = App(
        client=runtime.client,
        signing_secret=settings.signing_secret,
        token_verification_enabled=token_verification,
        # the worker reads only its own pipe from the serving process, which checked every signature
        request_verification_enabled=not worker,
        # A serving process with a worker runs each listener only up to its ack(): that is short, so it
        # runs on the request's own thread (no hop to the listener pool, no polling for the answer). The
        # worker's own pool runs each handed-over request to its end, nobody waiting for its answer.
        # Otherwise listeners acknowledge and go on working after the answer has left.
        process_before_response=forwarder is not None or worker,
        logger=bolt_logger,
        # Listeners acknowledge and then keep working on their thread; Bolt's default of 5 threads
        # makes the next acknowledgment wait under a burst.
        listener_executor=ThreadPoolExecutor(max_workers=settings.listener_threads,
                                             thread_name_prefix="listener"),
    )

    def inject_services(request: BoltRequest, next: Callable[[], Any]) -> None:
        context = request.context
        context["services"] = runtime.services
        context["directory"] = runtime.directory
        if forwarder is not None:
            context[HANDOFF_KEY] = forwarder
        next()

    app.middleware(Direct(inject_services))
    handlers.register_all(app, worker=worker)
    if forwarder is not None:
        app.middleware(Direct(events_straight_through))  # after the duplicate check, before any listener
    return app
