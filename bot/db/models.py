"""Database tables (SQLAlchemy 1.4 ORM). Alembic migrations in `migrations/` create them.

Times are stored in UTC. Phone numbers are E.164. Message bodies are stored exactly as sent;
they are escaped where they are shown, never altered here.
"""
from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.common import clock

# Typed as Any: SQLAlchemy 1.4's declarative base is built at run time, and its mypy plugin needs
# sqlalchemy2-stubs, which Rasa's pins do not allow. Columns read as Any to mypy.
Base: Any = declarative_base()


# The column defaults read the one clock (bot/common/clock.py), so a pinned clock pins them too.
utcnow = clock.utcnow


def new_public_id() -> str:
    """An opaque id for a conversation: it is Rasa's sender id, so it must carry no personal data."""
    return uuid.uuid4().hex


class Practice(Base):
    __tablename__ = "practices"
    id = Column(Integer, primary_key=True)
    ods_code = Column(String(16), unique=True, nullable=False)
    name = Column(String(200), nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("practice_id", "mobile", name="uq_patient_practice_mobile"),)
    id = Column(Integer, primary_key=True)
    practice_id = Column(Integer, ForeignKey("practices.id"), nullable=False, index=True)
    nhs_number = Column(String(10), nullable=True)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False, default="")
    date_of_birth = Column(Date, nullable=False)
    mobile = Column(String(20), nullable=False, index=True)
    diagnosis_date = Column(Date, nullable=False)
    # From the register: decides which safety-net number a clinical flag gets.
    on_active_treatment = Column(Boolean, nullable=True)
    oncology_helpline = Column(String(32), nullable=True)
    cancer_site = Column(String(100), nullable=True)          # never texted; for the coordinator
    preferred_language = Column(String(8), nullable=False, default="en", server_default="en")
    deceased_date = Column(Date, nullable=True)
    opted_out_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)

    practice = relationship(Practice)

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


class ConversationStatus(str, Enum):
    """Who answers a conversation (Conversation.status). Changed only through bot/records.py
    (hand_over, close) and the inbox's hand-back."""
    ACTIVE = "active"            # the assistant answers
    HANDED_OVER = "handed_over"  # a person has it and the assistant is silent
    CLOSED = "closed"            # finished

    def __str__(self) -> str:   # the value, not "ConversationStatus.ACTIVE", on Python 3.10
        return self.value


# A conversation that is not over: the assistant or a person has it.
OPEN_CONVERSATION = (ConversationStatus.ACTIVE, ConversationStatus.HANDED_OVER)


class Conversation(Base):
    """One outreach conversation with one patient. `status` decides who speaks: the bot or a human."""

    __tablename__ = "conversations"
    id = Column(Integer, primary_key=True)
    public_id = Column(String(32), unique=True, nullable=False, default=new_public_id)
    practice_id = Column(Integer, ForeignKey("practices.id"), nullable=False, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True, index=True)
    status = Column(String(20), nullable=False, default="active")   # a ConversationStatus
    handover_reason = Column(String(200), nullable=True)
    assigned_user_id = Column(Integer, ForeignKey("users.id"), nullable=True)  # the coordinator who took over
    started_at = Column(DateTime, default=utcnow, nullable=False)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    patient = relationship(Patient)
    practice = relationship(Practice)


class InboundMessage(Base):
    """A text from a patient, stored before Twilio is answered. `status` tracks its processing."""

    __tablename__ = "inbound_messages"
    id = Column(Integer, primary_key=True)
    message_sid = Column(String(64), unique=True, nullable=False)
    from_number = Column(String(32), nullable=False)
    to_number = Column(String(32), nullable=False, default="")
    body = Column(Text, nullable=False, default="")
    num_media = Column(Integer, nullable=False, default=0)
    received_at = Column(DateTime, default=utcnow, nullable=False)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True, index=True)
    # received -> processed; `attempts` counts tries while Rasa or the database were unavailable.
    status = Column(String(20), nullable=False, default="received", index=True)
    handled_by = Column(String(20), nullable=True)  # keyword, dialogue, unknown_number, human
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(300), nullable=True)
    processed_at = Column(DateTime, nullable=True)


class OutboundMessage(Base):
    """A text to a patient. The sender claims it once, so it is sent at most once."""

    __tablename__ = "outbound_messages"
    # The sender's question "which pending text goes next?" reads this index in order.
    __table_args__ = (Index("ix_outbound_messages_next", "status", "priority", "id"),)
    id = Column(Integer, primary_key=True)
    # Makes enqueueing idempotent: a retried turn cannot add the same reply twice.
    idempotency_key = Column(String(120), unique=True, nullable=False)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True, index=True)
    in_reply_to_id = Column(Integer, ForeignKey("inbound_messages.id"), nullable=True)
    to_number = Column(String(32), nullable=False)
    from_number = Column(String(32), nullable=True)
    body = Column(Text, nullable=False)
    # "reply", "invitation", "reminder", "unknown_number", "opt_out_notice", "safety_net" or "escalation"
    # (see outbox.SENT_EVEN_AFTER_OPT_OUT, outbox.AUTOMATIC and outbox.priority_for).
    purpose = Column(String(20), nullable=False, default="reply")
    # Lower goes first: outbox.Priority (safety net 0, a reply in a conversation 1, anything else 2).
    priority = Column(Integer, nullable=False, default=2, server_default="2")
    # pending -> sending -> queued/accepted/sent -> delivered | undelivered | failed;
    # `unknown` when a send may or may not have reached Twilio (never retried: at most once).
    status = Column(String(20), nullable=False, default="pending", index=True)
    twilio_sid = Column(String(64), unique=True, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, default=utcnow, nullable=False)
    error_code = Column(String(20), nullable=True)
    error_message = Column(String(300), nullable=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    sent_at = Column(DateTime, nullable=True)
    status_updated_at = Column(DateTime, nullable=True)


class Invitation(Base):
    """An outreach invitation (the opener). At most one first and one second per patient: the unique
    key is how two workers racing for the same patient decide who sends it."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("patient_id", "number", name="uq_invitation_patient_number"),)
    id = Column(Integer, primary_key=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=False, index=True)
    number = Column(Integer, nullable=False)  # 1 or 2
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True)
    # claimed -> queued (the opener is in the outbox). A claimed one is finished after a crash.
    status = Column(String(20), nullable=False, default="claimed")
    claimed_at = Column(DateTime, default=utcnow, nullable=False)
    queued_at = Column(DateTime, nullable=True)


class StatusCallback(Base):
    """Every delivery status Twilio reported. Kept even when it arrives before the send is recorded
    (Twilio can call back before its API answer reaches us); the sender applies it then."""

    __tablename__ = "status_callbacks"
    id = Column(Integer, primary_key=True)
    twilio_sid = Column(String(64), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    error_code = Column(String(20), nullable=True)
    received_at = Column(DateTime, default=utcnow, nullable=False)


class Outcome(Base):
    """What happened, for the practice's clinical record (code by QOF cluster from the practice script)."""

    __tablename__ = "outcomes"
    id = Column(Integer, primary_key=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True, index=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True, index=True)
    kind = Column(String(40), nullable=False)
    cluster = Column(String(40), nullable=True)
    code = Column(String(40), nullable=True)
    recorded_at = Column(DateTime, default=utcnow, nullable=False)
    inbound_message_id = Column(Integer, ForeignKey("inbound_messages.id"), nullable=True)
    note = Column(String(300), nullable=True)


class Flag(Base):
    """A red flag or safeguarding concern found in a patient's text, or a review. It hands the
    conversation to a human at once. Its owner is the person who acknowledged (took) it; contacting
    the patient and closing are recorded with who and when too (bot/records.py)."""

    __tablename__ = "flags"
    id = Column(Integer, primary_key=True)
    practice_id = Column(Integer, ForeignKey("practices.id"), nullable=True, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True, index=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True, index=True)
    inbound_message_id = Column(Integer, ForeignKey("inbound_messages.id"), nullable=False, unique=True)
    kind = Column(String(20), nullable=False)        # clinical | safeguarding
    severity = Column(String(10), nullable=False)    # urgent | soon
    category = Column(String(40), nullable=False)
    evidence = Column(String(500), nullable=False)   # the words that matched, for the coordinator
    source = Column(String(20), nullable=False, default="rules")
    created_at = Column(DateTime, default=utcnow, nullable=False)
    acknowledged_at = Column(DateTime, nullable=True)
    acknowledged_by = Column(Integer, ForeignKey("users.id"), nullable=True)  # the owner
    contacted_at = Column(DateTime, nullable=True)  # first contact with the patient recorded
    contacted_by = Column(Integer, ForeignKey("users.id"), nullable=True)
    escalated_at = Column(DateTime, nullable=True)  # past its limit: the duty clinician texted
    second_escalated_at = Column(DateTime, nullable=True)  # still not acknowledged: the second contact texted
    out_of_hours_texted_at = Column(DateTime, nullable=True)  # raised while closed: the out-of-hours contact texted
    resolved_at = Column(DateTime, nullable=True)
    resolved_by = Column(Integer, ForeignKey("users.id"), nullable=True)


class SafetyLabel(Base):
    """A person's judgement of what the safety screen did with one patient text: it should have been
    flagged (clinical or safeguarding), or its flag was not a concern. Exported, without names or
    numbers, for the clinical safety officer to add to the screen's corpus (bot/safety/feedback.py)."""

    __tablename__ = "safety_labels"
    id = Column(Integer, primary_key=True)
    inbound_message_id = Column(Integer, ForeignKey("inbound_messages.id"), nullable=False, unique=True)
    label = Column(String(20), nullable=False)  # clinical | safeguarding | not_a_concern
    screen_said = Column(String(20), nullable=False)  # what the screen did: clinical | safeguarding | review | none
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)


class Task(Base):
    """Work for a coordinator: a callback, a wrong number, a message the bot could not handle."""

    __tablename__ = "tasks"
    id = Column(Integer, primary_key=True)
    practice_id = Column(Integer, ForeignKey("practices.id"), nullable=True, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True)
    inbound_message_id = Column(Integer, ForeignKey("inbound_messages.id"), nullable=True)
    kind = Column(String(40), nullable=False)
    detail = Column(String(500), nullable=False, default="")
    status = Column(String(20), nullable=False, default="open", index=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    closed_at = Column(DateTime, nullable=True)


class User(Base):
    """A user of the web inbox: a coordinator, a clinician or both (bot/inbox/auth.py StaffRole), and
    separately perhaps an administrator (manages users). Passwords are stored only as scrypt hashes."""

    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String(100), unique=True, nullable=False)
    password_hash = Column(String(300), nullable=False)
    is_coordinator = Column(Boolean, nullable=False, default=True)  # flags, reviews, tasks, conversations
    is_clinician = Column(Boolean, nullable=False, default=False)   # flags and reviews
    is_admin = Column(Boolean, nullable=False, default=False)       # may manage users
    phone = Column(String(20), nullable=True)  # for escalations, E.164
    disabled_at = Column(DateTime, nullable=True)  # set: cannot sign in, sessions revoked (kept for the audit log)
    must_change_password = Column(Boolean, nullable=False, default=False)  # after an administrator's reset
    created_at = Column(DateTime, default=utcnow, nullable=False)


class UserPractice(Base):
    """Which practices a user may see (a PCN user may see several)."""

    __tablename__ = "user_practices"
    user_id = Column(Integer, ForeignKey("users.id"), primary_key=True)
    practice_id = Column(Integer, ForeignKey("practices.id"), primary_key=True)


class WebSession(Base):
    """A signed-in browser. The cookie holds only the random token; `csrf_token` guards form posts."""

    __tablename__ = "web_sessions"
    token_hash = Column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    last_seen_at = Column(DateTime, default=utcnow, nullable=False)  # for the idle timeout


class LoginAttempt(Base):
    """One sign-in attempt not (yet) known to have succeeded, for throttling. `key_hash` is the SHA-256
    of "account:<username>" or "address:<source address>": the table holds no usernames or addresses."""

    __tablename__ = "login_attempts"
    id = Column(Integer, primary_key=True)
    key_hash = Column(String(64), nullable=False, index=True)
    at = Column(DateTime, default=utcnow, nullable=False, index=True)


class TrustedBrowser(Base):
    """A browser that has signed in to an account before. Its own attempts are not held back by the
    account's throttle, so that strangers' wrong passwords cannot lock the real user out."""

    __tablename__ = "trusted_browsers"
    token_hash = Column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    last_used_at = Column(DateTime, default=utcnow, nullable=False)


class AuditEntry(Base):
    """Every view and action in the inbox (and exports), with who and when."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=True, index=True)
    action = Column(String(40), nullable=False)
    target = Column(String(100), nullable=True)  # e.g. "conversation:12"
    detail = Column(String(300), nullable=True)
    source = Column(String(64), nullable=True)  # the client's address, or "cli:<os user>"
    at = Column(DateTime, default=utcnow, nullable=False, index=True)


class Note(Base):
    """A coordinator's note on a conversation."""

    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)


class ConcernAnswer(Base):
    """One answer of the concern check-in: the overall 0-10 score (`question` "overall"), the areas the
    patient chose ("areas"), or one area's 0-10 score (the area's key). Linked to the text that gave it."""

    __tablename__ = "concern_answers"
    __table_args__ = (UniqueConstraint("conversation_id", "question", name="uq_concern_conversation_question"),)
    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True, index=True)
    question = Column(String(20), nullable=False)
    # answered (score or areas set) | skipped (the patient chose not to say) | unclear (asked twice, no answer)
    status = Column(String(12), nullable=False, default="answered")
    score = Column(Integer, nullable=True)
    areas = Column(String(200), nullable=True)  # comma-separated area keys, for question "areas"
    inbound_message_id = Column(Integer, ForeignKey("inbound_messages.id"), nullable=True)
    recorded_at = Column(DateTime, default=utcnow, nullable=False)


class RoutingDecision(Base):
    """Which additional role the patient was routed to, by which rule and on which scores."""

    __tablename__ = "routing_decisions"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=True, index=True)
    role = Column(String(40), nullable=False)
    rule = Column(String(40), nullable=False)
    reason = Column(String(300), nullable=False)
    decided_at = Column(DateTime, default=utcnow, nullable=False)


class BookingSlot(Base):
    """A bookable session with one member of staff in one role. Booking flips `status` from free to
    booked in one conditional UPDATE, so two patients can never get the same slot."""

    __tablename__ = "booking_slots"
    __table_args__ = (
        UniqueConstraint("practice_id", "role", "staff", "starts_at", name="uq_slot_practice_role_staff_start"),
    )
    id = Column(Integer, primary_key=True)
    practice_id = Column(Integer, ForeignKey("practices.id"), nullable=False, index=True)
    role = Column(String(40), nullable=False)
    staff = Column(String(100), nullable=False)
    kind = Column(String(20), nullable=False)        # phone | video | face_to_face
    starts_at = Column(DateTime, nullable=False, index=True)  # UTC
    minutes = Column(Integer, nullable=False, default=30)
    source = Column(String(10), nullable=False, default="weekly")  # weekly (practice script) | import (CSV)
    status = Column(String(10), nullable=False, default="free", index=True)  # free | booked
    created_at = Column(DateTime, default=utcnow, nullable=False)


class Appointment(Base):
    """A booked review. A cancelled or rebooked one frees its slot."""

    __tablename__ = "appointments"
    id = Column(Integer, primary_key=True)
    practice_id = Column(Integer, ForeignKey("practices.id"), nullable=False, index=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=False, index=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True, index=True)
    slot_id = Column(Integer, ForeignKey("booking_slots.id"), nullable=False, index=True)
    role = Column(String(40), nullable=False)
    status = Column(String(12), nullable=False, default="booked", index=True)  # booked | cancelled | rebooked
    inbound_message_id = Column(Integer, ForeignKey("inbound_messages.id"), nullable=True)
    booked_at = Column(DateTime, default=utcnow, nullable=False)
    cancelled_at = Column(DateTime, nullable=True)
    reminder_queued_at = Column(DateTime, nullable=True)
