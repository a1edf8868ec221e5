"""Escalation: an urgent safety flag nobody has picked up in the inbox within ESCALATION_MINUTES is
texted to the practice's duty clinician (`duty_clinician_phone` in the practice script).

The text carries no patient details, only the practice and how long the flag has waited. One text
per flag: the outbox key `escalate:<flag id>` makes a second gateway (or a retry) a no-op, and
`escalated_at` is set with a conditional UPDATE.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from typing import Callable, Optional

from sqlalchemy import select, update

from bot import outbox
from bot.config import ConfigError, Settings
from bot.db import session_scope
from bot.flag_limits import PracticeLimits, TimeLimit
from bot.inbox.auth import audit
from bot.models import Conversation, Flag, Practice, utcnow
from bot.scripts import ScriptError, script_for

log = logging.getLogger(__name__)
DEFAULT_MINUTES = 15.0
CHECK_EVERY_SECONDS = 30.0
ESCALATION_TEXT = ("URGENT: a patient safety flag at {practice} has not been picked up for {minutes} minutes. "
                   "Please open the coordinator inbox now.")


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
    """Queue one text to the duty clinician for each urgent flag that is unacknowledged, unresolved,
    not yet escalated and older than ESCALATION_MINUTES. `now` is naive UTC. Returns how many."""
    if now.tzinfo is not None:  # the database holds naive UTC
        now = now.astimezone(dt.timezone.utc).replace(tzinfo=None)
    limit = dt.timedelta(minutes=escalation_minutes(settings))
    with session_scope(settings.database_url) as session:
        ids = session.scalars(select(Flag.id).where(
            Flag.severity == "urgent", Flag.acknowledged_at.is_(None), Flag.resolved_at.is_(None),
            Flag.escalated_at.is_(None), Flag.created_at <= now - limit).order_by(Flag.created_at)).all()
    queued = 0
    for flag_id in ids:
        try:
            if _escalate_one(settings, flag_id, now):
                queued += 1
        except ScriptError as exc:
            log.error("flag %s cannot be escalated: %s", flag_id, exc)
    return queued


def _escalate_one(settings: Settings, flag_id: int, now: dt.datetime) -> bool:
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
        script = script_for(settings.practices_dir, practice.ods_code)
        phone = str(script.data.get("duty_clinician_phone") or "").strip()
        if not phone:
            log.error("practice %s has no duty_clinician_phone: urgent flag %s cannot be escalated",
                      practice.ods_code, flag_id)
            return False
        # Claim the flag first: only one checker (of however many gateways) escalates it.
        claimed = session.execute(update(Flag).where(Flag.id == flag_id, Flag.escalated_at.is_(None),
                                                     Flag.acknowledged_at.is_(None))
                                  .values(escalated_at=now)).rowcount
        if not claimed:
            return False
        minutes = max(0, int((now - flag.created_at).total_seconds() // 60))
        message = outbox.enqueue(session, f"escalate:{flag_id}", phone,
                                 ESCALATION_TEXT.format(practice=practice.name, minutes=minutes),
                                 from_number=script.sender, purpose="escalation")
        audit(session, None, "escalate", f"flag:{flag_id}",
              f"duty clinician of {practice.ods_code} texted after {minutes} min"
              + (f"; outbound:{message.id}" if message is not None else "; already queued"))
        log.warning("urgent flag %s escalated to the duty clinician of %s", flag_id, practice.ods_code)
        return message is not None


def run_forever(settings: Settings, stopping: threading.Event, wake_sender: Callable[[], None],
                interval: float = CHECK_EVERY_SECONDS) -> None:
    """The gateway's escalation checker: look now, then every `interval` seconds until `stopping`."""
    while not stopping.is_set():
        try:
            if escalate_overdue(settings, utcnow()):
                wake_sender()
        except Exception:
            log.exception("escalation check failed; trying again in %.0f s", interval)
        if stopping.wait(interval):
            return
