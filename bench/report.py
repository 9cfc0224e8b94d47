"""The benchmark's results as Markdown: a summary table with the goals, then each part in detail."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.ack_breakdown import Breakdown
from bench.ack_latency import CLIENTS, EFFECTS, KINDS, TRIGGER_LIFETIME, AppRun, LatencyResult, OtherProcess, Timing
from bench.common import mib, percentile
from bench.render_time import GOAL as RENDER_GOAL
from bench.render_time import Render
from bench.tick_cost import TickRun
from handlers.http_server import SlackHTTPServer

ACK_GOAL = 1.5
TICK_GOAL = 1.5
RATE_SHORTFALL = 0.05  # at a fixed arrival rate, answering this much below the rate is not keeping up
BACKLOG_LIMIT = 1.0  # ... and neither is the last work arriving this many seconds after the last answer


@dataclass
class Results:
    """Everything one run measured."""

    started: str
    finished: str
    mode: str
    command: str
    machine: dict[str, str]
    latency: LatencyResult | None = None
    latency_shared: LatencyResult | None = None  # the same closed loop, the app sharing the load's CPUs
    latency_connect: LatencyResult | None = None
    latency_rate: LatencyResult | None = None  # at a fixed arrival rate
    breakdown: Breakdown | None = None
    ticks: list[TickRun] = field(default_factory=list)
    renders: list[Render] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def _s(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds:.3f} s"


def _met(ok: bool) -> str:
    return "yes" if ok else "**MISSED**"


def _others_kib(others: list[OtherProcess], key: str) -> int:
    """The memory of an app's other processes, summed (KiB)."""
    return sum(o.memory.get(key, 0) for o in others)


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _x(ratio: float) -> str:
    return "n/a" if math.isnan(ratio) else f"{ratio:.1f}×"


def _rate(rate: float | None) -> str:
    return f"{rate:g}" if rate is not None else "n/a"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# -- the summary ---------------------------------------------------------------------------------------------


def _reported(app: AppRun, base: AppRun, where: str = "") -> list[list[str]]:
    """Summary rows, one per kind, of an app's p99 acknowledgment beside another's (reported, not a goal)."""
    rows = []
    for kind in KINDS:
        mine, theirs = app.timings[kind].p99, base.timings[kind].p99
        rows.append([f"ack p99, `{kind}`, {CLIENTS} clients, {app.name} ÷ {base.name}{where}",
                     f"{_x(_ratio(mine, theirs))} ({_ms(mine)} ÷ {_ms(theirs)})", "(reported)", "—"])
    return rows


def summary(r: Results) -> list[str]:
    """One row per figure, with its goal and whether it was met."""
    rows: list[list[str]] = []
    if r.latency:
        res = r.latency
        for kind in KINDS:
            mine, bare = res.coordbot.timings[kind], res.bare.timings[kind]
            ratio = _ratio(mine.p99, bare.p99)
            rows.append([f"ack p99, `{kind}`, {CLIENTS} clients, {res.coordbot.name} ÷ bare Bolt",
                         f"{ratio:.1f}× ({_ms(mine.p99)} ÷ {_ms(bare.p99)})", f"≤ {ACK_GOAL}×",
                         _met(ratio <= ACK_GOAL)])
        if r.latency_shared is not None:
            shared = r.latency_shared
            rows += _reported(shared.coordbot, shared.bare, ", every CPU shared with the clients")
        for other in (res.bare_sync, res.bare_loop):
            if other is not None:
                rows += _reported(res.coordbot, other)
        if res.coordbot_one is not None:
            rows += _reported(res.coordbot_one, res.bare)
        for app in (res.coordbot, res.coordbot_one):
            if app is None:
                continue
            for kind in KINDS:
                t = app.timings[kind]
                rows.append([f"work done p99 (request sent → {EFFECTS[kind][0]} at Slack), `{kind}`, "
                             f"{CLIENTS} clients, {app.name}",
                             f"{_ms(t.effect_p99)}; the last {_s(t.effect_tail)} after the last ack"
                             + (f" ({t.unmatched} not found)" if t.unmatched else "")
                             + (f"; {t.late(TRIGGER_LIFETIME)} of {len(t.effects)} later than {TRIGGER_LIFETIME:g} s "
                                "(Slack's trigger_id lifetime)" if kind == "/requirement" else ""),
                             "(reported)", "—"])
    if r.latency_rate:
        res = r.latency_rate
        for kind in KINDS:
            mine, bare = res.coordbot.timings[kind], res.bare.timings[kind]
            rows.append([f"ack p99 at a fixed {_rate(res.rate)} requests/s, `{kind}`, {res.coordbot.name} ÷ bare Bolt",
                         f"{_x(_ratio(mine.p99, bare.p99))} ({_ms(mine.p99)} ÷ {_ms(bare.p99)}); "
                         f"work done p99 {_ms(mine.effect_p99)}"
                         + (f"; {mine.late(TRIGGER_LIFETIME)} of {len(mine.effects)} later than "
                            f"{TRIGGER_LIFETIME:g} s" if kind == "/requirement" else ""), "(reported)", "—"])
    for backend in dict.fromkeys(t.backend for t in r.ticks):
        big, small = _tick_pair(r.ticks, backend)
        if big and small:
            ratio = _ratio(big.time, small.time)
            rows.append([f"tick, 1,000 due among 100,000 ÷ among 1,000 pending ({backend})",
                         f"{ratio:.2f}× ({_s(big.time)} ÷ {_s(small.time)})", f"≤ {TICK_GOAL}×",
                         _met(ratio <= TICK_GOAL)])
            rows.append([f"SQL statements per reminder, 100,000 vs 1,000 pending ({backend})",
                         f"{big.per_reminder:.3f} vs {small.per_reminder:.3f}", "constant",
                         _met(big.statements == small.statements)])
    for render in r.renders:
        rows.append([f"{render.surface}, {render.records:,} records ({render.backend})",
                     f"{_s(render.time)}, {render.blocks} blocks, {'valid' if render.valid else 'INVALID'}",
                     f"< {RENDER_GOAL} s, ≤ {render.limit} blocks, valid",
                     _met(render.time < RENDER_GOAL and render.valid)])
    if r.latency:
        app = r.latency.coordbot
        idle = app.idle_memory
        others = _others_kib(app.others_idle, "VmHWM")
        rows.append([f"peak RSS of an idle `coordbot run` (VmHWM), {app.name}",
                     mib(idle.get("VmHWM")) + (f" serving process + {mib(others)} in {len(app.others_idle)} other "
                                               "process(es)" if app.others_idle else ""), "(reported)", "—"])
    for tick in r.ticks:
        if tick.pending == 100_000:
            rows.append([f"peak RSS during the 100,000-pending tick ({tick.backend}, {tick.peak_source})",
                         f"{mib(tick.rss_peak_kib)} (before: {mib(tick.rss_before_kib)})", "(reported)", "—"])
    return _table(["figure", "result", "goal", "met"], rows)


def _tick_pair(ticks: list[TickRun], backend: str) -> tuple[TickRun | None, TickRun | None]:
    big = next((t for t in ticks if t.backend == backend and t.pending == 100_000), None)
    small = next((t for t in ticks if t.backend == backend and t.pending != 100_000), None)
    return big, small


# -- the parts -------------------------------------------------------------------------------------------------


def latency_section(r: Results) -> list[str]:
    """Part 1: acknowledgment latency, and when the work after each acknowledgment was done."""
    out = [f"## 1. Acknowledgment latency at {CLIENTS} concurrent clients, and when the work is done", ""]
    if not r.latency:
        return [*out, "Not measured in this run.", ""]
    res = r.latency
    one = res.coordbot_one
    out += [
        f"{res.requests} timed requests of each kind after {res.warmup} warm-up requests, from {CLIENTS} client "
        "threads. The app under test is `coordbot run` (HTTP mode, its scheduler on, SQLite in a temporary "
        "directory) or a bare Bolt app whose three listeners only call `ack()`; both call the same fake Slack "
        "Web API (tests/fakes/slack_api.py), which runs in a process of its own. Requests are built and signed "
        "by tests/fakes/driver.py. The bare app runs with Bolt's defaults for HTTP "
        "(`process_before_response=False`: each listener runs on Bolt's listener pool while the request's "
        "thread polls every 10 ms for its `ack()`), served by `handlers.http_server.SlackHTTPServer`, a thread "
        "per connection. coordbot's serving process (by default) runs each listener only up to its `ack()` "
        "(`process_before_response=True`) and is served by `handlers.http_loop.SlackLoopServer`, which answers "
        "every request in turn from one event loop thread; in one process (`COORDBOT_WORKERS=0`) it is served "
        "by `SlackHTTPServer` like the bare app. Two more bare apps in the persistent-connection table are "
        "baselines configured like coordbot's serving process: with `process_before_response=True` on "
        "`SlackHTTPServer`, and with it on `SlackLoopServer`; the goal is measured against the first bare app, "
        "Bolt as it comes.",
        "",
        f"`coordbot run` is measured in two configurations. **{res.coordbot.name}** is the default "
        "(`COORDBOT_WORKERS=1`): the serving process checks the signature, the duplicate and the input, "
        "answers, and hands the request to a worker process it starts, which does the work after the answer "
        "at the lowest CPU priority (`COORDBOT_WORKER_NICE`, by default `idle`: Linux's SCHED_IDLE). "
        + (f"**{one.name}** runs the listeners and their work in the serving process itself. " if one else "")
        + "The goal rows of the summary are for the default configuration"
        + ("; the one-process figures are shown beside them for comparison." if one else "."),
        "",
        "- `/requirement`: the slash command without text; coordbot acknowledges, then builds and opens the "
        "sheet's modal (`views.open`).",
        "- `view_submission`: each modal opened above submitted once with valid values; coordbot validates, "
        "acknowledges, then stores the record and posts the sheet (`chat.postMessage`).",
        "- `reaction_added`: ✅ by the receiving owner on each posted sheet; coordbot acknowledges, then signs "
        "and updates the sheet (`chat.update`).",
        "",
        "**Columns.** *ack* is the time from sending a request to reading its HTTP answer. *work done* is the "
        "time from sending a request to the moment the fake Slack API received the Web API call that completes "
        "the work after its acknowledgment: "
        + "; ".join(f"for `{kind}` the {EFFECTS[kind][2]}" for kind in KINDS)
        + ". The fake records when each call arrived and the client when it sent each request, both with the "
        "wall clock (`time.time()`) of the same machine. *last work after last ack* is how long after the "
        "batch's last acknowledgment the last of these calls arrived: how far the work trails the answers "
        "when the batch ends. An acknowledgment says that a request was accepted, not that its work is done; "
        "when the work runs elsewhere, or waits for a free thread, the answers can run ahead of it, and these "
        "columns show by how much. In a closed loop (below) nothing slows the clients when the answers come "
        "faster than the work is done: the work queues, and how far it trails grows with the length of the "
        f"batch ({res.requests} requests here). *work done* can be shorter than *ack*, and *last work after last ack* "
        "negative: the work may reach the Slack API before the client has read the answer, since Bolt's "
        "request thread waits for the listener's `ack()` by polling. The bare app does no work after "
        "acknowledging, so it has no *work done*. All the work of every batch is waited for before the next "
        "batch starts.",
        "",
        "**Closed loop.** In the first two tables each client thread sends its next request as soon as the "
        f"previous one is answered, so {CLIENTS} requests are always in flight and the app runs flat out: the "
        f"request rate is whatever the app can answer. A request's time is then mostly waiting behind the "
        f"other {CLIENTS - 1}, and on average it equals {CLIENTS} ÷ the rate (Little's law; the lines below "
        "each table compare the two). So at saturation the ratio of two apps' latencies mirrors the inverse "
        "ratio of their throughputs: it tells how many requests per second each app answers on this machine "
        "(what an answer costs, and whatever else competes with it for the two cores, such as the work after "
        "earlier answers), not how long one request waits when the app is not flat out. The p99 adds the "
        "unevenness of that waiting. The table at a fixed arrival rate answers the second question.",
        "",
        "**CPUs.** The clients and the fake Slack API are the benchmark's load, standing in for Slack: in "
        "production they run on Slack's machines, not on the bot's. Unless a table says otherwise, they run "
        "on half of this machine's CPUs and the app under test, with every process it starts, on the other "
        f"half ({res.cpus}), so that the load generator does not take the app's CPU time. The second table "
        "repeats the first closed loop with every CPU shared, as this benchmark used to run. There a bare "
        f"Bolt app's {CLIENTS} request threads, and coordbot's one event loop thread, compete with the "
        f"{CLIENTS} client threads and the fake for the same two CPUs, and the scheduler shares a CPU between "
        "threads, not between programs: a server answering from one thread gets a smaller share of it, the "
        "more threads the load runs beside it.",
        "",
    ]
    parts = (("Closed loop, persistent connections (one HTTP/1.1 connection per client thread)", res),
             ("Closed loop, persistent connections, every CPU shared by the app and the load", r.latency_shared),
             ("Closed loop, a new TCP connection per request (as urllib and the test driver do)", r.latency_connect))
    for title, result in parts:
        if result is None:
            continue
        out += [f"### {title}", "", f"CPUs: {result.cpus}.", ""]
        out += _latency_table(result)
        out += _saturation_lines(result)
        out += _app_lines(result)
        if result.bare_wide is not None:
            out += _backlog_lines(result)
        elif not result.keep_alive:
            out += [f"`SlackHTTPServer` listens with a backlog of {SlackHTTPServer.request_queue_size} pending "
                    f"connections, enough for the {CLIENTS} clients connecting at once.", ""]
    if r.latency_rate is not None:
        out += _rate_section(r.latency_rate)
    out += _latency_verdict(r)
    return out


def _apps(result: LatencyResult) -> list[AppRun]:
    return [app for app in (result.coordbot, result.coordbot_one, result.bare, result.bare_sync, result.bare_loop)
            if app is not None]


def _failed(t: Timing) -> int:
    return sum(n for status, n in t.statuses.items() if status != 200)


def _work(t: Timing) -> list[str]:
    """Work-done columns: p50, p99, max, and the tail after the last acknowledgment."""
    if not t.effect_call:
        return ["—", "—", "—", "—"]
    if not t.effects:
        return ["not found", "not found", "not found", "n/a"]
    missing = f" ({t.unmatched} not found)" if t.unmatched else ""
    return [_ms(t.effect_p50), _ms(t.effect_p99), _ms(t.effect_max) + missing, _s(t.effect_tail)]


def _latency_table(result: LatencyResult) -> list[str]:
    rows = []
    for kind in KINDS:
        bare = result.bare.timings[kind]
        for app in _apps(result):
            t = app.timings[kind]
            rows.append([f"`{kind}`", app.name, _ms(t.p50), _ms(t.p99), _ms(t.worst),
                         _x(_ratio(t.p99, bare.p99)), f"{t.rate:.0f}", str(_failed(t)), *_work(t)])
    header = ["request", "app", "ack p50", "ack p99", "ack max", "ack p99 ÷ bare", "requests/s", "failed",
              "work done p50", "work done p99", "work done max", "last work after last ack"]
    return [*_table(header, rows), ""]


def _saturation_lines(result: LatencyResult) -> list[str]:
    """Little's law at saturation: mean answer time beside clients ÷ rate, and the ratios it implies."""
    out = [f"At saturation: each app's mean ack beside {CLIENTS} ÷ its requests/s; then its mean ack ÷ bare "
           "Bolt's beside bare Bolt's requests/s ÷ its own:", ""]
    for kind in KINDS:
        bare = result.bare.timings[kind]
        parts = []
        for app in _apps(result):
            t = app.timings[kind]
            parts.append(f"{app.name} {_ms(t.mean)} vs {_ms(CLIENTS / t.rate if t.rate else math.nan)}")
        ratios = [f"{app.name} {_x(_ratio(app.timings[kind].mean, bare.mean))} vs "
                  f"{_x(_ratio(bare.rate, app.timings[kind].rate))}" for app in _apps(result) if app is not result.bare]
        out.append(f"- `{kind}`: " + "; ".join(parts) + ". Ratios: " + "; ".join(ratios) + ".")
    return [*out, ""]


def _late_views(app: AppRun) -> str | None:
    """How many modals opened after a real trigger_id would have expired."""
    t = app.timings.get("/requirement")
    if t is None or not t.effects:
        return None
    return (f"{t.late(TRIGGER_LIFETIME)} of {len(t.effects)} `views.open` calls came more than "
            f"{TRIGGER_LIFETIME:g} s after their command (Slack's trigger_id lifetime; the fake here does not "
            "enforce it, Slack would refuse them)")


def _processes(app: AppRun) -> str:
    if not app.others_idle:
        return "no process besides the serving one"
    return "besides the serving process: " + ", ".join(
        f"`{o.command[:80]}` ({o.priority})" for o in app.others_idle)


def _app_lines(result: LatencyResult) -> list[str]:
    out = []
    for app in (result.coordbot, result.coordbot_one):
        if app is None:
            continue
        calls = ", ".join(f"{method} {n}" for method, n in sorted(app.api_calls.items())) or "none"
        failed = ", ".join(f"{method} {n}" for method, n in sorted(app.api_failed.items())) or "none"
        line = (f"- {app.name}: {_processes(app)}. Web API calls during the batches: {calls}; failed: {failed}; "
                f"Block Kit validation errors: {app.validation_errors}"
                + (f" (the last: {'; '.join(app.validation_examples)})" if app.validation_examples else "") + ".")
        late = _late_views(app)
        if late:
            line += f" {late}."
        if app.notes:
            line += " Notes: " + "; ".join(app.notes) + "."
        out.append(line)
    if result.coordbot.env == {} and not result.coordbot.others_idle:
        out.append("- No worker process was found beside `coordbot run` in the default configuration: its "
                   "figures here are those of one process.")
    failures_by = {f"{app.name} {kind}": dict(app.timings[kind].failures)
                   for app in _apps(result) for kind in KINDS if app.timings[kind].failures}
    if failures_by:
        out.append(f"- Failed requests by reason: {failures_by}.")
    if result.bare.notes:
        out.append("- Notes on bare Bolt: " + "; ".join(result.bare.notes) + ".")
    return [*out, ""]


def _rate_section(result: LatencyResult) -> list[str]:
    rate = _rate(result.rate)
    out = [f"### Fixed arrival rate {rate}/s, persistent connections", "", f"CPUs: {result.cpus}.", "",
           f"Each kind's requests are sent at a fixed rate of {rate} per second, whatever the answers: request i "
           f"is planned for start + i ÷ {rate} s and sent then by whichever of the {CLIENTS} client threads is "
           "free (each keeps one connection). Its time (ack, and work done) counts from that planned time, so "
           "when all clients are still waiting for answers, the wait for a free client is part of it. This is "
           "how requests reach a bot from people working independently. The rate is meant to be one the default "
           "configuration keeps up with on this machine (said below for this run), so that the figures show "
           "the latency of a busy app that is not saturated. *answered/s* is the rate actually achieved. "
           "*work done p50, first → last quarter* "
           "compares the first and the last quarter of the batch: when the work keeps up with the rate the two "
           "are alike; when it falls behind, the work queues and the last quarter's is larger.", ""]
    rows = []
    for kind in KINDS:
        bare = result.bare.timings[kind]
        for app in _apps(result):
            t = app.timings[kind]
            first, last = t.effect_quarters()
            trend = f"{_ms(first)} → {_ms(last)}" if t.effect_call else "—"
            rows.append([f"`{kind}`", app.name, _ms(t.p50), _ms(t.p99), _ms(t.worst), _x(_ratio(t.p99, bare.p99)),
                         f"{t.rate:.0f}", str(_failed(t)), *_work(t)[:3], trend, _work(t)[3]])
    out += _table(["request", "app", "ack p50", "ack p99", "ack max", "ack p99 ÷ bare", "answered/s", "failed",
                   "work done p50", "work done p99", "work done max", "work done p50, first → last quarter",
                   "last work after last ack"], rows)
    out += ["", _kept_up(result), "", f"At {rate} requests/s, the p99 acknowledgment of {result.coordbot.name} is "
            + "; ".join(f"{_x(_ratio(result.coordbot.timings[k].p99, result.bare.timings[k].p99))} bare Bolt's "
                        f"for `{k}`" for k in KINDS)
            + " (reported, not a goal: the goal is set for the closed loop).", ""]
    out += _app_lines(result)
    return out


def _kept_up(result: LatencyResult) -> str:
    """Whether the default configuration kept up with the fixed rate: its answers, and its work."""
    assert result.rate is not None
    app, rate = result.coordbot, result.rate
    slow = [k for k in KINDS if app.timings[k].rate < (1 - RATE_SHORTFALL) * rate]
    behind = [k for k in KINDS if not app.timings[k].effect_tail <= BACKLOG_LIMIT]
    if not slow and not behind:
        return (f"{app.name} kept up with {_rate(rate)} requests/s of each kind in this run: it answered within "
                f"{RATE_SHORTFALL:.0%} of that rate and, for every kind, its last work reached the Slack API at "
                f"most {BACKLOG_LIMIT:g} s after its last answer.")
    parts = []
    if slow:
        parts.append("answered more than " + f"{RATE_SHORTFALL:.0%} below that rate for "
                     + ", ".join(f"`{k}`" for k in slow))
    if behind:
        parts.append(f"finished its work more than {BACKLOG_LIMIT:g} s after its last answer (or not at all) for "
                     + ", ".join(f"`{k}`" for k in behind))
    return (f"{app.name} did **not** keep up with {_rate(rate)} requests/s of each kind in this run: it "
            + "; it ".join(parts) + ". For those kinds the figures are those of an app falling behind the rate "
            "(set by `OPEN_RATE` in bench/ack_latency.py), not of a busy one keeping up.")


def _backlog_lines(result: LatencyResult) -> list[str]:
    """The same bare app with a wider listen backlog: what connection setup costs at 16 clients."""
    assert result.bare_wide is not None
    wide, bare = result.bare_wide, result.bare
    default = SlackHTTPServer.request_queue_size  # what the bare app listened with in the first run
    figures = ", ".join(f"`{k}` p99 {_ms(wide.timings[k].p99)} (backlog {default}: {_ms(bare.timings[k].p99)})"
                        for k in KINDS)
    out = [f"The bare app again, with a new connection per request but a listen backlog of "
           f"{wide.name.rsplit(' ', 1)[-1]}: {figures}."]
    if all(bare.timings[k].p99 >= 0.9 and wide.timings[k].p99 < 0.2 for k in KINDS):
        out.append("So the p99 near one second in this table, for bare Bolt as for coordbot, is connection "
                   f"setup: `SlackHTTPServer` listens with a backlog of {default} "
                   f"(`request_queue_size`); when {CLIENTS} clients connect at once some connections are refused "
                   "or dropped, and the client's TCP tries again a second later (or gives up: the resets above).")
    return [*out, ""]


def _latency_verdict(r: Results) -> list[str]:
    assert r.latency is not None
    res = r.latency
    missed = [k for k in KINDS if _ratio(res.coordbot.timings[k].p99, res.bare.timings[k].p99) > ACK_GOAL]
    out = ["### Goal and where the time goes", ""]
    if not missed:
        out += [f"Goal met: with persistent connections ({res.cpus}), every p99 acknowledgment of "
                f"{res.coordbot.name} is within {ACK_GOAL}× of bare Bolt's.", ""]
    else:
        out += ["Goal **missed** for " + ", ".join(f"`{k}`" for k in missed)
                + f": the p99 acknowledgment of {res.coordbot.name} is more than {ACK_GOAL}× bare Bolt's at "
                f"{CLIENTS} concurrent clients with persistent connections ({res.cpus}).", ""]
    shared = r.latency_shared
    if shared is not None:
        out += ["With every CPU shared by the app and the load (reported, not the goal): "
                + "; ".join(f"`{k}` {_x(_ratio(shared.coordbot.timings[k].p99, shared.bare.timings[k].p99))}"
                            for k in KINDS) + " of bare Bolt's p99.", ""]
    if res.coordbot_one is not None:
        one = res.coordbot_one
        out += [f"For comparison, {one.name}: "
                + "; ".join(f"`{k}` {_x(_ratio(one.timings[k].p99, res.bare.timings[k].p99))}" for k in KINDS)
                + " of bare Bolt's p99. With a worker, the work after each acknowledgment is done "
                + "; ".join(f"for `{k}` at p99 {_ms(res.coordbot.timings[k].effect_p99)} after the request "
                            f"(one process: {_ms(one.timings[k].effect_p99)})" for k in KINDS) + ".", ""]
    b = r.breakdown
    if b is None:
        return out
    out += ["An instrumented rerun of the one-process configuration (the same batches against coordbot built "
            "in-process as tests/conftest.py builds it, without a worker, persistent connections; the clients "
            "share that interpreter, so read the shares, not the absolute values) timed two steps on the way "
            "to each acknowledgment:", ""]
    for kind in KINDS:
        if kind in b.acks:
            out.append(f"- `{kind}`: {b.line(kind)}.")
    out.append("")
    for kind in KINDS:
        if kind not in b.acks:
            continue
        ack99 = b.acks[kind].p99
        claim99 = percentile(b.claims.get(kind) or [], 99)
        wait99 = percentile(b.waits.get(kind) or [], 99)
        if b.claims.get(kind) and claim99 >= 0.5 * ack99:
            out.append(f"- `{kind}`: most of the p99 is spent inside the idempotency middleware "
                       "(handlers/dedupe.py). A first delivery is claimed in memory and recorded on a background "
                       "thread, so at p50 this costs nothing; the p99 is the request thread waiting for the "
                       "interpreter while other requests' work after their acknowledgment (parsing dates, "
                       "storing records, the Web API calls) holds it.")
        elif b.waits.get(kind) and wait99 >= 0.5 * ack99:
            out.append(f"- `{kind}`: most of the p99 is waiting for one of the {b.workers} listener threads. A "
                       "listener acknowledges and then keeps its thread for the work after the acknowledgment "
                       "(building the modal, the Web API call), so under a burst the next request's "
                       "acknowledgment waits for that work.")
        else:
            out.append(f"- `{kind}`: neither the idempotency claim nor the wait for a listener thread accounts for "
                       "most of the p99; the rest is the listener's own code and the interpreter shared with the "
                       "work after earlier acknowledgments.")
    out.append("")
    return out


def tick_section(r: Results) -> list[str]:
    """Part 2: the cost of one tick."""
    out = ["## 2. One tick: 1,000 due reminders among 100,000 pending, and among 1,000", ""]
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
        rows.append([t.backend, f"{t.pending:,}", f"{t.due:,}", _s(t.time),
                     ", ".join(f"{s:.3f}" for s in t.seconds), f"{t.sent:,}", f"{t.statements:,}",
                     f"{t.per_reminder:.3f}"])
    out += _table(["backend", "pending", "due", "tick (median)", "every tick, s", "sent", "SQL statements",
                   "statements per reminder"], rows)
    out.append("")
    for backend in dict.fromkeys(t.backend for t in r.ticks):
        big, small = _tick_pair(r.ticks, backend)
        if not (big and small):
            continue
        ratio = _ratio(big.time, small.time)
        verdict = "met" if ratio <= TICK_GOAL and big.statements == small.statements else "**MISSED**"
        line = (f"- {backend}: 100,000 pending ÷ 1,000 pending = {ratio:.2f}× the time, statements "
                f"{big.statements:,} vs {small.statements:,}: goal {verdict}.")
        if big.shares.get("tick"):
            total = big.shares["tick"]
            line += (f" Where the time goes (cProfile of one 100,000-pending tick): claiming "
                     f"{big.shares.get('claim', 0) / total:.0%}, marking each row sent in its own transaction "
                     f"{big.shares.get('_finish', 0) / total:.0%}.")
        out.append(line)
    out.append("")
    return out


def render_section(r: Results) -> list[str]:
    """Part 3: the digest and the App Home at volume."""
    out = ["## 3. Weekly digest of a 10,000-record channel; App Home of a user owning 5,000 items", ""]
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
        "parts' leftovers.",
        "",
    ]
    rows = []
    for x in r.renders:
        rows.append([x.backend, x.surface, f"{x.records:,}", _s(x.time),
                     f"{min(x.seconds):.3f}–{max(x.seconds):.3f}", f"{x.blocks} (≤ {x.limit})",
                     "yes" if x.valid else "no: " + "; ".join(x.problems[:3]),
                     _s(sorted(x.end_to_end)[len(x.end_to_end) // 2]) if x.end_to_end else "n/a",
                     f"{min(x.end_to_end):.3f}–{max(x.end_to_end):.3f}" if x.end_to_end else "n/a"])
    out += _table(["backend", "surface", "records", "query + build (median)", "range, s", "blocks", "valid",
                   "end to end (median)", "range, s"], rows)
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


def memory_section(r: Results) -> list[str]:
    """Part 4: memory."""
    out = ["## 4. Memory", ""]
    rows: list[list[str]] = []
    if r.latency:
        for app in _apps(r.latency):
            serving = ": serving process" if app.others_idle or app.others_loaded else ""
            for when, memory, others in (("idle (settled after /healthz answers)", app.idle_memory, app.others_idle),
                                         ("after the latency batches", app.loaded_memory, app.others_loaded)):
                rows.append([f"{app.name}{serving}, {when}", mib(memory.get("VmHWM")), mib(memory.get("VmRSS"))])
                for other in others:
                    rows.append([f"{app.name}: `{other.command[:60]}` ({other.priority}), {when}",
                                 mib(other.memory.get("VmHWM")), mib(other.memory.get("VmRSS"))])
    out += _table(["process (read from /proc/<pid>/status)", "peak RSS (VmHWM)", "RSS (VmRSS)"], rows)
    out.append("")
    if r.ticks:
        rows = []
        for t in r.ticks:
            heap = "n/a" if t.heap_peak_bytes is None else f"{t.heap_peak_bytes / 1024 / 1024:.1f} MiB"
            rows.append([t.backend, f"{t.pending:,}", mib(t.rss_before_kib), mib(t.rss_peak_kib), t.peak_source, heap])
        out += ["The tick of part 2 runs inside the benchmark's own process, which has the bot's code and "
                "libraries loaded. Its peak RSS during the tick is VmHWM read after the tick, having been reset "
                "to the current RSS just before it through /proc/self/clear_refs (`ru_maxrss` from "
                "`resource.getrusage` is the fallback where that is refused); the Python heap peak is "
                "tracemalloc's, over one more (untimed) tick.", ""]
        out += _table(["backend", "pending", "RSS before the tick", "peak RSS during the tick", "read from",
                       "Python heap peak (tracemalloc)"], rows)
        out.append("")
    return out


def render_markdown(r: Results) -> str:
    """The whole results.md."""
    out = ["# Benchmark results", "",
           f"Run {r.started} to {r.finished} with `{r.command}` ({r.mode}). Reproduce with "
           "`python bench/run.py` (add `--quick` for a shorter run; set `BENCH_DATABASE_URL` or "
           "`TEST_DATABASE_URL` to include PostgreSQL). The figures are from one run on a shared machine: "
           "expect some noise from run to run.", "",
           "## Machine", ""]
    out += _table(["", ""], [[k, v] for k, v in r.machine.items()])
    out += ["", "## Summary", ""]
    out += summary(r)
    out.append("")
    if r.errors:
        out += ["Errors during the run: " + "; ".join(r.errors), ""]
    out += latency_section(r) + tick_section(r) + render_section(r) + memory_section(r)
    return "\n".join(out).rstrip() + "\n"
