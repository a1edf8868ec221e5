"""Most actions do the same few things: say one text from the practice script, record an outcome,
leave a task, hand the conversation to a person or close it, and move the stage on. A subclass
of ScriptedAction just declares which; the few actions that decide something are written out."""
from __future__ import annotations

import abc

from typing import Any, ClassVar, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import Context, conversation_context
from bot import records


class ScriptedAction(Action, metaclass=abc.ABCMeta):
    """Abstract (rasa-sdk registers every concrete Action subclass it finds, so this one must not be)."""

    # Subclasses set: action_name, message (the script message to send), and any of these.
    outcome: ClassVar[Optional[str]] = None             # an outcome kind from records.OUTCOME_CLUSTERS
    task: ClassVar[Optional[Tuple[str, str]]] = None    # (kind, detail) for a coordinator
    hand_over: ClassVar[Optional[str]] = None           # reason: a person has the conversation from now on
    close: ClassVar[Optional[str]] = None               # reason: the conversation is over
    stage: ClassVar[Optional[str]] = None               # the new value of the `stage` slot

    @property
    @abc.abstractmethod
    def action_name(self) -> str: ...

    @property
    @abc.abstractmethod
    def message(self) -> str: ...

    def name(self) -> Text:
        return self.action_name

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            dispatcher.utter_message(text=ctx.say(self.message))
            self.record(ctx)
        return [SlotSet("stage", self.stage)] if self.stage else []

    def record(self, ctx: Context) -> None:
        if self.outcome:
            records.record_outcome(ctx.session, ctx.conversation, self.outcome, inbound_message_id=ctx.inbound_id)
        if self.task:
            kind, detail = self.task
            records.create_task(ctx.session, kind, detail, ctx.conversation.practice_id, ctx.conversation,
                                inbound_message_id=ctx.inbound_id)
        if self.hand_over:
            records.hand_over(ctx.session, ctx.conversation, self.hand_over)
        if self.close:
            records.close(ctx.session, ctx.conversation, self.close)
