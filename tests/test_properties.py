"""Property-based tests (hypothesis): whatever a patient, Twilio or a practice sends, the parsers
answer within their contract, the script loader either loads or names the problem, and the gateway
never answers a webhook with a 500."""
from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from twilio.request_validator import RequestValidator

from bot.checkin.replies import AREAS, OfferedSlot, parse_areas, parse_score, parse_slot_choice
from bot.patients.dates import parse_date_of_birth
from bot.practice_script.loader import KNOWN_KEYS, ScriptError, load_script
from tests.conftest import AUTH_TOKEN

# Replies as phones send them: any Unicode, plus the characters and words the parsers look for.
SMS_WORDS = st.sampled_from(["7", "seven", "10", "0", "11", "/", "-", "out of", "about", "none", "skip", "money",
                             "sleep", "pain", "and", ",", "the", "tuesday", "10:30", "2nd", "3rd", "none of those",
                             "12/03/1961", "1961", "😀", "\u2019", "\n", "no more questions", "or", "½"])
REPLIES = st.one_of(st.text(max_size=200), st.lists(SMS_WORDS, max_size=12).map(" ".join))


@settings(max_examples=400, deadline=None)
@given(REPLIES)
def test_a_score_reply_is_always_within_the_contract(text):
    reply = parse_score(text)
    assert reply.kind in {"score", "skip", "stop", "vague", "out_of_range", "unclear"}
    assert reply.kind == "score" or (reply.score is None and not reply.by_area)
    if reply.score is not None:
        assert 0 <= reply.score <= 10
    assert set(reply.by_area) <= set(AREAS) and all(0 <= v <= 10 for v in reply.by_area.values())


@settings(max_examples=400, deadline=None)
@given(REPLIES)
def test_an_areas_reply_is_always_within_the_contract(text):
    reply = parse_areas(text)
    assert reply.kind in {"areas", "none", "skip", "stop", "unclear"}
    assert (reply.kind == "areas") == bool(reply.areas)
    assert list(reply.areas) == [a for a in AREAS if a in reply.areas]   # AREAS order, no duplicates
    assert set(reply.scores) <= set(reply.areas) and all(0 <= v <= 10 for v in reply.scores.values())


SLOTS = st.lists(st.builds(OfferedSlot,
                           starts_at=st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2028, 1, 1)).map(
                               lambda d: d.replace(second=0, microsecond=0)),
                           staff=st.sampled_from(["Sam", "Priya", "Jo", "Will"]),
                           kind=st.sampled_from(["phone", "video", "face_to_face"])), max_size=3)


@settings(max_examples=400, deadline=None)
@given(REPLIES, SLOTS)
def test_a_time_choice_never_points_outside_the_offer(text, offered):
    choice = parse_slot_choice(text, offered)
    assert choice.kind in {"pick", "none", "skip", "stop", "unclear"}
    if choice.kind == "pick":
        assert choice.index is not None and 0 <= choice.index < len(offered)
    else:
        assert choice.index is None


@settings(max_examples=400, deadline=None)
@given(REPLIES, st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))
def test_a_date_of_birth_is_none_or_a_real_past_date(text, today):
    born = parse_date_of_birth(text, today)
    assert born is None or (isinstance(born, dt.date) and born <= today)


# --- The practice script loader: loads, or raises ScriptError naming the file -------------------------

VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 100), st.text(max_size=30)),
                      lambda inner: st.one_of(st.lists(inner, max_size=3),
                                              st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                      max_leaves=8)
SCRIPTS = st.dictionaries(st.sampled_from(sorted(KNOWN_KEYS) + ["colour"]), VALUES, max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SCRIPTS)
def test_any_practice_file_loads_or_is_refused_with_a_clear_error(tmp_path, document):
    path = Path(tmp_path) / "Y99999.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        script = load_script(path)
    except ScriptError as exc:
        assert str(exc).startswith(str(path)), exc   # names the file (and line and field)
    else:
        assert script.render("opener", first_name="Alex")  # what loads can be rendered


# --- The gateway: signed webhooks with any fields get 200 or 400, never a 500 -------------------------

FIELD = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
FORMS = st.fixed_dictionaries({"From": st.one_of(FIELD, st.just("+447700900999")), "Body": FIELD},
                              optional={"MessageSid": st.one_of(FIELD, st.text("0123456789abcdef", min_size=32,
                                                                               max_size=32).map(lambda h: "SM" + h)),
                                        "To": FIELD, "NumMedia": FIELD, "SmsStatus": FIELD})


@pytest.mark.e2e
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(FORMS)
def test_a_signed_webhook_with_any_fields_never_gets_a_500(deployment, form):
    url = deployment.inbound_url
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status in (200, 400), (status, form)
