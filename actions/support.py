"""The support offer (CAN005) and the patient's answer to it."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ending_evidence, not_an_ending
from actions.context import conversation_context
from actions.scripted import ScriptedAction
from bot import records
from bot.dialogue import endings


class ActionOfferSupport(Action):
    """Tells the patient what primary care offers (this is what CAN005 counts) and offers a chat."""

    def name(self) -> Text:
        return "action_offer_support"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say("support_info"))
            dispatcher.utter_message(text=ctx.say("offer_chat"))
            records.record_outcome(ctx.session, ctx.conversation, "informed",
                                   code=ctx.script.code_for("CANPCSUPP_COD"), inbound_message_id=ctx.inbound_id,
                                   note="identity confirmed; support from primary care explained by SMS")
        return [SlotSet("stage", "offered")]


class ActionAcceptSupport(Action):
    """Yes to a conversation. At a practice with bookable roles the concern check-in starts (and
    leads to a booking); otherwise a coordinator task to arrange it."""

    def name(self) -> Text:
        return "action_accept_support"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            records.record_outcome(ctx.session, ctx.conversation, "accepted", inbound_message_id=ctx.inbound_id)
            if ctx.script.roles:
                return [SlotSet("stage", "checkin"), SlotSet("checkin_retry", 0.0)]
            dispatcher.utter_message(text=ctx.say("accepted"))
            records.create_task(
                ctx.session,
                "arrange_conversation",
                "The patient would like a conversation: arrange it.",
                ctx.conversation.practice_id,
                ctx.conversation,
                inbound_message_id=ctx.inbound_id,
            )
        return [SlotSet("stage", "done")]


class ActionDecline(Action):
    """No thanks. Coded as declined only once identity is confirmed; before that a person reviews it.
    Only on positive evidence (bot/dialogue/endings.py): a decline is coded, so a weak reading is treated as
    not understood."""

    def name(self) -> Text:
        return "action_decline"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        if not ending_evidence(tracker, endings.Ending.DECLINE).enough:
            return not_an_ending(dispatcher, tracker, domain)
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say("declined"))
            if tracker.get_slot("identity_verified"):
                records.record_outcome(ctx.session, ctx.conversation, "declined",
                                       code=ctx.script.code_for("CANPCADEC_COD"), inbound_message_id=ctx.inbound_id)
            else:
                records.create_task(ctx.session, "declined_before_identity",
                                    "Said no before confirming identity: review whether to phone.",
                                    ctx.conversation.practice_id, ctx.conversation, inbound_message_id=ctx.inbound_id)
        return [SlotSet("stage", "done")]


class ActionLater(ScriptedAction):
    """Not now: the patient can reply YES at any time."""

    action_name, message, outcome = "action_later", "later", "deferred"
