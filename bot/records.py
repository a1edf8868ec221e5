"""What the assistant records: outcomes for the clinical record, tasks for coordinators, and
who has the conversation (the bot or a human). Used by the gateway and the custom actions alike.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import (ConcernAnswer, Conversation, ConversationStatus, Flag, Outcome, Patient, RoutingDecision,
                           Task, utcnow)

# Outcome kinds and the QOF cluster each one is coded with (None: recorded, not coded).
OUTCOME_CLUSTERS: dict[str, Optional[str]] = {
    "informed": "CANPCSUPP_COD",       # informed of support available from primary care (CAN005)
    "declined": "CANPCADEC_COD",       # patient chose not to receive cancer indicator care
    "accepted": None,                  # would like a conversation
    "deferred": None,                  # "later"
    "callback_requested": None,
    "opted_out": None,
    "wrong_person": None,
    "identity_failed": None,
    "no_response": None,               # two invitations at least 7 days apart, no reply (a QOF PCA)
    "booked": None,                    # a review booked with an additional role
}


def record_outcome(session: Session, conversation: Conversation, kind: str, code: str = "",
                   inbound_message_id: Optional[int] = None, note: str = "") -> Outcome:
    """Add an outcome to a conversation; `code` is the practice's SNOMED code for its cluster."""
    if kind not in OUTCOME_CLUSTERS:
        raise ValueError(f"unknown outcome kind {kind!r}")
    if inbound_message_id is not None:  # a retried turn must not record the same outcome twice
        existing = session.scalar(select(Outcome).where(Outcome.conversation_id == conversation.id,
                                                        Outcome.kind == kind,
                                                        Outcome.inbound_message_id == inbound_message_id))
        if existing is not None:
            return existing
    outcome = Outcome(patient_id=conversation.patient_id, conversation_id=conversation.id, kind=kind,
                      cluster=OUTCOME_CLUSTERS[kind], code=code or None,
                      inbound_message_id=inbound_message_id, note=note or None)
    session.add(outcome)
    session.flush()
    return outcome


def create_task(session: Session, kind: str, detail: str, practice_id: Optional[int],
                conversation: Optional[Conversation] = None, patient_id: Optional[int] = None,
                inbound_message_id: Optional[int] = None) -> Task:
    """Leave work for a coordinator. `detail` must not repeat the patient's message (it is linked)."""
    if inbound_message_id is not None:  # a retried turn must not leave the same task twice
        existing = session.scalar(select(Task).where(Task.kind == kind, Task.inbound_message_id == inbound_message_id))
        if existing is not None:
            return existing
    task = Task(
        kind=kind,
        detail=detail,
        practice_id=practice_id,
        conversation_id=conversation.id if conversation else None,
        patient_id=patient_id if patient_id is not None else (conversation.patient_id if conversation else None),
        inbound_message_id=inbound_message_id,
    )
    session.add(task)
    session.flush()
    return task


def raise_flag(session: Session, *, practice_id: Optional[int], patient_id: Optional[int],
               conversation: Optional[Conversation], inbound_message_id: int, kind: str, severity: str,
               category: str, evidence: str, source: str) -> Flag:
    """A flag (clinical, safeguarding) or a review on one patient text: the record, the coordinator's
    task and the conversation handed to a person, together. The safety-net text is the caller's
    (the processor's outbox entry, or an action's reply). A second call for the same text changes
    nothing (a retried turn)."""
    existing = session.scalar(select(Flag).where(Flag.inbound_message_id == inbound_message_id))
    if existing is not None:
        return existing
    flag = Flag(practice_id=practice_id, patient_id=patient_id, inbound_message_id=inbound_message_id,
                conversation_id=conversation.id if conversation else None, kind=kind, severity=severity,
                category=category, evidence=evidence[:500], source=source)
    session.add(flag)
    if conversation is not None and conversation.status == ConversationStatus.ACTIVE:
        hand_over(session, conversation, f"review ({category})" if kind == "review" else f"{kind} flag ({severity})")
    if kind == "review":
        detail = (f"REVIEW: the safety screen could not rule this text out ({category.replace('_', ' ')}). "
                  "Read it today and contact the patient if needed.")
    else:
        detail = (
            f"{severity.upper()} {kind} flag: {category.replace('_', ' ')}. Read the message and contact the patient."
        )
    create_task(session, f"flag_{kind}", detail, practice_id, conversation, patient_id, inbound_message_id)
    session.flush()
    return flag


def acknowledge_flags(session: Session, flag_ids: Iterable[int], user_id: Optional[int], now: dt.datetime) -> int:
    """A person takes (acknowledges) flags: they become the owner of each one nobody had taken.
    Stops the escalation ladder. Returns how many were newly acknowledged."""
    ids = list(flag_ids)
    if not ids:
        return 0
    return session.execute(update(Flag).where(Flag.id.in_(ids), Flag.acknowledged_at.is_(None))
                           .values(acknowledged_at=now, acknowledged_by=user_id)
                           .execution_options(synchronize_session="fetch")).rowcount or 0


def record_contact(session: Session, flag_ids: Iterable[int], user_id: Optional[int], now: dt.datetime) -> int:
    """A person contacted the patient about open flags (a reply by text, or a call they record).
    The first contact counts; a flag nobody had acknowledged is acknowledged by them too."""
    ids = list(flag_ids)
    if not ids:
        return 0
    acknowledge_flags(session, ids, user_id, now)
    return session.execute(update(Flag).where(Flag.id.in_(ids), Flag.contacted_at.is_(None),
                                              Flag.resolved_at.is_(None))
                           .values(contacted_at=now, contacted_by=user_id)
                           .execution_options(synchronize_session="fetch")).rowcount or 0


def close_flags(session: Session, flag_ids: Iterable[int], user_id: Optional[int], now: dt.datetime) -> tuple[int, int]:
    """A person closes (resolves) flags: acknowledged by them if nobody had, closed with who and when,
    and each flag's own task done. Returns (flags closed, tasks closed)."""
    ids = list(flag_ids)
    if not ids:
        return 0, 0
    acknowledge_flags(session, ids, user_id, now)
    messages = list(session.scalars(select(Flag.inbound_message_id).where(Flag.id.in_(ids),
                                                                        Flag.resolved_at.is_(None))))
    closed = session.execute(update(Flag).where(Flag.id.in_(ids), Flag.resolved_at.is_(None))
                             .values(resolved_at=now, resolved_by=user_id)
                             .execution_options(synchronize_session="fetch")).rowcount or 0
    tasks = 0
    if messages:
        tasks = session.execute(update(Task).where(Task.inbound_message_id.in_(messages), Task.status == "open")
                                .values(status="done", closed_at=now)
                                .execution_options(synchronize_session="fetch")).rowcount or 0
    return closed, tasks


def close_conversation_tasks(session: Session, conversation_id: int, now: dt.datetime) -> int:
    """Every open task of a conversation done (a coordinator resolved it); returns how many."""
    return session.execute(update(Task).where(Task.conversation_id == conversation_id, Task.status == "open")
                           .values(status="done", closed_at=now)
                           .execution_options(synchronize_session="fetch")).rowcount or 0


def open_flag_ids(session: Session, conversation_id: int) -> list[int]:
    """The flags of a conversation nobody has closed yet."""
    return list(session.scalars(select(Flag.id).where(Flag.conversation_id == conversation_id,
                                                      Flag.resolved_at.is_(None)).order_by(Flag.id)))


def hand_over(session: Session, conversation: Conversation, reason: str) -> None:
    """Give the conversation to a human: from now on the bot stays silent until it is handed back."""
    session.execute(update(Conversation).where(Conversation.id == conversation.id)
                    .values(status=ConversationStatus.HANDED_OVER, handover_reason=reason, updated_at=utcnow()))
    session.refresh(conversation)


def take_over(session: Session, conversation: Conversation, user_id: int, now: dt.datetime) -> None:
    """A coordinator takes the conversation: handed over (the bot falls silent) if the bot had it,
    and assigned to them (from whoever had it before)."""
    if conversation.status == ConversationStatus.ACTIVE:
        hand_over(session, conversation, "taken over by a coordinator")
    conversation.assigned_user_id = user_id
    conversation.updated_at = now


def hand_back(session: Session, conversation: Conversation, now: dt.datetime) -> None:
    """Give a handed-over conversation back to the assistant: it answers the patient's next text."""
    if conversation.status != ConversationStatus.HANDED_OVER:
        raise ValueError(f"conversation {conversation.id} is {conversation.status}, not handed over")
    conversation.status, conversation.assigned_user_id = ConversationStatus.ACTIVE, None
    conversation.handover_reason, conversation.updated_at = None, now


def close(session: Session, conversation: Conversation, reason: str, *, unassign: bool = False) -> None:
    """Finish a conversation: the bot says nothing more in it (wrong person, opted out, or closed
    by a coordinator, who then no longer holds it: `unassign`)."""
    values: dict = dict(status=ConversationStatus.CLOSED, handover_reason=reason, updated_at=utcnow())
    if unassign:
        values["assigned_user_id"] = None
    session.execute(update(Conversation).where(Conversation.id == conversation.id).values(**values))
    session.refresh(conversation)


def opt_out(session: Session, patient: Patient) -> None:
    """Record that the patient wants no more texts; every sender checks this before sending."""
    if patient.opted_out_at is None:
        patient.opted_out_at = utcnow()
        session.flush()


def opt_in(session: Session, patient: Patient) -> None:
    patient.opted_out_at = None
    session.flush()


def record_concern(session: Session, conversation: Conversation, question: str, status: str = "answered",
                   score: Optional[int] = None, areas: Optional[list[str]] = None,
                   inbound_message_id: Optional[int] = None) -> ConcernAnswer:
    """Store one check-in answer ("overall", "areas" or an area key) with the text that gave it.
    One row per question: a later answer to the same question replaces the earlier one."""
    if status not in ("answered", "skipped", "unclear"):
        raise ValueError(f"unknown answer status {status!r}")
    if score is not None and not 0 <= score <= 10:
        raise ValueError(f"a concern score is 0 to 10, not {score}")
    answer = session.scalar(select(ConcernAnswer).where(ConcernAnswer.conversation_id == conversation.id,
                                                         ConcernAnswer.question == question))
    if answer is None:
        answer = ConcernAnswer(conversation_id=conversation.id, patient_id=conversation.patient_id, question=question)
        session.add(answer)
    answer.status, answer.score = status, score
    answer.areas = ",".join(areas) if areas is not None else None
    answer.inbound_message_id, answer.recorded_at = inbound_message_id, utcnow()
    session.flush()
    return answer


def concern_answers(session: Session, conversation_id: int) -> dict[str, ConcernAnswer]:
    """Every check-in answer of a conversation, by question."""
    rows = session.scalars(select(ConcernAnswer).where(ConcernAnswer.conversation_id == conversation_id))
    return {row.question: row for row in rows}


def record_routing(session: Session, conversation: Conversation, role: str, rule: str, reason: str) -> RoutingDecision:
    """Store which role the patient was routed to and why, for the coordinator."""
    decision = RoutingDecision(conversation_id=conversation.id, patient_id=conversation.patient_id,
                               role=role, rule=rule, reason=reason[:300])
    session.add(decision)
    session.flush()
    return decision
