"""Tests for devkit.fake_twilio.FakeTwilio, driven through the real twilio client."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
import twilio.rest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from devkit.fake_twilio import FakeTwilio, count_segments
from bot.sender.twilio_client import BaseUrlRewritingHttpClient, make_twilio_client

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-token"
BOT_NUMBER = "+15550000001"
USER_NUMBER = "+15550000002"
WAIT = 10.0


class RecordingServer:
    """Tiny webhook receiver that records form posts and checks Twilio signatures."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.posts: List[Dict[str, Any]] = []
        self.cond = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                url = recorder.url + self.path
                signature = self.headers.get("X-Twilio-Signature", "")
                valid = recorder.validator.validate(url, params, signature)
                with recorder.cond:
                    recorder.posts.append(
                        {
                            "path": self.path,
                            "params": params,
                            "valid": valid,
                            "content_type": self.headers.get("Content-Type"),
                        }
                    )
                    recorder.cond.notify_all()
                body = b"<Response/>"
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def wait_for(self, predicate: Any, timeout: float = WAIT) -> List[Dict[str, Any]]:
        """Wait until ``predicate(posts)`` is true; return a copy of the posts."""
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.posts), timeout=timeout), self.posts
            return list(self.posts)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def client(fake: FakeTwilio) -> twilio.rest.Client:
    return make_twilio_client(ACCOUNT_SID, AUTH_TOKEN, api_base_url=fake.base_url)


@pytest.fixture
def receiver() -> Iterator[RecordingServer]:
    server = RecordingServer(AUTH_TOKEN)
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join()


def test_make_twilio_client_rewrites_only_twilio_urls() -> None:
    client = make_twilio_client(ACCOUNT_SID, AUTH_TOKEN, api_base_url="http://127.0.0.1:9/")
    http = client.http_client
    assert isinstance(http, BaseUrlRewritingHttpClient)
    assert http.timeout == 10
    assert (
        http.rewrite_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5")
        == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json?PageSize=5"
    )
    assert http.rewrite_url("https://api.twilio.com.example.org/x") == "https://api.twilio.com.example.org/x"
    assert http.rewrite_url("https://example.org/x") == "https://example.org/x"

    real = make_twilio_client(ACCOUNT_SID, AUTH_TOKEN, api_base_url="https://api.twilio.com")
    assert not isinstance(real.http_client, BaseUrlRewritingHttpClient)
    assert real.http_client.timeout == 10


def test_create_wait_and_fetch(fake: FakeTwilio, client: twilio.rest.Client) -> None:
    fake.auto_status = False
    msg = client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="Hello there")
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert msg.status == "queued"
    assert msg.to == USER_NUMBER
    assert msg.from_ == BOT_NUMBER
    assert msg.body == "Hello there"
    assert msg.num_segments == "1"
    assert msg.direction == "outbound-api"
    assert msg.account_sid == ACCOUNT_SID
    assert msg.date_created is not None
    assert msg.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{msg.sid}.json"

    stored = fake.wait_for_messages(1, to=USER_NUMBER, timeout=WAIT)
    assert [m["sid"] for m in stored] == [msg.sid]
    assert stored[0]["status_callback"] is None

    fetched = client.messages(msg.sid).fetch()
    assert fetched.sid == msg.sid
    assert fetched.body == "Hello there"


def test_fetch_unknown_message_is_404(client: twilio.rest.Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.messages("SM" + "f" * 32).fetch()
    assert info.value.status == 404
    assert info.value.code == 20404


def test_messaging_service(fake: FakeTwilio, client: twilio.rest.Client) -> None:
    msg = client.messages.create(to=USER_NUMBER, messaging_service_sid="MG" + "0" * 32, body="hi")
    assert msg.status == "accepted"
    assert msg.from_ is None
    assert msg.messaging_service_sid == "MG" + "0" * 32


def test_wait_for_messages_times_out_with_summary(fake: FakeTwilio, client: twilio.rest.Client) -> None:
    client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="only one")
    with pytest.raises(AssertionError, match="only one"):
        fake.wait_for_messages(1, to="+15559999999", timeout=0.05)


def test_wrong_auth_token(fake: FakeTwilio) -> None:
    bad = make_twilio_client(ACCOUNT_SID, "wrong-token", api_base_url=fake.base_url)
    with pytest.raises(TwilioRestException) as info:
        bad.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="nope")
    assert info.value.status == 401
    assert info.value.code == 20003
    assert fake.messages == []


def test_fail_next_then_success(fake: FakeTwilio, client: twilio.rest.Client) -> None:
    fake.fail_next(1)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="first")
    assert info.value.status == 500
    assert info.value.code == 20500
    msg = client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="second")
    assert msg.sid.startswith("SM")
    assert [m["body"] for m in fake.messages] == ["second"]


def test_blocked_number(fake: FakeTwilio, client: twilio.rest.Client) -> None:
    fake.block(USER_NUMBER)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="hi")
    assert info.value.status == 400
    assert info.value.code == 21610
    fake.unblock(USER_NUMBER)
    assert client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="hi").status == "queued"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": USER_NUMBER, "from_": BOT_NUMBER}, 21602),
        ({"to": USER_NUMBER, "from_": BOT_NUMBER, "body": ""}, 21602),
        ({"to": USER_NUMBER, "body": "hi"}, 21603),
        ({"to": "", "from_": BOT_NUMBER, "body": "hi"}, 21604),
        ({"to": USER_NUMBER, "from_": BOT_NUMBER, "body": "x" * 1601}, 21617),
    ],
)
def test_validation_errors(client: twilio.rest.Client, kwargs: Dict[str, str], code: int) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(**kwargs)
    assert info.value.status == 400
    assert info.value.code == code


def test_segments(client: twilio.rest.Client) -> None:
    gsm = client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="a" * 161)
    assert gsm.num_segments == "2"
    emoji_body = "\N{GRINNING FACE}" + "a" * 70
    assert len(emoji_body) == 71
    ucs2 = client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body=emoji_body)
    assert ucs2.num_segments == "2"


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension chars count double: 160 septets
        ("€" * 81, 2),
        ("é" * 160, 1),  # é is in the GSM-7 basic set
        ("ü" * 70, 1),
        ("ł" * 70, 1),  # not GSM-7 -> UCS-2
        ("ł" * 71, 2),
    ],
)
def test_count_segments(body: str, segments: int) -> None:
    assert count_segments(body) == segments


def test_status_callbacks_are_signed(
    fake: FakeTwilio, client: twilio.rest.Client, receiver: RecordingServer
) -> None:
    callback_url = receiver.url + "/status?x=1"
    msg = client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="track me", status_callback=callback_url)

    posts = receiver.wait_for(lambda p: {x["params"]["MessageStatus"] for x in p} >= {"sent", "delivered"})
    assert [p["params"]["MessageStatus"] for p in posts] == ["sent", "delivered"]
    for post in posts:
        assert post["valid"], post
        assert post["path"] == "/status?x=1"
        assert post["content_type"] == "application/x-www-form-urlencoded"
        params = post["params"]
        assert params["MessageSid"] == params["SmsSid"] == msg.sid
        assert params["SmsStatus"] == params["MessageStatus"]
        assert params["AccountSid"] == ACCOUNT_SID
        assert params["From"] == BOT_NUMBER
        assert params["To"] == USER_NUMBER
        assert params["ApiVersion"] == "2010-04-01"
    assert fake.messages[0]["status_callback"] == callback_url
    assert fake.callback_errors == 0


def test_send_inbound_is_signed(fake: FakeTwilio, receiver: RecordingServer) -> None:
    url = receiver.url + "/webhooks/twilio/webhook"
    status, body = fake.send_inbound(url, from_=USER_NUMBER, to=BOT_NUMBER, body="Hi bot")
    assert status == 200
    assert body == "<Response/>"

    [post] = receiver.wait_for(lambda p: len(p) == 1)
    assert post["valid"]
    params = post["params"]
    assert params["MessageSid"].startswith("SM") and len(params["MessageSid"]) == 34
    assert params["SmsMessageSid"] == params["SmsSid"] == params["MessageSid"]
    assert params["From"] == USER_NUMBER
    assert params["To"] == BOT_NUMBER
    assert params["Body"] == "Hi bot"
    assert params["AccountSid"] == ACCOUNT_SID
    assert params["SmsStatus"] == "received"
    assert params["NumMedia"] == "0"
    assert "MessagingServiceSid" not in params


def test_send_inbound_unsigned(fake: FakeTwilio, receiver: RecordingServer) -> None:
    status, _ = fake.send_inbound(receiver.url + "/hook", USER_NUMBER, BOT_NUMBER, "x", message_sid="SM" + "1" * 32, signed=False)
    assert status == 200
    [post] = receiver.wait_for(lambda p: len(p) == 1)
    assert not post["valid"]
    assert post["params"]["MessageSid"] == "SM" + "1" * 32


def test_send_inbound_returns_http_errors(fake: FakeTwilio) -> None:
    # The fake itself answers unknown paths with a Twilio-style 404.
    status, body = fake.send_inbound(fake.base_url + "/nowhere", USER_NUMBER, BOT_NUMBER, "x")
    assert status == 404
    assert '"code": 20404' in body


def test_unknown_route_is_404(fake: FakeTwilio) -> None:
    # Use the http client directly to hit an arbitrary path.
    response = BaseUrlRewritingHttpClient(fake.base_url).request(
        "GET", "https://api.twilio.com/2010-04-01/Accounts.json", auth=(ACCOUNT_SID, AUTH_TOKEN)
    )
    assert response.status_code == 404
    assert '"code": 20404' in response.text
