"""The safety screen as every live text meets it, and `outreach safety-check` too: the rules
(`bot/safety/rules.py`), then the trained model (`bot/safety/model.py`) for the phrasings the rules do not
know. Three outcomes: a flag (clinical or safeguarding), a review ("a person should read this
soon": the model is unsure, or the text cannot be read), or nothing. A rule's flag stands unless the
model is all but certain the text is ordinary (`SafetyModel.sets_aside_rule`: past and settled
events, expected side effects; the threshold is chosen so that out of fold it never set aside a
true flag).

No Rasa call: the model is loaded once per process (`default_model`), so screening costs no network
round trip and works while Rasa is down. A screen that fails gives a review, never silence.
"""
from __future__ import annotations

import functools
import logging
import math
import os
import unicodedata
from pathlib import Path
from typing import Optional

from bot.config import ConfigError
from bot.safety import rules
from bot.safety.model import DEFAULT_PATH, SafetyModel, load
from bot.safety.review import REVIEW, carries_content  # noqa: F401  (re-exported: the screen's vocabulary)

log = logging.getLogger(__name__)


class ScreenUnavailable(ConfigError):
    """The trained model cannot be loaded: the process must not run without its second net (a
    ConfigError, so every command reports it as a setup problem)."""


@functools.lru_cache(maxsize=1)
def default_model() -> SafetyModel:
    """The model at SAFETY_MODEL (default models/safety.pkl, built by `make model`); loaded once per
    process."""
    try:
        return load(Path(os.environ.get("SAFETY_MODEL") or DEFAULT_PATH))
    except FileNotFoundError as exc:
        raise ScreenUnavailable(f"the safety screen's model is missing ({exc.filename}): run `make model`") from None
    except Exception as exc:  # a version mismatch, a damaged file
        raise ScreenUnavailable(f"the safety screen's model cannot be loaded: {exc}; run `make model`") from None


def review(category: str, evidence: str) -> rules.Flag:
    """A text a person should read soon, with why."""
    return rules.Flag(kind=REVIEW, severity=REVIEW, category=category, evidence=(evidence,))


def screen_text(text: str, model: Optional[SafetyModel] = None) -> Optional[rules.Flag]:
    """The rules' flag; else the model's flag or review; else a review for a text written mostly in
    another alphabet; else None. `model=None` uses `default_model()`."""
    try:
        flag = rules.screen(text or "")
    except Exception:
        log.exception("the safety rules failed on a text; a person will read it")
        return review("screen_error", "the safety rules could not read this text")
    if flag is not None:
        try:
            model = model or default_model()
        except ScreenUnavailable:
            return flag   # the rules' flag stands on its own
        if not model.sets_aside_rule(text or "", flag.evidence):
            return flag
        assessment = model.assess(text or "")
        # The words matched a rule, but the model is all but certain the text is ordinary ("had a
        # nosebleed this morning, it stopped"): chosen so that, out of fold, it never set aside a true flag.
        log.info("a rule's %s flag (%s) was set aside by the model (flag score %.3f)",
                 flag.kind, flag.category, assessment.scores.flag)
    else:
        model = model or default_model()
        assessment = model.assess(text or "")
    scores = assessment.scores
    evidence = f"model: clinical {scores.clinical:.2f}, safeguarding {scores.safeguarding:.2f}"
    if assessment.outcome in ("clinical", "safeguarding"):
        return rules.Flag(kind=assessment.outcome, severity="soon", category=f"model_{assessment.outcome}",
                          evidence=(evidence,))
    if assessment.outcome == REVIEW:
        if math.isnan(scores.flag):
            return review("screen_error", "the model could not score this text")
        if scores.flag >= model.thresholds.review:
            return review("unsure", evidence)
        # The model asks for a review of any text it knows no words of. A typo'd "yep" or "12 mrch
        # 1961" is not worth a person's time (the dialogue asks again); another alphabet is.
    if _mostly_other_alphabets(text or ""):
        return review("unreadable", "written mostly in letters the screen cannot read (another language?)")
    if _only_distress_emoji(text or ""):
        return review("emoji", "only emoji, and they look like distress")
    return None


# Emoji that, sent alone, may be a cry for help: crying, broken heart, despair, SOS, ambulance.
DISTRESS_EMOJI = frozenset("\U0001F62D\U0001F622\U0001F494\U0001F61E\U0001F614\U0001F629\U0001F62B"
                           "\U0001F198\U0001F691\U0001F630\U0001F628\U0001F616\U0001F623\U0001F625")


def _only_distress_emoji(text: str) -> bool:
    """A text with no letters or digits that holds a distress emoji ("😭😭", "🆘")."""
    if any(c.isalnum() for c in text):
        return False
    return any(c in DISTRESS_EMOJI for c in text)


def _mostly_other_alphabets(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 3:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin < len(letters) / 2


def screen_rules_only(text: str) -> Optional[rules.Flag]:
    """The rules alone (`outreach safety-check --rules-only`, the processor's early look)."""
    return rules.screen(text or "")
