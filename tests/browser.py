"""Real-browser fixtures: the system's Chromium driven by Playwright, and the sandbox's static files over HTTP.

tests/conftest.py imports them, so every test module has them.
The browser is Debian's ``chromium`` (Playwright cannot download its own here); ``COORDBOT_CHROMIUM`` names another
executable. Without one the browser tests are skipped, unless ``COORDBOT_REQUIRE_BROWSER=1`` makes that a failure.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "handlers" / "sandbox" / "static"
NO_BROWSER = "no Chromium for the browser tests: install Debian's chromium: apt-get install chromium"


def chromium_path() -> str | None:
    """The browser to drive: $COORDBOT_CHROMIUM, else `chromium` on PATH, else /usr/bin/chromium."""
    given = os.environ.get("COORDBOT_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    path = chromium_path()
    if path is None:
        if os.environ.get("COORDBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(NO_BROWSER)
        pytest.skip(NO_BROWSER)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh page in a context of its own (no shared storage), 1280×900."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


class _StaticHandler(SimpleHTTPRequestHandler):
    """Serves the static folder read-only (GET/HEAD only, as SimpleHTTPRequestHandler does), without logging."""

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="session")
def static_server() -> Iterator[str]:
    """`handlers/sandbox/static/` over HTTP on 127.0.0.1 at a free port; yields the base URL (no trailing slash)."""
    handler = functools.partial(_StaticHandler, directory=str(STATIC))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
