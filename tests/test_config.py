"""The settings object documents every environment variable once (bot/config.py VARIABLES), and
the README's Configuration table is generated from it: these tests fail when the two differ, when
the code reads a variable nobody documented, or when a documented variable is read nowhere."""
from __future__ import annotations

import re

from bot.config import PROJECT_ROOT, VARIABLES, settings_table

BEGIN = "<!-- settings table: generated from bot/config.py VARIABLES by `python -m bot.config --table`; edit it there -->"
END = "<!-- end of settings table -->"
# How the product reads a variable: os.environ.get("X"), env("X"), env.get("X"), the typed readers in
# bot/config.py, environ["X"], a NAME_VARIABLE = "X" constant; and ${X} in Rasa's endpoints files.
READ = re.compile(r'(?:environ\.get|env\.get|\benv|_float|_days|_address)\(\s*"([A-Z][A-Z0-9_]+)"'
                  r'|(?:environ|env)\["([A-Z][A-Z0-9_]+)"\]|_VARIABLE = "([A-Z][A-Z0-9_]+)"')
ENDPOINT = re.compile(r"\$\{([A-Z][A-Z0-9_]+)\}")


def product_sources() -> dict[str, str]:
    files = [*PROJECT_ROOT.joinpath("bot").rglob("*.py"), *PROJECT_ROOT.joinpath("actions").rglob("*.py")]
    return {str(f.relative_to(PROJECT_ROOT)): f.read_text(encoding="utf-8") for f in files}


def variables_read() -> dict[str, str]:
    """Each variable the product reads -> one file that reads it."""
    found = {}
    for path, text in product_sources().items():
        for match in READ.finditer(text):
            found.setdefault(next(g for g in match.groups() if g), path)
    for endpoints in PROJECT_ROOT.glob("endpoints*.yml"):
        lines = [line for line in endpoints.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
        for name in ENDPOINT.findall("\n".join(lines)):
            found.setdefault(name, endpoints.name)
    return found


def test_the_readme_table_is_the_generated_one():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme, "README.md lost the settings table's markers"
    shown = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == settings_table(), "README.md's Configuration table is stale: paste `python -m bot.config --table`"


def test_every_variable_the_code_reads_is_documented():
    documented = {name for v in VARIABLES for name in v.names}
    undocumented = {name: path for name, path in variables_read().items() if name not in documented}
    assert not undocumented, f"add these to bot/config.py VARIABLES: {undocumented}"


def test_every_documented_variable_is_read_somewhere():
    read = set(variables_read())
    stale = [name for v in VARIABLES for name in v.names if name not in read]
    assert not stale, f"documented but read nowhere: {stale}"


def test_each_variable_is_documented_once():
    names = [name for v in VARIABLES for name in v.names]
    assert len(names) == len(set(names))
