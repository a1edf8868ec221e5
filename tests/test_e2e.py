"""End to end: the real Rasa server, action server and gateway as separate processes, the real
twilio client talking to a Twilio-compatible fake on loopback, and webhooks signed as Twilio signs
them. Runs once on SQLite and once on PostgreSQL."""
from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.db.models import InboundMessage, OutboundMessage, Outcome, Task
from bot.patients.outreach import OutreachError, start_conversation
from bot.practice_script.loader import script_for
from tests.conftest import AUTH_TOKEN, PRACTICE_NUMBER
from tests.helpers import wait_for
from tests.phone import Phone

pytestmark = pytest.mark.e2e
SCRIPT = script_for(PROJECT_ROOT / "practices", "Y00001")


def say(message: str, **turn: str) -> str:
    """The text the patient gets; a safety net says when someone will be in touch, by the
    practice's opening hours at the deployment's (pinned) time."""
    from bot.common.clock import utcnow

    return SCRIPT.render(message, first_name="Alex", next_contact=SCRIPT.opening_hours.when_contact(utcnow()),
                         **turn)


def test_whole_conversation_to_a_yes_at_a_practice_that_books_nothing(deployment):
    phone = Phone(deployment, ods="Y00002")
    hillside = script_for(PROJECT_ROOT / "practices", "Y00002")
    (opener,) = phone.start()
    assert opener == hillside.render("opener", first_name="Alex")
    assert "cancer" not in opener.lower() and "not monitored all the time" in opener
    assert phone.text("who is this??", 2) == [hillside.render("who_is_this"), hillside.render("dob_ask")]
    assert phone.text("12 March 61", 2) == [hillside.render("support_info", first_name="Alex"),
                                            hillside.render("offer_chat")]
    assert phone.text("yes please", 1) == [hillside.render("accepted")]
    assert phone.outcomes() == [("informed", "CANPCSUPP_COD", hillside.code_for("CANPCSUPP_COD")),
                                ("accepted", None, None)]
    assert phone.tasks() == ["arrange_conversation"]
    # The outcome points at the patient's message that confirmed identity, and its replies.
    with session_scope(deployment.settings.database_url) as session:
        informed = session.scalar(select(Outcome).where(Outcome.kind == "informed",
                                                        Outcome.patient_id == phone.patient(session).id))
        evidence = session.get(InboundMessage, informed.inbound_message_id)
        assert evidence.body == "12 March 61"
        replies = session.scalars(select(OutboundMessage).where(OutboundMessage.in_reply_to_id == evidence.id)).all()
        assert [r.body for r in replies] == [hillside.render("support_info", first_name="Alex"),
                                             hillside.render("offer_chat")]
    # Delivery is tracked through Twilio's signed status callbacks.
    def all_delivered():
        with session_scope(deployment.settings.database_url) as session:
            statuses = session.scalars(select(OutboundMessage.status).where(
                OutboundMessage.to_number == phone.number)).all()
            return statuses and set(statuses) == {"delivered"}
    wait_for(all_delivered, what="delivery statuses")


def test_no_thanks_is_recorded_as_declined(deployment):
    phone = Phone(deployment)
    phone.start()
    phone.text("12/03/1961", 2)
    assert phone.text("no thanks, I'm ok", 1) == [say("declined")]
    assert phone.outcomes()[-1] == ("declined", "CANPCADEC_COD", SCRIPT.code_for("CANPCADEC_COD"))


def test_later_then_yes(deployment):
    phone = Phone(deployment)
    phone.start()
    phone.text("1961-03-12", 2)
    assert phone.text("maybe later, bit busy", 1) == [say("later")]
    assert phone.text("yes", 1) == [say("checkin_overall")]


def test_two_wrong_dates_hand_over_and_the_bot_goes_silent(deployment):
    phone = Phone(deployment)
    phone.start()
    assert phone.text("01/01/1970", 1) == [say("dob_wrong")]
    (failed,) = phone.text("2 Feb 1971", 1)
    assert failed == say("identity_failed") and "cancer" not in failed.lower()
    assert phone.conversation_status() == "handed_over"
    phone.text("hello?", 0)  # a person has the conversation now: no bot reply
    assert phone.tasks() == ["identity_failed", "message_while_handed_over"]


def test_wrong_number_stops_with_no_health_content(deployment):
    phone = Phone(deployment)
    phone.start()
    (reply,) = phone.text("wrong number mate, no Alex here", 1)
    assert reply == say("wrong_person") and "cancer" not in reply.lower()
    assert phone.conversation_status() == "closed"
    assert ("wrong_person", None, None) in phone.outcomes()
    assert phone.tasks() == ["wrong_number"]
    phone.text("who are you", 0)


@pytest.mark.parametrize("garbled", ["<script>alert(1)</script>", "\U0001F44D\U0001F44D !!!"])
def test_a_garbled_text_at_the_date_of_birth_question_is_asked_again_never_closed(deployment, garbled):
    """Issue 12: markup read as "wrong number" closed the conversation; it is an unreadable date."""
    phone = Phone(deployment)
    phone.start()
    assert phone.text(garbled, 1) == [say("dob_unclear")]
    assert phone.conversation_status() == "active" and phone.tasks() == []
    assert phone.text("12/03/1961", 2) == [say("support_info"), say("offer_chat")]


def test_call_me_instead_creates_a_callback_task(deployment):
    phone = Phone(deployment)
    phone.start()
    assert phone.text("can someone ring me instead", 1) == [say("callback")]
    assert phone.tasks() == ["callback"]
    assert phone.conversation_status() == "handed_over"


def test_stop_stops_everything_until_start(deployment):
    phone = Phone(deployment)
    phone.start()
    phone.text("STOP", 0)  # Twilio confirms STOP itself; we send nothing
    with session_scope(deployment.settings.database_url) as session:
        assert phone.patient(session).opted_out
    assert ("opted_out", None, None) in phone.outcomes()
    with pytest.raises(OutreachError, match="opted out"):
        start_conversation(deployment.settings, deployment.rasa(), phone.number)
    phone.text("12/03/1961", 0)
    assert "message_after_opt_out" in phone.tasks()
    phone.text("start", 0)
    with session_scope(deployment.settings.database_url) as session:
        assert not phone.patient(session).opted_out


def test_stop_texting_me_in_words(deployment):
    phone = Phone(deployment)
    phone.start()
    assert phone.text("please stop texting me", 1) == [say("opted_out")]
    with session_scope(deployment.settings.database_url) as session:
        assert phone.patient(session).opted_out


def test_help_keyword(deployment):
    phone = Phone(deployment)
    phone.start()
    assert phone.text("HELP", 1) == [say("help")]


def test_a_repeated_message_sid_is_processed_once(deployment):
    phone = Phone(deployment)
    phone.start()
    sid = "SM" + "d" * 32
    phone.text("12/03/1961", 2, sid=sid)
    phone.text("12/03/1961", 0, sid=sid)  # Twilio's retry of the same webhook
    with session_scope(deployment.settings.database_url) as session:
        assert len(session.scalars(select(InboundMessage).where(InboundMessage.message_sid == sid)).all()) == 1


def test_every_webhook_delivered_three_times_at_once_is_processed_once(deployment):
    """Twilio retries, and a load balancer may replay: the same texts, each delivered three times
    concurrently, get one stored row and one set of replies each."""
    phone = Phone(deployment)
    phone.start()
    texts = [("SM" + "e" * 32, "12/03/1961"), ("SM" + "f" * 31 + "1", "yes please")]
    for sid, body in texts:
        barrier = threading.Barrier(3)

        def deliver() -> int:
            barrier.wait()
            return deployment.fake.send_inbound(deployment.inbound_url, phone.number, PRACTICE_NUMBER, body,
                                                message_sid=sid)[0]
        with ThreadPoolExecutor(3) as pool:
            assert list(pool.map(lambda _: deliver(), range(3))) == [200, 200, 200]
        phone.expect(2 if body == "12/03/1961" else 1)
    with session_scope(deployment.settings.database_url) as session:
        for sid, _ in texts:
            (row,) = session.scalars(select(InboundMessage).where(InboundMessage.message_sid == sid)).all()
            replies = session.scalars(select(OutboundMessage.body).where(OutboundMessage.in_reply_to_id == row.id)).all()
            assert len(replies) == (2 if row.body == "12/03/1961" else 1)


def _post(url: str, form: dict, signature: str | None) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_badly_signed_webhooks_are_refused_and_not_stored(deployment, signature):
    sid = "SM" + "e" * 30 + str(len(signature or "x") % 10) + "0"
    form = {"MessageSid": sid, "From": "+447700900999", "To": PRACTICE_NUMBER, "Body": "hello"}
    assert _post(deployment.inbound_url, form, signature) == 403
    assert _post(deployment.stack.gateway_url + "/sms/status", {"MessageSid": sid, "MessageStatus": "sent"},
                 signature) == 403
    with session_scope(deployment.settings.database_url) as session:
        assert session.scalar(select(InboundMessage).where(InboundMessage.message_sid == sid)) is None


def test_a_signature_for_another_body_is_refused(deployment):
    from twilio.request_validator import RequestValidator

    form = {"MessageSid": "SM" + "f" * 32, "From": "+447700900999", "To": PRACTICE_NUMBER, "Body": "hello"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(deployment.inbound_url, form)
    assert _post(deployment.inbound_url, {**form, "Body": "tampered"}, signature) == 403


def test_a_signed_but_malformed_webhook_gets_400(deployment):
    from twilio.request_validator import RequestValidator

    form = {"From": "+447700900999", "Body": "no sid"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(deployment.inbound_url, form)
    assert _post(deployment.inbound_url, form, signature) == 400


def test_unknown_number_gets_a_neutral_reply_and_a_task(deployment):
    number = "+447700900998"
    before = len(deployment.fake.messages)
    deployment.fake.send_inbound(deployment.inbound_url, number, PRACTICE_NUMBER, "hi is this the surgery")
    (reply,) = [m["body"] for m in deployment.fake.wait_for_messages(1, to=number)]
    assert reply == SCRIPT.render("unknown_number") and "cancer" not in reply.lower()
    assert len(deployment.fake.messages) == before + 1
    with session_scope(deployment.settings.database_url) as session:
        message = session.scalar(select(InboundMessage).where(InboundMessage.from_number == number))
        assert session.scalar(select(Task.kind).where(Task.inbound_message_id == message.id)) == "unknown_number"


ODD_BODIES = [
    "",
    "\U0001F44D\U0001F60A",
    "<script>alert('x')</script>",
    "'; DROP TABLE patients; --",
    "a" * 1600,
    "/affirm",
]


def test_odd_messages_are_stored_exactly_and_never_crash(deployment):
    phone = Phone(deployment)
    phone.start()
    phone.text(ODD_BODIES[0], 1)          # not understood once: re-ask
    phone.text(ODD_BODIES[1], 1)          # twice: identity not confirmed, a person phones
    for body in ODD_BODIES[2:]:
        phone.text(body, 0)               # handed over: stored for the coordinator, bot silent
    with session_scope(deployment.settings.database_url) as session:
        stored = session.scalars(select(InboundMessage.body).where(InboundMessage.from_number == phone.number)
                                 .order_by(InboundMessage.id)).all()
    assert stored == ODD_BODIES


def test_a_text_sent_while_rasa_is_down_is_answered_when_it_is_back(deployment):
    phone = Phone(deployment)
    phone.start()
    deployment.stack.stop_one("rasa")
    try:
        status, _ = deployment.fake.send_inbound(deployment.inbound_url, phone.number, PRACTICE_NUMBER, "12/03/1961")
        assert status == 200  # stored and acknowledged even though the dialogue is down

        def waiting():
            with session_scope(deployment.settings.database_url) as session:
                message = session.scalar(select(InboundMessage).where(InboundMessage.from_number == phone.number))
                return message.status == "received" and message.attempts >= 1
        wait_for(waiting, what="a failed attempt to reach Rasa")
    finally:
        deployment.stack.start_rasa()
        deployment.stack.wait_ready()
    assert phone.expect(2) == [say("support_info"), say("offer_chat")]


@pytest.mark.parametrize("deployment", ["postgresql"], indirect=True)
def test_a_text_sent_while_the_database_is_down_is_kept_and_answered_later(deployment):
    """PostgreSQL refuses new connections and drops the gateway's: the text is kept on disk,
    acknowledged, and stored and answered once the database is back."""
    import psycopg2

    from tests.conftest import PG_SERVER

    phone = Phone(deployment)
    phone.start()
    name = deployment.settings.database_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(PG_SERVER)
    admin.autocommit = True
    cursor = admin.cursor()
    sid = "SM" + "7" * 32
    try:
        cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        status, answer = deployment.fake.send_inbound(deployment.inbound_url, phone.number, PRACTICE_NUMBER,
                                                      "12/03/1961", message_sid=sid)
        assert status == 200 and "<Response></Response>" in answer
    finally:
        cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    assert phone.expect(2) == [say("support_info"), say("offer_chat")]
    with session_scope(deployment.settings.database_url) as session:
        assert session.scalar(select(InboundMessage.body).where(InboundMessage.message_sid == sid)) == "12/03/1961"


SAFETY_TEXTS = {"safety_999", "safety_sepsis_treatment", "safety_sepsis_unknown", "safety_same_hour",
                "safety_bleeding", "safety_clinical_treatment", "safety_clinical", "safety_suicide", "safety_domestic",
                "safety_at_risk", "safety_carer", "safety_safeguarding"}
CLINICAL = "temp 38.2, had chemo tuesday"
SAFEGUARDING = "i dont see the point anymore"

# Every point of the conversation: the steps that bring the patient there, with the texts they get.
POINTS = {
    "at the opener": [],
    "after one wrong date of birth": [("01/01/1970", 1)],
    "after who-is-this in the identity form": [("who is this", 2)],
    "at the offer": [("12/03/1961", 2)],
    "after saying later": [("12/03/1961", 2), ("maybe later", 1)],
    "after saying yes": [("12/03/1961", 2), ("yes please", 1)],
    "in the middle of the check-in": [("12/03/1961", 2), ("yes please", 1), ("5", 1), ("2 and 3", 1)],
    "while choosing a time": [("12/03/1961", 2), ("yes please", 1), ("skip", 1), ("none", 1)],
    "after one unclear reply": [("12/03/1961", 2), ("hmm", 1)],
    "while a person has the conversation": [("can someone ring me", 1)],
    "after identity failed": [("01/01/1970", 1), ("02/02/1972", 1)],
}


def flags_of(deployment, phone) -> list[tuple]:
    from bot.db.models import Flag

    with session_scope(deployment.settings.database_url) as session:
        patient = phone.patient(session)
        return [(f.kind, f.severity) for f in session.scalars(select(Flag).where(Flag.patient_id == patient.id))]


# Clinical and safeguarding take turns over the points (both kinds share the one screen and the one
# handover path; `tests/test_safety.py` covers each kind's wording), which halves the run time.
FLAG_CASES = [(point, *((CLINICAL, "clinical") if i % 2 == 0 else (SAFEGUARDING, "safeguarding")))
              for i, point in enumerate(POINTS)]


@pytest.mark.parametrize("point, text, kind", FLAG_CASES)
def test_a_flag_at_any_point_gets_the_safety_net_and_a_human(deployment, point, text, kind):
    phone = Phone(deployment)
    phone.start()
    for body, replies in POINTS[point]:
        phone.text(body, replies)
    (reply,) = phone.text(text, 1)
    assert reply in {say(m) for m in SAFETY_TEXTS}, reply
    assert reply == say("safety_suicide") if kind == "safeguarding" else reply == say("safety_sepsis_unknown")
    assert "not monitored all the time" in reply and "cancer" not in reply.lower()
    assert flags_of(deployment, phone)[-1][0] == kind
    assert phone.conversation_status() in ("handed_over", "closed")
    assert f"flag_{kind}" in phone.tasks()
    phone.text("yes please", 0)  # the bot stays silent: a person has the conversation now
    with session_scope(deployment.settings.database_url) as session:
        flagged = session.scalar(select(InboundMessage).where(InboundMessage.body == text,
                                                              InboundMessage.from_number == phone.number))
        assert flagged.handled_by == "safety"  # never reached the dialogue, so never a form answer


def test_a_carer_who_cannot_cope_gets_the_carers_safety_net_and_a_human(deployment):
    phone = Phone(deployment)
    phone.start()
    (reply,) = phone.text("I'm his only carer and I'm at breaking point, I can't lift him any more", 1)
    assert reply == say("safety_carer") and "116 123" in reply and "999" in reply
    assert flags_of(deployment, phone)[-1] == ("safeguarding", "soon")
    assert phone.conversation_status() in ("handed_over", "closed")
    phone.text("yes please", 0)  # silent until a person hands it back


def test_a_flag_after_opting_out_still_gets_the_safety_net(deployment):
    phone = Phone(deployment)
    phone.start()
    phone.text("STOP", 0)
    (reply,) = phone.text(SAFEGUARDING, 1)
    assert reply == say("safety_suicide")


def test_a_flag_from_an_unknown_number_gets_the_safety_net(deployment):
    number = "+447700900997"
    deployment.fake.send_inbound(deployment.inbound_url, number, PRACTICE_NUMBER, "mum collapsed and wont wake up")
    (reply,) = [m["body"] for m in deployment.fake.wait_for_messages(1, to=number)]
    assert reply == SCRIPT.render("safety_999", next_contact="today")


def test_an_ordinary_reply_is_not_flagged(deployment):
    phone = Phone(deployment)
    phone.start()
    phone.text("12/03/1961", 2)
    assert phone.text("no temperature, feeling fine, no thanks", 1) == [say("declined")]
    assert flags_of(deployment, phone) == []


def test_the_trained_second_net_catches_what_the_rules_miss(deployment):
    from bot.db.models import Flag
    from bot.safety.rules import screen

    text = "the whites of my eyes look yellow and my pee is really dark"
    assert screen(text) is None  # the rules alone miss this one
    phone = Phone(deployment)
    phone.start()
    (reply,) = phone.text(text, 1)
    assert reply == say("safety_clinical")
    with session_scope(deployment.settings.database_url) as session:
        flag = session.scalar(select(Flag).where(Flag.patient_id == phone.patient(session).id))
        assert (flag.kind, flag.source, flag.category) == ("clinical", "model", "model_clinical")
    assert phone.conversation_status() == "handed_over"


def test_a_text_the_screen_is_unsure_about_goes_to_a_person_with_a_holding_reply(deployment):
    """Issue 13: between "flag" and "nothing" there is "a person should read this": never answered
    with "sorry, I couldn't read that date"."""
    from bot.db.models import Flag, Task

    phone = Phone(deployment)
    phone.start()
    # at the date-of-birth question; a text in another alphabet is a review whatever the model scores
    # (a model-score "unsure" takes the same route: tests/test_safety_net_texts.py)
    (reply,) = phone.text("мне плохо сегодня", 1)
    assert reply == say("safety_review")
    assert "not monitored all the time" in reply
    assert phone.conversation_status() == "handed_over"
    with session_scope(deployment.settings.database_url) as session:
        flag = session.scalar(select(Flag).where(Flag.patient_id == phone.patient(session).id))
        assert (flag.kind, flag.severity, flag.category) == ("review", "review", "unreadable")
        task = session.scalar(select(Task).where(Task.inbound_message_id == flag.inbound_message_id))
        assert task.kind == "flag_review" and task.detail.startswith("REVIEW:")
    assert phone.text("12/03/1961", 0) == []  # a person has the conversation: the assistant is silent
