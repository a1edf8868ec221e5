"""Clinicians in the inbox (issue 14): a user is a coordinator, a clinician or both (an administrator
apart from either); a clinician who is not also a coordinator sees the flags and reviews of their own
practices and nothing else. Against a real gateway process, on SQLite and PostgreSQL, as
tests/test_inbox.py.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from bot.db.engine import session_scope
from bot.inbox import auth
from bot.db.models import AuditEntry, Flag, InboundMessage, User, utcnow
from tests.conftest import DATABASES
from tests.test_inbox import (audit_rows, cli, new_conversation, new_flag, new_practice, new_task, new_user,
                              practice_id, queue_keys, signed_in, start_inbox, stop_inbox, user_id_of)

pytestmark = pytest.mark.e2e
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(scope="module", params=DATABASES)
def inbox(request, tmp_path_factory):
    deployment = start_inbox(request.param, tmp_path_factory.mktemp(f"clinicians-{request.param}"))
    try:
        yield deployment
    finally:
        stop_inbox(deployment)


def roles_in_database(db: str, username: str) -> tuple[bool, bool, bool]:
    with session_scope(db) as session:
        user = session.scalar(select(User).where(User.username == username))
        return user.is_coordinator, user.is_clinician, user.is_admin


def test_a_clinician_sees_flags_and_reviews_of_their_practices_only(inbox):
    mine, theirs = new_practice(inbox.db), new_practice(inbox.db)
    flagged = new_conversation(inbox.db, mine)
    urgent = new_flag(inbox.db, flagged, mine, "chest pain", age=5 * MINUTE)
    reviewed = new_conversation(inbox.db, mine)
    review = new_flag(inbox.db, reviewed, mine, "my husband says I am useless", severity="review", kind="review",
                      category="not_an_answer", evidence="not an answer", age=3 * MINUTE)
    task = new_task(inbox.db, mine, new_conversation(inbox.db, mine), age=10 * MINUTE)
    handed_over = new_conversation(inbox.db, mine)  # no flag: a coordinator's work
    other = new_conversation(inbox.db, theirs, first_name="Elsewhere")
    other_flag = new_flag(inbox.db, other, theirs, "bleeding", age=20 * MINUTE)

    clinician = signed_in(inbox, new_user(inbox.db, [mine], role="clinician"))
    page = clinician.get("/")
    assert page.status_code == 200
    assert queue_keys(page.text) == [f"flag:{urgent}", f"flag:{review}"]
    assert [item["key"] for item in clinician.get("/queue.json").json()["items"]] == \
        [f"flag:{urgent}", f"flag:{review}"]
    assert 'href="/inbox/tasks"' not in page.text and "(clinician)" in clinician.get("/account").text
    # The conversations the flags came from open; other work and other practices do not.
    assert clinician.get(f"/c/{flagged.public_id}").status_code == 200
    assert clinician.get(f"/c/{reviewed.public_id}").status_code == 200
    for path in (f"/c/{handed_over.public_id}", f"/c/{other.public_id}", f"/flag/{other_flag}"):
        assert clinician.get(path).status_code == 404, path
    assert clinician.get("/tasks").status_code == 403
    assert clinician.post(f"/tasks/{task}/done").status_code == 403
    assert clinician.post(f"/flag/{other_flag}/take").status_code == 404
    actions = [action for action, *_ in audit_rows(inbox.db, clinician.username)]
    assert actions.count("forbidden") == 2 and "not_found" in actions

    # Both roles: all the work of the practice, flags first.
    both = signed_in(inbox, new_user(inbox.db, [mine], role="coordinator,clinician"))
    assert queue_keys(both.get("/").text) == [f"flag:{urgent}", f"flag:{review}", f"task:{task}",
                                              f"conversation:{handed_over.id}"]
    assert both.get("/tasks").status_code == 200


def test_roles_are_set_with_the_command_and_existing_users_stay_coordinators(inbox):
    done = cli(inbox, "users", "add", "drsmith", "--practice", "Y00001", "--role", "clinician")
    assert done.returncode == 0, done.stderr
    assert "user drsmith (clinician) added for Y00001" in done.stdout
    assert roles_in_database(inbox.db, "drsmith") == (False, True, False)
    both = cli(inbox, "users", "roles", "drsmith", "coordinator", "clinician")
    assert both.returncode == 0 and "user drsmith is now coordinator,clinician" in both.stdout, both.stderr
    assert roles_in_database(inbox.db, "drsmith") == (True, True, False)
    assert "drsmith\tcoordinator,clinician\tY00001\t-\tactive" in cli(inbox, "users", "list").stdout
    with session_scope(inbox.db) as session:
        audited = session.scalar(select(AuditEntry).where(AuditEntry.action == "set_roles",
                                                          AuditEntry.target == f"user:{user_id_of(inbox.db, 'drsmith')}"))
        assert audited.detail.startswith("roles coordinator,clinician; by the outreach command")
    refused = cli(inbox, "users", "roles", "drsmith", "surgeon")
    assert refused.returncode == 2 and "invalid choice" in refused.stderr
    assert cli(inbox, "users", "roles", "drsmith").returncode == 2  # at least one role
    # A user added without a role is a coordinator, as every user was before roles.
    plain = cli(inbox, "users", "add", "cody", "--practice", "Y00001")
    assert plain.returncode == 0 and "user cody (coordinator) added" in plain.stdout
    admin = cli(inbox, "users", "add", "adele", "--practice", "Y00001", "--admin", "--role", "clinician")
    assert admin.returncode == 0 and "user adele (clinician,admin) added" in admin.stdout
    assert roles_in_database(inbox.db, "adele") == (False, True, True)


def test_an_administrator_sets_roles_on_the_users_page(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    admin = signed_in(inbox, new_user(inbox.db, [y1], role="admin"))
    username = new_user(inbox.db, [y1])
    user_id = user_id_of(inbox.db, username)
    page = admin.get("/users").text
    assert f'id="role-{user_id}-clinician"' in page and f'id="role-{user_id}-coordinator" name="role" ' \
        'value="coordinator" checked' in page
    changed = admin.http.post(f"{inbox.url}/users/{user_id}/roles", allow_redirects=False, timeout=30,
                              data=[("csrf", admin.csrf), ("role", "clinician")])
    assert changed.status_code == 303 and changed.headers["Location"] == "/inbox/users?done=roles_set"
    assert roles_in_database(inbox.db, username) == (False, True, False)
    none = admin.post(f"/users/{user_id}/roles", {})
    assert none.status_code == 400 and "at least one role" in none.text
    unknown = admin.post(f"/users/{user_id}/roles", {"role": "admin"})
    assert unknown.status_code == 400 and "is not a role" in unknown.text
    assert roles_in_database(inbox.db, username) == (False, True, False)
    assert ("set_roles", f"user:{user_id}", "roles clinician") in audit_rows(inbox.db, admin.username)
    # A clinician and coordinator added on the page; an administrator is ticked apart.
    added = admin.http.post(inbox.url + "/users", allow_redirects=False, timeout=30, data=[
        ("csrf", admin.csrf), ("username", "drjones"), ("password", "correct horse battery"),
        ("role", "coordinator"), ("role", "clinician"), ("admin", "yes"), ("practice", str(y1))])
    assert added.status_code == 303, added.text
    assert roles_in_database(inbox.db, "drjones") == (True, True, True)
    # Not an administrator: no roles page.
    coordinator = signed_in(inbox, username)
    assert coordinator.post(f"/users/{user_id}/roles", {"role": "coordinator"}).status_code == 403


def test_a_role_change_applies_to_a_session_already_open(inbox):
    practice = new_practice(inbox.db)
    task = new_task(inbox.db, practice)
    username = new_user(inbox.db, [practice])
    browser = signed_in(inbox, username)
    assert queue_keys(browser.get("/").text) == [f"task:{task}"]
    with session_scope(inbox.db) as session:
        auth.set_roles(session, auth.user_named(session, username), ["clinician"])
    assert queue_keys(browser.get("/").text) == []
    assert browser.get("/tasks").status_code == 403


# -- owners and time limits -------------------------------------------------------------------------------

def flag_row(db: str, flag_id: int) -> Flag:
    with session_scope(db) as session:
        flag = session.get(Flag, flag_id)
        session.expunge(flag)
        return flag


def test_a_clinician_acknowledges_contacts_and_closes_a_flag_with_who_and_how_long_recorded(inbox):
    practice = new_practice(inbox.db)
    chat = new_conversation(inbox.db, practice)
    flag_id = new_flag(inbox.db, chat, practice, "chest pain", age=5 * MINUTE)
    username = new_user(inbox.db, [practice], role="clinician")
    clinician = signed_in(inbox, username)
    (item,) = clinician.get("/queue.json").json()["items"]
    assert re.fullmatch(r"(9|10) min left \(pick up within 15 min\)", item["sla"]) and item["taken_by"] == ""
    page = clinician.get(f"/c/{chat.public_id}").text
    assert "Acknowledge this flag" in page and "pick up within 15 min, by" in page

    taken = clinician.post(f"/flag/{flag_id}/take", {"back": "conversation"})
    assert taken.headers["Location"] == f"/inbox/c/{chat.public_id}?done=acknowledged"
    stored = flag_row(inbox.db, flag_id)
    assert stored.acknowledged_by == user_id_of(inbox.db, username) and stored.acknowledged_at is not None
    (item,) = clinician.get("/queue.json").json()["items"]
    assert item["taken_by"] == username and item["sla"] == "Picked up after 5 min"
    assert item["progress"] == f"acknowledged by {username} after 5 min"

    assert clinician.post(f"/flag/{flag_id}/contacted", {"back": "conversation"}).status_code == 303
    (item,) = clinician.get("/queue.json").json()["items"]
    assert item["progress"].endswith(f"patient contacted by {username} after 5 min")
    page = clinician.get(f"/c/{chat.public_id}?done=contacted").text
    assert "Contact with the patient recorded." in page and "Acknowledge this flag" not in page

    closed = clinician.post(f"/flag/{flag_id}/resolve", {"back": "conversation"})
    assert closed.headers["Location"] == f"/inbox/c/{chat.public_id}?done=flag_closed"
    stored = flag_row(inbox.db, flag_id)
    assert stored.resolved_by == stored.contacted_by == stored.acknowledged_by == user_id_of(inbox.db, username)
    assert clinician.get("/queue.json").json()["items"] == []
    page = clinician.get(f"/c/{chat.public_id}").text
    assert f"by {username} (after 5 min)" in page and "Close this flag" not in page
    details = {action: detail for action, target, detail in audit_rows(inbox.db, username)
               if target == f"flag:{flag_id}"}
    assert details["acknowledge_flag"] == "owner after 5 min"
    assert details["contact_patient"] == "recorded after 5 min"
    assert details["resolve_flag"] == "closed after 5 min; tasks closed: 1"


def test_a_reply_by_text_records_the_contact_and_taking_over_makes_the_owner(inbox):
    y1 = practice_id(inbox.db, "Y00001")  # a practice with a script, so that a text can be sent
    chat = new_conversation(inbox.db, y1, status="active")
    flag_id = new_flag(inbox.db, chat, y1, "I feel hot and shivery", severity="soon", age=30 * MINUTE)
    username = new_user(inbox.db, [y1])
    browser = signed_in(inbox, username)
    assert browser.post(f"/c/{chat.public_id}/take").status_code == 303
    assert flag_row(inbox.db, flag_id).acknowledged_by == user_id_of(inbox.db, username)
    assert browser.post(f"/c/{chat.public_id}/reply", {"text": "Please call 111 now."}).status_code == 303
    stored = flag_row(inbox.db, flag_id)
    assert stored.contacted_by == user_id_of(inbox.db, username) and stored.resolved_at is None
    reply = [detail for action, _t, detail in audit_rows(inbox.db, username) if action == "reply"]
    assert reply[0].endswith("; flags contacted: 1")
    assert browser.post(f"/c/{chat.public_id}/resolve").status_code == 303
    assert flag_row(inbox.db, flag_id).resolved_by == user_id_of(inbox.db, username)


def test_the_flag_page_of_a_flag_without_a_conversation_shows_its_limit_and_owner(inbox):
    y1 = practice_id(inbox.db, "Y00001")
    with session_scope(inbox.db) as session:
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, from_number="+447700900997",
                                 to_number="+447700900001", body="I keep bleeding", status="processed")
        session.add(message)
        session.flush()
        flag = Flag(practice_id=y1, inbound_message_id=message.id, kind="clinical", severity="soon",
                    category="bleeding", evidence="bleeding", created_at=utcnow() - 30 * MINUTE)
        session.add(flag)
        session.flush()
        flag_id = flag.id
    username = new_user(inbox.db, [y1], role="clinician")
    browser = signed_in(inbox, username)
    page = browser.get(f"/flag/{flag_id}").text
    assert "pick up within 2 working hours, by" in page and "Take this flag" in page
    assert "1 h 30 min left (pick up within 2 working hours)" in page or "1 h 29 min left" in page
    assert browser.post(f"/flag/{flag_id}/take").headers["Location"] == f"/inbox/flag/{flag_id}?done=acknowledged"
    page = browser.get(f"/flag/{flag_id}?done=acknowledged").text
    assert "Flag taken: you are its owner." in page and f"by <strong>{username}</strong>" in page


def test_a_flag_raised_while_the_practice_was_closed_is_at_the_top_of_the_queue_until_picked_up(inbox):
    """The suite runs at a Thursday 10:30: a review from 19:00 yesterday (closed) goes above an urgent
    flag raised this morning, with its limit counted from 08:00 today; once picked up it takes its place."""
    practice = new_practice(inbox.db)  # no script: Mon-Fri 08:00-18:30
    last_night = utcnow().replace(hour=19, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    overnight = new_flag(inbox.db, new_conversation(inbox.db, practice), practice, "my husband shouts at me",
                         severity="review", kind="review", category="unsure", created=last_night)
    urgent = new_flag(inbox.db, new_conversation(inbox.db, practice), practice, "chest pain", age=5 * MINUTE)
    browser = signed_in(inbox, new_user(inbox.db, [practice], role="clinician"))
    page = browser.get("/")
    assert queue_keys(page.text) == [f"flag:{overnight}", f"flag:{urgent}"] and "out of hours" in page.text
    first = browser.get("/queue.json").json()["items"][0]
    assert first["overnight"] is True and first["label"] == "Review"
    assert re.fullmatch(r"\d+ h \d+ min left \(pick up by the end of the working day; raised out of hours, "
                        r"counted from \d\d \w{3} \d{4} 08:00\)", first["sla"]), first["sla"]
    assert browser.post(f"/flag/{overnight}/take").status_code == 303
    assert queue_keys(browser.get("/").text) == [f"flag:{urgent}", f"flag:{overnight}"]  # urgent, then review


def test_a_user_added_without_roles_is_a_coordinator_and_roles_may_be_given_as_members_or_names(settings):
    """create_user's default (StaffRole members, not names) must work: str() of a str-Enum member
    on Python 3.10 is "StaffRole.COORDINATOR", not a role name."""
    from bot.practice_script import loader as scripts
    from tests.conftest import PROJECT_ROOT, ensure_practice

    with session_scope(settings.database_url) as session:
        practice = ensure_practice(session, scripts.script_for(PROJECT_ROOT / "practices", "Y00001"))
        plain = auth.create_user(session, "plain.user", "correct horse battery staple 42", [practice])
        both = auth.create_user(session, "both.user", "correct horse battery staple 43", [practice],
                                roles=[auth.StaffRole.CLINICIAN, "coordinator"])
        assert auth.roles_of(plain) == {auth.StaffRole.COORDINATOR}
        assert auth.roles_of(both) == {auth.StaffRole.COORDINATOR, auth.StaffRole.CLINICIAN}
