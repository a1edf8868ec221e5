"""Time limits and owners of flags (issue 14): each severity's limit per practice (urgent 15 minutes,
soon 2 working hours, review the end of the working day by default), counted from the next opening
for a flag raised while the practice is closed; acknowledging, contacting the patient and closing
recorded with who and when (bot/records.py). Fixed instants only."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import records
from bot.config import PROJECT_ROOT
from bot.db.engine import session_scope
from bot.safety.flag_limits import PracticeLimits, Severity, TimeLimit
from bot.inbox.escalation import practice_limits
from bot.inbox.flags import flag_view, sla_of
from bot.db.models import Flag, InboundMessage, Practice, Task, User
from bot.practice_script.loader import ScriptError, load_all, load_script
from tests.conftest import make_settings

LIMITS = load_all(PROJECT_ROOT / "practices")["Y00001"].flag_limits()
THURSDAY_1030 = dt.datetime(2026, 12, 3, 10, 30)     # naive UTC = London in winter: open
FRIDAY_1730 = dt.datetime(2026, 12, 4, 17, 30)       # an hour before closing
FRIDAY_1900 = dt.datetime(2026, 12, 4, 19, 0)        # closed until Monday 08:00
CHRISTMAS_EVE_1900 = dt.datetime(2026, 12, 24, 19, 0)  # closed until Tuesday 29th (Boxing Day moved to Monday)
MONDAY_0800 = dt.datetime(2026, 12, 7, 8, 0)


@pytest.mark.parametrize("text, limit", [
    ("15 minutes", TimeLimit(15.0)),
    ("1 hour", TimeLimit(60.0)),
    ("2 working hours", TimeLimit(120.0, working=True)),
    ("90 working minutes", TimeLimit(90.0, working=True)),
    ("  End of the  working day ", TimeLimit(end_of_day=True)),
    ("end of working day", TimeLimit(end_of_day=True)),
])
def test_time_limits_are_read_from_words(text, limit):
    assert TimeLimit.parse(text) == limit


@pytest.mark.parametrize("text", ["soon", "0 minutes", "15", "two hours", "15 mins later", "", None, 15, "-5 minutes"])
def test_unreadable_time_limits_are_refused(text):
    with pytest.raises(ValueError, match="is not a time limit"):
        TimeLimit.parse(text)


@pytest.mark.parametrize("severity, raised, due", [
    # urgent: 15 minutes of clock time, from the next opening when closed
    ("urgent", THURSDAY_1030, dt.datetime(2026, 12, 3, 10, 45)),
    ("urgent", FRIDAY_1900, dt.datetime(2026, 12, 7, 8, 15)),
    ("urgent", CHRISTMAS_EVE_1900, dt.datetime(2026, 12, 29, 8, 15)),
    # soon: 2 hours of opening hours (Mon-Fri 08:00-18:30)
    ("soon", THURSDAY_1030, dt.datetime(2026, 12, 3, 12, 30)),
    ("soon", FRIDAY_1730, dt.datetime(2026, 12, 7, 9, 0)),
    ("soon", FRIDAY_1900, dt.datetime(2026, 12, 7, 10, 0)),
    # review: the end of the working day the limit starts on
    ("review", THURSDAY_1030, dt.datetime(2026, 12, 3, 18, 30)),
    ("review", FRIDAY_1900, dt.datetime(2026, 12, 7, 18, 30)),
    ("review", CHRISTMAS_EVE_1900, dt.datetime(2026, 12, 29, 18, 30)),
    # summer time: 2 working hours from 17:30 BST (16:30 UTC) on a Friday end 09:00 BST on Monday
    ("soon", dt.datetime(2027, 6, 4, 16, 30), dt.datetime(2027, 6, 7, 8, 0)),
])
def test_each_severity_has_its_default_limit_in_the_practices_hours(severity, raised, due):
    assert LIMITS.due(severity, raised) == due


def test_a_flag_raised_while_closed_starts_its_limit_at_the_next_opening():
    assert not LIMITS.out_of_hours(THURSDAY_1030) and LIMITS.starts(THURSDAY_1030) == THURSDAY_1030
    assert LIMITS.out_of_hours(FRIDAY_1900) and LIMITS.starts(FRIDAY_1900) == MONDAY_0800
    assert LIMITS.out_of_hours(dt.datetime(2026, 12, 3, 7, 59)) and \
        LIMITS.starts(dt.datetime(2026, 12, 3, 7, 59)) == dt.datetime(2026, 12, 3, 8, 0)
    assert Severity.of("urgent") is Severity.URGENT and Severity.of("odd") is Severity.SOON


def test_a_practice_sets_its_own_limits_and_bad_ones_are_refused_naming_file_line_and_field(tmp_path: Path):
    path = tmp_path / "Z99999.yml"
    path.write_text("ods_code: Z99999\nname: Test Surgery\nphone: 01234 567890\ntime_limits:\n"
                    "  urgent: 10 minutes\n  soon: 30 working minutes\n", encoding="utf-8")
    limits = load_script(path).flag_limits()
    assert limits.due("urgent", THURSDAY_1030) == dt.datetime(2026, 12, 3, 10, 40)
    assert limits.due("soon", FRIDAY_1900) == dt.datetime(2026, 12, 7, 8, 30)
    assert limits.due("review", THURSDAY_1030) == dt.datetime(2026, 12, 3, 18, 30)  # the default stays
    for body, line, field, problem in (
            ("  urgent: soon\n", 5, "time_limits.urgent", "is not a time limit"),
            ("  soon: 2 hours\n  critical: 5 minutes\n", 6, "time_limits.critical", "unknown severity"),
            ("  - 15 minutes\n", 4, "time_limits", "must be a mapping")):
        path.write_text("ods_code: Z99999\nname: Test Surgery\nphone: 01234 567890\ntime_limits:\n" + body,
                        encoding="utf-8")
        with pytest.raises(ScriptError) as raised:
            load_script(path)
        assert f"Z99999.yml:{line}: {field}: " in str(raised.value) and problem in str(raised.value)


def test_escalation_minutes_is_the_urgent_limit_where_the_script_sets_none(tmp_path: Path, monkeypatch):
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "Z99998.yml").write_text("ods_code: Z99998\nname: Own Limits\nphone: 01234 567890\n"
                                       "time_limits:\n  urgent: 10 minutes\n", encoding="utf-8")
    (folder / "Z99997.yml").write_text("ods_code: Z99997\nname: Default Limits\nphone: 01234 567890\n",
                                       encoding="utf-8")
    settings = make_settings("sqlite://", practices_dir=folder)
    monkeypatch.setenv("ESCALATION_MINUTES", "5")
    assert practice_limits(settings, "Z99997").limit("urgent") == TimeLimit(5.0)
    assert practice_limits(settings, "Z99998").limit("urgent") == TimeLimit(10.0)
    assert practice_limits(settings, None).limit("urgent") == TimeLimit(5.0)  # no practice: defaults
    assert practice_limits(settings, "NOSCRIPT").limit("soon") == TimeLimit(120.0, working=True)
    monkeypatch.delenv("ESCALATION_MINUTES")
    assert practice_limits(settings, "Z99997").limit("urgent") == TimeLimit(15.0)


def test_the_pages_say_how_long_is_left_and_how_long_each_step_took():
    flag = Flag(id=1, severity="urgent", kind="clinical", category="breathing", evidence="", inbound_message_id=1,
                created_at=THURSDAY_1030)
    assert sla_of(flag, THURSDAY_1030 + dt.timedelta(minutes=3), LIMITS) == \
        ("12 min left (pick up within 15 min)", "due")
    assert sla_of(flag, THURSDAY_1030 + dt.timedelta(minutes=20), LIMITS) == ("OVERDUE by 5 min", "breached")
    flag.acknowledged_at, flag.acknowledged_by = THURSDAY_1030 + dt.timedelta(minutes=4), 7
    flag.contacted_at, flag.contacted_by = THURSDAY_1030 + dt.timedelta(minutes=9), 8
    view = flag_view(flag, THURSDAY_1030 + dt.timedelta(minutes=30), LIMITS, {7: "drsmith", 8: "cora"})
    assert view["sla"] == ("Picked up after 4 min", "met") and view["owner"] == "drsmith"
    assert view["progress"] == "acknowledged by drsmith after 4 min; patient contacted by cora after 9 min"
    assert view["acknowledged"]["when"] == "03 Dec 2026 10:34" and view["closed"] == {}
    assert not view["out_of_hours"] and view["due"] == "03 Dec 2026 10:45"
    flag.acknowledged_at = THURSDAY_1030 + dt.timedelta(minutes=16)
    assert sla_of(flag, THURSDAY_1030 + dt.timedelta(minutes=30), LIMITS) == ("Picked up after 16 min", "late")
    weekend = Flag(id=2, severity="soon", kind="clinical", category="bleeding", evidence="", inbound_message_id=2,
                   created_at=FRIDAY_1900)
    view = flag_view(weekend, dt.datetime(2026, 12, 5, 12, 0), LIMITS, {})
    assert view["out_of_hours"] and view["starts"] == "07 Dec 2026 08:00"
    assert view["sla"] == ("1 d 22 h left (pick up within 2 working hours; raised out of hours, counted from "
                           "07 Dec 2026 08:00)", "due")
    assert PracticeLimits.default().limit("review").describe() == "by the end of the working day"


def _flag_with_task(session, practice_id: int) -> Flag:
    message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number="+447700900555", body="chest pain")
    session.add(message)
    session.flush()
    flag = records.raise_flag(session, practice_id=practice_id, patient_id=None, conversation=None,
                              inbound_message_id=message.id, kind="clinical", severity="urgent",
                              category="breathing_chest", evidence="chest pain", source="rules")
    return flag


def test_acknowledging_contacting_and_closing_are_recorded_with_who_and_when(database_url):
    with session_scope(database_url) as session:
        practice = Practice(ods_code="Z99999", name="Test Surgery")
        owner, other = User(username="drsmith", password_hash="x"), User(username="cora", password_hash="x")
        session.add_all([practice, owner, other])
        session.flush()
        flag = _flag_with_task(session, practice.id)
        t1, t2, t3 = (THURSDAY_1030 + dt.timedelta(minutes=m) for m in (4, 9, 30))
        assert records.acknowledge_flags(session, [flag.id], owner.id, t1) == 1
        assert records.acknowledge_flags(session, [flag.id], other.id, t2) == 0  # the owner stays
        assert records.record_contact(session, [flag.id], other.id, t2) == 1
        assert records.record_contact(session, [flag.id], owner.id, t3) == 0     # the first contact counts
        assert records.close_flags(session, [flag.id], other.id, t3) == (1, 1)
        assert records.close_flags(session, [flag.id], owner.id, t3) == (0, 0)
        session.expire_all()
        stored = session.get(Flag, flag.id)
        assert (stored.acknowledged_at, stored.acknowledged_by) == (t1, owner.id)
        assert (stored.contacted_at, stored.contacted_by) == (t2, other.id)
        assert (stored.resolved_at, stored.resolved_by) == (t3, other.id)
        assert session.scalar(select(Task.status).where(Task.inbound_message_id == flag.inbound_message_id)) == "done"
        # Closing a flag nobody took makes the closer its owner; contact after closing is not recorded.
        second = _flag_with_task(session, practice.id)
        assert records.close_flags(session, [second.id], other.id, t3) == (1, 1)
        assert records.record_contact(session, [second.id], owner.id, t3) == 0
        session.expire_all()
        assert session.get(Flag, second.id).acknowledged_by == other.id
        assert records.acknowledge_flags(session, [], owner.id, t3) == 0
