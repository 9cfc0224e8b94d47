"""`coordbot demo`'s sandbox without a browser: its JSON API, its clock, what each person sees, what is kept.

The real thing: coordbot served by uvicorn on a SQLite file, the sandbox's HTTP API called over HTTP, each
action reaching coordbot as a signed request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from handlers.sandbox import company
from handlers.sandbox import demo as sandbox_demo
from handlers.sandbox.clock import ClockError, SandboxClock, read_move
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage.models import Signature
from tests.helpers import SHEET_VALUES, wait_until
from tests.processes import CLEAN_ENV, ROOT

SHEET = {  # as the page sends it: every field, the owners as ids
    **SHEET_VALUES,
    "requester_owner": ALICE,
    "due": "next Friday",
    "open_questions": "Which analytics tool?",
    "channel": company.PRODUCT,
}


class Page:
    """What the page does: calls the sandbox's JSON API over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str) -> tuple[int, bytes, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as answer:
                return answer.status, answer.read(), answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "")

    def state(self, who: str = ALICE, since: int | None = None) -> dict[str, Any]:
        query = f"?as={who}" + (f"&since={since}" if since is not None else "")
        status, body, _ = self.get("/sandbox/state" + query)
        assert status == 200, body
        return dict(json.loads(body))

    def post(self, verb: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base}/sandbox/{verb}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=15) as answer:
            return dict(json.loads(answer.read()))

    def modal(self, who: str) -> dict[str, Any]:
        return wait_until(lambda: (self.state(who)["modals"] or [None])[-1], what="a modal")


@pytest.fixture
def page(demo: sandbox_demo.Demo) -> Page:
    return Page(demo.sandbox.base_url)


def post_sheet(page: Page, who: str = ALICE, **values: Any) -> dict[str, Any]:
    """Alice files a requirement sheet from #product; the sheet as the page shows it."""
    assert page.post("send", {"as": who, "channel": company.PRODUCT, "text": "/requirement"}) == {"ok": True}
    modal = page.modal(who)
    answer = page.post("view_submit", {"as": who, "view_id": modal["id"], "values": {**SHEET, **values}})
    assert answer == {"ok": True}, answer

    def sheet() -> dict[str, Any] | None:
        found = [m for m in page.state(who)["messages"] if m["channel"] == company.PRODUCT and m["blocks"]]
        return found[-1] if found else None

    return wait_until(sheet, what="the sheet in #product")


def test_the_company_has_people_in_three_timezones_and_both_languages(page: Page) -> None:
    state = page.state(CAROL)
    people = [u for u in state["users"] if not u["is_bot"]]
    assert 6 <= len(people) <= 8
    assert {u["tz"] for u in people} == {"Asia/Shanghai", "America/New_York", "Europe/Berlin"}
    assert {u["locale"] for u in people} == {"zh-CN", "en-US"}
    assert any(ord(c) > 0x4E00 for u in people for c in u["real_name"])  # Chinese names too
    assert state["viewer"] == next(u for u in state["users"] if u["id"] == CAROL)
    names = {c["name"]: c["kind"] for c in state["conversations"]}
    assert names == {
        "general": "channel",
        "product": "channel",
        "platform": "channel",
        "leads": "private",
        "coordbot": "dm",
    }
    assert [c["command"] for c in state["commands"]] == ["/requirement", "/meeting", "/action", "/incident", "/digest"]
    assert state["shortcuts"] == [{"callback_id": "create_action_item", "name": "Create action item"}]


def test_each_person_sees_only_their_conversations_and_their_own_ephemerals(page: Page) -> None:
    dave = {c["name"] for c in page.state(DAVE)["conversations"]}
    assert "leads" not in dave and "product" in dave  # a private channel Dave is not in
    assert page.post("send", {"as": DAVE, "channel": company.LEADS, "text": "hi"}) == {
        "ok": False,
        "error": "you are not in that conversation",
    }
    assert page.post("send", {"as": ALICE, "channel": GENERAL, "text": "/requirement help"}) == {"ok": True}
    mine = wait_until(lambda: page.state(ALICE)["ephemerals"], what="the help text")
    assert "/requirement" in json.dumps(mine)
    assert page.state(BOB)["ephemerals"] == []
    assert page.state(ALICE)["messages"] == []  # an ephemeral answer is not a message


def test_a_person_s_message_is_kept_as_slack_keeps_it_and_an_unknown_command_is_refused(page: Page) -> None:
    typed = "hello <b>team</b> & @wangfang, see #product"
    assert page.post("send", {"as": BOB, "channel": GENERAL, "text": typed}) == {"ok": True}
    message = page.state(CAROL)["messages"][-1]
    # as Slack stores it: escaped, the mention and the channel as links
    assert (message["user"], message["text"]) == (
        BOB,
        f"hello &lt;b&gt;team&lt;/b&gt; &amp; <@{CAROL}>, see <#{company.PRODUCT}>",
    )
    answer = page.post("send", {"as": BOB, "channel": GENERAL, "text": "/nope now"})
    assert answer["ok"] is False and "/nope is not a valid command" in answer["error"]
    assert page.post("send", {"as": "U_NOBODY", "channel": GENERAL, "text": "x"})["ok"] is False


def test_a_command_that_escapes_names_gets_mentions_as_slack_sends_them(page: Page, demo: sandbox_demo.Demo) -> None:
    typed = "/action @lilei Send the Q&A notes to #platform 下周五前"
    assert page.post("send", {"as": ALICE, "channel": GENERAL, "text": typed}) == {"ok": True}
    card = wait_until(
        lambda: next((m for m in page.state(DAVE)["messages"] if "ACT-" in json.dumps(m["blocks"] or [])), None),
        what="the action item's card",
    )
    shown = json.dumps(card["blocks"], ensure_ascii=False)
    assert f"<@{DAVE}>" in shown and "Q&amp;A" in shown  # the owner is Dave; the text stays escaped for Slack
    assert "&amp;amp;" not in shown


def test_requirement_sheet_from_the_modal_to_confirmed_by_reactions(page: Page) -> None:
    modal_answer = page.post("send", {"as": ALICE, "channel": company.PRODUCT, "text": "/requirement"})
    assert modal_answer == {"ok": True}
    modal = page.modal(ALICE)
    assert page.state(BOB)["modals"] == []  # a modal is its opener's alone
    # Slack's client refuses an empty required field itself
    empty = page.post("view_submit", {"as": ALICE, "view_id": modal["id"], "values": {**SHEET, "goal": ""}})
    assert empty == {"ok": True, "errors": {"goal": "Please complete this required field."}}
    # coordbot's own check: a due date it cannot read
    wrong = page.post("view_submit", {"as": ALICE, "view_id": modal["id"], "values": {**SHEET, "due": "whenever"}})
    assert wrong["ok"] is True and set(wrong["errors"]) == {"due"}
    assert page.state(ALICE)["modals"][-1]["id"] == modal["id"]  # still open, for the person to mend
    page.post("view_submit", {"as": ALICE, "view_id": modal["id"], "values": SHEET})
    sheet = wait_until(
        lambda: next((m for m in page.state(ALICE)["messages"] if m["blocks"]), None), what="the posted sheet"
    )
    assert page.state(ALICE)["modals"] == []
    assert "RW-" in json.dumps(sheet["blocks"])
    for who in (ALICE, BOB):
        answer = page.post(
            "react", {"as": who, "channel": company.PRODUCT, "ts": sheet["ts"], "name": "white_check_mark"}
        )
        assert answer == {"ok": True}

    def confirmed() -> bool:
        now = next(m for m in page.state(ALICE)["messages"] if m["ts"] == sheet["ts"])
        return bool(now["edited"]) and "Confirmed" in json.dumps(now["blocks"])

    wait_until(confirmed, what="the sheet to turn Confirmed")
    shown = next(m for m in page.state(BOB)["messages"] if m["ts"] == sheet["ts"])
    assert {r["name"]: sorted(r["users"]) for r in shown["reactions"]} == {"white_check_mark": sorted([ALICE, BOB])}


def test_buttons_in_a_message_reach_coordbot_with_their_block(page: Page, demo: sandbox_demo.Demo) -> None:
    sheet = post_sheet(page)
    buttons = [
        (b["block_id"], e) for b in sheet["blocks"] if b["type"] == "actions" for e in b["elements"] if "action_id" in e
    ]
    block_id, confirm = next((b, e) for b, e in buttons if e["type"] == "button" and e.get("style") == "primary")
    container = {"type": "message", "channel": company.PRODUCT, "ts": sheet["ts"], "ephemeral": False}
    action = {"type": "button", "action_id": confirm["action_id"], "block_id": block_id, "value": confirm.get("value")}
    assert page.post("action", {"as": BOB, "container": container, "action": action}) == {"ok": True}
    wait_until(lambda: _signed_by(demo, BOB), what="Bob's signature by the button")
    missing = {"type": "button", "action_id": "no_such_action", "block_id": block_id}
    assert page.post("action", {"as": BOB, "container": container, "action": missing})["ok"] is False


def _signed_by(demo: sandbox_demo.Demo, user: str) -> list[Signature]:
    with Session(demo.runtime.engine) as session:
        return list(session.exec(select(Signature).where(Signature.user_id == user)))


def test_moving_the_clock_brings_the_open_question_reminder_to_the_owner_s_dm(page: Page) -> None:
    post_sheet(page)  # Bob (Berlin) owns the receiving side and its open question
    before = page.state(BOB)["now"]
    dm = "D" + BOB
    assert not [m for m in page.state(BOB)["messages"] if m["channel"] == dm]
    answer = page.post("clock", {"as": BOB, "phrase": "+7 days"})  # past the sign-by time, whatever today is
    assert answer["ok"] is True and answer["delivered"] >= 1
    moved = datetime.fromisoformat(answer["now"])
    assert moved - datetime.fromisoformat(before) >= timedelta(days=7)
    reminders = [m for m in page.state(BOB)["messages"] if m["channel"] == dm]
    assert reminders and "Which analytics tool?" in json.dumps(reminders, ensure_ascii=False)
    assert not [m for m in page.state(ALICE)["messages"] if m["channel"] == dm]  # Bob's DM is Bob's
    # message times follow the sandbox's clock
    assert float(reminders[-1]["ts"]) >= moved.timestamp() - 1
    assert page.post("clock", {"as": ALICE, "to": "2020-01-01T09:00"}) == {
        "ok": False,
        "error": "time only moves forward: 2020-01-01 14:00 UTC is not later",
    }


def test_the_digest_s_chart_is_shown_from_the_sandbox(page: Page) -> None:
    send = {"as": ALICE, "channel": company.PRODUCT}
    assert page.post("send", {**send, "text": "/action @bob write the launch post in 3 days"}) == {"ok": True}
    wait_until(lambda: [m for m in page.state(ALICE)["messages"] if m["channel"] == company.PRODUCT], what="card")
    assert page.post("send", {**send, "text": "/digest now"}) == {"ok": True}

    def charts() -> list[dict[str, Any]]:
        return [f for m in page.state(ALICE)["messages"] if m["channel"] == company.PRODUCT for f in m["files"]]

    (chart,) = wait_until(charts, timeout=15, what="the chart shared in the digest's thread")
    assert chart["alt"] and chart["src"].startswith("/sandbox/files/F")
    status, body, content_type = page.get(chart["src"])
    assert status == 200 and content_type == "image/png" and body.startswith(b"\x89PNG")
    assert page.get("/sandbox/files/F999")[0] == 404


def test_the_static_page_is_served_and_nothing_beside_it(page: Page) -> None:
    status, body, kind = page.get("/")
    assert status == 200 and kind.startswith("text/html") and b"sandbox.js" in body
    for path in ("/static/../web.py", "/static/%2e%2e/web.py", "/static/.hidden", "/static/nothing.js", "/etc/passwd"):
        assert page.get(path)[0] == 404, path
    bad = urllib.request.Request(
        page.base + "/sandbox/send", data=b"[1]", method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bad, timeout=5)
    assert refused.value.code == 400


def test_other_sites_in_the_browser_cannot_use_the_sandbox(page: Page) -> None:
    body = json.dumps({"as": ALICE, "channel": GENERAL, "text": "posted by another site"}).encode()
    # a form or text/plain POST from another page needs no CORS consent: refused for not being JSON
    form = urllib.request.Request(page.base + "/sandbox/send", data=body, method="POST")
    form.add_header("Content-Type", "text/plain")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(form, timeout=5)
    assert refused.value.code == 415
    # a name that points here (DNS rebinding) is not the sandbox's own address
    port = page.base.rsplit(":", 1)[1]
    for verb, path, data in (("GET", "/sandbox/state?as=U_ALICE", None), ("POST", "/sandbox/send", body)):
        rebound = urllib.request.Request(page.base + path, data=data, method=verb)
        rebound.add_header("Host", f"attacker.example:{port}")
        rebound.add_header("Content-Type", "application/json")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebound, timeout=5)
        assert refused.value.code == 403
    assert page.state(ALICE)["messages"] == []


def test_state_answers_unchanged_while_nothing_changed(page: Page) -> None:
    def quiet_for_a_while() -> bool:
        version = page.state(ALICE)["version"]
        time.sleep(0.3)
        return bool(page.state(ALICE, since=version).get("unchanged"))

    # coordbot's start-up calls (auth.test, users.list) are part of the state too: wait until they are over
    wait_until(quiet_for_a_while, timeout=10, what="the sandbox quiet")
    first = page.state(ALICE)
    assert page.state(ALICE, since=first["version"]) == {"version": first["version"], "unchanged": True}
    page.post("send", {"as": BOB, "channel": GENERAL, "text": "news"})
    assert page.state(ALICE, since=first["version"])["version"] > first["version"]


def test_the_clock_only_moves_forward_and_reads_phrases_in_the_person_s_timezone(tmp_path: Path) -> None:
    real = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # Friday 09:00 in Shanghai, Thursday 20:00 in New York
    clock = SandboxClock(tmp_path / "clock.json", real=lambda: real)
    assert clock() == real
    assert read_move("+1 hour", now=real, tz="UTC") == real + timedelta(hours=1)
    assert read_move("+3d", now=real, tz="UTC") == real + timedelta(days=3)
    assert read_move("+2 小时", now=real, tz="UTC") == real + timedelta(hours=2)
    shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
    assert read_move("tomorrow 09:00", now=real, tz="Asia/Shanghai") == datetime(2026, 12, 5, 9, 0, tzinfo=shanghai)
    assert read_move("tomorrow 09:00", now=real, tz="America/New_York") == datetime(2026, 12, 4, 9, 0, tzinfo=new_york)
    assert read_move("next Monday 09:00", now=real, tz="Asia/Shanghai") == datetime(2026, 12, 7, 9, 0, tzinfo=shanghai)
    assert read_move("下周一 9点", now=real, tz="Asia/Shanghai") == datetime(2026, 12, 7, 9, 0, tzinfo=shanghai)
    with pytest.raises(ClockError):
        read_move("whenever", now=real, tz="UTC")
    clock.advance(timedelta(days=1))
    with pytest.raises(ClockError):
        clock.move_to(real)
    with pytest.raises(ClockError):
        clock.advance(timedelta(days=400))
    assert SandboxClock(tmp_path / "clock.json", real=lambda: real)() == real + timedelta(days=1)  # kept


def test_the_next_demo_carries_on_and_reset_starts_over(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    first = sandbox_demo.start(database)
    try:
        page = Page(first.sandbox.base_url)
        sheet = post_sheet(page)
        page.post("clock", {"as": ALICE, "phrase": "+1 day"})
        now = page.state(ALICE)["now"]
    finally:
        first.stop()
    again = sandbox_demo.start(database)
    try:
        page = Page(again.sandbox.base_url)
        kept = [m for m in page.state(ALICE)["messages"] if m["ts"] == sheet["ts"]]
        assert kept and kept[0]["blocks"] == sheet["blocks"]
        assert page.state(ALICE)["now"] >= now
        # the record is still the sheet's: a ✅ on it is Bob's signature
        page.post("react", {"as": BOB, "channel": company.PRODUCT, "ts": sheet["ts"], "name": "white_check_mark"})
        wait_until(lambda: _signed_by(again, BOB), what="the kept sheet to take Bob's signature")
    finally:
        again.stop()
    fresh = sandbox_demo.start(database, fresh=True)
    try:
        assert Page(fresh.sandbox.base_url).state(ALICE)["messages"] == []
    finally:
        fresh.stop()


@pytest.mark.processes
def test_coordbot_demo_prints_its_address_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--no-browser", "--db", str(tmp_path / "d.db")],
        cwd=ROOT,
        env={**CLEAN_ENV, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("coordbot sandbox: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
        state = Page(url.rstrip("/")).state(ALICE)
        assert state["viewer"]["id"] == ALICE
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "coordbot sandbox stopped" in out and "Traceback" not in out
        assert (tmp_path / "d.db.slack.json").exists()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
