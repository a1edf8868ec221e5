"""Per-language practice scripts: a patient whose preferred language has a practice-supplied
script gets every text in it (the dialogue, the invitations, reminders, HELP and the safety net);
any other language gets English and a coordinator task to phone with an interpreter.

The translation here is a pseudo-translation ("PL: " before each English text), so a test can
tell at a glance which script a text came from."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from actions.identity import ActionAskDateOfBirth
from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.dialogue.rasa_client import RasaClient
from bot.db.models import Conversation, InboundMessage, OutboundMessage, Patient, Task
from bot.inbound.processor import Processor
from bot.patients.outreach import ensure_practice
from bot.practice_script.loader import DEFAULT_SCRIPT, ScriptError, load_script, script_for, script_for_patient
from bot.patients.invitations import OutreachWorker
from conftest import PATIENT_NUMBER, PRACTICE_NUMBER, add_conversation
from tests.test_actions import make_tracker, run, texts

DEFAULTS = yaml.safe_load(DEFAULT_SCRIPT.read_text(encoding="utf-8"))
POLISH = {"not_monitored": "PL: not monitored all the time.",
          "messages": {name: "PL: " + text for name, text in DEFAULTS["messages"].items()}}


@pytest.fixture
def practices(tmp_path, monkeypatch) -> Path:
    """A practices folder where Y00001 also supplies Polish; the settings and actions use it."""
    folder = tmp_path / "practices"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "practices" / "Y00002.yml", folder)
    y1 = yaml.safe_load((PROJECT_ROOT / "practices" / "Y00001.yml").read_text(encoding="utf-8"))
    y1["languages"] = {"pl": POLISH}
    (folder / "Y00001.yml").write_text(yaml.safe_dump(y1, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("PRACTICES_DIR", str(folder))
    return folder


@pytest.fixture
def settings(settings, practices, monkeypatch):
    """The test settings, reading practice scripts from the folder with Polish (actions too)."""
    monkeypatch.setenv("PRACTICES_DIR", str(practices))
    return dataclasses.replace(settings, practices_dir=practices)


def prefer(database_url: str, patient_id: int, language: str) -> None:
    with session_scope(database_url) as session:
        session.get(Patient, patient_id).preferred_language = language


def polish_patient(database_url: str, language: str = "pl") -> tuple[int, str, int]:
    conversation_id, public_id = add_conversation(database_url)
    with session_scope(database_url) as session:
        patient_id = session.get(Conversation, conversation_id).patient_id
    prefer(database_url, patient_id, language)
    return conversation_id, public_id, patient_id


def test_the_patients_language_is_used_when_the_practice_supplies_it(practices, database_url):
    script = load_script(practices / "Y00001.yml")
    assert script.languages == {"pl"}
    polish = script.for_language("PL")
    assert polish.language == "pl" and polish.render("opener", first_name="Ola").startswith("PL: Hello Ola, this is")
    assert "PL: not monitored all the time." in polish.render("opener", first_name="Ola")
    assert script.for_language("ur") is script and script.for_language(None) is script
    assert polish.roles == script.roles and polish.code_for("CANPCSUPP_COD") == script.code_for("CANPCSUPP_COD")


def test_the_dialogue_speaks_the_patients_language(practices, settings, database_url):
    _, public_id, _ = polish_patient(database_url)
    _, dispatcher = run(ActionAskDateOfBirth(), make_tracker(public_id))
    assert texts(dispatcher)[0].startswith("PL: Hello Alex, this is Riverside Surgery.")


def test_help_and_the_safety_net_speak_the_patients_language(practices, settings, database_url):
    conversation_id, _, patient_id = polish_patient(database_url)
    processor = Processor(settings, RasaClient("http://127.0.0.1:9", ""))  # rules decide both: no Rasa needed
    ids = []
    with session_scope(database_url) as session:
        for body in ("HELP", "temp 38.5 and shivering, had chemo on monday"):
            message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=PATIENT_NUMBER,
                                     to_number=PRACTICE_NUMBER, body=body)
            session.add(message)
            session.flush()
            ids.append(message.id)
    for inbound_id in ids:
        assert processor.process(inbound_id)
    with session_scope(database_url) as session:
        sent = [(m.purpose, m.body) for m in session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]
    assert [purpose for purpose, _ in sent] == ["reply", "safety_net"]
    assert all(body.startswith("PL: ") for _, body in sent), sent
    processor.shutdown()


def test_the_second_invitation_is_in_the_patients_language(practices, settings, database_url):
    conversation_id, _, patient_id = polish_patient(database_url)
    worker = OutreachWorker(settings, RasaClient("http://127.0.0.1:9", ""))
    monday = dt.datetime(2027, 3, 1, 11, 0)   # 11:00 GMT, inside the send window
    with session_scope(database_url) as session:
        session.get(Conversation, conversation_id).started_at = monday
        session.get(Patient, patient_id).diagnosis_date = monday.date() - dt.timedelta(days=10)
    worker.run_once(monday)           # the conversation started by hand counts as the first invitation
    report = worker.run_once(monday + dt.timedelta(days=8))
    assert report.second == 1, report
    with session_scope(database_url) as session:
        (opener,) = session.scalars(select(OutboundMessage.body)).all()
    assert opener.startswith("PL: Hello Alex")


@pytest.mark.parametrize("language, interpreter", [("pl", False), ("ur", True), ("en", False)])
def test_an_interpreter_call_only_for_a_language_without_a_script(practices, settings, database_url, language,
                                                                  interpreter):
    with session_scope(database_url) as session:
        practice = ensure_practice(session, script_for(practices, "Y00001"))
        patient = Patient(practice_id=practice.id, first_name="Ola", last_name="Nowak", date_of_birth=dt.date(1960, 1, 2),
                          mobile="+447700900555", diagnosis_date=dt.date(2027, 2, 24),
                          preferred_language=language)
        session.add(patient)
    worker = OutreachWorker(settings, RasaClient("http://127.0.0.1:9", ""))
    monday = dt.datetime(2027, 3, 1, 11, 0)   # 11:00 GMT on a working Monday, inside the send window
    worker.run_once(monday)  # Rasa is unreachable, so the opener waits; the task decision comes first
    with session_scope(database_url) as session:
        kinds = session.scalars(select(Task.kind)).all()
    assert ("interpreter_call" in kinds) == interpreter


def test_a_language_must_translate_every_message(tmp_path):
    partial = {"ods_code": "Y99999", "name": "Test", "phone": "01632 960 999",
               "languages": {"pl": {"messages": {"opener": "PL: hello {{ first_name }}"}}}}
    path = tmp_path / "Y99999.yml"
    path.write_text(yaml.safe_dump(partial, sort_keys=False))
    with pytest.raises(ScriptError, match=r"languages\.pl\.messages: missing \d+ message\(s\) in this language: "):
        load_script(path)


@pytest.mark.parametrize("languages, where", [
    ({"EN": POLISH}, "languages.EN: must be a lower-case ISO 639-1 language code"),
    ({"en": POLISH}, "languages.en: must be a lower-case ISO 639-1 language code other than en"),
    ({"pl": dict(POLISH, font="big")}, "languages.pl.font: unknown setting"),
    ({"pl": {"not_monitored": "x"}}, "languages.pl.messages: is required"),
    ({"pl": {"messages": dict(POLISH["messages"], opener="PL: {{ frist_name }}")}},
     "languages.pl.messages.opener: unknown placeholder(s) frist_name"),
])
def test_a_broken_language_is_refused_naming_the_field(tmp_path, languages, where):
    path = tmp_path / "Y99999.yml"
    path.write_text(yaml.safe_dump({"ods_code": "Y99999", "name": "Test", "phone": "01632 960 999",
                                    "languages": languages}, sort_keys=False))
    with pytest.raises(ScriptError) as error:
        load_script(path)
    assert where in str(error.value)


def test_scripts_check_and_preview_cover_each_language(practices, capsys):
    y1 = yaml.safe_load((practices / "Y00001.yml").read_text(encoding="utf-8"))
    y1["languages"]["pl"]["messages"]["welcome"] = "PL: Dziękujemy, {{ first_name }}. {{ not_monitored }}"
    y1["languages"]["pl"]["messages"]["later"] = "PL: " + "bardzo długa wiadomość " * 20
    (practices / "Y00001.yml").write_text(yaml.safe_dump(y1, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert main(["scripts", "check", "--practice", "Y00001"]) == 1
    out = capsys.readouterr().out
    assert "languages.pl.messages.welcome: warning: has characters outside GSM-7" in out  # a warning here
    assert re.search(r"languages\.pl\.messages\.later: error: is \d+ SMS parts", out)
    assert "reading age" not in out  # an English measure: not applied to other languages
    assert main(["scripts", "preview", "--practice", "Y00001", "--language", "pl"]) == 0
    preview = capsys.readouterr().out
    assert "in language pl" in preview and "PL: Hello Alex" in preview
    assert main(["scripts", "preview", "--practice", "Y00001", "--language", "ur"]) == 2
    assert "has no script in 'ur' (languages: pl)" in capsys.readouterr().err


def test_script_for_patient_is_the_one_rule(practices, database_url):
    _, _, patient_id = polish_patient(database_url, "pl")
    with session_scope(database_url) as session:
        patient = session.get(Patient, patient_id)
        assert script_for_patient(practices, patient).language == "pl"
        patient.preferred_language = "ur"
        assert script_for_patient(practices, patient).language == "en"
