"""Real-browser fixtures: the system's Chromium driven by Playwright, and the sandbox's static files over HTTP.

tests/conftest.py imports them, so every test module has them.
The browser is Debian's ``chromium`` (Playwright cannot download its own here); ``COORDBOT_CHROMIUM`` names another
executable. Without one the browser tests are skipped, unless ``COORDBOT_REQUIRE_BROWSER=1`` makes that a failure.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from handlers.sandbox import walkthrough

STATIC = Path(__file__).resolve().parent.parent / "handlers" / "sandbox" / "static"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the whole session (the walkthrough's own launch)."""
    try:
        walkthrough.chromium_path()
    except walkthrough.BrowserMissing as exc:
        if os.environ.get("COORDBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    with walkthrough.browser() as browser:
        yield browser


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
