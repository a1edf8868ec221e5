"""Import a practice's cancer register from a CSV export (`outreach patients import`).

The file is UTF-8 text (a byte-order mark is allowed: Excel's "CSV UTF-8"), comma separated, with
one header row. Header names are case-insensitive, in any order; spaces and hyphens in them count
as underscores ("NHS Number" is nhs_number).

| column | required | what it holds |
|---|---|---|
| `nhs_number` | yes | 10 digits, spaces allowed (`999 000 0018`), passing the NHS modulus-11 check digit |
| `first_name` | yes | as the patient is addressed in texts (at most 100 characters) |
| `last_name` | no | at most 100 characters |
| `date_of_birth` | yes | `YYYY-MM-DD` or `DD/MM/YYYY`; not in the future, not more than 120 years ago |
| `mobile` | yes | a UK mobile number, in any common form; stored in E.164 (`+447700900123`) |
| `diagnosis_date` | yes | `YYYY-MM-DD` or `DD/MM/YYYY`; not in the future, not before the date of birth |
| `cancer_site` | no | free text, at most 100 characters |
| `on_active_treatment` | no | `yes`/`no`/`true`/`false`/`1`/`0` (any case); empty: not known |
| `oncology_helpline` | no | the hospital's 24-hour helpline, any UK number; texted in safety nets |
| `preferred_language` | no | an ISO 639-1 code (`en`, `pl`, `ur`...); empty means `en` |
| `deceased_date` | no | `YYYY-MM-DD` or `DD/MM/YYYY`; not in the future, not before the date of birth |

What happens to each row:

- A row is matched to a patient of the practice by NHS number (or, for a patient added by hand
  without an NHS number, by the same mobile and date of birth). A matched row updates the patient
  (`report.updated`) or changes nothing (`report.unchanged`); other rows add a patient
  (`report.added`). Re-importing the same file changes nothing. An optional column left out of
  the file leaves that field of existing patients as it is; an empty cell clears it.
- A row whose mobile is empty, a landline or not a valid number, or the same mobile as another
  row or another patient of the practice, is NOT imported and not an error: it is listed in
  `report.needs_phone_call` (the practice should phone that patient). A matched patient is left as
  they were, with the mobile on record.
- A row with a `deceased_date` is never added as a new patient. A matched patient is updated (the
  date is stored, so the cohort never invites them) but keeps the mobile on record. Both are
  listed in `report.deceased`, never in `needs_phone_call`.

Problems refuse the whole file: nothing is written and `RegisterError` lists every problem as
`line N, column C: problem` (unknown or missing columns, bad values, the same NHS number twice, an
empty file, a header with no rows, bytes that are not UTF-8). With `skip_invalid` the good rows
are imported and the bad rows are written, with their problems in an extra `error` column, to
`rejects_path`; problems with the file itself (encoding, header, no rows) still refuse it.

The import is one transaction: the practice's patients are loaded once, and rows are written in
batches with bulk inserts and updates.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.common.clock import london_today
from bot.config import Settings
from bot.common.csv_files import CsvFileError, read_rows
from bot.db.engine import session_scope
from bot.db.models import Patient
from bot.patients.nhs_numbers import nhs_number_problem
from bot.patients.outreach import ensure_practice
from bot.patients.phones import PhoneError, normalise_mobile
from bot.practice_script.loader import ScriptError, script_for

REQUIRED_COLUMNS = ("nhs_number", "first_name", "date_of_birth", "mobile", "diagnosis_date")
OPTIONAL_COLUMNS = ("last_name", "cancer_site", "on_active_treatment", "oncology_helpline",
                    "preferred_language", "deceased_date")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

CHUNK_ROWS = 2000
MAX_AGE_YEARS = 120
MAX_NAME = 100
MAX_CANCER_SITE = 100
MAX_HELPLINE = 32  # Patient.oncology_helpline

TRUE_WORDS = {"yes", "true", "1"}
FALSE_WORDS = {"no", "false", "0"}

# ISO 639-1 (two-letter) language codes.
ISO_639_1 = set("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii
ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi
mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw
sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk
ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())

# Ofcom's drama ranges for landlines that phonenumbers does not know as valid (used in examples).
DRAMA_LANDLINE_PREFIXES = ("+441632960",)

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)


class RegisterError(ValueError):
    """The file was refused and nothing was written. `problems` lists every problem found."""

    def __init__(self, path: Path, problems: List[str], note: str = "nothing was imported"):
        self.path, self.problems = path, list(problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{path}: {count}, {note}:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class RejectedRow:
    line: int
    nhs_number: str  # as written in the file
    problems: Tuple[str, ...]


@dataclass(frozen=True)
class PhoneCall:
    """A patient to phone rather than text: the row was not imported."""
    line: int
    nhs_number: str
    reason: str
    patient_id: Optional[int] = None  # an existing patient, left as they were


@dataclass(frozen=True)
class Deceased:
    line: int
    nhs_number: str
    deceased_date: dt.date
    patient_id: Optional[int] = None  # the patient on record, updated; None: not added


@dataclass
class ImportReport:
    ods_code: str
    total_rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: List[RejectedRow] = field(default_factory=list)
    needs_phone_call: List[PhoneCall] = field(default_factory=list)
    deceased: List[Deceased] = field(default_factory=list)
    rejects_path: Optional[Path] = None
    seconds: float = 0.0        # the whole import
    check_seconds: float = 0.0  # reading and checking the file
    write_seconds: float = 0.0  # the database transaction

    def summary(self) -> str:
        lines = [f"{self.ods_code}: {self.total_rows} rows read: {self.added} added, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.rejected)} rejected, "
                 f"{len(self.needs_phone_call)} to phone instead of text, {len(self.deceased)} deceased "
                 f"({self.seconds:.1f} s)"]
        if self.rejected and self.rejects_path:
            lines.append(f"rejected rows, with an error column: {self.rejects_path}")
        if self.needs_phone_call:
            lines.append("not imported, phone these patients (no usable mobile):")
            lines += [f"  line {c.line}, NHS number {c.nhs_number}: {c.reason}"
                      + (f" (patient {c.patient_id} left as it was)" if c.patient_id else "")
                      for c in self.needs_phone_call]
        if self.deceased:
            lines.append("deceased (never invited):")
            lines += [f"  line {d.line}, NHS number {d.nhs_number}: died {d.deceased_date.isoformat()}"
                      + (f", patient {d.patient_id} updated" if d.patient_id else ", not added")
                      for d in self.deceased]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Values


def _today() -> dt.date:
    return london_today()


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD or DD/MM/YYYY; ValueError naming the problem otherwise."""
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _UK_DATE.fullmatch(text)
        if not match:
            raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD or DD/MM/YYYY")
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None


def _uk_phone(text: str) -> str:
    """Any UK phone number, in national format for texts ("0800 123 4567"); ValueError if not one."""
    value, problem = _uk_phone_cached(text)
    if problem:
        raise ValueError(problem)
    return value


@functools.lru_cache(maxsize=1024)  # a register names a few hospital helplines many times over
def _uk_phone_cached(text: str) -> Tuple[str, str]:
    try:
        return _parse_uk_phone(text), ""
    except ValueError as exc:
        return "", str(exc)


def _parse_uk_phone(text: str) -> str:
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    drama = len(e164) == 13 and e164.startswith(DRAMA_LANDLINE_PREFIXES + ("+447700900",))
    if number.country_code != 44 or not (drama or phonenumbers.is_valid_number(number)):
        raise ValueError(f"{text!r} is not a valid UK phone number")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if len(national) > MAX_HELPLINE:
        raise ValueError(f"{text!r} is longer than {MAX_HELPLINE} characters")
    return national


def _header_name(raw: str) -> str:
    return re.sub(r"[\s\-]+", "_", raw.strip().lstrip("\ufeff").strip().lower())


# ---------------------------------------------------------------------------------------------
# Reading and checking the file


@dataclass
class _Row:
    line: int
    fields: List[str]                     # as read, for the rejects file
    nhs_raw: str = ""
    nhs: str = ""
    values: Dict[str, Any] = field(default_factory=dict)  # Patient columns present in the file
    mobile_problem: Optional[str] = None
    problems: List[str] = field(default_factory=list)


def _read(path: Path) -> Tuple[List[str], List[Tuple[int, List[str]]]]:
    """The header and the data rows (with the line each starts on); blank rows are left out."""
    try:
        return read_rows(path, COLUMNS)
    except CsvFileError as exc:
        raise RegisterError(path, [f"line {line}: {text}" for line, text in exc.problems], exc.note) from None


def _check_header(header: List[str]) -> Tuple[Dict[str, int], List[str]]:
    """Column name -> index, and the header's problems."""
    columns: Dict[str, int] = {}
    problems = []
    for index, raw in enumerate(header):
        name = _header_name(raw)
        if not name:
            problems.append(f"line 1, column {index + 1}: the column has no name")
        elif name not in COLUMNS:
            problems.append(f"line 1, column {raw.strip()}: unknown column (known columns: {', '.join(COLUMNS)})")
        elif name in columns:
            problems.append(f"line 1, column {name}: appears twice (columns {columns[name] + 1} and {index + 1})")
        else:
            columns[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(f"line 1, column {name}: required column is missing")
    return columns, problems


def _check_row(line: int, fields: List[str], columns: Dict[str, int], width: int, today: dt.date) -> _Row:
    row = _Row(line=line, fields=fields)
    if len(fields) != width:
        row.problems.append(f"line {line}: has {len(fields)} fields but the header has {width}")
        if "nhs_number" in columns and columns["nhs_number"] < len(fields):
            row.nhs_raw = fields[columns["nhs_number"]].strip()
        return row

    def cell(name: str) -> str:
        return fields[columns[name]].strip()

    def problem(name: str, text: str) -> None:
        row.problems.append(f"line {line}, column {name}: {text}")

    def date_of(name: str, required: bool) -> Optional[dt.date]:
        text = cell(name)
        if not text:
            if required:
                problem(name, "is required")
            return None
        try:
            value = parse_date(text)
        except ValueError as exc:
            problem(name, str(exc))
            return None
        if value > today:
            problem(name, f"{value.isoformat()} is in the future")
            return None
        return value

    values = row.values
    if "nhs_number" in columns:
        row.nhs_raw = cell("nhs_number")
        bad = nhs_number_problem(row.nhs_raw)
        if bad:
            problem("nhs_number", bad)
        else:
            row.nhs = row.nhs_raw.replace(" ", "")
            values["nhs_number"] = row.nhs
    for name, required in (("first_name", True), ("last_name", False)):
        if name in columns:
            text = " ".join(cell(name).split())
            if required and not text:
                problem(name, "is required")
            elif len(text) > MAX_NAME:
                problem(name, f"is longer than {MAX_NAME} characters")
            else:
                values[name] = text
    dob = None
    if "date_of_birth" in columns:
        dob = date_of("date_of_birth", True)
        if dob is not None and dob < today.replace(year=today.year - MAX_AGE_YEARS, day=min(today.day, 28)):
            problem("date_of_birth", f"{dob.isoformat()} is more than {MAX_AGE_YEARS} years ago")
            dob = None
        if dob is not None:
            values["date_of_birth"] = dob
    for name in ("diagnosis_date", "deceased_date"):
        if name in columns:
            value = date_of(name, name == "diagnosis_date")
            if value is not None and dob is not None and value < dob:
                problem(name, f"{value.isoformat()} is before the date of birth {dob.isoformat()}")
                continue
            if value is not None or name == "deceased_date":
                values[name] = value
    if "mobile" in columns:
        text = cell("mobile")
        if not text:
            row.mobile_problem = "no mobile number"
        else:
            try:
                values["mobile"] = normalise_mobile(text)
            except PhoneError as exc:
                row.mobile_problem = str(exc)
    if "on_active_treatment" in columns:
        text = cell("on_active_treatment").lower()
        if text in TRUE_WORDS:
            values["on_active_treatment"] = True
        elif text in FALSE_WORDS:
            values["on_active_treatment"] = False
        elif not text:
            values["on_active_treatment"] = None
        else:
            problem("on_active_treatment", f"{cell('on_active_treatment')!r} is not yes, no, true, false, 1, 0 "
                                           "or empty")
    if "oncology_helpline" in columns:
        text = cell("oncology_helpline")
        if not text:
            values["oncology_helpline"] = None
        else:
            try:
                values["oncology_helpline"] = _uk_phone(text)
            except ValueError as exc:
                problem("oncology_helpline", str(exc))
    if "cancer_site" in columns:
        text = " ".join(cell("cancer_site").split())
        if len(text) > MAX_CANCER_SITE:
            problem("cancer_site", f"is longer than {MAX_CANCER_SITE} characters")
        values["cancer_site"] = text or None
    if "preferred_language" in columns:
        text = cell("preferred_language").lower() or "en"
        if text not in ISO_639_1:
            problem("preferred_language", f"{cell('preferred_language')!r} is not an ISO 639-1 language code "
                                          "(such as en, pl, ur)")
        values["preferred_language"] = text
    return row


def _check_duplicates(rows: List[_Row]) -> None:
    lines_by_nhs: Dict[str, List[int]] = {}
    for row in rows:
        if row.nhs:
            lines_by_nhs.setdefault(row.nhs, []).append(row.line)
    for row in rows:
        lines = lines_by_nhs.get(row.nhs, ())
        if len(lines) > 1:
            others = ", ".join(str(n) for n in lines if n != row.line)
            row.problems.append(f"line {row.line}, column nhs_number: {row.nhs_raw!r} is also on line "
                                f"{others}")


# ---------------------------------------------------------------------------------------------
# Writing


_FIELDS = ("nhs_number", "first_name", "last_name", "date_of_birth", "mobile", "diagnosis_date",
           "on_active_treatment", "oncology_helpline", "cancer_site", "preferred_language", "deceased_date")


@dataclass
class _Existing:
    id: int
    values: Dict[str, Any]


def _load_existing(session, practice_id: int) -> List[_Existing]:
    columns = [getattr(Patient, name) for name in _FIELDS]
    result = session.execute(select(Patient.id, *columns).where(Patient.practice_id == practice_id))
    return [_Existing(id=r[0], values=dict(zip(_FIELDS, r[1:]))) for r in result]


def _match(rows: List[_Row], existing: List[_Existing]) -> Dict[int, _Existing]:
    """Row line -> the existing patient it updates."""
    by_nhs: Dict[str, List[_Existing]] = {}
    by_mobile: Dict[str, _Existing] = {}
    for patient in existing:
        nhs = (patient.values["nhs_number"] or "").replace(" ", "")
        if nhs:
            by_nhs.setdefault(nhs, []).append(patient)
        by_mobile[patient.values["mobile"]] = patient
    matches: Dict[int, _Existing] = {}
    claimed: set = set()
    for row in rows:
        found = by_nhs.get(row.nhs, [])
        if len(found) > 1:
            row.problems.append(f"line {row.line}, column nhs_number: {row.nhs_raw!r} matches "
                                f"{len(found)} patients already on record (ids "
                                f"{', '.join(str(p.id) for p in found)}): merge them first")
        elif found:
            matches[row.line] = found[0]
            claimed.add(found[0].id)
    for row in rows:
        if row.line in matches or row.problems or "mobile" not in row.values:
            continue
        # A patient added by hand without an NHS number: the same mobile and date of birth.
        candidate = by_mobile.get(row.values["mobile"])
        if candidate is not None and not candidate.values["nhs_number"] and candidate.id not in claimed \
                and candidate.values["date_of_birth"] == row.values.get("date_of_birth"):
            matches[row.line] = candidate
            claimed.add(candidate.id)
    return matches


def _resolve_mobiles(rows: List[_Row], existing: List[_Existing], matches: Dict[int, _Existing]) -> Dict[int, str]:
    """Rows that cannot take their mobile because another row or patient of the practice has it
    (one number may not be texted for two patients). Returns row line -> reason."""
    callers = {row.line: row.mobile_problem for row in rows if row.mobile_problem}
    while True:
        updating = {matches[row.line].id for row in rows if row.line in matches and row.line not in callers}
        holders: Dict[str, List[Any]] = {}
        for patient in existing:
            if patient.id not in updating:
                holders.setdefault(patient.values["mobile"], []).append(patient)
        for row in rows:
            if row.line not in callers:
                holders.setdefault(row.values["mobile"], []).append(row)
        changed = False
        for mobile, held in holders.items():
            if len(held) < 2:
                continue
            shared = [f"line {h.line}" if isinstance(h, _Row) else f"patient {h.id} already on record"
                      for h in held]
            for holder in held:
                if isinstance(holder, _Row) and holder.line not in callers:
                    others = [s for s in shared if s != f"line {holder.line}"]
                    callers[holder.line] = (f"the mobile {mobile} is also given for {' and '.join(others)}: "
                                            "texts to a shared phone may be read by the wrong person")
                    changed = True
        if not changed:
            return callers


def _bulk_update(session, updates: List[Dict[str, Any]]) -> None:
    """Update patients by id. PostgreSQL: psycopg2's execute_batch, one round trip per page
    (an executemany UPDATE costs one round trip per row); elsewhere bulk_update_mappings."""
    connection = session.connection()
    if connection.dialect.driver != "psycopg2":
        session.bulk_update_mappings(Patient, updates)
        return
    from psycopg2.extras import execute_batch

    names = [name for name in _FIELDS if name in updates[0]]
    table = Patient.__table__.name
    sql = (f"UPDATE {table} SET " + ", ".join(f"{name} = %({name})s" for name in names)
           + " WHERE id = %(id)s")
    with connection.connection.cursor() as cursor:
        execute_batch(cursor, sql, updates, page_size=500)


def _write_rejects(path: Path, header: List[str], rejected: List[_Row]) -> None:
    width = len(header)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(header) + ["error"])
        for row in rejected:
            fields = (row.fields + [""] * width)[:width]
            writer.writerow(fields + ["; ".join(row.problems)])


def import_register(settings: Settings, path: Path, ods_code: str, skip_invalid: bool = False,
                    rejects_path: Optional[Path] = None,
                    progress: Optional[Callable[[int, int], None]] = None) -> ImportReport:
    """Import a practice's cancer register (CSV, see the module docstring). Raises RegisterError,
    with every problem, when the file is refused; then nothing is written."""
    started = time.perf_counter()
    path = Path(path)
    try:
        script = script_for(settings.practices_dir, ods_code)
    except ScriptError as exc:
        raise RegisterError(path, [str(exc)]) from None
    header, raw_rows = _read(path)
    columns, header_problems = _check_header(header)
    if not raw_rows:
        raise RegisterError(path, header_problems + ["line 2: the file has a header but no patient rows"])
    today = _today()
    rows = [_check_row(line, fields, columns, len(header), today) for line, fields in raw_rows]
    _check_duplicates(rows)
    if header_problems:
        problems = header_problems + [p for row in rows for p in row.problems]
        raise RegisterError(path, problems)
    if not skip_invalid:
        problems = [p for row in rows for p in row.problems]
        if problems:
            raise RegisterError(path, problems)

    report = ImportReport(ods_code=script.ods_code, total_rows=len(rows), rejects_path=rejects_path,
                          check_seconds=time.perf_counter() - started)
    with session_scope(settings.database_url) as session:
        practice = ensure_practice(session, script)
        existing = _load_existing(session, practice.id)
        matches = _match(rows, existing)  # may add problems (an NHS number on record twice)
        if not skip_invalid:
            problems = [p for row in rows for p in row.problems]
            if problems:
                raise RegisterError(path, problems)
        bad = [row for row in rows if row.problems]
        good = [row for row in rows if not row.problems]
        report.rejected = [RejectedRow(r.line, r.nhs_raw, tuple(r.problems)) for r in bad]

        # Deceased: never added. A matched patient is updated, keeping the mobile on record, and
        # reported; never put on the call list.
        new_deceased = set()
        for row in good:
            died = row.values.get("deceased_date")
            if died is not None:
                patient = matches.get(row.line)
                report.deceased.append(Deceased(row.line, row.nhs_raw, died, patient.id if patient else None))
                if patient is None:
                    new_deceased.add(row.line)
                else:
                    row.values["mobile"], row.mobile_problem = patient.values["mobile"], None
        candidates = [row for row in good if row.line not in new_deceased]
        callers = _resolve_mobiles(candidates, existing, matches)
        for row in candidates:
            if row.line not in callers:
                continue
            patient = matches.get(row.line)
            if row.values.get("deceased_date") is not None:
                del callers[row.line]  # another row gives their number: that row is on the call list
            else:
                report.needs_phone_call.append(PhoneCall(row.line, row.nhs_raw, callers[row.line],
                                                         patient.id if patient else None))

        # A patient whose mobile moves to another patient gives it up first (unique per practice).
        existing_by_id = {p.id: p for p in existing}
        wanted = {r.values["mobile"] for r in candidates if r.line not in callers}
        release = [{"id": matches[r.line].id, "mobile": f"~{matches[r.line].id}"} for r in candidates
                   if r.line in matches and r.line not in callers
                   and existing_by_id[matches[r.line].id].values["mobile"] != r.values["mobile"]
                   and existing_by_id[matches[r.line].id].values["mobile"] in wanted]
        if release:
            session.bulk_update_mappings(Patient, release)

        total = len(rows)
        done = 0
        for start in range(0, total, CHUNK_ROWS):
            chunk = rows[start:start + CHUNK_ROWS]
            inserts, updates = [], []
            for row in chunk:
                if row.problems or row.line in new_deceased or row.line in callers:
                    continue
                patient = matches.get(row.line)
                if patient is None:
                    inserts.append(dict(row.values, practice_id=practice.id,
                                        last_name=row.values.get("last_name", "")))
                    continue
                if any(patient.values.get(k) != v for k, v in row.values.items()):
                    updates.append(dict(patient.values, **row.values, id=patient.id))
                    report.updated += 1
                else:
                    report.unchanged += 1
            if inserts:
                # render_nulls: rows with and without None values stay one multi-row INSERT.
                session.bulk_insert_mappings(Patient, inserts, render_nulls=True)
                report.added += len(inserts)
            if updates:
                _bulk_update(session, updates)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        if skip_invalid and rejects_path is not None:
            try:
                _write_rejects(Path(rejects_path), header, bad)
            except OSError as exc:
                raise RegisterError(path, [f"cannot write the rejected rows to {rejects_path}: "
                                           f"{exc.strerror or exc}"]) from None
    report.seconds = time.perf_counter() - started
    report.write_seconds = report.seconds - report.check_seconds
    return report


# ---------------------------------------------------------------------------------------------
# Command line


def run_import_command(args) -> int:
    """`outreach patients import FILE --practice ODS [--skip-invalid] [--rejects FILE]`.

    Progress goes to standard error ("imported 12000/50000 rows"), the summary to standard output.
    Returns 0 when the file was imported, 2 when it was refused (nothing written)."""
    from bot.config import ConfigError, load_settings

    path = Path(args.file)
    rejects = Path(args.rejects) if getattr(args, "rejects", None) else None
    if args.skip_invalid and rejects is None:
        rejects = path.with_name(path.stem + ".rejects.csv")

    def show(done: int, total: int) -> None:
        print(f"imported {done}/{total} rows", file=sys.stderr, flush=True)

    try:
        report = import_register(load_settings(), path, args.practice, skip_invalid=args.skip_invalid,
                                 rejects_path=rejects, progress=show)
    except (RegisterError, ConfigError) as exc:
        print(f"outreach: error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"outreach: error: database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}; "
              "nothing was imported", file=sys.stderr)
        return 2
    print(report.summary())
    return 0
