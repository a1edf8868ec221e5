"""The deterministic safety screen: every inbound patient text passes here before any dialogue.

A missed red flag is the worst failure this product can have, so the screen errs on the side of
flagging: a flag costs a person reading a text; a miss can cost a life. It never diagnoses and
never downgrades; it only says "a person must look at this, this soon, and here is why".

How a text is screened (all rule-based, no statistical model):

1. The text is lower-cased in a way that keeps every character offset, so the evidence returned
   is always the exact words of the original text.
2. spaCy's blank English tokenizer splits it; common misspellings ("temprature", "bleading",
   "diarhea") are mapped to their canonical word, and an unknown word within a small edit distance
   of a key red-flag word is mapped too (`FUZZY_TARGETS`). Then the rule-based lookup lemmatizer
   (tables from spacy-lookups-data) gives each word its lemma, so "coughed", "coughing" and
   "coughs" all match "cough".
3. `TRIGGERS` (bot/safety/triggers.py, the one place the vocabulary lives; word classes and the rest
   in vocabulary.py) is compiled into spaCy Matcher patterns (on LEMMA and LOWER) and a
   PhraseMatcher (literal phrases on LOWER). Each pattern only runs on a text that contains every
   word it needs (a cheap set check), which keeps a text under a millisecond.
4. Every match is then checked for
   - idioms ("this waiting is killing me", "sick of waiting", "pain in the neck"): a match that
     overlaps an idiom is dropped;
   - negation: a negation cue ("no", "not", "n't", "never", "without", "no longer") shortly before
     the trigger in the same clause, with only filler words between ("haven't got ANY chest
     pain", "no fever", "no chest pain or breathlessness"), cancels it. "no" only negates what
     directly follows it: "no been sick all night" (= "No, been sick...") still flags. Negation
     words that are part of the trigger itself ("can't
     breathe", "bleeding won't stop", "not passed urine") never cancel it. For clinical triggers a
     resolving word right after it in the same clause ("temperature is normal", "bleeding has
     stopped") cancels it too, unless the clause is a question ("is coughing up blood normal?").
5. Temperatures are read as numbers: 37.5 C or more (or 99.5 F or more) flags, a decimal like
   "37.8" on its own, a whole number like "38" only next to a temperature word; below 36 C next
   to a body-temperature word flags too (NICE sepsis sign; not "30 degrees" or "at 34" near
   "hot"). A normal reading (36.0-37.4) right after a fever phrase ("had a temp of 37.1")
   cancels that phrase.
6. The whole text's context can set a hit aside (`bot.safety.context`): an event told as past and
   over ("had a temp last week, all good now"; never when it is back or the time is recent), a
   fever explained by a vaccine when no anti-cancer treatment is current, a "my mum would kill me
   if..." hypothetical. Only that hit goes: the other hits of the text still count.
7. A fever flag is raised to "urgent" when the text mentions chemotherapy, immunotherapy,
   radiotherapy or another anti-cancer treatment (`TREATMENT_CONTEXT`).

`screen()` returns the most serious flag: urgent before soon, then safeguarding before clinical,
then the order of `CATEGORY_ORDER`. It never raises: if the screen itself fails, it returns a
"screen_error" flag so that a person reads the text (fail safe, never fail silent).
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from bot.safety import context as safety_context
from bot.nlu.english import build as build_english
from bot.nlu.spelling import FuzzyIndex
# The vocabulary (data) lives in triggers.py and vocabulary.py; this module compiles and runs it.
from bot.safety.triggers import TRIGGERS
from bot.safety.vocabulary import (CLASSES, TREATMENT_CONTEXT, TEMPERATURE_CONTEXT, BODY_TEMPERATURE_CONTEXT,
                                   CATEGORY_ORDER, SETTINGS, YIELDS_TO_CLINICAL, IDIOMS, NEGATION_CUES, NEGATION_WINDOW,
                                   NEGATION_FILLERS, NO_FILLERS, POST_RESOLVERS, POST_RESOLVERS_AT_END, POST_FILLERS,
                                   BUT_RESOLVERS, AT_END_WORDS, CLAUSE_BREAKERS, MISSPELLINGS, FUZZY_TARGETS)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Flag:
    kind: str        # "clinical" or "safeguarding"
    severity: str    # "urgent" (999-level or same-hour) or "soon" (same day)
    category: str    # e.g. "neutropenic_sepsis", "suicide", ... (see TRIGGERS), or "screen_error"
    evidence: tuple[str, ...]   # the exact words in the text that matched



# =====================================================================================================
# The machinery.
# =====================================================================================================

_SEVERITY_RANK = {"urgent": 0, "soon": 1}
_KIND_RANK = {"safeguarding": 0, "clinical": 1}
_INFO_WORDS = frozenset("""who this message messages text texts letter appointment number practice surgery
call review mean means form link email support service sent texting contacting website app booking""".split())
_FIRST_PERSON = frozenset({"i", "'m", "m", "im", "am", "me", "i'm"})
_QUESTION_STARTS = frozenset({"is", "are", "was", "does", "do", "should", "can", "could", "would", "will", "am",
                              "how", "what", "why", "when", "did", "has", "have", "shall"})

# Length-preserving character clean-up (curly quotes to straight, odd spaces to spaces), so that
# character offsets in the cleaned text are the offsets in the original.
_CHAR_MAP = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
                           "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2013": "-", "\u2014": "-"})
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_CHUNK = 5000
_CHUNK_OVERLAP = 200

_NUMBER_RE = re.compile(
    r"(?<![\d£$€/:.,])(\d{2,3})(?:[.,](\d{1,2})|\s*(?:point|pt)\s*(\d{1,2}))?(?![\d/:]|[.,]\d)"
    r"(\s*(?:°|º|deg(?:ree)?s?\b|degs?\b)?\s*(?:c\b|f\b|celsius\b|centigrade\b|fahrenheit\b)?)")
_NOT_A_TEMPERATURE_RE = re.compile(
    r"\s*(?:kg|kgs|kilo|kilos|lb|lbs|pounds?|stone|st\b|%|mg|ml|mm|cm|mins?\b|minutes|miles?|years?|yrs?|"
    r"weeks?|wks?|days?|hours?|hrs?|p\b|quid|am\b|pm\b|times|x\b|mmol|bpm|percent|pence|tablets?|pills?)")


class _Screen:
    """The compiled pipeline and patterns. Built once (see _get_screen)."""

    def __init__(self) -> None:
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        self._Doc = Doc
        english = build_english([r"(?<=[0-9])[,!?;&/+](?=[a-z])"],  # "38,chest"
                                expect={"coughing": "cough", "collapsed": "collapse"})
        nlp = english.nlp
        self.nlp = nlp
        self.lemmatizer = nlp.get_pipe("lemmatizer")
        self._lemma_table = english.lemmas
        self._known = set(english.known)

        self._Matcher = Matcher
        # One Matcher per pattern, run only when the text has every word the pattern requires (found
        # through an index of one required word per pattern, its "anchor"): spaCy tests IN/NOT_IN sets
        # in Python at every token for every pattern, so running all patterns on every text would
        # cost ~0.15 ms a word.
        self.matchers: dict[int, Any] = {}
        self.anchors: dict[tuple[str, str], set[int]] = {}
        self.requirements: dict[int, list[list[frozenset]]] = {}  # per pattern: per sequence, its required words
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.meta: dict[int, tuple[str, str, Optional[Callable], str]] = {}
        self._errors: list[str] = []
        self._vocabulary_words: set[str] = set()
        for category, spec in TRIGGERS.items():
            for severity in ("urgent", "soon"):
                for i, pattern in enumerate(spec.get(severity, {}).get("patterns", [])):
                    self._add_pattern(f"{category}|{severity}|{i}", category, severity, pattern)
                phrases = spec.get(severity, {}).get("phrases", [])
                if phrases:
                    key = f"{category}|{severity}|phrases"
                    self.phrases.add(key, [self._phrase_doc(p) for p in phrases])
                    self.meta[nlp.vocab.strings[key]] = (category, severity, None, "phrase")
        for name, spec in SETTINGS.items():
            for i, pattern in enumerate(spec.get("patterns", [])):
                self._add_pattern(f"setting|{name}|{i}", "setting", name, pattern)
            key = f"setting|{name}|phrases"
            self.phrases.add(key, [self._phrase_doc(p) for p in spec.get("phrases", [])])
            self.meta[nlp.vocab.strings[key]] = ("setting", name, None, "phrase")
        self.phrases.add("idiom", [self._phrase_doc(p) for p in IDIOMS["phrases"]])
        for i, pattern in enumerate(IDIOMS["patterns"]):
            self._add_pattern(f"idiom|{i}", "idiom", "", pattern)
        self.meta[nlp.vocab.strings["idiom"]] = ("idiom", "", None, "phrase")
        if self._errors:  # a word that can never match is a bug in the vocabulary: fail loudly
            raise ValueError("safety vocabulary: " + "; ".join(sorted(set(self._errors))))
        self._known.update(self._vocabulary_words)
        self._known.update(MISSPELLINGS.values())
        self._fuzzy_index = FuzzyIndex(FUZZY_TARGETS)
        self._fuzzy_cache: dict[str, str] = {}

    # ---- compiling the vocabulary --------------------------------------------------------------
    def _phrase_doc(self, phrase: str):
        doc = self._correct(self.nlp.make_doc(phrase.lower().translate(_CHAR_MAP)), fuzzy=False)
        self._vocabulary_words.update(t.lower_ for t in doc)
        return doc

    def _lemma(self, word: str) -> str:
        return self._lemma_table.get(word, word)

    def _single_token(self, word: str, pattern: str) -> str:
        tokens = [t.text for t in self.nlp.make_doc(word)]
        if len(tokens) != 1 and not (word.startswith("'") or word == "n't"):  # clitics stand alone in context
            self._errors.append(f"{word!r} in {pattern!r} is {len(tokens)} tokens {tokens}")
        self._vocabulary_words.add(word)
        return word

    def _token_specs(self, spec: str, pattern: str) -> list[dict]:
        """One item of the pattern syntax -> alternative Matcher token dicts (one per attribute)."""
        if spec.startswith("="):
            words = [self._single_token(w.lstrip("="), pattern) for w in spec[1:].split("/") if w]
            return [{"LOWER": {"IN": sorted(set(words))}}]
        lemmas, lowers = set(), set()
        for w in spec.split("/"):
            if w.startswith("="):
                lowers.add(self._single_token(w[1:], pattern))
            elif w:
                lemmas.add(self._lemma(self._single_token(w, pattern)))
        out = []
        if lemmas:
            out.append({"LEMMA": {"IN": sorted(lemmas)}})
        if lowers:
            out.append({"LOWER": {"IN": sorted(lowers)}})
        return out

    def _expand(self, item: str, pattern: str) -> list[list[dict]]:
        """One item -> alternative token sequences."""
        optional = item.endswith("?") and len(item) > 1
        if optional:
            item = item[:-1]
        if re.fullmatch(r"~\d", item):
            return [[dict(_GAP) for _ in range(int(item[1:]))]]
        if item.startswith("@"):
            cls = CLASSES[item[1:]]
            if isinstance(cls, str):
                alternatives = [[t] for t in self._token_specs(cls, pattern)]
            else:
                alternatives = []
                for seq in cls:
                    alternatives.extend(self._sequence(seq, pattern))
        else:
            alternatives = [[t] for t in self._token_specs(item, pattern)]
        if optional:
            if all(len(a) == 1 for a in alternatives) and len(alternatives) == 1:
                return [[{**alternatives[0][0], "OP": "?"}]]
            alternatives = alternatives + [[]]
        return alternatives

    def _sequence(self, text: str, pattern: str) -> list[list[dict]]:
        sequences: list[list[dict]] = [[]]
        for item in text.split():
            sequences = [s + a for s in sequences for a in self._expand(item, pattern)]
        return sequences

    def _add_pattern(self, key: str, category: str, severity: str, pattern: str) -> None:
        items = pattern.split()
        lookahead = None
        if items[-1].startswith("!"):
            stop_specs = self._token_specs(items.pop()[1:], pattern)
            lemmas = {w for s in stop_specs for w in s.get("LEMMA", {}).get("IN", [])}
            lowers = {w for s in stop_specs for w in s.get("LOWER", {}).get("IN", [])}
            lookahead = _make_lookahead(frozenset(lemmas), frozenset(lowers))
        sequences = self._sequence(" ".join(items), pattern)
        sequences = [s for s in sequences if any(t.get("OP") != "?" for t in s)]
        if not sequences or len(sequences) > 400:
            raise ValueError(f"safety vocabulary: pattern {pattern!r} expands to {len(sequences)} sequences")
        key_id = self.nlp.vocab.strings.add(key)
        matcher = self._Matcher(self.nlp.vocab)
        matcher.add(key, sequences)
        self.matchers[key_id] = matcher
        for sequence in sequences:
            for anchor in _anchor(sequence):
                self.anchors.setdefault(anchor, set()).add(key_id)
        self.requirements[key_id] = [_required(sequence) for sequence in sequences]
        self.meta[key_id] = (category, severity, lookahead, pattern)

    # ---- spelling --------------------------------------------------------------------------------
    def _fix_word(self, word: str, fuzzy: bool = True) -> str:
        fixed = MISSPELLINGS.get(word)
        if fixed is not None:
            return fixed
        if not fuzzy or len(word) < 5 or not word.isalpha() or word in self._known or word in self._lemma_table:
            return word
        if word not in self._fuzzy_cache:
            if len(self._fuzzy_cache) > 50000:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[word] = self._fuzzy_index.lookup(word) or word
        return self._fuzzy_cache[word]

    def _correct(self, doc, fuzzy: bool = True):
        words = [self._fix_word(t.lower_, fuzzy) for t in doc]
        if all(w == t.lower_ for w, t in zip(words, doc)):
            return self.lemmatizer(doc)
        fixed = self._Doc(self.nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])
        return self.lemmatizer(fixed)

    # ---- screening -------------------------------------------------------------------------------
    def screen(self, text: str) -> Optional[Flag]:
        if len(text) > _MAX_CHUNK:
            chunks = [self._screen_chunk(text[i:i + _MAX_CHUNK], text, i)
                      for i in range(0, len(text), _MAX_CHUNK - _CHUNK_OVERLAP)]
            flags = [f for f in chunks if f is not None]
            return min(flags, key=_rank) if flags else None
        return self._screen_chunk(text, text, 0)

    def _screen_chunk(self, chunk: str, original: str, offset: int) -> Optional[Flag]:
        chunk = _SURROGATE.sub("\ufffd", chunk.translate(_CHAR_MAP))  # lone surrogates can't be encoded
        cleaned = "".join(c if len(c.lower()) != 1 else c.lower() for c in chunk)
        raw = self.nlp.make_doc(cleaned)   # token offsets into the original text
        doc = self._correct(raw)           # same tokens, misspellings fixed, lemmas set
        n = len(doc)

        present = {("LEMMA", t.lemma_) for t in doc} | {("LOWER", t.lower_) for t in doc}
        anchored: set[int] = set().union(*(self.anchors.get(value, ()) for value in present))
        candidates = [key_id for key_id in anchored
                      if any(all(r & present for r in seq) for seq in self.requirements[key_id])]
        matches = [(self.meta[key], start, end) for key_id in sorted(candidates)
                   for key, start, end in self.matchers[key_id](doc)]
        matches += [(self.meta[key], start, end) for key, start, end in self.phrases(doc)]
        idioms = [(s, e) for (cat, _, _, _), s, e in matches if cat == "idiom"]

        # Settings found (not negated): "not a young carer" is no caring setting. A setting's
        # "severity" slot holds its name.
        settings: dict[str, list[tuple[int, int]]] = {}
        for (category, name, _, _), start, end in matches:
            if category == "setting" and not _negated_before(doc, start, end):
                settings.setdefault(name, []).append((start, end))

        readings = _temperatures(cleaned, raw, doc)
        hits: list[tuple[str, str, int, int]] = []   # category, severity, first token, end token
        for (category, severity, lookahead, _source), start, end in matches:
            if category in ("idiom", "setting"):
                continue
            if TRIGGERS[category].get("needs") and TRIGGERS[category]["needs"] not in settings:
                continue
            if lookahead is not None and end < n and lookahead(doc[end]):
                continue
            if any(s < end and start < e for s, e in idioms):
                continue
            kind = TRIGGERS[category]["kind"]
            if _negated_before(doc, start, end) or (kind == "clinical" and _resolved_after(doc, end)):
                continue
            if category == "hypercalcaemia" and _info_confusion(doc, start, end):
                continue
            hits.append((category, severity, start, end))

        normal = [(s, e) for s, e, value, needs_context in readings if 36.0 <= value < 37.5 and not needs_context]
        hits = [h for h in hits if not (h[0] == "neutropenic_sepsis" and _followed_by_normal(doc, h[3], normal))]
        for s, e, value, needs_context in readings:
            if (value >= 37.5 or value < 36.0) and not needs_context:
                hits.append(("neutropenic_sepsis", "soon", s, e))
        if hits:  # events told as past and over, fevers explained by a vaccine, "mum would kill me"
            context = safety_context.analyse(doc, readings, TREATMENT_CONTEXT)
            hits = [h for h in hits if safety_context.dismissal(context, h[0], TRIGGERS[h[0]]["kind"], h[2], h[3])
                    is None]
        if not hits:
            return None

        treatment = [t.i for t in doc if t.lower_ in TREATMENT_CONTEXT or t.lemma_ in TREATMENT_CONTEXT]
        by_category: dict[str, list[tuple[str, int, int]]] = {}
        for category, severity, s, e in hits:
            by_category.setdefault(category, []).append((severity, s, e))
        flags = []
        for category, found in by_category.items():
            severity = min((sev for sev, _, _ in found), key=_SEVERITY_RANK.__getitem__)
            spans = [(s, e) for _, s, e in found]
            if category == "neutropenic_sepsis" and treatment:
                severity = "urgent"
                spans += [(i, i + 1) for i in treatment]
            if TRIGGERS[category].get("needs"):   # the evidence shows why the trigger counted
                spans += settings[TRIGGERS[category]["needs"]][:1]
            evidence = _evidence(raw, spans, original, offset)
            flags.append(Flag(TRIGGERS[category]["kind"], severity, category, evidence))
        return min(flags, key=_rank)


_GAP = {"IS_PUNCT": False, "IS_SPACE": False,
        "LOWER": {"NOT_IN": sorted(CLAUSE_BREAKERS | NEGATION_CUES | {"\n"})}, "OP": "?"}


# Words too common to be a good anchor (see _anchor).
_COMMON_WORDS = frozenset("""
i me my you he she it we they him her his their our the a an to of in on at for with and or but is 's s be
am 'm m are 're was were been being have has had 've ve do does did can ca could not n't nt no will 'll
would 'd get got go went gone so up out all any some this that just really very feel keep take
""".split())


def _required(sequence: list[dict]) -> list[frozenset]:
    """For each required token of a pattern, the words it accepts (each must be in the text)."""
    out = []
    for token in sequence:
        if token.get("OP") == "?":
            continue
        for attr in ("LEMMA", "LOWER"):
            values = token.get(attr, {}).get("IN") if isinstance(token.get(attr), dict) else None
            if values:
                out.append(frozenset((attr, v) for v in values))
    return out


def _anchor(sequence: list[dict]) -> list[tuple[str, str]]:
    """The values of one required token of a pattern (the one with the fewest): a text without any
    of them cannot match the pattern."""
    best: Optional[list[tuple[str, str]]] = None
    best_score: tuple = ()
    for token in sequence:
        if token.get("OP") == "?":
            continue
        for attr in ("LEMMA", "LOWER"):
            values = token.get(attr, {}).get("IN") if isinstance(token.get(attr), dict) else None
            if not values:
                continue
            score = (sum(v in _COMMON_WORDS for v in values), len(values))
            if best is None or score < best_score:
                best, best_score = [(attr, v) for v in values], score
    if best is None:
        raise ValueError(f"safety vocabulary: a pattern has no required word: {sequence}")
    return best


def _make_lookahead(lemmas: frozenset, lowers: frozenset) -> Callable:
    def stops(token) -> bool:
        return token.lower_ in lowers or token.lemma_ in lemmas
    return stops


def _rank(flag: Flag) -> tuple:
    order = CATEGORY_ORDER.index(flag.category) if flag.category in CATEGORY_ORDER else len(CATEGORY_ORDER)
    kind = len(_KIND_RANK) if flag.category in YIELDS_TO_CLINICAL else _KIND_RANK[flag.kind]
    return _SEVERITY_RANK[flag.severity], kind, order


def _is_boundary(token) -> bool:
    return (token.is_punct or token.is_space or token.lower_ in CLAUSE_BREAKERS
            or not any(ch.isalnum() for ch in token.text))


def _has_negation(tokens: Iterable) -> bool:
    return any(t.lower_ in NEGATION_CUES for t in tokens)


def _negated_before(doc, start: int, end: int) -> bool:
    """A negation cue shortly before the trigger, with only fillers between, in the same clause.
    "no chest pain or breathlessness": after "or"/"nor", up to 3 words of the item before it are
    skipped, so the cue before that item negates this one too."""
    if _has_negation(doc[start:end]):
        return False  # the negation is part of the trigger: "can't breathe", "not passed urine"
    between: list = []
    skipped = 0
    i = start - 1
    while i >= 0 and start - i - skipped <= NEGATION_WINDOW:
        token = doc[i]
        if _is_boundary(token):
            return False
        word = token.lower_
        if word in NEGATION_CUES:
            fillers = NEGATION_FILLERS
            if word == "no":
                following = between[0].lower_ if between else ""
                fillers = NEGATION_FILLERS if following in ("longer", "more") else NO_FILLERS
            return all(t.lower_ in fillers or _thinking_to(doc, t.i) for t in between)
        if word not in NEGATION_FILLERS and not _thinking_to(doc, i):
            # the previous item of a list: "no [sickness] or diarrhoea"
            if between and between[0].lower_ in ("or", "nor") and skipped < 3 and word not in _NOT_LIST_ITEMS:
                skipped += 1
                i -= 1
                continue
            return False
        between.insert(0, token)
        i -= 1
    return False


def _thinking_to(doc, i: int) -> bool:
    """ "to" after "thinking"/"thought" is a filler: "not thinking to hurt myself"."""
    return doc[i].lower_ == "to" and i > 0 and doc[i - 1].lower_ in ("thinking", "thought")


# Words that cannot be part of a listed item, so "no I have diarrhoea or sickness" is not negated.
_NOT_LIST_ITEMS = frozenset("i he she we they you it have has had 've 's am 'm is are was were been be got get "
                            "feel felt keep keeps kept can ca could will would yes".split())


def _clause_end(doc, i: int) -> int:
    while i < len(doc) and not (_is_boundary(doc[i]) and doc[i].lower_ != "but"):
        i += 1
    return i


def _resolved_after(doc, end: int) -> bool:
    """A resolving word right after a clinical trigger: "temperature is normal", "bleeding stopped",
    "was being sick but not any more". Never in a question: "is coughing up blood normal?"."""
    n = len(doc)
    i = end
    while i < n and i - end <= 4:
        word = doc[i].lower_
        after_but = i > end and doc[i - 1].lower_ == "but"
        for resolver in POST_RESOLVERS:
            k = len(resolver)
            if tuple(t.lower_ for t in doc[i:i + k]) != resolver:
                continue
            if after_but and resolver not in BUT_RESOLVERS:
                continue
            after = i + k
            at_end = after >= n or _is_boundary(doc[after]) or doc[after].lower_ in AT_END_WORDS
            if (resolver in POST_RESOLVERS_AT_END or after_but) and not at_end:
                continue
            return not _is_question(doc, end, after)
        if word == "but" and i == end:
            i += 1
            continue
        if word in NEGATION_CUES or word not in POST_FILLERS or _is_boundary(doc[i]):
            return False
        i += 1
    return False


def _is_question(doc, inside: int, after: int) -> bool:
    """The clause around a position ends with "?" or starts like a question."""
    end = _clause_end(doc, after)
    if end < len(doc) and "?" in doc[end].text:
        return True
    i = inside - 1
    while i >= 0 and not _is_boundary(doc[i]):
        i -= 1
    return i + 1 < len(doc) and doc[i + 1].lower_ in _QUESTION_STARTS


def _info_confusion(doc, start: int, end: int) -> bool:
    """ "I'm confused, who is this?" is about our message, not a symptom."""
    before = {t.lower_ for t in doc[max(0, start - 3):start]}
    if not before & _FIRST_PERSON:
        return False
    words = {t.lower_ for t in doc}
    return (bool(words & _INFO_WORDS) and "?" in doc.text) or bool(words & {"message", "text", "letter"})


def _temperatures(cleaned: str, raw, doc) -> list[tuple[int, int, float, bool]]:
    """Temperature readings: (first token, end token, degrees C, needs a temperature word but has none).
    `raw` has the character offsets of `cleaned`; `doc` has the same tokens, spelling corrected."""
    out = []
    for m in _NUMBER_RE.finditer(cleaned):
        whole, decimal = m.group(1), m.group(2) or m.group(3)
        value = float(f"{whole}.{decimal}" if decimal else whole)
        unit = (m.group(4) or "").strip()
        number_end = m.end(2) if m.group(2) else m.end(3) if m.group(3) else m.end(1)
        if not unit and _NOT_A_TEMPERATURE_RE.match(cleaned, number_end):
            continue
        span = raw.char_span(m.start(), m.end(4) if unit else number_end, alignment_mode="expand")
        if span is None:
            continue
        if "f" in unit or (95 <= value <= 110 and unit):
            if not 90 <= value <= 112:
                continue
            value = (value - 32) * 5 / 9
        if not 30 <= value <= 45:
            continue
        glued = re.search(r"[a-z]+$", cleaned[max(0, m.start() - 12):m.start()])  # "temp38"
        glued_word = bool(glued and glued.group().startswith(("temp", "fever", "thermo")))
        has_context = bool(unit) or _near_temperature_word(doc, span.start, span.end) or glued_word
        if value < 36.0:   # a low reading needs a body-temperature word: not "30 degrees out", "at 34" near "hot"
            has_context = glued_word or (bool(unit) and value >= 35.0) or \
                _near_temperature_word(doc, span.start, span.end, words=BODY_TEMPERATURE_CONTEXT)
        # "37.8" on its own is a temperature; "38" only next to a temperature word
        plain_decimal = decimal is not None and len(decimal) == 1
        needs_context = not has_context and not (value >= 37.5 and plain_decimal)
        out.append((span.start, span.end, value, needs_context))
    return out


def _near_temperature_word(doc, start: int, end: int, window: int = 8,
                           words: frozenset = TEMPERATURE_CONTEXT) -> bool:
    """A temperature word within `window` words either side, in the same sentence."""
    before = range(start - 1, max(-1, start - window - 1), -1)
    after = range(end, min(len(doc), end + window))
    for side in (before, after):
        for i in side:
            token = doc[i]
            if token.text in (".", "!", "?", ";") or "\n" in token.text:
                break
            if token.lower_ in words or token.lemma_ in words:
                return True
    return False


def _followed_by_normal(doc, end: int, normal: list[tuple[int, int]]) -> bool:
    for s, _ in normal:
        if end <= s <= end + 4 and not any(_is_boundary(t) for t in doc[end:s]):
            return True
    return False


def _evidence(raw, spans: list[tuple[int, int]], original: str, offset: int) -> tuple[str, ...]:
    """The original words of the matched token spans (overlapping spans merged), in text order."""
    chosen: list[list[int]] = []
    for s, e in sorted(set(spans)):
        if chosen and s < chosen[-1][1]:
            chosen[-1][1] = max(chosen[-1][1], e)
        else:
            chosen.append([s, e])
    out: list[str] = []
    for s, e in chosen:
        start_char = offset + raw[s].idx
        end_char = offset + raw[e - 1].idx + len(raw[e - 1].text)
        # whole words: "dont see the point", not "nt see the point"
        while start_char > 0 and (original[start_char - 1].isalnum() or original[start_char - 1] in "'’"):
            start_char -= 1
        while end_char < len(original) and (original[end_char].isalnum() or original[end_char] in "'’"):
            end_char += 1
        words = original[start_char:end_char].strip()
        if words and words not in out:
            out.append(words)
    return tuple(out)


# ---- the public interface -----------------------------------------------------------------------------
_SINGLETON: Optional[_Screen] = None
_LOCK = threading.Lock()


def _get_screen() -> _Screen:
    global _SINGLETON
    if _SINGLETON is None:
        with _LOCK:
            if _SINGLETON is None:
                _SINGLETON = _Screen()
    return _SINGLETON


def warm_up() -> None:
    """Build the pipeline now (at service start) rather than on the first text; raises if it can't."""
    _get_screen()


def _screen(text: str) -> Optional[Flag]:
    """The screen itself; may raise on a bug. `screen` is the never-raising public entry point."""
    if not isinstance(text, str):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        else:
            text = "" if text is None else str(text)
    if not text.strip():
        return None
    return _get_screen().screen(text)


def screen(text: str) -> Optional[Flag]:
    """The most serious red flag or safeguarding trigger in one inbound text, or None.

    Never raises: if the screen itself fails, the text gets a "screen_error" flag so a person reads it.
    """
    try:
        return _screen(text)
    except Exception:  # a broken screen must fail safe: a person reads the text
        log.exception("the safety screen failed; flagging the text for a person to read")
        return Flag("clinical", "soon", "screen_error", ())
