"""The coordinator inbox over HTTP against a real gateway process (Stack with only the gateway), on
SQLite and PostgreSQL, with the real twilio client sending to a Twilio-compatible fake.

Users are made with the `outreach users add` command and with bot code; flags, conversations and
messages are written straight into the database, as the processor would write them.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import itertools
import os
import re
import stat
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from unittest import mock

import pytest
import requests
from sqlalchemy import delete, func, select, update

from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from devkit.fake_twilio import FakeTwilio
from bot.inbox import auth
from bot.inbox.escalation import DUTY_CLINICIAN, escalate_overdue, escalation_text
from bot import records
from bot.booking import slots as booking
from bot.db.models import (AuditEntry, BookingSlot, Conversation, Flag, InboundMessage, LoginAttempt, Note,
                           OutboundMessage, Outcome, Patient, Practice, SafetyLabel, Task, User, WebSession, utcnow)
from bot.patients.outreach import ensure_practice
from bot.practice_script.loader import script_for
from bot.sender.sender import Sender
from devkit.stack import Stack
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, DATABASES, PRACTICE_NUMBER, drop_database, \
    fresh_database_url, make_settings

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
DUTY_Y00001 = "+447700900002"
DUTY_Y00002 = "+447700900003"
SENDER_Y00002 = "+447700900004"
Y00002_SCRIPT = f"""ods_code: Y00002
name: Hillside Medical Centre
phone: 01632 960 456
sender: "{SENDER_Y00002}"
duty_clinician_phone: "{DUTY_Y00002}"
"""
_mobiles = itertools.count(300)
_names = itertools.count(1)
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


# -- a deployment: the gateway process, the fake Twilio, a practices folder ------------------------------

@dataclass
class Inbox:
    stack: Stack
    fake: FakeTwilio
    settings: object
    env: dict

    @property
    def url(self) -> str:
        return self.stack.gateway_url + "/inbox"

    @property
    def db(self) -> str:
        return self.settings.database_url


def practices_folder(workdir: Path) -> Path:
    """The example practice (with its duty clinician) and a second practice with its own numbers."""
    folder = workdir / "practices"
    folder.mkdir(exist_ok=True)
    (folder / "Y00001.yml").write_text((PROJECT_ROOT / "practices" / "Y00001.yml").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    (folder / "Y00002.yml").write_text(Y00002_SCRIPT, encoding="utf-8")
    return folder


def start_inbox(kind: str, workdir: Path, before_start=None) -> Inbox:
    """A fresh database and a gateway process serving the inbox. `before_start(database_url,
    practices_dir)` can write rows the gateway must find when it starts."""
    database_url = fresh_database_url(kind, workdir)
    folder = practices_folder(workdir)
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    stack = Stack(env={}, workdir=workdir)
    env = {"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM_NUMBER": PRACTICE_NUMBER, "TWILIO_API_BASE_URL": fake.base_url,
           "PUBLIC_BASE_URL": stack.gateway_url, "SEND_RATE_PER_SECOND": "200", "SENDER_POLL_SECONDS": "0.1",
           "INBOUND_RETRY_SECONDS": "0.5", "PRACTICES_DIR": str(folder), "ESCALATION_MINUTES": "15",
           "INBOUND_SPOOL": str(workdir / "spool.jsonl")}
    stack.env = env
    settings = make_settings(database_url, fake.base_url, public_base_url=stack.gateway_url, practices_dir=folder)
    with session_scope(database_url) as session:
        for code in ("Y00001", "Y00002"):
            ensure_practice(session, script_for(folder, code))
    if before_start is not None:
        before_start(database_url, folder)
    try:
        stack.start_gateway()
        stack.start_processor()
        stack.wait_ready()
    except BaseException:
        stack.stop()
        fake.stop()
        drop_database(database_url)
        raise
    return Inbox(stack, fake, settings, env)


def stop_inbox(inbox: Inbox) -> None:
    inbox.stack.stop()
    inbox.fake.stop()
    drop_database(inbox.db)


# -- rows, written as the processor would write them -------------------------------------------------------

def practice_id(db: str, code: str) -> int:
    with session_scope(db) as session:
        return session.scalar(select(Practice.id).where(Practice.ods_code == code))


def new_practice(db: str) -> int:
    """A practice of its own (no script needed to view it), so a test's queue holds only its items."""
    with session_scope(db) as session:
        practice = Practice(ods_code=f"T{uuid.uuid4().hex[:8].upper()}", name=f"Test Practice {next(_names)}")
        session.add(practice)
        session.flush()
        return practice.id


REAL_HASH_PASSWORD = auth.hash_password


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    """PASSWORD hashed once per test run: scrypt at OWASP's cost takes most of a second, and every
    test adds users. Signing in still checks it at full cost in the gateway."""
    return REAL_HASH_PASSWORD(PASSWORD)


def new_user(db: str, practice_ids: list[int], role: str = "coordinator", name: Optional[str] = None) -> str:
    """A user of those practices. `role`: "coordinator", "clinician", "coordinator,clinician", or
    "admin" (an administrator who is a coordinator)."""
    username = name or f"user{uuid.uuid4().hex[:10]}"
    admin = role == "admin"
    with session_scope(db) as session, mock.patch.object(auth, "hash_password", lambda _password: password_hash()):
        practices = session.scalars(select(Practice).where(Practice.id.in_(practice_ids))).all()
        auth.create_user(session, username, PASSWORD, practices, roles=["coordinator"] if admin else role.split(","),
                         admin=admin)
    return username


def forget_sign_in_attempts(db: str) -> None:
    """Tests of the throttle run many wrong passwords from 127.0.0.1: forget them afterwards, so the
    next test in the module is not held back by the address limit."""
    with session_scope(db) as session:
        session.execute(delete(LoginAttempt))


def cli(inbox: Inbox, *args: str, password: Optional[str] = PASSWORD) -> subprocess.CompletedProcess:
    env = dict(os.environ, **inbox.env, PYTHONPATH=str(PROJECT_ROOT))
    env.pop("OUTREACH_PASSWORD", None)
    if password is not None:
        env["OUTREACH_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@dataclass
class Chat:
    id: int
    public_id: str
    mobile: str
    patient_id: int


def new_conversation(db: str, practice: int, status: str = "handed_over", first_name: str = "Alex",
                     last_name: str = "Smith", reason: Optional[str] = "urgent flag",
                     since: Optional[dt.datetime] = None) -> Chat:
    mobile = f"+447700900{next(_mobiles):03d}"
    with session_scope(db) as session:
        patient = Patient(practice_id=practice, first_name=first_name, last_name=last_name,
                          date_of_birth=dt.date(1961, 3, 12), mobile=mobile,
                          diagnosis_date=dt.date.today() - dt.timedelta(days=20))
        session.add(patient)
        session.flush()
        conversation = Conversation(practice_id=practice, patient_id=patient.id, status=status,
                                    handover_reason=reason if status != "active" else None,
                                    started_at=since or utcnow(), updated_at=since or utcnow())
        session.add(conversation)
        session.flush()
        return Chat(conversation.id, conversation.public_id, mobile, patient.id)


def patient_text(db: str, chat: Chat, body: str, at: Optional[dt.datetime] = None) -> int:
    with session_scope(db) as session:
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=chat.mobile,
                                 to_number=PRACTICE_NUMBER, body=body, received_at=at or utcnow(),
                                 conversation_id=chat.id, patient_id=chat.patient_id, status="processed",
                                 handled_by="safety")
        session.add(message)
        session.flush()
        return message.id


def new_flag(db: str, chat: Chat, practice: int, body: str, severity: str = "urgent", kind: str = "clinical",
             category: str = "possible_sepsis", evidence: str = "temperature of 38; shivering",
             age: dt.timedelta = dt.timedelta(minutes=2), with_task: bool = True,
             created: Optional[dt.datetime] = None, **extra) -> int:
    created = created or utcnow() - age
    message_id = patient_text(db, chat, body, created)
    with session_scope(db) as session:
        flag = Flag(practice_id=practice, patient_id=chat.patient_id, conversation_id=chat.id,
                    inbound_message_id=message_id, kind=kind, severity=severity, category=category,
                    evidence=evidence, created_at=created, **extra)
        session.add(flag)
        if with_task:
            session.add(Task(practice_id=practice, patient_id=chat.patient_id, conversation_id=chat.id,
                             inbound_message_id=message_id, kind=f"flag_{kind}", created_at=created,
                             detail=f"{severity.upper()} {kind} flag. Read the message and contact the patient."))
        session.flush()
        return flag.id


def new_task(db: str, practice: int, chat: Optional[Chat] = None, kind: str = "callback_requested",
             age: dt.timedelta = dt.timedelta(minutes=1)) -> int:
    with session_scope(db) as session:
        task = Task(practice_id=practice, conversation_id=chat.id if chat else None,
                    patient_id=chat.patient_id if chat else None, kind=kind,
                    detail="The patient would like a phone call.", created_at=utcnow() - age)
        session.add(task)
        session.flush()
        return task.id


def audit_rows(db: str, username: str, with_source: bool = False) -> list[tuple]:
    """(action, target, detail[, source]) of a user's audit entries, oldest first."""
    with session_scope(db) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return [(a.action, a.target, a.detail, a.source) if with_source else (a.action, a.target, a.detail)
                for a in session.scalars(select(AuditEntry).where(AuditEntry.user_id == user_id)
                                         .order_by(AuditEntry.id))]


def source_of_last(db: str, username: str) -> Optional[str]:
    rows = audit_rows(db, username, with_source=True)
    return rows[-1][3] if rows else None


def user_id_of(db: str, username: str) -> int:
    with session_scope(db) as session:
        return auth.user_named(session, username).id


def actions_of(db: str, username: str) -> list[str]:
    return [action for action, _target, _detail in audit_rows(db, username)]


# -- a browser without a browser -------------------------------------------------------------------------

class Browser:
    """A cookie-keeping HTTP client that signs in and posts forms with their CSRF token."""

    def __init__(self, inbox: Inbox):
        self.inbox = inbox
        self.http = requests.Session()
        self.csrf = ""
        self.username = ""
        self.last_login: Optional[requests.Response] = None

    def get(self, path: str, **kwargs) -> requests.Response:
        path = path[len("/inbox"):] if path.startswith("/inbox") else path  # a Location header
        response = self.http.get(self.inbox.url + path, allow_redirects=False, timeout=30, **kwargs)
        found = CSRF_FIELD.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: Optional[dict] = None, csrf: Optional[str] = "session") -> requests.Response:
        form = dict(data or {})
        if csrf == "session":
            form["csrf"] = self.csrf
        elif csrf is not None:
            form["csrf"] = csrf
        return self.http.post(self.inbox.url + path, data=form, allow_redirects=False, timeout=30)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        page = self.get("/login")
        assert page.status_code == 200
        response = self.post("/login", {"username": username, "password": password},
                             csrf=CSRF_FIELD.search(page.text).group(1))
        self.username, self.last_login = username, response
        if response.status_code == 303:
            self.get("/")  # the session's CSRF token for the forms
        return response


def signed_in(inbox: Inbox, username: str) -> Browser:
    browser = Browser(inbox)
    response = browser.login(username)
    assert response.status_code == 303, response.text
    return browser


def queue_keys(page: str) -> list[str]:
    return re.findall(r'data-key="([^"]+)"', page)


def seed_overdue_flag(database_url: str, _folder: Path) -> None:
    """Before the gateway starts: an urgent flag nobody picked up 20 minutes ago, for the
    escalation checker's first look."""
    chat = new_conversation(database_url, practice_id(database_url, "Y00001"), first_name="Seed")
    new_flag(database_url, chat, practice_id(database_url, "Y00001"), "I can't breathe properly",
             category="breathing", evidence="can't breathe", age=dt.timedelta(minutes=20))


@pytest.fixture(scope="module", params=DATABASES)
def inbox(request, tmp_path_factory):
    deployment = start_inbox(request.param, tmp_path_factory.mktemp(f"inbox-{request.param}"),
                             before_start=seed_overdue_flag)
    try:
        yield deployment
    finally:
        stop_inbox(deployment)


# -- signing in ------------------------------------------------------------------------------------------

def test_users_are_added_and_listed_with_the_command(inbox):
    done = cli(inbox, "users", "add", "cora", "--practice", "Y00001", "--practice", "y00002",
               "--phone", "+447700900009")
    assert done.returncode == 0, done.stderr
    assert "user cora (coordinator) added for Y00001, Y00002" in done.stdout
    again = cli(inbox, "users", "add", "cora", "--practice", "Y00001")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = cli(inbox, "users", "add", "shorty", "--practice", "Y00001", password="short")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    unknown = cli(inbox, "users", "add", "nobody", "--practice", "ZZZ99")
    assert unknown.returncode == 2 and "no practice ZZZ99" in unknown.stderr
    admin = cli(inbox, "users", "add", "ada", "--practice", "Y00001", "--admin")
    assert admin.returncode == 0, admin.stderr
    listed = cli(inbox, "users", "list").stdout
    assert "cora\tcoordinator\tY00001,Y00002\t+447700900009" in listed
    assert "ada\tcoordinator,admin\tY00001\t-" in listed
    with session_scope(inbox.db) as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "cora"))
    assert stored.startswith(f"scrypt${auth.SCRYPT_N}$8$1$") and PASSWORD not in stored
    assert auth.verify_password(PASSWORD, stored) and not auth.verify_password(PASSWORD + "x", stored)
    # The user made by the command signs in.
    assert signed_in(inbox, "cora").get("/").status_code == 200


def test_sign_in_sets_a_strict_session_cookie_and_sign_out_ends_it(inbox):
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    browser = Browser(inbox)
    page = browser.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    login_cookie = page.headers["Set-Cookie"]
    assert "inbox_login_csrf=" in login_cookie and "HttpOnly" in login_cookie and "SameSite=Strict" in login_cookie
    response = browser.post("/login", {"username": username, "password": PASSWORD},
                            csrf=CSRF_FIELD.search(page.text).group(1))
    assert response.status_code == 303 and response.headers["Location"] == "/inbox/"
    cookie = response.headers["Set-Cookie"]
    assert "inbox_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/inbox" in cookie and "Secure" not in cookie  # PUBLIC_BASE_URL is http here
    token = browser.http.cookies.get("inbox_session", path="/inbox")
    with session_scope(inbox.db) as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
        row = session.get(WebSession, auth.token_hash(token))
        assert token not in stored and row is not None
        assert dt.timedelta(hours=7, minutes=59) < row.expires_at - row.created_at <= dt.timedelta(hours=8)
    assert browser.get("/").status_code == 200
    assert browser.get("/login").status_code == 303  # already signed in
    out = browser.post("/logout")
    assert out.status_code == 303 and out.headers["Location"] == "/inbox/login"
    with session_scope(inbox.db) as session:
        assert session.get(WebSession, auth.token_hash(token)) is None
    # The old cookie is worthless now, even if a copy was kept.
    stale = requests.get(inbox.url + "/", cookies={"inbox_session": token}, allow_redirects=False, timeout=30)
    assert stale.status_code == 303 and stale.headers["Location"] == "/inbox/login"
    assert actions_of(inbox.db, username)[:2] == ["login", "view_queue"] and "logout" in actions_of(inbox.db, username)


def test_a_wrong_password_an_unknown_user_and_a_disabled_user_get_the_same_answer(inbox):
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    disabled = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    with session_scope(inbox.db) as session:
        auth.set_disabled(session, auth.user_named(session, disabled), True)
    try:
        wrong = Browser(inbox).login(username, "not the password")
        unknown = Browser(inbox).login("no-such-user", "not the password")
        off = Browser(inbox).login(disabled)  # the right password of a disabled account
        assert wrong.status_code == unknown.status_code == off.status_code == 401
        for response in (wrong, unknown, off):
            assert "Wrong username or password." in response.text
            assert "inbox_session" not in response.headers.get("Set-Cookie", "")
        assert actions_of(inbox.db, username) == ["login_failed"]
        # Attempts are stored only as hashes: no usernames or addresses in the throttle's table.
        with session_scope(inbox.db) as session:
            keys = session.scalars(select(LoginAttempt.key_hash)).all()
        assert keys and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
        assert source_of_last(inbox.db, username) == "127.0.0.1"
    finally:
        forget_sign_in_attempts(inbox.db)


def test_wrong_passwords_hold_back_new_browsers_but_never_the_users_own(inbox):
    """Five wrong passwords used to lock any account for 15 minutes. Now strangers' guesses hold back
    only browsers the account has never signed in from, with the same answer as for an unknown name."""
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    own = signed_in(inbox, username)  # this browser is now trusted by the account
    assert "inbox_browser=" in own.last_login.headers["Set-Cookie"]
    own.post("/logout")
    try:
        for attempt in range(1, auth.ACCOUNT_LIMIT + 1):
            response = Browser(inbox).login(username, f"wrong password {attempt}")
            assert response.status_code == 401 and "Wrong username or password." in response.text
        # Past the limit: the same answer for this account, for the right password from a new browser,
        # and for a name that does not exist after as many attempts.
        held = Browser(inbox).login(username, "wrong password 6")
        right_but_new = Browser(inbox).login(username)
        for attempt in range(auth.ACCOUNT_LIMIT + 1):
            nobody = Browser(inbox).login("no-such-coordinator", f"guess {attempt}")
        for response in (held, right_but_new, nobody):
            assert response.status_code == 429 and auth.THROTTLED_MESSAGE in response.text
            assert "inbox_session" not in response.headers.get("Set-Cookie", "")
        # The user's own browser still signs in, and that clears the count for everyone.
        assert own.login(username).status_code == 303
        assert own.get("/").status_code == 200
        assert Browser(inbox).login(username).status_code == 303
        assert actions_of(inbox.db, username).count("login_throttled") == 2

        # Guesses again; an administrator sees it and clears the attempts.
        for attempt in range(auth.ACCOUNT_LIMIT + 1):
            Browser(inbox).login(username, f"again {attempt}")
        admin = signed_in(inbox, new_user(inbox.db, [practice_id(inbox.db, "Y00001")], role="admin"))
        page = admin.get("/users")
        assert page.status_code == 200 and "Sign-in held back" in page.text
        assert admin.post(f"/users/{user_id_of(inbox.db, username)}/unlock").status_code == 303
        assert Browser(inbox).login(username).status_code == 303
        assert "unlock_user" in [action for action, *_ in audit_rows(inbox.db, admin.username)]
    finally:
        forget_sign_in_attempts(inbox.db)


def test_one_address_is_held_back_after_many_attempts_and_every_attempt_costs_one_check(inbox):
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    disabled = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    with session_scope(inbox.db) as session:
        auth.set_disabled(session, auth.user_named(session, disabled), True)
    checks: list[str] = []
    real_verify = auth.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        checks.append(stored)
        return real_verify(password, stored)

    attacker, colleague = "203.0.113.7", "198.51.100.20"
    try:
        with mock.patch.object(auth, "verify_password", counting_verify):
            for attempt in range(auth.ADDRESS_LIMIT):  # many names, one address (a password spray)
                result = auth.authenticate(inbox.db, f"name{attempt}", "Summer2026!", attacker)
                assert not result.ok and not result.throttled
            cases = {
                "unknown": auth.authenticate(inbox.db, "nobody-here", "x" * 12, attacker),
                "right but held back": auth.authenticate(inbox.db, username, PASSWORD, attacker),
                "disabled": auth.authenticate(inbox.db, disabled, PASSWORD, colleague),
                "wrong": auth.authenticate(inbox.db, username, "not it at all", colleague),
                "right": auth.authenticate(inbox.db, username, PASSWORD, colleague),
            }
        assert cases["unknown"].throttled and cases["right but held back"].throttled
        assert cases["unknown"].message == cases["right but held back"].message == auth.THROTTLED_MESSAGE
        assert not cases["disabled"].ok and cases["disabled"].message == auth.GENERIC_LOGIN_ERROR
        assert not cases["wrong"].ok and cases["right"].ok
        # One scrypt check per attempt, whatever the outcome: none answers faster than another.
        assert len(checks) == auth.ADDRESS_LIMIT + len(cases)
        assert all(stored.startswith(f"scrypt${auth.SCRYPT_N}$8$1$") for stored in checks)
    finally:
        forget_sign_in_attempts(inbox.db)


def test_passwords_are_hashed_at_owasp_cost_and_old_hashes_are_upgraded_at_sign_in(inbox):
    # The product's own cost, without the suite's INBOX_SCRYPT_N: OWASP's N=2^17, r=8, p=1.
    env = {k: v for k, v in os.environ.items() if k != "INBOX_SCRYPT_N"}
    probe = subprocess.run([sys.executable, "-c", "from bot.inbox import auth; print(auth.hash_password('x' * 12))"],
                           cwd=PROJECT_ROOT, env=dict(env, PYTHONPATH=str(PROJECT_ROOT)), capture_output=True,
                           text=True, timeout=120)
    assert probe.stdout.startswith("scrypt$131072$8$1$"), probe.stderr
    bad = subprocess.run([sys.executable, "-c", "from bot.inbox import auth"], cwd=PROJECT_ROOT,
                         env=dict(env, PYTHONPATH=str(PROJECT_ROOT), INBOX_SCRYPT_N="1000"), capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode != 0 and "INBOX_SCRYPT_N must be a power of two" in bad.stderr
    # A hash made at a lower cost than the current one is upgraded at the next sign-in.
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    with session_scope(inbox.db) as session:
        user = auth.user_named(session, username)
        salt = bytes(16)
        old = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2 ** 12, r=8, p=1, dklen=32)
        user.password_hash = f"scrypt$4096$8$1${salt.hex()}${old.hex()}"
    assert Browser(inbox).login(username).status_code == 303
    with session_scope(inbox.db) as session:
        stored = auth.user_named(session, username).password_hash
    assert stored.startswith(f"scrypt${auth.SCRYPT_N}$8$1$") and auth.verify_password(PASSWORD, stored)


def test_weak_passwords_are_refused_with_the_reason(inbox):
    for weak, reason in (("short", "at least 10 characters"), ("Password123!", "too weak"),
                         ("aaaaaaaaaaaaaa", "too weak"), ("qwertyuiop", "too weak")):
        done = cli(inbox, "users", "add", f"weak{uuid.uuid4().hex[:6]}", "--practice", "Y00001", password=weak)
        assert done.returncode == 2 and reason in done.stderr, (weak, done.stderr)
    # The username itself does not make a password.
    name = f"mavis{uuid.uuid4().hex[:4]}"
    done = cli(inbox, "users", "add", name, "--practice", "Y00001", password=name + name)
    assert done.returncode == 2 and "too weak" in done.stderr
    with session_scope(inbox.db) as session:
        assert session.scalar(select(User.id).where(User.username == name)) is None


def test_an_administrator_disables_enables_resets_and_ends_sessions(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    username = new_user(inbox.db, [y1])
    user_id = user_id_of(inbox.db, username)
    admin = signed_in(inbox, new_user(inbox.db, [y1], role="admin"))
    laptop, phone = signed_in(inbox, username), signed_in(inbox, username)

    # Disable: every session ends at once and the right password no longer works.
    assert admin.post(f"/users/{user_id}/disable").status_code == 303
    assert laptop.get("/").status_code == 303 and phone.get("/").status_code == 303
    assert Browser(inbox).login(username).status_code == 401
    assert "Disabled" in admin.get("/users").text
    assert admin.post(f"/users/{user_id}/enable").status_code == 303
    laptop = signed_in(inbox, username)

    # End sessions without disabling.
    assert admin.post(f"/users/{user_id}/revoke").status_code == 303
    assert laptop.get("/").status_code == 303

    # Reset: a weak temporary password is refused, a good one ends sessions and must be changed.
    laptop = signed_in(inbox, username)
    refused = admin.post(f"/users/{user_id}/password", {"password": "password1"})
    assert refused.status_code == 400 and "was not reset" in refused.text
    temporary = "violet anchor drizzle 42"
    assert admin.post(f"/users/{user_id}/password", {"password": temporary}).status_code == 303
    assert laptop.get("/").status_code == 303
    fresh = Browser(inbox)
    response = fresh.login(username, temporary)
    assert response.status_code == 303 and response.headers["Location"] == "/inbox/account?done=must_change"
    assert fresh.get("/").headers["Location"] == "/inbox/account?done=must_change"  # nothing else until changed
    assert fresh.get("/queue.json").status_code == 403
    fresh.csrf = CSRF_FIELD.search(fresh.get("/account").text).group(1)
    wrong = fresh.post("/account/password", {"current": "not it", "new": "plum kettle orbit 77", "again":
                                             "plum kettle orbit 77"})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    differ = fresh.post("/account/password", {"current": temporary, "new": "plum kettle orbit 77", "again": "x"})
    assert differ.status_code == 400 and "differ" in differ.text
    done = fresh.post("/account/password", {"current": temporary, "new": "plum kettle orbit 77",
                                            "again": "plum kettle orbit 77"})
    assert done.status_code == 303
    assert fresh.get("/").status_code == 200
    assert Browser(inbox).login(username, "plum kettle orbit 77").status_code == 303

    # Administrators cannot disable or reset themselves by mistake; unknown users are 404.
    own_id = user_id_of(inbox.db, admin.username)
    assert admin.post(f"/users/{own_id}/disable").status_code == 400
    assert admin.post("/users/999999/disable").status_code == 404
    assert admin.post(f"/users/{user_id}/explode").status_code == 404
    # Every change is in the audit log, with the address it came from.
    rows = audit_rows(inbox.db, admin.username, with_source=True)
    done_actions = [(action, target, source) for action, target, _detail, source in rows]
    for action in ("disable_user", "enable_user", "revoke_sessions", "reset_password"):
        assert (action, f"user:{user_id}", "127.0.0.1") in done_actions
    assert "change_password" in actions_of(inbox.db, username)


def test_a_session_ends_after_thirty_idle_minutes_and_the_queue_refresh_is_not_activity(inbox):
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    browser = signed_in(inbox, username)
    token = auth.token_hash(browser.http.cookies.get("inbox_session"))

    def last_seen(minutes_ago: Optional[int] = None) -> dt.datetime:
        with session_scope(inbox.db) as session:
            row = session.get(WebSession, token)
            if minutes_ago is not None:
                row.last_seen_at = utcnow() - dt.timedelta(minutes=minutes_ago)
            return row.last_seen_at

    before = last_seen(10)
    got = browser.get("/queue.json")
    assert got.status_code == 200, (got.text, before, utcnow())
    assert last_seen() == before  # the page's own refresh does not keep a session alive
    assert browser.get("/").status_code == 200
    assert last_seen() > before
    last_seen(auth.IDLE_MINUTES + 1)
    assert browser.get("/queue.json").status_code == 401
    assert browser.get("/").headers["Location"] == "/inbox/login"


def test_account_changes_from_the_command_line_are_audited(inbox):
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")])
    browser = signed_in(inbox, username)
    assert cli(inbox, "users", "disable", username).returncode == 0
    assert browser.get("/").status_code == 303
    assert f"{username}\tcoordinator\tY00001\t-\tdisabled" in cli(inbox, "users", "list").stdout
    assert cli(inbox, "users", "enable", username).returncode == 0
    browser = signed_in(inbox, username)
    assert cli(inbox, "users", "revoke", username).returncode == 0
    assert browser.get("/").status_code == 303
    done = cli(inbox, "users", "set-password", username, password="copper meadow lantern 9")
    assert done.returncode == 0 and "must choose their own" in done.stdout
    assert "must choose a new password" in cli(inbox, "users", "list").stdout
    assert cli(inbox, "users", "unlock", username).returncode == 0
    missing = cli(inbox, "users", "disable", "no-such-user")
    assert missing.returncode == 2 and "there is no user called 'no-such-user'" in missing.stderr
    with session_scope(inbox.db) as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.source).where(
            AuditEntry.target == f"user:{user_id_of(inbox.db, username)}", AuditEntry.user_id.is_(None))).all()
    assert {action for action, _ in rows} >= {"disable_user", "enable_user", "revoke_sessions", "reset_password",
                                               "unlock_user"}
    assert all(source.startswith("cli:") for _, source in rows)


# -- no session, no CSRF token, no access --------------------------------------------------------------

def test_every_page_and_the_json_are_refused_without_a_valid_session(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    chat = new_conversation(inbox.db, y1)
    flag_id = new_flag(inbox.db, chat, y1, "chest pain", severity="soon")
    task_id = new_task(inbox.db, y1, chat)
    username = new_user(inbox.db, [y1], role="admin")
    expired = Browser(inbox)
    expired.login(username)
    with session_scope(inbox.db) as session:
        session.execute(update(WebSession).where(
            WebSession.token_hash == auth.token_hash(expired.http.cookies.get("inbox_session")))
            .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    pages = ["/", "", f"/c/{chat.public_id}", f"/flag/{flag_id}", "/tasks", "/users", "/account"]
    posts = [f"/c/{chat.public_id}/{action}" for action in ("take", "reply", "handback", "resolve", "note")]
    posts += [f"/tasks/{task_id}/done", f"/flag/{flag_id}/take", f"/flag/{flag_id}/resolve", "/users",
              "/users/1/unlock", "/users/1/disable", "/account/password", "/logout"]
    expired_token = expired.http.cookies.get("inbox_session")
    for cookies in ({}, {"inbox_session": "made-up-token"}, {"inbox_session": expired_token}):
        for path in pages:
            response = requests.get(inbox.url + path, cookies=cookies, allow_redirects=False, timeout=30)
            assert response.status_code in (302, 303) and response.headers["Location"] == "/inbox/login", path
        for path in posts:
            response = requests.post(inbox.url + path, cookies=cookies, data={"text": "hi", "csrf": "x"},
                                     allow_redirects=False, timeout=30)
            assert response.status_code == 303 and response.headers["Location"] == "/inbox/login", path
        response = requests.get(inbox.url + "/queue.json", cookies=cookies, timeout=30)
        assert response.status_code == 401 and response.json() == {"error": "not signed in"}
    with session_scope(inbox.db) as session:
        assert session.scalar(select(Conversation.assigned_user_id).where(Conversation.id == chat.id)) is None
        assert session.scalar(select(Task.status).where(Task.id == task_id)) == "open"
        assert session.scalar(select(func.count()).select_from(Note)) == 0
    # The sign-in page and the page's own script and style are all that is public.
    assert requests.get(inbox.url + "/login", timeout=30).status_code == 200
    assert requests.get(inbox.url + "/static/queue.js", timeout=30).headers["Content-Type"].startswith(
        "application/javascript")
    assert requests.get(inbox.url + "/static/inbox.css", timeout=30).status_code == 200


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    chat = new_conversation(inbox.db, y1)
    new_flag(inbox.db, chat, y1, "I feel hot and shivery")
    task_id = new_task(inbox.db, y1, chat)
    username = new_user(inbox.db, [y1], role="admin")
    browser = signed_in(inbox, username)
    posts = [(f"/c/{chat.public_id}/take", {}), (f"/c/{chat.public_id}/reply", {"text": "Hello"}),
             (f"/c/{chat.public_id}/handback", {}), (f"/c/{chat.public_id}/resolve", {"outcome": "informed"}),
             (f"/c/{chat.public_id}/note", {"text": "a note"}), (f"/tasks/{task_id}/done", {}),
             ("/users", {"username": "mallory", "password": PASSWORD, "practice": str(y1)}),
             ("/logout", {})]
    for path, data in posts:
        for csrf in (None, "", "wrong-token-" + "x" * 30, browser.csrf[:-1]):
            response = browser.post(path, data, csrf=csrf)
            assert response.status_code == 403, (path, csrf)
            assert "missing or wrong CSRF token" in response.text
    with session_scope(inbox.db) as session:
        conversation = session.get(Conversation, chat.id)
        assert conversation.status == "handed_over" and conversation.assigned_user_id is None
        assert session.scalar(select(Flag.acknowledged_at).where(Flag.conversation_id == chat.id)) is None
        assert session.scalar(select(Flag.resolved_at).where(Flag.conversation_id == chat.id)) is None
        assert session.scalars(select(OutboundMessage).where(OutboundMessage.conversation_id == chat.id)).all() == []
        assert session.scalars(select(Note).where(Note.conversation_id == chat.id)).all() == []
        assert session.scalars(select(Outcome).where(Outcome.conversation_id == chat.id)).all() == []
        assert session.scalar(select(Task.status).where(Task.id == task_id)) == "open"
        assert session.scalar(select(User.id).where(User.username == "mallory")) is None
    assert browser.get("/").status_code == 200  # still signed in: the logout was refused too
    assert actions_of(inbox.db, username).count("csrf_refused") == 4 * len(posts)
    # The sign-in form has its own token (double submit): without it, nothing is checked.
    page = Browser(inbox)
    page.get("/login")
    refused = page.post("/login", {"username": username, "password": PASSWORD}, csrf=None)
    assert refused.status_code == 403 and "missing or wrong CSRF token" in refused.text
    fresh = Browser(inbox)  # a token from the form but no matching cookie
    refused = fresh.post("/login", {"username": username, "password": PASSWORD}, csrf="a" * 43)
    assert refused.status_code == 403


def test_a_user_of_another_practice_sees_nothing_and_gets_404(inbox):
    y1, y2 = practice_id(inbox.db, "Y00001"), practice_id(inbox.db, "Y00002")
    chat = new_conversation(inbox.db, y1, first_name="Private")
    flag_id = new_flag(inbox.db, chat, y1, "I want to end it all", kind="safeguarding", category="suicidal_thoughts",
                       evidence="end it all")
    task_id = new_task(inbox.db, y1, chat)
    other = new_user(inbox.db, [y2])
    browser = signed_in(inbox, other)
    queue = browser.get("/")
    assert queue.status_code == 200
    assert chat.public_id not in queue.text and "end it all" not in queue.text and "Riverside" not in queue.text
    items = browser.get("/queue.json").json()["items"]
    assert all(item["practice"] == "Hillside Medical Centre" for item in items)
    assert not any(chat.public_id in item["url"] for item in items)
    for path in (f"/c/{chat.public_id}", f"/flag/{flag_id}", "/c/" + "0" * 32, "/c/not-an-id", "/flag/999999"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert "Private" not in response.text and "end it all" not in response.text
    for path in (f"/c/{chat.public_id}/take", f"/c/{chat.public_id}/resolve", f"/c/{chat.public_id}/note",
                 f"/tasks/{task_id}/done", f"/flag/{flag_id}/resolve"):
        assert browser.post(path, {"text": "x"}).status_code == 404, path
    tasks = browser.get("/tasks")
    assert f"task-{task_id}" not in tasks.text
    with session_scope(inbox.db) as session:
        assert session.get(Conversation, chat.id).assigned_user_id is None
        assert session.get(Flag, flag_id).acknowledged_at is None and session.get(Flag, flag_id).resolved_at is None
        assert session.get(Task, task_id).status == "open"
        assert session.scalars(select(Note).where(Note.conversation_id == chat.id)).all() == []
    assert ("not_found", f"conversation:{chat.public_id}", None) in audit_rows(inbox.db, other)
    # A coordinator cannot open the users page.
    assert browser.get("/users").status_code == 403


def test_an_id_no_row_can_have_is_404_not_500(inbox):
    """Sanic's int parameter takes any number of digits: the driver could not even send them."""
    admin = signed_in(inbox, new_user(inbox.db, [practice_id(inbox.db, "Y00001")], role="admin"))
    for number in (str(2 ** 63), "9" * 40, "0"):
        assert admin.get(f"/flag/{number}").status_code == 404, number
        for path in (f"/flag/{number}/take", f"/flag/{number}/resolve", f"/tasks/{number}/done",
                     f"/users/{number}/unlock"):
            assert admin.post(path).status_code == 404, path


# -- the queue --------------------------------------------------------------------------------------------

def test_the_queue_puts_urgent_flags_first_then_soon_then_the_rest_oldest_first(inbox):
    practice = new_practice(inbox.db)
    minute = dt.timedelta(minutes=1)
    chats = [new_conversation(inbox.db, practice, since=utcnow() - 90 * minute) for _ in range(6)]
    task_old = new_task(inbox.db, practice, chats[0], age=60 * minute)
    soon_old = new_flag(inbox.db, chats[1], practice, "a bit breathless", severity="soon", age=50 * minute)
    # Overdue; already escalated so the gateway's own checker leaves it alone.
    urgent_new = new_flag(inbox.db, chats[2], practice, "chest pain", age=5 * minute)
    urgent_old = new_flag(inbox.db, chats[3], practice, "fever 39", age=20 * minute, escalated_at=utcnow())
    soon_new = new_flag(inbox.db, chats[4], practice, "feeling low", severity="soon", kind="safeguarding",
                        category="low_mood", evidence="low", age=2 * minute)
    handed_over = chats[5]  # no flag, no task: listed as a conversation waiting since 90 min ago
    task_new = new_task(inbox.db, practice, None, kind="unknown_number", age=3 * minute)
    user = new_user(inbox.db, [practice])
    browser = signed_in(inbox, user)
    expected = [f"flag:{urgent_old}", f"flag:{urgent_new}", f"flag:{soon_old}", f"flag:{soon_new}",
                f"conversation:{handed_over.id}", f"task:{task_old}", f"task:{task_new}"]
    page = browser.get("/")
    assert queue_keys(page.text) == expected
    data = browser.get("/queue.json").json()
    assert [item["key"] for item in data["items"]] == expected
    first = data["items"][0]
    assert first["label"] == "Urgent" and first["kind"] == "Clinical flag" and first["category"] == "Possible sepsis"
    assert first["evidence"] == "temperature of 38; shivering" and first["waiting"] == "20 min"
    assert first["sla"].startswith("OVERDUE by 5 min") and "duty clinician texted" in first["sla"]
    assert re.fullmatch(r"(9|10) min left \(pick up within 15 min\)", data["items"][1]["sla"])
    # Soon: 2 working hours by default (the practice has no script), counted in the default opening hours.
    assert re.fullmatch(r"1 h (9|10) min left \(pick up within 2 working hours\)", data["items"][2]["sla"])
    assert data["items"][4]["kind"] == "Conversation handed over" and data["items"][4]["waiting"] == "1 h 30 min"
    # The flags' own tasks are not listed twice; links carry only opaque ids.
    assert len(data["items"]) == 7
    for item in data["items"]:
        assert re.fullmatch(r"/inbox/(c/[0-9a-f]{32}|tasks#task-\d+|flag/\d+)", item["url"]), item["url"]
    for chat in chats:
        assert chat.mobile not in page.text and "Smith" not in page.text
    assert 'src="/inbox/static/queue.js"' in page.text and "<script>" not in page.text
    # Taken flags stay until resolved; a resolved conversation leaves the queue.
    browser.post(f"/c/{chats[3].public_id}/take")
    browser.post(f"/c/{chats[3].public_id}/resolve", {"close": "yes"})
    after = [item["key"] for item in browser.get("/queue.json").json()["items"]]
    assert after == expected[1:]
    assert "view_queue" in actions_of(inbox.db, user) and "view_queue_json" in actions_of(inbox.db, user)


# -- working a conversation --------------------------------------------------------------------------------

def test_take_over_reply_note_task_hand_back_and_resolve(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    chat = new_conversation(inbox.db, y1, status="active", first_name="Jo", last_name="Bloggs")
    patient_text(inbox.db, chat, "12/03/1961", utcnow() - dt.timedelta(minutes=6))
    flag_id = new_flag(inbox.db, chat, y1, "I've got a temperature of 38 and I'm shivering")
    task_id = new_task(inbox.db, y1, chat, kind="message_while_handed_over")
    username = new_user(inbox.db, [y1])
    browser = signed_in(inbox, username)
    page = browser.get(f"/c/{chat.public_id}")
    assert page.status_code == 200
    assert "I&#39;ve got a temperature of 38" in page.text and "temperature of 38; shivering" in page.text
    assert "Jo Bloggs" in page.text and chat.mobile in page.text

    # Replying needs the conversation taken over first.
    refused = browser.post(f"/c/{chat.public_id}/reply", {"text": "Hello"})
    assert refused.status_code == 400 and "Take it over before you reply" in refused.text

    taken = browser.post(f"/c/{chat.public_id}/take")
    assert taken.status_code == 303 and taken.headers["Location"] == f"/inbox/c/{chat.public_id}?done=taken"
    with session_scope(inbox.db) as session:
        conversation = session.get(Conversation, chat.id)
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert conversation.status == "handed_over" and conversation.assigned_user_id == user_id
        assert session.get(Flag, flag_id).acknowledged_at is not None
    assert "You have taken over this conversation" in browser.get(taken.headers["Location"]).text

    reply = "Hello Jo, this is Sam at Riverside Surgery. Please call 111 now. We will phone you today."
    sent = browser.post(f"/c/{chat.public_id}/reply", {"text": reply})
    assert sent.status_code == 303
    (delivered,) = inbox.fake.wait_for_messages(1, to=chat.mobile)
    assert delivered["body"] == reply and delivered["from"] == PRACTICE_NUMBER
    with session_scope(inbox.db) as session:
        (outbound,) = session.scalars(select(OutboundMessage).where(OutboundMessage.conversation_id == chat.id)).all()
        assert outbound.idempotency_key.startswith("human:") and outbound.purpose == "reply"
        assert outbound.patient_id == chat.patient_id
    page = browser.get(f"/c/{chat.public_id}")
    assert reply in page.text and f"Coordinator {username}" in page.text

    too_long = browser.post(f"/c/{chat.public_id}/reply", {"text": "x" * 1601})
    assert too_long.status_code == 400 and "1601 characters long" in too_long.text and "at most 1600" in too_long.text
    with session_scope(inbox.db) as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)
                              .where(OutboundMessage.conversation_id == chat.id)) == 1

    assert browser.post(f"/c/{chat.public_id}/note", {"text": "Phoned, no answer. Try at 2pm."}).status_code == 303
    assert "Phoned, no answer. Try at 2pm." in browser.get(f"/c/{chat.public_id}").text
    assert browser.post(f"/tasks/{task_id}/done", {"back": "conversation"}).headers["Location"] == \
        f"/inbox/c/{chat.public_id}?done=task_done"

    back = browser.post(f"/c/{chat.public_id}/handback")
    assert back.status_code == 303
    with session_scope(inbox.db) as session:
        conversation = session.get(Conversation, chat.id)
        assert conversation.status == "active" and conversation.assigned_user_id is None
        assert session.get(Task, task_id).status == "done"
        assert session.scalars(select(Note.text).where(Note.conversation_id == chat.id)).all() == \
            ["Phoned, no answer. Try at 2pm."]
        # Handing back sends nothing: the assistant answers the patient's next text.
        assert session.scalar(select(func.count()).select_from(OutboundMessage)
                              .where(OutboundMessage.conversation_id == chat.id)) == 1
    assert browser.post(f"/c/{chat.public_id}/reply", {"text": "more"}).status_code == 400

    assert browser.post(f"/c/{chat.public_id}/resolve", {"outcome": "not-a-kind"}).status_code == 400
    resolved = browser.post(f"/c/{chat.public_id}/resolve", {"outcome": "informed"})
    assert resolved.status_code == 303
    script = script_for(inbox.settings.practices_dir, "Y00001")
    with session_scope(inbox.db) as session:
        assert session.get(Flag, flag_id).resolved_at is not None
        assert session.scalars(select(Task.status).where(Task.conversation_id == chat.id)).all() == ["done", "done"]
        (outcome,) = session.scalars(select(Outcome).where(Outcome.conversation_id == chat.id)).all()
        assert (outcome.kind, outcome.cluster, outcome.code) == \
            ("informed", "CANPCSUPP_COD", script.code_for("CANPCSUPP_COD"))
        assert session.get(Conversation, chat.id).status == "active"
    assert chat.public_id not in browser.get("/").text

    rows = audit_rows(inbox.db, username)
    actions = [action for action, _target, _detail in rows]
    for action in ("view_conversation", "take_over", "reply", "reply_refused", "add_note", "task_done",
                   "hand_back", "resolve"):
        assert action in actions, action
    assert ("task_done", f"task:{task_id}", "kind message_while_handed_over") in rows
    target = f"conversation:{chat.id}"
    assert {t for a, t, _d in rows if a in ("take_over", "reply", "add_note", "hand_back", "resolve")} == {target}
    for _action, _target, detail in rows:  # no message text in the audit log
        assert "Riverside" not in (detail or "") and "Phoned" not in (detail or "") and "xxxx" not in (detail or "")


def test_patient_text_is_shown_as_text_never_as_markup(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    chat = new_conversation(inbox.db, y1, first_name="<b>Bold</b>")
    new_flag(inbox.db, chat, y1, "<script>alert(1)</script> I have chest pain", severity="urgent",
             evidence="<img src=x onerror=alert(2)> chest pain")
    browser = signed_in(inbox, new_user(inbox.db, [y1]))
    page = browser.get(f"/c/{chat.public_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; I have chest pain" in page.text
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(2)&gt; chest pain" in page.text and "&lt;b&gt;Bold&lt;/b&gt;" in page.text
    assert "onerror=alert" not in page.text.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    queue = browser.get("/")
    assert "<img src=x" not in queue.text and "&lt;img src=x onerror=alert(2)&gt; chest pain" in queue.text
    # JSON carries the raw text; the page's script puts it in with textContent.
    items = browser.get("/queue.json").json()["items"]
    assert any(item["evidence"] == "<img src=x onerror=alert(2)> chest pain" for item in items)


def test_the_conversation_page_shows_the_check_in_routing_and_appointment(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    chat = new_conversation(inbox.db, y1, status="active", reason=None)
    with session_scope(inbox.db) as session:
        conversation = session.get(Conversation, chat.id)
        records.record_concern(session, conversation, "overall", score=8)
        records.record_concern(session, conversation, "areas", areas=["emotional", "practical"])
        records.record_concern(session, conversation, "practical", score=9)
        records.record_concern(session, conversation, "emotional", status="skipped")
        records.record_routing(session, conversation, "social_prescriber", "one_high_area",
                               "high score (>= 4) in practical (overall 8, emotional not given, practical 9)")
        slot = BookingSlot(practice_id=y1, role="social_prescriber", staff="Priya", kind="video",
                           starts_at=dt.datetime(2027, 6, 1, 9, 0), minutes=30, source="import")
        session.add(slot)
        session.flush()
        booking.book(session, slot.id, patient_id=chat.patient_id, practice_id=y1, conversation_id=chat.id,
                     role="social_prescriber")
    page = signed_in(inbox, new_user(inbox.db, [y1])).get(f"/c/{chat.public_id}").text
    support = page[page.index('id="support"'):page.index("</dl>", page.index('id="support"'))]
    assert "<dt>Overall</dt><dd>8 out of 10</dd>" in support
    assert "<dt>Areas</dt><dd>feelings, money, work, housing, transport or caring</dd>" in support
    assert "<dd>9 out of 10</dd>" in support and "<dd>skipped</dd>" in support
    assert "<strong>Social prescriber</strong> (One high area)" in support and "practical 9" in support
    assert "Tue 1 Jun 10:00, video call with Priya, social prescriber · booked" in support


# -- escalation -----------------------------------------------------------------------------------------

def test_the_gateway_escalates_a_flag_left_unpicked_since_before_it_started(inbox):
    text = inbox.fake.wait_for_messages(1, to=DUTY_Y00001, timeout=30)[0]
    with session_scope(inbox.db) as session:
        flag = session.scalar(select(Flag).where(Flag.category == "breathing"))
        assert flag.escalated_at is not None
    assert text["body"] == escalation_text(DUTY_CLINICIAN, "urgent", "Riverside Surgery", dt.timedelta(minutes=20),
                                           f"{inbox.stack.gateway_url}/inbox/flag/{flag.id}")
    assert text["from"] == PRACTICE_NUMBER
    with session_scope(inbox.db) as session:
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.target == f"flag:{flag.id}")) == "escalate"


def test_escalate_overdue_texts_the_duty_clinician_once_per_unpicked_urgent_flag(settings, fake_twilio, tmp_path,
                                                                                  monkeypatch):
    folder = practices_folder(tmp_path)
    settings = make_settings(settings.database_url, fake_twilio.base_url, practices_dir=folder)
    monkeypatch.setenv("ESCALATION_MINUTES", "15")
    db = settings.database_url
    with session_scope(db) as session:
        for code in ("Y00001", "Y00002"):
            ensure_practice(session, script_for(folder, code))
    y1, y2 = practice_id(db, "Y00001"), practice_id(db, "Y00002")
    now = dt.datetime(2026, 11, 23, 10, 30)  # explicit: the flags below are placed relative to it

    def flag(practice, minutes_old, **kwargs):
        chat = new_conversation(db, practice)
        return new_flag(db, chat, practice, "fever and shaking", created=now - dt.timedelta(minutes=minutes_old),
                        **kwargs)

    overdue = flag(y1, 16)
    overdue_other_practice = flag(y2, 40)
    young = flag(y1, 14)                                         # not yet 15 minutes
    flag(y1, 30, acknowledged_at=now)                            # picked up
    soon = flag(y1, 30, severity="soon")                         # 2 working hours
    flag(y1, 30, resolved_at=now, acknowledged_at=now)           # done

    assert escalate_overdue(settings, now) == 2
    assert escalate_overdue(settings, now + dt.timedelta(seconds=30)) == 0  # once per flag
    sender = Sender(settings)
    assert sender.send_due() == 2
    texts = fake_twilio.wait_for_messages(2)
    assert sorted((m["to"], m["from"], m["body"]) for m in texts) == sorted([
        (DUTY_Y00001, PRACTICE_NUMBER, "URGENT: a patient safety flag (urgent) at Riverside Surgery has not been "
                                       "picked up within its time limit (16 min so far). Please open the inbox now: "
                                       f"http://127.0.0.1:8000/inbox/flag/{overdue}"),
        (DUTY_Y00002, SENDER_Y00002, "URGENT: a patient safety flag (urgent) at Hillside Medical Centre has not been "
                                     "picked up within its time limit (40 min so far). Please open the inbox now: "
                                     f"http://127.0.0.1:8000/inbox/flag/{overdue_other_practice}"),
    ])
    with session_scope(db) as session:
        escalated = session.scalars(select(Flag.id).where(Flag.escalated_at.is_not(None)).order_by(Flag.id)).all()
        assert escalated == sorted([overdue, overdue_other_practice])
        assert sorted(session.scalars(select(OutboundMessage.idempotency_key)).all()) == \
            sorted([f"escalate:{overdue}", f"escalate:{overdue_other_practice}"])
        assert all(m.patient_id is None and m.conversation_id is None
                   for m in session.scalars(select(OutboundMessage)))
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "escalate")).all()
        assert sorted(a.target for a in audits) == sorted([f"flag:{overdue}", f"flag:{overdue_other_practice}"])
    # Later the young flag is overdue too: it alone is escalated, and still nothing twice.
    assert escalate_overdue(settings, now + dt.timedelta(minutes=2)) == 1
    assert escalate_overdue(settings, now + dt.timedelta(minutes=3)) == 0
    assert sender.send_due() == 1
    assert fake_twilio.wait_for_messages(3)[-1]["body"] == escalation_text(
        DUTY_CLINICIAN, "urgent", "Riverside Surgery", dt.timedelta(minutes=16), f"http://127.0.0.1:8000/inbox/flag/{young}")
    # The soon flag climbs at its own limit, 2 working hours after it was raised (Monday 12:00).
    assert escalate_overdue(settings, now + dt.timedelta(minutes=89)) == 0
    assert escalate_overdue(settings, now + dt.timedelta(minutes=90)) == 1
    assert escalate_overdue(settings, now + dt.timedelta(hours=3)) == 0
    with session_scope(db) as session:
        assert session.get(Flag, young).escalated_at == now + dt.timedelta(minutes=2)
        assert session.get(Flag, soon).escalated_at == now + dt.timedelta(minutes=90)


def test_the_escalation_limit_comes_from_escalation_minutes(settings, tmp_path, monkeypatch):
    from bot.config import ConfigError
    from bot.inbox.escalation import escalation_minutes

    monkeypatch.setenv("ESCALATION_MINUTES", "5")
    assert escalation_minutes(settings) == 5
    monkeypatch.delenv("ESCALATION_MINUTES")
    assert escalation_minutes(settings) == 15
    monkeypatch.setenv("ESCALATION_MINUTES", "soon")
    with pytest.raises(ConfigError, match="ESCALATION_MINUTES"):
        escalation_minutes(settings)


# -- flags without a conversation, the tasks page, the users page -------------------------------------------

def test_a_flag_from_an_unknown_number_has_its_own_page(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    with session_scope(inbox.db) as session:
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number="+447700900999",
                                 to_number=PRACTICE_NUMBER, body="who is this? I feel like ending it",
                                 status="processed", handled_by="safety")
        session.add(message)
        session.flush()
        flag = Flag(practice_id=y1, inbound_message_id=message.id, kind="safeguarding", severity="urgent",
                    category="suicidal_thoughts", evidence="ending it")
        session.add(flag)
        session.flush()
        session.add(Task(practice_id=y1, inbound_message_id=message.id, kind="flag_safeguarding",
                         detail="URGENT safeguarding flag. Read the message and contact the sender."))
        flag_id = flag.id
    username = new_user(inbox.db, [y1])
    browser = signed_in(inbox, username)
    (item,) = [i for i in browser.get("/queue.json").json()["items"] if i["key"] == f"flag:{flag_id}"]
    assert item["url"] == f"/inbox/flag/{flag_id}" and item["kind"] == "Safeguarding flag"
    page = browser.get(item["url"])
    assert page.status_code == 200
    assert "who is this? I feel like ending it" in page.text and "+447700900999" in page.text
    assert browser.post(f"/flag/{flag_id}/take").status_code == 303
    assert browser.post(f"/flag/{flag_id}/resolve").headers["Location"] == f"/inbox/flag/{flag_id}?done=resolved"
    with session_scope(inbox.db) as session:
        stored = session.get(Flag, flag_id)
        assert stored.acknowledged_at is not None and stored.resolved_at is not None
        assert session.scalar(select(Task.status).where(Task.inbound_message_id == stored.inbound_message_id)) == "done"
    assert all(i["key"] != f"flag:{flag_id}" for i in browser.get("/queue.json").json()["items"])
    assert ["view_flag", "acknowledge_flag", "resolve_flag"] == \
        [a for a in actions_of(inbox.db, username) if a in ("view_flag", "acknowledge_flag", "resolve_flag")]


def test_a_flag_from_a_registered_patient_with_no_conversation_names_the_patient(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    mobile = "+447700900998"
    with session_scope(inbox.db) as session:
        patient = Patient(practice_id=y1, first_name="Jordan", last_name="Reyes", date_of_birth=dt.date(1957, 4, 9),
                          mobile=mobile, diagnosis_date=dt.date(2026, 1, 2))
        session.add(patient)
        session.flush()
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=mobile, to_number=PRACTICE_NUMBER,
                                 body="I want to end my life", status="processed", handled_by="safety",
                                 patient_id=patient.id)
        session.add(message)
        session.flush()
        flag = Flag(practice_id=y1, patient_id=patient.id, inbound_message_id=message.id, kind="safeguarding",
                    severity="urgent", category="suicidal_thoughts", evidence="end my life")
        session.add(flag)
        session.flush()
        flag_id = flag.id
    page = signed_in(inbox, new_user(inbox.db, [y1])).get(f"/flag/{flag_id}")
    assert page.status_code == 200
    assert "Jordan Reyes" in page.text and "09/04/1957" in page.text
    assert "not on the register" not in page.text and "until this flag is resolved" in page.text


def test_tasks_are_listed_and_marked_done_from_the_tasks_page(inbox):
    practice = new_practice(inbox.db)
    chat = new_conversation(inbox.db, practice)
    task_id = new_task(inbox.db, practice, chat, kind="arrange_conversation")
    username = new_user(inbox.db, [practice])
    browser = signed_in(inbox, username)
    page = browser.get("/tasks")
    assert page.status_code == 200 and f'id="task-{task_id}"' in page.text and "Arrange conversation" in page.text
    done = browser.post(f"/tasks/{task_id}/done")
    assert done.status_code == 303 and done.headers["Location"] == "/inbox/tasks?done=task_done"
    assert "No open tasks." in browser.get(done.headers["Location"]).text
    with session_scope(inbox.db) as session:
        task = session.get(Task, task_id)
        assert task.status == "done" and task.closed_at is not None
    assert ("task_done", f"task:{task_id}", "kind arrange_conversation") in audit_rows(inbox.db, username)
    assert "view_tasks" in actions_of(inbox.db, username)


def test_an_administrator_adds_a_user_with_practices(inbox):
    y1, y2 = practice_id(inbox.db, "Y00001"), practice_id(inbox.db, "Y00002")
    admin_name = new_user(inbox.db, [y1], role="admin")
    admin = signed_in(inbox, admin_name)
    name = f"new{uuid.uuid4().hex[:8]}"
    refused = admin.http.post(inbox.url + "/users", data={"csrf": admin.csrf, "username": name,
                                                          "password": PASSWORD, "role": "coordinator"},
                              allow_redirects=False, timeout=30)
    assert refused.status_code == 400 and "at least one practice" in refused.text
    added = admin.http.post(inbox.url + "/users", allow_redirects=False, timeout=30,
                            data=[("csrf", admin.csrf), ("username", name), ("password", PASSWORD),
                                  ("role", "coordinator"), ("phone", "+447700900010"),
                                  ("practice", str(y1)), ("practice", str(y2))])
    assert added.status_code == 303 and added.headers["Location"] == "/inbox/users?done=user_added"
    listing = admin.get("/users").text
    assert name in listing and "Hillside Medical Centre (Y00002), Riverside Surgery (Y00001)" in listing
    assert signed_in(inbox, name).get("/").status_code == 200
    with session_scope(inbox.db) as session:
        user = session.scalar(select(User).where(User.username == name))
        assert auth.practice_ids_of(session, user.id) == {y1, y2} and user.phone == "+447700900010"
    assert "add_user" in actions_of(inbox.db, admin_name)


def test_the_session_cookie_is_secure_behind_https():
    from sanic.response import text as plain

    from bot.inbox.web import set_cookie

    response = plain("")
    set_cookie(response, "inbox_session", "token", secure=True, max_age=60)
    header = str(response.cookies["inbox_session"])
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header and "Path=/inbox" in header


def test_queue_and_task_views_record_which_items_were_shown(inbox):
    practice = new_practice(inbox.db)
    chat = new_conversation(inbox.db, practice)
    flag_id = new_flag(inbox.db, chat, practice, "chest pain", severity="soon")
    task_id = new_task(inbox.db, practice, new_conversation(inbox.db, practice))
    username = new_user(inbox.db, [practice])
    browser = signed_in(inbox, username)
    browser.get("/tasks")
    browser.get("/queue.json")  # the same items as the page just showed: not logged again
    second = new_task(inbox.db, practice, new_conversation(inbox.db, practice))
    browser.get("/queue.json")  # something new is shown: logged
    rows = audit_rows(inbox.db, username)
    queue = [detail for action, _target, detail in rows if action == "view_queue"]
    assert f"flag:{flag_id}" in queue[0] and f"task:{task_id}" in queue[0] and queue[0].startswith("2 shown: ")
    tasks = [detail for action, _target, detail in rows if action == "view_tasks"]
    assert len(tasks) == 1 and f"task:{task_id}" in tasks[0]  # with the flag's own task
    polls = [detail for action, _target, detail in rows if action == "view_queue_json"]
    assert len(polls) == 1 and f"task:{second}" in polls[0]


def test_coordinators_mark_missed_flags_and_false_alarms_and_the_export_has_no_names_or_numbers(inbox, tmp_path):
    y1 = practice_id(inbox.db, "Y00001")
    chat = new_conversation(inbox.db, y1, first_name="Rosalind", last_name="Pemberton")
    missed = patient_text(inbox.db, chat, "Rosalind here, 12/03/1961. Been putting my tablets by in a drawer, "
                                          "just in case. Call me on 07700 900 123")
    flag_id = new_flag(inbox.db, chat, y1, "had a temp of 38 after my flu jab but fine now")
    with session_scope(inbox.db) as session:
        alarm = session.get(Flag, flag_id).inbound_message_id
    other = patient_text(inbox.db, new_conversation(inbox.db, y1), "someone else's text")
    username = new_user(inbox.db, [y1])
    browser = signed_in(inbox, username)
    browser.get(f"/c/{chat.public_id}")
    assert browser.post(f"/c/{chat.public_id}/label", {"message": missed, "label": "safeguarding"}).status_code == 303
    assert browser.post(f"/c/{chat.public_id}/label", {"message": alarm, "label": "not_a_concern"}).status_code == 303
    page = browser.get(f"/c/{chat.public_id}").text
    assert "Marked: should have been flagged: safeguarding." in page and "Marked: flagged, but not a concern." in page
    # Bad input: an unknown label, a text that was never flagged called a false alarm, another
    # conversation's text: each refused with the reason, nothing stored.
    for form, reason in (({"message": missed, "label": "urgent"}, "unknown label"),
                         ({"message": missed, "label": "not_a_concern"}, "was not flagged"),
                         ({"message": other, "label": "clinical"}, "Choose one of the patient"),
                         ({"message": "x", "label": "clinical"}, "Choose one of the patient")):
        refused = browser.post(f"/c/{chat.public_id}/label", form)
        assert refused.status_code == 400 and reason in refused.text, form
    with session_scope(inbox.db) as session:
        labels = dict(session.execute(select(SafetyLabel.inbound_message_id, SafetyLabel.label)).all())
    assert labels[missed] == "safeguarding" and labels[alarm] == "not_a_concern" and other not in labels
    assert "label_text" in actions_of(inbox.db, username)

    out = tmp_path / "marked.csv"
    done = cli(inbox, "safety-corpus", "export", "--out", str(out))
    assert done.returncode == 0 and "marked texts written" in done.stdout, done.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    rows = {row["kind"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["safeguarding"]["text"] == ("[name] here, [date]. Been putting my tablets by in a drawer, "
                                            "just in case. Call me on [number]")
    assert rows["safeguarding"]["screen_said"] == "none"
    assert rows["none"]["screen_said"] == "clinical" and "flu jab" in rows["none"]["text"]
    with session_scope(inbox.db) as session:
        audited = session.scalars(select(AuditEntry.target).where(AuditEntry.action == "safety_corpus_export")).all()
    assert f"patient:{chat.patient_id}" in audited
    missing = cli(inbox, "safety-corpus", "export", "--out", str(tmp_path / "no" / "such" / "folder.csv"))
    assert missing.returncode == 2 and "is not a folder" in missing.stderr
