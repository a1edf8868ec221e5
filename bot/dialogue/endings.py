"""Replies that end a conversation, and the evidence they need. The one place these phrases live.

"Wrong number" closes the conversation and tells the sender they will not be texted again; an
opt-out in words stops every text; "no thanks" records a coded decline (CANPCADEC_COD). Each can
cost a patient their CAN005 contact, so the NLU's reading alone is not enough: once the text
`<script>alert(1)</script>` was read as "wrong number" and closed a conversation. An ending needs

- an explicit phrase below ("wrong number", "stop texting me", "no thanks"), or
- a confident NLU reading (CONFIDENT or more) confirmed by one of the ending's keywords.

Anything else is UNCLEAR: the dialogue asks again or passes the text to a person, never ends.
Twilio's single-word STOP and friends are handled before the dialogue (bot/dialogue/keywords.py).
"""
from __future__ import annotations

import re
from enum import Enum

# DIET reads most genuine endings at 0.95 or more; the FallbackClassifier's 0.7 is too low a bar
# for something that cannot be undone by the patient.
CONFIDENT = 0.9


class Ending(str, Enum):
    """A reply that ends (or settles) the conversation, named by its NLU intent."""

    WRONG_PERSON = "wrong_person"
    OPT_OUT = "opt_out"
    DECLINE = "deny"


class Evidence(str, Enum):
    EXPLICIT = "explicit"      # an explicit phrase
    CONFIRMED = "confirmed"    # a confident NLU reading with a keyword of the ending
    UNCLEAR = "unclear"        # neither: ask again, or a person reads it

    @property
    def enough(self) -> bool:
        return self is not Evidence.UNCLEAR


_PERSON = r"(me|him|her|them|his|hers|their|theirs)"
PHRASES: dict[Ending, tuple[str, ...]] = {
    Ending.WRONG_PERSON: (
        r"\bwrong (number|person|phone|contact|name|people|mobile)\b",
        rf"\b(this is|thats|that is|its|it is|im|i am)( not|nt) {_PERSON}\b",
        rf"\bnot {_PERSON} (phone|number|mobile)\b",
        r"\b(no ?one|nobody|no body) (called|named|by that name|of that name)\b",
        r"\b(dont|do not) know (anyone|anybody|any one) (called|named|by that name)\b",
        r"\bnever heard of (them|him|her)\b",
        r"\b(meant|for|belongs to|is) (someone|somebody) else\b",
        r"\b(not|isnt) the (person|one) you\b",
        r"\b(doesnt|does not|dont|do not) (use|own|have) this (number|phone|mobile)\b",
        r"\bnot who you\b",
        r"\b(husbands|wifes|sons|daughters|mums|dads|mothers|fathers|partners|friends|brothers|sisters) "
        r"(phone|number|mobile)\b",
        r"\b(theres|there is) no \w+ (here|at this number)\b",
    ),
    Ending.OPT_OUT: (
        r"\b(stop|quit) (\w+ )?(texting|messaging|sending|contacting|texts|messages)\b",
        r"\b(dont|do not|never) (text|message|contact|sms|send)\b",
        r"\bunsubscribe\b",
        r"\bopt (me )?out\b|\boptout\b",
        r"\b(remove|delete) (me|my number|this number|my details)\b",
        r"\btake (me|my number|this number) off\b",
        r"\bno more (texts|messages)\b",
        r"\b(dont|do not) want (any more|anymore|any|these|to receive|to be texted|texts|messages)\b",
    ),
    Ending.DECLINE: (
        r"^(no|nope|nah|n)$",
        r"\bno (thanks|thank you|thank u|ta|need)\b",
        r"\bnot (interested|for me|needed|necessary)\b",
        r"\b(rather|prefer) not\b",
        r"\b(ill|i will) pass\b",
        r"\b(dont|do not) (need|want) (it|any|anything|to|a)\b",
        r"\bdefinitely not\b",
        r"^(no|nope|nah)\b",
    ),
}
# Words one of which must be in the text for a confident NLU reading to count.
KEYWORDS: dict[Ending, frozenset[str]] = {
    Ending.WRONG_PERSON: frozenset({"wrong", "not", "isnt", "nobody", "noone", "never", "someone", "somebody",
                                    "else", "anymore", "belongs", "belong"}),
    Ending.OPT_OUT: frozenset({"stop", "unsubscribe", "remove", "opt", "optout", "delete", "off", "dont",
                               "more", "contact", "contacting", "texting", "messaging"}),
    Ending.DECLINE: frozenset({"no", "not", "nope", "nah", "n", "dont", "rather", "pass", "decline"}),
}
_COMPILED = {ending: tuple(re.compile(p) for p in patterns) for ending, patterns in PHRASES.items()}


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped ("don't" -> "dont"), anything else not a letter or digit a space."""
    text = re.sub(r"['\u2019`]", "", (text or "").lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def evidence(ending: Ending, text: str, confidence: float) -> Evidence:
    """How strongly `text`, read by the NLU as `ending` with `confidence`, shows that ending."""
    plain = normalise(text)
    if any(pattern.search(plain) for pattern in _COMPILED[ending]):
        return Evidence.EXPLICIT
    if confidence >= CONFIDENT and KEYWORDS[ending] & set(plain.split()):
        return Evidence.CONFIRMED
    return Evidence.UNCLEAR
