"""The live safety screen (bot/safety/screen.py) on bad input: never a crash, and what it cannot read goes
to a person. Texts written here, not taken from the corpus."""
from __future__ import annotations

import pytest

from bot.safety import rules, screen
from bot.safety.screen import screen_text

LONG = ("I just wanted to say thank you for the call last week, it was lovely to talk. " * 25)[:1600]


@pytest.mark.parametrize("text, kind", [
    ("", None),
    ("   \n\t ", None),
    ("\U0001F44D", None),                      # a thumbs up is an answer, not a worry
    ("\U0001F62D\U0001F62D\U0001F62D", "review"),  # crying faces alone: a person looks
    ("\U0001F198", "review"),
    ("мне очень плохо, помогите", "review"),   # another alphabet: the screen cannot read it
    ("ਮੈਨੂੰ ਬਹੁਤ ਦਰਦ ਹੈ", "review"),
    ("yes\x00please\x07", None),               # control characters
    (LONG, None),
    (LONG[:1500] + " and I have been coughing up blood since this morning", "clinical"),  # at the very end
    ("<script>alert(1)</script>", None),       # markup is not a worry; the dialogue asks again
])
def test_bad_input_never_crashes_and_what_cannot_be_read_goes_to_a_person(text, kind):
    flag = screen_text(text)
    assert (flag.kind if flag else None) == kind


def test_a_failing_rules_screen_gives_a_review_not_silence(monkeypatch):
    def broken(_text):
        raise RuntimeError("spaCy fell over")
    monkeypatch.setattr(rules, "screen", broken)
    flag = screen_text("anything at all")
    assert (flag.kind, flag.category) == ("review", "screen_error")


def test_a_failing_model_gives_a_review_not_silence(monkeypatch):
    model = screen.default_model()

    def broken(_texts):
        raise RuntimeError("numpy fell over")
    monkeypatch.setattr(model.pipeline, "predict_proba", broken, raising=False)
    monkeypatch.setattr(model.pipeline, "decision_function", broken, raising=False)
    flag = screen_text("a text the rules pass", model)
    assert (flag.kind, flag.category) == ("review", "screen_error")


FILLERS = ["I just wanted to say thank you for the call last week, it was lovely to talk. ",
           "Thanks so much, the appointment went fine and my daughter drove me there and back, lovely day out. ",
           "All good here, the garden is looking lovely and the grandkids came round for tea. "]
RED_FLAGS = [("I have been coughing up blood since this morning", "clinical"),
             ("my temp is 38.5", "clinical"), ("I cant breathe properly", "clinical"),
             ("I feel like ending it all", "safeguarding"), ("he hit me again last night", "safeguarding")]


@pytest.mark.parametrize("filler", FILLERS)
@pytest.mark.parametrize("repeat", [1, 2, 3, 20])
@pytest.mark.parametrize("red_flag, kind", RED_FLAGS)
def test_a_rules_flag_after_ordinary_words_is_never_set_aside_by_the_model(filler, repeat, red_flag, kind):
    """The model may set a rule's flag aside when it is sure the text is ordinary ("had a nosebleed,
    it stopped"), but ordinary words before a red flag dilute its score: the flag must stand."""
    text = filler * repeat + red_flag
    assert rules.screen(text) is not None, "the rules must catch this one for the test to mean anything"
    flag = screen_text(text)
    assert flag is not None and flag.kind == kind


@pytest.mark.parametrize("text", [
    "Had a nosebleed this morning but it stopped after a few minutes, the nurse said that is fine",
    "I had a bit of diarrhoea on tuesday from the chemo but it has settled now, eating fine",
])
def test_a_settled_event_the_rules_match_is_set_aside_by_the_model(text):
    """Written here: words a rule matches, told as past and settled; the model sets the flag aside."""
    assert rules.screen(text) is not None
    assert screen_text(text) is None


@pytest.mark.parametrize("repeat", [0, 3, 10, 25])
@pytest.mark.parametrize("worry", ["im not planning on being around much longer",
                                   "the whites of my eyes have gone yellow and my wee is dark"])
def test_a_worry_only_the_model_knows_is_not_diluted_by_a_long_text(repeat, worry):
    """Long texts are scored in short overlapping windows, so ordinary words before a worry the
    rules do not know do not hide it: it still reaches a person (a flag or a review)."""
    text = FILLERS[1] * repeat + worry
    assert rules.screen(text) is None, "only the model should catch this one for the test to mean anything"
    assert screen_text(text) is not None
