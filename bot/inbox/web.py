"""What every inbox page shares: templates, cookies, the signed-in `Scope` of a request and the
`guarded` decorator that checks the session, the CSRF token and the role before a handler runs.

Handlers run in a worker thread with one database transaction, so the SMS webhooks on the same
event loop are never held up.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import jinja2
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.engine import session_scope
from bot.inbox import auth
from bot.db.models import Conversation, utcnow

PREFIX = "/inbox"
TEMPLATES = Path(__file__).with_name("templates")
CSRF_ERROR = "missing or wrong CSRF token"
ACCOUNT_PAGE = f"{PREFIX}/account"


# Sanic's `int` route parameter takes any number of digits; a row id is a positive 64-bit integer
# at most. Anything else is "not found" here, not a 500 from the driver (SQLite's OverflowError).
MAX_ROW_ID = 2 ** 63 - 1


def duration(delta: dt.timedelta) -> str:
    """3 min, 2 h 5 min, 1 d 3 h."""
    minutes = int(max(delta.total_seconds(), 0) // 60)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def clock(moment: Optional[dt.datetime], with_date: bool = True) -> str:
    """A stored UTC time as England's clock shows it."""
    if moment is None:
        return ""
    local = auth.local_time(moment)
    return f"{local:%d %b %Y %H:%M}" if with_date else f"{local:%H:%M:%S}"


def humanise(name: str) -> str:
    return (name or "").replace("_", " ").strip().capitalize()


def field_of(request: Request, name: str) -> str:
    """A form field as a string ("" when missing, repeated oddly or the body is not a form)."""
    try:
        value = request.form.get(name)
    except Exception:  # a body that is not a form
        return ""
    return value if isinstance(value, str) else ""


def source_of(request: Request) -> str:
    """The client's address for the audit log and the sign-in throttle. Behind a proxy, Sanic's
    REAL_IP_HEADER / PROXIES_COUNT settings make `remote_addr` the client's own address."""
    return (request.remote_addr or request.ip or "unknown")[:64]


def set_cookie(response: HTTPResponse, name: str, value: str, secure: bool, max_age: int) -> None:
    response.cookies[name] = value
    response.cookies[name]["path"] = auth.COOKIE_PATH
    response.cookies[name]["httponly"] = True
    response.cookies[name]["samesite"] = "Strict"
    response.cookies[name]["max-age"] = max_age
    if secure:
        response.cookies[name]["secure"] = True


@dataclass
class Scope:
    """What one request works with: the database session, the signed-in user, the time and the
    client's address."""
    session: Session
    viewer: auth.Viewer
    now: dt.datetime
    source: str = ""
    after_commit: list = field(default_factory=list)  # called once the transaction is committed

    def audit(self, action: str, target: Optional[str] = None, detail: Optional[str] = None) -> None:
        auth.audit(self.session, self.viewer.user_id, action, target, detail, source=self.source)

    def audit_shown(self, action: str, keys: list[str]) -> None:
        """Audit a list page by what it showed (e.g. "flag:12", "task:3"), not just how many: as many
        entries as the keys need, each detail within the log's 300 characters."""
        if not keys:
            self.audit(action, None, "nothing shown")
            return
        chunk: list[str] = []
        for key in keys:
            if chunk and len(",".join(chunk + [key])) > 260:
                self.audit(action, None, f"{len(keys)} shown: {','.join(chunk)}")
                chunk = []
            chunk.append(key)
        self.audit(action, None, f"{len(keys)} shown: {','.join(chunk)}")


def row_of(scope: "Scope", model, row_id: int):
    """The row with that id, or None (also for an id no row can have)."""
    return scope.session.get(model, row_id) if 0 < row_id <= MAX_ROW_ID else None


def visible(scope: "Scope", row):
    """A flag or task the viewer may see: its practice (or its conversation's) is one of theirs."""
    if row is None:
        return None
    practice_id = row.practice_id
    if practice_id is None and row.conversation_id is not None:
        practice_id = scope.session.scalar(select(Conversation.practice_id)
                                           .where(Conversation.id == row.conversation_id))
    return row if practice_id in scope.viewer.practice_ids else None


class Web:
    """The page machinery of one inbox blueprint."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.secure_cookies = settings.public_base_url.startswith("https")
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def render(self, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        context.setdefault("viewer", None)
        context.setdefault("notice", "")
        context.setdefault("error", "")
        return html(self.templates.get_template(name).render(**context), status=status)

    def error_page(self, viewer: Optional[auth.Viewer], status: int, message: str) -> HTTPResponse:
        return self.render("error.html", status=status, viewer=viewer, status_code=status, message=message)

    def not_found(self, scope: Scope, target: str) -> HTTPResponse:
        scope.audit("not_found", target[:100])
        return self.error_page(scope.viewer, 404, "There is nothing here, or it belongs to a practice you cannot see.")

    def cookie(self, response: HTTPResponse, name: str, value: str, max_age: int) -> None:
        set_cookie(response, name, value, self.secure_cookies, max_age)

    def guarded(self, kind: str = "page", admin: bool = False, account_page: bool = False,
                coordinator: bool = False):
        """Run a handler in a worker thread with a signed-in user, a checked CSRF token on POST and
        one database transaction. The handler gets (request, scope, **route parameters).
        `admin` handlers are for administrators only, `coordinator` ones for coordinators (a
        clinician who is not also a coordinator sees flags and reviews, not tasks).

        `kind="json"` answers 401 instead of redirecting and does not count as activity for the idle
        timeout (the queue's automatic refresh). A user whose password an administrator reset is
        sent to the account page until they choose their own (`account_page` handlers are allowed).
        """
        def decorate(body: Callable[..., HTTPResponse]):
            def run(request: Request, params: dict) -> HTTPResponse:
                now = utcnow()
                with session_scope(self.url) as session:
                    viewer = auth.load_session(session, request.cookies.get(auth.SESSION_COOKIE), now,
                                               touch=kind != "json")
                    if viewer is None:
                        if kind == "json":
                            return json({"error": "not signed in"}, status=401)
                        return redirect(f"{PREFIX}/login", status=303)
                    scope = Scope(session, viewer, now, source_of(request))
                    if request.method == "POST" and not auth.csrf_ok(viewer.csrf_token, field_of(request, "csrf")):
                        scope.audit("csrf_refused", request.path[:100])
                        return self.error_page(viewer, 403, CSRF_ERROR)
                    if viewer.must_change_password and not account_page:
                        if kind == "json":
                            return json({"error": "choose a new password first"}, status=403)
                        return redirect(f"{ACCOUNT_PAGE}?done=must_change", status=303)
                    if admin and not viewer.is_admin:
                        scope.audit("forbidden", request.path[:100])
                        return self.error_page(viewer, 403, "Only administrators can manage users.")
                    if coordinator and not viewer.is_coordinator:
                        scope.audit("forbidden", request.path[:100])
                        return self.error_page(viewer, 403, "Tasks are for coordinators: as a clinician you "
                                                            "see the flags and reviews of your practices.")
                    response = body(request, scope, **params)
                for callback in scope.after_commit:
                    callback()
                return response

            @functools.wraps(body)
            async def handler(request: Request, **params: Any) -> HTTPResponse:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(None, run, request, params)
            return handler
        return decorate
