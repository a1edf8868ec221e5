"""The coordinator inbox, served by the gateway under /inbox.

GET  /inbox/                  the queue: unresolved flags, conversations handed to a person, open tasks
GET  /inbox/queue.json        the same queue for the page's 3-second refresh (static/queue.js)
GET  /inbox/c/<public_id>     one conversation: transcript, flags, tasks, outcomes, notes, actions
POST /inbox/c/<public_id>/{take,reply,handback,resolve,note}
GET  /inbox/flag/<id>         a flag with no conversation; POST .../take, .../resolve
GET  /inbox/tasks             open tasks; POST /inbox/tasks/<id>/done
GET  /inbox/report[?year=Y]   CAN005 figures of the user's practices (an admin: every practice), counts only
GET  /inbox/users             admins: users; POST /inbox/users (add), /inbox/users/<id>/unlock
GET  /inbox/login, POST /inbox/login, POST /inbox/logout

Every request needs a session (bot/inbox/auth.py) except the sign-in page and the two static files;
every POST needs the session's CSRF token; a user sees only the practices in `user_practices`
(anything else is 404). Every page view and action is written to the audit log, without message text.
Pages are Jinja2 templates with autoescape: patient text is only ever shown as text, and the
Content-Security-Policy allows scripts from this site only (no inline script, no event handlers).
Database work runs in a worker thread so the SMS webhooks on the same event loop are never held up.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional
from uuid import uuid4

import jinja2
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, redirect, text
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import booking, outbox, records, reporting
from bot.clock import london_day_start_utc, to_london
from bot.concerns import AREAS
from bot.config import Settings
from bot.db import session_scope
from bot.inbox import auth
from bot.inbox.escalation import escalation_minutes
from bot.models import (Appointment, AuditEntry, BookingSlot, ConcernAnswer, Conversation, Flag, InboundMessage, Note,
                        OutboundMessage, Outcome, Patient, Practice, RoutingDecision, Task, User, UserPractice, utcnow)
from bot.scripts import ScriptError, script_for
from bot.sms import segment_count

log = logging.getLogger(__name__)
PREFIX = "/inbox"
TEMPLATES = Path(__file__).with_name("templates")
MAX_REPLY_CHARS = 1600
MAX_NOTE_CHARS = 2000
POLL_AUDIT_EVERY = dt.timedelta(minutes=5)
PUBLIC_ID = re.compile(r"^[0-9a-f]{32}$")
CSRF_ERROR = "missing or wrong CSRF token"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PRIORITY_RANK = {"urgent": 0, "soon": 1, "task": 2, "conversation": 2}
PRIORITY_LABEL = {"urgent": "Urgent", "soon": "Soon", "task": "Task", "conversation": "Handed over"}
OUTCOME_LABELS = {
    "informed": "Informed of support (CAN005)",
    "declined": "Declined cancer care support",
    "accepted": "Would like a conversation",
    "deferred": "Later",
    "callback_requested": "Asked for a phone call",
    "opted_out": "Opted out of texts",
    "wrong_person": "Wrong person",
    "identity_failed": "Identity not confirmed",
}
DELIVERY = {
    "pending": "waiting to send", "sending": "sending", "queued": "sent to Twilio", "accepted": "sent to Twilio",
    "sending_twilio": "sending", "sent": "sent", "delivered": "delivered", "read": "read",
    "undelivered": "NOT delivered", "failed": "NOT sent", "unknown": "may not have been sent: check",
    "suppressed": "not sent: patient opted out",
}
DONE_MESSAGES = {
    "taken": "You have taken over this conversation. The assistant stays silent until you hand it back.",
    "replied": "Your reply is queued and will be sent in a moment.",
    "handed_back": "Handed back to the assistant. It will answer the patient's next text; nothing was sent now.",
    "resolved": "Resolved.",
    "noted": "Note added.",
    "task_done": "Task marked as done.",
    "acknowledged": "Flag taken.",
    "user_added": "User added.",
    "unlocked": "User unlocked.",
}


# -- small helpers ---------------------------------------------------------------------------------

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
    if moment is None:
        return ""
    local = auth.local_time(moment)
    return f"{local:%d %b %Y %H:%M}" if with_date else f"{local:%H:%M:%S}"


def humanise(name: str) -> str:
    return (name or "").replace("_", " ").strip().capitalize()


def end_of_local_day(moment: dt.datetime) -> dt.datetime:
    """The last moment (naive UTC) of the day in England on which `moment` (naive UTC) falls."""
    return london_day_start_utc(to_london(moment).date() + dt.timedelta(days=1)) - dt.timedelta(seconds=1)


def sla_of(flag: Flag, now: dt.datetime, minutes: float) -> tuple[str, str]:
    """(text, state) of a flag's service level: urgent within ESCALATION_MINUTES, soon the same day."""
    if flag.severity == "urgent":
        deadline = flag.created_at + dt.timedelta(minutes=minutes)
        target = f"pick up within {minutes:g} min"
    else:
        deadline = end_of_local_day(flag.created_at)
        target = "pick up today"
    if flag.acknowledged_at is not None:
        late = flag.acknowledged_at > deadline
        return f"Picked up after {duration(flag.acknowledged_at - flag.created_at)}", "late" if late else "met"
    if now <= deadline:
        return f"{duration(deadline - now)} left ({target})", "due"
    suffix = "; duty clinician texted" if flag.escalated_at else ""
    return f"OVERDUE by {duration(now - deadline)}{suffix}", "breached"


def _field(request: Request, name: str) -> str:
    try:
        value = request.form.get(name)
    except Exception:  # a body that is not a form
        return ""
    return value if isinstance(value, str) else ""


def _cookie(response: HTTPResponse, name: str, value: str, secure: bool, max_age: int) -> None:
    response.cookies[name] = value
    response.cookies[name]["path"] = auth.COOKIE_PATH
    response.cookies[name]["httponly"] = True
    response.cookies[name]["samesite"] = "Strict"
    response.cookies[name]["max-age"] = max_age
    if secure:
        response.cookies[name]["secure"] = True


@dataclass
class Scope:
    """What one request works with: the database session, the signed-in user and the time."""
    session: Session
    viewer: auth.Viewer
    now: dt.datetime
    after_commit: list = field(default_factory=list)  # called once the transaction is committed

    def audit(self, action: str, target: Optional[str] = None, detail: Optional[str] = None) -> None:
        auth.audit(self.session, self.viewer.user_id, action, target, detail)


# -- reading the data a user may see ------------------------------------------------------------------

def _flag_practice_id():
    return func.coalesce(Flag.practice_id, Conversation.practice_id)


def _taken_by(users: dict, conversation: Optional[Conversation], flag: Flag) -> str:
    if conversation is not None and conversation.assigned_user_id:
        return users.get(conversation.assigned_user_id, "")
    return "taken" if flag.acknowledged_at else ""


def build_queue(scope: Scope, minutes: float) -> list[dict[str, Any]]:
    """The queue of one user: urgent flags, then soon flags, then tasks and handed-over conversations;
    oldest first within each. A flag's own task and a conversation that already has an item are not
    listed twice."""
    session, allowed, now = scope.session, scope.viewer.practice_ids, scope.now
    names = dict(session.execute(select(Practice.id, Practice.name).where(Practice.id.in_(allowed))).all())
    users = dict(session.execute(select(User.id, User.username)).all())
    items: list[dict[str, Any]] = []
    covered: set[int] = set()
    flag_messages: set[int] = set()

    flags = session.execute(
        select(Flag, Conversation).outerjoin(Conversation, Flag.conversation_id == Conversation.id)
        .where(Flag.resolved_at.is_(None), _flag_practice_id().in_(allowed))).all()
    for flag, conversation in flags:
        sla, state = sla_of(flag, now, minutes)
        practice_id = flag.practice_id or (conversation.practice_id if conversation else None)
        flag_messages.add(flag.inbound_message_id)
        if conversation is not None:
            covered.add(conversation.id)
        items.append(dict(
            key=f"flag:{flag.id}", priority=flag.severity if flag.severity in ("urgent", "soon") else "soon",
            kind=f"{humanise(flag.kind)} flag", category=humanise(flag.category), evidence=flag.evidence,
            practice=names.get(practice_id, ""), since=flag.created_at, sla=sla, sla_state=state,
            taken_by=_taken_by(users, conversation, flag),
            url=f"{PREFIX}/c/{conversation.public_id}" if conversation else f"{PREFIX}/flag/{flag.id}"))

    tasks = session.execute(
        select(Task, Conversation).outerjoin(Conversation, Task.conversation_id == Conversation.id)
        .where(Task.status == "open", func.coalesce(Task.practice_id, Conversation.practice_id).in_(allowed))).all()
    for task, conversation in tasks:
        if task.inbound_message_id in flag_messages and task.kind.startswith("flag_"):
            continue  # shown as its flag
        if conversation is not None:
            covered.add(conversation.id)
        practice_id = task.practice_id or (conversation.practice_id if conversation else None)
        items.append(dict(
            key=f"task:{task.id}", priority="task", kind=f"Task: {humanise(task.kind)}", category=task.detail,
            evidence="", practice=names.get(practice_id, ""), since=task.created_at, sla="", sla_state="none",
            taken_by=users.get(conversation.assigned_user_id, "") if conversation else "",
            url=f"{PREFIX}/c/{conversation.public_id}" if conversation else f"{PREFIX}/tasks#task-{task.id}"))

    conversations = session.scalars(select(Conversation).where(
        Conversation.status == "handed_over", Conversation.practice_id.in_(allowed))).all()
    for conversation in conversations:
        if conversation.id in covered:
            continue
        items.append(dict(
            key=f"conversation:{conversation.id}", priority="conversation", kind="Conversation handed over",
            category=humanise(conversation.handover_reason or ""), evidence="",
            practice=names.get(conversation.practice_id, ""), since=conversation.updated_at, sla="",
            sla_state="none", taken_by=users.get(conversation.assigned_user_id, ""),
            url=f"{PREFIX}/c/{conversation.public_id}"))

    items.sort(key=lambda item: (PRIORITY_RANK[item["priority"]], item["since"], item["key"]))
    for item in items:
        item["label"] = PRIORITY_LABEL[item["priority"]]
        item["waiting"] = duration(now - item["since"])
        item["waiting_seconds"] = int(max((now - item.pop("since")).total_seconds(), 0))
    return items


def _conversation_for(scope: Scope, public_id: str) -> Optional[Conversation]:
    if not PUBLIC_ID.match(public_id or ""):
        return None
    conversation = scope.session.scalar(select(Conversation).where(Conversation.public_id == public_id))
    if conversation is None or conversation.practice_id not in scope.viewer.practice_ids:
        return None
    return conversation


def _visible(scope: Scope, row):
    """A flag or task the viewer may see: its practice (or its conversation's) is one of theirs."""
    if row is None:
        return None
    practice_id = row.practice_id
    if practice_id is None and row.conversation_id is not None:
        practice_id = scope.session.scalar(select(Conversation.practice_id)
                                           .where(Conversation.id == row.conversation_id))
    return row if practice_id in scope.viewer.practice_ids else None


# Sanic's `int` route parameter takes any number of digits; a row id is a positive 64-bit integer
# at most. Anything else is "not found" here, not a 500 from the driver (SQLite's OverflowError).
MAX_ROW_ID = 2 ** 63 - 1


def _row(scope: Scope, model, row_id: int):
    """The row with that id, or None (also for an id no row can have)."""
    return scope.session.get(model, row_id) if 0 < row_id <= MAX_ROW_ID else None


def _flag_for(scope: Scope, flag_id: int) -> Optional[Flag]:
    return _visible(scope, _row(scope, Flag, flag_id))


def _task_for(scope: Scope, task_id: int) -> Optional[Task]:
    return _visible(scope, _row(scope, Task, task_id))


def conversation_view(scope: Scope, conversation: Conversation, minutes: float) -> dict[str, Any]:
    """Everything the conversation page shows."""
    session = scope.session
    users = dict(session.execute(select(User.id, User.username)).all())
    inbound = session.scalars(select(InboundMessage).where(InboundMessage.conversation_id == conversation.id)).all()
    outbound = session.scalars(select(OutboundMessage).where(OutboundMessage.conversation_id == conversation.id)).all()
    # Who wrote each coordinator reply: the audit log links the reply to its author.
    authors: dict[int, str] = {}
    for user_id, detail in session.execute(select(AuditEntry.user_id, AuditEntry.detail).where(
            AuditEntry.action == "reply", AuditEntry.target == f"conversation:{conversation.id}")):
        match = re.search(r"outbound:(\d+)", detail or "")
        if match:
            authors[int(match.group(1))] = users.get(user_id, "")
    transcript = []
    for m in inbound:
        transcript.append(dict(sort=(m.received_at, 0, m.id), direction="in", who="Patient", body=m.body,
                               when=clock(m.received_at), status="", flagged=False, id=m.id))
    for m in outbound:
        if m.idempotency_key.startswith("human:"):
            who = f"Coordinator {authors.get(m.id, '')}".strip()
        elif m.purpose == "safety_net":
            who = "Safety-net text (automatic)"
        else:
            who = "Assistant"
        status = DELIVERY.get(m.status, m.status)
        if m.error_code:
            status += f" (error {m.error_code})"
        transcript.append(dict(sort=(m.created_at, 1, m.id), direction="out", who=who, body=m.body,
                               when=clock(m.created_at), status=status, bad=m.status in
                               ("undelivered", "failed", "unknown", "suppressed"), flagged=False, id=m.id))
    transcript.sort(key=lambda row: row["sort"])
    flags = session.scalars(select(Flag).where(Flag.conversation_id == conversation.id).order_by(Flag.created_at)).all()
    flagged_ids = {f.inbound_message_id for f in flags}
    for row in transcript:
        row["flagged"] = row["direction"] == "in" and row["id"] in flagged_ids
    tasks = session.scalars(select(Task).where(Task.conversation_id == conversation.id).order_by(Task.id)).all()
    outcomes = session.scalars(select(Outcome).where(Outcome.conversation_id == conversation.id)
                               .order_by(Outcome.id)).all()
    notes = session.scalars(select(Note).where(Note.conversation_id == conversation.id).order_by(Note.id)).all()
    patient = session.get(Patient, conversation.patient_id) if conversation.patient_id else None
    support = support_view(session, conversation)
    practice = session.get(Practice, conversation.practice_id)
    mine = conversation.status == "handed_over" and conversation.assigned_user_id == scope.viewer.user_id
    return dict(
        conversation=conversation, patient=patient, practice=practice, transcript=transcript,
        flags=[dict(flag=f, kind=humanise(f.kind), category=humanise(f.category), raised=clock(f.created_at),
                    acknowledged=clock(f.acknowledged_at), escalated=clock(f.escalated_at),
                    resolved=clock(f.resolved_at), sla=sla_of(f, scope.now, minutes)) for f in flags],
        open_flags=[f for f in flags if f.resolved_at is None],
        tasks=[dict(task=t, kind=humanise(t.kind), created=clock(t.created_at), closed=clock(t.closed_at))
               for t in tasks],
        open_tasks=[t for t in tasks if t.status == "open"],
        outcomes=[dict(kind=OUTCOME_LABELS.get(o.kind, humanise(o.kind)), cluster=o.cluster or "", code=o.code or "",
                       when=clock(o.recorded_at), note=o.note or "") for o in outcomes],
        notes=[dict(author=users.get(n.user_id, ""), when=clock(n.created_at), text=n.text) for n in notes],
        **support,
        assigned=users.get(conversation.assigned_user_id, "") if conversation.assigned_user_id else "",
        mine=mine, can_reply=mine and not (patient and patient.opted_out),
        status_text={"active": "The assistant is answering", "handed_over": "Handed over to a person",
                     "closed": "Closed"}.get(conversation.status, conversation.status),
        outcome_choices=[(kind, OUTCOME_LABELS.get(kind, humanise(kind))) for kind in records.OUTCOME_CLUSTERS],
        max_reply=MAX_REPLY_CHARS, max_note=MAX_NOTE_CHARS)


def support_view(session, conversation: Conversation) -> dict:
    """The concern check-in answers, the role chosen and why, and the appointments, for the page."""
    answers = session.scalars(select(ConcernAnswer).where(ConcernAnswer.conversation_id == conversation.id)
                              .order_by(ConcernAnswer.id)).all()
    decisions = session.scalars(select(RoutingDecision).where(RoutingDecision.conversation_id == conversation.id)
                                .order_by(RoutingDecision.id)).all()
    appointments = session.scalars(select(Appointment).where(Appointment.conversation_id == conversation.id)
                                   .order_by(Appointment.id)).all()

    def answer_text(a: ConcernAnswer) -> str:
        if a.status != "answered":
            return a.status
        if a.question == "areas":
            return ", ".join(AREAS.get(k, k) for k in (a.areas or "").split(",") if k) or "none"
        return f"{a.score} out of 10"

    return dict(
        concerns=[dict(question="Overall" if a.question == "overall" else "Areas" if a.question == "areas"
                       else AREAS.get(a.question, a.question).capitalize(), answer=answer_text(a)) for a in answers],
        routing=[dict(role=humanise(d.role), rule=humanise(d.rule), reason=d.reason, when=clock(d.decided_at))
                 for d in decisions],
        appointments=[dict(text=booking.describe(session.get(BookingSlot, a.slot_id), a.role.replace("_", " ")),
                           status=a.status, reminded=a.reminder_queued_at is not None) for a in appointments])


# -- the blueprint ------------------------------------------------------------------------------------

def inbox_blueprint(settings: Settings, wake_sender: Callable[[], None]) -> Blueprint:
    """The inbox pages. `wake_sender` tells the gateway's sender a text is waiting."""
    bp = Blueprint("inbox", url_prefix=PREFIX)
    templates = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                   undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    secure_cookies = settings.public_base_url.startswith("https")
    url = settings.database_url

    def render(name: str, status: int = 200, **context: Any) -> HTTPResponse:
        context.setdefault("viewer", None)
        context.setdefault("notice", "")
        context.setdefault("error", "")
        return html(templates.get_template(name).render(**context), status=status)

    def error_page(viewer: Optional[auth.Viewer], status: int, message: str) -> HTTPResponse:
        return render("error.html", status=status, viewer=viewer, status_code=status, message=message)

    def guarded(kind: str = "page", admin: bool = False):
        """Run a handler in a worker thread with a signed-in user, a checked CSRF token on POST and
        one database transaction. The handler gets (request, scope, **route parameters)."""
        def decorate(body: Callable[..., HTTPResponse]):
            def run(request: Request, params: dict) -> HTTPResponse:
                now = utcnow()
                with session_scope(url) as session:
                    viewer = auth.load_session(session, request.cookies.get(auth.SESSION_COOKIE), now)
                    if viewer is None:
                        if kind == "json":
                            return json({"error": "not signed in"}, status=401)
                        return redirect(f"{PREFIX}/login", status=303)
                    scope = Scope(session, viewer, now)
                    if request.method == "POST" and not auth.csrf_ok(viewer.csrf_token, _field(request, "csrf")):
                        scope.audit("csrf_refused", request.path[:100])
                        return error_page(viewer, 403, CSRF_ERROR)
                    if admin and not viewer.is_admin:
                        scope.audit("forbidden", request.path[:100])
                        return error_page(viewer, 403, "Only administrators can manage users.")
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

    def not_found(scope: Scope, target: str) -> HTTPResponse:
        scope.audit("not_found", target[:100])
        return error_page(scope.viewer, 404, "There is nothing here, or it belongs to a practice you cannot see.")

    @bp.middleware("response")
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")

    # -- static files (public: code, no data) --

    @bp.get("/static/inbox.css", name="inbox_css")
    async def static_css(_request: Request) -> HTTPResponse:
        return text(STYLESHEET, content_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"})

    @bp.get("/static/queue.js", name="inbox_queue_js")
    async def static_js(_request: Request) -> HTTPResponse:
        return text(QUEUE_JS, content_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})

    # -- signing in and out --

    def login_page(request: Request, status: int = 200, error: str = "", username: str = "") -> HTTPResponse:
        token = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", token):
            token = auth.secrets.token_urlsafe(32)
        response = render("login.html", status=status, csrf=token, error=error, username=username)
        _cookie(response, auth.LOGIN_CSRF_COOKIE, token, secure_cookies, 3600)
        return response

    def login_get(request: Request) -> HTTPResponse:
        with session_scope(url) as session:
            if auth.load_session(session, request.cookies.get(auth.SESSION_COOKIE)) is not None:
                return redirect(f"{PREFIX}/", status=303)
        return login_page(request)

    def login_post(request: Request) -> HTTPResponse:
        if not auth.csrf_ok(request.cookies.get(auth.LOGIN_CSRF_COOKIE), _field(request, "csrf")):
            return error_page(None, 403, CSRF_ERROR)
        username, password = _field(request, "username")[:100], _field(request, "password")[:200]
        if not username or not password:
            return login_page(request, 400, "Enter your username and password.", username)
        result = auth.authenticate(url, username, password)
        with session_scope(url) as session:
            if not result.ok:
                action = "login_locked" if result.locked else "login_failed"
                auth.audit(session, result.user_id, action, f"user:{result.user_id}" if result.user_id else None,
                           None if result.user_id else "unknown username")
                failed = True
            else:
                auth.end_session(session, request.cookies.get(auth.SESSION_COOKIE) or "")
                token = auth.start_session(session, result.user_id)
                auth.audit(session, result.user_id, "login", f"user:{result.user_id}")
                failed = False
        if failed:
            return login_page(request, 401, result.message, username)
        response = redirect(f"{PREFIX}/", status=303)
        _cookie(response, auth.SESSION_COOKIE, token, secure_cookies, auth.SESSION_HOURS * 3600)
        _cookie(response, auth.LOGIN_CSRF_COOKIE, "", secure_cookies, 0)
        return response

    @bp.get("/login", name="inbox_login")
    async def login(request: Request) -> HTTPResponse:
        return await asyncio.get_running_loop().run_in_executor(None, login_get, request)

    @bp.post("/login", name="inbox_login_post")
    async def login_submit(request: Request) -> HTTPResponse:
        return await asyncio.get_running_loop().run_in_executor(None, login_post, request)

    @bp.post("/logout", name="inbox_logout")
    @guarded()
    def logout(request: Request, scope: Scope) -> HTTPResponse:
        auth.end_session(scope.session, request.cookies.get(auth.SESSION_COOKIE) or "")
        scope.audit("logout", f"user:{scope.viewer.user_id}")
        response = redirect(f"{PREFIX}/login", status=303)
        _cookie(response, auth.SESSION_COOKIE, "", secure_cookies, 0)
        return response

    # -- the queue --

    @bp.get("/", name="inbox_queue")
    @guarded()
    def queue(request: Request, scope: Scope) -> HTTPResponse:
        minutes = escalation_minutes(settings)
        items = build_queue(scope, minutes)
        scope.audit("view_queue", None, f"{len(items)} items")
        return render("queue.html", viewer=scope.viewer, items=items, updated=clock(scope.now, with_date=False),
                      minutes=f"{minutes:g}")

    @bp.get("/queue.json", name="inbox_queue_json")
    @guarded(kind="json")
    def queue_json(request: Request, scope: Scope) -> HTTPResponse:
        items = build_queue(scope, escalation_minutes(settings))
        # The page polls every 3 s: one audit line per user per 5 minutes of polling is enough.
        recent = scope.session.scalar(select(AuditEntry.id).where(
            AuditEntry.user_id == scope.viewer.user_id, AuditEntry.action == "view_queue_json",
            AuditEntry.at > scope.now - POLL_AUDIT_EVERY).limit(1))
        if recent is None:
            scope.audit("view_queue_json", None, "queue refreshes (logged at most every 5 minutes)")
        return json({"items": items, "updated": clock(scope.now, with_date=False)},
                    headers={"Cache-Control": "no-store"})

    # -- one conversation --

    def show_conversation(scope: Scope, conversation: Conversation, status: int = 200, error: str = "",
                          notice: str = "", draft: str = "", note_draft: str = "") -> HTTPResponse:
        view = conversation_view(scope, conversation, escalation_minutes(settings))
        return render("conversation.html", status=status, viewer=scope.viewer, error=error, notice=notice,
                      draft=draft, note_draft=note_draft, **view)

    def back_to(conversation: Conversation, done: str) -> HTTPResponse:
        return redirect(f"{PREFIX}/c/{conversation.public_id}?done={done}", status=303)

    @bp.get("/c/<public_id:str>", name="inbox_conversation")
    @guarded()
    def conversation_page(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        scope.audit("view_conversation", f"conversation:{conversation.id}")
        return show_conversation(scope, conversation, notice=DONE_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/c/<public_id:str>/take", name="inbox_take")
    @guarded()
    def take_over(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        previous = conversation.assigned_user_id
        patient = scope.session.get(Patient, conversation.patient_id) if conversation.patient_id else None
        if conversation.status == "active":
            records.hand_over(scope.session, conversation, "taken over by a coordinator")
        conversation.assigned_user_id = scope.viewer.user_id
        conversation.updated_at = scope.now
        acknowledged = scope.session.execute(
            update(Flag).where(Flag.conversation_id == conversation.id, Flag.acknowledged_at.is_(None))
            .values(acknowledged_at=scope.now)).rowcount
        scope.audit("take_over", f"conversation:{conversation.id}",
                    f"flags acknowledged: {acknowledged}; status {conversation.status}"
                    + (f"; from user:{previous}" if previous and previous != scope.viewer.user_id else ""))
        if conversation.status == "closed" or (patient and patient.opted_out):
            return show_conversation(scope, conversation, notice="Flags taken. This conversation is closed or the "
                                     "patient has opted out of texts: phone the patient if you need to.")
        return back_to(conversation, "taken")

    @bp.post("/c/<public_id:str>/reply", name="inbox_reply")
    @guarded()
    def reply(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        body = _field(request, "text").strip()
        patient = scope.session.get(Patient, conversation.patient_id) if conversation.patient_id else None
        problem = ""
        if conversation.status != "handed_over":
            problem = ("This conversation is closed: replies cannot be sent." if conversation.status == "closed" else
                       "The assistant has this conversation. Take it over before you reply.")
        elif conversation.assigned_user_id != scope.viewer.user_id:
            problem = "Someone else has taken over this conversation. Take it over before you reply."
        elif patient is None:
            problem = "This conversation has no patient to text."
        elif patient.opted_out:
            problem = "The patient has opted out of texts. Phone them instead."
        elif not body:
            problem = "Write a reply before sending it."
        elif len(body) > MAX_REPLY_CHARS:
            problem = (f"Your reply is {len(body)} characters long. Texts can be at most {MAX_REPLY_CHARS} "
                       f"characters: shorten it by {len(body) - MAX_REPLY_CHARS}.")
        if problem:
            scope.audit("reply_refused", f"conversation:{conversation.id}", problem[:300])
            return show_conversation(scope, conversation, status=400, error=problem, draft=body)
        practice = scope.session.get(Practice, conversation.practice_id)
        try:
            script = script_for(settings.practices_dir, practice.ods_code)
        except ScriptError:
            log.error("no practice script for %s: a coordinator reply cannot be sent", practice.ods_code)
            return show_conversation(scope, conversation, status=500, draft=body,
                                     error="This practice has no practice script, so no text can be sent. "
                                           "Ask an administrator to add it.")
        message = outbox.enqueue(scope.session, f"human:{uuid4().hex}", patient.mobile, body, purpose="reply",
                                 from_number=script.sender, conversation=conversation)
        scope.audit("reply", f"conversation:{conversation.id}",
                    f"outbound:{message.id}; {len(body)} characters, {segment_count(body)} SMS parts")
        # Wake the sender once the text is committed (at the end of this request's transaction).
        scope.after_commit.append(wake_sender)
        return back_to(conversation, "replied")

    @bp.post("/c/<public_id:str>/handback", name="inbox_handback")
    @guarded()
    def hand_back(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        if conversation.status != "handed_over":
            return show_conversation(scope, conversation, status=400,
                                     error="Only a conversation handed over to a person can be handed back.")
        previous = conversation.assigned_user_id
        conversation.status, conversation.assigned_user_id = "active", None
        conversation.handover_reason, conversation.updated_at = None, scope.now
        scope.audit("hand_back", f"conversation:{conversation.id}",
                    f"was with user:{previous}" if previous else "was unassigned")
        return back_to(conversation, "handed_back")

    @bp.post("/c/<public_id:str>/resolve", name="inbox_resolve")
    @guarded()
    def resolve(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        kind = _field(request, "outcome")
        if kind and kind not in records.OUTCOME_CLUSTERS:
            return show_conversation(scope, conversation, status=400, error="Choose an outcome from the list.")
        session, now = scope.session, scope.now
        session.execute(update(Flag).where(Flag.conversation_id == conversation.id, Flag.acknowledged_at.is_(None))
                        .values(acknowledged_at=now))
        flags = session.execute(update(Flag).where(Flag.conversation_id == conversation.id,
                                                   Flag.resolved_at.is_(None)).values(resolved_at=now)).rowcount
        tasks = session.execute(update(Task).where(Task.conversation_id == conversation.id, Task.status == "open")
                                .values(status="done", closed_at=now)).rowcount
        detail = f"flags resolved: {flags}; tasks closed: {tasks}"
        if kind:
            practice = session.get(Practice, conversation.practice_id)
            cluster = records.OUTCOME_CLUSTERS[kind]
            try:
                code = script_for(settings.practices_dir, practice.ods_code).code_for(cluster) if cluster else ""
            except ScriptError:
                code = ""  # recorded with its cluster; the practice adds its code
            outcome = records.record_outcome(session, conversation, kind, code=code,
                                             note=f"recorded by {scope.viewer.username} in the inbox")
            detail += f"; outcome {kind} (outcome:{outcome.id})"
        if _field(request, "close") == "yes" and conversation.status != "closed":
            records.close(session, conversation, "closed by a coordinator")
            conversation.assigned_user_id = None
            detail += "; conversation closed"
        scope.audit("resolve", f"conversation:{conversation.id}", detail)
        return back_to(conversation, "resolved")

    @bp.post("/c/<public_id:str>/note", name="inbox_note")
    @guarded()
    def add_note(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        body = _field(request, "text").strip()
        if not body or len(body) > MAX_NOTE_CHARS:
            error = "Write a note first." if not body else \
                f"Notes can be at most {MAX_NOTE_CHARS} characters (this one has {len(body)})."
            return show_conversation(scope, conversation, status=400, error=error, note_draft=body)
        note = Note(conversation_id=conversation.id, user_id=scope.viewer.user_id, text=body, created_at=scope.now)
        scope.session.add(note)
        scope.session.flush()
        scope.audit("add_note", f"conversation:{conversation.id}", f"note:{note.id}; {len(body)} characters")
        return back_to(conversation, "noted")

    # -- a flag with no conversation (a number not on the register, or a patient not in a conversation) --

    @bp.get("/flag/<flag_id:int>", name="inbox_flag")
    @guarded()
    def flag_page(request: Request, scope: Scope, flag_id: int) -> HTTPResponse:
        flag = _flag_for(scope, flag_id)
        if flag is None:
            return not_found(scope, f"flag:{flag_id}")
        if flag.conversation_id is not None:
            conversation = scope.session.get(Conversation, flag.conversation_id)
            return redirect(f"{PREFIX}/c/{conversation.public_id}", status=303)
        scope.audit("view_flag", f"flag:{flag.id}")
        message = scope.session.get(InboundMessage, flag.inbound_message_id)
        practice_id = flag.practice_id
        # A registered patient with no open conversation is named, never called "not on the register".
        patient = scope.session.get(Patient, flag.patient_id) if flag.patient_id else None
        if patient is None and message is not None:
            patient = scope.session.scalar(select(Patient).where(
                Patient.mobile == message.from_number, Patient.practice_id.in_(scope.viewer.practice_ids))
                .order_by(Patient.id).limit(1))
        return render("flag.html", viewer=scope.viewer, flag=flag, message=message, patient=patient,
                      practice=scope.session.get(Practice, practice_id), kind=humanise(flag.kind),
                      category=humanise(flag.category), raised=clock(flag.created_at),
                      received=clock(message.received_at) if message else "",
                      acknowledged=clock(flag.acknowledged_at), escalated=clock(flag.escalated_at),
                      resolved=clock(flag.resolved_at), sla=sla_of(flag, scope.now, escalation_minutes(settings)),
                      notice=DONE_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/flag/<flag_id:int>/take", name="inbox_flag_take")
    @guarded()
    def flag_take(request: Request, scope: Scope, flag_id: int) -> HTTPResponse:
        flag = _flag_for(scope, flag_id)
        if flag is None:
            return not_found(scope, f"flag:{flag_id}")
        if flag.acknowledged_at is None:
            flag.acknowledged_at = scope.now
        scope.audit("acknowledge_flag", f"flag:{flag.id}")
        return redirect(f"{PREFIX}/flag/{flag.id}?done=acknowledged", status=303)

    @bp.post("/flag/<flag_id:int>/resolve", name="inbox_flag_resolve")
    @guarded()
    def flag_resolve(request: Request, scope: Scope, flag_id: int) -> HTTPResponse:
        flag = _flag_for(scope, flag_id)
        if flag is None:
            return not_found(scope, f"flag:{flag_id}")
        flag.acknowledged_at = flag.acknowledged_at or scope.now
        flag.resolved_at = flag.resolved_at or scope.now
        tasks = scope.session.execute(update(Task).where(Task.inbound_message_id == flag.inbound_message_id,
                                                         Task.status == "open")
                                      .values(status="done", closed_at=scope.now)).rowcount
        scope.audit("resolve_flag", f"flag:{flag.id}", f"tasks closed: {tasks}")
        return redirect(f"{PREFIX}/flag/{flag.id}?done=resolved", status=303)

    # -- tasks --

    @bp.get("/tasks", name="inbox_tasks")
    @guarded()
    def tasks_page(request: Request, scope: Scope) -> HTTPResponse:
        allowed = scope.viewer.practice_ids
        rows = scope.session.execute(
            select(Task, Conversation, InboundMessage)
            .outerjoin(Conversation, Task.conversation_id == Conversation.id)
            .outerjoin(InboundMessage, Task.inbound_message_id == InboundMessage.id)
            .where(Task.status == "open", func.coalesce(Task.practice_id, Conversation.practice_id).in_(allowed))
            .order_by(Task.created_at, Task.id)).all()
        names = dict(scope.session.execute(select(Practice.id, Practice.name)).all())
        tasks = [dict(task=t, kind=humanise(t.kind), conversation=c, message=m,
                      practice=names.get(t.practice_id or (c.practice_id if c else None), ""),
                      waiting=duration(scope.now - t.created_at), created=clock(t.created_at)) for t, c, m in rows]
        scope.audit("view_tasks", None, f"{len(tasks)} open tasks")
        return render("tasks.html", viewer=scope.viewer, tasks=tasks,
                      notice=DONE_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/tasks/<task_id:int>/done", name="inbox_task_done")
    @guarded()
    def task_done(request: Request, scope: Scope, task_id: int) -> HTTPResponse:
        task = _task_for(scope, task_id)
        if task is None:
            return not_found(scope, f"task:{task_id}")
        if task.status == "open":
            task.status, task.closed_at = "done", scope.now
        scope.audit("task_done", f"task:{task.id}", f"kind {task.kind}")
        if _field(request, "back") == "conversation" and task.conversation_id is not None:
            conversation = scope.session.get(Conversation, task.conversation_id)
            return back_to(conversation, "task_done")
        return redirect(f"{PREFIX}/tasks?done=task_done", status=303)

    # -- the CAN005 report (counts only): a coordinator's practices; an administrator's, every practice --

    @bp.get("/report", name="inbox_report")
    @guarded()
    def report_page(request: Request, scope: Scope) -> HTTPResponse:
        today = auth.local_time(scope.now).date()
        current = reporting.qof_year_start(today).year
        wanted = request.args.get("year", str(current))
        if not (wanted.isdigit() and 2000 <= int(wanted) <= current):
            scope.audit("view_report_refused", None, f"year {wanted[:20]!r}")
            return error_page(scope.viewer, 400, f"Choose a QOF year from 2000 to {current}.")
        query = select(Practice.ods_code).order_by(Practice.ods_code)
        if not scope.viewer.is_admin:
            query = query.where(Practice.id.in_(scope.viewer.practice_ids))
        codes = list(scope.session.scalars(query))
        report = reporting.build_report(scope.session, codes, dt.date(int(wanted), 4, 1), today) if codes else None
        scope.audit("view_report", None, f"QOF year {wanted}; practices {','.join(codes)}")
        return render("report.html", viewer=scope.viewer, year=int(wanted), current=current,
                      view=reporting.page_context(report) if report else None)

    # -- users (administrators) --

    def users_view(scope: Scope, status: int = 200, error: str = "", notice: str = "",
                   form: Optional[dict] = None) -> HTTPResponse:
        session = scope.session
        practices = session.scalars(select(Practice).order_by(Practice.name)).all()
        names = {p.id: f"{p.name} ({p.ods_code})" for p in practices}
        links: dict[int, list[str]] = {}
        for user_id, practice_id in session.execute(select(UserPractice.user_id, UserPractice.practice_id)):
            links.setdefault(user_id, []).append(names.get(practice_id, str(practice_id)))
        users = [dict(user=u, practices=sorted(links.get(u.id, [])),
                      locked=bool(u.locked_until and u.locked_until > scope.now),
                      locked_until=clock(u.locked_until)) for u in
                 session.scalars(select(User).order_by(User.username))]
        return render("users.html", status=status, viewer=scope.viewer, users=users, practices=practices,
                      error=error, notice=notice, form=form or {"username": "", "phone": "", "role": "coordinator",
                                                                "practices": []})

    @bp.get("/users", name="inbox_users")
    @guarded(admin=True)
    def users_page(request: Request, scope: Scope) -> HTTPResponse:
        scope.audit("view_users")
        return users_view(scope, notice=DONE_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/users", name="inbox_users_add")
    @guarded(admin=True)
    def users_add(request: Request, scope: Scope) -> HTTPResponse:
        try:
            chosen = [int(v) for v in request.form.getlist("practice") or []]
        except (ValueError, TypeError):
            chosen = []
        form = {"username": _field(request, "username"), "phone": _field(request, "phone"),
                "role": _field(request, "role") or "coordinator", "practices": chosen}
        practices = scope.session.scalars(select(Practice).where(Practice.id.in_(chosen))).all() if chosen else []
        try:
            with scope.session.begin_nested():
                user = auth.create_user(scope.session, form["username"], _field(request, "password"), practices,
                                        role=form["role"], phone=form["phone"])
        except auth.AccountError as exc:
            return users_view(scope, status=400, error=f"The user was not added: {exc}.", form=form)
        scope.audit("add_user", f"user:{user.id}", f"role {user.role}; practices {sorted(p.id for p in practices)}")
        return redirect(f"{PREFIX}/users?done=user_added", status=303)

    @bp.post("/users/<user_id:int>/unlock", name="inbox_users_unlock")
    @guarded(admin=True)
    def users_unlock(request: Request, scope: Scope, user_id: int) -> HTTPResponse:
        if _row(scope, User, user_id) is None:
            return not_found(scope, f"user:{user_id}")
        auth.unlock(scope.session, user_id)
        scope.audit("unlock_user", f"user:{user_id}")
        return redirect(f"{PREFIX}/users?done=unlocked", status=303)

    return bp


# -- the two static files ---------------------------------------------------------------------------

QUEUE_JS = r"""/* Refreshes the coordinator queue every 3 seconds. Builds rows with textContent only. */
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  if (!rows) { return; }
  var updated = document.getElementById("queue-updated");
  var empty = document.getElementById("queue-empty");
  var table = document.getElementById("queue-table");
  var baseTitle = "Coordinator inbox";

  function cell(tr, value, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = value || "";
    tr.appendChild(td);
    return td;
  }

  function render(data) {
    var fragment = document.createDocumentFragment();
    var urgent = 0;
    data.items.forEach(function (item) {
      if (item.priority === "urgent" && item.sla_state !== "met" && item.sla_state !== "late") { urgent += 1; }
      var tr = document.createElement("tr");
      tr.className = "row row-" + item.priority;
      tr.setAttribute("data-key", item.key);
      var tagCell = document.createElement("td");
      var tag = document.createElement("strong");
      tag.className = "tag tag-" + item.priority;
      tag.textContent = item.label;
      tagCell.appendChild(tag);
      tr.appendChild(tagCell);
      var what = cell(tr, item.kind, "what");
      if (item.category) {
        var category = document.createElement("span");
        category.className = "hint";
        category.textContent = item.category;
        what.appendChild(document.createElement("br"));
        what.appendChild(category);
      }
      cell(tr, item.evidence, "evidence");
      cell(tr, item.practice);
      cell(tr, item.waiting, "waiting");
      cell(tr, item.sla, "sla sla-" + item.sla_state);
      cell(tr, item.taken_by);
      var open = document.createElement("td");
      if (typeof item.url === "string" && item.url.indexOf("/inbox/") === 0) {
        var link = document.createElement("a");
        link.className = "button button-small";
        link.href = item.url;
        link.textContent = "Open";
        open.appendChild(link);
      }
      tr.appendChild(open);
      fragment.appendChild(tr);
    });
    while (rows.firstChild) { rows.removeChild(rows.firstChild); }
    rows.appendChild(fragment);
    table.hidden = data.items.length === 0;
    empty.hidden = data.items.length !== 0;
    document.title = (urgent ? "(" + urgent + " urgent) " : "") + baseTitle;
    updated.textContent = "Updated " + data.updated;
  }

  function poll() {
    fetch("/inbox/queue.json", {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/inbox/login"); return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { updated.textContent = "Could not refresh the queue: trying again"; })
      .then(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 3000);
})();
"""

STYLESHEET = r"""/* Coordinator inbox: plain, NHS-like (blue header, Arial, clear tags, large targets). */
* { box-sizing: border-box; }
html { font-family: Arial, "Helvetica Neue", sans-serif; font-size: 16px; color: #212b32; background: #f0f4f5; }
body { margin: 0; line-height: 1.45; }
a { color: #005eb8; }
a:visited { color: #330072; }
a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 4px solid #ffeb3b; outline-offset: 0; box-shadow: 0 4px 0 #212b32; }
.wrap { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
.app-header { background: #005eb8; color: #fff; }
.app-header .wrap { display: flex; align-items: center; flex-wrap: wrap; gap: 8px 24px; min-height: 64px; }
.brand { color: #fff !important; font-weight: bold; font-size: 1.25rem; text-decoration: none; margin-right: auto; }
.brand small { font-weight: normal; font-size: 0.9rem; opacity: 0.9; }
.app-header nav { display: flex; align-items: center; gap: 18px; flex-wrap: wrap; }
.app-header nav a { color: #fff; font-weight: bold; }
.app-header .who { opacity: 0.9; }
.app-header .link { background: none; border: 0; color: #fff; text-decoration: underline; cursor: pointer; font: inherit; padding: 0; }
main { padding: 24px 0 48px; }
h1 { font-size: 2rem; margin: 0 0 16px; }
h2 { font-size: 1.4rem; margin: 28px 0 12px; }
h3 { font-size: 1.1rem; margin: 16px 0 8px; }
.hint { color: #4c6272; font-size: 0.95rem; }
.panel { background: #fff; border: 1px solid #d8dde0; padding: 16px 20px; margin-bottom: 20px; }
.notice { background: #fff; border-left: 8px solid #007f3b; padding: 12px 16px; margin-bottom: 20px; }
.error { background: #fff; border: 4px solid #d5281b; padding: 12px 16px; margin-bottom: 20px; color: #212b32; }
.error strong { color: #d5281b; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; vertical-align: top; padding: 10px 12px; border-bottom: 1px solid #d8dde0; }
th { background: #e8edee; font-size: 0.95rem; }
tr.row-urgent td:first-child { border-left: 6px solid #d5281b; }
tr.row-soon td:first-child { border-left: 6px solid #ffb81c; }
tr.row-task td:first-child, tr.row-conversation td:first-child { border-left: 6px solid #005eb8; }
.tag { display: inline-block; padding: 2px 8px; font-size: 0.85rem; font-weight: bold; text-transform: uppercase; letter-spacing: 0.02em; border: 2px solid currentColor; white-space: nowrap; }
.tag-urgent { color: #fff; background: #d5281b; border-color: #d5281b; }
.tag-soon { color: #212b32; background: #ffb81c; border-color: #ffb81c; }
.tag-task { color: #005eb8; background: #fff; }
.tag-conversation { color: #330072; background: #fff; }
.tag-closed { color: #4c6272; background: #fff; }
.tag-done { color: #007f3b; background: #fff; }
.evidence { font-style: italic; overflow-wrap: anywhere; }
.sla-breached { color: #d5281b; font-weight: bold; }
.sla-due { color: #212b32; font-weight: bold; }
.sla-met { color: #007f3b; }
.sla-late { color: #8a1538; }
.waiting { white-space: nowrap; }
.button { display: inline-block; background: #007f3b; color: #fff !important; border: 0; border-bottom: 3px solid #00401e; padding: 10px 16px; font: inherit; font-weight: bold; text-decoration: none; cursor: pointer; }
.button:hover { background: #00662f; }
.button-secondary { background: #4c6272; border-bottom-color: #263139; }
.button-secondary:hover { background: #384853; }
.button-warning { background: #d5281b; border-bottom-color: #6b140e; }
.button-warning:hover { background: #aa2016; }
.button-small { padding: 6px 12px; font-size: 0.95rem; }
form.inline { display: inline; }
label { display: block; font-weight: bold; margin: 12px 0 4px; }
input[type=text], input[type=password], input[type=tel], select, textarea { font: inherit; width: 100%; max-width: 32em; padding: 8px; border: 2px solid #4c6272; background: #fff; }
textarea { max-width: none; min-height: 7em; }
.checkbox label { display: inline; font-weight: normal; }
.layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 24px; }
@media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.summary dt { font-weight: bold; }
dl.summary dd { margin: 0; }
.transcript { list-style: none; margin: 0; padding: 0; }
.msg { background: #fff; border: 1px solid #d8dde0; padding: 10px 14px; margin: 0 0 10px; max-width: 85%; }
.msg-in { border-left: 6px solid #005eb8; }
.msg-out { margin-left: auto; border-right: 6px solid #768692; background: #f8fafb; }
.msg-flagged { border-left-color: #d5281b; background: #fff5f4; }
.msg .meta { font-size: 0.9rem; color: #4c6272; margin-bottom: 4px; }
.msg .meta strong { color: #212b32; }
.msg .body { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-family: inherit; font-size: 1rem; }
.msg .status-bad { color: #d5281b; font-weight: bold; }
.flag { border: 1px solid #d8dde0; border-left: 8px solid #ffb81c; background: #fff; padding: 10px 14px; margin-bottom: 10px; }
.flag-urgent { border-left-color: #d5281b; }
.flag-resolved { border-left-color: #768692; opacity: 0.85; }
.actions form { margin-bottom: 16px; }
.list-plain { list-style: none; padding: 0; margin: 0; }
.list-plain li { background: #fff; border: 1px solid #d8dde0; padding: 8px 12px; margin-bottom: 8px; }
.note-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.empty { background: #fff; border: 1px solid #d8dde0; padding: 24px; font-size: 1.1rem; }
.login { max-width: 28em; }
.status-line { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap; gap: 8px; }
"""
