"""The sender: delivers outbox texts through Twilio, at most once each, with retries and a rate limit.

Texts go most urgent first (outbox.Priority: safety nets, then replies in a conversation), each
chosen when its sender number's rate limit lets it go. A text is claimed (pending -> sending)
before the API call. If the call fails in a way that proves
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

from bot import records
from bot.outbox import queue as outbox
from bot.config import Settings
from bot.dialogue.contact import automatic_text_hold
from bot.db.engine import session_scope
from bot.db.models import Conversation, OutboundMessage, Patient, utcnow
from bot.sender.twilio_client import make_twilio_client

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
OPTED_OUT_ERROR = 21610  # Twilio: the recipient replied STOP


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8, 16... seconds, at most 5 minutes."""
    return float(min(2 ** attempts, 300))


class _Budget:
    """How many more texts one `send_due` call may attempt, shared by its threads."""

    def __init__(self, limit: int):
        self._left = limit
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._left += 1


class Sender:
    """Sends due outbox texts. `run_forever` is the background loop; `send_due` is one pass.

    `clock` (monotonic seconds) and `sleep` drive the rate limit; tests pass their own so that no
    test waits on the wall clock."""

    def __init__(self, settings: Settings, client: Optional[Client] = None,
                 clock: Callable[[], float] = time.monotonic, workers: int = 4,
                 sleep: Optional[Callable[[float], object]] = None):
        self.settings = settings
        self.client = client or make_twilio_client(settings.twilio_account_sid, settings.twilio_auth_token,
                                                   settings.twilio_api_base_url)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._clock = clock
        self._sleep = sleep or self.stopping.wait  # wakes at once when the sender is stopped
        self._workers = workers
        self._next_slot: dict[str, float] = {}   # sender number -> earliest clock() of its next send
        self._busy: set[str] = set()              # phones a text is being sent to right now
        self._choose_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send")

    def recover_interrupted(self) -> int:
        """Texts left `sending` by a crash may have reached Twilio: mark them unknown, never resend."""
        with session_scope(self.settings.database_url) as session:
            stuck = list(session.scalars(select(OutboundMessage).where(OutboundMessage.status == "sending")))
            for message in stuck:
                message.status = "unknown"
                message.error_message = "sender stopped during the send; not retried to avoid a duplicate"
                self._task_for(
                    session,
                    message,
                    "send_unknown",
                    "A text may not have been delivered (sender restarted). Check and resend by hand if needed.",
                )
        return len(stuck)

    def send_due(self, limit: int = 50) -> int:
        """Send due texts, most urgent first (outbox.Priority), until none is due or `limit` were
        attempted; returns how many were attempted.

        Each text is chosen only when its sender number may send (after the rate limit's wait, never
        before it), so a safety net queued while routine texts wait for their turn goes next. Texts
        to different phones go out in parallel; texts to one phone one after another, in order."""
        budget = _Budget(limit)
        if self._workers <= 1:
            return self._send_while_due(budget)
        futures = [self._pool.submit(self._send_while_due, budget) for _ in range(self._workers)]
        return sum(future.result() for future in futures)

    def _send_while_due(self, budget: _Budget) -> int:
        attempted = 0
        while not self.stopping.is_set() and budget.take():
            chosen = self._choose()
            if chosen is None:
                budget.give_back()
                break
            message_id, phone = chosen
            try:
                self._deliver(message_id)
            finally:
                with self._choose_lock:
                    self._busy.discard(phone)
            attempted += 1
        return attempted

    def _choose(self) -> Optional[tuple[int, str]]:
        """Claim the text that should go next and reserve its sender number's slot; wait first if
        that number must (the rate limit) and nothing from another number is due. Returns
        (message id, phone), or None when nothing is due for this thread."""
        interval = 1.0 / self.settings.send_rate_per_second if self.settings.send_rate_per_second > 0 else 0.0
        default = self.settings.twilio_from_number or self.settings.twilio_messaging_service_sid or ""
        while not self.stopping.is_set():
            with self._choose_lock:
                now = self._clock()
                waiting = {number for number, slot in self._next_slot.items() if slot > now}
                with session_scope(self.settings.database_url) as session:
                    best = outbox.next_due(session, utcnow(), self._busy, (), default)
                    if best is None:
                        return None
                    if (best.from_number or default) in waiting:
                        # Its number must wait; a text from a number that need not wait goes meanwhile.
                        best = outbox.next_due(session, utcnow(), self._busy, waiting, default) or best
                    number = best.from_number or default
                    pause = self._next_slot.get(number, now) - now
                    if pause <= 0:
                        if not outbox.claim(session, best.id):
                            continue  # another sender process took it: choose again
                        self._next_slot[number] = now + interval
                        self._busy.add(best.to_number)
                        return best.id, best.to_number
            # Sleep outside the lock, then choose again: what should go next may have changed.
            self._sleep(pause)
        return None

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
            hold = automatic_text_hold(session, patient) if patient is not None and \
                message.purpose in outbox.AUTOMATIC else None
            if hold is not None:  # e.g. a flag came in after the invitation was queued
                message.status = "suppressed"
                message.error_message = f"held: {hold}"[:300]
                log.info("outbound %s held: %s", message_id, hold.reason.value)
                return
            to, body = message.to_number, message.body
            sender = message.from_number or self.settings.twilio_from_number
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
