"""A Twilio-compatible fake SMS API server for tests and the local simulator.

It serves the small part of the Twilio REST API the bot uses (creating and
fetching Messages) with Twilio's JSON shapes and error codes, emits signed
status callbacks, and can post signed inbound-SMS webhooks. Point the real
twilio client at it with ``bot.sender.twilio_client.make_twilio_client(...,
api_base_url=fake.base_url)``.

Only the standard library is used, plus twilio's ``RequestValidator`` so
signatures are computed exactly as Twilio computes them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import email.utils
import hmac
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Dict, List, Optional, Tuple, Type

from twilio.request_validator import RequestValidator

from bot.sender.segments import segment_count as count_segments

API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600
CALLBACK_TIMEOUT_SECONDS = 10.0

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")




def _now_rfc2822() -> str:
    """Current time formatted like Twilio's dates, e.g. 'Thu, 30 Jul 2015 20:12:31 +0000'."""
    return email.utils.format_datetime(datetime.now(timezone.utc).replace(microsecond=0))


def _new_sid(prefix: str) -> str:
    """A Twilio-style SID: two-letter prefix plus 32 lowercase hex digits."""
    return prefix + uuid.uuid4().hex


def _error(status: int, code: int, message: str) -> Dict[str, Any]:
    """A Twilio REST error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _ApiError(Exception):
    """Raised inside request handling to produce a Twilio-style error response."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.payload = _error(status, code, message)


class _Handler(BaseHTTPRequestHandler):
    """Routes HTTP requests to the owning ``FakeTwilio``."""

    # HTTP/1.1 so the twilio client's pooled requests session can keep
    # connections alive; every response therefore sets Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "FakeTwilio/1.0"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay silent: test output should not be cluttered with access logs."""

    def _read_form(self) -> Dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        # Twilio takes the first value of a repeated scalar parameter.
        parsed = urllib.parse.parse_qs(raw, keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    def _send_json(self, status: int, payload: Dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Twilio-Request-Id", _new_sid("RQ"))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self, method: str) -> None:
        form = self._read_form() if method == "POST" else {}
        path = urllib.parse.urlsplit(self.path).path
        try:
            status, payload = self.server.fake._handle(method, path, self.headers.get("Authorization"), form)
        except _ApiError as exc:
            status, payload = exc.status, exc.payload
        self._send_json(status, payload)

    def do_GET(self) -> None:
        """Handle GET requests."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Handle POST requests."""
        self._dispatch("POST")

    def do_PUT(self) -> None:
        """Unsupported: answered with Twilio's 404."""
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        """Unsupported: answered with Twilio's 404."""
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        """Unsupported: answered with Twilio's 404."""
        self._dispatch("PATCH")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeTwilio"


class FakeTwilio:
    """In-process fake of Twilio's Messages API.

    Usage::

        with FakeTwilio("AC" + "0" * 32, "test-token") as fake:
            client = make_twilio_client(sid, token, api_base_url=fake.base_url)
            client.messages.create(to="+15550001111", from_="+15550002222", body="hi")
            fake.wait_for_messages(1)
    """

    def __init__(self, account_sid: str, auth_token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        """Configure (but do not start) the fake.

        :param account_sid: The only account SID accepted in paths and Basic auth.
        :param auth_token: Password for Basic auth; also signs webhooks/callbacks.
        :param host: Interface to bind.
        :param port: Port to bind; 0 picks a free one (see ``base_url``).
        """
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.auto_status: bool = True
        self.validator = RequestValidator(auth_token)
        # One Condition guards all mutable state; wait_for_messages waits on it.
        self._cond = threading.Condition()
        self._messages: List[Dict[str, Any]] = []
        self._by_sid: Dict[str, Dict[str, Any]] = {}
        self._failures: List[Tuple[int, int, str]] = []
        self._blocked: set[str] = set()
        self._callback_errors = 0
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._last = threading.local()  # per-thread response headers of the last POST we made

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Root URL of the running server, e.g. ``http://127.0.0.1:43121``."""
        if self._server is None:
            raise RuntimeError("FakeTwilio is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeTwilio":
        """Bind and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        self._server = server
        # A short poll interval only bounds how long stop() waits for the
        # serve loop to notice shutdown (default 0.5 s per test adds up).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeTwilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call more than once."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ inspection / control

    @property
    def messages(self) -> List[Dict[str, Any]]:
        """Snapshot (copies) of every accepted outbound message, in order."""
        with self._cond:
            return [copy.deepcopy(m) for m in self._messages]

    @property
    def callback_errors(self) -> int:
        """How many status-callback POSTs failed (connection error or non-2xx)."""
        with self._cond:
            return self._callback_errors

    def wait_for_messages(self, count: int, to: Optional[str] = None, timeout: float = 30.0) -> List[Dict[str, Any]]:
        """Block until at least ``count`` messages (to ``to``, if given) were accepted.

        :returns: Copies of the matching messages, in order.
        :raises AssertionError: On timeout, with a summary of what was received.
        """

        def matching() -> List[Dict[str, Any]]:
            return [m for m in self._messages if to is None or m["to"] == to]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                return [copy.deepcopy(m) for m in matching()]
            got = matching()
            summary = "\n".join(f"  to={m['to']!r} body={m['body'][:60]!r}" for m in self._messages) or "  (none)"
            target = f" to {to!r}" if to is not None else ""
            raise AssertionError(
                f"Timed out after {timeout}s waiting for {count} message(s){target}; got {len(got)}. "
                f"All {len(self._messages)} accepted message(s):\n{summary}"
            )

    def fail_next(self, n: int, status: int = 500, code: int = 20500, message: str = "Internal Server Error") -> None:
        """Make the next ``n`` authenticated create-message requests fail with this error."""
        with self._cond:
            self._failures.extend([(status, code, message)] * n)

    def block(self, number: str) -> None:
        """Emulate the recipient replying STOP: sends to ``number`` fail with 21610."""
        with self._cond:
            self._blocked.add(number)

    def unblock(self, number: str) -> None:
        """Emulate the recipient replying START."""
        with self._cond:
            self._blocked.discard(number)

    # ------------------------------------------------------------------ inbound webhooks

    def send_inbound(
        self,
        webhook_url: str,
        from_: str,
        to: str,
        body: str,
        message_sid: Optional[str] = None,
        signed: bool = True,
        extra: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, str]:
        """POST an inbound-SMS webhook to ``webhook_url`` the way Twilio does.

        :param extra: Additional/overriding form fields (e.g. ``MessagingServiceSid``).
        :param signed: Whether to add a valid ``X-Twilio-Signature`` header.
        :returns: ``(status code, response body)``; HTTP errors are returned, not raised.
        """
        sid = message_sid or _new_sid("SM")
        to_country = "US" if to.startswith("+1") else ""
        from_country = "US" if from_.startswith("+1") else ""
        # Field order mirrors what Twilio sends; MessagingServiceSid is only
        # present when the number belongs to a messaging service.
        params: Dict[str, str] = {
            "ToCountry": to_country,
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": from_country,
            "To": to,
            "ToZip": "",
            "NumSegments": str(count_segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        if extra:
            params.update(extra)
        return self._post_form(webhook_url, params, signed=signed)

    # ------------------------------------------------------------------ internals

    def _post_form(self, url: str, params: Dict[str, str], signed: bool = True) -> Tuple[int, str]:
        """POST ``params`` form-encoded (signed like Twilio); return (status, body)."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "Accept": "*/*",
        }
        if signed:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(url, params)
        data = urllib.parse.urlencode(params).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=CALLBACK_TIMEOUT_SECONDS) as response:
                self._last.headers = dict(response.headers)
                return response.status, response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            with exc:
                self._last.headers = dict(exc.headers)
                return exc.code, exc.read().decode("utf-8", errors="replace")

    def last_response_headers(self) -> Dict[str, str]:
        """The response headers of this thread's last webhook or callback POST."""
        return getattr(self._last, "headers", {})

    def _check_auth(self, path_sid: str, authorization: Optional[str]) -> None:
        unauthorized = _ApiError(401, 20003, "Authenticate")
        if not authorization or not authorization.lower().startswith("basic "):
            raise unauthorized
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized from None
        user, _, password = decoded.partition(":")
        ok = hmac.compare_digest(user.encode(), self.account_sid.encode())
        ok &= hmac.compare_digest(password.encode(), self.auth_token.encode())
        if not ok or path_sid != self.account_sid:
            raise unauthorized

    def _handle(
        self, method: str, path: str, authorization: Optional[str], form: Dict[str, str]
    ) -> Tuple[int, Dict[str, Any]]:
        """Route one API request; returns (status, JSON payload) or raises ``_ApiError``."""
        list_match = _MESSAGES_PATH.match(path)
        if list_match and method == "POST":
            self._check_auth(list_match.group(1), authorization)
            return 201, self._create_message(form)
        item_match = _MESSAGE_PATH.match(path)
        if item_match and method == "GET":
            self._check_auth(item_match.group(1), authorization)
            with self._cond:
                message = self._by_sid.get(item_match.group(2))
                if message is not None:
                    return 200, self._public(message)
        raise _ApiError(404, 20404, f"The requested resource {path} was not found")

    @staticmethod
    def _public(message: Dict[str, Any]) -> Dict[str, Any]:
        """The API representation of a stored message (without fake-only keys)."""
        resource = copy.deepcopy(message)
        resource.pop("status_callback", None)
        return resource

    def _create_message(self, form: Dict[str, str]) -> Dict[str, Any]:
        with self._cond:
            if self._failures:
                status, code, message = self._failures.pop(0)
                raise _ApiError(status, code, message)

        to = form.get("To", "").strip()
        from_ = form.get("From", "").strip() or None
        service_sid = form.get("MessagingServiceSid", "").strip() or None
        body = form.get("Body", "")
        status_callback = form.get("StatusCallback") or None
        if not to:
            raise _ApiError(400, 21604, "A 'To' phone number is required.")
        if from_ is None and service_sid is None:
            raise _ApiError(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise _ApiError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            raise _ApiError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")

        sid = _new_sid("SM")
        now = _now_rfc2822()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        message: Dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,  # Twilio fills this in once the message is sent.
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service_sid,
            "num_media": "0",
            "num_segments": str(count_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service_sid else "queued",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": uri,
        }
        with self._cond:
            # Checked under the lock so block()/unblock() take effect atomically.
            if to in self._blocked:
                raise _ApiError(400, 21610, "Attempt to send to unsubscribed recipient")
            stored = dict(message, status_callback=status_callback)
            self._messages.append(stored)
            self._by_sid[sid] = stored
            self._cond.notify_all()
            auto_status = self.auto_status
        if auto_status:
            threading.Thread(target=self._progress_status, args=(sid,), name=f"FakeTwilio-{sid}", daemon=True).start()
        return message

    def _progress_status(self, sid: str) -> None:
        """Move a message through sent -> delivered, POSTing status callbacks if requested."""
        for status in ("sent", "delivered"):
            with self._cond:
                message = self._by_sid[sid]
                now = _now_rfc2822()
                message["status"] = status
                message["date_updated"] = now
                if status == "sent":
                    message["date_sent"] = now
                callback_url = message["status_callback"]
                params = {
                    "MessageSid": sid,
                    "MessageStatus": status,
                    "AccountSid": self.account_sid,
                    "To": message["to"],
                    "SmsSid": sid,
                    "SmsStatus": status,
                    "ApiVersion": API_VERSION,
                }
                if message["from"] is not None:
                    params["From"] = message["from"]
                if message["messaging_service_sid"] is not None:
                    params["MessagingServiceSid"] = message["messaging_service_sid"]
                self._cond.notify_all()
            if callback_url is None:
                continue
            try:
                code, _ = self._post_form(callback_url, params)
                failed = not 200 <= code < 300
            except Exception:  # noqa: BLE001 - a broken receiver must not kill the fake
                failed = True
            if failed:
                with self._cond:
                    self._callback_errors += 1
