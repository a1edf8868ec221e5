"""Practice scripts: one YAML file per practice in `practices/`, over the defaults in
`bot/default_script.yml`. Loaded and validated once; every patient-facing text is rendered here.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import jinja2
import yaml
from jinja2 import meta

from bot.send_window import SendWindow

DEFAULT_SCRIPT = Path(__file__).with_name("default_script.yml")
KNOWN_KEYS = {"ods_code", "name", "phone", "sender", "contact", "callback_days", "not_monitored",
              "codes", "messages", "oncology_helpline", "duty_clinician_phone", "send_window"}
CONTACT_KEYS = {"name", "role"}
PLACEHOLDERS = {"first_name", "practice", "contact", "callback_days", "not_monitored", "helpline"}

_jinja = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


class ScriptError(ValueError):
    """A practice script is invalid. The message names the file, line and field."""


@dataclass(frozen=True)
class PracticeScript:
    ods_code: str
    name: str
    phone: str
    sender: Optional[str]
    data: Mapping[str, Any]
    path: Path

    def code_for(self, cluster: str) -> str:
        """The SNOMED CT code this practice records for a QOF cluster (may be empty)."""
        return str(self.data.get("codes", {}).get(cluster) or "")

    def render(self, message: str, first_name: str = "", helpline: str = "") -> str:
        """Render one message for a patient. Raises KeyError for a message that does not exist.
        `helpline` is the patient's hospital helpline; the practice's default is used without one."""
        templates = self.data["messages"]
        if message not in templates:
            raise KeyError(f"no message {message!r} in the script of {self.ods_code}")
        context = {
            "first_name": first_name,
            "practice": {"name": self.name, "phone": self.phone},
            "contact": self.data["contact"],
            "callback_days": self.data["callback_days"],
            "not_monitored": self.data["not_monitored"],
            "helpline": helpline or str(self.data.get("oncology_helpline") or ""),
        }
        text = _jinja.from_string(templates[message]).render(**context)
        return " ".join(text.split())  # one paragraph: SMS shows no formatting


def _line_of(path: Path, text: str, *keys: str) -> int:
    """The line (1-based) where a key path is written, for error messages; 1 if not found."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return 1
    line = 1
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        for k, v in node.value:
            if k.value == key:
                line, node = k.start_mark.line + 1, v
                break
        else:
            break
    return line


def _merge(base: dict, override: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_script(path: Path) -> PracticeScript:
    """Load and validate one practice file. Raises ScriptError naming file, line and field."""
    text = path.read_text(encoding="utf-8")

    def fail(message: str, *keys: str) -> ScriptError:
        return ScriptError(f"{path}:{_line_of(path, text, *keys)}: {'.'.join(keys) or 'file'}: {message}")

    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ScriptError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise fail("the file must be a mapping of settings")
    for key in raw:
        if key not in KNOWN_KEYS:
            raise fail(f"unknown setting (known: {', '.join(sorted(KNOWN_KEYS))})", str(key))
    for key in ("ods_code", "name", "phone"):
        if not isinstance(raw.get(key), (str, int)) or not str(raw.get(key)).strip():
            raise fail("is required and must be text", key)
    defaults = yaml.safe_load(DEFAULT_SCRIPT.read_text(encoding="utf-8"))
    data = _merge(defaults, raw)
    for key in data["contact"]:
        if key not in CONTACT_KEYS:
            raise fail("unknown contact setting (known: name, role)", "contact", str(key))
    try:
        SendWindow.from_config(data.get("send_window"))
    except ValueError as exc:
        raise fail(str(exc).removeprefix("send_window: "), "send_window") from None
    if not isinstance(data["callback_days"], int) or data["callback_days"] < 0:
        raise fail("must be a whole number of days", "callback_days")
    for name, template in data["messages"].items():
        if name not in defaults["messages"]:
            raise fail(f"unknown message (known: {', '.join(sorted(defaults['messages']))})", "messages", name)
        if not isinstance(template, str) or not template.strip():
            raise fail("must be non-empty text", "messages", name)
        try:
            used = meta.find_undeclared_variables(_jinja.parse(template))
        except jinja2.TemplateSyntaxError as exc:
            raise fail(f"template error: {exc.message}", "messages", name) from None
        unknown = used - PLACEHOLDERS
        if unknown:
            raise fail(f"unknown placeholder(s) {', '.join(sorted(unknown))}", "messages", name)
    return PracticeScript(
        ods_code=str(raw["ods_code"]).strip().upper(),
        name=str(raw["name"]).strip(),
        phone=str(raw["phone"]).strip(),
        sender=str(raw["sender"]).strip() if raw.get("sender") else None,
        data=data,
        path=path,
    )


@functools.lru_cache(maxsize=8)
def load_all(practices_dir: Path) -> dict[str, PracticeScript]:
    """Every practice script in a folder, keyed by ODS code. Raises ScriptError on the first bad file."""
    scripts: dict[str, PracticeScript] = {}
    for path in sorted(Path(practices_dir).glob("*.yml")):
        script = load_script(path)
        if script.ods_code in scripts:
            raise ScriptError(f"{path}:1: ods_code: {script.ods_code} is also used by {scripts[script.ods_code].path}")
        scripts[script.ods_code] = script
    return scripts


def script_for(practices_dir: Path, ods_code: str) -> PracticeScript:
    """The script of one practice; ScriptError when the practice has no file."""
    scripts = load_all(Path(practices_dir))
    try:
        return scripts[ods_code.upper()]
    except KeyError:
        raise ScriptError(f"no practice script for ODS code {ods_code!r} in {practices_dir}") from None
