"""Replies that can come at any point: who is this, wrong person, call me, stop, thanks, not understood."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import conversation_context
from actions.identity import MAX_IDENTITY_TRIES, ActionIdentityFailed
from actions.review import review_instead_of_reasking
from actions.scripted import ScriptedAction
from bot import records
from bot.dialogue import endings
from bot.outbox import queue as outbox

MAX_UNCLEAR = 2  # one short re-ask, then a person: never a loop
MAX_FORM_REASKS = 1  # as the check-in and booking validators: one re-ask per question
# The slot each form's ask action reads to say "sorry, I didn't understand" (actions/checkin.py, booking.py).
FORM_FEEDBACK_SLOT = {"concern_form": "checkin_feedback", "booking_form": "booking_feedback"}


def ending_evidence(tracker: Tracker, ending: endings.Ending) -> endings.Evidence:
    """How strongly the patient's latest text shows `ending` (bot/dialogue/endings.py has the rule)."""
    message = tracker.latest_message or {}
    confidence = float((message.get("intent") or {}).get("confidence") or 0.0)
    return endings.evidence(ending, message.get("text") or "", confidence)


def not_an_ending(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
    """The NLU read "wrong number", "stop texting" or "no thanks" without the evidence bot/dialogue/endings.py
    asks for (a garbled text, markup, emoji): treat the text as not understood where the patient is,
    never end the conversation.

    - During the identity question it is an unreadable date of birth: asked again, and the second
      one hands over to a person, exactly as the form's validator does.
    - During the check-in or choosing a time: the question asked again once, then a person.
    - Otherwise: action_unclear (one re-ask, then a person).

    The events end in a FollowupAction, so the rules written for the ending (which expect
    `stage: done` and close the form) never apply to it."""
    loop = tracker.active_loop_name
    if loop == "identity_form":
        tries = int(tracker.get_slot("identity_attempts") or 0) + 1
        if tries < MAX_IDENTITY_TRIES:
            with conversation_context(tracker):
                pass  # an unknown conversation is refused here too, as by every action
            return [SlotSet("identity_attempts", float(tries)), SlotSet("identity_feedback", "unclear"),
                    FollowupAction("identity_form")]
        events = ActionIdentityFailed().run(dispatcher, tracker, domain)
        return events + [SlotSet("identity_attempts", float(tries)), SlotSet("identity_verified", False),
                         SlotSet("date_of_birth", "not confirmed"), ActiveLoop(None), SlotSet("requested_slot", None),
                         FollowupAction("action_listen")]
    if loop in FORM_FEEDBACK_SLOT:
        retry = int(tracker.get_slot("checkin_retry") or 0)
        with conversation_context(tracker) as ctx:
            if retry < MAX_FORM_REASKS:
                return [SlotSet("checkin_retry", float(retry + 1)), SlotSet(FORM_FEEDBACK_SLOT[loop], "unclear"),
                        FollowupAction(loop)]
            if review_instead_of_reasking(dispatcher, tracker, ctx, "assistant's"):
                return [SlotSet("checkin_retry", 0.0), ActiveLoop(None), SlotSet("requested_slot", None),
                        FollowupAction("action_listen")]
            dispatcher.utter_message(text=ctx.say("handover_unclear"))
            records.create_task(ctx.session, "unclear", "The assistant did not understand the patient twice: read "
                                "and reply.", ctx.conversation.practice_id, ctx.conversation,
                                inbound_message_id=ctx.inbound_id)
            records.hand_over(ctx.session, ctx.conversation, "not understood")
        return [SlotSet("checkin_retry", 0.0), ActiveLoop(None), SlotSet("requested_slot", None),
                FollowupAction("action_listen")]
    return ActionUnclear().run(dispatcher, tracker, domain) + [FollowupAction("action_listen")]


class ActionWhoIsThis(ScriptedAction):
    """An honest answer: an automated service for the practice, read by people in working hours."""

    action_name, message = "action_who_is_this", "who_is_this"


class ActionWrongPerson(ScriptedAction):
    """Wrong number: apologise with no health content, stop, and tell a coordinator - only on
    positive evidence (bot/dialogue/endings.py); a weak reading is treated as not understood."""

    action_name, message, outcome, close, stage = (
        "action_wrong_person",
        "wrong_person",
        "wrong_person",
        "wrong person",
        "done",
    )
    task = ("wrong_number", "Someone said this is not the patient's number: check the record.")

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        if not ending_evidence(tracker, endings.Ending.WRONG_PERSON).enough:
            return not_an_ending(dispatcher, tracker, domain)
        return super().run(dispatcher, tracker, domain)


class ActionRequestCall(ScriptedAction):
    """Call me instead: a callback task, and a person has the conversation from now on."""

    action_name, message, outcome, stage = "action_request_call", "callback", "callback_requested", "done"
    task = ("callback", "The patient asked for a phone call.")
    hand_over = "callback requested"


class ActionOptOut(Action):
    """"Stop texting me" in a sentence: no more texts, ever, until START. Twilio confirms single-word
    STOP itself; for a sentence we send the one confirmation, marked so the opt-out does not block it.
    Only on positive evidence (bot/dialogue/endings.py); a weak reading is treated as not understood.
    """

    def name(self) -> Text:
        return "action_opt_out"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        if not ending_evidence(tracker, endings.Ending.OPT_OUT).enough:
            return not_an_ending(dispatcher, tracker, domain)
        with conversation_context(tracker) as ctx:
            outbox.enqueue(ctx.session, f"opt-out:{ctx.conversation.id}", ctx.patient.mobile, ctx.say("opted_out"),
                           conversation=ctx.conversation, from_number=ctx.script.sender,
                           in_reply_to_id=ctx.inbound_id, purpose="opt_out_notice")
            records.opt_out(ctx.session, ctx.patient)
            records.record_outcome(ctx.session, ctx.conversation, "opted_out", inbound_message_id=ctx.inbound_id,
                                   note="asked in words to stop texts")
            records.close(ctx.session, ctx.conversation, "opted out")
        return [SlotSet("stage", "done")]


class ActionSafetyHandover(ScriptedAction):
    """Back-up only: the gateway's safety nets answer flags before the dialogue. If one still gets
    here, a person reads it at once."""

    action_name, message = "action_safety_handover", "handover_unclear"
    task = ("flag_review", "The assistant thinks this text may be a red flag or safeguarding concern: read it now.")
    hand_over = "possible flag"


class ActionWelcome(ScriptedAction):
    action_name, message = "action_welcome", "welcome"


class ActionAcknowledge(ScriptedAction):
    """Yes/no/later after the conversation is done: thank them and say how to reach the practice."""

    action_name, message = "action_acknowledge", "acknowledge"


class ActionUnclear(Action):
    """Not understood: one short re-ask fitting the moment, then a person reads it."""

    def name(self) -> Text:
        return "action_unclear"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        count = int(tracker.get_slot("unclear_count") or 0) + 1
        with conversation_context(tracker) as ctx:
            if review_instead_of_reasking(dispatcher, tracker, ctx, "assistant's"):
                return [SlotSet("unclear_count", float(count))]
            if count < MAX_UNCLEAR:
                dispatcher.utter_message(
                    text=ctx.say("unclear_offer" if tracker.get_slot("stage") == "offered" else "unclear")
                )
                return [SlotSet("unclear_count", float(count))]
            dispatcher.utter_message(text=ctx.say("handover_unclear"))
            records.create_task(
                ctx.session,
                "unclear",
                "The assistant did not understand the patient twice: read and reply.",
                ctx.conversation.practice_id,
                ctx.conversation,
                inbound_message_id=ctx.inbound_id,
            )
            records.hand_over(ctx.session, ctx.conversation, "not understood")
        return [SlotSet("unclear_count", float(count))]
