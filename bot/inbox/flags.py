"""Flags and reviews in the inbox: each one's time limit (bot/safety/flag_limits.py, per practice), its owner
and how long acknowledging, contacting the patient and closing took; the flag page and its actions.

GET  /inbox/flag/<id>             a flag with no conversation (one with a conversation: that page)
POST /inbox/flag/<id>/take        acknowledge it: the user becomes its owner; the escalation ladder stops
POST /inbox/flag/<id>/contacted   the patient was contacted (a phone call; a reply by text records it itself)
POST /inbox/flag/<id>/resolve     close it (and its task)

Every action is audited and goes through bot/records.py. A form may send `back=conversation` to
return to the conversation the flag came from.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select

from bot import records
from bot.config import Settings
from bot.safety.flag_limits import PracticeLimits
from bot.inbox.escalation import practice_limits
from bot.inbox.web import PREFIX, Scope, Web, clock, duration, field_of, humanise, row_of, visible
from bot.db.models import Conversation, Flag, InboundMessage, Patient, Practice, User

FLAG_MESSAGES = {
    "acknowledged": "Flag taken: you are its owner.",
    "contacted": "Contact with the patient recorded.",
    "flag_closed": "Flag closed.",
    "resolved": "Resolved.",
}
LimitsOf = Callable[[Optional[int]], PracticeLimits]


def limits_by_practice(scope: Scope, settings: Settings) -> LimitsOf:
    """The time limits of each practice (by id), read once per request."""
    codes = dict(scope.session.execute(select(Practice.id, Practice.ods_code)).all())
    known: dict[Optional[int], PracticeLimits] = {}

    def of(practice_id: Optional[int]) -> PracticeLimits:
        if practice_id not in known:
            known[practice_id] = practice_limits(settings, codes.get(practice_id))
        return known[practice_id]
    return of


def sla_of(flag: Flag, now: dt.datetime, limits: PracticeLimits) -> tuple[str, str]:
    """(text, state) of a flag's time limit: "12 min left (pick up within 15 min)", "OVERDUE by 5
    min", "Picked up after 4 min"; state due | breached | met | late."""
    due = limits.due(flag.severity, flag.created_at)
    target = f"pick up {limits.limit(flag.severity).describe()}"
    if flag.acknowledged_at is not None:
        late = flag.acknowledged_at > due
        return f"Picked up after {duration(flag.acknowledged_at - flag.created_at)}", "late" if late else "met"
    if now <= due:
        starts = limits.starts(flag.created_at)
        when = f"; raised out of hours, counted from {clock(starts)}" if starts != flag.created_at else ""
        return f"{duration(due - now)} left ({target}{when})", "due"
    suffix = "; second contact texted" if flag.second_escalated_at else \
        "; duty clinician texted" if flag.escalated_at else ""
    return f"OVERDUE by {duration(now - due)}{suffix}", "breached"


def flag_view(flag: Flag, now: dt.datetime, limits: PracticeLimits, users: dict) -> dict[str, Any]:
    """What the pages show of one flag: its times, who did what and how long after it was raised."""
    def step(at: Optional[dt.datetime], by: Optional[int]) -> dict[str, str]:
        if at is None:
            return {}
        return dict(when=clock(at), who=users.get(by, "") if by else "", after=duration(at - flag.created_at))

    starts = limits.starts(flag.created_at)
    acknowledged = step(flag.acknowledged_at, flag.acknowledged_by)
    contacted = step(flag.contacted_at, flag.contacted_by)
    closed = step(flag.resolved_at, flag.resolved_by)
    progress = "; ".join(f"{label} {s['who'] + ' ' if s['who'] else ''}after {s['after']}" for label, s in (
        ("acknowledged by" if acknowledged.get("who") else "acknowledged", acknowledged),
        ("patient contacted by" if contacted.get("who") else "patient contacted", contacted)) if s)
    return dict(
        flag=flag, kind=humanise(flag.kind), category=humanise(flag.category), raised=clock(flag.created_at),
        out_of_hours=starts != flag.created_at, starts=clock(starts),
        due=clock(limits.due(flag.severity, flag.created_at)),
        target=limits.limit(flag.severity).describe(), sla=sla_of(flag, now, limits),
        acknowledged=acknowledged, contacted=contacted, closed=closed, progress=progress,
        owner=acknowledged.get("who", ""), escalated=clock(flag.escalated_at),
        second_escalated=clock(flag.second_escalated_at), out_of_hours_texted=clock(flag.out_of_hours_texted_at),
        resolved=clock(flag.resolved_at))


def add_flag_routes(bp: Blueprint, web: Web, settings: Settings) -> None:
    """Register the flag page and the flag actions on the inbox blueprint."""

    def flag_for(scope: Scope, flag_id: int) -> Optional[Flag]:
        return visible(scope, row_of(scope, Flag, flag_id))

    def back(scope: Scope, request: Request, flag: Flag, done: str) -> HTTPResponse:
        if field_of(request, "back") == "conversation" and flag.conversation_id is not None:
            conversation = scope.session.get(Conversation, flag.conversation_id)
            return redirect(f"{PREFIX}/c/{conversation.public_id}?done={done}", status=303)
        return redirect(f"{PREFIX}/flag/{flag.id}?done={done}", status=303)

    @bp.get("/flag/<flag_id:int>", name="inbox_flag")
    @web.guarded()
    def flag_page(request: Request, scope: Scope, flag_id: int) -> HTTPResponse:
        flag = flag_for(scope, flag_id)
        if flag is None:
            return web.not_found(scope, f"flag:{flag_id}")
        if flag.conversation_id is not None:
            conversation = scope.session.get(Conversation, flag.conversation_id)
            return redirect(f"{PREFIX}/c/{conversation.public_id}", status=303)
        scope.audit("view_flag", f"flag:{flag.id}")
        message = scope.session.get(InboundMessage, flag.inbound_message_id)
        # A registered patient with no open conversation is named, never called "not on the register".
        patient = scope.session.get(Patient, flag.patient_id) if flag.patient_id else None
        if patient is None and message is not None:
            patient = scope.session.scalar(select(Patient).where(
                Patient.mobile == message.from_number, Patient.practice_id.in_(scope.viewer.practice_ids))
                .order_by(Patient.id).limit(1))
        users = dict(scope.session.execute(select(User.id, User.username)).all())
        view = flag_view(flag, scope.now, limits_by_practice(scope, settings)(flag.practice_id), users)
        return web.render("flag.html", viewer=scope.viewer, f=view, flag=flag, message=message, patient=patient,
                          practice=scope.session.get(Practice, flag.practice_id),
                          received=clock(message.received_at) if message else "",
                          notice=FLAG_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/flag/<flag_id:int>/<action:str>", name="inbox_flag_action")
    @web.guarded()
    def flag_action(request: Request, scope: Scope, flag_id: int, action: str) -> HTTPResponse:
        """take (acknowledge: the user becomes the owner), contacted (the patient), resolve (close)."""
        flag = flag_for(scope, flag_id)
        if flag is None or action not in ("take", "contacted", "resolve"):
            return web.not_found(scope, f"flag:{flag_id}")
        ids, user, now = [flag.id], scope.viewer.user_id, scope.now
        after = duration(now - flag.created_at)
        if action == "take":
            done = records.acknowledge_flags(scope.session, ids, user, now)
            scope.audit(
                "acknowledge_flag", f"flag:{flag.id}", f"owner after {after}" if done else "already acknowledged"
            )
            return back(scope, request, flag, "acknowledged")
        if action == "contacted":
            done = records.record_contact(scope.session, ids, user, now)
            scope.audit("contact_patient", f"flag:{flag.id}",
                        f"recorded after {after}" if done else "already recorded, or the flag is closed")
            return back(scope, request, flag, "contacted")
        done, tasks = records.close_flags(scope.session, ids, user, now)
        scope.audit("resolve_flag", f"flag:{flag.id}",
                    (f"closed after {after}; " if done else "already closed; ") + f"tasks closed: {tasks}")
        return back(scope, request, flag, "flag_closed" if field_of(request, "back") == "conversation" else "resolved")
