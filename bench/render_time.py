"""Rendering at volume: the weekly digest of a channel with 10,000 records, the App Home of a user owning 5,000.

Records are seeded with bulk inserts. Timed, as the bot does when it renders: the service queries and the
Block Kit builder, down to the JSON the Web API client sends (`to_dict()`), without Web API calls. Then,
for reference, the bot's own entry points end to end (handlers.digest.post_digest, handlers.home.render)
against an in-process fake Slack API, which validates what it receives.
"""

from __future__ import annotations

import cProfile
import logging
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import Engine, insert, text

from bench.common import Backend, median, widen_fake_backlog
from bot.app import Runtime, build_runtime, make_client
from bot.config import Settings
from bot.services.home_page import Windows, home_page
from handlers import digest as digest_handlers
from handlers import home as home_handlers
from handlers.blocks import digest as digest_blocks
from handlers.blocks import home as home_blocks
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, FakeSlack
from storage.models import ActionItem, AgendaItem, Meeting, MeetingParticipant, Requirement, Signature

logger = logging.getLogger(__name__)

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # Thursday 14:00 in Shanghai
TEAM = "T0001"
DIGEST_CHANNEL = "C_DIGEST"
HOME_CHANNEL = "C_HOME"
BASE_URL = "https://coordbot-test.slack.com/"
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
GOAL = 0.5


@dataclass
class Render:
    """One surface on one backend."""

    backend: str
    surface: str
    records: int
    seconds: list[float] = field(default_factory=list)
    end_to_end: list[float] = field(default_factory=list)
    blocks: int = 0
    limit: int = 0
    problems: list[str] = field(default_factory=list)
    where: str = ""

    @property
    def time(self) -> float:
        """Median of the timed renders, seconds."""
        return median(self.seconds)

    @property
    def valid(self) -> bool:
        """Block Kit that slack_sdk accepts, within Slack's block limit, and no complaint from the fake."""
        return not self.problems and 0 < self.blocks <= self.limit


class Seeder:
    """Bulk inserts with explicit ids, so related rows can point at each other."""

    def __init__(self, engine: Engine, people: list[str]) -> None:
        self.engine, self.people = engine, people
        self.ids = {"req": 0, "act": 0, "mtg": 0}
        self.rows: dict[type, list[dict[str, Any]]] = {}

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def add(self, model: type, **values: Any) -> None:
        self.rows.setdefault(model, []).append(values)

    def person(self, i: int) -> str:
        return self.people[i % len(self.people)]

    def requirement(
        self,
        channel: str,
        i: int,
        *,
        status: str,
        requester: str,
        receiver: str,
        confirm_by: datetime,
        confirmed_at: datetime | None = None,
        signed: tuple[str, ...] = (),
    ) -> int:
        rid = self._next("req")
        created = NOW - timedelta(days=20) + timedelta(minutes=i)
        self.add(
            Requirement,
            id=rid,
            team_id=TEAM,
            code=f"RW-2026-{rid:05d}",
            revision=1,
            status=status,
            author_id=requester,
            requester_dept="Marketing",
            requester_owner=requester,
            receiver_dept="Engineering",
            receiver_owner=receiver,
            background="Q1 campaign needs a landing page.",
            goal=f"Sign-ups +{i % 40}% by March for landing page variant {i}",
            description="A landing page with a sign-up form and analytics.",
            priority=("high", "medium", "low")[i % 3],
            due_at=NOW + timedelta(days=30),
            resources="",
            confirm_by=confirm_by,
            channel_id=channel,
            message_ts=f"{1_780_000_000 + rid}.000100",
            change_reason="Scope is unclear" if status == "changes_requested" else None,
            created_at=created,
            updated_at=created,
            confirmed_at=confirmed_at,
        )
        for role in signed:
            self.add(
                Signature,
                requirement_id=rid,
                revision=1,
                role=role,
                user_id=requester if role == "requester" else receiver,
                via="reaction",
                signed_at=created,
            )
        return rid

    def action(
        self,
        channel: str,
        i: int,
        *,
        owner: str,
        status: str,
        due: datetime,
        done_at: datetime | None = None,
        escalated: bool = False,
        source: tuple[str, int, str] | None = None,
    ) -> None:
        aid = self._next("act")
        created = NOW - timedelta(days=15) + timedelta(minutes=i)
        kind, sid, code = source or ("", None, "")
        self.add(
            ActionItem,
            id=aid,
            team_id=TEAM,
            code=f"ACT-2026-{aid:05d}",
            title=f"Follow-up task number {i}",
            owner_id=owner,
            creator_id=self.person(i + 7),
            due_at=due,
            deliverable="A short report",
            status=status,
            blocked_reason="Waiting for legal review" if status == "blocked" else None,
            source_type=kind,
            source_id=sid,
            source_code=code,
            escalate_to=None,
            channel_id=channel,
            message_ts=f"{1_781_000_000 + aid}.000100",
            created_at=created,
            updated_at=created,
            done_at=done_at,
            context="",
            escalated_at=NOW - timedelta(hours=3) if escalated else None,
        )

    def meeting(
        self, channel: str, i: int, *, host: str, start: datetime, minutes: bool, participants: tuple[str, ...]
    ) -> tuple[int, str]:
        mid = self._next("mtg")
        code = f"MTG-2026-{mid:05d}"
        self.add(
            Meeting,
            id=mid,
            team_id=TEAM,
            code=code,
            title=f"Weekly sync {i}",
            goal="Decide the launch date",
            start_at=start,
            duration_minutes=60,
            location="Room 3",
            materials="",
            host_id=host,
            channel_id=channel,
            message_ts=f"{1_782_000_000 + mid}.000100",
            created_by=host,
            created_at=start - timedelta(days=5),
            updated_at=start - timedelta(days=5),
            decisions='["Ship in March"]' if minutes else None,
            notes=None,
            minutes_at=start + timedelta(hours=2) if minutes else None,
            minutes_by=host if minutes else None,
            minutes_ts=None,
        )
        for user in dict.fromkeys((host, *participants)):
            self.add(MeetingParticipant, meeting_id=mid, user_id=user)
        for position in range(2):
            self.add(
                AgendaItem, meeting_id=mid, position=position, topic=f"Topic {position}", owner_id=host, minutes=20
            )
        return mid, code

    def flush(self) -> None:
        with self.engine.begin() as conn:
            for model in (Requirement, Signature, Meeting, MeetingParticipant, AgendaItem, ActionItem):
                rows = self.rows.get(model, [])
                for start in range(0, len(rows), 5_000):
                    conn.execute(insert(model), rows[start : start + 5_000])
            if self.engine.dialect.name == "postgresql":
                for table in ("requirement", "meeting", "action_item", "signature", "agenda_item"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))"
                        )
                    )
                conn.execute(text("ANALYZE"))
        self.rows.clear()


def seed_digest_channel(s: Seeder) -> int:
    """10,000 records in one channel: 4,000 sheets, 2,000 meetings, 4,000 action items, in every state."""
    for i in range(4_000):
        a, b = s.person(i), s.person(i + 1)
        if i < 2_500:
            s.requirement(
                DIGEST_CHANNEL,
                i,
                status="awaiting",
                requester=a,
                receiver=b,
                confirm_by=NOW + timedelta(hours=(i % 300) - 72),
                signed=("requester",) if i % 2 else (),
            )
        elif i < 3_500:
            s.requirement(
                DIGEST_CHANNEL,
                i,
                status="confirmed",
                requester=a,
                receiver=b,
                confirm_by=NOW,
                confirmed_at=NOW - timedelta(hours=1 + i % 330),
                signed=("requester", "receiver"),
            )
        else:
            s.requirement(DIGEST_CHANNEL, i, status="changes_requested", requester=a, receiver=b, confirm_by=NOW)
    meetings = []
    for i in range(2_000):
        host, others = s.person(i), (s.person(i + 2), s.person(i + 3))
        if i < 800:
            meetings.append(
                s.meeting(
                    DIGEST_CHANNEL,
                    i,
                    host=host,
                    start=NOW - timedelta(hours=3 + i % 160),
                    minutes=True,
                    participants=others,
                )
            )
        elif i < 1_200:
            meetings.append(
                s.meeting(
                    DIGEST_CHANNEL,
                    i,
                    host=host,
                    start=NOW - timedelta(hours=3 + i % 320),
                    minutes=False,
                    participants=others,
                )
            )
        elif i < 1_600:
            meetings.append(
                s.meeting(
                    DIGEST_CHANNEL,
                    i,
                    host=host,
                    start=NOW + timedelta(hours=1 + i % 160),
                    minutes=False,
                    participants=others,
                )
            )
        else:
            meetings.append(
                s.meeting(
                    DIGEST_CHANNEL,
                    i,
                    host=host,
                    start=NOW - timedelta(hours=170 + i % 160),
                    minutes=True,
                    participants=others,
                )
            )
    for i in range(4_000):
        owner = s.person(i)
        mid, code = meetings[i % len(meetings)]
        source = ("meeting", mid, code) if i % 3 == 0 else None
        if i < 1_500:
            s.action(
                DIGEST_CHANNEL, i, owner=owner, status="open", due=NOW + timedelta(hours=1 + i % 400), source=source
            )
        elif i < 2_500:
            s.action(
                DIGEST_CHANNEL,
                i,
                owner=owner,
                status=("open", "in_progress")[i % 2],
                due=NOW - timedelta(hours=1 + i % 300),
                escalated=i % 4 == 0,
                source=source,
            )
        elif i < 2_800:
            s.action(DIGEST_CHANNEL, i, owner=owner, status="blocked", due=NOW + timedelta(days=2), source=source)
        else:
            s.action(
                DIGEST_CHANNEL,
                i,
                owner=owner,
                status="done",
                due=NOW - timedelta(days=1),
                done_at=NOW - timedelta(hours=1 + i % 330),
                source=source,
            )
    s.flush()
    return 10_000


def seed_home_owner(s: Seeder, user: str) -> int:
    """5,000 items of one person: sheets awaiting their signature, open action items, meetings, minutes owed."""
    for i in range(2_000):
        s.requirement(
            HOME_CHANNEL,
            i,
            status="awaiting",
            requester=s.person(i + 1),
            receiver=user,
            confirm_by=NOW + timedelta(hours=(i % 500) - 48),
            signed=("requester",) if i % 2 else (),
        )
    for i in range(2_000):
        s.action(
            HOME_CHANNEL,
            i,
            owner=user,
            status=("open", "in_progress", "blocked")[i % 3],
            due=NOW + timedelta(hours=(i % 900) - 240),
        )
    for i in range(500):
        s.meeting(
            HOME_CHANNEL,
            i,
            host=s.person(i + 1),
            start=NOW + timedelta(hours=1 + i % 320),
            minutes=False,
            participants=(user, s.person(i + 2)),
        )
    for i in range(500):
        s.meeting(
            HOME_CHANNEL,
            i,
            host=user,
            start=NOW - timedelta(hours=26 + i % 500),
            minutes=False,
            participants=(s.person(i + 2),),
        )
    s.flush()
    return 5_000


def _people(fake: FakeSlack) -> list[str]:
    people = [ALICE, BOB, CAROL, DAVE]
    for i in range(46):
        user = f"U_P{i:03d}"
        fake.add_user(
            user,
            f"person{i}",
            real_name=f"Person {i}",
            tz=("Asia/Shanghai", "UTC")[i % 2],
            locale=("zh-CN", "en-US")[i % 2],
        )
        people.append(user)
    for channel, name in ((DIGEST_CHANNEL, "launch"), (HOME_CHANNEL, "planning")):
        fake.set_channel(channel, name=name)
    return people


def _name_of(runtime: Runtime) -> Callable[[str], str]:
    def name(user: str) -> str:
        member = runtime.directory.get(user)
        return member.label if member else user

    return name


def build_digest(runtime: Runtime) -> list[dict[str, Any]]:
    """The digest as the bot gathers and builds it, as JSON."""
    services = runtime.services
    digest = services.digests.content(TEAM, DIGEST_CHANNEL, now=NOW)
    lang = runtime.directory.channel_lang(DIGEST_CHANNEL)
    built = digest_blocks.digest_blocks(
        lang, digest, tz=runtime.settings.tz, name_of=_name_of(runtime), base_url=BASE_URL
    )
    return [b.to_dict() for b in built]


def build_home(runtime: Runtime, user: str) -> dict[str, Any]:
    """The App Home's first page of every part, as the bot gathers and builds it, as JSON (no permalinks)."""
    services, directory = runtime.services, runtime.directory
    size, team = home_blocks.PAGE_SIZE, directory.team_id
    listed = home_page(  # what the home lists, as the core decides it; every channel visible (no Slack asked)
        services, team_id=team, user_id=user, now=NOW, can_see=lambda _channel: True, windows=Windows.first(size)
    )
    awaiting = home_blocks.Listing(listed.awaiting.items, listed.awaiting.total, 1, listed.awaiting.late)
    actions = home_blocks.Listing(listed.actions.items, listed.actions.total, 1, listed.actions.late)
    meetings = home_blocks.Listing(listed.meetings.items, listed.meetings.total, 1)
    minutes = home_blocks.Listing(listed.minutes.items, listed.minutes.total, 1)
    view = home_blocks.home(
        directory.lang_of(user),
        awaiting=awaiting,
        actions=actions,
        meetings=meetings,
        minutes=minutes,
        chosen_lang=services.prefs.user_lang(team, user),
        tz=directory.tz_of(user),
        now=NOW,
    )
    return dict(view.to_dict())


def check_message(blocks: list[dict[str, Any]], result: Render) -> None:
    """Every block parses back with slack_sdk and serializes again; at most 50 of them."""
    result.blocks, result.limit = len(blocks), MAX_MESSAGE_BLOCKS
    for index, block in enumerate(blocks):
        try:
            parsed = Block.parse(block)
            if parsed is None:
                raise ValueError(f"unknown block type {block.get('type')!r}")
            parsed.to_dict()
        except Exception as exc:  # a finding to report, not a crash
            result.problems.append(f"block {index}: {exc}")


def check_view(view: dict[str, Any], result: Render) -> None:
    """The view parses back with slack_sdk's View and serializes again; at most 100 blocks."""
    result.blocks, result.limit = len(view.get("blocks") or []), MAX_VIEW_BLOCKS
    try:
        View(**view).to_dict()
    except Exception as exc:  # a finding to report, not a crash
        result.problems.append(f"view: {exc}")


def _timed(run: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    seconds, last = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        last = run()
        seconds.append(time.perf_counter() - started)
    return seconds, last


def measure(backends: list[Backend], *, repeats: int) -> list[Render]:
    """Seed each backend, then time the digest and the home."""
    widen_fake_backlog()
    results: list[Render] = []
    for backend in backends:
        results += _measure_backend(backend, repeats)
    return results


def _measure_backend(backend: Backend, repeats: int) -> list[Render]:
    with FakeSlack() as fake:
        people = _people(fake)
        url = backend.fresh("render")
        settings = Settings(
            bot_token=fake.bot_token,
            signing_secret="bench",
            database_url=url,
            slack_api_url=fake.api_url,
            tz="Asia/Shanghai",
            lang="en",
        )
        runtime = build_runtime(settings, clock=lambda: NOW, client=make_client(settings))
        try:
            runtime.directory.load()
            seeder = Seeder(runtime.engine, people)
            digest = Render(backend.name, "weekly digest", seed_digest_channel(seeder))
            home = Render(backend.name, "App Home", seed_home_owner(seeder, ALICE))
            digest.seconds, blocks = _timed(lambda: build_digest(runtime), repeats)
            check_message(blocks, digest)
            home.seconds, view = _timed(lambda: build_home(runtime, ALICE), repeats)
            check_view(view, home)
            # the digest is profiled always (it sits close to the goal), the home when it misses it
            digest.where = where_time_goes(lambda: build_digest(runtime))
            if home.time > GOAL:
                home.where = where_time_goes(lambda: build_home(runtime, ALICE))
            _end_to_end(runtime, fake, digest, home, repeats)
        finally:
            runtime.engine.dispose()
    return [digest, home]


def where_time_goes(build: Callable[[], Any]) -> str:
    """One line from a cProfile of one build: loading rows as ORM objects, the service's sorting, the builder."""
    profiler = cProfile.Profile()
    profiler.enable()
    build()
    profiler.disable()
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = loading = driver = service = builder = 0.0
    objects = 0
    for (filename, _line, name), (_cc, calls, _tt, cumulative, _callers) in stats.items():
        path = filename.replace("\\", "/")
        if path.endswith("bench/render_time.py") and name.startswith("build_"):
            total = max(total, cumulative)
        elif path.endswith("sqlalchemy/orm/loading.py") and name == "chunks":
            loading += cumulative
        elif path.endswith("sqlalchemy/orm/loading.py") and name == "_instance":
            objects += calls
        elif (filename == "~" and "sqlite3.Cursor" in name) or (
            "/psycopg/" in path and name in ("execute", "fetchall", "fetchmany", "fetchone")
        ):
            driver += cumulative
        elif path.endswith("bot/services/digests.py") and name == "build_digest":
            service += cumulative
        elif path.endswith(("handlers/blocks/digest.py", "handlers/blocks/home.py")) and name in (
            "digest_blocks",
            "home",
        ):
            builder += cumulative
    if not total:
        return ""
    return (
        f"in a cProfile of one build (which weighs pure-Python code more than it costs unprofiled), "
        f"{loading / total:.0%} is SQLAlchemy loading {objects:,} rows as ORM objects (`orm.loading`), "
        f"of which {driver / total:.0%} is the database driver's own fetch; {service / total:.0%} is sorting "
        f"them into the digest's lists (`bot.services.digests.build_digest`, reading those objects' "
        f"attributes); {builder / total:.0%} is the Block Kit builder"
    )


def _end_to_end(runtime: Runtime, fake: FakeSlack, digest: Render, home: Render, repeats: int) -> None:
    """The bot's own entry points against the fake, which validates the message and the view it receives."""
    client, services, directory = runtime.client, runtime.services, runtime.directory
    digest.end_to_end, _ = _timed(
        lambda: digest_handlers.post_digest(
            client, services, directory, team_id=TEAM, channel_id=DIGEST_CHANNEL, now=NOW
        ),
        repeats,
    )
    home.end_to_end, _ = _timed(lambda: home_handlers.render(client, services, directory, ALICE), repeats)
    for method, result in (("chat.postMessage", digest), ("views.publish", home)):
        calls = fake.calls(method)
        failed = [c.error for c in calls if c.error]
        if len(calls) < repeats or failed:
            result.problems.append(f"{method}: {len(calls)} calls, failures: {failed[:2]}")
    result_blocks = fake.messages(DIGEST_CHANNEL)
    if result_blocks and len(result_blocks[-1].get("blocks") or []) != digest.blocks:
        logger.info("the posted digest has %d blocks", len(result_blocks[-1].get("blocks") or []))
