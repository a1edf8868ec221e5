"""Rasa unreachable for more than a minute: the patient gets one short holding reply and a
coordinator a task; the text stays waiting and is answered when Rasa is back (that part end to end
in tests/test_e2e.py::test_a_text_sent_while_rasa_is_down_is_answered_when_it_is_back).
In process, on SQLite and PostgreSQL, with a Rasa URL nothing listens on."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from bot.db.engine import session_scope
from bot.dialogue.rasa_client import RasaClient
from bot.db.models import Conversation, InboundMessage, OutboundMessage, Task, utcnow
from bot.inbound.processor import HOLDING_AFTER, Processor
from conftest import PATIENT_NUMBER, PRACTICE_NUMBER, add_conversation
from tests.test_actions import SCRIPT

HOLDING = SCRIPT.render("holding")


def text(database_url: str, body: str, age: dt.timedelta) -> int:
    with session_scope(database_url) as session:
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=PATIENT_NUMBER,
                                 to_number=PRACTICE_NUMBER, body=body, received_at=utcnow() - age)
        session.add(message)
        session.flush()
        return message.id


def sent(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        return list(session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id)))


def tasks(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        return list(session.scalars(select(Task.kind).order_by(Task.id)))


def processor(settings) -> Processor:
    return Processor(settings, RasaClient("http://127.0.0.1:9", ""))  # nothing listens: Rasa is down


def test_a_text_waiting_over_a_minute_gets_one_holding_reply_and_a_task(settings, database_url):
    add_conversation(database_url)
    inbound_id = text(database_url, "12/03/1961", HOLDING_AFTER + dt.timedelta(seconds=1))
    turns = processor(settings)
    assert turns.process(inbound_id) is False          # still waiting for Rasa
    assert sent(database_url) == [HOLDING]
    assert "not monitored all the time" in HOLDING and "111" in HOLDING and "cancer" not in HOLDING.lower()
    assert tasks(database_url) == ["assistant_unavailable"]
    assert turns.process(inbound_id) is False          # the sweep tries again: nothing twice
    assert sent(database_url) == [HOLDING] and tasks(database_url) == ["assistant_unavailable"]
    with session_scope(database_url) as session:
        message = session.get(InboundMessage, inbound_id)
        assert (message.status, message.attempts) == ("received", 2)   # kept, to be answered later
    turns.shutdown()


def test_no_holding_reply_within_the_first_minute(settings, database_url):
    add_conversation(database_url)
    inbound_id = text(database_url, "12/03/1961", HOLDING_AFTER - dt.timedelta(seconds=5))
    turns = processor(settings)
    assert turns.process(inbound_id) is False
    assert sent(database_url) == [] and tasks(database_url) == []
    turns.shutdown()


def test_one_holding_reply_per_outage_not_per_text(settings, database_url):
    add_conversation(database_url)
    first = text(database_url, "hello?", HOLDING_AFTER * 3)
    second = text(database_url, "anyone there?", HOLDING_AFTER * 2)
    turns = processor(settings)
    turns.process(first)
    turns.process(second)
    assert sent(database_url) == [HOLDING]
    assert tasks(database_url) == ["assistant_unavailable", "assistant_unavailable"]  # a person reads both
    turns.shutdown()


def test_a_handed_over_conversation_gets_no_holding_reply(settings, database_url):
    conversation_id, _ = add_conversation(database_url)
    with session_scope(database_url) as session:
        session.get(Conversation, conversation_id).status = "handed_over"
    inbound_id = text(database_url, "hello?", HOLDING_AFTER * 2)
    turns = processor(settings)
    assert turns.process(inbound_id) is True   # a person has it: no Rasa turn, so nothing to wait for
    assert sent(database_url) == []
    turns.shutdown()
