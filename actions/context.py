"""What an action needs to know about the conversation it serves, read from our database.

Rasa's sender id is the conversation's opaque public id; names, dates of birth and numbers stay
in our database and never pass through Rasa.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Iterator, Optional

from rasa_sdk import Tracker
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import load_settings
from bot.db.engine import session_scope
from bot.db.models import Conversation, Patient, utcnow
from bot.practice_script.loader import PracticeScript, script_for_patient


class UnknownConversation(LookupError):
    """The tracker's sender id is not a conversation in our database."""


@dataclass
class Context:
    session: Session
    conversation: Conversation
    patient: Patient
    script: PracticeScript
    inbound_id: Optional[int]

    @property
    def first_name(self) -> str:
        return self.patient.first_name

    @property
    def date_of_birth(self) -> dt.date:
        return self.patient.date_of_birth

    def say(self, message: str, **turn: str) -> str:
        """The practice's text for this patient; `turn` fills area, role, options or appointment. A
        safety-net text says when someone will be in touch, by the practice's opening hours now."""
        return self.script.render(message, first_name=self.patient.first_name,
                                  next_contact=self.script.opening_hours.when_contact(utcnow()), **turn)


def inbound_id_of(tracker: Tracker) -> Optional[int]:
    """The id of our stored inbound message behind the latest user turn (None for triggered intents)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    value = metadata.get("inbound_id")
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


@contextlib.contextmanager
def conversation_context(tracker: Tracker) -> Iterator[Context]:
    """Open a transaction with the conversation, patient and practice script of this tracker."""
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        conversation = session.scalar(select(Conversation).where(Conversation.public_id == tracker.sender_id))
        if conversation is None or conversation.patient_id is None:
            raise UnknownConversation(f"no conversation {tracker.sender_id!r}")
        patient = session.get(Patient, conversation.patient_id)
        script = script_for_patient(settings.practices_dir, patient)
        yield Context(session, conversation, patient, script, inbound_id_of(tracker))
