"""The gateway's one database writer: what Twilio sends us is stored here, patient texts first.

Every webhook handler hands its work to this thread and waits for the commit before it answers
Twilio, so nothing is acknowledged unstored. One thread rather than a pool, because:

- texts that arrive while a transaction is open all go into the next one (group commit), so a
  burst of replies costs a few commits, not one each;
- patient texts always go before delivery callbacks (two for every text we send), so a burst of
  callbacks never delays the answer to a patient's webhook;
- on SQLite, where one process writes at a time, the gateway's own threads never queue inside
  SQLite's busy handler, which sleeps 1, 2, 5, 10... ms between tries.

Because everything goes through this one thread, it must outlive anything (issue 12): a webhook
whose client hung up (its Future cancelled while the database stalled) is still stored, and
setting its result is skipped; an unexpected error in a batch is logged and the thread carries on;
a batch the database refuses for a reason that is not an outage is tried again item by item, so
only the bad item fails; and if the thread dies anyway, `status()` (called by /health and on every
new item) starts a new one and says so.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, TypeVar

from bot.inbound import store as inbound
from bot.outbox import queue as outbox
from bot.db.engine import is_outage, new_engine, session_scope

log = logging.getLogger(__name__)

MAX_TEXTS = 100     # patient texts per transaction
MAX_CALLBACKS = 4   # delivery callbacks per turn: bounds how long a text can wait behind them

T = TypeVar("T")


@dataclass(frozen=True)
class Callback:
    """A Twilio status callback: MessageSid, MessageStatus and ErrorCode."""
    twilio_sid: str
    status: str
    error_code: Optional[str] = None


class IntakeClosed(RuntimeError):
    """The gateway is stopping: the item was not queued (spool it, or answer 503)."""


@dataclass(frozen=True)
class WriterStatus:
    """What /health reports about the writer."""
    alive: bool
    queued_texts: int
    queued_callbacks: int
    busy_seconds: float   # how long the current transaction has run (0 when idle)
    restarts: int         # times the thread was found dead and started again


class Intake:
    """The writer thread. `text` and `callback` return Futures that hold the result once committed,
    or the error: the database's for every item of a transaction that failed through an outage,
    the item's own when the database refused just that item. A Future its waiter cancelled is
    still stored. `on_new_text` is called (in the writer thread) after a commit that added texts."""

    def __init__(self, database_url: str, on_new_text: Optional[Callable[[], None]] = None):
        self.database_url = database_url
        # Its own connection, without the ping before each transaction (one round trip less per
        # batch; after a database restart the first batch fails, its texts are spooled and
        # replayed, and the broken connection is replaced), and on SQLite asking for the write
        # lock every 0.5 ms rather than on SQLite's slowing schedule (bot.db.engine._begin_immediate).
        self._engine = new_engine(database_url, sqlite_writer=True, pool_size=1, max_overflow=1,
                                  pool_pre_ping=False)
        self._ready = threading.Condition()
        self._texts: deque[tuple[Mapping[str, str], Future]] = deque()
        self._callbacks: deque[tuple[Callback, Future]] = deque()
        self._closing = False
        self._on_new_text = on_new_text
        self._busy_since: Optional[float] = None
        self._restarts = 0
        self._thread = self._start_thread()

    def _start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="intake", daemon=True)
        thread.start()
        return thread

    def status(self) -> WriterStatus:
        """The writer's state; a dead thread is started again first (and logged), so a failure the
        loop did not catch costs one restart, not every later text."""
        with self._ready:
            if not self._thread.is_alive() and not self._closing:
                self._restarts += 1
                log.error("intake writer thread had stopped; starting it again (restart %d)", self._restarts)
                self._thread = self._start_thread()
            busy = self._busy_since
            return WriterStatus(alive=self._thread.is_alive(), queued_texts=len(self._texts),
                                queued_callbacks=len(self._callbacks),
                                busy_seconds=0.0 if busy is None else time.monotonic() - busy,
                                restarts=self._restarts)

    def text(self, form: Mapping[str, str]) -> "Future[inbound.StoredInbound]":
        """Store an inbound webhook (checked with inbound.row_for first). The result says whether
        its MessageSid was new."""
        return self._put(self._texts, form)

    def callback(self, callback: Callback) -> "Future[bool]":
        """Store a status callback and apply it. The result is False when no text we sent has that
        MessageSid yet (the sender applies it once it records the sid)."""
        return self._put(self._callbacks, callback)

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join(timeout=30)
        self._engine.dispose()

    def _put(self, queue: deque, item) -> Future:
        future: Future = Future()
        if not self._thread.is_alive():
            self.status()  # restarts it
        with self._ready:
            if self._closing:
                raise IntakeClosed("the gateway is stopping")
            queue.append((item, future))
            self._ready.notify()
        return future

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._texts or self._callbacks or self._closing)
                if not self._texts and not self._callbacks:
                    return  # closing, and nothing left
                texts = _take(self._texts, MAX_TEXTS)
                callbacks = [] if texts else _take(self._callbacks, MAX_CALLBACKS)
                self._busy_since = time.monotonic()
            batch = texts or callbacks
            try:
                if texts:
                    self._commit(texts, self._store_texts)
                else:
                    self._commit(callbacks, self._store_callbacks)
            except Exception as exc:  # noqa: BLE001 - the one writer must outlive any batch
                log.exception("intake writer: unexpected error in a batch; carrying on")
                for _, future in batch:
                    _settle(future, exception=exc)
            finally:
                with self._ready:
                    self._busy_since = None

    def _store_texts(self, forms: list[Mapping[str, str]]) -> list[inbound.StoredInbound]:
        with session_scope(self._engine) as session:
            stored = inbound.store_many(session, forms)
        # Here, not in the webhook handler: a text whose client hung up is stored all the same and
        # must wake the background process too.
        if self._on_new_text is not None and any(s.is_new for s in stored):
            try:
                self._on_new_text()
            except Exception:  # noqa: BLE001 - committed already; the background process polls too
                log.exception("intake: wake-up after a commit failed")
        return stored

    def _store_callbacks(self, callbacks: list[Callback]) -> list[bool]:
        # Stored and committed before they are applied: see outbox.store_callback.
        with session_scope(self._engine) as session:
            for c in callbacks:
                outbox.store_callback(session, c.twilio_sid, c.status, c.error_code)
        with session_scope(self._engine) as session:
            known = {sid: outbox.apply_callbacks(session, sid) for sid in {c.twilio_sid for c in callbacks}}
        return [known[c.twilio_sid] for c in callbacks]

    @staticmethod
    def _commit(items: list[tuple[T, Future]], store: Callable[[list[T]], list]) -> None:
        try:
            results = store([item for item, _ in items])
        except Exception as exc:  # noqa: BLE001 - each waiting webhook decides what to do
            if len(items) > 1 and not is_outage(exc):
                # Refused data, not an outage: one bad item must not fail its neighbours, so each
                # is tried alone (a rolled-back batch stored no text; a callback stored twice is harmless,
                # since applying callbacks is idempotent).
                log.warning("intake: a batch of %d was refused (%s); storing its items one by one",
                            len(items), type(exc).__name__)
                for item in items:
                    Intake._commit([item], store)
                return
            for _, future in items:
                _settle(future, exception=exc)
            return
        for (_, future), result in zip(items, results):
            _settle(future, result=result)


def _settle(future: Future, result: Any = None, exception: Optional[BaseException] = None) -> None:
    """Give a webhook its outcome, unless nobody waits any more: a Future its handler cancelled
    (the client hung up) or already settled. The item is stored either way."""
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass


def _take(queue: deque, limit: int) -> list:
    return [queue.popleft() for _ in range(min(limit, len(queue)))]
