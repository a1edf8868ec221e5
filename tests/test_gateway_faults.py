"""Issue 12 against a real gateway process (no background process), on SQLite and PostgreSQL:
a client hanging up while the database stalls, a torn spool at start, 1,000 fuzzed signed
webhooks, and oversized unsigned bodies. Nothing lost, no one locked out."""
from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Optional

import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.webhook import spool
from bot.db.engine import session_scope
from bot.db.models import InboundMessage
from devkit.stack import Stack
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, DATABASES, PRACTICE_NUMBER, drop_database, fresh_database_url
from tests.helpers import wait_for
from tests.test_intake import stalled

pytestmark = pytest.mark.e2e


class Gateway:
    """One gateway process on a fresh database, with its own spool file."""

    def __init__(self, kind: str, workdir: Path):
        self.database_url = fresh_database_url(kind, workdir)
        self.spool_path = workdir / "spool" / "inbound.jsonl"
        self.stack = Stack(env={}, workdir=workdir)
        self.stack.env = {"DATABASE_URL": self.database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                          "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": PRACTICE_NUMBER,
                          "PUBLIC_BASE_URL": self.stack.gateway_url, "INBOUND_RETRY_SECONDS": "0.5",
                          "INBOUND_SPOOL": str(self.spool_path)}
        self.inbound_url = self.stack.gateway_url + "/sms/inbound"

    def start(self) -> "Gateway":
        self.stack.start_gateway()
        self.stack.wait_ready()
        return self

    def stop(self) -> None:
        self.stack.stop()
        drop_database(self.database_url)

    def post(self, form: dict[str, str], timeout: float = 20, http=requests) -> int:
        """POST a webhook signed exactly as Twilio signs it; the status code."""
        signature = RequestValidator(AUTH_TOKEN).compute_signature(self.inbound_url, form)
        return http.post(self.inbound_url, data=urllib.parse.urlencode(form).encode(), timeout=timeout, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}).status_code

    def health(self) -> tuple[int, dict]:
        response = requests.get(self.stack.gateway_url + "/health", timeout=20)
        return response.status_code, response.json()

    def stored(self) -> dict[str, tuple[str, str]]:
        """MessageSid -> (From, Body) of every stored text."""
        with session_scope(self.database_url) as session:
            return {sid: (number, body) for sid, number, body in session.execute(
                select(InboundMessage.message_sid, InboundMessage.from_number, InboundMessage.body))}


@contextlib.contextmanager
def running_gateway(kind: str, workdir: Path) -> Iterator[Gateway]:
    gateway = Gateway(kind, workdir)
    try:
        yield gateway.start()
    finally:
        gateway.stop()


@pytest.fixture(scope="module", params=DATABASES)
def gateway(request, tmp_path_factory):
    with running_gateway(request.param, tmp_path_factory.mktemp(f"gateway-{request.param}")) as running:
        yield running


def webhook(sid: str, body: str = "hello", sender: str = "+447700900123") -> dict[str, str]:
    return {"ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
            "Body": body, "To": PRACTICE_NUMBER, "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID,
            "From": sender, "ApiVersion": "2010-04-01"}


# --- a client that hangs up while the database stalls ----------------------------------------------------

def test_a_client_hanging_up_during_a_stalled_commit_loses_nothing_and_locks_no_one_out(gateway):
    """Finding 1: Twilio gives up after 15 s; its hang-up cancelled the handler, and setting the
    cancelled Future's result killed the writer: no later text was answered or stored."""
    with stalled(gateway.database_url):
        with pytest.raises(requests.Timeout):
            gateway.post(webhook("SM-hangup", "chest pain and breathless"), timeout=1)
        # The gateway saw the hang-up while the commit still waited: it kept the text on disk.
        wait_for(lambda: gateway.spool_path.exists(), what="the hung-up text in the spool")
    answers = [gateway.post(webhook(f"SM-after-stall-{i}", "bleeding")) for i in range(3)]
    assert answers == [200, 200, 200]
    stored = wait_for(lambda: (s := gateway.stored()) and "SM-hangup" in s and s, what="the hung-up text stored")
    assert {"SM-after-stall-0", "SM-after-stall-1", "SM-after-stall-2"} <= stored.keys()
    wait_for(lambda: not gateway.spool_path.exists(), what="the spool replayed")
    status, health = gateway.health()
    assert status == 200, health
    assert health["writer"]["alive"] and health["writer"]["restarts"] == 0
    assert health["spool"] == {"pending": 0, "quarantined": 0}


# --- fuzzed signed webhooks ---------------------------------------------------------------------------

# (field, value, valid): each mutation says whether Twilio's limits still hold afterwards.
MUTATIONS = [
    ("NumMedia", "99999999999999999999999", False), ("NumMedia", "-1", False), ("NumMedia", "11", False),
    ("NumMedia", "two", False), ("NumMedia", "\u0663", False), ("NumMedia", "", True), ("NumMedia", "10", True),
    ("Body", "x" * 1601, False), ("Body", "ok\x00then", False), ("Body", "\U0001F600" * 1600, True),
    ("Body", "", True), ("From", None, False), ("From", "   ", False), ("From", "+44" + "7" * 30, False),
    ("From", "+4477\x0000", False), ("To", "9" * 33, False), ("MessageSid", None, False),
    ("MessageSid", "SM" + "a" * 63, False), ("MessageSid", "SM\x00x", False), ("SmsStatus", "re\x00ceived", False),
    ("Extra\x00Field", "x", False), ("MediaUrl0", "https://api.twilio.com/x", True), ("FromCity", "é" * 500, True),
]
ALPHABETS = ["abcdefghijklmnopqrstuvwxyz  ,.?!'0123456789", "£€éüßçñ\u2019\u201c\u201d", "😀👍🏽❤️🙏",
             "<>&;\"'%+=/\\\r\n\t", "\u0410\u0411\u0412\u4e2d\u6587\u0639\u0631\u0628"]


def fuzzed(rng: random.Random, i: int) -> tuple[dict[str, str], bool]:
    """A webhook as Twilio sends it, with a random body; about a third broken in one field."""
    alphabet = "".join(rng.sample(ALPHABETS, rng.randint(1, len(ALPHABETS))))
    body = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 40, 160, 700, 1600])))[:1600]
    form = webhook(f"SM{rng.getrandbits(128):032x}", body, f"+4477009{rng.randint(0, 99999):05d}")
    if rng.random() < 0.65:
        return form, True
    field, value, valid = rng.choice(MUTATIONS)
    if value is None:
        del form[field]
    else:
        form[field] = value
    return form, valid


def test_a_thousand_fuzzed_signed_webhooks_get_no_5xx_and_every_valid_one_is_stored(gateway):
    """Finding 6: one bad field answered 500 and failed the group commit of its valid neighbours."""
    rng = random.Random(20261122)
    cases = [fuzzed(rng, i) for i in range(1000)]
    local = threading.local()

    def send(case: tuple[dict[str, str], bool]) -> int:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        return gateway.post(case[0], http=local.http)

    with ThreadPoolExecutor(max_workers=12) as pool:  # concurrent, so bad and good share batches
        statuses = list(pool.map(send, cases))
    assert [s for s in statuses if s >= 500] == []
    wrong = [(form.get("MessageSid"), status) for (form, valid), status in zip(cases, statuses)
             if status != (200 if valid else 400)]
    assert wrong == []
    stored = gateway.stored()
    for form, valid in cases:
        if valid:
            assert stored[form["MessageSid"]] == (form["From"], form["Body"])
        elif form.get("MessageSid"):
            assert form["MessageSid"].strip() not in stored
    assert len({form["MessageSid"] for form, valid in cases if valid}) == sum(valid for _, valid in cases)
    assert gateway.health()[0] == 200


# --- oversized unsigned bodies --------------------------------------------------------------------------

def raw_post(url: str, head: bytes, body_parts: list[bytes], timeout: float = 10) -> tuple[Optional[int], float]:
    """Send a request's head and some of its body over a raw socket (as an abuser would), then read
    the status line. Returns (status or None when the connection closed without one, seconds)."""
    parts = urllib.parse.urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
        try:
            connection.sendall(head)
            for part in body_parts:
                connection.sendall(part)
        except OSError:
            pass  # the server may close before reading everything: what it answered is below
        answer = b""
        while b"\r\n" not in answer:
            try:
                chunk = connection.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else None
    return status, time.monotonic() - started


def test_an_oversized_unsigned_body_is_refused_at_once_while_webhooks_are_answered(gateway):
    """Finding 5: a 90 MB unsigned POST was read and parsed on the event loop before the signature
    check, and stalled every webhook and /health for 28.8 s."""
    path = urllib.parse.urlsplit(gateway.inbound_url).path
    declared = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {90 * 1024 * 1024}\r\n\r\n").encode()
    chunked = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"%x\r\n%s\r\n" % (32 * 1024, b"B" * 32 * 1024)
    abuse: list[tuple[Optional[int], float]] = []
    webhooks: list[tuple[int, float]] = []
    done = threading.Event()

    def abuser() -> None:
        try:
            for _ in range(5):
                abuse.append(raw_post(gateway.inbound_url, declared, [b"Body=" + b"A" * 1024]))
                abuse.append(raw_post(gateway.inbound_url, chunked, [chunk] * 4))
        finally:
            done.set()

    thread = threading.Thread(target=abuser)
    thread.start()
    i = 0
    while not done.is_set() or i < 10:
        started = time.monotonic()
        webhooks.append((gateway.post(webhook(f"SM-beside-abuse-{i}"), timeout=10), time.monotonic() - started))
        i += 1
    thread.join()
    assert [status for status, _ in abuse] == [413] * 10
    assert max(seconds for _, seconds in abuse) < 2.0, abuse       # milliseconds, with room for a busy machine
    assert all(status == 200 for status, _ in webhooks), webhooks
    assert max(seconds for _, seconds in webhooks) < 2.0, webhooks


# --- a torn spool at start ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", DATABASES)
def test_a_torn_spool_at_start_is_quarantined_and_the_good_records_replayed(kind, tmp_path):
    """Finding 2: a half-written last line (or a record the database refuses) made `outreach
    gateway` exit at start: a crash loop under a supervisor."""
    gateway = Gateway(kind, tmp_path)
    try:
        spool.append(gateway.spool_path, webhook("SM-spooled-1", "kept while the database was down"))
        with open(gateway.spool_path, "ab") as file:   # written before records had checksums, and refused
            file.write(json.dumps({**webhook("SM-refused"), "NumMedia": "99999999999999999999999"}).encode() + b"\n")
        spool.append(gateway.spool_path, webhook("SM-spooled-2", "after the bad one"))
        with open(gateway.spool_path, "ab") as file:   # a crash in the middle of an append
            file.write(b'{"crc32": 77, "form": {"MessageSid": "SM-torn", "Bo')
        gateway.start()
        stored = wait_for(lambda: (s := gateway.stored()) and len(s) >= 2 and s, what="the spool replayed")
        assert sorted(stored) == ["SM-spooled-1", "SM-spooled-2"]
        status, health = wait_for(lambda: (h := gateway.health()) and h[1]["spool"]["pending"] == 0 and h,
                                  what="the spool emptied")
        assert status == 200 and health["spool"] == {"pending": 0, "quarantined": 2}
        reasons = [json.loads(line)["reason"] for line in spool.quarantine_path(gateway.spool_path).read_text()
                   .splitlines()]
        assert sorted(reasons) == ["refused by the database (MalformedWebhook)", "torn last record (no end of line)"]
        assert gateway.post(webhook("SM-live")) == 200
    finally:
        gateway.stop()
