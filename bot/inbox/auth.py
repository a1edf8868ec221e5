"""Coordinator inbox accounts: scrypt password hashes, sign-in with throttling, browser sessions,
the account life cycle (disable, reset, change, revoke) and the audit log. Used by the inbox web
pages and by `outreach users`.

Nothing secret is stored in the clear: the password only as an scrypt hash, session and browser
cookies only as their SHA-256 (a stolen database row cannot be replayed as a cookie), and the
throttle's keys only as hashes.

Sign-in throttling (issue 12, item 7). A lock after N wrong passwords let anyone lock a
coordinator out, and answered differently for real accounts. Instead:
- every attempt counts against its username and its source address for THROTTLE_MINUTES;
- past ACCOUNT_LIMIT attempts for a username, or ADDRESS_LIMIT from one address, further attempts
  are refused with THROTTLED_MESSAGE, whether or not the account exists;
- a browser that has signed in to the account before (its TrustedBrowser cookie) is not held back by
  the account's count, so strangers' guesses cannot keep the real user out;
- every attempt, refused or not, real account or not, runs exactly one scrypt check: same answer and
  same time for unknown, disabled and throttled accounts.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Optional

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.common.clock import to_london
from bot.db.engine import session_scope
from bot.db.models import AuditEntry, LoginAttempt, Practice, TrustedBrowser, User, UserPractice, WebSession, utcnow

SESSION_COOKIE = "inbox_session"
LOGIN_CSRF_COOKIE = "inbox_login_csrf"
BROWSER_COOKIE = "inbox_browser"
COOKIE_PATH = "/inbox"
SESSION_HOURS = 8
IDLE_MINUTES = 30  # a session not used for this long ends (the queue's own refreshes do not count)
TOUCH_EVERY = dt.timedelta(seconds=30)  # how stale last_seen_at may get before it is written again
TRUSTED_BROWSER_DAYS = 90
THROTTLE_MINUTES = 15
ACCOUNT_LIMIT = 5  # attempts per username per THROTTLE_MINUTES, from browsers not trusted by it
ADDRESS_LIMIT = 30  # per source address: a practice's staff may share one public address
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable: moderate protection from offline attack"
# OWASP Password Storage Cheat Sheet: scrypt N=2^17 (128 MiB), r=8, p=1. Older hashes are upgraded
# at the next successful sign-in (verify_password reads the cost from the stored hash).
OWASP_SCRYPT_N = 2 ** 17


def _scrypt_n() -> int:
    """OWASP's N, or INBOX_SCRYPT_N: for the test suite only, which signs in hundreds of times (a
    power of two from 2^12 to 2^20; anything else is refused at start)."""
    raw = os.environ.get("INBOX_SCRYPT_N", "").strip()
    if not raw:
        return OWASP_SCRYPT_N
    if not raw.isdigit() or int(raw) not in {2 ** k for k in range(12, 21)}:
        raise ValueError(f"INBOX_SCRYPT_N must be a power of two from 4096 to 1048576, got {raw!r}")
    return int(raw)


SCRYPT_N, SCRYPT_R, SCRYPT_P = _scrypt_n(), 8, 1
SCRYPT_MAXMEM = 256 * 1024 * 1024

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
GENERIC_LOGIN_ERROR = "Wrong username or password."
THROTTLED_MESSAGE = (f"Too many sign-in attempts. Wait {THROTTLE_MINUTES} minutes and try again, "
                     "or ask an administrator to clear the attempts.")


class AccountError(ValueError):
    """A user cannot be created or changed; the message says why."""


class StaffRole(str, Enum):
    """What a user works on in their practices. A user is one or both; being an administrator
    (managing users) is separate from both."""
    COORDINATOR = "coordinator"  # flags, reviews, tasks and conversations handed to a person
    CLINICIAN = "clinician"      # flags and reviews (and the conversations they came from)

    @classmethod
    def parse(cls, names: Iterable[str]) -> frozenset["StaffRole"]:
        """Roles from their names ("coordinator", "clinician"); AccountError for anything else or none."""
        roles = set()
        for name in names:
            if isinstance(name, cls):   # str() of a str-Enum member is "StaffRole.X" on Python 3.10
                roles.add(name)
                continue
            for part in str(name).split(","):
                part = part.strip().lower()
                if not part:
                    continue
                try:
                    roles.add(cls(part))
                except ValueError:
                    raise AccountError(f"{part!r} is not a role (roles: {', '.join(r.value for r in cls)}; "
                                       "an administrator is set apart)") from None
        if not roles:
            raise AccountError(f"give the user at least one role: {' or '.join(r.value for r in cls)}")
        return frozenset(roles)


def roles_of(user: User) -> frozenset[StaffRole]:
    return frozenset(role for role, on in ((StaffRole.COORDINATOR, user.is_coordinator),
                                           (StaffRole.CLINICIAN, user.is_clinician)) if on)


def describe_roles(roles: Iterable[StaffRole], admin: bool = False) -> str:
    """"coordinator", "coordinator,clinician", "clinician,admin"...: for lists and messages."""
    names = [role.value for role in StaffRole if role in set(roles)]
    return ",".join(names + (["admin"] if admin else []))


# -- passwords -----------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt_hex$hash_hex` with a random 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32,
                            maxmem=SCRYPT_MAXMEM)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(hash_hex)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected), maxmem=SCRYPT_MAXMEM)
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(digest, expected)


def needs_rehash(stored: str) -> bool:
    """True when a stored hash was made at a lower cost than today's."""
    return not stored.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash no password matches, checked for unknown, disabled and throttled accounts so that they
    take as long as a real check."""
    return hash_password(secrets.token_urlsafe(32))


def password_problem(password: str, username: str = "") -> Optional[str]:
    """Why a new password is not acceptable, or None. Strength is judged by zxcvbn (Dropbox's
    estimator), which knows common passwords, names, keyboard patterns and dates."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    from zxcvbn import zxcvbn  # imported here: it loads its word lists (about 0.3 s)

    verdict = zxcvbn(password[:100], user_inputs=[username, "inbox", "practice", "nhs", "coordinator", "cancer"])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        advice = verdict["feedback"].get("warning") or "it is too easy to guess"
        return (f"the password is too weak ({advice.rstrip('.').lower()}); "
                "use a longer phrase of several unrelated words")
    return None


# -- users -----------------------------------------------------------------------------------------

def create_user(session: Session, username: str, password: str, practices: Iterable[Practice],
                roles: Iterable[str] = (StaffRole.COORDINATOR,), admin: bool = False,
                phone: Optional[str] = None) -> User:
    """Add an inbox user who may see the given practices, as a coordinator, a clinician or both, and
    perhaps an administrator. Raises AccountError naming the problem."""
    username = username.strip()
    if not USERNAME.match(username):
        raise AccountError("the username must be 2-100 letters, digits or . _ @ - (starting with a letter or digit)")
    chosen = StaffRole.parse(roles)
    phone = (phone or "").replace(" ", "") or None
    if phone is not None and not E164.match(phone):
        raise AccountError(f"{phone!r} is not a phone number in E.164 form, e.g. +447700900002")
    practices = list({p.id: p for p in practices}.values())
    if not practices:
        raise AccountError("give at least one practice the user may see")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"a user called {username!r} already exists")
    problem = password_problem(password, username)
    if problem:
        raise AccountError(problem)
    user = User(username=username, password_hash=hash_password(password), phone=phone, must_change_password=False,
                is_coordinator=StaffRole.COORDINATOR in chosen, is_clinician=StaffRole.CLINICIAN in chosen,
                is_admin=bool(admin))
    session.add(user)
    session.flush()
    for practice in practices:
        session.add(UserPractice(user_id=user.id, practice_id=practice.id))
    session.flush()
    return user


def set_roles(session: Session, user: User, roles: Iterable[str]) -> frozenset[StaffRole]:
    """Make a user a coordinator, a clinician or both (AccountError for no role or an unknown one).
    Their open sessions see the change at their next request."""
    chosen = StaffRole.parse(roles)
    user.is_coordinator = StaffRole.COORDINATOR in chosen
    user.is_clinician = StaffRole.CLINICIAN in chosen
    session.flush()
    return chosen


def user_named(session: Session, username: str) -> User:
    """The user with that username; AccountError when there is none."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError(f"there is no user called {username.strip()!r}")
    return user


def practice_ids_of(session: Session, user_id: int) -> frozenset[int]:
    return frozenset(session.scalars(select(UserPractice.practice_id).where(UserPractice.user_id == user_id)))


def revoke_sessions(session: Session, user_id: int, keep_token: Optional[str] = None) -> int:
    """End every browser session of a user (but `keep_token`'s); returns how many ended."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token:
        query = query.where(WebSession.token_hash != token_hash(keep_token))
    return session.execute(query).rowcount or 0


def set_disabled(session: Session, user: User, disabled: bool, now: Optional[dt.datetime] = None) -> None:
    """Disable (no sign-in, every session and trusted browser revoked) or enable a user. Users are
    never deleted: the audit log keeps pointing at them."""
    if disabled:
        user.disabled_at = user.disabled_at or now or utcnow()
        revoke_sessions(session, user.id)
        session.execute(delete(TrustedBrowser).where(TrustedBrowser.user_id == user.id))
    else:
        user.disabled_at = None
    session.flush()


def set_password(session: Session, user: User, password: str, *, by_admin: bool,
                 keep_token: Optional[str] = None) -> None:
    """Give a user a new password. An administrator's reset makes the user choose their own at the
    next sign-in. Every other session of the user ends. Raises AccountError for a weak password."""
    problem = password_problem(password, user.username)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.must_change_password = by_admin
    revoke_sessions(session, user.id, keep_token=keep_token)
    session.flush()


def clear_attempts(session: Session, username: str) -> int:
    """Forget the sign-in attempts counted against a username (an administrator's "unlock")."""
    return session.execute(delete(LoginAttempt).where(LoginAttempt.key_hash == _account_key(username))).rowcount or 0


def throttled_account(session: Session, username: str, now: Optional[dt.datetime] = None) -> bool:
    """Whether new browsers are being held back from this username now (for the users page)."""
    now = now or utcnow()
    since = now - dt.timedelta(minutes=THROTTLE_MINUTES)
    count = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.key_hash == _account_key(username), LoginAttempt.at > since))
    return (count or 0) >= ACCOUNT_LIMIT


# -- signing in ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginResult:
    user_id: Optional[int]
    ok: bool
    message: str = ""
    throttled: bool = False
    browser_token: Optional[str] = None  # set on success: the trusted-browser cookie to (re)issue
    must_change_password: bool = False


def local_time(moment: dt.datetime) -> dt.datetime:
    """A stored UTC time as it reads on a clock in England."""
    return to_london(moment)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode("utf-8")).hexdigest()


def _account_key(username: str) -> str:
    return _key("account", username.strip().lower())


def authenticate(database_url: str, username: str, password: str, address: str = "",
                 browser_token: Optional[str] = None, now: Optional[dt.datetime] = None) -> LoginResult:
    """Check a username and password from a source address and browser, with throttling (see the
    module docstring).

    The attempt is written and committed *before* it is counted and before the (slow) password
    check, so that parallel guesses each see the others: at most the limit get a real check.
    """
    now = now or utcnow()
    since = now - dt.timedelta(minutes=THROTTLE_MINUTES)
    account_key, address_key = _account_key(username), _key("address", address or "unknown")
    with session_scope(database_url) as session:
        session.execute(delete(LoginAttempt).where(LoginAttempt.at <= since))
        attempts = [LoginAttempt(key_hash=account_key, at=now), LoginAttempt(key_hash=address_key, at=now)]
        session.add_all(attempts)
        session.flush()
        attempt_ids = [a.id for a in attempts]
    with session_scope(database_url) as session:
        counts = dict(session.execute(
            select(LoginAttempt.key_hash, func.count()).where(
                LoginAttempt.key_hash.in_([account_key, address_key]), LoginAttempt.at > since)
            .group_by(LoginAttempt.key_hash)).all())
        user = session.scalar(select(User).where(User.username == username.strip()))
        trusted = user is not None and bool(browser_token) and len(browser_token or "") <= 200 and \
            session.scalar(select(TrustedBrowser.user_id).where(
                TrustedBrowser.token_hash == token_hash(browser_token or ""))) == user.id
        usable = user is not None and user.disabled_at is None
        user_id = user.id if user is not None else None
        stored = user.password_hash if usable and user is not None else _dummy_hash()
        must_change = bool(user.must_change_password) if user is not None else False
    throttled = counts.get(address_key, 0) > ADDRESS_LIMIT or \
        (counts.get(account_key, 0) > ACCOUNT_LIMIT and not trusted)
    right = verify_password(password, stored)  # always exactly one check, whatever the outcome
    if throttled:
        return LoginResult(user_id, False, THROTTLED_MESSAGE, throttled=True)
    if not (right and usable):
        return LoginResult(user_id, False, GENERIC_LOGIN_ERROR)
    with session_scope(database_url) as session:
        # Success: this attempt was not a guess, and the account's count starts again.
        session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(attempt_ids)))
        session.execute(delete(LoginAttempt).where(LoginAttempt.key_hash == account_key))
        if needs_rehash(stored):
            session.execute(update(User).where(User.id == user_id).values(password_hash=hash_password(password)))
        token = browser_token if trusted and browser_token else secrets.token_urlsafe(32)
        if trusted:
            session.execute(update(TrustedBrowser).where(TrustedBrowser.token_hash == token_hash(token))
                            .values(last_used_at=now))
        else:
            session.add(TrustedBrowser(token_hash=token_hash(token), user_id=user_id, created_at=now,
                                       last_used_at=now))
        session.execute(delete(TrustedBrowser).where(
            TrustedBrowser.last_used_at < now - dt.timedelta(days=TRUSTED_BROWSER_DAYS)))
    return LoginResult(user_id, True, browser_token=token, must_change_password=must_change)


def check_password(session: Session, user_id: int, password: str) -> bool:
    """Whether `password` is the user's current one (for changing it)."""
    user = session.get(User, user_id)
    return user is not None and verify_password(password, user.password_hash)


# -- sessions --------------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user_id: int, now: Optional[dt.datetime] = None) -> str:
    """A new browser session; returns the cookie value (only its hash is stored)."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(
        (WebSession.expires_at <= now) | (WebSession.last_seen_at <= now - dt.timedelta(minutes=IDLE_MINUTES))))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=token_hash(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, expires_at=now + dt.timedelta(hours=SESSION_HOURS), last_seen_at=now))
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
    roles: frozenset
    csrf_token: str
    practice_ids: frozenset = field(default_factory=frozenset)
    must_change_password: bool = False
    is_admin: bool = False

    @property
    def is_coordinator(self) -> bool:
        """Sees all the work of their practices; otherwise (a clinician only) flags and reviews."""
        return StaffRole.COORDINATOR in self.roles

    @property
    def is_clinician(self) -> bool:
        return StaffRole.CLINICIAN in self.roles

    @property
    def role_text(self) -> str:
        """"coordinator", "clinician", "coordinator and clinician", with ", administrator"."""
        text = " and ".join(role.value for role in StaffRole if role in self.roles)
        return text + (", administrator" if self.is_admin else "")


def load_session(session: Session, token: Optional[str], now: Optional[dt.datetime] = None,
                 touch: bool = True) -> Optional[Viewer]:
    """The user of a session cookie, or None when it is missing, unknown, expired, idle for
    IDLE_MINUTES or its user is disabled. `touch` marks the session as used now; the queue page's
    automatic refreshes pass False, so an unattended screen still times out."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = session.get(WebSession, token_hash(token))
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at <= now - dt.timedelta(minutes=IDLE_MINUTES):
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return Viewer(user.id, user.username, roles_of(user), row.csrf_token, practice_ids_of(session, user.id),
                  bool(user.must_change_password), bool(user.is_admin))


def csrf_ok(expected: Optional[str], given: Optional[str]) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


# -- audit -----------------------------------------------------------------------------------------

def audit(session: Session, user_id: Optional[int], action: str, target: Optional[str] = None,
          detail: Optional[str] = None, source: Optional[str] = None) -> None:
    """One line of the audit log. `detail` never holds message text or other patient data;
    `source` is the client's address (web) or "cli:<os user>"."""
    session.add(AuditEntry(user_id=user_id, action=action[:40], target=(target or None) and target[:100],
                           detail=(detail or None) and detail[:300], source=(source or None) and source[:64]))
