"""Acknowledge in one process, work in another (handlers.handoff): frames, the split, `coordbot run` with a worker."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from slack_bolt import BoltRequest
from slack_bolt.listener.listener import Listener
from sqlalchemy import event

from bot.cli import main
from bot.config import ConfigError, Settings
from bot.text import t
from handlers import dedupe as dedupe_handlers
from handlers.handoff import MAX_FRAME, Forwarder, decode, encode, read_frames, received_at
from storage.models import ProcessedEvent, Requirement
from tests.conftest import SIGNING_SECRET, START, Bot
from tests.fakes.driver import SlackDriver
from tests.fakes.slack_api import ALICE, BOB, GENERAL, FakeSlack
from tests.helpers import SHEET_VALUES, block_text, create_sheet, settle, wait_until
from tests.processes import ROOT, alive, children, start_run
from tests.test_robustness import CASES, Case
from tests.test_trust import signatures

# -- frames ------------------------------------------------------------------------------------------------


def test_a_frame_carries_the_request_and_when_it_arrived() -> None:
    raw = "command=%2Frequirement&text=%E4%B8%8B%E5%91%A8%E4%BA%94+%00+%3C%21channel%3E&user_id=U1"
    request = BoltRequest(body=raw, headers={"content-type": ["application/x-www-form-urlencoded"],
                                             "x-slack-retry-num": ["1"]})
    frame = encode(request, START)
    [data] = list(read_frames(io.BytesIO(frame)))
    copy = decode(data)
    assert copy.body == request.body and copy.body["text"] == "下周五 \x00 <!channel>"
    assert copy.mode == "socket_mode"  # nothing to verify again: it comes from the serving process
    assert copy.headers["x-slack-retry-num"] == ["1"]
    assert received_at(copy) == START
    assert received_at(request) is None  # a request straight from Slack carries no such time


def test_a_frame_keeps_any_string_json_can_hold() -> None:
    body = {"type": "event_callback", "event": {"text": "half \ud83d, nul \x00, 下周五 😀"}, "n": [1, 2.5, None, True]}
    request = BoltRequest(body=body, headers={"content-type": ["application/json"]}, mode="socket_mode")
    [data] = list(read_frames(io.BytesIO(encode(request, START))))
    assert decode(data).body == body


def test_frames_follow_each_other_and_a_cut_stream_ends_quietly() -> None:
    first = encode(BoltRequest(body='{"type":"event_callback","event_id":"Ev1"}',
                               headers={"content-type": ["application/json"]}), START)
    second = encode(BoltRequest(body='{"type":"event_callback","event_id":"Ev2"}',
                                headers={"content-type": ["application/json"]}), START)
    stream = io.BytesIO(first + second + second[:7])
    assert [decode(d).body["event_id"] for d in read_frames(stream)] == ["Ev1", "Ev2"]
    with pytest.raises(ValueError):
        list(read_frames(io.BytesIO((MAX_FRAME + 1).to_bytes(4, "big") + b"{}")))


# -- the forwarder: frames into the worker's pipe ---------------------------------------------------------

# A stand-in worker: waits for its go file, then writes each frame's event_id to its output, one per line;
# with a `die_after` count (on its first run only) it exits after that many frames.
STAND_IN = """
import os, sys, time
from handlers.handoff import decode, read_frames
out, go, die_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
first = not os.path.exists(out + ".ran")
open(out + ".ran", "a").close()
while not os.path.exists(go):
    time.sleep(0.01)
with open(out, "a") as f:
    for n, data in enumerate(read_frames(sys.stdin.buffer), 1):
        f.write(decode(data).body["event_id"] + "\\n")
        f.flush()
        if first and n == die_after:
            os._exit(1)
"""


def _event(i: int) -> BoltRequest:
    body = {"type": "event_callback", "event_id": f"Ev{i:04d}", "padding": "x" * 20_000}  # a large modal's size
    return BoltRequest(body=body, headers={"content-type": ["application/json"]}, mode="socket_mode")


def _stand_in(tmp_path: Path, die_after: int = 0) -> tuple[Forwarder, Path, Path]:
    out, go = tmp_path / "received", tmp_path / "go"
    command = [sys.executable, "-c", STAND_IN, str(out), str(go), str(die_after)]
    return Forwarder(command, now=lambda: START, restart_delay=0.1), out, go


def _received(out: Path) -> list[str]:
    return out.read_text().split() if out.exists() else []


def test_sending_never_waits_for_a_worker_that_is_behind(tmp_path: Path) -> None:
    forwarder, out, go = _stand_in(tmp_path)
    forwarder.start()
    try:
        for i in range(200):  # 4 MB: more than the pipe holds while the worker reads nothing
            forwarder.send(_event(i))
        assert forwarder.waiting() > 0  # the rest waits in memory, not in send()
        go.touch()
        wait_until(lambda: len(_received(out)) == 200, timeout=30)
        assert _received(out) == [f"Ev{i:04d}" for i in range(200)]  # whole, once, in order
        assert forwarder.waiting() == 0
    finally:
        forwarder.close()


def test_a_worker_that_dies_mid_stream_is_replaced_and_no_frame_arrives_torn(tmp_path: Path) -> None:
    forwarder, out, go = _stand_in(tmp_path, die_after=50)
    go.touch()
    forwarder.start()
    try:
        for i in range(200):
            forwarder.send(_event(i))
        wait_until(lambda: (_received(out) or [""])[-1] == "Ev0199", timeout=30)
    finally:
        forwarder.close()
    got = _received(out)
    # the first worker read 50 frames; what sat unread in its pipe went with it (Slack had its answers);
    # every frame after that reached the new worker whole, in order, and none twice
    assert got[:50] == [f"Ev{i:04d}" for i in range(50)]
    rest = got[50:]
    start = int(rest[0][2:])
    assert rest == [f"Ev{i:04d}" for i in range(start, 200)]


def test_closing_lets_the_worker_finish_what_it_was_sent(tmp_path: Path) -> None:
    forwarder, out, go = _stand_in(tmp_path)
    forwarder.start()
    for i in range(100):
        forwarder.send(_event(i))
    go.touch()
    forwarder.close()
    assert _received(out) == [f"Ev{i:04d}" for i in range(100)]


def test_workers_are_zero_or_one_and_their_priority_idle_or_a_nice_value() -> None:
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert Settings.from_env(base).workers == 1
    assert Settings.from_env({**base, "COORDBOT_WORKERS": "0"}).workers == 0
    with pytest.raises(ConfigError, match="run more replicas"):
        Settings.from_env({**base, "COORDBOT_WORKERS": "2"})
    assert Settings.from_env(base).worker_nice == "idle"
    assert Settings.from_env({**base, "COORDBOT_WORKER_NICE": "IDLE"}).worker_nice == "idle"
    assert Settings.from_env({**base, "COORDBOT_WORKER_NICE": "10"}).worker_nice == 10
    for wrong in ("20", "-1", "low"):
        with pytest.raises(ConfigError, match="idle or a nice value between 0 and 19"):
            Settings.from_env({**base, "COORDBOT_WORKER_NICE": wrong})


@pytest.mark.parametrize(("setting", "policy", "nice"), [("idle", "SCHED_IDLE", 0), (7, "SCHED_OTHER", 7)])
def test_the_worker_lowers_its_own_priority(setting: int | str, policy: str, nice: int) -> None:
    code = ("import os; from handlers.handoff import lower_priority; "
            f"lower_priority({setting!r}); print(os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == [str(getattr(os, policy)), str(os.getpriority(os.PRIO_PROCESS, 0) + nice)]


# -- the split: the serving app answers, the worker app works -----------------------------------------------


@pytest.mark.parametrize("bot_mode", ["handoff"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_serving_loop_answers_without_slack_or_the_database_and_hands_off_once(bot: Bot, case: Case) -> None:
    assert bot.worker is not None
    send = case.prepare(bot)
    calls = settle(bot)
    # the serving process answers every request in turn on its event loop thread: a query there would hold
    # up everybody's answer (retries and health checks, which may query, are answered on helper threads)
    on_the_loop: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.current_thread().name == "slack-http":
            on_the_loop.append(statement)

    event.listen(bot.runtime.engine, "before_cursor_execute", seen)
    try:
        with bot.worker.held() as handed:
            reply = send()
            assert reply.status == 200, reply.body
            expected = 0 if case.answer == "errors" else 1
            if expected:
                wait_until(lambda: handed, what="the request handed to the worker")
            time.sleep(0.1)  # nothing more arrives
            assert len(handed) == expected, case.name
            assert len(bot.fake.calls()) == calls, [c.method for c in bot.fake.calls()[calls:]]
    finally:
        event.remove(bot.runtime.engine, "before_cursor_execute", seen)
    assert on_the_loop == [], on_the_loop
    if case.answer == "closed":
        assert reply.json() is None
    elif case.answer == "errors":
        assert (reply.json() or {}).get("response_action") == "errors"


@pytest.mark.parametrize("bot_mode", ["handoff"])
def test_events_go_to_the_worker_without_meeting_the_serving_listeners(bot: Bot,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert bot.worker is not None
    sheet = create_sheet(bot)
    settle(bot)
    tried: list[str] = []
    real = Listener.matches

    def counted(self: Listener, *, req: BoltRequest, resp: Any) -> bool:
        tried.append(req.body.get("type") or "command")
        return real(self, req=req, resp=resp)

    monkeypatch.setattr(Listener, "matches", counted)
    with bot.worker.held() as handed:
        assert bot.slack.react("white_check_mark", channel=GENERAL, ts=sheet["ts"], user=BOB).status == 200
        assert len(handed) == 1
        assert tried == []  # not one listener of the serving app was tried
    wait_until(lambda: "event_callback" in tried, what="the worker matching the event")
    wait_until(lambda: len(signatures(bot)) == 1, what="the signature")


@pytest.mark.parametrize("bot_mode", ["handoff"])
def test_the_worker_handles_a_request_as_of_its_arrival(bot: Bot) -> None:
    assert bot.worker is not None
    with bot.worker.held() as handed:
        sheet_opened = bot.slack.slash("/requirement", "", user=ALICE, channel=GENERAL)
        assert sheet_opened.status == 200
        wait_until(lambda: handed)
    bot.fake.wait_for("views.open")
    with bot.worker.held() as handed:
        # valid when submitted: expected completion in 30 minutes
        reply = bot.slack.submit_view({**SHEET_VALUES, "due": "in 30 minutes", "confirm_by": "in 10 minutes"},
                                      user=ALICE)
        assert reply.json() is None, reply.body
        wait_until(lambda: handed)
        bot.clock.advance(timedelta(hours=2))  # the worker gets to it "later": the date is past by then
    bot.fake.wait_for("chat.postMessage")

    def stored() -> Requirement | None:
        with bot.runtime.services.session_scope() as s:
            return s.get(Requirement, 1)

    row = wait_until(stored, what="the stored sheet")
    assert row.created_at == START  # as of arrival, not of the worker's turn


@pytest.mark.parametrize("bot_mode", ["handoff"])
def test_a_form_the_worker_opens_too_late_is_explained(bot: Bot) -> None:
    assert bot.worker is not None
    bot.fake.trigger_ttl = 0.2
    with bot.worker.held():
        reply = bot.slack.slash("/requirement", "", user=ALICE, channel=GENERAL)
        assert reply.status == 200
        time.sleep(0.4)  # the worker is busy: Slack's window to open the form closes
    call = bot.fake.wait_for("views.open")[0]
    assert call.error == "expired_trigger_id"
    said = bot.fake.wait_for("response_url")[-1]
    assert said.params["text"] == t("zh", "error.form_too_late")  # Alice reads Chinese; no error reference


@pytest.mark.parametrize("bot_mode", ["handoff"])
def test_the_worker_records_the_claim_so_a_retry_at_another_replica_is_dropped(bot: Bot) -> None:
    assert bot.worker is not None
    sheet = create_sheet(bot)
    updates = len(bot.fake.wait_for("chat.update", 0))
    reply = bot.slack.react("white_check_mark", channel=GENERAL, ts=sheet["ts"], user=BOB, event_id="EvHANDED1")
    assert reply.status == 200
    bot.fake.wait_for("chat.update", updates + 1)

    def recorded() -> bool:
        with bot.runtime.services.session_scope() as s:
            return s.get(ProcessedEvent, "event:EvHANDED1") is not None

    wait_until(recorded, what="the claim recorded by the worker")
    dedupe_handlers._RECENT.clear()  # another replica: none of this process's memory
    with bot.worker.held() as handed:
        retry = bot.slack.react("white_check_mark", channel=GENERAL, ts=sheet["ts"], user=BOB,
                                event_id="EvHANDED1", retry_num=1)
        assert (retry.status, retry.body) == (200, "")
        time.sleep(0.2)
        assert handed == []  # dropped by the serving process: nothing for the worker


# -- `coordbot run` with a worker process -------------------------------------------------------------------


@pytest.fixture
def split_bot(tmp_path: Path, fake: FakeSlack) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`coordbot run` in HTTP mode with its worker process (the default), against the fake Web API."""
    proc, url = start_run(tmp_path / "run.db", bot_token=fake.bot_token, signing_secret=SIGNING_SECRET,
                          api_url=fake.api_url)
    try:
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _worker_of(proc: subprocess.Popen[str], *, other_than: int | None = None) -> int:
    return int(wait_until(lambda: next((p for p in children(proc.pid) if p != other_than), None), timeout=30,
                          what="the worker process"))


def test_run_answers_in_one_process_and_works_in_another(split_bot: tuple[subprocess.Popen[str], str],
                                                         fake: FakeSlack, tmp_path: Path) -> None:
    proc, url = split_bot
    slack = SlackDriver(url + "/slack/events", SIGNING_SECRET, fake)
    worker = _worker_of(proc)
    assert Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")[1:4] == [b"-m", b"bot", b"worker"]
    # by default the worker runs only on CPU time that answering does not want
    wait_until(lambda: os.sched_getscheduler(worker) == os.SCHED_IDLE, timeout=30, what="the worker at idle priority")
    assert os.sched_getscheduler(proc.pid) == os.SCHED_OTHER

    # answered at once though every Web API call takes 2 s: the work is the worker's
    fake.set_delay(2.0)
    reply = slack.slash("/requirement", "", user=ALICE)
    assert reply.status == 200 and reply.elapsed < 1.0, reply.elapsed
    fake.set_delay(0)
    fake.wait_for("views.open", timeout=10)
    assert slack.submit_view(SHEET_VALUES, user=ALICE).json() is None
    posted = fake.wait_for("chat.postMessage", timeout=10)[0]
    ts = posted.response["ts"] if posted.response else ""

    def attached() -> bool:
        with sqlite3.connect(tmp_path / "run.db") as db:
            return db.execute("SELECT 1 FROM requirement WHERE message_ts = ?", (ts,)).fetchone() is not None

    wait_until(attached, timeout=10, what="the sheet's message stored")

    # the worker dies: the serving process starts another, and the work goes on there
    os.kill(worker, signal.SIGKILL)
    replacement = _worker_of(proc, other_than=worker)
    assert not alive(worker)
    wait_until(lambda: "worker ready" in _log_so_far(proc, tmp_path), timeout=30, what="the new worker")
    for user in (ALICE, BOB):
        assert slack.react("white_check_mark", channel=GENERAL, ts=ts, user=user).status == 200
    try:
        wait_until(lambda: "Confirmed" in block_text(fake.message(GENERAL, ts) or {}), timeout=15)
    except AssertionError:
        pytest.fail("the sheet was not signed after the worker's restart:\n" + _log_so_far(proc, tmp_path))

    # stopping the serving process stops its worker, cleanly
    proc.terminate()
    out = _log_so_far(proc, tmp_path) + proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, out
    assert not alive(replacement)
    assert "restarting it" in out and "[worker]" in out
    assert fake.bot_token not in out and SIGNING_SECRET not in out


def _log_so_far(proc: subprocess.Popen[str], tmp_path: Path) -> str:
    """What the process has written so far (read without blocking; kept for the final check)."""
    import fcntl

    assert proc.stdout is not None
    keep = tmp_path / "run.log"
    fd = proc.stdout.fileno()
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    try:
        chunk = proc.stdout.read() or ""
    except (BlockingIOError, TypeError):
        chunk = ""
    finally:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)
    with keep.open("a") as f:
        f.write(chunk)
    return keep.read_text()


def test_the_worker_command_is_not_offered_to_people() -> None:
    assert "worker" not in CliRunner().invoke(main, ["--help"]).output


def test_a_worker_whose_serving_process_was_killed_exits(split_bot: tuple[subprocess.Popen[str], str]) -> None:
    proc, _ = split_bot
    worker = _worker_of(proc)
    os.kill(proc.pid, signal.SIGKILL)  # no chance to stop its worker: the worker sees its pipe end
    proc.wait()
    wait_until(lambda: not alive(worker), timeout=30, what="the orphaned worker to exit")
