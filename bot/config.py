"""Settings, read from the environment only (secrets never live in files).

Every variable is documented once, in VARIABLES below; the README's "Configuration" table is
generated from it (`python -m bot.config --table`), and a test keeps the two in step.
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
    from bot.webhook.wake import parse_address

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


@dataclass(frozen=True)
class Variable:
    """One environment variable (or a group read together) as the README's table documents it."""
    names: tuple[str, ...]
    default: str       # as shown to a reader ("-": none)
    meaning: str
    joiner: str = ", "  # " or ": either variable will do


# Every environment variable the product reads, in the order the README shows them. The README's
# "Configuration" table is generated from this (`python -m bot.config --table`) and
# tests/test_config.py fails when the two differ or when code reads a variable not listed here.
VARIABLES: tuple[Variable, ...] = (
    Variable(("DATABASE_URL",), "`sqlite:///var/outreach.db`",
             "our database; production: `postgresql://user@host/db`"),
    Variable(("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"), "-",
             "Twilio credentials (the token also verifies webhooks)"),
    Variable(("TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"), "-",
             "who texts are sent from (a practice script's `sender` overrides the number)", joiner=" or "),
    Variable(("PUBLIC_BASE_URL",), "`http://127.0.0.1:8000`",
             "the public URL Twilio calls; signatures are checked against it, status callbacks point at it"),
    Variable(("TWILIO_API_BASE_URL",), "`https://api.twilio.com`",
             "only for tests and the simulator"),
    Variable(("RASA_URL", "RASA_TOKEN"), "`http://127.0.0.1:5005`, empty",
             "the Rasa server and its `--auth-token`; several servers comma-separated "
             "(`http://10.0.0.11:5005,http://10.0.0.12:5005`): each turn goes to the next in turn, one that "
             "cannot be connected to is skipped (see `docs/deploy.md`)"),
    Variable(("PRACTICES_DIR",), "`practices/`",
             "the practice scripts"),
    Variable(("SEND_RATE_PER_SECOND",), "`1`",
             "texts per second per sender number"),
    Variable(("SENDER_POLL_SECONDS",), "`0.5`",
             "how often the sender looks for texts queued by other processes"),
    Variable(("INBOUND_RETRY_SECONDS",), "`5`",
             "how often texts waiting for Rasa (or missed by a wake-up) are retried, and the disk spool "
             "replayed"),
    Variable(("WAKE_ADDRESS",), "`127.0.0.1:8002`",
             "where the background process listens for the gateway's wake-up datagrams (UDP) and answers `GET "
             "/health` (TCP)"),
    Variable(("INBOUND_SPOOL",), "`var/spool/inbound.jsonl`",
             "where texts are kept while the database is down or stalled (replayed by the gateway); records it"
             " cannot store go to the same name plus `.quarantine`, for a person to read; both owner-only"),
    Variable(("ESCALATION_MINUTES",), "`15`",
             "the urgent flags' time limit (then the duty clinician is texted) for practices whose script sets"
             " no `time_limits.urgent`"),
    Variable(("INBOX_URL",), "`PUBLIC_BASE_URL/inbox`",
             "where staff open the inbox: escalation and out-of-hours texts link to a flag there"),
    Variable(("ACTION_SERVER_URL", "RASA_TRACKER_DB"), "set by `devkit/stack.py`",
             "read by `endpoints.yml`"),
    Variable(("RASA_TRACKER_DB_HOST",), "-",
             "Rasa servers with `endpoints.production.yml`: the tracker store's PostgreSQL host (no scheme)"),
    Variable(("RASA_TRACKER_DB_PORT",), "-",
             "its port (usually `5432`)"),
    Variable(("RASA_TRACKER_DB_NAME",), "-",
             "the tracker database (its own, not `DATABASE_URL`'s; create it before the first start)"),
    Variable(("RASA_TRACKER_DB_USER",), "-",
             "its user"),
    Variable(("RASA_TRACKER_DB_PASSWORD",), "-",
             "its password (secret; must be set, empty only with trust authentication)"),
    Variable(("RASA_TRACKER_DB_SSLMODE",), "-",
             "libpq `sslmode`: `require` or `verify-full` across a network, `disable` or `prefer` on one host"),
    Variable(("RASA_LOCK_REDIS_HOST",), "-",
             "Rasa servers with `endpoints.production.yml`: the Redis for the lock store (no scheme)"),
    Variable(("RASA_LOCK_REDIS_PORT",), "-",
             "its port (usually `6379`)"),
    Variable(("RASA_LOCK_REDIS_DB",), "-",
             "the Redis database number (e.g. `1`)"),
    Variable(("RASA_LOCK_REDIS_PASSWORD",), "-",
             "its password (secret; empty: no AUTH)"),
    Variable(("RASA_LOCK_REDIS_KEY_PREFIX",), "-",
             "a prefix of letters and digits for the lock keys (e.g. `can005`)"),
    Variable(("RETENTION_DAYS",), "`365`",
             "`outreach purge` redacts message texts, notes and flag evidence older than this many days (1 to "
             "36500); it also reads `RASA_TRACKER_DB` (relative paths from the project folder, where Rasa "
             "runs)"),
    Variable(("INBOX_SCRYPT_N",), "131072 (2^17, OWASP)",
             "for the test suite only (it sets 16384, since it signs in hundreds of times): the scrypt cost of"
             " new password hashes, a power of two from 4096 to 1048576"),
    Variable(("OUTREACH_PASSWORD",), "-",
             "`outreach users add` and `outreach users set-password` take the password from it instead of asking "
             "twice (for scripts; unset it after)"),
    Variable(("SAFETY_MODEL",), "`models/safety.pkl`",
             "the safety screen's trained classifier (`make model` builds it); a process refuses to start "
             "without it"),
    Variable(("OUTREACH_CLOCK_SHIFT_SECONDS",), "-",
             "for tests and demos only, never in production: move every reading of the product's clock "
             "(`bot/common/clock.py`) by this many seconds, so processes started by the tests see the test's pinned "
             "time"),
)


def settings_table() -> str:
    """The README's "Configuration" table, in Markdown."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for v in VARIABLES:
        lines.append(f"| {v.joiner.join(f'`{n}`' for n in v.names)} | {v.default} | {v.meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--table"]:
        sys.exit("usage: python -m bot.config --table   (prints the README's Configuration table)")
    print(settings_table())
