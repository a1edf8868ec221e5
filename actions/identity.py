"""Identity check: the opener asks for the date of birth; nothing about health is said before it matches."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import conversation_context
from actions.review import review_instead_of_reasking
from actions.scripted import ScriptedAction
from bot.common.clock import london_today
from bot.patients.dates import parse_date_of_birth

MAX_IDENTITY_TRIES = 2  # two wrong or unreadable answers, then a person phones instead


class ActionAskDateOfBirth(Action):
    """Asks for the date of birth: the opener the first time, then a short re-ask saying what went wrong."""

    def name(self) -> Text:
        return "action_ask_date_of_birth"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        feedback = tracker.get_slot("identity_feedback")
        with conversation_context(tracker) as ctx:
            if not tracker.get_slot("opener_sent"):
                message = "opener"
            elif feedback == "wrong":
                message = "dob_wrong"
            elif feedback == "unclear":
                if review_instead_of_reasking(dispatcher, tracker, ctx, "date of birth"):
                    return [SlotSet("opener_sent", True), SlotSet("identity_feedback", None)]
                message = "dob_unclear"
            else:
                message = "dob_ask"
            dispatcher.utter_message(text=ctx.say(message))
        return [SlotSet("opener_sent", True), SlotSet("identity_feedback", None)]


class ValidateIdentityForm(FormValidationAction):
    """Checks the date of birth against the register. Never says which part was wrong."""

    def name(self) -> Text:
        return "validate_identity_form"

    def validate_date_of_birth(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[Text, Any]:
        tries = int(tracker.get_slot("identity_attempts") or 0) + 1
        given = parse_date_of_birth(str(slot_value or ""), london_today())
        with conversation_context(tracker) as ctx:
            if given is not None and given == ctx.date_of_birth:
                return {"date_of_birth": "confirmed", "identity_verified": True, "identity_attempts": float(tries)}
            if tries >= MAX_IDENTITY_TRIES:
                # Ends the form; the rule for identity_verified=false hands over to a person.
                return {"date_of_birth": "not confirmed", "identity_verified": False,
                        "identity_attempts": float(tries)}
        return {"date_of_birth": None, "identity_attempts": float(tries),
                "identity_feedback": "unclear" if given is None else "wrong"}


class ActionIdentityFailed(ScriptedAction):
    """Two failed answers: stop, say the practice will call, and leave a task for a coordinator."""

    action_name, message, outcome, stage = "action_identity_failed", "identity_failed", "identity_failed", "done"
    task = ("identity_failed", "Date of birth not confirmed after two tries: phone the patient.")
    hand_over = "identity not confirmed"
