"""Crashes in the middle of a conversation (kill -9) and restarts, on PostgreSQL: no text from a
patient is lost, no reply is sent twice, and the conversation carries on. A stack of its own, so
killing processes never disturbs the other end-to-end tests."""
from __future__ import annotations

import signal

import pytest
from sqlalchemy import func, select

from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import Conversation, InboundMessage, OutboundMessage, Task
from bot.practice_script.loader import script_for
from tests.conftest import PRACTICE_NUMBER, Deployment, running_deployment
from tests.phone import Phone

pytestmark = pytest.mark.e2e
SCRIPT = script_for(PROJECT_ROOT / "practices", "Y00001")


def say(message: str) -> str:
    return SCRIPT.render(message, first_name="Alex")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_deployment("postgresql", tmp_path_factory.mktemp("faults")) as running:
        yield running


def kill_and_restart(stack: Deployment, name: str) -> None:
    stack.stack.stop_one(name, signal.SIGKILL)
    {"gateway": stack.stack.start_gateway, "processor": stack.stack.start_processor,
     "rasa": stack.stack.start_rasa, "actions": stack.stack.start_actions}[name]()
    stack.stack.wait_ready()


def replies_per_text(stack: Deployment, phone: Phone) -> list[int]:
    """For each text the patient sent, how many replies went out (each must be its full answer)."""
    with session_scope(stack.settings.database_url) as session:
        ids = session.scalars(select(InboundMessage.id).where(InboundMessage.from_number == phone.number)
                              .order_by(InboundMessage.id)).all()
        return [session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.in_reply_to_id == i))
                for i in ids]


@pytest.mark.parametrize("process", ["gateway", "processor", "rasa", "actions"])
def test_kill_9_mid_turn_loses_nothing_and_doubles_nothing(stack, process):
    phone = Phone(stack)
    phone.start()
    status, _ = stack.fake.send_inbound(stack.inbound_url, phone.number, PRACTICE_NUMBER, "12/03/1961")
    assert status == 200                       # stored and acknowledged...
    kill_and_restart(stack, process)           # ...then the process dies, wherever the turn was
    assert phone.expect(2) == [say("support_info"), say("offer_chat")]
    assert phone.text("no thanks", 1) == [say("declined")]     # the conversation carries on
    assert replies_per_text(stack, phone) == [2, 1]
    sent = [m["body"] for m in stack.fake.messages if m["to"] == phone.number]
    assert len(sent) == len(set(sent)) == 4    # opener, two answers, the decline: each once


def test_a_webhook_retried_by_twilio_while_the_gateway_restarts_is_stored_once(stack):
    phone = Phone(stack)
    phone.start()
    sid = "SM" + "a1" * 16
    stack.fake.send_inbound(stack.inbound_url, phone.number, PRACTICE_NUMBER, "12/03/1961", message_sid=sid)
    kill_and_restart(stack, "gateway")
    stack.fake.send_inbound(stack.inbound_url, phone.number, PRACTICE_NUMBER, "12/03/1961", message_sid=sid)
    assert phone.expect(2) == [say("support_info"), say("offer_chat")]
    with session_scope(stack.settings.database_url) as session:
        assert session.scalar(select(func.count(InboundMessage.id)).where(InboundMessage.message_sid == sid)) == 1


def test_an_action_server_that_stays_down_hands_the_text_to_a_person(stack):
    phone = Phone(stack)
    phone.start()
    stack.stack.stop_one("actions", signal.SIGKILL)
    try:
        # Rasa answers with no text while its actions fail: tried again for NO_REPLY_GRACE (a restart
        # takes seconds), then a person. Waited for longer than Phone's usual 30 s on that account.
        status, _ = stack.fake.send_inbound(stack.inbound_url, phone.number, PRACTICE_NUMBER, "12/03/1961")
        assert status == 200
        messages = stack.fake.wait_for_messages(phone.seen + 1, to=phone.number, timeout=90)
        assert [m["body"] for m in messages[phone.seen:]] == [say("holding")]
        phone.seen += 1
        with session_scope(stack.settings.database_url) as session:
            patient_id = phone.patient(session).id
            status = session.scalar(select(Conversation.status).where(Conversation.patient_id == patient_id))
            kinds = session.scalars(select(Task.kind).where(Task.patient_id == patient_id)).all()
        assert status == "handed_over" and "assistant_fault" in kinds
        assert phone.text("hello?", 0) == []      # the bot stays silent: a person has it now
    finally:
        stack.stack.start_actions()
        stack.stack.wait_ready()
