"""De-identifying texts for the safety screen's corpus (bot/safety/feedback.py)."""
from __future__ import annotations

import pytest

from bot.safety.feedback import deidentify

CASES = [
    ("Margaret Ellis, born 12/03/1961", ("Margaret", "Ellis"), "[name] [name], born [date]"),
    ("its MARGARET. dob 3rd March 1961 ring 07700900123", ("Margaret", "Ellis"),
     "its [name]. dob [date] ring [number]"),
    ("call +44 7700 900 123 or email m.ellis@example.org", (), "call [number] or email [email]"),
    ("NHS no 943 476 5919, postcode LS6 2AB", (), "NHS no [number], postcode [postcode]"),
    ("pain 7, temp 38.5, option 2 please", (), "pain 7, temp 38.5, option 2 please"),  # answers stay
    ("Ellison is my neighbour", ("Ellis",), "Ellison is my neighbour"),  # whole words only
    ("", ("Ann",), ""),
]


@pytest.mark.parametrize("text, names, expected", CASES)
def test_names_numbers_dates_and_contact_details_are_replaced(text, names, expected):
    assert deidentify(text, names) == expected
