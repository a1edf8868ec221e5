"""The CAN005 cohort rule at its boundaries, and the send window (clock changes, bank holidays)."""
from __future__ import annotations

import datetime as dt

import pytest

from bot import records
from bot.patients import cohort
from bot.db.engine import session_scope
from bot.db.models import Conversation, Patient, utcnow
from bot.sender.send_window import SendWindow
from tests.conftest import add_conversation

TODAY = dt.date.today()


def patient_at_day(database_url: str, day: int, n: int, **fields) -> int:
    conversation_id, _ = add_conversation(database_url, mobile=f"+447700900{400 + n:03d}")
    with session_scope(database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        patient = session.get(Patient, conversation.patient_id)
        patient.diagnosis_date = TODAY - dt.timedelta(days=day)
        for key, value in fields.items():
            setattr(patient, key, value)
        session.delete(conversation)
        return patient.id


def test_the_93_day_boundary(database_url):
    ids = {day: patient_at_day(database_url, day, i) for i, day in enumerate([0, 1, 92, 93, 94, 200])}
    with session_scope(database_url) as session:
        due = cohort.eligible(session, TODAY)
        missed = cohort.missed(session, TODAY)
    assert [d.patient_id for d in due] == [ids[93], ids[92], ids[1], ids[0]]  # fewest days left first
    assert [d.days_left for d in due] == [0, 1, 92, 93]
    assert [d.patient_id for d in missed] == [ids[200], ids[94]]


def test_a_future_diagnosis_date_is_not_due(database_url):
    patient_at_day(database_url, -1, 0)
    with session_scope(database_url) as session:
        assert cohort.eligible(session, TODAY) == []


@pytest.mark.parametrize("fields", [{"opted_out_at": utcnow()}, {"deceased_date": TODAY}])
def test_opted_out_and_deceased_patients_are_never_due_or_missed(database_url, fields):
    patient_at_day(database_url, 10, 0, **fields)
    patient_at_day(database_url, 120, 1, **fields)
    with session_scope(database_url) as session:
        assert cohort.eligible(session, TODAY) == [] and cohort.missed(session, TODAY) == []


@pytest.mark.parametrize("kind, settled", [("informed", True), ("declined", True), ("no_response", True),
                                           ("wrong_person", True), ("deferred", False), ("accepted", False)])
def test_a_settled_outcome_takes_the_patient_out(database_url, kind, settled):
    conversation_id, _ = add_conversation(database_url)
    with session_scope(database_url) as session:
        records.record_outcome(session, session.get(Conversation, conversation_id), kind)
    with session_scope(database_url) as session:
        assert (cohort.eligible(session, TODAY) == []) == settled


WINDOW = SendWindow.from_config(None)


@pytest.mark.parametrize("utc, open_", [
    ("2026-11-25T09:00", True),    # Wednesday 09:00 GMT
    ("2026-11-25T08:59", False),
    ("2026-11-25T17:29", True),
    ("2026-11-25T17:30", False),
    ("2026-11-28T12:00", False),   # Saturday
    ("2026-12-25T12:00", False),   # Christmas Day
    ("2026-12-28T12:00", False),   # Boxing Day substitute (Monday)
    ("2026-05-04T12:00", False),   # early May bank holiday
    ("2026-03-27T08:30", False),   # Friday 08:30 GMT, before the clocks change
    ("2026-03-30T08:30", True),    # Monday 09:30 BST, after the clocks change
    ("2026-10-23T16:45", False),   # Friday 17:45 BST
    ("2026-10-26T16:45", True),    # Monday 16:45 GMT, after the clocks go back
])
def test_send_window_in_london_time(utc, open_):
    assert WINDOW.is_open(dt.datetime.fromisoformat(utc)) is open_


@pytest.mark.parametrize("config, error", [
    ({"start": "18:00", "end": "09:00"}, "start must be before end"),
    ({"start": "9am"}, "send_window"),
    ({"days": ["funday"]}, "send_window"),
    ({"timezone": "Mars/Olympus"}, "send_window"),
])
def test_bad_send_window_settings_are_refused(config, error):
    with pytest.raises(ValueError, match=error):
        SendWindow.from_config(config)
