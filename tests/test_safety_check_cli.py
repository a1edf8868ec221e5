"""`outreach safety-check`: one JSON line per message, through the same screen as live texts."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.config import PROJECT_ROOT


def run_check(args: list[str], env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "safety-check", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, **(env or {})}, input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_one_json_line_per_message_with_rules_only(tmp_path):
    lines = ["temp 38.5 after chemo tuesday", "yes please", "no temperature, feeling fine", "<b>he hits me</b>", ""]
    path = tmp_path / "messages.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_check([str(path), "--rules-only"])
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == lines
    assert [r["flag"] for r in rows] == ["clinical", None, None, "safeguarding", None]
    assert rows[0]["severity"] == "urgent" and "38.5" in rows[0]["evidence"]


def test_the_trained_model_catches_what_the_rules_miss_and_needs_no_rasa():
    """The same screen as live texts (bot/safety/screen.py): rules, then the model; three outcomes. These
    texts are written here, not taken from the corpus the model was trained on."""
    lines = ["the whites of my eyes look yellow and my pee is really dark",   # the rules miss jaundice
             "im not planning on being around much longer",                    # passive suicidal statement
             "been getting headaches",                                         # a person reads it (flag or review)
             "мне плохо сегодня",                                              # words the screen cannot read
             "yes please", ""]
    result = run_check(["-"], env={"RASA_URL": "http://127.0.0.1:9"}, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Rasa" not in result.stderr  # no Rasa needed, so no warning about it
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[2]["flag"] in ("clinical", "review")   # how sure the model is may change as the corpus grows
    assert [(r["flag"], r["category"]) for i, r in enumerate(rows) if i != 2] == [
        ("clinical", "model_clinical"), ("safeguarding", "model_safeguarding"),
        ("review", "unreadable"), (None, None), (None, None)]
    assert rows[0]["evidence"][0].startswith("model: clinical ")


def test_a_missing_model_is_a_clear_error_naming_the_fix(tmp_path):
    result = run_check(["-"], env={"SAFETY_MODEL": str(tmp_path / "nowhere.pkl")}, stdin="hello\n")
    assert result.returncode == 2 and result.stdout == ""
    assert "the safety screen's model is missing" in result.stderr and "make model" in result.stderr
    assert "--rules-only" in result.stderr
    rules_only = run_check(["-", "--rules-only"], env={"SAFETY_MODEL": str(tmp_path / "nowhere.pkl")},
                           stdin="hello\n")
    assert rules_only.returncode == 0 and json.loads(rules_only.stdout)["flag"] is None


@pytest.mark.parametrize("content, message", [(None, "cannot read"), (b"caf\xe9\n", "is not UTF-8")])
def test_a_missing_or_unreadable_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "messages.txt"
    if content is not None:
        path.write_bytes(content)
    result = run_check([str(path), "--rules-only"])
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""
