"""Booking a review with one of the practice's additional roles by text: the bookable slots, who gets
which, and how a slot is put into words for an SMS.

Slots (`booking_slots`) come from two places:

- each role's `weekly` sessions in the practice script: `ensure_weekly_slots` creates the rows for
  the booking horizon, today and the next 14 days in London (`horizon_end`; never on an English
  bank holiday); `outreach slots list` and the
  dialogue call it before they look, so the weekly pattern is always there;
- one-off sessions from a CSV file (`outreach slots import FILE --practice ODS`, `import_slots`).

Times are stored as naive UTC. Practices think in Europe/London wall-clock time, so every local time
is converted with zoneinfo on its own date: a Tuesday 10:30 session is 10:30 in London in GMT
(10:30 UTC) and in BST (09:30 UTC).

Two patients can never get the same slot: `book` flips a slot from free to booked in one
conditional UPDATE, and only the caller whose UPDATE changed the row inserts the appointment.

The slots file is UTF-8 text (a UTF-8 byte-order mark is fine: Excel's "CSV UTF-8"), comma separated,
with one header row. Header names are case-insensitive, in any order.

| column | what it holds |
|---|---|
| `role` | one of the practice's role keys (`care_coordinator`...) or its title (`care coordinator`) |
| `date` | `YYYY-MM-DD` or `DD/MM/YYYY` |
| `time` | `HH:MM`, 24-hour, London time (the clocks' changes are taken care of) |
| `minutes` | how long: a whole number from 5 to 240 |
| `type` | `phone`, `video` or `face_to_face` |
| `staff` | the first name patients will see (letters, spaces, hyphens, apostrophes) |

A bad file is refused as a whole (nothing is written) with every problem listed as
`FILE:LINE: COLUMN: problem`. With `skip_invalid` the good rows are imported and the bad ones are
written, with an `error` column, to `rejects_path`; problems with the file itself (encoding,
header, no rows) still refuse it. Re-importing a file changes nothing. A slot already on record
(same role, staff, date and time) keeps its id; a free one takes the file's type and minutes; a
booked one is never changed.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.common.csv_files import CsvFileError, read_rows
from bot.db.engine import session_scope
from bot.common.clock import (happens_twice, is_bank_holiday, london_day_start_utc, london_to_utc, london_today,
                              to_london, utcnow)
from bot.db.models import Appointment, BookingSlot, Practice
from bot.patients.outreach import ensure_practice
from bot.patients.register import RegisterError, _header_name, _write_rejects, parse_date
from bot.practice_script.loader import SLOT_KINDS, PracticeScript, ScriptError, script_for
from bot.sender.segments import GSM7_BASIC, GSM7_EXTENDED

HORIZON_DAYS = 14                    # weekly slots exist, and patients are offered times, this many days ahead
COLUMNS = ("role", "date", "time", "minutes", "type", "staff")
LEAD_TIME = dt.timedelta(hours=2)    # the soonest a patient may be offered: time to prepare, and to read the text
MIN_MINUTES, MAX_MINUTES = 5, 240
MAX_STAFF = 40                       # a first name; it goes into every offer text
INSERT_CHUNK = 500                   # rows per multi-row INSERT (well under SQLite's variable limit)

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_TIME = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)
_STAFF = re.compile(r"[^\W\d_]+(?:[ '\-][^\W\d_]+)*")  # letters; single spaces, hyphens, apostrophes between
# Characters a spreadsheet or phone puts in names and titles, and their GSM-7 equivalents.
_GSM7_LOOKALIKES = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                    "\u00a0": " "}


# ---------------------------------------------------------------------------------------------
# The booking horizon


def horizon_end(now: dt.datetime, days: int = HORIZON_DAYS) -> dt.datetime:
    """The end of the booking horizon (naive UTC): London midnight after the `days`-th day after
    today. The horizon is today and the next `days` whole days, London time: the one definition
    that weekly slot creation, the offers to patients and `outreach slots list` all use, so a slot
    late on the last day is created, offered and listed alike."""
    return london_day_start_utc(london_today(now) + dt.timedelta(days=days + 1))


# ---------------------------------------------------------------------------------------------
# Creating slots


def _insert_missing(session: Session, rows: List[Dict[str, Any]]) -> int:
    """Insert slots that are not there yet; returns how many were inserted.

    Another process (a second worker, `slots list`, an import) may insert the same slot at the same
    moment: the unique key (practice, role, staff, start) decides, and the loser's row is skipped,
    not an error, with INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite). Other databases get
    one SAVEPOINT per row."""
    if not rows:
        return 0
    dialect = session.connection().dialect.name
    key = ["practice_id", "role", "staff", "starts_at"]
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        created = 0
        for start in range(0, len(rows), INSERT_CHUNK):
            statement = insert(BookingSlot.__table__).values(rows[start:start + INSERT_CHUNK])
            # rowcount of a multi-row INSERT counts only the rows actually inserted.
            created += session.execute(statement.on_conflict_do_nothing(index_elements=key)).rowcount
        return created
    created = 0
    for row in rows:
        try:
            with session.begin_nested():
                session.execute(BookingSlot.__table__.insert().values(**row))
            created += 1
        except IntegrityError:
            pass
    return created


def _slot_row(practice_id: int, role: str, staff: str, kind: str, starts_at: dt.datetime, minutes: int,
              source: str, now: dt.datetime) -> Dict[str, Any]:
    # Every column is given: a Core multi-row INSERT does not run the ORM's Python-side defaults.
    return {"practice_id": practice_id, "role": role, "staff": staff, "kind": kind, "starts_at": starts_at,
            "minutes": minutes, "source": source, "status": "free", "created_at": now}


def ensure_weekly_slots(session: Session, practice: Practice, script: PracticeScript, now: dt.datetime,
                        days: int = HORIZON_DAYS) -> int:
    """Create the slots of every role's weekly sessions in the booking horizon (today, London, and
    the next `days` days: `horizon_end`); returns how many were created.

    Idempotent and safe to run from two processes at once (see `_insert_missing`). Sessions on an
    English bank holiday, and ones that have already started, get no slot. A session whose time the
    clocks skip that day gets none either; one whose time happens twice is taken the first time."""
    today = london_today(now)
    wanted: Dict[Tuple[str, str, dt.datetime], Dict[str, Any]] = {}
    for role in script.roles.values():
        for session_ in role.weekly:
            for offset in range(days + 1):
                day = today + dt.timedelta(days=offset)
                if day.weekday() != session_.weekday or is_bank_holiday(day):
                    continue
                starts_at = london_to_utc(day, dt.time(session_.hour, session_.minute))
                if starts_at is None or starts_at <= now:
                    continue
                wanted[(role.key, session_.staff, starts_at)] = _slot_row(
                    practice.id, role.key, session_.staff, session_.kind, starts_at, session_.minutes, "weekly", now)
    if not wanted:
        return 0
    # One read first, so that the usual call (everything already there) writes nothing at all.
    starts = [key[2] for key in wanted]
    existing = set(tuple(row) for row in session.execute(
        select(BookingSlot.role, BookingSlot.staff, BookingSlot.starts_at)
        .where(BookingSlot.practice_id == practice.id, BookingSlot.starts_at >= min(starts),
               BookingSlot.starts_at <= max(starts))).all())
    missing = [row for key, row in wanted.items() if key not in existing]
    return _insert_missing(session, missing)


# ---------------------------------------------------------------------------------------------
# Finding, booking and cancelling


def soonest_free(session: Session, practice_id: int, role: str, now: dt.datetime, within_days: int = HORIZON_DAYS,
                 skip: int = 0, limit: int = 3) -> List[BookingSlot]:
    """Free slots of a role that start at least 2 hours after `now` and within the booking horizon
    of `within_days` days (`horizon_end`),
    soonest first (then by staff and id, so the order is stable). `skip` passes over slots already
    offered ("none of those, show me others"). Call `ensure_weekly_slots` first."""
    return list(session.scalars(
        select(BookingSlot)
        .where(BookingSlot.practice_id == practice_id, BookingSlot.role == role, BookingSlot.status == "free",
               BookingSlot.starts_at >= now + LEAD_TIME,
               BookingSlot.starts_at < horizon_end(now, within_days))
        .order_by(BookingSlot.starts_at, BookingSlot.staff, BookingSlot.id)
        .offset(skip).limit(limit)))


def upcoming(session: Session, practice_id: int, now: dt.datetime, days: int = HORIZON_DAYS,
             role: Optional[str] = None) -> List[BookingSlot]:
    """Every slot (free and booked) starting from `now` to the end of the booking horizon of `days`
    days (`horizon_end`), soonest first."""
    query = (select(BookingSlot)
             .where(BookingSlot.practice_id == practice_id, BookingSlot.starts_at >= now,
                    BookingSlot.starts_at < horizon_end(now, days))
             .order_by(BookingSlot.starts_at, BookingSlot.role, BookingSlot.staff, BookingSlot.id))
    if role is not None:
        query = query.where(BookingSlot.role == role)
    return list(session.scalars(query))


def book(session: Session, slot_id: int, *, patient_id: int, practice_id: int, conversation_id: Optional[int],
         role: str, inbound_message_id: Optional[int] = None,
         not_before: Optional[dt.datetime] = None) -> Optional[Appointment]:
    """Book a slot for a patient; None when it is no longer free (someone else got it).

    Atomic: one conditional UPDATE moves the slot from free to booked, and only when it changed
    the row is the appointment inserted, in the same transaction (the caller's). The slot must also
    belong to `practice_id` and `role`, so a stale slot id can never book another practice's slot;
    with `not_before` (e.g. now) it must start after that time, for an offer answered late.

    Idempotent for a retried turn: when this patient already holds this slot, booked by the same
    inbound message, that appointment is returned again."""
    same_message = (Appointment.inbound_message_id.is_(None) if inbound_message_id is None
                    else Appointment.inbound_message_id == inbound_message_id)
    again = session.scalar(select(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.slot_id == slot_id, Appointment.status == "booked",
        same_message).order_by(Appointment.id.desc()).limit(1))
    if again is not None:
        return again
    conditions = [BookingSlot.id == slot_id, BookingSlot.status == "free", BookingSlot.practice_id == practice_id,
                  BookingSlot.role == role]
    if not_before is not None:
        conditions.append(BookingSlot.starts_at > not_before)
    result = session.execute(update(BookingSlot).where(and_(*conditions)).values(status="booked"))
    if result.rowcount != 1:
        return None
    appointment = Appointment(practice_id=practice_id, patient_id=patient_id, conversation_id=conversation_id,
                              slot_id=slot_id, role=role, status="booked", inbound_message_id=inbound_message_id,
                              booked_at=utcnow())
    session.add(appointment)
    session.flush()
    return appointment


def cancel(session: Session, appointment: Appointment, status: str = "cancelled") -> None:
    """Cancel an appointment (`status` "cancelled", or "rebooked" when the patient moved to another
    slot) and free its slot, in the same transaction.

    Only a booked appointment is changed: cancelling twice, or two coordinators cancelling at once,
    never frees a slot that another patient has booked since. To move a patient, `book` the new slot
    first and cancel the old one with "rebooked" only when that worked."""
    if status not in ("cancelled", "rebooked"):
        raise ValueError(f"an appointment is cancelled or rebooked, not {status!r}")
    result = session.execute(
        update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked")
        .values(status=status, cancelled_at=utcnow()))
    if result.rowcount == 1:
        session.execute(update(BookingSlot).where(BookingSlot.id == appointment.slot_id,
                                                  BookingSlot.status == "booked").values(status="free"))


def current_appointment(session: Session, patient_id: int,
                        now: Optional[dt.datetime] = None) -> Optional[Appointment]:
    """The patient's booked appointment that has not started yet (the latest booked, should there
    be several); None without one. `now` defaults to the current time."""
    now = now or utcnow()
    return session.scalar(
        select(Appointment).join(BookingSlot, BookingSlot.id == Appointment.slot_id)
        .where(Appointment.patient_id == patient_id, Appointment.status == "booked", BookingSlot.starts_at > now)
        .order_by(Appointment.booked_at.desc(), Appointment.id.desc()).limit(1))


def reminders_due(session: Session, now: dt.datetime) -> List[Appointment]:
    """Booked appointments whose slot starts on the London calendar day after `now`'s London date
    and whose reminder has not been queued yet, soonest first."""
    tomorrow = to_london(now).date() + dt.timedelta(days=1)
    start, end = london_day_start_utc(tomorrow), london_day_start_utc(tomorrow + dt.timedelta(days=1))
    return list(session.scalars(
        select(Appointment).join(BookingSlot, BookingSlot.id == Appointment.slot_id)
        .where(Appointment.status == "booked", Appointment.reminder_queued_at.is_(None),
               BookingSlot.starts_at >= start, BookingSlot.starts_at < end)
        .order_by(BookingSlot.starts_at, Appointment.id)))


# ---------------------------------------------------------------------------------------------
# Words


def gsm7(text: str) -> str:
    """`text` with every character outside GSM-7 replaced by its plain form (a curly apostrophe by
    a straight one, "ë" by "e") or dropped: one such character would make the whole text UCS-2."""
    out = []
    for ch in text:
        ch = _GSM7_LOOKALIKES.get(ch, ch)
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
        else:
            out.extend(c for c in unicodedata.normalize("NFKD", ch) if c in GSM7_BASIC)
    return "".join(out)


def describe(slot: BookingSlot, role_title: str) -> str:
    """A slot in plain words for an SMS, in London time: "Tue 3 Dec 10:30, phone call with Sam,
    care coordinator". GSM-7 characters only."""
    local = to_london(slot.starts_at)
    kind = SLOT_KINDS.get(slot.kind, slot.kind)
    return gsm7(f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} {local:%H:%M}, "
                f"{kind} with {slot.staff}, {role_title}")


# ---------------------------------------------------------------------------------------------
# Importing slots from a CSV file


class SlotImportError(RegisterError):
    """The slots file was refused and nothing was written. `problems` lists every problem found,
    each as `FILE:LINE: COLUMN: problem`."""


@dataclass(frozen=True)
class RejectedSlot:
    line: int
    problems: Tuple[str, ...]


@dataclass(frozen=True)
class KeptBooked:
    """A row for a slot that is already booked and differs from it: the booking is left alone."""
    line: int
    slot_id: int
    reason: str


@dataclass
class ImportReport:
    ods_code: str
    total_rows: int = 0
    created: int = 0
    updated: int = 0      # a free slot on record that took the file's type or minutes
    unchanged: int = 0
    kept_booked: List[KeptBooked] = field(default_factory=list)
    rejected: List[RejectedSlot] = field(default_factory=list)
    rejects_path: Optional[Path] = None
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"{self.ods_code}: {self.total_rows} slot rows read: {self.created} created, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.rejected)} rejected ({self.seconds:.1f} s)"]
        if self.kept_booked:
            lines.append("already booked, left as they are:")
            lines += [f"  line {k.line}: slot {k.slot_id}: {k.reason}" for k in self.kept_booked]
        if self.rejected and self.rejects_path:
            lines.append(f"rejected rows, with an error column: {self.rejects_path}")
        elif self.rejected:
            lines += [f"  {p}" for r in self.rejected for p in r.problems]
        return "\n".join(lines)


@dataclass
class _SlotRow:
    line: int
    fields: List[str]      # as read, for the rejects file
    values: Dict[str, Any] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)

    @property
    def key(self) -> Tuple[str, str, dt.datetime]:
        return self.values["role"], self.values["staff"], self.values["starts_at"]


def _refuse(path: Path, problems: List[str], note: str = "nothing was imported") -> SlotImportError:
    return SlotImportError(path, problems, note)


def _read(path: Path) -> Tuple[List[str], List[Tuple[int, List[str]]]]:
    """The header and the data rows (with the line each starts on); blank rows are left out."""
    try:
        return read_rows(path, COLUMNS)
    except CsvFileError as exc:
        raise _refuse(path, [f"{path}:{line}: file: {text}" for line, text in exc.problems], exc.note) from None


def _check_header(path: Path, header: List[str]) -> Tuple[Dict[str, int], List[str]]:
    """Column name -> index, and the header's problems."""
    columns: Dict[str, int] = {}
    problems = []
    for index, raw in enumerate(header):
        name = _header_name(raw)
        if not name:
            problems.append(f"{path}:1: column {index + 1}: the column has no name")
        elif name not in COLUMNS:
            hint = "; the file must be comma separated, not semicolon separated" if ";" in raw else ""
            problems.append(f"{path}:1: {raw.strip()}: unknown column (known columns: {', '.join(COLUMNS)}){hint}")
        elif name in columns:
            problems.append(f"{path}:1: {name}: appears twice (columns {columns[name] + 1} and {index + 1})")
        else:
            columns[name] = index
    for name in COLUMNS:
        if name not in columns:
            problems.append(f"{path}:1: {name}: required column is missing")
    return columns, problems


def _role_lookup(script: PracticeScript) -> Dict[str, str]:
    """What a file may write in the role column (key or title, any case) -> the role key."""
    lookup = {}
    for key, role in script.roles.items():
        lookup[key.lower()] = key
        lookup[" ".join(role.title.lower().split())] = key
    return lookup


def _check_row(path: Path, line: int, fields: List[str], columns: Dict[str, int], width: int,
               script: PracticeScript, roles: Dict[str, str], now: dt.datetime) -> _SlotRow:
    row = _SlotRow(line=line, fields=fields)

    def problem(column: str, text: str) -> None:
        row.problems.append(f"{path}:{line}: {column}: {text}")

    if len(fields) != width:
        problem("row", f"has {len(fields)} fields but the header has {width}")
        return row

    def cell(name: str) -> str:
        return fields[columns[name]].strip()

    values = row.values
    text = cell("role")
    known = ", ".join(script.roles) or "none: the practice script has no roles"
    if not text:
        problem("role", f"is required (this practice's roles: {known})")
    elif " ".join(text.lower().split()) not in roles:
        problem("role", f"{text!r} is not one of this practice's roles ({known})")
    else:
        values["role"] = roles[" ".join(text.lower().split())]

    day: Optional[dt.date] = None
    text = cell("date")
    if not text:
        problem("date", "is required (YYYY-MM-DD or DD/MM/YYYY)")
    else:
        try:
            day = parse_date(text)
        except ValueError as exc:
            problem("date", str(exc))

    clock: Optional[dt.time] = None
    text = cell("time")
    match = _TIME.fullmatch(text)
    if not text:
        problem("time", "is required (HH:MM, 24-hour, London time)")
    elif not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        problem("time", f"{text!r} is not a time in the form HH:MM (24-hour, London time)")
    else:
        clock = dt.time(int(match.group(1)), int(match.group(2)))

    text = cell("minutes")
    if not (text.isascii() and text.isdigit() and MIN_MINUTES <= int(text) <= MAX_MINUTES):
        problem("minutes", f"{text!r} is not a whole number of minutes from {MIN_MINUTES} to {MAX_MINUTES}")
    else:
        values["minutes"] = int(text)

    text = cell("type").lower()
    if text not in SLOT_KINDS:
        problem("type", f"{cell('type')!r} is not one of {', '.join(SLOT_KINDS)}")
    else:
        values["kind"] = text

    text = " ".join(cell("staff").split())
    if not text:
        problem("staff", "is required (the first name patients will see)")
    elif len(text) > MAX_STAFF or not _STAFF.fullmatch(text):
        problem("staff", f"{text!r} is not a first name (letters, with spaces, hyphens or apostrophes; at most "
                         f"{MAX_STAFF} characters)")
    else:
        values["staff"] = text

    if day is not None and clock is not None:
        starts_at = london_to_utc(day, clock)
        if starts_at is None:
            problem("time", f"{clock:%H:%M} does not exist in London on {day.isoformat()}: the clocks go forward "
                            "that night; choose another time")
        elif happens_twice(day, clock):
            problem("time", f"{clock:%H:%M} happens twice in London on {day.isoformat()}: the clocks go back that "
                            "night; choose another time")
        elif starts_at <= now:
            problem("date", f"{day.isoformat()} {clock:%H:%M} is in the past")
        else:
            values["starts_at"] = starts_at
    return row


def _check_duplicates(path: Path, rows: List[_SlotRow]) -> None:
    lines: Dict[Tuple[str, str, dt.datetime], List[int]] = {}
    for row in rows:
        if not row.problems:
            lines.setdefault(row.key, []).append(row.line)
    for row in rows:
        same = lines.get(row.key, []) if not row.problems else []
        if len(same) > 1:
            others = ", ".join(str(n) for n in same if n != row.line)
            row.problems.append(f"{path}:{row.line}: row: the same slot (role, staff, date and time) is also on "
                                f"line {others}")


def import_slots(settings: Settings, path: Path, ods_code: str, skip_invalid: bool = False,
                 rejects_path: Optional[Path] = None, now: Optional[dt.datetime] = None) -> ImportReport:
    """Import one-off slots for a practice from a CSV file (see the module docstring). Raises
    SlotImportError, with every problem, when the file is refused; then nothing is written.
    `now` (naive UTC, default the current time) decides which slots are in the past."""
    started = time.perf_counter()
    path = Path(path)
    now = now or utcnow()
    try:
        script = script_for(settings.practices_dir, ods_code)
    except ScriptError as exc:
        raise _refuse(path, [f"{path}:1: file: {exc}"]) from None
    header, raw_rows = _read(path)
    columns, header_problems = _check_header(path, header)
    if not raw_rows:
        raise _refuse(path, header_problems + [f"{path}:2: file: the file has a header but no slot rows"])
    if header_problems:
        raise _refuse(path, header_problems)  # rows cannot be read without their columns
    roles = _role_lookup(script)
    rows = [_check_row(path, line, fields, columns, len(header), script, roles, now) for line, fields in raw_rows]
    _check_duplicates(path, rows)
    problems = [p for row in rows for p in row.problems]
    if problems and not skip_invalid:
        raise _refuse(path, problems)

    good = [row for row in rows if not row.problems]
    bad = [row for row in rows if row.problems]
    report = ImportReport(ods_code=script.ods_code, total_rows=len(rows),
                          rejected=[RejectedSlot(r.line, tuple(r.problems)) for r in bad],
                          rejects_path=rejects_path if skip_invalid and bad else None)
    with session_scope(settings.database_url) as session:
        practice = ensure_practice(session, script)
        existing: Dict[Tuple[str, str, dt.datetime], Tuple[int, str, int, str]] = {}
        if good:
            starts = [row.values["starts_at"] for row in good]
            for slot in session.execute(
                    select(BookingSlot.id, BookingSlot.role, BookingSlot.staff, BookingSlot.starts_at,
                           BookingSlot.kind, BookingSlot.minutes, BookingSlot.status)
                    .where(BookingSlot.practice_id == practice.id, BookingSlot.starts_at >= min(starts),
                           BookingSlot.starts_at <= max(starts))):
                existing[(slot.role, slot.staff, slot.starts_at)] = (slot.id, slot.kind, slot.minutes, slot.status)
        inserts = []
        for row in good:
            values = row.values
            found = existing.get(row.key)
            if found is None:
                inserts.append(_slot_row(practice.id, values["role"], values["staff"], values["kind"],
                                         values["starts_at"], values["minutes"], "import", now))
                continue
            slot_id, kind, minutes, status = found
            if (kind, minutes) == (values["kind"], values["minutes"]):
                report.unchanged += 1
                continue
            # Only a free slot changes; the WHERE keeps a booking made a moment ago as it was booked.
            changed = session.execute(
                update(BookingSlot).where(BookingSlot.id == slot_id, BookingSlot.status == "free")
                .values(kind=values["kind"], minutes=values["minutes"], source="import")).rowcount
            if changed:
                report.updated += 1
            else:
                report.kept_booked.append(KeptBooked(
                    row.line, slot_id, f"booked as a {minutes}-minute {SLOT_KINDS.get(kind, kind)}; the file says a "
                                       f"{values['minutes']}-minute {SLOT_KINDS[values['kind']]}"))
        report.created = _insert_missing(session, inserts)
        report.unchanged += len(inserts) - report.created  # created by another process a moment ago
        if report.rejects_path is not None:
            try:
                _write_rejects(Path(report.rejects_path), header, bad)  # type: ignore[arg-type]
            except OSError as exc:
                raise _refuse(path, [f"{path}:1: file: cannot write the rejected rows to {rejects_path}: "
                                     f"{exc.strerror or exc}"]) from None
    report.seconds = time.perf_counter() - started
    return report


# ---------------------------------------------------------------------------------------------
# Command line


# The example slots file: a template whose dates follow the calendar, so it always imports cleanly.
# (role, working days after the first example day, time, minutes, type, staff, date written as)
_EXAMPLE_ROWS = (
    ("care_coordinator", 0, "09:00", 30, "phone", "Sam", "iso"),
    ("care_coordinator", 0, "09:30", 30, "phone", "Sam", "iso"),
    ("care_coordinator", 2, "16:00", 45, "face_to_face", "Sam", "iso"),
    ("social_prescriber", 1, "10:00", 30, "video", "Priya", "iso"),
    ("social_prescriber", 4, "13:30", 30, "phone", "Priya", "uk"),
    ("health_coach", 3, "11:00", 30, "phone", "Jo", "iso"),
    ("health_coach", 100, "15:30", 20, "video", "Jo", "iso"),
)
EXAMPLE_LEAD_DAYS = 7   # the example's first day is the first working day at least this far ahead


def example_slots_csv(now: dt.datetime) -> str:
    """An example slots file (for the roles of the example practices) whose dates are working days
    from a week after `now` on, London time: both date forms, every type, one slot months ahead.
    `outreach slots example` prints it; `make run` imports it for the demo practice."""
    day = london_today(now) + dt.timedelta(days=EXAMPLE_LEAD_DAYS)
    working_days: List[dt.date] = []
    while len(working_days) <= max(row[1] for row in _EXAMPLE_ROWS):
        if day.weekday() < 5 and not is_bank_holiday(day):
            working_days.append(day)
        day += dt.timedelta(days=1)
    lines = [",".join(COLUMNS)]
    for role, offset, clock, minutes, kind, staff, form in _EXAMPLE_ROWS:
        date = working_days[offset]
        written = date.isoformat() if form == "iso" else f"{date:%d/%m/%Y}"
        lines.append(f"{role},{written},{clock},{minutes},{kind},{staff}")
    return "\n".join(lines) + "\n"


def run_example_command(args, now: Optional[dt.datetime] = None) -> int:
    """`outreach slots example [--out FILE]`: write an example slots file dated from next week."""
    text = example_slots_csv(now or utcnow())
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {text.count(chr(10)) - 1} example slots for the example practices' roles",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_import_command(args) -> int:
    """`outreach slots import FILE --practice ODS [--skip-invalid] [--rejects FILE]`: the summary
    to standard output; 0 when the file was imported, 2 when it was refused (nothing written)."""
    from bot.config import ConfigError, load_settings

    path = Path(args.file)
    rejects = Path(args.rejects) if getattr(args, "rejects", None) else None
    if args.skip_invalid and rejects is None:
        rejects = path.with_name(path.stem + ".rejects.csv")
    try:
        report = import_slots(load_settings(), path, args.practice, skip_invalid=args.skip_invalid,
                              rejects_path=rejects)
    except (SlotImportError, ConfigError) as exc:
        print(f"outreach: error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"outreach: error: database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}; "
              "nothing was imported", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def format_slot(slot: BookingSlot, role_title: str) -> str:
    """One line of `outreach slots list`: London date and time, length, role, staff, type, status.
    Never a patient's name: the list may be printed or shared."""
    local = to_london(slot.starts_at)
    return (f"{local:%Y-%m-%d} {DAY_NAMES[local.weekday()]} {local:%H:%M}\t{slot.minutes} min\t{role_title}\t"
            f"{slot.staff}\t{SLOT_KINDS.get(slot.kind, slot.kind)}\t{slot.status}\t{slot.source}")


def run_list_command(args, now: Optional[dt.datetime] = None) -> int:
    """`outreach slots list --practice ODS [--role ROLE] [--days N]`: the practice's slots, free and
    booked, in London time, after creating the weekly pattern's slots. 0, or 2 for a bad option."""
    from bot.config import load_settings

    settings = load_settings()
    script = script_for(settings.practices_dir, args.practice)  # ScriptError: cli.main prints it, exit 2
    days = args.days
    if not 1 <= days <= 366:
        print(f"outreach: error: --days must be from 1 to 366, got {days}", file=sys.stderr)
        return 2
    role = None
    if args.role:
        role = _role_lookup(script).get(" ".join(args.role.lower().split()))
        if role is None:
            print(f"outreach: error: {args.role!r} is not one of {script.ods_code}'s roles "
                  f"({', '.join(script.roles) or 'it has none'})", file=sys.stderr)
            return 2
    now = now or utcnow()
    titles = {key: r.title for key, r in script.roles.items()}
    with session_scope(settings.database_url) as session:
        practice = ensure_practice(session, script)
        created = ensure_weekly_slots(session, practice, script, now, days=days)
        slots = upcoming(session, practice.id, now, days=days, role=role)
        for slot in slots:
            print(format_slot(slot, titles.get(slot.role, slot.role)))
        free = sum(1 for s in slots if s.status == "free")
    print(f"{len(slots)} slot(s) in the next {days} days: {free} free, {len(slots) - free} booked"
          + (f" ({created} created from the weekly pattern)" if created else ""), file=sys.stderr)
    return 0
