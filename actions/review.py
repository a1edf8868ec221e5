"""A text that does not answer the assistant's question but says something: a person reads it
(issue 13, item 3). Never "sorry, I couldn't read that date" to "my husband hit me again".

The safety screen (bot/safety/screen.py) has already passed the text before the dialogue saw it; this is
for what the screen could not rule out and the dialogue could not read: the patient gets the holding
reply with the safety-net line, a review is raised for the coordinator's queue and the conversation
is handed to a person (the assistant is silent until it is handed back).
"""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Context
from bot import records
from bot.safety.review import REVIEW, carries_content


def review_instead_of_reasking(dispatcher: CollectingDispatcher, tracker: Tracker, ctx: Context,
                               question: str) -> bool:
    """If the latest text carries content, raise a review and say so; True when it did (the caller
    then does not ask again)."""
    text = (tracker.latest_message or {}).get("text") or ""
    if ctx.inbound_id is None or not carries_content(text):
        return False
    dispatcher.utter_message(text=ctx.say("safety_review"))
    records.raise_flag(ctx.session, practice_id=ctx.conversation.practice_id, patient_id=ctx.patient.id,
                       conversation=ctx.conversation, inbound_message_id=ctx.inbound_id, kind=REVIEW,
                       severity=REVIEW, category="not_an_answer",
                       evidence=f"not an answer to the {question} question, and it says something", source="dialogue")
    return True
