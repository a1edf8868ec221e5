"""A text that does not answer the question but says something goes to a person (issue 13, item 3):
at every question of the dialogue, the patient gets the holding reply with the safety-net line, a
review is raised and the conversation is handed over, instead of "sorry, I couldn't read that".
A short unreadable answer ("??", "hmm") is still asked again. Actions are run as Rasa runs them
(Tracker.from_dict + CollectingDispatcher) against the database."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.booking import ActionAskSlotChoice
from actions.checkin import ActionAskConcernAreas, ActionAskConcernAreaScore, ActionAskConcernOverall
from actions.common import ActionUnclear
from actions.identity import ActionAskDateOfBirth
from bot.db.engine import session_scope
from bot.db.models import Conversation, Flag, Task
from bot.safety.review import carries_content
from tests.test_actions import SCRIPT, FIRST_NAME, add_inbound, make_tracker, run, texts



def holding() -> str:
    """The holding reply as the patient gets it now (the pinned clock decides "today" or "when we open")."""
    from bot.common.clock import utcnow

    return SCRIPT.render("safety_review", first_name=FIRST_NAME, next_contact=SCRIPT.opening_hours.when_contact(utcnow()))

CONTENT = "my husband has been shouting at me again and I dont know what to do"
STEPS = [
    # (action, slots, the re-ask a short unreadable answer gets)
    (ActionAskDateOfBirth(), {"opener_sent": True, "identity_feedback": "unclear"}, "dob_unclear"),
    (ActionAskConcernOverall(), {"checkin_feedback": "unclear"}, "checkin_number_unclear"),
    (ActionAskConcernAreas(), {"checkin_feedback": "unclear"}, "checkin_areas_unclear"),
    (ActionAskConcernAreaScore(), {"checkin_feedback": "unclear", "concern_pending": ["practical"]},
     "checkin_number_unclear"),
    (ActionAskSlotChoice(), {"booking_feedback": "unclear", "offered_slots": []}, "booking_unclear"),
    (ActionUnclear(), {"stage": "offered"}, "unclear_offer"),
]
IDS = ["date_of_birth", "overall_score", "areas", "area_score", "slot_choice", "offer"]


@pytest.mark.parametrize("action, slots, reask", STEPS, ids=IDS)
def test_content_that_is_not_an_answer_goes_to_a_person_at_every_step(conversation, action, slots, reask):
    inbound_id = add_inbound(conversation, CONTENT)
    tracker = make_tracker(conversation["public_id"], text=CONTENT, slots=slots, inbound_id=inbound_id)
    events, dispatcher = run(action, tracker)
    assert texts(dispatcher) == [holding()]
    assert "not monitored all the time" in texts(dispatcher)[0]
    with session_scope(conversation["url"]) as session:
        flag = session.scalar(select(Flag).where(Flag.inbound_message_id == inbound_id))
        assert (flag.kind, flag.severity, flag.category, flag.source) == ("review", "review", "not_an_answer",
                                                                          "dialogue")
        task = session.scalar(select(Task).where(Task.inbound_message_id == inbound_id))
        assert task.kind == "flag_review" and task.detail.startswith("REVIEW:")
        assert session.get(Conversation, conversation["id"]).status == "handed_over"
    # A retried turn raises nothing twice.
    run(action, make_tracker(conversation["public_id"], text=CONTENT, slots=slots, inbound_id=inbound_id))
    with session_scope(conversation["url"]) as session:
        assert len(session.scalars(select(Flag).where(Flag.inbound_message_id == inbound_id)).all()) == 1


@pytest.mark.parametrize("action, slots, reask", STEPS, ids=IDS)
def test_a_short_unreadable_answer_is_asked_again(conversation, action, slots, reask):
    inbound_id = add_inbound(conversation, "??")
    events, dispatcher = run(action, make_tracker(conversation["public_id"], text="??", slots=slots,
                                                  inbound_id=inbound_id))
    assert len(texts(dispatcher)) == 1 and texts(dispatcher)[0] != holding()
    with session_scope(conversation["url"]) as session:
        assert session.scalar(select(Flag).where(Flag.inbound_message_id == inbound_id)) is None
        assert session.get(Conversation, conversation["id"]).status == "active"


@pytest.mark.parametrize("text, content", [
    ("??", False), ("hmm", False), ("12 march", False), ("not sure", False), ("", False), ("👍", False),
    ("im scared", True), ("my daughter", True), ("pain", True), ("I will be at the hospital", True),
    ("can we do this another day please", True),  # five words or more
])
def test_what_counts_as_content(text, content):
    assert carries_content(text) is content
