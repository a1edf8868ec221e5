"""A small spelling fallback shared by the safety screen and the check-in parsers: correct a word
to a unique nearest known word (edit distance 1, or 2 for long words, same first letter) through
a symmetric-delete index, as in SymSpell. Ambiguous or distant words are left alone."""
from __future__ import annotations

from typing import Iterable, Optional


def deletes(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to `depth` characters from `word` (itself included)."""
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


class FuzzyIndex:
    """The known words, indexed by their deletion neighbourhoods."""

    def __init__(self, targets: Iterable[str]) -> None:
        self.index: dict[str, set[str]] = {}
        for target in targets:
            for d in deletes(target, 2 if len(target) >= 8 else 1):
                self.index.setdefault(d, set()).add(target)

    def lookup(self, word: str) -> Optional[str]:
        """The one nearest known word, or None when nothing is near or two are equally near."""
        limit = 2 if len(word) >= 8 else 1
        candidates: set[str] = set()
        for d in deletes(word, limit):
            candidates |= self.index.get(d, set())
        scored = sorted((edit_distance(word, t), t) for t in candidates if t[0] == word[0])
        scored = [(d, t) for d, t in scored if d <= (2 if len(t) >= 8 and len(word) >= 8 else 1)]
        if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
            return None
        return scored[0][1]
