"""The scheduler is only a heartbeat: every N seconds it runs one tick of the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

logger = logging.getLogger(__name__)


def start_heartbeat(tick: Callable[[], object], seconds: int) -> BackgroundScheduler:
    """Run `tick` now and then every `seconds`; one run at a time, missed runs coalesced."""

    def beat() -> None:
        try:
            tick()
        except Exception:  # the next beat tries again; the rows are still in the database
            logger.exception("tick failed")

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        beat,
        "interval",
        seconds=seconds,
        id="outbox-tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=seconds,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    logger.info("scheduler ticking every %d s", seconds)
    return scheduler
