"""Coordinator inbox accounts: scrypt password hashes, sign-in with a lockout, browser sessions and
the audit log. Used by the inbox web pages and by `outreach users`.

Nothing secret is stored in the clear: the password only as an scrypt hash, the session cookie only
as its SHA-256 (a stolen database row cannot be replayed as a cookie).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Iterable, Optional

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.clock import to_london
from bot.db import session_scope
from bot.models import AuditEntry, Practice, User, UserPractice, WebSession, utcnow

SESSION_COOKIE = "inbox_session"
LOGIN_CSRF_COOKIE = "inbox_login_csrf"
COOKIE_PATH = "/inbox"
SESSION_HOURS = 8
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
ROLES = ("coordinator", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
GENERIC_LOGIN_ERROR = "Wrong username or password."


class AccountError(ValueError):
    """A user cannot be created or changed; the message says why."""


# -- passwords -----------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt_hex$hash_hex` with a random 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(hash_hex)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected), maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


_dummy_hash: Optional[str] = None


def _burn_time(password: str) -> None:
    """Spend the time of one real check, so an unknown username cannot be told apart by timing."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _dummy_hash)


def password_problem(password: str) -> Optional[str]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 200:
        return "the password must have at most 200 characters"
    return None


# -- users -----------------------------------------------------------------------------------------

def create_user(session: Session, username: str, password: str, practices: Iterable[Practice],
                role: str = "coordinator", phone: Optional[str] = None) -> User:
    """Add an inbox user who may see the given practices. Raises AccountError naming the problem."""
    username = username.strip()
    if not USERNAME.match(username):
        raise AccountError("the username must be 2-100 letters, digits or . _ @ - (starting with a letter or digit)")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    phone = (phone or "").replace(" ", "") or None
    if phone is not None and not E164.match(phone):
        raise AccountError(f"{phone!r} is not a phone number in E.164 form, e.g. +447700900002")
    practices = list({p.id: p for p in practices}.values())
    if not practices:
        raise AccountError("give at least one practice the user may see")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"a user called {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role, phone=phone,
                failed_logins=0)
    session.add(user)
    session.flush()
    for practice in practices:
        session.add(UserPractice(user_id=user.id, practice_id=practice.id))
    session.flush()
    return user


def practice_ids_of(session: Session, user_id: int) -> frozenset[int]:
    return frozenset(session.scalars(select(UserPractice.practice_id).where(UserPractice.user_id == user_id)))


def unlock(session: Session, user_id: int) -> None:
    session.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None))


# -- signing in ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginResult:
    user_id: Optional[int]
    ok: bool
    message: str = ""
    locked: bool = False


def local_time(moment: dt.datetime) -> dt.datetime:
    """A stored UTC time as it reads on a clock in England."""
    return to_london(moment)


def _lock_message(until: Optional[dt.datetime]) -> str:
    when = f" (until {local_time(until):%H:%M})" if until else ""
    return (f"Too many wrong passwords: this account is locked for {LOCK_MINUTES} minutes{when}. "
            "Try again later, or ask an administrator to unlock it.")


def authenticate(database_url: str, username: str, password: str, now: Optional[dt.datetime] = None) -> LoginResult:
    """Check a username and password, counting wrong passwords.

    An attempt is counted *before* the (slow) password check, in its own transaction: parallel
    guesses cannot get past the limit of MAX_FAILED_LOGINS. A right password clears the count.
    """
    now = now or utcnow()
    with session_scope(database_url) as session:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None:
            user_id = None
        else:
            user_id = user.id
            # A lock that has run out starts a fresh count.
            session.execute(update(User).where(User.id == user_id, User.locked_until.is_not(None),
                                               User.locked_until <= now)
                            .values(failed_logins=0, locked_until=None))
            reserved = session.execute(
                update(User).where(User.id == user_id, User.locked_until.is_(None),
                                   User.failed_logins < MAX_FAILED_LOGINS)
                .values(failed_logins=User.failed_logins + 1)).rowcount
            stored = user.password_hash
    if user_id is None:
        _burn_time(password)
        return LoginResult(None, False, GENERIC_LOGIN_ERROR)
    if not reserved:
        with session_scope(database_url) as session:
            until = session.scalar(select(User.locked_until).where(User.id == user_id))
        return LoginResult(user_id, False, _lock_message(until), locked=True)
    if verify_password(password, stored):
        with session_scope(database_url) as session:
            session.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None))
        return LoginResult(user_id, True)
    with session_scope(database_url) as session:
        until = now + dt.timedelta(minutes=LOCK_MINUTES)
        locked = session.execute(update(User).where(User.id == user_id, User.locked_until.is_(None),
                                                    User.failed_logins >= MAX_FAILED_LOGINS)
                                 .values(locked_until=until)).rowcount
    if locked:
        return LoginResult(user_id, False, _lock_message(until), locked=True)
    return LoginResult(user_id, False, GENERIC_LOGIN_ERROR)


# -- sessions --------------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user_id: int, now: Optional[dt.datetime] = None) -> str:
    """A new browser session; returns the cookie value (only its hash is stored)."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=token_hash(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of one request."""
    user_id: int
    username: str
    role: str
    csrf_token: str
    practice_ids: frozenset = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def load_session(session: Session, token: Optional[str], now: Optional[dt.datetime] = None) -> Optional[Viewer]:
    """The user of a session cookie, or None when it is missing, unknown or expired."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = session.get(WebSession, token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None:
        return None
    return Viewer(user.id, user.username, user.role, row.csrf_token, practice_ids_of(session, user.id))


def csrf_ok(expected: Optional[str], given: Optional[str]) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


# -- audit -----------------------------------------------------------------------------------------

def audit(session: Session, user_id: Optional[int], action: str, target: Optional[str] = None,
          detail: Optional[str] = None) -> None:
    """One line of the audit log. `detail` never holds message text or other patient data."""
    session.add(AuditEntry(user_id=user_id, action=action[:40], target=(target or None) and target[:100],
                           detail=(detail or None) and detail[:300]))
