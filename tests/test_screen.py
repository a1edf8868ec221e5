"""The live safety screen (bot/screen.py) on bad input: never a crash, and what it cannot read goes
to a person. Texts written here, not taken from the corpus."""
from __future__ import annotations

import pytest

from bot import safety, screen
from bot.screen import screen_text

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
    monkeypatch.setattr(safety, "screen", broken)
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
