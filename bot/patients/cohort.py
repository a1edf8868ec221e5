"""The CAN005 cohort rule, in one place: who is due an invitation, who has been missed.

CAN005 counts patients "informed of the support available from primary care within 3 months of
diagnosis", applied as 93 days by the template vendors. Day 0 is the diagnosis date; the last day
to reach the patient is day 93.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from bot.db.models import Outcome, Patient

WINDOW_DAYS = 93
# Outcomes after which the assistant sends no more invitations: CAN005 is met or declined, the
# patient opted out, or a person has taken over (callback, wrong number, identity not confirmed).
SETTLED = ("informed", "declined", "no_response", "opted_out", "wrong_person", "identity_failed",
           "callback_requested")


@dataclass(frozen=True)
class DuePatient:
    patient_id: int
    practice_id: int
    days_since_diagnosis: int

    @property
    def days_left(self) -> int:
        return WINDOW_DAYS - self.days_since_diagnosis


def _unsettled():
    return ~exists().where(and_(Outcome.patient_id == Patient.id, Outcome.kind.in_(SETTLED)))


def eligible(session: Session, today: dt.date, practice_id: int | None = None) -> list[DuePatient]:
    """Patients inside the 93-day window, alive, not opted out and not settled, fewest days left first
    (a patient imported late, on day 80, comes before one diagnosed yesterday)."""
    query = (select(Patient.id, Patient.practice_id, Patient.diagnosis_date)
             .where(Patient.diagnosis_date >= today - dt.timedelta(days=WINDOW_DAYS),
                    Patient.diagnosis_date <= today,
                    Patient.deceased_date.is_(None), Patient.opted_out_at.is_(None), _unsettled())
             .order_by(Patient.diagnosis_date, Patient.id))
    if practice_id is not None:
        query = query.where(Patient.practice_id == practice_id)
    return [DuePatient(pid, prac, (today - diagnosed).days) for pid, prac, diagnosed in session.execute(query)]


def missed(session: Session, today: dt.date, practice_id: int | None = None) -> list[DuePatient]:
    """Patients past day 93 with nothing settled: never dropped silently, always listed."""
    query = (select(Patient.id, Patient.practice_id, Patient.diagnosis_date)
             .where(Patient.diagnosis_date < today - dt.timedelta(days=WINDOW_DAYS),
                    Patient.deceased_date.is_(None), Patient.opted_out_at.is_(None), _unsettled())
             .order_by(Patient.diagnosis_date, Patient.id))
    if practice_id is not None:
        query = query.where(Patient.practice_id == practice_id)
    return [DuePatient(pid, prac, (today - diagnosed).days) for pid, prac, diagnosed in session.execute(query)]
