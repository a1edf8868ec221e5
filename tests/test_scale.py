"""The production set-up, scaled out: TWO Rasa servers behind the gateway, sharing a PostgreSQL
tracker store and a Redis lock store (endpoints.production.yml), with the action server, the
gateway and the background process - and 100 patients texting at once.

Every reply must arrive, in order per conversation, none twice, none to the wrong patient; both Rasa
servers must have served turns (counted from their access logs); the conversations must live in
the shared PostgreSQL tracker store, and Rasa must have taken its locks in Redis.

Needs PostgreSQL (TEST_POSTGRES_URL, as the rest of the suite) and Redis (TEST_REDIS_URL, default
redis://127.0.0.1:6379/1). Our database and Rasa's tracker database are fresh ones, dropped at the
end; Rasa's lock keys carry a prefix unique to the run, and are deleted at the end.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.engine.url import make_url

from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.dialogue.rasa_client import RasaClient
from devkit.fake_twilio import FakeTwilio
from bot.db.models import InboundMessage, OutboundMessage
from bot.patients.outreach import add_patient, start_conversation
from bot.practice_script.loader import script_for
from devkit.stack import Stack
from tests.conftest import (ACCOUNT_SID, AUTH_TOKEN, PG_SERVER, PRACTICE_NUMBER, drop_database,
                            fresh_database_url, make_settings)
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
RASA_SERVERS = 2
CONVERSATIONS = 100
ODS = "Y00001"
DOB = dt.date(1961, 3, 12)
SCRIPT = script_for(PROJECT_ROOT / "practices", ODS)
# Each turn's text and the script messages it must produce (stories/rules.yml).
TURNS = [("12/03/1961", ("support_info", "offer_chat")), ("maybe later", ("later",)),
         ("who is this?", ("who_is_this",))]
EXPECTED_TEXTS = 1 + sum(len(keys) for _, keys in TURNS)  # the opener, then every turn's replies
NAMES = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Kim", "Lee", "Max", "Ash",
         "Ruth", "Omar", "Priya", "Tom", "Ewa", "Femi", "Jack", "Mei", "Ian", "Zara"]
WAIT = 150.0  # seconds for any one condition: generous for a loaded 2-core CI machine


@dataclass
class Patient:
    number: str
    first_name: str

    def expected(self) -> list[str]:
        keys = ["opener"] + [key for _, keys in TURNS for key in keys]
        return [SCRIPT.render(key, first_name=self.first_name) for key in keys]


@dataclass
class ScaledDeployment:
    stack: Stack
    fake: FakeTwilio
    settings: object
    tracker_db_url: str
    redis: redis.Redis
    key_prefix: str

    @property
    def inbound_url(self) -> str:
        return self.stack.gateway_url + "/sms/inbound"


def _create_database(name: str) -> None:
    connection = psycopg2.connect(PG_SERVER)
    connection.autocommit = True
    connection.cursor().execute(f'CREATE DATABASE "{name}"')
    connection.close()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("stack-scale")
    server = make_url(PG_SERVER)
    lock_redis = redis.Redis.from_url(REDIS_URL)
    lock_redis.ping()  # fail here, clearly, when Redis is not running
    redis_options = lock_redis.connection_pool.connection_kwargs
    key_prefix = "can005test" + uuid.uuid4().hex[:12]  # Rasa wants letters and digits only
    tracker_db = "can005_tracker_" + uuid.uuid4().hex[:12]
    tracker_db_url = str(server.set(database=tracker_db))
    database_url = fresh_database_url("postgresql", workdir)
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    stack = None
    try:
        _create_database(tracker_db)
        stack = Stack(env={}, workdir=workdir, rasa_servers=RASA_SERVERS, rasa_endpoints="endpoints.production.yml",
                      rasa_env={
                          "RASA_TRACKER_DB_HOST": server.host or "127.0.0.1",
                          "RASA_TRACKER_DB_PORT": str(server.port or 5432),
                          "RASA_TRACKER_DB_NAME": tracker_db,
                          "RASA_TRACKER_DB_USER": server.username or "postgres",
                          "RASA_TRACKER_DB_PASSWORD": server.password or "",
                          "RASA_TRACKER_DB_SSLMODE": "prefer",
                          "RASA_LOCK_REDIS_HOST": redis_options.get("host", "127.0.0.1"),
                          "RASA_LOCK_REDIS_PORT": str(redis_options.get("port", 6379)),
                          "RASA_LOCK_REDIS_DB": str(redis_options.get("db", 1)),
                          "RASA_LOCK_REDIS_PASSWORD": redis_options.get("password") or "",
                          "RASA_LOCK_REDIS_KEY_PREFIX": key_prefix,
                          "LOG_LEVEL_LIBRARIES": "INFO",  # Sanic's access log: which server took each turn
                      })
        stack.env = {"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                     "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": PRACTICE_NUMBER,
                     "TWILIO_API_BASE_URL": fake.base_url, "PUBLIC_BASE_URL": stack.gateway_url,
                     "SEND_RATE_PER_SECOND": "1000", "SENDER_POLL_SECONDS": "0.1", "INBOUND_RETRY_SECONDS": "0.5",
                     "PRACTICES_DIR": str(PROJECT_ROOT / "practices"), "INBOUND_SPOOL": str(workdir / "spool.jsonl")}
        settings = make_settings(database_url, fake.base_url, public_base_url=stack.gateway_url,
                                 rasa_url=stack.rasa_url, rasa_token=stack.rasa_token)
        stack.start()
        yield ScaledDeployment(stack, fake, settings, tracker_db_url, lock_redis, key_prefix)
    finally:
        if stack is not None:
            stack.stop()
        fake.stop()
        drop_database(database_url)
        drop_database(tracker_db_url)
        for key in lock_redis.scan_iter(match=key_prefix + ":*"):
            lock_redis.delete(key)
        lock_redis.close()


def _served_turns(log: Path) -> int:
    """Turns a Rasa server answered, from its access log (one line per request)."""
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if "(sanic.access)" in line and "/webhooks/rest/webhook" in line)


class LockWatch:
    """Notes whether any Rasa lock key with our prefix ever exists in Redis while turns run."""

    def __init__(self, client: redis.Redis, prefix: str):
        self.client, self.pattern = client, prefix + ":lock:*"
        self.seen = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.done.is_set() and not self.seen:
            self.seen = sum(1 for _ in self.client.scan_iter(match=self.pattern, count=1000))
            self.done.wait(0.02)  # polling another process's state

    def __enter__(self) -> "LockWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


def test_100_conversations_across_two_rasa_servers(scaled):
    d = scaled
    assert d.stack.rasa_url.count(",") == RASA_SERVERS - 1  # the gateway and processor got every server
    patients = [Patient(f"+447700900{300 + i:03d}", NAMES[i % len(NAMES)] + " " + "ABCDE"[i // len(NAMES)])
                for i in range(CONVERSATIONS)]
    for p in patients:
        add_patient(d.settings, ODS, p.first_name, "Smith", DOB, p.number, dt.date.today() - dt.timedelta(days=30))

    # The openers: this process's own client spreads them over both servers too.
    rasa = RasaClient(d.stack.rasa_url, d.stack.rasa_token, timeout=WAIT)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: start_conversation(d.settings, rasa, p.number), patients))
    for url in d.stack.rasa_urls:
        assert rasa.served[(url, "trigger")] >= CONVERSATIONS // RASA_SERVERS - 1, rasa.served
    d.fake.wait_for_messages(CONVERSATIONS, timeout=WAIT)

    # Then every patient texts at once. Even-numbered ones read each reply before answering; odd
    # ones send all their texts back to back, so later texts queue behind earlier ones.
    def converse(index: int, patient: Patient) -> None:
        seen = 1
        for body, keys in TURNS:
            status, answer = d.fake.send_inbound(d.inbound_url, patient.number, PRACTICE_NUMBER, body)
            assert status == 200 and "<Response></Response>" in answer, (status, answer)
            seen += len(keys)
            if index % 2 == 0:
                d.fake.wait_for_messages(seen, to=patient.number, timeout=WAIT)
        d.fake.wait_for_messages(seen, to=patient.number, timeout=WAIT)

    with LockWatch(d.redis, d.key_prefix) as locks, ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        list(pool.map(converse, range(CONVERSATIONS), patients))  # re-raises a failed conversation's error

    # Everything processed and sent; then no conversation may have more, fewer or other texts.
    def settled() -> bool:
        with session_scope(d.settings.database_url) as session:
            waiting = session.scalar(select(func.count(InboundMessage.id)).where(InboundMessage.status == "received"))
            unsent = session.scalar(select(func.count(OutboundMessage.id)).where(
                OutboundMessage.status.in_(("pending", "sending"))))
            return waiting == 0 and unsent == 0
    wait_for(settled, timeout=WAIT, what="every text processed and every reply sent")
    delivered: dict[str, list[str]] = {}
    for message in d.fake.messages:
        delivered.setdefault(message["to"], []).append(message["body"])
    assert len(d.fake.messages) == CONVERSATIONS * EXPECTED_TEXTS
    wrong = {p.number: delivered.get(p.number) for p in patients if delivered.get(p.number) != p.expected()}
    assert not wrong, f"{len(wrong)} conversation(s) got wrong, missing, doubled or misordered texts: " \
                      f"{dict(list(wrong.items())[:3])}"
    with session_scope(d.settings.database_url) as session:
        assert session.scalar(select(func.count(InboundMessage.id)).where(
            InboundMessage.status == "processed")) == CONVERSATIONS * len(TURNS)

    # Both servers took turns (round robin: about half each), from the one shared tracker store.
    turns = [_served_turns(d.stack.workdir / f"{name}.log") for name in d.stack.rasa_names]
    print(f"turns per Rasa server: {turns}; openers: {dict(rasa.served)}")
    assert sum(turns) >= CONVERSATIONS * len(TURNS), turns
    assert min(turns) >= CONVERSATIONS * len(TURNS) // (2 * RASA_SERVERS), f"turns per Rasa server: {turns}"
    connection = psycopg2.connect(d.tracker_db_url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT count(DISTINCT sender_id), count(*) FILTER (WHERE type_name = 'user') FROM events")
        senders, user_events = cursor.fetchone()
    finally:
        connection.close()
    assert senders == CONVERSATIONS
    assert user_events == CONVERSATIONS * (1 + len(TURNS))  # the opener's trigger_intent, then the turns
    assert locks.seen, "no Rasa lock key ever appeared in Redis: the Redis lock store is not in use"


def test_a_stopped_rasa_server_is_skipped(scaled):
    """One of the two Rasa servers goes away: every turn goes to the other, with no holding reply."""
    d = scaled
    d.stack.stop_one(d.stack.rasa_names[1])
    patient = Patient("+447700900499", "Nia")
    add_patient(d.settings, ODS, patient.first_name, "Smith", DOB, patient.number,
                dt.date.today() - dt.timedelta(days=30))
    rasa = RasaClient(d.stack.rasa_url, d.stack.rasa_token, timeout=WAIT)
    assert rasa.is_ready()  # one server answering is enough
    start_conversation(d.settings, rasa, patient.number)
    seen = 1
    for body, keys in TURNS:
        seen += len(keys)
        status, _ = d.fake.send_inbound(d.inbound_url, patient.number, PRACTICE_NUMBER, body)
        assert status == 200
        d.fake.wait_for_messages(seen, to=patient.number, timeout=WAIT)
    assert [m["body"] for m in d.fake.messages if m["to"] == patient.number] == patient.expected()
    log = (d.stack.workdir / "processor.log").read_text(errors="replace")
    assert f"Rasa server {d.stack.rasa_urls[1]} unreachable" in log


class _Rasa:
    """A stand-in Rasa server on loopback answering every POST with `status` and a fixed body."""

    def __init__(self, status: int = 200):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hits += 1
                payload = b'[{"recipient_id": "x", "text": "hello"}]'
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _closed_port_url() -> str:
    from devkit.stack import free_port

    return f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused


def test_client_round_robin_and_failover():
    from bot.dialogue.rasa_client import DialogueUnavailable

    a, b = _Rasa(), _Rasa()
    try:
        client = RasaClient(f"{a.url}, {b.url}/", timeout=5)
        assert client.base_urls == [a.url, b.url]
        for _ in range(6):
            assert client.turn("sender", "hi") == ["hello"]
        assert (a.hits, b.hits) == (3, 3)  # each call to the next server in turn

        down = _closed_port_url()
        client = RasaClient([down, a.url], timeout=5)
        for _ in range(4):
            assert client.turn("sender", "hi") == ["hello"]  # the refused server is skipped
        assert client.served[(a.url, "turn")] == 4 and not client.served[(down, "turn")]
        with pytest.raises(DialogueUnavailable, match="Rasa unreachable"):
            RasaClient(f"{down},{_closed_port_url()}").turn("sender", "hi")
        assert RasaClient(down).is_ready() is False

        failing = _Rasa(status=500)
        try:
            client = RasaClient([failing.url, a.url], timeout=5)
            hits = a.hits
            with pytest.raises(DialogueUnavailable, match="HTTP 500"):
                client.turn("sender", "hi")  # it took the turn: never run it on a second server too
            assert a.hits == hits
        finally:
            failing.close()
    finally:
        a.close()
        b.close()
