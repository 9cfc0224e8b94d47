"""The `coordbot` command: run, tick, status, manifest."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import UTC, datetime

import click

from bot.config import ConfigError, Settings

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


def _logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":  # their per-run chatter drowns out the bot's own lines
        for noisy in ("alembic", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


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
@click.option("--no-scheduler", is_flag=True, help="Do not tick the outbox in this process.")
@click.option("--port", type=int, default=None, help="HTTP port (default $PORT or 3000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP bind address.")
def run(no_scheduler: bool, port: int | None, host: str) -> None:
    """Start the bot: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on $PORT."""
    settings = _settings()
    _logging(settings.log_level)
    missing = settings.missing_for_run()
    if missing:
        click.echo(MISSING_HELP.format(missing=" and ".join(missing), verb="is" if len(missing) == 1 else "are"),
                   err=True)
        sys.exit(2)

    from bot import dates
    from bot.app import build_runtime, create_app
    from bot.scheduler import start_heartbeat

    runtime = build_runtime(settings)
    dates.warm_up()  # dateparser loads its language data here, not in the first request
    try:
        runtime.directory.load()
    except Exception as exc:  # the bot still answers; names resolve once the directory loads
        logger.warning("could not load the member directory yet: %s", exc)
    app = create_app(runtime)
    scheduler = None if no_scheduler else start_heartbeat(runtime.tick, settings.tick_seconds)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(app, settings.app_token)
            handler.connect()
            logger.info("coordbot running in Socket Mode")
            stop.wait()
            handler.close()
        else:
            from handlers.http_server import SlackHTTPServer

            server = SlackHTTPServer(app, host=host, port=port or settings.port, health=runtime.healthy)
            logger.info("coordbot listening on %s/slack/events", server.url)
            server.start_background()
            stop.wait()
            server.shutdown()
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        logger.info("coordbot stopped")


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
    """Show the outbox: work by kind and state, recent failures, the next due time."""
    settings = _settings()
    from storage.db import make_engine, make_session_scope, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    from bot.outbox import Outbox

    info = Outbox(make_session_scope(engine)).status()
    if not info["counts"]:
        click.echo("outbox is empty")
    for (kind, state), n in sorted(info["counts"].items()):
        click.echo(f"{kind:28} {state:10} {n}")
    click.echo(f"next due: {info['next_due'].isoformat() if info['next_due'] else '-'}")
    for f in info["failures"]:
        click.echo(f"failed #{f['id']} {f['kind']} {f['subject']}: {f['error']}")


@main.command("manifest")
@click.option("--url", default=None, metavar="BASE", help="Public base URL for HTTP mode (request URLs).")
def manifest_cmd(url: str | None) -> None:
    """Print the Slack app manifest (Socket Mode, or HTTP mode with --url)."""
    from bot.manifest import render

    click.echo(render(url), nl=False)


if __name__ == "__main__":
    main()
