"""The safety screen's context (bot.safety.context, used by bot.safety.rules): hits told as past and over,
fevers explained by a vaccine, "would kill me" hypotheticals, and the idioms and negations added with
them. Every text here is written for this test (none is from the writers' corpus).

Most of these tests are the other side: texts that mix a resolved past event with a current one,
or that look like a figure of speech but are a red flag, must still flag with the right category.
"""
from __future__ import annotations

import pytest

from bot.safety import rules
from bot.safety.rules import screen


@pytest.fixture(scope="module", autouse=True)
def pipeline():
    rules.warm_up()


# ---- not a red flag now -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    # past and resolved
    "Ran a temperature a couple of months back after my op, all fine now",
    "I was in hospital with an infection in April, completely recovered",
    "Passed out once at the start of chemo because I skipped breakfast, been fine since",
    "Coughed up some blood back in 2019, it was an infection, nothing since",
    "My legs went numb years ago from a slipped disc, sorted by surgery",
    "had bad chest pain last Friday, A&E said it was a pulled muscle, no pain now",
    "Dad was very confused last month with an infection, he's back to himself now",
    "I tried to take my own life as a teenager, that was 30 years ago, I'm in a much better place now",
    "My ex used to hit me but he's long gone, I'm safe now",
    "Her grandson took money from her once, years back, but he paid it all back",
    "Had a nosebleed in the summer, it stopped after ten minutes and hasn't come back",
    # fever explained by a vaccine, off treatment
    "Had my covid booster on Friday and felt a bit feverish that evening, not on any chemo now",
    "Bit shivery after my flu jab yesterday, gone this morning",
    "37.8 after the shingles vaccine, I finished radiotherapy over a year ago",
    "my wife had her flu jab and ran a slight temp, she's on hormone tablets, no chemo",
    # hypotheticals and idioms
    "My dad would kill me if I forgot his birthday",
    "my sister would literally strangle me if I missed her party lol",
    "The energy company is bleeding us dry",
    "I almost had a stroke when I saw the price of the car park",
    "He's hopeless with technology, can you text me instead",
    "she won't let me lift a finger at home, bless her",
    # negation of thoughts
    "not thinking of hurting myself, just tired of it all",
    "I'm not thinking to harm myself, just low",
    "never once thought about ending things",
    # low numbers that are not temperatures
    "it's 31 degrees in the garden, lovely",
    "hot flushes, menopause at 35, great",
])
def test_not_flagged(text):
    flag = screen(text)
    assert flag is None, f"{text!r} -> {flag}"


# ---- must still flag ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, category", [
    # the past event is back, or another event is current
    ("had a temp last week and it's back today 38.4", "neutropenic_sepsis"),
    ("Had a temp last week after chemo, fine for a few days but now it's 38.2 again", "neutropenic_sepsis"),
    ("had chest pain last week, settled, but it's worse again today", "breathing_chest"),
    ("I had a clot last year, all sorted, but now my calf is swollen and hot", "breathing_chest"),
    ("Collapsed in March, fine since, but today I can't breathe", "breathing_chest"),
    ("Had a nosebleed in the summer, it stopped but it's come back today", "bleeding"),
    ("used to self harm as a teen and I've started cutting again", "self_harm"),
    ("I tried to end it all years ago and lately I've been thinking about it again", "suicide"),
    ("my husband used to hit me, he's been fine for years but he hit me last night", "domestic_abuse"),
    # recent, not past: an event of last night or this morning is told now
    ("collapsed yesterday, fine now", "collapse_stroke"),
    ("coughed up blood this morning but ok now", "bleeding"),
    # past but not said to be over (or the "over" is negated or asked)
    ("I was coughing up blood last month and it hasn't settled", "bleeding"),
    ("had a temp last week after my chemo", "neutropenic_sepsis"),
    ("Fainted in the spring, is it all fine now?", "collapse_stroke"),
    # on treatment, the time must belong to the event: the chemo was last week, the fever is now
    ("chemo last week, had a temp of 38, fine now", "neutropenic_sepsis"),
    # a jab does not explain a fever on treatment, nor a high one that has not settled
    ("Had my flu jab yesterday and I'm shivery, I'm on chemo", "neutropenic_sepsis"),
    ("flu jab yesterday, temp 38.6 tonight, no chemo", "neutropenic_sepsis"),
    ("bit feverish after the covid jab and it's getting worse", "neutropenic_sepsis"),
    # only the hypothetical is set aside; a partner's threat never is
    ("my mum would kill me if she knew I'd been cutting again", "self_harm"),
    ("My husband would kill me if he knew I was texting you", "domestic_abuse"),
    ("he'll kill me if I tell anyone lol", "domestic_abuse"),
    ("my dad said he will kill me, he means it", "domestic_abuse"),
    # idiom lookalikes
    ("I nearly had a fit and then I had a seizure", "collapse_stroke"),
    ("I feel hopeless, there's no point", "suicide"),
    ("I'm trying not to hurt myself", "self_harm"),
    ("I keep thinking to hurt myself", "self_harm"),
    # a low reading with a body-temperature word
    ("dad's thermometer says 35.1 and he is cold", "neutropenic_sepsis"),
])
def test_still_flagged(text, category):
    flag = screen(text)
    assert flag is not None and flag.category == category, f"{text!r} -> {flag}"
    assert flag.evidence and all(e in text for e in flag.evidence)


def test_a_dismissed_fever_does_not_hide_the_treatment_urgency_of_a_current_one():
    flag = screen("had a temp in hospital in May, all good now. Today 38.3 and on chemo")
    assert flag is not None and flag.category == "neutropenic_sepsis" and flag.severity == "urgent"
