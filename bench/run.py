"""Benchmark coordbot: acknowledgment latency and when the work is done, tick cost, render time at volume, memory.

    python bench/run.py [--quick]

Prints the summary table and writes bench/results.md. PostgreSQL is included when BENCH_DATABASE_URL
(or TEST_DATABASE_URL) is set; the benchmark works in schemas of its own there and drops them afterwards.
"""

from __future__ import annotations

import argparse
import gc
import logging
import shlex
import shutil
import sys
import tempfile
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
    parser.add_argument("--skip", action="append", default=[], choices=["latency", "tick", "render"],
                        help="leave a part out (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("alembic", "bot", "handlers", "slack_bolt", "slack_sdk", "storage"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    sys.path.insert(0, str(ROOT))
    from bench import ack_breakdown, ack_latency, render_time, tick_cost
    from bench.common import Cpus, backends, drop_postgres_schemas, machine
    from bench.report import Results, render_markdown, summary

    requests, warmup, repeats = (100, 20, 3) if args.quick else (400, 40, 5)
    command = "python bench/run.py" + ("".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:])))
    mode = (f"{requests} requests of each kind, {repeats} repeats, fixed arrival rate {ack_latency.OPEN_RATE:g} "
            "requests/s")
    results = Results(started=_now(), finished="", mode=mode,
                      command=command.strip(), machine=machine())
    tmp = Path(tempfile.mkdtemp(prefix="coordbot-bench-"))
    try:
        if "latency" not in args.skip:
            logger.info("1. acknowledgment latency, closed loop, persistent connections (%d requests of each kind)",
                        requests)
            results.latency = ack_latency.measure(tmp, n=requests, warmup=warmup, keep_alive=True)
            if results.latency.cpus != Cpus().describe():
                logger.info("1. the same, the app sharing every CPU with the clients and the fake Slack API")
                results.latency_shared = ack_latency.measure(tmp, n=requests, warmup=warmup, keep_alive=True,
                                                             cpus=Cpus(), baselines=False)
            logger.info("1. acknowledgment latency, closed loop, a new connection per request")
            results.latency_connect = ack_latency.measure(tmp, n=requests, warmup=warmup, keep_alive=False)
            logger.info("1. acknowledgment latency at a fixed %g requests/s", ack_latency.OPEN_RATE)
            results.latency_rate = ack_latency.measure(tmp, n=requests, warmup=warmup, keep_alive=True,
                                                       rate=ack_latency.OPEN_RATE)
            logger.info("1. where an acknowledgment's time goes (instrumented, in-process)")
            results.breakdown = ack_breakdown.measure(tmp, n=max(50, requests // 2), warmup=warmup)
        # As `coordbot run` does once started, leave what this process holds by now (modules, the latency
        # parts' leftovers) out of the collector's full passes: those then walk what the timed code allocates.
        gc.collect()
        gc.freeze()
        if "tick" not in args.skip:
            logger.info("2. tick cost on %s", ", ".join(b.name for b in backends(tmp)))
            results.ticks = tick_cost.measure(backends(tmp), repeats=repeats)
        if "render" not in args.skip:
            logger.info("3. digest and App Home at volume")
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
        args.out.write_text(render_markdown(results), encoding="utf-8")
    if not results.errors:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("\n".join(summary(results)))
    print(f"\nDetails in {args.out}")
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
