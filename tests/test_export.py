"""`outreach export-codes` (bot/reports/export.py): the CSV and the FHIR R4 Bundle for the clinical record,
their window, idempotence, the missing-code warning, the audit entry and bad options. In process,
through `bot.cli.main`, on SQLite and PostgreSQL; no network, no Rasa."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import records
from bot.practice_script import loader as scripts
from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.reports.export import CSV_COLUMNS, SUMMARIES
from bot.db.models import (Appointment, AuditEntry, BookingSlot, Conversation, Flag, InboundMessage, Outcome, Patient,
                           Practice)
from bot.patients.outreach import ensure_practice

PRACTICES = PROJECT_ROOT / "practices"
SINCE, UNTIL = "2026-04-01", "2026-04-30"
STEM = f"Y00001-codes-{SINCE}-to-{UNTIL}"
SUPPORT_CODE, DECLINED_CODE = "EXAMPLE-SUPPORT-INFORMED", "EXAMPLE-DECLINED"   # practices/Y00001.yml
UTC_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
URN_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def at(day: int, hour: int, minute: int = 0, month: int = 4) -> dt.datetime:
    """A naive UTC time in 2026 (April is British Summer Time: London = UTC + 1)."""
    return dt.datetime(2026, month, day, hour, minute)


@pytest.fixture
def cli_env(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PRACTICES_DIR", str(PRACTICES))
    return database_url


def add_patient(session, ods: str, first: str, last: str, nhs: str | None, mobile: str,
                dob: dt.date = dt.date(1961, 3, 12)) -> Conversation:
    practice = ensure_practice(session, scripts.script_for(PRACTICES, ods))
    patient = Patient(practice_id=practice.id, first_name=first, last_name=last, nhs_number=nhs, date_of_birth=dob,
                      mobile=mobile, diagnosis_date=dt.date(2026, 3, 1))
    session.add(patient)
    session.flush()
    conversation = Conversation(practice_id=practice.id, patient_id=patient.id)
    session.add(conversation)
    session.flush()
    return conversation


def add_outcome(session, conversation: Conversation, kind: str, when: dt.datetime, code: str = "",
                note: str = "") -> int:
    outcome = records.record_outcome(session, conversation, kind, code=code, note=note)
    outcome.recorded_at = when
    session.flush()
    return outcome.id


def add_inbound(session, conversation: Conversation, sid: str, when: dt.datetime) -> int:
    message = InboundMessage(message_sid=sid, from_number="+447700900000", body="text", received_at=when,
                             conversation_id=conversation.id, patient_id=conversation.patient_id, status="processed")
    session.add(message)
    session.flush()
    return message.id


@pytest.fixture
def cohort(cli_env):
    """Four patients of Y00001 with every outcome kind, two flags, a booked and a cancelled review; one
    outcome either side of the window; a patient of Y00002 in the window."""
    ids = {}
    with session_scope(cli_env) as session:
        alex = add_patient(session, "Y00001", "Alex", "Smith", "9990000018", "+447700900101")
        bea = add_patient(session, "Y00001", "Bea", "Jones", "9990000026", "+447700900102", dt.date(1950, 1, 2))
        cal = add_patient(session, "Y00001", "Cal", "Brown", "9990000034", "+447700900103", dt.date(1970, 7, 8))
        dee = add_patient(session, "Y00001", "Dee", "Green", None, "+447700900104", dt.date(1980, 12, 31))
        other = add_patient(session, "Y00002", "Eve", "White", "9990000042", "+447700900105")
        ids["alex"], ids["bea"], ids["cal"], ids["dee"] = (c.patient_id for c in (alex, bea, cal, dee))
        # 23:30 UTC on 31 March is 00:30 on 1 April in London: inside the window, dated 1 April.
        ids["informed"] = add_outcome(session, alex, "informed", at(31, 23, 30, month=3), code=SUPPORT_CODE,
                                      note="identity confirmed; support from primary care explained by SMS")
        add_outcome(session, alex, "accepted", at(1, 9, 0))
        add_outcome(session, alex, "booked", at(1, 9, 5), note="review booked with the care coordinator")
        ids["declined"] = add_outcome(session, bea, "declined", at(2, 10, 0), code=DECLINED_CODE)
        add_outcome(session, bea, "deferred", at(1, 8, 0))
        ids["no_response"] = add_outcome(session, cal, "no_response", at(20, 11, 0),
                                         note="no reply to two invitations at least 7 days apart")
        add_outcome(session, cal, "callback_requested", at(21, 11, 0))
        for day, kind in enumerate(("opted_out", "wrong_person", "identity_failed"), start=3):
            add_outcome(session, dee, kind, at(day, 12, 0))
        # 22:30 UTC on 31 March is 23:30 on 31 March in London; 23:30 UTC on 30 April is 1 May there.
        add_outcome(session, bea, "informed", at(31, 22, 30, month=3), code=SUPPORT_CODE)
        add_outcome(session, bea, "accepted", at(30, 23, 30))
        add_outcome(session, other, "informed", at(5, 9, 0), code=SUPPORT_CODE)

        flag = Flag(practice_id=alex.practice_id, patient_id=alex.patient_id, conversation_id=alex.id,
                    inbound_message_id=add_inbound(session, alex, "SM1", at(4, 9)), kind="clinical",
                    severity="urgent", category="neutropenic_sepsis", evidence="temperature 38.5",
                    created_at=at(4, 9, 1), acknowledged_at=at(4, 9, 5), resolved_at=at(4, 10, 0))
        open_flag = Flag(practice_id=bea.practice_id, patient_id=bea.patient_id, conversation_id=bea.id,
                         inbound_message_id=add_inbound(session, bea, "SM2", at(6, 9)), kind="safeguarding",
                         severity="soon", category="financial_abuse", evidence="takes my money",
                         created_at=at(6, 9, 1))
        session.add_all([flag, open_flag])
        slot = BookingSlot(practice_id=alex.practice_id, role="care_coordinator", staff="Sam", kind="phone",
                           starts_at=at(10, 9, 30), minutes=30, source="import", status="booked")
        old_slot = BookingSlot(practice_id=bea.practice_id, role="social_prescriber", staff="Kim", kind="video",
                               starts_at=at(12, 13, 0), minutes=45, source="import", status="free")
        session.add_all([slot, old_slot])
        session.flush()
        booked = Appointment(practice_id=alex.practice_id, patient_id=alex.patient_id, conversation_id=alex.id,
                             slot_id=slot.id, role="care_coordinator", booked_at=at(1, 9, 5))
        cancelled = Appointment(practice_id=bea.practice_id, patient_id=bea.patient_id, conversation_id=bea.id,
                                slot_id=old_slot.id, role="social_prescriber", status="cancelled",
                                booked_at=at(7, 9, 0), cancelled_at=at(8, 9, 0))
        session.add_all([booked, cancelled])
        session.flush()
        ids["flag"], ids["open_flag"], ids["appointment"], ids["cancelled"] = (
            flag.id, open_flag.id, booked.id, cancelled.id)
    return ids


def export(tmp_path: Path, *extra: str, since: str = SINCE, until: str = UNTIL) -> int:
    return main(["export-codes", "--practice", "Y00001", "--since", since, "--until", until,
                 "--out", str(tmp_path / "out"), *extra])


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    return [dict(zip(CSV_COLUMNS, row)) for row in rows[1:]]


def validate_bundle(bundle: dict) -> dict[str, dict]:
    """Structural checks of a FHIR R4 collection Bundle; returns the resources by full URL."""
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert FHIR_ID.fullmatch(bundle["id"])
    assert set(bundle) <= {"resourceType", "id", "type", "entry"}   # nothing like a "generated at" time
    by_url: dict[str, dict] = {}
    for entry in bundle["entry"]:
        url, resource = entry["fullUrl"], entry["resource"]
        assert URN_UUID.fullmatch(url), url
        assert url not in by_url, f"duplicate fullUrl {url}"
        assert FHIR_ID.fullmatch(resource["id"]) and url == f"urn:uuid:{resource['id']}"
        by_url[url] = resource
        kind = resource["resourceType"]
        if kind == "Patient":
            for identifier in resource.get("identifier", []):
                assert identifier["system"] == "https://fhir.nhs.uk/Id/nhs-number"
                assert re.fullmatch(r"\d{10}", identifier["value"])
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", resource["birthDate"])
            assert resource["name"][0]["given"]
        elif kind == "Communication":
            assert resource["status"] == "completed"
            assert UTC_INSTANT.fullmatch(resource["sent"])
            assert resource["payload"] and all(p["contentString"] for p in resource["payload"])
            for reason in resource.get("reasonCode", []):
                assert all(c["system"] == "http://snomed.info/sct" and c["code"] for c in reason["coding"])
        elif kind == "Flag":
            assert resource["status"] in ("active", "inactive")
            assert resource["code"]["text"] and resource["subject"]["reference"]
            assert UTC_INSTANT.fullmatch(resource["period"]["start"])
        elif kind == "Appointment":
            assert resource["status"] in ("booked", "cancelled")
            assert UTC_INSTANT.fullmatch(resource["start"]) and UTC_INSTANT.fullmatch(resource["end"])
            assert resource["start"] < resource["end"]
            assert resource["participant"] and all(
                p["status"] in ("accepted", "declined", "tentative", "needs-action")
                and ("actor" in p or "type" in p) for p in resource["participant"])
        else:
            raise AssertionError(f"unexpected resource type {kind}")

    def references(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "reference":
                    yield value
                else:
                    yield from references(value)
        elif isinstance(node, list):
            for item in node:
                yield from references(item)

    for url, resource in by_url.items():
        for reference in references(resource):
            assert reference in by_url, f"{resource['resourceType']} {url} refers to {reference}, not in the bundle"
    return by_url


def test_the_validator_rejects_a_dangling_reference():
    bundle = {"resourceType": "Bundle", "id": "b", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001", "resource": {
            "resourceType": "Flag", "id": "00000000-0000-0000-0000-000000000001", "status": "active",
            "code": {"text": "x"}, "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000002"},
            "period": {"start": "2026-04-01T00:00:00Z"}}}]}
    with pytest.raises(AssertionError, match="not in the bundle"):
        validate_bundle(bundle)


def test_csv_and_fhir_hold_the_cohort(cohort, tmp_path, capsys):
    assert export(tmp_path) == 0
    out, err = capsys.readouterr()
    csv_path, fhir_path = tmp_path / "out" / f"{STEM}.csv", tmp_path / "out" / f"{STEM}.fhir.json"
    assert str(csv_path) in out and str(fhir_path) in out
    assert "1 patient(s) in the export have no NHS number" in err and "SNOMED" not in err  # every code is set

    rows = read_csv(csv_path)
    assert [(r["nhs_number"], r["outcome"]) for r in rows] == [
        ("9990000018", "informed"), ("9990000018", "accepted"), ("9990000018", "booked"),
        ("9990000026", "deferred"), ("9990000026", "declined"),
        ("9990000034", "no_response"), ("9990000034", "callback_requested"),
        ("", "opted_out"), ("", "wrong_person"), ("", "identity_failed")]
    assert {r["outcome"] for r in rows} == set(records.OUTCOME_CLUSTERS)   # every kind, once in the window
    informed = rows[0]
    assert informed == {"nhs_number": "9990000018", "date_of_birth": "1961-03-12", "family_name": "Smith",
                        "given_name": "Alex", "date": "2026-04-01", "code": SUPPORT_CODE, "cluster": "CANPCSUPP_COD",
                        "outcome": "informed", "summary": SUMMARIES["informed"] + " (identity confirmed; support "
                                                          "from primary care explained by SMS)"}
    declined = rows[4]
    assert (declined["code"], declined["cluster"], declined["date"], declined["date_of_birth"]) == (
        DECLINED_CODE, "CANPCADEC_COD", "2026-04-02", "1950-01-02")
    for row in rows:
        if row["outcome"] not in ("informed", "declined"):
            assert row["code"] == row["cluster"] == ""     # recorded, not coded
        assert row["summary"] and "\n" not in row["summary"]
    assert rows[2]["summary"] == "Review booked by SMS with the care coordinator"
    assert rows[5]["summary"] == SUMMARIES["no_response"]      # its note says the same: not repeated
    assert rows[-1]["family_name"] == "Green" and rows[-1]["date"] == "2026-04-05"
    assert "Eve" not in csv_path.read_text(encoding="utf-8")     # another practice's patient

    bundle = json.loads(fhir_path.read_text(encoding="utf-8"))
    resources = validate_bundle(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Communication", "Flag", "Appointment",           # Alex
                     "Patient", "Communication", "Flag", "Appointment",           # Bea
                     "Patient", "Communication"]                                  # Cal (Dee has none)
    patients = {r["name"][0]["given"][0]: (url, r) for url, r in resources.items() if r["resourceType"] == "Patient"}
    assert set(patients) == {"Alex", "Bea", "Cal"}
    alex_url, alex = patients["Alex"]
    assert alex["identifier"] == [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}]
    assert alex["name"][0]["family"] == "Smith" and alex["birthDate"] == "1961-03-12"

    communications = {kind: r for r in resources.values() if r["resourceType"] == "Communication"
                      for kind in SUMMARIES if r["payload"][0]["contentString"].startswith(SUMMARIES[kind])}
    assert sorted(communications) == ["declined", "informed", "no_response"]
    informed = communications["informed"]
    assert informed["subject"] == {"reference": alex_url} and informed["sent"] == "2026-03-31T23:30:00Z"
    assert informed["reasonCode"] == [{"coding": [{"system": "http://snomed.info/sct", "code": SUPPORT_CODE}],
                                       "text": "CANPCSUPP_COD"}]
    assert communications["declined"]["reasonCode"][0]["coding"][0]["code"] == DECLINED_CODE
    no_response = communications["no_response"]
    assert "reasonCode" not in no_response and no_response["subject"]["reference"] == patients["Cal"][0]

    flags = {r["status"]: r for r in resources.values() if r["resourceType"] == "Flag"}
    assert flags["inactive"]["subject"]["reference"] == alex_url
    assert flags["inactive"]["period"] == {"start": "2026-04-04T09:01:00Z", "end": "2026-04-04T10:00:00Z"}
    assert flags["inactive"]["category"][0]["text"] == "clinical"
    assert "neutropenic sepsis" in flags["inactive"]["code"]["text"]
    assert flags["active"]["category"][0]["coding"][0]["code"] == "safety"
    assert "end" not in flags["active"]["period"]
    assert "temperature" not in fhir_path.read_text(encoding="utf-8")     # the patient's words stay out

    appointments = {r["status"]: r for r in resources.values() if r["resourceType"] == "Appointment"}
    booked = appointments["booked"]
    assert (booked["start"], booked["end"], booked["minutesDuration"]) == (
        "2026-04-10T09:30:00Z", "2026-04-10T10:00:00Z", 30)
    assert booked["serviceType"] == [{"text": "care coordinator"}]
    assert booked["description"] == "phone call with Sam, care coordinator"
    assert booked["participant"] == [{"actor": {"reference": alex_url}, "status": "accepted"},
                                     {"actor": {"display": "Sam"}, "status": "accepted"}]
    cancelled = appointments["cancelled"]
    assert cancelled["serviceType"] == [{"text": "social prescriber"}]
    assert cancelled["participant"][1]["actor"]["display"] == "Kim"
    assert cancelled["end"] == "2026-04-12T13:45:00Z" and cancelled["participant"][0]["actor"]["reference"] == \
        patients["Bea"][0]


def test_the_same_export_twice_gives_the_same_bytes(cohort, cli_env, tmp_path, capsys):
    assert export(tmp_path) == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert sorted(first) == [f"{STEM}.csv", f"{STEM}.fhir.json"]      # no temporary files left behind
    assert export(tmp_path) == 0
    second = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert second == first
    # Data recorded later, in the window, changes the export (so the comparison above means something).
    with session_scope(cli_env) as session:
        conversation = session.scalar(select(Conversation).where(Conversation.patient_id == cohort["dee"]))
        add_outcome(session, conversation, "informed", at(15, 9), code=SUPPORT_CODE)
    assert export(tmp_path) == 0
    assert (tmp_path / "out" / f"{STEM}.csv").read_bytes() != first[f"{STEM}.csv"]


def test_the_window_is_london_dates_both_ends_included(cohort, tmp_path, capsys):
    assert export(tmp_path, since="2026-03-31", until="2026-03-31") == 0
    rows = read_csv(tmp_path / "out" / "Y00001-codes-2026-03-31-to-2026-03-31.csv")
    assert [(r["given_name"], r["outcome"], r["date"]) for r in rows] == [("Bea", "informed", "2026-03-31")]

    assert export(tmp_path, since="2026-04-20", until="2026-04-21") == 0
    rows = read_csv(tmp_path / "out" / "Y00001-codes-2026-04-20-to-2026-04-21.csv")
    assert [r["outcome"] for r in rows] == ["no_response", "callback_requested"]
    bundle = json.loads((tmp_path / "out" / "Y00001-codes-2026-04-20-to-2026-04-21.fhir.json").read_text())
    assert [r["resourceType"] for r in validate_bundle(bundle).values()] == ["Patient", "Communication"]

    assert export(tmp_path, since="2026-05-01", until="2026-05-01") == 0
    rows = read_csv(tmp_path / "out" / "Y00001-codes-2026-05-01-to-2026-05-01.csv")
    assert [(r["outcome"], r["date"]) for r in rows] == [("accepted", "2026-05-01")]


def test_an_outcome_without_a_configured_code_is_exported_and_warned_about(cohort, cli_env, tmp_path, monkeypatch,
                                                                          capsys):
    practices = tmp_path / "practices"
    shutil.copytree(PRACTICES, practices)
    script = practices / "Y00001.yml"
    script.write_text(script.read_text(encoding="utf-8").replace(f'"{SUPPORT_CODE}"', '""'), encoding="utf-8")
    monkeypatch.setenv("PRACTICES_DIR", str(practices))
    with session_scope(cli_env) as session:   # recorded while the practice had no code for the cluster
        conversation = session.scalar(select(Conversation).where(Conversation.patient_id == cohort["cal"]))
        missing = add_outcome(session, conversation, "informed", at(22, 9))

    assert export(tmp_path) == 0
    out, err = capsys.readouterr()
    assert "1 outcome(s) have no SNOMED code configured for their cluster" in err
    assert f"outcome {missing} (informed, CANPCSUPP_COD) of patient {cohort['cal']} on 2026-04-22" in err
    assert f"outcome {cohort['informed']} " not in err     # its code was recorded with it
    assert "Cal" not in err and "Brown" not in err          # no names in logs
    rows = read_csv(tmp_path / "out" / f"{STEM}.csv")
    cal = [r for r in rows if r["given_name"] == "Cal" and r["outcome"] == "informed"]
    assert cal == [dict(cal[0], code="", cluster="CANPCSUPP_COD", date="2026-04-22")]
    assert [r["code"] for r in rows if r["given_name"] == "Alex" and r["outcome"] == "informed"] == [SUPPORT_CODE]
    assert "11 outcome(s), 2 coded, 1 without a code" in out
    bundle = json.loads((tmp_path / "out" / f"{STEM}.fhir.json").read_text())
    communications = [r for r in validate_bundle(bundle).values() if r["resourceType"] == "Communication"]
    assert sum("reasonCode" not in r for r in communications) == 2    # no response, and the uncoded one


def test_an_outcome_recorded_without_a_code_gets_the_configured_one(cohort, cli_env, tmp_path, capsys):
    with session_scope(cli_env) as session:
        conversation = session.scalar(select(Conversation).where(Conversation.patient_id == cohort["cal"]))
        add_outcome(session, conversation, "informed", at(22, 9))     # before the practice set its code
    assert export(tmp_path) == 0
    assert "SNOMED" not in capsys.readouterr().err
    rows = read_csv(tmp_path / "out" / f"{STEM}.csv")
    assert [r["code"] for r in rows if r["given_name"] == "Cal" and r["outcome"] == "informed"] == [SUPPORT_CODE]


def test_each_export_is_audited(cohort, cli_env, tmp_path, capsys):
    assert export(tmp_path) == 0
    with session_scope(cli_env) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "export_codes")).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.user_id, entry.target) == (None, "practice:Y00001")
    assert entry.detail.startswith(f"{SINCE} to {UNTIL}: 10 outcomes (2 coded, 0 without a code), "
                                   "3 communications, 2 flags, 2 appointments, 3 patients")
    assert f"{STEM}.csv" in entry.detail
    assert "Smith" not in entry.detail and "9990000018" not in entry.detail


BAD_ARGUMENTS = [
    (["--practice", "Y99999", "--since", SINCE, "--until", UNTIL], "no practice Y99999"),
    (["--practice", "../etc", "--since", SINCE, "--until", UNTIL], "is not an ODS code"),
    (["--practice", "Y00001", "--since", "2026-13-01", "--until", UNTIL],
     "--since '2026-13-01' is not a date in the form YYYY-MM-DD"),
    (["--practice", "Y00001", "--since", SINCE, "--until", "30/04/2026"],
     "--until '30/04/2026' is not a date in the form YYYY-MM-DD"),
    (["--practice", "Y00001", "--since", UNTIL, "--until", SINCE], f"--since {UNTIL} is after --until {SINCE}"),
    (["--practice", "Y00001", "--since", SINCE, "--until", "2999-01-01"], "--until 2999-01-01 is in the future"),
]


def test_bad_arguments_exit_2_and_write_nothing(cli_env, tmp_path, capsys):
    for argv, message in BAD_ARGUMENTS:
        assert main(["export-codes", *argv, "--out", str(tmp_path / "out")]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("outreach: error: ") and message in err, (argv, err)
        assert not (tmp_path / "out").exists()
    with session_scope(cli_env) as session:
        assert session.scalars(select(AuditEntry)).all() == []
        assert session.scalar(select(Practice).where(Practice.ods_code == "Y99999")) is None


def test_a_missing_required_option_is_an_argparse_error(cli_env, tmp_path):
    with pytest.raises(SystemExit) as done:
        main(["export-codes", "--practice", "Y00001", "--out", str(tmp_path)])
    assert done.value.code == 2


def test_outcomes_only_of_this_practice_and_no_others(cohort, cli_env, tmp_path, capsys):
    assert main(["export-codes", "--practice", "y00002", "--since", SINCE, "--until", UNTIL,
                 "--out", str(tmp_path / "out")]) == 0
    rows = read_csv(tmp_path / "out" / f"Y00002-codes-{SINCE}-to-{UNTIL}.csv")
    assert [(r["given_name"], r["outcome"], r["code"]) for r in rows] == [("Eve", "informed", SUPPORT_CODE)]
    with session_scope(cli_env) as session:
        assert session.scalar(select(Outcome).where(Outcome.id == cohort["informed"])).code == SUPPORT_CODE


def test_an_out_path_that_is_a_file_is_refused(cohort, cli_env, tmp_path, capsys):
    (tmp_path / "out").write_text("not a folder")
    assert export(tmp_path) == 2
    assert f"cannot create the folder {tmp_path / 'out'}" in capsys.readouterr().err
    assert (tmp_path / "out").read_text() == "not a folder"
    with session_scope(cli_env) as session:
        assert session.scalars(select(AuditEntry)).all() == []
