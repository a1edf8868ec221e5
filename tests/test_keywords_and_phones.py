"""Twilio's reserved words and UK mobile numbers."""
from __future__ import annotations

import pytest

from bot.dialogue.keywords import Keyword, classify_keyword, is_opt_in_for
from bot.patients.phones import PhoneError, normalise_mobile


@pytest.mark.parametrize("body, keyword", [
    ("STOP", Keyword.OPT_OUT), ("stop", Keyword.OPT_OUT), (" Stop. ", Keyword.OPT_OUT),
    ("STOPALL", Keyword.OPT_OUT), ("unsubscribe", Keyword.OPT_OUT), ("Cancel", Keyword.OPT_OUT),
    ("END", Keyword.OPT_OUT), ("quit!", Keyword.OPT_OUT), ("REVOKE", Keyword.OPT_OUT), ("optout", Keyword.OPT_OUT),
    ("START", Keyword.OPT_IN), ("unstop", Keyword.OPT_IN),
    ("HELP", Keyword.HELP), ("info?", Keyword.HELP),
    ("stop texting me", None), ("please stop", None), ("yes", None), ("", None), ("help me please", None),
])
def test_only_whole_message_keywords_count(body, keyword):
    assert classify_keyword(body) is keyword


def test_yes_opts_in_only_a_patient_who_opted_out():
    assert is_opt_in_for("YES", opted_out=True)
    assert not is_opt_in_for("YES", opted_out=False)
    assert is_opt_in_for("start", opted_out=False)


@pytest.mark.parametrize("raw, e164", [
    ("07700 900123", "+447700900123"), ("+44 7700 900123", "+447700900123"),
    ("07911 123456", "+447911123456"), ("+447911123456", "+447911123456"), ("(07911) 123-456", "+447911123456"),
])
def test_mobiles_are_normalised_to_e164(raw, e164):
    assert normalise_mobile(raw) == e164


@pytest.mark.parametrize("raw, reason", [
    ("020 7946 0000", "not a mobile"), ("0114 496 0000", "not a mobile"), ("12345", "not a valid"),
    ("hello", "not a phone number"), ("", "not a phone number"),
])
def test_landlines_and_junk_are_refused_with_the_reason(raw, reason):
    with pytest.raises(PhoneError, match=reason):
        normalise_mobile(raw)
