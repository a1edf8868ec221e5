"""The sender: delivers outbox texts through Twilio, at most once each, with retries and a rate limit.

A text is claimed (pending -> sending) before the API call. If the call fails in a way that proves
Twilio did not take it (connection refused, HTTP 429/5xx), it goes back to pending with backoff.
If the outcome is unknown (a timeout after the request went out, or a crash mid-call) it becomes
`unknown` and a coordinator task is created: a patient must never get the same text twice.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import requests
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot import outbox, records
from bot.config import Settings
from bot.db import session_scope
from bot.models import Conversation, OutboundMessage, Patient, utcnow
from bot.twilio_client import make_twilio_client

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
OPTED_OUT_ERROR = 21610  # Twilio: the recipient replied STOP


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8, 16... seconds, at most 5 minutes."""
    return float(min(2 ** attempts, 300))


class Sender:
    """Sends due outbox texts. `run_forever` is the background loop; `send_due` is one pass."""

    def __init__(self, settings: Settings, client: Optional[Client] = None,
                 clock: Callable[[], float] = time.monotonic, workers: int = 4):
        self.settings = settings
        self.client = client or make_twilio_client(settings.twilio_account_sid, settings.twilio_auth_token,
                                                   settings.twilio_api_base_url)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._clock = clock
        self._last_send: dict[str, float] = {}
        self._rate_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send")

    def recover_interrupted(self) -> int:
        """Texts left `sending` by a crash may have reached Twilio: mark them unknown, never resend."""
        with session_scope(self.settings.database_url) as session:
            stuck = list(session.scalars(select(OutboundMessage).where(OutboundMessage.status == "sending")))
            for message in stuck:
                message.status = "unknown"
                message.error_message = "sender stopped during the send; not retried to avoid a duplicate"
                self._task_for(session, message, "send_unknown",
                               "A text may not have been delivered (sender restarted). Check and resend by hand if needed.")
        return len(stuck)

    def send_due(self, limit: int = 50) -> int:
        """Send every due text once; returns how many were attempted.

        Texts to different phones go out in parallel; texts to one phone go one after another,
        oldest first, so a patient reads them in the order the assistant wrote them."""
        with session_scope(self.settings.database_url) as session:
            by_phone: dict[str, list[int]] = {}
            for message in outbox.due(session, limit):
                by_phone.setdefault(message.to_number, []).append(message.id)
        if len(by_phone) <= 1:
            return sum(self._send_in_order(ids) for ids in by_phone.values())
        return sum(self._pool.map(self._send_in_order, by_phone.values()))

    def _send_in_order(self, ids: list[int]) -> int:
        attempted = 0
        for message_id in ids:
            if self.stopping.is_set():
                break
            with session_scope(self.settings.database_url) as session:
                if not outbox.claim(session, message_id):
                    continue  # another sender took it
            attempted += 1
            self._deliver(message_id)
        return attempted

    def run_forever(self) -> None:
        """Loop until `stopping` is set: send what is due, then wait for a wake-up or the poll interval."""
        self.recover_interrupted()
        while not self.stopping.is_set():
            try:
                sent = self.send_due()
            except Exception:  # the database may be down: keep the loop alive and try again
                log.exception("sender pass failed")
                sent = 0
            if not sent:
                self.wake.wait(self.settings.sender_poll_seconds)
                self.wake.clear()

    # -- one text -----------------------------------------------------------------------------

    def _deliver(self, message_id: int) -> None:
        with session_scope(self.settings.database_url) as session:
            message = session.get(OutboundMessage, message_id)
            patient = session.get(Patient, message.patient_id) if message.patient_id else None
            if patient is not None and patient.opted_out and message.purpose not in outbox.SENT_EVEN_AFTER_OPT_OUT:
                message.status = "suppressed"
                message.error_message = "patient opted out before it was sent"
                return
            to, body = message.to_number, message.body
            sender = message.from_number or self.settings.twilio_from_number
        self._respect_rate(sender or self.settings.twilio_messaging_service_sid)
        kwargs = {"to": to, "body": body, "status_callback": self.settings.status_callback_url}
        if message.from_number or not self.settings.twilio_messaging_service_sid:
            kwargs["from_"] = sender
        else:
            kwargs["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        try:
            created = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            self._failed(message_id, exc.status, str(exc.code or ""), exc.msg)
            return
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            # A refused connection proves nothing was sent; a read timeout does not.
            sure_not_sent = isinstance(exc, requests.exceptions.ConnectTimeout) or (
                isinstance(exc, requests.exceptions.ConnectionError)
                and not isinstance(exc, requests.exceptions.ReadTimeout))
            self._failed(message_id, 503 if sure_not_sent else None, "", type(exc).__name__)
            return
        with session_scope(self.settings.database_url) as session:
            message = session.get(OutboundMessage, message_id)
            message.twilio_sid = created.sid
            message.status = created.status or "queued"
            message.sent_at = utcnow()
            message.status_updated_at = utcnow()
        with session_scope(self.settings.database_url) as session:
            outbox.apply_callbacks(session, created.sid)  # callbacks that came before we recorded the sid
        log.info("sent outbound %s as %s", message_id, created.sid)

    def _failed(self, message_id: int, http_status: Optional[int], code: str, detail: str) -> None:
        retryable = http_status is not None and (http_status == 429 or http_status >= 500)
        with session_scope(self.settings.database_url) as session:
            message = session.get(OutboundMessage, message_id)
            message.error_code = code or (str(http_status) if http_status else None)
            message.error_message = (detail or "")[:300]
            if http_status is None:
                message.status = "unknown"
                self._task_for(session, message, "send_unknown",
                               "Twilio did not answer in time; the text may or may not have been sent.")
            elif retryable and message.attempts < MAX_ATTEMPTS:
                message.status = "pending"
                message.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff_seconds(message.attempts))
            else:
                message.status = "failed"
                if code == str(OPTED_OUT_ERROR) and message.patient_id:
                    records.opt_out(session, session.get(Patient, message.patient_id))
                else:
                    self._task_for(session, message, "send_failed",
                                   f"A text could not be sent (Twilio error {message.error_code}).")
        log.warning("outbound %s failed: status=%s code=%s", message_id, http_status, code)

    def _task_for(self, session, message: OutboundMessage, kind: str, detail: str) -> None:
        conversation = session.get(Conversation, message.conversation_id) if message.conversation_id else None
        records.create_task(session, kind, detail, practice_id=conversation.practice_id if conversation else None,
                            conversation=conversation, patient_id=message.patient_id)

    def _respect_rate(self, sender: str) -> None:
        # Twilio queues anything over a number's rate; pacing here keeps delivery times honest.
        # Each caller reserves the next free slot for this sender under the lock, then waits for it.
        interval = 1.0 / self.settings.send_rate_per_second if self.settings.send_rate_per_second > 0 else 0.0
        with self._rate_lock:
            now = self._clock()
            slot = max(now, self._last_send.get(sender, now - interval) + interval)
            self._last_send[sender] = slot
        if slot > now:
            time.sleep(slot - now)
