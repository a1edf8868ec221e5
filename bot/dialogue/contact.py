"""May we text this patient automatically now? The one place this rule lives.

Automatic texts are the ones nobody asked for at that moment: first and second invitations, the
opener of `outreach start`, appointment reminders. (Replies to a text the patient just sent, the
safety net, and a coordinator's own texts are not automatic.) They are held while a person has to
look at the patient first:

- an open (unresolved) red flag raised by a text from the patient - matched by the patient, and by
  their mobile number too, so a flag raised before the number was on the register still counts;
- a conversation handed to a person;
- an open task asking a person to read or review something the patient said;
- and, as always, an opt-out or a recorded death.

The worker's invitations and reminders, `outreach start` and the sender (at the moment of sending)
all call `automatic_text_hold`, so a flag raised after a text was queued still stops it.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.db.models import Conversation, ConversationStatus, Flag, InboundMessage, Patient, Task

# Tasks that arrange something for the patient rather than ask a person to read what they said:
# these do not hold automatic texts. Every other open task does, so a task kind added later holds
# texts until someone decides otherwise (failing safe).
ARRANGING_TASKS = frozenset({
    "interpreter_call",       # the texts go in English meanwhile, by design
    "no_response_call",       # no invitation follows no_response anyway
    "arrange_conversation", "arrange_appointment", "no_slots", "appointment_cancelled", "change_appointment",
    "send_failed", "send_unknown",   # about delivering one of our texts, not the patient's words
})


class HoldReason(str, Enum):
    """Why automatic texts to a patient are held, most serious first (the first that applies is given)."""

    OPEN_FLAG = "open flag"
    HANDED_OVER = "handed over to a person"
    OPEN_REVIEW_TASK = "open review task"
    OPTED_OUT = "opted out"
    DECEASED = "recorded as deceased"


@dataclass(frozen=True)
class Hold:
    """Automatic texts to one patient are held. `detail` names records by id only: no personal data,
    so it can be printed, logged and stored with a suppressed text."""

    reason: HoldReason
    detail: str

    def __str__(self) -> str:
        return f"{self.reason.value} ({self.detail})"


def automatic_text_hold(session: Session, patient: Patient) -> Optional[Hold]:
    """None when an automatic text may go to `patient` now; otherwise the reason it may not."""
    flag = session.scalar(
        select(Flag).outerjoin(InboundMessage, InboundMessage.id == Flag.inbound_message_id)
        .where(Flag.resolved_at.is_(None),
               or_(Flag.patient_id == patient.id, InboundMessage.from_number == patient.mobile))
        .order_by(Flag.id).limit(1))
    if flag is not None:
        return Hold(HoldReason.OPEN_FLAG, f"flag {flag.id}: {flag.severity} {flag.kind}")
    handed = session.scalar(select(Conversation.id).where(
        Conversation.patient_id == patient.id, Conversation.status == ConversationStatus.HANDED_OVER).limit(1))
    if handed is not None:
        return Hold(HoldReason.HANDED_OVER, f"conversation {handed}")
    task = session.scalar(
        select(Task).outerjoin(Conversation, Conversation.id == Task.conversation_id)
        .where(Task.status == "open", Task.kind.notin_(ARRANGING_TASKS),
               or_(Task.patient_id == patient.id, Conversation.patient_id == patient.id))
        .order_by(Task.id).limit(1))
    if task is not None:
        return Hold(HoldReason.OPEN_REVIEW_TASK, f"task {task.id}: {task.kind}")
    if patient.opted_out:
        return Hold(HoldReason.OPTED_OUT, "they can reply START")
    if patient.deceased_date is not None:
        return Hold(HoldReason.DECEASED, "the register records a date of death")
    return None
