"""The background process (`outreach processor`): the dialogue turns, the sender, the retry sweep
and flag escalation, apart from the gateway. The gateway process then does nothing but verify,
store and answer webhooks (and serve the inbox), so Twilio gets its answer fast even while the
turns keep both cores busy.

GET /health on the same port number as WAKE_ADDRESS (TCP) answers 200 once the database answers
and the workers run.
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import text as sql
from sqlalchemy.exc import SQLAlchemyError

from bot.webhook import wake
from bot.config import Settings
from bot.db.engine import get_engine
from bot.dialogue.rasa_client import RasaClient
from bot.inbox import escalation
from bot.inbound.processor import Processor
from bot.safety import rules, screen
from bot.sender.sender import Sender

log = logging.getLogger(__name__)


def _health_server(settings: Settings, threads: list[threading.Thread]) -> ThreadingHTTPServer:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path != "/health":
                self.send_error(404)
                return
            status, body = 200, {"database": "ok", "workers": "running"}
            try:
                with get_engine(settings.database_url).connect() as connection:
                    connection.execute(sql("SELECT 1"))
            except SQLAlchemyError:
                status, body["database"] = 503, "unavailable"
            if not all(t.is_alive() for t in threads):
                status, body["workers"] = 503, "stopped"
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:  # no request logging (health checks are noise)
            pass

    host, port = wake.parse_address(settings.wake_address)
    return ThreadingHTTPServer((host, port), Health)


def run(settings: Settings, stopping: threading.Event) -> None:
    """Run until `stopping` is set (SIGTERM in `outreach processor`)."""
    rules.warm_up()  # build the safety screen before the first text
    screen.default_model()  # and load its trained second net: ScreenUnavailable stops the process here
    sender = Sender(settings)
    processor = Processor(settings, RasaClient(settings.rasa_url, settings.rasa_token), on_outbox=sender.wake.set)

    def sweep_forever() -> None:
        while True:
            try:
                processor.sweep()  # texts left unprocessed: after a restart, an outage or a lost wake-up
            except Exception:
                log.exception("sweep failed")
            if stopping.wait(settings.inbound_retry_seconds):
                return

    bound = threading.Event()
    threads = [
        threading.Thread(target=sender.run_forever, name="sender", daemon=True),
        threading.Thread(target=sweep_forever, name="sweep", daemon=True),
        threading.Thread(target=escalation.run_forever, args=(settings, stopping, sender.wake.set),
                         name="escalation", daemon=True),
        threading.Thread(target=wake.listen, args=(settings.wake_address, processor.sweep, sender.wake.set,
                                                   stopping, bound), name="wake", daemon=True),
    ]
    for thread in threads:
        thread.start()
    bound.wait(10)
    health = _health_server(settings, threads)
    threading.Thread(target=health.serve_forever, name="health", daemon=True).start()
    log.info("background process running; wake-ups and /health on %s", settings.wake_address)
    stopping.wait()
    health.shutdown()
    sender.stopping.set()
    sender.wake.set()
    processor.shutdown()
