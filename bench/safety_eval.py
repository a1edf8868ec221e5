"""How well the safety screen does on the labelled set of patient texts (it is not a test).

Run from the project root:

    .venv/bin/python bench/safety_eval.py [--csv tests/data/safety_labelled.csv] [--repeat 5]

Prints recall on the texts that must flag (caught with the right kind), the false-alarm rate on
ordinary texts, how many flags each category raised, per-message timing (p50/p95/max ms, after
the pipeline is built), and lists every miss, wrong kind, lower-than-labelled severity and false
alarm. Exits 1 if any must-flag text is missed, so it can gate a change to the vocabulary.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import safety  # noqa: E402

SEVERITY_RANK = {"urgent": 0, "soon": 1}


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "tests" / "data" / "safety_labelled.csv")
    parser.add_argument("--repeat", type=int, default=5, help="timing passes over the set (default 5)")
    parser.add_argument("--with-nlu", type=Path, metavar="MODEL", default=None,
                        help="also run the second net (the NLU's flag intents, as the gateway does) "
                             "with this trained model, e.g. models/can005.tar.gz")
    args = parser.parse_args()

    rows = load(args.csv)
    started = time.perf_counter()
    safety.warm_up()
    build_s = time.perf_counter() - started

    results = [(row, safety.screen(row["text"])) for row in rows]
    must = [(row, flag) for row, flag in results if row["expected_kind"]]
    ordinary = [(row, flag) for row, flag in results if not row["expected_kind"]]
    caught = [(row, flag) for row, flag in must if flag is not None and flag.kind == row["expected_kind"]]
    missed = [(row, flag) for row, flag in must if flag is None]
    wrong_kind = [(row, flag) for row, flag in must if flag is not None and flag.kind != row["expected_kind"]]
    lower = [(row, flag) for row, flag in caught if row["expected_severity"]
             and SEVERITY_RANK[flag.severity] > SEVERITY_RANK[row["expected_severity"]]]
    false_alarms = [(row, flag) for row, flag in ordinary if flag is not None]

    timings = []
    for _ in range(args.repeat):
        for row in rows:
            t = time.perf_counter()
            safety.screen(row["text"])
            timings.append((time.perf_counter() - t) * 1000)

    recall = len(caught) / len(must) if must else 1.0
    fa_rate = len(false_alarms) / len(ordinary) if ordinary else 0.0
    print(f"labelled set: {args.csv.relative_to(ROOT) if args.csv.is_relative_to(ROOT) else args.csv}")
    print(f"  {len(rows)} texts: {len(must)} must flag, {len(ordinary)} ordinary")
    print(f"recall (caught with the right kind): {len(caught)}/{len(must)} = {recall:.1%}")
    print(f"false-alarm rate on ordinary texts:  {len(false_alarms)}/{len(ordinary)} = {fa_rate:.1%}")
    print(f"severity lower than labelled:        {len(lower)}")
    print(f"pipeline build (first call):         {build_s * 1000:.0f} ms")
    print(f"per message over {len(timings)} calls:       p50 {statistics.median(timings):.2f} ms, "
          f"p95 {percentile(timings, 95):.2f} ms, max {max(timings):.2f} ms")

    print("\nflags by category (must-flag texts | false alarms):")
    by_cat = Counter(flag.category for _, flag in must if flag is not None)
    fa_cat = Counter(flag.category for _, flag in false_alarms)
    labelled_kind = Counter(row["expected_kind"] for row, _ in must)
    for category in sorted(set(by_cat) | set(fa_cat), key=lambda c: -by_cat[c]):
        print(f"  {category:24s} {by_cat[category]:4d} | {fa_cat[category]}")
    print("labelled kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(labelled_kind.items())))
    severities = Counter((flag.kind, flag.severity) for _, flag in must if flag is not None)
    print("flag severities: " + ", ".join(f"{k}/{s} {v}" for (k, s), v in sorted(severities.items())))

    def show(title: str, items: list) -> None:
        print(f"\n{title}: {len(items)}")
        for row, flag in items:
            got = f"{flag.kind}/{flag.severity}/{flag.category} {list(flag.evidence)}" if flag else "no flag"
            want = f"{row['expected_kind']}/{row['expected_severity']}" if row["expected_kind"] else "no flag"
            print(f"  - {row['text'][:100]!r}\n      want {want}; got {got}")

    show("MISSED (must flag)", missed)
    show("WRONG KIND", wrong_kind)
    show("SEVERITY LOWER THAN LABELLED", lower)
    show("FALSE ALARMS", false_alarms)
    if args.with_nlu:
        nlu_report(args.with_nlu, must, ordinary)
    return 1 if missed or wrong_kind else 0


def nlu_report(model: Path, must: list, ordinary: list) -> None:
    """Both nets together, as live texts meet them: rules first, then the NLU's flag intents."""
    import asyncio
    import logging

    from rasa.core.agent import Agent

    from bot.processor import NLU_FLAG_INTENTS, NLU_FLAG_THRESHOLD

    logging.disable(logging.WARNING)
    agent = Agent.load(str(model))

    def nlu_kind(text: str):
        ranking = asyncio.run(agent.parse_message(text))["intent_ranking"]
        for item in ranking:
            if item["name"] in NLU_FLAG_INTENTS and item["confidence"] >= NLU_FLAG_THRESHOLD:
                return NLU_FLAG_INTENTS[item["name"]]
        return None

    extra_alarms = [row for row, flag in ordinary if flag is None and nlu_kind(row["text"])]
    rules_alarms = sum(1 for _, flag in ordinary if flag is not None)
    nlu_alone = sum(1 for row, _ in must if nlu_kind(row["text"]) is not None)
    print(f"\nsecond net (NLU flag intents >= {NLU_FLAG_THRESHOLD}) with {model}:")
    print(f"  NLU alone catches {nlu_alone}/{len(must)} must-flag texts")
    print(f"  false alarms added to the rules': {len(extra_alarms)}; both nets together: "
          f"{rules_alarms + len(extra_alarms)}/{len(ordinary)} = {(rules_alarms + len(extra_alarms)) / len(ordinary):.1%}")
    for row in extra_alarms:
        print(f"  - {row['text'][:100]!r}")


if __name__ == "__main__":
    sys.exit(main())
