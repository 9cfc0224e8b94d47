"""The fake Feishu Open API driven by FeishuApi over HTTP, and the event driver checked against lark-oapi itself."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import lark_oapi as lark
import pytest
from lark_oapi.api.auth.v3 import ResendAppTicketRequest, ResendAppTicketRequestBody
from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody, CreateMessageResponse
from lark_oapi.core.exception import ObtainAccessTokenException
from lark_oapi.core.model import RawRequest
from lark_oapi.core.token import TokenManager
from lark_oapi.core.utils import AESCipher
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from handlers.feishu.api import FeishuApi, FeishuError, FeishuUser
from handlers.sandbox.feishu_api import (
    APP_TOKEN_FAILED,
    APP_TOKEN_INVALID,
    INVALID_PARAM,
    RESEND_FAILED,
    SECRET_INVALID,
    TENANT_TOKEN_FAILED,
    TOKEN_INVALID,
    FakeFeishu,
    p2p_chat_id,
)
from handlers.sandbox.feishu_driver import FeishuDriver, encrypt_payload

ALICE, BOB, CAROL, DAVE = "ou_alice0000000000000000000000001", "ou_bob", "ou_carol", "ou_dave"
GENERAL = "oc_general00000000000000000000001"
ENCRYPT_KEY = "encrypt-key-test"
VERIFICATION_TOKEN = "verification-token-test"


def card(*texts: str, shared: bool = True) -> dict[str, Any]:
    """A schema 2.0 card with one markdown element per text."""
    return {
        "schema": "2.0",
        "config": {"update_multi": shared},
        "header": {"title": {"tag": "plain_text", "content": "Title"}},
        "body": {"elements": [{"tag": "markdown", "content": text} for text in texts]},
    }


@pytest.fixture
def fake() -> Iterator[FakeFeishu]:
    with FakeFeishu() as running:
        running.add_user(ALICE, "Alice", "Alice A.")
        running.add_user(BOB, "Bob")
        running.add_user(CAROL, "Carol")
        running.add_chat(GENERAL, "general", [ALICE, BOB])
        yield running


@pytest.fixture
def api(fake: FakeFeishu) -> Iterator[FeishuApi]:
    yield FeishuApi(app_id=fake.app_id, app_secret=fake.app_secret, domain=fake.url, timeout=5)
    # lark-oapi's token cache is process-wide: a token of a generation this fake expired would be refused by the
    # next test's fake, and that refusal counted among its calls
    TokenManager.cache.set(f"self_tenant_token:{fake.app_id}", "", 0)


# ------------------------------------------------------------------ messages


def test_text_to_a_chat_and_to_a_person(fake: FakeFeishu, api: FeishuApi) -> None:
    to_chat = api.send_text(chat_id=GENERAL, text="hello 大家")
    to_alice = api.send_text(open_id=ALICE, text="just you")

    assert to_chat.chat_id == GENERAL and to_chat.message_id.startswith("om_")
    assert to_alice.chat_id == p2p_chat_id(ALICE, fake.app_id)
    assert [m["content"] for m in fake.messages_to(chat_id=GENERAL)] == [{"text": "hello 大家"}]
    assert [m["message_id"] for m in fake.messages_to(open_id=ALICE)] == [to_alice.message_id]
    method, path, body, query = fake.calls("im.message.create")[0]
    assert (method, path, query) == ("POST", "/open-apis/im/v1/messages", {"receive_id_type": "chat_id"})
    assert body is not None and isinstance(body["content"], str)


def test_a_card_is_sent_as_a_json_string_and_its_texts_can_be_read(fake: FakeFeishu, api: FeishuApi) -> None:
    sent = api.send_card(chat_id=GENERAL, card=card("**due** Friday", "owner: Bob"))

    message = fake.message(sent.message_id)
    assert message["msg_type"] == "interactive"
    assert fake.card_texts(message) == ["Title", "**due** Friday", "owner: Bob"]


def test_the_same_uuid_is_the_same_message(fake: FakeFeishu, api: FeishuApi) -> None:
    first = api.send_text(chat_id=GENERAL, text="once", uuid="coordbot-1")
    again = api.send_text(chat_id=GENERAL, text="once", uuid="coordbot-1")
    long_key = "coordbot-" + "x" * 80
    long_first = api.send_card(open_id=BOB, card=card("a"), uuid=long_key)
    long_again = api.send_card(open_id=BOB, card=card("a"), uuid=long_key)

    assert first == again and long_first == long_again
    assert len(fake.messages) == 2
    assert all(len(c.body["uuid"]) <= 50 for c in fake.calls("im.message.create") if c.body)


def test_a_reply_is_threaded_under_the_message(fake: FakeFeishu, api: FeishuApi) -> None:
    asked = fake.add_user_message(GENERAL, ALICE, "@_user_1 /action", mentions=[{"key": "@_user_1", "id": BOB}])

    reply = api.reply_text(asked["message_id"], "noted", uuid="r-1")
    second = api.reply_text(reply.message_id, "and again")

    assert reply.chat_id == GENERAL
    assert fake.message(reply.message_id)["parent_id"] == asked["message_id"]
    assert fake.message(second.message_id)["root_id"] == asked["message_id"]
    assert api.reply_text(asked["message_id"], "noted", uuid="r-1") == reply


def test_update_card_replaces_a_shared_card_in_place(fake: FakeFeishu, api: FeishuApi) -> None:
    sent = api.send_card(chat_id=GENERAL, card=card("open"))

    api.update_card(sent.message_id, card("closed"))

    message = fake.message(sent.message_id)
    assert fake.card_texts(message)[1:] == ["closed"]
    assert len(message["versions"]) == 2 and message["updated"]
    assert len(fake.messages) == 1


@pytest.mark.parametrize("target", ["text", "unshared_before", "unshared_after", "from_a_person", "unknown"])
def test_update_card_refuses_what_feishu_refuses(fake: FakeFeishu, api: FeishuApi, target: str) -> None:
    legacy = {
        "config": {"wide_screen_mode": True},
        "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": "x"}}],
    }
    message_id = {
        "text": lambda: api.send_text(chat_id=GENERAL, text="plain").message_id,
        "unshared_before": lambda: api.send_card(chat_id=GENERAL, card=legacy).message_id,
        "unshared_after": lambda: api.send_card(chat_id=GENERAL, card=card("a")).message_id,
        "from_a_person": lambda: fake.add_user_message(GENERAL, ALICE, "hi")["message_id"],
        "unknown": lambda: "om_nope",
    }[target]()
    new = card("b", shared=target != "unshared_after")

    with pytest.raises(FeishuError) as caught:
        api.update_card(message_id, new)

    assert caught.value.permanent
    assert caught.value.code in {230001, 230027}


@pytest.mark.parametrize(
    "bad",
    [
        {"schema": "2.0", "elements": [{"tag": "markdown", "content": "x"}]},  # 2.0 keeps elements in body
        {"schema": "2.0", "body": {"elements": [{"tag": "action", "actions": []}]}},  # no action module in 2.0
        {"header": {"title": {"tag": "plain_text", "content": "no elements"}}},
        {"schema": "2.0", "body": {"elements": ["markdown"]}},
    ],
)
def test_a_card_feishu_would_not_render_is_refused(fake: FakeFeishu, api: FeishuApi, bad: dict[str, Any]) -> None:
    with pytest.raises(FeishuError) as caught:
        api.send_card(chat_id=GENERAL, card=bad)

    assert caught.value.code == 230099 and caught.value.permanent
    assert fake.messages == []


def test_content_must_be_a_json_string_with_text(fake: FakeFeishu) -> None:
    answers = [
        _post(fake, "/open-apis/im/v1/messages?receive_id_type=chat_id", body)
        for body in (
            {"receive_id": GENERAL, "msg_type": "text", "content": {"text": "not a string"}},
            {"receive_id": GENERAL, "msg_type": "text", "content": json.dumps({"txt": "no text key"})},
            {"receive_id": GENERAL, "msg_type": "text", "content": "not json"},
        )
    ]

    assert [code for _, code in answers] == [99992402, 230001, 230001]
    assert fake.messages == []


def test_message_text_reads_a_text_message_with_its_mentions(fake: FakeFeishu, api: FeishuApi) -> None:
    said = fake.add_user_message(
        GENERAL,
        ALICE,
        "@_user_1 please ask @_user_10",
        mentions=[{"key": "@_user_1", "id": BOB, "name": "Bob"}, {"key": "@_user_10", "id": CAROL, "name": "Carol"}],
    )
    shown = api.send_card(chat_id=GENERAL, card=card("x"))

    assert api.message_text(said["message_id"]) == "@Bob please ask @Carol"
    assert api.message_text(shown.message_id) == ""


def test_react_and_pin(fake: FakeFeishu, api: FeishuApi) -> None:
    fake.page_size_cap = 2  # the pins arrive in pages, newest first
    ids = [api.send_text(chat_id=GENERAL, text=f"m{n}").message_id for n in range(3)]
    for message_id in (ids[1], ids[2], ids[0], ids[1]):
        api.pin(message_id)
    api.react(ids[0], "DONE")

    assert api.pins(GENERAL) == [ids[1], ids[2], ids[0]]
    assert len(fake.calls("im.pin.list")) == 2
    assert [(r["message_id"], r["reaction_type"]["emoji_type"]) for r in fake.reactions] == [(ids[0], "DONE")]


# ------------------------------------------------------------------ chats and people


def test_create_chat_add_members_and_list_them(fake: FakeFeishu, api: FeishuApi, caplog: Any) -> None:
    fake.page_size_cap = 2
    chat_id = api.create_chat(name="INC-7", description="the incident", members=[ALICE, BOB], uuid="inc-7")

    assert api.create_chat(name="INC-7", description="the incident", members=[ALICE, BOB], uuid="inc-7") == chat_id
    assert chat_id.startswith("oc_") and fake.chats[chat_id]["name"] == "INC-7"
    api.add_members(chat_id, [CAROL, DAVE])  # Dave is unknown to the app: logged, not raised
    assert api.chat_members(chat_id) == [ALICE, BOB, CAROL]
    assert "ou_dave" in caplog.text
    assert len(fake.calls("im.chat_members.get")) == 2


def test_a_chat_of_more_than_fifty_people_is_filled_in_batches(fake: FakeFeishu, api: FeishuApi) -> None:
    people = [f"ou_person{n:03d}" for n in range(60)]
    for person in people:
        fake.add_user(person, person)

    chat_id = api.create_chat(name="all hands", description="", members=people)

    assert fake.chats[chat_id]["members"] == people
    assert [len(c.body["id_list"]) for c in fake.calls("im.chat_members.create") if c.body] == [10]


def test_user_and_an_unknown_user(api: FeishuApi) -> None:
    assert api.user(ALICE) == FeishuUser(open_id=ALICE, name="Alice", en_name="Alice A.")

    with pytest.raises(FeishuError) as caught:
        api.user("ou_stranger")

    assert caught.value.code == 41050 and caught.value.permanent


@pytest.mark.parametrize(
    ("send", "code"),
    [("to_a_stranger", 230013), ("to_a_chat_without_the_bot", 230002), ("to_no_chat", 230001)],
)
def test_where_the_bot_cannot_send_is_permanent(fake: FakeFeishu, api: FeishuApi, send: str, code: int) -> None:
    fake.add_chat("oc_elsewhere", "elsewhere", [ALICE], bot_in=False)
    target = {
        "to_a_stranger": {"open_id": "ou_stranger"},
        "to_a_chat_without_the_bot": {"chat_id": "oc_elsewhere"},
        "to_no_chat": {"chat_id": "oc_missing"},
    }[send]

    with pytest.raises(FeishuError) as caught:
        api.send_text(text="hi", **target)

    assert caught.value.code == code and caught.value.permanent


# ------------------------------------------------------------------ faults and tokens


def test_a_rate_limit_says_when_to_retry(fake: FakeFeishu, api: FeishuApi) -> None:
    fake.fail_next("im.message.create", retry_after=7)

    with pytest.raises(FeishuError) as caught:
        api.send_text(chat_id=GENERAL, text="hi")
    sent = api.send_text(chat_id=GENERAL, text="hi")

    error = caught.value
    assert (error.code, error.retry_after, error.http_status, error.permanent) == (99991400, 7.0, 429, False)
    assert [m["message_id"] for m in fake.messages] == [sent.message_id]


def test_server_errors_and_pages_that_are_not_json_are_retryable(fake: FakeFeishu, api: FeishuApi) -> None:
    fake.fail_next("/open-apis/im/v1/pins", code=1500, http_status=500, msg="internal error")
    fake.fail_next("im.pin.list", raw="<html>502 Bad Gateway</html>", http_status=502)

    with pytest.raises(FeishuError) as server_error:
        api.pins(GENERAL)
    with pytest.raises(FeishuError) as gateway:
        api.pins(GENERAL)

    assert (server_error.value.code, server_error.value.http_status, server_error.value.permanent) == (1500, 500, False)
    assert gateway.value.code == -1 and not gateway.value.permanent
    assert api.pins(GENERAL) == []


def test_a_wrong_app_secret_is_a_permanent_error() -> None:
    with FakeFeishu(app_id="cli_wrong_secret") as fake:  # an app_id of its own: no token of it is cached
        api = FeishuApi(app_id="cli_wrong_secret", app_secret="not-the-secret", domain=fake.url)

        with pytest.raises(FeishuError) as caught:
            api.send_text(chat_id=GENERAL, text="hi")

        assert caught.value.code == 10014 and caught.value.permanent
        assert "not-the-secret" not in str(caught.value)
        assert fake.calls("im.message.create") == []


def test_a_token_feishu_no_longer_accepts_is_fetched_anew(fake: FakeFeishu, api: FeishuApi) -> None:
    api.send_text(chat_id=GENERAL, text="before")
    fake.expire_tokens()
    fake.reset()

    api.send_text(chat_id=GENERAL, text="after")

    assert [(c.name, c.code) for c in fake.calls()] == [
        ("im.message.create", 99991663),
        ("auth.tenant_access_token", 0),
        ("im.message.create", 0),
    ]


def test_every_call_needs_the_token(fake: FakeFeishu) -> None:
    body = {"receive_id": GENERAL, "msg_type": "text", "content": json.dumps({"text": "x"})}
    path = "/open-apis/im/v1/messages?receive_id_type=chat_id"

    assert _post(fake, path, body, token=None)[1] == 99991661
    assert _post(fake, path, body, token="t-forged")[1] == 99991663
    assert _post(fake, path, body)[1] == 0


def test_an_unreachable_feishu_is_retryable() -> None:
    with FakeFeishu() as gone:
        url = gone.url
    api = FeishuApi(app_id="cli_test", app_secret="secret", domain=url, timeout=2)

    with pytest.raises(FeishuError) as caught:
        api.send_text(chat_id=GENERAL, text="hi")

    assert caught.value.code == -1 and not caught.value.permanent


# ------------------------------------------------------------------ the event driver


@pytest.fixture
def received() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def dispatcher(received: list[tuple[str, Any]]) -> lark.EventDispatcherHandler:
    def card_action(data: Any) -> P2CardActionTriggerResponse:
        received.append(("card", data))
        return P2CardActionTriggerResponse({"toast": {"type": "success", "content": "saved"}})

    return (
        lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION_TOKEN)
        .register_p2_im_message_receive_v1(lambda data: received.append(("message", data)))
        .register_p2_card_action_trigger(card_action)
        .register_p2_im_message_reaction_created_v1(lambda data: received.append(("reacted", data)))
        .register_p2_im_message_reaction_deleted_v1(lambda data: received.append(("unreacted", data)))
        .register_p2_application_bot_menu_v6(lambda data: received.append(("menu", data)))
        .register_p2_im_chat_access_event_bot_p2p_chat_entered_v1(lambda data: received.append(("entered", data)))
        .build()
    )


@pytest.fixture
def driver() -> FeishuDriver:
    return FeishuDriver("http://127.0.0.1:9", verification_token=VERIFICATION_TOKEN, encrypt_key=ENCRYPT_KEY)


def _raw(headers: dict[str, str], body: bytes) -> RawRequest:
    request = RawRequest()
    request.uri, request.headers, request.body = "/feishu/events", headers, body
    return request


def test_encryption_round_trips_through_lark_oapi() -> None:
    plaintext = json.dumps({"text": "提交预算方案 下周五前"}, ensure_ascii=False)

    assert AESCipher(ENCRYPT_KEY).decrypt_str(encrypt_payload(plaintext, ENCRYPT_KEY)) == plaintext
    assert encrypt_payload(plaintext, ENCRYPT_KEY) != encrypt_payload(plaintext, ENCRYPT_KEY)  # a fresh IV each time


def test_lark_oapi_accepts_every_event_the_driver_builds(
    driver: FeishuDriver, dispatcher: lark.EventDispatcherHandler, received: list[tuple[str, Any]]
) -> None:
    mention = driver.bot_mention()
    envelopes = [
        driver.message_event("@_user_1 /action 提交预算方案", user=ALICE, chat=GENERAL, mentions=[mention]),
        driver.card_action_event(
            user=BOB, chat=GENERAL, message_id="om_card", value={"act": "save"}, form_value={"title": "x"}, name="ok"
        ),
        driver.reaction_event("DONE", user=CAROL, message_id="om_card"),
        driver.reaction_event("DONE", user=CAROL, message_id="om_card", removed=True),
        driver.menu_event("requirement", user=ALICE),
        driver.dm_entered_event(user=BOB),
    ]

    answers = [dispatcher.do(_raw(*driver.signed(envelope))) for envelope in envelopes]

    assert [a.status_code for a in answers] == [200] * 6
    assert json.loads(answers[1].content) == {"toast": {"type": "success", "content": "saved"}}
    kinds = dict(received)
    message = kinds["message"].event.message
    assert (message.chat_id, message.chat_type, message.mentions[0].key) == (GENERAL, "group", "@_user_1")
    assert json.loads(message.content) == {"text": "@_user_1 /action 提交预算方案"}
    assert kinds["message"].event.sender.sender_id.open_id == ALICE
    action = kinds["card"].event
    assert (action.operator.open_id, action.action.value, action.action.form_value) == (
        BOB,
        {"act": "save"},
        {"title": "x"},
    )
    assert action.context.open_message_id == "om_card" and kinds["card"].header.token == VERIFICATION_TOKEN
    assert kinds["reacted"].event.reaction_type.emoji_type == "DONE"
    assert kinds["unreacted"].event.user_id.open_id == CAROL
    assert (kinds["menu"].event.event_key, kinds["menu"].event.operator.operator_id.open_id) == ("requirement", ALICE)
    assert kinds["entered"].event.chat_id == p2p_chat_id(BOB, driver.app_id)
    assert message.mentions[0].id.open_id == driver.bot_open_id


def test_lark_oapi_refuses_a_tampered_a_forged_or_an_unsigned_event(
    driver: FeishuDriver, dispatcher: lark.EventDispatcherHandler, received: list[tuple[str, Any]]
) -> None:
    envelope = driver.message_event("@_user_1 hi", user=ALICE, chat=GENERAL)
    forger = FeishuDriver(driver.url, verification_token="wrong-token", encrypt_key=ENCRYPT_KEY)
    unsigned_headers, unsigned_body = driver.signed(envelope)
    unsigned_headers = {k: v for k, v in unsigned_headers.items() if not k.startswith("X-Lark-")}

    tampered = dispatcher.do(_raw(*driver.signed(envelope, tamper=True)))
    forged = dispatcher.do(_raw(*forger.signed(forger.message_event("hi", user=ALICE, chat=GENERAL))))
    unsigned = dispatcher.do(_raw(unsigned_headers, unsigned_body))

    assert [r.status_code != 200 for r in (tampered, forged, unsigned)] == [True, True, True]
    assert received == []
    assert dispatcher.do(_raw(*driver.signed(envelope))).status_code == 200


def test_the_long_connection_bytes_are_the_plain_envelope(
    driver: FeishuDriver, dispatcher: lark.EventDispatcherHandler, received: list[tuple[str, Any]]
) -> None:
    envelope = driver.reaction_event("THUMBSUP", user=BOB, message_id="om_1")

    dispatcher._do_without_validation(driver.envelope_bytes(envelope))  # what lark's ws client calls

    assert json.loads(driver.envelope_bytes(envelope)) == envelope
    assert received[0][1].header.event_id == envelope["header"]["event_id"]


class _EventsHandler(BaseHTTPRequestHandler):
    """Serves lark-oapi's dispatcher at /feishu/events, as an adapter would."""

    dispatcher: lark.EventDispatcherHandler

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.dispatcher.do(_raw(dict(self.headers.items()), body))
        self.send_response(answer.status_code or 500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer.content or b"")))
        self.end_headers()
        self.wfile.write(answer.content or b"")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def _events_endpoint(dispatcher: lark.EventDispatcherHandler) -> Iterator[str]:
    """An HTTP server of ``dispatcher`` on 127.0.0.1; its base URL."""
    handler = type("Handler", (_EventsHandler,), {"dispatcher": dispatcher})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint(dispatcher: lark.EventDispatcherHandler) -> Iterator[str]:
    with _events_endpoint(dispatcher) as url:
        yield url


def test_the_driver_posts_over_http_and_records_messages_in_the_fake(
    fake: FakeFeishu, api: FeishuApi, endpoint: str, received: list[tuple[str, Any]]
) -> None:
    driver = FeishuDriver(endpoint, verification_token=VERIFICATION_TOKEN, encrypt_key=ENCRYPT_KEY, fake=fake)

    said = driver.message("@_user_1 hi", user=ALICE, chat=GENERAL, mentions=[("@_user_1", BOB, "Bob")])
    whispered = driver.dm("secret plan", user=CAROL, message_id="om_whisper")
    clicked = driver.card_action(user=BOB, chat=GENERAL, message_id="om_card", value={"act": "done"})
    verified = driver.verify_url("challenge-1")
    tampered = driver.post(driver.menu_event("x", user=ALICE), tamper=True)
    unheard = driver.message("no mention", user=BOB, chat=GENERAL, message_id="om_unheard")
    menu = driver.menu_event("requirement", user=ALICE)
    redelivered = [driver.post(menu), driver.post(menu)]

    assert (said.status, said.body) == (200, {"msg": "success"})
    assert whispered.status == 200 and received[1][1].event.message.chat_type == "p2p"
    assert clicked.body == {"toast": {"type": "success", "content": "saved"}}
    assert verified.body == {"challenge": "challenge-1"}
    assert tampered.status == 500
    assert [d.status for d in redelivered] == [200, 200]
    assert unheard == (0, None) and fake.message("om_unheard")["content"] == {"text": "no mention"}
    assert received[-1][1].header.event_id == received[-2][1].header.event_id == menu["header"]["event_id"]
    said_id = received[0][1].event.message.message_id
    assert api.message_text(said_id) == "@Bob hi"
    assert api.reply_text(said_id, "got it").chat_id == GENERAL
    assert fake.message("om_whisper")["chat_id"] == p2p_chat_id(CAROL, fake.app_id)


def _post(fake: FakeFeishu, path: str, body: dict[str, Any], *, token: str | None = "valid") -> tuple[int, int]:
    """POST raw JSON to the fake; the HTTP status and Feishu's code."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token is not None:
        headers["Authorization"] = f"Bearer {fake.token if token == 'valid' else token}"
    request = urllib.request.Request(fake.url + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read())["code"]
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["code"]


def test_messages_to_one_chat_are_paced_to_five_a_second() -> None:
    """A burst to one chat waits its turn (Feishu allows about 5 a second per chat); other chats do not wait."""
    from handlers.feishu.api import ChatPace

    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pace = ChatPace(5, clock=lambda: now[0])
    waits = [pace.wait_turn("chat_id:oc_a", sleep) for _ in range(12)]
    # five go at once; the sixth and the eleventh each wait for the next second
    assert waits == [0.0] * 5 + [1.0] + [0.0] * 4 + [1.0] + [0.0]
    assert now[0] == pytest.approx(2.0)
    assert pace.wait_turn("chat_id:oc_b", sleep) == 0.0


def test_a_groups_members_come_with_their_names_in_one_call() -> None:
    """Reading a group's members (for @names in typed text) costs one member-list call, not a contact lookup
    per person."""
    from bot.services.prefs import Preferences
    from handlers.feishu.people import FeishuPeople

    with FakeFeishu(app_id="cli_members_names") as fake:
        people_ids = [f"ou_p{i}" for i in range(30)]
        for i, open_id in enumerate(people_ids):
            fake.add_user(open_id, f"同事{i}")
        fake.add_chat("oc_big", "大群", people_ids)
        api = FeishuApi(app_id=fake.app_id, app_secret=fake.app_secret, domain=fake.url)
        people = FeishuPeople(
            api, workspace="feishu:t", prefs=cast(Preferences, None), default_tz="Asia/Shanghai", default_lang="zh"
        )
        members = people.members("oc_big")
        assert [(m.id, m.name) for m in members][:2] == [("ou_p0", "同事0"), ("ou_p1", "同事1")]
        assert len(members) == 30 and people.name_of("ou_p7") == "同事7"
        assert fake.calls("contact") == []


# ------------------------------------------------------------------ a store app, installed by many tenants

STORE_APP = "cli_store_test"
ACME, GLOBEX, INITECH = "tenant_acme", "tenant_globex", "tenant_initech"
ELSEWHERE = "oc_elsewhere0000000000000000000001"


def _forget_store_tokens() -> None:
    """lark-oapi caches a store app's tokens process-wide (by app_id, and tenant): none may reach another test."""
    TokenManager.cache.set(f"isv_app_token:{STORE_APP}", "", 0)
    for tenant in (ACME, GLOBEX, INITECH):
        TokenManager.cache.set(f"isv_tenant_token:{STORE_APP}:{tenant}", "", 0)


@pytest.fixture
def store() -> Iterator[FakeFeishu]:
    """A store app's Feishu: Acme and Globex installed it (Initech did not)."""
    _forget_store_tokens()
    with FakeFeishu(app_id=STORE_APP, marketplace=True) as running:
        running.add_user(ALICE, "Alice")
        running.add_user(BOB, "Bob")
        running.add_chat(GENERAL, "general", [ALICE])
        running.add_chat(ELSEWHERE, "elsewhere", [BOB])
        running.install(ACME)
        running.install(GLOBEX)
        yield running
    _forget_store_tokens()


@pytest.fixture
def client(store: FakeFeishu) -> lark.Client:
    """lark-oapi as a store app."""
    return (
        lark.Client.builder()
        .app_id(store.app_id)
        .app_secret(store.app_secret)
        .app_type(lark.AppType.ISV)
        .domain(store.url)
        .log_level(lark.LogLevel.WARNING)
        .build()
    )


def _send_for(client: lark.Client, tenant: str, ticket: str, chat_id: str, text: str) -> CreateMessageResponse:
    """Send ``text`` to ``chat_id`` as the store app, for ``tenant``, with ``ticket``."""
    body = (
        CreateMessageRequestBody.builder()
        .receive_id(chat_id)
        .msg_type("text")
        .content(json.dumps({"text": text}))
        .build()
    )
    request = CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()
    option = lark.RequestOption.builder().tenant_key(tenant).app_ticket(ticket).build()
    return client.im.v1.message.create(request, option)


def _bearer_of(call: Any) -> str:
    return str(call.headers.get("Authorization", "")).removeprefix("Bearer ")


def test_each_installed_tenant_gets_its_own_token_and_its_calls_are_its_own(
    store: FakeFeishu, client: lark.Client
) -> None:
    to_acme = _send_for(client, ACME, store.app_ticket, GENERAL, "hello Acme")
    to_globex = _send_for(client, GLOBEX, store.app_ticket, ELSEWHERE, "hello Globex")

    assert to_acme.success() and to_globex.success()
    assert [(c.name, c.tenant, c.code) for c in store.calls()] == [
        ("auth.app_access_token", None, 0),  # once: lark-oapi keeps the app's token
        ("auth.isv_tenant_access_token", None, 0),
        ("im.message.create", ACME, 0),
        ("auth.isv_tenant_access_token", None, 0),
        ("im.message.create", GLOBEX, 0),
    ]
    # (lark-oapi builds every token request on one shared body: each also carries the fields of the ones before)
    app_call, acme_call, _, globex_call, _ = [c.body or {} for c in store.calls()]
    assert (app_call["app_id"], app_call["app_secret"], app_call["app_ticket"]) == (
        STORE_APP,
        store.app_secret,
        store.app_ticket,
    )
    assert (acme_call["app_access_token"], acme_call["tenant_key"]) == (store.app_token, ACME)
    assert (globex_call["app_access_token"], globex_call["tenant_key"]) == (store.app_token, GLOBEX)
    tokens = [c.response["tenant_access_token"] for c in store.calls("auth.isv_tenant_access_token")]
    assert tokens == [store.tenant_token(ACME), store.tenant_token(GLOBEX)] and tokens[0] != tokens[1]
    assert [_bearer_of(c) for c in store.calls("im.message.create")] == tokens
    assert store.app_token.startswith("a-") and all(t.startswith("t-") for t in tokens)
    assert [(m["chat_id"], m["tenant_key"]) for m in store.messages] == [(GENERAL, ACME), (ELSEWHERE, GLOBEX)]


def test_only_the_current_ticket_gets_the_app_its_token(store: FakeFeishu, client: lark.Client) -> None:
    stale = store.app_ticket
    fresh = store.new_ticket()

    with pytest.raises(ObtainAccessTokenException) as caught:
        _send_for(client, ACME, stale, GENERAL, "hi")
    sent = _send_for(client, ACME, fresh, GENERAL, "hi")

    assert fresh != stale and len(fresh) >= 24
    assert caught.value.code == APP_TOKEN_FAILED
    assert sent.success()
    assert [(c.name, c.code) for c in store.calls()] == [
        ("auth.app_access_token", APP_TOKEN_FAILED),
        ("auth.app_access_token", 0),
        ("auth.isv_tenant_access_token", 0),
        ("im.message.create", 0),
    ]


def test_a_tenant_without_the_app_gets_no_token(store: FakeFeishu, client: lark.Client) -> None:
    with pytest.raises(ObtainAccessTokenException) as never_installed:
        _send_for(client, INITECH, store.app_ticket, GENERAL, "hi")
    assert _send_for(client, ACME, store.app_ticket, GENERAL, "before").success()
    old_token = store.tenant_token(ACME)

    store.uninstall(ACME)
    with_the_old_token = _send_for(client, ACME, store.app_ticket, GENERAL, "after")  # lark-oapi kept the token
    _forget_store_tokens()
    with pytest.raises(ObtainAccessTokenException) as uninstalled:
        _send_for(client, ACME, store.app_ticket, GENERAL, "after")
    store.install(ACME)

    assert never_installed.value.code == uninstalled.value.code == TENANT_TOKEN_FAILED
    assert with_the_old_token.code == TOKEN_INVALID
    assert store.calls("im.message.create")[-1].tenant is None
    assert store.installed == {ACME, GLOBEX} and store.tenant_token(ACME) != old_token  # a reinstall: new tokens
    with pytest.raises(KeyError):
        store.tenant_token(INITECH)
    assert [m["content"] for m in store.messages] == [{"text": "before"}]


def test_expired_tokens_of_a_store_app_are_refused_and_fetched_anew(store: FakeFeishu, client: lark.Client) -> None:
    _send_for(client, ACME, store.app_ticket, GENERAL, "before")
    old_app_token = store.app_token
    store.expire_tokens()
    store.reset()

    refused = _send_for(client, ACME, store.app_ticket, GENERAL, "cached tenant token")
    TokenManager.cache.set(f"isv_tenant_token:{STORE_APP}:{ACME}", "", 0)
    with pytest.raises(ObtainAccessTokenException) as stale_app_token:
        _send_for(client, ACME, store.app_ticket, GENERAL, "cached app token")
    _forget_store_tokens()
    sent = _send_for(client, ACME, store.app_ticket, GENERAL, "all anew")

    assert refused.code == TOKEN_INVALID and stale_app_token.value.code == APP_TOKEN_INVALID
    assert sent.success() and store.app_token != old_app_token
    assert [(c.name, c.code, c.tenant) for c in store.calls()] == [
        ("im.message.create", TOKEN_INVALID, None),
        ("auth.isv_tenant_access_token", APP_TOKEN_INVALID, None),
        ("auth.app_access_token", 0, None),
        ("auth.isv_tenant_access_token", 0, None),
        ("im.message.create", 0, ACME),
    ]


def test_the_app_ticket_event_is_signed_and_read_by_lark_oapi(driver: FeishuDriver) -> None:
    tickets: list[Any] = []
    dispatcher = (
        lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION_TOKEN)
        .register_p1_customized_event("app_ticket", tickets.append)
        .build()
    )

    event = driver.app_ticket_event(STORE_APP, "ticket-1")
    answer = dispatcher.do(_raw(*driver.signed(event)))

    assert set(event) == {"uuid", "token", "ts", "type", "event"}
    assert (event["token"], event["type"]) == (VERIFICATION_TOKEN, "event_callback")
    assert event["event"] == {"app_id": STORE_APP, "app_ticket": "ticket-1", "type": "app_ticket"}
    assert float(event["ts"]) > 0 and len(event["uuid"]) == 32
    assert answer.status_code == 200
    assert (tickets[0].uuid, tickets[0].event["app_ticket"]) == (event["uuid"], "ticket-1")
    tampered = dispatcher.do(_raw(*driver.signed(driver.app_ticket_event(STORE_APP, "forged"), tamper=True)))
    assert tampered.status_code != 200 and len(tickets) == 1


def test_asking_for_the_ticket_again_pushes_it_to_the_app_after_the_answer(
    store: FakeFeishu, client: lark.Client
) -> None:
    tickets: list[str] = []
    arrived = threading.Event()
    answered = threading.Event()
    seen_answered: list[bool] = []

    def ticket_event(data: Any) -> None:
        tickets.append(data.event["app_ticket"])
        arrived.set()

    dispatcher = (
        lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION_TOKEN)
        .register_p1_customized_event("app_ticket", ticket_event)
        .build()
    )
    with _events_endpoint(dispatcher) as url:
        driver = FeishuDriver(url, verification_token=VERIFICATION_TOKEN, encrypt_key=ENCRYPT_KEY, app_id=STORE_APP)

        def push(ticket: str) -> None:
            seen_answered.append(answered.wait(5))  # pushing before the answer would hold the call up
            driver.deliver_app_ticket(STORE_APP, ticket)

        store.on_ticket_resend = push
        wrong = ResendAppTicketRequestBody.builder().app_id(STORE_APP).app_secret("not-the-secret").build()
        refused = client.auth.v3.app_ticket.resend(ResendAppTicketRequest.builder().request_body(wrong).build())
        body = ResendAppTicketRequestBody.builder().app_id(STORE_APP).app_secret(store.app_secret).build()
        resent = client.auth.v3.app_ticket.resend(ResendAppTicketRequest.builder().request_body(body).build())
        answered.set()

        assert arrived.wait(5)
    sent = _send_for(client, GLOBEX, tickets[0], ELSEWHERE, "with the pushed ticket")

    assert refused.code == SECRET_INVALID and resent.success()
    assert seen_answered == [True] and tickets == [store.app_ticket]
    assert sent.success()
    assert [c.tenant for c in store.calls("auth.app_ticket.resend")] == [None, None]


def test_the_store_endpoints_are_a_store_apps_and_the_internal_token_a_custom_apps(
    fake: FakeFeishu, api: FeishuApi, store: FakeFeishu
) -> None:
    credentials = {"app_id": fake.app_id, "app_secret": fake.app_secret}
    app_token = "/open-apis/auth/v3/app_access_token"
    tenant_token = "/open-apis/auth/v3/tenant_access_token"
    resend = "/open-apis/auth/v3/app_ticket/resend"
    internal = "/open-apis/auth/v3/tenant_access_token/internal"

    custom_app = [
        _post(fake, app_token, {**credentials, "app_ticket": store.app_ticket}, token=None)[1],
        _post(fake, tenant_token, {"app_access_token": store.app_token, "tenant_key": ACME}, token=None)[1],
        _post(fake, resend, credentials, token=None)[1],
    ]
    store_app = [
        _post(store, internal, {"app_id": store.app_id, "app_secret": store.app_secret}, token=None)[1],
        _post(store, resend, {"app_id": "cli_other", "app_secret": store.app_secret}, token=None)[1],
        _post(
            store, app_token, {"app_id": store.app_id, "app_secret": "nope", "app_ticket": store.app_ticket}, token=None
        )[1],
        _post(store, "/open-apis/im/v1/pins", {"message_id": "om_x"}, token=store.token)[1],
    ]
    api.send_text(chat_id=GENERAL, text="a custom app's call")

    assert custom_app == [INVALID_PARAM, APP_TOKEN_INVALID, RESEND_FAILED]
    assert store_app == [INVALID_PARAM, INVALID_PARAM, SECRET_INVALID, TOKEN_INVALID]
    assert {c.tenant for c in fake.calls() if c.name.startswith("auth.")} == {None}
    assert [(c.tenant, c.code) for c in fake.calls("im.message.create")] == [(fake.tenant_key, 0)]
    assert fake.messages[0]["tenant_key"] == fake.tenant_key


def test_a_driver_of_another_tenant_speaks_for_that_tenant(
    store: FakeFeishu, endpoint: str, received: list[tuple[str, Any]]
) -> None:
    driver = FeishuDriver(
        endpoint,
        verification_token=VERIFICATION_TOKEN,
        encrypt_key=ENCRYPT_KEY,
        tenant_key=GLOBEX,
        app_id=STORE_APP,
        fake=store,
    )

    said = driver.message("@_user_1 hi", user=BOB, chat=ELSEWHERE, mentions=[driver.bot_mention()])
    clicked = driver.card_action(user=BOB, chat=ELSEWHERE, message_id="om_card", value={"act": "done"})

    assert said.status == clicked.status == 200
    message, card = received[0][1], received[1][1]
    assert message.header.tenant_key == card.header.tenant_key == GLOBEX
    assert message.header.app_id == STORE_APP
    assert message.event.sender.tenant_key == message.event.message.mentions[0].tenant_key == GLOBEX
    assert card.event.operator.tenant_key == GLOBEX
    recorded = store.message(message.event.message.message_id)
    assert recorded["tenant_key"] == recorded["mentions"][0]["tenant_key"] == GLOBEX
