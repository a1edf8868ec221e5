"""Processing stored inbound texts, in order per phone number:
keywords (STOP/START/HELP) -> who has the conversation -> dialogue (Rasa) -> outbox.

A text stays `received` until its turn is finished and its replies are in the outbox, so a text
that arrives while Rasa or the database is down is processed when they are back (`sweep`).
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy import select

from bot import records
from bot.outbox import queue as outbox
from bot.checkin.replies import parse_areas, parse_score
from bot.config import Settings
from bot.db.engine import session_scope
from bot.dialogue.rasa_client import DialogueUnavailable, RasaClient
from bot.inbox import escalation
from bot.dialogue.keywords import Keyword, classify_keyword, is_opt_in_for
from bot.db.models import Conversation, ConversationStatus, InboundMessage, OutboundMessage, Patient, Practice, utcnow
from bot.safety.nets import looks_urgent, safety_net_message, source_of, with_register_urgency
from bot.safety.rules import Flag
from bot.safety.screen import screen_text
from bot.practice_script.loader import load_all, script_for_patient

log = logging.getLogger(__name__)
# No turn of this dialogue says more than this; more means a fault, never a flood of texts.
MAX_REPLIES_PER_TURN = 3
# Rasa unreachable this long after a text came in: the patient gets a holding reply, a person a task.
HOLDING_AFTER = dt.timedelta(seconds=60)
# A turn that produced no text is tried again (the action server may be restarting): a person takes
# over only after this many tries AND this long since the text came in. Time, not tries alone: a
# restart takes seconds whatever INBOUND_RETRY_SECONDS is, and a loaded machine restarts slower.
NO_REPLY = "Rasa answered with no text: an action failed"
NO_REPLY_ATTEMPTS = 5
NO_REPLY_GRACE = dt.timedelta(seconds=15)
# Texts from numbers not on the register: one neutral reply per number in this time, the rest stored.
UNKNOWN_REPLY_EVERY = dt.timedelta(days=1)
UNKNOWN_ANSWERED = "unknown_number"            # InboundMessage.handled_by
UNKNOWN_UNANSWERED = "unknown_unanswered"      # stored and a task, but no reply (the limit above)


@dataclass(frozen=True)
class DialogueTurn:
    sender_id: str
    text: str
    to_number: str
    from_number: Optional[str]


@dataclass(frozen=True)
class FlagRaised:
    """A flag was raised in a conversation the assistant was running: after the safety net is
    committed, the answer in the text, if any, is kept (`Processor._keep_the_answer`)."""
    conversation_id: int
    public_id: str


URGENT, ROUTINE = 0, 1  # queue priorities of a number's waiting texts: a red flag goes first


class Processor:
    """Runs turns on a small pool of threads; texts from one number are never processed in parallel.

    Numbers wait in a priority queue: a number whose new text the rules flag (0.1 ms a text, done
    when the text is noticed) goes before numbers with routine texts, so a red flag sent into a
    flood of other texts is handled next, not in arrival order (issue 12, finding 4)."""

    def __init__(self, settings: Settings, rasa: RasaClient, on_outbox: Callable[[], None] = lambda: None,
                 workers: int = 8):
        self.settings = settings
        self.rasa = rasa
        self.on_outbox = on_outbox
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._queued: dict[str, int] = {}  # number -> the best priority it waits with
        self._busy: set[str] = set()       # numbers being processed now
        self._again: set[str] = set()      # numbers that got more texts meanwhile
        self._screened_upto = 0            # texts up to this id have had the early look
        self._workers = workers
        self._threads: list[threading.Thread] = []  # started at the first submit

    def submit(self, from_number: str, priority: int = ROUTINE) -> None:
        """Process every pending text from this number, in arrival order, in the background."""
        with self._lock:
            if from_number in self._busy:
                self._again.add(from_number)
                return
            if self._queued.get(from_number, priority + 1) <= priority:
                return  # already waiting, as soon or sooner
            self._queued[from_number] = priority
            self._queue.put((priority, next(self._order), from_number))
            if not self._threads:
                self._threads = [threading.Thread(target=self._work, name=f"turn-{i}", daemon=True)
                                 for i in range(self._workers)]
                for thread in self._threads:
                    thread.start()

    def sweep(self) -> None:
        """Submit every number with texts waiting (after a wake-up, an outage or a restart); numbers
        whose new texts the rules flag go to the front of the queue."""
        urgent: list[str] = []
        with session_scope(self.settings.database_url) as session:
            numbers = session.scalars(select(InboundMessage.from_number)
                                      .where(InboundMessage.status == "received").distinct()).all()
            new = session.execute(select(InboundMessage.id, InboundMessage.from_number, InboundMessage.body).where(
                InboundMessage.status == "received", InboundMessage.id > self._screened_upto)
                .order_by(InboundMessage.id)).all()
        for inbound_id, number, body in new:
            if number not in urgent and looks_urgent(body):
                urgent.append(number)
            self._screened_upto = max(self._screened_upto, inbound_id)
        for number in urgent:
            self.submit(number, URGENT)
        for number in numbers:
            self.submit(number)

    def shutdown(self) -> None:
        """Finish the texts being processed now; those still waiting stay `received` for the next start."""
        with self._lock:
            self._queued.clear()
            threads = list(self._threads)
        for _ in threads:
            self._queue.put((-1, next(self._order), None))  # before any waiting number
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while True:
            priority, _order, number = self._queue.get()
            if number is None:
                return
            with self._lock:
                if self._queued.get(number) != priority:
                    continue  # a stale entry: the number was moved up, or shutdown emptied the queue
                del self._queued[number]
                self._busy.add(number)
            self._drain(number)

    def _drain(self, from_number: str) -> None:
        try:
            while True:
                with session_scope(self.settings.database_url) as session:
                    ids = session.scalars(select(InboundMessage.id).where(
                        InboundMessage.from_number == from_number, InboundMessage.status == "received")
                        .order_by(InboundMessage.id)).all()
                for inbound_id in ids:
                    if not self.process(inbound_id):
                        return  # unavailable: keep the rest in order; the sweep retries
                with self._lock:
                    if from_number not in self._again:
                        return
                    self._again.discard(from_number)
        except Exception:
            log.exception("processing failed; the sweep will retry")
        finally:
            with self._lock:
                self._busy.discard(from_number)
                self._again.discard(from_number)

    # -- one text -------------------------------------------------------------------------

    def process(self, inbound_id: int) -> bool:
        """Run one text's turn. Returns False when it must be retried later."""
        with session_scope(self.settings.database_url) as session:
            message = session.get(InboundMessage, inbound_id)
            if message is None or message.status != "received":
                return True
            handled = self._handle(session, message)
            keep_answer: Optional[FlagRaised] = None
            turn: Optional[DialogueTurn] = None
            if isinstance(handled, DialogueTurn):
                turn = handled
            else:
                if isinstance(handled, FlagRaised):
                    keep_answer, handled = handled, "safety"
                message.status, message.handled_by, message.processed_at = "processed", handled, utcnow()
        if keep_answer is not None:
            # The safety net is committed: wake the sender first, then ask Rasa which question was
            # asked (it may take seconds), never holding the safety net back.
            self.on_outbox()
            self._keep_the_answer(inbound_id, keep_answer)
        if turn is not None:
            # Rasa is called outside any database transaction: its actions write to the same database.
            try:
                texts = self.rasa.turn(turn.sender_id, turn.text, metadata={"inbound_id": inbound_id})
                if not texts:
                    # Every turn answers the patient. None means an action failed inside Rasa (the
                    # action server died mid-turn, say), and Rasa carries on without its events.
                    raise DialogueUnavailable(NO_REPLY)
            except DialogueUnavailable as exc:
                attempts, waited = self._note_failure(inbound_id, str(exc))
                if str(exc) == NO_REPLY and attempts >= NO_REPLY_ATTEMPTS and waited >= NO_REPLY_GRACE:
                    self._give_up(inbound_id)  # not an outage but a fault: a person takes over
                    return True
                self._hold_if_long(inbound_id)
                return False
            with session_scope(self.settings.database_url) as session:
                message = session.get(InboundMessage, inbound_id)
                conversation = session.get(Conversation, message.conversation_id)
                texts = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]  # a repeat is a fault
                if len(texts) > MAX_REPLIES_PER_TURN:
                    # A dialogue fault (a loop) must not flood a patient: send the start, hand over.
                    log.error("turn for inbound %s produced %d texts; handing over", inbound_id, len(texts))
                    texts = texts[:MAX_REPLIES_PER_TURN]
                    records.create_task(session, "assistant_fault", "The assistant misbehaved in this conversation: "
                                        "please read it and reply.", conversation.practice_id, conversation,
                                        inbound_message_id=inbound_id)
                    records.hand_over(session, conversation, "assistant fault")
                outbox.enqueue_all(session, f"in:{inbound_id}", turn.to_number, texts, conversation=conversation,
                                   from_number=turn.from_number, in_reply_to_id=inbound_id)
                message.status, message.handled_by, message.processed_at = "processed", "dialogue", utcnow()
        self.on_outbox()
        return True

    def _hold_if_long(self, inbound_id: int) -> None:
        """Rasa has been unreachable for longer than HOLDING_AFTER since the text came in: tell the
        patient we have it (once per outage) and leave a task, so a person reads it if the outage
        lasts. The text stays waiting and is answered when Rasa is back."""
        with session_scope(self.settings.database_url) as session:
            message = session.get(InboundMessage, inbound_id)
            if utcnow() - message.received_at < HOLDING_AFTER:
                return
            conversation = session.get(Conversation, message.conversation_id) if message.conversation_id else None
            patient = session.get(Patient, message.patient_id) if message.patient_id else None
            if conversation is None or patient is None:
                return
            records.create_task(session, "assistant_unavailable",
                                "The assistant could not answer this text for over a minute: read it and reply.",
                                patient.practice_id, conversation, patient.id, inbound_id)
            waiting = select(InboundMessage.id).where(InboundMessage.conversation_id == conversation.id,
                                                      InboundMessage.status == "received")
            already = session.scalar(select(OutboundMessage.id).where(
                OutboundMessage.conversation_id == conversation.id, OutboundMessage.in_reply_to_id.in_(waiting),
                OutboundMessage.idempotency_key.like("%:holding"), OutboundMessage.in_reply_to_id != inbound_id))
            queued = None
            if already is None:  # one holding reply per outage is enough
                script = script_for_patient(self.settings.practices_dir, patient)
                queued = outbox.enqueue(session, f"in:{inbound_id}:holding", patient.mobile, script.render("holding"),
                                        conversation=conversation, from_number=script.sender,
                                        in_reply_to_id=inbound_id)
        if queued is not None:
            log.warning("inbound %s waited over %s s for Rasa: holding reply queued", inbound_id,
                        int(HOLDING_AFTER.total_seconds()))
            self.on_outbox()

    def _give_up(self, inbound_id: int) -> None:
        """The dialogue keeps failing on this text: the holding reply, a task, and a person has it."""
        log.error("inbound %s: no reply after %d tries and %s; handing over", inbound_id, NO_REPLY_ATTEMPTS,
                  NO_REPLY_GRACE)
        with session_scope(self.settings.database_url) as session:
            message = session.get(InboundMessage, inbound_id)
            conversation = session.get(Conversation, message.conversation_id)
            patient = session.get(Patient, message.patient_id)
            script = script_for_patient(self.settings.practices_dir, patient)
            outbox.enqueue(session, f"in:{inbound_id}:holding", patient.mobile, script.render("holding"),
                           conversation=conversation, from_number=script.sender, in_reply_to_id=inbound_id)
            records.create_task(session, "assistant_fault", "The assistant failed on this text: read it and reply.",
                                patient.practice_id, conversation, patient.id, inbound_id)
            records.hand_over(session, conversation, "assistant fault")
            message.status, message.handled_by, message.processed_at = "processed", "fault", utcnow()
        self.on_outbox()

    def _note_failure(self, inbound_id: int, error: str) -> tuple[int, dt.timedelta]:
        """Count a failed try; returns how many there have been and how long the text has waited."""
        log.warning("inbound %s waits: %s", inbound_id, error)
        with session_scope(self.settings.database_url) as session:
            message = session.get(InboundMessage, inbound_id)
            message.attempts += 1
            message.last_error = error[:300]
            return message.attempts, utcnow() - message.received_at

    def _handle(self, session, message: InboundMessage) -> "str | DialogueTurn | FlagRaised":
        """Handle what needs no dialogue; otherwise say which Rasa turn to run. Returns `handled_by`."""
        patient, conversation = self._who(session, message)
        # The safety screen comes first, whatever state the conversation is in: a red flag is never
        # taken as a form answer, swallowed by a fallback, or left unread because a human has the chat.
        flag = screen_text(message.body)
        if flag is not None:
            return self._raise_flag(session, message, patient, conversation, flag)
        if patient is None:
            return self._unknown_number(session, message)
        message.patient_id = patient.id
        message.conversation_id = conversation.id if conversation else None
        script = script_for_patient(self.settings.practices_dir, patient)
        reply_key = f"in:{message.id}"

        keyword = classify_keyword(message.body)
        if keyword is Keyword.OPT_OUT:
            records.opt_out(session, patient)
            if conversation is not None:
                records.record_outcome(session, conversation, "opted_out", inbound_message_id=message.id,
                                       note=f"replied {message.body.strip()[:20]}")
                records.close(session, conversation, "opted out")
            return "keyword"  # Twilio itself confirms the opt-out to the patient
        if is_opt_in_for(message.body, patient.opted_out):
            records.opt_in(session, patient)
            return "keyword"  # opting back in never restarts a conversation by itself
        if patient.opted_out:
            records.create_task(session, "message_after_opt_out", "The patient texted after opting out.",
                                patient.practice_id, conversation, patient.id, message.id)
            return "human"

        if conversation is None or conversation.status != ConversationStatus.ACTIVE:
            # A human has the conversation (or it is over): the bot stays silent.
            handed_over = conversation is not None and conversation.status == ConversationStatus.HANDED_OVER
            kind = "message_while_handed_over" if handed_over else "message_without_conversation"
            records.create_task(session, kind, "New text from the patient for a coordinator to read.",
                                patient.practice_id, conversation, patient.id, message.id)
            return "human"

        if keyword is Keyword.HELP:
            outbox.enqueue(session, f"{reply_key}:0", patient.mobile, script.render("help", patient.first_name),
                           conversation=conversation, from_number=script.sender, in_reply_to_id=message.id)
            return "keyword"

        return DialogueTurn(conversation.public_id, message.body, patient.mobile, script.sender)

    def _raise_flag(self, session, message: InboundMessage, patient: Optional[Patient],
                    conversation: Optional[Conversation], flag: Flag) -> "str | FlagRaised":
        """Safety net text at once, a flag record, and the conversation handed to a human. Returns a
        FlagRaised when the assistant was running the conversation (its answer may be kept)."""
        script = script_for_patient(self.settings.practices_dir, patient) if patient \
            else _script_for_number(self.settings, message.to_number)
        practice = session.scalar(select(Practice).where(Practice.ods_code == script.ods_code))
        message.patient_id = patient.id if patient else None
        message.conversation_id = conversation.id if conversation else None
        was_running = conversation is not None and conversation.status == ConversationStatus.ACTIVE
        on_treatment = patient.on_active_treatment if patient else None
        flag = with_register_urgency(flag, on_treatment)
        text_name = safety_net_message(flag, on_treatment)
        helpline = (patient.oncology_helpline or "") if patient else ""
        next_contact = script.opening_hours.when_contact(utcnow())
        outbox.enqueue(
            session,
            f"in:{message.id}:safety",
            message.from_number,
            script.render(text_name, helpline=helpline, next_contact=next_contact),
            conversation=conversation,
            from_number=script.sender,
            in_reply_to_id=message.id,
            purpose="safety_net",
        )
        raised = records.raise_flag(session, practice_id=practice.id if practice else None,
                                    patient_id=message.patient_id, conversation=conversation,
                                    inbound_message_id=message.id, kind=flag.kind, severity=flag.severity,
                                    category=flag.category, evidence="; ".join(flag.evidence), source=source_of(flag))
        try:
            with session.begin_nested():  # the practice is closed: its out-of-hours contact, at once
                escalation.notify_out_of_hours(session, self.settings, raised, script, utcnow())
        except Exception:  # the escalation checker tries again; never hold back the safety net
            log.exception("inbound %s: the out-of-hours contact could not be queued", message.id)
        log.warning("inbound %s flagged %s/%s", message.id, flag.kind, flag.severity)
        if was_running and conversation is not None:
            return FlagRaised(conversation.id, conversation.public_id)
        return "safety"

    def _keep_the_answer(self, inbound_id: int, raised: FlagRaised) -> None:
        """A flagged text can also answer the check-in question asked ("8, and I can't see the point
        any more"): the answer is stored as the dialogue would have stored it, and a person reads the
        whole text. Best effort, after the safety net is committed: if Rasa cannot say which question
        was asked, or anything else goes wrong, nothing is stored and the failure is logged."""
        try:
            slot, pending = self.rasa.waiting_for(raised.public_id)
            with session_scope(self.settings.database_url) as session:
                message = session.get(InboundMessage, inbound_id)
                conversation = session.get(Conversation, raised.conversation_id)
                self._store_answer(session, message, conversation, slot, pending)
        except DialogueUnavailable:
            return
        except Exception:  # keeping the answer is a nicety: the flag and safety net are already safe
            log.exception("inbound %s: the answer in a flagged text could not be kept", inbound_id)

    @staticmethod
    def _store_answer(session, message: InboundMessage, conversation: Conversation, slot: Optional[str],
                      pending: list) -> None:
        text = message.body or ""
        if slot == "concern_areas":
            areas = parse_areas(text)
            if areas.kind == "areas":
                records.record_concern(session, conversation, "areas", areas=list(areas.areas),
                                       inbound_message_id=message.id)
            return
        question = "overall" if slot == "concern_overall" else \
            pending[0] if slot == "concern_area_score" and pending else None
        reply = parse_score(text) if question else None
        if question and reply is not None and reply.kind == "score" and reply.score is not None:
            records.record_concern(session, conversation, question, score=reply.score, inbound_message_id=message.id)

    def _who(self, session, message: InboundMessage) -> tuple[Optional[Patient], Optional[Conversation]]:
        """The patient who sent a text, and their latest conversation (preferring an open one)."""
        patients = list(session.scalars(select(Patient).where(Patient.mobile == message.from_number)))
        if not patients:
            return None, None
        conversation = session.scalar(
            select(Conversation).where(Conversation.patient_id.in_([p.id for p in patients]))
            .order_by((Conversation.status == ConversationStatus.CLOSED).asc(), Conversation.id.desc()).limit(1))
        if conversation is not None:
            return session.get(Patient, conversation.patient_id), conversation
        return patients[0], None

    def _unknown_number(self, session, message: InboundMessage) -> str:
        """No health content to an unknown number: a neutral reply and a task for a coordinator.

        At most one reply per number per UNKNOWN_REPLY_EVERY: anyone can text the practice number,
        and answering every text would let one sender (or a thousand) fill the queue of texts and
        the practice's Twilio bill. Later texts are stored, with their task, and not answered."""
        script = _script_for_number(self.settings, message.to_number)
        practice = session.scalar(select(Practice).where(Practice.ods_code == script.ods_code))
        records.create_task(session, "unknown_number", "A text came from a number not on the register.",
                            practice.id if practice else None, inbound_message_id=message.id)
        # Measured from the texts' own arrival times, so a text processed late (after an outage)
        # is judged by when it came in.
        answered = session.scalar(select(InboundMessage.id).where(
            InboundMessage.from_number == message.from_number, InboundMessage.id != message.id,
            InboundMessage.handled_by == UNKNOWN_ANSWERED,
            InboundMessage.received_at > message.received_at - UNKNOWN_REPLY_EVERY,
            InboundMessage.received_at <= message.received_at).limit(1))
        if answered is not None:
            return UNKNOWN_UNANSWERED
        outbox.enqueue(session, f"in:{message.id}:0", message.from_number, script.render("unknown_number"),
                       from_number=script.sender, in_reply_to_id=message.id, purpose="unknown_number")
        return UNKNOWN_ANSWERED


def _script_for_number(settings: Settings, to_number: str):
    """The script of the practice that texts from `to_number` (the first practice if none does)."""
    scripts = load_all(settings.practices_dir)
    by_sender = {s.sender or settings.twilio_from_number: s for s in scripts.values()}
    return by_sender.get(to_number) or next(iter(scripts.values()))
