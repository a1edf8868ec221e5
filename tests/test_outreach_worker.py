"""The outreach worker end to end: real Rasa and action server, the real twilio client against the
Twilio-compatible fake. Uses the second example practice (Y00002) so other tests' patients stay out."""
from __future__ import annotations

import datetime as dt
import itertools
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import Invitation, Outcome, Patient, Task
from bot.patients.outreach import add_patient
from bot.practice_script.loader import script_for
from bot.patients.invitations import OutreachWorker
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
SCRIPT = script_for(PROJECT_ROOT / "practices", "Y00002")
SENDER = SCRIPT.sender
_numbers = itertools.count(600)


def next_weekday_at(hour: int, minute: int = 0, after: dt.date | None = None) -> dt.datetime:
    """A naive UTC time on the next working day (not a bank holiday) at this London wall-clock time."""
    import holidays

    day = (after or dt.date.today()) + dt.timedelta(days=1)
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(day.year, day.year + 2))
    while day.weekday() >= 5 or day in bank:
        day += dt.timedelta(days=1)
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo("Europe/London"))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def add(deployment, days_since_diagnosis: int, now: dt.datetime, name: str = "Sam") -> str:
    number = f"+447700900{next(_numbers):03d}"
    add_patient(deployment.settings, "Y00002", name, "Jones", dt.date(1950, 5, 17), number,
                now.date() - dt.timedelta(days=days_since_diagnosis))
    return number


def texts_to(deployment, number: str) -> list[str]:
    return [m["body"] for m in deployment.fake.messages if m["to"] == number]


def sent_after_sender_settles(deployment, numbers: list[str], count: int) -> list[dict]:
    """Wait until `count` texts to these numbers reached Twilio, then return them in arrival order."""
    wait_for(lambda: len([m for m in deployment.fake.messages if m["to"] in numbers]) >= count,
             what=f"{count} texts to the test patients")
    return [m for m in deployment.fake.messages if m["to"] in numbers]


def test_invitations_go_in_time_order_and_only_inside_the_window(deployment):
    now = next_weekday_at(11)
    late, early, missed = add(deployment, 80, now), add(deployment, 5, now), add(deployment, 94, now)
    worker = OutreachWorker(deployment.settings, deployment.rasa())

    saturday = now + dt.timedelta(days=(5 - now.weekday()) % 7 or 7)
    assert worker.run_once(saturday.replace(hour=11), practices=["Y00002"]).first == 0

    report = worker.run_once(now, practices=["Y00002"])
    assert report.first == 2 and report.errors == []
    arrived = sent_after_sender_settles(deployment, [late, early, missed], 2)
    assert [m["to"] for m in arrived] == [late, early]   # the patient imported on day 80 goes first
    assert arrived[0]["body"] == SCRIPT.render("opener", first_name="Sam")
    assert arrived[0]["from"] == SENDER
    assert texts_to(deployment, missed) == []
    assert worker.run_once(now, practices=["Y00002"]).first == 0   # nothing twice


def test_second_invitation_after_seven_days_then_no_response(deployment):
    now = next_weekday_at(10)
    quiet, chatty = add(deployment, 3, now), add(deployment, 3, now)
    worker = OutreachWorker(deployment.settings, deployment.rasa())
    worker.run_once(now, practices=["Y00002"])
    sent_after_sender_settles(deployment, [quiet, chatty], 2)
    deployment.fake.send_inbound(deployment.inbound_url, chatty, SENDER, "who is this")
    wait_for(lambda: len(texts_to(deployment, chatty)) >= 3, what="the reply to the chatty patient")

    next_day = next_weekday_at(10, after=now.date())
    assert next_day - now < dt.timedelta(days=7)
    assert worker.run_once(next_day, practices=["Y00002"]).second == 0   # not yet 7 days

    week = next_weekday_at(10, after=(now + dt.timedelta(days=7)).date())
    assert worker.run_once(week, practices=["Y00002"]).second >= 1
    wait_for(lambda: len(texts_to(deployment, quiet)) == 2, what="the second invitation")
    assert texts_to(deployment, quiet) == [SCRIPT.render("opener", first_name="Sam")] * 2
    assert len(texts_to(deployment, chatty)) == 3   # replied, so no reminder

    fortnight = next_weekday_at(10, after=(week + dt.timedelta(days=7)).date())
    assert worker.run_once(fortnight, practices=["Y00002"]).no_response >= 1
    with session_scope(deployment.settings.database_url) as session:
        def kinds(model, number):
            patient = session.scalar(select(Patient).where(Patient.mobile == number))
            return session.scalars(select(model.kind).where(model.patient_id == patient.id)).all()
        assert kinds(Outcome, quiet) == ["no_response"] and kinds(Task, quiet) == ["no_response_call"]
        assert kinds(Outcome, chatty) == []
    later = fortnight + dt.timedelta(days=7)
    worker.run_once(later, practices=["Y00002"])
    with session_scope(deployment.settings.database_url) as session:
        assert kinds(Outcome, quiet) == ["no_response"]   # recorded once


def test_a_patient_preferring_another_language_gets_english_and_an_interpreter_call(deployment):
    now = next_weekday_at(13)
    number = add(deployment, 12, now)
    with session_scope(deployment.settings.database_url) as session:
        session.scalar(select(Patient).where(Patient.mobile == number)).preferred_language = "pl"
    worker = OutreachWorker(deployment.settings, deployment.rasa())
    worker.run_once(now, practices=["Y00002"])
    sent_after_sender_settles(deployment, [number], 1)
    assert texts_to(deployment, number) == [SCRIPT.render("opener", first_name="Sam")]
    with session_scope(deployment.settings.database_url) as session:
        patient = session.scalar(select(Patient).where(Patient.mobile == number))
        assert session.scalars(select(Task.kind).where(Task.patient_id == patient.id)).all() == ["interpreter_call"]


def test_two_workers_racing_invite_each_patient_once(deployment):
    now = next_weekday_at(14)
    numbers = [add(deployment, 20, now) for _ in range(6)]
    workers = [OutreachWorker(deployment.settings, deployment.rasa()) for _ in range(2)]
    barrier = threading.Barrier(2)
    reports = []

    def run(worker):
        barrier.wait()
        reports.append(worker.run_once(now, practices=["Y00002"]))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.first for r in reports) == 6 and all(r.errors == [] for r in reports)
    sent_after_sender_settles(deployment, numbers, 6)
    for number in numbers:
        assert len(texts_to(deployment, number)) == 1


def test_a_worker_restarted_mid_batch_finishes_the_claimed_invitation_once(deployment):
    now = next_weekday_at(15)
    number = add(deployment, 30, now)
    with session_scope(deployment.settings.database_url) as session:
        patient = session.scalar(select(Patient).where(Patient.mobile == number))
        # The first worker claimed the invitation, then died before anything was queued.
        session.add(Invitation(patient_id=patient.id, number=1, claimed_at=now - dt.timedelta(minutes=30)))
    worker = OutreachWorker(deployment.settings, deployment.rasa())
    worker.run_once(now, practices=["Y00002"])
    worker.run_once(now, practices=["Y00002"])
    sent_after_sender_settles(deployment, [number], 1)
    assert texts_to(deployment, number) == [SCRIPT.render("opener", first_name="Sam")]
    from bot.db.models import OutboundMessage

    with session_scope(deployment.settings.database_url) as session:
        assert len(session.scalars(select(OutboundMessage).where(OutboundMessage.to_number == number)).all()) == 1


def _nhs_number(seed: int) -> str:
    """The first number from `seed` in the 999 test range whose check digit is valid."""
    from bot.patients.nhs_numbers import nhs_number_is_valid

    return next(f"999{n:06d}{check}" for n in itertools.count(seed) for check in range(10)
                if nhs_number_is_valid(f"999{n:06d}{check}"))


def test_import_a_register_then_invite_reply_and_remind(deployment, tmp_path):
    from bot.patients.register import import_register

    now = next_weekday_at(11, 30)
    replier, silent = f"+447700900{next(_numbers):03d}", f"+447700900{next(_numbers):03d}"
    diagnosed = lambda days: (now.date() - dt.timedelta(days=days)).isoformat()  # noqa: E731
    register = tmp_path / "register.csv"
    register.write_text(
        "nhs_number,first_name,last_name,date_of_birth,mobile,diagnosis_date,on_active_treatment,deceased_date\n"
        f"{_nhs_number(1000)},Ria,Patel,1960-01-02,{replier},{diagnosed(70)},yes,\n"
        f"{_nhs_number(2000)},Tom,Hughes,1955-07-08,{silent},{diagnosed(10)},no,\n"
        f"{_nhs_number(3000)},Lee,Brown,1949-03-04,01632 960000,{diagnosed(20)},,\n"
        f"{_nhs_number(4000)},Ann,Gray,1940-05-06,+447700900{next(_numbers):03d},{diagnosed(30)},,{diagnosed(1)}\n")
    report = import_register(deployment.settings, register, "Y00002")
    assert report.added == 2 and len(report.needs_phone_call) == 1 and len(report.deceased) == 1

    worker = OutreachWorker(deployment.settings, deployment.rasa())
    worker.run_once(now, practices=["Y00002"])
    arrived = sent_after_sender_settles(deployment, [replier, silent], 2)
    assert [m["to"] for m in arrived] == [replier, silent]    # day 70 before day 10
    assert arrived[0]["body"] == SCRIPT.render("opener", first_name="Ria")

    deployment.fake.send_inbound(deployment.inbound_url, replier, SENDER, "2/1/1960")
    wait_for(lambda: len(texts_to(deployment, replier)) == 3, what="the support texts")
    assert texts_to(deployment, replier)[1] == SCRIPT.render("support_info", first_name="Ria")

    week = next_weekday_at(11, 30, after=(now + dt.timedelta(days=7)).date())
    worker.run_once(week, practices=["Y00002"])
    wait_for(lambda: len(texts_to(deployment, silent)) == 2, what="the reminder")
    assert texts_to(deployment, silent) == [SCRIPT.render("opener", first_name="Tom")] * 2
    assert len(texts_to(deployment, replier)) == 3           # informed: no reminder
    with session_scope(deployment.settings.database_url) as session:
        ria = session.scalar(select(Patient).where(Patient.mobile == replier))
        assert session.scalar(select(Outcome.kind).where(Outcome.patient_id == ria.id)) == "informed"
