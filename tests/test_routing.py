"""Routing a patient to an additional role from their check-in answers (bot/booking/routing.py), with the
example practice's roles: care coordinator, social prescriber, health and wellbeing coach (no
mental health practitioner, so that rule falls back)."""
from __future__ import annotations

import dataclasses

import pytest

from bot.config import PROJECT_ROOT
from bot.booking.routing import choose_role
from bot.practice_script.loader import load_all

SCRIPT = load_all(PROJECT_ROOT / "practices")["Y00001"]


@pytest.mark.parametrize("overall, areas, scores, role, rule", [
    (7, ["practical"], {"practical": 8}, "social_prescriber", "one_high_area"),
    (3, ["lifestyle"], {"lifestyle": 5}, "health_coach", "one_high_area"),
    (5, ["lifestyle", "practical"], {"lifestyle": 3, "practical": 4}, "social_prescriber", "one_high_area"),
    (8, ["practical", "lifestyle"], {"practical": 7, "lifestyle": 6}, "care_coordinator", "several_high_areas"),
    (8, ["physical", "family"], {"physical": 7, "family": 6}, "care_coordinator", "one_high_area"),
    (6, ["emotional"], {"emotional": 9}, "care_coordinator", "not_configured"),
    (6, [], {}, "care_coordinator", "high_overall"),
    (4, ["practical"], {"practical": 2}, "care_coordinator", "high_overall"),
    (2, [], {}, "care_coordinator", "default"),
    (None, [], {}, "care_coordinator", "default"),
    (None, ["practical"], {"practical": None}, "social_prescriber", "one_named_area"),
    (2, ["practical", "lifestyle"], {"practical": None, "lifestyle": None}, "care_coordinator", "default"),
    (0, ["practical"], {"practical": 3}, "care_coordinator", "default"),
])
def test_the_role_follows_the_practice_rules(overall, areas, scores, role, rule):
    decision = choose_role(SCRIPT, overall, areas, scores)
    assert (decision.role, decision.rule) == (role, rule)
    assert decision.role in SCRIPT.roles


def test_the_reason_names_the_scores_a_coordinator_needs():
    decision = choose_role(SCRIPT, 7, ["practical", "physical"], {"practical": 8, "physical": None})
    assert decision.reason == ("high score (>= 4) in practical (overall 7, physical not given, practical 8)")


def test_an_unconfigured_role_says_which_role_was_wanted():
    decision = choose_role(SCRIPT, 6, ["emotional"], {"emotional": 9})
    assert "no mental_health_practitioner" in decision.reason and "care_coordinator instead" in decision.reason


def test_the_high_score_is_practice_configuration():
    data = dict(SCRIPT.data, routing=dict(SCRIPT.data["routing"], high_score=7))
    strict = dataclasses.replace(SCRIPT, data=data)
    assert choose_role(strict, 5, ["practical"], {"practical": 6}).rule == "default"
    assert choose_role(strict, 5, ["practical"], {"practical": 7}).role == "social_prescriber"


def test_a_practice_without_roles_cannot_route():
    with pytest.raises(ValueError, match="Y00002 has no roles"):
        choose_role(load_all(PROJECT_ROOT / "practices")["Y00002"], 5, [], {})
