"""Benchmark coordbot as its users feel it: acknowledgments and work done at a fixed arrival rate, a burst beyond
what it can work off, CPU time per request; then tick cost, render time at volume, memory.

    python bench/run.py [--quick]

Prints the summary table and writes bench/results.md. PostgreSQL is included in the tick and render parts when
BENCH_DATABASE_URL (or TEST_DATABASE_URL) is set; the benchmark works in schemas of its own there and drops
them afterwards.
"""

from __future__ import annotations

import argparse
import gc
import logging
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

logger = logging.getLogger("bench")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def main(argv: list[str] | None = None) -> int:
    """Run every part, print the summary, write the results file."""
    parser = argparse.ArgumentParser(description="Benchmark coordbot and write bench/results.md.")
    parser.add_argument("--quick", action="store_true", help="fewer requests and repeats (a few minutes)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md", help="where to write the results")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["latency", "tick", "render"],
        help="leave a part out (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("alembic", "bot", "handlers", "slack_bolt", "slack_sdk", "storage"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    sys.path.insert(0, str(ROOT))
    from bench import ack_latency, render_time, tick_cost
    from bench.common import backends, drop_postgres_schemas, machine, speed_reference
    from bench.report import Results, render_markdown, summary

    if args.quick:
        per_kind, sample, burst, warmup, repeats, rerun = 200, 50, 6.0, 100, 3, 100
    else:
        per_kind, sample, burst, warmup, repeats, rerun = 667, 100, 10.0, 250, 5, 150
    command = "python bench/run.py" + ("".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:])))
    mode = (
        f"a mix of {per_kind} requests of each kind at {ack_latency.RATE:g} requests/s, a {burst:g} s burst, "
        f"{repeats} repeats of each tick and render"
    )
    results = Results(started=_now(), finished="", mode=mode, command=command.strip(), machine=machine())
    speed_before = speed_reference()
    tmp = Path(tempfile.mkdtemp(prefix="coordbot-bench-"))
    began = time.monotonic()
    try:
        if "latency" not in args.skip:
            logger.info("1-3. acknowledgments, work done, a burst, CPU time per request")
            results.latency = ack_latency.measure(
                tmp,
                per_kind=per_kind,
                sample=sample,
                overload_seconds=burst,
                warmup=warmup,
                bare_sync=not args.quick,
                rerun_per_kind=rerun,
            )
        # As `coordbot run` does once started, leave what this process holds by now (modules, the latency
        # part's leftovers) out of the collector's full passes: those then walk what the timed code allocates.
        gc.collect()
        gc.freeze()
        if "tick" not in args.skip:
            logger.info("4. tick cost on %s", ", ".join(b.name for b in backends(tmp)))
            results.ticks = tick_cost.measure(backends(tmp), repeats=repeats)
        if "render" not in args.skip:
            logger.info("5. digest and App Home at volume")
            results.renders = render_time.measure(backends(tmp), repeats=repeats)
    except Exception as exc:  # keep what was measured; say what failed, and keep the logs
        traceback.print_exc()
        results.errors.append(f"{type(exc).__name__}: {exc} (logs kept in {tmp})")
    finally:
        try:
            drop_postgres_schemas()
        except Exception as exc:  # the results are still worth writing
            results.errors.append(f"could not drop the benchmark's PostgreSQL schemas: {exc}")
        results.finished = _now()
        results.seconds = time.monotonic() - began
        results.machine["Python speed (5 million additions in a loop)"] = (
            f"{speed_before:.2f} s at the start of the run, {speed_reference():.2f} s at its end"
        )
        args.out.write_text(render_markdown(results), encoding="utf-8")
    if not results.errors:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("\n".join(summary(results)))
    print(f"\nDetails in {args.out}")
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
