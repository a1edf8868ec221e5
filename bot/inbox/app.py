"""The coordinator inbox, served by the gateway under /inbox.

GET  /inbox/                  the queue: unresolved flags, conversations handed to a person, open tasks
GET  /inbox/queue.json        the same queue for the page's 3-second refresh (static/queue.js)
GET  /inbox/c/<public_id>     one conversation: transcript, flags, tasks, outcomes, notes, actions
POST /inbox/c/<public_id>/{take,reply,handback,resolve,note}
GET  /inbox/flag/<id>         a flag with no conversation; POST .../take, .../contacted, .../resolve
                              (bot/inbox/flags.py: time limits, owners and how long each step took)
GET  /inbox/tasks             open tasks; POST /inbox/tasks/<id>/done
GET  /inbox/report[?year=Y]   CAN005 figures of the user's practices (an admin: every practice), counts only
Sign-in, a user's own account and the administrators' users page: bot/inbox/accounts.py.

Every request needs a session (bot/inbox/auth.py) except the sign-in page and the two static files;
every POST needs the session's CSRF token; a user sees only the practices in `user_practices`
(anything else is 404). Every page view and action is written to the audit log, without message text.
Pages are Jinja2 templates with autoescape: patient text is only ever shown as text, and the
Content-Security-Policy allows scripts from this site only (no inline script, no event handlers).
Database work runs in a worker thread so the SMS webhooks on the same event loop are never held up
(bot/inbox/web.py).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from pathlib import Path
from typing import Any, Callable, Optional
from uuid import uuid4

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json, redirect, text
from sqlalchemy import func, select

from bot import records
from bot.booking import slots as booking
from bot.reports import can005 as reporting
from bot.outbox import queue as outbox
from bot.checkin.replies import AREAS
from bot.config import Settings
from bot.inbox import auth
from bot.inbox.accounts import add_account_routes
from bot.inbox.flags import FLAG_MESSAGES, LimitsOf, add_flag_routes, flag_view, limits_by_practice
from bot.inbox.web import PREFIX, Scope, Web, clock, duration, field_of, humanise, row_of, visible
from bot.db.models import (Appointment, AuditEntry, BookingSlot, ConcernAnswer, Conversation, ConversationStatus, Flag,
                           InboundMessage, Note, OutboundMessage, Outcome, Patient, Practice, RoutingDecision,
                           SafetyLabel, Task, User)
from bot.safety import feedback as safety_feedback
from bot.practice_script.loader import ScriptError, script_for
from bot.sender.segments import segment_count

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
QUEUE_JS = (STATIC / "queue.js").read_text(encoding="utf-8")
STYLESHEET = (STATIC / "inbox.css").read_text(encoding="utf-8")
MAX_REPLY_CHARS = 1600
MAX_NOTE_CHARS = 2000
POLL_AUDIT_EVERY = dt.timedelta(minutes=5)
PUBLIC_ID = re.compile(r"^[0-9a-f]{32}$")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# A review (the safety screen could not rule a text out) comes after flags and before other work.
PRIORITY_RANK = {"urgent": 0, "soon": 1, "review": 2, "task": 3, "conversation": 3}
PRIORITY_LABEL = {"urgent": "Urgent", "soon": "Soon", "review": "Review", "task": "Task",
                  "conversation": "Handed over"}
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
    "labelled": "Thank you: the text is marked for the clinical safety officer's review of the safety screen.",
    "task_done": "Task marked as done.",
    **FLAG_MESSAGES,
}


# -- reading the data a user may see ------------------------------------------------------------------

def _flag_practice_id():
    return func.coalesce(Flag.practice_id, Conversation.practice_id)


def _taken_by(users: dict, conversation: Optional[Conversation], flag: Flag) -> str:
    """The flag's owner (who acknowledged it), else whoever has its conversation."""
    if flag.acknowledged_by:
        return users.get(flag.acknowledged_by, "")
    if conversation is not None and conversation.assigned_user_id:
        return users.get(conversation.assigned_user_id, "")
    return "taken" if flag.acknowledged_at else ""


def build_queue(scope: Scope, limits_of: LimitsOf) -> list[dict[str, Any]]:
    """The queue of one user: flags raised while their practice was closed and not yet acknowledged
    first (the patient was told someone would be in touch at opening), then urgent flags, soon flags,
    reviews, tasks and handed-over conversations; oldest first within each. A flag's own task and a
    conversation that already has an item are not listed twice. A clinician who is not also a
    coordinator sees the flags and reviews only."""
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
        practice_id = flag.practice_id or (conversation.practice_id if conversation else None)
        view = flag_view(flag, now, limits_of(practice_id), users)
        sla, state = view["sla"]
        flag_messages.add(flag.inbound_message_id)
        if conversation is not None:
            covered.add(conversation.id)
        items.append(
            dict(
                key=f"flag:{flag.id}",
                priority=flag.severity if flag.severity in PRIORITY_RANK else "soon",
                kind="Read today: the safety screen was unsure"
                if flag.kind == "review"
                else f"{humanise(flag.kind)} flag",
                category=humanise(flag.category),
                evidence=flag.evidence,
                practice=names.get(practice_id, ""),
                since=flag.created_at,
                sla=sla,
                sla_state=state,
                taken_by=_taken_by(users, conversation, flag),
                progress=view["progress"],
                overnight=view["out_of_hours"] and flag.acknowledged_at is None,
                url=f"{PREFIX}/c/{conversation.public_id}" if conversation else f"{PREFIX}/flag/{flag.id}",
            )
        )

    tasks = session.execute(
        select(Task, Conversation).outerjoin(Conversation, Task.conversation_id == Conversation.id)
        .where(Task.status == "open", func.coalesce(Task.practice_id, Conversation.practice_id).in_(allowed))
    ).all() if scope.viewer.is_coordinator else []
    for task, conversation in tasks:
        if task.inbound_message_id in flag_messages and task.kind.startswith("flag_"):
            continue  # shown as its flag
        if conversation is not None:
            covered.add(conversation.id)
        practice_id = task.practice_id or (conversation.practice_id if conversation else None)
        items.append(dict(
            key=f"task:{task.id}", priority="task", kind=f"Task: {humanise(task.kind)}", category=task.detail,
            evidence="", practice=names.get(practice_id, ""), since=task.created_at, sla="", sla_state="none",
            taken_by=users.get(conversation.assigned_user_id, "") if conversation else "", progress="",
            url=f"{PREFIX}/c/{conversation.public_id}" if conversation else f"{PREFIX}/tasks#task-{task.id}"))

    conversations = session.scalars(select(Conversation).where(
        Conversation.status == ConversationStatus.HANDED_OVER, Conversation.practice_id.in_(allowed))
    ).all() if scope.viewer.is_coordinator else []
    for conversation in conversations:
        if conversation.id in covered:
            continue
        items.append(dict(
            key=f"conversation:{conversation.id}", priority="conversation", kind="Conversation handed over",
            category=humanise(conversation.handover_reason or ""), evidence="",
            practice=names.get(conversation.practice_id, ""), since=conversation.updated_at, sla="",
            sla_state="none", taken_by=users.get(conversation.assigned_user_id, ""), progress="",
            url=f"{PREFIX}/c/{conversation.public_id}"))

    items.sort(key=lambda item: (not item.get("overnight"), PRIORITY_RANK[item["priority"]], item["since"],
                                 item["key"]))
    for item in items:
        item["label"] = PRIORITY_LABEL[item["priority"]]
        item["overnight"] = bool(item.get("overnight"))
        item["waiting"] = duration(now - item["since"])
        item["waiting_seconds"] = int(max((now - item.pop("since")).total_seconds(), 0))
    return items


def _conversation_for(scope: Scope, public_id: str) -> Optional[Conversation]:
    if not PUBLIC_ID.match(public_id or ""):
        return None
    conversation = scope.session.scalar(select(Conversation).where(Conversation.public_id == public_id))
    if conversation is None or conversation.practice_id not in scope.viewer.practice_ids:
        return None
    if not scope.viewer.is_coordinator and scope.session.scalar(
            select(Flag.id).where(Flag.conversation_id == conversation.id).limit(1)) is None:
        return None  # a clinician only: the conversations flags and reviews came from
    return conversation


def _task_for(scope: Scope, task_id: int) -> Optional[Task]:
    return visible(scope, row_of(scope, Task, task_id))


def conversation_view(scope: Scope, conversation: Conversation, limits_of: LimitsOf) -> dict[str, Any]:
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
    inbound_ids = [m.id for m in inbound]
    labels = dict(session.execute(select(SafetyLabel.inbound_message_id, SafetyLabel.label).where(
        SafetyLabel.inbound_message_id.in_(inbound_ids))).all()) if inbound_ids else {}
    for row in transcript:
        row["flagged"] = row["direction"] == "in" and row["id"] in flagged_ids
        row["label"] = safety_feedback.LABELS.get(labels.get(row["id"], ""), "") if row["direction"] == "in" else ""
    tasks = session.scalars(select(Task).where(Task.conversation_id == conversation.id).order_by(Task.id)).all()
    outcomes = session.scalars(select(Outcome).where(Outcome.conversation_id == conversation.id)
                               .order_by(Outcome.id)).all()
    notes = session.scalars(select(Note).where(Note.conversation_id == conversation.id).order_by(Note.id)).all()
    patient = session.get(Patient, conversation.patient_id) if conversation.patient_id else None
    support = support_view(session, conversation)
    practice = session.get(Practice, conversation.practice_id)
    mine = (conversation.status == ConversationStatus.HANDED_OVER
            and conversation.assigned_user_id == scope.viewer.user_id)
    return dict(
        conversation=conversation, patient=patient, practice=practice, transcript=transcript,
        flags=[flag_view(f, scope.now, limits_of(conversation.practice_id), users) for f in flags],
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
        status_text={ConversationStatus.ACTIVE: "The assistant is answering",
                     ConversationStatus.HANDED_OVER: "Handed over to a person",
                     ConversationStatus.CLOSED: "Closed"}.get(conversation.status, conversation.status),
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
    web = Web(settings)
    render, error_page, guarded, not_found = web.render, web.error_page, web.guarded, web.not_found

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

    add_account_routes(bp, web)

    # -- the queue --

    shown_last: dict[int, tuple[frozenset, dt.datetime]] = {}
    shown_lock = threading.Lock()

    def remember_shown(scope: Scope, items: list[dict[str, Any]]) -> bool:
        """Note what the user's queue now shows; True when that differs from what was last audited
        for them, or was audited more than POLL_AUDIT_EVERY ago."""
        keys = frozenset(item["key"] for item in items)
        with shown_lock:
            last = shown_last.get(scope.viewer.user_id)
            changed = last is None or last[0] != keys or scope.now - last[1] >= POLL_AUDIT_EVERY
            if changed:
                shown_last[scope.viewer.user_id] = (keys, scope.now)
        return changed

    @bp.get("/", name="inbox_queue")
    @guarded()
    def queue(request: Request, scope: Scope) -> HTTPResponse:
        items = build_queue(scope, limits_by_practice(scope, settings))
        scope.audit_shown("view_queue", [item["key"] for item in items])
        remember_shown(scope, items)
        return render("queue.html", viewer=scope.viewer, items=items, updated=clock(scope.now, with_date=False))

    @bp.get("/queue.json", name="inbox_queue_json")
    @guarded(kind="json")
    def queue_json(request: Request, scope: Scope) -> HTTPResponse:
        items = build_queue(scope, limits_by_practice(scope, settings))
        # The page polls every 3 s: audited when what it shows changes, or every 5 minutes.
        if remember_shown(scope, items):
            scope.audit_shown("view_queue_json", [item["key"] for item in items])
        return json({"items": items, "updated": clock(scope.now, with_date=False)},
                    headers={"Cache-Control": "no-store"})

    # -- one conversation --

    def show_conversation(scope: Scope, conversation: Conversation, status: int = 200, error: str = "",
                          notice: str = "", draft: str = "", note_draft: str = "") -> HTTPResponse:
        view = conversation_view(scope, conversation, limits_by_practice(scope, settings))
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
        records.take_over(scope.session, conversation, scope.viewer.user_id, scope.now)
        acknowledged = records.acknowledge_flags(scope.session, records.open_flag_ids(scope.session, conversation.id),
                                                 scope.viewer.user_id, scope.now)
        scope.audit("take_over", f"conversation:{conversation.id}",
                    f"flags acknowledged: {acknowledged}; status {conversation.status}"
                    + (f"; from user:{previous}" if previous and previous != scope.viewer.user_id else ""))
        if conversation.status == ConversationStatus.CLOSED or (patient and patient.opted_out):
            return show_conversation(scope, conversation, notice="Flags taken. This conversation is closed or the "
                                     "patient has opted out of texts: phone the patient if you need to.")
        return back_to(conversation, "taken")

    @bp.post("/c/<public_id:str>/reply", name="inbox_reply")
    @guarded()
    def reply(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        body = field_of(request, "text").strip()
        patient = scope.session.get(Patient, conversation.patient_id) if conversation.patient_id else None
        problem = ""
        if conversation.status != ConversationStatus.HANDED_OVER:
            problem = ("This conversation is closed: replies cannot be sent."
                       if conversation.status == ConversationStatus.CLOSED else
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
        assert patient is not None   # checked above: "This conversation has no patient to text."
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
        assert message is not None   # a fresh uuid key is never a duplicate
        contacted = records.record_contact(scope.session, records.open_flag_ids(scope.session, conversation.id),
                                           scope.viewer.user_id, scope.now)
        scope.audit("reply", f"conversation:{conversation.id}",
                    f"outbound:{message.id}; {len(body)} characters, {segment_count(body)} SMS parts"
                    + (f"; flags contacted: {contacted}" if contacted else ""))
        # Wake the sender once the text is committed (at the end of this request's transaction).
        scope.after_commit.append(wake_sender)
        return back_to(conversation, "replied")

    @bp.post("/c/<public_id:str>/handback", name="inbox_handback")
    @guarded()
    def hand_back(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        if conversation.status != ConversationStatus.HANDED_OVER:
            return show_conversation(scope, conversation, status=400,
                                     error="Only a conversation handed over to a person can be handed back.")
        previous = conversation.assigned_user_id
        records.hand_back(scope.session, conversation, scope.now)
        scope.audit("hand_back", f"conversation:{conversation.id}",
                    f"was with user:{previous}" if previous else "was unassigned")
        return back_to(conversation, "handed_back")

    @bp.post("/c/<public_id:str>/resolve", name="inbox_resolve")
    @guarded()
    def resolve(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        kind = field_of(request, "outcome")
        if kind and kind not in records.OUTCOME_CLUSTERS:
            return show_conversation(scope, conversation, status=400, error="Choose an outcome from the list.")
        session, now = scope.session, scope.now
        flags, flag_tasks = records.close_flags(session, records.open_flag_ids(session, conversation.id),
                                                scope.viewer.user_id, now)
        tasks = flag_tasks + records.close_conversation_tasks(session, conversation.id, now)
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
        if field_of(request, "close") == "yes" and conversation.status != ConversationStatus.CLOSED:
            records.close(session, conversation, "closed by a coordinator", unassign=True)
            detail += "; conversation closed"
        scope.audit("resolve", f"conversation:{conversation.id}", detail)
        return back_to(conversation, "resolved")

    @bp.post("/c/<public_id:str>/note", name="inbox_note")
    @guarded()
    def add_note(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        body = field_of(request, "text").strip()
        if not body or len(body) > MAX_NOTE_CHARS:
            error = "Write a note first." if not body else \
                f"Notes can be at most {MAX_NOTE_CHARS} characters (this one has {len(body)})."
            return show_conversation(scope, conversation, status=400, error=error, note_draft=body)
        note = Note(conversation_id=conversation.id, user_id=scope.viewer.user_id, text=body, created_at=scope.now)
        scope.session.add(note)
        scope.session.flush()
        scope.audit("add_note", f"conversation:{conversation.id}", f"note:{note.id}; {len(body)} characters")
        return back_to(conversation, "noted")

    @bp.post("/c/<public_id:str>/label", name="inbox_label")
    @guarded()
    def label_text(request: Request, scope: Scope, public_id: str) -> HTTPResponse:
        """A coordinator's judgement of the safety screen on one patient text (bot/safety/feedback.py)."""
        conversation = _conversation_for(scope, public_id)
        if conversation is None:
            return not_found(scope, f"conversation:{public_id[:40]}")
        try:
            message_id = int(field_of(request, "message"))
        except ValueError:
            message_id = 0
        message = row_of(scope, InboundMessage, message_id)
        if message is None or message.conversation_id != conversation.id:
            return show_conversation(scope, conversation, status=400, error="Choose one of the patient's texts.")
        try:
            label = safety_feedback.mark(scope.session, message, field_of(request, "label"), scope.viewer.user_id)
        except safety_feedback.FeedbackError as exc:
            return show_conversation(scope, conversation, status=400, error=f"Not marked: {exc}.")
        scope.audit("label_text", f"conversation:{conversation.id}",
                    f"inbound:{message.id}; {label.label}; screen said {label.screen_said}")
        return back_to(conversation, "labelled")

    add_flag_routes(bp, web, settings)

    # -- tasks --

    @bp.get("/tasks", name="inbox_tasks")
    @guarded(coordinator=True)
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
        scope.audit_shown("view_tasks", [f"task:{row['task'].id}" for row in tasks])
        return render("tasks.html", viewer=scope.viewer, tasks=tasks,
                      notice=DONE_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/tasks/<task_id:int>/done", name="inbox_task_done")
    @guarded(coordinator=True)
    def task_done(request: Request, scope: Scope, task_id: int) -> HTTPResponse:
        task = _task_for(scope, task_id)
        if task is None:
            return not_found(scope, f"task:{task_id}")
        if task.status == "open":
            task.status, task.closed_at = "done", scope.now
        scope.audit("task_done", f"task:{task.id}", f"kind {task.kind}")
        if field_of(request, "back") == "conversation" and task.conversation_id is not None:
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

    return bp
