"""`coordbot export`: requirements, meetings and action items with their full history as JSON, CSV, Markdown."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.app import Runtime
from bot.catalog import export as export_catalog
from bot.cli import main
from bot.export import KINDS
from bot.services.actions import ActionStatus
from bot.services.meetings import ActionDraftLine, AgendaEntry, MeetingDraft, MinutesDraft
from bot.services.requirements import QuestionDraft, RequirementDraft
from bot.text import placeholders
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage.db import make_engine, migrate
from tests.conftest import START

ROOT = Path(__file__).resolve().parent.parent
OTHER = "C_OTHER"
REQUIREMENT_HISTORY = [
    "created",
    "signed",
    "revised",
    "question_answered",
    "signed",
    "withdrawn",
    "signed",
    "signed",
    "confirmed",
]
ZH_LABELS = (
    "需求编号",
    "需求方",
    "承接方",
    "需求背景",
    "核心目标",
    "具体需求描述",
    "优先级",
    "期望完成时间",
    "配合资源",
    "待确认事项",
    "确认签字",
)
EN_LABELS = (
    "Requirement ID",
    "Requester",
    "Receiver",
    "Background",
    "Core goal",
    "Description",
    "Priority",
    "Expected completion",
    "Resources needed",
    "Open questions",
    "Signatures",
)


def at(hours: float) -> datetime:
    """The test clock's start plus some hours (the start is 14:00 in Shanghai)."""
    return START + timedelta(hours=hours)


def sheet(**overrides: object) -> RequirementDraft:
    """A requirement sheet with an open question for Bob."""
    values: dict[str, object] = dict(
        requester_dept="市场部",
        requester_owner=ALICE,
        receiver_dept="Engineering",
        receiver_owner=BOB,
        background="Launch needs | a pipe\nand a second line",
        goal="Sign-ups +20%",
        description="desc v1",
        priority="high",
        due=at(24 * 14),
        confirm_by=at(24 * 2),
        channel_id=GENERAL,
        resources="2 engineers",
        questions=(QuestionDraft("Which API version?", BOB, at(24)),),
    )
    values.update(overrides)
    return RequirementDraft(**values)  # type: ignore[arg-type]


@dataclass
class Seeded:
    """What the seed created."""

    requirement_id: int
    meeting_id: int
    action_id: int


def seed(rt: Runtime) -> Seeded:
    """Two requirements (one with two revisions, signatures, a withdrawal and an answered question),
    a meeting with minutes, acknowledgments and action items, and an item that went open → blocked → done."""
    reqs, meetings, actions = rt.services.requirements, rt.services.meetings, rt.services.actions
    req = reqs.create(team_id="T1", author_id=CAROL, draft=sheet(), now=at(0))
    reqs.sign(req.id, user_id=BOB, via="reaction", now=at(1))
    req = reqs.revise(req.id, user_id=ALICE, draft=sheet(description="desc v2"), now=at(2))
    reqs.answer_question(req.questions[0].id, user_id=BOB, now=at(3))
    reqs.sign(req.id, user_id=ALICE, via="button", now=at(4))
    reqs.withdraw(req.id, user_id=ALICE, now=at(5))
    reqs.sign(req.id, user_id=ALICE, via="reaction", now=at(6))
    assert reqs.sign(req.id, user_id=BOB, via="button", now=at(7)).confirmed_now

    meeting = meetings.create(
        team_id="T1",
        creator_id=ALICE,
        now=at(8),
        draft=MeetingDraft(
            title="Q1 launch plan",
            goal="Decide the launch date",
            start=at(24),
            duration_minutes=60,
            host_id=ALICE,
            participants=(BOB, DAVE),
            channel_id=GENERAL,
            location="Room 5",
            agenda=(AgendaEntry("Launch date", BOB, 20),),
        ),
    )
    outcome = meetings.record_minutes(
        meeting.id,
        user_id=ALICE,
        now=at(26),
        draft=MinutesDraft(
            decisions=("Launch on Dec 15", "Budget stays"),
            notes="Quiet meeting",
            actions=(
                ActionDraftLine("Ship the API", BOB, at(24 * 7), "API docs"),
                ActionDraftLine("Book ads", DAVE, at(24 * 8)),
            ),
        ),
    )
    meetings.acknowledge(meeting.id, user_id=BOB, now=at(27))
    meetings.acknowledge(meeting.id, user_id=DAVE, now=at(28))
    item = outcome.new_actions[0]
    actions.set_status(item.id, user_id=BOB, status=ActionStatus.BLOCKED, reason="等法务 review", now=at(30))
    actions.set_status(item.id, user_id=BOB, status=ActionStatus.DONE, now=at(40))

    reqs.create(
        team_id="T1",
        author_id=DAVE,
        now=at(72),
        draft=sheet(channel_id=OTHER, due=at(24 * 20), confirm_by=at(24 * 4), questions=()),
    )
    return Seeded(req.id, meeting.id, item.id)


@pytest.fixture
def seeded(runtime: Runtime) -> Iterator[Seeded]:
    """The seeded records."""
    yield seed(runtime)


def export(database_url: str, *args: str, lang: str = "en") -> Result:
    """Run `coordbot export` in process against the test database."""
    env = {"DATABASE_URL": database_url, "COORDBOT_TZ": "Asia/Shanghai", "COORDBOT_LANG": lang}
    return CliRunner().invoke(main, ["export", *args], env=env)


def ok(result: Result) -> str:
    """The output of a successful run, decoded from UTF-8."""
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout_bytes.decode("utf-8")


def exported(database_url: str, kind: str, *args: str) -> list[dict[str, Any]]:
    """The JSON export of a kind as data."""
    data = json.loads(ok(export(database_url, "--kind", kind, "--format", "json", *args)))
    assert isinstance(data, list)
    return data


def utc(text: object) -> datetime:
    """An exported UTC time back as a datetime."""
    assert isinstance(text, str) and text.endswith("Z"), text
    return datetime.fromisoformat(text)


# -- JSON --------------------------------------------------------------------------------------------------


def test_json_requirements_hold_every_field_and_the_full_history(seeded: Seeded, database_url: str) -> None:
    records = exported(database_url, "requirements")
    assert [r["code"] for r in records] == ["RW-2026-001", "RW-2026-002"]
    rec = records[0]
    assert json.loads(json.dumps(rec, ensure_ascii=False)) == rec
    assert rec["kind"] == "requirement" and rec["status"] == "confirmed" and rec["revision"] == 2
    assert rec["requester_dept"] == "市场部" and rec["background"] == "Launch needs | a pipe\nand a second line"
    assert rec["author_id"] == CAROL and rec["channel_id"] == GENERAL and rec["description"] == "desc v2"
    assert utc(rec["created_at"]) == at(0) and utc(rec["confirmed_at"]) == at(7) and utc(rec["due"]) == at(24 * 14)
    assert rec["created_at"] == "2026-11-26T06:00:00Z"
    assert rec["signatures"] == [
        {"role": "requester", "user_id": ALICE, "via": "reaction", "signed_at": "2026-11-26T12:00:00Z"},
        {"role": "receiver", "user_id": BOB, "via": "button", "signed_at": "2026-11-26T13:00:00Z"},
    ]
    assert rec["questions"] == [
        {
            "n": 1,
            "text": "Which API version?",
            "owner_id": BOB,
            "deadline": "2026-11-27T06:00:00Z",
            "answered_at": "2026-11-26T09:00:00Z",
            "answered_by": BOB,
        }
    ]
    revisions = rec["revisions"]
    assert [(v["revision"], v["created_by"], v["content"]["description"]) for v in revisions] == [
        (1, CAROL, "desc v1"),
        (2, ALICE, "desc v2"),
    ]
    assert revisions[0]["content"]["due"] == "2026-12-10T06:00:00Z"
    assert revisions[0]["content"]["questions"][0]["deadline"] == "2026-11-27T06:00:00Z"
    history = rec["history"]
    assert [h["action"] for h in history] == REQUIREMENT_HISTORY
    assert [h["actor"] for h in history] == [CAROL, BOB, ALICE, BOB, ALICE, ALICE, ALICE, BOB, BOB]
    times = [utc(h["at"]) for h in history]
    assert times == sorted(times) and times[0] == at(0) and times[-1] == at(7)
    assert history[2]["detail"] == {"revision": 2, "fields": ["description"]}
    assert history[5]["detail"] == {"roles": ["requester"], "revision": 2}
    assert set(history[0]) == {"at", "actor", "action", "detail"}


def test_json_meetings_and_action_items(seeded: Seeded, database_url: str) -> None:
    [meeting] = exported(database_url, "meetings")
    assert meeting["code"] == "MTG-2026-001" and meeting["host_id"] == ALICE
    assert meeting["participants"] == [BOB, DAVE]
    assert meeting["agenda"] == [{"topic": "Launch date", "owner_id": BOB, "minutes": 20}]
    assert meeting["decisions"] == ["Launch on Dec 15", "Budget stays"] and meeting["notes"] == "Quiet meeting"
    assert utc(meeting["start"]) == at(24) and utc(meeting["end"]) == at(25) and utc(meeting["minutes_at"]) == at(26)
    assert meeting["acknowledgments"] == [
        {"user_id": BOB, "at": "2026-11-27T09:00:00Z"},
        {"user_id": DAVE, "at": "2026-11-27T10:00:00Z"},
    ]
    assert meeting["action_items"] == ["ACT-2026-001", "ACT-2026-002"]
    assert [h["action"] for h in meeting["history"]] == [
        "created",
        "minutes_recorded",
        "minutes_acknowledged",
        "minutes_acknowledged",
    ]

    items = exported(database_url, "actions")
    assert [a["code"] for a in items] == ["ACT-2026-001", "ACT-2026-002"]
    done = items[0]
    assert done["status"] == "done" and done["owner_id"] == BOB and done["creator_id"] == ALICE
    assert done["source"] == {"type": "meeting", "code": "MTG-2026-001"} and done["deliverable"] == "API docs"
    assert utc(done["done_at"]) == at(40) and done["blocked_reason"] is None
    assert [(h["action"], h["detail"]) for h in done["history"]] == [
        ("created", {"source": "MTG-2026-001"}),
        ("status_changed", {"from": "open", "to": "blocked", "reason": "等法务 review"}),
        ("status_changed", {"from": "blocked", "to": "done"}),
    ]
    assert items[1]["status"] == "open"


# -- CSV -------------------------------------------------------------------------------------------------


def rows_of(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of CSV text."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), list(reader)


def test_csv_has_a_row_per_record_and_a_history_cell(seeded: Seeded, database_url: str) -> None:
    text = ok(export(database_url, "--kind", "requirements", "--format", "csv"))
    assert not text.startswith("\ufeff") and "\r\n" in text
    header, rows = rows_of(text)
    assert header == list(KINDS["requirements"].columns)
    assert [r["code"] for r in rows] == ["RW-2026-001", "RW-2026-002"]
    row = rows[0]
    assert row["requester_dept"] == "市场部" and row["background"] == "Launch needs | a pipe\nand a second line"
    assert row["status"] == "confirmed" and row["revision"] == "2"
    assert row["created_at"] == "2026-11-26T14:00:00+08:00"  # the workspace timezone, with its offset
    lines = row["history"].split("\n")
    assert [line.split(" ")[2] for line in lines] == REQUIREMENT_HISTORY
    assert lines[0].startswith(f"2026-11-26T14:00:00+08:00 {CAROL} created")
    assert lines[5] == f"2026-11-26T19:00:00+08:00 {ALICE} withdrawn roles=requester; revision=2"
    assert row["signatures"].split("\n") == [
        "role=requester; user_id=U_ALICE; via=reaction; signed_at=2026-11-26T20:00:00+08:00",
        "role=receiver; user_id=U_BOB; via=button; signed_at=2026-11-26T21:00:00+08:00",
    ]
    assert "answered_by=U_BOB" in row["questions"] and rows[1]["questions"] == ""

    header, rows = rows_of(ok(export(database_url, "--kind", "meetings", "--format", "csv")))
    assert header == list(KINDS["meetings"].columns) and len(rows) == 1
    assert rows[0]["participants"] == f"{BOB}\n{DAVE}" and rows[0]["action_items"] == "ACT-2026-001\nACT-2026-002"
    assert rows[0]["decisions"] == "Launch on Dec 15\nBudget stays"
    header, rows = rows_of(ok(export(database_url, "--kind", "actions", "--format", "csv")))
    assert header == list(KINDS["actions"].columns)
    assert rows[0]["source"] == "type=meeting; code=MTG-2026-001" and rows[0]["status"] == "done"
    assert "from=open; to=blocked; reason=等法务 review" in rows[0]["history"]


# -- Markdown ------------------------------------------------------------------------------------------------


def test_markdown_requirement_reads_like_the_handbook_sheet(seeded: Seeded, database_url: str) -> None:
    zh = ok(export(database_url, "--kind", "requirements", "--format", "md", "--id", "RW-2026-001", lang="zh"))
    assert zh.startswith("# 需求沟通与确认表\n")
    assert "## RW-2026-001 · 需求沟通与确认表" in zh
    for label in ZH_LABELS:
        assert f"| {label}" in zh or f"### {label}" in zh, label
    assert "| 需求方 | 市场部 · U_ALICE |" in zh and "| 优先级 | 高 |" in zh
    assert "| 需求背景 | Launch needs \\| a pipe<br>and a second line |" in zh
    assert "| 状态 | 已确认 · 第 2 版 |" in zh
    assert "| 期望完成时间 | 2026-12-10 14:00 +08:00 |" in zh
    assert "- 需求方：U_ALICE 于 2026-11-26 20:00 +08:00 签字（✅ 表情）" in zh
    assert "- 承接方：U_BOB 于 2026-11-26 21:00 +08:00 签字（“确认签字”按钮）" in zh
    assert (
        "1. Which API version? — U_BOB，2026-11-27 14:00 +08:00 前反馈 — U_BOB 已于 2026-11-26 17:00 +08:00 答复"
    ) in zh
    assert "- 第 2 版 — U_ALICE，2026-11-26 16:00 +08:00" in zh
    assert "### 变更记录" in zh
    assert "| 2026-11-26 19:00 +08:00 | U_ALICE | 撤回签字 | roles: requester; revision: 2 |" in zh
    assert zh.index("撤回签字") < zh.index("| 确认 |")

    en = ok(export(database_url, "--kind", "requirements", "--format", "md", "--lang", "en", "--id", "RW-2026-001"))
    for label in EN_LABELS:
        assert label in en, label
    assert "## RW-2026-001 · Requirement sheet" in en
    assert "- Requester: U_ALICE, signed 2026-11-26 20:00 +08:00 (✅ reaction)" in en
    assert "| 2026-11-26 19:00 +08:00 | U_ALICE | Signature withdrawn | roles: requester; revision: 2 |" in en
    assert en.count("| --- | --- | --- | --- |") == 1  # one history table


def test_markdown_meeting_minutes_and_action_items(seeded: Seeded, database_url: str) -> None:
    md = ok(export(database_url, "--kind", "meetings", "--format", "md"))
    assert "## MTG-2026-001 · Q1 launch plan" in md and "| Goal | Decide the launch date |" in md
    assert "| When | 2026-11-27 14:00 +08:00 · 60 min |" in md and "| Participants | U_BOB, U_DAVE |" in md
    assert "1. Launch date — U_BOB — 20 min" in md
    assert "Recorded by U_ALICE, 2026-11-27 16:00 +08:00." in md
    assert "- Launch on Dec 15" in md and "Quiet meeting" in md
    assert "- ACT-2026-001 · Ship the API — U_BOB — due 2026-12-03 14:00 +08:00 — Done" in md
    assert "- U_BOB, 2026-11-27 17:00 +08:00" in md and "- U_DAVE, 2026-11-27 18:00 +08:00" in md
    assert "| Minutes acknowledged |" in md

    zh = ok(export(database_url, "--kind", "actions", "--format", "md", "--lang", "zh"))
    assert zh.startswith("# 行动项\n") and "共 2 条" in zh
    assert "## ACT-2026-001 · Ship the API" in zh and "- **状态**: 已完成 — ✅ 已于 2026-11-28 06:00 +08:00 完成" in zh
    assert "- **来源**: MTG-2026-001" in zh
    assert "| 2026-11-27 20:00 +08:00 | U_BOB | 状态变更 | from: open; to: blocked; reason: 等法务 review |" in zh


# -- filters and output ---------------------------------------------------------------------------------------------


def test_since_keeps_records_created_or_changed_since(seeded: Seeded, database_url: str) -> None:
    # a date is midnight in the workspace timezone: 2026-11-29 00:00 Shanghai
    assert [r["code"] for r in exported(database_url, "requirements", "--since", "2026-11-29")] == ["RW-2026-002"]
    assert [r["code"] for r in exported(database_url, "requirements", "--since", "2026-11-26")] == [
        "RW-2026-001",
        "RW-2026-002",
    ]
    # the meeting's own row last changed with its minutes at 16:00; an acknowledgment at 18:00 is a change too
    assert [m["code"] for m in exported(database_url, "meetings", "--since", "2026-11-27T17:30+08:00")] == [
        "MTG-2026-001"
    ]
    assert exported(database_url, "meetings", "--since", "2026-11-27T10:30:00Z") == []
    # done at 2026-11-28 06:00 in Shanghai; the other item has not changed since its creation
    assert [a["code"] for a in exported(database_url, "actions", "--since", "2026-11-27T23:00")] == ["ACT-2026-001"]


def test_channel_and_id_filters(seeded: Seeded, database_url: str) -> None:
    assert [r["code"] for r in exported(database_url, "requirements", "--channel", OTHER)] == ["RW-2026-002"]
    assert exported(database_url, "requirements", "--channel", "C_NOWHERE") == []
    assert [r["code"] for r in exported(database_url, "requirements", "--id", "rw-2026-002")] == ["RW-2026-002"]
    both = exported(database_url, "actions", "--id", "ACT-2026-002", "--id", "ACT-2026-001")
    assert [a["code"] for a in both] == ["ACT-2026-001", "ACT-2026-002"]
    result = export(database_url, "--kind", "requirements", "--format", "json", "--id", "RW-2026-999")
    assert json.loads(ok(result)) == [] and "no requirements matched: RW-2026-999" in result.stderr


def test_out_writes_the_file(seeded: Seeded, database_url: str, tmp_path: Path) -> None:
    target = tmp_path / "archive" / "requirements.md"
    target.parent.mkdir()
    result = export(database_url, "--kind", "requirements", "--format", "md", "--out", str(target), lang="zh")
    assert result.exit_code == 0 and result.stdout == ""
    assert f"wrote 2 requirements to {target}" in result.stderr
    text = target.read_text(encoding="utf-8")
    assert "## RW-2026-001 · 需求沟通与确认表" in text and "## RW-2026-002 · 需求沟通与确认表" in text
    target = tmp_path / "actions.csv"
    assert export(database_url, "--kind", "actions", "--format", "csv", "--out", str(target)).exit_code == 0
    assert len(rows_of(target.read_bytes().decode("utf-8"))[1]) == 2


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_empty_database_gives_empty_valid_output(kind: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate(make_engine(url))  # as `coordbot run` leaves it (export only reads: it creates no database)
    assert json.loads(ok(export(url, "--kind", kind, "--format", "json"))) == []
    header, rows = rows_of(ok(export(url, "--kind", kind, "--format", "csv")))
    assert header == list(KINDS[kind].columns) and rows == []
    md = ok(export(url, "--kind", kind, "--format", "md"))
    assert md.startswith("# ") and "0 records" in md and "No records." in md


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    result = export(url, "--kind", "requirements", "--format", "json", "--since", "last week")
    assert result.exit_code == 2 and "--since" in result.output and "not an ISO 8601 date" in result.output
    result = export(url, "--kind", "tickets", "--format", "json")
    assert result.exit_code == 2 and "'requirements'" in result.output
    result = export(url, "--kind", "requirements", "--format", "xml")
    assert result.exit_code == 2


@pytest.mark.processes
def test_export_runs_as_a_process(seeded: Seeded, database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COORDBOT_")) and k != "DATABASE_URL"}
    # an ASCII-only terminal still gets UTF-8 bytes
    env.update(DATABASE_URL=database_url, COORDBOT_TZ="Asia/Shanghai", PYTHONIOENCODING="ascii")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--kind", "actions", "--format", "json", "--id", "ACT-2026-001"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    [item] = json.loads(proc.stdout.decode("utf-8"))
    assert item["code"] == "ACT-2026-001"
    assert [h["detail"].get("to") for h in item["history"]] == [None, "blocked", "done"]
    assert item["history"][1]["detail"]["reason"] == "等法务 review"


def test_the_export_catalog_has_both_languages() -> None:
    assert set(export_catalog.EN) == set(export_catalog.ZH)
    assert all(key.startswith("export.") for key in export_catalog.EN)
    mismatched = {
        k for k in export_catalog.EN if placeholders(export_catalog.EN[k]) != placeholders(export_catalog.ZH[k])
    }
    assert mismatched == set()
    assert {f"export.title.{name}" for name in KINDS} <= set(export_catalog.EN)
    assert utc("2026-11-26T06:00:00Z") == datetime(2026, 11, 26, 6, tzinfo=UTC)
