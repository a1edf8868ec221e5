"""Booking reviews by text (bot/booking/slots.py), on SQLite and PostgreSQL: the weekly pattern in London
time across the clock changes and bank holidays, which free slots a patient is offered, booking
under contention (many patients at once, started together by a barrier), cancelling, the words of
a slot in an SMS, tomorrow's reminders, and the slots CSV import with its command line."""
from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.booking import slots as booking
from bot.booking.slots import (SlotImportError, book, cancel, current_appointment, describe, ensure_weekly_slots,
                               import_slots, reminders_due, soonest_free)
from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.db.engine import new_engine, session_scope
from bot.db.models import Appointment, BookingSlot, InboundMessage, Patient, Practice, utcnow
from bot.patients.outreach import ensure_practice
from bot.practice_script.loader import SLOT_KINDS, script_for
from bot.sender.segments import is_gsm7
from tests.conftest import make_settings

PRACTICES = PROJECT_ROOT / "practices"
SCRIPT = script_for(PRACTICES, "Y00001")
HEADER = ["role", "date", "time", "minutes", "type", "staff"]
# The weekly pattern the weekly tests rely on, whatever the example practice file says today.
WEEKLY_ROLES = {
    "care_coordinator": {"title": "care coordinator", "weekly": [
        {"day": "tue", "time": "10:30", "minutes": 30, "type": "phone", "staff": "Sam"}]},
    "social_prescriber": {"title": "social prescriber", "weekly": [
        {"day": "mon", "time": "11:00", "minutes": 30, "type": "phone", "staff": "Priya"}]},
    "health_coach": {"title": "health and wellbeing coach", "weekly": [
        {"day": "fri", "time": "09:30", "minutes": 30, "type": "video", "staff": "Jo"}]},
    "weekend": {"title": "weekend clinic", "weekly": [
        {"day": "sat", "time": "10:00", "minutes": 30, "type": "phone", "staff": "Kit"},
        {"day": "sun", "time": "10:00", "minutes": 30, "type": "phone", "staff": "Kit"},
        {"day": "sun", "time": "01:30", "minutes": 30, "type": "phone", "staff": "Kit"}]},
}
WEEKLY_SCRIPT = dataclasses.replace(SCRIPT, data={**SCRIPT.data, "roles": WEEKLY_ROLES})


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args)


def practice_id(url: str) -> int:
    with session_scope(url) as session:
        return ensure_practice(session, SCRIPT).id


def add_patients(url: str, count: int) -> List[int]:
    pid = practice_id(url)
    with session_scope(url) as session:
        patients = [Patient(practice_id=pid, first_name=f"Patient{n}", last_name="Fictional",
                            date_of_birth=dt.date(1960, 1, 1), mobile=f"+447700900{n:03d}",
                            diagnosis_date=dt.date(2026, 1, 1)) for n in range(count)]
        session.add_all(patients)
        session.flush()
        return [p.id for p in patients]


def add_slots(url: str, starts: List[dt.datetime], role: str = "care_coordinator", staff: str = "Sam",
              status: str = "free", pid: Optional[int] = None) -> List[int]:
    pid = pid or practice_id(url)
    with session_scope(url) as session:
        slots = [BookingSlot(practice_id=pid, role=role, staff=staff, kind="phone", starts_at=s, minutes=30,
                             source="import", status=status) for s in starts]
        session.add_all(slots)
        session.flush()
        return [s.id for s in slots]


def add_inbound(url: str, sid: str) -> int:
    with session_scope(url) as session:
        message = InboundMessage(message_sid=sid, from_number="+447700900000", body="2")
        session.add(message)
        session.flush()
        return message.id


def weekly_slots(url: str) -> set:
    with session_scope(url) as session:
        return set(session.execute(select(BookingSlot.role, BookingSlot.staff, BookingSlot.starts_at)).all())


def slot_count(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(BookingSlot))


def ensure(url: str, now: dt.datetime, days: int = 14, script=WEEKLY_SCRIPT) -> int:
    with session_scope(url) as session:
        practice = ensure_practice(session, script)
        return ensure_weekly_slots(session, practice, script, now, days=days)


# --------------------------------------------------------------------------------------------
# The weekly pattern


def test_weekly_slots_keep_london_time_across_the_spring_clock_change_and_skip_bank_holidays(database_url):
    # Mon 23 Mar 2026, 08:00 UTC (GMT). BST starts on Sun 29 Mar at 01:00; Good Friday is Fri 3 Apr,
    # Easter Monday Mon 6 Apr. 14 days ahead: through Mon 6 Apr.
    assert ensure(database_url, utc(2026, 3, 23, 8, 0)) == 10
    assert weekly_slots(database_url) == {
        ("social_prescriber", "Priya", utc(2026, 3, 23, 11, 0)),   # Mon 11:00 GMT
        ("care_coordinator", "Sam", utc(2026, 3, 24, 10, 30)),     # Tue 10:30 GMT
        ("health_coach", "Jo", utc(2026, 3, 27, 9, 30)),           # Fri 09:30 GMT
        ("weekend", "Kit", utc(2026, 3, 28, 10, 0)),               # Sat 10:00 GMT, the day before the change
        ("weekend", "Kit", utc(2026, 3, 29, 9, 0)),                # Sun 10:00 BST; 01:30 does not exist that night
        ("social_prescriber", "Priya", utc(2026, 3, 30, 10, 0)),   # Mon 11:00 BST
        ("care_coordinator", "Sam", utc(2026, 3, 31, 9, 30)),      # Tue 10:30 BST
        # Fri 3 Apr (Good Friday) and Mon 6 Apr (Easter Monday): none.
        ("weekend", "Kit", utc(2026, 4, 4, 9, 0)),                 # Sat 10:00 BST
        ("weekend", "Kit", utc(2026, 4, 5, 0, 30)),                # Sun 01:30 BST, an ordinary night
        ("weekend", "Kit", utc(2026, 4, 5, 9, 0)),                 # Sun 10:00 BST
    }


def test_weekly_slots_in_gmt_and_bst(database_url):
    # Mon 19 Oct 2026 (BST) to Mon 2 Nov (GMT): the clocks go back on Sun 25 Oct at 02:00.
    created = ensure(database_url, utc(2026, 10, 19, 7, 0))
    stored = weekly_slots(database_url)
    assert created == len(stored)
    by_role: Dict[str, List[dt.datetime]] = {}
    for role, _staff, starts in stored:
        by_role.setdefault(role, []).append(starts)
    assert sorted(by_role["care_coordinator"]) == [utc(2026, 10, 20, 9, 30), utc(2026, 10, 27, 10, 30)]
    assert sorted(by_role["social_prescriber"]) == [utc(2026, 10, 19, 10, 0), utc(2026, 10, 26, 11, 0),
                                                    utc(2026, 11, 2, 11, 0)]
    assert sorted(by_role["health_coach"]) == [utc(2026, 10, 23, 8, 30), utc(2026, 10, 30, 9, 30)]
    # Sun 25 Oct: 01:30 happens twice; the slot is the first one (01:30 BST = 00:30 UTC). 10:00 is GMT.
    assert sorted(by_role["weekend"]) == [utc(2026, 10, 24, 9, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 10, 0),
                                          utc(2026, 10, 31, 10, 0), utc(2026, 11, 1, 1, 30), utc(2026, 11, 1, 10, 0)]
    # Every one is at its session's London wall-clock time.
    local = {booking.to_london(s).strftime("%a %H:%M") for s in by_role["care_coordinator"]}
    assert local == {"Tue 10:30"}


def test_no_weekly_slot_on_a_bank_holiday(database_url):
    # Christmas 2026: Fri 25 Dec, Mon 28 Dec (Boxing Day observed), Fri 1 Jan 2027.
    ensure(database_url, utc(2026, 12, 21, 8, 0))
    days = {booking.to_london(s).date() for _r, _s, s in weekly_slots(database_url)}
    assert not days & {dt.date(2026, 12, 25), dt.date(2026, 12, 28), dt.date(2027, 1, 1)}
    assert {dt.date(2026, 12, 21), dt.date(2026, 12, 22), dt.date(2026, 12, 29), dt.date(2027, 1, 4)} <= days


def test_weekly_slots_are_created_once_and_only_from_now_on(database_url):
    now = utc(2026, 3, 24, 12, 0)  # Tue 24 Mar, after that morning's 10:30 session
    first = ensure(database_url, now)
    assert ("care_coordinator", "Sam", utc(2026, 3, 24, 10, 30)) not in weekly_slots(database_url)
    before = weekly_slots(database_url)
    assert ensure(database_url, now) == 0
    assert weekly_slots(database_url) == before and slot_count(database_url) == first
    # A week later only the new days are added.
    assert ensure(database_url, now + dt.timedelta(days=7)) == slot_count(database_url) - first > 0


def test_two_processes_creating_the_weekly_slots_at_once_create_each_slot_once(database_url):
    now = utc(2026, 3, 23, 8, 0)
    practice_id(database_url)
    threads_n = 4
    barrier = threading.Barrier(threads_n)
    created: List[int] = []
    errors: List[BaseException] = []

    def run() -> None:
        try:
            with session_scope(database_url) as session:
                practice = session.scalar(select(Practice).where(Practice.ods_code == "Y00001"))
                barrier.wait(timeout=30)
                created.append(ensure_weekly_slots(session, practice, WEEKLY_SCRIPT, now))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(created) == slot_count(database_url) == 10
    assert ensure(database_url, now) == 0


# --------------------------------------------------------------------------------------------
# What a patient is offered


def test_soonest_free_offers_the_soonest_from_two_hours_ahead_within_fourteen_days(database_url):
    now = utc(2026, 6, 1, 9, 0)
    pid = practice_id(database_url)
    soon, in_2h, in_3h = now + dt.timedelta(hours=1, minutes=59), now + dt.timedelta(hours=2), now + dt.timedelta(hours=3)
    add_slots(database_url, [soon, in_3h, now + dt.timedelta(days=13), now + dt.timedelta(days=15)])
    [jo_3h] = add_slots(database_url, [in_3h], staff="Jo")
    [jo_2h] = add_slots(database_url, [in_2h], staff="Jo")
    add_slots(database_url, [now + dt.timedelta(hours=4)], status="booked")
    add_slots(database_url, [now + dt.timedelta(hours=4)], role="health_coach")
    with session_scope(database_url) as session:
        other = Practice(ods_code="Y00002", name="Elsewhere")
        session.add(other)
        session.flush()
        other_id = other.id
    add_slots(database_url, [now + dt.timedelta(hours=5)], pid=other_id)

    with session_scope(database_url) as session:
        def offered(**kwargs) -> list:
            return [(s.starts_at - now, s.staff) for s in soonest_free(session, pid, "care_coordinator", now, **kwargs)]

        hours = dt.timedelta(hours=1)
        # Not the one in 1 h 59 min; two at 3 h in order of staff; no booked one, other role or practice.
        assert offered() == [(2 * hours, "Jo"), (3 * hours, "Jo"), (3 * hours, "Sam")]
        assert offered(skip=3) == [(dt.timedelta(days=13), "Sam")]  # "none of those": not the one in 15 days
        assert offered(skip=4) == []
        assert offered(within_days=30, skip=3) == [(dt.timedelta(days=13), "Sam"), (dt.timedelta(days=15), "Sam")]
        assert offered(limit=1) == [(2 * hours, "Jo")]
        assert [s.id for s in soonest_free(session, pid, "care_coordinator", now, limit=2)] == [jo_2h, jo_3h]


# --------------------------------------------------------------------------------------------
# Booking under contention


def _racing_sessions(url: str, count: int):
    """A session factory whose pool holds a connection for every racer, so that they race for the
    row, not for a connection."""
    engine = new_engine(url, pool_size=count + 2, max_overflow=0)
    return sessionmaker(bind=engine, future=True, expire_on_commit=False), engine.dispose


def _race(url: str, patients: List[int], attempt) -> List[Optional[int]]:
    """Run attempt(session, patient_id) for every patient in its own thread and session, all
    started together by a barrier once each holds a connection; returns what each got."""
    factory, dispose = _racing_sessions(url, len(patients))
    barrier = threading.Barrier(len(patients))
    results: List[Optional[int]] = [None] * len(patients)
    errors: List[BaseException] = []

    def run(index: int) -> None:
        session = factory()
        try:
            session.connection()
            barrier.wait(timeout=60)
            results[index] = attempt(session, patients[index])
            session.commit()
        except BaseException as exc:  # reported below, in the test's thread
            session.rollback()
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(patients))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        dispose()
    assert errors == []
    return results


def test_twenty_patients_booking_the_same_slot_at_once_one_gets_it(database_url):
    pid = practice_id(database_url)
    patients = add_patients(database_url, 20)
    [slot_id] = add_slots(database_url, [utcnow() + dt.timedelta(days=2)])

    def attempt(session, patient_id: int) -> Optional[int]:
        appointment = book(session, slot_id, patient_id=patient_id, practice_id=pid, conversation_id=None,
                           role="care_coordinator")
        return appointment.id if appointment else None

    results = _race(database_url, patients, attempt)
    assert len([r for r in results if r is not None]) == 1
    with session_scope(database_url) as session:
        [appointment] = session.scalars(select(Appointment)).all()
        assert appointment.id in results and appointment.status == "booked"
        assert patients[results.index(appointment.id)] == appointment.patient_id
        assert session.get(BookingSlot, slot_id).status == "booked"


def test_twenty_patients_racing_for_ten_slots_get_ten_different_slots(database_url):
    pid = practice_id(database_url)
    patients = add_patients(database_url, 20)
    now = utcnow()
    slot_ids = add_slots(database_url, [now + dt.timedelta(days=1, minutes=30 * n) for n in range(10)])

    def attempt(session, patient_id: int) -> Optional[int]:
        # What the dialogue does: take the soonest free slot; if someone got it first, the next.
        for slot in soonest_free(session, pid, "care_coordinator", now, limit=50):
            appointment = book(session, slot.id, patient_id=patient_id, practice_id=pid, conversation_id=None,
                               role="care_coordinator")
            if appointment is not None:
                return appointment.slot_id
        return None

    results = _race(database_url, patients, attempt)
    won = [r for r in results if r is not None]
    assert sorted(won) == sorted(slot_ids)  # every slot booked, none twice
    with session_scope(database_url) as session:
        appointments = session.scalars(select(Appointment)).all()
        assert len(appointments) == 10 and len({a.slot_id for a in appointments}) == 10
        assert len({a.patient_id for a in appointments}) == 10
        assert set(session.scalars(select(BookingSlot.status))) == {"booked"}


def test_a_retried_turn_gets_the_same_appointment_and_nobody_else_can_book_the_slot(database_url):
    pid = practice_id(database_url)
    alex, sam = add_patients(database_url, 2)
    message, later = add_inbound(database_url, "SM1"), add_inbound(database_url, "SM2")
    [slot_id] = add_slots(database_url, [utcnow() + dt.timedelta(days=2)])
    kwargs = dict(practice_id=pid, conversation_id=None, role="care_coordinator")
    with session_scope(database_url) as session:
        first = book(session, slot_id, patient_id=alex, inbound_message_id=message, **kwargs)
    with session_scope(database_url) as session:
        again = book(session, slot_id, patient_id=alex, inbound_message_id=message, **kwargs)
        assert again is not None and again.id == first.id
        assert book(session, slot_id, patient_id=alex, inbound_message_id=later, **kwargs) is None
        assert book(session, slot_id, patient_id=sam, inbound_message_id=later, **kwargs) is None
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_a_slot_of_another_role_or_practice_or_in_the_past_is_not_booked(database_url):
    pid = practice_id(database_url)
    [patient] = add_patients(database_url, 1)
    now = utcnow()
    [slot_id] = add_slots(database_url, [now + dt.timedelta(hours=3)])
    with session_scope(database_url) as session:
        assert book(session, slot_id, patient_id=patient, practice_id=pid, conversation_id=None,
                    role="health_coach") is None
        assert book(session, slot_id, patient_id=patient, practice_id=pid + 1, conversation_id=None,
                    role="care_coordinator") is None
        assert book(session, slot_id, patient_id=patient, practice_id=pid, conversation_id=None,
                    role="care_coordinator", not_before=now + dt.timedelta(hours=4)) is None
        assert session.get(BookingSlot, slot_id).status == "free"


# --------------------------------------------------------------------------------------------
# Cancelling, moving, the current appointment


def test_cancelling_frees_the_slot_for_someone_else(database_url):
    pid = practice_id(database_url)
    alex, sam = add_patients(database_url, 2)
    now = utcnow()
    first_id, second_id = add_slots(database_url, [now + dt.timedelta(days=1), now + dt.timedelta(days=2)])
    kwargs = dict(practice_id=pid, conversation_id=None, role="care_coordinator")
    with session_scope(database_url) as session:
        appointment = book(session, first_id, patient_id=alex, **kwargs)
        assert current_appointment(session, alex).id == appointment.id
        assert current_appointment(session, sam) is None
    with session_scope(database_url) as session:
        appointment = session.get(Appointment, appointment.id)
        cancel(session, appointment)
        assert appointment.status == "cancelled" and appointment.cancelled_at is not None
        assert session.get(BookingSlot, first_id).status == "free"
        assert current_appointment(session, alex) is None
    with session_scope(database_url) as session:
        taken = book(session, first_id, patient_id=sam, **kwargs)
        assert taken is not None
    with session_scope(database_url) as session:
        # Cancelling Alex's appointment again must not free the slot Sam holds now.
        cancel(session, session.get(Appointment, appointment.id))
        assert session.get(BookingSlot, first_id).status == "booked"
        assert session.get(Appointment, taken.id).status == "booked"
        with pytest.raises(ValueError):
            cancel(session, session.get(Appointment, taken.id), status="no-show")

    # Moving: book the new slot, then mark the old one rebooked (which frees it).
    with session_scope(database_url) as session:
        moved = book(session, second_id, patient_id=sam, **kwargs)
        cancel(session, session.get(Appointment, taken.id), status="rebooked")
    with session_scope(database_url) as session:
        assert session.get(Appointment, taken.id).status == "rebooked"
        assert session.get(BookingSlot, first_id).status == "free"
        assert session.get(BookingSlot, second_id).status == "booked"
        assert current_appointment(session, sam).id == moved.id
        # Once it has started it is no longer the current one.
        assert current_appointment(session, sam, now=now + dt.timedelta(days=3)) is None


# --------------------------------------------------------------------------------------------
# Words


@pytest.mark.parametrize("starts_at, kind, staff, title, words", [
    (utc(2026, 12, 1, 10, 30), "phone", "Sam", "care coordinator",
     "Tue 1 Dec 10:30, phone call with Sam, care coordinator"),                       # GMT
    (utc(2026, 6, 2, 9, 30), "phone", "Sam", "care coordinator",
     "Tue 2 Jun 10:30, phone call with Sam, care coordinator"),                       # BST
    (utc(2026, 6, 4, 13, 0), "face_to_face", "Priya", "social prescriber",
     f"Thu 4 Jun 14:00, {SLOT_KINDS['face_to_face']} with Priya, social prescriber"),  # the script's words
    (utc(2026, 3, 28, 23, 5), "video", "Zoë", "health and wellbeing coach",
     "Sat 28 Mar 23:05, video call with Zoe, health and wellbeing coach"),            # no UCS-2 for one letter
    (utc(2026, 10, 24, 23, 30), "phone", "Jo", "coach’s team",
     "Sun 25 Oct 00:30, phone call with Jo, coach's team"),                          # BST: already Sunday
])
def test_a_slot_in_words_for_an_sms(starts_at, kind, staff, title, words):
    slot = BookingSlot(starts_at=starts_at, kind=kind, staff=staff, minutes=30)
    text = describe(slot, title)
    assert text == words
    assert is_gsm7(text)


# --------------------------------------------------------------------------------------------
# Reminders


def test_reminders_are_for_tomorrow_in_london(database_url):
    pid = practice_id(database_url)
    patients = add_patients(database_url, 6)
    now = utc(2026, 6, 1, 22, 30)  # 23:30 BST on Mon 1 Jun: tomorrow is Tue 2 Jun in London
    starts = [utc(2026, 6, 1, 23, 15),   # Tue 00:15 BST (still Monday in UTC): due
              utc(2026, 6, 2, 22, 30),   # Tue 23:30 BST: due
              utc(2026, 6, 2, 23, 30),   # Wed 00:30 BST: not yet
              utc(2026, 6, 1, 22, 45),   # Mon 23:45 BST, today: not a reminder
              utc(2026, 6, 2, 9, 0),     # Tue, but cancelled
              utc(2026, 6, 2, 10, 0)]    # Tue, reminder already queued
    slot_ids = add_slots(database_url, starts)
    with session_scope(database_url) as session:
        appointments = [book(session, s, patient_id=p, practice_id=pid, conversation_id=None, role="care_coordinator")
                        for s, p in zip(slot_ids, patients)]
        cancel(session, appointments[4])
        appointments[5].reminder_queued_at = now
    with session_scope(database_url) as session:
        due = reminders_due(session, now)
        assert [a.id for a in due] == [appointments[0].id, appointments[1].id]
        # In GMT: 23:30 on Mon 7 Dec is 23:30 UTC; tomorrow is Tue 8 Dec.
        assert reminders_due(session, utc(2026, 12, 7, 23, 30)) == []


# --------------------------------------------------------------------------------------------
# Importing slots


FUTURE = (dt.date.today() + dt.timedelta(days=30))
NOW = utcnow()


def slot_row(n: int = 0, **values: str) -> Dict[str, str]:
    day = FUTURE + dt.timedelta(days=n)
    base = {"role": "care_coordinator", "date": day.isoformat(), "time": "09:00", "minutes": "30", "type": "phone",
            "staff": "Sam"}
    base.update(values)
    return base


def write_csv(path: Path, rows: List[Dict[str, str]], header: Optional[List[str]] = None) -> Path:
    header = header or HEADER
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for values in rows:
            writer.writerow([values.get(name, "") for name in header])
    return path


def stored(url: str) -> list:
    with session_scope(url) as session:
        return [(s.id, s.role, s.staff, s.starts_at, s.kind, s.minutes, s.status, s.source)
                for s in session.scalars(select(BookingSlot).order_by(BookingSlot.starts_at, BookingSlot.staff))]


def test_a_slots_file_imports_and_importing_it_again_changes_nothing(database_url, tmp_path):
    settings = make_settings(database_url)
    path = write_csv(tmp_path / "slots.csv", [
        slot_row(0),
        slot_row(0, staff="Priya", role="social prescriber", type="video", minutes="45"),   # a role's title is fine
        slot_row(1, date=(FUTURE + dt.timedelta(days=1)).strftime("%d/%m/%Y"), time="9:30", type="FACE_TO_FACE"),
        slot_row(2, role="Health_Coach", staff="  Mary   Ann ", minutes="240"),
    ])
    report = import_slots(settings, path, "Y00001")
    assert (report.total_rows, report.created, report.updated, report.unchanged, report.rejected) == (4, 4, 0, 0, [])
    rows = stored(database_url)
    assert [(r[1], r[2], booking.to_london(r[3]).strftime("%Y-%m-%d %H:%M"), r[4], r[5], r[6], r[7]) for r in rows] == [
        ("social_prescriber", "Priya", f"{FUTURE.isoformat()} 09:00", "video", 45, "free", "import"),
        ("care_coordinator", "Sam", f"{FUTURE.isoformat()} 09:00", "phone", 30, "free", "import"),
        ("care_coordinator", "Sam", f"{FUTURE + dt.timedelta(days=1)} 09:30", "face_to_face", 30, "free", "import"),
        ("health_coach", "Mary Ann", f"{FUTURE + dt.timedelta(days=2)} 09:00", "phone", 240, "free", "import"),
    ]
    again = import_slots(settings, path, "Y00001")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert stored(database_url) == rows
    assert "Y00001: 4 slot rows read: 0 created, 0 updated, 4 unchanged, 0 rejected" in again.summary()


def test_the_example_slots_file_imports_cleanly(database_url, tmp_path):
    # Written from the pinned clock, as `outreach slots example` and `make run` write it: valid on any day.
    path = tmp_path / "example-slots.csv"
    path.write_text(booking.example_slots_csv(utcnow()), encoding="utf-8")
    report = import_slots(make_settings(database_url), path, "Y00001")
    assert report.rejected == [] and report.created == report.total_rows >= 5
    assert {r[1] for r in stored(database_url)} == {"care_coordinator", "social_prescriber", "health_coach"}
    starts = [row[3] for row in stored(database_url)]
    assert min(starts) > utcnow() + dt.timedelta(days=booking.EXAMPLE_LEAD_DAYS - 1)
    assert not any(booking.is_bank_holiday(s.date()) or s.weekday() >= 5 for s in starts)


def test_a_booked_slot_is_left_alone_and_a_free_one_takes_the_new_length(database_url, tmp_path):
    settings = make_settings(database_url)
    import_slots(settings, write_csv(tmp_path / "a.csv", [slot_row(0), slot_row(1)]), "Y00001")
    [patient] = add_patients(database_url, 1)
    booked_id = stored(database_url)[0][0]
    with session_scope(database_url) as session:
        book(session, booked_id, patient_id=patient, practice_id=practice_id(database_url), conversation_id=None,
             role="care_coordinator")
    report = import_slots(settings, write_csv(tmp_path / "b.csv", [slot_row(0, minutes="60"), slot_row(1, minutes="60"),
                                                                   slot_row(2)]), "Y00001")
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    [kept] = report.kept_booked
    assert (kept.line, kept.slot_id) == (2, booked_id) and "booked as a 30-minute phone call" in kept.reason
    assert "already booked, left as they are:" in report.summary()
    rows = stored(database_url)
    assert [(r[0] == booked_id, r[5], r[6]) for r in rows] == [(True, 30, "booked"), (False, 60, "free"),
                                                                (False, 30, "free")]


def test_a_row_for_a_weekly_slot_is_the_same_slot(database_url, tmp_path):
    created = ensure(database_url, utcnow(), script=SCRIPT)
    with session_scope(database_url) as session:
        slot = session.scalars(select(BookingSlot).order_by(BookingSlot.starts_at.desc())).first()
        local = booking.to_london(slot.starts_at)
        row = {"role": slot.role, "staff": slot.staff, "date": local.date().isoformat(), "time": f"{local:%H:%M}",
               "minutes": str(slot.minutes), "type": slot.kind}
    report = import_slots(make_settings(database_url), write_csv(tmp_path / "s.csv", [row]), "Y00001")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert slot_count(database_url) == created


IN_SPRING_GAP = dt.date(2027, 3, 28)   # clocks go forward at 01:00 GMT
IN_AUTUMN_REPEAT = dt.date(2027, 10, 31)  # clocks go back at 02:00 BST

ROW_PROBLEMS = [
    ("unknown role", {"role": "nurse"}, "role", "'nurse' is not one of this practice's roles (care_coordinator, "),
    ("empty role", {"role": ""}, "role", "is required"),
    ("US date", {"date": "12-31-2027"}, "date", "is not a date in the form YYYY-MM-DD or DD/MM/YYYY"),
    ("unreal date", {"date": "31/02/2027"}, "date", "'31/02/2027' is not a real date"),
    ("empty date", {"date": ""}, "date", "is required"),
    ("dotted time", {"time": "9.30"}, "time", "'9.30' is not a time in the form HH:MM"),
    ("12-hour time", {"time": "2:30pm"}, "time", "'2:30pm' is not a time in the form HH:MM"),
    ("hour 24", {"time": "24:00"}, "time", "'24:00' is not a time"),
    ("too short", {"minutes": "4"}, "minutes", "'4' is not a whole number of minutes from 5 to 240"),
    ("too long", {"minutes": "241"}, "minutes", "from 5 to 240"),
    ("minutes in words", {"minutes": "half an hour"}, "minutes", "from 5 to 240"),
    ("unknown type", {"type": "in person"}, "type", "'in person' is not one of phone, video, face_to_face"),
    ("no staff", {"staff": " "}, "staff", "is required"),
    ("staff not a name", {"staff": "Dr. Smith 2"}, "staff", "'Dr. Smith 2' is not a first name"),
    ("in the past", {"date": "2020-01-07", "time": "10:00"}, "date", "2020-01-07 10:00 is in the past"),
    ("yesterday", {"date": (NOW - dt.timedelta(days=1)).date().isoformat()}, "date", "is in the past"),
    ("skipped hour", {"date": IN_SPRING_GAP.isoformat(), "time": "01:30"}, "time",
     "01:30 does not exist in London on 2027-03-28: the clocks go forward"),
    ("repeated hour", {"date": IN_AUTUMN_REPEAT.isoformat(), "time": "01:30"}, "time",
     "01:30 happens twice in London on 2027-10-31: the clocks go back"),
    ("same slot twice", {"date": FUTURE.isoformat(), "time": "09:00", "minutes": "60"}, "row",
     "the same slot (role, staff, date and time) is also on line 2"),
]


@pytest.mark.parametrize("case, values, column, problem", ROW_PROBLEMS, ids=[c[0] for c in ROW_PROBLEMS])
def test_a_bad_row_refuses_the_whole_file_naming_file_line_and_column(sqlite_url, tmp_path, case, values, column,
                                                                       problem):
    path = write_csv(tmp_path / "slots.csv", [slot_row(0), slot_row(1, **values)])
    with pytest.raises(SlotImportError) as caught:
        import_slots(make_settings(sqlite_url), path, "Y00001")
    where = f"{path}:3: {column}: "
    matching = [p for p in caught.value.problems if p.startswith(where)]
    assert matching and problem in matching[0], caught.value.problems
    assert "nothing was imported" in str(caught.value)
    assert slot_count(sqlite_url) == 0


def test_every_problem_is_listed_and_a_short_row_too(sqlite_url, tmp_path):
    path = tmp_path / "slots.csv"
    write_csv(path, [slot_row(0, role="nurse", minutes="0"), slot_row(1), slot_row(2, type="")])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("care_coordinator,2027-01-12\n")
    with pytest.raises(SlotImportError) as caught:
        import_slots(make_settings(sqlite_url), path, "Y00001")
    assert [p.split(": ")[0] + ": " + p.split(": ")[1] for p in caught.value.problems] == [
        f"{path}:2: role", f"{path}:2: minutes", f"{path}:4: type", f"{path}:5: row"]
    assert caught.value.problems[-1] == f"{path}:5: row: has 2 fields but the header has 6"


@pytest.mark.parametrize("content, problem", [
    (b"", ":1: file: the file is empty; it needs a header row: role,date,time,minutes,type,staff"),
    (b"\n \n\n", ":1: file: the file is empty"),
    (b"role,date,time,minutes,type,staff\n", ":2: file: the file has a header but no slot rows"),
    (b"role,date,time,minutes,type,staff,room\ncare_coordinator,2027-01-12,09:00,30,phone,Sam,1\n",
     ":1: room: unknown column (known columns: role, date, time, minutes, type, staff)"),
    (b"role,date,time,type,staff\ncare_coordinator,2027-01-12,09:00,phone,Sam\n",
     ":1: minutes: required column is missing"),
    (b"role,date,time,minutes,type,staff,Staff\n", ":1: staff: appears twice (columns 6 and 7)"),
    (b"role;date;time;minutes;type;staff\ncare_coordinator;2027-01-12;09:00;30;phone;Sam\n",
     "the file must be comma separated, not semicolon separated"),
    (b"role,date,time,minutes,type,staff\ncare_coordinator,2027-01-12,09:00,30,phone,Ren\xe9e\n",
     ":2: file: byte 47 of the line (0xE9) is not UTF-8 text"),
    ("role,date,time,minutes,type,staff\n".encode("utf-16"), ":1: file: the file is UTF-16 text"),
], ids=["empty", "blank lines", "header only", "unknown column", "missing column", "duplicate column",
        "semicolons", "not UTF-8", "UTF-16"])
def test_a_bad_file_is_refused_with_a_clear_problem(sqlite_url, tmp_path, content, problem):
    path = tmp_path / "slots.csv"
    path.write_bytes(content)
    for skip_invalid in (False, True):  # problems with the file itself refuse it even with skip_invalid
        with pytest.raises(SlotImportError) as caught:
            import_slots(make_settings(sqlite_url), path, "Y00001", skip_invalid=skip_invalid,
                         rejects_path=tmp_path / "rejects.csv")
        assert any(p.startswith(str(path)) and problem in p for p in caught.value.problems), caught.value.problems
    assert slot_count(sqlite_url) == 0
    assert not (tmp_path / "rejects.csv").exists()


def test_not_utf8_and_utf16_say_how_to_fix_it(sqlite_url, tmp_path):
    for content in (b"role,date,time,minutes,type,staff\ncare_coordinator,2027-01-12,09:00,30,phone,Ren\xe9e\n",
                    "role,date,time,minutes,type,staff\n".encode("utf-16")):
        path = tmp_path / "slots.csv"
        path.write_bytes(content)
        with pytest.raises(SlotImportError, match="'CSV UTF-8' and try again"):
            import_slots(make_settings(sqlite_url), path, "Y00001")


def test_a_utf8_byte_order_mark_and_any_header_case_are_fine(sqlite_url, tmp_path):
    path = tmp_path / "slots.csv"
    path.write_text("\ufeffRole,Date,TIME,Minutes,Type,Staff\r\n"
                    f"care_coordinator,{FUTURE.isoformat()},14:00,30,phone,Sam\r\n", encoding="utf-8")
    assert import_slots(make_settings(sqlite_url), path, "Y00001").created == 1


def test_an_unknown_practice_is_refused(sqlite_url, tmp_path):
    with pytest.raises(SlotImportError, match="no practice script for ODS code 'Y99999'"):
        import_slots(make_settings(sqlite_url), write_csv(tmp_path / "s.csv", [slot_row(0)]), "Y99999")


def test_whole_file_refusal_writes_nothing(database_url, tmp_path):
    settings = make_settings(database_url)
    import_slots(settings, write_csv(tmp_path / "a.csv", [slot_row(0)]), "Y00001")
    before = stored(database_url)
    path = write_csv(tmp_path / "b.csv", [slot_row(0, minutes="45"), slot_row(1), slot_row(2, staff="")])
    with pytest.raises(SlotImportError) as caught:
        import_slots(settings, path, "Y00001", rejects_path=tmp_path / "rejects.csv")
    assert caught.value.problems == [f"{path}:4: staff: is required (the first name patients will see)"]
    assert stored(database_url) == before
    assert not (tmp_path / "rejects.csv").exists()


def test_skip_invalid_imports_the_good_rows_and_writes_the_rejects(database_url, tmp_path):
    path = write_csv(tmp_path / "s.csv", [slot_row(0), slot_row(1, role="nurse"), slot_row(2),
                                          slot_row(3, date="2020-01-07", type="text")])
    rejects = tmp_path / "rejects.csv"
    report = import_slots(make_settings(database_url), path, "Y00001", skip_invalid=True, rejects_path=rejects)
    assert (report.created, [r.line for r in report.rejected]) == (2, [3, 5])
    with open(rejects, encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == HEADER + ["error"]
    assert [r["role"] for r in written] == ["nurse", "care_coordinator"]
    assert written[0]["error"].startswith(f"{path}:3: role: 'nurse' is not one of this practice's roles")
    assert f"{path}:5: type: 'text' is not one of" in written[1]["error"]
    assert f"{path}:5: date: 2020-01-07 09:00 is in the past" in written[1]["error"]
    assert written[1]["date"] == "2020-01-07"  # the original values, to correct and import again
    assert len(stored(database_url)) == 2


# --------------------------------------------------------------------------------------------
# The command line


@pytest.fixture
def cli_env(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PRACTICES_DIR", str(PRACTICES))
    return database_url


def test_slots_import_command(cli_env, tmp_path, capsys):
    path = write_csv(tmp_path / "s.csv", [slot_row(0), slot_row(1, minutes="500")])
    assert main(["slots", "import", str(path), "--practice", "Y00001"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"outreach: error: {path}: 1 problem, nothing was imported:\n"
                          f"  {path}:3: minutes: '500' is not a whole number of minutes from 5 to 240")
    assert slot_count(cli_env) == 0

    assert main(["slots", "import", str(path), "--practice", "y00001", "--skip-invalid"]) == 0
    out, _ = capsys.readouterr()
    assert "Y00001: 2 slot rows read: 1 created, 0 updated, 0 unchanged, 1 rejected" in out
    assert f"rejected rows, with an error column: {tmp_path / 's.rejects.csv'}" in out
    assert (tmp_path / "s.rejects.csv").exists()

    assert main(["slots", "import", str(tmp_path / "missing.csv"), "--practice", "Y00001"]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    assert main(["slots", "import", str(path), "--practice", "Y99999"]) == 2
    assert "no practice script for ODS code 'Y99999'" in capsys.readouterr().err


def test_slots_list_command_shows_the_weekly_pattern_and_bookings_without_names(cli_env, capsys):
    pid = practice_id(cli_env)
    [patient] = add_patients(cli_env, 1)
    with session_scope(cli_env) as session:
        session.get(Patient, patient).first_name = "Wilhelmina"
    assert main(["slots", "list", "--practice", "Y00001"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == slot_count(cli_env) > 0
    for role in SCRIPT.roles.values():  # every weekly session shows, at its London time
        for weekly in role.weekly:
            day = booking.DAY_NAMES[weekly.weekday]
            assert any(f" {day} {weekly.hour:02d}:{weekly.minute:02d}\t{weekly.minutes} min\t{role.title}\t"
                       f"{weekly.staff}\t" in line for line in lines), (role.key, weekly)
    assert all(line.endswith("\tfree\tweekly") for line in lines)
    assert f"{len(lines)} slot(s) in the next 14 days: {len(lines)} free, 0 booked" in err

    with session_scope(cli_env) as session:
        slot = soonest_free(session, pid, "care_coordinator", utcnow())[0]
        book(session, slot.id, patient_id=patient, practice_id=pid, conversation_id=None, role="care_coordinator")
    assert main(["slots", "list", "--practice", "Y00001", "--role", "care coordinator", "--days", "7"]) == 0
    out, err = capsys.readouterr()
    assert out and all("\tcare coordinator\t" in line for line in out.splitlines())
    assert "\tbooked\t" in out and "Wilhelmina" not in out + err
    assert "1 booked" in err

    assert main(["slots", "list", "--practice", "Y00001", "--role", "nurse"]) == 2
    assert "'nurse' is not one of Y00001's roles" in capsys.readouterr().err
    assert main(["slots", "list", "--practice", "Y00001", "--days", "0"]) == 2
    assert "--days must be from 1 to 366" in capsys.readouterr().err


def test_a_slot_late_on_the_last_day_of_the_horizon_is_created_offered_and_listed_alike(cli_env, capsys):
    # Thursday 4 June 2026, 10:30 in London: the weekly Thursday 14:00 session falls on 4, 11 and
    # 18 June; 18 June 14:00 is the last day of the horizon and later than exactly 14 days from now.
    now = utc(2026, 6, 4, 9, 30)
    last_day = utc(2026, 6, 18, 13, 0)          # 14:00 BST
    after = utc(2026, 6, 18, 23, 30)            # 00:30 on 19 June in London: outside the horizon
    assert booking.horizon_end(now) == utc(2026, 6, 18, 23, 0)
    add_slots(cli_env, [after])
    pid = practice_id(cli_env)
    thursdays = [utc(2026, 6, 4, 13, 0), utc(2026, 6, 11, 13, 0), last_day]
    with session_scope(cli_env) as session:
        practice = session.get(Practice, pid)
        ensure_weekly_slots(session, practice, SCRIPT, now)
    created = [s for s in stored(cli_env) if s[3].weekday() == 3 and s[1] == "care_coordinator" and s[7] == "weekly"]
    assert [s[3] for s in created] == thursdays
    with session_scope(cli_env) as session:
        offered = [s.starts_at for s in soonest_free(session, pid, "care_coordinator", now, limit=100)]
    assert [s for s in offered if s.weekday() == 3 and s != after] == thursdays and after not in offered

    args = argparse.Namespace(practice="Y00001", role="care coordinator", days=booking.HORIZON_DAYS)
    assert booking.run_list_command(args, now=now) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line[:20] for line in listed if " Thu " in line] == [
        "2026-06-04 Thu 14:00", "2026-06-11 Thu 14:00", "2026-06-18 Thu 14:00"]
    assert not any(line.startswith("2026-06-19") for line in listed)
    assert len(listed) == len(offered)       # listed and offered alike (all are free)


def test_slots_example_command_writes_a_file_that_imports(cli_env, tmp_path, capsys):
    path = tmp_path / "slots.csv"
    assert main(["slots", "example", "--out", str(path)]) == 0
    assert "7 example slots" in capsys.readouterr().err
    assert main(["slots", "import", str(path), "--practice", "Y00001"]) == 0
    assert "7 created" in capsys.readouterr().out


def test_slots_commands_are_documented_in_help(capsys):
    for argv in (["slots", "--help"], ["slots", "import", "--help"], ["slots", "list", "--help"],
                 ["slots", "example", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
    text = capsys.readouterr().out
    for words in ("import", "list", "--skip-invalid", "--rejects", "--role", "--days", "role,date,time,minutes,type,staff",
                  "London time"):
        assert words in text
