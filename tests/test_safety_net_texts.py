"""Safety-net texts by kind of flag (issue 14): every category gets its own text, for every
treatment status the register can hold (on treatment, not, not known) and in and out of the
practice's opening hours, at fixed instants. The wording is the practice script's; the choice is
bot/safety/nets.py's one rule."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.safety.nets import safety_net_message, with_register_urgency
from bot.safety.rules import Flag
from bot.practice_script.loader import ScriptError, load_all, load_script
from bot.sender.send_window import OPENING_DEFAULT, SendWindow
from bot.sender.segments import segment_count

SCRIPT = load_all(PROJECT_ROOT / "practices")["Y00001"]
HOURS = SCRIPT.opening_hours
THURSDAY_MORNING = dt.datetime(2026, 12, 3, 10, 30)   # naive UTC = London in winter: open
FRIDAY_EVENING = dt.datetime(2026, 12, 4, 19, 0)      # closed until Monday 08:00
CHRISTMAS_EVE = dt.datetime(2026, 12, 24, 19, 0)      # closed over Christmas and Boxing Day (Monday 28th)

EXPECTED = {
    # category: (kind, on treatment, not on treatment, not known)
    "breathing_chest": ("clinical", "safety_999", "safety_999", "safety_999"),
    "collapse_stroke": ("clinical", "safety_999", "safety_999", "safety_999"),
    "neutropenic_sepsis": ("clinical", "safety_sepsis_treatment", "safety_clinical", "safety_sepsis_unknown"),
    "spinal_cord_compression": ("clinical", "safety_same_hour", "safety_same_hour", "safety_same_hour"),
    "svco": ("clinical", "safety_same_hour", "safety_same_hour", "safety_same_hour"),
    "hypercalcaemia": ("clinical", "safety_same_hour", "safety_same_hour", "safety_same_hour"),
    "dehydration_toxicity": ("clinical", "safety_same_hour", "safety_same_hour", "safety_same_hour"),
    "bleeding": ("clinical", "safety_bleeding", "safety_bleeding", "safety_bleeding"),
    "model_clinical": ("clinical", "safety_clinical_treatment", "safety_clinical", "safety_clinical"),
    "suicide": ("safeguarding", "safety_suicide", "safety_suicide", "safety_suicide"),
    "self_harm": ("safeguarding", "safety_suicide", "safety_suicide", "safety_suicide"),
    "domestic_abuse": ("safeguarding", "safety_domestic", "safety_domestic", "safety_domestic"),
    "financial_abuse": ("safeguarding", "safety_domestic", "safety_domestic", "safety_domestic"),
    "child_abuse": ("safeguarding", "safety_at_risk", "safety_at_risk", "safety_at_risk"),
    "adult_abuse_neglect": ("safeguarding", "safety_at_risk", "safety_at_risk", "safety_at_risk"),
    "carer_strain": ("safeguarding", "safety_carer", "safety_carer", "safety_carer"),
    "model_safeguarding": ("safeguarding", "safety_safeguarding", "safety_safeguarding", "safety_safeguarding"),
    "unsure": ("review", "safety_review", "safety_review", "safety_review"),
}
CASES = [(category, status, when) for category in EXPECTED for status in (True, False, None)
         for when in (THURSDAY_MORNING, FRIDAY_EVENING)]


@pytest.mark.parametrize("category, on_treatment, now", CASES)
def test_each_kind_of_flag_gets_its_own_text_for_each_treatment_status_in_and_out_of_hours(category, on_treatment,
                                                                                           now):
    kind, *by_status = EXPECTED[category]
    message = safety_net_message(Flag(kind, "review" if kind == "review" else "soon", category, ()), on_treatment)
    assert message == by_status[{True: 0, False: 1, None: 2}[on_treatment]]
    text = SCRIPT.render(message, helpline="0800 123 4567" if on_treatment else "",
                         next_contact=HOURS.when_contact(now))
    assert "not monitored all the time" in text
    assert "cancer" not in text.lower() and "chemo" not in text.lower()  # a flag can come before identity
    assert segment_count(text) <= 2
    if now == THURSDAY_MORNING:
        assert "contact you today" in text
    else:
        assert "when we open at 8:00am on Monday" in text
    if message == "safety_domestic":  # discreet: nothing that names abuse or a service to a reader
        assert not any(word in text.lower() for word in ("abuse", "helpline", "refuge", "domestic", "samaritans"))


def test_the_practices_opening_hours_decide_what_next_across_bank_holidays():
    assert HOURS.when_contact(THURSDAY_MORNING) == "today"
    assert HOURS.when_contact(dt.datetime(2026, 12, 3, 19, 0)) == "when we open at 8:00am tomorrow"
    assert HOURS.when_contact(dt.datetime(2026, 12, 3, 6, 0)) == "when we open at 8:00am today"
    assert HOURS.when_contact(FRIDAY_EVENING) == "when we open at 8:00am on Monday"
    assert HOURS.when_contact(CHRISTMAS_EVE) == "when we open at 8:00am on Tuesday"
    # British Summer Time: 07:30 UTC is 08:30 in London, open.
    assert HOURS.when_contact(dt.datetime(2027, 6, 3, 7, 30)) == "today"


def test_a_fever_is_urgent_whenever_the_register_says_on_treatment():
    fever = Flag("clinical", "soon", "neutropenic_sepsis", ("temperature of 38",))
    upgraded = with_register_urgency(fever, True)
    assert upgraded.severity == "urgent" and "the register says: on treatment" in upgraded.evidence
    assert with_register_urgency(fever, None) is fever and with_register_urgency(fever, False) is fever
    bleed = Flag("clinical", "soon", "bleeding", ("blood",))
    assert with_register_urgency(bleed, True) is bleed


@pytest.mark.parametrize("hours, error", [
    ('  start: "25:00"', "opening_hours"),
    ("  days: [funday]", "opening_hours"),
    ("  days: mon", "days must be a list"),
    ('  start: "18:00"\n  end: "08:00"', "start must be before end"),
])
def test_unreadable_opening_hours_are_refused_naming_file_and_field(tmp_path: Path, hours, error):
    path = tmp_path / "Z99999.yml"
    path.write_text(f"ods_code: Z99999\nname: Test Surgery\nphone: 01234 567890\nopening_hours:\n{hours}\n",
                    encoding="utf-8")
    with pytest.raises(ScriptError) as raised:
        load_script(path)
    message = str(raised.value)
    assert "Z99999.yml" in message and "opening_hours" in message and error in message


def test_opening_hours_default_to_core_hours():
    assert SendWindow.from_config(None, OPENING_DEFAULT, "opening_hours").start == dt.time(8, 0)
