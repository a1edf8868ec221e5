"""Practice reporting for QOF indicator CAN005: counts only, for one practice or a PCN.

`build_report(session, ods_codes, year_start, today)` reports on the patients of the given practices
whose diagnosis date falls in the QOF year (1 April to 31 March) up to the report date. The report
date (`as_at`) is `today`, or 31 March when the year is over: a past year is reported as QOF saw it at
its achievement date. Only events recorded by the end of that day (Europe/London) count, and "day N"
is the London date of an event minus the diagnosis date (day 0). Nothing in the report identifies a
patient: it holds counts, medians and percentiles, per practice and for all of them together (the
total is worked out over all the patients, never by adding up the practices' medians).

How each figure is read
-----------------------
- **diagnosed**: register patients of the practices with a diagnosis date from `year_start` to
  `as_at`.
- **eligible**: diagnosed, less those who died on or before day 93 (by `as_at`): alive at
  diagnosis + 93 days, or still inside their window and alive. Patients who opted out of texts stay
  eligible: they opted out of texts, not of care, and QOF still counts them.
- **contacted**: an invitation was queued or a conversation started (`invitations.queued_at`,
  `conversations.started_at`); **days to first contact** is the day of the earliest of those (median
  and 90th percentile, nearest-rank: the 90th percentile is always a value that occurred).
- **replied**: contacted patients who sent at least one text; **reply rate** = replied / contacted.
- Every eligible patient is in exactly one of these groups, tested in this order:
  1. **informed within 93 days**: an `informed` outcome (CANPCSUPP_COD) recorded on or before day 93.
  2. **declined**: a `declined` outcome (CANPCADEC_COD) recorded by `as_at`, at any time.
  3. **no response**: a `no_response` outcome, after two invitations queued at least 7 days apart,
     both on or before day 93. A `no_response` outcome without those invitations (e.g. recorded by
     hand in the inbox) is not a personalised care adjustment: QOF needs the two invitations.
  4. **not yet due**: day 93 has not passed (`as_at` is day 0 to 93) and none of the above.
  5. **missed**: past day 93 and on `bot.patients.cohort.missed` (alive, not opted out, nothing settled).
  6. **informed late**: an `informed` outcome only after day 93.
  7. **other, not met**: past day 93 and none of the above (opted out of texts, died after day 93,
     wrong person, identity not confirmed, a callback that never led to `informed`).
  So eligible = informed within 93 days + declined + no response + not yet due + missed + informed
  late + other, not met.
- **still in window**: `bot.patients.cohort.eligible` at `as_at`, i.e. inside the window and not yet settled
  (alive, not opted out). It is part of "not yet due", which also holds in-window patients who opted
  out or were handed to a person but are not yet informed. (The cohort rule reads the outcomes and
  opt-outs recorded to date, so for a past year it reflects what is known now.)

CAN005 achievement
------------------
- **numerator** = informed within 93 days (group 1). A patient who was informed in time and later
  declined stays in the numerator: QOF selects numerator patients before it applies any exclusion.
- **denominator** = eligible less the personalised care adjustments and the patients not yet due =
  groups 1 + 5 + 6 + 7.
  * A recorded decline (group 2) is a personalised care adjustment ("patient chose not to receive
    cancer indicator care"): it takes the patient out of the denominator. It is *not* also added to
    the numerator: counting a patient in the numerator while excluding them from the denominator
    would count them twice and could make achievement exceed 100%.
  * No response to two invitations at least 7 days apart within 3 months (group 3) is the other
    personalised care adjustment.
  * Patients not yet due (group 4) are left out, as QOF leaves out patients diagnosed in the 3 months
    up to the achievement date unless they already meet the numerator: there is still time to inform
    them, so counting them would understate achievement during the year.
- **achievement** = numerator / denominator, as a percentage rounded down to one decimal place (so
  89.99% shows as 89.9%, never as a 90.0% that is not met); none when the denominator is 0.
- **band** against the QOF thresholds (lower 70%, upper 90%, points paid linearly between them):
  "below 70%", "between", "at or above 90%" (compared exactly, in whole numbers, not in floating
  point); `points_share` is the share of the indicator's points: 0 below 70%, 1 at or above 90%.

Activity figures
----------------
Over every diagnosed patient in scope (also those who died inside their window), events by `as_at`:
**concern areas** chosen (patients per area key of `bot.checkin.replies.AREAS`), **roles** routed to
(patients per role), **appointments** booked (rebookings count once: a moved appointment is replaced
by its new one) and cancelled, **flags** by kind and severity, and the **time to first human
response** to a flag (`acknowledged_at - created_at`, minutes, median and nearest-rank 90th
percentile) with the number still unacknowledged. Flags from numbers not on the register belong to no
patient and are not counted here (the inbox queue shows them).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import statistics
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.patients import cohort
from bot.common.clock import london_day_start_utc, london_today, to_london
from bot.checkin.replies import AREAS
from bot.db.models import (Appointment, ConcernAnswer, Conversation, Flag, InboundMessage, Invitation, Outcome, Patient,
                           Practice, RoutingDecision)

LOWER_THRESHOLD = 70   # CAN005 thresholds, percent
UPPER_THRESHOLD = 90
INVITATION_GAP = dt.timedelta(days=7)
FLAG_KINDS = ("clinical", "safeguarding")
FLAG_SEVERITIES = ("urgent", "soon")
BAND_BELOW, BAND_BETWEEN, BAND_ABOVE, BAND_NONE = "below 70%", "between", "at or above 90%", "no denominator"


class ReportError(ValueError):
    """The report cannot be made as asked (an unknown practice, a year not started); the message says why."""


# -- dates ----------------------------------------------------------------------------------------

def qof_year_start(day: dt.date) -> dt.date:
    """1 April of the QOF year that `day` falls in (1 April to 31 March)."""
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def qof_year_end(year_start: dt.date) -> dt.date:
    """31 March, the last day (the achievement date) of the QOF year starting on `year_start`."""
    return dt.date(year_start.year + 1, 3, 31)


def local_date(moment: dt.datetime) -> dt.date:
    """The date in England of a stored (naive UTC) time."""
    return to_london(moment).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The first moment (naive UTC) after `day` ends in England: events before it count."""
    return london_day_start_utc(day + dt.timedelta(days=1))


# -- the figures ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spread:
    """How a measure is spread: how many values, their median and 90th percentile (nearest rank)."""
    count: int
    median: Optional[float]
    p90: Optional[float]


def spread(values: Iterable[float], digits: int = 1) -> Spread:
    """Median and nearest-rank 90th percentile of `values` (None for both when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return Spread(0, None, None)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return Spread(len(ordered), round(float(statistics.median(ordered)), digits), round(float(p90), digits))


@dataclass(frozen=True)
class Achievement:
    """CAN005 achievement (see the module docstring for the exact reading)."""
    numerator: int
    denominator: int
    excluded_declined: int        # personalised care adjustment: chose not to receive cancer care
    excluded_no_response: int     # personalised care adjustment: no reply to two invitations
    excluded_not_yet_due: int     # day 93 not passed, not informed yet
    percent: Optional[float]      # rounded down to 1 decimal place; None when the denominator is 0
    band: str                     # "below 70%", "between", "at or above 90%" or "no denominator"
    points_share: Optional[float]  # share of the indicator's points, 0 to 1 (rounded down to 3 decimal places)


def achievement(numerator: int, denominator: int, declined: int = 0, no_response: int = 0,
                not_yet_due: int = 0) -> Achievement:
    """Achievement %, band and share of points; the thresholds are compared in whole numbers."""
    if denominator <= 0:
        return Achievement(numerator, 0, declined, no_response, not_yet_due, None, BAND_NONE, None)
    if 100 * numerator < LOWER_THRESHOLD * denominator:
        band, share = BAND_BELOW, 0.0
    elif 100 * numerator >= UPPER_THRESHOLD * denominator:
        band, share = BAND_ABOVE, 1.0
    else:
        band = BAND_BETWEEN
        share = (1000 * (100 * numerator - LOWER_THRESHOLD * denominator)
                 // ((UPPER_THRESHOLD - LOWER_THRESHOLD) * denominator)) / 1000   # rounded down, as the percent
    # Rounded down, so the figure shown never contradicts the band (89.99% shows as 89.9%, not 90.0%).
    return Achievement(numerator, denominator, declined, no_response, not_yet_due,
                       (1000 * numerator // denominator) / 10, band, share)


@dataclass(frozen=True)
class Figures:
    """The figures of one practice, or of several together."""
    diagnosed: int
    died_in_window: int
    eligible: int
    contacted: int
    replied: int
    reply_rate: Optional[float]          # percent of contacted, 1 decimal place
    days_to_first_contact: Spread
    informed_in_time: int
    declined: int
    no_response: int
    not_yet_due: int
    in_window: int
    missed: int
    informed_late: int
    other_not_met: int
    achievement: Achievement
    concern_areas: dict[str, int]        # area key -> patients
    roles: dict[str, int]                # role -> patients
    appointments_booked: int
    appointments_cancelled: int
    flags: dict[str, int]                # "clinical_urgent", ... -> flags
    flags_unacknowledged: int
    minutes_to_first_response: Spread


@dataclass(frozen=True)
class PracticeReport:
    ods_code: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    """A CAN005 report: one entry per practice (by ODS code) and the total over all of them."""
    year_start: dt.date
    year_end: dt.date
    as_at: dt.date
    practices: list[PracticeReport]
    total: Figures

    @property
    def qof_year(self) -> str:
        return f"{self.year_start.year}/{(self.year_start.year + 1) % 100:02d}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (dates as YYYY-MM-DD)."""
        return {"qof_year": self.qof_year, "year_start": self.year_start.isoformat(),
                "year_end": self.year_end.isoformat(), "as_at": self.as_at.isoformat(),
                "diagnosed_from": self.year_start.isoformat(), "diagnosed_to": self.as_at.isoformat(),
                "practices": [{"ods_code": p.ods_code, "name": p.name, **asdict(p.figures)} for p in self.practices],
                "total": asdict(self.total)}


# -- what is known about each patient (never leaves this module) -------------------------------------

@dataclass
class _Facts:
    id: int
    practice_id: int
    diagnosed: dt.date
    deceased: Optional[dt.date]
    informed: list[dt.date] = field(default_factory=list)   # London dates of `informed` outcomes
    declined: bool = False
    no_response: bool = False
    invitations: dict[int, dt.datetime] = field(default_factory=dict)  # number -> queued_at
    first_contact: Optional[dt.datetime] = None
    replied: bool = False
    areas: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    booked: int = 0
    cancelled: int = 0
    flags: list[tuple[str, str, dt.datetime, Optional[dt.datetime]]] = field(default_factory=list)

    def day(self, when: dt.date | dt.datetime) -> int:
        """Day number (diagnosis = day 0) of a date, or of a stored UTC time by its date in England."""
        if isinstance(when, dt.datetime):
            when = local_date(when)
        return (when - self.diagnosed).days

    def contact(self, moment: dt.datetime) -> None:
        if self.first_contact is None or moment < self.first_contact:
            self.first_contact = moment


def _practices(session: Session, ods_codes: Sequence[str]) -> list[Practice]:
    """The practices of the given ODS codes, in ODS order; ReportError names every unknown code."""
    wanted = list(dict.fromkeys(code.strip().upper() for code in ods_codes if code and code.strip()))
    if not wanted:
        raise ReportError("no practice given: name one or more ODS codes, or all practices (--pcn)")
    found = {p.ods_code.upper(): p for p in session.scalars(select(Practice).where(
        func.upper(Practice.ods_code).in_(wanted)))}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise ReportError(f"no practice {', '.join(unknown)} in the database")
    return sorted(found.values(), key=lambda p: p.ods_code)


def all_practice_codes(session: Session) -> list[str]:
    """Every practice's ODS code (a PCN report covers every practice in the database)."""
    return list(session.scalars(select(Practice.ods_code).order_by(Practice.ods_code)))


def _load(session: Session, practice_ids: list[int], first: dt.date, last: dt.date,
          cutoff: dt.datetime) -> dict[int, _Facts]:
    """Everything the figures need about the patients diagnosed from `first` to `last`, using only
    events before `cutoff`. Each query joins the patient, so no long id lists are sent."""
    in_scope = (Patient.practice_id.in_(practice_ids), Patient.diagnosis_date >= first,
                Patient.diagnosis_date <= last)
    facts = {pid: _Facts(pid, prac, diagnosed, deceased) for pid, prac, diagnosed, deceased in session.execute(
        select(Patient.id, Patient.practice_id, Patient.diagnosis_date, Patient.deceased_date).where(*in_scope))}
    if not facts:
        return facts

    for pid, kind, recorded in session.execute(
            select(Outcome.patient_id, Outcome.kind, Outcome.recorded_at)
            .join(Patient, Patient.id == Outcome.patient_id)
            .where(*in_scope, Outcome.recorded_at < cutoff, Outcome.kind.in_(("informed", "declined", "no_response")))):
        if kind == "informed":
            facts[pid].informed.append(local_date(recorded))
        elif kind == "declined":
            facts[pid].declined = True
        else:
            facts[pid].no_response = True

    for pid, number, queued in session.execute(
            select(Invitation.patient_id, Invitation.number, Invitation.queued_at)
            .join(Patient, Patient.id == Invitation.patient_id)
            .where(*in_scope, Invitation.queued_at.is_not(None), Invitation.queued_at < cutoff)):
        facts[pid].invitations[number] = queued
        facts[pid].contact(queued)
    for pid, started in session.execute(
            select(Conversation.patient_id, Conversation.started_at)
            .join(Patient, Patient.id == Conversation.patient_id)
            .where(*in_scope, Conversation.started_at < cutoff)):
        facts[pid].contact(started)

    # Rows that name their patient directly or only through their conversation.
    def owner(column):
        return func.coalesce(column, Conversation.patient_id)

    texter = owner(InboundMessage.patient_id)
    for (pid,) in session.execute(
            select(texter).select_from(InboundMessage)
            .outerjoin(Conversation, Conversation.id == InboundMessage.conversation_id)
            .join(Patient, Patient.id == texter).where(*in_scope, InboundMessage.received_at < cutoff).distinct()):
        facts[pid].replied = True

    answerer = owner(ConcernAnswer.patient_id)
    for pid, areas in session.execute(
            select(answerer, ConcernAnswer.areas).select_from(ConcernAnswer)
            .join(Conversation, Conversation.id == ConcernAnswer.conversation_id)
            .join(Patient, Patient.id == answerer)
            .where(*in_scope, ConcernAnswer.question == "areas", ConcernAnswer.status == "answered",
                   ConcernAnswer.recorded_at < cutoff)):
        facts[pid].areas.update(key.strip() for key in (areas or "").split(",") if key.strip())

    routed = owner(RoutingDecision.patient_id)
    for pid, role in session.execute(
            select(routed, RoutingDecision.role).select_from(RoutingDecision)
            .join(Conversation, Conversation.id == RoutingDecision.conversation_id)
            .join(Patient, Patient.id == routed).where(*in_scope, RoutingDecision.decided_at < cutoff)):
        facts[pid].roles.add(role)

    for pid, status, cancelled_at in session.execute(
            select(Appointment.patient_id, Appointment.status, Appointment.cancelled_at)
            .join(Patient, Patient.id == Appointment.patient_id).where(*in_scope, Appointment.booked_at < cutoff)):
        ended = cancelled_at is not None and cancelled_at < cutoff
        if status == "rebooked" and ended:
            continue  # replaced by the appointment it was moved to
        facts[pid].booked += 1
        if status == "cancelled" and ended:
            facts[pid].cancelled += 1

    flagged = owner(Flag.patient_id)
    for pid, kind, severity, created, acknowledged in session.execute(
            select(flagged, Flag.kind, Flag.severity, Flag.created_at, Flag.acknowledged_at).select_from(Flag)
            .outerjoin(Conversation, Conversation.id == Flag.conversation_id)
            .join(Patient, Patient.id == flagged).where(*in_scope, Flag.created_at < cutoff)):
        facts[pid].flags.append((kind, severity, created,
                                 acknowledged if acknowledged is not None and acknowledged < cutoff else None))
    return facts


# -- from facts to figures ----------------------------------------------------------------------------

def _died_in_window(p: _Facts, as_at: dt.date) -> bool:
    return p.deceased is not None and p.deceased <= as_at and p.day(p.deceased) <= cohort.WINDOW_DAYS


def _no_response_adjustment(p: _Facts) -> bool:
    """A `no_response` outcome after two invitations at least 7 days apart, both by day 93."""
    first, second = p.invitations.get(1), p.invitations.get(2)
    return (p.no_response and first is not None and second is not None and second - first >= INVITATION_GAP
            and p.day(second) <= cohort.WINDOW_DAYS)


def _group(p: _Facts, as_at: dt.date, missed: set[int]) -> str:
    """The one group an eligible patient is in (see the module docstring, in this order)."""
    if any(p.day(day) <= cohort.WINDOW_DAYS for day in p.informed):
        return "informed_in_time"
    if p.declined:
        return "declined"
    if _no_response_adjustment(p):
        return "no_response"
    if p.day(as_at) <= cohort.WINDOW_DAYS:
        return "not_yet_due"
    if p.id in missed:
        return "missed"
    if p.informed:
        return "informed_late"
    return "other_not_met"


def _figures(patients: list[_Facts], as_at: dt.date, in_window: set[int], missed: set[int]) -> Figures:
    eligible = [p for p in patients if not _died_in_window(p, as_at)]
    groups = {name: 0 for name in ("informed_in_time", "declined", "no_response", "not_yet_due", "missed",
                                   "informed_late", "other_not_met")}
    for p in eligible:
        groups[_group(p, as_at, missed)] += 1
    contacted = [p for p in eligible if p.first_contact is not None]
    replied = sum(1 for p in contacted if p.replied)

    areas = {key: 0 for key in AREAS}
    roles: dict[str, int] = {}
    flags = {f"{kind}_{severity}": 0 for kind in FLAG_KINDS for severity in FLAG_SEVERITIES}
    waits, unacknowledged = [], 0
    for p in patients:
        for key in p.areas:
            areas[key] = areas.get(key, 0) + 1
        for role in p.roles:
            roles[role] = roles.get(role, 0) + 1
        for kind, severity, created, acknowledged in p.flags:
            flags[f"{kind}_{severity}"] = flags.get(f"{kind}_{severity}", 0) + 1
            if acknowledged is None:
                unacknowledged += 1
            else:
                waits.append(max((acknowledged - created).total_seconds(), 0) / 60)

    denominator = groups["informed_in_time"] + groups["missed"] + groups["informed_late"] + groups["other_not_met"]
    return Figures(
        diagnosed=len(patients), died_in_window=len(patients) - len(eligible), eligible=len(eligible),
        contacted=len(contacted), replied=replied,
        reply_rate=round(100 * replied / len(contacted), 1) if contacted else None,
        days_to_first_contact=spread(p.day(p.first_contact) for p in contacted if p.first_contact is not None),
        **groups,
        in_window=sum(1 for p in eligible if p.id in in_window),
        achievement=achievement(groups["informed_in_time"], denominator, groups["declined"], groups["no_response"],
                                groups["not_yet_due"]),
        concern_areas=areas, roles=dict(sorted(roles.items())),
        appointments_booked=sum(p.booked for p in patients), appointments_cancelled=sum(p.cancelled for p in patients),
        flags=flags, flags_unacknowledged=unacknowledged, minutes_to_first_response=spread(waits))


def build_report(session: Session, ods_codes: list[str], year_start: dt.date, today: dt.date) -> Report:
    """The CAN005 report of the given practices for the QOF year starting on `year_start` (1 April),
    as at `today`, or as at 31 March for a year that is over. Raises ReportError for an unknown
    practice, a `year_start` that is not 1 April, or a year that has not started."""
    if (year_start.month, year_start.day) != (4, 1):
        raise ReportError(f"a QOF year starts on 1 April, not on {year_start.isoformat()}")
    if today < year_start:
        raise ReportError(f"the QOF year {year_start.year}/{(year_start.year + 1) % 100:02d} starts on "
                          f"{year_start.isoformat()}, after {today.isoformat()}")
    practices = _practices(session, ods_codes)
    year_end = qof_year_end(year_start)
    as_at = min(today, year_end)
    facts = _load(session, [p.id for p in practices], year_start, as_at, end_of_day(as_at))
    single = practices[0].id if len(practices) == 1 else None
    in_window = {d.patient_id for d in cohort.eligible(session, as_at, single)}
    missed = {d.patient_id for d in cohort.missed(session, as_at, single)}
    per_practice = [PracticeReport(p.ods_code, p.name, _figures([f for f in facts.values() if f.practice_id == p.id],
                                                                as_at, in_window, missed)) for p in practices]
    return Report(year_start, year_end, as_at, per_practice, _figures(list(facts.values()), as_at, in_window, missed))


# -- presenting it ------------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def rows(figures: Figures, roles: Sequence[str] = (), areas: Sequence[str] = (),
         flags: Sequence[str] = ()) -> list[tuple[str, str, Any]]:
    """(key, label, value) for every figure, in reading order; `roles`, `areas` and `flags` name the
    keys to list (so several practices get the same rows)."""
    a = figures.achievement
    out: list[tuple[str, str, Any]] = [
        ("diagnosed", "Diagnosed in the year so far", figures.diagnosed),
        ("died_in_window", "Died by day 93 (not eligible)", figures.died_in_window),
        ("eligible", "Eligible", figures.eligible),
        ("contacted", "Contacted (invitation or conversation)", figures.contacted),
        ("replied", "Replied at least once", figures.replied),
        ("reply_rate", "Reply rate, % of contacted", figures.reply_rate),
        ("days_to_first_contact_median", "Days from diagnosis to first contact, median",
         figures.days_to_first_contact.median),
        ("days_to_first_contact_p90", "Days from diagnosis to first contact, 90th percentile",
         figures.days_to_first_contact.p90),
        ("informed_in_time", "Informed within 93 days (CANPCSUPP_COD)", figures.informed_in_time),
        ("declined", "Declined (CANPCADEC_COD, a PCA)", figures.declined),
        ("no_response", "No response to two invitations (a PCA)", figures.no_response),
        ("not_yet_due", "Not yet due (inside 93 days, not informed)", figures.not_yet_due),
        ("in_window", "  of which still in window, not settled", figures.in_window),
        ("missed", "Missed (past day 93, nothing settled)", figures.missed),
        ("informed_late", "Informed after day 93", figures.informed_late),
        ("other_not_met", "Other, not met (opted out, handed over...)", figures.other_not_met),
        ("numerator", "CAN005 numerator", a.numerator),
        ("denominator", "CAN005 denominator", a.denominator),
        ("achievement_percent", "CAN005 achievement %", a.percent),
        ("band", "Against thresholds 70% / 90%", a.band),
        ("points_share", "Share of the indicator's points", a.points_share),
    ]
    out += [(f"area_{key}", f"Concern area: {AREAS.get(key, key)}", figures.concern_areas.get(key, 0)) for key in areas]
    out += [(f"role_{role}", f"Routed to: {role.replace('_', ' ')}", figures.roles.get(role, 0)) for role in roles]
    out += [("appointments_booked", "Appointments booked", figures.appointments_booked),
            ("appointments_cancelled", "Appointments cancelled", figures.appointments_cancelled)]
    out += [(f"flags_{key}", f"Flags: {key.replace('_', ', ')}", figures.flags.get(key, 0)) for key in flags]
    out += [("flags_unacknowledged", "Flags not yet picked up", figures.flags_unacknowledged),
            ("minutes_to_first_response_median", "Minutes to first human response, median",
             figures.minutes_to_first_response.median),
            ("minutes_to_first_response_p90", "Minutes to first human response, 90th percentile",
             figures.minutes_to_first_response.p90)]
    return out


def _keys(report: Report) -> dict[str, list[str]]:
    every = [p.figures for p in report.practices] + [report.total]
    return {"areas": list(dict.fromkeys(k for f in every for k in f.concern_areas)),
            "roles": sorted({k for f in every for k in f.roles}),
            "flags": list(dict.fromkeys(k for f in every for k in f.flags))}


def table(report: Report) -> tuple[list[str], list[tuple[str, str, list[Any]]]]:
    """Column names (ODS codes, then "Total" when there are several) and (key, label, values) rows."""
    keys = _keys(report)
    columns = [p.figures for p in report.practices] + ([report.total] if len(report.practices) > 1 else [])
    names = [p.ods_code for p in report.practices] + (["Total"] if len(report.practices) > 1 else [])
    per_column = [rows(f, **keys) for f in columns]
    return names, [(key, label, [col[i][2] for col in per_column]) for i, (key, label, _) in enumerate(per_column[0])]


def format_text(report: Report) -> str:
    """A readable table: one column per practice, and a total column for several."""
    names, lines = table(report)
    label_width = max(len(label) for _, label, _ in lines)
    widths = [max(len(name), *(len(_fmt(values[i])) for _, _, values in lines)) for i, name in enumerate(names)]
    out = [f"CAN005 report, QOF year {report.qof_year} ({report.year_start:%d %b %Y} to {report.year_end:%d %b %Y}), "
           f"as at {report.as_at:%d %b %Y}",
           "Patients diagnosed from " + f"{report.year_start:%d %b %Y} to {report.as_at:%d %b %Y}; counts only.",
           "Practices: " + ", ".join(f"{p.ods_code} {p.name}" for p in report.practices), "",
           " " * label_width + "  " + "  ".join(name.rjust(w) for name, w in zip(names, widths))]
    for _, label, values in lines:
        out.append(label.ljust(label_width) + "  " + "  ".join(_fmt(v).rjust(w) for v, w in zip(values, widths)))
    return "\n".join(out) + "\n"


def format_csv(report: Report) -> str:
    """One row per practice and a TOTAL row; the same columns for every row."""
    keys = _keys(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["qof_year", "as_at", "ods_code", "practice"] + [key for key, _, _ in rows(report.total, **keys)]
    writer.writerow(header)
    for ods, name, figures in [(p.ods_code, p.name, p.figures) for p in report.practices] + \
            [("TOTAL", "All practices in this report", report.total)]:
        writer.writerow([report.qof_year, report.as_at.isoformat(), ods, name]
                        + ["" if value is None else value for _, _, value in rows(figures, **keys)])
    return buffer.getvalue()


BAR_WIDTH, BAR_STEP = 300, 28   # pixels: the longest bar, and the height of one row of a chart


def bars(items: Sequence[tuple[str, Any]], top: Optional[float] = None, width: int = BAR_WIDTH) -> dict[str, Any]:
    """Geometry of a horizontal bar chart (pixels) for the report page's inline SVG: one bar per
    (label, value), scaled to `top` (default: the largest value). The template only places numbers
    and escaped labels; no script, no style attribute (the inbox's Content-Security-Policy)."""
    values = [value or 0 for _, value in items]
    top = top if top is not None else max(values, default=0)
    return {"height": BAR_STEP * len(items) + 8, "width": width, "thresholds": [],
            "bars": [{"label": label, "value": _fmt(value), "y": i * BAR_STEP,
                      "length": round(width * min(number, top) / top) if top else 0}
                     for i, ((label, value), number) in enumerate(zip(items, values))]}


def page_context(report: Report) -> dict[str, Any]:
    """What the inbox's report page shows: the table and five charts (counts only)."""
    names, lines = table(report)
    main = report.total
    achieved = [(p.ods_code, p.figures.achievement.percent) for p in report.practices]
    if len(report.practices) > 1:
        achieved.append(("Total", main.achievement.percent))
    chart_achievement = bars(achieved, top=100)
    chart_achievement["thresholds"] = [{"label": f"{t}%", "x": round(BAR_WIDTH * t / 100)}
                                       for t in (LOWER_THRESHOLD, UPPER_THRESHOLD)]
    return {
        "report": report, "columns": names,
        "rows": [{"key": key, "label": label, "cells": [_fmt(v) for v in values]} for key, label, values in lines],
        "practice_names": [f"{p.name} ({p.ods_code})" for p in report.practices],
        "charts": [
            {"id": "chart-achievement", "title": "CAN005 achievement, % (thresholds 70% and 90%)",
             **chart_achievement},
            {"id": "chart-groups", "title": "Eligible patients by CAN005 position", **bars([
                ("Informed within 93 days", main.informed_in_time), ("Declined", main.declined),
                ("No response to two invitations", main.no_response), ("Not yet due", main.not_yet_due),
                ("Missed", main.missed), ("Informed after day 93", main.informed_late),
                ("Other, not met", main.other_not_met)])},
            {"id": "chart-areas", "title": "Concern areas chosen (patients)",
             **bars([(AREAS.get(key, key), n) for key, n in main.concern_areas.items()])},
            {"id": "chart-roles", "title": "Roles routed to (patients)",
             **bars([(role.replace("_", " "), n) for role, n in main.roles.items()])},
            {"id": "chart-flags", "title": "Flags by kind and severity",
             **bars([(key.replace("_", ", "), n) for key, n in main.flags.items()])},
        ],
    }


# -- the command ----------------------------------------------------------------------------------------

def run_report_command(args: argparse.Namespace, today: Optional[dt.date] = None, out=None) -> int:
    """`outreach report --practice ODS [...] | --pcn [--year YYYY] [--json | --csv]`: 0, or 2 with a
    message naming the problem (an unknown practice, a year that has not started)."""
    from bot.config import load_settings
    from bot.db.engine import session_scope

    out = out or sys.stdout
    today = today or london_today()
    if args.year is not None and not 2000 <= args.year <= today.year:
        print(f"outreach: error: --year {args.year} is not a QOF year from 2000 to {today.year}", file=sys.stderr)
        return 2
    year_start = dt.date(args.year, 4, 1) if args.year is not None else qof_year_start(today)
    try:
        with session_scope(load_settings().database_url) as session:
            codes = all_practice_codes(session) if args.pcn else args.practice
            if args.pcn and not codes:
                raise ReportError("there are no practices in the database")
            report = build_report(session, codes, year_start, today)
    except ReportError as exc:
        print(f"outreach: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out.write(json.dumps(report.to_dict(), indent=2) + "\n")
    elif args.csv:
        out.write(format_csv(report))
    else:
        out.write(format_text(report))
    return 0
