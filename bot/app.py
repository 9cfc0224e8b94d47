"""The composition root: builds the Web API client, the Bolt app and the runtime around them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest, BoltResponse
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
from bot.inbox import Row, worker_name
from bot.messenger import Platform
from bot.outbox import Deliver, DueWork, Outcome, TickReport
from bot.services import Services, utc_now
from handlers.due.outbound import make_deliver
from handlers.install import TENANTS_KEY
from handlers.serving.intake import CONTEXT_KEY as INTAKE_KEY
from handlers.serving.intake import Intake, response_url_filter
from handlers.serving.replies import tell_parked
from handlers.serving.work import Worker
from handlers.workspace.directory import Directory
from handlers.workspace.tenants import Tenant, Tenants
from storage.db import impatient, is_sqlite, make_engine, make_session_scope, migrate, read_only

if TYPE_CHECKING:  # imported when installs are configured (it loads SQLAlchemy's asyncio part)
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    from handlers.feishu.adapter import Feishu  # imported when Feishu is configured (it loads lark-oapi)

logger = logging.getLogger(__name__)


def make_client(settings: Settings, token: str | None = None, team_id: str | None = None) -> WebClient:
    """A Web API client: SLACK_API_URL, retries for rate limits, 5xx and dropped connections.

    Without `token`, the configured bot token (none with OAuth: the client then only exchanges install codes).
    `team_id`: the workspace an organization-wide token acts in, sent with each call.
    """
    return WebClient(
        token=token if token is not None else (settings.bot_token or None),
        team_id=team_id,
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
    tenants: Tenants
    store: SQLAlchemyInstallationStore | None = None  # with OAuth: where installs keep their tokens
    feishu: Feishu | None = None  # with FEISHU_APP_ID and FEISHU_APP_SECRET: the Feishu adapter

    def tick(self, now: datetime | None = None) -> TickReport:
        """Deliver everything due as of `now` (default: the clock's now), each by its platform's adapter, with
        its workspace's token."""
        slack: Deliver | None = None
        feishu = self.feishu.deliver() if self.feishu is not None else None
        if self.settings.slack or self.feishu is None:
            if not self.tenants.multi:
                self.directory.ensure_team()  # `coordbot tick` runs without loading the member list
            slack = make_deliver(self.tenants, self.services)

        senders = {Platform.SLACK.value: slack, Platform.FEISHU.value: feishu}

        def deliver(item: DueWork, when: datetime) -> Outcome:
            by = senders.get(item.platform)
            return Outcome.HELD if by is None else by(item, when)  # kept until that messenger is configured

        return self.services.outbox.tick(now or self.services.now(), deliver)

    def healthy(self) -> bool:
        """The database answers."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True


def build_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    client: WebClient | None = None,
    upgrade: bool = True,
    writer: str | None = None,
) -> Runtime:
    """Open the database (upgrading its schema) and build services, client and directory.

    `writer`: `storage.db.ANSWERING` in the process that answers Slack while worker processes do the work,
    `storage.db.WORKING` in a worker process (on SQLite, requests are stored before work writes).
    """
    engine = make_engine(settings.database_url, writer=writer)
    if upgrade:
        migrate(engine)
    services = Services.build(settings, make_session_scope(engine), clock=clock)
    if is_sqlite(engine):
        # One writer at a time: a request being stored retries every half millisecond while a worker
        # writes, instead of sleeping in SQLite's growing steps; idle workers look without locking.
        services.inbox.use(
            put_scope=make_session_scope(impatient(engine)), peek_scope=make_session_scope(read_only(engine))
        )
    client = client or make_client(settings)

    def make_directory(api: WebClient, team_id: str = "") -> Directory:
        made = Directory(api, default_tz=settings.tz, default_lang=settings.lang, prefs=services.prefs)
        made.team_id = team_id
        return made

    directory = make_directory(client)
    store = None
    if settings.oauth:
        from handlers.serving.oauth import installation_store

        store = installation_store(engine, settings.client_id)
        tenants = Tenants(
            store=store,
            workspaces=services.workspaces,
            make_client=lambda token, team: make_client(settings, token or "", team),
            make_directory=make_directory,
            default_tz=settings.tz,
        )
    else:
        tenants = Tenants(single=Tenant("", None, client, directory))
    # reminders are placed in each recipient's working hours, in their Slack timezone
    services.requirements.tz_of = tenants.tz_of
    services.actions.tz_of = tenants.tz_of
    services.meetings.tz_of = tenants.tz_of
    runtime = Runtime(
        settings=settings,
        engine=engine,
        services=services,
        client=client,
        directory=directory,
        tenants=tenants,
        store=store,
        feishu=feishu_adapter(services) if settings.feishu else None,
    )
    services.deliver_due = runtime.tick
    return runtime


def feishu_adapter(services: Services, api: Any = None) -> Feishu:
    """The Feishu adapter over the shared services (`api`: a FeishuApi pointed elsewhere, for tests)."""
    from handlers.feishu.adapter import Feishu

    return Feishu(services, api=api)


class _QuietTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client given to it wins; that is the intent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def create_app(
    runtime: Runtime, *, token_verification: bool = True, intake: Intake | None = None, worker: bool = False
) -> App:
    """The Bolt app with every feature's listeners, the services middleware and the error handler.

    With an `intake` (the serving app), listeners run as far as their acknowledgment, which stores the
    request in the inbox before answering; `worker=True` builds a worker's app, which runs stored requests
    in full (they were verified before they were stored).
    """
    settings = runtime.settings
    bolt_logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _QuietTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_QuietTokenNotice())
    tenants = runtime.tenants
    app = App(
        client=runtime.client,
        signing_secret=settings.signing_secret,
        token_verification_enabled=token_verification,
        request_verification_enabled=not worker,
        # Both run each listener on the calling thread: the serving app only as far as ack() (short),
        # a worker's app to its end on one of the worker's threads, nobody waiting for its answer.
        process_before_response=True,
        logger=bolt_logger,
        **_oauth(runtime, serving=not worker),
    )

    def inject_services(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        context = req.context
        context["services"] = runtime.services
        context[TENANTS_KEY] = tenants
        tenant = tenants.single
        org = bool(context.is_enterprise_install)
        # an organization's install may send events that name no workspace: the organization acts as one
        team = context.team_id or (context.enterprise_id if org else None)
        if tenants.multi and team:
            runtime.services.workspaces.seen(
                team_id=team, enterprise_id=context.enterprise_id, org_install=org, now=utc_now()
            )
            tenant = tenants.get(team, enterprise_id=context.enterprise_id, org_install=org)
        context["directory"] = tenant.directory if tenant is not None else runtime.directory
        if intake is not None:
            context[INTAKE_KEY] = intake
        with tenants.acting_for(tenant):
            return next()

    app.middleware(response_url_filter(settings.response_urls))
    app.middleware(inject_services)
    handlers.register_all(app, worker=worker)
    return app


@dataclass
class Serving:
    """The serving app (None when only Feishu is served) and the worker that runs rows in this process."""

    app: App | None
    worker: Worker


def _slack_served(runtime: Runtime) -> bool:
    """Slack's apps are built unless only Feishu is configured."""
    return runtime.settings.slack or runtime.feishu is None


def _runners(runtime: Runtime) -> dict[str, Callable[[Row], None]]:
    return {Platform.FEISHU.value: runtime.feishu.run} if runtime.feishu is not None else {}


def build_serving(runtime: Runtime, *, claim: bool, token_verification: bool = True) -> Serving:
    """The serving app with its intake, and this process's worker.

    With `claim`, the worker claims every due row (one process does it all); without, it runs only the rows
    this process stored claimed (modals to open within Slack's 3 seconds), and worker processes do the rest.
    """
    settings = runtime.settings
    slack = _slack_served(runtime)
    work_app = create_app(runtime, token_verification=token_verification, worker=True) if slack else None
    role = "serve+work" if claim else "serve"
    worker = Worker(
        work_app,
        runtime.services.inbox,
        name=worker_name(role),
        threads=settings.worker_threads,
        poll=settings.inbox_poll,
        on_parked=parked_notice(runtime),
        runners=_runners(runtime),
    )
    intake = Intake(
        runtime.services.inbox,
        now=runtime.services.now,
        name=worker.name,
        run_now=worker.submit,
        wake=worker.wake if claim else None,
    )
    app = create_app(runtime, token_verification=token_verification, intake=intake) if slack else None
    if runtime.feishu is not None:
        runtime.feishu.intake.wake = worker.wake if claim else None
    worker.start(claim=claim)
    return Serving(app=app, worker=worker)


def build_worker(runtime: Runtime, *, token_verification: bool = True, role: str = "worker") -> Worker:
    """A worker that claims and runs every due row (`coordbot work`)."""
    settings = runtime.settings
    app = create_app(runtime, token_verification=token_verification, worker=True) if _slack_served(runtime) else None
    return Worker(
        app,
        runtime.services.inbox,
        name=worker_name(role),
        threads=settings.worker_threads,
        poll=settings.inbox_poll,
        on_parked=parked_notice(runtime),
        runners=_runners(runtime),
    )


def parked_notice(runtime: Runtime) -> Callable[[Row, BaseException], None]:
    """Tell the person behind a request that it was given up on, with the row's number to quote."""

    def notify(row: Row, error: BaseException) -> None:
        if row.platform == Platform.FEISHU:
            if runtime.feishu is not None:
                runtime.feishu.tell_parked(row)
            return
        body = json.loads(row.payload)
        tenant = runtime.tenants.get(row.team_id)
        if tenant is None:
            return  # uninstalled since: nobody to tell it to
        tell_parked(tenant.client, body, row.id, tenant.directory, error, response_urls=runtime.settings.response_urls)

    return notify


def _oauth(runtime: Runtime, *, serving: bool) -> dict[str, Any]:
    """App arguments for tokens from installs: the installation store with a cached authorization, and (in the
    serving app) the OAuth flow. Empty with a single configured token."""
    if runtime.store is None:
        return {}
    from slack_bolt.authorization.authorize import InstallationStoreAuthorize

    from handlers.serving.oauth import oauth_flow, state_store

    settings = runtime.settings
    args: dict[str, Any] = {
        "installation_store": runtime.store,
        # one auth.test per token and process, not one per request
        "authorize": InstallationStoreAuthorize(
            installation_store=runtime.store,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            bot_only=True,
            cache_enabled=True,
            client=runtime.client,
            logger=logging.getLogger("slack_bolt"),
        ),
    }
    if serving:

        def installed(team_key: str) -> None:
            runtime.tenants.forget(team_key)
            runtime.tick()  # the welcome message, and what the uninstall held, go now

        args["oauth_flow"] = oauth_flow(
            client=runtime.client,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            store=runtime.store,
            states=state_store(runtime.engine),
            workspaces=runtime.services.workspaces,
            now=runtime.services.now,
            on_installed=installed,
        )
    return args
