"""CAN005 practice reporting (bot/reports/can005.py): every figure on a small cohort with explicit dates, the
achievement thresholds, the QOF year boundaries, PCN totals, the `outreach report` command and the
inbox's report page. Real databases: each test runs on SQLite and PostgreSQL (`database_url`).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
import uuid

import pytest
from sqlalchemy import select

from bot import cli
from bot.reports import can005 as reporting
from bot.checkin.replies import AREAS
from bot.db.engine import session_scope
from bot.db.models import (Appointment, AuditEntry, BookingSlot, ConcernAnswer, Conversation, Flag, InboundMessage,
                           Invitation, Outcome, Patient, Practice, RoutingDecision, User)
from tests.test_inbox import inbox, new_user, practice_id, signed_in  # noqa: F401  (inbox is a fixture)

AS_AT = dt.date(2025, 12, 1)          # a report date inside the QOF year 2025/26
YEAR_2025 = dt.date(2025, 4, 1)
NAME = "Zebedee"                      # every test patient's first name: it must never appear in a report


def noon(day: dt.date) -> dt.datetime:
    """Midday UTC of a date: the same date in England, summer or winter."""
    return dt.datetime.combine(day, dt.time(12))


class Data:
    """Writes rows as the assistant would; returns ids. Dates are explicit, never relative to today."""

    def __init__(self, url: str):
        self.url = url
        self.mobiles = itertools.count(100)
        self.conversations: dict[int, int] = {}

    def practice(self, ods: str, name: str) -> int:
        with session_scope(self.url) as session:
            practice = Practice(ods_code=ods, name=name)
            session.add(practice)
            session.flush()
            return practice.id

    def patient(self, practice: int, diagnosed: dt.date, **fields) -> int:
        with session_scope(self.url) as session:
            patient = Patient(practice_id=practice, first_name=NAME, last_name="Quill", diagnosis_date=diagnosed,
                              date_of_birth=dt.date(1960, 1, 1), mobile=f"+447700900{next(self.mobiles):03d}", **fields)
            session.add(patient)
            session.flush()
            return patient.id

    def day(self, patient: int, n: int) -> dt.datetime:
        """Midday UTC on day n after the patient's diagnosis."""
        with session_scope(self.url) as session:
            return noon(session.get(Patient, patient).diagnosis_date + dt.timedelta(days=n))

    def conversation(self, patient: int, started: dt.datetime) -> int:
        with session_scope(self.url) as session:
            practice = session.get(Patient, patient).practice_id
            conversation = Conversation(practice_id=practice, patient_id=patient, started_at=started,
                                        updated_at=started)
            session.add(conversation)
            session.flush()
            self.conversations[patient] = conversation.id
            return conversation.id

    def invitation(self, patient: int, number: int, queued: dt.datetime) -> None:
        with session_scope(self.url) as session:
            session.add(Invitation(patient_id=patient, number=number, status="queued", claimed_at=queued,
                                   queued_at=queued, conversation_id=self.conversations.get(patient)))

    def outcome(self, patient: int, kind: str, at: dt.datetime) -> None:
        with session_scope(self.url) as session:
            session.add(Outcome(patient_id=patient, conversation_id=self.conversations.get(patient), kind=kind,
                                recorded_at=at))

    def text(self, patient: int, at: dt.datetime) -> int:
        with session_scope(self.url) as session:
            message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number="+447700900999", body="Yes",
                                     received_at=at, patient_id=patient, status="processed",
                                     conversation_id=self.conversations.get(patient))
            session.add(message)
            session.flush()
            return message.id

    def answer(self, patient: int, question: str, at: dt.datetime, areas: str | None = None,
               status: str = "answered", score: int | None = None) -> None:
        with session_scope(self.url) as session:
            session.add(ConcernAnswer(conversation_id=self.conversations[patient], patient_id=patient,
                                      question=question, status=status, areas=areas, score=score, recorded_at=at))

    def route(self, patient: int, role: str, at: dt.datetime) -> None:
        with session_scope(self.url) as session:
            session.add(RoutingDecision(conversation_id=self.conversations[patient], patient_id=patient, role=role,
                                        rule="single_area", reason="a test", decided_at=at))

    def appointment(self, patient: int, status: str, booked: dt.datetime, cancelled: dt.datetime | None = None) -> None:
        with session_scope(self.url) as session:
            practice = session.get(Patient, patient).practice_id
            slot = BookingSlot(practice_id=practice, role="care_coordinator", staff="Sam", kind="phone",
                               starts_at=booked + dt.timedelta(days=3, minutes=next(self.mobiles)),
                               status="free" if status != "booked" else "booked")
            session.add(slot)
            session.flush()
            session.add(Appointment(practice_id=practice, patient_id=patient, slot_id=slot.id, role="care_coordinator",
                                    conversation_id=self.conversations.get(patient), status=status, booked_at=booked,
                                    cancelled_at=cancelled))

    def flag(self, patient: int, kind: str, severity: str, created: dt.datetime,
             acknowledged: dt.datetime | None = None) -> None:
        message_id = self.text(patient, created)
        with session_scope(self.url) as session:
            practice = session.get(Patient, patient).practice_id
            session.add(Flag(practice_id=practice, patient_id=patient, conversation_id=self.conversations.get(patient),
                             inbound_message_id=message_id, kind=kind, severity=severity, category="test",
                             evidence="words", created_at=created, acknowledged_at=acknowledged))


def before(n: int, day: dt.date = AS_AT) -> dt.date:
    """The diagnosis date that makes `day` day n."""
    return day - dt.timedelta(days=n)


def report_of(url: str, codes: list[str], year_start: dt.date = YEAR_2025, today: dt.date = AS_AT):
    with session_scope(url) as session:
        return reporting.build_report(session, codes, year_start, today)


def seed_two_practices(data: Data) -> None:
    """Practice A00001: one patient for each case at the boundaries; B00002: two more patients."""
    a = data.practice("A00001", "Riverside Surgery")
    b = data.practice("B00002", "Hillside Medical Centre")

    p1 = data.patient(a, before(120))                      # informed on day 93: in time
    data.invitation(p1, 1, data.day(p1, 3))
    data.outcome(p1, "informed", data.day(p1, 93))
    p2 = data.patient(a, before(120))                      # informed on day 94: late
    data.conversation(p2, data.day(p2, 5))
    data.outcome(p2, "informed", data.day(p2, 94))
    p3 = data.patient(a, before(150))                      # declined: a PCA
    data.conversation(p3, data.day(p3, 10))
    data.text(p3, data.day(p3, 12))
    data.outcome(p3, "declined", data.day(p3, 12))
    p4 = data.patient(a, before(200))                      # no response, invitations exactly 7 days apart: a PCA
    data.conversation(p4, data.day(p4, 1))
    data.invitation(p4, 1, data.day(p4, 1))
    data.invitation(p4, 2, data.day(p4, 8))
    data.outcome(p4, "no_response", data.day(p4, 15))
    p5 = data.patient(a, before(200))                      # "no response" after invitations 4 days apart: no PCA
    data.invitation(p5, 1, data.day(p5, 1))
    data.invitation(p5, 2, data.day(p5, 5))
    data.outcome(p5, "no_response", data.day(p5, 12))
    data.patient(a, before(94))                            # p6: day 94, nothing settled: missed
    p7 = data.patient(a, before(93))                       # day 93, invited: still in the window
    data.invitation(p7, 1, data.day(p7, 2))
    data.patient(a, before(92), opted_out_at=noon(before(80)))   # p8: day 92, opted out: not yet due
    p9 = data.patient(a, before(150), deceased_date=before(150 - 93))  # died on day 93: not eligible
    data.conversation(p9, data.day(p9, 20))
    data.flag(p9, "clinical", "urgent", data.day(p9, 30), data.day(p9, 30) + dt.timedelta(minutes=10))
    data.patient(a, before(150), deceased_date=before(150 - 94))       # p10: died on day 94: eligible, not met
    data.patient(a, before(150), opted_out_at=noon(before(140)))       # p11: opted out, never informed
    p12 = data.patient(a, before(100))                     # informed in time, declined later: numerator
    data.conversation(p12, data.day(p12, 28))
    data.text(p12, data.day(p12, 30))
    data.outcome(p12, "informed", data.day(p12, 30))
    data.outcome(p12, "declined", data.day(p12, 40))
    data.answer(p12, "areas", data.day(p12, 31), areas="physical,emotional")
    data.route(p12, "social_prescriber", data.day(p12, 32))
    data.appointment(p12, "booked", data.day(p12, 33))
    data.flag(p12, "safeguarding", "soon", data.day(p12, 34), data.day(p12, 34) + dt.timedelta(minutes=30))
    # Day 93 of a patient diagnosed on 24 July 2025 is 25 October, in British Summer Time:
    p13 = data.patient(a, dt.date(2025, 7, 24))            # 23:30 UTC = 00:30 on 26 October in England: day 94
    data.conversation(p13, data.day(p13, 90))
    data.outcome(p13, "informed", dt.datetime(2025, 10, 25, 23, 30))
    data.route(p13, "care_coordinator", data.day(p13, 91))
    data.appointment(p13, "rebooked", data.day(p13, 91), data.day(p13, 92))   # moved: counted once
    data.appointment(p13, "booked", data.day(p13, 92))
    data.flag(p13, "clinical", "urgent", data.day(p13, 95), noon(AS_AT + dt.timedelta(days=1)))  # picked up later
    p14 = data.patient(a, dt.date(2025, 7, 24))            # 22:30 UTC = 23:30 on 25 October: day 93, in time
    data.conversation(p14, data.day(p14, 60))
    data.invitation(p14, 1, data.day(p14, 60))
    data.outcome(p14, "informed", dt.datetime(2025, 10, 25, 22, 30))
    data.answer(p14, "areas", data.day(p14, 61), status="skipped")
    data.appointment(p14, "booked", noon(AS_AT + dt.timedelta(days=1)))        # after the report date
    data.flag(p14, "clinical", "urgent", noon(AS_AT + dt.timedelta(days=1)))   # after the report date
    p15 = data.patient(a, dt.date(2025, 3, 31))            # diagnosed in the previous QOF year
    data.outcome(p15, "informed", noon(dt.date(2025, 4, 2)))
    data.patient(a, AS_AT + dt.timedelta(days=1))          # p16: a diagnosis after the report date
    p17 = data.patient(a, before(10))                      # informed on day 5: numerator, though recent
    data.conversation(p17, data.day(p17, 4))
    data.text(p17, data.day(p17, 5))
    data.outcome(p17, "informed", data.day(p17, 5))
    data.answer(p17, "overall", data.day(p17, 5), score=7)
    data.answer(p17, "areas", data.day(p17, 6), areas="physical")
    data.route(p17, "care_coordinator", data.day(p17, 7))
    data.route(p17, "care_coordinator", data.day(p17, 8))  # routed twice to the same role: one patient
    data.appointment(p17, "cancelled", data.day(p17, 7), data.day(p17, 8))
    data.flag(p17, "clinical", "soon", data.day(p17, 9))   # never picked up

    q1 = data.patient(b, before(100))                      # missed
    data.flag(q1, "clinical", "urgent", data.day(q1, 50), data.day(q1, 50) + dt.timedelta(minutes=5))
    q2 = data.patient(b, before(100))                      # informed in time
    data.invitation(q2, 1, data.day(q2, 9))
    data.outcome(q2, "informed", data.day(q2, 10))


def groups(figures: reporting.Figures) -> dict[str, int]:
    return {name: getattr(figures, name) for name in ("informed_in_time", "declined", "no_response", "not_yet_due",
                                                      "missed", "informed_late", "other_not_met")}


# -- one practice, every figure ----------------------------------------------------------------------------

def test_every_figure_of_one_practice_at_the_day_93_boundaries(database_url):
    seed_two_practices(Data(database_url))
    report = report_of(database_url, ["a00001"])
    assert (report.year_start, report.year_end, report.as_at) == (YEAR_2025, dt.date(2026, 3, 31), AS_AT)
    assert [(p.ods_code, p.name) for p in report.practices] == [("A00001", "Riverside Surgery")]
    f = report.practices[0].figures
    assert report.total == f                   # one practice: the total is that practice

    assert (f.diagnosed, f.died_in_window, f.eligible) == (15, 1, 14)
    assert groups(f) == {"informed_in_time": 4, "declined": 1, "no_response": 1, "not_yet_due": 2, "missed": 1,
                         "informed_late": 2, "other_not_met": 3}
    assert sum(groups(f).values()) == f.eligible
    assert f.in_window == 1                    # day 93 and invited; the opted-out day-92 patient is not due texts
    assert (f.contacted, f.replied, f.reply_rate) == (10, 4, 40.0)   # p13 replied with the text that raised a flag
    # first contact on days 1, 1, 2, 3, 4, 5, 10, 28, 60, 90
    assert f.days_to_first_contact == reporting.Spread(10, 4.5, 60.0)

    assert f.achievement == reporting.Achievement(
        numerator=4, denominator=10, excluded_declined=1, excluded_no_response=1, excluded_not_yet_due=2,
        percent=40.0, band="below 70%", points_share=0.0)

    assert f.concern_areas == {"physical": 2, "emotional": 1, "practical": 0, "family": 0, "spiritual": 0,
                               "lifestyle": 0}
    assert f.roles == {"care_coordinator": 2, "social_prescriber": 1}
    assert (f.appointments_booked, f.appointments_cancelled) == (3, 1)
    assert f.flags == {"clinical_urgent": 2, "clinical_soon": 1, "safeguarding_urgent": 0, "safeguarding_soon": 1}
    assert f.flags_unacknowledged == 2         # one never picked up, one picked up after the report date
    assert f.minutes_to_first_response == reporting.Spread(2, 20.0, 30.0)


def test_a_practice_sees_only_its_own_patients(database_url):
    seed_two_practices(Data(database_url))
    f = report_of(database_url, ["B00002"]).practices[0].figures
    assert (f.diagnosed, f.eligible, f.missed, f.informed_in_time, f.contacted) == (2, 2, 1, 1, 1)
    assert (f.replied, f.reply_rate) == (0, 0.0)   # q1 texted (a flag) but was never contacted: not a reply
    assert (f.achievement.numerator, f.achievement.denominator, f.achievement.percent) == (1, 2, 50.0)
    assert f.flags["clinical_urgent"] == 1 and f.minutes_to_first_response == reporting.Spread(1, 5.0, 5.0)
    assert f.roles == {} and f.appointments_booked == 0


def test_pcn_totals_are_worked_out_over_all_patients_not_averaged(database_url):
    seed_two_practices(Data(database_url))
    report = report_of(database_url, ["B00002", "A00001"])
    assert [p.ods_code for p in report.practices] == ["A00001", "B00002"]
    a, b, total = report.practices[0].figures, report.practices[1].figures, report.total
    for name in ("diagnosed", "eligible", "contacted", "replied", "informed_in_time", "declined", "no_response",
                 "not_yet_due", "in_window", "missed", "informed_late", "other_not_met", "appointments_booked",
                 "flags_unacknowledged"):
        assert getattr(total, name) == getattr(a, name) + getattr(b, name), name
    assert total.achievement.numerator == 5 and total.achievement.denominator == 12
    assert total.achievement.percent == 41.6   # 5/12 (rounded down), not the mean of 40% and 50%
    # medians over every patient: contact days 1,1,2,3,4,5,9,10,28,60,90; responses 5, 10, 30 minutes
    assert total.days_to_first_contact == reporting.Spread(11, 5.0, 60.0)
    assert total.minutes_to_first_response == reporting.Spread(3, 10.0, 30.0)
    assert total.flags["clinical_urgent"] == 3


def test_the_qof_year_runs_from_1_april_to_31_march(database_url):
    data = Data(database_url)
    a = data.practice("A00001", "Riverside Surgery")
    data.patient(a, dt.date(2025, 3, 31))
    first = data.patient(a, dt.date(2025, 4, 1))
    data.outcome(first, "informed", noon(dt.date(2025, 4, 3)))
    data.patient(a, dt.date(2026, 3, 31))
    late = data.patient(a, dt.date(2026, 3, 1))            # informed on 2 April 2026: after the year's end
    data.outcome(late, "informed", noon(dt.date(2026, 4, 2)))
    data.patient(a, dt.date(2026, 4, 1))

    # Reported after the year is over: as QOF saw it on 31 March 2026.
    year = report_of(database_url, ["A00001"], YEAR_2025, today=dt.date(2026, 6, 1))
    assert (year.as_at, year.year_end, year.qof_year) == (dt.date(2026, 3, 31), dt.date(2026, 3, 31), "2025/26")
    f = year.total
    assert f.diagnosed == 3                                # 1 April 2025, 1 March 2026 and 31 March 2026
    assert (f.informed_in_time, f.not_yet_due, f.informed_late) == (1, 2, 0)
    assert (f.achievement.numerator, f.achievement.denominator, f.achievement.band) == (1, 1, "at or above 90%")

    previous = report_of(database_url, ["A00001"], dt.date(2024, 4, 1), today=dt.date(2026, 6, 1))
    assert previous.as_at == dt.date(2025, 3, 31) and previous.total.diagnosed == 1 and previous.total.not_yet_due == 1

    assert reporting.qof_year_start(dt.date(2026, 3, 31)) == dt.date(2025, 4, 1)
    assert reporting.qof_year_start(dt.date(2026, 4, 1)) == dt.date(2026, 4, 1)
    with pytest.raises(reporting.ReportError, match="starts on 2026-04-01, after 2026-03-31"):
        report_of(database_url, ["A00001"], dt.date(2026, 4, 1), today=dt.date(2026, 3, 31))
    with pytest.raises(reporting.ReportError, match="1 April"):
        report_of(database_url, ["A00001"], dt.date(2025, 1, 1))


# -- thresholds and spreads (no database) --------------------------------------------------------------------

@pytest.mark.parametrize("numerator, denominator, percent, band, share", [
    (69, 100, 69.0, "below 70%", 0.0),
    (7, 10, 70.0, "between", 0.0),
    (8, 10, 80.0, "between", 0.5),
    (899, 1000, 89.9, "between", 0.995),
    (8999, 10000, 89.9, "between", 0.999),         # 89.99%: rounded down, never shown as 90.0 or 1.0
    (63, 70, 90.0, "at or above 90%", 1.0),        # exactly 90%, compared in whole numbers
    (10, 10, 100.0, "at or above 90%", 1.0),
    (0, 0, None, "no denominator", None),
])
def test_achievement_against_the_qof_thresholds(numerator, denominator, percent, band, share):
    result = reporting.achievement(numerator, denominator)
    assert (result.percent, result.band, result.points_share) == (percent, band, share)


def test_median_and_nearest_rank_90th_percentile():
    assert reporting.spread(range(1, 11)) == reporting.Spread(10, 5.5, 9.0)
    assert reporting.spread([7]) == reporting.Spread(1, 7.0, 7.0)
    assert reporting.spread([]) == reporting.Spread(0, None, None)
    assert reporting.spread([30, 10, 20]) == reporting.Spread(3, 20.0, 30.0)


# -- the command ---------------------------------------------------------------------------------------------

def seed_2024(data: Data) -> None:
    """QOF year 2024/25, reported as at 31 March 2025 whatever today is."""
    a = data.practice("A00001", "Riverside Surgery")
    b = data.practice("B00002", "Hillside Medical Centre")
    a1 = data.patient(a, dt.date(2024, 10, 1))
    data.invitation(a1, 1, noon(dt.date(2024, 10, 5)))
    data.outcome(a1, "informed", noon(dt.date(2024, 10, 20)))
    data.patient(a, dt.date(2024, 10, 1))                  # missed
    b1 = data.patient(b, dt.date(2024, 12, 1))
    data.invitation(b1, 1, noon(dt.date(2024, 12, 3)))
    data.outcome(b1, "informed", noon(dt.date(2024, 12, 10)))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_report_json_and_csv_through_the_command(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    seed_2024(Data(database_url))

    code, out, _ = run(capsys, "--pcn", "--year", "2024", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["qof_year"], data["year_start"], data["as_at"]) == ("2024/25", "2024-04-01", "2025-03-31")
    assert [(p["ods_code"], p["eligible"], p["achievement"]["percent"]) for p in data["practices"]] == \
        [("A00001", 2, 50.0), ("B00002", 1, 100.0)]
    assert data["total"]["achievement"] == {"numerator": 2, "denominator": 3, "excluded_declined": 0,
                                            "excluded_no_response": 0, "excluded_not_yet_due": 0, "percent": 66.6,
                                            "band": "below 70%", "points_share": 0.0}
    assert data["total"]["days_to_first_contact"] == {"count": 2, "median": 3.0, "p90": 4.0}
    assert NAME not in out

    code, out, _ = run(capsys, "--practice", "a00001", "--practice", "B00002", "--year", "2024", "--csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert [(r["ods_code"], r["eligible"], r["missed"], r["numerator"], r["denominator"], r["achievement_percent"],
             r["band"]) for r in table] == [
        ("A00001", "2", "1", "1", "2", "50.0", "below 70%"),
        ("B00002", "1", "0", "1", "1", "100.0", "at or above 90%"),
        ("TOTAL", "3", "1", "2", "3", "66.6", "below 70%")]
    assert {"area_physical", "flags_clinical_urgent", "minutes_to_first_response_p90"} <= set(table[0])
    assert table[0]["minutes_to_first_response_median"] == ""      # no flags: blank, not 0

    code, out, _ = run(capsys, "--practice", "A00001", "--year", "2024")
    assert code == 0
    assert "CAN005 report, QOF year 2024/25 (01 Apr 2024 to 31 Mar 2025), as at 31 Mar 2025" in out
    assert re.search(r"^Eligible +2$", out, re.M) and re.search(r"^CAN005 achievement % +50$", out, re.M)
    assert "Total" not in out and NAME not in out


def test_the_default_year_is_the_current_qof_year(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    Data(database_url).practice("A00001", "Riverside Surgery")
    code, out, _ = run(capsys, "--pcn", "--json")
    assert code == 0
    assert json.loads(out)["year_start"] == reporting.qof_year_start(reporting.london_today()).isoformat()


def test_report_errors_name_the_problem(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    code, out, err = run(capsys, "--pcn")
    assert (code, out) == (2, "") and "outreach: error: there are no practices in the database" in err
    Data(database_url).practice("A00001", "Riverside Surgery")
    code, out, err = run(capsys, "--practice", "A00001", "--practice", "zz999", "--practice", "Y12345")
    assert (code, out) == (2, "") and "outreach: error: no practice ZZ999, Y12345 in the database" in err
    code, out, err = run(capsys, "--practice", "A00001", "--year", str(reporting.london_today().year + 1))
    assert code == 2 and "is not a QOF year" in err
    with pytest.raises(SystemExit) as exit_info:                    # argparse: one scope, one format
        cli.main(["report", "--practice", "A00001", "--pcn"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["report", "--pcn", "--json", "--csv"])


# -- the inbox page --------------------------------------------------------------------------------------------

def seed_page(db: str) -> tuple[str, str]:
    """Two practices of their own, in QOF year 2024/25: mine (2 eligible, 1 informed) and another (5 missed)."""
    data = Data(db)
    mine_code, other_code = f"M{uuid.uuid4().hex[:7].upper()}", f"O{uuid.uuid4().hex[:7].upper()}"
    mine = data.practice(mine_code, "Meadow Practice <b>&")
    other = data.practice(other_code, "Secret Valley Practice")
    informed = data.patient(mine, dt.date(2024, 6, 1))
    data.conversation(informed, noon(dt.date(2024, 6, 3)))
    data.outcome(informed, "informed", noon(dt.date(2024, 6, 4)))
    data.answer(informed, "areas", noon(dt.date(2024, 6, 5)), areas="physical")
    data.patient(mine, dt.date(2024, 6, 1))
    for _ in range(5):
        data.patient(other, dt.date(2024, 7, 1))
    return mine_code, other_code


def figure(page: str, key: str) -> dict[str, str]:
    """The cells of one row of the report table, by column."""
    row = re.search(rf'<tr data-figure="{key}">(.*?)</tr>', page, re.S).group(1)
    return dict(re.findall(r'<td data-column="([^"]+)">([^<]*)</td>', row))


@pytest.mark.e2e
def test_the_report_page_shows_a_coordinator_only_their_practices_with_svg_charts(inbox):
    mine_code, other_code = seed_page(inbox.db)
    with session_scope(inbox.db) as session:
        mine = session.scalar(select(Practice.id).where(Practice.ods_code == mine_code))
    username = new_user(inbox.db, [mine])
    browser = signed_in(inbox, username)
    assert 'href="/inbox/report"' in browser.get("/").text     # in the navigation

    page = browser.get("/report?year=2024")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    text = page.text
    assert figure(text, "eligible") == {mine_code: "2"}
    assert figure(text, "achievement_percent") == {mine_code: "50"}
    assert figure(text, "band") == {mine_code: "below 70%"}
    assert other_code not in text and "Secret Valley" not in text and ">5<" not in text
    assert "Meadow Practice &lt;b&gt;&amp;" in text and "<b>&" not in text      # escaped
    assert NAME not in text and "Quill" not in text                              # counts only
    # Charts: inline SVG drawn on the server, no script, no inline style (the CSP forbids both).
    assert text.count("<svg") == 4 and "<script" not in text and "style=" not in text   # no roles: no chart
    achievement_chart = re.search(r'<svg[^>]*id="chart-achievement".*?</svg>', text, re.S).group(0)
    assert re.search(r'<rect class="bar" x="300" y="\d+" width="150" ', achievement_chart)  # 50% of 300 px
    assert ">70%<" in achievement_chart and ">90%<" in achievement_chart
    areas_chart = re.search(r'<svg[^>]*id="chart-areas".*?</svg>', text, re.S).group(0)
    assert re.search(rf'<rect class="bar" x="300" y="17" width="300" [^>]*><title>{AREAS["physical"]}: 1</title>',
                     areas_chart)

    with session_scope(inbox.db) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        details = session.scalars(select(AuditEntry.detail).where(AuditEntry.user_id == user_id,
                                                                  AuditEntry.action == "view_report")).all()
    assert details == [f"QOF year 2024; practices {mine_code}"]
    assert browser.get("/report?year=abc").status_code == 400
    assert browser.get(f"/report?year={reporting.london_today().year + 1}").status_code == 400


@pytest.mark.e2e
def test_an_administrator_sees_every_practice_and_the_total(inbox):
    mine_code, other_code = seed_page(inbox.db)
    username = new_user(inbox.db, [practice_id(inbox.db, "Y00001")], role="admin")
    text = signed_in(inbox, username).get("/report?year=2024").text
    eligible = figure(text, "eligible")
    assert eligible[mine_code] == "2" and eligible[other_code] == "5" and "Total" in eligible
    assert "Secret Valley Practice" in text
