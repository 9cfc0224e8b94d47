"""Tests of the fake Slack Web API and the request driver, independent of the bot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from handlers.sandbox.driver import SlackDriver, view_state
from handlers.sandbox.slack_api import ALICE, BOB, BOT, CAROL, DAVE, GENERAL, FakeSlack
from handlers.serving.http import Server

SECRET = "test-signing-secret"


def section(text: str, **extra: Any) -> dict[str, Any]:
    """A mrkdwn section block."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str, value: str, label: str = "Go") -> dict[str, Any]:
    """A plain button element."""
    return {"type": "button", "action_id": action_id, "value": value, "text": {"type": "plain_text", "text": label}}


def plain(text: str) -> dict[str, str]:
    """A plain_text object."""
    return {"type": "plain_text", "text": text}


def option(value: str) -> dict[str, Any]:
    """A select/checkbox option."""
    return {"text": plain(value.title()), "value": value}


def input_block(block_id: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    """An input block wrapping one element."""
    return {"type": "input", "block_id": block_id, "optional": optional, "label": plain(block_id), "element": element}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


@pytest.fixture
def received() -> list[dict[str, Any]]:
    """Bodies the Bolt app's listeners saw."""
    return []


@pytest.fixture
def app(fake: FakeSlack, received: list[dict[str, Any]]) -> App:
    bolt = App(
        signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=fake.api_url), process_before_response=True
    )

    @bolt.command("/ping")
    def ping(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        received.append(body)
        client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "ping_modal",
                "title": plain("Ping"),
                "submit": plain("Send"),
                "blocks": [input_block("note", {"type": "plain_text_input", "action_id": "note_input"})],
            },
        )
        respond(text="pong", response_type="in_channel")

    @bolt.view("ping_modal")
    def ping_modal(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        received.append(body)
        note = view["state"]["values"]["note"]["note_input"]["value"]
        if note == "bad":
            ack(response_action="errors", errors={"note": "Not like that"})
        else:
            ack()

    @bolt.view("typed")
    def typed(ack: Ack, body: dict[str, Any]) -> None:
        received.append(body)
        ack()

    @bolt.action("approve")
    def approve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        received.append(body)
        respond(replace_original=True, text=f"approved by {body['user']['id']}")

    @bolt.action("home_refresh")
    def home_refresh(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        received.append(body)

    @bolt.event("reaction_added")
    def reaction(event: dict[str, Any], request: BoltRequest, body: dict[str, Any]) -> None:
        received.append({**body, "retry_num": request.headers.get("x-slack-retry-num")})

    @bolt.event("app_home_opened")
    def home(event: dict[str, Any], body: dict[str, Any]) -> None:
        received.append(body)

    @bolt.shortcut("file_it")
    def file_it(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        received.append(body)

    return bolt


@pytest.fixture
def driver(app: App, fake: FakeSlack) -> Iterator[SlackDriver]:
    server = Server(app, signing_secret=SECRET, host="127.0.0.1", port=0).start_background()
    try:
        yield SlackDriver(server.url + "/slack/events", SECRET, fake)
    finally:
        server.shutdown()


# ---------------------------------------------------------------------- Web API


def test_post_update_and_permalink_round_trip(fake: FakeSlack, client: WebClient) -> None:
    first = client.chat_postMessage(channel=GENERAL, text="hello", blocks=[section("*hello*")])
    second = client.chat_postMessage(channel=GENERAL, text="again")

    assert first["ts"] == "1790000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == GENERAL
    assert first["message"]["user"] == BOT and first["message"]["text"] == "hello"
    assert first["message"]["blocks"][0]["block_id"]  # Slack fills in missing block ids
    call = fake.calls("chat.postMessage")[0]
    assert call.params["blocks"] == [section("*hello*")]
    assert call.headers["Authorization"] == "Bearer xoxb-test"

    updated = client.chat_update(channel=GENERAL, ts=first["ts"], text="edited", blocks=[section("_edited_")])
    assert updated["text"] == "edited"
    stored = fake.message(GENERAL, first["ts"])
    assert stored is not None
    assert stored["text"] == "edited"
    assert stored["blocks"][0]["text"]["text"] == "_edited_"
    assert [m["text"] for m in fake.messages(GENERAL)] == ["edited", "again"]

    link = client.chat_getPermalink(channel=GENERAL, message_ts=first["ts"])
    assert link["permalink"] == "https://coordbot-test.slack.com/archives/C_GENERAL/p1790000000000100"
    with pytest.raises(SlackApiError) as missing:
        client.chat_getPermalink(channel=GENERAL, message_ts="1.000000")
    assert missing.value.response["error"] == "message_not_found"


def test_posting_to_a_user_lands_in_the_dm(fake: FakeSlack, client: WebClient) -> None:
    opened = client.conversations_open(users=BOB)
    assert opened["channel"]["id"] == "DU_BOB"
    assert fake.calls("conversations.open")[0].params["users"] == BOB

    posted = client.chat_postMessage(channel=BOB, text="psst")
    assert posted["channel"] == "DU_BOB"
    assert fake.message(BOB, posted["ts"]) == fake.message("DU_BOB", posted["ts"])
    assert fake.messages(GENERAL) == []


def test_users_info_reports_timezone_and_locale_only_on_request(client: WebClient) -> None:
    alice = client.users_info(user=ALICE, include_locale=True)["user"]
    assert alice["tz"] == "Asia/Shanghai" and alice["tz_offset"] == 8 * 3600
    assert alice["locale"] == "zh-CN"
    assert alice["profile"]["display_name"] == "alice" and alice["real_name"] == "Alice Chen"

    bob = client.users_info(user=BOB)["user"]
    expected = datetime.now(ZoneInfo("America/New_York")).utcoffset()
    assert expected is not None and bob["tz_offset"] == int(expected.total_seconds())
    assert "locale" not in bob
    with pytest.raises(SlackApiError) as missing:
        client.users_info(user="U_NOBODY")
    assert missing.value.response["error"] == "user_not_found"


def test_users_list_pages_with_cursor(fake: FakeSlack, client: WebClient) -> None:
    pages = [page["members"] for page in client.users_list(limit=2)]

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [u["id"] for p in pages for u in p] == [ALICE, BOB, CAROL, DAVE, BOT]
    assert [c.params.get("cursor", "") != "" for c in fake.calls("users.list")] == [False, True, True]
    with pytest.raises(SlackApiError) as bad:
        client.users_list(cursor="bm9wZQ==")
    assert bad.value.response["error"] == "invalid_cursor"


def test_form_encoded_params_are_normalised(fake: FakeSlack, client: WebClient) -> None:
    client.api_call(
        "chat.postMessage", params={"channel": GENERAL, "text": "x", "blocks": json.dumps([section("form")])}
    )
    client.api_call("conversations.open", params={"users": f"{ALICE},{BOB}"})

    assert fake.calls("chat.postMessage")[0].params["blocks"] == [section("form")]
    assert fake.calls("conversations.open")[0].params["users"] == f"{ALICE},{BOB}"
    assert fake.messages(GENERAL)[0]["blocks"][0]["text"]["text"] == "form"


def test_tokens_are_checked(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=fake.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"
    auth = WebClient(base_url=fake.api_url).auth_test(token="xoxb-test")
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == (BOT, "B0001", "T0001")


def test_unknown_methods_are_answered_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as unknown:
        client.api_call("chat.teleport", json={"channel": GENERAL})
    assert unknown.value.response["error"] == "unknown_method"
    assert fake.calls("chat.teleport")[0].params == {"channel": GENERAL}


def test_channels_members_create_and_invite(fake: FakeSlack, client: WebClient) -> None:
    fake.set_channel("C_SECRET", name="secret", members=[ALICE, BOB], is_private=True, bot_is_member=True)

    info = client.conversations_info(channel="C_SECRET")["channel"]
    assert (info["name"], info["is_private"], info["is_member"]) == ("secret", True, True)
    general = client.conversations_info(channel=GENERAL)["channel"]
    assert general["is_private"] is False and general["is_member"] is False  # the bot joins no channel by itself
    assert client.conversations_members(channel="C_SECRET")["members"] == [ALICE, BOB, BOT]
    assert client.conversations_members(channel=GENERAL)["members"] == [ALICE, BOB, CAROL, DAVE]

    created = client.conversations_create(name="inc-42")["channel"]
    assert created["id"].startswith("C") and created["name"] == "inc-42"
    with pytest.raises(SlackApiError) as taken:
        client.conversations_create(name="inc-42")
    assert taken.value.response["error"] == "name_taken"
    client.conversations_invite(channel=created["id"], users=[ALICE, CAROL])
    assert client.conversations_members(channel=created["id"])["members"] == [ALICE, CAROL, BOT]
    with pytest.raises(SlackApiError) as again:
        client.conversations_invite(channel=created["id"], users=ALICE)
    assert again.value.response["error"] == "already_in_channel"


def test_history_and_replies_answer_from_the_message_store(fake: FakeSlack, client: WebClient) -> None:
    fake.invite_bot(GENERAL)  # channels:history reads only conversations the bot is in
    first = fake.add_message(GENERAL, "disk full on db-1", user=BOB)
    second = client.chat_postMessage(channel=GENERAL, text="looking")["ts"]
    reply = fake.add_message(GENERAL, "it's the WAL", user=CAROL, thread_ts=first["ts"])

    newest = client.conversations_history(channel=GENERAL, limit=1)
    assert [m["ts"] for m in newest["messages"]] == [second] and newest["has_more"] is True
    one = client.conversations_history(channel=GENERAL, latest=first["ts"], oldest=first["ts"], inclusive=True)
    assert [(m["text"], m["user"]) for m in one["messages"]] == [("disk full on db-1", BOB)]
    assert client.conversations_history(channel=GENERAL, latest=first["ts"], oldest=first["ts"])["messages"] == []
    assert reply["ts"] not in [m["ts"] for m in client.conversations_history(channel=GENERAL)["messages"]]

    thread = client.conversations_replies(channel=GENERAL, ts=reply["ts"])
    assert [m["ts"] for m in thread["messages"]] == [first["ts"], reply["ts"]]
    narrowed = client.conversations_replies(
        channel=GENERAL, ts=first["ts"], oldest=reply["ts"], latest=reply["ts"], inclusive=True
    )
    assert [m["text"] for m in narrowed["messages"]] == ["disk full on db-1", "it's the WAL"]
    with pytest.raises(SlackApiError) as missing:
        client.conversations_replies(channel=GENERAL, ts="1.000001")
    assert missing.value.response["error"] == "thread_not_found"
    fake.set_channel("C_OUTSIDE", name="outside", bot_is_member=False)
    with pytest.raises(SlackApiError) as outside:
        client.conversations_history(channel="C_OUTSIDE")
    assert outside.value.response["error"] == "not_in_channel"


def test_who_is_in_a_conversation_like_slack_says_it(fake: FakeSlack, client: WebClient) -> None:
    fake.set_channel("G_HIDDEN", name="hidden", members=[ALICE], is_private=True, bot_is_member=False)
    for call in (client.conversations_info, client.conversations_members):
        with pytest.raises(SlackApiError) as hidden:  # a private channel the bot is not in does not exist for it
            call(channel="G_HIDDEN")
        assert hidden.value.response["error"] == "channel_not_found"
    fake.set_channel("C_OPEN", name="open", bot_is_member=False)
    assert client.conversations_info(channel="C_OPEN")["channel"]["is_private"] is False
    dm = client.conversations_info(channel="D" + BOB)["channel"]
    assert (dm["is_im"], dm["user"]) == (True, BOB)
    assert client.conversations_members(channel="D" + BOB)["members"] == [BOB, BOT]
    first = client.conversations_members(channel=GENERAL, limit=3)
    rest = client.conversations_members(channel=GENERAL, cursor=first["response_metadata"]["next_cursor"])
    assert first["members"] + rest["members"] == [ALICE, BOB, CAROL, DAVE]
    assert rest["response_metadata"]["next_cursor"] == ""

    fake.add_user("U_GUEST", "gina", guest=True)
    assert client.users_info(user="U_GUEST")["user"]["is_restricted"] is True
    assert client.users_info(user=ALICE)["user"]["is_restricted"] is False


def test_reactions_pins_and_ephemerals(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=GENERAL, text="vote")["ts"]
    client.reactions_add(channel=GENERAL, timestamp=ts, name="white_check_mark")
    client.pins_add(channel=GENERAL, timestamp=ts)
    client.chat_postEphemeral(channel=GENERAL, user=CAROL, text="only you")

    stored = fake.message(GENERAL, ts)
    assert stored is not None
    assert stored["reactions"] == [{"name": "white_check_mark", "users": [BOT], "count": 1}]
    assert stored["pinned_to"] == [GENERAL]
    with pytest.raises(SlackApiError) as twice:
        client.reactions_add(channel=GENERAL, timestamp=ts, name="white_check_mark")
    assert twice.value.response["error"] == "already_reacted"
    assert [e["text"] for e in fake.ephemerals(user=CAROL)] == ["only you"]


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "blocks",
    [
        pytest.param([{"type": "section", "text": "bare string"}], id="text-not-object"),
        pytest.param([{"type": "header", "text": {"type": "mrkdwn", "text": "hi"}}], id="mrkdwn-header"),
        pytest.param([{"type": "fancy"}], id="unknown-type"),
        pytest.param([{"type": "actions", "elements": [{"type": "bogus"}]}], id="unknown-element"),
        pytest.param([{"type": "section"}], id="empty-section"),
        pytest.param([section("x")] * 51, id="too-many"),
        pytest.param([section("a", block_id="dup"), section("b", block_id="dup")], id="duplicate-block-id"),
    ],
)
def test_invalid_blocks_are_rejected_like_slack(
    fake: FakeSlack, client: WebClient, blocks: list[dict[str, Any]]
) -> None:
    with pytest.raises(SlackApiError) as rejected:
        client.chat_postMessage(channel=GENERAL, text="x", blocks=blocks)

    assert rejected.value.response["error"] == "invalid_blocks"
    assert rejected.value.response["errors"]
    call = fake.calls("chat.postMessage")[0]
    assert call.error is not None and call.error.startswith("invalid_blocks")
    assert fake.validation_errors and fake.messages() == []


def test_valid_message_leaves_no_validation_errors(fake: FakeSlack, client: WebClient) -> None:
    blocks = [
        {"type": "header", "text": plain("Title")},
        section("body"),
        {"type": "actions", "elements": [button("approve", "1", "Approve")]},
    ]
    client.chat_postMessage(channel=GENERAL, text="x", blocks=blocks)
    with pytest.raises(SlackApiError) as too_long:
        client.chat_postMessage(channel=GENERAL, text="x" * 40_001)

    assert too_long.value.response["error"] == "msg_too_long"
    assert fake.validation_errors == ["chat.postMessage: text is 40001 characters (max 40000)"]


def test_views_are_validated_and_triggers_are_single_use(fake: FakeSlack, client: WebClient) -> None:
    no_submit = {
        "type": "modal",
        "title": plain("T"),
        "blocks": [input_block("a", {"type": "plain_text_input", "action_id": "a"})],
    }
    trigger = fake.new_trigger_id()
    with pytest.raises(SlackApiError) as invalid:
        client.views_open(trigger_id=trigger, view=no_submit)
    assert invalid.value.response["error"] == "invalid_blocks"

    opened = client.views_open(trigger_id=trigger, view={**no_submit, "submit": plain("OK")})["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["root_view_id"] == opened["id"]
    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view={**no_submit, "submit": plain("OK")})
    assert reused.value.response["error"] == "trigger_exchanged"
    with pytest.raises(SlackApiError) as made_up:
        client.views_open(trigger_id="123.456.abc", view={**no_submit, "submit": plain("OK")})
    assert made_up.value.response["error"] == "invalid_trigger_id"

    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view={**no_submit, "submit": plain("OK"), "title": plain("T2")}
    )["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view={**no_submit, "submit": plain("OK")})
    assert stale.value.response["error"] == "hash_conflict"


def test_expired_trigger() -> None:
    with FakeSlack(trigger_ttl=0.0) as strict:
        trigger = strict.new_trigger_id()
        time.sleep(0.01)
        late = WebClient(token="xoxb-test", base_url=strict.api_url)
        with pytest.raises(SlackApiError) as expired:
            late.views_open(trigger_id=trigger, view={"type": "modal", "title": plain("T"), "blocks": [section("x")]})
    assert expired.value.response["error"] == "expired_trigger_id"


# ---------------------------------------------------------------------- faults


def test_rate_limit_is_retried_after_retry_after(fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(builtin_handlers, "time", SimpleNamespace(sleep=slept.append))
    fake.fail("chat.postMessage", status=429, retry_after=1)
    patient = WebClient(
        token="xoxb-test", base_url=fake.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )

    posted = patient.chat_postMessage(channel=GENERAL, text="eventually")

    assert posted["ok"] is True
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 200]
    assert len(slept) == 1 and slept[0] >= 1


def test_rate_limit_without_retry_surfaces_429(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("users.info", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        client.users_info(user=ALICE)
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"
    assert client.users_info(user=ALICE)["ok"] is True


def test_error_server_error_and_delay_faults(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as failed:
            client.chat_postMessage(channel=GENERAL, text="x")
        assert failed.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel=GENERAL, text="x")["ok"] is True

    fake.fail("auth.test", status=500)
    with pytest.raises(SlackApiError) as broken:
        client.auth_test()
    assert broken.value.response.status_code == 500

    fake.fail("auth.test", delay=0.2)
    started = time.perf_counter()
    client.auth_test()
    assert time.perf_counter() - started >= 0.2


def test_wait_for_names_the_methods_seen(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"'views.open'.*auth\.test"):
        fake.wait_for("views.open", timeout=0.05)
    assert len(fake.wait_for("auth.test")) == 1
    fake.reset()
    assert fake.calls() == []


def test_response_url_posts_and_replaces(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=GENERAL, text="original")["ts"]
    bound = fake.new_response_url(channel=GENERAL, message_ts=ts, user=ALICE)
    loose = fake.new_response_url(channel=GENERAL, user=ALICE)

    replaced = WebhookClient(bound).send(text="replaced", replace_original=True)
    WebhookClient(loose).send(text="for everyone", response_type="in_channel")
    WebhookClient(loose).send(text="just for alice")

    assert replaced.status_code == 200 and json.loads(replaced.body) == {"ok": True}
    assert [c.params["_url"] for c in fake.calls("response_url")] == [bound, loose, loose]
    assert [m["text"] for m in fake.messages(GENERAL)] == ["replaced", "for everyone"]
    assert [e["text"] for e in fake.ephemerals(user=ALICE)] == ["just for alice"]


# ---------------------------------------------------------------------- driver


def test_driver_signatures_verify(driver: SlackDriver) -> None:
    body = "token=x&text=hello"
    headers = driver.headers_for(body)

    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert driver.post(body, "application/x-www-form-urlencoded", signature="v0=bad").status == 401
    stale = driver.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600)
    assert stale.status == 401


def test_url_verification(driver: SlackDriver) -> None:
    reply = driver.url_verification("abc123")
    assert reply.status == 200 and reply.json() == {"challenge": "abc123"}


def test_slash_command_opens_modal_and_submission_flows(
    driver: SlackDriver, fake: FakeSlack, received: list[dict[str, Any]]
) -> None:
    reply = driver.slash("/ping", "hi there", user=BOB)

    assert reply.status == 200 and reply.acked_in_time
    command = received[0]
    assert (command["command"], command["text"], command["user_id"], command["user_name"]) == (
        "/ping",
        "hi there",
        BOB,
        "bob",
    )
    assert command["channel_name"] == "general" and command["is_enterprise_install"] == "false"
    assert [m["text"] for m in fake.messages(GENERAL)] == ["pong"]
    modal = fake.last_view("ping_modal")
    assert modal is not None

    rejected = driver.submit_view({"note": "bad"}, user=BOB)
    assert rejected.json() == {"response_action": "errors", "errors": {"note": "Not like that"}}
    assert fake.is_view_open(modal["id"])

    assert driver.submit_view({"note": "fine"}, user=BOB).status == 200
    submitted = received[-1]
    assert submitted["view"]["id"] == modal["id"] and submitted["view"]["callback_id"] == "ping_modal"
    assert submitted["view"]["state"]["values"] == {
        "note": {"note_input": {"type": "plain_text_input", "value": "fine"}}
    }
    assert submitted["user"] == {"id": BOB, "username": "bob", "name": "bob", "team_id": "T0001"}
    assert not fake.is_view_open(modal["id"])
    with pytest.raises(ValueError, match="required input 'note'"):
        driver.submit_view({}, view=modal)


def test_submit_view_maps_every_element_type(
    driver: SlackDriver, fake: FakeSlack, client: WebClient, received: list[dict[str, Any]]
) -> None:
    due = datetime(2025, 3, 4, 9, 30, tzinfo=ZoneInfo("UTC"))
    blocks = [
        input_block("title", {"type": "plain_text_input", "action_id": "v", "initial_value": "draft"}),
        input_block("notes", {"type": "plain_text_input", "action_id": "v"}, optional=True),
        input_block("owner", {"type": "users_select", "action_id": "v"}),
        input_block("reviewers", {"type": "multi_users_select", "action_id": "v", "initial_users": [CAROL]}),
        input_block(
            "priority", {"type": "static_select", "action_id": "v", "options": [option("low"), option("high")]}
        ),
        input_block("due", {"type": "datepicker", "action_id": "v"}),
        input_block("at", {"type": "datetimepicker", "action_id": "v"}),
        input_block("where", {"type": "conversations_select", "action_id": "v"}),
        input_block("also", {"type": "multi_conversations_select", "action_id": "v"}),
        input_block("room", {"type": "channels_select", "action_id": "v"}),
        input_block("flags", {"type": "checkboxes", "action_id": "v", "options": [option("urgent"), option("public")]}),
        input_block(
            "kind",
            {
                "type": "radio_buttons",
                "action_id": "v",
                "options": [option("bug"), option("task")],
                "initial_option": option("task"),
            },
        ),
        input_block("points", {"type": "number_input", "action_id": "v", "is_decimal_allowed": False}),
    ]
    view = {
        "type": "modal",
        "callback_id": "typed",
        "title": plain("Typed"),
        "submit": plain("Save"),
        "blocks": blocks,
        "private_metadata": "ctx-1",
    }
    client.views_open(trigger_id=fake.new_trigger_id(user=ALICE), view=view)

    driver.submit_view(
        {
            "owner": BOB,
            "priority": "high",
            "due": due.date(),
            "at": due,
            "where": GENERAL,
            "also": [GENERAL, "C_OTHER"],
            "room": GENERAL,
            "flags": ["urgent"],
            "points": 5,
        },
        callback_id="typed",
    )

    values = {k: v["v"] for k, v in received[-1]["view"]["state"]["values"].items()}
    assert values == {
        "title": {"type": "plain_text_input", "value": "draft"},
        "notes": {"type": "plain_text_input", "value": None},
        "owner": {"type": "users_select", "selected_user": BOB},
        "reviewers": {"type": "multi_users_select", "selected_users": [CAROL]},
        "priority": {"type": "static_select", "selected_option": option("high")},
        "due": {"type": "datepicker", "selected_date": "2025-03-04"},
        "at": {"type": "datetimepicker", "selected_date_time": int(due.timestamp())},
        "where": {"type": "conversations_select", "selected_conversation": GENERAL},
        "also": {"type": "multi_conversations_select", "selected_conversations": [GENERAL, "C_OTHER"]},
        "room": {"type": "channels_select", "selected_channel": GENERAL},
        "flags": {"type": "checkboxes", "selected_options": [option("urgent")]},
        "kind": {"type": "radio_buttons", "selected_option": option("task")},
        "points": {"type": "number_input", "value": "5"},
    }
    assert received[-1]["view"]["private_metadata"] == "ctx-1"
    assert received[-1]["type"] == "view_submission" and received[-1]["response_urls"] == []
    with pytest.raises(ValueError, match="'medium' is not an option"):
        view_state(view, {"priority": "medium"})
    with pytest.raises(ValueError, match="no input block"):
        view_state(view, {"typo": "x"})


def test_click_finds_the_button_and_respond_replaces_the_message(
    driver: SlackDriver, fake: FakeSlack, client: WebClient, received: list[dict[str, Any]]
) -> None:
    blocks = [
        section("Sign off?"),
        {"type": "actions", "block_id": "decide", "elements": [button("approve", "req-7", "Approve")]},
    ]
    ts = client.chat_postMessage(channel=GENERAL, text="Sign off?", blocks=blocks)["ts"]

    reply = driver.click("approve", user=DAVE)

    assert reply.status == 200
    action = received[-1]
    assert action["actions"][0]["value"] == "req-7" and action["actions"][0]["block_id"] == "decide"
    assert action["container"] == {"type": "message", "message_ts": ts, "channel_id": GENERAL, "is_ephemeral": False}
    assert action["message"]["ts"] == ts and action["channel"] == {"id": GENERAL, "name": "general"}
    stored = fake.message(GENERAL, ts)
    assert stored is not None and stored["text"] == f"approved by {DAVE}"
    with pytest.raises(AssertionError, match="nope"):
        driver.click("nope", message={"channel": GENERAL, "ts": ts})


def test_click_in_app_home_view(
    driver: SlackDriver, fake: FakeSlack, client: WebClient, received: list[dict[str, Any]]
) -> None:
    client.views_publish(
        user_id=ALICE,
        view={"type": "home", "blocks": [{"type": "actions", "elements": [button("home_refresh", "now", "Refresh")]}]},
    )
    home = fake.home_view(ALICE)
    assert home is not None

    assert driver.app_home_opened(ALICE).status == 200
    assert received[-1]["event"]["view"]["id"] == home["id"]
    driver.click("home_refresh", view=home)
    assert received[-1]["container"] == {"type": "view", "view_id": home["id"]}
    assert received[-1]["view"]["type"] == "home" and received[-1]["actions"][0]["value"] == "now"


def test_react_sends_event_callback(
    driver: SlackDriver, fake: FakeSlack, client: WebClient, received: list[dict[str, Any]]
) -> None:
    ts = client.chat_postMessage(channel=GENERAL, text="react to me")["ts"]
    fake.invite_bot(GENERAL)  # Slack sends reactions only from conversations the bot is in

    driver.react("thumbsup", channel=GENERAL, ts=ts, user=CAROL, event_id="Ev0001")
    driver.react("thumbsup", channel=GENERAL, ts=ts, user=CAROL, event_id="Ev0001", retry_num=1)

    first, retried = received[-2], received[-1]
    assert first["type"] == "event_callback" and first["event_id"] == "Ev0001"
    assert first["event"]["item"] == {"type": "message", "channel": GENERAL, "ts": ts}
    assert first["event"]["user"] == CAROL and first["event"]["item_user"] == BOT
    assert first["authorizations"][0]["user_id"] == BOT
    assert first["retry_num"] is None and retried["retry_num"] == ["1"]
    stored = fake.message(GENERAL, ts)
    assert stored is not None and stored["reactions"][0]["users"] == [CAROL]


def test_message_shortcut_payload(driver: SlackDriver, fake: FakeSlack, received: list[dict[str, Any]]) -> None:
    said = fake.add_message(GENERAL, "we should ship friday", user=BOB)

    assert driver.shortcut("file_it", user=ALICE, message=said).status == 200
    assert driver.shortcut("file_it", user=ALICE).status == 200

    message_action, global_shortcut = received[-2], received[-1]
    assert message_action["type"] == "message_action" and message_action["message_ts"] == said["ts"]
    assert message_action["message"]["user"] == BOB and message_action["channel"]["name"] == "general"
    assert message_action["response_url"].startswith(fake.base_url)
    assert global_shortcut["type"] == "shortcut" and "message" not in global_shortcut
