"""The safety screen (bot.safety.rules): red flags and safeguarding triggers in inbound patient texts.

A missed red flag is the worst failure this product can have, so most of these tests are about
never missing one: every category, many phrasings, third-person reports, misspellings, negations
that are part of the trigger, and the labelled set of patient texts (100% recall required).
"""
from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety import rules
from bot.safety.rules import Flag, screen

LABELLED = Path(__file__).parent / "data" / "safety_labelled.csv"
SEVERITY_RANK = {"urgent": 0, "soon": 1}
C, S, U, N = "clinical", "safeguarding", "urgent", "soon"


@pytest.fixture(scope="module", autouse=True)
def pipeline():
    rules.warm_up()  # build once; also proves the vocabulary compiles and the lemmatizer loads offline


def check(text: str, kind: str, severity: str, category: str) -> Flag:
    flag = screen(text)
    assert flag is not None, f"missed: {text!r}"
    assert (flag.kind, flag.severity, flag.category) == (kind, severity, category), f"{text!r} -> {flag}"
    assert flag.evidence and all(e in text for e in flag.evidence), f"evidence not in text: {flag.evidence}"
    return flag


# ---- every category ---------------------------------------------------------------------------------
CATEGORY_CASES = [
    # possible neutropenic sepsis (same day; urgent on anti-cancer treatment)
    ("temp 38.2", C, N, "neutropenic_sepsis"),
    ("temperature of 38", C, N, "neutropenic_sepsis"),
    ("37.8", C, N, "neutropenic_sepsis"),
    ("running a fever", C, N, "neutropenic_sepsis"),
    ("feel hot and shivery", C, N, "neutropenic_sepsis"),
    ("shaking and cold", C, N, "neutropenic_sepsis"),
    ("flu-like after chemo", C, U, "neutropenic_sepsis"),
    ("rigors", C, U, "neutropenic_sepsis"),
    ("temp 38.2, had chemo tuesday", C, U, "neutropenic_sepsis"),
    ("Mum's got a high temp and she's on radiotherapy", C, U, "neutropenic_sepsis"),
    ("temp of 100.4F", C, N, "neutropenic_sepsis"),
    ("I feel very unwell since my immunotherapy", C, U, "neutropenic_sepsis"),
    # spinal cord compression
    ("new back pain and my legs feel weak", C, U, "spinal_cord_compression"),
    ("can't walk", C, U, "spinal_cord_compression"),
    ("legs gone weak", C, U, "spinal_cord_compression"),
    ("lost control of my bladder", C, U, "spinal_cord_compression"),
    ("lost control of my bowels", C, U, "spinal_cord_compression"),
    ("I wet myself", C, U, "spinal_cord_compression"),
    ("my husband can't feel his legs", C, U, "spinal_cord_compression"),
    ("back pain worse at night", C, N, "spinal_cord_compression"),
    ("my back is killing me", C, N, "spinal_cord_compression"),
    # bleeding
    ("coughing up blood", C, U, "bleeding"),
    ("vomiting blood", C, U, "bleeding"),
    ("black poo", C, U, "bleeding"),
    ("black stools", C, U, "bleeding"),
    ("bleeding won't stop", C, U, "bleeding"),
    ("blood in my sick", C, U, "bleeding"),
    ("bruising all over", C, N, "bleeding"),
    ("blood in my wee", C, N, "bleeding"),
    # breathing / chest
    ("can't breathe", C, U, "breathing_chest"),
    ("cant catch my breath", C, U, "breathing_chest"),
    ("breathless sitting down", C, U, "breathing_chest"),
    ("chest pain", C, U, "breathing_chest"),
    ("tight chest", C, U, "breathing_chest"),
    ("swollen painful calf", C, U, "breathing_chest"),
    ("not able to breathe", C, U, "breathing_chest"),
    # SVCO
    ("face swollen", C, N, "svco"),
    ("my neck is swollen", C, N, "svco"),
    ("puffy face", C, N, "svco"),
    ("arm swelling", C, N, "svco"),
    # hypercalcaemia
    ("really confused", C, N, "hypercalcaemia"),
    ("so drowsy", C, N, "hypercalcaemia"),
    ("can't stay awake", C, N, "hypercalcaemia"),
    ("very thirsty and confused", C, N, "hypercalcaemia"),
    # dehydration / toxicity
    ("can't keep anything down", C, U, "dehydration_toxicity"),
    ("vomiting all day", C, U, "dehydration_toxicity"),
    ("diarrhoea 6 times", C, U, "dehydration_toxicity"),
    ("not passed urine", C, U, "dehydration_toxicity"),
    ("can't swallow", C, U, "dehydration_toxicity"),
    ("been sick twice", C, N, "dehydration_toxicity"),
    # collapse / stroke
    ("collapsed", C, U, "collapse_stroke"),
    ("passed out", C, U, "collapse_stroke"),
    ("fainted", C, U, "collapse_stroke"),
    ("face drooping", C, U, "collapse_stroke"),
    ("slurred speech", C, U, "collapse_stroke"),
    ("arm weak and numb", C, U, "collapse_stroke"),
    ("mum collapsed and wont wake up", C, U, "collapse_stroke"),
    # suicide
    ("I want to die", S, U, "suicide"),
    ("don't see the point anymore", S, U, "suicide"),
    ("i dont see the point anymore", S, U, "suicide"),
    ("I want to end it all", S, U, "suicide"),
    ("they'd be better off without me", S, U, "suicide"),
    ("I could kill myself", S, U, "suicide"),
    ("no reason to live", S, U, "suicide"),
    ("thinking of ending things", S, U, "suicide"),
    ("saving up my tablets", S, U, "suicide"),
    ("I'm going to take all my pills", S, U, "suicide"),
    ("cant go on like this", S, N, "suicide"),
    # self-harm
    ("cutting myself", S, U, "self_harm"),
    ("I hurt myself again last night", S, U, "self_harm"),
    ("been self harming", S, U, "self_harm"),
    # domestic abuse and coercive control
    ("he hits me", S, N, "domestic_abuse"),
    ("my partner hurts me", S, N, "domestic_abuse"),
    ("scared to go home", S, N, "domestic_abuse"),
    ("he won't let me see my friends", S, N, "domestic_abuse"),
    ("he takes my money", S, N, "domestic_abuse"),
    ("she takes my phone", S, N, "domestic_abuse"),
    ("he threatens me", S, N, "domestic_abuse"),
    ("he said he'll kill me if I leave", S, U, "domestic_abuse"),
    # abuse or neglect of an adult at risk, of a child; financial abuse
    ("my carer hits me", S, N, "adult_abuse_neglect"),
    ("left alone without food", S, N, "adult_abuse_neglect"),
    ("the kids are being hurt", S, U, "child_abuse"),
    ("he hits the kids", S, U, "child_abuse"),
    ("my son takes my pension", S, N, "financial_abuse"),
    ("someone has been using my bank card", S, N, "financial_abuse"),
    # a carer who cannot cope: strain words count only in a text about caring
    ("I look after my husband and I'm at breaking point", S, N, "carer_strain"),
    ("I'm his only carer and I can't cope", S, N, "carer_strain"),
]


@pytest.mark.parametrize("text, kind, severity, category", CATEGORY_CASES)
def test_each_category_flags(text, kind, severity, category):
    check(text, kind, severity, category)


def test_every_category_is_covered_by_the_table():
    assert {c for *_, c in CATEGORY_CASES} == set(rules.TRIGGERS)


# ---- third-person reports ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, severity, category", [
    ("my husband has a temperature of 38.5 after his chemo", C, U, "neutropenic_sepsis"),
    ("mum collapsed", C, U, "collapse_stroke"),
    ("dads face is drooping on one side", C, U, "collapse_stroke"),
    ("my wife is coughing up blood", C, U, "bleeding"),
    ("dad's legs have gone weak", C, U, "spinal_cord_compression"),
    ("she can't breathe", C, U, "breathing_chest"),
    ("mum is really confused today", C, N, "hypercalcaemia"),
    ("my son says he wants to kill himself", S, U, "suicide"),
    ("my daughter is cutting herself", S, U, "self_harm"),
    ("he hasn't passed urine all day", C, U, "dehydration_toxicity"),
])
def test_third_person_reports_flag(text, kind, severity, category):
    check(text, kind, severity, category)


# ---- negation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "no temperature", "no fever, feeling fine", "not bleeding", "haven't got any chest pain",
    "temperature is normal", "no longer vomiting", "I don't have a fever", "he hasn't had a temperature",
    "no chest pain or breathlessness", "no sickness or diarrhoea", "never had any back pain",
    "the bleeding has stopped now", "temperature came down this morning", "had a temp of 37.1 last night",
    "I'm not suicidal, just fed up", "no thoughts of suicide", "I don't want to die, I want to fight this",
    "no he doesn't hit me, he's lovely", "Nope no bleeding", "I didn't faint, just felt wobbly",
    "not been sick at all", "I no longer have any breathlessness",
])
def test_negated_red_flags_do_not_flag(text):
    assert screen(text) is None


@pytest.mark.parametrize("text, category", [
    # the negation word is part of the trigger
    ("not able to breathe", "breathing_chest"),
    ("can't breathe", "breathing_chest"),
    ("cannot stop the bleeding", "bleeding"),
    ("the bleeding won't stop", "bleeding"),
    ("haven't had a wee since this morning", "dehydration_toxicity"),
    ("i dont see the point anymore", "suicide"),
    ("no reason to live", "suicide"),
    # a negation elsewhere does not cancel a later red flag
    ("No I'm coughing up blood", "bleeding"),
    ("no been sick all night", "dehydration_toxicity"),
    ("No temp but my chest is really tight", "breathing_chest"),
    ("not vomiting now but was sick with blood this morning", "bleeding"),
    ("never felt so breathless", "breathing_chest"),
    ("haven't been able to stop being sick", "dehydration_toxicity"),
    ("hasn't stopped bleeding", "bleeding"),
    ("my temperature is not normal, it's 38", "neutropenic_sepsis"),
    ("I'm not saying I want to die but I think about it", "suicide"),
    # a question about a red flag is not a resolution of it
    ("Is it normal to cough up blood after radiotherapy?", "bleeding"),
    ("is chest pain normal after chemo?", "breathing_chest"),
    ("My temperature is 38.2, is that normal?", "neutropenic_sepsis"),
])
def test_negation_that_belongs_to_the_trigger_or_elsewhere_still_flags(text, category):
    flag = screen(text)
    assert flag is not None and flag.category == category, f"{text!r} -> {flag}"


# ---- idioms -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "this waiting is killing me", "dead tired", "I nearly died laughing", "bored to death",
    "my feet are killing me", "I could kill for a cuppa", "sick of waiting", "sick and tired of it",
    "heart broken about the news", "I'm dying to know the results", "pain in the neck this paperwork",
    "worried sick about my daughter", "I nearly had a heart attack when I saw the bill", "my hayfever is terrible",
    "the hot flushes are awful", "I've been off sick from work", "that news hit me hard", "I could murder a cup of tea",
    "she'll have a fit when she hears", "I've got my bloods on Thursday", "gave up smoking last year",
    "I can't stand the waiting", "in the end it was fine", "can't go on holiday this year", "my dog has been poorly",
])
def test_idioms_do_not_flag(text):
    assert screen(text) is None


@pytest.mark.parametrize("text, category", [
    # idioms must be narrow: these contain idiom-like words but are red flags
    ("I feel like dying to be honest", "suicide"),
    ("I wish I'd just drop dead", "suicide"),
    ("the confusion is getting worse", "hypercalcaemia"),
    ("he threw it up everywhere", "dehydration_toxicity"),
    ("my back is killing me and my legs are numb", "spinal_cord_compression"),
    ("my husband will kill me, he said so", "domestic_abuse"),
])
def test_idiom_lookalikes_that_are_red_flags(text, category):
    flag = screen(text)
    assert flag is not None and flag.category == category, f"{text!r} -> {flag}"


def test_hypothetical_questions_are_flagged_on_purpose():
    # "what if" questions about a red flag go to a person: we cannot tell a question from a report
    assert screen("Who do I call if I get a temperature?") is not None


def test_an_idiom_does_not_hide_a_real_red_flag_in_the_same_text():
    flag = screen("this waiting is killing me and now I'm coughing up blood")
    assert flag is not None and flag.category == "bleeding"
    assert screen("pain in the neck this paperwork, and my legs have gone numb").category == "spinal_cord_compression"


# ---- everyday replies, worries and symptoms that are not red flags ------------------------------------
@pytest.mark.parametrize("text", [
    "12/03/1961", "yes please", "No thanks", "maybe later", "who is this?", "Is this a scam?", "thanks x",
    "worried about money", "tired after treatment", "a bit sore after the op", "I'm 38 years old",
    "Can I change my appointment", "I'm confused, who is this?", "my blood pressure was a bit high",
    "What's a normal temperature?", "my son takes me to chemo", "I dont want to be a burden but could someone ring",
    "temp 37.4", "36.8", "£37.50 for parking!",
])
def test_ordinary_replies_do_not_flag(text):
    assert screen(text) is None


# ---- misspellings and text-speak --------------------------------------------------------------------
@pytest.mark.parametrize("text, category", [
    ("temprature 38", "neutropenic_sepsis"), ("i think i have a feaver", "neutropenic_sepsis"),
    ("cant breath", "breathing_chest"), ("im bleading", "bleeding"), ("i feel suicidel", "suicide"),
    ("diarhea", "dehydration_toxicity"), ("diarrhea", "dehydration_toxicity"), ("diahrea", "dehydration_toxicity"),
    ("mum collaped", "collapse_stroke"), ("shakey and hot", "neutropenic_sepsis"), ("cnt breathe", "breathing_chest"),
    ("vomitting all nite", "dehydration_toxicity"), ("kms", "suicide"), ("face is swolen", "svco"),
    ("tempreture is 38.3", "neutropenic_sepsis"), ("feeling shivvery", "neutropenic_sepsis"),
    ("unconcious", "collapse_stroke"), ("COUGHING UP BLOOD", "bleeding"), ("can’t breathe", "breathing_chest"),
    ("brethless", "breathing_chest"),  # not in the misspelling list: found by the edit-distance fallback
])
def test_misspellings_and_sms_spellings_flag(text, category):
    flag = screen(text)
    assert flag is not None and flag.category == category, f"{text!r} -> {flag}"


# ---- temperatures -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, flagged", [
    ("37.5", True), ("37.4", False), ("temp 37.5", True), ("temp 37", False), ("temperature 38", True),
    ("38", False), ("38 degrees", True), ("38.0C", True), ("38°C", True), ("temp38", True),
    ("thermometer says 39", True),
    ("99.5F", True), ("98.6F", False), ("temp 35.4", True), ("temp 36.4", False), ("I'm 38", False),
    ("lost 38.5 kg", False), ("temperature of 37.8 and shivery", True), ("had a temp of 37.1", False),
    ("my temprature was 38 last night", True), ("temprature and tempreture were 36.6", False),
])
def test_temperature_numbers(text, flagged):
    flag = screen(text)
    assert (flag is not None) == flagged, f"{text!r} -> {flag}"
    if flagged:
        assert flag.category == "neutropenic_sepsis"


def test_anti_cancer_treatment_raises_a_fever_to_urgent():
    assert screen("temperature of 38.1").severity == "soon"
    for treatment in ("chemo", "immunotherapy", "radiotherapy", "my infusion"):
        flag = screen(f"temperature of 38.1 since {treatment}")
        assert flag.severity == "urgent", treatment
        assert treatment.split()[-1] in flag.evidence


# ---- evidence and ranking ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("temp 38.2, had chemo tuesday", ("38.2", "chemo")),
    ("I've been COUGHING UP BLOOD since Sunday", ("COUGHING UP BLOOD",)),
    ("i dont see the point anymore", ("dont see the point",)),
    ("Can’t breathe", ("Can’t breathe",)),
    ("my back is agony and my legs have gone weak", ("my back is agony", "legs have gone weak")),
])
def test_evidence_is_the_exact_words_of_the_text(text, expected):
    assert screen(text).evidence == expected


def test_the_most_serious_flag_wins():
    # urgent before soon
    assert screen("bit of a temperature and I can't breathe").category == "breathing_chest"
    # at the same severity, safeguarding before clinical
    assert screen("I want to die, I've been coughing up blood").kind == "safeguarding"
    assert screen("he hits me and my face is swollen").kind == "safeguarding"
    # an urgent clinical flag before a same-day safeguarding one
    assert screen("my partner hurts me and I've got chest pain").category == "breathing_chest"


def test_mixed_with_other_content():
    flag = screen("yes please but I've had a temp of 38 since yesterday")
    assert flag.category == "neutropenic_sepsis" and "38" in flag.evidence
    flag = screen("12/03/1961. Also my poo has been black since Monday, is that the iron?")
    assert flag.category == "bleeding" and flag.severity == "urgent"


# ---- robustness -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "", " ", "\n\n", "😀", "🤒🤒🤒", "<b>yes</b><script>alert(1)</script>", "&nbsp;&amp;", "?" * 500,
    "a" * 1600, "yes " * 400, "\x00\x01\x02", "\u200b\u200d", "İstanbul İİİ", "ﬁne thanks", "𝕥𝕖𝕞𝕡 𝟛𝟠",
    "\ud800 chest pain \udfff",
])
def test_never_raises_on_odd_input(text):
    flag = rules._screen(text)  # the unguarded screen: a crash here is a bug, not a fail-safe flag
    assert flag is None or flag.category != "screen_error"


def test_a_red_flag_at_the_end_of_a_very_long_text_is_found():
    text = "Thank you for the message, I will think about it. " * 400 + "Also I can't breathe."
    assert screen(text).category == "breathing_chest"
    assert screen("<p>" + "x " * 800 + "chest pain</p>").category == "breathing_chest"


def test_non_strings_do_not_raise():
    assert screen(None) is None  # type: ignore[arg-type]
    assert screen(b"chest pain") is not None  # type: ignore[arg-type]


def test_a_broken_screen_fails_safe(monkeypatch):
    def broken():
        raise RuntimeError("boom")
    monkeypatch.setattr(rules, "_get_screen", broken)
    flag = screen("yes please")
    assert flag == Flag("clinical", "soon", "screen_error", ())


def test_the_lemmatizer_works_offline():
    s = rules._get_screen()
    assert [t.lemma_ for t in s.nlp("coughing collapsed legs")] == ["cough", "collapse", "leg"]
    assert s.nlp.get_pipe("lemmatizer").mode == "lookup"


def test_it_is_fast():
    texts = [row["text"] for row in _labelled()]
    timings = []
    for text in texts:
        started = time.perf_counter()
        screen(text)
        timings.append((time.perf_counter() - started) * 1000)
    assert statistics.median(timings) < 5, f"median {statistics.median(timings):.2f} ms"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(alphabet=st.characters(), max_size=200)))  # the second includes surrogates
def test_property_never_raises_on_any_text(text):
    flag = rules._screen(text)
    assert flag is None or all(e in text for e in flag.evidence)


WORDS = ["no", "not", "can't", "I", "my", "he", "mum", "temp", "38.5", "37.2", "chemo", "chest", "pain", "blood",
         "coughing", "up", "legs", "weak", "sick", "of", "waiting", "killing", "me", "want", "to", "die", "end", "it",
         "all", ",", ".", "?", "but", "hits", "breathe", "collapsed", "fever", "normal", "is", "stopped", "bleeding",
         "diarrhoea", "6", "times", "won't", "stop", "😀", "\n", "the", "and", "or", "confused", "swollen", "face"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=25), st.sampled_from([" ", "", "  ", "\n"]))
def test_property_evidence_is_always_in_the_text(words, sep):
    text = sep.join(words)
    flag = rules._screen(text)
    if flag is not None:
        assert flag.kind in ("clinical", "safeguarding") and flag.severity in ("urgent", "soon")
        assert flag.evidence and all(e and e in text for e in flag.evidence), (text, flag)


# ---- the labelled set -------------------------------------------------------------------------------
def _labelled() -> list[dict]:
    with LABELLED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_labelled_set_is_big_and_well_formed():
    rows = _labelled()
    must = [r for r in rows if r["expected_kind"]]
    ordinary = [r for r in rows if not r["expected_kind"]]
    assert len(rows) >= 320 and len(must) >= 150 and len(ordinary) >= 170
    assert {r["expected_kind"] for r in must} == {"clinical", "safeguarding"}
    assert all(r["expected_severity"] in SEVERITY_RANK for r in must)
    assert all(not r["expected_severity"] for r in ordinary)
    assert len({r["text"] for r in rows}) == len(rows), "duplicate texts"


def test_labelled_set_recall_is_total_and_false_alarms_are_rare():
    rows = _labelled()
    must = [r for r in rows if r["expected_kind"]]
    ordinary = [r for r in rows if not r["expected_kind"]]
    missed, lower, false_alarms = [], [], []
    for row in must:
        flag = screen(row["text"])
        if flag is None or flag.kind != row["expected_kind"]:
            missed.append((row["text"], row["expected_kind"], flag))
        elif SEVERITY_RANK[flag.severity] > SEVERITY_RANK[row["expected_severity"]]:
            lower.append((row["text"], row["expected_severity"], flag))
    for row in ordinary:
        flag = screen(row["text"])
        if flag is not None:
            false_alarms.append((row["text"], flag))
    recall = (len(must) - len(missed)) / len(must)
    false_alarm_rate = len(false_alarms) / len(ordinary)
    print(f"\nsafety screen on {LABELLED.name}: recall {len(must) - len(missed)}/{len(must)} = {recall:.1%}, "
          f"false alarms {len(false_alarms)}/{len(ordinary)} = {false_alarm_rate:.1%}")
    for text, flag in false_alarms:
        print(f"  false alarm: {text[:80]!r} -> {flag.category} {flag.evidence}")
    assert not missed, f"recall {recall:.1%}; missed (text, expected kind, got): {missed}"
    assert not lower, f"severity lower than labelled: {lower}"
    assert false_alarm_rate < 0.10, f"false-alarm rate {false_alarm_rate:.1%}: {false_alarms}"


# ---- a carer who cannot cope -------------------------------------------------------------------------
@pytest.mark.parametrize("text, caring", [
    ("I care for my mum on my own and I'm falling apart", "care for my"),
    ("she's doing everything for me and she's on her knees with it", "doing everything for me"),
    ("I can't lift him any more, I'm 82 myself", "can't lift him"),     # the strain is the caring
    ("Caring for Dad round the clock, I'm frightened of what I'll do next", "Caring for Dad"),
    ("my wife looks after me and says she can't keep going", "looks after me"),
])
def test_a_carer_who_cannot_cope_flags_with_the_caring_words_as_evidence(text, caring):
    flag = check(text, S, N, "carer_strain")
    assert caring in flag.evidence   # why the strain counted


@pytest.mark.parametrize("text", [
    "I'm at breaking point with this pain, it never lets up",      # strain, but no caring: not a carer's text
    "Caring for him is hard some days but I'm managing fine",
    "No, my son's not a young carer, he just helps with the shopping",
    "I look after my wife. We're not at the end of our tether, we've got carers twice a day",
    "Knackered but coping, our daughter has Dad at weekends",
])
def test_caring_without_strain_or_strain_without_caring_does_not_flag_as_carer_strain(text):
    flag = screen(text)
    assert flag is None or flag.category != "carer_strain", flag


def test_a_carers_strain_yields_to_a_clinical_flag_in_the_same_text():
    # The clinical net carries the advice the person cared for needs now; a person reads the text either way.
    flag = screen("I look after mum and I'm at breaking point, she's coughing up blood")
    assert flag is not None and flag.kind == "clinical" and flag.category == "bleeding"
