"""How well the concern check-in parsers read the labelled replies (it is not a test).

Run from the project root:

    .venv/bin/python bench/score_accuracy.py [--csv tests/data/concern_replies.csv]

Prints the accuracy per question type (score, areas), the number of misreads (a number different
from the labelled one, or a number where the label has none: the failure that must never happen),
the number of safe misses (read as "unclear" where the label has an answer: the patient is asked
again), and every failing row. Exits 1 if there is any misread, so it can gate a change.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # spaCy's thinc imports TensorFlow when it is installed

from bot.checkin.replies import AreasReply, ScoreReply, parse_areas, parse_score, warm_up  # noqa: E402


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def parse_label(expected: str) -> dict:
    """"score:7" / "by_area:physical=7;practical=4" / "areas:a;b|scores:a=7" / a bare kind."""
    label: dict = {"kind": expected, "score": None, "by_area": None, "areas": None, "scores": None}
    for part in expected.split("|"):
        name, _, value = part.partition(":")
        if name == "score":
            label.update(kind="score", score=int(value))
        elif name == "by_area":
            label.update(kind="score", by_area={k: int(v) for k, v in (p.split("=") for p in value.split(";"))})
        elif name == "areas":
            label.update(kind="areas", areas=tuple(value.split(";")))
        elif name == "scores":
            label["scores"] = {k: int(v) for k, v in (p.split("=") for p in value.split(";"))}
    return label


def numbers_of(reply) -> dict:
    """Every number a reply carries, by what it is about ("_" = the overall score)."""
    if isinstance(reply, ScoreReply):
        out = dict(reply.by_area)
        if reply.score is not None:
            out["_"] = reply.score
        return out
    return dict(reply.scores)


def labelled_numbers(label: dict) -> dict:
    out = dict(label["by_area"] or label["scores"] or {})
    if label["score"] is not None:
        out["_"] = label["score"]
    return out


def judge(question: str, text: str, expected: str):
    """-> (reply, correct, misread, safe_miss)."""
    label = parse_label(expected)
    reply = parse_score(text) if question == "score" else parse_areas(text)
    if question == "score":
        correct = reply.kind == label["kind"]
        if correct and label["score"] is not None:
            correct = reply.score == label["score"]
        if correct and label["by_area"] is not None:
            correct = dict(reply.by_area) == label["by_area"] and reply.score == label["score"]
    else:
        assert isinstance(reply, AreasReply)
        correct = reply.kind == label["kind"] and (label["areas"] is None or reply.areas == label["areas"]) \
            and dict(reply.scores) == (label["scores"] or {})
    got, want = numbers_of(reply), labelled_numbers(label)
    # A misread: any number the parser returns that the patient did not give for that thing. Where the
    # label has one overall number and the reply scored areas, each area's number must be that number.
    misread = any(want.get(key, want.get("_")) != value for key, value in got.items())
    safe_miss = not correct and not misread and reply.kind == "unclear"
    return reply, correct, misread, safe_miss


def describe(reply) -> str:
    """A reply as "kind score=7 by_area={...}", leaving out empty fields."""
    parts = [reply.kind]
    for name in reply.__dataclass_fields__:
        value = getattr(reply, name)
        if name != "kind" and value not in (None, ()) and not (hasattr(value, "items") and not value):
            parts.append(f"{name}={dict(value) if hasattr(value, 'items') else value}")
    return " ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "tests" / "data" / "concern_replies.csv")
    args = parser.parse_args()
    rows = load(args.csv)
    warm_up()
    totals, right = Counter(), Counter()
    misreads, safe_misses, failures = [], [], []
    started = time.perf_counter()
    for row in rows:
        reply, correct, misread, safe_miss = judge(row["question"], row["text"], row["expected"])
        totals[row["question"]] += 1
        right[row["question"]] += correct
        if misread:
            misreads.append((row, reply))
        if safe_miss:
            safe_misses.append((row, reply))
        if not correct:
            failures.append((row, reply, "MISREAD" if misread else "safe miss" if safe_miss else "wrong kind"))
    elapsed = time.perf_counter() - started

    shown = args.csv.resolve().relative_to(ROOT) if args.csv.resolve().is_relative_to(ROOT) else args.csv
    print(f"{len(rows)} labelled replies from {shown}")
    for question in sorted(totals):
        print(f"  {question:6s} accuracy {right[question] / totals[question]:.3f} "
              f"({right[question]}/{totals[question]})")
    overall = sum(right.values()) / max(1, sum(totals.values()))
    print(f"  all    accuracy {overall:.3f} ({sum(right.values())}/{sum(totals.values())})")
    print(f"misreads (a number different from the label): {len(misreads)}")
    print(f"safe misses (unclear instead of the label):    {len(safe_misses)}")
    print(f"time: {1000 * elapsed / max(1, len(rows)):.2f} ms a reply")
    if failures:
        print("\nfailing rows:")
        for row, reply, why in failures:
            print(f"  [{why}] {row['question']}: {row['text']!r} expected {row['expected']} got {describe(reply)}")
    return 1 if misreads else 0


if __name__ == "__main__":
    sys.exit(main())
