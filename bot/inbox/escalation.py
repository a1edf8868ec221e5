"""Escalation: a flag or review nobody has acknowledged in the inbox within its practice's time limit
(bot/safety/flag_limits.py: urgent 15 minutes, soon 2 working hours, review the end of the working day by
default; ESCALATION_MINUTES is the urgent limit where a script sets none) climbs a ladder of texts:

1. past its limit, to the practice's duty clinician (`duty_clinician_phone` in the practice script);
2. still unacknowledged `second_contact_after` (default 15 minutes) later, to the practice's
   `second_contact_phone`, if it sets one.

A flag raised while the practice is closed (its `opening_hours`, bank holidays included) starts its
limit at the next opening; if the practice sets an `out_of_hours_contact`, that phone is texted at
once (by the processor as it raises the flag, or by the next check while the practice is still
closed).

Acknowledging the flag (or closing it) stops the ladder at once. The texts carry no patient
details: the practice, the severity, how long it has waited and a link to the inbox. Each rung is
texted at most once per flag: the rung's column is claimed with a conditional UPDATE (only one of
however many checkers wins) and the outbox key (`escalate:<flag id>`, `escalate:<flag id>:second`)
makes a retry a no-op.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.outbox import queue as outbox
from bot.config import ConfigError, Settings
from bot.db.engine import session_scope
from bot.safety.flag_limits import PracticeLimits, Severity, TimeLimit
from bot.inbox.auth import audit
from bot.inbox.web import duration
from bot.db.models import Conversation, Flag, Practice, utcnow
from bot.practice_script.loader import PracticeScript, ScriptError, script_for

log = logging.getLogger(__name__)
DEFAULT_MINUTES = 15.0
CHECK_EVERY_SECONDS = 30.0
LABELS = {Severity.URGENT: "URGENT", Severity.SOON: "SOON", Severity.REVIEW: "REVIEW"}
ESCALATION_TEXT = ("{label}: a patient safety flag ({severity}) at {practice} has not been picked up within its "
                   "time limit ({waited} so far). Please open the inbox now: {link}")
OUT_OF_HOURS_TEXT = ("{label}: a patient safety flag ({severity}) came in at {practice} while the practice is "
                     "closed. Please open the inbox: {link}")
SECOND_TEXT = ("{label}: a patient safety flag ({severity}) at {practice} is still not picked up after {waited}, "
               "though the duty clinician was texted. Please open the inbox now: {link}")


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: whom it texts, which column records it, its outbox key and text."""
    name: str
    column: str
    key: str
    text: str


DUTY_CLINICIAN = Rung("duty clinician", "escalated_at", "escalate:{id}", ESCALATION_TEXT)
SECOND_CONTACT = Rung("second contact", "second_escalated_at", "escalate:{id}:second", SECOND_TEXT)
OUT_OF_HOURS = Rung("out-of-hours contact", "out_of_hours_texted_at", "out_of_hours:{id}", OUT_OF_HOURS_TEXT)


def escalation_text(rung: Rung, severity: str, practice: str, waited: dt.timedelta, link: str) -> str:
    """The text of one rung: no patient details, only the practice, the severity, the wait and a link."""
    level = Severity.of(severity)
    return rung.text.format(label=LABELS[level], severity=level.value, practice=practice, waited=duration(waited),
                            link=link)


def escalation_minutes(settings: Optional[Settings] = None) -> float:
    """ESCALATION_MINUTES (settings.extra first, then the environment), default 15."""
    raw = None
    if settings is not None:
        raw = settings.extra.get("ESCALATION_MINUTES")
    if raw in (None, ""):
        raw = os.environ.get("ESCALATION_MINUTES")
    if raw in (None, ""):
        return DEFAULT_MINUTES
    try:
        minutes = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"ESCALATION_MINUTES must be a number of minutes, got {raw!r}") from None
    if minutes <= 0:
        raise ConfigError(f"ESCALATION_MINUTES must be more than 0, got {raw!r}")
    return minutes


def practice_limits(settings: Settings, ods_code: Optional[str]) -> PracticeLimits:
    """The flag time limits of a practice: its script's, with ESCALATION_MINUTES as the urgent
    limit where the script sets none; the defaults for a practice with no script."""
    urgent = TimeLimit(escalation_minutes(settings))
    if ods_code:
        try:
            return script_for(settings.practices_dir, ods_code).flag_limits(urgent)
        except ScriptError:
            log.debug("practice %s has no script: the default flag time limits apply", ods_code)
    return PracticeLimits.default(urgent)


def escalate_overdue(settings: Settings, now: dt.datetime) -> int:
    """Climb the ladder for every flag that is unacknowledged and unresolved: the duty clinician once
    its limit has passed, the second contact `second_contact_after` after that. `now` is naive UTC.
    Returns how many texts were queued."""
    if now.tzinfo is not None:  # the database holds naive UTC
        now = now.astimezone(dt.timezone.utc).replace(tzinfo=None)
    practice_id = func.coalesce(Flag.practice_id, Conversation.practice_id)
    with session_scope(settings.database_url) as session:
        rows = session.execute(
            select(Flag.id, Flag.severity, Flag.created_at, Flag.escalated_at, Flag.out_of_hours_texted_at,
                   Practice.ods_code)
            .outerjoin(Conversation, Flag.conversation_id == Conversation.id)
            .outerjoin(Practice, Practice.id == practice_id)
            .where(Flag.acknowledged_at.is_(None), Flag.resolved_at.is_(None), Flag.second_escalated_at.is_(None))
            .order_by(Flag.created_at, Flag.id)).all()
    queued = 0
    for flag_id, severity, created_at, escalated_at, out_of_hours_texted_at, ods_code in rows:
        try:
            limits = practice_limits(settings, ods_code)
            if out_of_hours_texted_at is None and now < limits.starts(created_at) and \
                    _out_of_hours_contact(settings, ods_code) and _escalate_one(settings, flag_id, OUT_OF_HOURS, now):
                queued += 1  # missed as it was raised (e.g. a review from the dialogue): still closed now
            rung = _rung_due(settings, ods_code, limits.due(severity, created_at), escalated_at, now)
            if rung is not None and _escalate_one(settings, flag_id, rung, now):
                queued += 1
        except ScriptError as exc:
            log.error("flag %s cannot be escalated: %s", flag_id, exc)
    return queued


def _out_of_hours_contact(settings: Settings, ods_code: Optional[str]) -> str:
    """The practice's out-of-hours contact, or "" (none set, or no script)."""
    try:
        return script_for(settings.practices_dir, ods_code).contacts.out_of_hours if ods_code else ""
    except ScriptError:
        return ""


def _rung_due(settings: Settings, ods_code: Optional[str], due: dt.datetime, escalated_at: Optional[dt.datetime],
              now: dt.datetime) -> Optional[Rung]:
    """The rung a flag has reached and not yet climbed, or None."""
    if escalated_at is None:
        return DUTY_CLINICIAN if now >= due else None
    if not ods_code:
        return None
    contacts = script_for(settings.practices_dir, ods_code).contacts
    if contacts.second_contact and now >= escalated_at + dt.timedelta(minutes=contacts.second_after.minutes):
        return SECOND_CONTACT
    return None


def _escalate_one(settings: Settings, flag_id: int, rung: Rung, now: dt.datetime) -> bool:
    with session_scope(settings.database_url) as session:
        flag = session.get(Flag, flag_id)
        practice_id = flag.practice_id
        if practice_id is None and flag.conversation_id is not None:
            practice_id = session.scalar(select(Conversation.practice_id)
                                         .where(Conversation.id == flag.conversation_id))
        practice = session.get(Practice, practice_id) if practice_id is not None else None
        if practice is None:
            log.error("flag %s has no practice: it cannot be escalated", flag_id)
            return False
        return _text(session, settings, flag, practice, script_for(settings.practices_dir, practice.ods_code),
                     rung, now)


def notify_out_of_hours(session: Session, settings: Settings, flag: Flag, script: PracticeScript,
                        now: dt.datetime) -> bool:
    """Text the practice's out-of-hours contact at once about a flag just raised while the practice is
    closed (in the caller's transaction). False when it is open, sets no contact, or it was done."""
    limits = script.flag_limits(TimeLimit(escalation_minutes(settings)))
    if not script.contacts.out_of_hours or not limits.out_of_hours(flag.created_at or now):
        return False
    practice = session.scalar(select(Practice).where(Practice.ods_code == script.ods_code))
    return practice is not None and _text(session, settings, flag, practice, script, OUT_OF_HOURS, now)


def _text(session: Session, settings: Settings, flag: Flag, practice: Practice, script: PracticeScript, rung: Rung,
          now: dt.datetime) -> bool:
    """Claim one rung of one flag and queue its text to the rung's phone, audited."""
    contacts, flag_id = script.contacts, flag.id
    phone = {DUTY_CLINICIAN: contacts.duty_clinician, SECOND_CONTACT: contacts.second_contact,
             OUT_OF_HOURS: contacts.out_of_hours}[rung]
    if not phone:
        if rung is not OUT_OF_HOURS:  # an out-of-hours contact is optional
            log.error("practice %s has no phone for its %s: flag %s cannot be escalated",
                      practice.ods_code, rung.name, flag_id)
        return False
    # Claim the rung first: only one checker (of however many processes) texts it, and never
    # once someone has acknowledged the flag.
    column = getattr(Flag, rung.column)
    claimed = session.execute(update(Flag).where(Flag.id == flag_id, column.is_(None),
                                                 Flag.acknowledged_at.is_(None), Flag.resolved_at.is_(None))
                              .values({rung.column: now})).rowcount
    if not claimed:
        return False
    waited = now - flag.created_at
    body = escalation_text(rung, flag.severity, practice.name, waited, f"{settings.inbox_link}/flag/{flag_id}")
    message = outbox.enqueue(session, rung.key.format(id=flag_id), phone, body, from_number=script.sender,
                             purpose="escalation")
    audit(session, None, "escalate", f"flag:{flag_id}",
          f"{rung.name} of {practice.ods_code} texted after {duration(waited)} ({flag.severity})"
          + (f"; outbound:{message.id}" if message is not None else "; already queued"))
    log.warning("%s flag %s escalated to the %s of %s", flag.severity, flag_id, rung.name, practice.ods_code)
    return message is not None


def run_forever(settings: Settings, stopping: threading.Event, wake_sender: Callable[[], None],
                interval: float = CHECK_EVERY_SECONDS) -> None:
    """The background process's escalation checker: look now, then every `interval` seconds until
    `stopping`."""
    while not stopping.is_set():
        try:
            if escalate_overdue(settings, utcnow()):
                wake_sender()
        except Exception:
            log.exception("escalation check failed; trying again in %.0f s", interval)
        if stopping.wait(interval):
            return
