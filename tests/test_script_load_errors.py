"""Bad practice scripts are refused at load, naming file, line and field (issue 14): a kind of flag
left without its safety-net text, unreadable opening hours, and escalation or out-of-hours numbers
that are not UK mobiles."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.practice_script import loader as scripts
from bot.safety.nets import NET_BY_CATEGORY, SEPSIS_NET, safety_net_message
from bot.safety.rules import Flag
from bot.practice_script.loader import SAFETY_NET_MESSAGES, ScriptError, load_script

HEAD = "ods_code: Z99999\nname: Test Surgery\nphone: 01234 567890\n"


def refused(tmp_path: Path, body: str) -> str:
    path = tmp_path / "Z99999.yml"
    path.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(ScriptError) as raised:
        load_script(path)
    return str(raised.value)


def loaded(tmp_path: Path, body: str) -> scripts.PracticeScript:
    path = tmp_path / "Z99999.yml"
    path.write_text(HEAD + body, encoding="utf-8")
    return load_script(path)


def test_the_processor_chooses_only_safety_nets_every_script_must_have():
    chosen = set(NET_BY_CATEGORY.values()) | set(SEPSIS_NET.values())
    for kind, category in (("review", "unsure"), ("safeguarding", "model_safeguarding"),
                           ("clinical", "model_clinical")):
        for on_treatment in (True, False, None):
            chosen.add(safety_net_message(Flag(kind, "soon", category, ()), on_treatment))
    assert chosen == set(SAFETY_NET_MESSAGES)


@pytest.mark.parametrize("body, line, field", [
    ('messages:\n  opener: "Hello {{ first_name }}. {{ not_monitored }}"\n  safety_domestic: ""\n', 6,
     "messages.safety_domestic"),
    ("messages:\n  safety_sepsis_unknown: ~\n", 5, "messages.safety_sepsis_unknown"),
    ("messages:\n  safety_review: '   '\n", 5, "messages.safety_review"),
])
def test_a_kind_of_flag_left_without_its_safety_net_text_is_refused(tmp_path: Path, body, line, field):
    message = refused(tmp_path, body)
    assert f"Z99999.yml:{line}: {field}: is required: the safety-net text of this kind of flag" in message


def test_messages_that_are_not_a_mapping_are_refused(tmp_path: Path):
    assert "Z99999.yml:4: messages: must be a mapping of message name to text" in refused(tmp_path, "messages: ~\n")


def test_a_default_wording_file_without_a_safety_net_text_is_refused_naming_it(tmp_path: Path, monkeypatch):
    defaults = tmp_path / "default_script.yml"
    shutil.copyfile(scripts.DEFAULT_SCRIPT, defaults)
    text = defaults.read_text(encoding="utf-8").replace("  safety_at_risk: >-", "  safety_at_risk_renamed: >-")
    defaults.write_text(text, encoding="utf-8")
    monkeypatch.setattr(scripts, "DEFAULT_SCRIPT", defaults)
    assert f"{defaults}:1: messages.safety_at_risk: missing" in refused(tmp_path, "")


@pytest.mark.parametrize("hours, line, field, problem", [
    ('  start: "8am"\n', 5, "opening_hours.start", "is not a time of day as HH:MM"),
    ("  start: 9:30\n", 5, "opening_hours.start", 'write the time in quotes, e.g. "08:00"'),
    ('  end: "18:75"\n', 5, "opening_hours.end", "is not a time of day"),
    ('  starts: "08:00"\n', 5, "opening_hours.starts", "unknown setting (known: days, start, end, timezone)"),
    ("  days: [mon, funday]\n", 5, "opening_hours.days", "'funday' is not a day name"),
    ("  days: [monkey]\n", 5, "opening_hours.days", "'monkey' is not a day name"),
    ("  days: []\n", 5, "opening_hours.days", "days must be a list of day names"),
    ("  timezone: Mars/Olympus\n", 5, "opening_hours.timezone", "is not a time zone such as Europe/London"),
    ('  start: "18:00"\n  end: "08:00"\n', 6, "opening_hours.end", "start must be before end"),
])
def test_unreadable_opening_hours_are_refused_naming_the_entry(tmp_path: Path, hours, line, field, problem):
    message = refused(tmp_path, "opening_hours:\n" + hours)
    assert f"Z99999.yml:{line}: {field}: " in message and problem in message, message


def test_opening_hours_take_full_day_names_and_the_send_window_is_checked_the_same_way(tmp_path: Path):
    script = loaded(tmp_path, "opening_hours:\n  days: [Monday, tue, WEDNESDAY]\n")
    assert script.opening_hours.days == frozenset({0, 1, 2})
    message = refused(tmp_path, 'send_window:\n  end: "25:00"\n')
    assert "Z99999.yml:5: send_window.end: '25:00' is not a time of day" in message
    assert "Z99999.yml:4: opening_hours: must be a mapping" in refused(tmp_path, "opening_hours: [mon]\n")


@pytest.mark.parametrize("field, number, problem", [
    ("duty_clinician_phone", "+12025550123", "is not a UK number"),
    ("second_contact_phone", "+33612345678", "is not a UK number"),
    ("out_of_hours_contact", "call the practice", "is not a phone number"),
    ("duty_clinician_phone", "0161 496 0000", "is not a mobile number"),
    ("out_of_hours_contact", "+44 7700 9001", "is not a valid phone number"),
])
def test_escalation_and_out_of_hours_numbers_must_be_uk_mobiles(tmp_path: Path, field, number, problem):
    message = refused(tmp_path, f'duty_clinician_phone: "+447700900002"\n{field}: "{number}"\n'
                      if field != "duty_clinician_phone" else f'{field}: "{number}"\n')
    line = 4 if field == "duty_clinician_phone" else 5
    assert f"Z99999.yml:{line}: {field}: " in message and problem in message, message
    assert "it must be a UK mobile" in message


def test_contacts_are_read_in_any_uk_form_and_kept_as_e164(tmp_path: Path):
    script = loaded(tmp_path, 'duty_clinician_phone: "07700 900002"\nsecond_contact_phone: "+44 7700 900005"\n'
                              "second_contact_after: 30 minutes\nout_of_hours_contact: \"+447700900006\"\n")
    contacts = script.contacts
    assert (contacts.duty_clinician, contacts.second_contact, contacts.out_of_hours) == \
        ("+447700900002", "+447700900005", "+447700900006")
    assert contacts.second_after.minutes == 30
    assert loaded(tmp_path, "").contacts.second_after.minutes == 15
    message = refused(tmp_path, "second_contact_after: 2 working hours\n")
    assert 'Z99999.yml:4: second_contact_after: must be clock time, e.g. "15 minutes"' in message
    assert "Z99999.yml:4: second_contact_after: 'soon' is not a time limit" in \
        refused(tmp_path, "second_contact_after: soon\n")
