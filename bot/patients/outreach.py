"""Patients and the start of an outreach conversation (the full register import comes later)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import records
from bot.outbox import queue as outbox
from bot.common.clock import london_today
from bot.config import Settings
from bot.dialogue.contact import Hold, HoldReason, automatic_text_hold
from bot.db.engine import session_scope
from bot.dialogue.rasa_client import RasaClient
from bot.db.models import OPEN_CONVERSATION, Conversation, ConversationStatus, Patient, Practice
from bot.patients.nhs_numbers import nhs_number_problem
from bot.patients.phones import normalise_mobile
from bot.practice_script.loader import PracticeScript, script_for

START_INTENT = "start_outreach"


class OutreachError(ValueError):
    """The request cannot be carried out; the message says what is wrong."""


def ensure_practice(session: Session, script: PracticeScript) -> Practice:
    """The practice row for a script, created on first use and renamed when the script changes."""
    practice = session.scalar(select(Practice).where(Practice.ods_code == script.ods_code))
    if practice is None:
        practice = Practice(ods_code=script.ods_code, name=script.name)
        session.add(practice)
        session.flush()
    elif practice.name != script.name:
        practice.name = script.name
    return practice


def add_patient(settings: Settings, ods_code: str, first_name: str, last_name: str, date_of_birth: dt.date,
                mobile: str, diagnosis_date: dt.date, nhs_number: Optional[str] = None) -> int:
    """Add (or update, by mobile number) one patient of a practice. Returns the patient id."""
    if not first_name.strip():
        raise OutreachError("first name is required")
    today = london_today()
    if date_of_birth >= today:
        raise OutreachError(f"date of birth {date_of_birth} is not in the past")
    if diagnosis_date > today or diagnosis_date < date_of_birth:
        raise OutreachError(f"diagnosis date {diagnosis_date} must be between the date of birth and today")
    if nhs_number:
        problem = nhs_number_problem(nhs_number)
        if problem:
            raise OutreachError(f"NHS number: {problem}")
        nhs_number = "".join(nhs_number.split())
    number = normalise_mobile(mobile)
    script = script_for(settings.practices_dir, ods_code)
    with session_scope(settings.database_url) as session:
        practice = ensure_practice(session, script)
        patient = session.scalar(select(Patient).where(Patient.practice_id == practice.id, Patient.mobile == number))
        if patient is None:
            patient = Patient(practice_id=practice.id, mobile=number, first_name="", date_of_birth=date_of_birth,
                              diagnosis_date=diagnosis_date)
            session.add(patient)
        patient.first_name, patient.last_name = first_name.strip(), last_name.strip()
        patient.date_of_birth, patient.diagnosis_date, patient.nhs_number = date_of_birth, diagnosis_date, nhs_number
        session.flush()
        return patient.id


def find_patients_by_mobile(session: Session, mobile: str) -> list[Patient]:
    return list(session.scalars(select(Patient).where(Patient.mobile == mobile).order_by(Patient.id)))


def start_conversation(settings: Settings, rasa: RasaClient, mobile: str, ods_code: Optional[str] = None) -> str:
    """Begin the CAN005 conversation with a patient: a new conversation and the opener in the outbox.

    Returns the conversation's public id. Refuses a patient who opted out or already has an open
    conversation, so that running the command twice never texts anyone twice.
    """
    number = normalise_mobile(mobile)
    with session_scope(settings.database_url) as session:
        patients = find_patients_by_mobile(session, number)
        if ods_code:
            patients = [p for p in patients if p.practice.ods_code == ods_code.upper()]
        if not patients:
            raise OutreachError("no patient with that mobile number" + (f" at {ods_code}" if ods_code else ""))
        if len(patients) > 1:
            raise OutreachError("several practices have a patient with that number: give --practice ODS")
        patient_id = patients[0].id
    return open_conversation(settings, rasa, patient_id)[1]


def open_conversation(
    settings: Settings, rasa: RasaClient, patient_id: int, key: Optional[str] = None
) -> tuple[int, str]:
    """Create a conversation for a patient and queue the opener. Returns (conversation id, public id).

    `key` makes the opener's outbox entries idempotent across retries (the worker passes one)."""
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        _refuse_if_held(session, patient)
        existing = session.scalar(select(Conversation).where(
            Conversation.patient_id == patient.id, Conversation.status.in_(OPEN_CONVERSATION)))
        if existing is not None:
            raise OutreachError(f"the patient already has an open conversation ({existing.public_id})")
        conversation = Conversation(practice_id=patient.practice_id, patient_id=patient.id)
        session.add(conversation)
        session.flush()
        conversation_id, public_id = conversation.id, conversation.public_id
        number, practice_ods = patient.mobile, patient.practice.ods_code
    try:
        texts = rasa.trigger(public_id, START_INTENT)
    except Exception:
        with session_scope(settings.database_url) as session:
            records.close(session, session.get(Conversation, conversation_id), "could not start: Rasa unavailable")
        raise
    sender = script_for(settings.practices_dir, practice_ods).sender
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        # Asked again in the transaction that queues the opener: a flag may have come in while Rasa
        # was asked (it hands this conversation over), and then the opener must not go.
        hold = automatic_text_hold(session, session.get(Patient, patient_id))
        if hold is None:
            outbox.enqueue_all(session, key or f"start:{conversation_id}", number, texts, conversation=conversation,
                               from_number=sender, purpose="invitation")
        elif conversation.status == ConversationStatus.ACTIVE:
            records.close(session, conversation, f"not started: {hold.reason.value}")
    if hold is not None:
        raise _held(hold)
    return conversation_id, public_id


def _refuse_if_held(session: Session, patient: Patient) -> None:
    """Raise OutreachError saying why, when bot.dialogue.contact's rule holds automatic texts to the patient."""
    hold = automatic_text_hold(session, patient)
    if hold is not None:
        raise _held(hold)


def _held(hold: Hold) -> OutreachError:
    if hold.reason is HoldReason.OPTED_OUT:
        return OutreachError("the patient has opted out of texts (they can reply START)")
    if hold.reason is HoldReason.DECEASED:
        return OutreachError("the register records this patient as deceased")
    return OutreachError(f"automatic texts to this patient are held: {hold}; a coordinator must deal with it "
                         "in the inbox first")
