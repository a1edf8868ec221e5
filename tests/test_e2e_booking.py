"""End to end, from YES to a booked review: the concern check-in, routing to a role, booking by
text, a time someone else just took, changing and cancelling, through signed webhooks, the real
Rasa and action servers, and the Twilio-compatible fake. Runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.booking import slots as booking
from bot.checkin.replies import AREAS
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from tests.helpers import wait_for
from bot.db.models import Appointment, BookingSlot, ConcernAnswer, InboundMessage, RoutingDecision
from bot.practice_script.loader import script_for
from tests.phone import Phone

pytestmark = pytest.mark.e2e
SCRIPT = script_for(PROJECT_ROOT / "practices", "Y00001")


def say(message: str, **turn: str) -> str:
    """The text the patient gets; a safety net says when someone will be in touch, by the
    practice's opening hours at the deployment's (pinned) time."""
    from bot.common.clock import utcnow

    return SCRIPT.render(message, first_name="Alex", next_contact=SCRIPT.opening_hours.when_contact(utcnow()),
                         **turn)


def to_the_offer(deployment) -> Phone:
    phone = Phone(deployment)
    phone.start()
    phone.text("12/03/1961", 2)
    assert phone.text("yes please", 1) == [say("checkin_overall")]
    return phone


def appointments(phone: Phone) -> list[tuple[str, str, int]]:
    with session_scope(phone.d.settings.database_url) as session:
        patient = phone.patient(session)
        return [(a.role, a.status, a.slot_id) for a in session.scalars(
            select(Appointment).where(Appointment.patient_id == patient.id).order_by(Appointment.id))]


def slot_text(phone: Phone, slot_id: int, with_role: bool = True) -> str:
    """What the patient is told about one slot: its description, without the role in a list."""
    with session_scope(phone.d.settings.database_url) as session:
        slot = session.get(BookingSlot, slot_id)
        title = SCRIPT.roles[slot.role].title
        text = booking.describe(slot, title)
        return text if with_role else text.removesuffix(f", {title}")


def slot_status(phone: Phone, slot_id: int) -> str:
    with session_scope(phone.d.settings.database_url) as session:
        return session.get(BookingSlot, slot_id).status


def test_check_in_routes_to_the_social_prescriber_and_books_the_second_time(deployment):
    phone = to_the_offer(deployment)
    assert phone.text("about a 7", 1) == [say("checkin_areas")]
    assert phone.text("money and sleep", 1) == [say("checkin_area_score", area=AREAS["physical"])]
    assert phone.text("2", 1) == [say("checkin_area_score", area=AREAS["practical"])]
    (options,) = phone.text("8/10 honestly", 1)
    assert options.startswith("Our social prescriber can help. Reply with a number to book: 1) ")
    assert "2) " in options and "3) " in options and "not monitored all the time" in options
    assert phone.text("2", 1) == [say("booking_confirmed", appointment=slot_text(phone, appointments(phone)[0][2]))]

    ((role, status, slot_id),) = appointments(phone)
    assert (role, status, slot_status(phone, slot_id)) == ("social_prescriber", "booked", "booked")
    assert f"2) {slot_text(phone, slot_id, with_role=False)}" in options  # the time booked is the one offered as 2
    with session_scope(deployment.settings.database_url) as session:
        patient = phone.patient(session)
        answers = {a.question: (a.status, a.score, a.areas, session.get(InboundMessage, a.inbound_message_id).body)
                   for a in session.scalars(select(ConcernAnswer).where(ConcernAnswer.patient_id == patient.id))}
        decision = session.scalar(select(RoutingDecision).where(RoutingDecision.patient_id == patient.id))
    # Every answer is kept with the text that gave it.
    assert answers == {"overall": ("answered", 7, None, "about a 7"),
                       "areas": ("answered", None, "physical,practical", "money and sleep"),
                       "physical": ("answered", 2, None, "2"),
                       "practical": ("answered", 8, None, "8/10 honestly")}
    assert (decision.role, decision.rule) == ("social_prescriber", "one_high_area")
    assert "practical 8" in decision.reason
    assert phone.outcomes()[-1] == ("booked", None, None)


def test_a_skipped_check_in_goes_to_the_care_coordinator_then_change_and_cancel(deployment):
    phone = to_the_offer(deployment)
    assert phone.text("skip", 1) == [say("checkin_areas")]
    (options,) = phone.text("none really", 1)
    assert options.startswith("Our care coordinator can help.")
    (confirmed,) = phone.text("1", 1)
    ((_, _, first_slot),) = appointments(phone)
    assert confirmed == say("booking_confirmed", appointment=slot_text(phone, first_slot))

    (new_options,) = phone.text("can I change the time please", 1)
    assert new_options.startswith("Our care coordinator can help.")
    assert slot_text(phone, first_slot, with_role=False) not in new_options  # their own time is not offered again
    (confirmed,) = phone.text("1", 1)
    (old, new) = appointments(phone)
    assert (old[1], slot_status(phone, old[2])) == ("rebooked", "free")
    assert (new[1], slot_status(phone, new[2])) == ("booked", "booked")
    assert confirmed == say("booking_confirmed", appointment=slot_text(phone, new[2]))

    assert phone.text("CANCEL APPOINTMENT", 1) == [say("booking_cancelled", appointment=slot_text(phone, new[2]))]
    assert appointments(phone)[-1][1] == "cancelled" and slot_status(phone, new[2]) == "free"
    assert "appointment_cancelled" in phone.tasks()


def test_none_of_the_times_twice_leaves_a_callback_task(deployment):
    phone = to_the_offer(deployment)
    phone.text("3", 1)
    phone.text("nothing", 1)
    (more,) = phone.text("none of those", 1)
    assert more.startswith("Other times with our care coordinator.")
    assert phone.text("none of them work sorry", 1) == [say("booking_callback")]
    assert appointments(phone) == []
    assert phone.tasks()[-1] == "arrange_appointment"
    assert phone.text("thanks", 1) == [say("welcome")]


def test_a_time_someone_else_just_took_is_offered_again_without_it(deployment):
    first, second = to_the_offer(deployment), to_the_offer(deployment)
    for phone in (first, second):
        phone.text("skip", 1)
    (offer_a,) = first.text("none", 1)
    (offer_b,) = second.text("none", 1)
    assert offer_a == offer_b  # the same three soonest times
    first.text("1", 1)
    ((_, _, taken),) = appointments(first)
    (again,) = second.text("1", 1)
    assert again.startswith("Sorry, that time has just gone.")
    assert slot_text(first, taken, with_role=False) not in again
    assert appointments(second) == []
    second.text("1", 1)
    ((_, status, slot_id),) = appointments(second)
    assert status == "booked" and slot_id != taken


def test_an_unreadable_score_is_asked_again_once_then_the_check_in_moves_on(deployment):
    phone = to_the_offer(deployment)
    assert phone.text("really bad", 1) == [say("checkin_number_please")]
    assert phone.text("awful honestly", 1) == [say("checkin_areas")]
    with session_scope(deployment.settings.database_url) as session:
        patient = phone.patient(session)
        overall = session.scalar(select(ConcernAnswer).where(ConcernAnswer.patient_id == patient.id,
                                                             ConcernAnswer.question == "overall"))
    assert (overall.status, overall.score) == ("unclear", None)


def test_a_flagged_answer_is_stored_and_a_person_reads_the_rest(deployment):
    """Issue 13, mixed messages: the score in "8, and ... can't see the point" is kept as the answer
    to the question asked, and the whole text goes to a person with the safety net."""
    from bot.db.models import Flag

    phone = to_the_offer(deployment)
    (reply,) = phone.text("8, and honestly I can't see the point any more", 1)
    assert reply == say("safety_suicide")

    def stored_answer():
        # The answer is kept after the safety net is committed and sent (it asks Rasa which question
        # was asked, which must never hold the safety net back), so it may land just after the reply.
        with session_scope(deployment.settings.database_url) as session:
            patient = phone.patient(session)
            flag = session.scalar(select(Flag).where(Flag.patient_id == patient.id))
            overall = session.scalar(select(ConcernAnswer).where(ConcernAnswer.patient_id == patient.id,
                                                                 ConcernAnswer.question == "overall"))
            return (flag, overall) if overall is not None else None
    flag, overall = wait_for(stored_answer, what="the score kept from the flagged text")
    assert flag.kind == "safeguarding"
    assert (overall.status, overall.score, overall.inbound_message_id) == ("answered", 8, flag.inbound_message_id)
    assert phone.conversation_status() == "handed_over"
