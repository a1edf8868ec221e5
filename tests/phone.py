"""A patient's phone for the end-to-end tests: texts the gateway exactly as Twilio would (signed
webhooks) and reads what the Twilio-compatible fake delivered to it."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import Conversation, InboundMessage, OutboundMessage, Outcome, Patient, Task
from bot.patients.outreach import add_patient, start_conversation
from bot.practice_script.loader import script_for
from tests.conftest import Deployment
from tests.helpers import wait_for

DOB = dt.date(1961, 3, 12)
_numbers = itertools.count(200)


class Phone:
    """A patient's phone: texts the gateway as Twilio would and reads what arrives."""

    def __init__(self, deployment: Deployment, first_name: str = "Alex", ods: str = "Y00001"):
        self.d = deployment
        self.number = f"+447700900{next(_numbers):03d}"
        self.seen = 0
        self.practice_number = script_for(PROJECT_ROOT / "practices", ods).sender
        add_patient(deployment.settings, ods, first_name, "Smith", DOB, self.number,
                    dt.date.today() - dt.timedelta(days=30))

    def start(self) -> list[str]:
        start_conversation(self.d.settings, self.d.rasa(), self.number)
        return self.expect(1)

    def text(self, body: str, expect: int, sid: str | None = None) -> list[str]:
        status, answer = self.d.fake.send_inbound(self.d.inbound_url, self.number, self.practice_number, body,
                                                  message_sid=sid)
        assert status == 200, answer
        assert "<Response></Response>" in answer
        return self.expect(expect) if expect else self.expect_silence()

    def expect(self, count: int) -> list[str]:
        messages = self.d.fake.wait_for_messages(self.seen + count, to=self.number)
        new = [m["body"] for m in messages[self.seen:]]
        self.seen += count
        self.expect_silence()
        return new

    def expect_silence(self) -> list[str]:
        """Wait until every text from this phone is processed and nothing is left to send; then
        no further text may have arrived."""
        def settled():
            with session_scope(self.d.settings.database_url) as session:
                waiting = session.scalar(select(InboundMessage.id).where(
                    InboundMessage.from_number == self.number, InboundMessage.status == "received").limit(1))
                unsent = session.scalar(select(OutboundMessage.id).where(
                    OutboundMessage.to_number == self.number,
                    OutboundMessage.status.in_(("pending", "sending"))).limit(1))
                return waiting is None and unsent is None
        wait_for(settled, what="the gateway to finish this phone's texts")
        arrived = [m["body"] for m in self.d.fake.messages if m["to"] == self.number]
        assert len(arrived) == self.seen, f"expected {self.seen} texts, got {arrived}"
        return []

    def patient(self, session) -> Patient:
        return session.scalar(select(Patient).where(Patient.mobile == self.number))

    def outcomes(self) -> list[tuple]:
        with session_scope(self.d.settings.database_url) as session:
            patient = self.patient(session)
            return [(o.kind, o.cluster, o.code) for o in
                    session.scalars(select(Outcome).where(Outcome.patient_id == patient.id).order_by(Outcome.id))]

    def tasks(self) -> list[str]:
        with session_scope(self.d.settings.database_url) as session:
            patient = self.patient(session)
            return [t.kind for t in session.scalars(select(Task).where(Task.patient_id == patient.id).order_by(Task.id))]

    def conversation_status(self) -> str:
        with session_scope(self.d.settings.database_url) as session:
            patient = self.patient(session)
            return session.scalar(select(Conversation.status).where(Conversation.patient_id == patient.id)
                                  .order_by(Conversation.id.desc()))
