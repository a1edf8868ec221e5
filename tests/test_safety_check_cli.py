"""`outreach safety-check`: one JSON line per message, through the same nets as live texts."""
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


@pytest.mark.e2e
def test_the_nlu_second_net_is_applied_when_rasa_is_up(deployment):
    env = {"RASA_URL": deployment.stack.rasa_url, "RASA_TOKEN": deployment.stack.rasa_token}
    result = run_check(["-"], env=env, stdin="things at home are not safe for me\nyes please\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["flag"], r["category"]) for r in rows] == [("safeguarding", "nlu_safeguarding"), (None, None)]


def test_without_rasa_it_says_only_the_rules_were_applied(tmp_path):
    result = run_check(["-"], env={"RASA_URL": "http://127.0.0.1:9"}, stdin="i feel like im dying\n")
    assert result.returncode == 0
    assert "only the rules are applied" in result.stderr


@pytest.mark.parametrize("content, message", [(None, "cannot read"), (b"caf\xe9\n", "is not UTF-8")])
def test_a_missing_or_unreadable_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "messages.txt"
    if content is not None:
        path.write_bytes(content)
    result = run_check([str(path), "--rules-only"])
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""
