"""Retention: `outreach purge [--days N] [--dry-run]`.

What patients and coordinators wrote is kept for RETENTION_DAYS (default 365), then redacted: the
text is replaced by "[redacted after N days]" and the row stays, with its ids, times and statuses, so
outcomes, codes, flags, tasks, appointments and the audit log keep pointing at something.

Redacted here (rows older than the cut-off):

- `inbound_messages.body` (by `received_at`; not a text still waiting to be processed),
- `outbound_messages.body` (by `created_at`; not a text still waiting to be sent),
- `notes.text` and `flags.evidence` (by `created_at`; a flag's kind, severity and category stay),
- in Rasa's tracker store (table `events`, by the event's `timestamp`) - the production one on
  PostgreSQL (`RASA_TRACKER_DB_HOST`, `_PORT`, `_NAME`, `_USER`, `_PASSWORD`, `_SSLMODE`, as
  endpoints.production.yml reads them) or the SQLite file of `make run` (`RASA_TRACKER_DB`): the
  text of user events (`text`, `parse_data.text` and entity values), the text of bot events (the
  same texts as `outbound_messages.body`), and the value of slots filled from the patient's words
  (the `from_text` slots of `domain.yml`, e.g. the date of birth given).

Nothing else is changed: not outcomes, codes, tasks, appointments, concern scores or the audit log.
Redaction is idempotent: a redacted text is never counted or changed again, so a second run changes
nothing. A run that redacted something is written to the audit log (action "purge").
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import yaml
from sqlalchemy import and_, create_engine, func, inspect, not_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.config import PROJECT_ROOT, Settings
from bot.db.engine import session_scope
from bot.db.models import AuditEntry, Flag, InboundMessage, Note, OutboundMessage, utcnow
from bot.patients.outreach import OutreachError

MAX_DAYS = 36500
PLACEHOLDER = "[redacted after {days} days]"
_REDACTED = re.compile(r"\[redacted after \d{1,5} days\]")
_REDACTED_LIKE = "[redacted after % days]"   # with a length limit, the SQL form of _REDACTED
_REDACTED_MAX_LEN = len(PLACEHOLDER.format(days=MAX_DAYS))
TRACKER_BATCH = 500
# Statuses whose text is still needed: an inbound text not yet processed, an outbound one not yet sent.
_INBOUND_WAITING = ("received",)
_OUTBOUND_WAITING = ("pending", "sending")


def placeholder(days: int) -> str:
    return PLACEHOLDER.format(days=days)


def is_redacted(value: Any) -> bool:
    return isinstance(value, str) and _REDACTED.fullmatch(value) is not None


def parse_days(value: Optional[str], default: int) -> int:
    """--days as given, or the RETENTION_DAYS default; OutreachError naming the problem."""
    if value is None:
        return default
    try:
        days = int(value.strip())
    except ValueError:
        raise OutreachError(f"--days must be a whole number of days, got {value!r}") from None
    if not 1 <= days <= MAX_DAYS:
        raise OutreachError(f"--days must be from 1 to {MAX_DAYS}, got {days}")
    return days


@dataclass
class Count:
    what: str
    count: int = 0
    oldest: Optional[dt.datetime] = None   # naive UTC

    def add(self, when: Optional[dt.datetime]) -> None:
        self.count += 1
        if when is not None and (self.oldest is None or when < self.oldest):
            self.oldest = when


@dataclass
class PurgeReport:
    days: int
    cutoff: dt.datetime                     # naive UTC: what is older than this is redacted
    dry_run: bool
    tables: List[Count] = field(default_factory=list)
    tracker: List[Count] = field(default_factory=list)
    tracker_path: Optional[str] = None  # shown without secrets
    tracker_skipped: Optional[str] = None  # why Rasa's tracker store was not looked at
    tracker_error: Optional[str] = None
    tracker_unreadable: int = 0             # events whose data is not JSON (left alone)

    @property
    def total(self) -> int:
        return sum(c.count for c in self.tables) + sum(c.count for c in self.tracker)


# ---------------------------------------------------------------------------------------------
# Our database


def _targets():
    """(name, model, text column, time column, extra conditions) for each redacted column."""
    return (
        ("inbound_messages.body", InboundMessage, InboundMessage.body, InboundMessage.received_at,
         (InboundMessage.status.notin_(_INBOUND_WAITING),)),
        ("outbound_messages.body", OutboundMessage, OutboundMessage.body, OutboundMessage.created_at,
         (OutboundMessage.status.notin_(_OUTBOUND_WAITING),)),
        ("notes.text", Note, Note.text, Note.created_at, ()),
        ("flags.evidence", Flag, Flag.evidence, Flag.created_at, ()),
    )


def _due(column, when, cutoff: dt.datetime, extra: Iterable) -> list:
    already = and_(column.like(_REDACTED_LIKE), func.length(column) <= _REDACTED_MAX_LEN)
    return [when < cutoff, column != "", not_(already), *extra]


def _purge_database(session, report: PurgeReport) -> None:
    text = placeholder(report.days)
    for name, model, column, when, extra in _targets():
        conditions = _due(column, when, report.cutoff, extra)
        count, oldest = session.execute(select(func.count(), func.min(when)).select_from(model)
                                        .where(*conditions)).one()
        if count and not report.dry_run:
            count = session.execute(update(model).where(*conditions).values({column.key: text})
                                    .execution_options(synchronize_session=False)).rowcount
        report.tables.append(Count(name, count or 0, oldest))


# ---------------------------------------------------------------------------------------------
# Rasa's tracker store


def text_slots(domain_path: Path = PROJECT_ROOT / "domain.yml") -> frozenset:
    """The slots Rasa fills with the patient's own words (a `from_text` mapping)."""
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    names = set()
    for name, slot in (domain.get("slots") or {}).items():
        if any(isinstance(m, dict) and m.get("type") == "from_text" for m in (slot or {}).get("mappings") or ()):
            names.add(name)
    return frozenset(names)


def tracker_db_path(environ: Optional[Mapping[str, str]] = None) -> Tuple[Optional[Path], Optional[str]]:
    """RASA_TRACKER_DB as a path (relative to the project, where Rasa runs), or why there is none."""
    raw = (environ if environ is not None else os.environ).get("RASA_TRACKER_DB", "").strip()
    if not raw:
        return None, "RASA_TRACKER_DB is not set"
    path = Path(raw)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not path.is_file():
        return path, f"RASA_TRACKER_DB names {path}, which does not exist"
    return path, None


def tracker_store(environ: Optional[Mapping[str, str]] = None) -> Tuple[Optional[str], str, Optional[str]]:
    """Rasa's tracker store as (SQLAlchemy URL, how to show it without secrets, why it is skipped).
    The production store on PostgreSQL (RASA_TRACKER_DB_HOST and friends, as endpoints.production.yml
    reads them) wins over the SQLite file of `make run` and the tests (RASA_TRACKER_DB)."""
    env = environ if environ is not None else os.environ
    host = env.get("RASA_TRACKER_DB_HOST", "").strip()
    if host:
        port, name = (
            env.get("RASA_TRACKER_DB_PORT", "5432").strip() or "5432",
            env.get("RASA_TRACKER_DB_NAME", "").strip(),
        )
        url = URL.create(
            "postgresql",
            username=env.get("RASA_TRACKER_DB_USER") or None,
            password=env.get("RASA_TRACKER_DB_PASSWORD") or None,
            host=host,
            port=int(port),
            database=name or None,
            query={"sslmode": env["RASA_TRACKER_DB_SSLMODE"]} if env.get("RASA_TRACKER_DB_SSLMODE") else {},
        )
        return str(url.render_as_string(hide_password=False)), f"postgresql {host}:{port}/{name}", None
    path, why = tracker_db_path(env)
    return (f"sqlite:///{path}" if path else None), str(path or ""), why


def redact_event(data: Dict[str, Any], type_name: str, text: str, slots: frozenset) -> List[str]:
    """Redact one event's data in place; returns which parts changed ("user", "bot", "slot")."""
    changed = []

    def put(container: Any, key: str) -> bool:
        if isinstance(container, dict) and isinstance(container.get(key), str) and container[key] \
                and not is_redacted(container[key]):
            container[key] = text
            return True
        return False

    if type_name == "user":
        hit = put(data, "text")
        parse = data.get("parse_data")
        if isinstance(parse, dict):
            hit = put(parse, "text") or hit
            for entity in parse.get("entities") or ():
                if isinstance(entity, dict) and entity.get("value") not in (None, "") \
                        and not is_redacted(entity.get("value")):
                    entity["value"] = text
                    hit = True
        if hit:
            changed.append("user")
    elif type_name == "bot":
        if put(data, "text"):
            changed.append("bot")
    elif type_name == "slot" and data.get("name") in slots:
        if put(data, "value"):
            changed.append("slot")
    return changed


def _purge_tracker(url: str, report: PurgeReport, slots: frozenset) -> None:
    text = placeholder(report.days)
    cutoff = report.cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
    counts = {"user": Count("user texts"), "bot": Count("bot texts"), "slot": Count("slot values from patient texts")}
    report.tracker = list(counts.values())
    engine = create_engine(url, poolclass=NullPool)
    try:
        if not inspect(engine).has_table("events"):
            report.tracker_skipped = f"{report.tracker_path} has no events table (not a Rasa SQL tracker store)"
            report.tracker = []
            return
        last_id = -1
        while True:
            with engine.connect() as connection:
                rows = connection.execute(sql_text(
                    "SELECT id, type_name, timestamp, data FROM events WHERE id > :last AND timestamp < :cutoff "
                    "AND type_name IN ('user', 'bot', 'slot') ORDER BY id LIMIT :batch"),
                    {"last": last_id, "cutoff": cutoff, "batch": TRACKER_BATCH}).fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            updates = []
            for event_id, type_name, timestamp, raw in rows:
                try:
                    data = json.loads(raw) if raw else None
                except ValueError:
                    data = None
                if not isinstance(data, dict):
                    report.tracker_unreadable += 1
                    continue
                changed = redact_event(data, type_name, text, slots)
                when = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None) \
                    if timestamp is not None else None
                for part in changed:
                    counts[part].add(when)
                if changed:
                    updates.append({"data": json.dumps(data, ensure_ascii=False), "id": event_id})
            if updates and not report.dry_run:
                with engine.begin() as connection:  # one short transaction per batch: Rasa keeps writing meanwhile
                    connection.execute(sql_text("UPDATE events SET data = :data WHERE id = :id"), updates)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# The command


def purge(settings: Settings, days: int, dry_run: bool = False, now: Optional[dt.datetime] = None,
          environ: Optional[Dict[str, str]] = None) -> PurgeReport:
    """Redact what is older than `days` days (or, with `dry_run`, only count it)."""
    if not 1 <= days <= MAX_DAYS:
        raise OutreachError(f"the retention period must be from 1 to {MAX_DAYS} days, got {days}")
    now = now or utcnow()
    report = PurgeReport(days=days, cutoff=now - dt.timedelta(days=days), dry_run=dry_run)

    url, shown, why = tracker_store(environ)
    report.tracker_path = shown
    if why or url is None:
        report.tracker_skipped = why or "no tracker store"
    else:
        try:
            _purge_tracker(url, report, text_slots())
        except SQLAlchemyError as exc:
            report.tracker_error = f"{shown}: {getattr(exc, 'orig', None) or exc}"

    with session_scope(settings.database_url) as session:
        _purge_database(session, report)
        if not dry_run and report.total:
            session.add(AuditEntry(user_id=None, action="purge", target="retention",
                                   detail=audit_detail(report)[:300]))
    return report


def audit_detail(report: PurgeReport) -> str:
    parts = [f"older than {report.days} days (before {report.cutoff:%Y-%m-%d %H:%M} UTC)"]
    parts.append(", ".join(f"{c.what} {c.count}" for c in report.tables))
    if report.tracker_skipped:
        parts.append("rasa tracker skipped")
    elif report.tracker_error:
        parts.append("rasa tracker failed")
    else:
        parts.append("rasa tracker: " + ", ".join(f"{c.what} {c.count}" for c in report.tracker))
    return "; ".join(parts)


def format_report(report: PurgeReport) -> List[str]:
    verb = "would redact" if report.dry_run else "redacted"
    lines = [f"texts older than {report.days} days (before {report.cutoff:%Y-%m-%d %H:%M} UTC)"
             + (" - dry run, nothing changed:" if report.dry_run else ":")]

    def line(count: Count) -> str:
        oldest = f", oldest {count.oldest:%Y-%m-%d}" if count.oldest is not None and count.count else ""
        return f"  {count.what:<32} {verb} {count.count}{oldest}"

    lines += [line(c) for c in report.tables]
    if report.tracker_skipped:
        lines.append(f"  rasa tracker store: skipped ({report.tracker_skipped})")
    elif report.tracker_error is None:
        lines.append(f"  rasa tracker store {report.tracker_path}:")
        lines += ["  " + line(c) for c in report.tracker]
        if report.tracker_unreadable:
            lines.append(f"    {report.tracker_unreadable} event(s) with unreadable data were left as they are")
    if report.total == 0:
        lines.append("nothing to redact")
    return lines


def run_purge_command(args) -> int:
    """`outreach purge`: 0 when done, 1 when Rasa's tracker store could not be purged, 2 for bad options."""
    from bot.config import load_settings

    settings = load_settings()
    days = parse_days(args.days, settings.retention_days)
    report = purge(settings, days, dry_run=args.dry_run)
    for text in format_report(report):
        print(text)
    if report.tracker_skipped:
        print(f"outreach: warning: Rasa's tracker store was not purged: {report.tracker_skipped}", file=sys.stderr)
    if report.tracker_error:
        print(f"outreach: error: Rasa's tracker store could not be purged: {report.tracker_error}", file=sys.stderr)
        return 1
    return 0
