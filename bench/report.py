"""The benchmark's results as Markdown: a summary table with the goals, then each part in detail."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.ack_latency import (
    BURST_TRIES,
    CLIENTS,
    EFFECTS,
    FACTOR_SLACK,
    KINDS,
    OVERLOAD_FACTOR,
    TRIGGER_LIFETIME,
    AppRun,
    Batch,
    Breakdown,
    LatencyResult,
    Overload,
)
from bench.common import mib, percentile
from bench.render_time import GOAL as RENDER_GOAL
from bench.render_time import Render
from bench.tick_cost import TickRun

ACK_GOAL = 1.5  # coordbot's ack p99 ÷ bare Bolt's, at the fixed rate
WORK_GOAL = 1.0  # seconds: work done p99 at the fixed rate
BURST_ACK_GOAL = 0.1  # seconds: ack p99 during the burst
TICK_GOAL = 1.5


@dataclass
class Results:
    """Everything one run measured."""

    started: str
    finished: str
    mode: str
    command: str
    machine: dict[str, str]
    latency: LatencyResult | None = None
    ticks: list[TickRun] = field(default_factory=list)
    renders: list[Render] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = math.nan  # how long the run took


def _ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def _s(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds:.3f} s"


def _met(ok: bool) -> str:
    return "yes" if ok else "**MISSED**"


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _x(ratio: float) -> str:
    return "n/a" if math.isnan(ratio) else f"{ratio:.2f}×"


def _kind(kind: str | None) -> str:
    return "all three kinds" if kind is None else f"`{kind}`"


def _named(kinds: list[str | None]) -> str:
    """Kinds in a sentence: None as the mix as a whole."""
    return ", ".join("the mix as a whole" if k is None else f"`{k}`" for k in kinds)


def _command(command: str) -> str:
    """A process's command line without what changes from run to run (the interpreter's path, --parent PID)."""
    words = command.split()
    kept = ["python"] + [
        w for i, w in enumerate(words[1:], 1) if w != "--parent" and not (words[i - 1] == "--parent" and w.isdigit())
    ]
    return " ".join(kept) if words else command


def _per(seconds: float) -> str:
    """CPU seconds per request as milliseconds."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _mix(app: AppRun) -> Batch:
    assert app.mix is not None
    return app.mix


def _burst_ack_met(o: Overload) -> bool:
    """Answered fast, every request, in a burst that came at about OVERLOAD_FACTOR × the rate it was worked off."""
    return (
        o.batch.ack_p(99) < BURST_ACK_GOAL
        and o.batch.ok() == len(o.batch.samples)
        and OVERLOAD_FACTOR <= o.factor <= OVERLOAD_FACTOR * FACTOR_SLACK
    )


def _stored_met(app: AppRun) -> bool:
    return app.answered > 0 and app.stored_rows == app.answered and app.stored.get("done", 0) == app.answered


# -- the summary ---------------------------------------------------------------------------------------------


def summary(r: Results) -> list[str]:
    """One row per figure, with its goal and whether it was met."""
    rows: list[list[str]] = []
    if r.latency:
        rows += _latency_summary(r.latency)
    for backend in dict.fromkeys(t.backend for t in r.ticks):
        big, small = _tick_pair(r.ticks, backend)
        if big and small:
            ratio = _ratio(big.time, small.time)
            rows.append(
                [
                    f"tick, 1,000 due among 100,000 ÷ among 1,000 pending ({backend})",
                    f"{ratio:.2f}× ({_s(big.time)} ÷ {_s(small.time)})",
                    f"≤ {TICK_GOAL}×",
                    _met(ratio <= TICK_GOAL),
                ]
            )
            rows.append(
                [
                    f"SQL statements per reminder, 100,000 vs 1,000 pending ({backend})",
                    f"{big.per_reminder:.3f} vs {small.per_reminder:.3f}",
                    "constant",
                    _met(big.statements == small.statements),
                ]
            )
    for render in r.renders:
        rows.append(
            [
                f"{render.surface}, {render.records:,} records ({render.backend})",
                f"{_s(render.time)}, {render.blocks} blocks, {'valid' if render.valid else 'INVALID'}",
                f"< {RENDER_GOAL} s, ≤ {render.limit} blocks, valid",
                _met(render.time < RENDER_GOAL and render.valid),
            ]
        )
    if r.latency:
        app = r.latency.coordbot
        others = sum(o.memory.get("VmHWM", 0) for o in app.others_idle)
        rows.append(
            [
                "peak RSS of an idle `coordbot run` (VmHWM)",
                mib(app.idle_memory.get("VmHWM"))
                + (
                    f" serving process + {mib(others)} in {len(app.others_idle)} worker process(es)"
                    if app.others_idle
                    else ""
                ),
                "(reported)",
                "—",
            ]
        )
    for tick in r.ticks:
        if tick.pending == 100_000:
            rows.append(
                [
                    f"peak RSS during the 100,000-pending tick ({tick.backend}, {tick.peak_source})",
                    f"{mib(tick.rss_peak_kib)} (before: {mib(tick.rss_before_kib)})",
                    "(reported)",
                    "—",
                ]
            )
    return _table(["figure", "result", "goal", "met"], rows)


def _latency_summary(res: LatencyResult) -> list[list[str]]:
    rows: list[list[str]] = []
    app, bare = res.coordbot, res.bare
    mine, theirs = _mix(app), _mix(bare)
    for kind in (None, *KINDS):
        ratio = _ratio(mine.ack_p(99, kind), theirs.ack_p(99, kind))
        rows.append(
            [
                f"ack p99 at {res.rate:g} requests/s, {_kind(kind)}, coordbot ÷ bare Bolt on the same server",
                f"{_x(ratio)} ({_ms(mine.ack_p(99, kind))} ÷ {_ms(theirs.ack_p(99, kind))})",
                f"≤ {ACK_GOAL}×",
                _met(ratio <= ACK_GOAL and mine.ok(kind) == len(mine.of(kind))),
            ]
        )
    rows.append(
        [
            "requests coordbot answered 200 (all phases) that are rows of its inbox, read after it stopped",
            f"{app.stored_rows:,} rows for {app.answered:,} answers ({app.stored.get('done', 0):,} done)",
            "every one",
            _met(_stored_met(app)),
        ]
    )
    for kind in (None, *KINDS):
        missing = mine.unmatched(kind)
        what = "the Web API call showing it" if kind is None else f"`{EFFECTS[kind][0]}`"
        rows.append(
            [
                f"work done p99 at {res.rate:g} requests/s (request → {what} at Slack), {_kind(kind)}",
                _ms(mine.work_p(99, kind)) + (f" ({missing} not found)" if missing else ""),
                f"< {WORK_GOAL:g} s",
                _met(mine.work_p(99, kind) < WORK_GOAL and not missing),
            ]
        )
    rows.append(
        [
            f"requests/s of the mix coordbot worked off, arriving at {res.rate:g} requests/s",
            f"{mine.worked_off:.1f} (its last work done {_s(mine.drained)} after its last request)",
            "(reported)",
            "—",
        ]
    )
    o = app.overload
    if o is not None:
        b = o.batch
        failed = len(b.samples) - b.ok()
        rows.append(
            [
                f"ack p99 during a {o.seconds:g} s burst at {b.rate:.0f} requests/s = {o.factor:.1f}× the "
                f"{o.measured:.0f} requests/s coordbot worked off",
                _ms(b.ack_p(99)) + (f" ({failed} not answered 200)" if failed else ""),
                f"< {BURST_ACK_GOAL * 1000:.0f} ms",
                _met(_burst_ack_met(o)),
            ]
        )
        peak = o.peak
        rows.append(
            [
                "where the burst's backlog was",
                (
                    f"up to {peak.backlog:,} requests waiting as inbox rows ({peak.backlog_bytes / 1024:.0f} KiB "
                    f"of payload); every answered request a row"
                    if peak
                    else "not read"
                ),
                "in the database, not in memory",
                _met(peak is not None and peak.backlog > 0 and _stored_met(app)),
            ]
        )
        rows.append(
            [
                "serving process RSS before the burst → after it (highest reading during it)",
                f"{mib(o.memory_before.get('VmRSS'))} → {mib(o.memory_after.get('VmRSS'))} "
                f"({mib(max((x.serving_rss for x in o.readings), default=None))})",
                "(reported)",
                "—",
            ]
        )
        rows.append(["time to work the burst's backlog off, after its last request", _s(b.drained), "(reported)", "—"])
    for kind in KINDS:
        batch = app.by_kind.get(kind)
        if batch is not None:
            rows.append(
                [
                    f"CPU time per request, `{kind}` (serving + worker process)",
                    f"{_per(batch.cpu_per_request())} ({_per(batch.cpu_per_request('serving'))} + "
                    f"{_per(batch.cpu_per_request('worker'))})",
                    "(reported)",
                    "—",
                ]
            )
    return rows


def _tick_pair(ticks: list[TickRun], backend: str) -> tuple[TickRun | None, TickRun | None]:
    big = next((t for t in ticks if t.backend == backend and t.pending == 100_000), None)
    small = next((t for t in ticks if t.backend == backend and t.pending != 100_000), None)
    return big, small


# -- part 1: the mix at the fixed rate ---------------------------------------------------------------------------


def _apps(res: LatencyResult) -> list[AppRun]:
    return [a for a in (res.coordbot, res.bare, res.bare_sync) if a is not None and a.mix is not None]


def latency_section(r: Results) -> list[str]:
    """Part 1: acknowledgments and work done at the fixed rate, and whether every request was stored."""
    out = ["## 1. Acknowledgments and work done at a fixed arrival rate", ""]
    res = r.latency
    if res is None:
        return [*out, "Not measured in this run.", ""]
    app = res.coordbot
    sizes = res.batch_sizes
    out += [
        f"**The load.** A mix of {res.per_kind} requests of each kind, shuffled (with a fixed seed), sent at a "
        f"fixed {res.rate:g} requests/s, open loop: request *i* has its planned send time, start + *i* ÷ "
        f"{res.rate:g} s, whatever the answers, and its times count from that planned time (a request waiting "
        f"for one of the {CLIENTS} client threads counts that wait too). Each client thread keeps one HTTP/1.1 "
        "connection. The requests are built and encoded by handlers/sandbox/driver.py before the mix starts; only "
        "signing and sending happen while it runs.",
        "",
        "- `/requirement` with no text: coordbot stores the request, answers, and then opens the sheet's modal "
        "at once in the serving process (`views.open`: a trigger_id expires 3 s after the command).",
        "- `view_submission`: a modal opened earlier, submitted once with valid values: coordbot validates, "
        "stores, answers; a worker stores the record and posts the sheet (`chat.postMessage`).",
        "- `reaction_added`: ✅ by the receiving owner on a sheet posted earlier: coordbot stores, answers; a "
        "worker signs the sheet and updates its message (`chat.update`).",
        "",
        "**The apps.** *coordbot* is `coordbot run` in HTTP mode as configured by default (one worker process "
        "of 8 threads, `COORDBOT_WORKER_NICE=0`, its scheduler on), on SQLite in a temporary directory, started "
        "as a subprocess; before the mix it has answered the one-kind batches of part 3 "
        f"({', '.join(f'{n} `{k}`' for k, n in sizes.items())}), which warm it up and open the modals and post "
        "the sheets the mix uses. *bare Bolt* (bench/servers.py) is a Bolt `App` with Bolt's defaults whose "
        "three listeners only call `ack()`, served by the same server and adapter as coordbot "
        "(`handlers.serving.http.Server`: uvicorn with h11, Bolt's ASGI adapter, dispatch on a thread pool). Bolt's "
        "default `process_before_response=False` runs a listener on Bolt's own thread pool while the request's "
        "thread polls every 10 ms for its `ack()` (an event is acknowledged before its listener runs, without "
        "that wait). It gets the first requests of the mix as a warm-up, then the very same mix (the same "
        "bodies, signed anew)."
        + (
            " A second bare app, with `process_before_response=True` (the listener on the request's thread, "
            "as coordbot's serving app runs it), is shown for comparison; the goal is measured against Bolt as it "
            "comes."
            if res.bare_sync is not None
            else ""
        ),
        "",
        "**The machine.** Every process shares its CPUs as the scheduler sees fit: nothing is pinned to a CPU "
        "and nothing runs at a lowered priority. The fake Slack Web API (handlers/sandbox/slack_api/, in a "
        "process of its own) and the clients stand in for Slack but run here, on the same CPUs; the CPU table "
        "below shows what each took.",
        "",
        "**Columns.** *ack* is the time from a request's planned send time to reading its HTTP answer. *work "
        "done* is the time from the planned send time to the moment the fake Slack API received the Web API "
        "call that shows the request's effect: "
        + "; ".join(f"for `{kind}` the {EFFECTS[kind][2]}" for kind in KINDS)
        + ". The fake records when each call arrived and the client when it planned each request, both with "
        "the wall clock (`time.time()`) of the same machine. The bare app does no work, so it has no *work done*.",
        "",
    ]
    rows = []
    for kind in (None, *KINDS):
        base = _mix(res.bare).ack_p(99, kind)
        for a in _apps(res):
            m = _mix(a)
            works = m.works(kind)
            work = (
                ([_ms(m.work_p(50, kind)), _ms(m.work_p(99, kind)), _ms(max(works))] if works else ["—", "—", "—"])
                if a is app
                else ["—", "—", "—"]
            )
            missing = m.unmatched(kind) if a is app else 0
            rows.append(
                [
                    _kind(kind),
                    a.name,
                    f"{m.ok(kind)} of {len(m.of(kind))}",
                    _ms(m.ack_p(50, kind)),
                    _ms(m.ack_p(99, kind)),
                    _ms(max(m.acks(kind), default=math.nan)),
                    _x(_ratio(m.ack_p(99, kind), base)),
                    *work,
                    str(missing) if a is app else "—",
                ]
            )
    out += _table(
        [
            "requests",
            "app",
            "answered 200",
            "ack p50",
            "ack p99",
            "ack max",
            "ack p99 ÷ bare",
            "work done p50",
            "work done p99",
            "work done max",
            "effect not found",
        ],
        rows,
    )
    out.append("")
    out += _cores_lines(res)
    mix = _mix(app)
    late = mix.late(TRIGGER_LIFETIME, "/requirement")
    out += [
        f"The mix took {mix.wall:.1f} s to send ({mix.achieved:.1f} requests/s answered); coordbot's last "
        f"work was done {_s(mix.drained)} after its last request was planned. {late} of "
        f"{len(mix.works('/requirement'))} `views.open` calls came more than {TRIGGER_LIFETIME:g} s after "
        "their command (Slack's trigger_id lifetime; the fake here does not enforce it, Slack would refuse "
        "them).",
        "",
    ]
    out += _stored_lines(app)
    out += _verdict_lines(res)
    if res.breakdown is not None:
        out += _breakdown_lines(res.breakdown, _mix(app))
    out += _arrangements_lines(res)
    return out


def _cores_lines(res: LatencyResult) -> list[str]:
    """What each process spent during the mix, in CPUs."""
    rows = []
    for a in _apps(res):
        m = _mix(a)
        if not m.cpu_window:
            continue
        spent = {**{f"{a.name}: {k} process": v for k, v in m.cpu.items()}, **m.load_cpu}
        busy = ", ".join(f"{k} {v / m.cpu_window:.2f}" for k, v in spent.items())
        rows.append([a.name, f"{m.cpu_window:.1f} s", busy, f"{sum(spent.values()) / m.cpu_window:.2f}"])
    return [
        "CPU time during the mix, from its first request until its work was done (the answers, for bare "
        "Bolt), read from /proc/<pid>/stat (utime + stime), as CPUs busy on average:",
        "",
        *_table(["app", "span", "CPUs busy, by process", "together"], rows),
        "",
    ]


def _stored_lines(app: AppRun) -> list[str]:
    states = ", ".join(f"{n:,} {s}" for s, n in sorted(app.stored.items()))
    kinds = ", ".join(f"{n:,} `{k}`" for k, n in sorted(app.stored_kinds.items()))
    verdict = "met" if _stored_met(app) else "**MISSED**"
    return [
        f"**Every request stored.** coordbot commits each request to its inbox table before it answers (an "
        "answer with field errors aside, which none of these is). After it had stopped, its database held "
        f"{app.stored_rows:,} inbox rows ({states}; {kinds}) for the {app.answered:,} requests it answered "
        "200 over the whole run (the one-kind batches, the mix, the burst), each of them a distinct request "
        f"(a new trigger_id, view or event_id): goal {verdict}. SQLite runs in WAL mode with "
        "`synchronous=NORMAL` (storage/db.py): a committed row survives the process being killed; the last "
        "transactions before a power cut may be lost (PostgreSQL, with its defaults, would keep them).",
        "",
    ]


def _verdict_lines(res: LatencyResult) -> list[str]:
    mine, theirs = _mix(res.coordbot), _mix(res.bare)
    missed = [k for k in (None, *KINDS) if not _ratio(mine.ack_p(99, k), theirs.ack_p(99, k)) <= ACK_GOAL]
    slow = [k for k in (None, *KINDS) if not mine.work_p(99, k) < WORK_GOAL]
    out = []
    if missed:
        out.append(
            f"Acknowledgments: goal **missed** for {_named(missed)}: coordbot's "
            f"p99 is more than {ACK_GOAL}× bare Bolt's."
        )
    else:
        out.append(
            f"Acknowledgments: goal met: coordbot's p99 is within {ACK_GOAL}× bare Bolt's for each kind and overall."
        )
    if slow:
        out.append(f"Work done: goal **missed** for {_named(slow)}: p99 over {WORK_GOAL:g} s.")
    else:
        out.append(f"Work done: goal met: p99 under {WORK_GOAL:g} s for each kind.")
    rate = mine.worked_off
    if rate < 0.95 * res.rate:
        out.append(
            f"coordbot worked the mix off at {rate:.1f} requests/s (every request ÷ the time from the "
            f"first to its last work done), below the {res.rate:g} requests/s it arrived at: its backlog "
            "grew while the mix lasted, and a request's work waited the longer, the later it came, so the "
            "work-done figures grow with the length of the mix."
        )
    return [" ".join(out), ""]


def _breakdown_lines(b: Breakdown, main: Batch) -> list[str]:
    """The instrumented rerun: where the serving process's time went (`main`: the mix of the goal figures)."""
    m = _mix(b.run)
    out = [
        "### Where an acknowledgment's time goes",
        "",
        f"An instrumented rerun (`python -m bench.probe`: the same `coordbot run` with timers, a fresh database, "
        f"a mix of {len(m.of('/requirement'))} requests of each kind at the same rate after the same kind of "
        "one-kind batches) timed, in its processes, during its mix "
        f"({b.window:.1f} s, from the first request to the last work done):",
        "",
        f"- the answers, at the client: ack p50 {_ms(m.ack_p(50))}, p99 {_ms(m.ack_p(99))} (the mix above was "
        f"{len(main.samples) / len(m.samples):.1f}× as long, its last work done {_s(main.drained)} after its "
        f"last request, here {_s(m.drained)}; its p99 was {_ms(main.ack_p(99))}: read the shares below, not the "
        "milliseconds);",
        f"- the serving process's Bolt dispatch of each request (from the dispatch thread's start to the "
        f"answer): p50 {_ms(percentile(b.dispatch, 50))}, p99 {_ms(percentile(b.dispatch, 99))};",
        f"- of which storing it in the inbox (`Inbox.put`, its commit included): p50 "
        f"{_ms(percentile(b.put, 50))}, p99 {_ms(percentile(b.put, 99))};",
        "- of which beginning its transaction, which waits for SQLite's write lock: p50 "
        f"{_ms(percentile(b.put_lock, 50))}, p99 {_ms(percentile(b.put_lock, 99))}.",
    ]
    for role, waits in sorted(b.lock_waits.items()):
        out.append(
            f"- every transaction of the {role} process waited for the write lock: p50 "
            f"{_ms(percentile(waits, 50))}, p99 {_ms(percentile(waits, 99))} ({len(waits)} transactions)."
        )
    shares = b.held_share
    out += [
        "",
        "SQLite has one write lock for the whole database, and storage/db.py opens every transaction "
        "with `BEGIN IMMEDIATE`, reads included, so each transaction holds it from its start to its end. "
        "During the mix it was held "
        + ", ".join(f"{share:.0%} of the time by the {role} process" for role, share in sorted(shares.items()))
        + ". The longest holders:",
        "",
    ]
    rows = [
        [role, f"`{where}`", str(n), f"{seconds:.2f} s", _ms(seconds / n)] for role, where, n, seconds in b.holders[:8]
    ]
    out += _table(["process", "transaction opened in", "transactions", "write lock held, together", "each, mean"], rows)
    share = _ratio(percentile(b.put_lock, 99), percentile(b.dispatch, 99))
    out += [
        "",
        "SQLite queues no one for that lock: a transaction that finds it taken sleeps in its busy handler "
        "(1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms at a time) and tries again, while a busy "
        "worker commits and begins its next transaction within microseconds. So in `coordbot run` requests "
        "being stored go first (storage.db's `Turn`): while a thread of the serving process wants the lock, "
        "a worker's next transaction waits at a lock file beside the database (woken by the kernel), and one "
        "serving thread at a time tries for the lock every half millisecond. "
        + (
            f"Here the p99 wait for the lock in `Inbox.put` is {share:.0%} of the p99 dispatch: the tail of "
            "an acknowledgment is that wait."
            if share >= 0.5
            else f"Here the p99 wait for the lock in `Inbox.put` is {share:.0%} of the p99 dispatch: most of the "
            "tail of an acknowledgment lies elsewhere."
        ),
        "",
    ]
    return out


def _arrangements_lines(res: LatencyResult) -> list[str]:
    mix = _mix(res.coordbot)
    b = res.breakdown
    worker_share = b.held_share.get("worker") if b is not None else None
    lock = (
        f"the worker held SQLite's write lock {worker_share:.0%} of the time during the instrumented mix (above)"
        if worker_share is not None
        else "the worker takes SQLite's write lock for each of its transactions (storage/db.py opens each with "
        "`BEGIN IMMEDIATE`)"
    )
    busy = (sum(mix.cpu.values()) + sum(mix.load_cpu.values())) / mix.cpu_window if mix.cpu_window else math.nan
    app_busy = sum(mix.cpu.values()) / mix.cpu_window if mix.cpu_window else math.nan
    return [
        "### No special arrangements",
        "",
        "The earlier benchmark pinned the clients and the fake Slack API to one CPU and the app to the other, "
        "and its worker ran at Linux's SCHED_IDLE priority by default. Neither is kept. Pinning is nothing "
        "a user's deployment has, and on this two-CPU machine it would leave coordbot one CPU for the "
        f"{app_busy:.2f} CPUs its processes used during the mix ({busy:.2f} with the load). SCHED_IDLE "
        "(still available as `COORDBOT_WORKER_NICE=idle`) makes the worker wait for CPU time nothing else "
        f"wants; {lock}, and a worker kept off the CPU while holding that lock keeps the serving process "
        "waiting for it all the longer: no gain for the person waiting for an answer. This run measures the "
        "default, `COORDBOT_WORKER_NICE=0`.",
        "",
    ]


# -- part 2: the burst -----------------------------------------------------------------------------------------------


def burst_section(r: Results) -> list[str]:
    """Part 2: the burst beyond what coordbot works off."""
    out = ["## 2. A burst at twice the rate coordbot works off", ""]
    o = r.latency.coordbot.overload if r.latency else None
    tries = r.latency.coordbot.overload_tries if r.latency else []
    if o is None:
        return [*out, "Not measured in this run.", ""]
    b = o.batch
    out += [
        f"Right after the mix, coordbot got the same mix of kinds at {b.rate:.0f} requests/s for {o.seconds:g} s "
        f"({len(b.samples)} requests{'; ' + o.capped if o.capped else ''}): {OVERLOAD_FACTOR:g}× the "
        f"{o.estimated:.1f} requests/s it was estimated to work off, from {o.how}. While the burst and its "
        f"backlog lasted, the benchmark read the inbox table (rows by state, payload bytes of the rows not done) "
        f"and the resident memory (VmRSS) of the serving and worker processes every few hundred milliseconds. "
        f"The rate coordbot actually worked the burst off, measured there (rows done per second while rows "
        f"were waiting), was {o.measured:.1f} requests/s: the burst came at {o.factor:.2f}× that. The goal "
        f"counts only for a burst that came at {OVERLOAD_FACTOR:g}× to {OVERLOAD_FACTOR * FACTOR_SLACK:g}× "
        "the rate it was worked off at; one that did not was followed by another (up to "
        f"{BURST_TRIES}), its rate chosen from the bursts before it (bench/ack_latency.py, `next_burst`): the "
        "last is shown.",
        "",
    ]
    if len(tries) > 1:
        out += ["The bursts sent:", ""]
        out += _table(
            ["burst", "rate", "worked off", "came at", "ack p50", "ack p99", "ack max"],
            [
                [
                    str(i),
                    f"{t.batch.rate:.0f} requests/s",
                    f"{t.measured:.1f} requests/s",
                    f"{t.factor:.2f}×",
                    _ms(t.batch.ack_p(50)),
                    _ms(t.batch.ack_p(99)),
                    _ms(max(t.batch.acks(None), default=math.nan)),
                ]
                for i, t in enumerate(tries, 1)
            ],
        )
        out += [""]
    rows = []
    for kind in (None, *KINDS):
        works = b.works(kind)
        rows.append(
            [
                _kind(kind),
                f"{b.ok(kind)} of {len(b.of(kind))}",
                _ms(b.ack_p(50, kind)),
                _ms(b.ack_p(99, kind)),
                _ms(max(b.acks(kind), default=math.nan)),
                _ms(b.work_p(50, kind)),
                _ms(b.work_p(99, kind)),
                _ms(max(works)) if works else "n/a",
            ]
        )
    out += _table(
        [
            "requests",
            "answered 200",
            "ack p50",
            "ack p99",
            "ack max",
            "work done p50",
            "work done p99",
            "work done max",
        ],
        rows,
    )
    verdict = "met" if _burst_ack_met(o) else "**MISSED**"
    out += [
        "",
        f"Acknowledgments during the burst: p99 {_ms(b.ack_p(99))} against a goal of under "
        f"{BURST_ACK_GOAL * 1000:.0f} ms: goal {verdict}. The backlog was worked off {_s(b.drained)} after the "
        "burst's last request.",
        "",
    ]
    out += ["The inbox and memory, a reading about every second (seconds from the burst's first request):", ""]
    rows = []
    shown = -1.0
    for x in o.readings:
        if x.at - shown >= 0.95 or x is o.readings[-1]:
            shown = x.at
            rows.append(
                [
                    f"{x.at:.1f}",
                    f"{x.states.get('pending', 0):,}",
                    f"{x.states.get('running', 0):,}",
                    f"{x.states.get('done', 0):,}",
                    f"{x.backlog_bytes / 1024:.0f} KiB",
                    mib(x.serving_rss),
                    mib(x.worker_rss),
                ]
            )
    out += _table(["s", "pending", "running", "done", "payload waiting", "serving RSS", "worker RSS"], rows)
    peak = o.peak
    out += [
        "",
        "*running* rows are claimed: by the worker's threads, and by the serving process for the "
        "commands whose modal it opens itself (stored claimed, run at once after the answer, on its own pool "
        "of threads). A request waiting is a row in the database, committed before its answer left: what the "
        "serving process holds while the backlog lasts is no more than the requests being answered and the "
        "claimed rows it is running. "
        + (
            f"At the peak, {peak.backlog:,} requests ({peak.backlog_bytes / 1024:.0f} KiB of payload) waited "
            f"in the table while the serving process's RSS read {mib(peak.serving_rss)} (before the burst: "
            f"{mib(o.memory_before.get('VmRSS'))}; after it: {mib(o.memory_after.get('VmRSS'))})."
            if peak
            else ""
        ),
        "",
    ]
    return out


# -- part 3: CPU time per request -----------------------------------------------------------------------------------


def cpu_section(r: Results) -> list[str]:
    """Part 3: CPU time per request, by kind."""
    out = ["## 3. CPU time per request, by kind", ""]
    res = r.latency
    if res is None or not res.coordbot.by_kind:
        return [*out, "Not measured in this run.", ""]
    app = res.coordbot
    out += [
        "Before the mix, coordbot got one kind at a time at the same fixed rate: commands, then "
        "submissions of the modals those opened, then reactions on the sheets those posted. For each batch, "
        "the CPU time (utime + stime from /proc/<pid>/stat) of the serving process and of the worker "
        "process was read before its first request and again once every request's work was done (no inbox "
        "row pending or running), and divided by the batch's size. The clock counts in 10 ms ticks, hence "
        "batches of many requests. The span includes the processes' idle work (the worker's claiming loop "
        "polls the inbox every 50 ms, the lease renewals): "
        + ", ".join(f"{k} process {v * 1000:.0f} ms of CPU per second" for k, v in app.idle_cpu.items())
        + " with nothing to do. The fake Slack API's CPU time is shown for reference: Slack's, not the bot's.",
        "",
    ]
    rows = []
    batches = [(f"`{k}`", b) for k, b in app.by_kind.items()] + [("the mix", _mix(app))]
    for name, b in batches:
        fake = b.load_cpu.get("fake Slack API", math.nan) / len(b.samples) if b.samples else math.nan
        rows.append(
            [
                name,
                str(len(b.samples)),
                f"{b.cpu_window:.1f} s",
                _per(b.cpu_per_request("serving")),
                _per(b.cpu_per_request("worker")),
                _per(b.cpu_per_request()),
                _per(fake),
            ]
        )
    for other in (res.bare, res.bare_sync):
        if other is not None and other.mix is not None:
            m = other.mix
            rows.append(
                [
                    f"the mix, {other.name}",
                    str(len(m.samples)),
                    f"{m.cpu_window:.1f} s",
                    _per(m.cpu_per_request("serving")),
                    "—",
                    _per(m.cpu_per_request()),
                    "—",
                ]
            )
    out += _table(
        ["batch", "requests", "span", "serving process", "worker process", "coordbot together", "fake Slack API"], rows
    )
    out += [
        "",
        "Per request, CPU time. A command's work after the answer (building the modal, `views.open`) "
        "runs in the serving process; a submission's and a reaction's in the worker.",
        "",
    ]
    return out


# -- parts 4 and 5: tick, renders ------------------------------------------------------------------------------------


def tick_section(r: Results) -> list[str]:
    """Part 4: the cost of one tick."""
    out = ["## 4. One tick: 1,000 due reminders among 100,000 pending, and among 1,000", ""]
    if not r.ticks:
        return [*out, "Not measured in this run.", ""]
    out += [
        "The outbox table is seeded with bulk inserts (`storage.models.OutboxItem`): the 1,000 due rows fall in "
        "the last hour, the other pending rows over the next 90 days. The tick is the bot's "
        "(`Services.outbox.tick`: batches of 100 claimed with a lease, each row then marked sent); the delivery "
        "function returns `Outcome.SENT` without any network, so the figures are the outbox's own work, not "
        "Slack's. Statements are counted with a `before_cursor_execute` listener on the engine (on SQLite this "
        "includes each transaction's `BEGIN IMMEDIATE`). Both scenarios live in separate databases and their "
        f"ticks alternate, {len(r.ticks[0].seconds)} each, so that noise on the machine falls on both alike; "
        "between ticks the rows are put back to pending.",
        "",
    ]
    rows = []
    for t in r.ticks:
        rows.append(
            [
                t.backend,
                f"{t.pending:,}",
                f"{t.due:,}",
                _s(t.time),
                ", ".join(f"{s:.3f}" for s in t.seconds),
                f"{t.sent:,}",
                f"{t.statements:,}",
                f"{t.per_reminder:.3f}",
            ]
        )
    out += _table(
        [
            "backend",
            "pending",
            "due",
            "tick (median)",
            "every tick, s",
            "sent",
            "SQL statements",
            "statements per reminder",
        ],
        rows,
    )
    out.append("")
    for backend in dict.fromkeys(t.backend for t in r.ticks):
        big, small = _tick_pair(r.ticks, backend)
        if not (big and small):
            continue
        ratio = _ratio(big.time, small.time)
        verdict = "met" if ratio <= TICK_GOAL and big.statements == small.statements else "**MISSED**"
        line = (
            f"- {backend}: 100,000 pending ÷ 1,000 pending = {ratio:.2f}× the time, statements "
            f"{big.statements:,} vs {small.statements:,}: goal {verdict}."
        )
        if big.shares.get("tick"):
            total = big.shares["tick"]
            line += (
                f" Where the time goes (cProfile of one 100,000-pending tick): claiming "
                f"{big.shares.get('claim', 0) / total:.0%}, marking each row sent in its own transaction "
                f"{big.shares.get('_finish', 0) / total:.0%}."
            )
        out.append(line)
    out.append("")
    return out


def render_section(r: Results) -> list[str]:
    """Part 5: the digest and the App Home at volume."""
    out = ["## 5. Weekly digest of a 10,000-record channel; App Home of a user owning 5,000 items", ""]
    if not r.renders:
        return [*out, "Not measured in this run.", ""]
    out += [
        "Seeded with bulk inserts. Digest channel: 4,000 requirement sheets (awaiting, confirmed this week, "
        "changes requested), 2,000 meetings (held, minutes missing, upcoming, last week's; 3 participants and "
        "2 agenda items each) and 4,000 action items (open, overdue, escalated, blocked, done this week; a "
        "third from the channel's meetings), among 50 people. App Home owner: 2,000 sheets awaiting their "
        "signature, 2,000 open action items, 500 upcoming meetings they join and 500 past meetings they host "
        "without minutes.",
        "",
        "*query + build* is what the bot does to render, without Web API calls: for the digest "
        "`DigestService.content` and `handlers.blocks.digest.digest_blocks`; for the home the counts and first "
        "page of each part from the services and `handlers.blocks.home.home`; each down to `to_dict()`. "
        "Validity: every digest block goes through `slack_sdk.models.blocks.Block.parse(...).to_dict()` and the "
        "home through `View(**...).to_dict()`, with Slack's limits of 50 blocks for a message and 100 for a view. "
        "*end to end* is, for reference, the bot's own `handlers.digest.post_digest` and `handlers.home.render` "
        "against an in-process fake Slack API (permalinks, workspace URL, the post or publish, and the fake's "
        "own Block Kit validation, all in the timed interpreter). Before this part and the tick's, the "
        "benchmark's process freezes the objects it holds (`gc.freeze()`, as `coordbot run` does once "
        "started), so that the collector's full passes walk what the timed code allocates, not the latency "
        "part's leftovers.",
        "",
    ]
    rows = []
    for x in r.renders:
        rows.append(
            [
                x.backend,
                x.surface,
                f"{x.records:,}",
                _s(x.time),
                f"{min(x.seconds):.3f}–{max(x.seconds):.3f}",
                f"{x.blocks} (≤ {x.limit})",
                "yes" if x.valid else "no: " + "; ".join(x.problems[:3]),
                _s(sorted(x.end_to_end)[len(x.end_to_end) // 2]) if x.end_to_end else "n/a",
                f"{min(x.end_to_end):.3f}–{max(x.end_to_end):.3f}" if x.end_to_end else "n/a",
            ]
        )
    out += _table(
        [
            "backend",
            "surface",
            "records",
            "query + build (median)",
            "range, s",
            "blocks",
            "valid",
            "end to end (median)",
            "range, s",
        ],
        rows,
    )
    out.append("")
    for x in r.renders:
        verdict = "met" if x.time < RENDER_GOAL and x.valid else "**MISSED**"
        line = f"- {x.surface} ({x.backend}): {_s(x.time)} median, {x.blocks} blocks: goal {verdict}."
        if max(x.seconds) >= RENDER_GOAL > x.time:
            line += f" The slowest of the {len(x.seconds)} builds took {_s(max(x.seconds))}."
        if x.where:
            line += f" Where the time goes: {x.where}."
        out.append(line)
    out.append("")
    return out


# -- part 6: memory --------------------------------------------------------------------------------------------------


def memory_section(r: Results) -> list[str]:
    """Part 6: memory."""
    out = ["## 6. Memory", ""]
    rows: list[list[str]] = []
    if r.latency:
        for app in _apps(r.latency):
            serving = ": serving process" if app.others_idle or app.others_loaded else ""
            for when, memory, others in (
                ("idle (settled after /healthz answers)", app.idle_memory, app.others_idle),
                ("after its last batch", app.loaded_memory, app.others_loaded),
            ):
                rows.append([f"{app.name}{serving}, {when}", mib(memory.get("VmHWM")), mib(memory.get("VmRSS"))])
                for other in others:
                    rows.append(
                        [
                            f"{app.name}: `{_command(other.command)}` ({other.priority}), {when}",
                            mib(other.memory.get("VmHWM")),
                            mib(other.memory.get("VmRSS")),
                        ]
                    )
    out += _table(["process (read from /proc/<pid>/status)", "peak RSS (VmHWM)", "RSS (VmRSS)"], rows)
    out.append("")
    if r.ticks:
        rows = []
        for t in r.ticks:
            heap = "n/a" if t.heap_peak_bytes is None else f"{t.heap_peak_bytes / 1024 / 1024:.1f} MiB"
            rows.append([t.backend, f"{t.pending:,}", mib(t.rss_before_kib), mib(t.rss_peak_kib), t.peak_source, heap])
        out += [
            "The tick of part 4 runs inside the benchmark's own process, which has the bot's code and "
            "libraries loaded. Its peak RSS during the tick is VmHWM read after the tick, having been reset "
            "to the current RSS just before it through /proc/self/clear_refs (`ru_maxrss` from "
            "`resource.getrusage` is the fallback where that is refused); the Python heap peak is "
            "tracemalloc's, over one more (untimed) tick.",
            "",
        ]
        out += _table(
            [
                "backend",
                "pending",
                "RSS before the tick",
                "peak RSS during the tick",
                "read from",
                "Python heap peak (tracemalloc)",
            ],
            rows,
        )
        out.append("")
    return out


def render_markdown(r: Results) -> str:
    """The whole results.md."""
    took = "" if math.isnan(r.seconds) else f", {r.seconds / 60:.1f} minutes"
    out = [
        "# Benchmark results",
        "",
        f"Run {r.started} to {r.finished}{took}, with `{r.command}` ({r.mode}). Reproduce with "
        "`python bench/run.py` (add `--quick` for a shorter run; set `BENCH_DATABASE_URL` or "
        "`TEST_DATABASE_URL` to include PostgreSQL in parts 4 and 5). The figures are from one run on a "
        "shared machine: expect some noise from run to run.",
        "",
        "## Machine",
        "",
    ]
    out += _table(["", ""], [[k, v] for k, v in r.machine.items()])
    out += ["", "## Summary", ""]
    out += summary(r)
    out.append("")
    if r.errors:
        out += ["Errors during the run: " + "; ".join(r.errors), ""]
    out += latency_section(r) + burst_section(r) + cpu_section(r) + tick_section(r) + render_section(r)
    out += memory_section(r)
    return "\n".join(out).rstrip() + "\n"
