"""Context that can set aside a rule hit of the safety screen (`bot.safety.rules`): what is not happening now.

The rules find red-flag words; this module asks whether the text itself says that the event is
over and in the past, explained, or a figure of speech. Three generic cases, each narrow on purpose
(a miss costs far more than a false alarm, so when in doubt the hit stays):

1. **Past and resolved** ("had a temp last week after chemo, all good now", "used to self harm as
   a teen, nothing for years"). A hit is set aside only when ALL of these hold:
   - its sentence has a *distant* time marker (last week / in March / 3 months ago / back in 2019 /
     after cycle 1 / before diagnosis ...; for safeguarding only years-old ones: "years ago",
     "used to", "as a teenager", "when I was first diagnosed", "my ex");
   - its own clause has no *recent or ongoing* marker (today, tonight, yesterday, last night,
     this morning, since, still, keeps, at the moment ...);
   - the text says, after the hit and not negated or asked, that it is over ("fine now",
     "all clear", "settled", "nothing since", "back to normal", "much better", a normal reading);
   - nothing in the text says it is back ("again", "it's back", "worse", "still", "returned",
     "relapsed"; for safeguarding also "lately", "recently", "sometimes", "urges").
2. **Fever after a vaccine** ("bit feverish after my flu jab, not on chemo now"). A fever hit in
   the same or a neighbouring sentence as a vaccine word (jab, vaccine, booster ...) is set aside
   when no anti-cancer treatment is current (every mention is negated, "no chemo", or finished long
   ago, "radiotherapy finished in June") and either a treatment is said to be over or the fever is
   said to be over; never with a reading of 38.0 C or more unless it is over, never when it is back.
   On treatment any fever can be neutropenic sepsis, so a jab explains nothing there.
3. **"Would kill me" hypotheticals** ("my mum would kill me if I missed it"): a threat to kill,
   strangle or throttle that is hypothetical ("would"/"'d", or any modal with a laugh: "lol",
   "haha", an emoji) made by a parent, sibling, child or friend is set aside. Never when the one
   who threatens is a partner or unknown ("he", "my husband"): that is where domestic abuse lives.

Only the hit is set aside; every other hit in the text still counts, so "my mum would kill me if
she knew I'd been cutting again" still flags self-harm.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_SEASONS = "spring summer autumn fall winter christmas xmas easter".split()
_DAYS = ("monday tuesday wednesday thursday friday saturday sunday "
         "mon tue tues wed weds thu thur thurs fri sat sun").split()
_LONG_UNITS = frozenset("week weeks wk wks month months year years yr yrs ages while long decade decades".split())
_YEAR_UNITS = frozenset("year years yr yrs ages long decade decades".split())
_YEAR = re.compile(r"^(19|20)\d\d$")

# Distant time markers (lower-case word sequences). "#" stands for any number word or digits.
_CLINICAL_PAST = [
    *[("last", w) for w in ["week", "wk", "month", "year", "weekend", "time", "cycle", "round", *_SEASONS, *_DAYS]],
    *[("in", m) for m in _MONTHS if m != "may"], ("in", "may", ","), *[("in", "the", s) for s in _SEASONS],
    *[("in", s) for s in _SEASONS],
    *[("at", s) for s in _SEASONS], ("at", "the", "start"), ("at", "the", "beginning"), ("back", "in"),
    ("a", "while", "back"), ("long", "time", "ago"), ("years", "back"), ("months", "back"), ("weeks", "back"),
    ("yrs", "back"),
    *[("first", w) for w in ["week", "cycle", "round", "time", "dose", "lot", "session", "treatment", "chemo", "op",
                             "operation", "infusion"]],
    ("cycle", "#"), ("round", "#"), ("cycle", "one"), ("round", "one"), ("once",), ("in", "the", "past"),
    ("previously",), ("before", "diagnosis"), ("before", "my", "diagnosis"), ("before", "surgery"),
    ("before", "my", "op"), ("before", "the", "op"), ("before", "they", "found"), ("before", "i", "was"),
    ("when", "i", "was"), ("when", "he", "was"), ("when", "she", "was"), ("used", "to"), ("as", "a", "teen"),
    ("as", "a", "teenager"), ("as", "a", "child"), ("as", "a", "kid"), ("as", "a", "lass"), ("as", "a", "lad"),
]
_SAFEGUARDING_PAST = [
    ("used", "to"), ("when", "i", "was"), ("when", "he", "was"), ("when", "she", "was"), ("as", "a", "teen"),
    ("as", "a", "teenager"), ("as", "a", "child"), ("as", "a", "kid"), ("as", "a", "lass"), ("as", "a", "lad"),
    ("back", "in"), ("years", "back"), ("yrs", "back"), ("long", "time", "ago"), ("in", "the", "past"),
    ("before", "diagnosis"),
    ("before", "my", "diagnosis"), ("once",), ("my", "ex"), ("first", "husband"), ("first", "wife"),
    ("previous", "partner"), ("long", "gone"),
]
# Words that keep an event in the present in the hit's own clause.
_RECENT = [("today",), ("tonight",), ("yesterday",), ("yday",), ("yest",), ("last", "night"), ("this", "morning"),
           ("this", "afternoon"), ("this", "evening"), ("earlier",), ("since",), ("still",), ("keeps",), ("keep",),
           ("currently",), ("at", "the", "moment"), ("at", "the", "mo"), ("right", "now"), ("atm",), ("rn",),
           ("hours", "ago"), ("hour", "ago"), ("hrs", "ago"), ("mins", "ago"), ("minutes", "ago"), ("days", "ago"),
           ("all", "day"), ("all", "night"), ("non", "stop"), ("started",), ("starting",), ("now",)]
# Words saying that an event is back, or that things are getting worse.
_RECURRENCE = [("again",), ("worse",), ("worsening",), ("returned",), ("recurred",), ("recurring",),
               ("relapsed",), ("relapse",), ("flared",), ("flare",), ("it", "'s", "back"), ("its", "back"),
               ("is", "back"), ("are", "back"), ("came", "back"), ("come", "back"), ("coming", "back"),
               ("comes", "back"), ("back", "up"), ("back", "again"), ("still",)]
_SAFEGUARDING_RECURRENCE = [("lately",), ("recently",), ("sometimes",), ("urge",), ("urges",), ("tempted",),
                            ("thinking", "about", "it"), ("these", "days")]
_STILL_OK = frozenset("fine ok okay good normal better up on happy going well alright".split())

# Saying that something is over. A few need "now" (or "since") next to them.
_GOOD = frozenset("fine ok okay normal good better well safe clear home great alright stronger settled "
                  "right sorted grand steady stable".split())
_RESOLVED = [tuple(phrase.split()) for phrase in """
all good|all fine|all clear|all sorted|all normal|all ok|all okay|back to normal|back to himself|back to herself
back to myself|back to themselves|back to my normal|nothing since|none since|not since|no more|no problems|no probs
no bother|no issues|sorted|settled|resolved|cleared|recovered|went away|gone away|went down|came down|gone down
then fine|then ok|much better|way better|loads better|lot better|better place|good place|feeling stronger
on top of it|under control|it passed|passed by|doing well|doing alright|doing ok|doing fine|doing good|paid back
paid it back|paid it all back|fixed it|it went|did the trick|been fine|been ok|been good|not now|not new
same as always|same as ever|right as rain|nowhere near|not an issue|not a problem|n't come back|not come back
never came back|n't had one since|n't for over|n't for #|temperature normal|temp normal|temperature is normal
temp is normal|temperature 's normal|temp 's normal|i 'm ok|i am ok|im ok|i 'm fine|i am fine|im fine|i 'm safe
im safe|am safe|i 'm home|am home""".replace("\n", "|").split("|") if phrase.strip()]
_GONE_THEN = frozenset("now after by away overnight this today within completely in the and".split())
_NOT_OVER_AFTER = frozenset("but except apart ish - although though".split())   # "fine but ...", "ok ish"
_NOW_FILLERS = frozenset("it 's is its all i 'm am im he she everything totally completely and".split())
_NEGATORS = frozenset("not n't nt never no".split())

_VACCINE = frozenset("jab jabs vaccine vaccines vaccination vaccinations vaccinated booster boosters immunisation "
                     "immunisations immunization immunizations".split())
_VACCINE_SHOT = frozenset("flu covid shingles pneumonia pneumococcal".split())
_TREATMENT_EXTRA = frozenset("treatment treatments".split())
_OVER = frozenset("finished finish ended over completed stopped".split())

_KILL = frozenset("kill murder strangle throttle strangled throttled".split())
_HYPOTHETICAL = frozenset("would 'd d".split())
_MODAL = frozenset("would 'd d will 'll ll going gon na gonna".split())
_LAUGH = frozenset("lol lmao lmfao haha hahaha hehe jk joking kidding 😂 🤣 😆 😅 😜 😝".split())
_NOT_PARTNER = frozenset("mum mam mom mother mums dad father dads nan nana gran granny grandma grandad grandpa brother "
                         "bro sister sis son daughter kids children friend friends bff mate mates boss auntie aunt "
                         "uncle cousin neighbour nephew niece".split())
_PARTNER = frozenset("he him husband hubby partner boyfriend bf wife girlfriend gf fiance fiancé ex spouse fella "
                     "bloke missus".split())
_SENTENCE_END = frozenset(". ! ? ;".split())


@dataclass
class Context:
    """What a whole text says about time, resolution, vaccines and treatment (built once per text)."""
    words: list[str]
    sentence: list[int]                 # sentence number of each token
    clause: list[int]                   # clause number of each token (sentences split at , and but ...)
    resolutions: list[int] = field(default_factory=list)   # token index of each "it is over"
    resolving_now: set[int] = field(default_factory=set)    # each "now" that is part of one ("all fine now")
    recurrence: bool = False
    safeguarding_recurrence: bool = False
    vaccine_sentences: set[int] = field(default_factory=set)
    treatment_active: bool = False
    treatment_over: bool = False
    max_reading: float = 0.0


def _match(words: Sequence[str], i: int, phrase: Sequence[str]) -> bool:
    if i + len(phrase) > len(words):
        return False
    for w, p in zip(words[i:i + len(phrase)], phrase):
        if p == "#":
            if not (w.isdigit() or w in ("one", "two", "three")):
                return False
        elif w != p:
            return False
    return True


def _find(words: Sequence[str], phrases: Iterable[Sequence[str]], lo: int = 0, hi: Optional[int] = None) -> list[int]:
    hi = len(words) if hi is None else hi
    phrases = list(phrases)
    return [i for i in range(lo, hi) for p in phrases if _match(words, i, p)]


def _is_break(token) -> bool:
    return token.is_punct or token.is_space or not any(ch.isalnum() for ch in token.text)


def analyse(doc, readings: Sequence[tuple[int, int, float, bool]], treatment_words: frozenset) -> Context:
    """Read the whole text once: sentences, clauses, resolutions, recurrence, vaccines, treatment."""
    words = [t.lower_ for t in doc]
    sentence, clause = [], []
    s = c = 0
    for t in doc:   # a sentence's closing mark belongs to it ("... fine now?" is a question)
        if _is_break(t) or t.lower_ in ("but", "and", "though", "although", "then", "however", "so"):
            c += 1
        sentence.append(s)
        clause.append(c)
        if t.text in _SENTENCE_END or "\n" in t.text or "?" in t.text or "!" in t.text:
            s += 1
    ctx = Context(words, sentence, clause)

    questions = {sentence[i] for i, t in enumerate(doc) if "?" in t.text}
    for i, k in _resolution_starts(words):
        negated = any(w in _NEGATORS for w in words[max(0, i - 2):i]) and \
            words[i] not in ("no", "not", "nothing", "n't", "never", "nowhere")
        qualified = i + k < len(words) and words[i + k] in _NOT_OVER_AFTER
        if negated or qualified or sentence[i] in questions:
            continue
        ctx.resolutions.append(i)
        if i + k < len(words) and words[i + k] == "now":
            ctx.resolving_now.add(i + k)
        j = i - 1
        while j >= 0 and words[j] in _NOW_FILLERS:
            j -= 1
        if j >= 0 and words[j] == "now":
            ctx.resolving_now.add(j)
    for start, _, value, needs_context in readings:   # a normal reading: "36.9 now"
        if 36.0 <= value < 37.5 and not needs_context:
            ctx.resolutions.append(start)
        if not needs_context:
            ctx.max_reading = max(ctx.max_reading, value)

    for i in _find(words, _RECURRENCE):
        if words[i] == "still" and i + 1 < len(words) and words[i + 1] in _STILL_OK:
            continue
        if any(w in _NEGATORS for w in words[max(0, i - 2):i]):
            continue   # "hasn't come back"
        ctx.recurrence = True
    ctx.safeguarding_recurrence = ctx.recurrence or bool(_find(words, _SAFEGUARDING_RECURRENCE))

    for i, w in enumerate(words):
        if w in _VACCINE or (w == "shot" and i > 0 and words[i - 1] in _VACCINE_SHOT):
            ctx.vaccine_sentences.add(sentence[i])
        if w in treatment_words or doc[i].lemma_ in treatment_words or w in _TREATMENT_EXTRA:
            if _treatment_over(words, clause, i):
                ctx.treatment_over = True
            elif w not in _TREATMENT_EXTRA:
                ctx.treatment_active = True
    return ctx


def _resolution_starts(words: Sequence[str]) -> list[tuple[int, int]]:
    """(first token, length) of each phrase saying that something is over."""
    out = [(i, len(p)) for p in _RESOLVED for i in range(len(words)) if _match(words, i, p)]
    for i, w in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if w == "gone" and (not after or after in _GONE_THEN or not after.isalnum()):
            out.append((i, 1))
        elif w in _GOOD and ("now" in words[max(0, i - 3):i] or after in ("now", "since")):
            out.append((i, 1))
        elif w == "no" and i + 2 < len(words) and words[i + 2] in ("now", "since"):   # "no pain now"
            out.append((i, 2))
        elif w == "nothing" and after == "for" and i + 2 < len(words) and (
                words[i + 2].isdigit() or words[i + 2] in ("years", "yrs", "ages", "months", "a")):
            out.append((i, 2))   # "nothing for 10 years"
    return sorted(set(out))


def _treatment_over(words: Sequence[str], clause: Sequence[int], i: int) -> bool:
    """ "no chemo", "not on chemo", "radiotherapy finished in June", "chemo was over a year ago"."""
    j = i - 1
    while j >= max(0, i - 4) and words[j] in ("on", "any", "more", "the", "my", "his", "her", "their", "a"):
        j -= 1
    if j >= 0 and words[j] in ("no", "not", "n't", "nt", "never"):
        return True
    same = [j for j in range(len(words)) if clause[j] == clause[i]]
    if not any(words[j] in _OVER for j in same):
        return False
    lo, hi = same[0], same[-1] + 1
    long_ago = [j for j in _find(words, [("ago",)], lo, hi) if _ago_unit(words, j) in _LONG_UNITS]
    named = [j for j in range(lo, hi) if words[j] in _MONTHS or words[j] in _SEASONS or _YEAR.match(words[j])]
    return bool(long_ago or named or _find(words, [("a", "year"), ("years",)], lo, hi))


def _ago_unit(words: Sequence[str], i: int) -> str:
    """The time unit before "ago": "3 weeks ago" -> "weeks"."""
    for j in range(i - 1, max(-1, i - 4), -1):
        if words[j].isalpha() and words[j] not in ("a", "few", "couple", "of", "odd", "or", "so", "good"):
            return words[j]
    return ""


def _past_marker(ctx: Context, lo: int, hi: int, safeguarding: bool) -> bool:
    w = ctx.words
    for j in _find(w, [("ago",)], lo, hi):
        if _ago_unit(w, j) in (_YEAR_UNITS if safeguarding else _LONG_UNITS):
            return True
    if safeguarding:
        if any(_YEAR.match(w[j]) for j in range(lo, hi)):
            return True
        return bool(_find(w, _SAFEGUARDING_PAST, lo, hi))
    if any(_YEAR.match(w[j]) and j > 0 and w[j - 1] in ("in", "of") for j in range(lo, hi)):
        return True
    return bool(_find(w, _CLINICAL_PAST, lo, hi))


def past_and_resolved(ctx: Context, kind: str, start: int, end: int) -> bool:
    """The hit (tokens start:end) is told as a past event that is over (see the module docstring)."""
    if ctx.safeguarding_recurrence if kind == "safeguarding" else ctx.recurrence:
        return False
    if not any(r >= end for r in ctx.resolutions):
        return False
    n = len(ctx.words)
    own = [j for j in range(n) if ctx.clause[j] == ctx.clause[start] or start <= j < end]
    # on anti-cancer treatment the time must be the event's own ("had a temp last week after chemo"),
    # not the treatment's ("chemo last week, had a temp of 38, fine now" stays flagged)
    scope = own if kind == "clinical" and ctx.treatment_active else \
        [j for j in range(n) if ctx.sentence[j] == ctx.sentence[start]]
    if not _past_marker(ctx, scope[0], scope[-1] + 1, kind == "safeguarding"):
        return False
    recent = [j for j in _find(ctx.words, _RECENT, own[0], own[-1] + 1) if j not in ctx.resolving_now]
    return not recent


def vaccine_fever(ctx: Context, start: int, end: int) -> bool:
    """A fever hit explained by a vaccine, for a person not on anti-cancer treatment."""
    if ctx.recurrence or ctx.treatment_active:
        return False
    s = ctx.sentence[start]
    if not ({s - 1, s, s + 1} & ctx.vaccine_sentences):
        return False
    over = any(r >= end for r in ctx.resolutions)
    if ctx.max_reading >= 38.0 and not over:
        return False
    return over or ctx.treatment_over


def hypothetical_threat(ctx: Context, start: int, end: int) -> bool:
    """ "my mum would kill me if ...": a kill/strangle threat, hypothetical or laughed off, by a parent,
    sibling, child or friend (never a partner, never an unknown "he")."""
    w = ctx.words
    if not any(x in _KILL for x in w[start:end]):
        return False
    window = w[max(0, start - 2):end]
    if not any(x in _MODAL for x in window):
        return False
    sentence = [j for j in range(len(w)) if ctx.sentence[j] in (ctx.sentence[start], ctx.sentence[start] + 1)]
    laugh = any(w[j] in _LAUGH for j in sentence)
    if not (laugh or any(x in _HYPOTHETICAL for x in window)):
        return False
    # who threatens: the nearest person word before the verb, in the same sentence
    first = next(j for j in sentence if ctx.sentence[j] == ctx.sentence[start])
    kill_at = start + next(k for k, x in enumerate(w[start:end]) if x in _KILL)
    for j in range(kill_at - 1, first - 1, -1):
        if w[j] in _NOT_PARTNER:
            return True
        if w[j] in _PARTNER:
            return False
    return False


def dismissal(ctx: Context, category: str, kind: str, start: int, end: int) -> Optional[str]:
    """Why a rule hit is set aside ("past_resolved", "vaccine_fever", "hypothetical_threat"), or None."""
    if category == "neutropenic_sepsis" and vaccine_fever(ctx, start, end):
        return "vaccine_fever"
    if category == "domestic_abuse" and hypothetical_threat(ctx, start, end):
        return "hypothetical_threat"
    if past_and_resolved(ctx, kind, start, end):
        return "past_resolved"
    return None
