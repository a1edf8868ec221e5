"""A conversation ends ("wrong number", "stop texting me", "no thanks") only on positive evidence
(bot/dialogue/endings.py): garbled texts the NLU reads as an ending - markup, emoji, punctuation, numbers -
are treated as not understood at every step and never close the conversation, opt the patient out
or code a decline; explicit phrases still end it.

In the style of RasaHQ/financial-demo, as tests/test_actions.py: `Tracker.from_dict`, a
`CollectingDispatcher`, then the events, the texts and the database. SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import ActionOptOut, ActionWrongPerson
from actions.support import ActionDecline
from bot.dialogue import endings
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import Conversation, OutboundMessage, Outcome, Patient, Task
from bot.practice_script.loader import script_for

SCRIPT = script_for(PROJECT_ROOT / "practices", "Y00001")
GARBLED = ["<script>alert(1)</script>", "\U0001F60A\U0001F44D\U0001F64F", "?!?!... ;; --", "12345",
           "07700 900123", "'; DROP TABLE patients; --", "&lt;b&gt;hi&lt;/b&gt;", "[object Object]", "x"]
ENDINGS = [(ActionWrongPerson, "wrong_person"), (ActionOptOut, "opt_out"), (ActionDecline, "deny")]
# Where the patient is: (slots, active loop)
STEPS = {
    "identity": ({"stage": "identity", "opener_sent": True, "identity_attempts": 0.0}, "identity_form"),
    "date_of_birth": ({"stage": "identity", "opener_sent": True, "identity_attempts": 1.0}, "identity_form"),
    "consent": ({"stage": "offered", "identity_verified": True}, None),
    "check_in": ({"stage": "checkin", "identity_verified": True, "requested_slot": "concern_overall"}, "concern_form"),
    "choosing_a_time": ({"stage": "booking", "identity_verified": True, "requested_slot": "slot_choice"}, "booking_form"),
}


def say(message: str) -> str:
    return SCRIPT.render(message, first_name="Alex")


def tracker_for(public_id: str, intent: str, text: str, confidence: float, slots: Dict[str, Any],
                loop: Optional[str]) -> Tracker:
    all_slots = {"date_of_birth": None, "identity_verified": None, "identity_attempts": 0.0, "identity_feedback": None,
                 "opener_sent": None, "stage": "identity", "unclear_count": 0.0, "requested_slot": None,
                 "checkin_retry": 0.0, "checkin_feedback": None, "booking_feedback": None}
    all_slots.update(slots)
    return Tracker.from_dict({
        "sender_id": public_id, "slots": all_slots, "events": [], "paused": False, "followup_action": None,
        "latest_message": {"text": text, "entities": [], "intent": {"name": intent, "confidence": confidence}},
        "active_loop": {"name": loop} if loop else {}, "latest_action_name": "action_listen"})


def run(action, tracker: Tracker) -> tuple[List[Dict[str, Any]], List[str]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return events, [m["text"] for m in dispatcher.messages]


def state(conv: Dict[str, Any]) -> tuple[str, bool, list, list]:
    """(conversation status, opted out, outcome kinds, queued purposes)"""
    with session_scope(conv["url"]) as session:
        return (session.get(Conversation, conv["id"]).status,
                session.get(Patient, conv["patient_id"]).opted_out_at is not None,
                list(session.scalars(select(Outcome.kind).order_by(Outcome.id))),
                list(session.scalars(select(OutboundMessage.purpose))))


def task_kinds(conv: Dict[str, Any]) -> List[str]:
    with session_scope(conv["url"]) as session:
        return list(session.scalars(select(Task.kind).order_by(Task.id)))


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("action_class, intent", ENDINGS, ids=[i for _, i in ENDINGS])
def test_garbled_texts_read_as_an_ending_never_end_the_conversation(conversation, step, action_class, intent):
    """Even when the NLU is sure (0.99): no closing, no opt-out, no decline, and never the ending's text."""
    slots, loop = STEPS[step]
    ending_texts = {say("wrong_person"), say("opted_out"), say("declined")}
    for text in GARBLED:
        events, texts = run(action_class(), tracker_for(conversation["public_id"], intent, text, 0.99, slots, loop))
        assert events[-1]["event"] == "followup", (text, events)   # the ending's rules never apply
        assert not ending_texts & set(texts), (text, texts)
        status, opted_out, outcomes, queued = state(conversation)
        assert status != "closed" and not opted_out, text
        assert not {"wrong_person", "opted_out", "declined"} & set(outcomes) and queued == [], text
    assert "wrong_number" not in task_kinds(conversation)


@pytest.mark.parametrize("action_class, intent", ENDINGS, ids=[i for _, i in ENDINGS])
def test_at_the_first_identity_answer_a_garbled_text_is_an_unreadable_date(conversation, action_class, intent):
    slots, loop = STEPS["identity"]
    events, texts = run(action_class(), tracker_for(conversation["public_id"], intent, "<script>alert(1)</script>",
                                                    0.99, slots, loop))
    # the form asks again with "sorry, I couldn't read that date" (action_ask_date_of_birth)
    assert events == [SlotSet("identity_attempts", 1.0), SlotSet("identity_feedback", "unclear"),
                      FollowupAction("identity_form")]
    assert texts == [] and state(conversation) == ("active", False, [], []) and task_kinds(conversation) == []


def test_at_the_second_date_of_birth_answer_a_garbled_text_goes_to_a_person(conversation):
    slots, loop = STEPS["date_of_birth"]
    events, texts = run(ActionWrongPerson(), tracker_for(conversation["public_id"], "wrong_person",
                                                         "<script>alert(1)</script>", 0.99, slots, loop))
    assert texts == [say("identity_failed")]   # "the practice will phone you": never "won't text you again"
    assert events[-4:] == [SlotSet("date_of_birth", "not confirmed"), ActiveLoop(None),
                           SlotSet("requested_slot", None), FollowupAction("action_listen")]
    assert SlotSet("identity_verified", False) in events
    assert state(conversation) == ("handed_over", False, ["identity_failed"], [])
    assert task_kinds(conversation) == ["identity_failed"]


def test_at_the_offer_a_garbled_text_is_asked_again_then_passed_to_a_person(conversation):
    slots, loop = STEPS["consent"]
    events, texts = run(ActionDecline(), tracker_for(conversation["public_id"], "deny", "\U0001F44D\U0001F44D",
                                                     0.99, slots, loop))
    assert events == [SlotSet("unclear_count", 1.0), FollowupAction("action_listen")]
    assert texts == [say("unclear_offer")] and state(conversation) == ("active", False, [], [])
    events, texts = run(ActionDecline(), tracker_for(conversation["public_id"], "deny", "\U0001F44D\U0001F44D",
                                                     0.99, {**slots, "unclear_count": 1.0}, loop))
    assert texts == [say("handover_unclear")] and state(conversation) == ("handed_over", False, [], [])
    assert task_kinds(conversation) == ["unclear"]


@pytest.mark.parametrize("step, feedback_slot", [("check_in", "checkin_feedback"), ("choosing_a_time", "booking_feedback")])
def test_in_a_form_a_garbled_text_repeats_the_question_once_then_a_person(conversation, step, feedback_slot):
    slots, loop = STEPS[step]
    events, texts = run(ActionOptOut(), tracker_for(conversation["public_id"], "opt_out", "12345 !!", 0.99,
                                                    slots, loop))
    assert events == [SlotSet("checkin_retry", 1.0), SlotSet(feedback_slot, "unclear"), FollowupAction(loop)]
    assert texts == [] and state(conversation) == ("active", False, [], [])
    events, texts = run(ActionOptOut(), tracker_for(conversation["public_id"], "opt_out", "12345 !!", 0.99,
                                                    {**slots, "checkin_retry": 1.0}, loop))
    assert texts == [say("handover_unclear")]
    assert events == [SlotSet("checkin_retry", 0.0), ActiveLoop(None), SlotSet("requested_slot", None),
                      FollowupAction("action_listen")]
    assert state(conversation) == ("handed_over", False, [], []) and task_kinds(conversation) == ["unclear"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("text", ["wrong number", "You've got the wrong person, this is her husband's phone",
                                  "sorry this isn't him"])
def test_an_explicit_wrong_number_still_closes_the_conversation(conversation, step, text):
    slots, loop = STEPS[step]
    events, texts = run(ActionWrongPerson(), tracker_for(conversation["public_id"], "wrong_person", text, 0.75,
                                                         slots, loop))
    assert events == [SlotSet("stage", "done")] and texts == [say("wrong_person")]
    assert state(conversation)[:3] == ("closed", False, ["wrong_person"])


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("text", ["please stop texting me", "Don't text me again!", "unsubscribe"])
def test_an_explicit_opt_out_still_opts_out(conversation, step, text):
    slots, loop = STEPS[step]
    events, texts = run(ActionOptOut(), tracker_for(conversation["public_id"], "opt_out", text, 0.75, slots, loop))
    assert events == [SlotSet("stage", "done")] and texts == []   # the notice goes straight to the outbox
    assert state(conversation) == ("closed", True, ["opted_out"], ["opt_out_notice"])


@pytest.mark.parametrize("text", ["no thanks", "No.", "not interested", "nah"])
def test_an_explicit_no_thanks_is_still_a_coded_decline(conversation, text):
    slots, loop = STEPS["consent"]
    events, texts = run(ActionDecline(), tracker_for(conversation["public_id"], "deny", text, 0.75, slots, loop))
    assert events == [SlotSet("stage", "done")] and texts == [say("declined")]
    assert state(conversation)[2] == ["declined"]


@pytest.mark.parametrize("confidence, ends", [(0.97, True), (0.85, False)])
def test_a_confident_reading_with_a_keyword_ends_and_a_less_confident_one_does_not(conversation, confidence, ends):
    """"im not david" is no explicit phrase ("im not sure" must not end anything), but the keyword
    "not" confirms a confident wrong_person reading."""
    slots, loop = STEPS["consent"]
    assert endings.evidence(endings.Ending.WRONG_PERSON, "im not david", confidence).enough is ends
    run(ActionWrongPerson(), tracker_for(conversation["public_id"], "wrong_person", "im not david", confidence,
                                         slots, loop))
    assert state(conversation)[0] == ("closed" if ends else "active")


def test_the_phrase_lists_cover_the_training_examples():
    """Every NLU example of an ending counts as evidence when the NLU is confident in it, so the
    check costs genuine replies nothing (data/nlu/intents.yml)."""
    import yaml

    data = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "intents.yml").read_text())
    for item in data["nlu"]:
        if item.get("intent") in {e.value for e in endings.Ending}:
            ending = endings.Ending(item["intent"])
            examples = [line[2:].strip() for line in item["examples"].splitlines() if line.strip()]
            weak = [x for x in examples if not endings.evidence(ending, x, 0.95).enough]
            assert weak == [], (ending, weak)
