"""Which additional role a patient should see, from their concern check-in and the practice's rules.

One function, `choose_role`, so the rule lives in one place: the dialogue, the CLI and the tests
all call it. The rules themselves are practice configuration (`routing:` in the practice script,
defaults in bot/practice_script/default_script.yml).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from bot.checkin.replies import AREAS
from bot.practice_script.loader import PracticeScript


@dataclass(frozen=True)
class Decision:
    role: str      # a key of the practice's roles
    rule: str      # one_high_area | several_high_areas | high_overall | one_named_area | default | not_configured
    reason: str    # for the coordinator: which scores led here


def _scores_text(overall: Optional[int], area_scores: Mapping[str, Optional[int]]) -> str:
    parts = [f"overall {overall}" if overall is not None else "overall not given"]
    parts += [f"{area} {score if score is not None else 'not given'}" for area, score in area_scores.items()]
    return ", ".join(parts)


def choose_role(script: PracticeScript, overall: Optional[int], areas: Sequence[str],
                area_scores: Mapping[str, Optional[int]]) -> Decision:
    """Pick one of the practice's roles. `areas` are the areas the patient named (in any order);
    `area_scores` maps each to its 0-10 score or None when skipped. Raises ValueError when the
    practice has no roles at all (nothing can be booked)."""
    roles = script.roles
    if not roles:
        raise ValueError(f"practice {script.ods_code} has no roles configured")
    rules = script.routing
    high = int(rules["high_score"])
    by_area = rules.get("areas") or {}
    default = rules["default"]
    named = [a for a in AREAS if a in areas]
    scores = {a: area_scores.get(a) for a in named}
    facts = _scores_text(overall, scores)
    high_areas = [a for a in named if (score := scores[a]) is not None and score >= high]

    def configured(role: str, rule: str, why: str) -> Decision:
        if role in roles:
            return Decision(role, rule, f"{why} ({facts})")
        return Decision(
            default, "not_configured", f"{why}, but the practice has no {role}: {default} instead ({facts})"
        )

    wanted = {by_area.get(a, default) for a in high_areas}
    if len(wanted) > 1:
        return configured(rules["several_areas"], "several_high_areas",
                          f"high scores (>= {high}) in {', '.join(high_areas)}")
    if len(wanted) == 1:
        return configured(wanted.pop(), "one_high_area", f"high score (>= {high}) in {high_areas[0]}"
                          if len(high_areas) == 1 else f"high scores (>= {high}) in {', '.join(high_areas)}")
    if overall is not None and overall >= high:
        return configured(rules["several_areas"], "high_overall", f"overall {overall} (>= {high}) with no high area")
    if len(named) == 1 and scores[named[0]] is None:
        return configured(by_area.get(named[0], default), "one_named_area", f"named only {named[0]}, no score")
    return Decision(default, "default", f"no high scores; the patient asked for a conversation ({facts})")
