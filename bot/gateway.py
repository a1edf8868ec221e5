"""The SMS gateway: Twilio's webhooks in, stored, answered at once. Nothing else runs here, so the
answer to Twilio stays fast under load: the turns and the sender run in the background process
(bot/background.py, `outreach processor`), woken by a datagram (bot/wake.py).

POST /sms/inbound  verify the signature, store the text (group commit: bot/intake.py), answer
                   Twilio at once with empty TwiML,
                   then wake the background process.
POST /sms/status   verify, then record a delivery status for an outbound text.
GET  /health       200 when the database answers.
/inbox             the coordinator inbox (bot/inbox).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from urllib.parse import parse_qsl
from typing import Mapping

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json, text
from sqlalchemy import text as sql
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from bot import inbound, spool
from bot.config import Settings
from bot.db import get_engine
from bot.intake import Callback, Intake
from bot.inbox import inbox_blueprint
from bot.wake import Waker

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# The event loop and the writer thread (bot/intake.py) hand each webhook to each other twice; with
# Python's default 5 ms GIL switch interval each hand-over can wait that long when the process is busy.
GIL_SWITCH_INTERVAL = 0.0005


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


def create_app(settings: Settings) -> Sanic:
    """Build the gateway: webhooks, the inbox, and the replay of texts spooled while the database
    was down (spooling and replaying stay in this one process, which owns the spool file)."""
    app = Sanic("can005_gateway")
    waker = Waker(settings.wake_address)
    stopping = threading.Event()
    intake = Intake(settings.database_url)  # the one writer for webhooks: see bot/intake.py
    app.ctx.settings = settings
    app.blueprint(inbox_blueprint(settings, waker.outbound))

    def replay_spool() -> None:
        def store(form) -> None:
            intake.text(form).result()
        if spool.replay(settings.spool_path, store):
            log.info("spooled inbound texts stored")
            waker.inbound()

    def replay_forever() -> None:
        while not stopping.wait(settings.inbound_retry_seconds):
            try:
                replay_spool()
            except Exception:
                log.exception("spool replay failed; trying again")

    @app.after_server_start
    async def start_background(app_: Sanic, _loop) -> None:
        try:
            replay_spool()  # texts kept while the database was down before a restart
        except SQLAlchemyError:
            log.exception("database unavailable at start; the replay keeps trying")
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
            inbound.row_for(form)
        except inbound.MalformedWebhook as exc:
            return text(f"malformed webhook: {exc}", status=400)
        submitted = time.perf_counter()
        try:
            # Awaited, not blocking: a database wait must not hold up the event loop.
            stored = await asyncio.wrap_future(intake.text(form))
        except SQLAlchemyError:
            # The database is down: keep the text on local disk and acknowledge; the sweep stores it later.
            log.error("database unavailable; inbound spooled to %s", settings.spool_path)
            try:
                spool.append(settings.spool_path, form)
            except OSError:
                log.exception("spool unavailable too; inbound not stored")
                return text("temporarily unavailable", status=503)  # not stored, so not acknowledged
            return text(EMPTY_TWIML, content_type="text/xml")
        if stored.is_new:
            waker.inbound()
        log.info("inbound %s stored (new=%s)", stored.id, stored.is_new)
        return text(EMPTY_TWIML, content_type="text/xml",
                    headers={"Server-Timing": _server_timing(started, submitted, time.perf_counter())})

    @app.post("/sms/status")
    async def sms_status(request: Request) -> HTTPResponse:
        form = _form(request)
        if not _signed(settings, request, form):
            return text("invalid Twilio signature", status=403)
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or not status:
            return text("malformed status callback: MessageSid and MessageStatus are required", status=400)
        try:
            known = await asyncio.wrap_future(intake.callback(Callback(sid, status, form.get("ErrorCode") or None)))
        except SQLAlchemyError:
            log.exception("database unavailable; status not stored")
            return text("temporarily unavailable", status=503)
        return text("", status=204 if known else 200)

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        try:
            with get_engine(settings.database_url).connect() as connection:
                connection.execute(sql("SELECT 1"))
        except SQLAlchemyError:
            return json({"database": "unavailable"}, status=503)
        return json({"database": "ok"})

    return app
