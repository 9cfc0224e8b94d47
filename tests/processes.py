"""Helpers for tests that start `coordbot` as a process: a free port, waiting until healthy, child processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# the environment of the test run, without anything that would configure the bot under test
CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("SLACK_", "COORDBOT_")) and k not in ("DATABASE_URL", "PORT")
}


def start_run(
    db: Path | str,
    *,
    bot_token: str,
    signing_secret: str,
    api_url: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    new_session: bool = False,
    port: int | None = None,
    output: Any = subprocess.PIPE,
) -> tuple[subprocess.Popen[str], str]:
    """`coordbot run` in HTTP mode (with its worker, by default) on a free port, once healthy; and its URL.

    `db` is a SQLite file or a database URL; `new_session` puts the run and its workers in a process group
    of their own (to kill them all at once); `output` takes its log (an open file for long runs: a pipe
    nobody reads fills up and stops the process).
    """
    port = port or free_port()
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    environ = {
        **CLEAN_ENV,
        "SLACK_BOT_TOKEN": bot_token,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": url,
        "PORT": str(port),
        "COORDBOT_RESPONSE_URLS": api_url.rsplit("/api/", 1)[0] + "/response/",
        "COORDBOT_TZ": "Asia/Shanghai",
        "COORDBOT_TICK_SECONDS": "1",
        "COORDBOT_STRICT_TEXT": "1",
        **(env or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1", *args],
        env=environ,
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url)
    return proc, url


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(proc: subprocess.Popen[Any], url: str, timeout: float = 60.0, what: str = "coordbot run") -> None:
    """Wait until GET /healthz answers 200; fail with the process's output if it exits first."""
    deadline = time.time() + timeout
    while True:
        try:
            if urllib.request.urlopen(url + "/healthz", timeout=1).status == 200:
                return
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.communicate()[0]) from None
            if time.time() > deadline:
                proc.kill()
                raise AssertionError(f"{what} did not become healthy") from None
            time.sleep(0.1)


def children(pid: int) -> list[int]:
    """The running child processes of a process (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] != "Z"
