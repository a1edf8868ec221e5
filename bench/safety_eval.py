"""How well the safety screen does on the held-out writers' texts (it is not a test; the floors
are in tests/test_safety_heldout.py).

Run from the project root, after `make model`:

    .venv/bin/python bench/safety_eval.py [--model models/safety.pkl] [--json FILE|-]

Measures three screens on tests/data/safety_heldout/writer_*.csv, writers who never saw the rules
and whose texts the classifier never trained on: the rules alone (`bot.safety.rules.screen`), the
classifier alone (`bot.safety.model`, flag or review) and the two together (rules OR classifier,
the rules' kind first). Per writer and per category: recall of clinical and of safeguarding flags
(a flag or a review counts as caught), kind right (among caught flags given an explicit kind, the
share with the right kind) and the share of `none` texts sent to a person (any flag or review).

It prints no texts on purpose: the held-out writers are test data, and nothing about the screen
may be tuned by reading them. Tune with `python -m bot.safety.model train` (cross-validation over
the training writers) instead.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections import defaultdict
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.safety import model as safety_model, rules  # noqa: E402
from bot.safety.model import Figures, Row, figures  # noqa: E402
from bot.safety.screen import screen_text  # noqa: E402

HELDOUT_DIR = ROOT / "tests" / "data" / "safety_heldout"
SCREENS = ("rules", "classifier", "combined")
LABELS = {"rules": "rules alone", "classifier": "classifier alone", "combined": "live screen (both)"}
TARGETS = {"recall_clinical": 0.99, "recall_safeguarding": 0.99, "kind_right": 0.95, "person_rate": 0.10}


def outcomes(rows: list[Row], model: safety_model.SafetyModel) -> dict[str, list[Optional[str]]]:
    """Each screen's outcome per row: a kind, "review" or None."""
    rules.warm_up()
    ruled = [rules.screen(r.text) for r in rows]
    assessed = [a.outcome for a in model.assess_all(r.text for r in rows)]
    live = [f.kind if (f := screen_text(r.text, model)) else None for r in rows]  # what live texts meet
    return {"rules": [f.kind if f else None for f in ruled], "classifier": assessed, "combined": live}


def measure(rows: list[Row], got: dict[str, list[Optional[str]]]) -> dict:
    """Figures per writer (and all), and recall / person-rate per category, for every screen."""
    writers = sorted({r.writer for r in rows})
    groups = {w: [i for i, r in enumerate(rows) if r.writer == w] for w in writers}
    groups["all"] = list(range(len(rows)))
    per_writer = {name: {screen: dataclasses.asdict(figures([rows[i].kind for i in idx],
                                                            [got[screen][i] for i in idx]))
                         for screen in SCREENS} for name, idx in groups.items()}
    by_category: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_category[(r.kind, r.category)].append(i)
    per_category = {f"{kind}/{category}": {"n": len(idx), **{screen: sum(1 for i in idx if got[screen][i]) / len(idx)
                                                              for screen in SCREENS}}
                    for (kind, category), idx in sorted(by_category.items())}
    return {"writers": writers, "per_writer": per_writer, "per_category": per_category, "targets": TARGETS}


def table(result: dict) -> str:
    out = [f"held-out writers: {', '.join(result['writers'])} (rows: recall of clinical / safeguarding "
           "flags, flag or review caught; kind right; none texts sent to a person)", ""]
    head = f"{'':6}{'screen':22}{'clinical':>10}{'safeguard':>11}{'kind right':>12}{'to person':>11}   flags/none"
    out.append(head)
    for name, screens in result["per_writer"].items():
        for screen in SCREENS:
            f = Figures(**screens[screen])
            out.append(f"{name:6}{LABELS[screen]:22}{f.recall_clinical:10.1%}{f.recall_safeguarding:11.1%}"
                       f"{f.kind_right:12.1%}{f.person_rate:11.1%}   {f.flags}/{f.nones}")
        out.append("")
    t = result["targets"]
    out.append(f"{'':6}{'target':22}{'>=' + format(t['recall_clinical'], '.0%'):>10}"
               f"{'>=' + format(t['recall_safeguarding'], '.0%'):>11}{'>=' + format(t['kind_right'], '.0%'):>12}"
               f"{'<=' + format(t['person_rate'], '.0%'):>11}")
    out += ["", "per category, all held-out writers (flags: share caught; none: share sent to a person):",
            f"{'category':40}{'n':>5}{'rules':>8}{'classif':>9}{'both':>8}"]
    for category, c in result["per_category"].items():
        out.append(f"{category:40}{c['n']:5d}{c['rules']:8.0%}{c['classifier']:9.0%}{c['combined']:8.0%}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=safety_model.DEFAULT_PATH)
    parser.add_argument("--heldout", type=Path, default=HELDOUT_DIR, help="folder of writer_*.csv")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON ('-': stdout only)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    model = safety_model.load(args.model)
    if not model.is_current():
        print(f"warning: {args.model} is older than the training data or code; run `make model`", file=sys.stderr)
    rows = safety_model.read_rows(safety_model.training_files(args.heldout))
    result = measure(rows, outcomes(rows, model))
    t = model.thresholds
    result["thresholds"] = {"clinical": t.clinical, "safeguarding": t.safeguarding, "review": t.review, "veto": t.veto}
    if args.json == "-":
        print(json.dumps(result, indent=2))
        return 0
    print(table(result))
    print(f"\nclassifier thresholds: flag clinical >= {t.clinical:.3f}, safeguarding >= {t.safeguarding:.3f}, "
          f"review >= {t.review:.3f}, a rule set aside below {t.veto:.3f} (chosen by cross-validation over the\n"
          "training writers)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
