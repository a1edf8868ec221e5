"""The escalation ladder (issue 14): past its practice's time limit a flag is texted to the duty
clinician, and if still unacknowledged after `second_contact_after` to the second contact; each rung
once, never with patient details, and acknowledging stops it. A flag raised while the practice is
closed is texted at once to its out-of-hours contact, and its limit starts at the next opening.
Fixed instants, both databases."""
from __future__ import annotations

import datetime as dt
import itertools
import uuid
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from bot import records
from bot.db.engine import session_scope
from bot.inbox.escalation import DUTY_CLINICIAN, SECOND_CONTACT, escalate_overdue, escalation_text
from bot.db.models import AuditEntry, Conversation, Flag, InboundMessage, OutboundMessage, Patient
from bot.patients.outreach import ensure_practice
from bot.practice_script.loader import script_for
from tests.conftest import make_settings
from tests.helpers import text_from

DUTY, SECOND, OUT_OF_HOURS = "+447700900021", "+447700900022", "+447700900023"
SCRIPT = f"""ods_code: Z00001
name: Ladder Surgery
phone: 01632 960 111
sender: "+447700900020"
duty_clinician_phone: "{DUTY}"
second_contact_phone: "{SECOND}"
second_contact_after: 20 minutes
out_of_hours_contact: "{OUT_OF_HOURS}"
"""
RAISED = dt.datetime(2026, 12, 3, 10, 0)   # a Thursday, 10:00 in London: open (Mon-Fri 08:00-18:30)
MINUTE = dt.timedelta(minutes=1)
MOBILES = itertools.count(10)


@pytest.fixture
def ladder(database_url, tmp_path: Path):
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "Z00001.yml").write_text(SCRIPT, encoding="utf-8")
    (folder / "Z00002.yml").write_text(SCRIPT.replace("Z00001", "Z00002").replace("Ladder", "Single")
                                       .replace(f'second_contact_phone: "{SECOND}"\n', "")
                                       .replace(f'out_of_hours_contact: "{OUT_OF_HOURS}"\n', ""), encoding="utf-8")
    settings = make_settings(database_url, practices_dir=folder, inbox_url="https://inbox.example.org/inbox")
    with session_scope(database_url) as session:
        for code in ("Z00001", "Z00002"):
            ensure_practice(session, script_for(folder, code))
    return settings


def raise_flag(settings, code: str = "Z00001", severity: str = "urgent", kind: str = "clinical") -> int:
    """A flag from a patient in a conversation, as the processor raises it."""
    with session_scope(settings.database_url) as session:
        practice = ensure_practice(session, script_for(settings.practices_dir, code))
        patient = Patient(practice_id=practice.id, first_name="Zebedee", last_name="Quill",
                          date_of_birth=dt.date(1961, 3, 12), mobile=f"+4477009005{next(MOBILES):02d}",
                          diagnosis_date=dt.date(2026, 11, 1))
        session.add(patient)
        session.flush()
        conversation = Conversation(practice_id=practice.id, patient_id=patient.id)
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number=patient.mobile,
                                 body="crushing chest pain", received_at=RAISED, patient_id=patient.id)
        session.add_all([conversation, message])
        session.flush()
        flag = records.raise_flag(session, practice_id=practice.id, patient_id=patient.id, conversation=conversation,
                                  inbound_message_id=message.id, kind=kind, severity=severity,
                                  category="breathing_chest", evidence="crushing chest pain", source="rules")
        flag.created_at = RAISED
        return flag.id


def texts(settings) -> dict[str, tuple[str, str]]:
    """Escalation texts queued: outbox key -> (to, body)."""
    with session_scope(settings.database_url) as session:
        return {m.idempotency_key: (m.to_number, m.body) for m in session.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "escalation"))}


def test_the_ladder_climbs_at_each_limit_and_stops_when_acknowledged(ladder):
    urgent, taken = raise_flag(ladder), raise_flag(ladder)
    soon, review = raise_flag(ladder, severity="soon"), raise_flag(ladder, severity="review", kind="review")
    closed = raise_flag(ladder)
    with session_scope(ladder.database_url) as session:
        records.close_flags(session, [closed], None, RAISED + MINUTE)

    assert escalate_overdue(ladder, RAISED + 14 * MINUTE) == 0
    assert escalate_overdue(ladder, RAISED + 15 * MINUTE) == 2          # urgent: 15 minutes
    assert escalate_overdue(ladder, RAISED + 15 * MINUTE) == 0          # once
    with session_scope(ladder.database_url) as session:
        records.acknowledge_flags(session, [taken], None, RAISED + 20 * MINUTE)
    assert escalate_overdue(ladder, RAISED + 34 * MINUTE) == 0
    assert escalate_overdue(ladder, RAISED + 35 * MINUTE) == 1          # 20 minutes after the duty clinician
    assert escalate_overdue(ladder, RAISED + 60 * MINUTE) == 0
    assert escalate_overdue(ladder, RAISED + 119 * MINUTE) == 0
    assert escalate_overdue(ladder, RAISED + 120 * MINUTE) == 1         # soon: 2 working hours
    assert escalate_overdue(ladder, RAISED + 140 * MINUTE) == 1         # and its second rung
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 3, 18, 29)) == 0
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 3, 18, 30)) == 1   # review: the end of the working day
    with session_scope(ladder.database_url) as session:
        records.acknowledge_flags(session, [review], None, dt.datetime(2026, 12, 3, 18, 40))
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 4, 12, 0)) == 0    # acknowledged: the ladder stops

    link = "https://inbox.example.org/inbox/flag/"
    assert texts(ladder) == {
        f"escalate:{urgent}": (DUTY, escalation_text(DUTY_CLINICIAN, "urgent", "Ladder Surgery", 15 * MINUTE,
                                                     f"{link}{urgent}")),
        f"escalate:{taken}": (DUTY, escalation_text(DUTY_CLINICIAN, "urgent", "Ladder Surgery", 15 * MINUTE,
                                                    f"{link}{taken}")),
        f"escalate:{urgent}:second": (SECOND, escalation_text(SECOND_CONTACT, "urgent", "Ladder Surgery",
                                                              35 * MINUTE, f"{link}{urgent}")),
        f"escalate:{soon}": (DUTY, escalation_text(DUTY_CLINICIAN, "soon", "Ladder Surgery", 120 * MINUTE,
                                                   f"{link}{soon}")),
        f"escalate:{soon}:second": (SECOND, escalation_text(SECOND_CONTACT, "soon", "Ladder Surgery", 140 * MINUTE,
                                                            f"{link}{soon}")),
        f"escalate:{review}": (DUTY, escalation_text(DUTY_CLINICIAN, "review", "Ladder Surgery", 510 * MINUTE,
                                                     f"{link}{review}")),
    }
    for _to, body in texts(ladder).values():  # no patient details: the practice, the severity, a link
        assert "Zebedee" not in body and "Quill" not in body and "chest" not in body and "07700" not in body
        assert body.startswith(("URGENT: ", "SOON: ", "REVIEW: ")) and "Ladder Surgery" in body
    assert texts(ladder)[f"escalate:{urgent}"][1] == (
        "URGENT: a patient safety flag (urgent) at Ladder Surgery has not been picked up within its time limit "
        f"(15 min so far). Please open the inbox now: {link}{urgent}")
    with session_scope(ladder.database_url) as session:
        stored = {f.id: f for f in session.scalars(select(Flag))}
        assert stored[urgent].escalated_at == RAISED + 15 * MINUTE
        assert stored[urgent].second_escalated_at == RAISED + 35 * MINUTE
        assert stored[taken].second_escalated_at is None and stored[closed].escalated_at is None
        assert stored[review].second_escalated_at is None
        audits = [a.detail for a in session.scalars(select(AuditEntry).where(
            AuditEntry.action == "escalate", AuditEntry.target == f"flag:{urgent}").order_by(AuditEntry.id))]
    assert audits[0].startswith("duty clinician of Z00001 texted after 15 min (urgent); outbound:")
    assert audits[1].startswith("second contact of Z00001 texted after 35 min (urgent); outbound:")


def test_without_a_second_contact_the_ladder_ends_at_the_duty_clinician(ladder):
    flag_id = raise_flag(ladder, code="Z00002")
    assert escalate_overdue(ladder, RAISED + 15 * MINUTE) == 1
    assert escalate_overdue(ladder, RAISED + 5 * 60 * MINUTE) == 0
    assert list(texts(ladder)) == [f"escalate:{flag_id}"]


def test_a_flag_raised_while_the_practice_is_closed_climbs_from_the_next_opening(ladder):
    friday_evening = dt.datetime(2026, 12, 4, 19, 0)
    flag_id = raise_flag(ladder, code="Z00002")  # no out-of-hours contact: nobody is texted overnight
    with session_scope(ladder.database_url) as session:
        session.get(Flag, flag_id).created_at = friday_evening
    assert escalate_overdue(ladder, friday_evening + 60 * MINUTE) == 0
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 7, 8, 14)) == 0
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 7, 8, 15)) == 1   # Monday 08:00 + 15 minutes


FRIDAY_EVENING = dt.datetime(2026, 12, 4, 19, 0)   # closed until Monday 08:00


def register(settings, code: str) -> str:
    """A patient of the practice with no conversation; returns their mobile."""
    with session_scope(settings.database_url) as session:
        practice = ensure_practice(session, script_for(settings.practices_dir, code))
        mobile = f"+4477009005{next(MOBILES):02d}"
        session.add(Patient(practice_id=practice.id, first_name="Zebedee", last_name="Quill", mobile=mobile,
                            date_of_birth=dt.date(1961, 3, 12), diagnosis_date=dt.date(2026, 11, 1)))
        return mobile


def test_a_flag_raised_out_of_hours_texts_the_out_of_hours_contact_at_once(ladder):
    """Through the processor, as a patient's text is handled: the safety net and the out-of-hours
    contact's text are queued together; in opening hours, or with no contact set, no such text."""
    mobile, elsewhere = register(ladder, "Z00001"), register(ladder, "Z00002")
    with time_machine.travel(FRIDAY_EVENING.replace(tzinfo=dt.timezone.utc), tick=False):
        inbound = text_from(ladder, mobile, "I can't breathe and my chest is tight", FRIDAY_EVENING)
        text_from(ladder, elsewhere, "I can't breathe and my chest is tight", FRIDAY_EVENING)
    with session_scope(ladder.database_url) as session:
        flag = session.scalar(select(Flag).where(Flag.inbound_message_id == inbound))
        assert flag.out_of_hours_texted_at == FRIDAY_EVENING
        queued = {m.idempotency_key: m for m in session.scalars(select(OutboundMessage))}
    assert queued[f"in:{inbound}:safety"].purpose == "safety_net"
    assert "when we open at 8:00am on Monday" in queued[f"in:{inbound}:safety"].body
    notice = queued[f"out_of_hours:{flag.id}"]
    assert (notice.to_number, notice.from_number, notice.purpose) == (OUT_OF_HOURS, "+447700900020", "escalation")
    assert notice.body == ("URGENT: a patient safety flag (urgent) came in at Ladder Surgery while the practice is "
                           f"closed. Please open the inbox: https://inbox.example.org/inbox/flag/{flag.id}")
    assert notice.patient_id is None and notice.conversation_id is None
    assert [k for k in queued if k.startswith("out_of_hours:")] == [f"out_of_hours:{flag.id}"]  # not Z00002's
    # Once: the checker does not text it again, and the ladder waits for Monday's opening.
    assert escalate_overdue(ladder, FRIDAY_EVENING + 30 * MINUTE) == 0
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 7, 8, 15)) == 2   # both duty clinicians at 08:15

    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc), tick=False):
        in_hours = text_from(ladder, register(ladder, "Z00001"), "I can't breathe", dt.datetime(2026, 12, 7, 10, 0))
    with session_scope(ladder.database_url) as session:
        assert session.scalar(select(Flag.out_of_hours_texted_at).where(Flag.inbound_message_id == in_hours)) is None


def test_the_checker_texts_the_out_of_hours_contact_of_a_flag_raised_elsewhere_while_still_closed(ladder):
    """A review the dialogue raised (no processor in the way) is texted by the next check, but only
    while the practice is still closed: at opening the queue has it."""
    evening = raise_flag(ladder, severity="review", kind="review")
    with session_scope(ladder.database_url) as session:
        session.get(Flag, evening).created_at = FRIDAY_EVENING
    assert escalate_overdue(ladder, FRIDAY_EVENING + MINUTE) == 1
    assert escalate_overdue(ladder, FRIDAY_EVENING + 2 * MINUTE) == 0
    early = raise_flag(ladder)
    with session_scope(ladder.database_url) as session:
        session.get(Flag, early).created_at = dt.datetime(2026, 12, 7, 7, 30)  # Monday, before opening
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 7, 8, 1)) == 0    # open now: no out-of-hours text
    assert set(texts(ladder)) == {f"out_of_hours:{evening}"}
    with session_scope(ladder.database_url) as session:
        records.acknowledge_flags(session, [early], None, dt.datetime(2026, 12, 7, 8, 5))
    assert escalate_overdue(ladder, dt.datetime(2026, 12, 7, 18, 30)) == 1   # the review at the day's end
