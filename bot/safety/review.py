"""Review: the third outcome of the safety screen, between "flag" and "nothing": a person should
read this text the same working day (issue 13). This module is the light part of that rule, with no
spaCy or scikit-learn, so the action server can use it without loading the screen's models:

- REVIEW, the kind and severity a review's Flag record carries;
- `carries_content`: whether a text the dialogue could not read as the answer it asked for still
  says something a person should read (used by actions/review.py).

The screen itself (the rules, then the trained model) is bot/safety/screen.py.
"""
from __future__ import annotations

import re

REVIEW = "review"  # Flag.kind and .severity of a review

# Words that make an unreadable answer worth a person's reading: symptoms, feelings, people, places.
CONTENT_WORDS = frozenset("""
    pain pains hurt hurts hurting ache aches sore sick vomit vomiting bleed bleeding blood breath breathe
    breathless cough fever temp temperature hot cold shaking dizzy faint fell fall fallen swollen swelling
    rash itch numb tingling weak tired exhausted sleep eat eating drink drinking wee poo toilet lump
    scared afraid frightened fear worried worry anxious panic sad low down depressed lonely alone cry
    crying angry upset hopeless pointless end ending die dying dead death kill hurt safe unsafe
    husband wife partner son daughter mum mam mom dad mother father kids child children baby family
    carer neighbour friend brother sister grandson granddaughter boyfriend girlfriend
    home house hospital ward a&e ambulance police work money rent bills
""".split())
CONTENT_MIN_WORDS = 5  # "more than a few words"


def carries_content(text: str) -> bool:
    """Whether a text the assistant could not read as the answer it asked for still says something a
    person should read (issue 13): several words, or any symptom, feeling, person or place. Such a
    text is never answered with "sorry, I couldn't read that"; it goes to review."""
    words = re.findall(r"[a-z&']+", (text or "").lower())
    return len(words) >= CONTENT_MIN_WORDS or any(word.strip("'") in CONTENT_WORDS for word in words)
