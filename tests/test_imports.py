"""Every module of the product imports: a moved or renamed module must leave no import behind.
(mypy runs with ignore_missing_imports for third-party packages, so it would not notice.)"""
from __future__ import annotations

import importlib
import pkgutil

import pytest

import actions
import bot

MODULES = sorted(name for package in (bot, actions)
                 for _, name, _ in pkgutil.walk_packages(package.__path__, package.__name__ + "."))


def test_the_walk_finds_the_message_path():
    assert {"bot.gateway", "bot.inbound.processor", "bot.sender.sender", "bot.safety.screen"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_imports(name):
    importlib.import_module(name)
