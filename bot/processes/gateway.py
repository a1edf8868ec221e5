"""The SMS gateway: Twilio's webhooks in, stored, answered at once. Nothing else runs here, so the
answer to Twilio stays fast under load: the turns and the sender run in the background process
(bot/processes/background.py, `outreach processor`), woken by a datagram (bot/webhook/wake.py).

POST /sms/inbound  verify the signature, check every field, store the text (group commit:
                   bot/webhook/intake.py), answer Twilio with empty TwiML; the writer wakes the
                   background process. A text the database cannot take within STORE_WAIT_SECONDS,
                   or whose client hangs up, is kept in the disk spool (bot/webhook/spool.py) first.
POST /sms/status   verify, then record a delivery status for an outbound text.
GET  /health       200 when the database answers, the writer runs and is not stalled; reports
                   the writer's queue, the spool and the background process too.
/inbox             the coordinator inbox (bot/inbox).

Every request body is capped at MAX_BODY_BYTES by Sanic itself, from Content-Length or while a
chunked body streams in, before the handler or any parsing runs: an unsigned 90 MB POST gets
its 413 at once instead of holding the event loop for half a minute.
"""
from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Mapping, Optional
from urllib.parse import parse_qsl

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json, text
from sqlalchemy import text as sql
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from bot.inbound import store as inbound
from bot.webhook import spool
from bot.config import Settings
from bot.db.engine import get_engine, is_outage
from bot.webhook.intake import Callback, Intake, IntakeClosed
from bot.inbox import inbox_blueprint
from bot.webhook.wake import Waker, parse_address

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# The event loop and the writer thread (bot/webhook/intake.py) hand each webhook to each other twice; with
# Python's default 5 ms GIL switch interval each hand-over can wait that long when the process is busy.
GIL_SWITCH_INTERVAL = 0.0005
# Twilio's webhook bodies are a few KB (a 1,600-character Body percent-encoded is under 20 KB);
# the inbox's largest form (a 2,000-character note) is under 25 KB.
MAX_BODY_BYTES = 64 * 1024
# Twilio gives up on a webhook after 15 s. A text the database has not taken by then is written to
# the spool and acknowledged (it stays queued for the writer too; its MessageSid keeps it once).
STORE_WAIT_SECONDS = 10.0
# A writer transaction running this long means the database is stalled: /health goes red.
WRITER_STALL_SECONDS = 15.0
HEALTH_CHECK_SECONDS = 3.0   # how long /health waits for the database and the background process
STATUS_FIELD_CHARS = 20      # status_callbacks.status and error_code


def _form(request: Request) -> dict[str, str]:
    """The webhook's form fields. Parsed here because Sanic drops empty fields, and Twilio signs them."""
    try:
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return {}
    return dict(pairs)  # Twilio sends each field once


def _public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio called: signatures are computed over it, not over our internal address."""
    url = settings.public_base_url + request.path
    return url + ("?" + request.query_string if request.query_string else "")


def _signed(settings: Settings, request: Request, form: Mapping[str, str]) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.twilio_auth_token:
        return False
    return RequestValidator(settings.twilio_auth_token).validate(_public_url(settings, request), dict(form), signature)


def _server_timing(started: float, submitted: float, stored: float) -> str:
    """A Server-Timing header (W3C), in ms: checking the request (signature, fields), storing the
    text (waiting for and committing its batch), and the whole handler. It lets a load test tell
    the gateway's own time from the network's and the client's."""
    return (f"check;dur={(submitted - started) * 1000:.1f}, store;dur={(stored - submitted) * 1000:.1f}, "
            f"total;dur={(stored - started) * 1000:.1f}")


def _status_callback_problem(form: Mapping[str, str]) -> Optional[str]:
    """Why a status callback cannot be stored (its fields must fit their columns), or None."""
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid or not status:
        return "MessageSid and MessageStatus are required"
    if any("\x00" in k or "\x00" in v for k, v in form.items()):
        return "a form field contains a NUL character"
    if len(sid) > inbound.MAX_SID_CHARS:
        return f"MessageSid is too long (at most {inbound.MAX_SID_CHARS} characters)"
    if len(status) > STATUS_FIELD_CHARS or len(form.get("ErrorCode", "")) > STATUS_FIELD_CHARS:
        return f"MessageStatus and ErrorCode are at most {STATUS_FIELD_CHARS} characters"
    return None


class _Health:
    """The checks behind GET /health that may block (the database, the background process, the
    spool files), run in two threads of their own so /health never holds up the event loop, and
    never piles up threads while the database hangs: a check still running is reported as such."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="health")
        self._running: dict[str, Future] = {}
        self._failing = False

    async def run(self, name: str, check) -> Any:
        future = self._running.get(name)
        if future is None or future.done():
            future = self._running[name] = self._pool.submit(check)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), HEALTH_CHECK_SECONDS)
        except asyncio.TimeoutError:
            return None

    def database(self) -> str:
        try:
            with get_engine(self.settings.database_url).connect() as connection:
                connection.execute(sql("SELECT 1"))
            return "ok"
        except SQLAlchemyError:
            return "unavailable"

    def background(self) -> str:
        """The background process's own /health (its loops alive, its database): reported, not
        judged here, since restarting the gateway would not mend it."""
        host, port = parse_address(self.settings.wake_address)
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=HEALTH_CHECK_SECONDS) as answer:
                return "ok" if answer.status == 200 else f"failing ({answer.status})"
        except urllib.error.HTTPError as exc:
            try:
                return "failing: " + ", ".join(f"{k} {v}" for k, v in jsonlib.loads(exc.read()).items())
            except ValueError:
                return f"failing ({exc.code})"
        except OSError:
            return "unreachable"

    def judged(self, problems: list[str]) -> int:
        """200 or 503, logging when the gateway starts or stops failing (a supervisor-visible line)."""
        if problems and not self._failing:
            log.error("gateway health failing: %s", "; ".join(problems))
        elif not problems and self._failing:
            log.info("gateway health ok again")
        self._failing = bool(problems)
        return 503 if problems else 200


def create_app(settings: Settings) -> Sanic:
    """Build the gateway: webhooks, the inbox, and the replay of texts spooled while the database
    was down or stalled (spooling and replaying stay in this one process, which owns the spool)."""
    app = Sanic("can005_gateway")
    # Sanic refuses a larger body itself (413), from Content-Length or while a chunked body arrives,
    # before any handler runs: nothing of it is parsed, and the event loop never holds it.
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    waker = Waker(settings.wake_address)
    stopping = threading.Event()
    # The one writer for webhooks (bot/webhook/intake.py); it wakes the background process after each commit
    # that added texts, including those whose client had hung up.
    intake = Intake(settings.database_url, on_new_text=waker.inbound)
    checks = _Health(settings)
    app.ctx.settings = settings
    app.blueprint(inbox_blueprint(settings, waker.outbound))

    def retry_later(exc: BaseException) -> bool:
        return is_outage(exc) or isinstance(exc, IntakeClosed)

    def replay_spool() -> None:
        result = spool.replay(settings.spool_path, lambda form: intake.text(form).result(), retry_later)
        if result.stored or result.quarantined:
            log.info("inbound spool: %d stored, %d quarantined, %d waiting",
                     result.stored, result.quarantined, result.pending)

    def replay_forever() -> None:
        # First at once (texts kept before a restart), then every INBOUND_RETRY_SECONDS. In a thread
        # of its own: a slow database or a bad record never delays the start or a webhook.
        while True:
            try:
                replay_spool()
            except Exception as exc:  # noqa: BLE001 - an outage: the records wait in the spool
                if retry_later(exc):
                    log.warning("inbound spool: database unavailable (%s); records kept for the next try",
                                type(exc).__name__)
                else:
                    log.exception("inbound spool replay failed; trying again")
            if stopping.wait(settings.inbound_retry_seconds):
                return

    def keep(form: Mapping[str, str], why: str) -> bool:
        """Write a text to the spool; False if even that failed (then it must not be acknowledged)."""
        try:
            spool.append(settings.spool_path, form)
        except OSError:
            log.exception("spool unavailable too (%s); inbound not stored", why)
            return False
        log.warning("inbound spooled: %s", why)
        return True

    def _acknowledged() -> HTTPResponse:
        return text(EMPTY_TWIML, content_type="text/xml")

    def _unavailable() -> HTTPResponse:
        return text("temporarily unavailable", status=503)  # not stored, so not acknowledged

    @app.after_server_start
    async def start_background(app_: Sanic, _loop) -> None:
        threading.Thread(target=replay_forever, name="spool-replay", daemon=True).start()

    @app.before_server_stop
    async def stop_background(app_: Sanic, _loop) -> None:
        stopping.set()
        intake.close()

    @app.post("/sms/inbound")
    async def sms_inbound(request: Request) -> HTTPResponse:
        started = time.perf_counter()
        form = _form(request)
        if not _signed(settings, request, form):
            return text("invalid Twilio signature", status=403)
        try:
            inbound.row_for(form)  # every field, before it joins a batch with other texts
        except inbound.MalformedWebhook as exc:
            log.warning("inbound webhook refused: %s", exc)
            return text(f"malformed webhook: {exc}", status=400)
        submitted = time.perf_counter()
        try:
            future = intake.text(form)
        except IntakeClosed:
            return _acknowledged() if keep(form, "the gateway is stopping") else _unavailable()
        try:
            # Awaited, not blocking: a database wait must not hold up the event loop. Shielded, so
            # neither the time limit nor a client hanging up withdraws the text from the writer.
            stored = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), STORE_WAIT_SECONDS)
        except asyncio.TimeoutError:
            # Still queued for the writer; the spool keeps it should the gateway stop meanwhile.
            return _acknowledged() if keep(form, "database slow") else _unavailable()
        except asyncio.CancelledError:
            keep(form, "client hung up while the database was slow")
            raise
        except inbound.MalformedWebhook as exc:
            return text(f"malformed webhook: {exc}", status=400)
        except Exception as exc:  # noqa: BLE001 - an outage is spooled; anything else is refused data
            if is_outage(exc):
                return _acknowledged() if keep(form, f"database unavailable ({type(exc).__name__})") \
                    else _unavailable()
            # The database refused this one text (not an outage): retrying would fail for ever, so
            # it is not spooled; it is kept for a person in the quarantine file instead.
            log.error("inbound refused by the database (%s); kept in the spool's quarantine file",
                      type(exc).__name__)
            spool.quarantine(settings.spool_path, form, f"refused by the database ({type(exc).__name__})")
            return text("webhook refused by the database", status=400)
        log.info("inbound %s stored (new=%s)", stored.id, stored.is_new)
        return text(EMPTY_TWIML, content_type="text/xml",
                    headers={"Server-Timing": _server_timing(started, submitted, time.perf_counter())})

    @app.post("/sms/status")
    async def sms_status(request: Request) -> HTTPResponse:
        form = _form(request)
        if not _signed(settings, request, form):
            return text("invalid Twilio signature", status=403)
        problem = _status_callback_problem(form)
        if problem:
            return text(f"malformed status callback: {problem}", status=400)
        callback = Callback(form["MessageSid"], form["MessageStatus"], form.get("ErrorCode") or None)
        try:
            known = await asyncio.wrap_future(intake.callback(callback))
        except IntakeClosed:
            return _unavailable()
        except Exception as exc:  # noqa: BLE001
            if is_outage(exc):
                log.error("database unavailable (%s); status not stored", type(exc).__name__)
                return _unavailable()
            log.error("status callback refused by the database (%s)", type(exc).__name__)
            return text("status callback refused by the database", status=400)
        return text("", status=204 if known else 200)

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        writer = intake.status()  # starts the writer again if it had died
        database, background, kept = await asyncio.gather(
            checks.run("database", checks.database), checks.run("background", checks.background),
            checks.run("spool", lambda: spool.status(settings.spool_path)))
        problems = []
        if database != "ok":
            problems.append("database " + (database or "not answering"))
        if not writer.alive:
            problems.append("writer thread stopped")
        elif writer.busy_seconds > WRITER_STALL_SECONDS:
            problems.append(f"writer stalled for {writer.busy_seconds:.0f} s")
        body = {
            "database": database or "not answering",
            "writer": {"alive": writer.alive, "queued_texts": writer.queued_texts,
                       "queued_callbacks": writer.queued_callbacks,
                       "busy_seconds": round(writer.busy_seconds, 1), "restarts": writer.restarts},
            "spool": {"pending": kept.pending, "quarantined": kept.quarantined} if kept else "not answering",
            "background": background or "not answering",
            "problems": problems,
        }
        return json(body, status=checks.judged(problems))

    return app
