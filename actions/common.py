"""Replies that can come at any point: who is this, wrong person, call me, stop, thanks, not understood."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import conversation_context
from bot import outbox, records

MAX_UNCLEAR = 2  # one short re-ask, then a person: never a loop


class ActionWhoIsThis(Action):
    """An honest answer: an automated service for the practice, read by people in working hours."""

    def name(self) -> Text:
        return "action_who_is_this"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say("who_is_this"))
        return []


class ActionWrongPerson(Action):
    """Wrong number: apologise with no health content, stop, and tell a coordinator."""

    def name(self) -> Text:
        return "action_wrong_person"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say("wrong_person"))
            records.record_outcome(ctx.session, ctx.conversation, "wrong_person", inbound_message_id=ctx.inbound_id)
            records.create_task(ctx.session, "wrong_number", "Someone said this is not the patient's number: check the record.",
                                ctx.conversation.practice_id, ctx.conversation, inbound_message_id=ctx.inbound_id)
            records.close(ctx.session, ctx.conversation, "wrong person")
        return [SlotSet("stage", "done")]


class ActionRequestCall(Action):
    """Call me instead: a callback task, and a person has the conversation from now on."""

    def name(self) -> Text:
        return "action_request_call"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say("callback"))
            records.record_outcome(ctx.session, ctx.conversation, "callback_requested", inbound_message_id=ctx.inbound_id)
            records.create_task(ctx.session, "callback", "The patient asked for a phone call.",
                                ctx.conversation.practice_id, ctx.conversation, inbound_message_id=ctx.inbound_id)
            records.hand_over(ctx.session, ctx.conversation, "callback requested")
        return [SlotSet("stage", "done")]


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


class ActionWelcome(Action):
    def name(self) -> Text:
        return "action_welcome"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say("welcome"))
        return []


class ActionAcknowledge(Action):
    """Yes/no/later after the conversation is done: thank them and say how to reach the practice."""

    def name(self) -> Text:
        return "action_acknowledge"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say("acknowledge"))
        return []


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
