"""Storing what Twilio sends (bot/inbound/store.py, bot/webhook/intake.py): one row per MessageSid, in a batch or
alone, on SQLite and PostgreSQL; the gateway's writer answers only after the commit, applies
delivery callbacks, and a failed transaction stores none of its items and tells every webhook."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Iterator

import psycopg2
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.inbound import store as inbound
from bot.db.engine import session_scope
from bot.webhook.intake import Callback, Intake
from bot.db.models import InboundMessage, OutboundMessage
from tests.helpers import wait_for


def webhook(sid: str, body: str = "hello", sender: str = "+447700900123") -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+447700900001", "Body": body, "NumMedia": "0"}


def rows(url: str) -> list[tuple[str, str, str]]:
    with session_scope(url) as session:
        return list(session.execute(select(InboundMessage.message_sid, InboundMessage.body,
                                           InboundMessage.status).order_by(InboundMessage.id)))


def test_a_batch_keeps_each_message_sid_once_and_says_which_are_new(database_url):
    with session_scope(database_url) as session:
        inbound.store(session, webhook("SM1", "first"))
    with session_scope(database_url) as session:
        stored = inbound.store_many(session, [webhook("SM2", "second"), webhook("SM1", "again"),
                                              webhook("SM3", "third"), webhook("SM2", "repeat")])
    assert [s.is_new for s in stored] == [True, False, True, False]
    assert stored[1].id != stored[0].id and stored[3].id == stored[0].id
    assert rows(database_url) == [("SM1", "first", "received"), ("SM2", "second", "received"),
                                  ("SM3", "third", "received")]


@pytest.mark.parametrize("form, field", [
    ({"From": "+447700900123"}, "MessageSid"),
    ({"MessageSid": "SM1", "From": "  "}, "From"),
    ({"MessageSid": "S" * 65, "From": "+447700900123"}, "MessageSid"),
    ({"MessageSid": "SM1", "From": "+447700900123", "NumMedia": "two"}, "NumMedia"),
])
def test_a_malformed_webhook_is_named_and_nothing_is_stored(database_url, form, field):
    with pytest.raises(inbound.MalformedWebhook, match=field):
        with session_scope(database_url) as session:
            inbound.store_many(session, [webhook("SM9"), form])
    assert rows(database_url) == []


def test_the_writer_answers_every_webhook_of_a_burst_after_its_commit(database_url):
    writer = Intake(database_url)
    try:
        start = threading.Barrier(40)
        results: dict[int, inbound.StoredInbound] = {}

        def send(i: int) -> None:
            start.wait()
            stored = writer.text(webhook(f"SM{i % 20}", f"text {i}")).result(timeout=30)
            # Answered means committed: a fresh session sees the row.
            with session_scope(database_url) as session:
                assert session.get(InboundMessage, stored.id) is not None
            results[i] = stored

        threads = [threading.Thread(target=send, args=(i,)) for i in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        writer.close()
    assert len(results) == 40
    assert sum(s.is_new for s in results.values()) == 20  # each of the 20 MessageSids once
    assert len({s.id for s in results.values()}) == 20
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 20


def test_a_batch_the_database_refuses_fails_every_webhook_in_it_and_stores_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-folder-is-made' / 'no-tables.db'}"  # never migrated
    writer = Intake(url)
    try:
        futures = [writer.text(webhook(f"SM{i}")) for i in range(5)]
        futures += [writer.callback(Callback("SM" + "a" * 32, "delivered"))]
        for future in futures:
            with pytest.raises(OperationalError, match="no such table"):
                future.result(timeout=30)
    finally:
        writer.close()


def test_callbacks_are_stored_and_applied_and_an_unknown_sid_is_said(database_url):
    sid = "SM" + "d" * 32
    with session_scope(database_url) as session:
        session.add(OutboundMessage(idempotency_key="k1", to_number="+447700900123", body="hi",
                                    status="sent", twilio_sid=sid))
    writer = Intake(database_url)
    try:
        delivered = writer.callback(Callback(sid, "delivered"))
        late_sent = writer.callback(Callback(sid, "sent"))  # out of order: must not go backwards
        unknown = writer.callback(Callback("SM" + "e" * 32, "delivered"))
        assert delivered.result(timeout=30) is True and late_sent.result(timeout=30) is True
        assert unknown.result(timeout=30) is False
    finally:
        writer.close()
    with session_scope(database_url) as session:
        assert session.scalar(select(OutboundMessage.status).where(OutboundMessage.twilio_sid == sid)) == "delivered"


def test_texts_go_before_waiting_callbacks(sqlite_url, monkeypatch):
    """While the writer is busy, a patient's text that arrives after a queue of callbacks is stored
    in the very next transaction, ahead of them."""
    order: list[str] = []
    busy, release = threading.Event(), threading.Event()
    real_texts, real_callbacks = Intake._store_texts, Intake._store_callbacks

    def store_texts(self, forms):
        order.append("texts:" + ",".join(f["MessageSid"] for f in forms))
        if forms[0]["MessageSid"] == "SM-first":
            busy.set()
            release.wait(30)
        return real_texts(self, forms)

    def store_callbacks(self, callbacks):
        order.append(f"callbacks:{len(callbacks)}")
        return real_callbacks(self, callbacks)

    monkeypatch.setattr(Intake, "_store_texts", store_texts)
    monkeypatch.setattr(Intake, "_store_callbacks", store_callbacks)
    writer = Intake(sqlite_url)
    try:
        first = writer.text(webhook("SM-first"))
        assert busy.wait(30)
        callbacks = [writer.callback(Callback(f"SM{i:034d}", "sent")) for i in range(30)]
        later = [writer.text(webhook("SM-later")), writer.text(webhook("SM-last"))]
        release.set()
        for future in [first, *later, *callbacks]:
            future.result(timeout=30)
    finally:
        writer.close()
    assert order == ["texts:SM-first", "texts:SM-later,SM-last"] + ["callbacks:4"] * 7 + ["callbacks:2"]


def test_on_sqlite_the_writer_waits_for_another_process_write_lock_then_stores(sqlite_url):
    """Another connection holding SQLite's write lock (as the background process does for a moment)
    holds the text back, never loses it, and the text is stored once the lock is released."""
    other = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")  # as every process of ours opens it
    other.execute("BEGIN IMMEDIATE")
    writer = Intake(sqlite_url)
    try:
        future = writer.text(webhook("SM-waits"))
        with pytest.raises(FutureTimeout):
            future.result(timeout=0.3)  # still waiting for the lock
        other.execute("COMMIT")
        assert future.result(timeout=30).is_new
    finally:
        other.close()
        writer.close()
    assert rows(sqlite_url) == [("SM-waits", "hello", "received")]


# --- issue 12: the writer outlives a stalled database, a client that hangs up, and bad neighbours ------

@contextlib.contextmanager
def stalled(url: str) -> Iterator[None]:
    """Hold the database's write lock from another connection, as a migration, a long transaction
    or a failover does: SQLite's write lock, or an exclusive lock on inbound_messages."""
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        other.execute("PRAGMA journal_mode=WAL")
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg2.connect(url)
        other.cursor().execute("LOCK TABLE inbound_messages IN ACCESS EXCLUSIVE MODE")  # in a transaction
    try:
        yield
    finally:
        other.rollback() if not url.startswith("sqlite") else other.execute("ROLLBACK")
        other.close()


def test_a_waiter_that_gives_up_during_a_stalled_commit_does_not_stop_the_writer(database_url):
    """Issue 12, finding 1: the webhook's client hung up while the commit waited, so its Future was
    cancelled; setting its result killed the one writer thread and no later text was stored."""
    writer = Intake(database_url)
    try:
        with stalled(database_url):
            gone = writer.text(webhook("SM-gone", "chest pain"))
            wait_for(lambda: writer.status().busy_seconds > 0, what="the writer to wait for the lock")   # its transaction waits for the lock
            assert gone.cancel()                                    # the handler was cancelled
            queued = writer.text(webhook("SM-queued"))
        assert queued.result(timeout=30).is_new
        after = [writer.text(webhook(f"SM-after-{i}")) for i in range(3)]
        assert all(f.result(timeout=30).is_new for f in after)
        status = writer.status()
        assert status.alive and status.restarts == 0 and status.queued_texts == 0
    finally:
        writer.close()
    assert [sid for sid, _, _ in rows(database_url)] == ["SM-gone", "SM-queued", "SM-after-0", "SM-after-1",
                                                         "SM-after-2"]  # stored although nobody waited


def test_one_bad_text_in_a_batch_fails_alone_and_its_neighbours_are_stored(database_url):
    """Issue 12, finding 6: NumMedia out of range (or a NUL) failed the whole group commit."""
    writer = Intake(database_url)
    try:
        with stalled(database_url):
            first = writer.text(webhook("SM-first"))
            wait_for(lambda: writer.status().busy_seconds > 0, what="the writer to wait for the lock")
            # These queue together behind the stalled transaction: one batch.
            good = [writer.text(webhook("SM-good-1")), writer.text(webhook("SM-good-2"))]
            bad = [writer.text({**webhook("SM-bad-1"), "NumMedia": "99999999999999999999999"}),
                   writer.text(webhook("SM-bad-2", body="nul \x00 inside"))]
            good.append(writer.text(webhook("SM-good-3")))
            assert writer.status().queued_texts == 5
        assert first.result(timeout=30).is_new
        assert all(f.result(timeout=30).is_new for f in good)
        for future in bad:
            with pytest.raises(inbound.MalformedWebhook):
                future.result(timeout=30)
        assert writer.status().alive
    finally:
        writer.close()
    assert [sid for sid, _, _ in rows(database_url)] == ["SM-first", "SM-good-1", "SM-good-2", "SM-good-3"]


@pytest.mark.parametrize("form, field", [
    ({"NumMedia": "99999999999999999999999"}, "NumMedia"),
    ({"NumMedia": "11"}, "NumMedia"),
    ({"NumMedia": "-1"}, "NumMedia"),
    ({"NumMedia": "\u0663"}, "NumMedia"),         # Arabic-Indic 3: int() takes it, Twilio never sends it
    ({"Body": "x" * 1601}, "Body"),
    ({"Body": "a\x00b"}, "Body"),
    ({"From": "+44" + "7" * 30}, "From"),
    ({"To": "+44" + "7" * 30}, "To"),
    ({"SmsStatus\x00": "received"}, "SmsStatus"),
])
def test_every_field_is_checked_against_twilio_limits(form, field):
    with pytest.raises(inbound.MalformedWebhook, match=field):
        inbound.row_for({**webhook("SM1"), **form})


def test_twilio_limits_themselves_are_accepted():
    row = inbound.row_for({**webhook("SM1", body="\U0001F44D" * 1600), "NumMedia": "010",
                           "From": "whatsapp:+447700900123"})
    assert row["num_media"] == 10 and len(row["body"]) == 1600


def test_a_writer_thread_that_dies_anyway_is_started_again(sqlite_url, monkeypatch, caplog):
    """Something the loop cannot catch (SystemExit here) ends the thread: the next item or /health
    starts a new one, and says so in the log."""
    real = Intake._store_texts

    def dies_once(self, forms):
        if forms[0]["MessageSid"] == "SM-fatal":
            raise SystemExit("thread killed")
        return real(self, forms)

    monkeypatch.setattr(Intake, "_store_texts", dies_once)
    writer = Intake(sqlite_url)
    try:
        writer.text(webhook("SM-fatal"))
        wait_for(lambda: not writer._thread.is_alive(), what="the writer thread to end")
        with caplog.at_level("ERROR", logger="bot.webhook.intake"):
            assert writer.text(webhook("SM-next")).result(timeout=30).is_new
        assert writer.status().alive and writer.status().restarts == 1
        assert "starting it again" in caplog.text
    finally:
        writer.close()
