"""The outbox: every text to a patient is a row here before anything is sent.

Enqueueing is idempotent (a unique key per reply), and the sender claims a row with one
conditional UPDATE, so a retry or a second sender can never send the same text twice.
"""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import Conversation, OutboundMessage, StatusCallback, utcnow

# Order of delivery states: a late callback never moves a message backwards.
STATUS_RANK = {"pending": 0, "sending": 1, "unknown": 1, "accepted": 2, "queued": 2, "sending_twilio": 3,
               "sent": 4, "delivered": 5, "read": 6, "undelivered": 5, "failed": 5, "suppressed": 5}
# The only texts that still go to a patient who opted out: the confirmation of their opt-out, and
# the safety net answering a red flag they just sent us.
SENT_EVEN_AFTER_OPT_OUT = {"opt_out_notice", "safety_net"}
FINAL = {"delivered", "read", "undelivered", "failed", "suppressed"}


def enqueue(session: Session, key: str, to_number: str, body: str, *,
            conversation: Optional[Conversation] = None, from_number: Optional[str] = None,
            in_reply_to_id: Optional[int] = None, purpose: str = "reply") -> Optional[OutboundMessage]:
    """Queue one text. Returns None when a text with the same key was already queued."""
    message = OutboundMessage(idempotency_key=key, to_number=to_number, body=body, from_number=from_number,
                              purpose=purpose,
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
    """Pending texts whose time has come, oldest first (so each conversation stays in order)."""
    return list(session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.status == "pending", OutboundMessage.next_attempt_at <= utcnow())
        .order_by(OutboundMessage.id).limit(limit)))


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
