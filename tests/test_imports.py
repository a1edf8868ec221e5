"""Every module of the product imports: a moved or renamed module must leave no import behind.
(mypy runs with ignore_missing_imports for third-party packages, so it would not notice.)"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import actions
import bot

MODULES = sorted(name for package in (bot, actions)
                 for _, name, _ in pkgutil.walk_packages(package.__path__, package.__name__ + "."))


def test_the_walk_finds_the_message_path():
    assert {"bot.processes.gateway", "bot.inbound.processor", "bot.sender.sender", "bot.safety.screen"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_imports(name):
    importlib.import_module(name)


def imports_of(name: str) -> set[str]:
    """The product modules `name` imports, anywhere in it (a cycle hidden inside a function is
    still a cycle)."""
    spec = importlib.util.find_spec(name)
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                found.add(target if target in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


def test_no_module_imports_itself_through_others():
    graph = {name: imports_of(name) for name in MODULES}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            here = todo.pop()
            if here == goal:
                return True
            if here not in seen:
                seen.add(here)
                todo.extend(graph[here])
        return False

    cycles = sorted(name for name in MODULES if reaches(name, name))
    assert not cycles, f"import cycles through: {cycles}"
