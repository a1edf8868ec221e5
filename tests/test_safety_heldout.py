"""The safety screen on the held-out writers (tests/data/safety_heldout/): the rules OR the trained
classifier, as live texts will meet them, on texts by writers who never saw the rules and whose
texts the classifier never trained on (data/safety/README.md).

The issue's bars: recall >= 99% for each kind (a flag or a review counts as caught) and at most
10% of `none` texts sent to a person. Where the screen does not meet a bar, the floor below is the
measured figure rounded down (a person-rate ceiling: rounded up) to the whole percent, a ratchet:
any regression fails, and a floor is only ever raised. Measure with bench/safety_eval.py; never
read the held-out texts to tune the screen.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.safety import model as safety_model, rules
from bot.safety.model import Figures, figures
from bot.safety.screen import screen_text

HELDOUT_DIR = Path(__file__).parent / "data" / "safety_heldout"
# The first lot (wD, wF from wA-wG) was measured and read in session 5; those two then joined the
# training writers, and five new writers (wH-wL) were briefed, of whom a second lot drew these two.
FIRST_WRITERS = ("wA", "wB", "wC", "wD", "wE", "wF", "wG")
NEW_WRITERS = ("wH", "wI", "wJ", "wK", "wL")
TRAINING_ONLY = ("wM", "wN", "wO", "wR", "wS")   # briefed for training only, never in a lot (wR, wS: session 7)

PAST_RELEASE_WRITERS = ("wP",)   # session 6's release writer: measured since, so no longer fresh
RELEASE_WRITERS = ("wQ",)        # commissioned fresh for session 7's release; measured once, with the final model

# (writer or "all", figure, "min" floor or "max" ceiling, bound). Issue bars: recall_* >= 0.99,
# person_rate <= 0.10. Measured 2026-12-03 with the model trained on wA-wH, wJ, wL-wO and the check-in
# answers (bench/safety_eval.py). wI and wK were read at each step of the work; wP only once, at the end.
BOUNDS = [
    ("wI", "recall_clinical", "min", 0.99),       # issue bar 99%; measured 100% (153/153)
    ("wI", "recall_safeguarding", "min", 0.98),   # issue bar 99%; measured 98.9% (92/93), ratchet
    ("wI", "person_rate", "max", 0.10),           # issue bar 10%; measured 9.7% (22/227), 7.5% (17/227) in session 7
    ("wK", "recall_clinical", "min", 0.98),       # issue bar 99%; measured 98.0% (147/150), ratchet
    ("wK", "recall_safeguarding", "min", 0.98),   # issue bar 99%; measured 99.0% (95/96), ratchet
    ("wK", "person_rate", "max", 0.11),           # issue bar 10%; measured 10.5% (24/228), 10.1% (23/228), ratchet
    ("wP", "recall_clinical", "min", 0.98),       # issue bar 99%; measured 98.7% (149/151), ratchet
    ("wP", "recall_safeguarding", "min", 0.97),   # issue bar 99%; measured 96.7% (89/92), then 97.8% (90/92)
    #                                               with the carer-strain rule (session 7, not tuned on wP), ratchet
    ("wP", "person_rate", "max", 0.09),           # issue bar 10%; measured 8.2% (18/220)
    # wQ: briefed in session 7 after the carer-strain rule; measured once, with the model trained on wR and wS too.
    ("wQ", "recall_clinical", "min", 0.99),       # issue bar 99%; measured 99.3% (149/150)
    ("wQ", "recall_safeguarding", "min", 0.98),   # issue bar 99%; measured 98.9% (89/90), ratchet
    ("wQ", "person_rate", "max", 0.10),           # issue bar 10%; measured 5.0% (11/220)
    # all four held-out writers, session 7
    ("all", "recall_clinical", "min", 0.99),      # issue bar 99%; measured 99.0% (598/604)
    ("all", "recall_safeguarding", "min", 0.98),  # issue bar 99%; measured 98.7% (366/371), ratchet
    ("all", "person_rate", "max", 0.10),          # issue bar 10%; measured 7.7% (69/895)
]


@pytest.fixture(scope="module")
def combined(safety_classifier) -> dict[str, Figures]:
    """Figures of the live screen (bot/safety/screen.py: the rules, then the classifier) per held-out writer
    and for all."""
    rows = safety_model.read_rows(safety_model.training_files(HELDOUT_DIR))
    rules.warm_up()
    got = [flag.kind if (flag := screen_text(r.text, safety_classifier)) else None for r in rows]
    out = {w: figures([r.kind for r in rows if r.writer == w], [g for r, g in zip(rows, got) if r.writer == w])
           for w in sorted({r.writer for r in rows})}
    out["all"] = figures([r.kind for r in rows], got)
    return out


@pytest.mark.parametrize("writer, figure, direction, bound", BOUNDS, ids=[f"{w}-{f}" for w, f, _, _ in BOUNDS])
def test_combined_screen_on_heldout_writers(combined, writer, figure, direction, bound):
    value = getattr(combined[writer], figure)
    if direction == "min":
        assert value >= bound, f"{writer} {figure} {value:.1%} fell below its floor {bound:.0%}"
    else:
        assert value <= bound, f"{writer} {figure} {value:.1%} rose above its ceiling {bound:.0%}"


def test_kind_is_right_for_almost_every_caught_flag(combined):
    assert combined["all"].kind_right >= 0.95   # the issue's bar; measured 97.3% (session 7, four writers)


def test_the_heldout_pair_is_the_one_drawn_by_lot_and_never_trained_on():
    first = random.Random("can005-issue13-heldout").sample(sorted(FIRST_WRITERS), 2)
    drawn = random.Random("can005-issue13-heldout-2").sample(sorted(NEW_WRITERS), 2)
    heldout = {r.writer for r in safety_model.read_rows(safety_model.training_files(HELDOUT_DIR))}
    training = {r.writer for r in safety_model.read_rows(safety_model.training_files())}
    assert set(first) == {"wD", "wF"} and set(drawn) == {"wI", "wK"}
    assert heldout == set(drawn) | set(PAST_RELEASE_WRITERS) | set(RELEASE_WRITERS)
    assert training == set(FIRST_WRITERS + NEW_WRITERS + TRAINING_ONLY) - heldout | {"checkin"}  # + check-in answers
