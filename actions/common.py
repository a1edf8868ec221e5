"""Replies that can come at any point: who is this, wrong person, call me, stop, thanks, not understood."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import conversation_context
from actions.scripted import ScriptedAction
from bot import outbox, records

MAX_UNCLEAR = 2  # one short re-ask, then a person: never a loop


class ActionWhoIsThis(ScriptedAction):
    """An honest answer: an automated service for the practice, read by people in working hours."""

    action_name, message = "action_who_is_this", "who_is_this"


class ActionWrongPerson(ScriptedAction):
    """Wrong number: apologise with no health content, stop, and tell a coordinator."""

    action_name, message, outcome, close, stage = "action_wrong_person", "wrong_person", "wrong_person", "wrong person", "done"
    task = ("wrong_number", "Someone said this is not the patient's number: check the record.")


class ActionRequestCall(ScriptedAction):
    """Call me instead: a callback task, and a person has the conversation from now on."""

    action_name, message, outcome, stage = "action_request_call", "callback", "callback_requested", "done"
    task = ("callback", "The patient asked for a phone call.")
    hand_over = "callback requested"


class ActionOptOut(Action):
    """"Stop texting me" in a sentence: no more texts, ever, until START. Twilio confirms single-word
    STOP itself; for a sentence we send the one confirmation, marked so the opt-out does not block it.
    """

    def name(self) -> Text:
        return "action_opt_out"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
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
            if count < MAX_UNCLEAR:
                dispatcher.utter_message(text=ctx.say("unclear_offer" if tracker.get_slot("stage") == "offered" else "unclear"))
                return [SlotSet("unclear_count", float(count))]
            dispatcher.utter_message(text=ctx.say("handover_unclear"))
            records.create_task(ctx.session, "unclear", "The assistant did not understand the patient twice: read and reply.",
                                ctx.conversation.practice_id, ctx.conversation, inbound_message_id=ctx.inbound_id)
            records.hand_over(ctx.session, ctx.conversation, "not understood")
        return [SlotSet("unclear_count", float(count))]
