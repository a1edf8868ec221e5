"""Practice scripts: the wording rules every patient-facing text must keep, and clear errors
(file, line, field) for a broken practice file."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.practice_script.check import AFTER_IDENTITY, DIAGNOSIS_WORDS, sample_turn
from bot.practice_script.loader import DEFAULT_SCRIPT, ScriptError, load_all, load_script
from bot.sender.segments import is_gsm7, segment_count

SCRIPTS = load_all(PROJECT_ROOT / "practices")
MESSAGES = sorted(next(iter(SCRIPTS.values())).data["messages"])
# The rule (which texts may name the diagnosis, and which words do) lives in bot/practice_script/check.py.
LONG_NAME = "Christopher-Alexander"


@pytest.mark.parametrize("ods", sorted(SCRIPTS))
@pytest.mark.parametrize("message", MESSAGES)
def test_every_text_is_plain_short_and_says_the_line_is_not_monitored(ods, message):
    text = SCRIPTS[ods].render(message, first_name=LONG_NAME, **sample_turn(SCRIPTS[ods]))
    assert is_gsm7(text), f"{message} has a character that makes every part 70 characters"
    assert segment_count(text) <= 2, f"{message} is {segment_count(text)} SMS parts"
    assert "not monitored all the time" in text
    assert "{" not in text and "}" not in text


@pytest.mark.parametrize("message", sorted(set(MESSAGES) - AFTER_IDENTITY))
def test_nothing_before_identity_names_the_diagnosis(message):
    text = SCRIPTS["Y00001"].render(message, first_name="Alex", **sample_turn(SCRIPTS["Y00001"])).lower()
    for word in DIAGNOSIS_WORDS:
        assert word not in text


def test_opener_says_who_why_when_read_and_how_to_stop():
    text = SCRIPTS["Y00001"].render("opener", first_name="Alex")
    assert text.startswith("Hello Alex, this is Riverside Surgery.")
    assert "date of birth" in text and "working hours" in text and "STOP" in text


@pytest.mark.parametrize("helpline", ["", "0800 123 4567"])
def test_treatment_safety_net_names_the_helpline_when_known(helpline):
    text = SCRIPTS["Y00001"].render("safety_clinical_treatment", helpline=helpline)
    assert ("on 0800 123 4567" in text) == bool(helpline)
    assert segment_count(text) <= 2


def test_practice_values_override_the_defaults():
    script = SCRIPTS["Y00001"]
    assert "Sam, our care coordinator" in script.render("offer_chat", first_name="Alex")
    assert script.code_for("CANPCSUPP_COD") == "EXAMPLE-SUPPORT-INFORMED"
    assert script.sender == "+447700900001"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Y99999.yml"
    path.write_text(text)
    return path


GOOD = "ods_code: Y99999\nname: Test Practice\nphone: 01632 960 999\n"


def test_a_minimal_file_gets_every_default(tmp_path):
    script = load_script(write(tmp_path, GOOD))
    assert script.ods_code == "Y99999"
    assert "Test Practice" in script.render("opener", first_name="Sam")


@pytest.mark.parametrize("text, where", [
    (GOOD + "colour: blue\n", ":4: colour: unknown setting"),
    ("ods_code: Y99999\nphone: 01632 960 999\n", ":1: name: is required"),
    (GOOD + "messages:\n  openr: hi\n", ":5: messages.openr: unknown message"),
    (GOOD + "messages:\n  opener: Hi {{ frist_name }}\n", ":5: messages.opener: unknown placeholder(s) frist_name"),
    (GOOD + "messages:\n  opener: Hi {{ first_name \n", ":5: messages.opener: template error"),
    (GOOD + "messages:\n  opener: ''\n", ":5: messages.opener: must be non-empty text"),
    (GOOD + "contact:\n  nmae: Sam\n", ":5: contact.nmae: unknown contact setting"),
    (GOOD + "callback_days: soon\n", ":4: callback_days: must be a whole number"),
    (GOOD + "messages: [\n", ": not valid YAML"),
    ("- just\n- a list\n", ":1: file: the file must be a mapping"),
])
def test_a_broken_file_is_refused_naming_file_line_and_field(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(ScriptError) as error:
        load_script(path)
    assert str(error.value).startswith(str(path))
    assert where in str(error.value)


ROLE = GOOD + "roles:\n  care_coordinator:\n    title: care coordinator\n    weekly:\n"


@pytest.mark.parametrize("text, where", [
    (GOOD + "roles:\n  care_coordinator:\n    weekly: []\n", ":5: roles.care_coordinator.title: is required"),
    (GOOD + "roles:\n  care_coordinator:\n    title: cc\n    colour: red\n", ":7: roles.care_coordinator.colour: unknown role setting"),
    (ROLE + "      - {day: funday, time: '10:30', type: phone, staff: Sam}\n", "session 1: day must be a weekday name"),
    (ROLE + "      - {day: tue, time: '25:00', type: phone, staff: Sam}\n", "session 1: time must be HH:MM"),
    (ROLE + "      - {day: tue, time: '10:30', type: fax, staff: Sam}\n", "session 1: type must be one of phone, video"),
    (ROLE + "      - {day: tue, time: '10:30', minutes: 600, staff: Sam}\n", "session 1: minutes must be a whole number from 5 to 240"),
    (ROLE + "      - {day: tue, time: '10:30'}\n", "session 1: staff is required"),
    (ROLE + "      - {day: tue, time: '10:30', staff: Sam, room: 2}\n", "session 1: unknown setting(s) room"),
    (ROLE + "      - {day: tue, time: '10:30', staff: Sam}\nrouting:\n  default: social_prescriber\n",
     ":10: routing.default: 'social_prescriber' is not one of this practice's roles (care_coordinator)"),
    (GOOD + "routing:\n  areas:\n    money: social_prescriber\n", ":6: routing.areas.money: unknown area"),
    (GOOD + "routing:\n  high_score: 11\n", ":5: routing.high_score: must be a whole number from 0 to 10"),
    (GOOD + "routing:\n  threshold: 4\n", ":5: routing.threshold: unknown routing setting"),
])
def test_broken_roles_and_routing_are_refused_naming_line_and_field(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(ScriptError) as error:
        load_script(path)
    assert where in str(error.value)


def test_roles_and_their_weekly_sessions_are_read():
    roles = SCRIPTS["Y00001"].roles
    assert set(roles) == {"care_coordinator", "social_prescriber", "health_coach"}
    tuesday = roles["care_coordinator"].weekly[1]
    assert (tuesday.weekday, tuesday.hour, tuesday.minute, tuesday.minutes, tuesday.kind, tuesday.staff) == \
        (1, 10, 30, 30, "phone", "Sam")
    assert SCRIPTS["Y00002"].roles == {}  # no roles: YES leaves a coordinator task instead of a booking


def test_two_files_with_one_ods_code_are_refused(tmp_path):
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD)
    with pytest.raises(ScriptError, match="also used by"):
        load_all(tmp_path)


def test_default_script_is_valid_yaml_with_every_message():
    assert DEFAULT_SCRIPT.exists() and "opener" in MESSAGES and "unknown_number" in MESSAGES
