"""The outreach worker: invites every eligible patient in time, inside the practice's send window.

- First invitation: the opener, fewest days left first.
- Second invitation: the opener again, at least 7 days after the first, if the patient has not replied.
- 7 days after the second with no reply: outcome `no_response` (a QOF personalised care adjustment)
  and a task to phone the patient.
- The day before a booked review: a reminder, inside the send window.
- Nothing automatic while `bot.dialogue.contact.automatic_text_hold` says a person must look at the patient
  first (an open flag, a handover, an open review task): the pass counts them by reason.

Two workers, or a worker restarted mid-batch, never send anything twice: an invitation is claimed
by inserting its row (unique per patient and number) before any text is queued, and the opener's
outbox keys are fixed per invitation, so finishing a half-done invitation adds nothing twice.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import records
from bot.booking import slots as booking
from bot.patients import cohort
from bot.outbox import queue as outbox
from bot.dialogue.contact import automatic_text_hold
from bot.config import Settings
from bot.db.engine import session_scope
from bot.dialogue.rasa_client import DialogueUnavailable, RasaClient
from bot.db.models import (OPEN_CONVERSATION, BookingSlot, Conversation, ConversationStatus, InboundMessage, Invitation,
                           Patient, Task, utcnow)
from bot.patients.outreach import OutreachError, open_conversation
from bot.practice_script.loader import load_all, script_for_patient
from bot.sender.send_window import SendWindow

log = logging.getLogger(__name__)
REMINDER_AFTER = dt.timedelta(days=7)


@dataclass
class WorkerReport:
    first: int = 0
    second: int = 0
    no_response: int = 0
    reminders: int = 0
    outside_window: int = 0
    errors: list = field(default_factory=list)
    # patients (and reminders) held by bot.dialogue.contact's rule, by reason: nothing automatic went to them
    held: Counter = field(default_factory=Counter)

    def held_summary(self) -> str:
        """"2 (open flag 1, handed over to a person 1)" - counts only, for the command's output."""
        total = sum(self.held.values())
        if not total:
            return "0"
        return f"{total} (" + ", ".join(f"{reason} {n}" for reason, n in sorted(self.held.items())) + ")"


class OutreachWorker:
    def __init__(self, settings: Settings, rasa: RasaClient):
        self.settings = settings
        self.rasa = rasa
        self.stopping = threading.Event()

    def run_forever(self, interval_seconds: float = 60.0) -> None:
        while not self.stopping.is_set():
            try:
                report = self.run_once()
                log.info("outreach pass: %s first, %s second, %s no response", report.first, report.second,
                         report.no_response)
            except Exception:
                log.exception("outreach pass failed; trying again")
            self.stopping.wait(interval_seconds)

    def run_once(self, now: dt.datetime | None = None, practices: list[str] | None = None) -> WorkerReport:
        """One pass over every practice, or the given ODS codes (what `outreach send-due` runs from cron)."""
        now = now or utcnow()
        report = WorkerReport()
        self._finish_claimed(now, report)
        windows = {ods: SendWindow.from_config(s.data.get("send_window"))
                   for ods, s in load_all(self.settings.practices_dir).items()}
        with session_scope(self.settings.database_url) as session:
            due = cohort.eligible(session, now.date())
            ods_of = {p.id: p.practice.ods_code for p in session.scalars(
                select(Patient).where(Patient.id.in_([d.patient_id for d in due])))} if due else {}
        for patient in due:
            if self.stopping.is_set():
                break
            if practices and ods_of[patient.patient_id] not in {p.upper() for p in practices}:
                continue
            window = windows.get(ods_of[patient.patient_id])
            try:
                self._step(patient.patient_id, now, window, report)
            except (DialogueUnavailable, OutreachError) as exc:
                report.errors.append(f"patient {patient.patient_id}: {exc}")
        self._reminders(now, windows, practices, report)
        return report

    def _reminders(self, now: dt.datetime, windows: dict, practices: list[str] | None, report: WorkerReport) -> None:
        """Text a reminder the day before each booked review, once (a fixed outbox key and a mark
        in the same transaction). Not while a person has the conversation: the bot is silent then."""
        wanted = {p.upper() for p in practices} if practices else None
        with session_scope(self.settings.database_url) as session:
            for appointment in booking.reminders_due(session, now):
                patient = session.get(Patient, appointment.patient_id)
                ods = patient.practice.ods_code
                window = windows.get(ods)
                if wanted and ods not in wanted:
                    continue
                hold = automatic_text_hold(session, patient)
                if hold is not None:
                    report.held[hold.reason.value] += 1
                    continue
                if window is None or not window.is_open(now):
                    report.outside_window += 1
                    continue
                conversation = (
                    session.get(Conversation, appointment.conversation_id) if appointment.conversation_id else None
                )
                script = script_for_patient(self.settings.practices_dir, patient)
                slot = session.get(BookingSlot, appointment.slot_id)
                role = script.roles.get(appointment.role)
                text = script.render("booking_reminder", patient.first_name,
                                     appointment=booking.describe(slot, role.title if role else appointment.role))
                outbox.enqueue(session, f"reminder:{appointment.id}:0", patient.mobile, text,
                               conversation=conversation, from_number=script.sender, purpose="reminder")
                appointment.reminder_queued_at = now
                report.reminders += 1

    def _step(self, patient_id: int, now: dt.datetime, window: SendWindow | None, report: WorkerReport) -> None:
        with session_scope(self.settings.database_url) as session:
            hold = automatic_text_hold(session, session.get(Patient, patient_id))
            if hold is not None:
                # A person has to look at this patient first: no invitation, and no "no response"
                # either (they may well have texted us: a flag from a number with no conversation).
                report.held[hold.reason.value] += 1
                log.info("patient %s held: %s", patient_id, hold)
                return
            sent = {i.number: i for i in session.scalars(select(Invitation).where(Invitation.patient_id == patient_id))}
            if not sent:
                manual = session.scalar(select(Conversation).where(Conversation.patient_id == patient_id,
                                                                   Conversation.status == ConversationStatus.ACTIVE))
                if manual is not None:  # started by hand (`outreach start`): that was the first invitation
                    session.add(Invitation(patient_id=patient_id, number=1, conversation_id=manual.id,
                                           status="queued", claimed_at=manual.started_at, queued_at=manual.started_at))
                    return
            first = sent.get(1)
            # Any text from the patient in the invitation's conversation is a reply (a second
            # invitation only follows silence, so one reply settles both checks).
            replied = first is not None and first.conversation_id is not None and session.scalar(
                select(InboundMessage.id).where(InboundMessage.conversation_id == first.conversation_id).limit(1))
        if replied:
            return  # the conversation is going on: no reminder while the patient is talking to us
        if 2 in sent:
            if sent[2].queued_at and now - sent[2].queued_at >= REMINDER_AFTER:
                self._no_response(patient_id, sent[2])
                report.no_response += 1
            return
        number = 2 if 1 in sent else 1
        if number == 2 and not (sent[1].queued_at and now - sent[1].queued_at >= REMINDER_AFTER):
            return
        if window is None or not window.is_open(now):
            report.outside_window += 1
            return
        if self._invite(patient_id, number, now):
            setattr(
                report, "first" if number == 1 else "second", getattr(report, "first" if number == 1 else "second") + 1
            )

    def _invite(self, patient_id: int, number: int, now: dt.datetime) -> bool:
        try:
            with session_scope(self.settings.database_url) as session:
                session.add(Invitation(patient_id=patient_id, number=number, claimed_at=now))
        except IntegrityError:
            return False  # another worker claimed it
        self._queue(patient_id, number, now)
        return True

    def _queue(self, patient_id: int, number: int, now: dt.datetime) -> None:
        """Queue the opener for a claimed invitation (safe to repeat: fixed outbox keys)."""
        key = f"invite:{patient_id}:{number}"
        with session_scope(self.settings.database_url) as session:
            invitation = session.scalar(select(Invitation).where(Invitation.patient_id == patient_id,
                                                                 Invitation.number == number))
            first = session.scalar(
                select(Invitation).where(Invitation.patient_id == patient_id, Invitation.number == 1)
            )
            conversation_id = invitation.conversation_id or (first.conversation_id if number == 2 else None)
        if conversation_id is None:
            self._interpreter_task_if_needed(patient_id)
            with session_scope(self.settings.database_url) as session:
                # A worker that stopped after opening the conversation: adopt it rather than open another.
                adopted = session.scalar(select(Conversation.id).where(
                    Conversation.patient_id == patient_id, Conversation.status.in_(OPEN_CONVERSATION),
                    Conversation.started_at >= invitation.claimed_at))
            conversation_id = adopted or open_conversation(self.settings, self.rasa, patient_id, key=key)[0]
        else:
            # The second invitation repeats the opener in the same conversation: Rasa is still
            # waiting for the date of birth, so the text goes straight to the outbox.
            with session_scope(self.settings.database_url) as session:
                conversation = session.get(Conversation, conversation_id)
                patient = session.get(Patient, patient_id)
                hold = automatic_text_hold(session, patient)
                if hold is not None:  # checked again here: a claim finished after a crash comes this way
                    raise OutreachError(f"automatic texts to this patient are held: {hold}")
                script = script_for_patient(self.settings.practices_dir, patient)
                outbox.enqueue(session, f"{key}:0", patient.mobile, script.render("opener", patient.first_name),
                               conversation=conversation, from_number=script.sender, purpose="invitation")
        with session_scope(self.settings.database_url) as session:
            invitation = session.scalar(select(Invitation).where(Invitation.patient_id == patient_id,
                                                                 Invitation.number == number))
            invitation.conversation_id, invitation.status, invitation.queued_at = conversation_id, "queued", now

    def _interpreter_task_if_needed(self, patient_id: int) -> None:
        """A patient who prefers a language their practice supplies no script in gets the English
        texts, and a coordinator is asked to phone with an interpreter (once)."""
        with session_scope(self.settings.database_url) as session:
            patient = session.get(Patient, patient_id)
            language = (patient.preferred_language or "en").lower()
            if script_for_patient(self.settings.practices_dir, patient).language == language:
                return  # English, or a language the practice wrote its script in
            if session.scalar(select(Task.id).where(
                    Task.patient_id == patient_id, Task.kind == "interpreter_call")):
                return
            records.create_task(session, "interpreter_call",
                                f"Prefers language '{language}', which has no practice script: phone with an "
                                "interpreter.", patient.practice_id, patient_id=patient_id)

    def _finish_claimed(self, now: dt.datetime, report: WorkerReport) -> None:
        """Invitations claimed by a worker that stopped before queueing them (crash or restart)."""
        stale = now - dt.timedelta(minutes=5)
        with session_scope(self.settings.database_url) as session:
            claimed = [(i.patient_id, i.number) for i in session.scalars(
                select(Invitation).where(Invitation.status == "claimed", Invitation.claimed_at < stale))]
        for patient_id, number in claimed:
            try:
                self._queue(patient_id, number, now)
            except (DialogueUnavailable, OutreachError) as exc:
                report.errors.append(f"patient {patient_id}: {exc}")

    def _no_response(self, patient_id: int, second: Invitation) -> None:
        with session_scope(self.settings.database_url) as session:
            conversation = session.get(Conversation, second.conversation_id)
            records.record_outcome(session, conversation, "no_response",
                                   note="no reply to two invitations at least 7 days apart")
            records.create_task(session, "no_response_call", "No reply to two texts: phone the patient.",
                                conversation.practice_id, conversation)
