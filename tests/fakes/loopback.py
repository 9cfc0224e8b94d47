"""The worker process's side of handlers.handoff, run in the test's process: frames through a real pipe."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from slack_bolt import App, BoltRequest

from bot.app import Runtime, create_app
from handlers.handoff import encode, serve


class LoopbackWorker:
    """Takes what a serving app hands off, writes it as frames to a pipe, and a worker app reads and runs them.

    The worker app shares the test's runtime (database, clock, directory), as a worker process shares the
    database and settings of the serving process that started it.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.app: App = create_app(runtime, worker=True)
        self.sent = 0
        self._lock = threading.Lock()
        read_fd, write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb")
        self._writer = os.fdopen(write_fd, "wb")
        self._thread = threading.Thread(target=self._serve, name="loopback-worker", daemon=True)
        self.handled: int | None = None
        self._held: list[bytes] | None = None
        self._thread.start()

    def _serve(self) -> None:
        # as in one process, work still waiting on a slow Web API when the test ends is not waited for
        self.handled = serve(self.app, self._reader, threads=self.runtime.settings.listener_threads, finish=False)

    def send(self, request: BoltRequest) -> None:
        """Frame the request as the serving process does and write it to the worker's pipe."""
        frame = encode(request, self.runtime.services.now())
        with self._lock:
            self.sent += 1
            if self._held is not None:
                self._held.append(frame)
                return
            self._writer.write(frame)
            self._writer.flush()

    @contextmanager
    def held(self) -> Iterator[list[bytes]]:
        """Keep what is handed off in a list (seen by the test) until the block ends, then pass it on."""
        held: list[bytes] = []
        with self._lock:
            self._held = held
        try:
            yield held
        finally:
            with self._lock:
                self._held = None
                for frame in held:
                    self._writer.write(frame)
                self._writer.flush()

    def close(self) -> None:
        """Close the pipe; the worker reads to the end."""
        with self._lock:
            self._writer.close()
        self._thread.join(30)
        self._reader.close()
