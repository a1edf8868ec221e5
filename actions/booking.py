"""Routing to an additional role and booking a review with it, by text.

After the check-in, `action_choose_role` picks the role (bot/booking/routing.py) and offers the three
soonest free times within 14 days. The patient picks by number or words; NONE shows the next three,
then a coordinator phones instead. Booking is one conditional update (bot/booking/slots.py), so two
patients can never get the same time. Once booked the patient can CHANGE or CANCEL APPOINTMENT.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select

from actions.context import Context, conversation_context
from actions.review import review_instead_of_reasking
from bot import records
from bot.booking import routing
from bot.booking import slots as booking
from bot.checkin.replies import OfferedSlot, parse_slot_choice
from bot.db.models import Appointment, BookingSlot, RoutingDecision, utcnow

OFFERS_PER_TEXT = 3
MAX_PAGES = 2    # the first three times, then (after NONE) the next three, then a person phones
MAX_REASKS = 1


def _title(ctx: Context, role: str) -> str:
    role_config = ctx.script.roles.get(role)
    return role_config.title if role_config else role.replace("_", " ")


def _describe(ctx: Context, slot: BookingSlot, with_role: bool = True) -> str:
    """"Tue 3 Dec 10:30, phone call with Sam, care coordinator" (without the role in a list of times)."""
    title = _title(ctx, slot.role)
    text = booking.describe(slot, title)
    return text if with_role else text.removesuffix(f", {title}")


def _offered(ctx: Context, ids: Sequence[int]) -> List[BookingSlot]:
    slots = {s.id: s for s in ctx.session.scalars(select(BookingSlot).where(BookingSlot.id.in_(list(ids))))}
    return [slots[i] for i in ids if i in slots]


def _offer_events(slots: Sequence[BookingSlot], page: int, feedback: Optional[str]) -> Dict[Text, Any]:
    return {"offered_slots": [s.id for s in slots], "offer_page": float(page), "booking_feedback": feedback}


def _free_times(ctx: Context, role: str, page: int) -> List[BookingSlot]:
    now = utcnow()
    booking.ensure_weekly_slots(ctx.session, ctx.patient.practice, ctx.script, now)
    return booking.soonest_free(ctx.session, ctx.patient.practice_id, role, now, skip=page * OFFERS_PER_TEXT,
                                limit=OFFERS_PER_TEXT)


def _reset() -> List[Dict[Text, Any]]:
    return [SlotSet("slot_choice", None), SlotSet("offered_slots", None), SlotSet("offer_page", 0.0),
            SlotSet("booking_feedback", None), SlotSet("booking_result", None), SlotSet("checkin_retry", 0.0),
            SlotSet("rebooking", False)]


class ActionChooseRole(Action):
    """Routes the patient from their check-in answers and offers the first times, or says honestly
    that there are none within 14 days and leaves a coordinator task."""

    def name(self) -> Text:
        return "action_choose_role"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            answers = records.concern_answers(ctx.session, ctx.conversation.id)
            overall = answers["overall"].score if "overall" in answers else None
            chosen = answers.get("areas")
            areas = [a for a in (chosen.areas or "").split(",") if a] if chosen else []
            scores = {a: answers[a].score if a in answers else None for a in areas}
            decision = routing.choose_role(ctx.script, overall, areas, scores)
            records.record_routing(ctx.session, ctx.conversation, decision.role, decision.rule, decision.reason)
            slots = _free_times(ctx, decision.role, 0)
            title = _title(ctx, decision.role)
            if not slots:
                dispatcher.utter_message(text=ctx.say("booking_no_slots", role=title))
                records.create_task(ctx.session, "no_slots",
                                    f"No free {title} time within 14 days: phone the patient to arrange a review. "
                                    f"Routing: {decision.reason}", ctx.conversation.practice_id, ctx.conversation,
                                    inbound_message_id=ctx.inbound_id)
                return _reset() + [SlotSet("stage", "done")]
            offer = _offer_events(slots, 0, None)
        return _reset() + [SlotSet(k, v) for k, v in offer.items()] + [SlotSet("stage", "booking")]


class ActionAskSlotChoice(Action):
    """Texts the times on offer, numbered, with wording for the first offer, the next page, an
    unreadable answer, or a time someone else has just taken."""

    def name(self) -> Text:
        return "action_ask_slot_choice"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        feedback = tracker.get_slot("booking_feedback")
        message = {"more": "booking_more_options", "unclear": "booking_unclear",
                   "taken": "booking_taken"}.get(feedback or "", "booking_options")
        with conversation_context(tracker) as ctx:
            if feedback == "unclear" and review_instead_of_reasking(dispatcher, tracker, ctx, "appointment time"):
                return []
            slots = _offered(ctx, tracker.get_slot("offered_slots") or [])
            options = "; ".join(f"{n}) {_describe(ctx, s, with_role=False)}" for n, s in enumerate(slots, start=1))
            role = _title(ctx, slots[0].role) if slots else ""
            dispatcher.utter_message(text=ctx.say(message, role=role, options=options))
        return []


class ValidateBookingForm(FormValidationAction):
    """Books the time the patient picked, atomically; NONE shows the next times, once."""

    def name(self) -> Text:
        return "validate_booking_form"

    def validate_slot_choice(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {}  # cleared by an action (a new offer), not an answer: rasa-sdk still asks us
        ids = tracker.get_slot("offered_slots") or []
        page = int(tracker.get_slot("offer_page") or 0)
        rebooking = bool(tracker.get_slot("rebooking"))
        give_up = {"slot_choice": "callback", "booking_result": "kept" if rebooking else "callback"}
        with conversation_context(tracker) as ctx:
            slots = _offered(ctx, ids)
            if not slots:
                return give_up
            role = slots[0].role
            choice = parse_slot_choice(
                str(slot_value or ""),
                [
                    OfferedSlot(
                        starts_at=booking.to_london(s.starts_at).replace(tzinfo=None), staff=s.staff, kind=s.kind
                    )
                    for s in slots
                ],
            )
            if choice.kind == "pick" and choice.index is not None:
                previous = booking.current_appointment(ctx.session, ctx.patient.id) if rebooking else None
                appointment = booking.book(ctx.session, slots[choice.index].id, patient_id=ctx.patient.id,
                                           practice_id=ctx.patient.practice_id, conversation_id=ctx.conversation.id,
                                           role=role, inbound_message_id=ctx.inbound_id, not_before=utcnow())
                if appointment is not None:
                    if previous is not None and previous.id != appointment.id:
                        booking.cancel(ctx.session, previous, status="rebooked")
                    records.record_outcome(ctx.session, ctx.conversation, "booked", inbound_message_id=ctx.inbound_id,
                                           note=f"review booked with the {_title(ctx, role)}")
                    return {"slot_choice": str(appointment.id), "booking_result": "booked"}
                fresh = _free_times(ctx, role, page)
                return {"slot_choice": None, **_offer_events(fresh, page, "taken")} if fresh else give_up
            if choice.kind == "none":
                page += 1
                fresh = _free_times(ctx, role, page) if page < MAX_PAGES else []
                return {"slot_choice": None, **_offer_events(fresh, page, "more")} if fresh else give_up
            if choice.kind in ("skip", "stop"):
                return give_up
            retry = int(tracker.get_slot("checkin_retry") or 0)
            if retry < MAX_REASKS:
                return {"slot_choice": None, "checkin_retry": float(retry + 1), "booking_feedback": "unclear"}
            return give_up


class ActionBookingDone(Action):
    """Confirms the booking, or (no time suited) says a coordinator will phone and leaves the task."""

    def name(self) -> Text:
        return "action_booking_done"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        result = tracker.get_slot("booking_result")
        with conversation_context(tracker) as ctx:
            current = booking.current_appointment(ctx.session, ctx.patient.id)
            if result == "booked" and current is not None:
                slot = ctx.session.get(BookingSlot, current.slot_id)
                dispatcher.utter_message(text=ctx.say("booking_confirmed", appointment=_describe(ctx, slot)))
                return _reset() + [SlotSet("stage", "booked")]
            if result == "kept" and current is not None:
                slot = ctx.session.get(BookingSlot, current.slot_id)
                dispatcher.utter_message(text=ctx.say("booking_kept", appointment=_describe(ctx, slot)))
                return _reset() + [SlotSet("stage", "booked")]
            decision = ctx.session.scalar(
                select(RoutingDecision)
                .where(RoutingDecision.conversation_id == ctx.conversation.id)
                .order_by(RoutingDecision.id.desc())
            )
            role = _title(ctx, decision.role) if decision else "care coordinator"
            dispatcher.utter_message(text=ctx.say("booking_callback"))
            records.create_task(ctx.session, "arrange_appointment",
                                f"None of the offered {role} times suited: phone the patient to find one.",
                                ctx.conversation.practice_id, ctx.conversation, inbound_message_id=ctx.inbound_id)
        return _reset() + [SlotSet("stage", "done")]


def _current(ctx: Context) -> Optional[Appointment]:
    return booking.current_appointment(ctx.session, ctx.patient.id)


class ActionCancelAppointment(Action):
    """CANCEL APPOINTMENT: frees the time, tells the patient how to book again, tells the coordinator."""

    def name(self) -> Text:
        return "action_cancel_appointment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            current = _current(ctx)
            if current is None:
                dispatcher.utter_message(text=ctx.say("no_appointment"))
                return [SlotSet("stage", "done")]
            slot = ctx.session.get(BookingSlot, current.slot_id)
            booking.cancel(ctx.session, current)
            dispatcher.utter_message(text=ctx.say("booking_cancelled", appointment=_describe(ctx, slot)))
            records.create_task(ctx.session, "appointment_cancelled",
                                f"The patient cancelled their {_title(ctx, current.role)} review by text.",
                                ctx.conversation.practice_id, ctx.conversation, inbound_message_id=ctx.inbound_id)
        return [SlotSet("stage", "done")]


class ActionChangeAppointment(Action):
    """CHANGE: offers other times with the same role; the old time is kept until a new one is booked."""

    def name(self) -> Text:
        return "action_change_appointment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            current = _current(ctx)
            if current is None:
                dispatcher.utter_message(text=ctx.say("no_appointment"))
                return [SlotSet("stage", "done")]
            slots = _free_times(ctx, current.role, 0)
            if not slots:
                slot = ctx.session.get(BookingSlot, current.slot_id)
                dispatcher.utter_message(text=ctx.say("booking_kept", appointment=_describe(ctx, slot)))
                records.create_task(ctx.session, "change_appointment",
                                    f"The patient asked to change their {_title(ctx, current.role)} review; "
                                    "there are no other free times within 14 days.",
                                    ctx.conversation.practice_id, ctx.conversation, inbound_message_id=ctx.inbound_id)
                return [SlotSet("stage", "booked")]
            offer = _offer_events(slots, 0, None)
        return (_reset() + [SlotSet(k, v) for k, v in offer.items()]
                + [SlotSet("rebooking", True), SlotSet("stage", "booking")])
