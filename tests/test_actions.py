"""Unit tests for the custom actions and the identity form validator (actions/*.py).

In the style of RasaHQ/financial-demo: each test builds a tracker with `Tracker.from_dict`, runs
the action with a `CollectingDispatcher` and an empty domain, then checks the returned events,
the texts the action uttered (rendered from the example practice's script) and what it wrote to
the database. Every test runs against both SQLite and PostgreSQL (the `database_url` fixture).
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import (
    ActionAcknowledge,
    ActionOptOut,
    ActionRequestCall,
    ActionSafetyHandover,
    ActionUnclear,
    ActionWelcome,
    ActionWhoIsThis,
    ActionWrongPerson,
)
from actions.context import UnknownConversation
from actions.identity import ActionAskDateOfBirth, ActionIdentityFailed, ValidateIdentityForm
from actions.support import ActionAcceptSupport, ActionDecline, ActionLater, ActionOfferSupport
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import Conversation, InboundMessage, OutboundMessage, Outcome, Patient, Practice, Task
from bot.practice_script.loader import script_for
from conftest import PATIENT_DOB, PATIENT_NUMBER, PRACTICE_NUMBER, add_conversation

SCRIPT = script_for(PROJECT_ROOT / "practices", "Y00001")
FIRST_NAME = "Alex"
SUPPORT_CODE = SCRIPT.code_for("CANPCSUPP_COD")
DECLINED_CODE = SCRIPT.code_for("CANPCADEC_COD")


def say(message: str) -> str:
    """The text the example practice sends to our patient for one script message."""
    return SCRIPT.render(message, first_name=FIRST_NAME)


# --- Helpers -------------------------------------------------------------------------------------


def add_inbound(conv: Dict[str, Any], body: str) -> int:
    """Store a patient's text as the gateway would, so outcomes and tasks can link to it."""
    with session_scope(conv["url"]) as session:
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=PATIENT_NUMBER,
                                 to_number=PRACTICE_NUMBER, body=body, conversation_id=conv["id"],
                                 patient_id=conv["patient_id"], status="received")
        session.add(message)
        session.flush()
        return message.id


def make_tracker(sender_id: str, intent: Optional[str] = None, text: str = "",
                 slots: Optional[Dict[str, Any]] = None, inbound_id: Any = None,
                 active_loop: Optional[Dict[str, Any]] = None) -> Tracker:
    latest_message: Dict[str, Any] = {"text": text, "entities": []}
    if intent is not None:
        latest_message["intent"] = {"name": intent, "confidence": 1.0}
    if inbound_id is not None:
        latest_message["metadata"] = {"inbound_id": inbound_id}
    all_slots = {"date_of_birth": None, "identity_verified": None, "identity_attempts": 0.0,
                 "identity_feedback": None, "opener_sent": None, "stage": "identity", "unclear_count": 0.0,
                 "requested_slot": None}
    all_slots.update(slots or {})
    return Tracker.from_dict({
        "sender_id": sender_id,
        "slots": all_slots,
        "latest_message": latest_message,
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": active_loop or {},
        "latest_action_name": "action_listen",
    })


def texts(dispatcher: CollectingDispatcher) -> List[str]:
    return [message["text"] for message in dispatcher.messages]


def assert_no_cancer(dispatcher: CollectingDispatcher) -> None:
    for text in texts(dispatcher):
        assert "cancer" not in text.lower(), text


def outcomes(conv: Dict[str, Any]) -> List[Outcome]:
    with session_scope(conv["url"]) as session:
        return list(session.scalars(select(Outcome).where(Outcome.conversation_id == conv["id"])
                                    .order_by(Outcome.id)))


def tasks(conv: Dict[str, Any]) -> List[Task]:
    with session_scope(conv["url"]) as session:
        return list(session.scalars(select(Task).where(Task.conversation_id == conv["id"]).order_by(Task.id)))


def all_rows(conv: Dict[str, Any], model) -> list:
    with session_scope(conv["url"]) as session:
        return list(session.scalars(select(model)))


def conversation_row(conv: Dict[str, Any]) -> Conversation:
    with session_scope(conv["url"]) as session:
        return session.get(Conversation, conv["id"])


def patient_row(conv: Dict[str, Any]) -> Patient:
    with session_scope(conv["url"]) as session:
        return session.get(Patient, conv["patient_id"])


def assert_untouched(conv: Dict[str, Any]) -> None:
    """No outcome, no task, no queued text, still active, not opted out."""
    assert all_rows(conv, Outcome) == []
    assert all_rows(conv, Task) == []
    assert all_rows(conv, OutboundMessage) == []
    row = conversation_row(conv)
    assert (row.status, row.handover_reason) == ("active", None)
    assert patient_row(conv).opted_out_at is None


def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return events, dispatcher


# --- Names match the domain ------------------------------------------------------------------------


# Which actions the action server serves is checked in tests/test_action_registry.py.


# --- action_ask_date_of_birth ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opener_sent, feedback, expected",
    [
        (None, None, "opener"),
        (False, None, "opener"),
        (None, "wrong", "opener"),  # the opener always comes first, whatever the slots say
        (True, "wrong", "dob_wrong"),
        (True, "unclear", "dob_unclear"),
        (True, None, "dob_ask"),  # e.g. asked again after "who is this?"
    ],
)
def test_ask_date_of_birth(conversation, opener_sent, feedback, expected):
    tracker = make_tracker(conversation["public_id"], intent="start_outreach",
                           slots={"opener_sent": opener_sent, "identity_feedback": feedback},
                           active_loop={"name": "identity_form"})

    events, dispatcher = run(ActionAskDateOfBirth(), tracker)

    assert events == [SlotSet("opener_sent", True), SlotSet("identity_feedback", None)]
    assert texts(dispatcher) == [say(expected)]
    assert_no_cancer(dispatcher)
    assert_untouched(conversation)


def test_opener_greets_the_patient_by_name_and_says_nothing_about_health(conversation):
    events, dispatcher = run(ActionAskDateOfBirth(), make_tracker(conversation["public_id"]))

    (text,) = texts(dispatcher)
    assert text == say("opener")
    assert text.startswith(f"Hello {FIRST_NAME}, this is Riverside Surgery.")
    assert "cancer" not in text.lower() and "diagnos" not in text.lower()
    assert "Reply STOP to opt out" in text


# --- validate_identity_form ---------------------------------------------------------------------


def validate(conversation, value, attempts=0.0):
    tracker = make_tracker(conversation["public_id"], intent="inform_dob", text=str(value),
                           slots={"identity_attempts": attempts, "opener_sent": True, "requested_slot": "date_of_birth"},
                           active_loop={"name": "identity_form"})
    dispatcher = CollectingDispatcher()
    result = ValidateIdentityForm().validate_date_of_birth(value, dispatcher, tracker, {})
    return result, dispatcher


@pytest.mark.parametrize(
    "value",
    [
        "12/03/1961",
        "12.3.61",
        "12-03-1961",
        "12031961",
        "1961-03-12",
        "12th March 1961",
        "march 12th, 1961",
        "It's 12 mar 61 thanks",
    ],
)
@pytest.mark.parametrize("attempts", [0.0, 1.0])
def test_validator_right_date_confirms_identity(conversation, value, attempts):
    result, dispatcher = validate(conversation, value, attempts)

    assert result == {"date_of_birth": "confirmed", "identity_verified": True, "identity_attempts": attempts + 1}
    assert dispatcher.messages == []
    assert_untouched(conversation)


@pytest.mark.parametrize(
    "value, feedback",
    [
        ("13/03/1961", "wrong"),         # a real date, not theirs
        ("12/03/1962", "wrong"),
        ("03/12/1961", "wrong"),         # US order is read as 3 December
        ("no idea", "unclear"),
        ("", "unclear"),
        (None, "unclear"),
        ("31/02/1961", "unclear"),       # not a real day
        ("120361", "unclear"),           # six digits could be anything
        ("12/03/1961 or 13/03/1961", "unclear"),  # two dates: never guess
        ("12/03/2999", "unclear"),       # in the future
    ],
)
def test_validator_first_failure_asks_again_with_feedback(conversation, value, feedback):
    result, dispatcher = validate(conversation, value)

    assert result == {"date_of_birth": None, "identity_attempts": 1.0, "identity_feedback": feedback}
    assert "identity_verified" not in result
    assert dispatcher.messages == []  # the re-ask comes from action_ask_date_of_birth
    assert_untouched(conversation)


@pytest.mark.parametrize("value", ["13/03/1961", "no idea", "31/02/1961"])
def test_validator_second_failure_ends_the_form_unverified(conversation, value):
    result, dispatcher = validate(conversation, value, attempts=1.0)

    assert result["identity_verified"] is False
    assert result["identity_attempts"] == 2.0
    # The requested slot is filled, so the form ends and the identity_verified=false rule runs.
    assert result["date_of_birth"] is not None
    assert result["date_of_birth"] != "confirmed"
    assert dispatcher.messages == []
    assert_untouched(conversation)


def test_validator_then_ask_gives_the_matching_re_ask(conversation):
    """The feedback the validator sets is the one the ask action uses (and then clears)."""
    for value, expected in (("13/03/1961", "dob_wrong"), ("no idea", "dob_unclear")):
        result, _ = validate(conversation, value)
        tracker = make_tracker(conversation["public_id"], active_loop={"name": "identity_form"},
                               slots={"opener_sent": True, "identity_feedback": result["identity_feedback"]})
        events, dispatcher = run(ActionAskDateOfBirth(), tracker)
        assert texts(dispatcher) == [say(expected)]
        assert SlotSet("identity_feedback", None) in events


def test_validator_compares_with_this_patients_date_of_birth(settings, database_url):
    """Two patients: each conversation checks against its own patient's record."""
    _, first = add_conversation(database_url, mobile="+447700900201", dob=dt.date(1950, 1, 2))
    _, second = add_conversation(database_url, mobile="+447700900202", dob=PATIENT_DOB)
    validator = ValidateIdentityForm()
    tracker = make_tracker(first, intent="inform_dob")
    assert validator.validate_date_of_birth("12/03/1961", CollectingDispatcher(), tracker, {}) == \
        {"date_of_birth": None, "identity_attempts": 1.0, "identity_feedback": "wrong"}
    assert validator.validate_date_of_birth("02/01/1950", CollectingDispatcher(), tracker, {})["identity_verified"] \
        is True
    tracker = make_tracker(second, intent="inform_dob")
    assert validator.validate_date_of_birth("12/03/1961", CollectingDispatcher(), tracker, {})["identity_verified"] \
        is True


# --- action_identity_failed ---------------------------------------------------------------------------


def test_identity_failed_hands_over_with_a_task(conversation):
    inbound_id = add_inbound(conversation, "1/1/1970")
    tracker = make_tracker(conversation["public_id"], intent="inform_dob", text="1/1/1970", inbound_id=inbound_id,
                           slots={"identity_verified": False, "identity_attempts": 2.0, "opener_sent": True})

    events, dispatcher = run(ActionIdentityFailed(), tracker)

    assert events == [SlotSet("stage", "done")]
    assert texts(dispatcher) == [say("identity_failed")]
    assert_no_cancer(dispatcher)
    (outcome,) = outcomes(conversation)
    assert (outcome.kind, outcome.cluster, outcome.code) == ("identity_failed", None, None)
    assert (outcome.patient_id, outcome.inbound_message_id) == (conversation["patient_id"], inbound_id)
    (task,) = tasks(conversation)
    assert task.kind == "identity_failed"
    assert (task.practice_id, task.patient_id, task.inbound_message_id, task.status) == \
        (conversation["practice_id"], conversation["patient_id"], inbound_id, "open")
    row = conversation_row(conversation)
    assert (row.status, row.handover_reason) == ("handed_over", "identity not confirmed")
    assert all_rows(conversation, OutboundMessage) == []


# --- action_offer_support ---------------------------------------------------------------------------


def test_offer_support_informs_and_codes_the_outcome(conversation):
    inbound_id = add_inbound(conversation, "12/03/1961")
    tracker = make_tracker(conversation["public_id"], intent="inform_dob", text="12/03/1961", inbound_id=inbound_id,
                           slots={"identity_verified": True, "date_of_birth": "confirmed", "opener_sent": True})

    events, dispatcher = run(ActionOfferSupport(), tracker)

    assert events == [SlotSet("stage", "offered")]
    assert texts(dispatcher) == [say("support_info"), say("offer_chat")]
    assert texts(dispatcher)[0].startswith(f"Thank you, {FIRST_NAME}.")
    (outcome,) = outcomes(conversation)
    assert SUPPORT_CODE == "EXAMPLE-SUPPORT-INFORMED"
    assert (outcome.kind, outcome.cluster, outcome.code) == ("informed", "CANPCSUPP_COD", SUPPORT_CODE)
    assert (outcome.patient_id, outcome.inbound_message_id) == (conversation["patient_id"], inbound_id)
    assert outcome.note
    assert tasks(conversation) == []
    assert conversation_row(conversation).status == "active"


@pytest.mark.parametrize("metadata_value, linked", [("inbound", True), ("inbound-as-text", True), (None, False)])
def test_inbound_id_from_metadata_is_linked(conversation, metadata_value, linked):
    """The gateway sends the inbound id as metadata; a triggered intent has none."""
    inbound_id = add_inbound(conversation, "12/03/1961")
    value = {"inbound": inbound_id, "inbound-as-text": str(inbound_id), None: None}[metadata_value]
    tracker = make_tracker(conversation["public_id"], intent="inform_dob", inbound_id=value,
                           slots={"identity_verified": True})

    run(ActionOfferSupport(), tracker)

    (outcome,) = outcomes(conversation)
    assert outcome.inbound_message_id == (inbound_id if linked else None)


# --- action_accept_support / action_decline / action_later --------------------------------------------


def test_accept_support_starts_the_check_in_at_a_practice_with_roles(conversation):
    inbound_id = add_inbound(conversation, "yes please")
    tracker = make_tracker(conversation["public_id"], intent="affirm", text="yes please", inbound_id=inbound_id,
                           slots={"identity_verified": True, "stage": "offered"})

    events, dispatcher = run(ActionAcceptSupport(), tracker)

    assert events == [SlotSet("stage", "checkin"), SlotSet("checkin_retry", 0.0)]
    assert texts(dispatcher) == []  # the check-in form asks its first question next
    (outcome,) = outcomes(conversation)
    assert (outcome.kind, outcome.inbound_message_id) == ("accepted", inbound_id)
    assert tasks(conversation) == []


def test_accept_support_leaves_a_task_at_a_practice_without_roles(settings, database_url):
    conversation_id, public_id = add_conversation(database_url, ods="Y00002")
    with session_scope(database_url) as session:
        conv_row = session.get(Conversation, conversation_id)
        conversation = {"id": conversation_id, "public_id": public_id, "patient_id": conv_row.patient_id,
                        "practice_id": conv_row.practice_id, "url": database_url}
    inbound_id = add_inbound(conversation, "yes please")
    tracker = make_tracker(public_id, intent="affirm", text="yes please", inbound_id=inbound_id,
                           slots={"identity_verified": True, "stage": "offered"})

    events, dispatcher = run(ActionAcceptSupport(), tracker)

    assert events == [SlotSet("stage", "done")]
    hillside = script_for(PROJECT_ROOT / "practices", "Y00002")
    assert texts(dispatcher) == [hillside.render("accepted")]
    assert "Priya will contact you within 2 working days" in texts(dispatcher)[0]
    (outcome,) = outcomes(conversation)
    assert (outcome.kind, outcome.cluster, outcome.code, outcome.inbound_message_id) == \
        ("accepted", None, None, inbound_id)
    (task,) = tasks(conversation)
    assert (task.kind, task.practice_id, task.patient_id, task.inbound_message_id) == \
        ("arrange_conversation", conversation["practice_id"], conversation["patient_id"], inbound_id)
    assert conversation_row(conversation).status == "active"


def test_decline_after_identity_is_coded(conversation):
    inbound_id = add_inbound(conversation, "no thanks")
    tracker = make_tracker(conversation["public_id"], intent="deny", text="no thanks", inbound_id=inbound_id,
                           slots={"identity_verified": True, "stage": "offered"})

    events, dispatcher = run(ActionDecline(), tracker)

    assert events == [SlotSet("stage", "done")]
    assert texts(dispatcher) == [say("declined")]
    (outcome,) = outcomes(conversation)
    assert DECLINED_CODE == "EXAMPLE-DECLINED"
    assert (outcome.kind, outcome.cluster, outcome.code, outcome.inbound_message_id) == \
        ("declined", "CANPCADEC_COD", DECLINED_CODE, inbound_id)
    assert tasks(conversation) == []
    assert conversation_row(conversation).status == "active"


@pytest.mark.parametrize("verified", [None, False])
def test_decline_before_identity_is_not_coded_but_reviewed(conversation, verified):
    inbound_id = add_inbound(conversation, "no")
    tracker = make_tracker(conversation["public_id"], intent="deny", text="no", inbound_id=inbound_id,
                           slots={"identity_verified": verified, "stage": "identity", "opener_sent": True},
                           active_loop={"name": "identity_form"})

    events, dispatcher = run(ActionDecline(), tracker)

    assert events == [SlotSet("stage", "done")]
    assert texts(dispatcher) == [say("declined")]
    assert_no_cancer(dispatcher)
    assert outcomes(conversation) == []
    (task,) = tasks(conversation)
    assert (task.kind, task.practice_id, task.patient_id, task.inbound_message_id) == \
        ("declined_before_identity", conversation["practice_id"], conversation["patient_id"], inbound_id)
    assert conversation_row(conversation).status == "active"


@pytest.mark.parametrize("stage, verified", [("identity", None), ("offered", True)])
def test_later_records_a_deferral(conversation, stage, verified):
    inbound_id = add_inbound(conversation, "not now")
    tracker = make_tracker(conversation["public_id"], intent="later", text="not now", inbound_id=inbound_id,
                           slots={"identity_verified": verified, "stage": stage})

    events, dispatcher = run(ActionLater(), tracker)

    assert events == []  # the stage stays, so YES later still works
    assert texts(dispatcher) == [say("later")]
    assert_no_cancer(dispatcher)
    (outcome,) = outcomes(conversation)
    assert (outcome.kind, outcome.cluster, outcome.code, outcome.inbound_message_id) == \
        ("deferred", None, None, inbound_id)
    assert tasks(conversation) == []
    assert conversation_row(conversation).status == "active"


# --- action_who_is_this / action_wrong_person / action_request_call ---------------------------------


@pytest.mark.parametrize("stage", ["identity", "offered", "done"])
def test_who_is_this_answers_honestly_without_health_content(conversation, stage):
    tracker = make_tracker(conversation["public_id"], intent="who_is_this", text="who is this?",
                           slots={"stage": stage})

    events, dispatcher = run(ActionWhoIsThis(), tracker)

    assert events == []
    assert texts(dispatcher) == [say("who_is_this")]
    assert "automated" in texts(dispatcher)[0] and SCRIPT.phone in texts(dispatcher)[0]
    assert_no_cancer(dispatcher)
    assert_untouched(conversation)


def test_wrong_person_closes_the_conversation(conversation):
    inbound_id = add_inbound(conversation, "wrong number mate")
    tracker = make_tracker(conversation["public_id"], intent="wrong_person", text="wrong number mate",
                           inbound_id=inbound_id, active_loop={"name": "identity_form"},
                           slots={"opener_sent": True})

    events, dispatcher = run(ActionWrongPerson(), tracker)

    assert events == [SlotSet("stage", "done")]
    assert texts(dispatcher) == [say("wrong_person")]
    assert_no_cancer(dispatcher)
    assert FIRST_NAME not in texts(dispatcher)[0] and SCRIPT.name not in texts(dispatcher)[0]
    (outcome,) = outcomes(conversation)
    assert (outcome.kind, outcome.cluster, outcome.code, outcome.inbound_message_id) == \
        ("wrong_person", None, None, inbound_id)
    (task,) = tasks(conversation)
    assert (task.kind, task.practice_id, task.patient_id, task.inbound_message_id) == \
        ("wrong_number", conversation["practice_id"], conversation["patient_id"], inbound_id)
    row = conversation_row(conversation)
    assert (row.status, row.handover_reason) == ("closed", "wrong person")
    assert patient_row(conversation).opted_out_at is None
    assert all_rows(conversation, OutboundMessage) == []


@pytest.mark.parametrize("stage", ["identity", "offered", "done"])
def test_request_call_hands_over_with_a_callback_task(conversation, stage):
    inbound_id = add_inbound(conversation, "can you ring me")
    tracker = make_tracker(conversation["public_id"], intent="request_call", text="can you ring me",
                           inbound_id=inbound_id, slots={"stage": stage})

    events, dispatcher = run(ActionRequestCall(), tracker)

    assert events == [SlotSet("stage", "done")]
    assert texts(dispatcher) == [say("callback")]
    assert_no_cancer(dispatcher)
    (outcome,) = outcomes(conversation)
    assert (outcome.kind, outcome.cluster, outcome.code, outcome.inbound_message_id) == \
        ("callback_requested", None, None, inbound_id)
    (task,) = tasks(conversation)
    assert (task.kind, task.practice_id, task.patient_id, task.inbound_message_id) == \
        ("callback", conversation["practice_id"], conversation["patient_id"], inbound_id)
    row = conversation_row(conversation)
    assert (row.status, row.handover_reason) == ("handed_over", "callback requested")


# --- action_safety_handover (the back-up when a flag intent reaches the dialogue) ----------------------


@pytest.mark.parametrize("intent", ["clinical_flag", "safeguarding_flag"])
def test_a_flag_intent_that_reaches_the_dialogue_goes_to_a_person(conversation, intent):
    inbound_id = add_inbound(conversation, "things at home are not safe")
    tracker = make_tracker(conversation["public_id"], intent=intent, text="things at home are not safe",
                           inbound_id=inbound_id, slots={"stage": "offered"})

    events, dispatcher = run(ActionSafetyHandover(), tracker)

    assert events == []
    assert texts(dispatcher) == [say("handover_unclear")]
    (task,) = tasks(conversation)
    assert (task.kind, task.inbound_message_id) == ("flag_review", inbound_id)
    row = conversation_row(conversation)
    assert (row.status, row.handover_reason) == ("handed_over", "possible flag")


# --- action_opt_out ----------------------------------------------------------------------------------


def test_opt_out_stops_texts_and_queues_the_one_notice(conversation):
    inbound_id = add_inbound(conversation, "please stop texting me")
    tracker = make_tracker(conversation["public_id"], intent="opt_out", text="please stop texting me",
                           inbound_id=inbound_id, slots={"opener_sent": True},
                           active_loop={"name": "identity_form"})

    events, dispatcher = run(ActionOptOut(), tracker)

    assert events == [SlotSet("stage", "done")]
    # The notice goes through the outbox, marked so the opt-out does not block it; nothing is
    # uttered, or it would be queued as an ordinary reply and suppressed.
    assert dispatcher.messages == []
    (notice,) = all_rows(conversation, OutboundMessage)
    assert notice.purpose == "opt_out_notice"
    assert notice.body == say("opted_out")
    assert "cancer" not in notice.body.lower()
    assert (notice.to_number, notice.from_number, notice.status) == (PATIENT_NUMBER, SCRIPT.sender, "pending")
    assert (notice.conversation_id, notice.patient_id, notice.in_reply_to_id) == \
        (conversation["id"], conversation["patient_id"], inbound_id)
    assert notice.idempotency_key == f"opt-out:{conversation['id']}"
    assert patient_row(conversation).opted_out_at is not None
    row = conversation_row(conversation)
    assert (row.status, row.handover_reason) == ("closed", "opted out")
    (outcome,) = outcomes(conversation)
    assert (outcome.kind, outcome.cluster, outcome.code, outcome.inbound_message_id) == \
        ("opted_out", None, None, inbound_id)
    assert tasks(conversation) == []


def test_opt_out_twice_queues_the_notice_once(conversation):
    tracker = make_tracker(conversation["public_id"], intent="opt_out", text="stop texting me")
    run(ActionOptOut(), tracker)
    first_opt_out = patient_row(conversation).opted_out_at

    events, dispatcher = run(ActionOptOut(), tracker)

    assert events == [SlotSet("stage", "done")]
    assert dispatcher.messages == []
    assert len(all_rows(conversation, OutboundMessage)) == 1
    assert patient_row(conversation).opted_out_at == first_opt_out
    assert conversation_row(conversation).status == "closed"


# --- action_welcome / action_acknowledge ----------------------------------------------------------


@pytest.mark.parametrize("stage", ["identity", "offered", "done"])
def test_welcome(conversation, stage):
    tracker = make_tracker(conversation["public_id"], intent="thank", text="thanks", slots={"stage": stage})

    events, dispatcher = run(ActionWelcome(), tracker)

    assert events == []
    assert texts(dispatcher) == [say("welcome")]
    assert f"Take care, {FIRST_NAME}." in texts(dispatcher)[0]
    assert_no_cancer(dispatcher)
    assert_untouched(conversation)


@pytest.mark.parametrize("intent", ["affirm", "deny", "later"])
def test_acknowledge_after_done(conversation, intent):
    tracker = make_tracker(conversation["public_id"], intent=intent, text="ok",
                           slots={"stage": "done", "identity_verified": True})

    events, dispatcher = run(ActionAcknowledge(), tracker)

    assert events == []
    assert texts(dispatcher) == [say("acknowledge")]
    assert SCRIPT.phone in texts(dispatcher)[0]
    assert_untouched(conversation)


# --- action_unclear -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stage, expected",
    [("offered", "unclear_offer"), ("identity", "unclear"), ("done", "unclear"), (None, "unclear")],
)
@pytest.mark.parametrize("count", [0.0, None])
def test_unclear_first_time_re_asks_for_the_stage(conversation, stage, expected, count):
    inbound_id = add_inbound(conversation, "hmm")
    tracker = make_tracker(conversation["public_id"], intent="nlu_fallback", text="hmm", inbound_id=inbound_id,
                           slots={"stage": stage, "unclear_count": count})

    events, dispatcher = run(ActionUnclear(), tracker)

    assert events == [SlotSet("unclear_count", 1.0)]
    assert texts(dispatcher) == [say(expected)]
    assert_no_cancer(dispatcher)
    assert_untouched(conversation)


@pytest.mark.parametrize("stage", ["offered", "identity", "done"])
def test_unclear_second_time_hands_over(conversation, stage):
    inbound_id = add_inbound(conversation, "???")
    tracker = make_tracker(conversation["public_id"], intent="nlu_fallback", text="???", inbound_id=inbound_id,
                           slots={"stage": stage, "unclear_count": 1.0})

    events, dispatcher = run(ActionUnclear(), tracker)

    assert events == [SlotSet("unclear_count", 2.0)]
    assert texts(dispatcher) == [say("handover_unclear")]
    assert_no_cancer(dispatcher)
    (task,) = tasks(conversation)
    assert (task.kind, task.practice_id, task.patient_id, task.inbound_message_id) == \
        ("unclear", conversation["practice_id"], conversation["patient_id"], inbound_id)
    assert outcomes(conversation) == []
    row = conversation_row(conversation)
    assert (row.status, row.handover_reason) == ("handed_over", "not understood")


def test_unclear_twice_in_a_row(conversation):
    """The slot the first run sets is what makes the second run hand over: never a loop."""
    tracker = make_tracker(conversation["public_id"], intent="nlu_fallback", slots={"stage": "offered"})
    events, _ = run(ActionUnclear(), tracker)
    (slot_set,) = events

    tracker = make_tracker(conversation["public_id"], intent="nlu_fallback",
                           slots={"stage": "offered", "unclear_count": slot_set["value"]})
    events, dispatcher = run(ActionUnclear(), tracker)

    assert texts(dispatcher) == [say("handover_unclear")]
    assert [task.kind for task in tasks(conversation)] == ["unclear"]
    assert conversation_row(conversation).status == "handed_over"


# --- Unknown conversations and what every action says before identity -----------------------------


ALL_ACTIONS = [ActionAskDateOfBirth, ActionIdentityFailed, ActionOfferSupport, ActionAcceptSupport, ActionDecline,
               ActionLater, ActionWhoIsThis, ActionWrongPerson, ActionRequestCall, ActionOptOut, ActionWelcome,
               ActionAcknowledge, ActionUnclear, ActionSafetyHandover]


@pytest.mark.parametrize("action_class", ALL_ACTIONS, ids=lambda cls: cls().name())
def test_unknown_sender_id_is_refused_and_writes_nothing(settings, database_url, action_class):
    add_conversation(database_url)
    tracker = make_tracker(uuid.uuid4().hex, intent="affirm")
    dispatcher = CollectingDispatcher()

    with pytest.raises(UnknownConversation):
        action_class().run(dispatcher, tracker, {})

    assert dispatcher.messages == []
    with session_scope(database_url) as session:
        for model in (Outcome, Task, OutboundMessage):
            assert list(session.scalars(select(model))) == []
        assert [c.status for c in session.scalars(select(Conversation))] == ["active"]


def test_validator_refuses_an_unknown_sender_id(settings, database_url):
    tracker = make_tracker(uuid.uuid4().hex, intent="inform_dob")
    with pytest.raises(UnknownConversation):
        ValidateIdentityForm().validate_date_of_birth("12/03/1961", CollectingDispatcher(), tracker, {})


@pytest.mark.parametrize("action_class", [cls for cls in ALL_ACTIONS if cls is not ActionOfferSupport],
                         ids=lambda cls: cls().name())
def test_only_the_offer_names_the_diagnosis(conversation, action_class):
    """Nothing before (or instead of) the confirmed identity may say why we are texting."""
    tracker = make_tracker(conversation["public_id"], intent="affirm", slots={"stage": "identity"})
    _, dispatcher = run(action_class(), tracker)
    assert_no_cancer(dispatcher)


def test_the_practice_row_is_the_example_practice(conversation):
    with session_scope(conversation["url"]) as session:
        practice = session.get(Practice, conversation["practice_id"])
        assert (practice.ods_code, practice.name) == ("Y00001", SCRIPT.name)
