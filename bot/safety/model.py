"""The trained second net of the safety screen: a calibrated linear classifier over word and
character n-grams that scores every inbound text for a clinical red flag or a safeguarding concern.

The rules (`bot.safety.rules`) are the first net; this model is for the phrasings they do not know. It
never diagnoses; it says "a person should read this" (`review`) or, when it is very sure, which
kind of flag it is (`clinical` / `safeguarding`).

Training data: the training writers' texts in data/safety/writers/ (15 of 19 independently briefed
writers; the other 4 are held out in tests/data/safety_heldout/, never used here), and the project's check-in
answers. The project's older labelled set (tests/data/safety_labelled.csv) is NOT used: it was
written alongside the rules, and adding it lowered the cross-validated recall at the 10% person-rate
(see `python -m bot.safety.model train`).

Features: TF-IDF of word 1-2-grams, of character 2-5-grams (within word boundaries, so typos and
text-speak still share most of their features) and of word 1-2-grams with negated words marked
("no", "not", "never", "n't" ... mark the next four words of the clause: "no chest pain" gives
NEG_chest, NEG_pain, "NEG_chest NEG_pain"), so hard negatives ("no fever", "haven't bled since")
can score low.
Classifier: LinearSVC, calibrated into probabilities by sigmoid (Platt) scaling over 3 folds.

Thresholds (stored in the model) are chosen by leave-one-writer-out cross-validation over the
training writers: train on all but one, score that one, pool the out-of-fold scores. The project's
check-in answers (`writer_checkin.csv`, all ordinary) are always trained on and never a fold: they
are not a writer, and their easy texts would flatter the share sent to a person. See `choose_thresholds`.

The rules and the model together: the live screen (`bot/safety/screen.py`) takes the rules' flag unless the
model is all but certain the text is ordinary (its flag score below the `veto` threshold): the rules
see words, the model has learnt context ("had a nosebleed this morning, stopped, nurse said fine").
The veto threshold is half the lowest out-of-fold score of any text the rules rightly flagged, and
at most VETO_MAX; a veto also needs a short text and a low score for the words right around what
the rule matched (`SafetyModel.sets_aside_rule`). The review threshold is then chosen for the rules
and the model together, so the rules' false alarms count against the share of ordinary texts sent to a person.

Inputs: the model scores whatever it gets, after Unicode NFKC normalisation with control and
format characters turned into spaces. Text that is empty after that (only whitespace or control
characters) scores 0 and gets no outcome: there is nothing for a person to read. Emoji, digits and
punctuation alone are scored like any text (a thumbs-up scores near 0). One exception: a text with
words (two or more characters, with a letter) of which the model knows none, such as another
alphabet or a garbled text, gets "review" whatever it scores: what the model cannot read, a person
reads. Texts over `LONG` characters are scored in short overlapping windows and the most worrying
window counts, so a red flag at the end of a long text is not diluted. Scoring never raises: on an
internal error the outcome is "review" (fail safe, never fail silent).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import math
import pickle
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WRITERS_DIR = PROJECT_ROOT / "data" / "safety" / "writers"
DEFAULT_PATH = PROJECT_ROOT / "models" / "safety.pkl"
RULE_FILES = tuple(PROJECT_ROOT / "bot" / "safety" / name
                   for name in ("rules.py", "triggers.py", "vocabulary.py", "context.py"))
FORMAT = 3  # 3: the classes moved from bot.safety_model to bot.safety.model (the pickle names them)
KINDS = ("none", "clinical", "safeguarding")   # class order of every probability array here
TARGET_RECALL = 0.99       # review threshold: out-of-fold recall of flags as close to this as possible...
MAX_PERSON_RATE = 0.10     # ...while at most this share of `none` texts is sent to a person
FLAG_PRECISION = 0.95      # flag thresholds: this out-of-fold precision (right kind) or better
LONG = 300                 # texts over this many characters are scored in windows...
WINDOW, STEP = 160, 80     # ...of this many characters, this far apart (short: ordinary words dilute a worry)
VETO_MAX = 0.05            # the model never sets aside a rule's flag when it gives the text this or more
CONTEXT = 60               # ...nor when it gives the words within this many characters of the rule's evidence this,
                           # ...nor ever in a LONG text: ordinary words dilute a red flag's score
ALWAYS_TRAINED = frozenset({"checkin"})   # groups trained on, never a cross-validation fold (not writers)

_NEGATORS = frozenset("""no not never without none nor neither nothing nobody cannot cant dont didnt doesnt
    havent hasnt hadnt isnt wasnt arent werent wont wouldnt couldnt shouldnt aint""".split())
_CLAUSE_ENDS = frozenset(". , ! ? ; : but though although however".split())
_TOKEN = re.compile(r"[a-z0-9']+|[.,!?;:]")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


class ModelVersionError(RuntimeError):
    """The saved model was built with another scikit-learn (or file format): rebuild it (`make model`)."""


@dataclass(frozen=True)
class Row:
    text: str
    kind: str     # "none", "clinical" or "safeguarding"
    writer: str   # the cross-validation group
    category: str = ""


@dataclass(frozen=True)
class Scores:
    clinical: float
    safeguarding: float

    @property
    def flag(self) -> float:
        """The probability that a person must see this text (either kind)."""
        return self.clinical + self.safeguarding


@dataclass(frozen=True)
class Assessment:
    outcome: Optional[str]   # "clinical", "safeguarding", "review" (a person should read it soon) or None
    scores: Scores


@dataclass(frozen=True)
class Thresholds:
    clinical: float       # flag as clinical when P(clinical) >= this (math.inf: never)
    safeguarding: float   # flag as safeguarding when P(safeguarding) >= this
    review: float         # otherwise "review" when P(clinical) + P(safeguarding) >= this
    veto: float = 0.0     # a rule's flag is set aside when P(clinical) + P(safeguarding) < this


@dataclass(frozen=True)
class Figures:
    """How a screen does on a set of labelled texts (flag or review counts as caught)."""
    flags: int
    nones: int
    recall: float
    recall_clinical: float
    recall_safeguarding: float
    person_rate: float     # share of `none` texts sent to a person (flag or review)
    kind_right: float      # among caught flags given an explicit kind, the share with the right kind

    def line(self) -> str:
        return (f"recall {self.recall:.1%} (clinical {self.recall_clinical:.1%}, safeguarding "
                f"{self.recall_safeguarding:.1%}), kind right {self.kind_right:.1%}, "
                f"none to a person {self.person_rate:.1%} ({self.flags} flags, {self.nones} none)")


# ---- text and features --------------------------------------------------------------------------

def normalise(text: object) -> str:
    """NFKC, curly apostrophes straightened, control/format characters (and lone surrogates) to spaces."""
    text = unicodedata.normalize("NFKC", str(text or "")).translate(_QUOTES)
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in text).strip()


def mark_negation(text: str) -> str:
    """Words with NEG_ before the next four words after a negator in the same clause (a feature view)."""
    words, left = [], 0
    for token in _TOKEN.findall(text.lower()):
        if token in _CLAUSE_ENDS:
            left = 0
            continue
        bare = token.replace("'", "")
        if bare in _NEGATORS or token.endswith("n't"):
            words.append(bare)
            left = 4
            continue
        words.append("NEG_" + token if left else token)
        left = max(0, left - 1)
    return " ".join(words)


def around(text: str, evidence: Sequence[str], reach: int = CONTEXT) -> list[str]:
    """The text within `reach` characters either side of each occurrence of each evidence string
    (case-insensitive), cut at spaces."""
    out, lowered = [], text.lower()
    for words in evidence:
        needle, start = words.lower(), 0
        while needle and (at := lowered.find(needle, start)) >= 0:
            left = max(0, at - reach)
            right = min(len(text), at + len(needle) + reach)
            if left > 0 and (space := text.find(" ", left, at)) >= 0:
                left = space + 1
            if right < len(text) and (space := text.rfind(" ", at + len(needle), right)) >= 0:
                right = space
            out.append(text[left:right])
            start = at + len(needle)
    return out


def _windows(text: str) -> list[str]:
    """The text itself, or overlapping windows of a long text (cut at spaces where possible)."""
    if len(text) <= LONG:
        return [text]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + WINDOW)
        out.append(text[start:end])
        if end == len(text):
            break
        space = text.rfind(" ", start + STEP // 2, start + STEP)
        start = space + 1 if space > 0 else start + STEP
    return out


def _pipeline() -> Pipeline:
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ("negated", TfidfVectorizer(preprocessor=mark_negation, token_pattern=r"\S+", ngram_range=(1, 2),
                                    sublinear_tf=True, lowercase=False)),
    ])
    classifier = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=0), method="sigmoid", cv=3)
    return Pipeline([("features", features), ("classifier", classifier)])


def _fit(rows: Sequence[Row]) -> Pipeline:
    pipeline = _pipeline()
    pipeline.fit([normalise(r.text) for r in rows], np.array([KINDS.index(r.kind) for r in rows]))
    return pipeline


def _unreadable(pipeline: Pipeline, text: str) -> bool:
    """True if `text` has words (two or more characters, with a letter) and the model knows none."""
    words = dict(pipeline.named_steps["features"].transformer_list)["words"]
    tokens = [t for t in words.build_tokenizer()(text.lower()) if any(c.isalpha() for c in t)]
    return bool(tokens) and not any(t in words.vocabulary_ for t in tokens)


def _probabilities(pipeline: Pipeline, texts: Sequence[str]) -> np.ndarray:
    """P(none), P(clinical), P(safeguarding) per text; long texts by their most worrying window."""
    cleaned = [normalise(t) for t in texts]
    pieces, owner = [], []
    for i, text in enumerate(cleaned):
        for piece in _windows(text) if text else []:
            pieces.append(piece)
            owner.append(i)
    out = np.zeros((len(cleaned), len(KINDS)))
    out[:, 0] = 1.0   # empty text: nothing to read
    if pieces:
        raw = pipeline.predict_proba(pieces)[:, np.argsort(pipeline.classes_)]
        best = np.full(len(cleaned), -1.0)
        for piece_probs, i in zip(raw, owner):
            if 1.0 - piece_probs[0] > best[i]:
                best[i], out[i] = 1.0 - piece_probs[0], piece_probs
    return out


# ---- thresholds and figures ------------------------------------------------------------------------

def outcomes(probs: np.ndarray, thresholds: Thresholds) -> list[Optional[str]]:
    """The outcome for each row of probabilities (the one place the decision rule lives)."""
    result: list[Optional[str]] = []
    for _, clinical, safeguarding in probs:
        if safeguarding >= thresholds.safeguarding:      # both thresholds are >= 0.5: one kind at most
            result.append("safeguarding")
        elif clinical >= thresholds.clinical:
            result.append("clinical")
        elif clinical + safeguarding >= thresholds.review and clinical + safeguarding > 0:
            result.append("review")
        else:
            result.append(None)
    return result


def figures(kinds: Sequence[str], got: Sequence[Optional[str]]) -> Figures:
    """Recall (per kind too), person-rate and kind right of outcomes `got` against labels `kinds`."""
    total = {k: sum(1 for want in kinds if want == k) for k in KINDS}
    caught = {k: sum(1 for want, g in zip(kinds, got) if want == k and g) for k in KINDS}
    explicit = [want == g for want, g in zip(kinds, got) if want != "none" and g in KINDS[1:]]
    flags = total["clinical"] + total["safeguarding"]
    return Figures(flags, total["none"], (caught["clinical"] + caught["safeguarding"]) / flags if flags else 1.0,
                   caught["clinical"] / total["clinical"] if total["clinical"] else 1.0,
                   caught["safeguarding"] / total["safeguarding"] if total["safeguarding"] else 1.0,
                   caught["none"] / total["none"] if total["none"] else 0.0,
                   sum(explicit) / len(explicit) if explicit else 1.0)


def _flag_threshold(scores: np.ndarray, right: np.ndarray) -> float:
    """The lowest score >= 0.5 at and above which at least FLAG_PRECISION of texts have this kind."""
    order = np.argsort(-scores)
    hits = np.cumsum(right[order])
    best = math.inf
    for n, i in enumerate(order, start=1):
        if scores[i] < 0.5:
            break
        if hits[n - 1] / n >= FLAG_PRECISION and (n == len(order) or scores[order[n]] < scores[i]):
            best = float(scores[i])
    return best


def rule_stands(rule_flagged: np.ndarray, score: np.ndarray, veto: float) -> np.ndarray:
    """Which rule flags stand: the model's flag score is not below the veto (the one place this lives)."""
    return rule_flagged & ~(score < veto)


def choose_veto(score: np.ndarray, rule_flagged: np.ndarray, labels: np.ndarray) -> float:
    """Half the lowest out-of-fold flag score of a text the rules rightly flagged, at most VETO_MAX:
    out of fold, the veto never set aside a true flag, with room to spare."""
    right = rule_flagged & (labels != "none")
    if not right.any():
        return 0.0
    return float(min(VETO_MAX, score[right].min() / 2))


def choose_thresholds(probs: np.ndarray, kinds: Sequence[str],
                      rule_flagged: Optional[Sequence[bool]] = None) -> Thresholds:
    """Thresholds from out-of-fold probabilities (rows of P(none), P(clinical), P(safeguarding)) and,
    if given, whether the rules flagged each text.

    Flag thresholds: per kind, the lowest (>= 0.5) with out-of-fold precision >= FLAG_PRECISION.
    Veto: see `choose_veto`. Review threshold r on P(clinical) + P(safeguarding): the larger of the
    highest r that still catches TARGET_RECALL of flags and the lowest r that sends at most
    MAX_PERSON_RATE of `none` texts to a person (a standing rule flag, a model flag or a review
    counts). So recall is as close to the target as the person-rate allows, and never bought with
    more than that rate.
    """
    labels = np.array(kinds)
    score = probs[:, 1] + probs[:, 2]
    ruled = np.zeros(len(labels), dtype=bool) if rule_flagged is None else np.asarray(rule_flagged, dtype=bool)
    veto = choose_veto(score, ruled, labels)
    flag = Thresholds(clinical=_flag_threshold(probs[:, 1], labels == "clinical"),
                      safeguarding=_flag_threshold(probs[:, 2], labels == "safeguarding"), review=math.inf)
    flagged = np.array([o is not None for o in outcomes(probs, flag)]) | rule_stands(ruled, score, veto)
    is_flag, is_none = labels != "none", labels == "none"
    candidates = np.unique(score)[::-1]          # high to low: recall and person-rate only grow
    recall_ok = [r for r in candidates if ((flagged | (score >= r)) & is_flag).sum() >= TARGET_RECALL * is_flag.sum()]
    rate_ok = [r for r in candidates if ((flagged | (score >= r)) & is_none).sum() <= MAX_PERSON_RATE * is_none.sum()]
    for_recall = recall_ok[0] if recall_ok else candidates[-1]
    for_rate = rate_ok[-1] if rate_ok else candidates[0]
    return Thresholds(flag.clinical, flag.safeguarding, float(max(for_recall, for_rate)), veto)


def cross_validate(rows: Sequence[Row], progress: Callable[[str], None] = lambda s: None) -> np.ndarray:
    """Leave-one-writer-out: each writer's texts scored by a model trained on the other writers (and
    the ALWAYS_TRAINED groups, whose rows keep P(none) = 1 here: they are not scored)."""
    probs = np.zeros((len(rows), len(KINDS)))
    probs[:, 0] = 1.0
    for writer in sorted({r.writer for r in rows} - ALWAYS_TRAINED):
        held = [i for i, r in enumerate(rows) if r.writer == writer]
        started = time.perf_counter()
        pipeline = _fit([r for r in rows if r.writer != writer])
        probs[held] = _probabilities(pipeline, [rows[i].text for i in held])
        progress(f"  fold {writer}: trained on {len(rows) - len(held)} texts, scored {len(held)} "
                 f"({time.perf_counter() - started:.1f} s)")
    return probs


# ---- the model ------------------------------------------------------------------------------------

@dataclass
class SafetyModel:
    pipeline: Pipeline
    thresholds: Thresholds
    cv: Figures                              # out-of-fold figures of this model at its thresholds
    cv_per_writer: dict[str, Figures]
    data_hash: str                           # of the training files (see `content_hash`)
    code_hash: str                           # of this module's source when trained
    sklearn_version: str = field(default=sklearn.__version__)

    def scores(self, text: str) -> Scores:
        return self.assess(text).scores

    def assess(self, text: str) -> Assessment:
        return self.assess_all([text])[0]

    def sets_aside_rule(self, text: str, evidence: Sequence[str] = ()) -> bool:
        """True if the model is all but certain a text the rules flagged is ordinary (see the module
        docstring): the text is not LONG (at most that many characters), and the whole text and the words
        around each piece of the rule's evidence all score below the veto. Both limits are there
        because ordinary words dilute a bag-of-words score: "my temp is 38.5" after two lines of
        thanks scores 0.001 as a whole, but not within CONTEXT characters of "38.5" (tests/test_screen.py).
        Anything the model cannot score sets nothing aside."""
        text = normalise(text)
        if len(text) > LONG:
            return False
        pieces = [text] + around(text, evidence)
        try:
            probs = _probabilities(self.pipeline, pieces)
        except Exception:  # noqa: BLE001 - the rule's flag stands
            log.exception("safety model failed; the rule's flag stands")
            return False
        score = probs[:, 1] + probs[:, 2]
        return not rule_stands(np.ones(len(pieces), dtype=bool), score, self.thresholds.veto).any()

    def assess_all(self, texts: Iterable[str]) -> list[Assessment]:
        """Assess many texts at once (faster than one by one). Never raises."""
        texts = list(texts)
        try:
            probs = _probabilities(self.pipeline, texts)
        except Exception:  # noqa: BLE001 - a person reads what the model could not score
            log.exception("safety model failed; every text of this batch goes to review")
            return [Assessment("review", Scores(math.nan, math.nan)) for _ in texts]
        return [Assessment(outcome or ("review" if _unreadable(self.pipeline, normalise(text)) else None),
                           Scores(float(p[1]), float(p[2])))
                for text, outcome, p in zip(texts, outcomes(probs, self.thresholds), probs)]

    def save(self, path: Path = DEFAULT_PATH) -> None:
        """Pickle to `path`, with a header `load` checks before it unpickles the scikit-learn objects."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"format": FORMAT, "sklearn": self.sklearn_version, "data_hash": self.data_hash,
                  "code_hash": self.code_hash, "model": pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)

    def is_current(self, files: Optional[Sequence[Path]] = None) -> bool:
        """True if trained from these training files (default: the writers') by this module's code."""
        return self.data_hash == content_hash(files or training_files()) and self.code_hash == _code_hash()


def load(path: Path = DEFAULT_PATH) -> SafetyModel:
    """The model saved at `path`. Raises ModelVersionError if another scikit-learn or format built it.

    Only load files this project built (`make model`): unpickling runs code."""
    header = pickle.loads(Path(path).read_bytes())
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelVersionError(f"{path}: not a safety model of format {FORMAT}; rebuild it with `make model`")
    if header["sklearn"] != sklearn.__version__:
        raise ModelVersionError(f"{path} was built with scikit-learn {header['sklearn']}, this is "
                                f"{sklearn.__version__}; rebuild it with `make model`")
    return pickle.loads(header["model"])


def training_files(directory: Path = WRITERS_DIR) -> list[Path]:
    return sorted(Path(directory).glob("writer_*.csv"))


def content_hash(files: Sequence[Path]) -> str:
    """SHA-256 over the names and bytes of `files` (in name order)."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _code_hash() -> str:
    """Of this module and the rules (the veto and review thresholds are chosen with the rules' flags)."""
    digest = hashlib.sha256()
    for path in (Path(__file__), *RULE_FILES):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_rows(files: Sequence[Path]) -> list[Row]:
    """Rows of writer CSVs (columns writer,text,kind,...); the writer column is the CV group."""
    rows = []
    for path in files:
        with Path(path).open(encoding="utf-8", newline="") as f:
            for record in csv.DictReader(f):
                if record["kind"] not in KINDS:
                    raise ValueError(f"{path}: unknown kind {record['kind']!r}")
                rows.append(Row(record["text"], record["kind"], record["writer"], record.get("category", "")))
    return rows


def train(rows: Sequence[Row], data_hash: str = "", progress: Callable[[str], None] = lambda s: None) -> SafetyModel:
    """Cross-validate over the rows' writers to choose the thresholds, then fit on every row."""
    return train_with_cv(rows, data_hash, progress)[0]


def train_with_cv(rows: Sequence[Row], data_hash: str = "",
                  progress: Callable[[str], None] = lambda s: None) -> tuple[SafetyModel, np.ndarray]:
    """`train`, also returning the out-of-fold probabilities (rows of P(none), P(clinical), P(safeguarding))."""
    kinds = [r.kind for r in rows]
    probs = cross_validate(rows, progress)
    ruled = rule_flags([r.text for r in rows])
    scored = np.array([r.writer not in ALWAYS_TRAINED for r in rows])
    thresholds = choose_thresholds(probs[scored], [k for k, s in zip(kinds, scored) if s], ruled[scored])
    got = outcomes(probs, thresholds)
    per_writer = {w: figures([r.kind for r in rows if r.writer == w], [g for r, g in zip(rows, got) if r.writer == w])
                  for w in sorted({r.writer for r in rows} - ALWAYS_TRAINED)}
    started = time.perf_counter()
    pipeline = _fit(rows)
    progress(f"  final model on all {len(rows)} texts ({time.perf_counter() - started:.1f} s)")
    cv = figures([k for k, s in zip(kinds, scored) if s], [g for g, s in zip(got, scored) if s])
    return SafetyModel(pipeline, thresholds, cv, per_writer, data_hash, _code_hash()), probs


def rule_flags(texts: Sequence[str]) -> np.ndarray:
    """Whether the rules (bot.safety.rules.screen) flag each text."""
    from bot.safety import rules   # spaCy: imported only when training
    rules.warm_up()
    return np.array([rules.screen(t) is not None for t in texts], dtype=bool)


def _with_rules(rows: Sequence[Row], probs: np.ndarray, thresholds: Thresholds) -> list[str]:
    """Report lines: the rules alone, and the screen as it runs live (rules unless vetoed, then the model)."""
    from bot.safety import rules
    scored = [i for i, r in enumerate(rows) if r.writer not in ALWAYS_TRAINED]
    kinds = [rows[i].kind for i in scored]
    ruled = [rules.screen(rows[i].text) for i in scored]
    got = outcomes(probs[scored], thresholds)
    score = probs[scored, 1] + probs[scored, 2]
    stands = rule_stands(np.array([f is not None for f in ruled]), score, thresholds.veto)
    live = [f.kind if f and keep else g for f, keep, g in zip(ruled, stands, got)]
    return [f"  rules alone:          {figures(kinds, [f.kind if f else None for f in ruled]).line()}",
            f"  rules set aside by the model: {sum(1 for f in ruled if f) - int(stands.sum())}",
            f"  the live screen:      {figures(kinds, live).line()}"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.safety.model", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("train", help="cross-validate, choose thresholds, fit and save")
    cmd.add_argument("--out", type=Path, default=DEFAULT_PATH)
    cmd.add_argument("--writers", type=Path, default=WRITERS_DIR, help="folder of writer_*.csv")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    files = training_files(args.writers)
    if not files:
        parser.error(f"no writer_*.csv in {args.writers}")
    rows = read_rows(files)
    print(f"training the safety classifier on {len(rows)} texts from {len(files)} writers "
          f"(scikit-learn {sklearn.__version__}); leave-one-writer-out cross-validation:", flush=True)
    model, probs = train_with_cv(rows, content_hash(files), progress=lambda s: print(s, flush=True))
    t = model.thresholds
    print(f"thresholds: flag clinical >= {t.clinical:.3f}, flag safeguarding >= {t.safeguarding:.3f}, "
          f"review when clinical + safeguarding >= {t.review:.3f}, a rule's flag set aside below {t.veto:.3f}")
    print("out-of-fold, classifier alone:")
    for writer, fig in model.cv_per_writer.items():
        print(f"  {writer}:  {fig.line()}")
    print(f"  all: {model.cv.line()}")
    model.save(args.out)
    print(f"saved {args.out} ({time.perf_counter() - started:.1f} s)", flush=True)
    print("out-of-fold, with the rules (bot.safety.rules.screen) as the first net:")
    print("\n".join(_with_rules(rows, probs, t)), flush=True)
    return 0


if __name__ == "__main__":
    # Run main from the imported module, so the pickle names bot.safety.model's classes, not __main__'s.
    from bot.safety.model import main as _main
    sys.exit(_main())
