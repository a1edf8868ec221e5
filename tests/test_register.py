"""Register import (bot/patients/register.py): the NHS number check digit, every reason a row is refused,
whole-file refusal, --skip-invalid, idempotent re-import and updates, on SQLite and PostgreSQL,
and 50,000 rows.

Every NHS number is from the 999 test range and every mobile from Ofcom's drama range, except in
the 50,000-row test, which needs more mobiles than the drama range has (they exist only in a
temporary file and database)."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from sqlalchemy import func, select

from bot.common.clock import london_today
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import Patient, Practice
from bot.patients.nhs_numbers import nhs_number_is_valid
from bot.patients.register import (COLUMNS, RegisterError, import_register, run_import_command)
from conftest import make_settings

HEADER = ["nhs_number", "first_name", "last_name", "date_of_birth", "mobile", "diagnosis_date", "cancer_site",
          "on_active_treatment", "oncology_helpline", "preferred_language", "deceased_date"]
TODAY = london_today()   # the pinned clock (tests/pinned_clock.py), in England
RECENT = (TODAY - dt.timedelta(days=30)).isoformat()
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()
# Valid NHS numbers from the test range.
NHS = ["9990000018", "9990000026", "9990000034", "9990000042", "9990000050", "9990000069", "9990000077",
       "9990000085"]


def row(n: int = 0, **values: str) -> Dict[str, str]:
    base = {"nhs_number": NHS[n], "first_name": f"Alex{n}", "last_name": "Fictional", "date_of_birth": "1961-03-12",
            "mobile": f"07700 9002{n:02d}", "diagnosis_date": RECENT, "cancer_site": "Bowel",
            "on_active_treatment": "yes", "oncology_helpline": "020 7946 0101", "preferred_language": "en",
            "deceased_date": ""}
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


def patients(url: str) -> List[Patient]:
    with session_scope(url) as session:
        return list(session.scalars(select(Patient).order_by(Patient.nhs_number)))


def count(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Patient))


# --------------------------------------------------------------------------------------------
# NHS numbers


@pytest.mark.parametrize("text, valid", [
    ("9990000018", True),
    ("999 000 0018", True),
    (" 943 476 5919 ", True),          # the number NHS Digital uses in examples
    ("9434765919", True),
    ("9990000019", False),             # wrong check digit
    ("9434765918", False),
    ("9990000000", False),             # the check digit would be 10: never issued
    ("9990000005", False),             # same prefix, any last digit
    ("999000001", False),              # 9 digits
    ("99900000188", False),            # 11 digits
    ("999-000-0018", False),           # only spaces are allowed
    ("99900000I8", False),
    ("", False),
    ("0000000000", False),             # passes modulus 11, but all digits the same
    ("１２３４５６７８９０", False),      # full-width digits
])
def test_nhs_number_check_digit(text, valid):
    assert nhs_number_is_valid(text) is valid


# --------------------------------------------------------------------------------------------
# Every reason a row is refused. Row 1 (line 2) is good; row 2 (line 3) has the problem.


ROW_PROBLEMS = [
    ("bad NHS number", {"nhs_number": "9990000019"}, "line 3, column nhs_number:", "check digit"),
    ("check digit 10", {"nhs_number": "9990000000"}, "line 3, column nhs_number:", "check digit"),
    ("short NHS number", {"nhs_number": "99900"}, "line 3, column nhs_number:", "not 10 digits"),
    ("missing NHS number", {"nhs_number": ""}, "line 3, column nhs_number:", "is required"),
    ("missing first name", {"first_name": "  "}, "line 3, column first_name:", "is required"),
    ("very long first name", {"first_name": "A" * 101}, "line 3, column first_name:", "longer than 100"),
    ("missing date of birth", {"date_of_birth": ""}, "line 3, column date_of_birth:", "is required"),
    ("US-style date", {"date_of_birth": "03-12-1961"}, "line 3, column date_of_birth:", "YYYY-MM-DD or DD/MM/YYYY"),
    ("impossible date", {"date_of_birth": "31/02/1961"}, "line 3, column date_of_birth:", "not a real date"),
    ("two-digit year", {"date_of_birth": "12/03/61"}, "line 3, column date_of_birth:", "YYYY-MM-DD or DD/MM/YYYY"),
    ("birth in the future", {"date_of_birth": TOMORROW}, "line 3, column date_of_birth:", "in the future"),
    ("birth 130 years ago", {"date_of_birth": "1890-01-01"}, "line 3, column date_of_birth:", "120 years"),
    ("missing diagnosis", {"diagnosis_date": ""}, "line 3, column diagnosis_date:", "is required"),
    ("future diagnosis", {"diagnosis_date": TOMORROW}, "line 3, column diagnosis_date:", "in the future"),
    ("diagnosis before birth", {"diagnosis_date": "1960-01-01"}, "line 3, column diagnosis_date:",
     "before the date of birth 1961-03-12"),
    ("deceased before birth", {"deceased_date": "01/01/1950"}, "line 3, column deceased_date:", "before the date"),
    ("deceased in the future", {"deceased_date": TOMORROW}, "line 3, column deceased_date:", "in the future"),
    ("treatment not yes/no", {"on_active_treatment": "maybe"}, "line 3, column on_active_treatment:", "'maybe'"),
    ("helpline not a number", {"oncology_helpline": "ring the ward"}, "line 3, column oncology_helpline:",
     "not a"),
    ("helpline not UK", {"oncology_helpline": "+1 212 555 0100"}, "line 3, column oncology_helpline:",
     "not a valid UK phone number"),
    ("unknown language", {"preferred_language": "english"}, "line 3, column preferred_language:", "ISO 639-1"),
    ("duplicate NHS number", {"nhs_number": "999 000 0018"}, "line 3, column nhs_number:", "also on line 2"),
]


@pytest.mark.parametrize("case, values, where, problem", ROW_PROBLEMS, ids=[c[0] for c in ROW_PROBLEMS])
def test_a_bad_row_refuses_the_whole_file_naming_line_column_and_problem(sqlite_url, tmp_path, case, values,
                                                                           where, problem):
    path = write_csv(tmp_path / "register.csv", [row(0), row(1, **values)])
    with pytest.raises(RegisterError) as caught:
        import_register(make_settings(sqlite_url), path, "Y00001")
    matching = [p for p in caught.value.problems if p.startswith(where)]
    assert matching and problem in matching[0], caught.value.problems
    assert "nothing was imported" in str(caught.value)
    assert count(sqlite_url) == 0


def test_duplicate_nhs_numbers_name_each_other(sqlite_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(0), row(1), row(2, nhs_number=NHS[0])])
    with pytest.raises(RegisterError) as caught:
        import_register(make_settings(sqlite_url), path, "Y00001")
    assert caught.value.problems == [
        "line 2, column nhs_number: '9990000018' is also on line 4",
        "line 4, column nhs_number: '9990000018' is also on line 2",
    ]


def test_every_problem_is_listed_not_only_the_first(sqlite_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(0, first_name="", diagnosis_date=TOMORROW),
                                          row(1, nhs_number="123"), row(2)], header=HEADER + ["notes"])
    with pytest.raises(RegisterError) as caught:
        import_register(make_settings(sqlite_url), path, "Y00001")
    problems = caught.value.problems
    assert any(p.startswith("line 1, column notes: unknown column") for p in problems)
    assert any(p.startswith("line 2, column first_name:") for p in problems)
    assert any(p.startswith("line 2, column diagnosis_date:") for p in problems)
    assert any(p.startswith("line 3, column nhs_number:") for p in problems)
    assert len(problems) == 4


@pytest.mark.parametrize("content, problem", [
    (b"", "line 1: the file is empty"),
    (b"\n\n  \n", "line 1: the file is empty"),
    (",".join(HEADER).encode() + b"\n", "line 2: the file has a header but no patient rows"),
    (",".join(HEADER).encode() + b"\n,,,,,,,,,,\n", "line 2: the file has a header but no patient rows"),
    (",".join(HEADER + ["Notes"]).encode() + b"\n", "line 1, column Notes: unknown column"),
    (b"nhs_number,first_name,date_of_birth,diagnosis_date\n9990000018,Alex,1961-03-12,2026-01-01\n",
     "line 1, column mobile: required column is missing"),
    (b"nhs_number,first_name,date_of_birth,mobile,diagnosis_date,Mobile\n", "line 1, column mobile: appears twice"),
    (",".join(HEADER).encode() + b"\n9990000018,Jos\xe9,,1961-03-12,07700900200,2026-01-01\n",
     "line 2: byte 15 of the line (0xE9) is not UTF-8 text"),
], ids=["empty", "blank lines", "header only", "header and an empty row", "unknown column", "missing column",
        "duplicate column", "not UTF-8"])
def test_a_bad_file_is_refused_with_a_clear_problem(sqlite_url, tmp_path, content, problem):
    path = tmp_path / "register.csv"
    path.write_bytes(content)
    for skip_invalid in (False, True):  # problems with the file itself refuse it even with skip_invalid
        with pytest.raises(RegisterError) as caught:
            import_register(make_settings(sqlite_url), path, "Y00001", skip_invalid=skip_invalid,
                            rejects_path=tmp_path / "rejects.csv")
        assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    assert count(sqlite_url) == 0
    assert not (tmp_path / "rejects.csv").exists()


def test_non_utf8_error_says_how_to_fix_it(sqlite_url, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\n9990000018,Ren\xe9e,,1961-03-12,07700900200,2026-01-01\n")
    with pytest.raises(RegisterError, match="not UTF-8 text: save the export as 'CSV UTF-8'"):
        import_register(make_settings(sqlite_url), path, "Y00001")


def test_header_names_are_case_insensitive_and_a_bom_is_fine(sqlite_url, tmp_path):
    path = tmp_path / "register.csv"
    text = "\ufeffNHS Number,First_Name,DATE_OF_BIRTH,Mobile,Diagnosis-Date\n" \
           f"999 000 0018,Alex,12/03/1961,07700 900200,{RECENT}\n"
    path.write_text(text, encoding="utf-8")
    report = import_register(make_settings(sqlite_url), path, "Y00001")
    assert report.added == 1
    [patient] = patients(sqlite_url)
    assert (patient.nhs_number, patient.date_of_birth, patient.mobile, patient.last_name) == \
        ("9990000018", dt.date(1961, 3, 12), "+447700900200", "")


def test_a_row_with_the_wrong_number_of_fields_is_refused(sqlite_url, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(",".join(HEADER) + "\n" + "9990000018,Alex\n", encoding="utf-8")
    with pytest.raises(RegisterError) as caught:
        import_register(make_settings(sqlite_url), path, "Y00001")
    assert caught.value.problems == ["line 2: has 2 fields but the header has 11"]


def test_an_unknown_practice_is_refused(sqlite_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(0)])
    with pytest.raises(RegisterError, match="no practice script for ODS code 'Y99999'"):
        import_register(make_settings(sqlite_url), path, "Y99999")


# --------------------------------------------------------------------------------------------
# Rows to phone rather than text, and deceased patients


@pytest.mark.parametrize("mobile, reason", [
    ("01632 960 123", "not a valid phone number"),     # drama-range landline: phonenumbers refuses it
    ("020 7946 0123", "not a mobile number"),          # a London landline
    ("0800 123 4567", "not a mobile number"),
    ("07700 9001", "not a valid phone number"),
    ("", "no mobile number"),
])
def test_a_row_without_a_usable_mobile_is_listed_to_phone_not_refused(sqlite_url, tmp_path, mobile, reason):
    path = write_csv(tmp_path / "r.csv", [row(0), row(1, mobile=mobile)])
    report = import_register(make_settings(sqlite_url), path, "Y00001")
    assert report.added == 1
    [call] = report.needs_phone_call
    assert (call.line, call.nhs_number, call.patient_id) == (3, NHS[1], None)
    assert reason in call.reason
    assert [p.nhs_number for p in patients(sqlite_url)] == [NHS[0]]


def test_rows_sharing_a_mobile_are_both_listed_to_phone(sqlite_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(0), row(1, mobile="07700 900200"), row(2)])
    report = import_register(make_settings(sqlite_url), path, "Y00001")
    assert report.added == 1
    assert [c.line for c in report.needs_phone_call] == [2, 3]
    assert all("+447700900200 is also given for line" in c.reason for c in report.needs_phone_call)
    assert "line 3" in report.needs_phone_call[0].reason and "line 2" in report.needs_phone_call[1].reason


def test_a_deceased_patient_is_never_added(sqlite_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(0), row(1, deceased_date=RECENT, mobile="01632 960 123")])
    report = import_register(make_settings(sqlite_url), path, "Y00001")
    assert report.added == 1 and not report.needs_phone_call  # no call list entry for a patient who died
    [deceased] = report.deceased
    assert (deceased.line, deceased.nhs_number, deceased.patient_id) == (3, NHS[1], None)
    assert count(sqlite_url) == 1


def test_register_details_are_stored(sqlite_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(0, preferred_language="PL", cancer_site=" Lung "),
                                          row(1, preferred_language="", cancer_site="",
                                              oncology_helpline="+44 808 157 0192")])
    import_register(make_settings(sqlite_url), path, "Y00001")
    first, second = patients(sqlite_url)
    assert (first.cancer_site, first.preferred_language, first.deceased_date) == ("Lung", "pl", None)
    assert (second.cancer_site, second.preferred_language) == (None, "en")
    assert (first.oncology_helpline, second.oncology_helpline) == ("020 7946 0101", "0808 157 0192")


@pytest.mark.parametrize("text, stored", [("yes", True), ("TRUE", True), ("1", True), ("No", False),
                                          ("false", False), ("0", False), ("", None)])
def test_on_active_treatment_values(sqlite_url, tmp_path, text, stored):
    import_register(make_settings(sqlite_url), write_csv(tmp_path / "r.csv", [row(0, on_active_treatment=text)]),
                    "Y00001")
    assert patients(sqlite_url)[0].on_active_treatment is stored


# --------------------------------------------------------------------------------------------
# Writing, on both databases


def test_the_example_register_imports_cleanly(database_url):
    report = import_register(make_settings(database_url), PROJECT_ROOT / "practices" / "example-register.csv",
                             "Y00001")
    assert (report.added, report.rejected, report.needs_phone_call, report.deceased) == (10, [], [], [])
    stored = patients(database_url)
    assert all(nhs_number_is_valid(p.nhs_number) and p.nhs_number.startswith("999") for p in stored)
    assert all(p.mobile.startswith("+447700900") for p in stored)
    assert {p.oncology_helpline for p in stored} >= {"020 7946 0101", "0808 157 0192"}


def test_whole_file_refusal_writes_nothing(database_url, tmp_path):
    settings = make_settings(database_url)
    import_register(settings, write_csv(tmp_path / "first.csv", [row(0), row(1)]), "Y00001")
    before = [(p.id, p.first_name, p.mobile) for p in patients(database_url)]
    path = write_csv(tmp_path / "second.csv", [row(0, first_name="Changed"), row(1), row(2),
                                               row(3, diagnosis_date=TOMORROW)])
    with pytest.raises(RegisterError):
        import_register(settings, path, "Y00001", rejects_path=tmp_path / "rejects.csv")
    assert [(p.id, p.first_name, p.mobile) for p in patients(database_url)] == before
    assert not (tmp_path / "rejects.csv").exists()


def test_skip_invalid_imports_good_rows_and_writes_rejects(database_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row(0), row(1, nhs_number="1234567890"), row(2),
                                          row(3, date_of_birth="1961-02-30", diagnosis_date=TOMORROW),
                                          row(4, mobile="020 7946 0123")])
    rejects = tmp_path / "rejects.csv"
    report = import_register(make_settings(database_url), path, "Y00001", skip_invalid=True, rejects_path=rejects)
    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)
    assert [(r.line, r.nhs_number) for r in report.rejected] == [(3, "1234567890"), (5, NHS[3])]
    assert [(c.line, c.nhs_number) for c in report.needs_phone_call] == [(6, NHS[4])]
    with open(rejects, encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == HEADER + ["error"]
    assert [r["nhs_number"] for r in written] == ["1234567890", NHS[3]]
    assert written[0]["error"].startswith("line 3, column nhs_number: '1234567890' fails the NHS number check")
    assert "line 5, column date_of_birth: '1961-02-30' is not a real date; " \
           "line 5, column diagnosis_date:" in written[1]["error"]
    assert written[1]["first_name"] == "Alex3"  # the original values, to correct and import again
    assert [p.nhs_number for p in patients(database_url)] == [NHS[0], NHS[2]]


def test_reimporting_the_same_file_changes_nothing(database_url, tmp_path):
    settings = make_settings(database_url)
    path = write_csv(tmp_path / "r.csv", [row(n) for n in range(5)])
    first = import_register(settings, path, "Y00001")
    assert (first.added, first.updated, first.unchanged) == (5, 0, 0)
    before = [(p.id, p.first_name, p.mobile, p.created_at) for p in patients(database_url)]
    again = import_register(settings, path, "Y00001")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert [(p.id, p.first_name, p.mobile, p.created_at) for p in patients(database_url)] == before


def test_a_changed_row_updates_that_patient(database_url, tmp_path):
    settings = make_settings(database_url)
    import_register(settings, write_csv(tmp_path / "a.csv", [row(n) for n in range(3)]), "Y00001")
    ids = {p.nhs_number: p.id for p in patients(database_url)}
    with session_scope(database_url) as session:  # an opt-out is never undone by an import
        session.get(Patient, ids[NHS[1]]).opted_out_at = dt.datetime(2026, 1, 1)
    changed = [row(0), row(1, first_name="Alexandra", mobile="+447700900250", on_active_treatment="no",
                          oncology_helpline="", nhs_number="999 000 0026"), row(2), row(3)]
    report = import_register(settings, write_csv(tmp_path / "b.csv", changed), "Y00001")
    assert (report.added, report.updated, report.unchanged) == (1, 1, 2)
    patient = {p.nhs_number: p for p in patients(database_url)}[NHS[1]]
    assert patient.id == ids[NHS[1]]
    assert (patient.first_name, patient.mobile, patient.on_active_treatment, patient.oncology_helpline) == \
        ("Alexandra", "+447700900250", False, None)
    assert patient.opted_out_at == dt.datetime(2026, 1, 1)


def test_an_optional_column_left_out_leaves_the_field_alone(database_url, tmp_path):
    settings = make_settings(database_url)
    import_register(settings, write_csv(tmp_path / "a.csv", [row(0)]), "Y00001")
    narrow = ["nhs_number", "first_name", "date_of_birth", "mobile", "diagnosis_date"]
    report = import_register(settings, write_csv(tmp_path / "b.csv", [row(0)], header=narrow), "Y00001")
    assert report.unchanged == 1
    [patient] = patients(database_url)
    assert (patient.last_name, patient.on_active_treatment, patient.oncology_helpline, patient.cancer_site,
            patient.preferred_language) == ("Fictional", True, "020 7946 0101", "Bowel", "en")


def test_two_patients_can_swap_mobiles(database_url, tmp_path):
    settings = make_settings(database_url)
    import_register(settings, write_csv(tmp_path / "a.csv", [row(0), row(1)]), "Y00001")
    swapped = [row(0, mobile=row(1)["mobile"]), row(1, mobile=row(0)["mobile"])]
    report = import_register(settings, write_csv(tmp_path / "b.csv", swapped), "Y00001")
    assert report.updated == 2 and not report.needs_phone_call
    assert [p.mobile for p in patients(database_url)] == ["+447700900201", "+447700900200"]


def test_a_mobile_held_by_another_patient_means_a_phone_call(database_url, tmp_path):
    settings = make_settings(database_url)
    import_register(settings, write_csv(tmp_path / "a.csv", [row(0), row(1)]), "Y00001")
    # Patient 1 is not in the new file but keeps their number; patient 0 now gives the same one.
    report = import_register(settings, write_csv(tmp_path / "b.csv", [row(0, mobile=row(1)["mobile"])]), "Y00001")
    [call] = report.needs_phone_call
    assert call.line == 2 and call.patient_id is not None and "already on record" in call.reason
    assert [p.mobile for p in patients(database_url)] == ["+447700900200", "+447700900201"]


def test_a_patient_added_by_hand_without_nhs_number_is_matched_by_mobile_and_birth(database_url, tmp_path):
    from bot.patients.outreach import add_patient

    settings = make_settings(database_url)
    patient_id = add_patient(settings, "Y00001", "Alex", "", dt.date(1961, 3, 12), "07700 900200",
                             dt.date.fromisoformat(RECENT))
    report = import_register(settings, write_csv(tmp_path / "r.csv", [row(0), row(1)]), "Y00001")
    assert (report.added, report.updated) == (1, 1)
    assert {p.nhs_number: p.id for p in patients(database_url)}[NHS[0]] == patient_id


def test_an_nhs_number_on_record_twice_is_refused(database_url, tmp_path):
    settings = make_settings(database_url)
    with session_scope(database_url) as session:  # e.g. added twice by hand, with two mobiles
        practice = Practice(ods_code="Y00001", name="Riverside Surgery")
        session.add(practice)
        session.flush()
        for mobile in ("+447700900290", "+447700900291"):
            session.add(Patient(practice_id=practice.id, nhs_number="9990000018", first_name="Alex",
                                date_of_birth=dt.date(1961, 3, 12), mobile=mobile,
                                diagnosis_date=dt.date(2026, 1, 1)))
    path = write_csv(tmp_path / "r.csv", [row(0), row(1)])
    with pytest.raises(RegisterError, match="line 2, column nhs_number: '9990000018' matches 2 patients already "
                                            "on record"):
        import_register(settings, path, "Y00001")
    report = import_register(settings, path, "Y00001", skip_invalid=True, rejects_path=tmp_path / "rej.csv")
    assert report.added == 1 and [r.line for r in report.rejected] == [2]


@pytest.mark.parametrize("mobile", ["07700 900200", "", "020 7946 0123", "07700 900201"])
def test_a_death_is_recorded_for_a_patient_on_record_whatever_the_mobile(database_url, tmp_path, mobile):
    settings = make_settings(database_url)
    import_register(settings, write_csv(tmp_path / "a.csv", [row(0), row(1)]), "Y00001")
    # Whatever the row gives as the mobile (none, a landline, patient 1's), the one on record stays.
    report = import_register(settings, write_csv(tmp_path / "b.csv", [row(0, deceased_date=RECENT, mobile=mobile),
                                                                      row(1)]), "Y00001")
    assert (report.updated, report.unchanged, report.needs_phone_call) == (1, 1, [])
    [deceased] = report.deceased
    first, second = patients(database_url)
    assert deceased.patient_id == first.id
    assert (first.deceased_date, first.mobile) == (dt.date.fromisoformat(RECENT), "+447700900200")
    assert second.mobile == "+447700900201"
    assert f"line 2, NHS number {NHS[0]}: died {RECENT}, patient {first.id} updated" in report.summary()


def test_practices_are_kept_apart(database_url, tmp_path):
    settings = make_settings(database_url)
    import_register(settings, write_csv(tmp_path / "a.csv", [row(0)]), "Y00001")
    with session_scope(database_url) as session:
        other = Practice(ods_code="Y00002", name="Elsewhere")
        session.add(other)
        session.flush()
        session.add(Patient(practice_id=other.id, nhs_number=NHS[1], first_name="Other",
                            date_of_birth=dt.date(1950, 1, 1), mobile="+447700900201",
                            diagnosis_date=dt.date(2020, 1, 1)))
    report = import_register(settings, write_csv(tmp_path / "b.csv", [row(0), row(1)]), "Y00001")
    assert (report.added, report.unchanged) == (1, 1)  # the other practice's patient is not matched
    assert count(database_url) == 3


# --------------------------------------------------------------------------------------------
# Progress, the command line, and size


def test_progress_is_reported_every_chunk(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr("bot.patients.register.CHUNK_ROWS", 2)
    calls = []
    import_register(make_settings(sqlite_url), write_csv(tmp_path / "r.csv", [row(n) for n in range(5)]), "Y00001",
                    progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 5), (4, 5), (5, 5)]


def _args(file: Path, skip_invalid: bool = False, rejects: Optional[Path] = None) -> argparse.Namespace:
    return argparse.Namespace(file=str(file), practice="Y00001", skip_invalid=skip_invalid,
                              rejects=str(rejects) if rejects else None)


def test_command_prints_progress_and_a_summary(sqlite_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PRACTICES_DIR", str(PROJECT_ROOT / "practices"))
    path = write_csv(tmp_path / "r.csv", [row(0), row(1, mobile="020 7946 0123"), row(2, nhs_number="123")])
    assert run_import_command(_args(path)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"outreach: error: {path}: 1 problem, nothing was imported:\n  line 4, column nhs_number:")

    assert run_import_command(_args(path, skip_invalid=True)) == 0
    out, err = capsys.readouterr()
    assert "imported 3/3 rows" in err.splitlines()
    assert "Y00001: 3 rows read: 1 added, 0 updated, 0 unchanged, 1 rejected, 1 to phone instead of text" in out
    assert f"rejected rows, with an error column: {tmp_path / 'r.rejects.csv'}" in out
    assert f"line 3, NHS number {NHS[1]}: '020 7946 0123' is not a mobile number" in out
    assert (tmp_path / "r.rejects.csv").exists()


def test_command_refuses_a_missing_file(sqlite_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert run_import_command(_args(tmp_path / "nope.csv")) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_fifty_thousand_rows(sqlite_url, tmp_path):
    rows = 50_000
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        prefix, written = 999_000_000, 0
        while written < rows:
            base = str(prefix)
            prefix += 1
            check = (11 - sum(int(d) * w for d, w in zip(base, range(10, 1, -1))) % 11) % 11
            if check == 10:
                continue
            dob = dt.date(1930, 1, 1) + dt.timedelta(days=written % 25000)
            writer.writerow([base + str(check), f"First{written}", f"Last{written}", dob.isoformat(),
                             f"07400 {100000 + written:06d}", (dt.date(2020, 1, 1) + dt.timedelta(days=written % 1500))
                             .strftime("%d/%m/%Y"), "Bowel", "yes" if written % 3 else "no",
                             "0808 157 0192" if written % 2 else "", "en", ""])
            written += 1
    settings = make_settings(sqlite_url)
    calls = []
    report = import_register(settings, path, "Y00001", progress=lambda done, total: calls.append(done))
    assert (report.total_rows, report.added, report.updated, report.unchanged) == (rows, rows, 0, 0)
    assert calls[-1] == rows and len(calls) == 25
    assert count(sqlite_url) == rows
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).where(Patient.oncology_helpline == "0808 157 0192")) == rows // 2
    again = import_register(settings, path, "Y00001")
    assert (again.added, again.updated, again.unchanged) == (0, 0, rows)


def test_columns_are_documented():
    import bot.patients.register

    for name in COLUMNS:
        assert f"`{name}`" in bot.patients.register.__doc__
