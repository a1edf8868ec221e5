"""Twilio's reserved single-word replies. The one place these words are defined.

Twilio acts on these words itself (with Advanced Opt-Out it confirms STOP and blocks further
texts, answering error 21610), and still forwards them to our webhook. We record the opt-out so
that no part of the product texts the patient again until they reply START.
"""
from __future__ import annotations

import re
from enum import Enum
from typing import Optional

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

# Twilio matches the whole message, ignoring case, surrounding spaces and trailing punctuation.
_STRIP = re.compile(r"^[\s\"'.,!?]+|[\s\"'.,!?]+$")


class Keyword(str, Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


def classify_keyword(body: str) -> Optional[Keyword]:
    """Return the keyword a whole message is, or None for ordinary text.

    "YES" is also an opt-in word for Twilio, but only for numbers that opted out; our patients
    say yes to the offer of support, so YES is treated as opt-in only by `is_opt_in_for`.
    """
    word = _STRIP.sub("", body or "").upper()
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


def is_opt_in_for(body: str, opted_out: bool) -> bool:
    """True when the message opts a patient back in: START/UNSTOP, or YES from an opted-out number."""
    if classify_keyword(body) is Keyword.OPT_IN:
        return True
    return opted_out and _STRIP.sub("", body or "").upper() == "YES"
