"""Practice scripts: one YAML file per practice in `practices/`, over the defaults in
`bot/practice_script/default_script.yml`. Loaded and validated once; every patient-facing text is rendered here.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import jinja2
import yaml
from jinja2 import meta

from bot.checkin.replies import AREAS
from bot.patients.phones import PhoneError, normalise_uk_mobile
from bot.safety.flag_limits import DEFAULT_LIMITS, EscalationContacts, PracticeLimits, Severity, TimeLimit
from bot.sender.send_window import DEFAULT as SEND_DEFAULT, OPENING_DEFAULT, HoursError, SendWindow

DEFAULT_SCRIPT = Path(__file__).with_name("default_script.yml")
KNOWN_KEYS = {"ods_code", "name", "phone", "sender", "contact", "callback_days", "not_monitored",
              "codes", "messages", "oncology_helpline", "duty_clinician_phone", "send_window", "roles",
              "routing", "languages", "opening_hours", "time_limits", "second_contact_phone",
              "second_contact_after", "out_of_hours_contact"}
LANGUAGE_KEYS = {"not_monitored", "messages"}
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")  # ISO 639-1, as the register's preferred_language
CONTACT_KEYS = {"name", "role"}
# Placeholders filled per text by the dialogue: the concern area being asked about, the role the
# patient is offered, the numbered times on offer, and one appointment in words.
TURN_PLACEHOLDERS = {"area", "role", "options", "appointment"}
# When a person will be in touch, in a safety-net text: "today", or "when we open at 8:00am on Monday"
# (the practice's opening_hours); "soon" where no time is known (previews).
PLACEHOLDERS = {"first_name", "practice", "contact", "callback_days", "not_monitored", "helpline",
                "next_contact"} | TURN_PLACEHOLDERS

# Every safety-net text bot/safety/nets.py safety_net_message can choose, one per kind of flag: a
# practice may reword each one but never leave one out (tests/test_script_load_errors.py checks the
# processor chooses no other).
SAFETY_NET_MESSAGES = ("safety_999", "safety_sepsis_treatment", "safety_sepsis_unknown", "safety_same_hour",
                       "safety_bleeding", "safety_clinical_treatment", "safety_clinical", "safety_suicide",
                       "safety_domestic", "safety_at_risk", "safety_carer", "safety_safeguarding", "safety_review")
# Phones texted about flags (bot/inbox/escalation.py): UK mobiles.
CONTACT_PHONES = ("duty_clinician_phone", "second_contact_phone", "out_of_hours_contact")

SLOT_KINDS = {"phone": "phone call", "video": "video call", "face_to_face": "at the practice"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLE_KEYS = {"title", "weekly"}
WEEKLY_KEYS = {"day", "time", "minutes", "type", "staff"}
ROUTING_KEYS = {"high_score", "areas", "several_areas", "default"}

_jinja = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


class ScriptError(ValueError):
    """A practice script is invalid. The message names the file, line and field."""


@dataclass(frozen=True)
class WeeklySession:
    """One bookable session every week, e.g. Tuesdays 10:30 for 30 minutes, phone call with Sam."""
    weekday: int          # 0 = Monday
    hour: int
    minute: int
    minutes: int
    kind: str             # a key of SLOT_KINDS
    staff: str


@dataclass(frozen=True)
class Role:
    """An additional role the practice offers reviews with (care coordinator, social prescriber...)."""
    key: str
    title: str
    weekly: tuple[WeeklySession, ...]


@dataclass(frozen=True)
class PracticeScript:
    ods_code: str
    name: str
    phone: str
    sender: Optional[str]
    data: Mapping[str, Any]
    path: Path
    language: str = "en"

    @property
    def languages(self) -> set[str]:
        """The languages (besides English) this practice supplies every text in."""
        return set(self.data.get("languages") or {})

    def for_language(self, code: Optional[str]) -> "PracticeScript":
        """This script in the patient's preferred language when the practice supplies it; otherwise
        itself (English). Only the wording changes: roles, numbers and codes stay the practice's."""
        code = (code or "en").strip().lower()
        translation = (self.data.get("languages") or {}).get(code)
        if not translation:
            return self
        data = dict(self.data, messages=dict(translation["messages"]),
                    not_monitored=translation.get("not_monitored", self.data["not_monitored"]))
        return dataclasses.replace(self, data=data, language=code)

    def code_for(self, cluster: str) -> str:
        """The SNOMED CT code this practice records for a QOF cluster (may be empty)."""
        return str(self.data.get("codes", {}).get(cluster) or "")

    @property
    def roles(self) -> dict[str, Role]:
        """The roles this practice has configured, keyed by role key (empty: no booking by text)."""
        out = {}
        for key, conf in (self.data.get("roles") or {}).items():
            weekly = tuple(
                WeeklySession(WEEKDAYS.index(str(w["day"]).lower()[:3]), int(str(w["time"]).split(":")[0]),
                              int(str(w["time"]).split(":")[1]), int(w.get("minutes", 30)), str(w.get("type", "phone")),
                              str(w["staff"]))
                for w in conf.get("weekly") or ())
            out[key] = Role(key, str(conf["title"]), weekly)
        return out

    @property
    def opening_hours(self) -> SendWindow:
        """When a person at the practice can act on a flag (default Mon-Fri 08:00-18:30, never on a
        bank holiday)."""
        return SendWindow.from_config(self.data.get("opening_hours"), OPENING_DEFAULT, "opening_hours")

    def flag_limits(self, urgent_default: Optional[TimeLimit] = None) -> PracticeLimits:
        """How long each severity of flag may wait for a person here (bot/safety/flag_limits.py), in the
        practice's opening hours. `urgent_default` (ESCALATION_MINUTES) applies when the script sets
        no urgent limit of its own."""
        limits = dict(DEFAULT_LIMITS)
        if urgent_default is not None:
            limits[Severity.URGENT] = urgent_default
        for severity, text in (self.data.get("time_limits") or {}).items():
            limits[Severity(severity)] = TimeLimit.parse(text)
        return PracticeLimits(limits, self.opening_hours)

    @property
    def contacts(self) -> EscalationContacts:
        """The phones flags escalate to (bot/inbox/escalation.py), E.164."""
        def phone(key: str) -> str:
            raw = str(self.data.get(key) or "").strip()
            return normalise_uk_mobile(raw) if raw else ""  # checked at load
        after = self.data.get("second_contact_after")
        return EscalationContacts(phone("duty_clinician_phone"), phone("second_contact_phone"),
                                  TimeLimit.parse(after) if after else TimeLimit(15.0), phone("out_of_hours_contact"))

    @property
    def routing(self) -> Mapping[str, Any]:
        """The routing rules: high_score, areas (area -> role), several_areas, default."""
        return self.data["routing"]

    def render(self, message: str, first_name: str = "", helpline: str = "", next_contact: str = "soon",
               **turn: str) -> str:
        """Render one message for a patient. Raises KeyError for a message that does not exist.
        `helpline` is the patient's hospital helpline; the practice's default is used without one.
        `turn` fills TURN_PLACEHOLDERS (area, role, options, appointment); missing ones are empty."""
        unknown = set(turn) - TURN_PLACEHOLDERS
        if unknown:
            raise KeyError(f"unknown placeholder(s) {', '.join(sorted(unknown))}")
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
            "next_contact": next_contact,
            **{name: turn.get(name, "") for name in TURN_PLACEHOLDERS},
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


def _check_messages(messages: Mapping[str, Any], known: Mapping[str, Any], fail, *where: str) -> None:
    """Every message is a known one, non-empty, a valid template with known placeholders only."""
    for name, template in messages.items():
        if name not in known:
            raise fail(f"unknown message (known: {', '.join(sorted(known))})", *where, str(name))
        if not isinstance(template, str) or not template.strip():
            raise fail("must be non-empty text", *where, name)
        try:
            used = meta.find_undeclared_variables(_jinja.parse(template))
        except jinja2.TemplateSyntaxError as exc:
            raise fail(f"template error: {exc.message}", *where, name) from None
        unknown = used - PLACEHOLDERS
        if unknown:
            raise fail(f"unknown placeholder(s) {', '.join(sorted(unknown))}", *where, name)


def _check_languages(data: Mapping[str, Any], known: Mapping[str, Any], fail) -> None:
    """A language script must translate every message: a patient never gets half their texts in
    one language and half in another."""
    languages = data.get("languages") or {}
    if not isinstance(languages, Mapping):
        raise fail("must be a mapping of language code (e.g. pl, ur, cy) to its texts", "languages")
    for code, translation in languages.items():
        code = str(code)
        if not LANGUAGE_CODE.match(code) or code == "en":
            raise fail("must be a lower-case ISO 639-1 language code other than en, e.g. pl", "languages", code)
        if not isinstance(translation, Mapping):
            raise fail("must be a mapping with messages (and not_monitored)", "languages", code)
        for field in translation:
            if field not in LANGUAGE_KEYS:
                raise fail(
                    f"unknown setting (known: {', '.join(sorted(LANGUAGE_KEYS))})", "languages", code, str(field)
                )
        if "not_monitored" in translation and (not isinstance(translation["not_monitored"], str)
                                               or not translation["not_monitored"].strip()):
            raise fail("must be non-empty text", "languages", code, "not_monitored")
        messages = translation.get("messages")
        if not isinstance(messages, Mapping):
            raise fail("is required: every message in this language", "languages", code, "messages")
        _check_messages(messages, known, fail, "languages", code, "messages")
        missing = [name for name in known if name not in messages]
        if missing:
            raise fail(f"missing {len(missing)} message(s) in this language: {', '.join(missing)}",
                       "languages", code, "messages")


def _check_roles_and_routing(data: Mapping[str, Any], fail) -> None:
    """Roles need a title and well-formed weekly sessions; routing may name only known areas, and
    its default must be a configured role whenever the practice configures any."""
    roles = data.get("roles") or {}
    if not isinstance(roles, Mapping):
        raise fail("must be a mapping of role key to settings", "roles")
    for key, conf in roles.items():
        if not isinstance(conf, Mapping):
            raise fail("must be a mapping with title and weekly", "roles", str(key))
        for field in conf:
            if field not in ROLE_KEYS:
                raise fail(
                    f"unknown role setting (known: {', '.join(sorted(ROLE_KEYS))})", "roles", str(key), str(field)
                )
        if not isinstance(conf.get("title"), str) or not conf["title"].strip():
            raise fail("is required and must be text, e.g. care coordinator", "roles", str(key), "title")
        weekly = conf.get("weekly") or []
        if not isinstance(weekly, list):
            raise fail("must be a list of sessions", "roles", str(key), "weekly")
        for n, session in enumerate(weekly, start=1):
            where = ("roles", str(key), "weekly")
            if not isinstance(session, Mapping):
                raise fail(f"session {n} must be a mapping with day, time, minutes, type, staff", *where)
            unknown = set(session) - WEEKLY_KEYS
            if unknown:
                raise fail(f"session {n}: unknown setting(s) {', '.join(sorted(map(str, unknown)))}", *where)
            if str(session.get("day", "")).lower()[:3] not in WEEKDAYS:
                raise fail(f"session {n}: day must be a weekday name (mon..sun), got {session.get('day')!r}", *where)
            time_text = str(session.get("time", ""))
            hh, _, mm = time_text.partition(":")
            if not (hh.isdigit() and mm.isdigit() and len(mm) == 2 and int(hh) < 24 and int(mm) < 60):
                raise fail(f"session {n}: time must be HH:MM (24-hour), got {time_text!r}", *where)
            minutes = session.get("minutes", 30)
            if not isinstance(minutes, int) or not 5 <= minutes <= 240:
                raise fail(f"session {n}: minutes must be a whole number from 5 to 240, got {minutes!r}", *where)
            if session.get("type", "phone") not in SLOT_KINDS:
                raise fail(
                    f"session {n}: type must be one of {', '.join(SLOT_KINDS)}, got {session.get('type')!r}", *where
                )
            if not isinstance(session.get("staff"), str) or not session["staff"].strip():
                raise fail(f"session {n}: staff is required (the first name patients will see)", *where)
    routing = data.get("routing")
    if not isinstance(routing, Mapping):
        raise fail("must be a mapping", "routing")
    for field in routing:
        if field not in ROUTING_KEYS:
            raise fail(f"unknown routing setting (known: {', '.join(sorted(ROUTING_KEYS))})", "routing", str(field))
    high = routing.get("high_score")
    if not isinstance(high, int) or not 0 <= high <= 10:
        raise fail(f"must be a whole number from 0 to 10, got {high!r}", "routing", "high_score")
    areas = routing.get("areas") or {}
    if not isinstance(areas, Mapping):
        raise fail("must be a mapping of area to role key", "routing", "areas")
    for area, role in areas.items():
        if area not in AREAS:
            raise fail(f"unknown area (known: {', '.join(AREAS)})", "routing", "areas", str(area))
        if not isinstance(role, str) or not role.strip():
            raise fail("must be a role key", "routing", "areas", str(area))
    for field in ("several_areas", "default"):
        if not isinstance(routing.get(field), str) or not routing[field].strip():
            raise fail("must be a role key", "routing", field)
        if roles and routing[field] not in roles:
            raise fail(f"{routing[field]!r} is not one of this practice's roles ({', '.join(roles)})", "routing", field)


def _check_safety_nets(messages: Any, known: Mapping[str, Any], fail) -> None:
    """Every kind of flag has its safety-net text: none may be left out or empty."""
    if not isinstance(messages, Mapping):
        raise fail("must be a mapping of message name to text", "messages")
    for name in SAFETY_NET_MESSAGES:
        if name not in known:
            raise ScriptError(f"{DEFAULT_SCRIPT}:1: messages.{name}: missing: every kind of flag needs its "
                              "safety-net text")
        if not isinstance(messages.get(name), str) or not messages[name].strip():
            raise fail("is required: the safety-net text of this kind of flag (leave it out to use the default "
                       "wording, never empty)", "messages", name)


def _check_time_limits(limits: Any, fail) -> None:
    """time_limits: severity -> "15 minutes" / "2 working hours" / "end of working day"."""
    if limits is None:
        return
    if not isinstance(limits, Mapping):
        raise fail("must be a mapping of severity (urgent, soon, review) to a time limit", "time_limits")
    for severity, text in limits.items():
        if str(severity) not in {s.value for s in Severity}:
            raise fail("unknown severity (known: urgent, soon, review)", "time_limits", str(severity))
        try:
            TimeLimit.parse(text)
        except ValueError as exc:
            raise fail(str(exc), "time_limits", str(severity)) from None


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
    for name, hours in (("send_window", SEND_DEFAULT), ("opening_hours", OPENING_DEFAULT)):
        try:
            SendWindow.from_config(data.get(name), hours, name)
        except HoursError as exc:
            raise fail(exc.problem, name, *([exc.field] if exc.field else [])) from None
    _check_time_limits(data.get("time_limits"), fail)
    for key in CONTACT_PHONES:
        if data.get(key) not in (None, ""):
            try:
                normalise_uk_mobile(data[key])
            except PhoneError as exc:
                raise fail(f"{exc}: flags are texted to it, so it must be a UK mobile, e.g. \"+447700900002\"",
                           key) from None
    _check_safety_nets(data.get("messages"), defaults["messages"], fail)
    if data.get("second_contact_after") is not None:
        try:
            after = TimeLimit.parse(data["second_contact_after"])
        except ValueError as exc:
            raise fail(str(exc), "second_contact_after") from None
        if after.working or after.end_of_day:
            raise fail("must be clock time, e.g. \"15 minutes\"", "second_contact_after")
    if not isinstance(data["callback_days"], int) or data["callback_days"] < 0:
        raise fail("must be a whole number of days", "callback_days")
    _check_roles_and_routing(data, fail)
    _check_languages(data, defaults["messages"], fail)
    _check_messages(data["messages"], defaults["messages"], fail, "messages")
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


def script_for_patient(practices_dir: Path, patient: Any) -> PracticeScript:
    """The script a patient hears: their practice's, in their preferred language if the practice
    supplies it (English otherwise). The one place this rule lives."""
    return script_for(practices_dir, patient.practice.ods_code).for_language(patient.preferred_language)


def script_for(practices_dir: Path, ods_code: str) -> PracticeScript:
    """The script of one practice; ScriptError when the practice has no file."""
    scripts = load_all(Path(practices_dir))
    try:
        return scripts[ods_code.upper()]
    except KeyError:
        raise ScriptError(f"no practice script for ODS code {ods_code!r} in {practices_dir}") from None
