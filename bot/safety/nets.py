"""Which safety net a flag gets, and the other safety policy the processor applies: the text
chosen for each kind of flag (issue 14), a possible infection made urgent by the register, which
net raised a flag, and the early look at a text waiting in the queue. Moved from bot/inbound/processor.py
unchanged; the processor calls these and decides nothing about safety itself.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Optional

from bot.safety import rules
from bot.safety.review import REVIEW
from bot.safety.screen import screen_rules_only

log = logging.getLogger(__name__)


# Which safety-net text each kind of flag gets (issue 14): the one place this rule lives.
NET_BY_CATEGORY = {
    "breathing_chest": "safety_999", "collapse_stroke": "safety_999",
    "spinal_cord_compression": "safety_same_hour", "svco": "safety_same_hour", "hypercalcaemia": "safety_same_hour",
    "dehydration_toxicity": "safety_same_hour",
    "bleeding": "safety_bleeding",
    "suicide": "safety_suicide", "self_harm": "safety_suicide",
    "domestic_abuse": "safety_domestic", "financial_abuse": "safety_domestic",
    "child_abuse": "safety_at_risk", "adult_abuse_neglect": "safety_at_risk",
    "carer_strain": "safety_carer",
}
SEPSIS_NET = {True: "safety_sepsis_treatment", None: "safety_sepsis_unknown", False: "safety_clinical"}


def safety_net_message(flag: "rules.Flag", on_active_treatment: Optional[bool]) -> str:
    """Which safety-net text a flag gets. `on_active_treatment` is the register's answer: True,
    False, or None when the practice does not know (GP systems rarely hold it)."""
    if flag.kind == REVIEW:
        return "safety_review"
    if flag.category == "neutropenic_sepsis":
        return SEPSIS_NET[on_active_treatment]
    if flag.category in NET_BY_CATEGORY:
        return NET_BY_CATEGORY[flag.category]
    if flag.kind == "safeguarding":
        return "safety_safeguarding"
    return "safety_clinical_treatment" if on_active_treatment else "safety_clinical"


def with_register_urgency(flag: "rules.Flag", on_active_treatment: Optional[bool]) -> "rules.Flag":
    """A possible infection is urgent whenever the register says the patient is on treatment,
    whether or not the text says so (neutropenic sepsis can kill within hours)."""
    if flag.category == "neutropenic_sepsis" and on_active_treatment and flag.severity != "urgent":
        return dataclasses.replace(flag, severity="urgent",
                                   evidence=flag.evidence + ("the register says: on treatment",))
    return flag


def source_of(flag: "rules.Flag") -> str:
    """Which net raised a flag: the rules, the model, or the screen's review of an unreadable text."""
    if flag.kind == REVIEW:
        return "model" if flag.category == "unsure" else "screen"
    return "model" if flag.category.startswith("model_") else "rules"


def looks_urgent(body: str) -> bool:
    """The early look at a text waiting in the queue: the rules alone (the full screen runs again
    when the text is processed). A text the rules cannot read goes first too."""
    try:
        return screen_rules_only(body) is not None
    except Exception:
        log.exception("early safety look failed; the text goes first")
        return True
