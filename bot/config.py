"""Settings: one frozen object built once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.workhours import WorkCalendar

DEFAULT_API_URL = "https://slack.com/api/"
SLACK_RESPONSE_URLS = "https://hooks.slack.com/"
FEISHU_DOMAINS = {"feishu": "https://open.feishu.cn", "lark": "https://open.larksuite.com"}
IDLE = "idle"  # COORDBOT_WORKER_NICE: the workers run only on CPU that answering does not need
MAX_WORKERS = 16


class ConfigError(ValueError):
    """The environment holds a value the bot cannot use."""


def feishu_domain(value: str) -> str:
    """FEISHU_DOMAIN: `feishu` (China), `lark` (international), or the URL of another Open API server."""
    if value.lower() in FEISHU_DOMAINS:
        return FEISHU_DOMAINS[value.lower()]
    if not value.startswith(("https://", "http://")):
        raise ConfigError(f"FEISHU_DOMAIN must be feishu, lark or a URL, not {value!r}")
    return value.rstrip("/")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment, validated."""

    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    database_url: str = "sqlite:///coordbot.db"
    slack_api_url: str = DEFAULT_API_URL
    port: int = 3000
    tz: str = "UTC"
    lang: str = "en"
    tick_seconds: int = 60
    sign_reactions: tuple[str, ...] = ("white_check_mark", "heavy_check_mark")
    reminder_lead: timedelta = timedelta(hours=2)
    question_lead: timedelta = timedelta(hours=2)
    default_confirm_window: timedelta = timedelta(hours=24)
    workday_end: time = time(18, 0)
    agenda_lead: timedelta = timedelta(days=3)
    meeting_reminder: timedelta = timedelta(minutes=15)
    minutes_due: timedelta = timedelta(hours=24)
    action_lead: timedelta = timedelta(hours=24)
    escalation_days: int = 2
    worker_threads: int = 8
    workers: int = 1
    worker_nice: int | str = 0  # IDLE, or a nice value 0-19
    inbox_lease: float = 30.0
    inbox_poll: float = 0.05
    inbox_attempts: int = 5
    response_urls: str = SLACK_RESPONSE_URLS
    holidays: str = ""
    work_hours: str = "09:00-18:00"
    work_days: str = "mon-fri"
    log_level: str = "INFO"
    http_timeout: float = 15.0
    incident_channel: str = ""
    incident_escalation: tuple[str, ...] = ()
    incident_ack_minutes: tuple[int, ...] = (5, 15, 60, 0)
    incident_update_minutes: tuple[int, ...] = (30, 60, 240, 0)
    incident_reopen_days: int = 7  # a resolved incident may be reopened this many days after
    review_due_days: int = 5  # working days after resolution for a SEV1/SEV2 review meeting
    digest_charts: bool = True
    feishu_app_id: str = ""
    feishu_app_secret: str = field(default="", repr=False)
    feishu_verification_token: str = field(default="", repr=False)
    feishu_encrypt_key: str = field(default="", repr=False)
    feishu_domain: str = FEISHU_DOMAINS["feishu"]
    feishu_events: str = "auto"  # how Feishu's events arrive: ws (long connection), http (callbacks), auto
    feishu_app_type: str = "custom"  # custom: one tenant's own app; store: a store app installed by many tenants

    @property
    def calendar(self) -> WorkCalendar:
        """Working hours and days, with the workspace's holiday calendar."""
        return WorkCalendar.parse(self.holidays or None, self.work_hours, self.work_days)

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's default timezone."""
        return ZoneInfo(self.tz)

    @property
    def oauth(self) -> bool:
        """Installable in many workspaces ("Add to Slack"): client ID and secret set, no single bot token."""
        return bool(self.client_id and self.client_secret and not self.bot_token)

    @property
    def feishu(self) -> bool:
        """Feishu (Lark) is served: its app ID and secret are configured."""
        return bool(self.feishu_app_id and self.feishu_app_secret)

    @property
    def slack(self) -> bool:
        """Slack is served: a bot token, an install flow or a Socket Mode token is configured."""
        return bool(self.bot_token or self.oauth or self.app_token or self.client_id or self.client_secret)

    @property
    def feishu_store(self) -> bool:
        """A Feishu store app: installed by many tenants, its tokens got with the ticket Feishu pushes hourly."""
        return self.feishu and self.feishu_app_type == "store"

    @property
    def feishu_callbacks(self) -> bool:
        """Feishu's events and card actions arrive as HTTP callbacks (with a signature to check), not by the
        long connection (which Feishu offers custom apps only)."""
        if self.feishu_store:
            return True
        if self.feishu_events == "auto":
            return bool(self.feishu_encrypt_key)
        return self.feishu_events == "http"

    @property
    def socket_mode(self) -> bool:
        """Socket Mode runs when an app-level token is configured."""
        return bool(self.app_token)

    def missing_for_run(self) -> list[str]:
        """The variables `coordbot run` needs that are not set."""
        missing = []
        if self.feishu and self.feishu_callbacks:
            # a callback is trusted only by its signature, which Feishu computes with the encrypt key
            missing += [
                name
                for name, value in (
                    ("FEISHU_ENCRYPT_KEY", self.feishu_encrypt_key),
                    ("FEISHU_VERIFICATION_TOKEN", self.feishu_verification_token),
                )
                if not value
            ]
        if self.feishu and not self.slack:
            return missing
        if self.feishu_app_id and not self.feishu_app_secret:
            missing.append("FEISHU_APP_SECRET")
        if not self.bot_token and not self.oauth:
            if self.client_id or self.client_secret:  # half of OAuth configured: name the other half
                missing.append("SLACK_CLIENT_SECRET" if self.client_id else "SLACK_CLIENT_ID")
            else:
                missing.append("SLACK_BOT_TOKEN")
        if not self.socket_mode and not self.signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        return missing

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (see the README's table)."""
        e = os.environ if env is None else env

        def get(name: str, default: str) -> str:
            value = e.get(name, "").strip()
            return value or default

        def integer(name: str, default: int, minimum: int = 0) -> int:
            raw = get(name, str(default))
            try:
                value = int(raw)
            except ValueError as exc:
                raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc
            if value < minimum:
                raise ConfigError(f"{name} must be at least {minimum}")
            return value

        def seconds(name: str, default: float) -> float:
            raw = get(name, str(default))
            try:
                value = float(raw)
            except ValueError as exc:
                raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from exc
            if not 0 < value <= 300:
                raise ConfigError(f"{name} must be more than 0 and at most 300 seconds")
            return value

        tz = get("COORDBOT_TZ", "UTC")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"COORDBOT_TZ is not an IANA timezone: {tz!r}") from exc
        lang = get("COORDBOT_LANG", "en").lower()
        if lang not in ("en", "zh"):
            raise ConfigError(f"COORDBOT_LANG must be 'en' or 'zh', not {lang!r}")
        api_url = get("SLACK_API_URL", DEFAULT_API_URL)
        if not api_url.endswith("/"):
            api_url += "/"
        end_raw = get("COORDBOT_WORKDAY_END", "18:00")
        try:
            hh, mm = end_raw.split(":")
            workday_end = time(int(hh), int(mm))
        except ValueError as exc:
            raise ConfigError(f"COORDBOT_WORKDAY_END must look like 18:00, not {end_raw!r}") from exc
        reactions = tuple(
            r.strip().strip(":")
            for r in get("COORDBOT_SIGN_REACTIONS", "white_check_mark,heavy_check_mark").split(",")
            if r.strip()
        )
        holidays = get("COORDBOT_HOLIDAYS", "")
        holidays = "" if holidays.lower() in ("none", "-") else holidays.upper()
        work_hours, work_days = get("COORDBOT_WORK_HOURS", "09:00-18:00"), get("COORDBOT_WORK_DAYS", "mon-fri")
        try:
            WorkCalendar.parse(holidays or None, work_hours, work_days)
        except ValueError as exc:
            raise ConfigError(f"COORDBOT_HOLIDAYS / COORDBOT_WORK_HOURS / COORDBOT_WORK_DAYS: {exc}") from exc

        def per_severity(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
            raw = get(name, ",".join(map(str, default)))
            try:
                values = tuple(int(v) for v in raw.replace(" ", "").split(","))
            except ValueError as exc:
                raise ConfigError(f"{name} must be four whole numbers of minutes (SEV1,SEV2,SEV3,SEV4)") from exc
            if len(values) != 4 or min(values) < 0:
                raise ConfigError(f"{name} must be four whole numbers of minutes (SEV1,SEV2,SEV3,SEV4), 0 for none")
            return values

        escalation = tuple(
            u.strip().strip("<@>") for u in get("COORDBOT_INCIDENT_ESCALATION", "").split(",") if u.strip()
        )
        workers = integer("COORDBOT_WORKERS", 1)
        if workers > MAX_WORKERS:
            raise ConfigError(
                f"COORDBOT_WORKERS must be at most {MAX_WORKERS}; for more, run `coordbot work` "
                "on other hosts sharing the PostgreSQL database"
            )
        worker_nice: int | str = get("COORDBOT_WORKER_NICE", "0").lower()
        if worker_nice != IDLE:
            try:
                worker_nice = int(worker_nice)
            except ValueError:
                worker_nice = -1
            if not 0 <= worker_nice <= 19:
                raise ConfigError("COORDBOT_WORKER_NICE must be idle or a nice value between 0 and 19")
        app_type = _choice("FEISHU_APP_TYPE", get("FEISHU_APP_TYPE", "custom").lower(), ("custom", "store"))
        if app_type == "store" and get("FEISHU_EVENTS", "auto").lower() == "ws":
            raise ConfigError(
                "FEISHU_EVENTS=ws: Feishu offers the long connection to custom apps only; a store app "
                "(FEISHU_APP_TYPE=store) receives its events by HTTP callback (FEISHU_EVENTS=http)"
            )
        return cls(
            bot_token=get("SLACK_BOT_TOKEN", ""),
            signing_secret=get("SLACK_SIGNING_SECRET", ""),
            app_token=get("SLACK_APP_TOKEN", ""),
            client_id=get("SLACK_CLIENT_ID", ""),
            client_secret=get("SLACK_CLIENT_SECRET", ""),
            database_url=get("DATABASE_URL", "sqlite:///coordbot.db"),
            slack_api_url=api_url,
            port=integer("PORT", 3000, 1),
            tz=tz,
            lang=lang,
            tick_seconds=integer("COORDBOT_TICK_SECONDS", 60, 1),
            sign_reactions=reactions,
            reminder_lead=timedelta(minutes=integer("COORDBOT_REMINDER_LEAD_MINUTES", 120)),
            question_lead=timedelta(minutes=integer("COORDBOT_QUESTION_LEAD_MINUTES", 120)),
            workday_end=workday_end,
            agenda_lead=timedelta(days=integer("COORDBOT_AGENDA_LEAD_DAYS", 3)),
            meeting_reminder=timedelta(minutes=integer("COORDBOT_MEETING_REMINDER_MINUTES", 15)),
            minutes_due=timedelta(hours=integer("COORDBOT_MINUTES_DUE_HOURS", 24, 1)),
            action_lead=timedelta(hours=integer("COORDBOT_ACTION_LEAD_HOURS", 24)),
            escalation_days=integer("COORDBOT_ESCALATION_WORKING_DAYS", 2),
            worker_threads=integer("COORDBOT_WORKER_THREADS", 8, 1),
            workers=workers,
            worker_nice=worker_nice,
            inbox_lease=seconds("COORDBOT_INBOX_LEASE_SECONDS", 30.0),
            inbox_poll=seconds("COORDBOT_INBOX_POLL_SECONDS", 0.05),
            inbox_attempts=integer("COORDBOT_INBOX_ATTEMPTS", 5, 1),
            response_urls=get("COORDBOT_RESPONSE_URLS", SLACK_RESPONSE_URLS),
            holidays=holidays,
            work_hours=work_hours,
            work_days=work_days,
            log_level=get("COORDBOT_LOG_LEVEL", "INFO").upper(),
            http_timeout=seconds("COORDBOT_HTTP_TIMEOUT", 15.0),
            incident_channel=get("COORDBOT_INCIDENT_CHANNEL", ""),
            incident_escalation=escalation,
            incident_ack_minutes=per_severity("COORDBOT_INCIDENT_ACK_MINUTES", (5, 15, 60, 0)),
            incident_update_minutes=per_severity("COORDBOT_INCIDENT_UPDATE_MINUTES", (30, 60, 240, 0)),
            incident_reopen_days=integer("COORDBOT_INCIDENT_REOPEN_DAYS", 7),
            review_due_days=integer("COORDBOT_REVIEW_DUE_DAYS", 5, 1),
            digest_charts=get("COORDBOT_DIGEST_CHARTS", "1").lower() not in ("0", "false", "no", "off"),
            feishu_app_id=get("FEISHU_APP_ID", ""),
            feishu_app_secret=get("FEISHU_APP_SECRET", ""),
            feishu_verification_token=get("FEISHU_VERIFICATION_TOKEN", ""),
            feishu_encrypt_key=get("FEISHU_ENCRYPT_KEY", ""),
            feishu_domain=feishu_domain(get("FEISHU_DOMAIN", "feishu")),
            feishu_events=_choice("FEISHU_EVENTS", get("FEISHU_EVENTS", "auto").lower(), ("auto", "ws", "http")),
            feishu_app_type=app_type,
        )
