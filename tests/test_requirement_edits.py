"""Field errors, edits and revisions, change requests, open questions, lists and the record view."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.blocks.requirement import Ids
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, GENERAL
from tests.conftest import Bot
from tests.helpers import SHEET_VALUES, block_text, create_sheet, history_actions, open_modal, record, wait_until


def submit_errors(bot: Bot, **values: object) -> dict[str, str]:
    """Submit the modal with these values and return the field errors Slack would show."""
    open_modal(bot, user=CAROL)
    reply = bot.slack.submit_view({**SHEET_VALUES, **values}, user=CAROL)
    assert reply.status == 200
    body = reply.json() or {}
    assert body.get("response_action") == "errors", reply.body
    return dict(body["errors"])


def test_due_in_the_past_is_a_field_error(bot: Bot) -> None:
    errors = submit_errors(bot, due="2026-11-20")
    assert errors == {"due": "This time has already passed."}
    assert bot.fake.calls("chat.postMessage") == []


def test_confirm_by_after_due_is_a_field_error(bot: Bot) -> None:
    errors = submit_errors(bot, confirm_by="2026-12-25 10:00")
    assert errors == {"confirm_by": "Signatures must be due before the expected completion."}


def test_confirm_by_in_the_past_is_a_field_error(bot: Bot) -> None:
    errors = submit_errors(bot, confirm_by="yesterday")
    assert errors == {"confirm_by": "This time has already passed."}


def test_unreadable_dates_are_field_errors_in_the_language_they_were_written_in(bot: Bot) -> None:
    errors = submit_errors(bot, due="尽快", confirm_by="whenever")  # Carol reads English
    assert errors == {"due": "无法识别“尽快”中的日期。", "confirm_by": "I couldn't read a date in “whenever”."}


def test_dates_in_words_are_read_in_the_writers_timezone(bot: Bot) -> None:
    create_sheet(bot, user=BOB, due="next Friday", confirm_by="tomorrow 3pm")  # Bob: America/New_York
    row = record(bot)
    new_york = ZoneInfo("America/New_York")
    assert row.due_at == datetime(2026, 12, 4, 18, 0, tzinfo=new_york)
    assert row.confirm_by == datetime(2026, 11, 27, 15, 0, tzinfo=new_york)


def test_unknown_and_ambiguous_people_in_questions_are_field_errors(bot: Bot) -> None:
    assert submit_errors(bot, open_questions="Which API? — @nobody") == {
        "open_questions": "Nobody in this workspace is called @nobody."
    }
    bot.fake.add_user("U_LEE1", "lee.a", real_name="Lee An", display_name="lee")
    bot.fake.add_user("U_LEE2", "lee.b", real_name="Lee Bo", display_name="lee")
    bot.runtime.directory.load()
    errors = submit_errors(bot, open_questions="Which API? — @lee")
    assert errors["open_questions"].startswith("Several people match @lee")
    # a handle that matches exactly is not ambiguous, even when first names collide
    bot.fake.add_user("U_ALICE2", "alice.w", real_name="Alice Wu")
    bot.runtime.directory.load()
    create_sheet(bot, open_questions="Which API? — @alice")
    assert "<@U_ALICE>" in block_text(bot.fake.messages(GENERAL)[-1])


def test_unreadable_question_deadline_names_the_line(bot: Bot) -> None:
    errors = submit_errors(bot, open_questions="First question\nSecond — @bob — when pigs fly")
    assert errors == {"open_questions": "Line 2: I couldn't read a date in “when pigs fly”."}


def test_field_errors_follow_the_users_language(bot: Bot) -> None:
    open_modal(bot, user=ALICE)  # zh-CN
    reply = bot.slack.submit_view({**SHEET_VALUES, "due": "2026-11-01"}, user=ALICE)
    assert (reply.json() or {})["errors"] == {"due": "这个时间已经过去了。"}


def test_text_over_the_limit_is_refused(bot: Bot) -> None:
    errors = submit_errors(bot, requester_dept="x" * 151)
    assert errors == {"requester_dept": "Keep it under 150 characters."}


def test_questions_with_owners_and_deadlines_are_shown_and_answerable(bot: Bot) -> None:
    message = create_sheet(
        bot, open_questions="Which API version? — @carol — tomorrow 3pm\n<@U_ALICE> Budget approved?\nHosting provider"
    )
    text = block_text(message)
    assert "1. Which API version? — <@U_CAROL>" in text
    assert "2. Budget approved? — <@U_ALICE>" in text
    assert "3. Hosting provider — <@U_BOB>" in text  # the receiver owner by default
    # "tomorrow 3pm" as Alice (Asia/Shanghai) wrote it: 2026-11-27 15:00 +08:00
    stamp = int(datetime(2026, 11, 27, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())
    assert f"<!date^{stamp}^" in text
    assert bot.slack.click(Ids.ANSWERED, user=CAROL, message=message, value=None).status == 200
    bot.fake.wait_for("chat.update")
    text = block_text(bot.fake.message(GENERAL, message["ts"]) or {})
    assert "~Which API version?~ — answered by <@U_CAROL>" in text


def test_edit_before_confirmation_creates_a_revision_and_clears_signatures(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=BOB)
    bot.fake.wait_for("chat.update", 1)
    before = len(bot.fake.calls("views.open"))
    bot.slack.click(Ids.EDIT, user=ALICE, message=message)
    view = bot.fake.wait_for("views.open", before + 1)[-1].params["view"]
    goal = next(b for b in view["blocks"] if b.get("block_id") == "goal")
    assert goal["element"]["initial_value"] == SHEET_VALUES["goal"]
    assert "channel" not in [b.get("block_id") for b in view["blocks"]]
    reply = bot.slack.submit_view({"goal": "Sign-ups +30% by March."}, user=ALICE)
    assert reply.status == 200 and reply.json() is None
    bot.fake.wait_for("chat.update", 2)
    text = block_text(bot.fake.message(GENERAL, message["ts"]) or {})
    assert "Sign-ups +30% by March." in text and "revision 2" in text
    assert text.count("has not signed yet") == 2
    row = record(bot)
    assert (row.revision, row.status) == (2, "awaiting")
    assert history_actions(bot, row.id or 0) == ["created", "signed", "revised"]


def test_edit_after_confirmation_needs_both_signatures_again(bot: Bot) -> None:
    message = create_sheet(bot)
    for user in (ALICE, BOB):
        bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=user)
    wait_until(lambda: record(bot).status == "confirmed", what="confirmation")
    bot.slack.click(Ids.EDIT, user=ALICE, message=bot.fake.message(GENERAL, message["ts"]))
    bot.fake.wait_for("views.open", 2)
    bot.slack.submit_view({"description": "Also a FAQ section."}, user=ALICE)
    wait_until(lambda: record(bot).revision == 2, what="revision 2")
    assert record(bot).status == "awaiting" and record(bot).confirmed_at is None


def test_only_requester_or_author_may_edit(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.click(Ids.EDIT, user=BOB, message=message)
    reply = bot.fake.wait_for("response_url")[0]
    assert reply.params["text"] == "Only the requester owner or the author can edit this record."
    assert len(bot.fake.calls("views.open")) == 1


def test_stale_edit_is_refused(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.click(Ids.EDIT, user=ALICE, message=message)
    first = bot.fake.wait_for("views.open", 2)[-1].params["view"]
    bot.slack.submit_view({"goal": "A"}, user=ALICE)
    wait_until(lambda: record(bot).revision == 2, what="revision 2")
    latest = bot.fake.last_view(open_only=False)
    assert latest is not None
    stale = dict(first, id=latest["id"])  # the same form, submitted again
    bot.slack.submit_view({"goal": "B"}, user=ALICE, view=stale)
    notice = wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == ALICE], what="stale notice"
    )[0]
    assert notice.params["text"] == "RW-2026-001 在你打开后已被修改（现为第 2 版），请重新点编辑。"
    assert record(bot).revision == 2 and record(bot).goal == "A"


def test_request_changes_asks_for_a_reason_and_notifies_the_requester(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.click(Ids.REQUEST_CHANGES, user=BOB, message=message)
    view = bot.fake.wait_for("views.open", 2)[-1].params["view"]
    assert view["callback_id"] == Ids.CHANGES_MODAL
    reply = bot.slack.submit_view({}, user=BOB, enforce_required=False)
    assert (reply.json() or {}).get("errors") == {"reason": "This field is required."}
    reply = bot.slack.submit_view({"reason": "Budget <!here> is missing"}, user=BOB)
    assert reply.status == 200 and reply.json() is None
    dm = wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == ALICE],
        what="DM to the requester owner",
    )[0]
    assert "RW-2026-001" in dm.params["text"] and "Budget &lt;!here&gt; is missing" in dm.params["text"]
    assert "要求修改" in dm.params["text"]  # Alice reads Chinese
    row = record(bot)
    assert row.status == "changes_requested" and row.change_reason == "Budget <!here> is missing"
    bot.fake.wait_for("chat.update")
    assert "Changes requested" in block_text(bot.fake.message(GENERAL, message["ts"]) or {})
    # signing waits for a new revision
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=ALICE)
    wait_until(lambda: bot.fake.calls("chat.postEphemeral"), what="refusal")
    assert record(bot).status == "changes_requested"


def test_list_and_record_view(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=ALICE)
    bot.fake.wait_for("chat.update")
    assert bot.slack.slash("/requirement", "list", user=BOB).status == 200
    listing = bot.fake.wait_for("response_url")[0].params
    text = block_text(listing)
    assert "Awaiting your signature" in text and "*RW-2026-001*" in text
    assert bot.slack.slash("/requirement", "rw-2026-001", user=CAROL).status == 200
    view = bot.fake.wait_for("response_url", 2)[-1].params
    text = block_text(view)
    assert "History" in text and "created revision 1" in text and "signed revision 1" in text
    assert "https://coordbot-test.slack.com/archives/C_GENERAL/p" in text
    assert bot.slack.slash("/requirement", "RW-2026-999", user=CAROL).status == 200
    missing = bot.fake.wait_for("response_url", 3)[-1].params
    assert missing["text"] == "There is no requirement RW-2026-999."


def test_help_and_unknown_subcommand(bot: Bot) -> None:
    reply = bot.slack.slash("/requirement", "help", user=CAROL)
    assert reply.status == 200 and "/requirement list" in reply.body
    bot.slack.slash("/requirement", "frobnicate", user=CAROL)
    assert "Try /requirement help" in bot.fake.wait_for("response_url")[0].params["text"]


def test_typing_a_date_echoes_what_was_understood_in_the_readers_time(bot: Bot) -> None:
    open_modal(bot, user=BOB)  # America/New_York, English
    assert bot.slack.type_in("due", "下周五下午3点前", user=BOB).status == 200
    update = bot.fake.wait_for("views.update")[0]
    blocks = update.params["view"]["blocks"]
    echo = next(b for b in blocks if b.get("block_id") == "due_echo")["elements"][0]["text"]
    stamp = int(datetime(2026, 12, 4, 15, 0, tzinfo=ZoneInfo("America/New_York")).timestamp())
    assert echo.startswith(f"→ <!date^{stamp}^{{date_long_pretty}} {{time}}|2026-12-04 15:00 America/New_York>")
    assert update.params["hash"]  # guards against a stale update
    bot.slack.type_in("due", "someday", user=BOB)
    second = bot.fake.wait_for("views.update", 2)[-1].params["view"]["blocks"]
    assert (
        next(b for b in second if b.get("block_id") == "due_echo")["elements"][0]["text"]
        == "⚠️ I couldn't read a date in “someday”."
    )
    assert record_count(bot) == 0  # nothing is stored while typing


def record_count(bot: Bot) -> int:
    """How many requirements exist."""
    from sqlalchemy import func, select

    from storage.models import Requirement

    with bot.runtime.services.session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(Requirement)) or 0)
