"""An open flag, a handover or an open review task holds every automatic text to the patient
(bot/dialogue/contact.py): the worker's first and second invitations and reminders, `outreach start`, and
an invitation already queued when the flag came in. On SQLite and PostgreSQL.

No Rasa runs here: a held patient never reaches the dialogue, and the RasaClient points at a port
nobody listens on, so a patient the rule wrongly let through shows up as an error or a claimed
invitation. Times are fixed (`NOW`), never today's date or hour."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import cli
from bot.outbox import queue as outbox
from bot.db.engine import session_scope
from bot.dialogue.rasa_client import RasaClient
from bot.db.models import Appointment, BookingSlot, Conversation, Flag, Invitation, OutboundMessage, Patient, Task
from bot.patients.outreach import OutreachError, ensure_practice, start_conversation
from bot.practice_script.loader import script_for
from bot.sender.sender import Sender
from bot.patients.invitations import OutreachWorker
from tests.conftest import PRACTICE_NUMBER, PROJECT_ROOT
from tests.helpers import text_from

NOW = dt.datetime(2026, 1, 14, 11, 0)   # a Wednesday, 11:00 in London (GMT): inside the send window
NOBODY = "http://127.0.0.1:9"
SUICIDE_FLAG_TEXT = "I want to kill myself"


def add_patient(database_url: str, mobile: str, diagnosed: dt.date = NOW.date() - dt.timedelta(days=20)) -> int:
    with session_scope(database_url) as session:
        practice = ensure_practice(session, script_for(PROJECT_ROOT / "practices", "Y00001"))
        patient = Patient(practice_id=practice.id, first_name="Robin", last_name="Hill",
                          date_of_birth=dt.date(1958, 6, 2), mobile=mobile, diagnosis_date=diagnosed)
        session.add(patient)
        session.flush()
        return patient.id


def worker(settings) -> OutreachWorker:
    return OutreachWorker(settings, RasaClient(NOBODY))


def invitations(settings, patient_id: int) -> list[int]:
    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(Invitation.number).where(Invitation.patient_id == patient_id)))


def purposes_to(settings, mobile: str) -> list[tuple[str, str]]:
    with session_scope(settings.database_url) as session:
        return [(m.purpose, m.status) for m in session.scalars(
            select(OutboundMessage).where(OutboundMessage.to_number == mobile).order_by(OutboundMessage.id))]


def test_a_flag_from_a_patient_with_no_conversation_holds_the_invitation_and_start(settings):
    mobile = "+447700900701"
    patient_id = add_patient(settings.database_url, mobile)
    text_from(settings, mobile, SUICIDE_FLAG_TEXT, NOW)
    with session_scope(settings.database_url) as session:
        (flag,) = session.scalars(select(Flag)).all()
        assert flag.patient_id == patient_id and flag.conversation_id is None and flag.severity == "urgent"

    report = worker(settings).run_once(NOW, practices=["Y00001"])
    assert (report.first, report.errors, dict(report.held)) == (0, [], {"open flag": 1})
    assert report.held_summary() == "1 (open flag 1)"
    assert invitations(settings, patient_id) == []

    with pytest.raises(OutreachError, match=r"held: open flag \(flag \d+: urgent safeguarding\)"):
        start_conversation(settings, RasaClient(NOBODY), mobile)
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Conversation)).all() == []
    assert purposes_to(settings, mobile) == [("safety_net", "pending")]   # the safety net, and nothing else

    # Resolved in the inbox (the flag and its task): the worker goes ahead with this patient.
    with session_scope(settings.database_url) as session:
        session.get(Flag, flag.id).resolved_at = NOW
        for task in session.scalars(select(Task)):
            task.status = "done"
    report = worker(settings).run_once(NOW, practices=["Y00001"])
    assert dict(report.held) == {} and invitations(settings, patient_id) == [1]


def test_a_flag_raised_before_the_number_was_on_the_register_still_holds(settings):
    mobile = "+447700900702"
    text_from(settings, mobile, SUICIDE_FLAG_TEXT, NOW)   # not on the register yet: an unknown number
    patient_id = add_patient(settings.database_url, mobile)
    report = worker(settings).run_once(NOW, practices=["Y00001"])
    assert dict(report.held) == {"open flag": 1} and invitations(settings, patient_id) == []


def test_the_commands_say_why_a_patient_is_held(settings, capsys):
    mobile = "+447700900703"
    # Diagnosed 20 days before today: `send-due` reads the clock itself, and the hold applies
    # whatever the day or hour (it is checked before the send window).
    add_patient(settings.database_url, mobile, diagnosed=dt.date.today() - dt.timedelta(days=20))
    text_from(settings, mobile, SUICIDE_FLAG_TEXT, NOW)
    assert cli.main(["start", mobile]) == 2
    assert "outreach: error: automatic texts to this patient are held: open flag (flag" in capsys.readouterr().err
    assert cli.main(["send-due", "--practice", "Y00001"]) == 0
    assert "held 1 (open flag 1)" in capsys.readouterr().out


def test_an_open_handover_holds_the_second_invitation_and_the_reminder(settings):
    mobile = "+447700900704"
    patient_id = add_patient(settings.database_url, mobile)
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        conversation = Conversation(practice_id=patient.practice_id, patient_id=patient_id, status="handed_over",
                                    handover_reason="callback requested", started_at=NOW - dt.timedelta(days=8))
        session.add(conversation)
        session.flush()
        session.add(Invitation(patient_id=patient_id, number=1, conversation_id=conversation.id, status="queued",
                               claimed_at=NOW - dt.timedelta(days=8), queued_at=NOW - dt.timedelta(days=8)))
        slot = BookingSlot(practice_id=patient.practice_id, role="care_coordinator", staff="Sam", kind="phone",
                           starts_at=NOW + dt.timedelta(days=1), status="booked")
        session.add(slot)
        session.flush()
        session.add(Appointment(practice_id=patient.practice_id, patient_id=patient_id, conversation_id=conversation.id,
                                slot_id=slot.id, role="care_coordinator"))
    report = worker(settings).run_once(NOW, practices=["Y00001"])
    assert (report.second, report.reminders, report.errors) == (0, 0, [])
    assert dict(report.held) == {"handed over to a person": 2}   # the patient's step and the reminder
    assert invitations(settings, patient_id) == [1] and purposes_to(settings, mobile) == []


def test_an_open_review_task_holds_the_first_invitation(settings):
    mobile = "+447700900705"
    patient_id = add_patient(settings.database_url, mobile)
    text_from(settings, mobile, "hello, is this the surgery?", NOW)   # no conversation yet: a person reads it
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Task.kind)).all() == ["message_without_conversation"]
    report = worker(settings).run_once(NOW, practices=["Y00001"])
    assert dict(report.held) == {"open review task": 1} and invitations(settings, patient_id) == []


def test_an_invitation_queued_before_the_flag_is_held_by_the_sender(settings, fake_twilio):
    mobile = "+447700900706"
    patient_id = add_patient(settings.database_url, mobile)
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        conversation = Conversation(practice_id=patient.practice_id, patient_id=patient_id)
        session.add(conversation)
        session.flush()
        outbox.enqueue(session, f"invite:{patient_id}:1:0", mobile, "Hello Robin, this is your practice",
                       conversation=conversation, from_number=PRACTICE_NUMBER, purpose="invitation")
    text_from(settings, mobile, SUICIDE_FLAG_TEXT, NOW)   # comes in while the invitation still waits
    assert Sender(settings, workers=1).send_due() == 2
    (sent,) = fake_twilio.wait_for_messages(1)
    assert "999" in sent["body"]
    assert purposes_to(settings, mobile) == [("invitation", "suppressed"), ("safety_net", "queued")]
    with session_scope(settings.database_url) as session:
        invitation = session.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "invitation"))
        assert invitation.error_message.startswith("held: open flag")
