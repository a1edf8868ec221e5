"""`outreach purge` (bot/reports/retention.py): message texts, notes and flag evidence older than the
retention period are redacted, rows and records kept; dry run; a second run changes nothing; bad
--days; Rasa's SQLite tracker store. In process through `bot.cli.main`, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy import text as sql
from sqlalchemy.pool import NullPool

from bot import records
from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import (Appointment, AuditEntry, Base, BookingSlot, Conversation, Flag, InboundMessage, Note,
                           OutboundMessage, User, utcnow)
from conftest import add_conversation, drop_database, fresh_database_url

NOW = utcnow()
OLD = NOW - dt.timedelta(days=400)
RECENT = NOW - dt.timedelta(days=10)
REDACTED = "[redacted after 365 days]"
TEXT_COLUMNS = {"inbound_messages": "body", "outbound_messages": "body", "notes": "text", "flags": "evidence"}
# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent), as it creates it.
RASA_EVENTS_DDL = """
CREATE TABLE events (
    id INTEGER NOT NULL,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT,
    PRIMARY KEY (id)
);
CREATE INDEX ix_events_sender_id ON events (sender_id);
"""


@pytest.fixture
def cli_env(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PRACTICES_DIR", str(PROJECT_ROOT / "practices"))
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    for name in ("RASA_TRACKER_DB", "RASA_TRACKER_DB_HOST", "RASA_TRACKER_DB_PORT", "RASA_TRACKER_DB_NAME",
                 "RASA_TRACKER_DB_USER", "RASA_TRACKER_DB_PASSWORD", "RASA_TRACKER_DB_SSLMODE"):
        monkeypatch.delenv(name, raising=False)
    return database_url


@pytest.fixture
def history(cli_env):
    """One conversation with texts, notes and flags 400 and 10 days old, and the records that point at
    them: an outcome, a task and an appointment linked to the old text."""
    conversation_id, _ = add_conversation(cli_env)
    ids = {}
    with session_scope(cli_env) as session:
        conversation = session.get(Conversation, conversation_id)
        user = User(username="coordinator", password_hash="not-a-real-hash")
        session.add(user)

        def inbound(key, body, when, status="processed"):
            message = InboundMessage(message_sid=f"SM{key}", from_number="+447700900123", body=body,
                                     received_at=when, conversation_id=conversation_id,
                                     patient_id=conversation.patient_id, status=status)
            session.add(message)
            session.flush()
            ids[key] = message.id

        def outbound(key, body, when, status="delivered"):
            message = OutboundMessage(idempotency_key=key, to_number="+447700900123", body=body, created_at=when,
                                      conversation_id=conversation_id, patient_id=conversation.patient_id,
                                      status=status, next_attempt_at=when)
            session.add(message)
            session.flush()
            ids[key] = message.id

        inbound("in_old", "12/03/1961 and I have chest pain", OLD)
        inbound("in_waiting", "an old text still waiting for Rasa", OLD, status="received")
        inbound("in_media", "", OLD)
        inbound("in_new", "yes please", RECENT)
        outbound("out_old", "Hello Alex, this is Riverside Surgery", OLD)
        outbound("out_pending", "a text the sender has not sent yet", OLD, status="pending")
        outbound("out_new", "Thanks Alex", RECENT)
        session.flush()
        for key, text, when in (("note_old", "Spoke to Alex's daughter", OLD), ("note_new", "Call back Friday", RECENT)):
            note = Note(conversation_id=conversation_id, user_id=user.id, text=text, created_at=when)
            session.add(note)
            session.flush()
            ids[key] = note.id
        for key, message, when in (("flag_old", "in_old", OLD), ("flag_new", "in_new", RECENT)):
            flag = Flag(practice_id=conversation.practice_id, patient_id=conversation.patient_id,
                        conversation_id=conversation_id, inbound_message_id=ids[message], kind="clinical",
                        severity="urgent", category="chest_pain", evidence="chest pain", created_at=when,
                        resolved_at=when + dt.timedelta(hours=1))
            session.add(flag)
            session.flush()
            ids[key] = flag.id
        outcome = records.record_outcome(session, conversation, "informed", code="EXAMPLE-SUPPORT-INFORMED",
                                         inbound_message_id=ids["in_old"], note="identity confirmed")
        outcome.recorded_at = OLD
        records.create_task(session, "callback", "Phone the patient.", conversation.practice_id, conversation,
                            inbound_message_id=ids["in_old"]).created_at = OLD
        slot = BookingSlot(practice_id=conversation.practice_id, role="care_coordinator", staff="Sam", kind="phone",
                           starts_at=OLD + dt.timedelta(days=3), source="import", status="booked")
        session.add(slot)
        session.flush()
        session.add(Appointment(practice_id=conversation.practice_id, patient_id=conversation.patient_id,
                                conversation_id=conversation_id, slot_id=slot.id, role="care_coordinator",
                                inbound_message_id=ids["in_old"], booked_at=OLD))
        session.add(AuditEntry(user_id=None, action="view_conversation", target=f"conversation:{conversation_id}",
                               at=OLD))
    return ids


def snapshot(url: str, mask_texts: bool = False) -> dict:
    """Every row of every table of ours; with `mask_texts`, the redacted columns left out."""
    out = {}
    with session_scope(url) as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
            skip = TEXT_COLUMNS.get(table.name) if mask_texts else None
            out[table.name] = [{k: v for k, v in row.items() if k != skip} for row in rows]
    return out


def texts(url: str) -> dict:
    with session_scope(url) as session:
        out = {}
        for model, column, prefix in ((InboundMessage, "body", "in"), (OutboundMessage, "body", "out"),
                                      (Note, "text", "note"), (Flag, "evidence", "flag")):
            for row in session.scalars(select(model)):
                out[(prefix, row.id)] = getattr(row, column)
        return out


def purge_audits(url: str) -> list:
    with session_scope(url) as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.action == "purge").order_by(AuditEntry.id)).all()


def test_a_dry_run_reports_counts_and_changes_nothing(history, cli_env, capsys):
    before = snapshot(cli_env)
    assert main(["purge", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "older than 365 days" in out and "dry run, nothing changed" in out
    for table in ("inbound_messages.body", "outbound_messages.body", "notes.text", "flags.evidence"):
        assert any(line.split() == [table, "would", "redact", "1,", "oldest", f"{OLD:%Y-%m-%d}"]
                   for line in out.splitlines()), (table, out)
    assert "Rasa's tracker store was not purged: RASA_TRACKER_DB is not set" in err
    assert snapshot(cli_env) == before
    assert purge_audits(cli_env) == []


def test_purge_redacts_only_old_texts_and_keeps_every_record(history, cli_env, capsys):
    before = snapshot(cli_env)
    assert main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "inbound_messages.body            redacted 1, oldest" in out
    after = texts(cli_env)
    old = {("in", history["in_old"]), ("out", history["out_old"]), ("note", history["note_old"]),
           ("flag", history["flag_old"])}
    prefixes = {"inbound_messages": "in", "outbound_messages": "out", "notes": "note", "flags": "flag"}
    expected = {(prefixes[table], row["id"]): row[column] for table, column in TEXT_COLUMNS.items()
                for row in before[table]}
    assert after == {key: REDACTED if key in old else value for key, value in expected.items()}
    assert after[("in", history["in_waiting"])] == "an old text still waiting for Rasa"   # not processed yet
    assert after[("out", history["out_pending"])] == "a text the sender has not sent yet"  # not sent yet
    assert after[("in", history["in_media"])] == ""
    assert after[("in", history["in_new"])] == "yes please" and after[("flag", history["flag_new"])] == "chest pain"
    # Rows, ids, times, statuses, outcomes, codes, tasks, appointments, flags' kind and category: all as they were.
    masked_before = {t: [{k: v for k, v in r.items() if k != TEXT_COLUMNS.get(t)} for r in rows]
                     for t, rows in before.items()}
    masked_after = snapshot(cli_env, mask_texts=True)
    audit_before, audit_after = masked_before.pop("audit_log"), masked_after.pop("audit_log")
    assert masked_after == masked_before
    assert audit_after[:-1] == audit_before and len(audit_after) == len(audit_before) + 1
    (audit,) = purge_audits(cli_env)
    assert audit.user_id is None and audit.target == "retention"
    assert audit.detail.startswith("older than 365 days (before ")
    assert "inbound_messages.body 1, outbound_messages.body 1, notes.text 1, flags.evidence 1" in audit.detail
    assert "chest" not in audit.detail and "Alex" not in audit.detail

    # The second run finds nothing: no row, and no audit entry, changes.
    once = snapshot(cli_env)
    assert main(["purge"]) == 0
    assert "nothing to redact" in capsys.readouterr().out
    assert snapshot(cli_env) == once


def test_days_overrides_the_setting_and_a_redacted_text_is_never_redacted_again(history, cli_env, monkeypatch,
                                                                                capsys):
    monkeypatch.setenv("RETENTION_DAYS", "5")
    before = snapshot(cli_env)
    assert main(["purge", "--days", "500"]) == 0     # everything is younger than 500 days
    assert "nothing to redact" in capsys.readouterr().out and snapshot(cli_env) == before

    assert main(["purge"]) == 0                      # RETENTION_DAYS=5: the 10-day-old texts go too
    after = texts(cli_env)
    for key in (("in", history["in_old"]), ("in", history["in_new"]), ("note", history["note_new"]),
                ("flag", history["flag_new"]), ("out", history["out_new"])):
        assert after[key] == "[redacted after 5 days]", key
    once = snapshot(cli_env)
    assert main(["purge", "--days", "1"]) == 0       # a different period: already redacted, left alone
    assert snapshot(cli_env) == once
    assert len(purge_audits(cli_env)) == 1


BAD_DAYS = [
    ("0", "--days must be from 1 to 36500, got 0"),
    ("-3", "--days must be from 1 to 36500, got -3"),
    ("36501", "--days must be from 1 to 36500, got 36501"),
    ("abc", "--days must be a whole number of days, got 'abc'"),
    ("1.5", "--days must be a whole number of days, got '1.5'"),
]


def test_bad_days_is_refused_and_changes_nothing(history, cli_env, capsys):
    before = snapshot(cli_env)
    for days, message in BAD_DAYS:
        assert main(["purge", "--days", days]) == 2, days
        assert capsys.readouterr().err.strip() == f"outreach: error: {message}"
    assert snapshot(cli_env) == before


def test_a_bad_retention_setting_is_refused(history, cli_env, monkeypatch, capsys):
    before = snapshot(cli_env)
    monkeypatch.setenv("RETENTION_DAYS", "a year")
    assert main(["purge"]) == 2
    assert "RETENTION_DAYS must be a whole number of days, got 'a year'" in capsys.readouterr().err
    assert snapshot(cli_env) == before


# --------------------------------------------------------------------------------------------
# Rasa's tracker store


def user_event(text: str, when: float) -> dict:
    return {"event": "user", "timestamp": when, "metadata": {"inbound_id": 1}, "text": text,
            "parse_data": {"intent": {"name": "give_dob", "confidence": 0.98},
                           "entities": [{"entity": "number", "value": "1961", "start": 6, "end": 10}],
                           "text": text, "message_id": "m1", "metadata": {}, "intent_ranking": []},
            "input_channel": "rest", "message_id": "m1"}


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker(request, tmp_path, monkeypatch):
    """Rasa's tracker store with a few events: the SQLite file of `make run` and the tests, or the
    production store on PostgreSQL (as endpoints.production.yml configures it). Yields
    (SQLAlchemy URL, how `outreach purge` names it)."""
    old, recent = OLD.replace(tzinfo=dt.timezone.utc).timestamp(), RECENT.replace(tzinfo=dt.timezone.utc).timestamp()
    rows = [
        ("user", old, "give_dob", None, json.dumps(user_event("12 March 61", old))),
        ("bot", old, None, None, json.dumps({"event": "bot", "timestamp": old, "metadata": {}, "text": "Hi Alex",
                                             "data": {"buttons": None}})),
        ("slot", old, None, None, json.dumps({"event": "slot", "timestamp": old, "name": "date_of_birth",
                                              "value": "12 March 61"})),
        ("slot", old, None, None, json.dumps({"event": "slot", "timestamp": old, "name": "stage", "value": "offered"})),
        ("action", old, None, "action_offer_support", json.dumps({"event": "action", "timestamp": old,
                                                                   "name": "action_offer_support"})),
        ("user", old, None, None, "not json"),
        ("user", recent, "affirm", None, json.dumps(user_event("yes please", recent))),
    ]
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        url, shown, ddl = f"sqlite:///{path}", str(path), RASA_EVENTS_DDL
        monkeypatch.setenv("RASA_TRACKER_DB", str(path))
    else:
        url = fresh_database_url("postgresql", tmp_path)
        name = url.rsplit("/", 1)[1]
        shown, ddl = f"postgresql 127.0.0.1:5432/{name}", RASA_EVENTS_DDL.replace("id INTEGER NOT NULL", "id SERIAL NOT NULL")
        for key, value in (("HOST", "127.0.0.1"), ("PORT", "5432"), ("NAME", name), ("USER", "postgres")):
            monkeypatch.setenv(f"RASA_TRACKER_DB_{key}", value)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        for statement in filter(str.strip, ddl.split(";")):
            connection.execute(sql(statement))
        connection.execute(sql("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                                "VALUES ('0123abcd', :t, :ts, :i, :a, :d)"),
                           [dict(zip(("t", "ts", "i", "a", "d"), row)) for row in rows])
    engine.dispose()
    yield url, shown
    if request.param == "postgresql":
        drop_database(url)


def events(url: str) -> list:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sql(
                "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"))]
    finally:
        engine.dispose()


def test_the_rasa_tracker_store_is_redacted_too(cli_env, tracker, capsys):
    tracker, shown = tracker
    before = events(tracker)
    assert main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"rasa tracker store {shown}:" in out
    assert any(line.split()[:6] == ["user", "texts", "would", "redact", "1,", "oldest"] for line in out.splitlines())
    assert "1 event(s) with unreadable data were left as they are" in out
    assert events(tracker) == before

    assert main(["purge"]) == 0
    after = events(tracker)
    assert [row[:6] for row in after] == [row[:6] for row in before]      # ids, types, times, intents kept
    data = [json.loads(row[6]) if row[6] != "not json" else row[6] for row in after]
    user, bot, dob, stage, action, broken, recent = data
    assert user["text"] == user["parse_data"]["text"] == REDACTED
    assert user["parse_data"]["entities"][0]["value"] == REDACTED
    assert user["parse_data"]["intent"] == {"name": "give_dob", "confidence": 0.98}
    assert bot["text"] == REDACTED and dob["value"] == REDACTED
    assert stage["value"] == "offered"                                     # not the patient's words
    assert action == json.loads(before[4][6]) and broken == "not json"
    assert recent["text"] == recent["parse_data"]["text"] == "yes please"
    (audit,) = purge_audits(cli_env)
    assert "rasa tracker: user texts 1, bot texts 1, slot values from patient texts 1" in audit.detail

    assert main(["purge"]) == 0
    assert "nothing to redact" in capsys.readouterr().out
    assert events(tracker) == after and len(purge_audits(cli_env)) == 1


def test_a_missing_tracker_store_is_reported_and_skipped(history, cli_env, tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nowhere" / "tracker.db"
    monkeypatch.setenv("RASA_TRACKER_DB", str(missing))
    assert main(["purge"]) == 0
    out, err = capsys.readouterr()
    assert f"RASA_TRACKER_DB names {missing}, which does not exist" in err
    assert "rasa tracker store: skipped" in out
    assert not missing.exists() and not missing.parent.exists()
    assert texts(cli_env)[("in", history["in_old"])] == REDACTED    # our own database is purged all the same
    assert "rasa tracker skipped" in purge_audits(cli_env)[0].detail
