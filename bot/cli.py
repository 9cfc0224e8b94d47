"""The `coordbot` command: run, work, tick, status, retry, manifest, export."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
SLACK_APP_TOKEN (xapp-…, Socket Mode) or SLACK_SIGNING_SECRET (Basic Information > Signing Secret, HTTP mode)."""


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _logging(level: str, *, role: str = "") -> None:
    import os
    import re

    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s " + (f"[{role}] " if role else "") + "%(name)s: %(message)s")
    if level != "DEBUG":  # their per-run chatter drowns out the bot's own lines
        for noisy in ("alembic", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    # Tokens and secrets never reach a log line, whatever a library writes at DEBUG: each record that
    # reaches the output is cleaned of Slack tokens (xoxb-, xapp-, …), this process's own secrets, the
    # secret part of response URLs and Socket Mode tickets.
    own = (os.environ.get(name, "").strip() for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"))
    secret = re.compile("|".join([
        r"\bx(?:ox[abeoprs]|app)-[A-Za-z0-9-]+",
        r"(?<=hooks\.slack\.com/)[^\s'\"<>]+",
        r"(?<=ticket=)[^&\s'\"<>]+",
        *(re.escape(value) for value in sorted(own, key=len, reverse=True) if len(value) >= 8),
    ]))

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
def main() -> None:
    """coordbot: the coordination handbook inside Slack."""


@main.command()
@click.option("--no-scheduler", is_flag=True, help="Do not tick the outbox (run `coordbot tick` from cron instead).")
@click.option("--port", type=int, default=None, help="HTTP port (default $PORT or 3000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP bind address.")
@click.option("--workers", type=click.IntRange(0, MAX_WORKERS), default=None,
              help="Worker processes beside the server (default $COORDBOT_WORKERS or 1); 0: all in this process.")
@click.option("--serve-only", is_flag=True,
              help="Only answer (and open forms): `coordbot work` on this or other hosts does the rest.")
def run(no_scheduler: bool, port: int | None, host: str, workers: int | None, serve_only: bool) -> None:
    """Start the bot: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on $PORT.

    This process answers Slack, storing each request in the inbox before it answers; the worker
    processes it starts (and restarts) do the work and tick the outbox.
    """
    settings = _settings()
    _logging(settings.log_level)
    missing = settings.missing_for_run()
    if missing:
        click.echo(MISSING_HELP.format(missing=" and ".join(missing), verb="is" if len(missing) == 1 else "are"),
                   err=True)
        sys.exit(2)

    from bot import dates
    from bot.app import build_runtime, build_serving
    from bot.processes import WorkerProcesses, worker_command
    from bot.scheduler import start_heartbeat

    count = 0 if serve_only else settings.workers if workers is None else workers
    runtime = build_runtime(settings)
    procs = None
    if count:
        # started first, so they load while this process does the same
        procs = WorkerProcesses(worker_command(scheduler=not no_scheduler), count).start()
    dates.warm_up()  # dateparser loads its language data here, not in the first request
    _load_directory(runtime)
    serving = build_serving(runtime, claim=not count and not serve_only)
    _freeze_startup_objects()
    ticks = not (no_scheduler or count or serve_only)  # workers tick; so does a server that works itself
    scheduler = start_heartbeat(runtime.tick, settings.tick_seconds) if ticks else None
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            handler = SocketModeHandler(serving.app, settings.app_token)
            handler.connect()
            logger.info("coordbot running in Socket Mode")
            stop.wait()
            handler.close()
        else:
            from handlers.http import Server

            def healthy() -> bool:
                return runtime.healthy() and (procs is None or procs.healthy())

            server = Server(serving.app, signing_secret=settings.signing_secret, host=host,
                            port=port or settings.port, health=healthy)
            logger.info("coordbot listening on http://%s:%s/slack/events", host, port or settings.port)
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
@click.option("--no-scheduler", is_flag=True, help="Do not tick the outbox in this process.")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="Requests worked on at once (default $COORDBOT_WORKER_THREADS or 8).")
@click.option("--parent", type=int, default=None, hidden=True, help="Stop when this process is gone.")
def work(no_scheduler: bool, threads: int | None, parent: int | None) -> None:
    """Work off the inbox and tick the outbox, beside `coordbot run` or on another host sharing its database."""
    settings = _settings()
    _logging(settings.log_level, role="worker")
    if not settings.bot_token:
        click.echo("coordbot work needs SLACK_BOT_TOKEN to do the work it claims.", err=True)
        sys.exit(2)
    import dataclasses

    from bot import dates
    from bot.app import build_runtime, build_worker
    from bot.processes import lower_priority
    from bot.scheduler import start_heartbeat

    if threads is not None:
        settings = dataclasses.replace(settings, worker_threads=threads)
    lower_priority(settings.worker_nice)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runtime = build_runtime(settings)  # schema upgrades take turns; a later one finds the schema current
    dates.warm_up()
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
    from storage.db import make_engine, make_session_scope, migrate

    settings = _settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
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
@click.option("--now", "now_text", default=None, metavar="ISO8601",
              help="Act as if it were this time (default: now).")
def tick(now_text: str | None) -> None:
    """Deliver everything that is due (reminders, notices), once, then exit."""
    settings = _settings()
    _logging(settings.log_level)
    if not settings.bot_token:
        click.echo("coordbot tick needs SLACK_BOT_TOKEN to send what is due.", err=True)
        sys.exit(2)
    from bot.app import build_runtime

    runtime = build_runtime(settings)
    now = _parse_now(now_text)
    report = runtime.tick(now)
    click.echo(f"sent {report.sent}, skipped {report.skipped}, retrying {report.retried}, failed {report.failed}")
    for line in report.errors:
        click.echo(f"  {line}")


@main.command()
def status() -> None:
    """Show the inbox and the outbox: work by kind and state, parked requests, failures, the next due time."""
    settings = _settings()
    from storage.db import make_engine, make_session_scope, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    from bot.inbox import Inbox
    from bot.outbox import Outbox

    scope = make_session_scope(engine)
    inbox = Inbox(scope).status()
    click.echo("inbox (requests answered, worked on by the workers):")
    if not inbox.counts:
        click.echo("  empty")
    for (kind, state), n in sorted(inbox.counts.items()):
        click.echo(f"  {kind:40} {state:10} {n}")
    if inbox.oldest_waiting is not None:
        click.echo(f"  oldest waiting since: {inbox.oldest_waiting.isoformat()}")
    for item_id, kind, attempts, reason in inbox.parked:
        click.echo(f"  parked #{item_id} {kind} after {attempts} tries: {reason}  (coordbot retry {item_id})")
    info = Outbox(scope).status()
    click.echo("outbox (due work):")
    if not info["counts"]:
        click.echo("  empty")
    for (kind, state), n in sorted(info["counts"].items()):
        click.echo(f"  {kind:40} {state:10} {n}")
    click.echo(f"  next due: {info['next_due'].isoformat() if info['next_due'] else '-'}")
    for f in info["failures"]:
        click.echo(f"  failed #{f['id']} {f['kind']} {f['subject']}: {f['error']}")
    engine.dispose()


@main.command("manifest")
@click.option("--url", default=None, metavar="BASE", help="Public base URL for HTTP mode (request URLs).")
def manifest_cmd(url: str | None) -> None:
    """Print the Slack app manifest (Socket Mode, or HTTP mode with --url)."""
    from bot.manifest import render

    click.echo(render(url), nl=False)


EXPORT_HELP = """Write records with their full history (who changed what, when) for archives and audits.

Reads the database offline (no Slack calls); people appear as user IDs.

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
@click.option("--since", "since_text", default=None, metavar="DATE",
              help="Only records created or changed since this ISO date or time (2026-11-01, 2026-11-01T09:00+08:00); "
                   "a date without an offset is in COORDBOT_TZ.")
@click.option("--channel", default=None, metavar="CHANNEL_ID", help="Only records in this channel (ID, e.g. C0123).")
@click.option("--id", "codes", multiple=True, metavar="CODE", help="Only this record, e.g. RW-2026-001 (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Markdown labels (default COORDBOT_LANG).")
def export_cmd(kind: str, fmt: str, since_text: str | None, channel: str | None, codes: tuple[str, ...],
               out: Path | None, lang: str | None) -> None:
    settings = _settings()
    try:
        since = parse_since(since_text, settings.zone) if since_text is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    from bot.services import Services, utc_now
    from storage.db import make_engine, make_session_scope, migrate

    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        services = Services.build(settings, make_session_scope(engine))
        wanted = [c.strip().upper() for c in codes if c.strip()]
        records = collect(services, KINDS[kind], since=since, channel_id=(channel or "").strip().upper() or None,
                          codes=wanted)
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


if __name__ == "__main__":
    main()
