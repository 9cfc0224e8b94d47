"""The weekly digest's chart on Feishu: drawn as Slack's is, uploaded with the Open API's image upload and shown
in the digest card by its image_key; never costing the digest. And the fake's side of it: the upload it answers,
the image keys it lets a card show."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from lark_oapi.core.token import TokenManager
from PIL import Image

from bot import charts
from bot.config import Settings
from bot.services import Services
from bot.services import charts as charts_service
from bot.services.actions import ActionDraft, ActionStatus
from bot.services.digest_text import Schedule
from bot.text import t
from handlers.feishu.api import FeishuApi, FeishuError
from handlers.feishu.cards.common import validate_card
from handlers.feishu.due import make_feishu_deliver
from handlers.feishu.people import FeishuPeople
from handlers.sandbox.feishu_api import FakeFeishu
from storage.db import make_engine, make_session_scope, migrate
from tests import test_feishu
from tests.conftest import START, FixedClock
from tests.helpers import wait_until
from tests.test_feishu import BOB, CHAT, FeishuBot
from tests.test_feishu import WS as BOT_WS
from tests.test_feishu_due import ALICE, CAROL, GENERAL, TZ, WS, Env

feishu_bot = test_feishu.feishu_bot  # the deployment of tests/test_feishu.py: Slack and Feishu over real HTTP
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QUIET = "oc_quiet"  # a group with no action items: nothing to draw
FRIDAY_3PM = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # the digest's time: Friday 15:00 in Shanghai


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """A Feishu tenant's due work with digest charts on (the default), real services and outbox, the fake API."""
    fake = FakeFeishu().start()
    for open_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        fake.add_user(open_id, name)
    fake.add_chat(GENERAL, "general", [ALICE, BOB, CAROL])
    fake.add_chat(QUIET, "quiet", [ALICE, BOB])
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'coordbot.db'}",
        tz=TZ,
        lang="en",
        work_hours="00:00-23:59",
        work_days="mon-sun",
        feishu_app_id=fake.app_id,
        feishu_app_secret=fake.app_secret,
        feishu_domain=fake.url,
    )
    assert settings.digest_charts
    engine = make_engine(settings.database_url)
    migrate(engine)
    services = Services.build(settings, make_session_scope(engine), clock=FixedClock())
    api = FeishuApi(app_id=fake.app_id, app_secret=fake.app_secret, domain=fake.url)
    people = FeishuPeople(api, workspace=WS, prefs=services.prefs, default_tz=TZ, default_lang="en")
    deliver = make_feishu_deliver(api, services, lambda _team: people)
    yield Env(fake, services, people, deliver)
    fake.stop()
    engine.dispose()


@pytest.fixture
def fake() -> Iterator[FakeFeishu]:
    """The fake Open API alone, with a group chat."""
    with FakeFeishu() as running:
        running.add_user(ALICE, "Alice")
        running.add_chat(GENERAL, "general", [ALICE])
        yield running


@pytest.fixture
def api(fake: FakeFeishu) -> Iterator[FeishuApi]:
    """A client of the fake."""
    yield FeishuApi(app_id=fake.app_id, app_secret=fake.app_secret, domain=fake.url, timeout=5)
    # lark-oapi's token cache is process-wide: a token of a generation this fake expired would be refused by the
    # next test's fake, and that refusal counted among its calls
    TokenManager.cache.set(f"self_tenant_token:{fake.app_id}", "", 0)


# -- helpers ----------------------------------------------------------------------------------------------------


def images_in(node: Any) -> list[dict[str, Any]]:
    """Every img element of a card, in order."""
    if isinstance(node, dict):
        found = [node] if node.get("tag") == "img" else []
        return found + [img for value in node.values() for img in images_in(value)]
    if isinstance(node, list):
        return [img for item in node for img in images_in(item)]
    return []


def items(env: Env, chat: str = GENERAL) -> None:
    """Bob's action items in the weeks the chart draws: one done two weeks ago, one still open."""
    actions = env.services.actions
    created = START - timedelta(days=20)
    [done, _] = actions.create_many(
        team_id=WS,
        creator_id=ALICE,
        now=created,
        channel_id=chat,
        drafts=[
            ActionDraft("Send the budget", BOB, created + timedelta(days=3)),
            ActionDraft("Book the venue", BOB, START + timedelta(days=3)),
        ],
    )
    actions.set_status(done.id, user_id=BOB, status=ActionStatus.DONE, now=START - timedelta(days=12))


def weekly(env: Env, chat: str = GENERAL) -> dict[str, Any]:
    """Subscribe the chat (Fridays 15:00), deliver its digest from the outbox, and return the card posted."""
    sub = env.services.digests.subscribe(
        team_id=WS, channel_id=chat, user_id=ALICE, schedule=Schedule(4, time(15, 0)), now=START
    )
    assert sub.next_at == FRIDAY_3PM
    report = env.tick(FRIDAY_3PM + timedelta(minutes=1))
    assert (report.sent, report.failed) == (1, 0), report
    [digest] = [m for m in env.fake.messages_to(chat_id=chat) if m["sender_type"] == "app"]
    assert digest["msg_type"] == "interactive"
    validate_card(digest["content"])
    return digest


def without_charts(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """COORDBOT_DIGEST_CHARTS=0."""
    monkeypatch.setattr(env.services, "settings", dataclasses.replace(env.services.settings, digest_charts=False))


# -- the weekly digest from the outbox --------------------------------------------------------------------------


def test_the_weekly_digest_card_shows_the_chart_uploaded_as_an_image(env: Env) -> None:
    items(env)
    env.services.prefs.set_channel_lang(WS, GENERAL, "zh", now=START)
    digest = weekly(env)

    [upload] = env.fake.calls("im.image.create")
    assert upload.files["image_type"] == b"message" and upload.code == 0
    [img] = images_in(digest["content"])
    key = img["img_key"]
    assert key.startswith("img_v3_") and key in env.fake.images
    png = env.fake.images[key]
    assert png.startswith(PNG_MAGIC) and upload.files["image"] == png
    assert Image.open(io.BytesIO(png)).size == (charts.WIDTH_PX, charts.HEIGHT_PX)
    # the chart Slack's digest would share, in the chat's language and the deployment's timezone
    weeks = charts_service.action_weeks(env.services.session_scope, team_id=WS, channel_id=GENERAL, now=FRIDAY_3PM)
    assert (weeks.open[-1], sum(weeks.done)) == (1, 1)
    assert png == charts.actions_chart(weeks, "zh", tz=TZ).png
    assert img["alt"] == {"tag": "plain_text", "content": t("zh", "chart.actions.title", weeks=charts_service.WEEKS)}
    assert img["scale_type"] == "fit_horizontal"
    # below the counts and the trend, above the lists
    elements = digest["content"]["body"]["elements"]
    assert [e["tag"] for e in elements[:4]] == ["markdown", "markdown", "img", "hr"]
    assert "ACT-2026-002" in json.dumps(elements[4:], ensure_ascii=False)
    uploaded, sent = (c.at for c in env.fake.calls() if c.name in ("im.image.create", "im.message.create"))
    assert uploaded <= sent


def test_with_charts_off_nothing_is_uploaded_and_the_card_has_no_image(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    items(env)
    without_charts(env, monkeypatch)
    digest = weekly(env)
    assert env.fake.calls("im.image.create") == []
    assert images_in(digest["content"]) == [] and env.fake.images == {}
    assert "ACT-2026-002" in json.dumps(digest["content"], ensure_ascii=False)


def test_a_chat_with_nothing_to_draw_gets_its_digest_without_a_chart(env: Env) -> None:
    digest = weekly(env, QUIET)
    assert env.fake.calls("im.image.create") == []
    assert images_in(digest["content"]) == []


@pytest.mark.parametrize(
    "fault",
    [
        {"code": 1500, "http_status": 500},  # Feishu's server error
        {"code": 99991400, "retry_after": 30},  # the rate limit
        {"code": 0, "raw": "<html>502 Bad Gateway</html>", "http_status": 502},  # a gateway's page
    ],
    ids=["server-error", "rate-limited", "not-json"],
)
def test_a_failed_upload_costs_the_chart_never_the_digest(
    env: Env, fault: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    items(env)
    env.fake.fail_next("im.image.create", **fault)
    with caplog.at_level(logging.WARNING, logger="handlers.feishu.digest"):
        digest = weekly(env)  # sent once, not failed and retried
    [upload] = env.fake.calls("im.image.create")
    assert upload.code != 0
    assert images_in(digest["content"]) == [] and env.fake.images == {}
    assert "ACT-2026-002" in json.dumps(digest["content"], ensure_ascii=False)
    assert any("could not upload the digest's chart" in r.getMessage() for r in caplog.records)


def test_a_chart_that_cannot_be_drawn_costs_only_the_chart(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    items(env)

    def broken(*args: object, **kwargs: object) -> charts.Chart:
        raise RuntimeError("no fonts here")

    monkeypatch.setattr(charts, "actions_chart", broken)
    with caplog.at_level(logging.ERROR, logger="handlers.feishu.digest"):
        digest = weekly(env)
    assert env.fake.calls("im.image.create") == []
    assert images_in(digest["content"]) == []
    assert any("could not draw the digest's chart" in r.getMessage() for r in caplog.records)


# -- 周报: this week's digest at once ------------------------------------------------------------------------------


def test_the_digest_command_posts_its_card_with_the_chart(feishu_bot: FeishuBot) -> None:
    bot = feishu_bot
    bot.feishu.message(
        "@_user_1 行动项 @_user_2 提交预算方案 下周五前",
        user=ALICE,
        chat=CHAT,
        mentions=[bot.feishu.bot_mention(), ("@_user_2", BOB, "李雷")],
    )
    bot.card_with("ACT-2026-001", chat=CHAT)
    before = len(bot.cards_in(chat=CHAT))
    bot.said("周报")
    wait_until(lambda: len(bot.cards_in(chat=CHAT)) >= before + 2, what="the note and this week's digest")
    digest = bot.cards_in(chat=CHAT)[-1]
    assert "ACT-2026-001" in json.dumps(digest["content"], ensure_ascii=False)
    validate_card(digest["content"])
    [img] = images_in(digest["content"])
    assert img["img_key"] in bot.fake.images and bot.fake.images[img["img_key"]].startswith(PNG_MAGIC)
    assert [c.code for c in bot.fake.calls("im.image.create")] == [0]
    # in the card's language (the group's, else the language of who typed 周报)
    header = digest["content"]["header"]["title"]["content"]
    [lang] = [lang for lang in ("en", "zh") if t(lang, "digest.header") == header]
    assert img["alt"]["content"] == t(lang, "chart.actions.title", weeks=charts_service.WEEKS)
    assert bot.runtime.services.digests.subscription(BOT_WS, CHAT) is not None


def test_the_digest_command_without_charts_uploads_nothing(
    feishu_bot: FeishuBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = feishu_bot
    services = bot.runtime.services
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, digest_charts=False))
    bot.feishu.message(
        "@_user_1 行动项 @_user_2 提交预算方案 下周五前",
        user=ALICE,
        chat=CHAT,
        mentions=[bot.feishu.bot_mention(), ("@_user_2", BOB, "李雷")],
    )
    bot.card_with("ACT-2026-001", chat=CHAT)
    before = len(bot.cards_in(chat=CHAT))
    bot.said("周报")
    wait_until(lambda: len(bot.cards_in(chat=CHAT)) >= before + 2, what="the note and this week's digest")
    assert images_in(bot.cards_in(chat=CHAT)[-1]["content"]) == []
    assert bot.fake.calls("im.image.create") == []


# -- the fake's image upload and its image keys -----------------------------------------------------------------


def png_bytes() -> bytes:
    """A small real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 2), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def card_with_image(key: str) -> dict[str, Any]:
    """A schema 2.0 card showing one image."""
    return {
        "schema": "2.0",
        "config": {"update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": "Chart"}},
        "body": {"elements": [{"tag": "img", "img_key": key, "alt": {"tag": "plain_text", "content": "a chart"}}]},
    }


def post(fake: FakeFeishu, path: str, body: bytes, content_type: str, *, token: str | None) -> dict[str, Any]:
    """A raw request to the fake; its JSON answer, whatever the status."""
    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(fake.url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return dict(json.loads(answer.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read()))


def form(**parts: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body (no filenames, as lark-oapi sends it) and its Content-Type."""
    boundary = "b0undary"
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
        for name, data in parts.items()
    ]
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_the_fake_issues_image_keys_for_png_uploads_and_records_the_bytes(fake: FakeFeishu, api: FeishuApi) -> None:
    png = png_bytes()
    first, second = api.upload_image(png), api.upload_image(png)
    assert first != second and first.startswith("img_v3_") and second.startswith("img_v3_")
    assert fake.images == {first: png, second: png}
    fake.expire_tokens()  # a refused token is fetched again, the form sent again whole
    third = api.upload_image(png)
    assert fake.images[third] == png
    assert [c.code for c in fake.calls("im.image.create")] == [0, 0, 99991663, 0]


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ({"image_type": b"message", "image": b"just text, no image"}, 234011),
        ({"image_type": b"message", "image": b"\x89PNX\r\n\x1a\n almost"}, 234011),
        ({"image_type": b"message", "image": b""}, 234010),
        ({"image": PNG_MAGIC + b"rest"}, 234001),
        ({"image_type": b"sticker", "image": PNG_MAGIC + b"rest"}, 234001),
        ({"image_type": b"message"}, 234001),
    ],
    ids=["text", "not-quite-png", "empty", "no-type", "bad-type", "no-image"],
)
def test_the_fake_refuses_what_feishu_would_not_take_as_an_image(
    fake: FakeFeishu, parts: dict[str, bytes], code: int
) -> None:
    body, kind = form(**parts)
    answer = post(fake, "/open-apis/im/v1/images", body, kind, token=fake.token)
    assert answer["code"] == code, answer
    assert fake.images == {}


def test_the_fake_takes_an_upload_only_as_a_multipart_form(fake: FakeFeishu) -> None:
    answer = post(fake, "/open-apis/im/v1/images", b'{"image_type": "message"}', "application/json", token=fake.token)
    assert answer["code"] == 234001, answer
    body, kind = form(image_type=b"message", image=png_bytes())
    broken = body[: body.rindex(b"--b0undary--")]  # the closing boundary cut off
    assert post(fake, "/open-apis/im/v1/images", broken, kind, token=fake.token)["code"] == 9499
    assert fake.images == {}


def test_the_fake_wants_a_token_for_an_upload(fake: FakeFeishu) -> None:
    body, kind = form(image_type=b"message", image=png_bytes())
    assert post(fake, "/open-apis/im/v1/images", body, kind, token=None)["code"] == 99991661
    assert post(fake, "/open-apis/im/v1/images", body, kind, token="t-stale")["code"] == 99991663
    answer = post(fake, "/open-apis/im/v1/images", body, kind, token=fake.token)
    assert answer["code"] == 0 and answer["data"]["image_key"] in fake.images


def test_a_card_shows_only_images_the_fake_issued(fake: FakeFeishu, api: FeishuApi) -> None:
    with pytest.raises(FeishuError) as refused:
        api.send_card(chat_id=GENERAL, card=card_with_image("img_v3_made_up"))
    assert refused.value.code == 230099 and "invalid image keys" in refused.value.msg
    assert refused.value.permanent
    key = api.upload_image(png_bytes())
    sent = api.send_card(chat_id=GENERAL, card=card_with_image(key))
    assert images_in(fake.message(sent.message_id)["content"])[0]["img_key"] == key
    # an update is checked the same way
    with pytest.raises(FeishuError):
        api.update_card(sent.message_id, card_with_image("img_v3_other"))
