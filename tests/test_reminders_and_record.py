"""The reminder the day before a booked review (bot/patients/invitations.py with bot/booking.reminders_due):
once, inside the practice's send window, never to an opted-out patient or while a person has the
conversation; and the per-patient record of scores, role and appointment (`outreach show`).
In process, on SQLite and PostgreSQL; nothing here needs Rasa."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import records
from bot.booking import slots as booking
from bot.db.engine import session_scope
from bot.dialogue.rasa_client import RasaClient
from bot.db.models import AuditEntry, BookingSlot, Conversation, OutboundMessage, Patient
from bot.patients.invitations import OutreachWorker
from bot.cli import main
from conftest import PATIENT_NUMBER, add_conversation
from tests.test_actions import SCRIPT

LONDON = ZoneInfo("Europe/London")


def london(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON).astimezone(dt.timezone.utc).replace(tzinfo=None)


WEDNESDAY = dt.date(2027, 3, 3)
SLOT_AT = london(WEDNESDAY, 10, 30)
TUESDAY_11 = london(WEDNESDAY - dt.timedelta(days=1), 11)      # inside Mon-Fri 09:00-17:30
TUESDAY_20 = london(WEDNESDAY - dt.timedelta(days=1), 20)      # outside the window


@pytest.fixture
def booked(settings, database_url):
    """A patient of the example practice, informed of support (so not due an invitation), with a
    review booked for Wednesday 3 March 2027 at 10:30."""
    conversation_id, _ = add_conversation(database_url)
    with session_scope(database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        records.record_outcome(session, conversation, "informed")
        slot = BookingSlot(practice_id=conversation.practice_id, role="care_coordinator", staff="Sam", kind="phone",
                           starts_at=SLOT_AT, minutes=30, source="import")
        session.add(slot)
        session.flush()
        appointment = booking.book(session, slot.id, patient_id=conversation.patient_id,
                                   practice_id=conversation.practice_id, conversation_id=conversation.id,
                                   role="care_coordinator")
        return {"conversation_id": conversation_id, "appointment_id": appointment.id,
                "patient_id": conversation.patient_id, "text": SCRIPT.render(
                    "booking_reminder", "Alex", appointment=booking.describe(slot, "care coordinator"))}


def reminders(settings) -> list[OutboundMessage]:
    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "reminder")))


def worker(settings) -> OutreachWorker:
    return OutreachWorker(settings, RasaClient("http://127.0.0.1:9", ""))  # never called here


def test_the_reminder_goes_once_the_day_before_inside_the_window(settings, booked):
    assert worker(settings).run_once(TUESDAY_20).reminders == 0    # evening: waits for the window
    assert reminders(settings) == []
    report = worker(settings).run_once(TUESDAY_11)
    assert report.reminders == 1 and report.errors == []
    (message,) = reminders(settings)
    assert message.body == booked["text"] and message.idempotency_key == f"reminder:{booked['appointment_id']}:0"
    assert "Wed 3 Mar 10:30, phone call with Sam, care coordinator" in message.body
    assert worker(settings).run_once(TUESDAY_11 + dt.timedelta(hours=1)).reminders == 0   # nothing twice
    assert len(reminders(settings)) == 1


def test_no_reminder_two_days_before(settings, booked):
    assert worker(settings).run_once(TUESDAY_11 - dt.timedelta(days=1)).reminders == 0


def test_no_reminder_for_a_cancelled_review(settings, booked):
    with session_scope(settings.database_url) as session:
        booking.cancel(session, booking.current_appointment(session, booked["patient_id"], now=TUESDAY_11))
    assert worker(settings).run_once(TUESDAY_11).reminders == 0


def test_no_reminder_to_a_patient_who_opted_out(settings, booked):
    with session_scope(settings.database_url) as session:
        records.opt_out(session, session.get(Patient, booked["patient_id"]))
    assert worker(settings).run_once(TUESDAY_11).reminders == 0 and reminders(settings) == []


def test_no_reminder_while_a_person_has_the_conversation(settings, booked):
    with session_scope(settings.database_url) as session:
        records.hand_over(session, session.get(Conversation, booked["conversation_id"]), "coordinator took over")
    assert worker(settings).run_once(TUESDAY_11).reminders == 0 and reminders(settings) == []


def test_show_lists_scores_role_and_appointment(settings, booked, capsys):
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, booked["conversation_id"])
        records.record_concern(session, conversation, "overall", score=7)
        records.record_concern(session, conversation, "areas", areas=["practical"])
        records.record_concern(session, conversation, "practical", status="skipped")
        records.record_routing(session, conversation, "care_coordinator", "high_overall", "overall 7 (>= 4) with no high area")
    assert main(["show", PATIENT_NUMBER]) == 0
    out = capsys.readouterr().out
    assert "concern overall: answered 7" in out and "concern areas: answered practical" in out
    assert "concern practical: skipped" in out
    assert "routed to care_coordinator by high_overall: overall 7 (>= 4) with no high area" in out
    assert "booked: Wed 3 Mar 10:30, phone call with Sam, care coordinator" in out


def test_show_and_tasks_commands_audit_the_patients_they_print(settings, booked, capsys):
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, booked["patient_id"])
        records.create_task(session, "callback", "phone the patient", patient.practice_id, patient_id=patient.id)
    assert main(["show", PATIENT_NUMBER]) == 0
    assert main(["tasks"]) == 0
    capsys.readouterr()
    with session_scope(settings.database_url) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        shown = [(e.action, e.target) for e in entries if e.action.startswith("cli_")]
        details = [e.detail for e in entries if e.action.startswith("cli_")]
    assert ("cli_show", f"patient:{booked['patient_id']}") in shown
    assert ("cli_tasks", f"patient:{booked['patient_id']}") in shown
    assert all("printed by the outreach command, OS user" in d for d in details)
    assert PATIENT_NUMBER not in " ".join(details)
