"""The `coordbot` command: run, demo, work, tick, status, retry, db, manifest, export, report, forget."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from bot.config import MAX_WORKERS, ConfigError, Settings
from bot.export import FORMATS, KINDS, collect, parse_since, render

logger = logging.getLogger("bot")

MISSING_HELP = """\
coordbot cannot start: {missing} {verb} not set.

Create the Slack app from the manifest (https://api.slack.com/apps > Create New App > From a manifest):
  coordbot manifest                   # Socket Mode (then create an app-level token with connections:write)
  coordbot manifest --url https://…   # HTTP mode
Install it to the workspace, then set SLACK_BOT_TOKEN (Bot User OAuth Token, xoxb-…) and either
SLACK_APP_TOKEN (xapp-…, Socket Mode) or SLACK_SIGNING_SECRET (Basic Information > Signing Secret, HTTP mode).
To install it in many workspaces ("Add to Slack"), set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and
SLACK_SIGNING_SECRET instead of SLACK_BOT_TOKEN (coordbot manifest --url https://… --distribute).
On Feishu (Lark) instead, or as well: set FEISHU_APP_ID and FEISHU_APP_SECRET (coordbot feishu-setup).

To try coordbot first without a Slack workspace: coordbot demo"""

OAUTH_SOCKET_HELP = """\
coordbot cannot install itself in many workspaces in Socket Mode: "Add to Slack" needs HTTP mode (Slack sends
people back to /slack/oauth_redirect, and does not list Socket Mode apps). Unset SLACK_APP_TOKEN and serve HTTP
(coordbot manifest --url https://… --distribute), or set SLACK_BOT_TOKEN for one workspace."""

MISSING_SOCKET_HELP = """\
coordbot cannot start in Socket Mode (SLACK_APP_TOKEN is set): SLACK_BOT_TOKEN is not set.

Set it to the app's Bot User OAuth Token (xoxb-…, OAuth & Permissions, after installing the app)."""


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _logging(level: str, *, role: str = "") -> None:
    import os
    import re

    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s " + (f"[{role}] " if role else "") + "%(name)s: %(message)s",
    )
    if level != "DEBUG":  # their per-run chatter drowns out the bot's own lines
        for noisy in ("alembic", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    # Tokens and secrets never reach a log line, whatever a library writes at DEBUG: each record that
    # reaches the output is cleaned of Slack tokens (xoxb-, xapp-, …), this process's own secrets, the
    # secret part of response URLs and Socket Mode tickets.
    own = (os.environ.get(name, "").strip() for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"))
    secret = re.compile(
        "|".join(
            [
                r"\bx(?:ox[abeoprs]|app)-[A-Za-z0-9-]+",
                r"(?<=hooks\.slack\.com/)[^\s'\"<>]+",
                r"(?<=ticket=)[^&\s'\"<>]+",
                *(re.escape(value) for value in sorted(own, key=len, reverse=True) if len(value) >= 8),
            ]
        )
    )

    class RedactSecrets(logging.Filter):
        redacts_secrets = True

        def filter(self, record: logging.LogRecord) -> bool:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record is logging's own error to report
                return True
            clean = secret.sub("[redacted]", message)
            if clean != message:
                record.msg, record.args = clean, None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = secret.sub("[redacted]", record.exc_text)
            if record.stack_info:
                record.stack_info = secret.sub("[redacted]", record.stack_info)
            return True

    for handler in logging.getLogger().handlers:
        if not any(getattr(f, "redacts_secrets", False) for f in handler.filters):
            handler.addFilter(RedactSecrets())


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        now = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--now") from exc
    return now if now.tzinfo else now.replace(tzinfo=UTC)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """coordbot: the coordination handbook inside Slack and Feishu (Lark)."""
    ctx.obj = {"debug": debug}


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return bool(root is not None and (root.obj or {}).get("debug"))


def _stop(message: str, exc: BaseException | None = None) -> NoReturn:
    """End the command with one line on stderr and status 2 (the traceback too with --debug)."""
    if exc is not None and _debug():
        import traceback

        traceback.print_exception(exc)
    click.echo(f"coordbot: {message}", err=True)
    sys.exit(2)


def _database(settings: Settings, *, create: bool) -> Any:
    """The database engine, checked (see bot.preflight); ends the command when it cannot be used."""
    from bot.preflight import Preflight, open_database

    try:
        return open_database(settings.database_url, create=create)
    except Preflight as exc:
        _stop(str(exc), exc)


def _slack(settings: Settings) -> dict[str, str]:
    """Who the bot is in which workspace (auth.test); ends the command when Slack refuses or cannot be reached."""
    from bot.preflight import Preflight
    from handlers.serving.slack_check import check_slack

    try:
        return check_slack(settings)
    except Preflight as exc:
        _stop(str(exc), exc)


@main.command()
@click.option("--no-scheduler", is_flag=True, help="Do not tick the outbox (run `coordbot tick` from cron instead).")
@click.option("--port", type=int, default=None, help="HTTP port (default $PORT or 3000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP bind address.")
@click.option(
    "--workers",
    type=click.IntRange(0, MAX_WORKERS),
    default=None,
    help="Worker processes beside the server (default $COORDBOT_WORKERS or 1); 0: all in this process.",
)
@click.option(
    "--serve-only",
    is_flag=True,
    help="Only answer (and open forms): `coordbot work` on this or other hosts does the rest.",
)
def run(no_scheduler: bool, port: int | None, host: str, workers: int | None, serve_only: bool) -> None:
    """Start the bot: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on $PORT; Feishu too when FEISHU_APP_ID is set.

    This process answers Slack, storing each request in the inbox before it answers; the worker
    processes it starts (and restarts) do the work and tick the outbox.
    """
    settings = _settings()
    _logging(settings.log_level)
    missing = settings.missing_for_run()
    if missing:
        click.echo(
            MISSING_SOCKET_HELP
            if settings.socket_mode
            else MISSING_HELP.format(missing=" and ".join(missing), verb="is" if len(missing) == 1 else "are"),
            err=True,
        )
        sys.exit(2)

    if settings.oauth and settings.socket_mode:
        click.echo(OAUTH_SOCKET_HELP, err=True)
        sys.exit(2)

    from bot import dates
    from bot.app import build_runtime, build_serving
    from bot.preflight import describe
    from bot.processes import WorkerProcesses, worker_command
    from bot.scheduler import start_heartbeat
    from storage.db import ANSWERING

    count = 0 if serve_only else settings.workers if workers is None else workers
    if not settings.slack:
        logger.info("Slack is not configured: serving Feishu only")
    elif settings.oauth:  # tokens come from installs: nothing to check until the first one
        logger.info("installable in many workspaces: tokens come from installs (Add to Slack)")
    else:
        who = _slack(settings)  # first: a wrong token leaves nothing behind
        logger.info("Slack: %s in workspace %s (%s)", who["user"] or "the bot", who["team"], who["team_id"])
    if settings.feishu:
        _feishu_check(settings)  # like Slack's: a wrong secret leaves nothing behind
    _database(settings, create=True).dispose()
    logger.info("database: %s", describe(settings.database_url))
    procs = None
    try:
        # the check above brought the schema up to date; with worker processes, this one's writes go first
        runtime = build_runtime(settings, upgrade=False, writer=ANSWERING if count else None)
        if count:
            # started first, so they load while this process does the same
            procs = WorkerProcesses(worker_command(scheduler=not no_scheduler), count).start()
        dates.warm_up()  # dateparser loads its language data here, not in the first request
        if settings.slack and not settings.oauth:
            _load_directory(runtime)  # with installs, each workspace's members load when first needed
        serving = build_serving(runtime, claim=not count and not serve_only)
        routes, connection = _feishu(runtime, serving)
    except Exception as exc:  # checked above, so this is rare: still one line, and the workers go too
        if procs is not None:
            procs.close()
        _stop(f"could not start: {type(exc).__name__}: {exc}"[:400] + " (`coordbot --debug run` shows where)", exc)
    _freeze_startup_objects()
    ticks = not (no_scheduler or count or serve_only)  # workers tick; so does a server that works itself
    scheduler = start_heartbeat(runtime.tick, settings.tick_seconds) if ticks else None
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            assert serving.app is not None  # an app-level token configures Slack
            handler = SocketModeHandler(serving.app, settings.app_token)
            handler.connect()
            logger.info("coordbot running in Socket Mode")
            stop.wait()
            handler.close()
        else:
            from handlers.serving.http import Server

            def healthy() -> bool:
                listening = connection is None or connection.thread.is_alive()  # Feishu's long connection
                return runtime.healthy() and (procs is None or procs.healthy()) and listening

            server = Server(
                serving.app,
                signing_secret=settings.signing_secret,
                host=host,
                port=port or settings.port,
                health=healthy,
                routes=routes,
            )
            if serving.app is not None:
                logger.info("coordbot listening on http://%s:%s/slack/events", host, port or settings.port)
            for path in routes:
                logger.info("Feishu callbacks: http://%s:%s%s", host, port or settings.port, path)
            if settings.oauth:
                logger.info("install page (Add to Slack): http://%s:%s/slack/install", host, port or settings.port)
            # uvicorn handles SIGTERM and Ctrl-C itself, then raises the signal again for the handler it
            # found: this one, so that the workers below are stopped too
            signal.signal(signal.SIGTERM, lambda *_: None)
            server.run()  # until SIGTERM or Ctrl-C; requests in flight finish first
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        serving.worker.stop()
        if procs is not None:
            procs.close()
        logger.info("coordbot stopped")


def _feishu_check(settings: Settings) -> None:
    """Ask Feishu who the bot is; ends the command when Feishu refuses the app's ID and secret or cannot be reached
    (otherwise the long connection would give up quietly and no event would ever arrive)."""
    from handlers.feishu.api import FeishuApi, FeishuError

    api = FeishuApi(
        app_id=settings.feishu_app_id,
        app_secret=settings.feishu_app_secret,
        domain=settings.feishu_domain,
        timeout=settings.http_timeout,
    )
    if settings.feishu_store:  # its token needs a tenant and a ticket: the check is asking Feishu for a ticket
        try:
            api = FeishuApi(
                app_id=settings.feishu_app_id,
                app_secret=settings.feishu_app_secret,
                domain=settings.feishu_domain,
                timeout=settings.http_timeout,
                store=True,
            )
            api.resend_ticket()
        except FeishuError as exc:
            _stop(
                f"Feishu did not accept the store app FEISHU_APP_ID {settings.feishu_app_id} with its "
                f"FEISHU_APP_SECRET at {settings.feishu_domain} ({exc.code}: {exc.msg}): check both in the developer "
                "console (`coordbot feishu-setup`).",
                exc,
            )
        logger.info("Feishu: store app %s; its ticket is on its way to the callback URL", settings.feishu_app_id)
        return
    try:
        bot = api.bot_open_id()
    except FeishuError as exc:
        _stop(
            f"Feishu did not accept FEISHU_APP_ID {settings.feishu_app_id} with its FEISHU_APP_SECRET at "
            f"{settings.feishu_domain} ({exc.code}: {exc.msg}): check both in the developer console, and that the "
            "app is published with the bot feature (`coordbot feishu-setup`).",
            exc,
        )
    logger.info("Feishu: app %s, bot %s", settings.feishu_app_id, bot or "(no open_id yet)")


def _feishu(runtime: Any, serving: Any) -> tuple[dict[str, Any], Any]:
    """Start receiving Feishu's events: the callback route to serve, or the long connection on its thread (which
    the health check watches)."""
    if runtime.feishu is None:
        return {}, None
    settings = runtime.settings
    wake = serving.worker.wake
    if settings.feishu_callbacks:
        from handlers.feishu.intake import EVENTS_PATH

        return {EVENTS_PATH: runtime.feishu.callbacks(wake=wake)}, None
    connection = runtime.feishu.long_connection(wake=wake).start()
    logger.info("Feishu: receiving events by the long connection (%s)", settings.feishu_domain)
    return {}, connection


def _freeze_startup_objects() -> None:
    """Leave what start-up built out of the garbage collector's full passes.

    Modules, dateparser's language data, the member directory: over a hundred thousand objects that
    live as long as the process. Left in the collected generations, every full collection walked them
    all, about 100 ms during which no request was answered.
    """
    import gc

    gc.collect()
    gc.freeze()


def _load_directory(runtime: Any) -> None:
    try:
        runtime.directory.load()
    except Exception as exc:  # the bot still answers; names resolve once the directory loads
        logger.warning("could not load the member directory yet: %s", exc)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option(
    "--db",
    "database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("coordbot-demo.db"),
    show_default=True,
    help="The demo's own SQLite file (its workspace and clock are kept beside it).",
)
@click.option("--reset", is_flag=True, help="Start over: forget the earlier demo's records, messages and clock.")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
@click.option(
    "--screenshots",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Play the walkthrough in headless Chromium, write its pictures (PNG) here, and stop.",
)
def demo(port: int, database: Path, reset: bool, no_browser: bool, screenshots: Path | None) -> None:
    """Try coordbot with no Slack workspace: a local one, in the browser, with people, channels and a clock.

    Everything stays on this machine (127.0.0.1). Ctrl-C stops it; the next `coordbot demo` carries on
    where this one stopped (--reset starts over).
    """
    _logging(os.environ.get("COORDBOT_LOG_LEVEL", "WARNING").upper())
    from handlers.sandbox import demo as sandbox

    if screenshots is not None:
        from handlers.sandbox.walkthrough import BrowserMissing, take_pictures

        try:
            written = take_pictures(screenshots, port=port)
        except BrowserMissing as exc:
            _stop(str(exc), exc)
        for path in written:
            click.echo(path)
        return
    try:
        running = sandbox.start(database, port=port, fresh=reset)
    except OSError as exc:
        _stop(f"could not start the sandbox: {exc}", exc)
    click.echo(f"coordbot sandbox: {running.url}  (Ctrl-C stops it; records are kept in {database})")
    if not no_browser and _has_screen():
        import contextlib
        import webbrowser

        with contextlib.suppress(webbrowser.Error):  # the address above is enough
            webbrowser.open(running.url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C, also where a shell started it ignoring SIGINT
    try:
        while not stop.wait(1.0):
            pass
    finally:
        click.echo("stopping… (coordbot finishes what it is doing; the workspace is saved)")
        running.stop()
        click.echo("coordbot sandbox stopped")


def _has_screen() -> bool:
    """Whether a graphical browser can open here (on Linux without a display, a text one would take the terminal)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@main.command()
@click.option("--no-scheduler", is_flag=True, help="Do not tick the outbox in this process.")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=None,
    help="Requests worked on at once (default $COORDBOT_WORKER_THREADS or 8).",
)
@click.option("--parent", type=int, default=None, hidden=True, help="Stop when this process is gone.")
def work(no_scheduler: bool, threads: int | None, parent: int | None) -> None:
    """Work off the inbox and tick the outbox, beside `coordbot run` or on another host sharing its database."""
    settings = _settings()
    _logging(settings.log_level, role="worker")
    if not settings.bot_token and not settings.oauth and not settings.feishu:
        click.echo(
            "coordbot work needs SLACK_BOT_TOKEN (or, for many workspaces, SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET), or FEISHU_APP_ID and FEISHU_APP_SECRET, to do the work it claims.",
            err=True,
        )
        sys.exit(2)
    import dataclasses

    from bot import dates
    from bot.app import build_runtime, build_worker
    from bot.processes import lower_priority
    from bot.scheduler import start_heartbeat
    from storage.db import WORKING

    if threads is not None:
        settings = dataclasses.replace(settings, worker_threads=threads)
    _database(settings, create=False).dispose()  # a worker works on the database a server stores requests in
    if settings.bot_token:
        _slack(settings)
    lower_priority(settings.worker_nice)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # _database() above brought the schema up to date; requests being stored write before this worker
    runtime = build_runtime(settings, upgrade=False, writer=WORKING)
    dates.warm_up()
    if settings.bot_token:
        _load_directory(runtime)
    worker = build_worker(runtime).start()
    _freeze_startup_objects()
    scheduler = None if no_scheduler else start_heartbeat(runtime.tick, settings.tick_seconds)
    logger.info("worker ready")
    while not stop.wait(1.0):
        if parent is not None and os.getppid() != parent:  # the `coordbot run` that started it is gone
            logger.warning("the process that started this worker is gone; stopping")
            break
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    worker.stop()  # rows already running finish; the rest wait in the inbox
    logger.info("worker stopped after %d requests", worker.handled)


@main.command()
@click.argument("ids", nargs=-1, type=int, required=True)
def retry(ids: tuple[int, ...]) -> None:
    """Put parked requests (see `coordbot status`) back in line for the workers."""
    from bot.inbox import Inbox
    from storage.db import make_session_scope

    settings = _settings()
    engine = _database(settings, create=False)
    inbox = Inbox(make_session_scope(engine))
    failed = False
    for item_id in ids:
        if inbox.retry(item_id):
            click.echo(f"request {item_id} is back in line")
        else:
            failed = True
            click.echo(f"request {item_id} is not parked (see coordbot status)", err=True)
    engine.dispose()
    if failed:
        sys.exit(1)


@main.command()
@click.option("--now", "now_text", default=None, metavar="ISO8601", help="Act as if it were this time (default: now).")
def tick(now_text: str | None) -> None:
    """Deliver everything that is due (reminders, notices), once, then exit."""
    settings = _settings()
    _logging(settings.log_level)
    if not settings.bot_token and not settings.oauth:
        click.echo(
            "coordbot tick needs SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) to send what is due.",
            err=True,
        )
        sys.exit(2)
    from bot.app import build_runtime

    now = _parse_now(now_text)
    _database(settings, create=False).dispose()
    if not settings.oauth:
        _slack(settings)
    runtime = build_runtime(settings, upgrade=False)
    report = runtime.tick(now)
    click.echo(f"sent {report.sent}, skipped {report.skipped}, retrying {report.retried}, failed {report.failed}")
    for line in report.errors:
        click.echo(f"  {line}")


def _team_id(value: str | None) -> str | None:
    """A --team value as Slack writes team IDs (T0123ABC), or a Feishu tenant as `feishu:<tenant_key>`; None when
    not given."""
    if value is None:
        return None
    prefix, sep, tenant = value.strip().partition(":")
    if sep and prefix.lower() == "feishu" and tenant.isalnum():
        return f"feishu:{tenant}"
    team_id = value.strip().upper()
    if not team_id or not team_id.isalnum():
        raise click.BadParameter(
            f"not a workspace: {value!r} (a Slack team ID such as T0123ABCD, or feishu:<tenant_key>)",
            param_hint="--team",
        )
    return team_id


@main.command()
@click.option("--team", default=None, metavar="TEAM_ID", help="Show only this workspace's requests and due work.")
def status(team: str | None) -> None:
    """Show the workspaces, the inbox and the outbox: work by kind and state, parked requests, failures, the next
    due time."""
    settings = _settings()
    team_id = _team_id(team)
    from bot.preflight import describe
    from storage.db import make_session_scope

    engine = _database(settings, create=False)
    click.echo(f"database: {describe(settings.database_url)}")
    from bot.inbox import Inbox
    from bot.outbox import Outbox
    from bot.services.workspaces import WorkspaceService

    scope = make_session_scope(engine)
    spaces = WorkspaceService(scope).all()
    if not spaces:
        click.echo("workspaces: none recorded (single-workspace mode records none)")
    else:
        click.echo("workspaces (team, enterprise, state, held due work, name):")
    for w in spaces:
        enterprise = (w.enterprise_id or "-") + (" (org install)" if w.org_install else "")
        state = w.state + (f": {w.reason}" if w.reason else "")
        click.echo(f"  {w.team_id:12} {enterprise:24} {state:28} held {w.held:<6} {w.name or '-'}")
    if team_id is not None:
        click.echo(f"below: workspace {team_id} only")
        if spaces and team_id not in {w.team_id for w in spaces}:
            click.echo(f"coordbot: no workspace {team_id} is recorded", err=True)
    inbox = Inbox(scope).status(team_id=team_id)
    click.echo("inbox (requests answered, worked on by the workers):")
    if not inbox.counts:
        click.echo("  empty")
    for (kind, state), n in sorted(inbox.counts.items()):
        click.echo(f"  {kind:40} {state:10} {n}")
    if inbox.oldest_waiting is not None:
        click.echo(f"  oldest waiting since: {inbox.oldest_waiting.isoformat()}")
    for item_id, kind, attempts, reason in inbox.parked:
        click.echo(f"  parked #{item_id} {kind} after {attempts} tries: {reason}  (coordbot retry {item_id})")
    info = Outbox(scope).status(team_id=team_id)
    click.echo("outbox (due work):")
    if not info["counts"]:
        click.echo("  empty")
    for (kind, state), n in sorted(info["counts"].items()):
        click.echo(f"  {kind:40} {state:10} {n}")
    click.echo(f"  next due: {info['next_due'].isoformat() if info['next_due'] else '-'}")
    for f in info["failures"]:
        click.echo(f"  failed #{f['id']} {f['kind']} {f['subject']}: {f['error']}")
    from bot.services.presence import ChannelPresence

    stranded = ChannelPresence(scope).stranded(now=datetime.now(UTC), team_id=team_id)
    click.echo("channels the bot was removed from (no ✅ or 📌 from them reaches it; /invite @coordbot there):")
    if not stranded:
        click.echo("  none")
    for left in stranded:
        codes = ", ".join(r.code for r in left.records) or "no open records"
        click.echo(f"  {left.channel_id} (team {left.team_id or '-'}) since {left.left_at.isoformat()}: {codes}")
    engine.dispose()


@main.group()
def db() -> None:
    """The database schema: bring it up to date, or write a migration for a change to storage/models.py."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring its schema up to date (`coordbot run` does this on start)."""
    from bot.preflight import describe

    settings = _settings()
    _database(settings, create=True).dispose()
    click.echo(f"{describe(settings.database_url)}: schema up to date")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does, e.g. 'add left_channel'.")
@click.option("--empty", is_flag=True, help="Write an empty migration to fill in by hand (data migrations).")
def db_revision(message: str, empty: bool) -> None:
    """Write storage/migrations/versions/NNNN_….py from what storage/models.py has and the migrations lack.

    Review the file, then run the tests: test_migrations_build_exactly_the_models_schema fails while the
    migrations and the models disagree.
    """
    from storage.db import write_revision

    path = write_revision(message, autogenerate=not empty)
    click.echo(f"wrote {path}")


@main.command("manifest")
@click.option("--url", default=None, metavar="BASE", help="Public base URL for HTTP mode (request URLs).")
@click.option(
    "--distribute",
    is_flag=True,
    help="For installing in many workspaces (OAuth) and Enterprise Grid organizations; needs --url.",
)
def manifest_cmd(url: str | None, distribute: bool) -> None:
    """Print the Slack app manifest (Socket Mode, or HTTP mode with --url)."""
    from bot.manifest import distribute_problem, distribution_step, render, url_problem

    if url is not None and (problem := url_problem(url)):
        raise click.BadParameter(problem, param_hint="--url")
    socket_mode = bool(os.environ.get("SLACK_APP_TOKEN", "").strip())  # as `coordbot run` would start
    if distribute and (problem := distribute_problem(url, socket_mode=socket_mode)):
        _stop(problem)

    click.echo(render(url, distribute=distribute), nl=False)
    if distribute and url is not None:
        click.echo(distribution_step(url), err=True)


@main.command(name="feishu-setup")
@click.option(
    "--url", default=None, metavar="BASE", help="Public base URL, for HTTP callbacks (else: long connection)."
)
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Language (default: COORDBOT_LANG, or en).")
def feishu_setup(url: str | None, lang: str | None) -> None:
    """What to switch on in Feishu's developer console: permissions, events, the callback URL, the bot menu."""
    from handlers.feishu.setup import setup_text

    if url is not None and not url.startswith(("https://", "http://")):
        raise click.BadParameter("a URL such as https://coordbot.example.com", param_hint="--url")
    language = lang or ("zh" if os.environ.get("COORDBOT_LANG", "").lower().startswith("zh") else "en")
    events = os.environ.get("FEISHU_EVENTS", "").strip().lower() or "auto"
    store = os.environ.get("FEISHU_APP_TYPE", "").strip().lower() == "store"
    click.echo(setup_text(language, url=url or "", events=events, store=store))


EXPORT_HELP = """Write records with their full history (who changed what, when) for archives and audits.

Reads the database offline (no Slack calls); people appear as user IDs. A database serving several
workspaces is exported one workspace at a time (--team).

\b
Formats:
  json  a list of records, every field and nested list, times in UTC (ISO 8601, ...Z)
  csv   one row per record after a header row, lists one item a line in their cell, a
        history column with one entry a line; times ISO 8601 in COORDBOT_TZ with the offset.
        Encoding UTF-8 without a BOM, comma-separated, RFC 4180 quoting: in Excel use
        Data > From Text/CSV and choose 65001 : Unicode (UTF-8).
  md    Markdown in --lang: requirements as the 需求沟通与确认表 sheet, meetings as minutes;
        times in COORDBOT_TZ with the offset
"""


@main.command("export", help=EXPORT_HELP)
@click.option("--kind", required=True, type=click.Choice(sorted(KINDS)), help="Which records.")
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="Output format.")
@click.option(
    "--since",
    "since_text",
    default=None,
    metavar="DATE",
    help="Only records created or changed since this ISO date or time (2026-11-01, 2026-11-01T09:00+08:00); "
    "a date without an offset is in COORDBOT_TZ.",
)
@click.option("--channel", default=None, metavar="CHANNEL_ID", help="Only records in this channel (ID, e.g. C0123).")
@click.option("--id", "codes", multiple=True, metavar="CODE", help="Only this record, e.g. RW-2026-001 (repeatable).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Markdown labels (default COORDBOT_LANG).")
@click.option(
    "--team",
    default=None,
    metavar="TEAM_ID",
    help="Only this workspace's records (needed when the database holds several).",
)
def export_cmd(
    kind: str,
    fmt: str,
    since_text: str | None,
    channel: str | None,
    codes: tuple[str, ...],
    out: Path | None,
    lang: str | None,
    team: str | None,
) -> None:
    settings = _settings()
    team_id = _team_id(team)
    try:
        since = parse_since(since_text, settings.zone) if since_text is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    from bot.services import Services, utc_now
    from storage.db import make_session_scope

    engine = _database(settings, create=False)
    try:
        services = Services.build(settings, make_session_scope(engine))
        if team_id is None and len(teams := sorted(w.team_id for w in services.workspaces.all())) > 1:
            _stop(f"this database holds {len(teams)} workspaces: export one with --team ({', '.join(teams)})")
        wanted = [c.strip().upper() for c in codes if c.strip()]
        records = collect(
            services,
            KINDS[kind],
            since=since,
            channel_id=(channel or "").strip().upper() or None,
            codes=wanted,
            team_id=team_id,
        )
        text = render(KINDS[kind], records, fmt, lang=lang or settings.lang, zone=settings.zone, now=utc_now())
    finally:
        engine.dispose()
    data = text.encode("utf-8")
    if out is None:
        click.echo(data, nl=False)  # bytes: UTF-8 whatever the terminal's locale
    else:
        out.write_bytes(data)
        click.echo(f"wrote {len(records)} {kind} to {out}", err=True)
    missing = sorted(set(wanted) - {KINDS[kind].code(r) for r in records})
    if missing:
        click.echo(f"no {kind} matched: {', '.join(missing)}", err=True)


REPORT_HELP = """Figures for a period: incidents by severity with the time to acknowledge (MTTA) and to resolve
(MTTR), reopenings and follow-ups; requirement sign-off times; action items done on time and overdue; minutes
sent within 24 hours and acknowledged. README, "Numbers: coordbot report", defines every figure.

Reads the database offline (no Slack calls). A record counts in [--since, --until) by when it started
(declared, posted, created, the meeting's start). A date without an offset is in COORDBOT_TZ.

\b
Formats:
  md    readable tables in --lang (default COORDBOT_LANG)
  csv   one row per figure: section, figure, group, value, unit (count, s, share)
  json  every figure with exact numbers, durations in seconds, times in UTC
"""


@main.command("report", help=REPORT_HELP)
@click.option("--since", "since_text", required=True, metavar="DATE", help="Start of the period (ISO date or time).")
@click.option("--until", "until_text", default=None, metavar="DATE", help="End of the period, excluded (default now).")
@click.option("--team", default=None, metavar="TEAM_ID", help="Only this workspace (needed when there are several).")
@click.option("--channel", default=None, metavar="CHANNEL_ID", help="Only records in this channel (ID, e.g. C0123).")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "json"]), default="md", show_default=True)
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Markdown labels (default COORDBOT_LANG).")
@click.option(
    "--charts",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Also draw the figures as images in this folder.",
)
@click.option("--now", "now_text", default=None, hidden=True, help="Judge what is open as of this time (tests).")
def report_cmd(
    since_text: str,
    until_text: str | None,
    team: str | None,
    channel: str | None,
    fmt: str,
    lang: str | None,
    charts: Path | None,
    now_text: str | None,
) -> None:
    settings = _settings()
    team_id = _team_id(team)
    from bot.services import utc_now

    now = _parse_now(now_text) or utc_now()
    window: dict[str, datetime] = {}
    for name, text in (("since", since_text), ("until", until_text)):
        try:
            window[name] = parse_since(text, settings.zone) if text is not None else now
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{name}") from exc
    if window["until"] <= window["since"]:
        raise click.BadParameter("must be later than --since", param_hint="--until")
    from bot.export import render_report
    from bot.services.metrics import MetricsService
    from bot.services.workspaces import WorkspaceService
    from storage.db import make_session_scope

    engine = _database(settings, create=False)
    try:
        scope = make_session_scope(engine)
        if team_id is None and len(teams := sorted(w.team_id for w in WorkspaceService(scope).all())) > 1:
            _stop(f"this database holds {len(teams)} workspaces: report on one with --team ({', '.join(teams)})")
        figures = MetricsService(scope).report(
            team_id=team_id, channel_id=(channel or "").strip().upper() or None, now=now, **window
        )
        lang = lang or settings.lang
        click.echo(render_report(figures, fmt, lang=lang, zone=settings.zone).encode("utf-8"), nl=False)
        if charts is not None:
            _report_charts(scope, figures, charts, lang, settings.tz)
    finally:
        engine.dispose()


def _report_charts(scope: Any, figures: Any, directory: Path, lang: str, tz: str) -> None:
    """The digest's charts for the report's scope, as PNG files: open vs done action items over the 8 weeks up to
    the report's end, and incidents by severity (matplotlib is imported only here)."""
    from bot import charts
    from bot.charts import IncidentWeeks
    from bot.services.charts import action_weeks, all_incident_weeks, incident_weeks

    channel, team = figures.channel_id, figures.team_id
    drawn = [
        charts.actions_chart(action_weeks(scope, team_id=team, channel_id=channel, now=figures.until), lang, tz=tz)
    ]
    incidents: IncidentWeeks | None
    if channel is None:
        incidents = all_incident_weeks(scope, team_id=team, now=figures.until)
    else:
        incidents = incident_weeks(scope, team_id=team or "", channel_id=channel, now=figures.until)
    if incidents is not None:
        drawn.append(charts.incidents_chart(incidents, lang, tz=tz))
    directory.mkdir(parents=True, exist_ok=True)
    for chart in drawn:
        path = directory / chart.filename
        path.write_bytes(chart.png)
        click.echo(f"wrote {path}", err=True)


@main.command()
@click.option("--team", required=True, metavar="TEAM_ID", help="The workspace to forget, e.g. T0123ABCD.")
@click.option("--yes", is_flag=True, help="Do not ask: delete at once (for scripts).")
def forget(team: str, yes: bool) -> None:
    """Delete everything coordbot stored of one workspace, for good.

    Its records with their history, questions, signatures and minutes; its due work and requests; its
    preferences, digests and counters; its workspace row and installation (tokens). Other workspaces are
    untouched. There is no undo: `coordbot export --team` first to keep a copy. Shows what it will delete
    and asks to type the team ID (unless --yes).
    """
    settings = _settings()
    team_id = _team_id(team)
    assert team_id is not None  # required
    from bot.services.admin import WorkspaceAdmin
    from bot.services.workspaces import WorkspaceService
    from storage.db import make_session_scope

    engine = _database(settings, create=False)
    try:
        scope = make_session_scope(engine)
        admin = WorkspaceAdmin(scope)
        found = {table: n for table, n in admin.stored(team_id).items() if n}
        if not found:
            click.echo(f"coordbot has nothing stored of workspace {team_id}")
            return
        click.echo(f"workspace {team_id}: {sum(found.values())} rows to delete for good")
        for table, n in found.items():
            click.echo(f"  {table:24} {n}")
        space = WorkspaceService(scope).get(team_id)
        if space is not None and space.active:
            click.echo(
                f"coordbot is still installed in {team_id}: its next requests will store records again "
                "(uninstall the app there to stop them)",
                err=True,
            )
        if not yes:
            answer = click.prompt(f"Type {team_id} to delete all of this", default="", show_default=False)
            if answer.strip() != team_id:
                click.echo("aborted: nothing was deleted", err=True)
                sys.exit(1)
        deleted = admin.forget(team_id)
    finally:
        engine.dispose()
    click.echo(f"forgot workspace {team_id}: {sum(deleted.values())} rows deleted")


if __name__ == "__main__":
    main()
