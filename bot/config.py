"""Settings, read from the environment only (secrets never live in files).

Every setting is documented in the README's "Configuration" table; keep the two in step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TWILIO_DEFAULT_API = "https://api.twilio.com"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _days(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of days, got {raw!r}") from None
    if not 1 <= value <= 36500:
        raise ConfigError(f"{name} must be from 1 to 36500 days, got {value}")
    return value


def _address(name: str, default: str) -> str:
    from bot.wake import parse_address

    raw = os.environ.get(name, default)
    try:
        parse_address(raw)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return raw


def _rasa_urls(raw: str) -> str:
    """RASA_URL: one Rasa server's URL, or several comma-separated (no trailing slashes)."""
    urls = [u.strip().rstrip("/") for u in raw.split(",")]
    if len(urls) == 1:
        return urls[0]  # one server: as it always was
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise ConfigError(f"RASA_URL lists URLs separated by commas, each starting with http:// or https://; "
                          f"got {bad[0]!r} in {raw!r}")
    return ",".join(urls)


@dataclass(frozen=True)
class Settings:
    database_url: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from_number: str
    twilio_messaging_service_sid: str
    twilio_api_base_url: str
    public_base_url: str
    rasa_url: str  # one URL, or several comma-separated (RasaClient spreads turns across them)
    rasa_token: str
    practices_dir: Path
    spool_path: Path = PROJECT_ROOT / "var" / "spool" / "inbound.jsonl"
    send_rate_per_second: float = 1.0
    sender_poll_seconds: float = 0.5
    inbound_retry_seconds: float = 5.0
    wake_address: str = "127.0.0.1:8002"
    retention_days: int = 365  # message texts and notes older than this are redacted by `outreach purge`
    inbox_url: str = ""  # where staff open the inbox (escalation texts link to it); "" = PUBLIC_BASE_URL/inbox
    extra: dict = field(default_factory=dict)

    @property
    def inbox_link(self) -> str:
        """The inbox's address as staff reach it, for the links in escalation texts."""
        return (self.inbox_url or self.public_base_url.rstrip("/") + "/inbox").rstrip("/")

    @property
    def rasa_urls(self) -> list[str]:
        return [u for u in self.rasa_url.split(",") if u]

    @property
    def status_callback_url(self) -> str:
        return self.public_base_url.rstrip("/") + "/sms/status"

    def require_twilio(self) -> None:
        """Fail early, naming the variable, when the sender cannot work."""
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
            )
            if not value
        ]
        if not (self.twilio_from_number or self.twilio_messaging_service_sid):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        if missing:
            raise ConfigError("missing setting(s): " + ", ".join(missing))


def load_settings() -> Settings:
    """Read settings from the environment, with defaults that suit `make run` on one machine."""
    env = os.environ.get
    default_db = "sqlite:///" + str(PROJECT_ROOT / "var" / "outreach.db")
    public = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    if not public.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_BASE_URL must start with http:// or https://, got {public!r}")
    inbox = env("INBOX_URL", "").strip()
    if inbox and not inbox.startswith(("http://", "https://")):
        raise ConfigError(f"INBOX_URL must start with http:// or https://, got {inbox!r}")
    return Settings(
        database_url=env("DATABASE_URL", default_db),
        twilio_account_sid=env("TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=env("TWILIO_AUTH_TOKEN", ""),
        twilio_from_number=env("TWILIO_FROM_NUMBER", ""),
        twilio_messaging_service_sid=env("TWILIO_MESSAGING_SERVICE_SID", ""),
        twilio_api_base_url=env("TWILIO_API_BASE_URL", TWILIO_DEFAULT_API),
        public_base_url=public.rstrip("/"),
        rasa_url=_rasa_urls(env("RASA_URL", "http://127.0.0.1:5005")),
        rasa_token=env("RASA_TOKEN", ""),
        practices_dir=Path(env("PRACTICES_DIR", str(PROJECT_ROOT / "practices"))),
        spool_path=Path(env("INBOUND_SPOOL", str(PROJECT_ROOT / "var" / "spool" / "inbound.jsonl"))),
        send_rate_per_second=_float("SEND_RATE_PER_SECOND", 1.0),
        sender_poll_seconds=_float("SENDER_POLL_SECONDS", 0.5),
        inbound_retry_seconds=_float("INBOUND_RETRY_SECONDS", 5.0),
        wake_address=_address("WAKE_ADDRESS", "127.0.0.1:8002"),
        retention_days=_days("RETENTION_DAYS", 365),
        inbox_url=inbox,
    )
