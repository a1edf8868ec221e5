"""Texts from numbers not on the register: one neutral reply per number per day, the rest stored
(each with its task) and not answered, so nobody can fill the send queue by texting the practice
number; a red flag from such a number still gets its safety net. On SQLite and PostgreSQL, with
fixed arrival times (the limit is measured between the texts' own arrival times)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import ConcernAnswer, InboundMessage, OutboundMessage, Task
from tests.helpers import text_from

T = dt.datetime(2026, 2, 3, 21, 30)
PESTER, OTHER = "+447700900801", "+447700900802"


def replies_to(settings, number: str) -> list[str]:
    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(OutboundMessage.purpose).where(OutboundMessage.to_number == number)
                                    .order_by(OutboundMessage.id)))


def test_one_reply_per_unknown_number_per_day_and_the_rest_stored(settings):
    arrivals = [(PESTER, T), (PESTER, T + dt.timedelta(hours=1)), (OTHER, T + dt.timedelta(hours=2)),
                (PESTER, T + dt.timedelta(hours=23, minutes=59)), (PESTER, T + dt.timedelta(hours=24, minutes=1))]
    ids = [text_from(settings, number, f"hello {i}", at) for i, (number, at) in enumerate(arrivals)]
    assert replies_to(settings, PESTER) == ["unknown_number", "unknown_number"]   # at T and a day later
    assert replies_to(settings, OTHER) == ["unknown_number"]
    with session_scope(settings.database_url) as session:
        handled = [session.get(InboundMessage, i).handled_by for i in ids]
        assert handled == ["unknown_number", "unknown_unanswered", "unknown_number", "unknown_unanswered",
                           "unknown_number"]
        # every text is kept for a coordinator, answered or not
        assert sorted(session.scalars(select(Task.inbound_message_id).where(Task.kind == "unknown_number"))) == ids


def test_a_flag_from_an_unknown_number_past_its_limit_still_gets_the_safety_net(settings):
    text_from(settings, PESTER, "hello", T)
    text_from(settings, PESTER, "I want to kill myself", T + dt.timedelta(minutes=5))
    assert replies_to(settings, PESTER) == ["unknown_number", "safety_net"]


def test_a_red_flag_sent_into_a_flood_is_processed_before_the_texts_waiting_ahead_of_it(settings):
    """Issue 12, finding 4: the background process used to take numbers in arrival order, so a flag
    behind 1,000 texts from unknown numbers waited for all of them. Now the rules take an early look
    at every new text and a flagged one's number goes to the front of the queue."""
    import threading
    import uuid

    from bot.dialogue.rasa_client import RasaClient
    from bot.inbound.processor import Processor

    def store(number: str, body: str) -> int:
        with session_scope(settings.database_url) as session:
            message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=number,
                                     to_number="+447700900001", body=body, received_at=T)
            session.add(message)
            session.flush()
            return message.id

    processor = Processor(settings, RasaClient("http://127.0.0.1:9"), workers=1)
    order: list[str] = []
    first_started, release, all_done = threading.Event(), threading.Event(), threading.Event()
    real_process = processor.process

    def process(inbound_id: int) -> bool:
        with session_scope(settings.database_url) as session:
            order.append(session.get(InboundMessage, inbound_id).from_number)
        first_started.set()
        release.wait(timeout=30)  # the one worker holds the first text until the flag has arrived
        done = real_process(inbound_id)
        if len(order) == len(flood) + 1:
            all_done.set()
        return done

    processor.process = process  # type: ignore[method-assign]
    flood = [f"+4477009{n:05d}" for n in range(30000, 30040)]
    for number in flood:
        store(number, "hi who is this")
    processor.sweep()
    assert first_started.wait(timeout=30)
    flagged = "+447700939999"
    store(flagged, "honestly I just want to end it all tonight")
    processor.sweep()
    release.set()
    assert all_done.wait(timeout=60)
    processor.shutdown()
    assert order[0] == flood[0] and order[1] == flagged, order[:3]
    assert replies_to(settings, flagged)[0] == "safety_net"


def _flagged_text_in_a_conversation(settings, mobile: str) -> int:
    """A patient in an active conversation, and their stored text that holds a score and a red flag."""
    import uuid

    from tests.conftest import add_conversation

    add_conversation(settings.database_url, mobile=mobile)
    with session_scope(settings.database_url) as session:
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=mobile,
                                 to_number="+447700900001", body="8, and I can't see the point any more",
                                 received_at=T)
        session.add(message)
        session.flush()
        return message.id


def test_a_failure_keeping_the_answer_of_a_flagged_text_never_holds_back_the_safety_net(settings, monkeypatch):
    """The answer in "8, and I can't see the point" is kept by asking Rasa which question was asked;
    if that goes wrong in any way (here: Rasa answers nonsense), the safety net still goes out."""
    from bot.dialogue.rasa_client import RasaClient
    from bot.inbound.processor import Processor

    def nonsense(self, sender_id):
        raise ValueError("Rasa answered something that is not JSON")
    monkeypatch.setattr(RasaClient, "waiting_for", nonsense)
    inbound_id = _flagged_text_in_a_conversation(settings, "+447700900321")
    assert Processor(settings, RasaClient("http://127.0.0.1:9")).process(inbound_id)
    assert replies_to(settings, "+447700900321") == ["safety_net"]


def test_the_safety_net_is_committed_and_the_sender_woken_before_rasa_is_asked_about_the_answer(settings, monkeypatch):
    """Keeping the answer in a flagged text asks Rasa which question was asked, which may take
    seconds: by then the safety net must already be in the outbox (committed) and the sender woken."""
    from bot.dialogue.rasa_client import RasaClient
    from bot.inbound.processor import Processor

    seen: dict[str, object] = {}
    woken: list[int] = []

    def waiting_for(self, sender_id):
        seen["replies"] = replies_to(settings, "+447700900322")   # read in its own session
        seen["woken"] = len(woken)
        return "concern_overall", []
    monkeypatch.setattr(RasaClient, "waiting_for", waiting_for)
    inbound_id = _flagged_text_in_a_conversation(settings, "+447700900322")
    processor = Processor(settings, RasaClient("http://127.0.0.1:9"), on_outbox=lambda: woken.append(1))
    assert processor.process(inbound_id)
    assert seen == {"replies": ["safety_net"], "woken": 1}
    with session_scope(settings.database_url) as session:
        answers = session.scalars(select(ConcernAnswer).where(ConcernAnswer.inbound_message_id == inbound_id)).all()
        assert [(a.question, a.score) for a in answers] == [("overall", 8)]
