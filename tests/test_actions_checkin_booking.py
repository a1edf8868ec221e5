"""Unit tests for the concern check-in and booking actions (actions/checkin.py, actions/booking.py),
in the style of RasaHQ/financial-demo: a tracker from `Tracker.from_dict`, a `CollectingDispatcher`,
then the returned slot values, the texts and the rows written. Both SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

from actions.booking import (
    ActionAskSlotChoice,
    ActionBookingDone,
    ActionCancelAppointment,
    ActionChangeAppointment,
    ActionChooseRole,
    ValidateBookingForm,
)
from actions.checkin import (
    ActionAskConcernAreas,
    ActionAskConcernAreaScore,
    ActionAskConcernOverall,
    ValidateConcernForm,
)
from bot import records
from bot.booking import slots as booking
from bot.checkin.replies import AREAS
from bot.db.engine import session_scope
from bot.db.models import Appointment, BookingSlot, ConcernAnswer, Conversation, Practice, RoutingDecision, utcnow
from tests.test_actions import SCRIPT, add_inbound, make_tracker, run, say, tasks, texts

FORM = {"name": "concern_form"}


def answers(conv: Dict[str, Any]) -> Dict[str, tuple]:
    with session_scope(conv["url"]) as session:
        return {a.question: (a.status, a.score, a.areas, a.inbound_message_id) for a in
                session.scalars(select(ConcernAnswer).where(ConcernAnswer.conversation_id == conv["id"]))}


def validate(conv: Dict[str, Any], slot: str, text: str, slots: Optional[Dict[str, Any]] = None,
             form=ValidateConcernForm) -> tuple[Dict[str, Any], int]:
    """Call one slot validator as the form does after the patient's text; returns (values, inbound id)."""
    inbound_id = add_inbound(conv, text)
    tracker = make_tracker(conv["public_id"], text=text, inbound_id=inbound_id,
                           slots={"stage": "checkin", "identity_verified": True, slot: text, **(slots or {})},
                           active_loop=FORM)
    values = getattr(form(), f"validate_{slot}")(text, CollectingDispatcher(), tracker, {})
    return values, inbound_id


# --- The overall question ---------------------------------------------------------------------


@pytest.mark.parametrize("text, value, stored", [
    ("7", "7", ("answered", 7)),
    ("about a 6", "6", ("answered", 6)),
    ("seven", "7", ("answered", 7)),
    ("not at all", "0", ("answered", 0)),
    ("skip", "skipped", ("skipped", None)),
])
def test_the_overall_answer_is_read_and_stored_with_its_message(conversation, text, value, stored):
    values, inbound_id = validate(conversation, "concern_overall", text)
    assert values["concern_overall"] == value
    assert answers(conversation) == {"overall": (*stored, None, inbound_id)}


def test_a_vague_overall_answer_is_asked_again_once_for_a_number(conversation):
    values, _ = validate(conversation, "concern_overall", "really bad")
    assert values == {"concern_overall": None, "checkin_retry": 1.0, "checkin_feedback": "vague"}
    assert answers(conversation) == {}
    values, inbound_id = validate(conversation, "concern_overall", "still really bad", {"checkin_retry": 1.0})
    assert values == {"concern_overall": "unclear", "checkin_retry": 0.0}  # moves on: never a loop
    assert answers(conversation) == {"overall": ("unclear", None, None, inbound_id)}


def test_an_out_of_range_number_is_asked_again_with_an_example(conversation):
    values, _ = validate(conversation, "concern_overall", "15")
    assert values["concern_overall"] is None and values["checkin_feedback"] == "unclear"


def test_scores_by_area_answer_the_rest_of_the_check_in_at_once(conversation):
    values, inbound_id = validate(conversation, "concern_overall", "pain 7 money 4")
    assert values["concern_area_score"] == "done" and values["concern_areas"] == "physical,practical"
    stored = answers(conversation)
    assert stored["physical"] == ("answered", 7, None, inbound_id)
    assert stored["practical"] == ("answered", 4, None, inbound_id)
    assert stored["areas"][2] == "physical,practical"


def test_no_more_questions_ends_the_check_in_and_keeps_nothing_unsaid(conversation):
    values, _ = validate(conversation, "concern_overall", "no more questions please")
    assert values["concern_overall"] == "skipped" and values["concern_areas"] == "skipped"
    assert values["concern_area_score"] == "done"
    assert answers(conversation)["overall"][0] == "skipped"


# --- Which areas --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, pending", [
    ("money and sleep", ["physical", "practical"]),
    ("2 and 4", ["emotional", "family"]),
    ("my faith", ["spiritual"]),
])
def test_chosen_areas_are_stored_and_each_is_asked_about(conversation, text, pending):
    values, inbound_id = validate(conversation, "concern_areas", text)
    assert values["concern_pending"] == pending and values["concern_area_score"] is None
    assert answers(conversation)["areas"] == ("answered", None, ",".join(pending), inbound_id)


def test_none_of_the_areas_ends_the_check_in(conversation):
    values, _ = validate(conversation, "concern_areas", "none")
    assert (values["concern_areas"], values["concern_area_score"]) == ("none", "done")
    assert answers(conversation)["areas"][:3] == ("answered", None, "")


def test_unreadable_areas_are_asked_again_once_then_left(conversation):
    values, _ = validate(conversation, "concern_areas", "hmm")
    assert values == {"concern_areas": None, "checkin_retry": 1.0, "checkin_feedback": "unclear"}
    values, _ = validate(conversation, "concern_areas", "hmmm", {"checkin_retry": 1.0})
    assert values["concern_areas"] == "unclear" and values["concern_area_score"] == "done"


# --- A score per area ------------------------------------------------------------------------------


def test_each_area_score_is_stored_and_the_next_area_asked(conversation):
    values, inbound_id = validate(conversation, "concern_area_score", "6", {"concern_pending": ["physical", "practical"]})
    assert values == {"concern_area_score": None, "concern_pending": ["practical"], "checkin_retry": 0.0}
    values, _ = validate(conversation, "concern_area_score", "8/10", {"concern_pending": ["practical"]})
    assert values["concern_area_score"] == "done"
    stored = answers(conversation)
    assert stored["physical"] == ("answered", 6, None, inbound_id) and stored["practical"][1] == 8


def test_an_area_can_be_skipped_and_stop_skips_the_rest(conversation):
    values, _ = validate(conversation, "concern_area_score", "skip", {"concern_pending": ["physical", "emotional", "family"]})
    assert values["concern_pending"] == ["emotional", "family"]
    values, _ = validate(conversation, "concern_area_score", "no more questions",
                         {"concern_pending": ["emotional", "family"]})
    assert values["concern_area_score"] == "done"
    assert {q: a[0] for q, a in answers(conversation).items()} == \
        {"physical": "skipped", "emotional": "skipped", "family": "skipped"}


def test_an_unreadable_area_score_is_asked_once_then_the_next_area(conversation):
    values, _ = validate(conversation, "concern_area_score", "dunno", {"concern_pending": ["physical", "family"]})
    assert values["concern_area_score"] is None and values["checkin_feedback"] == "unclear"
    values, _ = validate(conversation, "concern_area_score", "no idea", {"concern_pending": ["physical", "family"],
                                                                        "checkin_retry": 1.0})
    assert values["concern_pending"] == ["family"] and values["checkin_retry"] == 0.0
    assert answers(conversation)["physical"][0] == "unclear"


# --- The questions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action, slots, message, turn", [
    (ActionAskConcernOverall(), {}, "checkin_overall", {}),
    (ActionAskConcernOverall(), {"checkin_feedback": "vague"}, "checkin_number_please", {}),
    (ActionAskConcernOverall(), {"checkin_feedback": "unclear"}, "checkin_number_unclear", {}),
    (ActionAskConcernAreas(), {}, "checkin_areas", {}),
    (ActionAskConcernAreas(), {"checkin_feedback": "unclear"}, "checkin_areas_unclear", {}),
    (ActionAskConcernAreaScore(), {"concern_pending": ["practical", "family"]}, "checkin_area_score",
     {"area": AREAS["practical"]}),
])
def test_each_question_is_the_practice_wording(conversation, action, slots, message, turn):
    events, dispatcher = run(action, make_tracker(conversation["public_id"], slots=slots))
    assert texts(dispatcher) == [SCRIPT.render(message, first_name="Alex", **turn)]
    assert events == [SlotSet("checkin_feedback", None)]
    assert "not monitored all the time" in texts(dispatcher)[0]


# --- Routing and the times on offer ---------------------------------------------------------------------------


def store(conv: Dict[str, Any], **scores: Any) -> None:
    with session_scope(conv["url"]) as session:
        row = session.get(Conversation, conv["id"])
        for question, value in scores.items():
            if question == "areas":
                records.record_concern(session, row, "areas", areas=value)
            else:
                records.record_concern(session, row, question, score=value)


def slot_values(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_routing_is_recorded_and_the_three_soonest_times_offered(conversation):
    store(conversation, overall=7, areas=["practical"], practical=8)
    events, dispatcher = run(ActionChooseRole(), make_tracker(conversation["public_id"], slots={"stage": "checkin"}))
    values = slot_values(events)
    assert values["stage"] == "booking" and len(values["offered_slots"]) == 3
    assert texts(dispatcher) == []  # the booking form texts the times
    with session_scope(conversation["url"]) as session:
        decision = session.scalar(select(RoutingDecision).where(RoutingDecision.conversation_id == conversation["id"]))
        offered = [session.get(BookingSlot, i) for i in values["offered_slots"]]
        expected = booking.soonest_free(session, conversation["practice_id"], "social_prescriber", utcnow())
    assert (decision.role, decision.rule) == ("social_prescriber", "one_high_area")
    assert [s.id for s in offered] == [s.id for s in expected]
    assert all(s.role == "social_prescriber" and s.status == "free" for s in offered)


def test_no_free_time_within_14_days_is_said_honestly_with_a_task(conversation):
    store(conversation, overall=2, areas=["lifestyle"], lifestyle=9)
    tracker = make_tracker(conversation["public_id"], slots={"stage": "checkin"})
    with session_scope(conversation["url"]) as session:  # the weekly slots exist, and all are taken
        booking.ensure_weekly_slots(session, session.get(Practice, conversation["practice_id"]), SCRIPT, utcnow())
        session.execute(update(BookingSlot).where(BookingSlot.role == "health_coach").values(status="booked"))
    events, dispatcher = run(ActionChooseRole(), tracker)
    assert slot_values(events)["stage"] == "done"
    assert texts(dispatcher) == [say_turn("booking_no_slots", role="health and wellbeing coach")]
    assert [t.kind for t in tasks(conversation)] == ["no_slots"]


def say_turn(message: str, **turn: str) -> str:
    return SCRIPT.render(message, first_name="Alex", **turn)


def offer(conv: Dict[str, Any], role: str = "care_coordinator", page: int = 0) -> List[int]:
    with session_scope(conv["url"]) as session:
        booking.ensure_weekly_slots(session, session.get(Practice, conv["practice_id"]), SCRIPT, utcnow())
        return [s.id for s in booking.soonest_free(session, conv["practice_id"], role, utcnow(), skip=page * 3)]


def booking_slots(ids: List[int], **extra: Any) -> Dict[str, Any]:
    return {"stage": "booking", "offered_slots": ids, "offer_page": 0.0, **extra}


def test_the_times_are_texted_numbered_in_plain_words(conversation):
    ids = offer(conversation)
    events, dispatcher = run(ActionAskSlotChoice(), make_tracker(conversation["public_id"], slots=booking_slots(ids)))
    (text,) = texts(dispatcher)
    with session_scope(conversation["url"]) as session:
        words = [booking.describe(session.get(BookingSlot, i), "care coordinator").removesuffix(", care coordinator")
                 for i in ids]
    assert text == say_turn("booking_options", role="care coordinator",
                            options=f"1) {words[0]}; 2) {words[1]}; 3) {words[2]}")


def test_picking_a_time_books_it(conversation):
    ids = offer(conversation)
    values, inbound_id = validate(conversation, "slot_choice", "2", booking_slots(ids), form=ValidateBookingForm)
    assert values["booking_result"] == "booked"
    with session_scope(conversation["url"]) as session:
        (appointment,) = session.scalars(select(Appointment)).all()
        assert (appointment.slot_id, appointment.status, appointment.inbound_message_id) == (ids[1], "booked", inbound_id)
        assert session.get(BookingSlot, ids[1]).status == "booked"


def test_a_time_taken_meanwhile_is_offered_again_without_it(conversation):
    ids = offer(conversation)
    with session_scope(conversation["url"]) as session:
        session.execute(update(BookingSlot).where(BookingSlot.id == ids[0]).values(status="booked"))
    values, _ = validate(conversation, "slot_choice", "1", booking_slots(ids), form=ValidateBookingForm)
    assert values["slot_choice"] is None and values["booking_feedback"] == "taken"
    assert ids[0] not in values["offered_slots"] and values["offered_slots"][:2] == ids[1:]


def test_none_shows_the_next_three_then_a_person_phones(conversation):
    ids = offer(conversation)
    values, _ = validate(conversation, "slot_choice", "none of those", booking_slots(ids), form=ValidateBookingForm)
    assert values["booking_feedback"] == "more" and values["offer_page"] == 1.0
    assert values["offered_slots"] == offer(conversation, page=1)
    values, _ = validate(conversation, "slot_choice", "no", booking_slots(values["offered_slots"], offer_page=1.0),
                         form=ValidateBookingForm)
    assert values == {"slot_choice": "callback", "booking_result": "callback"}


def test_an_unclear_pick_is_asked_once_then_a_person_phones(conversation):
    ids = offer(conversation)
    values, _ = validate(conversation, "slot_choice", "whenever", booking_slots(ids), form=ValidateBookingForm)
    assert values == {"slot_choice": None, "checkin_retry": 1.0, "booking_feedback": "unclear"}
    values, _ = validate(conversation, "slot_choice", "any", booking_slots(ids, checkin_retry=1.0), form=ValidateBookingForm)
    assert values["booking_result"] == "callback"


def book(conv: Dict[str, Any], index: int = 0, rebooking: bool = False) -> int:
    ids = offer(conv)
    values, _ = validate(conv, "slot_choice", str(index + 1), booking_slots(ids, rebooking=rebooking),
                         form=ValidateBookingForm)
    assert values["booking_result"] == "booked"
    return ids[index]


def appointment_rows(conv: Dict[str, Any]) -> List[tuple]:
    with session_scope(conv["url"]) as session:
        return [(a.slot_id, a.status) for a in session.scalars(select(Appointment).order_by(Appointment.id))]


def test_the_booking_is_confirmed_with_the_time_in_words(conversation):
    slot_id = book(conversation)
    events, dispatcher = run(ActionBookingDone(), make_tracker(conversation["public_id"],
                                                               slots={"booking_result": "booked", "stage": "booking"}))
    with session_scope(conversation["url"]) as session:
        words = booking.describe(session.get(BookingSlot, slot_id), "care coordinator")
    assert texts(dispatcher) == [say_turn("booking_confirmed", appointment=words)]
    assert slot_values(events)["stage"] == "booked"


def test_no_time_suiting_leaves_a_task_to_phone(conversation):
    events, dispatcher = run(ActionBookingDone(), make_tracker(conversation["public_id"],
                                                               slots={"booking_result": "callback", "stage": "booking"}))
    assert texts(dispatcher) == [say("booking_callback")]
    assert [t.kind for t in tasks(conversation)] == ["arrange_appointment"]
    assert slot_values(events)["stage"] == "done"


def test_changing_keeps_the_old_time_until_a_new_one_is_booked(conversation):
    old = book(conversation)
    events, _ = run(ActionChangeAppointment(), make_tracker(conversation["public_id"], slots={"stage": "booked"}))
    values = slot_values(events)
    assert values["stage"] == "booking" and values["rebooking"] is True and old not in values["offered_slots"]
    assert appointment_rows(conversation) == [(old, "booked")]
    new = book(conversation, rebooking=True)
    assert appointment_rows(conversation) == [(old, "rebooked"), (new, "booked")]


def test_cancel_frees_the_time_and_tells_the_coordinator(conversation):
    slot_id = book(conversation)
    events, dispatcher = run(ActionCancelAppointment(), make_tracker(conversation["public_id"], slots={"stage": "booked"}))
    assert appointment_rows(conversation) == [(slot_id, "cancelled")]
    with session_scope(conversation["url"]) as session:
        assert session.get(BookingSlot, slot_id).status == "free"
    assert texts(dispatcher)[0].startswith("Your appointment (")
    assert [t.kind for t in tasks(conversation)] == ["appointment_cancelled"]
    assert slot_values(events) == {"stage": "done"}


@pytest.mark.parametrize("action", [ActionCancelAppointment(), ActionChangeAppointment()])
def test_cancel_or_change_without_an_appointment_says_so(conversation, action):
    events, dispatcher = run(action, make_tracker(conversation["public_id"], slots={"stage": "done"}))
    assert texts(dispatcher) == [say("no_appointment")]
    assert slot_values(events) == {"stage": "done"}


@pytest.mark.parametrize("form, slot", [(ValidateBookingForm, "slot_choice"), (ValidateConcernForm, "concern_overall"),
                                        (ValidateConcernForm, "concern_areas"),
                                        (ValidateConcernForm, "concern_area_score")])
def test_a_slot_cleared_by_an_action_is_not_taken_for_an_answer(conversation, form, slot):
    """rasa-sdk validates every slot set since the patient's text, including one an action just
    cleared; that must not count as an unreadable answer (it would re-ask at once)."""
    tracker = make_tracker(conversation["public_id"], slots={slot: None, "offered_slots": offer(conversation)})
    assert getattr(form(), f"validate_{slot}")(None, CollectingDispatcher(), tracker, {}) == {}
    assert answers(conversation) == {}
