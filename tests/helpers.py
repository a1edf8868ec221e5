"""Small helpers shared by tests."""
from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Wait until `condition()` returns something truthy (state in another process, e.g. the
    database), and return it. Fails the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)  # polling another process's state; there is nothing to block on


def text_from(settings, mobile: str, body: str, received_at: dt.datetime, to_number: str = "+447700900001") -> int:
    """A text stored as the gateway stores it, then processed as the background process does, with
    no Rasa (a port nobody listens on): the safety rules, keywords and unknown numbers need none.
    Returns the inbound message id."""
    from bot.db.engine import session_scope
    from bot.dialogue.rasa_client import RasaClient
    from bot.db.models import InboundMessage
    from bot.inbound.processor import Processor

    with session_scope(settings.database_url) as session:
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=mobile, to_number=to_number,
                                 body=body, received_at=received_at)
        session.add(message)
        session.flush()
        inbound_id = message.id
    assert Processor(settings, RasaClient("http://127.0.0.1:9")).process(inbound_id)
    return inbound_id
