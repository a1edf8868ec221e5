"""The concern check-in: the areas a patient can name and the parsers for their replies.

The areas follow the Holistic Needs Assessment domains (../shared/reference/clinical.md); the
wording of every question lives in the practice script.
"""
from __future__ import annotations

import datetime
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional, Sequence

from bot.nlu.english import build as build_english
from bot.nlu.spelling import FuzzyIndex

# Area key -> short label used in texts and in the coordinator's view. The order is the numbered
# list the patient sees ("1 physical ... 6 lifestyle or information").
AREAS: dict[str, str] = {
    "physical": "physical health",
    "emotional": "feelings",
    "practical": "money, work, housing, transport or caring",
    "family": "family and relationships",
    "spiritual": "faith or meaning",
    "lifestyle": "lifestyle or information",
}


# =====================================================================================================
# What the parsers return.
# =====================================================================================================
#
# Everything below is pure: no database, no Rasa, no network. The three parsers read one SMS each and
# never raise on odd input (None, bytes, emoji, very long texts). Their one hard rule is the safety
# rule of the whole check-in: a reply is never read as a number (or a booking slot) the patient did
# not clearly give. When a reply could mean two things the answer is "unclear", and the caller
# re-asks once with an example, which costs the patient one more text; a wrong number costs them
# the wrong clinician.

_AREA_KEYS: tuple[str, ...] = tuple(AREAS)
_EMPTY: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True)
class ScoreReply:
    """A reply to "how much has X been worrying you this past week, 0 to 10".

    kind:
      "score"        a number 0-10 (`score`), and/or area scores (`by_area`);
      "skip"         the patient does not want to answer this question ("skip", "rather not say");
      "stop"         the patient wants no more check-in questions ("no more questions");
      "vague"        words instead of a number ("really bad", "not great"): re-ask once for a number;
      "out_of_range" a number outside 0-10 ("11", "-3", "100", "11/10");
      "unclear"      anything else, including ranges ("6-7", "7 or 8") and anything that could be
                     read as two different numbers: re-ask once with an example.
    score: the overall number for kind "score"; None when the reply only scored areas.
    by_area: area key -> 0-10 when the reply paired two or more area words with numbers
      ("pain 7 money 4" -> {"physical": 7, "practical": 4}); empty otherwise. A single area with a
      single number ("pain 7") is the answer to the question asked, so it is `score` only: callers
      treat a non-empty `by_area` as also answering the areas question.
    """

    kind: str
    score: Optional[int] = None
    by_area: Mapping[str, int] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class AreasReply:
    """A reply to "which of these have been worrying you? 1 physical ... 6 lifestyle or information".

    kind: "areas", "none" (nothing is worrying them), "skip", "stop" or "unclear".
    areas: area keys from AREAS, in AREAS order, without duplicates (kind "areas" only).
    scores: area key -> 0-10 when the patient scored areas too ("money 7 sleep 3").
    """

    kind: str
    areas: tuple[str, ...] = ()
    scores: Mapping[str, int] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class OfferedSlot:
    """One appointment time as the patient was offered it (option number = position + 1).

    starts_at is naive local (Europe/London) wall time, as written in the text the patient saw.
    kind is "phone", "video" or "face_to_face".
    """

    starts_at: datetime.datetime
    staff: str
    kind: str


@dataclass(frozen=True)
class SlotChoice:
    """A reply to a list of offered appointment times.

    kind: "pick" (`index` is the 0-based position in the offered list), "none" (none of those, other
    times please), "skip" (does not want to book now), "stop" (stop texting me) or "unclear".
    """

    kind: str
    index: Optional[int] = None


def area_for_number(n: int) -> Optional[str]:
    """The area key for a number in the list the patient sees (1 = physical ... 6 = lifestyle)."""
    if isinstance(n, bool) or not isinstance(n, int):
        return None
    return _AREA_KEYS[n - 1] if 1 <= n <= len(_AREA_KEYS) else None


def area_label(key: str) -> str:
    """The short label of an area key, as used in texts ("practical" -> "money, work, ...")."""
    return AREAS[key]


def warm_up() -> None:
    """Build the spaCy pipeline now (at action-server start) rather than on the first reply."""
    _get_pipeline()


# =====================================================================================================
# Topic words: which words name which area.
# =====================================================================================================
#
# Each entry is a word or a phrase. A plain word matches any inflection through the lookup lemmatizer
# ("bills", "worrying", "kids"); "=word" matches that exact spelling only, for words whose lemma would
# catch unrelated words (the lemma of "caring" is "care", as in "I don't care"; of "meaning", "mean").
# "word?" makes a word optional inside a phrase. Where phrases overlap, the longest wins, so
# "mental health" is feelings although "health" alone is physical, and "side effects of treatment" is
# physical although "treatment" alone is lifestyle/information.
#
# Decisions about ambiguous words (each follows the Macmillan/NCRI concerns checklist behind the HNA):
#   weight            physical ("changes in weight" is a physical concern on the checklist).
#   food              no area on its own: it can be appetite (physical), paying for it (practical) or
#                     diet (lifestyle). "food" alone is unclear, so the patient is re-asked; phrases
#                     decide: "off my food" physical, "healthy food" lifestyle, "food shopping" practical.
#   eating/appetite   physical; "diet", "healthy eating" lifestyle; "eating and drinking" physical.
#   drinking/drink    lifestyle (alcohol), except in "eating and drinking" and "drinking enough".
#   lonely/isolated   feelings ("loneliness or isolation" is an emotional concern).
#   friends           family and relationships.
#   future, dying     feelings (fear and uncertainty); "meaning", "purpose", "regret" are faith/meaning.
#   guilt             feelings.
#   treatment, results, "what happens next", questions, information: lifestyle or information.
#   health            physical; "mental health" feelings.
#   sex               physical ("sexual issues" is a physical concern).
#   caring, carer     money, work, housing, transport or caring (caring responsibilities).
#   low, down         feelings only as a mood ("feeling low", "a bit down", "low mood"); "low energy" is
#                     physical and "low on money" is money.
#   sick              physical (nausea), but "sick pay"/"sick note" are work, "sick of"/"sick and
#                     tired" are idioms, and "worried sick" is feelings.
#   god               faith, except in exclamations ("oh my god", "thank god", "god knows").
#   worry, worried    feelings, except when the worry is about something named: "worried about money"
#                     is money only, "money worries" is money only. In a 0-10 score reply the worry
#                     words only echo the question and name no area.
#   home, cancer, appointments, scans: no area on their own.

TOPICS: dict[str, tuple[str, ...]] = {
    "physical": (
        "pain", "painful", "ache", "achy", "sore", "hurt", "sleep", "sleepless", "insomnia", "nightmare",
        "=tired", "tiredness", "fatigue", "fatigued", "exhausted", "exhaustion", "energy", "low energy",
        "no energy", "eat", "eating", "appetite", "low appetite", "nausea", "nauseous", "nauseated", "=sick",
        "feel sick", "feeling sick", "being sick", "vomit", "vomiting", "breathing", "breath", "breathless",
        "breathlessness", "cough", "bowel", "bowels", "constipation", "constipated", "diarrhoea", "diarrhea",
        "bladder", "weeing", "toilet", "incontinence", "mobility", "walking", "walk", "getting around",
        "stairs", "weight", "weight loss", "skin", "itch", "itchy", "rash", "hair", "hair loss", "memory",
        "concentration", "concentrate", "forgetful", "brain fog", "sex", "sexual", "sex life", "body",
        "body image", "symptom", "side effect", "side effects of =the? treatment", "treatment side effect",
        "numbness", "numb", "tingling", "neuropathy", "swelling", "swollen", "hot flush", "hot flushes",
        "sweats", "sweating", "temperature", "fever", "infection", "mouth", "taste", "swallowing", "swallow",
        "speech", "hearing", "eyesight", "sight", "wound", "scar", "dizzy", "dizziness", "headache",
        "headaches", "cramp", "cramps", "lump", "stoma", "bleeding", "physical", "physically", "health",
        "poorly", "unwell", "illness", "eating and drinking", "eat and drink", "drinking enough",
        "off =my? food", "can't face food", "off food",
    ),
    "emotional": (
        "worry", "worries", "worried", "worrying", "anxious", "anxiety", "scared", "scary", "fear",
        "frightened", "afraid", "terrified", "panic", "panicky", "panicking", "shock", "on edge", "=low",
        "low mood", "feel low", "feeling low", "feeling =down", "feel =down", "been =down", "bit =down",
        "so =down", "very =down", "sad", "sadness", "depressed", "depression", "angry", "anger", "frustrated",
        "frustration", "irritable", "guilt", "guilty", "lonely", "loneliness", "alone", "on my own",
        "by myself", "isolated", "isolation", "mood", "moods", "stress", "stressed", "stressful", "nerves",
        "nervous", "=feelings", "emotion", "=emotions", "emotional", "emotionally", "mental health",
        "mentally", "mental", "head is a mess", "crying", "cry", "tearful", "tears", "upset", "hopeless",
        "hopelessness", "coping", "not coping", "cope", "overwhelmed", "confidence", "self esteem", "future",
        "the future", "uncertainty", "uncertain", "dying", "death", "die", "grief", "grieving",
        "bereavement", "worried sick", "sick with worry",
    ),
    "practical": (
        "money", "finance", "finances", "financial", "financially", "bill", "bills", "energy bill",
        "energy bills", "gas bill", "electric bill", "heating", "benefit", "benefits", "=pip",
        "universal credit", "=esa", "=dwp", "debt", "debts", "cash", "pay", "paying", "afford", "wage",
        "wages", "income", "low income", "pension", "savings", "cost", "costs", "cost of living", "work",
        "job", "employer", "boss", "colleague", "colleagues", "career", "self employed", "sick pay",
        "sick note", "fit note", "time off", "housing", "house", "rent", "mortgage", "landlord", "council",
        "transport", "travel", "travelling", "parking", "driving", "drive", "car", "bus", "taxi", "lifts",
        "getting to appointments", "getting to hospital", "=caring", "=carer", "=carers", "looking after",
        "look after", "childcare", "school run", "housework", "cleaning", "shopping", "food shopping",
        "cooking", "garden", "gardening", "chores", "insurance", "paperwork", "forms", "practical",
        "practically", "practicalities",
    ),
    "family": (
        "family", "partner", "husband", "wife", "hubby", "spouse", "other half", "marriage", "girlfriend",
        "boyfriend", "fiance", "fiancee", "=kids", "=kid", "children", "child", "son", "daughter", "stepson",
        "stepdaughter", "grandchildren", "grandkids", "grandson", "granddaughter", "parent", "parents", "mum",
        "mam", "mom", "mother", "dad", "father", "brother", "sister", "sibling", "nan", "grandma", "grandad",
        "grandparents", "relatives", "in-laws", "friend", "friends", "relationship", "relationships",
        "loved ones", "telling people", "telling the kids", "telling my family",
    ),
    "spiritual": (
        "faith", "loss of faith", "god", "church", "mosque", "temple", "synagogue", "gurdwara", "religion",
        "religious", "pray", "prayer", "prayers", "vicar", "imam", "rabbi", "chaplain", "spiritual",
        "spirituality", "belief", "beliefs", "soul", "afterlife", "=meaning", "meaning of life", "purpose",
        "regret", "regrets", "why me",
    ),
    "lifestyle": (
        "lifestyle", "wellbeing", "well-being", "healthy", "diet", "healthy eating", "healthy food",
        "nutrition", "exercise", "exercising", "activity", "active", "keeping active", "fitness", "fit", "gym",
        "smoking", "smoke", "cigarette", "cigarettes", "vaping", "vape", "alcohol", "drinking", "drink",
        "booze", "=info", "information", "question", "questions", "treatment", "treatment plan", "results",
        "test results", "scan results", "prognosis", "what happens next", "what's next", "what is next",
        "what to expect", "not knowing", "what's going on", "what is going on", "what's happening",
        "what is happening",
    ),
    # Not areas: idioms whose words would otherwise name one. They win as longer matches.
    "_ignore": (
        "oh my god", "oh god", "my god", "thank god", "thank goodness", "god knows", "god sake",
        "for god sake", "sick of", "sick and tired", "sick to death", "i mean", "=mean", "low on",
        "pain in the neck", "pain in the arse", "pain in the backside", "no worries", "not worried",
        "no worry", "worry about it", "worrying about it", "fit in", "work out", "to be honest",
        "looking after =myself", "look after =myself",
    ),
    # "overall 6 but pain 9": a number for everything at once, paired like an area.
    "_overall": ("overall", "in general", "generally", "all in all", "altogether", "total", "in total"),
}

# Worry words that introduce what the worry is about ("worried about money"): they are not the
# feelings area when another area follows, nor when they follow one ("money worries").
_WORRY_LEMMAS = frozenset({"worry", "worried", "worries", "worrying", "concern", "bother", "stress", "stressed",
                           "anxious", "anxiety", "scare", "scared", "nervous", "fear", "panic", "panicking",
                           "frighten", "frightened", "afraid", "terrified", "upset"})
_ABOUT_WORDS = frozenset({"about", "over", "at", "from", "re", "regarding", "with", "for", "by", "around", "of",
                          "that", "my", "the", "our", "his", "her", "their", "bit", "a", "little", "lot", "mostly",
                          "mainly"})

# Misspellings too short or too common for the fuzzy matcher, spelled out.
MISSPELLINGS: dict[str, str] = {
    "mony": "money", "muney": "money", "monies": "money", "£": "money", "finaces": "finances",
    "finacial": "financial", "benifits": "benefits", "bennefits": "benefits", "morgage": "mortgage",
    "mortage": "mortgage", "wrk": "work", "famly": "family", "fam": "family", "kidz": "kids", "hubs": "husband",
    "hubbie": "hubby", "ma": "mum", "mums": "mum", "mumz": "mum", "relos": "relatives",
    "relashionship": "relationship", "realtionship": "relationship", "anxios": "anxious", "anxous": "anxious",
    "anxiuos": "anxious", "axiety": "anxiety", "anxity": "anxiety", "feelins": "feelings", "feelngs": "feelings",
    "emotinal": "emotional", "depresed": "depressed", "lonley": "lonely", "paine": "pain", "pian": "pain",
    "slep": "sleep", "sleap": "sleep", "tierd": "tired", "tyred": "tired", "religon": "religion",
    "infos": "info", "excersise": "exercise", "exercize": "exercise", "excercise": "exercise",
}


# =====================================================================================================
# Text clean-up shared by the three parsers.
# =====================================================================================================

_CHAR_MAP = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2009": " ",
    "\u202f": " ", "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2044": "/", "\u00bd": ".5 ", "\u00bc": ".25 ",
    "\u00be": ".75 ", "\uff0c": ",", "\u3001": ",",
})
_KEYCAP_TEN = "\U0001F51F"
_MAX_LENGTH = 1000  # an answer to these questions is short; the rest of a long text is not read


def _normalise(text: Any) -> str:
    """Lower-case ASCII text with letters and digits split apart and kisses removed.

    Emoji and other symbols go (they carry no number), accents are folded ("café" -> "cafe"), circled
    and full-width digits become plain digits (NFKD), and "money7" / "7or8" / "6ish" become
    "money 7" / "7 or 8" / "6 ish" so that each number stands alone; ordinals ("3rd") and "£" stay.
    """
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = str(text)
    text = text[:_MAX_LENGTH].replace(_KEYCAP_TEN, " 10 ").translate(_CHAR_MAP)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if c.isascii() or c in "£€").lower()
    text = re.sub(r"(?<=[a-z])(?=\d)", " ", text)
    text = re.sub(r"(?<=\d)(?=[a-z])(?!(?:st|nd|rd|th)\b)", " ", text)
    # "2x a day" is a count; any other lone x is a kiss ("7 x", "thanks xx").
    text = re.sub(r"(?<=\d)\s*x(?=\s*(?:a\s|per\s|daily|weekly|times|a$))", " times", text)
    text = re.sub(r"\bx+o*x*\b", " ", text)
    text = re.sub(r"<3+(?![\d.])", " ", text)  # a heart, not "less than 3"
    return re.sub(r"\s+", " ", text).strip()


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z]+(?:'[a-z]+)?|\d+", s)


def _only(s: str, core: re.Pattern, fillers: frozenset) -> bool:
    """True when s is one match of `core` plus filler words only ("none really, thanks")."""
    m = core.search(s)
    if not m:
        return False
    rest = s[:m.start()] + " " + s[m.end():]
    return all(w in fillers for w in _words(rest))


# ---- stop and skip (shared by all three questions) --------------------------------------------------
# "stop" must be a request, not a report: "the pain won't stop" is not one.
_STOP_RE = re.compile(
    r"^\W*stop\W*$|^\W*stop (?:it|now|please|pls|thanks|thank you|asking|texting|messaging|this|these|"
    r"the questions|with the questions|sending)\b|\b(?:please|pls|plz|can you|could you|can we|just|now) stop\b|"
    r"\bstop (?:asking|texting|messaging|sending|contacting|these questions|the questions|with the questions|"
    r"bothering)\b|\bno more (?:questions|texts|messages|of these|of this)\b|\benough (?:questions|now|of this|"
    r"of these)\b|\bthat'?s enough\b|\bleave me alone\b|\bgo away\b|\bdon'?t (?:want|wanna) to (?:answer|do) "
    r"(?:these|them|any|any more|anymore|this any ?more|more|the questions|your questions|questions)\b|"
    r"\bdo ?n'?t (?:want|wanna) (?:these|any more|anymore|more) (?:questions|texts|messages)\b|"
    r"\b(?:not|won'?t be|am not|i'?m not) (?:answering|doing) (?:these|any more|anymore|this any ?more|"
    r"questions|your questions|the questions)\b|\bi'?m done\b|\bunsubscribe\b|\bopt ?out\b|^\W*end\W*$|"
    r"\bno more(?: please| thanks| thank you| now)?\W*$|^\W*(?:quit|cancel)\W*$|\bstop all\b|"
    r"\bdo(?:n'?t| not) text me\b")

_SKIP_RE = re.compile(
    # "skip"/"pass" first, or last with only "this"/"please"... after it; not "it'll pass".
    r"^\W*(?:skip|pass|skipp?|skp)\b|(?<!will )(?<!'ll )(?<!to )(?<!it )\b(?:skip|pass)(?: (?:it|this|that|"
    r"this one|that one|on this|on that|please|pls|thanks|thank you|for now|this question|that question|"
    r"for this one))*\W*$|"
    r"\b(?:i'?d |i would |would |i )?rather not\b|\b(?:i'?d |i would |would |i )?prefer not\b|"
    r"\bdo ?n'?t (?:want|wanna|wish|like) to (?:say|answer(?: (?:this|that|this one|that one|this question|"
    r"that question))?|talk about (?:it|this|that)|go into (?:it|this|that))\b|\bnot saying\b|"
    r"\bnext question\b|\bmove on\b|\bno comment\b|\bnone of your (?:business|concern)\b|"
    r"\bmind your own\b|\bprivate\b|\bpersonal\b|\bnot (?:comfortable|happy) (?:answering|saying|to say|to answer)\b|"
    r"\bnot now\b|\bnot today\b|\bcan'?t answer (?:that|this)\b")


# =====================================================================================================
# The spaCy pipeline: tokenizer, lookup lemmatizer and the topic-word PhraseMatchers. Built once, lazily.
# =====================================================================================================

@dataclass(frozen=True)
class _Tok:
    """One token of a reply, as plain data (so nothing spaCy escapes the lock)."""

    lower: str   # the word after spelling correction
    lemma: str
    start: int   # character offsets in the normalised text
    end: int


@dataclass(frozen=True)
class _Hit:
    """A topic word or phrase found in a reply."""

    key: str     # an area key, or "_overall"
    first: int   # token indices [first, last)
    last: int
    start: int   # character offsets [start, end) in the normalised text
    end: int


class _Pipeline:
    """spaCy's blank English tokenizer + lookup lemmatizer (offline, from spacy-lookups-data) and
    PhraseMatchers over TOPICS: one on lemmas (inflections: "worries", "bills", "feeling low" ->
    "feel low") and one on the exact lower-case words (the "=word" entries, and every entry as
    written, in case the table lemmatizes the entry itself oddly: "rent" -> "rend"). Phrase matching
    is a hash lookup per token, so the ~600 entries cost no more than a few. spaCy does not promise
    that one Language object may be used by several threads at once (the tokenizer keeps a cache),
    so `analyse` runs under a lock: a reply is a few words and takes well under a millisecond."""

    def __init__(self) -> None:
        from spacy.matcher import PhraseMatcher
        from spacy.tokens import Doc
        from spacy.util import filter_spans

        self._Doc = Doc
        self._filter_spans = filter_spans
        english = build_english(expect={"worries": "worry", "bills": "bill"})
        nlp = english.nlp
        self.nlp = nlp
        self.lemmatizer = nlp.get_pipe("lemmatizer")
        self._table = table = english.lemmas
        # Words the fuzzy matcher must never touch: real English words (in the lemma tables) and our own.
        self.known = frozenset(english.known | set(MISSPELLINGS.values()))
        self._lock = threading.Lock()

        self.by_lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.by_lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        targets: set[str] = set()
        for key, entries in TOPICS.items():
            lemma_docs, lower_docs = [], []
            for entry in entries:
                for variant in _variants(entry):
                    lower_docs.append(nlp.make_doc(" ".join(w.lstrip("=") for w in variant)))
                    if not any(w.startswith("=") for w in variant):
                        lemma_docs.append(self.lemmatizer(nlp.make_doc(" ".join(variant))))
                        targets.update(w for w in variant if w.isalpha())
            self.by_lower.add(key, lower_docs)
            if lemma_docs:
                self.by_lemma.add(key, lemma_docs)
        # Fuzzy targets: the plain topic words and every inflection the lemma table knows for them.
        lemmas = {self._lemma(t) for t in targets}
        targets |= {form for t in list(targets) for form in _inflections(t)
                    if table.get(form) is not None and table.get(form) in lemmas}
        self._fuzzy = FuzzyIndex(w for w in targets if len(w) >= 4)

    def _lemma(self, word: str) -> str:
        return self._table.get(word, word)

    def lemma(self, word: str) -> str:
        """The lookup lemma of a lower-case word (read-only table: safe without the lock)."""
        return self._table.get(word, word)

    def is_word(self, word: str) -> bool:
        """True for a word the lemma tables know (the table is keyed by hashes, so ask it)."""
        return word in self.known or word in self._table

    def _fix(self, word: str) -> str:
        fixed = MISSPELLINGS.get(word)
        if fixed is not None:
            return fixed
        if len(word) < 4 or not word.isalpha() or self.is_word(word):
            return word
        return self._fuzzy.lookup(word) or word

    def analyse(self, s: str) -> tuple[list[_Tok], list[_Hit]]:
        """Tokens of the normalised text and the topic hits in it (longest match wins)."""
        with self._lock:
            raw = self.nlp.make_doc(s)
            words = [self._fix(t.lower_) for t in raw]
            if any(w != t.lower_ for w, t in zip(words, raw)):
                # Each correction is one word for one token ("mony" -> "money", "£" -> "money"), so
                # token i of the corrected doc is token i of the text, with its offsets.
                doc = self._Doc(self.nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in raw])
            else:
                doc = raw
            doc = self.lemmatizer(doc)
            matches = self.by_lemma(doc) + self.by_lower(doc)
            spans = self._filter_spans([doc[s_:e_] for _, s_, e_ in matches])
            labels = {(s_, e_): self.nlp.vocab.strings[m] for m, s_, e_ in matches}
            toks = [_Tok(t.lower_, t.lemma_, r.idx, r.idx + len(r.text)) for t, r in zip(doc, raw)]
        hits = []
        for span in sorted(spans, key=lambda sp: sp.start):
            key = labels[(span.start, span.end)]
            if key != "_ignore":
                hits.append(_Hit(key, span.start, span.end, toks[span.start].start, toks[span.end - 1].end))
        return toks, hits


def _variants(entry: str) -> list[list[str]]:
    """A TOPICS entry -> its word sequences, with and without each optional ("word?") word."""
    out: list[list[str]] = [[]]
    for item in entry.split():
        if item.endswith("?") and len(item) > 1:
            out = [v + alt for v in out for alt in ([item[:-1]], [])]
        else:
            out = [v + [item] for v in out]
    return out


def _inflections(word: str) -> set[str]:
    """Regular English inflections of a word, to be checked against the lemma table."""
    stem = word[:-1] if word.endswith("e") else word
    forms = {word + "s", word + "es", word + "ed", word + "d", stem + "ing", word + "ing", stem + "ed"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return forms


_PIPELINE: Optional[_Pipeline] = None
_PIPELINE_LOCK = threading.Lock()


def _get_pipeline() -> _Pipeline:
    """The one pipeline, built on first use; double-checked so that threads never build two."""
    global _PIPELINE
    if _PIPELINE is None:
        with _PIPELINE_LOCK:
            if _PIPELINE is None:
                _PIPELINE = _Pipeline()
    return _PIPELINE


# =====================================================================================================
# Numbers in a reply.
# =====================================================================================================

_NUMBER_WORDS_WRITTEN: dict[str, Optional[int]] = {
    "zero": 0, "nil": 0, "nought": 0, "naught": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
    # Misspellings seen in texts. Only ones that are not English words: never "for", "to", "too",
    # "won", "ate", "tree" or "sex", which would turn ordinary words into numbers.
    "sevn": 7, "sevin": 7, "seben": 7, "sevan": 7, "sevem": 7, "sevven": 7, "svn": 7, "seveb": 7, "eigth": 8,
    "eigt": 8, "eihgt": 8, "eigh": 8, "aight": 8, "nien": 9, "nnine": 9, "fiv": 5, "fve": 5, "fiev": 5, "fivr": 5,
    "thre": 3, "threee": 3, "thee": None, "sixx": 6, "sixe": 6, "tenn": 10, "fuor": 4, "foor": 4, "fourr": 4,
    "twoo": 2, "zer0": 0, "zeo": 0, "zeor": 0,
}
_NUMBER_WORDS: dict[str, int] = {w: n for w, n in _NUMBER_WORDS_WRITTEN.items() if n is not None}
_COLLAPSED_NUMBER_WORDS = {re.sub(r"(.)\1+", r"\1", w): n for w, n in _NUMBER_WORDS.items() if len(w) >= 3}
# Any of these is some number far above 10 ("a million"): the reply is out of range, whatever it is.
_HUGE_RE = re.compile(r"\b(?:a |one |\d+ )?(?:hundred|thousand|million|billion|trillion|zillion|gazillion)s?\b")
_HUGE = 100
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9, "tenth": 10}

# "one" is a pronoun more often than a number ("the phone one", "one of those days").
_ONE_PRONOUN_BEFORE = frozenset({"the", "that", "this", "which", "every", "each", "any", "no", "some", "another",
                                 "other", "last", "next", "first", "only", "big", "main", "biggest", "tough",
                                 "hard", "little", "young", "loved", "second", "third", "earlier", "later",
                                 "right", "wrong", "same", "either", "neither", "good", "bad", "special", "anyone",
                                 "someone", "everyone", "one", "no-one", "ones", "a", "an"})
_ONE_PRONOUN_AFTER = frozenset({"of", "day", "days", "thing", "more", "way", "time", "off", "bit", "side", "point",
                                "person", "hand", "minute", "second", "moment", "night", "week", "month", "year",
                                "another", "that", "who", "which", "else", "i", "you", "we", "they", "he", "she",
                                "or", "is", "was", "with", "at", "on", "in", "for", "please",
                                "could", "would", "will", "can", "has", "does", "to", "and"})
# In the areas and booking replies "one" counts only where a number is clearly meant.
_ONE_NUMBER_BEFORE = frozenset({"number", "no", "num", "option", "opt", "choice", "slot", "#", "and", "or",
                                "&", "plus", "also", "+"})


def _number_words(s: str, strict_one: bool) -> str:
    """Write number words as digits ("seven" -> "7", "a hundred" -> "100"), leaving "one" alone
    where it is a pronoun. Lenient for scores ("about one"), strict for lists and slots, where
    "the money one" or "the tuesday one" are common."""
    s = _HUGE_RE.sub(f" {_HUGE} ", s)
    words = list(re.finditer(r"[a-z0-9#&+]+(?:'[a-z]+)?", s))
    out, last = [], 0
    for i, m in enumerate(words):
        word = m.group()
        value = _NUMBER_WORDS.get(word)
        if value is None and re.search(r"(.)\1", word):
            # A doubled letter ("sevenn", "fivee", "sixx"); never a real word that collapses onto a
            # number word ("teen" -> "ten"): those are excluded by the lemma tables.
            value = _COLLAPSED_NUMBER_WORDS.get(re.sub(r"(.)\1+", r"\1", word))
            if value is not None and _get_pipeline().is_word(word):
                value = None
        if value is None:
            continue
        if word == "one":
            before = words[i - 1].group() if i else None
            after = words[i + 1].group() if i + 1 < len(words) else None
            if strict_one:
                if (before is not None and before not in _ONE_NUMBER_BEFORE) \
                        or after in _ONE_PRONOUN_AFTER - {"and", "or", "please"}:
                    continue
            elif before in _ONE_PRONOUN_BEFORE and before not in {"a", "an"} or after in _ONE_PRONOUN_AFTER:
                continue
        out.append(s[last:m.start()])
        out.append(str(value))
        last = m.end()
    out.append(s[last:])
    return re.sub(r"\s+", " ", "".join(out)).strip()


@dataclass(frozen=True)
class _Num:
    """A number that may be an answer (not a date, time, phone number, amount or count)."""

    start: int
    end: int
    value: int
    explicit: bool = False   # written as a score: "7/10", "7 out of 10"


@dataclass
class _Numbers:
    nums: list[_Num]
    flags: set[str]                      # range, decimal, comparative, negative, other_scale, odd
    ignored: list[tuple[int, int]]       # spans of dates, times, amounts, counts...
    ordinals: list[_Num]                 # "2nd", "3rd" (areas: a list position)


_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may(?! be\b)|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# Words after a number that make it a count or a measurement, not an answer ("2 weeks", "3 kids").
_UNITS = (r"(?:mg|mcg|ml|g|kg|kgs|kilos?|lbs?|pounds weight|st|stone|stones|cm|mm|mins?|minutes?|secs?|seconds|"
          r"hrs?|hours?|days?|nights?|weeks?|wks?|months?|mths?|years?|yrs?|y/?o|times|tablets?|pills?|doses?|"
          r"kids?|children|child|grandchildren|grandkids|sons?|daughters?|people|miles?|cups?|cigs?|cigarettes|"
          r"drinks?|pints?|units?|glasses|sessions?|cycles?|rounds?|appointments?|appts?|steps?|floors?|"
          r"flights?|stairs|am|pm|o ?'? ?clock|oclock|nhs|nights|mornings|goes|attempts|questions|bits|things|"
          r"brothers?|sisters?|dogs?|cats?|grandsons?|granddaughters?|pets|operations?|ops|scans?|tests?|"
          r"lumps?|beds?|bedroom|bed|quid|p|pence|k|grand|percent|per ?cent|%|a day|a week|"
          r"a night|a month|per|to go|stars?)")
_NOT_COUNT = frozenset({"thanks", "cheers", "probs", "hugs", "regards", "always", "sometimes",
                        "its", "tbh", "yes", "tho", "thus", "perhaps", "anyways", "nowadays", "as", "is", "was",
                        "has", "does", "goes", "guess", "less", "unless", "tops", "ish", "this", "pls", "plus",
                        "cos", "coz", "kisses", "blessings", "xs"})
_SCALE_ECHO = re.compile(
    r"\b(?:on |in )?(?:a |the )?scale (?:of |from )?(?:\d+ ?(?:-|to) ?\d+)?|"
    r"\b(?:from |between )?[01] ?(?:-|to|and) ?10\b|"
    r"\b(?:if |with |where |as )?(?:10|0|1) ?(?:is|being|=|as|was|means?|for) (?:the )?(?:worst|highest|max|"
    r"maximum|most|top|very much|lowest|least|best|min|minimum|not at all|none|no worry|nothing|bad|good|fine|"
    r"great|terrible|awful)\b")


def _numbers(s: str, for_areas: bool, lemma) -> _Numbers:
    """Find the numbers in s that could be answers, and flag what makes a reply unreadable.

    Dates, times, phone numbers, years, amounts of money, percentages and counts ("2 weeks",
    "3 kids", "day 4 of chemo", "stage 4") are masked first and never become answers. Spans are
    masked with spaces so that offsets stay valid for the topic matcher.
    """
    buf = list(s)
    flags: set[str] = set()
    ignored: list[tuple[int, int]] = []
    nums: list[_Num] = []
    ordinals: list[_Num] = []

    def text() -> str:
        return "".join(buf)

    def mask(start: int, end: int) -> None:
        buf[start:end] = " " * (end - start)

    def each(pattern: str, handle) -> None:
        for m in list(re.finditer(pattern, text())):
            if text()[m.start():m.end()] != m.group():
                continue  # part of it was masked by an earlier match of this pass
            handle(m)
            mask(m.start(), m.end())

    def ignore(m: re.Match) -> None:
        ignored.append((m.start(), m.end()))

    def flag(name: str):
        return lambda m: flags.add(name)

    if not for_areas:
        each(_SCALE_ECHO.pattern, lambda m: None)  # "on a scale of 0-10", "10 being the worst"
    # Written as a score: "7/10", "7 out of 10", "7 outta ten", "3 of 10".
    each(r"\b(\d{1,2})\.0\b(?!\.?\d)", lambda m: nums.append(_Num(m.start(), m.end(), int(m.group(1)))))  # "5.0"
    each(r"(?<![\d./-])(\d{1,3}) ?(?:/|out of|outta|outa|out a|outof|of) ?10\b(?! ?[/.:-] ?\d)",
         lambda m: nums.append(_Num(m.start(), m.end(), int(m.group(1)), explicit=True)))
    if not for_areas:
        # Another scale ("3 out of 5") is not converted: that would be a guess.
        each(r"(?<![\d./-])\d{1,3} ?(?:out of|outta) ?\d{1,3}\b", flag("other_scale"))
        each(r"\bout of 10\b", lambda m: None)  # "out of 10, i'd say 6"
    # Phone numbers, long digit runs, full dates, years.
    each(r"(?:\+ ?)?\d(?:[ -]?\d){8,}|\d{5,}", ignore)
    each(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b", ignore)
    each(r"\b(?:19|20)\d{2}\b", ignore)  # a year; other 4-digit numbers are just too big
    # Dates with a month name, then ordinals ("the 3rd" is a date in a score reply, a list position
    # in an areas reply).
    each(rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}\b|\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?\b", ignore)
    if for_areas:
        each(r"\b(\d{1,2})(?:st|nd|rd|th)\b", lambda m: ordinals.append(_Num(m.start(), m.end(), int(m.group(1)))))
    else:
        each(r"\b\d{1,2}(?:st|nd|rd|th)\b", ignore)
    # Times: "10:30", "10.30", "3pm", "3 o'clock".
    each(r"\b\d{1,2} ?: ?\d{2}\b(?: ?[ap]m\b)?", ignore)
    each(r"\b\d{1,2}\.\d{2}\b(?: ?[ap]m\b)?", ignore)
    each(r"\b\d{1,2} ?(?:am|pm|a\.m\.?|p\.m\.?|o ?'? ?clock|oclock)\b", ignore)
    # Money and percentages.
    each(r"[£$€] ?\d+(?:[.,]\d+)?", ignore)
    each(r"\b\d+(?:[.,]\d+)? ?(?:p|quid|pounds?|pence|k|grand|%|percent|per ?cent)(?![a-z])", ignore)
    # Slashes between two small numbers: a choice ("6/7", "five/six") in a score reply; a list in an
    # areas reply. With a bigger number it is a date ("3/12").
    if not for_areas:
        def slash(m: re.Match) -> None:
            if int(m.group(1)) <= 10 and int(m.group(2)) <= 10:
                flags.add("range")
            else:
                ignored.append((m.start(), m.end()))
        each(r"\b(\d{1,2}) ?/ ?(\d{1,2})\b", slash)
    # Decimals are never rounded: "6.5" and "6 and a half" are between two answers.
    each(r"\b\d+\.\d+\b", flag("decimal"))
    each(r"\b\d+ ?(?:and|n|&|\+)? ?(?:a )?half\b|\bhalf (?:a |an |of )?\d+\b", flag("decimal"))
    if not for_areas:
        each(r"\b\d+,\d\b(?! ?\d)", flag("decimal"))  # "6,5" is a decimal comma
    # Ranges: "6-7", "6 to 7", "between 6 and 8".
    each(r"\b\d+ ?(?:-|~|to|till|until) ?\d+\b", flag("range"))
    each(r"\bbetween (?:a )?\d+ (?:and|&) (?:a )?\d+\b", flag("range"))
    # Counts and measurements, before comparatives ("the past 2 weeks").
    each(r"\b(?:day|cycle|round|stage|grade|week|ward|bed|room|bus|page|step|type|phase|session|dose|chapter|"
         r"floor|flat|house|number of|aged?|turned|turning|year|gen|covid|tier|generation|form|class|platform|"
         r"gate|junction|size|line|route|apartment|unit|chemo|radiotherapy|radio) (\d+)\b", ignore)
    each(r"\b(?:mother|mum|mam|mom|father|dad|parent|grandmother|grandma|nan|nana|grandad|grandfather|"
         r"family|one|two|all|both|each|any|none|some) of (?:the |my |our )?(\d+)\b", ignore)
    each(r"\b(?:i'?m|im|i am|am|aged?|turned|turning) (\d{2,3})\b(?! ?(?:/|out of|outta) ?10)",
         lambda m: ignored.append((m.start(), m.end())) if int(m.group(1)) >= 16 else nums.append(
             _Num(m.start(1), m.end(1), int(m.group(1)))))
    each(rf"\b\d+ ?{_UNITS}(?![a-z'])", ignore)
    for m in list(re.finditer(r"\b(\d+) ([a-z]{4,})\b", text())):
        word = m.group(2)
        if word.endswith("s") and word not in _NOT_COUNT and lemma(word) != word and not word.endswith("ss"):
            ignored.append((m.start(), m.end()))
            mask(m.start(1), m.end(1))
    if not for_areas:
        # "at 10" is a time ("seeing the nurse at 10 tomorrow") unless the patient is "at" a score
        # ("I'm at 7", "it's at 7"); "at a 7" is always a score.
        def at_time(m: re.Match) -> None:
            if not re.search(r"\b(?:i'?m|im|i am|it'?s|its|it is|it was|sitting|been|currently|now|probably|"
                             r"maybe|about|is|was|stands?|standing|stays?|staying|still|level)\s*$",
                             text()[:m.start()]):
                ignored.append((m.start(), m.end()))
                mask(m.start(), m.end())
        for m in list(re.finditer(r"\bat (\d{1,2})\b(?! ?(?:/|out of|outta) ?10)", text())):
            at_time(m)
        # "< 3", "> 8": comparisons.
        each(r"[<>]=? ?\d+", flag("comparative"))
        # A comparison after a number written as a score: "8/10 at least" (read on the unmasked text).
        if re.search(r"\b\d+ ?(?:(?:/|out of|outta|outa) ?10 ?)?(?:\+|plus\b|or more\b|or over\b|or above\b|"
                     r"or higher\b|or less\b|or under\b|or lower\b|and up\b|and above\b|at least\b|at most\b|"
                     r"at the most\b|tops\b|max\b|maximum\b|minimum\b|at a push\b)", s):
            flags.add("comparative")
        # Negative numbers, then comparisons: "-3", "minus 2"; "almost 8", "over 9", "not a 10", "9+".
        each(r"(?:^|(?<=[\s(]))(?:-|minus |negative )\d+\b", flag("negative"))
        each(r"\b(?:almost|nearly|over|under|above|below|more than|less than|at least|at most|not quite|"
             r"higher than|lower than|bigger than|greater than|upwards of|beyond|not even|not|no|past|close to|"
             r"closer to|approaching|barely|hardly|just under|just over|rather than|instead of|than|from)"
             r"(?: (?:a|an|like|about|around))? \d+\b", flag("comparative"))
        each(r"\b\d+ ?(?:\+|plus\b|or more\b|or over\b|or above\b|or higher\b|or less\b|or under\b|"
             r"or lower\b|and up\b|and above\b|at least\b|at most\b|at the most\b|tops\b|max\b|maximum\b|"
             r"odd\b|\+)", flag("comparative"))
    # What is left: whole numbers that may be answers.
    for m in re.finditer(r"(?<!\d)(?<!\d\.)\d+(?!\d|\.\d)", text()):
        if len(m.group()) > 1 and m.group().startswith("0"):
            flags.add("odd")  # "07": a leading zero is a typo or a fragment of something else
            continue
        nums.append(_Num(m.start(), m.end(), int(m.group())))
    nums.sort(key=lambda n: n.start)
    return _Numbers(nums, flags, ignored, ordinals)


# =====================================================================================================
# Pairing area words with numbers ("pain 7 money 4", "7 for money and 3 for sleep").
# =====================================================================================================

# Words that make a list rather than a pair: "2 and money" is two areas, not money scored 2.
_LIST_WORDS = frozenset({"and", "&", "+", "plus", "or", "also", "then", "n"})
_MAX_PAIR_GAP = 5  # words between an area word and its number ("pain is about a 7": 3)


def _pairs(hits: Sequence[_Hit], nums: Sequence[_Num], s: str) -> Optional[list[tuple[str, int]]]:
    """(area, number) pairs when area words and numbers strictly alternate, in either order, with
    nothing list-like between the two halves of a pair; None when they do not pair up cleanly."""
    items: list[tuple[str, Any, int, int]] = [("A", h.key, h.start, h.end) for h in hits]
    items += [("N", n.value, n.start, n.end) for n in nums]
    items.sort(key=lambda it: it[2])
    merged: list[tuple[str, Any, int, int]] = []
    for item in items:  # "pain and sleep 7": both physical, one area
        if merged and item[0] == "A" and merged[-1][0] == "A" and merged[-1][1] == item[1]:
            merged[-1] = ("A", item[1], merged[-1][2], item[3])
        else:
            merged.append(item)
    if len(merged) < 2 or len(merged) % 2 or any(a[0] == b[0] for a, b in zip(merged, merged[1:])):
        return None
    out = []
    for first, second in zip(merged[::2], merged[1::2]):
        between = _words(s[first[3]:second[2]])
        if len(between) > _MAX_PAIR_GAP or any(w in _LIST_WORDS for w in between) or "&" in s[first[3]:second[2]]:
            return None
        area, number = (first, second) if first[0] == "A" else (second, first)
        out.append((area[1], number[1]))
    return out


def _hits_after_counts(hits: list[_Hit], ignored: list[tuple[int, int]]) -> list[_Hit]:
    """Drop topic words that belong to a masked count ("2 kids", "3 weeks of pain" keeps pain)."""
    return [h for h in hits if not any(start <= h.start < end for start, end in ignored)]


# =====================================================================================================
# parse_score
# =====================================================================================================

# Words that may stand around "none" / "not at all" in a reply that still means 0 ("honestly none
# really, i'm fine thanks"). Not "much": "nothing much" is a little, not nothing.
_SCORE_FILLERS = frozenset("""about around roughly approx approximately maybe probably prob probs prolly i think
id i'd say would a an its it's it is was been has have i've ive im i'm am at like so um umm erm er hmm well
honestly honest tbh tbf really actually genuinely hi hello hiya yes yeah yep yup ok okay fine good great alright
grand coping doing thanks thank you ty cheers lol haha the past this last week weeks days these most of time
guess reckon just only currently now right solid defo definitely easily score number give rate rating put on me
my bit pretty to be dear doc dr love hun mate sorry oh ah no nope nah all anything that thats that's though tho
god goodness heavens surprisingly thankfully luckily fortunately overall worried worrying worry bothered
bothering concerned""".split())

_ZERO_RE = re.compile(
    r"\b(?:none(?: at all| whatsoever| really)?|nothing(?: at all| really)?|not (?:at all|one bit|a bit|in the "
    r"slightest|even a little|the slightest|a jot)|not (?:been )?(?:worried|worrying|bothered|concerned)(?: me)?"
    r"(?: at all)?|no worr(?:y|ies)(?: at all)?|zilch|nada|nowt|zip|naff all|sod all)\b")

_VAGUE_RE = re.compile(
    r"\b(?:bad|badly|worse|worst|terrible|terribly|awful|awfully|horrible|horrendous|dreadful|shocking|"
    r"lots?|loads?|heaps|tons|massively|massive|hugely|huge|very|extremely|really|so much|too much|great deal|"
    r"not great|not good|not too good|not too|not overly|not very|not massively|not hugely|not that|"
    r"not brilliant|not the best|constantly|constant|always|all the time|"
    r"every day|everyday|non ?stop|24/7|a bit|a little|little|slightly|somewhat|mildly|mild|moderately|moderate|"
    r"medium|average|middling|so so|so-so|meh|ok|okay|fine|alright|not bad|not too bad|not much|not really|"
    r"fair bit|quite a bit|quite a lot|quite|some|sometimes|on and off|up and down|high|low|sky high|"
    r"through the roof|off the scale|off the charts|max|maximum|unbearable|overwhelming|overwhelmed|"
    r"struggling|manageable|minimal|hardly|barely|rarely|occasionally|mostly|severe|severely|significant|"
    r"significantly|a fair amount|loads|rubbish|grim|crap|shit|shite|pants|horrid|stressful|scared|terrified|"
    r"petrified|anxious|worried sick|sick with worry|frightened|not sleeping|can'?t sleep|can'?t stop|"
    r"hard|difficult|tough|rough|getting there|coping|not coping|could be worse|could be better|"
    r"better|improving|less|more|extreme|intense|enormous|a fair bit|plenty|big time|loads|nothing much|"
    r"not loads)\b")

# "I don't know" is not a magnitude, whatever words it uses ("hard to say").
_UNSURE_RE = re.compile(r"\b(?:idk|dunno|do ?n'?t know|not sure|unsure|no idea|hard to (?:say|tell|put|know|judge)|"
                        r"can'?t (?:say|tell|put a number|decide)|difficult to (?:say|tell|put))\b")
# A number that describes an earlier time, not this past week ("it was 9 but now it's better").
_CHANGE_RE = re.compile(r"\b(?:ago|used to|at first|to start with|to begin with|previously|originally|went from|"
                        r"gone from|earlier on|before (?:that|the|my|i|diagnosis)|last month)\b")
_NOW_RE = re.compile(r"\b(?:now|today|currently|these days|at the moment|anymore|any more|since)\b")
_WAS_RE = re.compile(r"\b(?:was|were|had been)\b")
# A question about the scale is not an answer ("is 10 the worst?", "what does 0 mean").
_QUESTION_RE = re.compile(r"^\W*(?:what|whats|what's|which|does|do|how|why|is|are|should|can|could|who)\b|"
                          r"\b(?:mean|means|meant|meaning)\b.*\?|\?.*\b(?:right|correct)\b")


def parse_score(text: str) -> ScoreReply:
    """Read a reply to "how much has X been worrying you this past week, 0 to 10".

    Understands digits and number words with the words people put around them ("about a 6",
    "it's a 5 i think", "8 maybe", "6ish", "a solid 7 tbh"), "N/10" and "N out of 10", misspellings
    of number words ("sevn"), "none"/"not at all"/"nothing really" (0), areas scored together
    ("pain 7 money 4", see ScoreReply.by_area), skip and stop requests, and words instead of a
    number ("really bad": vague).

    Never guesses between numbers: ranges ("6-7", "7 or 8", "between 6 and 8", "five/six"), two
    different numbers, decimals ("6.5"), comparisons ("almost 8", "over 9", "not a 10"), other
    scales ("3 out of 5"), numbers about another time ("it was 9, better now") and questions about
    the scale ("is 10 the worst?") are "unclear". Dates, times, phone numbers, years, amounts,
    percentages and counts ("2 weeks", "3 kids", "stage 4") are never read as the answer.
    """
    s = _normalise(text)
    if not re.search(r"[a-z0-9£€]", s):
        return ScoreReply("unclear")
    if _STOP_RE.search(s):
        return ScoreReply("stop")
    s = _number_words(s, strict_one=False)
    pipeline = _get_pipeline()
    found = _numbers(s, for_areas=False, lemma=pipeline.lemma)
    nums, flags = found.nums, found.flags
    if _SKIP_RE.search(s):
        # "rather not say" with a number in it ("rather not say, maybe 6") is two answers at once.
        return ScoreReply("skip") if not nums and not flags - {"odd"} else ScoreReply("unclear")
    if flags & {"range", "decimal", "comparative", "other_scale", "odd"}:
        return ScoreReply("unclear")
    if "negative" in flags:
        return ScoreReply("out_of_range" if not nums else "unclear")
    if not nums:
        if _only(s, _ZERO_RE, _SCORE_FILLERS):
            return ScoreReply("score", 0)
        if _VAGUE_RE.search(s) and not _UNSURE_RE.search(s) and not _QUESTION_RE.search(s) and "?" not in s:
            return ScoreReply("vague")
        return ScoreReply("unclear")
    if _QUESTION_RE.search(s):
        return ScoreReply("unclear")

    # Areas scored together: worry words only echo the question here, so they name no area.
    toks, hits = pipeline.analyse(s)
    hits = [h for h in _hits_after_counts(hits, found.ignored)
            if not (h.key == "emotional" and h.last - h.first == 1 and toks[h.first].lemma in _WORRY_LEMMAS)]
    pairs = _pairs(hits, nums, s) if hits else None
    if pairs and len(pairs) >= 2:
        if any(v > 10 for _, v in pairs):
            return ScoreReply("out_of_range")
        overall = {v for k, v in pairs if k == "_overall"}
        by_area: dict[str, int] = {}
        for key, value in pairs:
            if key != "_overall":
                # Two words for one area ("pain 7 sleep 4"): the area's score is its worst worry,
                # which is what the check-in is for; each number is one the patient gave for it.
                by_area[key] = max(value, by_area.get(key, value))
        if len(overall) > 1:
            return ScoreReply("unclear")
        score = overall.pop() if overall else None
        return ScoreReply("score", score, MappingProxyType({k: by_area[k] for k in _AREA_KEYS if k in by_area}))

    values = {n.value for n in nums}
    if len(values) > 1:
        return ScoreReply("unclear")  # "7 8", "7, no 8", "my wife says 8 but i'd say 6"
    value = values.pop()
    if _CHANGE_RE.search(s) or (_WAS_RE.search(s) and _NOW_RE.search(s)):
        return ScoreReply("unclear")
    if value > 10:
        return ScoreReply("out_of_range")
    return ScoreReply("score", value)


# =====================================================================================================
# parse_areas
# =====================================================================================================

_NONE_RE = re.compile(
    r"\b(?:none|nothing|nowt|n/?a|not really|not at the moment|not right now|not currently|no worries|"
    r"no concerns|no problems|no issues|not worried|not worrying|nothing worrying|nothing at all|zero|"
    r"everything(?:'s| is) (?:fine|ok|okay|good|alright|grand)|all (?:fine|good|ok|okay)|im fine|i'm fine|"
    r"i am fine|im ok|i'm ok|i am ok|i'm okay|im okay|i am okay|doing (?:ok|okay|fine|well|alright)|nil)\b")
_NONE_WHOLE_RE = re.compile(r"^(?:no|nope|nah|fine|ok|okay|good|alright|grand|coping|not|no thanks|nothing|"
                            r"not a thing|not one|no no)$")
_ALL_RE = re.compile(
    r"\b(?:all of (?:them|those|these|it|the above|em|'em|the (?:6|list))|all (?:6|of the 6|the 6)|all the above|"
    r"everything|every thing|every one of them|the lot|all the lot|a bit of (?:everything|all)|"
    r"a little of (?:everything|all)|bit of everything|(?:1|one) to 6|1 ?- ?6|all of 'em|all 6 of them)\b")
_ALL_WHOLE_RE = re.compile(r"^all$|^all (?:except|but|apart from|bar|besides|other than)\b")
_NEGATING_AFTER = frozenset({"fine", "ok", "okay", "good", "sorted", "alright", "grand", "great", "brilliant",
                             "covered", "stable", "manageable", "under"})
_PROBLEM_WORDS = frozenset({"problem", "issue", "worry", "worries", "concern", "trouble", "bother", "worried",
                            "worrying", "bad", "an", "a"})


def _negated(hit: _Hit, toks: Sequence[_Tok]) -> bool:
    """True when an area word is said not to worry the patient: "not money", "money's fine",
    "no money worries", "family isn't a problem", "everything except money"."""
    i, skipped = hit.first - 1, 0
    # "not sleeping", "not eating", "not working" are problems, not denials.
    activity = toks[hit.first].lower.endswith("ing")
    while i >= 0 and skipped < 3:
        word = toks[i].lower
        if word in {"except", "besides", "excluding", "without"} or word in {"not", "n't"} and not activity:
            return True
        if word == "but" and i > 0 and toks[i - 1].lower in {"everything", "all", "them", "lot", "above", "it"}:
            return True  # "everything but family"
        if word == "from" and i > 0 and toks[i - 1].lower == "apart":
            return True
        if word == "than" and i > 0 and toks[i - 1].lower == "other":
            return True
        if word == "no":
            nxt = toks[hit.last].lemma if hit.last < len(toks) else ""
            return nxt in _PROBLEM_WORDS - {"an", "a", "bad"} or toks[hit.first].lemma in {"pain", "symptom"}
        if word not in {"really", "so", "too", "much", "the", "my", "our", "any", "about", "that", "with",
                        "worried", "worrying", "bothered", "concerned", "re", "by", "of", "a", "or"}:
            break
        i, skipped = i - 1, skipped + 1
    j = hit.last
    while j < len(toks) and toks[j].lower in {"is", "'s", "s", "are", "'re", "has", "have", "been", "all", "totally",
                                               "completely", "actually", "pretty", "quite", "ok", "side", "wise",
                                               "-", "stuff", "things", "situation", "currently", "really", "at",
                                               "the", "moment"}:
        if toks[j].lower == "ok":
            return True
        j += 1
    if j < len(toks):
        word = toks[j].lower
        if word in _NEGATING_AFTER:
            return True
        if word in {"not", "n't", "isn't", "aren't", "no"}:
            rest = {t.lemma for t in toks[j + 1:j + 4]} | {t.lower for t in toks[j + 1:j + 4]}
            return bool(rest & (_PROBLEM_WORDS - {"an", "a"})) or word == "no"
    return False


def _about_worry(hit: _Hit, hits: Sequence[_Hit], toks: Sequence[_Tok]) -> bool:
    """True for a worry word that only says what the worry is about: "worried about money",
    "anxious about the kids", "money worries", "work stress"."""
    if hit.key != "emotional" or toks[hit.first].lemma not in _WORRY_LEMMAS \
            and toks[hit.first].lower not in _WORRY_LEMMAS:
        return False
    for other in hits:
        if other is hit or other.key in ("emotional", "_overall"):
            continue
        if other.last == hit.first:  # "money worries"
            return True
        if other.first > hit.first and other.first - hit.last <= 4 and \
                all(t.lower in _ABOUT_WORDS for t in toks[hit.last:other.first]):
            return True
    return False


def parse_areas(text: str) -> AreasReply:
    """Read a reply to "which of these have been worrying you? 1 physical ... 6 lifestyle or
    information. Reply with numbers or words, e.g. 2 and 3, or NONE".

    Numbers 1-6 are positions in that list ("2 and 4", "2,4", "2 & 4", "1 3 5", "no. 2", "the 2nd");
    words name areas through TOPICS, matched on lemmas so that inflections and plurals count
    ("worries", "bills"), with cheap spelling correction ("mony", "famly"). Words and numbers
    mix ("1 and money"). "all", "all of them", "everything" mean all six ("everything except
    money": five); "none", "nothing", "no", "n/a" mean none; "skip"/"pass" skip; "no more questions"
    stops the check-in (it wins over anything else in the reply: the patient asked to stop).

    Areas scored in the same reply ("money 7 sleep 3") fill `scores`. A number that is not in the
    list and is not a score for a named area ("2 7", "9") makes the whole reply "unclear", so the
    patient is re-asked rather than half-read; so do ranges ("1-3") and a number next to an area
    word that could be either its list position or its score ("money 2").
    """
    s = _normalise(text)
    if not re.search(r"[a-z0-9£€]", s):
        return AreasReply("unclear")
    if _STOP_RE.search(s):
        return AreasReply("stop")
    s = _number_words(s, strict_one=True)
    for word, n in _ORDINAL_WORDS.items():  # "the second one" -> "the 2nd one"; not "at first"
        s = re.sub(rf"(?<!\bat )\b{word}\b(?! (?:of all|thing|time|off|and foremost|things))",
                   f"{n}{'st' if n == 1 else 'nd' if n == 2 else 'rd' if n == 3 else 'th'}", s)
    s = re.sub(r"(?:\b(?:no|num|number|nos|option)\.? ?|#)(?=\d)", " ", s)  # "no. 2", "#2": the 2 alone
    s = re.sub(r"\b(?:all|none|both|either|any) (?:of )?(?:the |these |those |them )?(?:6|1 ?- ?6)\b",
               lambda m: m.group().split()[0] + (" of them" if m.group().startswith(("all", "none")) else ""), s)
    pipeline = _get_pipeline()
    found = _numbers(s, for_areas=True, lemma=pipeline.lemma)
    toks, hits = pipeline.analyse(s)
    hits = [h for h in hits if h.key != "_overall"]
    hits = [h for h in hits if not _about_worry(h, hits, toks)]
    excluded = {h.key for h in hits if _negated(h, toks)}
    named = [h for h in hits if not _negated(h, toks)]
    pairable = _hits_after_counts(named, found.ignored)

    if found.flags & {"range", "decimal", "odd"}:
        return AreasReply("unclear")
    # "all except 5", "2 and 3 not 4": numbers the patient rules out.
    ruled_out = {m.start(1) for m in re.finditer(
        r"\b(?:except|apart from|other than|but not|not|besides|bar|excluding|(?:everything|all|them) but)"
        r"(?: (?:number|no))? (\d)\b", s)}
    excluded |= {_AREA_KEYS[int(s[p]) - 1] for p in ruled_out if 1 <= int(s[p]) <= 6}
    found.nums = [num for num in found.nums if num.start not in ruled_out]
    refs: list[int] = [o.value for o in found.ordinals]
    scores: dict[str, int] = {}
    nums = found.nums
    if nums:
        pairs = _pairs(pairable, nums, s) if pairable else None
        if pairs is not None:
            list_numbers = all(v == _AREA_KEYS.index(k) + 1 for k, v in pairs)
            scored = any(v > 6 for _, v in pairs) or any(n.explicit for n in nums)
            if scored:
                if any(v > 10 for _, v in pairs):
                    return AreasReply("unclear")
                for key, value in pairs:
                    scores[key] = max(value, scores.get(key, value))
            elif list_numbers:
                refs += [v for _, v in pairs]
            else:
                return AreasReply("unclear")  # "money 2": the 2nd area, or money scored 2?
        else:
            if any(n.explicit or not 1 <= n.value <= 6 for n in nums):
                return AreasReply("unclear")
            refs += [n.value for n in nums]
    if any(not 1 <= r <= 6 for r in refs):
        return AreasReply("unclear")

    keys = {_AREA_KEYS[r - 1] for r in refs} | {h.key for h in named}
    rest = _words(s)
    if _ALL_RE.search(s) or _ALL_WHOLE_RE.match(" ".join(w for w in rest if w not in {"really", "of", "them",
                                                                                       "thanks", "lol", "x"})):
        if not _NONE_RE.search(s):
            keep = set(_AREA_KEYS) - (excluded - {h.key for h in named})
            return AreasReply("areas", tuple(k for k in _AREA_KEYS if k in keep),
                              MappingProxyType({k: scores[k] for k in _AREA_KEYS if k in scores}))
    if keys:
        return AreasReply("areas", tuple(k for k in _AREA_KEYS if k in keys),
                          MappingProxyType({k: scores[k] for k in _AREA_KEYS if k in scores}))
    core = " ".join(w for w in rest if w not in {"thanks", "thank", "you", "lol", "x", "really", "just", "i", "am",
                                                 "im", "i'm", "all", "sorry", "honestly", "tbh", "so", "well",
                                                 "haha", "ha", "hah", "hi", "hello", "um", "erm", "oh"})
    if _NONE_RE.search(s) or _NONE_WHOLE_RE.match(core):
        return AreasReply("none")
    if _SKIP_RE.search(s):
        return AreasReply("skip")
    return AreasReply("unclear")


# =====================================================================================================
# parse_slot_choice
# =====================================================================================================

_WEEKDAY_PATTERNS: tuple[str, ...] = (
    r"mon|mondays?|mnday|monday's",
    r"tue|tues|tuesdays?|tuseday|teusday|tusday|tueday|tuesday's|tuesd",
    r"wed|weds|wednesdays?|wensday|wednsday|wedensday|wendsday|wednes|wednesday's|wedsday",
    r"thu|thur|thurs|thursdays?|thurday|thirsday|thrusday|thursday's",
    r"fri|fridays?|fryday|friday's",
    r"sat|saturdays?|saturday's",
    r"sun|sundays?|sunday's",
)
_WEEKDAY_RE = re.compile(r"\b(?:" + "|".join(f"(?P<d{i}>{p})" for i, p in enumerate(_WEEKDAY_PATTERNS)) + r")\b")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_HOUR_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
               "ten": 10, "eleven": 11, "twelve": 12}
_HOUR = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    # Order matters: "video call" is video, "face time" is video, "face to face" is at the practice.
    ("video", r"\b(?:video(?: call)?|vid|zoom|teams|face ?time|skype|camera|webcam|online|whatsapp video)\b"),
    ("face_to_face", r"\b(?:in person|face to face|face-to-face|f2f|f to f|at the (?:practice|surgery|clinic)|"
                     r"practice|surgery|clinic|come in|pop in|go in|coming in|in the flesh|appointment at|"
                     r"visit|the centre|health cent(?:re|er))\b"),
    ("phone", r"\b(?:(?:tele)?phone(?: call)?|phonecall|call|ring|on the phone|over the phone|tel)\b"),
)
# Phrases with a kind word that do not choose a slot of that kind.
_NOT_KIND_RE = re.compile(r"\b(?:(?:i'?ll|i will|will|i'?d rather|i can) (?:call|ring|phone|contact)(?: (?:you|them|"
                          r"back|the (?:practice|surgery)))?|(?:call|ring|phone|text) (?:me|you|them|back|the "
                          r"(?:practice|surgery))|calling (?:you|the)|get to the (?:practice|surgery))\b")
_STRONG_NONE_RE = re.compile(
    r"\b(?:none|neither|nothing suits|nothing works|none of (?:them|those|these)|not (?:any|either) of (?:them|those|"
    r"these)|other (?:times?|days?|dates?|slots?|appointments?|ones?|options?)|(?:a |any )?different (?:times?|days?|"
    r"dates?|slots?)|another (?:day|date|slot|time)|(?:can'?t|cannot|can not|won'?t be able to|couldn'?t) "
    r"(?:do|make|manage|attend|get to) (?:any|either|them|those|these|none)|(?:don'?t|doesn'?t|do not|does not) "
    r"suit|(?:don'?t|doesn'?t) work for me|(?:later|another) date|later in the (?:week|month)|something else|"
    r"any (?:other|others|more)|anything else|more (?:times|options|slots|dates)|"
    r"none (?:of them )?(?:are )?any good)\b")
_NONE_ALONE_RE = re.compile(r"^(?:no|nope|nah|no sorry|sorry no|no none|none|neither)$")
_SLOT_SKIP_RE = re.compile(
    r"\b(?:do ?n'?t (?:want|need|wanna) (?:to book|an appointment|one|a call|an app|to|it|any)|not now|"
    r"not at the moment|not right now|maybe later|later on|ask me later|not yet|no thanks|no thank you|"
    r"nah thanks|i'?ll (?:call|ring|phone|contact)|i will (?:call|ring|phone|contact)|not interested|"
    r"changed my mind|no need|don'?t bother|not bothered|(?:leave|forget) it|rather not|prefer not|"
    r"not (?:for|right) now|i'?m ok thanks|i'?m fine thanks|some other time|maybe another time)\b|^later\W*$")
_UNDECIDED_RE = re.compile(r"\b(?:any(?: one)?(?: of them| of those| is fine| will do)?|either|whichever|"
                           r"don'?t mind|do not mind|both|all of them|up to you|you choose|you pick)\b")
_AFFIRM_RE = re.compile(r"^(?:yes|yeah|yep|yup|ok|okay|sure|please|yes please|book it|book me in|that'?s fine|"
                        r"fine|perfect|great|lovely|that one|that works|sounds good|that'?s great|go on then|"
                        r"that'?s perfect|that'?s good|brilliant|ideal|fab)(?: (?:please|thanks|thank you|"
                        r"x|lol))*$")
_NEGATORS = frozenset({"not", "n't", "cant", "can't", "cannot", "never", "except", "without", "dont", "don't",
                       "won't", "wont", "neither", "nor"})
_BAD_AFTER_RE = re.compile(r"^\W*(?:is |'s |s |are |would be |will be )?(?:no good|not good|bad|out|no use|"
                           r"too early|too late|difficult|tricky|awkward|(?:does|do|wo|won)?n'?t (?:work|suit)|"
                           r"impossible|not possible|a no)\b")


def _is_negator(word: str) -> bool:
    """A word that rules out what follows it ("not the phone one", "can't do tuesday")."""
    return word in _NEGATORS or word in {"couldn't", "can't", "won't", "don't", "isn't"}


def parse_slot_choice(text: str, offered: Sequence[OfferedSlot]) -> SlotChoice:
    """Read a reply to a numbered list of appointment times.

    A slot can be chosen by its option number ("2", "option 2", "number two", "2 please"), position
    ("the second", "second one", "the last one"), weekday ("tues", "the wednesday one"), time ("the
    10:30", "10.30", "3pm", "half ten"), date ("3 dec", "the 4th"), kind ("the phone one", "video",
    "at the practice", "face to face") or person ("the one with Priya"), and by several at once
    ("the tuesday one at 10:30"). All the clues in a reply must point to exactly one offered slot;
    a clue that matches two slots, clues that disagree, an option number that does not exist ("4"
    of three), two choices ("1 or 2") or no choice ("any is fine", "either") give "unclear".
    Clues the patient rules out ("not the phone one", "can't do tuesday") only remove slots.

    "3rd" (and "the second", ...) could be an option number or a day of the month: when both
    readings give a slot and they differ, the reply is unclear; when only one reading gives a slot,
    that one counts ("the 4th" of three options is Wed 4 Dec). A number right after a weekday
    ("tue 3rd") is always the date.

    "none of those", "neither", "none", "no", "other times", "can't do any of those": "none".
    "not now", "no thanks", "maybe later", "I'll ring them": "skip" (no booking now). "stop": "stop".
    """
    s = _normalise(text)
    n = len(offered)
    if not re.search(r"[a-z0-9]", s) or n == 0:
        return SlotChoice("unclear")
    if _STOP_RE.search(s):
        return SlotChoice("stop")
    s = re.sub(r"(?:\b(?:no|num|number|nos|option|opt|choice|slot)\.? ?|#)(?=\d)", " ", s)  # "no. 2" is 2
    s = _number_words(s, strict_one=True)  # "two please"; not "the tuesday one"

    signals: list[tuple[frozenset, tuple[int, int]]] = []   # (matching indices, span)
    buf = list(s)

    def text_now() -> str:
        return "".join(buf)

    def add(indices: Iterable[int], start: int, end: int) -> None:
        signals.append((frozenset(indices), (start, end)))
        buf[start:end] = " " * (end - start)

    def hour(word: str) -> int:
        return int(word) if word.isdigit() else _HOUR_WORDS[word]

    def at_time(h: int, m: int, ampm: Optional[str]) -> set[int]:
        if ampm == "pm" and h < 12:
            h += 12
        elif ampm == "am" and h == 12:
            h = 0
        hours = {h} if ampm or h >= 12 else {h, h + 12}
        return {i for i, o in enumerate(offered) if o.starts_at.hour in hours and o.starts_at.minute == m}

    def on_day(day: int, month: Optional[int] = None) -> set[int]:
        return {i for i, o in enumerate(offered)
                if o.starts_at.day == day and (month is None or o.starts_at.month == month)}

    def option(k: int) -> set[int]:
        return {k - 1} if 1 <= k <= n else set()

    def dual(k: int) -> set[int]:
        """An ordinal that may be an option number or a day of the month."""
        as_option, as_day = option(k), on_day(k)
        if as_option and as_day:
            return as_option if as_option == as_day else set()
        return as_option or as_day

    # Weekday followed by a day number: a date ("tue 3", "tuesday the 3rd").
    for m in list(re.finditer(_WEEKDAY_RE.pattern + r" (?:the )?(\d{1,2})(?:st|nd|rd|th)?\b(?! ?[:.] ?\d)"
                              r"(?! ?(?:am|pm|o'?clock))", text_now())):
        wd = next(int(k[1:]) for k, v in m.groupdict().items() if v)
        add({i for i in on_day(int(m.groups()[-1])) if offered[i].starts_at.weekday() == wd}, m.start(), m.end())
    # Dates with a month: "3 dec", "3rd of december", "dec 3", "3/12".
    month_re = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    for m in list(re.finditer(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{month_re}\b", text_now())):
        add(on_day(int(m.group(1)), _MONTHS.index(m.group(2)) + 1), m.start(), m.end())
    for m in list(re.finditer(rf"\b{month_re} (?:the )?(\d{{1,2}})(?:st|nd|rd|th)?\b(?! ?[:.] ?\d)", text_now())):
        add(on_day(int(m.group(2)), _MONTHS.index(m.group(1)) + 1), m.start(), m.end())
    for m in list(re.finditer(r"\b(\d{1,2})/(\d{1,2})(?:/\d{2,4})?\b", text_now())):
        add(on_day(int(m.group(1)), int(m.group(2))), m.start(), m.end())
    # Times.
    for m in list(re.finditer(r"\b(\d{1,2}) ?[:.] ?(\d{2}) ?(am|pm)?\b", text_now())):
        add(at_time(int(m.group(1)), int(m.group(2)), m.group(3)), m.start(), m.end())
    for m in list(re.finditer(r"\b([01]\d|2[0-3])([0-5]\d)\b", text_now())):  # "1030", "1500"
        add(at_time(int(m.group(1)), int(m.group(2)), None), m.start(), m.end())
    for m in list(re.finditer(rf"\b{_HOUR} ?(am|pm|o ?'? ?clock|oclock)\b", text_now())):
        ampm = m.group(2) if m.group(2) in ("am", "pm") else None
        add(at_time(hour(m.group(1)), 0, ampm), m.start(), m.end())
    for m in list(re.finditer(rf"\bhalf (?:past )?{_HOUR}\b(?: ?(am|pm))?", text_now())):
        add(at_time(hour(m.group(1)), 30, m.group(2)), m.start(), m.end())
    for m in list(re.finditer(rf"\b(?:a )?quarter (past|to) {_HOUR}\b(?: ?(am|pm))?", text_now())):
        h = hour(m.group(2))
        add(at_time(h, 15, m.group(3)) if m.group(1) == "past" else at_time((h - 1) or 12, 45, m.group(3)),
            m.start(), m.end())
    for m in list(re.finditer(rf"\b{_HOUR} (15|30|45|40 5)\b", text_now())):  # "ten thirty" -> "10 30"
        minute = {"15": 15, "30": 30}.get(m.group(2), 45)
        add(at_time(hour(m.group(1)), minute, None), m.start(), m.end())
    for m in list(re.finditer(r"\b(?:at|after|from) (\d{1,2})\b(?! ?[:.] ?\d)", text_now())):  # "thursday at 2"
        add(at_time(int(m.group(1)), 0, None), m.start(1), m.end(1))
    for m in list(re.finditer(r"\b(?:12 )?(?:noon|midday)\b", text_now())):
        add(at_time(12, 0, "pm"), m.start(), m.end())
    for m in list(re.finditer(r"(?<!\bgood )(?<!\bthis )\b(?:the )?(morning|afternoon|evening)(?: one| slot| "
                              r"appointment)?\b|\bthe (am|pm)(?: one| slot| appointment)?\b", text_now())):
        part = m.group(1) or m.group(2)
        add({i for i, o in enumerate(offered)
             if (part in ("morning", "am") and o.starts_at.hour < 12)
             or (part in ("afternoon", "pm") and 12 <= o.starts_at.hour < 17 + (part == "pm") * 7)
             or (part == "evening" and o.starts_at.hour >= 17)}, m.start(), m.end())
    # Weekdays.
    for m in list(_WEEKDAY_RE.finditer(text_now())):  # "tues", "the wednesday one", "next tuesday"
        wd = next(int(k[1:]) for k, v in m.groupdict().items() if v)
        add({i for i, o in enumerate(offered) if o.starts_at.weekday() == wd}, m.start(), m.end())
    # Earliest / latest.
    for m in list(re.finditer(r"\b(?:earliest|soonest|first available|first free|latest)\b", text_now())):
        times = [o.starts_at for o in offered]
        target = max(times) if m.group() == "latest" else min(times)
        add({i for i, t in enumerate(times) if t == target}, m.start(), m.end())
    # Kinds ("the phone one"), after removing phrases like "call me" that choose nothing.
    for m in list(_NOT_KIND_RE.finditer(text_now())):
        buf[m.start():m.end()] = " " * (m.end() - m.start())
    for kind, pattern in _KIND_PATTERNS:
        for m in list(re.finditer(pattern, text_now())):
            add({i for i, o in enumerate(offered) if o.kind == kind}, m.start(), m.end())
    # People ("the one with Priya", "dr shah").
    pipeline = _get_pipeline()
    names: dict[str, set[int]] = {}
    for i, o in enumerate(offered):
        for word in re.findall(r"[a-z]+", _normalise(o.staff)):
            if len(word) >= 2 and word not in {"dr", "doctor", "nurse", "mr", "mrs", "ms", "miss", "mx", "the",
                                               "and", "care", "coordinator", "social", "prescriber", "link",
                                               "worker", "health", "coach", "pharmacist", "practice", "with"}:
                names.setdefault(word, set()).add(i)
    for word, indices in names.items():
        for m in list(re.finditer(rf"\b{re.escape(word)}(?:'s)?\b", text_now())):
            before = text_now()[:m.start()].split()[-1:] or [""]
            # A name that is also an English word ("Will", "Mark", "Hope") counts only after a cue.
            if pipeline.is_word(word) and before[0] not in {"with", "dr", "doctor", "nurse", "see", "seeing", "to"}:
                continue
            add(indices, m.start(), m.end())
    # Positions and option numbers, last: "the second", "2nd", "3", "two please", "the last one".
    for m in list(re.finditer(r"\b(?:the )?(?:last|final|bottom)(?: one| option| slot| time)?\b", text_now())):
        if not re.match(r"\b(?:the )?last (?:week|time|month|year|night)", m.group()):
            add({n - 1}, m.start(), m.end())
    for m in list(re.finditer(r"\b(?:the )?(?:middle)(?: one)?\b", text_now())):
        add({1} if n == 3 else set(), m.start(), m.end())
    for word, k in _ORDINAL_WORDS.items():
        for m in list(re.finditer(rf"(?<!\bat )\b{word}\b(?! (?:of all|thing|time|and foremost))", text_now())):
            add(dual(k), m.start(), m.end())
    for m in list(re.finditer(r"\b(on (?:the )?)?(\d{1,2})(?:st|nd|rd|th)\b", text_now())):
        day = int(m.group(2))  # "on the 3rd" is a date; "the 3rd" may be either
        add(on_day(day) if m.group(1) else dual(day), m.start(), m.end())
    for m in list(re.finditer(r"(?<![\d.:/£$-])\b(\d{1,3})\b(?![.:/]\d)", text_now())):
        add(option(int(m.group(1))), m.start(), m.end())

    # Which clues are ruled out by the patient: "not the phone one", "tuesday's no good".
    positive: list[frozenset] = []
    negative: list[frozenset] = []
    for matched, (start, end) in signals:
        before = _words(s[:start])[-2:]
        ruled_out = bool(before) and (_is_negator(before[-1]) or (
            len(before) == 2 and _is_negator(before[0]) and before[1] in {"do", "make", "manage", "attend", "the",
                                                                            "on", "at", "that", "a", "really"}))
        if ruled_out or _BAD_AFTER_RE.match(s[end:]):
            negative.append(matched)
        else:
            positive.append(matched)

    strong_none = bool(_STRONG_NONE_RE.search(s))
    if not positive:
        all_ruled_out = frozenset().union(*negative) if negative else frozenset()
        if strong_none or _NONE_ALONE_RE.match(s) or (negative and len(all_ruled_out) == n):
            return SlotChoice("none")
        if _SLOT_SKIP_RE.search(s):
            return SlotChoice("skip")
        if n == 1 and _AFFIRM_RE.match(s):
            return SlotChoice("pick", 0)
        return SlotChoice("unclear")
    if strong_none or _SLOT_SKIP_RE.search(s) or _UNDECIDED_RE.search(s):
        return SlotChoice("unclear")  # a choice and a refusal, or no real choice, in one reply
    chosen = set(range(n))
    for matched in positive:
        chosen &= matched
    for matched in negative:
        chosen -= matched
    if len(chosen) == 1:
        return SlotChoice("pick", chosen.pop())
    return SlotChoice("unclear")

