"""Learning from real use (issue 13, item 4): coordinators mark a patient text the safety screen
should have flagged, or a flag that was not a concern; `outreach safety-corpus export` writes those
texts with their labels, without names or numbers, for the clinical safety officer to review and add
to the screen's corpus (data/safety/).

One label per text (a later mark replaces an earlier one). The export is de-identified by rule: the
patient's own names, phone numbers and other long digit runs, dates, e-mail addresses and postcodes
are replaced by placeholders. Other people's names can remain: the clinical safety officer reads
every row before it joins the corpus.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Flag, InboundMessage, Patient, SafetyLabel

LABELS = {"clinical": "should have been flagged: clinical", "safeguarding": "should have been flagged: safeguarding",
          "not_a_concern": "flagged, but not a concern"}
EXPORT_COLUMNS = ("text", "kind", "screen_said", "labelled_on")

_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_PATTERNS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}\b"), "[date]"),
    (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{2,4}}\b", re.IGNORECASE), "[date]"),
    (re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}\b", re.IGNORECASE), "[date]"),
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE), "[postcode]"),
    # phone numbers, NHS numbers and any other run of 6 or more digits, spaces and dashes allowed inside
    (re.compile(r"\+?\d(?:[\s-]?\d){5,}"), "[number]"),
)


class FeedbackError(ValueError):
    """A label cannot be recorded; the message says why."""


def screen_said(session: Session, message: InboundMessage) -> str:
    """What the safety screen did with a text: the kind of its flag (clinical, safeguarding,
    review), or none."""
    kind = session.scalar(select(Flag.kind).where(Flag.inbound_message_id == message.id))
    return kind or "none"


def mark(session: Session, message: InboundMessage, label: str, user_id: int) -> SafetyLabel:
    """Record a person's label for one patient text (replacing an earlier one)."""
    if label not in LABELS:
        raise FeedbackError(f"unknown label {label!r} (known: {', '.join(LABELS)})")
    said = screen_said(session, message)
    if label == "not_a_concern" and said == "none":
        raise FeedbackError("this text was not flagged, so it cannot be marked as not a concern")
    row = session.scalar(select(SafetyLabel).where(SafetyLabel.inbound_message_id == message.id))
    if row is None:
        row = SafetyLabel(inbound_message_id=message.id)
        session.add(row)
    row.label, row.screen_said, row.user_id = label, said, user_id
    session.flush()
    return row


def deidentify(text: str, names: tuple[str, ...] = ()) -> str:
    """`text` with the given names, contact details, dates and long numbers replaced by placeholders."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) > 1}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "[name]", text, flags=re.IGNORECASE)
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def export(session: Session, out: Path, since: Optional[dt.date] = None) -> tuple[int, list[int]]:
    """Write every label (since a date) as a CSV row of de-identified text and label; returns how
    many rows, and the ids of the patients whose texts were written (for the audit log)."""
    query = select(SafetyLabel, InboundMessage).join(
        InboundMessage, InboundMessage.id == SafetyLabel.inbound_message_id
    )
    if since is not None:
        query = query.where(SafetyLabel.created_at >= dt.datetime.combine(since, dt.time()))
    rows = session.execute(query.order_by(SafetyLabel.id)).all()
    patients: set[int] = set()
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for label, message in rows:
            names: tuple[str, ...] = ()
            if message.patient_id is not None:
                patient = session.get(Patient, message.patient_id)
                if patient is not None:
                    names = (patient.first_name or "", patient.last_name or "")
                    patients.add(patient.id)
            kind = "none" if label.label == "not_a_concern" else label.label
            writer.writerow((deidentify(message.body or "", names), kind, label.screen_said,
                             label.created_at.date().isoformat()))
    return len(rows), sorted(patients)
