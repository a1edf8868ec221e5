"""The action server registers exactly the custom actions the domain lists (as `rasa run actions` does)."""
from __future__ import annotations

import yaml
from rasa_sdk.executor import ActionExecutor

from bot.config import PROJECT_ROOT


def test_every_domain_action_is_served_and_nothing_else():
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    assert set(executor.actions) == set(domain["actions"])
