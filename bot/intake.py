"""The gateway's one database writer: what Twilio sends us is stored here, patient texts first.

Every webhook handler hands its work to this thread and waits for the commit before it answers
Twilio, so nothing is acknowledged unstored. One thread rather than a pool, because:

- texts that arrive while a transaction is open all go into the next one (group commit), so a
  burst of replies costs a few commits, not one each;
- patient texts always go before delivery callbacks (two for every text we send), so a burst of
  callbacks never delays the answer to a patient's webhook;
- on SQLite, where one process writes at a time, the gateway's own threads never queue inside
  SQLite's busy handler, which sleeps 1, 2, 5, 10... ms between tries.
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, TypeVar

from bot import inbound, outbox
from bot.db import new_engine, session_scope

MAX_TEXTS = 100     # patient texts per transaction
MAX_CALLBACKS = 4   # delivery callbacks per turn: bounds how long a text can wait behind them

T = TypeVar("T")


@dataclass(frozen=True)
class Callback:
    """A Twilio status callback: MessageSid, MessageStatus and ErrorCode."""
    twilio_sid: str
    status: str
    error_code: Optional[str] = None


class Intake:
    """The writer thread. `text` and `callback` return Futures that hold the result once committed,
    or the database's exception (every item of a failed transaction gets it; none is stored)."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        # Its own connection, without the ping before each transaction (one round trip less per
        # batch; after a database restart the first batch fails, its texts are spooled and
        # replayed, and the broken connection is replaced), and on SQLite asking for the write
        # lock every 0.5 ms rather than on SQLite's slowing schedule (bot.db._begin_immediate).
        self._engine = new_engine(database_url, sqlite_writer=True, pool_size=1, max_overflow=1,
                                  pool_pre_ping=False)
        self._ready = threading.Condition()
        self._texts: deque[tuple[Mapping[str, str], Future]] = deque()
        self._callbacks: deque[tuple[Callback, Future]] = deque()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="intake", daemon=True)
        self._thread.start()

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
        with self._ready:
            if self._closing:
                raise RuntimeError("the gateway is stopping")
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
            if texts:
                self._commit(texts, self._store_texts)
            else:
                self._commit(callbacks, self._store_callbacks)

    def _store_texts(self, forms: list[Mapping[str, str]]) -> list[inbound.StoredInbound]:
        with session_scope(self._engine) as session:
            return inbound.store_many(session, forms)

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
            for _, future in items:
                future.set_exception(exc)
            return
        for (_, future), result in zip(items, results):
            future.set_result(result)


def _take(queue: deque, limit: int) -> list:
    return [queue.popleft() for _ in range(min(limit, len(queue)))]
