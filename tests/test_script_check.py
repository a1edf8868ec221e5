"""`outreach scripts check` and `outreach scripts preview` (bot/practice_script/check.py): the example
practice passes, and each kind of broken wording is caught and named."""
from __future__ import annotations

import argparse
import dataclasses
import io
from pathlib import Path
from typing import Optional

import pytest

from bot.config import PROJECT_ROOT
from bot.practice_script.check import (LONG_FIRST_NAME, check_script, preview_conversation, readability,
                                       run_scripts_command, syllables)
from bot.practice_script.loader import load_script, script_for

EXAMPLE = script_for(PROJECT_ROOT / "practices", "Y00001")
HEADER = 'ods_code: Y99999\nname: Test Surgery\nphone: 01632 960 999\ncontact:\n  name: Sam\n'


def practice(tmp_path: Path, messages: str = "", extra: str = "", ods: str = "Y99999") -> Path:
    path = tmp_path / f"{ods}.yml"
    text = HEADER.replace("Y99999", ods) + extra + (f"messages:\n{messages}" if messages else "")
    path.write_text(text, encoding="utf-8")
    return path


def findings_for(path: Path, message: str):
    return [f for f in check_script(load_script(path)) if f.message == message]


def test_the_example_practice_has_no_errors():
    findings = check_script(EXAMPLE)
    assert [f for f in findings if f.level == "error"] == []
    assert all(f.level == "warning" for f in findings)


def test_a_smart_quote_makes_the_text_ucs2_and_is_named(tmp_path):
    path = practice(tmp_path, "  welcome: \"You\u2019re welcome. {{ not_monitored }}\"\n")
    [finding] = findings_for(path, "welcome")
    assert finding.level == "error"
    assert "UCS-2" in finding.problem
    assert "\u2019 right single quotation mark (use ')" in finding.problem


def test_an_emoji_is_named(tmp_path):
    path = practice(tmp_path, "  welcome: \"You're welcome \U0001F60A {{ not_monitored }}\"\n")
    [finding] = findings_for(path, "welcome")
    assert finding.level == "error" and "smiling face with smiling eyes" in finding.problem


def test_a_practice_value_with_a_smart_quote_is_caught_too(tmp_path):
    path = practice(tmp_path).with_name("Y99999.yml")
    path.write_text(HEADER.replace("Test Surgery", "St Mary\u2019s Surgery"), encoding="utf-8")
    ucs2 = [f for f in check_script(load_script(path)) if f.level == "error" and "UCS-2" in f.problem]
    assert {f.message for f in ucs2} >= {"opener", "declined", "help"}
    assert all("\u2019 right single quotation mark (use ')" in f.problem for f in ucs2)


def test_a_400_character_message_is_too_many_parts(tmp_path):
    long_text = "Please read this. " * 22  # 396 characters
    path = practice(tmp_path, f"  welcome: \"{long_text}{{{{ not_monitored }}}}\"\n")
    [finding] = [f for f in findings_for(path, "welcome") if "SMS parts" in f.problem]
    assert finding.level == "error"
    assert finding.problem.startswith("is 3 SMS parts (")
    assert finding.problem.endswith(f" characters with the first name {LONG_FIRST_NAME}); at most 2")


def test_the_long_first_name_is_what_tips_a_text_over(tmp_path):
    # 300 characters with "Alex", 317 with the long name: 2 parts become 3.
    filler = "x" * (300 - len("Hi Alex ") - len(" This number is not monitored all the time."))
    path = practice(tmp_path, f"  welcome: \"Hi {{{{ first_name }}}} {filler} {{{{ not_monitored }}}}\"\n")
    assert any("SMS parts" in f.problem for f in findings_for(path, "welcome"))


def test_long_words_warn_about_reading_age(tmp_path):
    wording = ("Following consideration of your circumstances, our multidisciplinary organisation recommends "
               "comprehensive individualised psychological assessment. {{ not_monitored }}")
    path = practice(tmp_path, f"  welcome: \"{wording}\"\n")
    [finding] = findings_for(path, "welcome")
    assert finding.level == "warning"
    assert finding.problem.startswith("reading age about ")
    assert "multidisciplinary" in finding.problem and "comprehensive" in finding.problem


def test_names_and_numbers_are_not_hard_words(tmp_path):
    wording = "Call {{ practice.name }} on {{ practice.phone }}. {{ not_monitored }}"
    path = practice(tmp_path, f"  acknowledge: \"{wording}\"\n")
    path.write_text(path.read_text().replace("Test Surgery", "Kensington Riverside Community Medical Partnership")
                    .replace("01632 960 999", "0161 446 3000"))
    assert findings_for(path, "acknowledge") == []


def test_a_missing_not_monitored_sentence_is_a_warning(tmp_path):
    path = practice(tmp_path, "  welcome: \"You're welcome. Take care.\"\n")
    [finding] = findings_for(path, "welcome")
    assert finding.level == "warning"
    assert finding.problem == "does not say 'This number is not monitored all the time.'"


def test_an_empty_not_monitored_setting_is_a_warning(tmp_path):
    path = practice(tmp_path, extra='not_monitored: ""\n')
    assert any(f.message == "not_monitored" and f.level == "warning" for f in check_script(load_script(path)))


def test_naming_the_diagnosis_before_identity_is_an_error(tmp_path):
    path = practice(tmp_path, "  opener: \"Hello {{ first_name }}, about your cancer care. {{ not_monitored }}\"\n")
    [finding] = findings_for(path, "opener")
    assert finding.level == "error" and "names the diagnosis" in finding.problem and "cancer" in finding.problem


def test_an_unknown_placeholder_is_an_error():
    # The loader refuses these; the check names them too for a script built some other way.
    messages = dict(EXAMPLE.data["messages"], welcome="Bye {{ nickname }}. {{ not_monitored }}")
    script = dataclasses.replace(EXAMPLE, data=dict(EXAMPLE.data, messages=messages))
    [finding] = [f for f in check_script(script) if f.message == "welcome"]
    assert finding.level == "error" and finding.problem.startswith("unknown placeholder(s) nickname")


def test_findings_say_when_the_wording_is_the_default(tmp_path):
    path = practice(tmp_path, "  welcome: \"You're welcome.\"\n")
    findings = check_script(load_script(path))
    [own] = [f for f in findings if f.message == "welcome"]
    assert not own.problem.endswith("(default wording)")
    # A default text (not worded in the practice file) that breaks a rule is named as default wording.
    script = load_script(path)
    long_default = dict(script.data["messages"], support_info="Unquestionably " * 30 + "{{ not_monitored }}")
    findings = check_script(dataclasses.replace(script, data=dict(script.data, messages=long_default)))
    assert all(f.problem.endswith("(default wording)") for f in findings if f.message == "support_info")
    assert [f for f in findings if f.message == "support_info"]


@pytest.mark.parametrize("word, count", [
    ("care", 1), ("while", 1), ("table", 2), ("people", 2), ("times", 1), ("boxes", 2), ("services", 3),
    ("called", 1), ("wanted", 2), ("diagnosis", 4), ("social", 2), ("radiotherapy", 6), ("question", 2),
    ("continue", 3), ("free", 1), ("yes", 1), ("money", 2), ("someone", 2), ("coordinator", 5),
    ("wellbeing", 3), ("automated", 4), ("monitored", 3), ("emergency", 4), ("immediately", 5),
    ("couldn't", 2), ("don't", 1), ("we'd", 1), ("hospital's", 3), ("a", 1), ("STOP", 1),
])
def test_syllable_counter(word, count):
    assert syllables(word) == count


def test_reading_age_of_plain_and_hard_text():
    plain = readability("Thank you. Sam will call you in two days. This number is not read all the time.")
    hard = readability("Comprehensive multidisciplinary evaluation facilitates individualised therapeutic "
                       "interventions.")
    assert plain.grade < 3 and hard.grade > 12
    assert plain.sentences == 3 and plain.words == 17
    assert hard.long_words[:2] == ("Comprehensive", "multidisciplinary")


def test_numbers_and_names_are_left_out_of_reading_age():
    reading = readability("Call Riverside Community Hospital on 0161 446 3000, e.g. at 8am. Ask for Christabella.",
                          names=["Riverside Community Hospital"])
    assert reading.long_words == ()
    assert reading.sentences == 2


def test_preview_shows_every_text_with_its_name_and_parts():
    text = preview_conversation(EXAMPLE)
    for name in EXAMPLE.data["messages"]:
        assert f"BOT [{name}, " in text, name
    assert "PATIENT: 12/03/1961" in text and "PATIENT: STOP" in text
    assert "BOT [opener, 2 SMS, " in text
    assert "Hello Alex, this is Riverside Surgery." in text
    assert text.index("[opener,") < text.index("[support_info,") < text.index("[offer_chat,") < text.index("[accepted,")
    assert "== Other texts" not in text  # the sample reaches every message


def _args(command: str, practice: Optional[str], folder: Path) -> argparse.Namespace:
    return argparse.Namespace(scripts_command=command, practice=practice, practices_dir=str(folder))


def test_check_command_on_the_real_practices_passes(monkeypatch, capsys):
    monkeypatch.setenv("PRACTICES_DIR", str(PROJECT_ROOT / "practices"))
    assert run_scripts_command(argparse.Namespace(scripts_command="check", practice=None)) == 0
    out = capsys.readouterr().out
    files = len(list((PROJECT_ROOT / "practices").glob("*.yml")))
    assert out.splitlines()[-1].startswith(f"{files} practice script{'s' if files > 1 else ''} checked: 0 errors")


def test_check_command_prints_one_line_per_finding_and_fails_on_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "practices"
    folder.mkdir()
    practice(folder, "  welcome: \"You\u2019re welcome.\"\n", ods="Y99991")
    practice(folder, "  welcome: \"You're welcome.\"\n", ods="Y99992")
    (folder / "Y99993.yml").write_text("ods_code: Y99993\nname: Bad\nphone: 1\nfax: 2\n")
    out = io.StringIO()
    assert run_scripts_command(_args("check", None, folder), out=out) == 1
    lines = out.getvalue().splitlines()
    assert any(line.startswith("practices/Y99991.yml: messages.welcome: error: has characters outside GSM-7")
               for line in lines)
    assert "practices/Y99991.yml: messages.welcome: warning: does not say " \
           "'This number is not monitored all the time.'" in lines
    assert "practices/Y99992.yml: messages.welcome: warning: does not say " \
           "'This number is not monitored all the time.'" in lines
    assert any(line.startswith("practices/Y99993.yml:4: fax: error: unknown setting") for line in lines)
    assert lines[-1] == "3 practice scripts checked: 2 errors, 2 warnings"

    out = io.StringIO()
    assert run_scripts_command(_args("check", "y99992", folder), out=out) == 0  # warnings only
    assert out.getvalue().splitlines()[-1] == "1 practice script checked: 0 errors, 1 warning"


def test_check_command_for_an_unknown_practice(tmp_path, capsys):
    assert run_scripts_command(_args("check", "Y12345", tmp_path)) == 2
    assert "no practice script for ODS code 'Y12345'" in capsys.readouterr().err


def test_preview_command(tmp_path, capsys):
    out = io.StringIO()
    assert run_scripts_command(_args("preview", "Y00001", PROJECT_ROOT / "practices"), out=out) == 0
    assert out.getvalue().startswith("Y00001 Riverside Surgery - sample conversation")
    assert run_scripts_command(_args("preview", None, PROJECT_ROOT / "practices")) == 2
    assert run_scripts_command(_args("preview", "Y12345", PROJECT_ROOT / "practices")) == 2
    assert "needs --practice" in capsys.readouterr().err
