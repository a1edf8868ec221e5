"""The safety classifier (bot.safety.model): saving and loading, inputs that must never break it,
deterministic training and the threshold rule. Its recall is tested in test_safety_heldout.py."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from bot.safety import model as safety_model
from bot.safety.model import Assessment, ModelVersionError, Row, Scores, Thresholds

OUTCOMES = {"clinical", "safeguarding", "review", None}
FILLER = "Thanks for the text about the appointment, the bus is fine and my sister can bring me. "


def test_save_and_load_round_trip(safety_classifier, tmp_path):
    path = tmp_path / "safety.pkl"
    safety_classifier.save(path)
    loaded = safety_model.load(path)
    assert loaded.thresholds == safety_classifier.thresholds
    assert loaded.data_hash == safety_classifier.data_hash and loaded.is_current()
    texts = ["coughing up blood since this morning", "3 please", "my son takes all my money"]
    assert loaded.assess_all(texts) == safety_classifier.assess_all(texts)


def test_a_model_from_another_scikit_learn_is_refused(safety_classifier, tmp_path):
    path = tmp_path / "safety.pkl"
    safety_classifier.save(path)
    header = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps({**header, "sklearn": "0.24.2"}))
    with pytest.raises(ModelVersionError, match=r"scikit-learn 0\.24\.2.*make model"):
        safety_model.load(path)
    path.write_bytes(pickle.dumps({"something": "else"}))
    with pytest.raises(ModelVersionError, match="not a safety model"):
        safety_model.load(path)


BAD_INPUTS = [
    "", "   ", "\n\t\r", "\x00\x07\x1b", "\u200b\u200d",          # nothing to read
    "👍", "👍👍👍🙏", "😭", ".", "?", "0",                            # emoji, punctuation, digits
    "x" * 1700, ("blah " * 400).strip(),                               # very long
    "chest\x00 pain\x07 and\x1b cant breathe\x7f",                     # control characters
    "Боль в груди и не могу дышать", "ألم في الصدر", "我胸口很痛", "प्रणाम",  # other alphabets
    "lone surrogate \ud800 here", "\ufeffbom first", "ｆｕｌｌｗｉｄｔｈ ｔｅｍｐ ３８．５",
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_bad_inputs_never_raise(safety_classifier, text):
    assessment = safety_classifier.assess(text)
    assert isinstance(assessment, Assessment) and assessment.outcome in OUTCOMES
    scores = safety_classifier.scores(text)
    assert 0.0 <= scores.clinical <= 1.0 and 0.0 <= scores.safeguarding <= 1.0 and scores.flag <= 1.0 + 1e-9


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07\x1b", "\u200b"])
def test_text_with_nothing_to_read_scores_zero(safety_classifier, text):
    assert safety_classifier.assess(text) == Assessment(None, Scores(0.0, 0.0))


def test_a_red_flag_at_the_end_of_a_long_text_is_not_diluted(safety_classifier):
    text = FILLER * 25 + "Also I have been coughing up blood since this morning and I can't get my breath."
    assert len(text) > 1600
    assert safety_classifier.assess(text).outcome in ("clinical", "review")


def test_an_internal_error_sends_the_text_to_a_person(safety_classifier, monkeypatch):
    broken = safety_model.SafetyModel(None, safety_classifier.thresholds, safety_classifier.cv, {}, "", "")
    assessment = broken.assess("anything")
    assert assessment.outcome == "review" and math.isnan(assessment.scores.clinical)


def _small_rows() -> list[Row]:
    rows = safety_model.read_rows(safety_model.training_files())
    return [r for i, r in enumerate(rows) if i % 8 == 0]   # every writer, every kind, about 290 texts


def test_training_is_deterministic():
    rows = _small_rows()
    first, second = safety_model.train(rows), safety_model.train(rows)
    assert first.thresholds == second.thresholds and first.cv == second.cv
    texts = [r.text for r in rows[:40]]
    assert first.assess_all(texts) == second.assess_all(texts)


def test_a_model_from_other_data_is_not_current(safety_classifier, tmp_path):
    other = tmp_path / "writer_wZ.csv"
    other.write_text("writer,text,kind\nwZ,hello,none\n", encoding="utf-8")
    assert not safety_classifier.is_current([other])


def test_the_review_threshold_keeps_the_person_rate_and_gets_as_close_to_the_recall_target_as_it_allows():
    rng = np.random.default_rng(0)
    kinds = ["clinical"] * 300 + ["safeguarding"] * 200 + ["none"] * 500
    flag_score = np.concatenate([rng.uniform(0.2, 1.0, 500), rng.uniform(0.0, 0.6, 500)])
    probs = np.stack([1 - flag_score, flag_score * 0.5, flag_score * 0.5], axis=1)   # never above 0.5: no flags
    thresholds = safety_model.choose_thresholds(probs, kinds)
    assert thresholds.clinical == thresholds.safeguarding == math.inf
    result = safety_model.figures(kinds, safety_model.outcomes(probs, thresholds))
    assert result.person_rate <= safety_model.MAX_PERSON_RATE
    score = probs[:, 1] + probs[:, 2]
    lower = Thresholds(math.inf, math.inf, float(score[score < thresholds.review].max()))
    assert safety_model.figures(kinds, safety_model.outcomes(probs, lower)).person_rate > safety_model.MAX_PERSON_RATE
    # An easy set: 99% recall is reached with fewer than 10% of `none` texts, and no lower.
    easy = np.concatenate([rng.uniform(0.5, 1.0, 500), rng.uniform(0.0, 0.4, 500)])
    easy_probs = np.stack([1 - easy, easy * 0.5, easy * 0.5], axis=1)
    easy_result = safety_model.figures(kinds, safety_model.outcomes(easy_probs, safety_model.choose_thresholds(
        easy_probs, kinds)))
    assert easy_result.recall == pytest.approx(0.99, abs=0.002) and easy_result.person_rate == 0.0


def test_negated_words_are_marked_up_to_the_end_of_the_clause():
    assert safety_model.mark_negation("No chest pain, but I haven't slept") == "no NEG_chest NEG_pain i havent NEG_slept"


@pytest.mark.parametrize("text", ["Боль в груди и не могу дышать", "我胸口很痛", "qwzxv plorkt"])
def test_words_the_model_cannot_read_go_to_a_person(safety_classifier, text):
    assert safety_classifier.assess(text).outcome == "review"


@pytest.mark.parametrize("text", ["👍", "Y", "3", "12/03/1961"])
def test_a_thumbs_up_a_letter_or_a_number_is_scored_as_it_is(safety_classifier, text):
    assert safety_classifier.assess(text).outcome is None
