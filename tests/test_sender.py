"""The outbox and the sender against the real twilio client and a Twilio-compatible fake,
on SQLite and PostgreSQL: each text is sent at most once, retried only when Twilio surely did
not take it, and its delivery status is tracked."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select, update

from bot.outbox import queue as outbox
from bot.db.engine import get_engine, session_scope
from bot.db.models import Conversation, OutboundMessage, Patient, Task, utcnow
from bot.sender.sender import Sender
from tests.conftest import PATIENT_NUMBER, PRACTICE_NUMBER, add_conversation


def queue(settings, conversation_id: int, bodies: list[str], prefix: str = "t") -> None:
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        outbox.enqueue_all(session, prefix, PATIENT_NUMBER, bodies, conversation=conversation,
                           from_number=PRACTICE_NUMBER)


def rows(settings) -> list[OutboundMessage]:
    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def tasks(settings) -> list[str]:
    with session_scope(settings.database_url) as session:
        return [t.kind for t in session.scalars(select(Task))]


def test_due_texts_are_sent_in_order_with_a_status_callback(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["first", "second"])
    assert Sender(settings).send_due() == 2
    sent = fake_twilio.wait_for_messages(2)
    assert [m["body"] for m in sent] == ["first", "second"]
    assert all(m["to"] == PATIENT_NUMBER and m["from"] == PRACTICE_NUMBER for m in sent)
    assert sent[0]["status_callback"] == settings.status_callback_url
    stored = rows(settings)
    assert [r.twilio_sid for r in stored] == [m["sid"] for m in sent]
    assert all(r.status == "queued" and r.attempts == 1 for r in stored)


def test_enqueue_is_idempotent(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["hello"], prefix="in:7")
    queue(settings, conversation_id, ["hello"], prefix="in:7")  # the same turn retried
    assert len(rows(settings)) == 1


def test_a_second_pass_sends_nothing_again(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["only once"])
    sender = Sender(settings)
    assert sender.send_due() == 1
    assert sender.send_due() == 0
    fake_twilio.wait_for_messages(1)
    assert len(fake_twilio.messages) == 1


def test_two_senders_racing_send_each_text_once(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, [f"text {i}" for i in range(30)])
    senders = [Sender(settings) for _ in range(3)]
    barrier = threading.Barrier(len(senders))

    def run(sender: Sender) -> None:
        barrier.wait()
        sender.send_due()

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bodies = [m["body"] for m in fake_twilio.wait_for_messages(30)]
    assert sorted(bodies) == sorted(f"text {i}" for i in range(30))
    assert len(fake_twilio.messages) == 30


def test_server_error_is_retried_with_backoff_and_sent_once(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["retry me"])
    fake_twilio.fail_next(1, status=500)
    sender = Sender(settings)
    assert sender.send_due() == 1
    (row,) = rows(settings)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > utcnow()
    assert sender.send_due() == 0  # not due yet: backoff
    with session_scope(settings.database_url) as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))
    assert sender.send_due() == 1
    fake_twilio.wait_for_messages(1)
    (row,) = rows(settings)
    assert row.status == "queued" and row.attempts == 2 and len(fake_twilio.messages) == 1


def test_too_many_requests_is_retried(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["busy"])
    fake_twilio.fail_next(1, status=429, code=20429, message="Too Many Requests")
    Sender(settings).send_due()
    assert rows(settings)[0].status == "pending"


def test_unreachable_twilio_is_retried(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["no route"])
    dead = settings.__class__(**{**settings.__dict__, "twilio_api_base_url": "http://127.0.0.1:9"})
    Sender(dead).send_due()
    (row,) = rows(settings)
    assert row.status == "pending" and row.attempts == 1


def test_rejected_text_fails_with_a_task(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    with session_scope(settings.database_url) as session:
        outbox.enqueue(session, "bad", PATIENT_NUMBER, "x" * 1601, conversation=session.get(Conversation, conversation_id))
    Sender(settings).send_due()
    (row,) = rows(settings)
    assert row.status == "failed" and row.error_code == "21617"
    assert tasks(settings) == ["send_failed"]


def test_twilio_opt_out_error_records_the_opt_out(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    fake_twilio.block(PATIENT_NUMBER)
    queue(settings, conversation_id, ["after stop"])
    Sender(settings).send_due()
    assert rows(settings)[0].error_code == "21610"
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(Patient)).opted_out


def test_nothing_goes_to_a_patient_who_opted_out_except_the_notice(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["queued before the opt-out"])
    with session_scope(settings.database_url) as session:
        session.scalar(select(Patient)).opted_out_at = utcnow()
        outbox.enqueue(session, "notice", PATIENT_NUMBER, "You won't get more texts",
                       conversation=session.get(Conversation, conversation_id), purpose="opt_out_notice")
    Sender(settings).send_due()
    assert [m["body"] for m in fake_twilio.wait_for_messages(1)] == ["You won't get more texts"]
    assert [r.status for r in rows(settings)] == ["suppressed", "queued"]


def test_a_send_interrupted_by_a_crash_is_never_resent(settings, fake_twilio):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["maybe sent"])
    with session_scope(settings.database_url) as session:
        assert outbox.claim(session, rows(settings)[0].id)  # claimed, then the process died
    sender = Sender(settings)
    assert sender.recover_interrupted() == 1
    assert sender.send_due() == 0
    assert rows(settings)[0].status == "unknown"
    assert tasks(settings) == ["send_unknown"]
    assert fake_twilio.messages == []


@pytest.mark.parametrize("callbacks, final", [
    (["sent", "delivered"], "delivered"),
    (["delivered", "sent"], "delivered"),       # out of order: never moves backwards
    (["sent", "undelivered"], "undelivered"),
    (["failed", "delivered"], "failed"),         # a final status stays final
])
def test_status_callbacks_move_forward_only(settings, callbacks, final):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["status"])
    with session_scope(settings.database_url) as session:
        session.execute(update(OutboundMessage).values(twilio_sid="SM" + "a" * 32, status="queued"))
    for status in callbacks:
        with session_scope(settings.database_url) as session:
            outbox.store_callback(session, "SM" + "a" * 32, status)
        with session_scope(settings.database_url) as session:
            assert outbox.apply_callbacks(session, "SM" + "a" * 32)
    assert rows(settings)[0].status == final
    with session_scope(settings.database_url) as session:
        outbox.store_callback(session, "SM" + "b" * 32, "delivered")
    with session_scope(settings.database_url) as session:
        assert not outbox.apply_callbacks(session, "SM" + "b" * 32)


def test_two_processes_applying_at_once_never_undo_a_newer_status(settings):
    """The sender reads the callbacks ("sent" only); before its UPDATE lands, the gateway stores and
    applies "delivered". The sender's UPDATE must not take the text back to "sent"."""
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["race"])
    sid = "SM" + "e" * 32
    with session_scope(settings.database_url) as session:
        session.execute(update(OutboundMessage).values(twilio_sid=sid, status="queued"))
        outbox.store_callback(session, sid, "sent")

    def gateway_applies_delivered() -> None:
        with session_scope(settings.database_url) as session:
            outbox.store_callback(session, sid, "delivered")
        with session_scope(settings.database_url) as session:
            outbox.apply_callbacks(session, sid)

    fired = threading.Event()

    def interleave(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOUND_MESSAGES") and not fired.is_set():
            fired.set()  # the sender is about to write what it read: let the gateway win the race first
            other = threading.Thread(target=gateway_applies_delivered)
            other.start()
            other.join()

    engine = get_engine(settings.database_url)
    event.listen(engine, "before_cursor_execute", interleave)
    try:
        with session_scope(settings.database_url) as session:
            assert outbox.apply_callbacks(session, sid)
    finally:
        event.remove(engine, "before_cursor_execute", interleave)
    assert fired.is_set()
    assert rows(settings)[0].status == "delivered"


def test_a_callback_that_comes_before_the_send_is_recorded_is_applied(settings):
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["fast network"])
    with session_scope(settings.database_url) as session:
        outbox.store_callback(session, "SM" + "c" * 32, "delivered")
    with session_scope(settings.database_url) as session:
        session.execute(update(OutboundMessage).values(twilio_sid="SM" + "c" * 32, status="queued"))
    with session_scope(settings.database_url) as session:
        assert outbox.apply_callbacks(session, "SM" + "c" * 32)
    assert rows(settings)[0].status == "delivered"


def test_texts_to_one_phone_keep_their_order_while_phones_go_in_parallel(settings, fake_twilio):
    numbers = [f"+44770090{n:04d}" for n in range(300, 306)]
    for i, number in enumerate(numbers):
        conversation_id, _ = add_conversation(settings.database_url, mobile=number)
        with session_scope(settings.database_url) as session:
            outbox.enqueue_all(session, f"p{i}", number, [f"{number} part {k}" for k in range(4)],
                               conversation=session.get(Conversation, conversation_id))
    assert Sender(settings).send_due() == 24
    fake_twilio.wait_for_messages(24)
    for number in numbers:
        assert [m["body"] for m in fake_twilio.messages if m["to"] == number] == [f"{number} part {k}" for k in range(4)]


class SteppedClock:
    """A monotonic clock that moves only when the sender sleeps: no test waits on the wall clock."""

    def __init__(self, start: float = 100.0, on_sleep=None):
        self.now, self.slept, self.on_sleep = start, [], on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.slept))


def queue_routine(settings, count: int, first: int = 500, from_number: str = PRACTICE_NUMBER) -> list[str]:
    """Replies to unknown numbers (no conversation), one each, as the processor queues them."""
    numbers = [f"+44770090{first + i:04d}" for i in range(count)]
    with session_scope(settings.database_url) as session:
        for number in numbers:
            outbox.enqueue(session, f"unknown:{number}", number, f"routine to {number}", from_number=from_number,
                           purpose="unknown_number")
    return numbers


def test_the_rate_limit_spaces_texts_from_one_sender(settings, fake_twilio):
    slow = settings.__class__(**{**settings.__dict__, "send_rate_per_second": 2.0})
    clock = SteppedClock()
    queue_routine(settings, 3, first=500, from_number="+447700900001")
    queue_routine(settings, 1, first=600, from_number="+447700900002")
    assert Sender(slow, clock=clock, sleep=clock.sleep, workers=1).send_due() == 4
    # the second number's text went while the first number waited: it is not held back
    assert [m["from"] for m in fake_twilio.wait_for_messages(4)] == ["+447700900001", "+447700900002",
                                                                     "+447700900001", "+447700900001"]
    assert clock.slept == [0.5, 0.5]


# -- what goes first ----------------------------------------------------------------------------------


def queue_safety_net(settings, conversation_id: int, body: str = "Call 999 now") -> None:
    with session_scope(settings.database_url) as session:
        outbox.enqueue(session, f"safety:{body}", PATIENT_NUMBER, body, from_number=PRACTICE_NUMBER,
                       conversation=session.get(Conversation, conversation_id), purpose="safety_net")


def test_a_safety_net_goes_before_a_thousand_queued_replies_to_unknown_numbers(settings, fake_twilio):
    queue_routine(settings, 1000)
    conversation_id, _ = add_conversation(settings.database_url)
    queue(settings, conversation_id, ["your reply"])
    queue_safety_net(settings, conversation_id)
    assert Sender(settings, workers=1).send_due(limit=2) == 2
    assert [m["body"] for m in fake_twilio.wait_for_messages(2)] == ["Call 999 now", "your reply"]
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).where(OutboundMessage.status == "pending")) == 1000


def test_a_safety_net_queued_while_the_sender_waits_for_the_rate_limit_goes_next(settings, fake_twilio):
    slow = settings.__class__(**{**settings.__dict__, "send_rate_per_second": 1.0})
    conversation_id, _ = add_conversation(settings.database_url)

    def flag_raised_during_the_wait(sleeps: int) -> None:
        if sleeps == 1:
            queue_safety_net(settings, conversation_id)

    clock = SteppedClock(on_sleep=flag_raised_during_the_wait)
    queue_routine(settings, 3)
    assert Sender(slow, clock=clock, sleep=clock.sleep, workers=1).send_due() == 4
    bodies = [m["body"] for m in fake_twilio.wait_for_messages(4)]
    assert bodies[:2] == ["routine to +447700900500", "Call 999 now"]
    assert clock.slept == [1.0, 1.0, 1.0]


def test_priorities_safety_and_escalation_first_then_replies_in_a_conversation(settings):
    conversation_id, _ = add_conversation(settings.database_url)
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        assert outbox.priority_for("safety_net", None) == outbox.Priority.SAFETY
        assert outbox.priority_for("escalation", None) == outbox.Priority.SAFETY   # to the duty clinician
        assert outbox.priority_for("reply", conversation) == outbox.Priority.CONVERSATION
        assert outbox.priority_for("opt_out_notice", conversation) == outbox.Priority.CONVERSATION
        for purpose in ("invitation", "reminder"):
            assert outbox.priority_for(purpose, conversation) == outbox.Priority.ROUTINE
        assert outbox.priority_for("unknown_number", None) == outbox.Priority.ROUTINE
