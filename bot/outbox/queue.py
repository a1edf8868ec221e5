"""The outbox: every text to a patient is a row here before anything is sent.

Enqueueing is idempotent (a unique key per reply), and the sender claims a row with one
conditional UPDATE, so a retry or a second sender can never send the same text twice.
"""
from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Collection, Iterable, Optional

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Conversation, OutboundMessage, StatusCallback, utcnow

# Order of delivery states: a late callback never moves a message backwards.
STATUS_RANK = {"pending": 0, "sending": 1, "unknown": 1, "accepted": 2, "queued": 2, "sending_twilio": 3,
               "sent": 4, "delivered": 5, "read": 6, "undelivered": 5, "failed": 5, "suppressed": 5}
# The only texts that still go to a patient who opted out: the confirmation of their opt-out, and
# the safety net answering a red flag they just sent us.
SENT_EVEN_AFTER_OPT_OUT = {"opt_out_notice", "safety_net"}
FINAL = {"delivered", "read", "undelivered", "failed", "suppressed"}
# Texts nobody asked for at that moment: held at the moment of sending when bot.dialogue.contact says so.
AUTOMATIC = {"invitation", "reminder"}


class Priority(IntEnum):
    """Which pending text the sender takes next (lower first; oldest first within one priority).

    A safety net answers a red flag (and an escalation tells the duty clinician about one): it must
    never wait behind a queue of routine texts (a flood of texts to the practice number from anyone
    once held a 999 text for 5 minutes). A reply to a patient in a conversation comes next: they are
    waiting for it. Everything else - invitations, reminders, replies to unknown numbers - after
    them."""

    SAFETY = 0
    CONVERSATION = 1
    ROUTINE = 2


def priority_for(purpose: str, conversation: Optional[Conversation]) -> Priority:
    """The one place a text's priority is decided."""
    if purpose in ("safety_net", "escalation"):   # escalation: an urgent flag nobody picked up, to the duty clinician
        return Priority.SAFETY
    if conversation is not None and purpose in ("reply", "opt_out_notice"):
        return Priority.CONVERSATION
    return Priority.ROUTINE


def enqueue(session: Session, key: str, to_number: str, body: str, *,
            conversation: Optional[Conversation] = None, from_number: Optional[str] = None,
            in_reply_to_id: Optional[int] = None, purpose: str = "reply") -> Optional[OutboundMessage]:
    """Queue one text. Returns None when a text with the same key was already queued."""
    message = OutboundMessage(idempotency_key=key, to_number=to_number, body=body, from_number=from_number,
                              purpose=purpose, priority=int(priority_for(purpose, conversation)),
                              conversation_id=conversation.id if conversation else None,
                              patient_id=conversation.patient_id if conversation else None,
                              in_reply_to_id=in_reply_to_id)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


def enqueue_all(session: Session, key_prefix: str, to_number: str, bodies: Iterable[str], **kwargs) -> int:
    """Queue several texts in order (keys `prefix:0`, `prefix:1`...); returns how many were new."""
    return sum(1 for i, body in enumerate(bodies)
               if enqueue(session, f"{key_prefix}:{i}", to_number, body, **kwargs) is not None)


def due(session: Session, limit: int) -> list[OutboundMessage]:
    """Pending texts whose time has come, in the order they should go: by priority, then oldest
    first (so each conversation stays in order)."""
    return list(session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.status == "pending", OutboundMessage.next_attempt_at <= utcnow())
        .order_by(OutboundMessage.priority, OutboundMessage.id).limit(limit)))


def next_due(session: Session, now: dt.datetime, busy_numbers: Collection[str] = (),
             held_senders: Collection[str] = (), default_sender: str = "") -> Optional[OutboundMessage]:
    """The one pending text that should go next: the highest priority, oldest first, leaving out
    phones a text is being sent to right now (their texts keep their order) and sender numbers
    that must wait for the rate limit (`default_sender` stands for texts with no from_number)."""
    query = select(OutboundMessage).where(OutboundMessage.status == "pending",
                                          OutboundMessage.next_attempt_at <= now)
    if busy_numbers:
        query = query.where(OutboundMessage.to_number.notin_(list(busy_numbers)))
    if held_senders:
        query = query.where(func.coalesce(OutboundMessage.from_number, default_sender).notin_(list(held_senders)))
    return session.scalar(query.order_by(OutboundMessage.priority, OutboundMessage.id).limit(1))


def claim(session: Session, message_id: int) -> bool:
    """Atomically move one text from pending to sending. Only one claimer can win."""
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == "pending")
        .values(status="sending", attempts=OutboundMessage.attempts + 1))
    return result.rowcount == 1


def store_callback(session: Session, twilio_sid: str, status: str, error_code: Optional[str] = None) -> None:
    """Keep a Twilio status callback. Commit this before `apply_callbacks`: with the sender doing the
    same in the other order, one of the two always sees both the send and the callback."""
    session.add(StatusCallback(twilio_sid=twilio_sid, status=status, error_code=error_code))


def apply_callbacks(session: Session, twilio_sid: str) -> bool:
    """Bring a text's status up to date from every callback stored for it (idempotent).
    Returns False when no text has that MessageSid (yet).

    The gateway and the sender (two processes) may both apply at once, each having read a
    different set of callbacks. The UPDATE only moves the status forward, checked by the database
    in the same statement, so the one that read less can never undo the other's newer status."""
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.twilio_sid == twilio_sid))
    if message is None:
        return False
    callbacks = list(session.scalars(select(StatusCallback).where(StatusCallback.twilio_sid == twilio_sid)
                                     .order_by(StatusCallback.id)))
    if not callbacks:
        return True
    best = max(callbacks, key=lambda c: (STATUS_RANK.get(c.status, 0), c.id))
    error_code = next((c.error_code for c in reversed(callbacks) if c.error_code), None)
    behind = [status for status, rank in STATUS_RANK.items()
              if rank <= STATUS_RANK.get(best.status, 0) and status not in FINAL and status != best.status]
    values = {"status": best.status, "status_updated_at": utcnow()}
    if error_code:
        values["error_code"] = error_code
    session.execute(update(OutboundMessage).where(OutboundMessage.id == message.id,
                                                  OutboundMessage.status.in_(behind)).values(**values)
                    .execution_options(synchronize_session=False))
    session.expire(message)
    return True
