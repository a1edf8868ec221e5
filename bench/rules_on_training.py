"""How the rules alone (`bot.safety.rules.screen`) do on the TRAINING writers' texts. Not a test.

Run from the project root:

    .venv/bin/python bench/rules_on_training.py [--writers wA,wB,wC] [--show-false-alarms]
        [--save FILE.json] [--compare FILE.json]

Reads only data/safety/writers/writer_w{A,B,C,E,G}.csv (never the held-out writers in
tests/data/safety_heldout/, never the check-in answers). Per writer and overall it prints the rules'
recall on clinical and on safeguarding flags (any flag counts as caught, whatever its kind) and the
share of `none` texts the rules flag; then the false alarms grouped by the writer's `category`
(for `none` texts: the kind of ordinary text, e.g. "past_event", "idiom") and by the rule category
that fired.

`--save` writes each text's outcome (the rule category or null) to a JSON file, and `--compare`
lists the texts whose outcome changed since such a file: flags lost (the ones that matter) and
false alarms removed or added. Use it to check that a change to the rules loses no flag.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.safety import rules  # noqa: E402

WRITERS_DIR = ROOT / "data" / "safety" / "writers"
TRAINING_WRITERS = ("wA", "wB", "wC", "wE", "wG")


def read(writers: tuple[str, ...]) -> list[dict]:
    rows: list[dict] = []
    for w in writers:
        if w not in TRAINING_WRITERS:
            raise SystemExit(f"{w} is not a training writer ({', '.join(TRAINING_WRITERS)})")
        with (WRITERS_DIR / f"writer_{w}.csv").open(encoding="utf-8", newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows


def share(part: int, whole: int) -> str:
    return f"{part / whole:6.1%} ({part}/{whole})" if whole else "     -"


def report(rows: list[dict], got: list[Optional[rules.Flag]], show: bool) -> None:
    writers = sorted({r["writer"] for r in rows})
    print(f"{'writer':8} {'recall clinical':>20} {'recall safeguarding':>20} {'none flagged':>20}")
    for name in writers + ["all"]:
        idx = [i for i, r in enumerate(rows) if name == "all" or r["writer"] == name]
        line = [f"{name:8}"]
        for kind in ("clinical", "safeguarding", "none"):
            k = [i for i in idx if rows[i]["kind"] == kind]
            line.append(f"{share(sum(got[i] is not None for i in k), len(k)):>20}")
        print(" ".join(line))

    false = [i for i, r in enumerate(rows) if r["kind"] == "none" and got[i] is not None]
    nones = Counter(r["category"] for r in rows if r["kind"] == "none")
    by_writer_cat = Counter(rows[i]["category"] for i in false)
    print("\nfalse alarms by the writer's category (flagged / none texts of that category):")
    for cat, n in by_writer_cat.most_common():
        print(f"  {cat:28} {n:4} / {nones[cat]}")
    print("\nfalse alarms by the rule category that fired:")
    for cat, n in Counter(got[i].category for i in false).most_common():
        print(f"  {cat:28} {n:4}")
    wrong = [i for i, r in enumerate(rows) if r["kind"] != "none" and got[i] is not None and got[i].kind != r["kind"]]
    print(f"\nflags caught with the other kind: {len(wrong)}")
    if show:
        print("\nfalse alarms:")
        for i in false:
            print(f"  [{rows[i]['writer']} {rows[i]['category']} -> {got[i].category}] {rows[i]['text']!r} "
                  f"{got[i].evidence}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default=",".join(TRAINING_WRITERS), help="comma-separated training writers")
    parser.add_argument("--show-false-alarms", action="store_true", help="print every false alarm's text")
    parser.add_argument("--show-misses", action="store_true", help="print every missed flag's text")
    parser.add_argument("--save", type=Path, help="write each text's outcome to this JSON file")
    parser.add_argument("--compare", type=Path, help="list texts whose outcome changed since this JSON file")
    args = parser.parse_args(argv)

    rows = read(tuple(w.strip() for w in args.writers.split(",") if w.strip()))
    rules.warm_up()
    got = [rules.screen(r["text"]) for r in rows]
    report(rows, got, args.show_false_alarms)
    if args.show_misses:
        print("\nmissed flags:")
        for r, g in zip(rows, got):
            if r["kind"] != "none" and g is None:
                print(f"  [{r['writer']} {r['kind']} {r['category']}] {r['text']!r}")
    outcome = {f"{r['writer']}|{r['text']}": (g.category if g else None) for r, g in zip(rows, got)}
    if args.compare:
        before = json.loads(args.compare.read_text(encoding="utf-8"))
        kinds = {f"{r['writer']}|{r['text']}": r["kind"] for r in rows}
        changed = [(k, before[k], v) for k, v in outcome.items() if k in before and before[k] != v]
        print(f"\nchanged since {args.compare}: {len(changed)}")
        for key, old, new in sorted(changed, key=lambda c: (kinds[c[0]] == "none", c[0])):
            tag = "LOST FLAG" if kinds[key] != "none" and new is None else \
                  "gained flag" if kinds[key] != "none" else "fa removed" if new is None else "fa changed/added"
            print(f"  {tag:16} [{kinds[key]}] {old} -> {new}: {key!r}")
    if args.save:
        args.save.write_text(json.dumps(outcome, indent=0, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
