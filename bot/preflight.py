"""Checks a command makes before it starts, each failure one line that says what to fix: here the database
(the messenger is checked by its adapter, e.g. handlers.serving.slack_check).

A setting that is wrong (a token Slack refuses, a database that cannot be reached or written) is reported as
`Preflight` with the setting's name and what was found, never as a traceback; the command exits with
status 2. Commands that only read (`status`, `export`, `retry`, `tick`) never create a database.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.error import URLError

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.db import make_engine, migrate, normalize_url

logger = logging.getLogger(__name__)


class Preflight(Exception):
    """A setting is wrong or a service is out of reach: the message says which and what to do."""


def sqlite_path(url: str) -> Path | None:
    """The absolute path of an SQLite database file, or None (another database, or SQLite in memory)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().resolve()


def describe(url: str) -> str:
    """The database URL as it may be shown: an SQLite file's absolute path, any other URL without its password."""
    path = sqlite_path(url)
    if path is not None:
        return f"{path} (SQLite)"
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def open_database(url: str, *, create: bool) -> Engine:
    """An engine on the database with its schema current; with `create` False, a missing SQLite file is an error."""
    try:
        make_url(normalize_url(url))
    except ArgumentError as exc:
        raise Preflight(
            f"DATABASE_URL is not a database URL ({exc}); e.g. sqlite:///coordbot.db or "
            "postgresql://user:password@host:5432/coordbot"
        ) from exc
    path = sqlite_path(url)
    if path is not None:
        if not create and not path.exists():
            raise Preflight(
                f"no database at {path} (DATABASE_URL={url}): start `coordbot run` first, or set "
                "DATABASE_URL to the database coordbot runs on"
            )
        folder = path.parent
        if not path.exists() and not (folder.is_dir() and os.access(folder, os.W_OK)):
            raise Preflight(
                f"cannot create the database at {path}: {folder} is not a folder coordbot may write in (DATABASE_URL)"
            )
        if path.exists() and not os.access(path, os.W_OK):
            raise Preflight(f"the database at {path} is read-only for this user (DATABASE_URL)")
    try:
        engine = make_engine(url)
    except Exception as exc:  # a driver that is not installed, an option it does not know
        raise Preflight(f"cannot use DATABASE_URL {describe(url)}: {first_line(exc)}") from exc
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as exc:
        engine.dispose()
        raise Preflight(f"cannot reach the database {describe(url)} (DATABASE_URL): {first_line(exc)}") from exc
    try:
        migrate(engine)
    except Exception as exc:
        engine.dispose()
        raise Preflight(f"cannot bring the database {describe(url)} up to date: {first_line(exc)}") from exc
    return engine


def reason(exc: BaseException) -> str:
    """A short account of why a connection failed."""
    if isinstance(exc, URLError):
        return str(exc.reason)
    return first_line(exc)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
