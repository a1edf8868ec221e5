"""Shared fixtures: a fresh database (SQLite, and PostgreSQL when its service is up), a practice
script folder, a patient, and settings pointing at a Twilio-compatible fake on loopback.
"""
from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import sys
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import psycopg2
import pytest

# The real environment must not shift this process's clock: tests pin it with time-machine and
# hand the shift to the processes they start (tests/pinned_clock.py). Only before bot.common.clock reads it:
# test modules import this file again as tests.conftest, after the session's shift is set.
if "bot.common.clock" not in sys.modules:
    os.environ.pop("OUTREACH_CLOCK_SHIFT_SECONDS", None)
# The suite signs in hundreds of times: scrypt at 2^14 here (0.1 s) instead of OWASP's 2^17 (0.7 s).
# tests/test_inbox.py checks that the product's own default is 2^17.
os.environ.setdefault("INBOX_SCRYPT_N", "16384")

from bot.practice_script import loader as scripts  # noqa: E402
from bot.config import PROJECT_ROOT, Settings  # noqa: E402
from bot.db.engine import session_scope, upgrade  # noqa: E402
from devkit.fake_twilio import FakeTwilio  # noqa: E402
from bot.db.models import Conversation, Patient  # noqa: E402
from bot.patients.outreach import ensure_practice  # noqa: E402

from tests.pinned_clock import DEFAULT_INSTANT, PinnedClock, parse_instant  # noqa: E402

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
PRACTICE_NUMBER = "+447700900001"
PATIENT_NUMBER = "+447700900123"
PATIENT_DOB = dt.date(1961, 3, 12)
PG_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser):
    parser.addoption("--clock", default=DEFAULT_INSTANT, metavar="ISO",
                     help="the instant every test runs at: London wall-clock time such as 2026-12-25T10:30, "
                          f"or ISO with an offset (default {DEFAULT_INSTANT}, a Thursday morning)")


def pytest_configure(config):
    try:
        instant = parse_instant(config.getoption("--clock"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.pinned_clock = PinnedClock(instant)
    config.pinned_clock.start_session()


def pytest_unconfigure(config):
    if hasattr(config, "pinned_clock"):
        config.pinned_clock.stop_session()


def pytest_report_header(config):
    return f"clock pinned at {config.pinned_clock.instant.isoformat()} (--clock)"


@pytest.fixture(autouse=True)
def pinned_clock(request):
    """Every unit test starts at the pinned instant; tests marked e2e share the deployment's timeline."""
    clock: PinnedClock = request.config.pinned_clock
    if request.node.get_closest_marker("e2e") is not None:
        yield clock.instant
        return
    traveller = clock.start_test()
    try:
        yield clock.instant
    finally:
        clock.end_test(traveller)


def _postgres_available() -> bool:
    try:
        psycopg2.connect(PG_SERVER, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


POSTGRES = _postgres_available()
# The PostgreSQL service runs on every developer machine and in CI; the suite says so loudly
# rather than quietly testing less.
DATABASES = ["sqlite", "postgresql"]


_TEMPLATES: dict[str, str] = {}


def _pg_admin(statement: str) -> None:
    connection = psycopg2.connect(PG_SERVER)
    connection.autocommit = True
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


def _template(kind: str) -> str:
    """A database migrated to the newest schema once per test run, copied for each test: running
    the Alembic migrations for each of ~900 databases would cost minutes."""
    if kind not in _TEMPLATES:
        from bot.db.engine import forget_engine

        if kind == "sqlite":
            path = Path(tempfile.mkdtemp(prefix="can005-template-")) / "outreach.db"
            url, _TEMPLATES[kind] = f"sqlite:///{path}", str(path)
        else:
            name = "can005_template_" + uuid.uuid4().hex[:12]
            _pg_admin(f'CREATE DATABASE "{name}"')
            url, _TEMPLATES[kind] = PG_SERVER.rsplit("/", 1)[0] + "/" + name, name
            atexit.register(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        upgrade(url)
        forget_engine(url)  # nobody may be connected to a PostgreSQL template; SQLite checkpoints its WAL
    return _TEMPLATES[kind]


def fresh_database_url(kind: str, tmp_path: Path) -> str:
    """A new database of the given kind, migrated to the newest schema and empty."""
    if kind == "sqlite":
        path = tmp_path / "outreach.db"
        shutil.copyfile(_template("sqlite"), path)
        return f"sqlite:///{path}"
    if not POSTGRES:
        raise RuntimeError(f"PostgreSQL is not reachable at {PG_SERVER}; start it (see README)")
    name = "can005_test_" + uuid.uuid4().hex[:12]
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{_template("postgresql")}"')
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    from bot.db.engine import forget_engine

    forget_engine(url)
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    connection = psycopg2.connect(PG_SERVER)
    connection.autocommit = True
    connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    url = fresh_database_url(request.param, tmp_path)
    yield url
    drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path):
    url = fresh_database_url("sqlite", tmp_path)
    yield url
    drop_database(url)


@pytest.fixture
def fake_twilio():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


def make_settings(database_url: str, twilio_base: str = "http://127.0.0.1:9", **overrides) -> Settings:
    values = dict(
        database_url=database_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=PRACTICE_NUMBER, twilio_messaging_service_sid="", twilio_api_base_url=twilio_base,
        public_base_url="http://127.0.0.1:8000", rasa_url="http://127.0.0.1:9", rasa_token="",
        practices_dir=PROJECT_ROOT / "practices", send_rate_per_second=1000.0, sender_poll_seconds=0.05,
        inbound_retry_seconds=0.5)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url, fake_twilio, monkeypatch):
    """Settings for in-process code; also exported to the environment for code that reads it."""
    s = make_settings(database_url, fake_twilio.base_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PRACTICES_DIR", str(s.practices_dir))
    return s


@pytest.fixture
def script():
    return scripts.script_for(PROJECT_ROOT / "practices", "Y00001")


def add_conversation(database_url: str, mobile: str = PATIENT_NUMBER, first_name: str = "Alex",
                     dob: dt.date = PATIENT_DOB, ods: str = "Y00001") -> tuple[int, str]:
    """A patient of an example practice with an active conversation; returns (conversation id, public id)."""
    with session_scope(database_url) as session:
        practice = ensure_practice(session, scripts.script_for(PROJECT_ROOT / "practices", ods))
        patient = Patient(practice_id=practice.id, first_name=first_name, last_name="Smith", date_of_birth=dob,
                          mobile=mobile, diagnosis_date=dt.date.today() - dt.timedelta(days=20))
        session.add(patient)
        session.flush()
        conversation = Conversation(practice_id=practice.id, patient_id=patient.id)
        session.add(conversation)
        session.flush()
        return conversation.id, conversation.public_id


@pytest.fixture
def conversation(settings, database_url) -> dict:
    """An active conversation with a patient of the example practice; actions read it via env settings."""
    conversation_id, public_id = add_conversation(database_url)
    with session_scope(database_url) as session:
        conv = session.get(Conversation, conversation_id)
        return {"id": conversation_id, "public_id": public_id, "patient_id": conv.patient_id,
                "practice_id": conv.practice_id, "url": database_url}


# --- The whole stack as separate processes, one per database kind, shared by the e2e modules ---
from dataclasses import dataclass  # noqa: E402

from bot.dialogue.rasa_client import RasaClient  # noqa: E402
from devkit.stack import Stack  # noqa: E402


@dataclass
class Deployment:
    stack: Stack
    fake: FakeTwilio
    settings: object

    @property
    def inbound_url(self) -> str:
        return self.stack.gateway_url + "/sms/inbound"

    def rasa(self) -> RasaClient:
        return RasaClient(self.stack.rasa_url, self.stack.rasa_token)


@contextlib.contextmanager
def running_deployment(kind: str, workdir: Path) -> Iterator[Deployment]:
    """The whole stack on a fresh database of `kind` (sqlite or postgresql), with a Twilio-compatible
    fake; everything is stopped and the database dropped afterwards."""
    database_url = fresh_database_url(kind, workdir)
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    stack = Stack(env={}, workdir=workdir)
    env = {"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM_NUMBER": PRACTICE_NUMBER, "TWILIO_API_BASE_URL": fake.base_url,
           "PUBLIC_BASE_URL": stack.gateway_url, "SEND_RATE_PER_SECOND": "200", "SENDER_POLL_SECONDS": "0.1",
           "INBOUND_RETRY_SECONDS": "0.5", "PRACTICES_DIR": str(PROJECT_ROOT / "practices"),
           "INBOUND_SPOOL": str(workdir / "spool.jsonl")}
    stack.env = env
    settings = make_settings(database_url, fake.base_url, public_base_url=stack.gateway_url,
                             rasa_url=stack.rasa_url, rasa_token=stack.rasa_token)
    try:
        stack.start()
        yield Deployment(stack, fake, settings)
    finally:
        stack.stop()
        fake.stop()
        drop_database(database_url)


@pytest.fixture(scope="session", params=DATABASES)
def deployment(request, tmp_path_factory):
    with running_deployment(request.param, tmp_path_factory.mktemp(f"stack-{request.param}")) as running:
        yield running


@pytest.fixture(scope="session")
def safety_classifier():
    """The safety classifier `make model` built (models/safety.pkl); if that file is missing, stale
    (other training data or code) or from another scikit-learn, one trained now (about 15 s)."""
    import warnings

    from bot.safety import model as safety_model
    try:
        model = safety_model.load(safety_model.DEFAULT_PATH)
        if model.is_current():
            return model
        reason = "is stale"
    except (FileNotFoundError, safety_model.ModelVersionError) as exc:
        reason = f"cannot be used ({exc})"
    warnings.warn(f"{safety_model.DEFAULT_PATH} {reason}: training one for this session; run `make model`")
    files = safety_model.training_files()
    return safety_model.train(safety_model.read_rows(files), safety_model.content_hash(files))
