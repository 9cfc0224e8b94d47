"""Builders validated by slack_sdk.models, and the modal's build/parse round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.people import Member
from bot.services.requirements import (
    QuestionInfo,
    RequirementDraft,
    RequirementInfo,
    Role,
    SignatureInfo,
    Status,
)
from handlers.blocks import requirement as b
from handlers.blocks.common import escape, truncate
from tests.fakes.driver import view_state

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
MEMBERS = [Member("U_ALICE", "alice", "alice", "Alice Chen"), Member("U_BOB", "bob", "bob", "Bob Smith")]


def validate_blocks(blocks: list[Block]) -> list[dict[str, Any]]:
    """Serialize with Slack's validators and parse back."""
    dicts = [blk.to_dict() for blk in blocks]
    assert len(dicts) <= 50
    for d in dicts:
        parsed = Block.parse(d)
        assert parsed is not None
        parsed.to_dict()
    return dicts


def info(**overrides: Any) -> RequirementInfo:
    """A requirement with every field filled to the limit."""
    long = "<&>" * 1000
    base: dict[str, Any] = dict(
        id=7, code="RW-2026-007", team_id="T1", revision=3, status=Status.AWAITING, author_id="U_ALICE",
        requester_dept="D" * 150, requester_owner="U_ALICE", receiver_dept="E" * 150, receiver_owner="U_BOB",
        background=long, goal=long, description=long, priority="high", due=NOW + timedelta(days=10),
        resources=long, confirm_by=NOW + timedelta(days=1), channel_id="C1", message_ts="1.2",
        change_reason=long, created_at=NOW, updated_at=NOW, confirmed_at=None,
        signatures=(SignatureInfo(Role.REQUESTER, "U_ALICE", "reaction", NOW),),
        questions=tuple(QuestionInfo(i, i, "q<" * 250, "U_BOB", NOW + timedelta(days=1),
                                     NOW if i % 2 else None, "U_BOB" if i % 2 else None) for i in range(20)),
    )
    base.update(overrides)
    return RequirementInfo(**base)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("status", list(Status))
def test_sheet_at_every_limit_is_valid_block_kit(lang: str, status: Status) -> None:
    req = info(status=status, confirmed_at=NOW if status == Status.CONFIRMED else None)
    dicts = validate_blocks(b.sheet_blocks(lang, req, tz="Asia/Shanghai"))
    text = str(dicts)
    assert "<&>" not in text and "&lt;&amp;&gt;" in text
    actions = [e["action_id"] for d in dicts if d["type"] == "actions" for e in d["elements"]]
    assert (b.Ids.CONFIRM in actions) == (status == Status.AWAITING)
    assert "… and 5 more" in text or "另有 5 项" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_modals_are_valid_views(lang: str) -> None:
    draft = info().draft()
    for view in (
        b.modal(lang, meta=b.ModalMeta("C1"), user_id="U_ALICE", now=NOW, tz="UTC"),
        b.modal(lang, meta=b.ModalMeta("C1", 7, 3), user_id="U_ALICE", now=NOW, tz="UTC", draft=draft,
                code="RW-2026-007"),
        b.changes_modal(lang, requirement=info()),
    ):
        d = view.to_dict()
        View(**d).to_dict()
        assert len(d["private_metadata"]) < 3000
        assert len(d["title"]["text"]) <= 24


def test_list_and_record_views_are_valid() -> None:
    many = [info(id=i, code=f"RW-2026-{i:03d}") for i in range(20)]
    validate_blocks(b.list_blocks("en", awaiting=many, latest=many, tz="UTC"))
    validate_blocks(b.list_blocks("zh", awaiting=[], latest=[], tz="UTC"))
    from bot.services.requirements import HistoryItem
    history = tuple(HistoryItem(NOW, "U_ALICE", "changes_requested", {"reason": "<!channel>" * 100, "revision": 1})
                    for _ in range(40))
    dicts = validate_blocks(b.record_blocks("en", info(history=history), tz="UTC", permalink="https://x/y"))
    assert "<!channel>" not in str(dicts)


def test_modal_round_trip_gives_back_the_draft() -> None:
    draft = RequirementDraft(
        requester_dept="Marketing", requester_owner="U_ALICE", receiver_dept="Engineering", receiver_owner="U_BOB",
        background="bg", goal="goal", description="desc", priority="low",
        due=datetime(2026, 12, 10, 18, 0, tzinfo=UTC), confirm_by=NOW + timedelta(hours=5), channel_id="C1",
        resources="two designers",
        questions=(b.QuestionInfo(1, 0, "Which API?", "U_BOB", NOW + timedelta(days=1)),),  # type: ignore[arg-type]
    )
    from bot.services.requirements import QuestionDraft
    draft = RequirementDraft(**{**draft.__dict__, "questions": (QuestionDraft("Which API?", "U_BOB",
                                                                              NOW + timedelta(days=1)),)})
    view = b.modal("en", meta=b.ModalMeta("C1", 1, 1), user_id="U_ALICE", now=NOW, tz="UTC", draft=draft,
                   code="RW-2026-001").to_dict()
    state = view_state(view, {})
    parsed = b.parse_form(state["values"], now=NOW, tz="UTC", members=MEMBERS, default_channel="C1")
    assert parsed == draft


def test_parse_form_tolerates_missing_and_malformed_values() -> None:
    from bot.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        b.parse_form({"due": {"value": {"selected_date": "12/10/2026"}}, "confirm_by": "nonsense"},
                     now=NOW, tz="UTC", members=MEMBERS)
    assert set(exc.value.field_errors) == {"due"}
    with pytest.raises(ValidationFailed) as exc:
        b.parse_form({}, now=NOW, tz="UTC", members=MEMBERS)
    assert exc.value.field_errors["due"][0] == "error.required"


def test_modal_meta_survives_garbage() -> None:
    assert b.ModalMeta.load("not json") == b.ModalMeta("")
    assert b.ModalMeta.load(b.ModalMeta("C1", 4, 2).dump()) == b.ModalMeta("C1", 4, 2)


def test_escape_and_truncate() -> None:
    assert escape("<!here> & <@U1>\x00\x07") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    cut = truncate("a" * 10 + "&amp;" + "b" * 10, 13)
    assert cut == "a" * 10 + "…"
    assert truncate("short", 10) == "short"


def test_default_sign_by_is_a_day_ahead_on_a_quarter_hour() -> None:
    odd = datetime(2026, 11, 26, 6, 7, 31, tzinfo=UTC)
    view = b.modal("en", meta=b.ModalMeta("C1"), user_id="U_ALICE", now=odd, tz="UTC").to_dict()
    picker = next(x for x in view["blocks"] if x.get("block_id") == "confirm_by")["element"]
    assert datetime.fromtimestamp(picker["initial_date_time"], UTC) == datetime(2026, 11, 27, 6, 15, tzinfo=UTC)
