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
from handlers.sandbox.driver import view_state

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
        id=7,
        code="RW-2026-007",
        team_id="T1",
        revision=3,
        status=Status.AWAITING,
        author_id="U_ALICE",
        requester_dept="D" * 150,
        requester_owner="U_ALICE",
        receiver_dept="E" * 150,
        receiver_owner="U_BOB",
        background=long,
        goal=long,
        description=long,
        priority="high",
        due=NOW + timedelta(days=10),
        resources=long,
        confirm_by=NOW + timedelta(days=1),
        channel_id="C1",
        message_ts="1.2",
        change_reason=long,
        created_at=NOW,
        updated_at=NOW,
        confirmed_at=None,
        signatures=(SignatureInfo(Role.REQUESTER, "U_ALICE", "reaction", NOW),),
        questions=tuple(
            QuestionInfo(
                i, i, "q<" * 250, "U_BOB", NOW + timedelta(days=1), NOW if i % 2 else None, "U_BOB" if i % 2 else None
            )
            for i in range(20)
        ),
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
        b.modal(lang, meta=b.ModalMeta("C1"), user_id="U_ALICE", now=NOW, tz="UTC", members=MEMBERS),
        b.modal(
            lang,
            meta=b.ModalMeta("C1", 7, 3),
            user_id="U_ALICE",
            now=NOW,
            tz="UTC",
            draft=draft,
            code="RW-2026-007",
            members=MEMBERS,
        ),
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

    history = tuple(
        HistoryItem(NOW, "U_ALICE", "changes_requested", {"reason": "<!channel>" * 100, "revision": 1})
        for _ in range(40)
    )
    dicts = validate_blocks(b.record_blocks("en", info(history=history), tz="UTC", permalink="https://x/y"))
    assert "<!channel>" not in str(dicts)


def test_modal_round_trip_gives_back_the_draft() -> None:
    draft = RequirementDraft(
        requester_dept="Marketing",
        requester_owner="U_ALICE",
        receiver_dept="Engineering",
        receiver_owner="U_BOB",
        background="bg",
        goal="goal",
        description="desc",
        priority="low",
        due=datetime(2026, 12, 10, 18, 0, tzinfo=UTC),
        confirm_by=NOW + timedelta(hours=5),
        channel_id="C1",
        resources="two designers",
        questions=(b.QuestionInfo(1, 0, "Which API?", "U_BOB", NOW + timedelta(days=1)),),  # type: ignore[arg-type]
    )
    from bot.services.requirements import QuestionDraft

    draft = RequirementDraft(
        **{**draft.__dict__, "questions": (QuestionDraft("Which API?", "U_BOB", NOW + timedelta(days=1)),)}
    )
    view = b.modal(
        "en",
        meta=b.ModalMeta("C1", 1, 1),
        user_id="U_ALICE",
        now=NOW,
        tz="UTC",
        draft=draft,
        code="RW-2026-001",
        members=MEMBERS,
    ).to_dict()
    state = view_state(view, {})
    parsed = b.parse_form(state["values"], now=NOW, tz="UTC", members=MEMBERS, default_channel="C1")
    assert parsed == draft


def test_parse_form_tolerates_missing_and_malformed_values() -> None:
    from bot.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        b.parse_form(
            {
                "due": {"value": {"value": ["not", "text"]}},
                "confirm_by": "nonsense",
                "open_questions": {"value": {"value": "Q — @nobody"}},
            },
            now=NOW,
            tz="UTC",
            members=MEMBERS,
        )
    assert {k: v[0] for k, v in exc.value.field_errors.items()} == {
        "due": "error.required",
        "confirm_by": "error.required",
        "open_questions": "error.unknown_person",
    }
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


def test_new_modal_echoes_its_default_sign_by_time() -> None:
    view = b.modal(
        "zh", meta=b.ModalMeta("C1"), user_id="U_ALICE", now=NOW, tz="Asia/Shanghai", members=MEMBERS
    ).to_dict()
    field = next(x for x in view["blocks"] if x.get("block_id") == "confirm_by")
    assert field["element"]["initial_value"] == "24小时内"
    assert field["dispatch_action"] is True
    echo = next(x for x in view["blocks"] if x.get("block_id") == "confirm_by_echo")
    stamp = int((NOW + timedelta(hours=24)).timestamp())
    assert echo["elements"][0]["text"].startswith(f"→ <!date^{stamp}^{{date_long_pretty}} {{time}}|")


def test_echoes_say_what_was_understood_or_what_is_wrong() -> None:
    typed = {"due": "下周五", "confirm_by": "yesterday", "open_questions": "API? — @bob — soon-ish"}
    echoes = b.echo_texts("en", typed, now=NOW, tz="Asia/Shanghai", members=MEMBERS)
    friday = int(datetime(2026, 12, 4, 10, 0, tzinfo=UTC).timestamp())  # 18:00 in Shanghai
    assert echoes["due"].startswith(f"→ <!date^{friday}^")
    assert echoes["confirm_by"] == "⚠️ This time has already passed."
    assert echoes["open_questions"] == "⚠️ Line 1: I couldn't read a date in “soon-ish”."
    view = b.modal("en", meta=b.ModalMeta("C1"), user_id="U_ALICE", now=NOW, tz="UTC", members=MEMBERS).to_dict()
    updated = b.with_echoes(view, echoes).to_dict()
    assert [x.get("block_id") for x in updated["blocks"]] == [x.get("block_id") for x in view["blocks"]]
    assert next(x for x in updated["blocks"] if x.get("block_id") == "due_echo")["elements"][0]["text"] == echoes["due"]
    View(**updated).to_dict()
