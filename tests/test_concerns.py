"""The concern check-in parsers (bot.checkin.replies): the 0-10 score, the areas list and the slot choice.

The hard rule: a reply is never read as a number the patient did not give, nor as a slot they did
not choose. Replies that could mean two things are "unclear" (the caller re-asks once). Most tests
here are tables of real-looking texts; the labelled set in tests/data/concern_replies.csv is the
measured accuracy (bench/score_accuracy.py prints it), with zero misreads required.
"""
from __future__ import annotations

import csv
import datetime as dt
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.checkin import replies as concerns
from bot.checkin.replies import (AREAS, AreasReply, OfferedSlot, ScoreReply, SlotChoice, area_for_number, area_label,
                                 parse_areas, parse_score, parse_slot_choice)

LABELLED = Path(__file__).parent / "data" / "concern_replies.csv"
ALL = tuple(AREAS)
# Measured on the labelled set: score 0.992, areas 0.985, all 0.990 (bench/score_accuracy.py).
# The thresholds sit just below, so that a change that loses accuracy fails here.
MIN_ACCURACY = {"score": 0.98, "areas": 0.97, "all": 0.98}


@pytest.fixture(scope="module", autouse=True)
def pipeline():
    concerns.warm_up()  # build once; also proves the lemmatizer and the Matcher load offline


# ---- parse_score ----------------------------------------------------------------------------------
SCORE_CASES = [
    # Plain numbers and number words.
    ("7", "score", 7), ("seven", "score", 7), ("Seven!", "score", 7), ("10", "score", 10), ("0", "score", 0),
    ("zero", "score", 0), ("TEN", "score", 10), ("one", "score", 1), ("a one", "score", 1),
    ("\U0001F51F", "score", 10), ("7.", "score", 7), ("(7)", "score", 7), ("5.0", "score", 5),
    # The words around them.
    ("about a 6", "score", 6), ("around 6", "score", 6), ("it's a 5 i think", "score", 5), ("8 maybe", "score", 8),
    ("a 3", "score", 3), ("6ish", "score", 6), ("four-ish", "score", 4), ("honestly about a 7 most days", "score", 7),
    ("id say 8 tbh", "score", 8), ("I'd give it a 6.", "score", 6), ("5 x", "score", 5), ("8 \U0001F61F", "score", 8),
    ("Nine. It's been a really tough week.", "score", 9), ("I'm at a 6", "score", 6), ("level 8", "score", 8),
    ("a 5 or so", "score", 5), ("the pain won't stop, 9", "score", 9), ("8. yes 8", "score", 8),
    ("4 <3", "score", 4), ("one of those weeks, 8", "score", 8), ("no one to talk to so 9", "score", 9),
    # Written as a score.
    ("6/10", "score", 6), ("6 out of 10", "score", 6), ("10/10", "score", 10), ("3 out of ten", "score", 3),
    ("8 outta 10", "score", 8), ("4 / 10", "score", 4), ("0/10", "score", 0), ("Nine out of ten", "score", 9),
    # Misspellings.
    ("sevn", "score", 7), ("seben", "score", 7), ("eigth", "score", 8), ("sevenn", "score", 7), ("fiv", "score", 5),
    # Zero in words, where they mean no worry.
    ("none", "score", 0), ("not at all", "score", 0), ("nothing really", "score", 0), ("none at all", "score", 0),
    ("not worried at all", "score", 0), ("nothing, i'm fine", "score", 0), ("Nowt", "score", 0),
    ("not in the slightest", "score", 0), ("none thank god", "score", 0),
    # Skip and stop.
    ("skip", "skip", None), ("pass", "skip", None), ("rather not say", "skip", None),
    ("prefer not to say", "skip", None), ("skip this one", "skip", None), ("None of your business", "skip", None),
    ("no more questions", "stop", None), ("stop asking", "stop", None), ("i don't want to answer these", "stop", None),
    ("please stop", "stop", None), ("leave me alone", "stop", None), ("can we stop now", "stop", None),
    # Words instead of a number: the caller asks once for a number.
    ("really bad", "vague", None), ("terrible", "vague", None), ("quite a lot", "vague", None),
    ("not great", "vague", None), ("awful", "vague", None), ("not too bad", "vague", None),
    ("nothing much", "vague", None), ("not really", "vague", None), ("through the roof", "vague", None),
    # Out of range.
    ("11", "out_of_range", None), ("15", "out_of_range", None), ("-3", "out_of_range", None),
    ("100", "out_of_range", None), ("11/10", "out_of_range", None), ("minus 2", "out_of_range", None),
    ("a million", "out_of_range", None), ("1 million", "out_of_range", None), ("sixteen", "out_of_range", None),
    # Ranges and two numbers: never pick one.
    ("7 or 8", "unclear", None), ("between 6 and 8", "unclear", None), ("6-7", "unclear", None),
    ("6 to 7", "unclear", None), ("five/six", "unclear", None), ("6/7", "unclear", None), ("7 8", "unclear", None),
    ("7,8", "unclear", None), ("3 maybe 4", "unclear", None), ("my husband says 8 but i'd say 6", "unclear", None),
    ("6/7 out of 10", "unclear", None), ("9 on a bad day, 3 on a good day", "unclear", None),
    # Decimals, comparisons, other scales: not rounded, not guessed.
    ("6.5", "unclear", None), ("6 and a half", "unclear", None), ("6½", "unclear", None), ("almost 8", "unclear", None),
    ("nearly a 10", "unclear", None), ("over 9 tbh", "unclear", None), ("not a 10 but close", "unclear", None),
    ("9+", "unclear", None), ("8/10 at least", "unclear", None), ("3 tops", "unclear", None),
    ("3 out of 5", "unclear", None), ("< 3", "unclear", None),
    # A number about another time, or a question about the scale.
    ("it was 9 but better now", "unclear", None), ("2 weeks ago it was 9", "unclear", None),
    ("used to be 8 now its less", "unclear", None), ("is 10 the worst?", "unclear", None),
    ("what does 0 mean", "unclear", None),
    # Dates, times, phone numbers, years, amounts, counts: never the answer.
    ("my dob is 12/03/1961", "unclear", None), ("07700 900123", "unclear", None), ("since the 3rd", "unclear", None),
    ("7th", "unclear", None), ("7pm", "unclear", None), ("7 o'clock", "unclear", None), ("7 kids", "unclear", None),
    ("mother of 7", "unclear", None), ("7 days a week", "unclear", None), ("2019", "unclear", None),
    ("i'm seeing the nurse at 10 tomorrow", "unclear", None), ("on 2 lots of painkillers", "vague", None),
    ("100%", "unclear", None), ("<3", "unclear", None), ("room 101", "unclear", None),
    ("since 3rd dec its been 8", "score", 8), ("it's stage 4 so 10", "score", 10),
    ("i have 2 kids and it's a 7", "score", 7), ("day 5 of chemo, id say 6", "score", 6),
    ("been like this for 3 months, 8", "score", 8), ("i'm 72 and it's a 5", "score", 5),
    ("appointment at 2:30 so 7", "score", 7), ("£200 behind on rent so 9", "score", 9),
    ("8 i was diagnosed in 2019", "score", 8), ("scan on the 14th, about 6 till then", "score", 6),
    # Scale echoes are not answers.
    ("if 10 is the worst then 8", "score", 8), ("on a scale of 0-10 i'd say 4", "score", 4),
    ("out of 10 i'd say 6", "score", 6),
    # Nothing readable.
    ("idk", "unclear", None), ("dunno", "unclear", None), ("hard to say", "unclear", None), ("?", "unclear", None),
    ("", "unclear", None), ("   ", "unclear", None), ("\U0001F44D", "unclear", None), ("who is this", "unclear", None),
    ("no", "unclear", None), ("yes", "unclear", None), ("asdf qwerty", "unclear", None),
    # Not number words: ordinary words must stay words.
    ("for", "unclear", None), ("to", "unclear", None), ("too", "unclear", None), ("won", "unclear", None),
    ("ate", "unclear", None), ("tree", "unclear", None), ("teen", "unclear", None), ("the one", "unclear", None),
]


@pytest.mark.parametrize("text, kind, score", SCORE_CASES)
def test_parse_score(text, kind, score):
    reply = parse_score(text)
    assert (reply.kind, reply.score) == (kind, score), f"{text!r} -> {reply}"
    assert reply.by_area == {}


BY_AREA_CASES = [
    ("pain 7 money 4", None, {"physical": 7, "practical": 4}),
    ("7 for pain and 4 for money", None, {"physical": 7, "practical": 4}),
    ("money 8 family 5", None, {"practical": 8, "family": 5}),
    ("pain about 6, bills 9", None, {"physical": 6, "practical": 9}),
    ("money7 family5", None, {"practical": 7, "family": 5}),
    ("pain 10/10 money 2/10", None, {"physical": 10, "practical": 2}),
    ("7 money worries 4 family", None, {"practical": 7, "family": 4}),
    # Two words for one area: its worst number.
    ("pain 8, sleep 6, money 3", None, {"physical": 8, "practical": 3}),
    # An overall number as well.
    ("overall 6 but pain 9", 6, {"physical": 9}),
    ("overall 7 money 9 family 3", 7, {"practical": 9, "family": 3}),
]


@pytest.mark.parametrize("text, score, by_area", BY_AREA_CASES)
def test_parse_score_by_area(text, score, by_area):
    reply = parse_score(text)
    assert (reply.kind, reply.score, dict(reply.by_area)) == ("score", score, by_area), f"{text!r} -> {reply}"
    assert list(reply.by_area) == [a for a in AREAS if a in by_area]  # AREAS order


@pytest.mark.parametrize("text, expected", [
    # One area with one number answers the question asked; by_area stays empty, because callers
    # take a non-empty by_area as the answer to the areas question too.
    ("pain 7", ScoreReply("score", 7)),
    ("mostly money, about an 8", ScoreReply("score", 8)),
    ("money and family 7", ScoreReply("score", 7)),
    ("worry 8", ScoreReply("score", 8)),  # worry words echo the question and name no area here
    # Pairs that do not pair up cleanly, or a range inside them: unclear.
    ("pain 6-7 money 4", ScoreReply("unclear")),
    ("pain sleep 7 4", ScoreReply("unclear")),
    ("pain 7 and 4 money", ScoreReply("unclear")),
    ("money 11 family 3", ScoreReply("out_of_range")),
])
def test_parse_score_pairs_edge_cases(text, expected):
    assert parse_score(text) == expected


# ---- parse_areas ----------------------------------------------------------------------------------
P, E, M, F, S, L = ALL
AREAS_CASES = [
    # Numbers from the list, in any layout.
    ("2 and 4", (E, F)), ("2,4", (E, F)), ("2 & 4", (E, F)), ("1 3 5", (P, M, S)), ("4, 2", (E, F)), ("1/2", (P, E)),
    ("2 and 3 and 4", (E, M, F)), ("1;2", (P, E)), ("number 2", (E,)), ("no. 2", (E,)), ("#3", (M,)),
    ("the second one", (E,)), ("3rd", (M,)), ("two and four", (E, F)), ("one and three", (P, M)),
    ("2\ufe0f\u20e3", (E,)), ("\u2461", (E,)), ("2 2 2", (E,)), ("2 \U0001F494", (E,)), ("Both 1 and 2", (P, E)),
    # Words, matched through lemmas and spelling correction.
    ("money and sleep", (P, M)), ("bills", (M,)), ("worries", (E,)), ("kids", (F,)), ("the kids", (F,)),
    ("mony", (M,)), ("famly", (F,)), ("anxios", (E,)), ("finaces", (M,)), ("depresed", (E,)),
    ("pain, tiredness and not sleeping", (P,)), ("not eating", (P,)), ("my husband", (F,)), ("feeling low", (E,)),
    ("the future", (E,)), ("my faith", (S,)), ("church and prayer", (S,)), ("questions about my treatment", (L,)),
    ("diet and exercise", (L,)), ("smoking", (L,)), ("what happens next", (L,)), ("my mental health", (E,)),
    ("caring for my mum", (M, F)), ("getting to the hospital, i dont drive", (M,)),
    # Words and numbers together.
    ("1 and money", (P, M)), ("2 and the kids", (E, F)), ("2 and money", (E, M)), ("3 - the bills", (M,)),
    ("2 - feeling anxious", (E,)), ("3 (money)", (M,)), ("the money one", (M,)),
    # What the worry is about, not the worry itself.
    ("worried about money", (M,)), ("money worries", (M,)), ("stressed about work", (M,)), ("Stress at work", (M,)),
    ("worryed about famly", (F,)), ("worried sick about the kids", (F,)), ("worried", (E,)),
    ("just scared really", (E,)),
    # Ambiguous words, as documented in bot/checkin/replies.py.
    ("weight", (P,)), ("lonely", (E,)), ("drinking", (L,)), ("eating and drinking", (P,)), ("healthy eating", (L,)),
    ("off my food", (P,)), ("food shopping", (M,)), ("treatment", (L,)), ("side effects of the treatment", (P,)),
    ("sick pay", (M,)), ("feel sick", (P,)), ("sick of the bills", (M,)), ("low on money", (M,)),
    ("oh my god the bills", (M,)), ("god", (S,)), ("my health", (P,)),
    # Denials.
    ("not money, mostly sleep", (P,)), ("money's fine, it's the pain", (P,)), ("family is ok, it's money", (M,)),
    ("my family is great but money is tight", (M,)), ("no money", (M,)),
    # All of them.
    ("all of them", ALL), ("everything", ALL), ("all", ALL), ("all of the above", ALL), ("All six", ALL),
    ("The lot!", ALL), ("a bit of everything tbh", ALL), ("1, 2, 3, 4, 5 and 6", ALL),
    ("everything except money", (P, E, F, S, L)), ("all except faith", (P, E, M, F, L)),
    ("all except 5", (P, E, M, F, L)),
    ("everything but family", (P, E, M, S, L)), ("2 and 3 not 4", (E, M)),
]


@pytest.mark.parametrize("text, areas", AREAS_CASES)
def test_parse_areas(text, areas):
    reply = parse_areas(text)
    assert (reply.kind, reply.areas, dict(reply.scores)) == ("areas", areas, {}), f"{text!r} -> {reply}"


@pytest.mark.parametrize("text, kind", [
    ("none", "none"), ("nothing", "none"), ("no", "none"), ("none of them", "none"), ("n/a", "none"), ("N/A", "none"),
    ("none of the 6", "none"), ("none really thanks", "none"), ("not really", "none"), ("nope", "none"),
    ("im fine thanks", "none"), ("all good", "none"), ("everything's fine", "none"), ("Haha no", "none"),
    ("Not a thing", "none"),
    ("skip", "skip"), ("pass", "skip"), ("rather not say", "skip"),
    ("no more questions", "stop"), ("stop asking me questions", "stop"),
    # Numbers outside the list, ranges, and nothing that names an area: re-ask.
    ("2 7", "unclear"), ("9", "unclear"), ("0", "unclear"), ("24", "unclear"), ("23", "unclear"), ("1-3", "unclear"),
    ("1 - 2", "unclear"), ("1.3", "unclear"), ("2 and 4 and 7", "unclear"), ("money and 7", "unclear"),
    ("food", "unclear"), ("idk", "unclear"), ("the dog", "unclear"), ("cancer", "unclear"), ("god knows", "unclear"),
    ("money's fine", "unclear"), ("no pain", "unclear"), ("\U0001F44D", "unclear"), ("", "unclear"),
    # A number next to an area word that could be its list number or its score.
    ("money 2", "unclear"), ("2 money", "unclear"),
])
def test_parse_areas_kinds(text, kind):
    reply = parse_areas(text)
    assert reply.kind == kind, f"{text!r} -> {reply}"
    assert reply.areas == () and reply.scores == {}


@pytest.mark.parametrize("text, areas, scores", [
    ("money 7 sleep 3", (P, M), {M: 7, P: 3}),
    ("pain 8 money 5", (P, M), {P: 8, M: 5}),
    ("money 9", (M,), {M: 9}),
    ("money 10/10 family 8/10", (M, F), {M: 10, F: 8}),
    ("pain 3 out of 10", (P,), {P: 3}),
    ("money 7, kids 9", (M, F), {M: 7, F: 9}),
    # A number that is the area's own list number is a reference, not a score.
    ("money 3 and family 4", (M, F), {}),
    ("pain 1, money 3", (P, M), {}),
])
def test_parse_areas_with_scores(text, areas, scores):
    reply = parse_areas(text)
    assert (reply.kind, reply.areas, dict(reply.scores)) == ("areas", areas, scores), f"{text!r} -> {reply}"


def test_area_numbers_and_labels():
    assert [area_for_number(n) for n in range(0, 8)] == [None, *ALL, None]
    assert area_for_number(True) is None
    assert list(AREAS) == ["physical", "emotional", "practical", "family", "spiritual", "lifestyle"]
    assert area_label("practical") == "money, work, housing, transport or caring"


def test_topic_vocabulary_is_consistent():
    """No word or phrase names two areas (the matcher would pick one silently), every area has
    words, and the pipeline is spaCy's blank English one: no model is downloaded or loaded."""
    pipe = concerns._get_pipeline()
    assert pipe.nlp.pipe_names == ["lemmatizer"] and pipe.nlp.meta["name"] == "pipeline"
    owner: dict[tuple[str, str], str] = {}
    for key, entries in concerns.TOPICS.items():
        assert entries, key
        for entry in entries:
            for variant in concerns._variants(entry):
                forms = [("words", " ".join(w.lstrip("=") for w in variant))]
                if not any(w.startswith("=") for w in variant):
                    forms.append(("lemmas", " ".join(pipe.lemma(w) for w in variant)))
                for form in forms:
                    assert owner.setdefault(form, key) == key, f"{entry!r} is in {owner[form]} and {key}"
    assert set(concerns.TOPICS) == set(AREAS) | {"_ignore", "_overall"}


def test_replies_are_frozen():
    for reply in (parse_score("7"), parse_areas("1"), SlotChoice("pick", 0), ScoreReply("score", 1)):
        with pytest.raises(AttributeError):
            reply.kind = "x"
    with pytest.raises(TypeError):
        parse_score("pain 7 money 4").by_area["physical"] = 1
    with pytest.raises(TypeError):
        parse_areas("money 7 sleep 3").scores["physical"] = 1


# ---- parse_slot_choice ----------------------------------------------------------------------------
D = dt.datetime
OFFERED = [  # "1 Tue 3 Dec 10:30 phone with Sam. 2 Wed 4 Dec 15:00 video with Priya. 3 Thu 5 Dec 14:00 practice, Sam"
    OfferedSlot(D(2024, 12, 3, 10, 30), "Sam", "phone"),
    OfferedSlot(D(2024, 12, 4, 15, 0), "Priya", "video"),
    OfferedSlot(D(2024, 12, 5, 14, 0), "Sam", "face_to_face"),
]
SLOT_CASES = [
    # Option numbers and positions.
    ("2", "pick", 1), ("number 2", "pick", 1), ("option 2", "pick", 1), ("2 please", "pick", 1), ("no. 3", "pick", 2),
    ("#1", "pick", 0), ("two please", "pick", 1), ("option three", "pick", 2), ("one please", "pick", 0),
    ("the second", "pick", 1), ("second one", "pick", 1), ("2nd", "pick", 1), ("the first one please", "pick", 0),
    ("last one", "pick", 2), ("I'll take the 2nd", "pick", 1), ("1!", "pick", 0), ("2 is fine", "pick", 1),
    ("yes 2", "pick", 1), ("earliest", "pick", 0),
    # Weekdays, times, dates.
    ("the tuesday one", "pick", 0), ("tues", "pick", 0), ("Tuesday", "pick", 0), ("wed please", "pick", 1),
    ("weds", "pick", 1), ("thurs", "pick", 2), ("the 10:30", "pick", 0), ("10.30", "pick", 0), ("half ten", "pick", 0),
    ("half past ten", "pick", 0), ("1030", "pick", 0), ("15:00", "pick", 1), ("3pm", "pick", 1), ("2 pm", "pick", 2),
    ("3 o clock", "pick", 1), ("thursday at 2", "pick", 2), ("the wednesday one at 3", "pick", 1),
    ("the morning one", "pick", 0), ("3 dec", "pick", 0), ("5th dec", "pick", 2), ("4/12", "pick", 1),
    ("tue 3rd", "pick", 0), ("the 3rd of december", "pick", 0), ("the one on the 3rd", "pick", 0),
    # "the 4th": not an option of three, so the date; it is Wed 4 Dec.
    ("the 4th", "pick", 1), ("the 5th", "pick", 2),
    # Kinds and people, when exactly one offered slot matches.
    ("the phone one", "pick", 0), ("video", "pick", 1), ("video call", "pick", 1), ("at the practice", "pick", 2),
    ("face to face", "pick", 2), ("in person", "pick", 2), ("the one with Priya", "pick", 1), ("priya", "pick", 1),
    ("sam on tuesday", "pick", 0), ("sam at the practice", "pick", 2),
    ("wed 4th dec 15:00 video with priya", "pick", 1),
    # Ruled out, then chosen.
    ("not the phone one, the video one", "pick", 1), ("2 not 3", "pick", 1), ("cant do 2, 3 is ok", "pick", 2),
    ("good morning, 2 please", "pick", 1),
    # None of those.
    ("none of those", "none", None), ("neither", "none", None), ("none", "none", None), ("no", "none", None),
    ("other times", "none", None), ("none work", "none", None), ("can't do any of those", "none", None),
    ("any other times", "none", None), ("none suit sorry", "none", None),
    # Not booking now, or stop.
    ("no thanks", "skip", None), ("maybe later", "skip", None), ("not now thanks", "skip", None),
    ("i don't want to book", "skip", None), ("i'll call the surgery", "skip", None), ("stop", "stop", None),
    # Never a slot the patient did not clearly choose.
    ("4", "unclear", None), ("0", "unclear", None), ("10", "unclear", None), ("1 or 2", "unclear", None),
    ("1 and 2", "unclear", None), ("2 or 3", "unclear", None), ("sam", "unclear", None),
    ("the one with sam", "unclear", None), ("the afternoon one", "unclear", None), ("friday", "unclear", None),
    ("the 3rd", "unclear", None), ("3rd", "unclear", None),  # option 3 (Thu 5th) or Tue the 3rd
    ("the 3rd please", "unclear", None), ("2 the tuesday one", "unclear", None), ("not the video", "unclear", None),
    ("can't do tuesday", "unclear", None), ("2 is no good", "unclear", None), ("any is fine", "unclear", None),
    ("either", "unclear", None), ("whichever", "unclear", None), ("both", "unclear", None), ("yes", "unclear", None),
    ("ok", "unclear", None), ("call me", "unclear", None), ("tomorrow", "unclear", None), ("the one", "unclear", None),
    ("that one", "unclear", None), ("2 no thanks", "unclear", None), ("?", "unclear", None), ("", "unclear", None),
]


@pytest.mark.parametrize("text, kind, index", SLOT_CASES)
def test_parse_slot_choice(text, kind, index):
    assert parse_slot_choice(text, OFFERED) == SlotChoice(kind, index), text


TWO_TUESDAYS = [
    OfferedSlot(D(2024, 12, 3, 10, 30), "Sam", "phone"),
    OfferedSlot(D(2024, 12, 3, 14, 0), "Priya", "video"),
    OfferedSlot(D(2024, 12, 4, 9, 0), "Sam", "face_to_face"),
]
FIRST_TO_THIRD = [
    OfferedSlot(D(2024, 12, 1, 9, 0), "Will Jones", "phone"),
    OfferedSlot(D(2024, 12, 2, 9, 0), "Mark", "phone"),
    OfferedSlot(D(2024, 12, 3, 9, 0), "Mark", "phone"),
]


@pytest.mark.parametrize("offered, text, kind, index", [
    (TWO_TUESDAYS, "tuesday", "unclear", None),
    (TWO_TUESDAYS, "tuesday 2pm", "pick", 1),
    (TWO_TUESDAYS, "the tuesday video one", "pick", 1),
    (TWO_TUESDAYS, "the 3rd", "unclear", None),       # two slots on the 3rd
    (TWO_TUESDAYS, "phone", "pick", 0),
    (TWO_TUESDAYS, "the 9:00", "pick", 2),
    (TWO_TUESDAYS, "the 10.30", "pick", 0),
    (FIRST_TO_THIRD, "the 3rd", "pick", 2),           # option 3 is on the 3rd: both readings agree
    (FIRST_TO_THIRD, "the 2nd", "pick", 1),
    (FIRST_TO_THIRD, "phone", "unclear", None),       # every slot is a phone call
    (FIRST_TO_THIRD, "with will", "pick", 0),
    (FIRST_TO_THIRD, "i will take 1", "pick", 0),     # "will" is a word here, not Will Jones
    (FIRST_TO_THIRD, "with jones", "pick", 0),
    (FIRST_TO_THIRD, "jones", "unclear", None),       # a name that is also a word needs a cue ("with")
    (FIRST_TO_THIRD, "mark", "unclear", None),
    (OFFERED[:1], "yes please", "pick", 0),           # one slot offered: yes is a choice
    (OFFERED[:1], "2", "unclear", None),
    ([], "1", "unclear", None),
])
def test_parse_slot_choice_other_offers(offered, text, kind, index):
    assert parse_slot_choice(text, offered) == SlotChoice(kind, index), text


# ---- the labelled set ---------------------------------------------------------------------------------
def _load() -> list[dict]:
    with LABELLED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


ROWS = _load()


def _label(expected: str) -> dict:
    """"score:7", "by_area:physical=7;practical=4", "score:6|by_area:physical=9", "areas:a;b|scores:a=7",
    or a bare kind ("skip", "none", "unclear"...)."""
    label = {"kind": expected, "numbers": {}, "areas": None}
    for part in expected.split("|"):
        name, _, value = part.partition(":")
        if name == "score":
            label.update(kind="score")
            label["numbers"]["_"] = int(value)
        elif name in ("by_area", "scores"):
            label["kind"] = "score" if name == "by_area" else label["kind"]
            label["numbers"].update({k: int(v) for k, v in (p.split("=") for p in value.split(";"))})
        elif name == "areas":
            label.update(kind="areas", areas=tuple(value.split(";")))
    return label


def _numbers(reply) -> dict:
    if isinstance(reply, ScoreReply):
        return {**dict(reply.by_area), **({"_": reply.score} if reply.score is not None else {})}
    return dict(reply.scores)


def _read(row: dict):
    return parse_score(row["text"]) if row["question"] == "score" else parse_areas(row["text"])


def _correct(row: dict, reply) -> bool:
    label = _label(row["expected"])
    if reply.kind != label["kind"]:
        return False
    if isinstance(reply, AreasReply):
        return (label["areas"] is None or reply.areas == label["areas"]) and _numbers(reply) == label["numbers"]
    got, want = _numbers(reply), label["numbers"]
    if set(want) - {"_"}:  # areas scored: exactly those numbers, and the overall one if labelled
        return got == want
    return "_" not in want or got.get("_") == want["_"]


def test_labelled_set_is_big_and_well_formed():
    assert len(ROWS) >= 170
    assert sum(r["question"] == "score" for r in ROWS) >= 120
    assert {r["question"] for r in ROWS} == {"score", "areas"}
    assert len({(r["question"], r["text"]) for r in ROWS}) == len(ROWS), "duplicate rows"
    kinds = {"score", "skip", "stop", "vague", "out_of_range", "unclear", "areas", "none"}
    for row in ROWS:
        label = _label(row["expected"])
        assert label["kind"] in kinds, row
        assert set(label["areas"] or ()) <= set(AREAS), row
        assert all(0 <= v <= 10 for v in label["numbers"].values()), row


def test_no_labelled_reply_is_misread():
    """The hard target: every number read must be the number the patient gave for that thing (a
    reply labelled with no number must yield none). Reading "unclear" instead is allowed here."""
    misreads = []
    for row in ROWS:
        reply = _read(row)
        want = _label(row["expected"])["numbers"]
        if any(want.get(key, want.get("_")) != value for key, value in _numbers(reply).items()):
            misreads.append(f"{row['question']}: {row['text']!r} -> {reply} (label {row['expected']})")
    assert not misreads, "\n".join(misreads)


def test_labelled_accuracy():
    right = {"score": 0, "areas": 0}
    total = {"score": 0, "areas": 0}
    failures = []
    for row in ROWS:
        reply = _read(row)
        total[row["question"]] += 1
        if _correct(row, reply):
            right[row["question"]] += 1
        else:
            failures.append(f"{row['question']}: {row['text']!r} expected {row['expected']} got {reply}")
    accuracy = {q: right[q] / total[q] for q in total}
    accuracy["all"] = sum(right.values()) / sum(total.values())
    for question, minimum in MIN_ACCURACY.items():
        assert accuracy[question] >= minimum, (question, accuracy, failures)


# ---- the hard target, generated -------------------------------------------------------------------
NUMBER_FORMS = [
    lambda n: str(n), lambda n: f"{n}/10", lambda n: f"{n} out of 10", lambda n: f"a {n}", lambda n: f"about {n}",
    lambda n: ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"][n],
    lambda n: f"{n}ish", lambda n: f"{n} out of ten",
]
NOISE = ["", "since 3/12", "at 10:30", "2 weeks", "for 3 months", "07700 900123", "my 3 kids", "in 2023",
         "day 4 of chemo",
         "on the 5th", "since 12 march", "£40 a week", "stage 4", "2 tablets a day", "i'm 67", "cycle 3", "at 9am",
         "100%", "24/7", "lol", "thanks x", "tbh", "honestly", "i think", "\U0001F622", "this week", "my husband",
         "the pain", "money"]


def test_a_number_among_noise_is_that_number_or_unclear():
    """Every pair of noise fragments around one number (in a rotating form): the number, or unclear."""
    wrong = []
    for i, (before, after) in enumerate(itertools.product(NOISE, NOISE)):
        n, form = i % 11, NUMBER_FORMS[i % len(NUMBER_FORMS)]
        text = f"{before}{',' if i % 3 == 0 else ''} {form(n)} {after}".strip()
        reply = parse_score(text)
        if reply.kind not in ("score", "unclear") or reply.kind == "score" and (reply.score != n or reply.by_area):
            wrong.append(f"{text!r} -> {reply}")
    assert not wrong, "\n".join(wrong)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=120), st.text(alphabet="0123456789 /-.:,abcdefghijklmnopqrstuvwxyz", max_size=40)))
def test_parsers_never_raise_and_stay_in_range(text):
    score = parse_score(text)
    assert score.kind in {"score", "skip", "stop", "vague", "out_of_range", "unclear"}
    assert score.score is None or 0 <= score.score <= 10
    assert all(0 <= v <= 10 for v in score.by_area.values()) and set(score.by_area) <= set(AREAS)
    areas = parse_areas(text)
    assert areas.kind in {"areas", "none", "skip", "stop", "unclear"}
    assert list(areas.areas) == [a for a in AREAS if a in areas.areas]
    assert set(areas.scores) <= set(areas.areas)
    choice = parse_slot_choice(text, OFFERED)
    assert choice.kind in {"pick", "none", "skip", "stop", "unclear"}
    assert (choice.index is not None) == (choice.kind == "pick")
    assert choice.index is None or 0 <= choice.index < len(OFFERED)


def test_odd_inputs():
    assert parse_score(None).kind == "unclear"  # type: ignore[arg-type]
    assert parse_score(b"7").score == 7  # type: ignore[arg-type]
    assert parse_areas("money " * 2000).areas == (M,)
    assert parse_score("\ud800 7").score == 7


# ---- threads ----------------------------------------------------------------------------------------
def test_concurrent_calls_give_the_same_answers(monkeypatch):
    texts = [t for t, _ in AREAS_CASES] + ["none", "2 7", "money 7 sleep 3"]
    expected = [parse_areas(t) for t in texts]
    # Start again from no pipeline, so that the threads also race to build it.
    monkeypatch.setattr(concerns, "_PIPELINE", None)
    built = []
    original = concerns._Pipeline.__init__

    def counting_init(self):
        built.append(threading.get_ident())
        original(self)

    monkeypatch.setattr(concerns._Pipeline, "__init__", counting_init)
    start = threading.Barrier(8)

    def work(offset: int) -> list[AreasReply]:
        start.wait()
        order = texts[offset:] + texts[:offset]
        got = [parse_areas(t) for t in order]
        return got[len(texts) - offset:] + got[:len(texts) - offset]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, [i * 7 % len(texts) for i in range(8)]))
    assert len(built) == 1, "the pipeline was built more than once"
    for got in results:
        assert got == expected
