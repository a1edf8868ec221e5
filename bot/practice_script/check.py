"""Check practice scripts before they reach patients (`outreach scripts check`), and show a whole
sample conversation (`outreach scripts preview`).

Every message is rendered as patients would get it, with the practice's own values and a long
first name (`Christopher-Alexander`), and checked for:

- error: a placeholder that does not exist (the loader refuses these too), or a template that fails
  to render;
- error: a character outside GSM-7 (a smart quote, a dash, an emoji...), which makes the whole
  text UCS-2: 70 characters a part instead of 160. The characters are named;
- error: more than 2 SMS parts;
- error: a text sent before the patient's identity is confirmed that names the diagnosis (someone
  else may read the phone);
- warning: wording above a reading age of about 11 (Flesch-Kincaid grade above 6). Numbers and
  names (the first name, the practice's and the contact's names, capitalised words inside a
  sentence) are not counted as hard words; a message whose only long words are numbers or
  names is not checked;
- warning: a message without the practice's `not_monitored` sentence.

Syllables are counted with a small heuristic written here. textstat was considered: it needs nltk
and downloads the CMU dictionary at run time (`nltk.download('cmudict')`), which we cannot do.
"""
from __future__ import annotations

import dataclasses
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import jinja2
import yaml
from jinja2 import meta

from bot.practice_script import loader as scripts
from bot.checkin.replies import AREAS
from bot.practice_script.loader import PracticeScript, ScriptError, load_script
from bot.sender.segments import GSM7_BASIC, GSM7_EXTENDED, is_gsm7, segment_count

LONG_FIRST_NAME = "Christopher-Alexander"
LONGEST_NEXT_CONTACT = "when we open at 10:30am on Wednesday"  # the longest "when" of a safety-net text
SAMPLE_FIRST_NAME = "Alex"
SAMPLE_HELPLINE = "01632 960 000"  # Ofcom drama range; used when the practice sets no helpline
MAX_SEGMENTS = 2
MAX_GRADE = 6.0  # Flesch-Kincaid grade 6 is a reading age of about 11
# Only these come after the date of birth matched; nothing else may name the diagnosis.
AFTER_IDENTITY = {"support_info", "offer_chat", "accepted", "declined", "later", "welcome", "acknowledge",
                  "unclear_offer", "checkin_overall", "checkin_number_please", "checkin_number_unclear",
                  "checkin_areas", "checkin_areas_unclear", "checkin_area_score", "booking_options",
                  "booking_more_options", "booking_unclear", "booking_taken", "booking_confirmed", "booking_callback",
                  "booking_kept", "booking_no_slots", "booking_cancelled", "booking_reminder", "no_appointment"}
DIAGNOSIS_WORDS = ("cancer", "diagnos", "oncology", "tumour", "chemo", "macmillan", "radiotherapy")

# Plain GSM-7 stand-ins for the characters word processors put in.
REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": "a plain space", "\u2009": "a plain space", "\u202f": "a plain space",
    "\u00b4": "'", "`": "'", "\u2022": "-", "\u00b7": "-",
}


@dataclass(frozen=True)
class Finding:
    level: str     # "error" | "warning"
    message: str   # the message name, e.g. "opener", or a setting such as "not_monitored"
    problem: str

    def format(self, path: str) -> str:
        plain = self.message.startswith(("not_monitored", "languages."))
        field = self.message if plain else f"messages.{self.message}"
        return f"{path}: {field}: {self.level}: {self.problem}"


# ---------------------------------------------------------------------------------------------
# Reading age


_EXCEPTIONS = {"coordinator": 5, "coordinators": 5, "area": 3, "idea": 3, "ideas": 3, "every": 2,
               "everyone": 3, "everything": 3, "family": 3, "different": 3, "business": 2, "evening": 2,
               "interest": 3, "interested": 4, "people": 2, "really": 2, "create": 2, "video": 3,
               "being": 2, "doing": 2, "going": 2, "seeing": 2}
_ONE_SYLLABLE_NT = {"do", "ca", "wo", "are", "ai", "sha"}  # don't, can't, won't, aren't, ain't, shan't
_VOWELS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    """Syllables in an English word, by a heuristic good enough for reading-age estimates."""
    w = word.lower().replace("\u2019", "'")
    extra = 0
    if w.endswith("n't"):
        w = w[:-3]
        extra = 0 if w in _ONE_SYLLABLE_NT else 1
    w = re.sub(r"'(s|d|ll|re|ve|m)$", "", w)
    w = re.sub(r"[^a-z]", "", w)
    if not w:
        return max(extra, 1) if extra else 0
    if w in _EXCEPTIONS:
        return _EXCEPTIONS[w] + extra
    count = len(_VOWELS.findall(w))
    if len(w) > 2 and w.endswith("e") and w[-2] not in "aeiouy" \
            and not (w.endswith("le") and len(w) > 3 and w[-3] not in "aeiouy"):
        count -= 1                                   # care, while (but table, people)
    elif len(w) > 3 and w.endswith("es") and w[-3] not in "aeiouysxzcg" and not w.endswith(("ches", "shes")):
        count -= 1                                   # times, takes (but boxes, changes, services)
    elif len(w) > 3 and w.endswith("ed") and w[-3] not in "aeiouytd":
        count -= 1                                   # called, named (but wanted, needed)
    if re.search(r"[^aeiouy]ely$", w):
        count -= 1                                   # lately, completely
    count += len(re.findall(r"(?<![cts])ia", w))     # diagnosis, media (but social)
    count += len(re.findall(r"(?<![ctsx])io", w))    # radio (but nation, vision, anxious)
    count += len(re.findall(r"[aeiouy]ing$", w)) if w not in _EXCEPTIONS else 0  # being, doing
    return max(count, 1) + extra


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    syllables: int
    grade: float               # Flesch-Kincaid grade level
    long_words: Tuple[str, ...]  # 3 syllables or more, numbers and names left out

    @property
    def reading_age(self) -> float:
        return self.grade + 5


_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|approx|tel|no)\.", re.IGNORECASE)


def readability(text: str, names: Iterable[str] = ()) -> Readability:
    """Flesch-Kincaid grade of a text. `names` (and capitalised words inside a sentence, which are
    names) count as one-syllable words; numbers are not words."""
    for name in sorted((n for n in names if n and n.strip()), key=len, reverse=True):
        text = text.replace(name, "Name")
    text = _ABBREVIATIONS.sub(lambda m: m.group(1).replace(".", ""), text)
    # Phone numbers, dates, times, 111 are not words; a full stop after one still ends the sentence.
    text = re.sub(r"\S*\d\S*?([.!?]*)(?=\s|$)", r" \1", text)
    sentences = [s for s in re.split(r"[.!?]+(?:\s+|$)", text) if _WORD.search(s)]
    words, total, long_words = 0, 0, []
    for sentence in sentences:
        for index, word in enumerate(_WORD.findall(sentence)):
            words += 1
            is_name = word == "Name" or (index > 0 and word[0].isupper() and not word.isupper())
            count = 1 if is_name else syllables(word)
            total += count
            if count >= 3:
                long_words.append(word)
    if not words:
        return Readability(0, 0, 0, 0.0, ())
    grade = 0.39 * words / len(sentences) + 11.8 * total / words - 15.59
    return Readability(words, len(sentences), total, round(grade, 1), tuple(dict.fromkeys(long_words)))


# ---------------------------------------------------------------------------------------------
# Checks


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, f"U+{ord(ch):04X}")
    hint = f" (use {REPLACEMENTS[ch]})" if ch in REPLACEMENTS else ""
    return f"{ch} {name.lower()}{hint}"


def _names(script: PracticeScript, first_name: str) -> List[str]:
    contact = str(script.data.get("contact", {}).get("name") or "")
    names = [first_name, script.name, script.phone]
    if contact[:1].isupper():  # a person's name, not "our care coordinator"
        names.append(contact)
    return names


def _overridden(script: PracticeScript) -> set:
    """Names of the messages the practice file itself words (the rest come from the defaults)."""
    try:
        raw = yaml.safe_load(Path(script.path).read_text(encoding="utf-8")) or {}
        return set((raw.get("messages") or {}).keys())
    except (OSError, yaml.YAMLError, AttributeError):
        return set()


def sample_turn(script: PracticeScript) -> Dict[str, str]:
    """The longest values the dialogue can put in a text's area, role, options and appointment for
    this practice, so length checks hold for every real text."""
    roles = list(script.roles.values())
    title = max((r.title for r in roles), key=len, default="care coordinator")
    staff = max((w.staff for r in roles for w in r.weekly), key=len, default="Christopher")
    kind = max(scripts.SLOT_KINDS.values(), key=len)
    when = "Wed 30 Sep 10:30"
    options = "; ".join(f"{n}) {when}, {kind} with {staff}" for n in (1, 2, 3))
    return {"area": max(AREAS.values(), key=len), "role": title, "options": options,
            "appointment": f"{when}, {kind} with {staff}, {title}"}


def check_script(script: PracticeScript) -> List[Finding]:
    """Every problem with a practice's texts, errors first within each message, then the same for
    each language the practice supplies."""
    findings = _check_texts(script)
    for code in sorted(script.languages):
        for finding in _check_texts(script.for_language(code)):
            where = finding.message if finding.message.startswith("not_monitored") else f"messages.{finding.message}"
            findings.append(dataclasses.replace(finding, message=f"languages.{code}.{where}"))
    return findings


def _check_texts(script: PracticeScript) -> List[Finding]:
    """The checks for one language. English wording also gets the reading-age check (it is an
    English measure); other languages may need UCS-2, so that is a warning there, not an error."""
    findings: List[Finding] = []
    english = script.language == "en"
    templates = script.data["messages"]
    own = _overridden(script) if english else set(templates)
    not_monitored = " ".join(str(script.data.get("not_monitored") or "").split())
    helpline = str(script.data.get("oncology_helpline") or "") or SAMPLE_HELPLINE
    turn = sample_turn(script)
    if not not_monitored:
        findings.append(Finding("warning", "not_monitored", "is empty: every text should say the number is not "
                                                           "monitored all the time"))
    for name in templates:
        source = "" if name in own else " (default wording)"
        template = templates[name]
        try:
            unknown = meta.find_undeclared_variables(scripts._jinja.parse(template)) - scripts.PLACEHOLDERS
        except jinja2.TemplateSyntaxError as exc:
            findings.append(Finding("error", name, f"template error: {exc.message}"))
            continue
        if unknown:
            findings.append(Finding("error", name, f"unknown placeholder(s) {', '.join(sorted(unknown))} "
                                                   f"(known: {', '.join(sorted(scripts.PLACEHOLDERS))})"))
            continue
        try:
            text = script.render(name, first_name=LONG_FIRST_NAME, helpline=helpline,
                                 next_contact=LONGEST_NEXT_CONTACT, **turn)
        except jinja2.TemplateError as exc:
            findings.append(Finding("error", name, f"cannot be rendered: {exc}"))
            continue
        if not is_gsm7(text):
            bad = [ch for ch in dict.fromkeys(text) if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED]
            named = "; ".join(_describe(c) for c in bad)
            findings.append(Finding("error" if english else "warning", name,
                                    "has characters outside GSM-7, so the whole text is sent as "
                                    f"UCS-2 (70 characters a part): {named}{source}"))
        parts = segment_count(text)
        if parts > MAX_SEGMENTS:
            findings.append(Finding("error", name, f"is {parts} SMS parts ({len(text)} characters with the first "
                                                   f"name {LONG_FIRST_NAME}); at most {MAX_SEGMENTS}" + source))
        if name not in AFTER_IDENTITY:
            diagnosis = [w for w in DIAGNOSIS_WORDS if w in text.lower()]
            if diagnosis:
                findings.append(Finding("error", name, "names the diagnosis before the patient's identity is "
                                                       f"confirmed ({', '.join(diagnosis)}): someone else may read the "
                                                       "phone" + source))
        plain = script.render(name, first_name=SAMPLE_FIRST_NAME, helpline=helpline, **turn)
        reading = readability(plain, _names(script, SAMPLE_FIRST_NAME))
        if english and reading.long_words and reading.grade > MAX_GRADE:
            findings.append(Finding("warning", name, f"reading age about {reading.reading_age:.1f} (Flesch-Kincaid "
                                                     f"grade {reading.grade:.1f}, aim for {MAX_GRADE:.0f} or less): "
                                                     f"{reading.words / reading.sentences:.0f} words a sentence; "
                                                     f"long words: {', '.join(reading.long_words)}" + source))
        if not_monitored and not_monitored not in text:
            findings.append(Finding("warning", name, f"does not say {not_monitored!r}" + source))
    return findings


# ---------------------------------------------------------------------------------------------
# Preview


# (who, text or message name). "bot" lines name a message; "patient" lines are sample replies.
SAMPLE_CONVERSATION: Sequence[Tuple[str, str]] = (
    ("section", "The main path"),
    ("bot", "opener"),
    ("patient", "12/03/1961"),
    ("bot", "support_info"),
    ("bot", "offer_chat"),
    ("patient", "Yes please"),
    ("bot", "checkin_overall"),
    ("patient", "about a 7"),
    ("bot", "checkin_areas"),
    ("patient", "money and sleep"),
    ("bot", "checkin_area_score"),
    ("patient", "6"),
    ("bot", "checkin_area_score"),
    ("patient", "8"),
    ("bot", "booking_options"),
    ("patient", "the tuesday one"),
    ("bot", "booking_confirmed"),
    ("patient", "Thank you"),
    ("bot", "welcome"),
    ("section", "The day before"),
    ("bot", "booking_reminder"),
    ("patient", "CANCEL APPOINTMENT"),
    ("bot", "booking_cancelled"),
    ("section", "Other answers in the check-in and booking"),
    ("patient", "really bad"),
    ("bot", "checkin_number_please"),
    ("patient", "a lot lol"),
    ("bot", "checkin_number_unclear"),
    ("patient", "all sorts"),
    ("bot", "checkin_areas_unclear"),
    ("patient", "none of those"),
    ("bot", "booking_more_options"),
    ("patient", "whenever"),
    ("bot", "booking_unclear"),
    ("patient", "2"),
    ("bot", "booking_taken"),
    ("patient", "none of them either"),
    ("bot", "booking_callback"),
    ("patient", "CHANGE (then none of the new times suit)"),
    ("bot", "booking_kept"),
    ("patient", "CHANGE (with no appointment booked)"),
    ("bot", "no_appointment"),
    ("section", "No free time within 14 days"),
    ("bot", "booking_no_slots"),
    ("section", "At a practice with no bookable roles"),
    ("patient", "Yes please"),
    ("bot", "accepted"),
    ("section", "Other answers to the offer"),
    ("patient", "Not now, maybe later"),
    ("bot", "later"),
    ("patient", "No thanks"),
    ("bot", "declined"),
    ("patient", "Ok"),
    ("bot", "acknowledge"),
    ("patient", "Can you ring me instead?"),
    ("bot", "callback"),
    ("patient", "hmm"),
    ("bot", "unclear_offer"),
    ("section", "Checking it is the patient"),
    ("bot", "dob_ask"),
    ("patient", "1st Jan 1970"),
    ("bot", "dob_wrong"),
    ("patient", "not sure"),
    ("bot", "dob_unclear"),
    ("patient", "02/01/1970"),
    ("bot", "identity_failed"),
    ("section", "Replies at any time"),
    ("patient", "Who is this? Is this a robot?"),
    ("bot", "who_is_this"),
    ("patient", "Wrong number, I don't know anyone called that"),
    ("bot", "wrong_person"),
    ("patient", "HELP"),
    ("bot", "help"),
    ("patient", "STOP"),
    ("bot", "opted_out"),
    ("patient", "asdfgh"),
    ("bot", "unclear"),
    ("patient", "what about my car parking"),
    ("bot", "handover_unclear"),
    ("section", "When the assistant has not answered for over a minute"),
    ("patient", "hello? are you there?"),
    ("bot", "holding"),
    ("section", "A text from a number not on the register"),
    ("patient", "Hello?"),
    ("bot", "unknown_number"),
    ("section", "Safety nets (sent at once when the safety screen flags a text; one per kind of flag)"),
    ("patient", "I can't breathe and my chest hurts"),
    ("bot", "safety_999"),
    ("patient", "I've got a temperature of 38.5 (the register says: on treatment)"),
    ("bot", "safety_sepsis_treatment"),
    ("patient", "I've got a temperature of 38.5 (treatment not known to the practice)"),
    ("bot", "safety_sepsis_unknown"),
    ("patient", "my back is agony and my legs have gone numb"),
    ("bot", "safety_same_hour"),
    ("patient", "I've been coughing up blood since yesterday"),
    ("bot", "safety_bleeding"),
    ("patient", "something else worrying (on treatment)"),
    ("bot", "safety_clinical_treatment"),
    ("patient", "something else worrying (not on treatment)"),
    ("bot", "safety_clinical"),
    ("patient", "I don't want to be here any more"),
    ("bot", "safety_suicide"),
    ("patient", "he checks my phone and won't let me see my sister"),
    ("bot", "safety_domestic"),
    ("patient", "my neighbour's children are left alone all night"),
    ("bot", "safety_at_risk"),
    ("patient", "I'm his only carer and I'm at breaking point, I can't lift him any more"),
    ("bot", "safety_carer"),
    ("patient", "things at home are not safe for me"),
    ("bot", "safety_safeguarding"),
    ("section", "A text the safety screen is unsure about (a person reads it the same working day)"),
    ("patient", "been getting headaches"),
    ("bot", "safety_review"),
)


def preview_conversation(script: PracticeScript, first_name: str = SAMPLE_FIRST_NAME) -> str:
    """A whole sample conversation with every text of the script, each with its message name,
    SMS parts and length. Texts the sample does not reach are shown at the end."""
    helpline = str(script.data.get("oncology_helpline") or "") or SAMPLE_HELPLINE
    turn = sample_turn(script)
    language = "" if script.language == "en" else f", in language {script.language}"
    lines = [f"{script.ods_code} {script.name} - sample conversation with {first_name}{language} "
             f"(treatment helpline shown as {helpline})"]
    shown = set()

    def bot(name: str) -> None:
        text = script.render(name, first_name=first_name, helpline=helpline, **turn)
        parts = segment_count(text)
        encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
        lines.append(f"  BOT [{name}, {parts} SMS, {len(text)} chars{'' if encoding == 'GSM-7' else ', UCS-2'}]:")
        lines.append(f"      {text}")
        shown.add(name)

    for who, value in SAMPLE_CONVERSATION:
        if who == "section":
            lines.append("")
            lines.append(f"== {value}")
        elif who == "patient":
            lines.append(f"  PATIENT: {value}")
        elif value in script.data["messages"]:
            bot(value)
    rest = [name for name in script.data["messages"] if name not in shown]
    if rest:
        lines.append("")
        lines.append("== Other texts")
        for name in rest:
            bot(name)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Command line


def _display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _load_error_line(path: Path, error: ScriptError) -> str:
    """A loader error ("file:line: field: problem") in the check's format."""
    text = str(error)
    match = re.match(r"^(.*?:\d+): (\S+): (.*)$", text, re.DOTALL)
    if match and match.group(1).startswith(str(path)):
        return f"{_display(path)}:{match.group(1)[len(str(path)) + 1:]}: {match.group(2)}: error: {match.group(3)}"
    return f"{_display(path)}: file: error: {text}"


def _practices_dir(args) -> Path:
    given = getattr(args, "practices_dir", None)
    if given:
        return Path(given)
    from bot.config import load_settings

    return load_settings().practices_dir


def run_scripts_command(args, out=None) -> int:
    """`outreach scripts check [--practice ODS]` and `outreach scripts preview --practice ODS`.

    check: one line per finding, "practices/Y00001.yml: messages.opener: warning: ...", and a
    summary; exit code 1 when any practice has an error, else 0. preview: the sample conversation;
    exit code 2 when the practice has no script or it does not load."""
    out = out or sys.stdout
    command = getattr(args, "scripts_command", None) or "check"
    wanted: Optional[str] = (getattr(args, "practice", None) or "").strip().upper() or None
    folder = _practices_dir(args)
    paths = sorted(folder.glob("*.yml"))
    if command == "preview":
        if not wanted:
            print("outreach: error: scripts preview needs --practice ODS", file=sys.stderr)
            return 2
        for path in paths:
            try:
                script = load_script(path)
            except ScriptError as exc:
                if path.stem.upper() == wanted:
                    print(f"outreach: error: {exc}", file=sys.stderr)
                    return 2
                continue
            if script.ods_code == wanted:
                language = (getattr(args, "language", None) or "en").strip().lower()
                if language != "en" and language not in script.languages:
                    known = ", ".join(sorted(script.languages)) or "none"
                    print(f"outreach: error: {script.ods_code} has no script in {language!r} (languages: {known})",
                          file=sys.stderr)
                    return 2
                print(preview_conversation(script.for_language(language)), file=out)
                return 0
        print(f"outreach: error: no practice script for ODS code {wanted!r} in {folder}", file=sys.stderr)
        return 2

    errors = warnings = checked = 0
    seen: dict = {}
    for path in paths:
        try:
            script = load_script(path)
        except ScriptError as exc:
            if wanted and path.stem.upper() != wanted:
                continue
            print(_load_error_line(path, exc), file=out)
            errors += 1
            checked += 1
            continue
        if wanted and script.ods_code != wanted:
            continue
        checked += 1
        if script.ods_code in seen:
            print(f"{_display(path)}: ods_code: error: {script.ods_code} is also used by "
                  f"{_display(seen[script.ods_code])}", file=out)
            errors += 1
        seen[script.ods_code] = path
        for finding in check_script(script):
            print(finding.format(_display(path)), file=out)
            errors += finding.level == "error"
            warnings += finding.level == "warning"
    if wanted and not checked:
        print(f"outreach: error: no practice script for ODS code {wanted!r} in {folder}", file=sys.stderr)
        return 2
    print(f"{checked} practice script{'s' if checked != 1 else ''} checked: {errors} error"
          f"{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}", file=out)
    return 1 if errors else 0
