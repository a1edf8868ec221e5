"""Clinical record export: `outreach export-codes --practice ODS --since DATE [--until DATE] --out DIR`.

Two files per practice and date range, for the practice to bring the assistant's outcomes into the GP
clinical record:

- `ODS-codes-SINCE-to-UNTIL.csv`: one row per patient and outcome (every outcome kind), with the
  practice's SNOMED CT code for the outcome's QOF cluster, the date and a one-line summary. Columns
  in CSV_COLUMNS. An outcome whose cluster has no code configured stays in the file with an empty
  code and is listed in a warning; an outcome the assistant does not code (accepted, deferred...)
  has an empty cluster and code.
- `ODS-codes-SINCE-to-UNTIL.fhir.json`: a FHIR R4 Bundle of type "collection": a Patient per
  patient (NHS number identifier), a Communication per informed / declined / no-response outcome, a
  Flag per safety flag and an Appointment per booked review. Entries refer to each other by
  `urn:uuid:` full URLs, so every reference resolves inside the bundle.

The window is in London dates, both ends included: outcomes by `recorded_at`, flags by
`created_at`, appointments by `booked_at`. Exports are reproducible: the same arguments on the same
data give byte-identical files (fixed ordering, ids derived from the database ids, no "generated
at" time). Files are written atomically (a temporary file in the same folder, then a rename) and
readable by their owner only; each export is written to the audit log.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.common.clock import london_to_utc, london_today, to_london
from bot.config import Settings
from bot.db.engine import session_scope
from bot.db.models import Appointment, AuditEntry, BookingSlot, Conversation, Flag, Outcome, Patient, Practice
from bot.patients.outreach import OutreachError
from bot.practice_script.loader import SLOT_KINDS, PracticeScript, ScriptError, script_for

CSV_COLUMNS = ("nhs_number", "date_of_birth", "family_name", "given_name", "date", "code", "cluster", "outcome",
               "summary")
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED_SYSTEM = "http://snomed.info/sct"
FLAG_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-category"
PARTICIPATION_MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
# Outcomes that are a communication with the patient, and so a FHIR Communication.
COMMUNICATION_KINDS = ("informed", "declined", "no_response")
# Fixed, so the same row always gets the same urn:uuid (uuid5 of "ODS/type/id" in this namespace).
ID_NAMESPACE = uuid.UUID("5b0f3c1e-9d0a-4c2e-8e51-0c4f1d6a2a05")
_ODS = re.compile(r"[A-Z0-9]{3,10}")

# One line each, for the clinical record; the outcome's own note (written by the assistant or the
# coordinator's inbox, never the patient's words) follows in brackets.
SUMMARIES: Dict[str, str] = {
    "informed": "Informed by SMS of the support available from the practice for people with cancer (CAN005)",
    "declined": "Declined by SMS a conversation about support from the practice after a cancer diagnosis",
    "accepted": "Asked by SMS for a conversation about support from the practice after a cancer diagnosis",
    "deferred": "Asked by SMS to think about support from the practice later",
    "callback_requested": "Asked by SMS for a phone call from the practice instead of texts",
    "opted_out": "Opted out of texts from the practice",
    "wrong_person": "Outreach text reached the wrong person; no health information was shared",
    "identity_failed": "Identity not confirmed by SMS; the practice is to phone the patient",
    "no_response": "No reply to two SMS invitations at least 7 days apart",
    "booked": "Review booked by SMS with an additional role",
}
FLAG_CATEGORIES = {"clinical": ("clinical", "Clinical"), "safeguarding": ("safety", "Safety")}


@dataclass
class ExportReport:
    csv_path: Path
    fhir_path: Path
    outcomes: int = 0
    coded: int = 0
    uncoded: List[str] = field(default_factory=list)       # outcomes whose cluster has no code, described
    communications: int = 0
    flags: int = 0
    appointments: int = 0
    patients: int = 0
    without_nhs_number: int = 0
    without_patient: int = 0                                 # outcomes and flags from unknown numbers


# ---------------------------------------------------------------------------------------------
# Small helpers


def parse_date(option: str, value: Optional[str]) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise OutreachError(f"{option} {value!r} is not a date in the form YYYY-MM-DD") from None


def file_stem(ods_code: str, since: dt.date, until: dt.date) -> str:
    return f"{ods_code}-codes-{since.isoformat()}-to-{until.isoformat()}"


def _instant(value: dt.datetime) -> str:
    """A naive UTC time as a FHIR instant, to the second: 2026-04-03T09:30:00Z."""
    return value.replace(microsecond=0).isoformat() + "Z"


def _london_date(value: dt.datetime) -> str:
    return to_london(value).date().isoformat()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _id(ods_code: str, kind: str, row_id: int) -> str:
    """A resource id that is the same for the same row in every export: a name-based UUID."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{ods_code}/{kind}/{row_id}"))


def _urn(ods_code: str, kind: str, row_id: int) -> str:
    return f"urn:uuid:{_id(ods_code, kind, row_id)}"


_BOOKED_WITH = re.compile(r"review booked with the (.+)", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def summary(outcome: Outcome) -> str:
    """One line for the clinical record: what the outcome means, with its note when that adds anything."""
    text = SUMMARIES.get(outcome.kind, outcome.kind.replace("_", " ").capitalize())
    note = _one_line(outcome.note or "")
    booked = _BOOKED_WITH.fullmatch(note) if outcome.kind == "booked" else None
    if booked:
        return f"Review booked by SMS with the {booked.group(1)}"
    if note and not set(_WORD.findall(note.lower())) <= set(_WORD.findall(text.lower())):
        text += f" ({note})"
    return _one_line(text)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so a reader sees the old file or the whole new one, never half. The
    file is readable by its owner only (it holds patient details)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# The export


def _patient_key(patient: Patient) -> Tuple[bool, str, int]:
    return (patient.nhs_number is None, patient.nhs_number or "", patient.id)


def _patient_resource(patient: Patient, practice: Practice, ods_code: str) -> Dict[str, Any]:
    resource: Dict[str, Any] = {"resourceType": "Patient", "id": _id(ods_code, "patient", patient.id)}
    if patient.nhs_number:
        resource["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": patient.nhs_number}]
    name: Dict[str, Any] = {"use": "official"}
    if patient.last_name:
        name["family"] = patient.last_name
    name["given"] = [patient.first_name]
    resource["name"] = [name]
    resource["birthDate"] = patient.date_of_birth.isoformat()
    resource["generalPractitioner"] = [{"identifier": {"system": ODS_SYSTEM, "value": ods_code},
                                        "display": practice.name}]
    return resource


def _communication(outcome: Outcome, code: str, patient_ref: str, ods_code: str) -> Dict[str, Any]:
    resource: Dict[str, Any] = {
        "resourceType": "Communication",
        "id": _id(ods_code, "outcome", outcome.id),
        "status": "completed",
        "medium": [{"coding": [{"system": PARTICIPATION_MODE_SYSTEM, "code": "SMSWRIT", "display": "SMS written"}]}],
        "subject": {"reference": patient_ref},
        "sent": _instant(outcome.recorded_at),
        "recipient": [{"reference": patient_ref}],
    }
    if code:
        resource["reasonCode"] = [{"coding": [{"system": SNOMED_SYSTEM, "code": code}],
                                   "text": outcome.cluster or outcome.kind}]
    resource["payload"] = [{"contentString": summary(outcome)}]
    return resource


def _flag(flag: Flag, patient_ref: str, ods_code: str) -> Dict[str, Any]:
    code, display = FLAG_CATEGORIES.get(flag.kind, ("clinical", "Clinical"))
    period = {"start": _instant(flag.created_at)}
    if flag.resolved_at is not None:
        period["end"] = _instant(flag.resolved_at)
    return {
        "resourceType": "Flag",
        "id": _id(ods_code, "flag", flag.id),
        "status": "inactive" if flag.resolved_at is not None else "active",
        "category": [{"coding": [{"system": FLAG_CATEGORY_SYSTEM, "code": code, "display": display}],
                      "text": flag.kind}],
        "code": {"text": f"{flag.severity} {flag.kind} concern: {flag.category.replace('_', ' ')}"},
        "subject": {"reference": patient_ref},
        "period": period,
    }


def _appointment(appointment: Appointment, slot: BookingSlot, role_title: str, patient_ref: str,
                 ods_code: str) -> Dict[str, Any]:
    cancelled = appointment.status != "booked"
    resource: Dict[str, Any] = {
        "resourceType": "Appointment",
        "id": _id(ods_code, "appointment", appointment.id),
        "status": "cancelled" if cancelled else "booked",
    }
    if cancelled:
        resource["cancelationReason"] = {"text": appointment.status}   # cancelled | rebooked
    resource.update({
        "serviceType": [{"text": role_title}],
        "description": f"{SLOT_KINDS.get(slot.kind, slot.kind)} with {slot.staff}, {role_title}",
        "start": _instant(slot.starts_at),
        "end": _instant(slot.starts_at + dt.timedelta(minutes=slot.minutes)),
        "minutesDuration": slot.minutes,
        "created": _instant(appointment.booked_at),
        "participant": [
            {"actor": {"reference": patient_ref}, "status": "accepted"},
            {"actor": {"display": slot.staff}, "status": "accepted"},
        ],
    })
    return resource


def _resolve_practice(session: Session, settings: Settings, ods_code: str) -> Tuple[Practice, Optional[PracticeScript]]:
    practice = session.scalar(select(Practice).where(Practice.ods_code == ods_code))
    try:
        script: Optional[PracticeScript] = script_for(settings.practices_dir, ods_code)
    except ScriptError:
        script = None
    if practice is None:
        if script is None:
            raise OutreachError(f"no practice {ods_code}: nothing is recorded for it and it has no practice script "
                                f"in {settings.practices_dir}")
        practice = Practice(ods_code=ods_code, name=script.name)  # nothing recorded yet: an empty export
    return practice, script


def build_export(session: Session, settings: Settings, ods_code: str, since: dt.date,
                 until: dt.date) -> Tuple[bytes, bytes, ExportReport]:
    """The CSV and FHIR files' bytes for one practice and window, and what is in them."""
    practice, script = _resolve_practice(session, settings, ods_code)
    stem = file_stem(ods_code, since, until)
    report = ExportReport(csv_path=Path(stem + ".csv"), fhir_path=Path(stem + ".fhir.json"))
    start = london_to_utc(since, dt.time(0, 0))
    end = london_to_utc(until + dt.timedelta(days=1), dt.time(0, 0))
    role_titles = {key: role.title for key, role in script.roles.items()} if script else {}

    outcomes: List[Tuple[Outcome, Patient]] = []
    flags: List[Tuple[Flag, Patient]] = []
    appointments: List[Tuple[Appointment, BookingSlot, Patient]] = []
    if practice.id is not None:
        outcomes = list(session.execute(
            select(Outcome, Patient).join(Patient, Patient.id == Outcome.patient_id)
            .where(Patient.practice_id == practice.id, Outcome.recorded_at >= start, Outcome.recorded_at < end)).all())
        flags = list(session.execute(
            select(Flag, Patient).join(Patient, Patient.id == Flag.patient_id)
            .where(Patient.practice_id == practice.id, Flag.created_at >= start, Flag.created_at < end)).all())
        appointments = list(session.execute(
            select(Appointment, BookingSlot, Patient).join(BookingSlot, BookingSlot.id == Appointment.slot_id)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(Patient.practice_id == practice.id, Appointment.booked_at >= start, Appointment.booked_at < end)
        ).all())
        report.without_patient = (session.scalar(
            select(func.count(Outcome.id)).join(Conversation, Conversation.id == Outcome.conversation_id)
            .where(Conversation.practice_id == practice.id, Outcome.patient_id.is_(None),
                   Outcome.recorded_at >= start, Outcome.recorded_at < end)) or 0) + (session.scalar(
            select(func.count(Flag.id)).where(Flag.practice_id == practice.id, Flag.patient_id.is_(None),
                                              Flag.created_at >= start, Flag.created_at < end)) or 0)

    outcomes.sort(key=lambda row: (_patient_key(row[1]), row[0].recorded_at, row[0].id))
    flags.sort(key=lambda row: (_patient_key(row[1]), row[0].created_at, row[0].id))
    appointments.sort(key=lambda row: (_patient_key(row[2]), row[0].booked_at, row[0].id))

    # CSV: every outcome.
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    codes: Dict[int, str] = {}
    for outcome, patient in outcomes:
        code = outcome.code or ""
        if not code and outcome.cluster and script is not None:
            code = script.code_for(outcome.cluster)   # recorded before the practice set its code
        codes[outcome.id] = code
        if outcome.cluster and not code:
            report.uncoded.append(f"outcome {outcome.id} ({outcome.kind}, {outcome.cluster}) of patient {patient.id} "
                                  f"on {_london_date(outcome.recorded_at)}")
        elif code:
            report.coded += 1
        writer.writerow([patient.nhs_number or "", patient.date_of_birth.isoformat(), patient.last_name or "",
                         patient.first_name, _london_date(outcome.recorded_at), code, outcome.cluster or "",
                         outcome.kind, summary(outcome)])
    report.outcomes = len(outcomes)

    # FHIR: a Patient, then its Communications, Flags and Appointments, patient by patient.
    per_patient: Dict[int, List[Dict[str, Any]]] = {}
    patients: Dict[int, Patient] = {}

    def add(patient: Patient, resource: Dict[str, Any]) -> None:
        patients[patient.id] = patient
        per_patient.setdefault(patient.id, []).append(resource)

    for outcome, patient in outcomes:
        if outcome.kind in COMMUNICATION_KINDS:
            add(patient, _communication(outcome, codes[outcome.id], _urn(ods_code, "patient", patient.id), ods_code))
            report.communications += 1
    for flag, patient in flags:
        add(patient, _flag(flag, _urn(ods_code, "patient", patient.id), ods_code))
    for appointment, slot, patient in appointments:
        title = role_titles.get(appointment.role, appointment.role.replace("_", " "))
        add(patient, _appointment(appointment, slot, title, _urn(ods_code, "patient", patient.id), ods_code))
    report.flags, report.appointments = len(flags), len(appointments)

    entries: List[Dict[str, Any]] = []
    for patient in sorted(patients.values(), key=_patient_key):
        entries.append({"fullUrl": _urn(ods_code, "patient", patient.id),
                        "resource": _patient_resource(patient, practice, ods_code)})
        for resource in per_patient[patient.id]:
            entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    report.patients = len(patients)
    exported = {patient.id: patient for _, patient in outcomes}
    exported.update(patients)
    report.without_nhs_number = sum(1 for patient in exported.values() if not patient.nhs_number)
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(ID_NAMESPACE, f"{ods_code}/bundle/{since.isoformat()}/{until.isoformat()}")),
        "type": "collection",
        "entry": entries,
    }
    fhir = (json.dumps(bundle, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return text.getvalue().encode("utf-8"), fhir, report


def export_codes(settings: Settings, ods_code: str, since: dt.date, until: dt.date, out_dir: Path,
                 today: Optional[dt.date] = None) -> ExportReport:
    """Write the practice's CSV and FHIR files for the window into `out_dir`, and audit it."""
    ods_code = ods_code.strip().upper()
    if not _ODS.fullmatch(ods_code):
        raise OutreachError(f"--practice {ods_code!r} is not an ODS code (3 to 10 letters and digits, e.g. Y00001)")
    today = today or london_today()
    if since > until:
        raise OutreachError(f"--since {since} is after --until {until}")
    if until > today:
        raise OutreachError(f"--until {until} is in the future (today is {today}): export a window that is over")
    with session_scope(settings.database_url) as session:
        csv_bytes, fhir_bytes, report = build_export(session, settings, ods_code, since, until)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutreachError(f"cannot create the folder {out_dir}: {exc.strerror or exc}") from None
        if not out_dir.is_dir():
            raise OutreachError(f"--out {out_dir} is not a folder")
        report.csv_path, report.fhir_path = out_dir / report.csv_path, out_dir / report.fhir_path
        detail = (f"{since} to {until}: {report.outcomes} outcomes ({report.coded} coded, {len(report.uncoded)} "
                  f"without a code), {report.communications} communications, {report.flags} flags, "
                  f"{report.appointments} appointments, {report.patients} patients; files "
                  f"{report.csv_path.name}, {report.fhir_path.name}")
        session.add(AuditEntry(user_id=None, action="export_codes", target=f"practice:{ods_code}", detail=detail[:300]))
        session.flush()  # a database problem shows before the files are written
        try:
            write_atomically(report.csv_path, csv_bytes)
            write_atomically(report.fhir_path, fhir_bytes)
        except OSError as exc:
            raise OutreachError(f"cannot write to {out_dir}: {exc.strerror}") from None
    return report


def run_export_command(args) -> int:
    """`outreach export-codes`: 0 when written (warnings on stderr), 2 for a bad option."""
    from bot.config import load_settings

    since = parse_date("--since", args.since)
    if since is None:   # argparse requires it; a caller that skips argparse gets the same error
        raise OutreachError("--since is required")
    until = parse_date("--until", args.until) or london_today()
    report = export_codes(load_settings(), args.practice, since, until, Path(args.out))
    if report.uncoded:
        print(f"outreach: warning: {len(report.uncoded)} outcome(s) have no SNOMED code configured for their "
              f"cluster (`codes:` in the practice script); they are in the CSV with an empty code:", file=sys.stderr)
        for line in report.uncoded:
            print(f"  {line}", file=sys.stderr)
    if report.without_nhs_number:
        print(f"outreach: warning: {report.without_nhs_number} patient(s) in the export have no NHS number "
              "on record: add it before importing", file=sys.stderr)
    if report.without_patient:
        print(f"outreach: warning: {report.without_patient} outcome(s) or flag(s) in the window belong to no "
              "registered patient (texts from an unknown number) and are not exported", file=sys.stderr)
    print(
        f"{report.csv_path}: {report.outcomes} outcome(s), {report.coded} coded, {len(report.uncoded)} without a code"
    )
    print(f"{report.fhir_path}: {report.patients} patient(s), {report.communications} communication(s), "
          f"{report.flags} flag(s), {report.appointments} appointment(s)")
    return 0
