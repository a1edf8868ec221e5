"""The coordinator inbox in a real browser: Playwright's sync API drives Debian's Chromium
(/usr/bin/chromium; Playwright's own browsers are never downloaded) against a real gateway process
on SQLite, with the twilio client sending to a Twilio-compatible fake.

Screenshots of the queue and of a conversation are saved as /tmp/inbox-queue.png and
/tmp/inbox-conversation.png for a person to look at.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import Conversation, Flag, OutboundMessage, Outcome, utcnow
from tests.helpers import wait_for
from tests.test_inbox import PASSWORD, PRACTICE_NUMBER, new_conversation, new_flag, new_practice, new_task, \
    new_user, practice_id, start_inbox, stop_inbox

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = "<script>alert(1)</script>"
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    deployment = start_inbox("sqlite", tmp_path_factory.mktemp("inbox-browser"))
    try:
        yield deployment
    finally:
        stop_inbox(deployment)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.dialogs = []  # every alert/confirm that fires: there must be none
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Page, inbox, username: str) -> None:
    page.goto(inbox.url + "/")
    expect(page).to_have_url(re.compile(r"/inbox/login$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def test_a_coordinator_picks_up_an_urgent_flag_replies_hands_back_and_resolves(inbox, page):
    y1 = practice_id(inbox.db, "Y00001")
    older_task_chat = new_conversation(inbox.db, y1, first_name="Task", since=utcnow() - 60 * MINUTE)
    new_task(inbox.db, y1, older_task_chat, age=45 * MINUTE)
    soon_chat = new_conversation(inbox.db, y1, first_name="Soon")
    soon = new_flag(inbox.db, soon_chat, y1, "I have been a bit breathless on the stairs", severity="soon",
                    category="breathing", evidence="breathless", age=30 * MINUTE)
    chat = new_conversation(inbox.db, y1, first_name="Alex", last_name="Example")
    urgent = new_flag(inbox.db, chat, y1, f"{XSS} my temperature is 38.5 and I am shivering",
                      evidence="<img src=x onerror=alert(2)> temperature is 38.5; shivering", age=3 * MINUTE)
    sign_in(page, inbox, new_user(inbox.db, [y1]))

    rows = page.locator("#queue-rows tr")
    expect(rows.first).to_have_attribute("data-key", f"flag:{urgent}")
    expect(rows.first.locator(".tag")).to_have_text("Urgent")
    expect(rows.nth(1)).to_have_attribute("data-key", f"flag:{soon}")
    expect(rows.first).to_contain_text("<img src=x onerror=alert(2)> temperature is 38.5; shivering")
    expect(rows.first.locator(".sla")).to_contain_text("min left (pick up within 15 min)")

    # The page refreshes itself: an older urgent flag arriving now goes to the top, without a reload.
    late_chat = new_conversation(inbox.db, y1, first_name="Late")
    late = new_flag(inbox.db, late_chat, y1, "sudden weakness in both legs", category="spinal_cord_compression",
                    evidence="weakness in both legs", age=8 * MINUTE)
    expect(rows.first).to_have_attribute("data-key", f"flag:{late}", timeout=15_000)
    expect(rows.nth(1)).to_have_attribute("data-key", f"flag:{urgent}")
    expect(page).to_have_title(re.compile(r"^\(2 urgent\) Coordinator inbox"))
    page.screenshot(path="/tmp/inbox-queue.png", full_page=True)

    rows.nth(1).get_by_role("link", name="Open").click()
    expect(page).to_have_url(re.compile(rf"/inbox/c/{chat.public_id}$"))
    expect(page.get_by_text(f"{XSS} my temperature is 38.5 and I am shivering")).to_be_visible()
    assert page.locator("script").count() == 0  # the patient's text added no script element

    page.get_by_role("button", name="Take over").click()
    expect(page.get_by_role("status")).to_contain_text("You have taken over this conversation")
    expect(page.get_by_text("Picked up")).to_be_visible()

    reply = "Hello Alex, this is Sam at Riverside Surgery. Please call 111 now and tell them about your temperature."
    page.get_by_label("Reply to the patient by text").fill(reply)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Your reply is queued")
    (sent,) = inbox.fake.wait_for_messages(1, to=chat.mobile)
    assert sent["body"] == reply and sent["from"] == PRACTICE_NUMBER

    def recorded() -> bool:  # the sender (another process) records Twilio's answer after the send
        with session_scope(inbox.db) as session:
            return session.scalar(select(OutboundMessage.status).where(
                OutboundMessage.to_number == chat.mobile, OutboundMessage.body == reply)) in ("sent", "delivered")
    wait_for(recorded, what="the reply's delivery status")
    page.reload()
    expect(page.locator(".msg-out").last).to_contain_text(reply)
    expect(page.locator(".msg-out").last.locator(".meta")).to_contain_text(re.compile("sent|delivered"))
    page.screenshot(path="/tmp/inbox-conversation.png", full_page=True)

    page.get_by_role("button", name="Hand back to the assistant").click()
    expect(page.get_by_role("status")).to_contain_text("Handed back to the assistant")
    expect(page.get_by_text("The assistant is answering")).to_be_visible()

    page.get_by_label("Outcome for the clinical record (optional)").select_option("informed")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_have_text("Resolved.")
    expect(page.locator("#outcomes")).to_contain_text("Informed of support (CAN005) · CANPCSUPP_COD")
    with session_scope(inbox.db) as session:
        flag = session.get(Flag, urgent)
        assert flag.acknowledged_at is not None and flag.resolved_at is not None
        conversation = session.get(Conversation, chat.id)
        assert conversation.status == "active" and conversation.assigned_user_id is None
        assert session.scalars(select(Outcome.kind).where(Outcome.conversation_id == chat.id)).all() == ["informed"]

    page.get_by_role("link", name="Back to the queue").click()
    expect(rows.first).to_have_attribute("data-key", f"flag:{late}")
    expect(page.locator(f'#queue-rows tr[data-key="flag:{urgent}"]')).to_have_count(0)
    # One more refresh by the page's script; no script ever ran from a patient's words.
    before = page.locator("#queue-updated").inner_text()
    expect(page.locator("#queue-updated")).not_to_have_text(before, timeout=15_000)
    assert page.dialogs == []


def test_hostile_text_in_the_live_queue_stays_text(inbox, page):
    y2 = practice_id(inbox.db, "Y00002")
    chat = new_conversation(inbox.db, y2, first_name="<b>Eve</b>")
    new_flag(inbox.db, chat, y2, f"{XSS} help", evidence=f"{XSS}<img src=x onerror=alert(2)>", age=MINUTE)
    sign_in(page, inbox, new_user(inbox.db, [y2]))
    first = page.locator("#queue-rows tr").first
    expect(first.locator(".evidence")).to_have_text(f"{XSS}<img src=x onerror=alert(2)>")
    before = page.locator("#queue-updated").inner_text()
    expect(page.locator("#queue-updated")).not_to_have_text(before, timeout=15_000)  # re-rendered by the script
    expect(first.locator(".evidence")).to_have_text(f"{XSS}<img src=x onerror=alert(2)>")
    assert page.locator("#queue-rows img").count() == 0 and page.locator("#queue-rows script").count() == 0
    first.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("<b>Eve</b> Smith")
    expect(page.get_by_text(f"{XSS} help")).to_be_visible()
    assert page.dialogs == []


def test_a_user_of_another_practice_sees_an_empty_queue(inbox, page):
    y1 = practice_id(inbox.db, "Y00001")
    chat = new_conversation(inbox.db, y1, first_name="Hidden")
    new_flag(inbox.db, chat, y1, "chest pain", category="chest_pain", evidence="chest pain")
    practice = new_practice(inbox.db)
    sign_in(page, inbox, new_user(inbox.db, [practice]))
    expect(page.get_by_text("Nothing is waiting.")).to_be_visible()
    expect(page.locator("#queue-table")).to_be_hidden()
    before = page.locator("#queue-updated").inner_text()
    expect(page.locator("#queue-updated")).not_to_have_text(before, timeout=15_000)  # after a refresh too
    expect(page.get_by_text("Nothing is waiting.")).to_be_visible()
    assert page.locator("#queue-rows tr").count() == 0
    response = page.goto(f"{inbox.url}/c/{chat.public_id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Hidden" not in page.content()


def test_an_administrator_resets_a_password_and_the_user_chooses_their_own(inbox, page, browser):
    """The account life cycle in Chromium: a reset ends the user's session at once, the temporary
    password leads only to "My account", a weak new password is refused with the reason, and a
    good one opens the inbox again."""
    y1 = practice_id(inbox.db, "Y00001")
    username = new_user(inbox.db, [y1])
    admin_context = browser.new_context(locale="en-GB")
    admin_page = admin_context.new_page()
    try:
        sign_in(page, inbox, username)
        sign_in(admin_page, inbox, new_user(inbox.db, [y1], role="admin"))
        admin_page.get_by_role("link", name="Users").click()
        admin_page.get_by_label(f"Temporary password for {username}").fill("velvet harbour thistle 31")
        row = admin_page.get_by_role("row").filter(has_text=username)
        row.get_by_role("button", name="Reset password").click()
        expect(admin_page.get_by_role("status")).to_contain_text("Temporary password set")
        expect(admin_page.get_by_role("row").filter(has_text=username)).to_contain_text("Must choose a new password")

        page.reload()  # the user's open session ended with the reset
        expect(page).to_have_url(re.compile(r"/inbox/login$"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("velvet harbour thistle 31")
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/inbox/account\?done=must_change$"))
        expect(page.get_by_role("status")).to_contain_text("Choose your own to go on")
        page.goto(inbox.url + "/tasks")
        expect(page).to_have_url(re.compile(r"/inbox/account\?done=must_change$"))

        page.get_by_label("Current password").fill("velvet harbour thistle 31")
        page.get_by_label("New password", exact=False).first.fill("password2026")
        page.get_by_label("New password again").fill("password2026")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("alert")).to_contain_text("too weak")

        page.get_by_label("Current password").fill("velvet harbour thistle 31")
        page.get_by_label("New password", exact=False).first.fill("marble lantern fjord 58")
        page.get_by_label("New password again").fill("marble lantern fjord 58")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status")).to_contain_text("Your password is changed")
        page.get_by_role("link", name="Queue").click()
        expect(page.get_by_role("heading", name="Queue")).to_be_visible()
        assert page.dialogs == []
    finally:
        admin_context.close()


def test_a_clinician_acknowledges_records_contact_and_closes_a_flag(inbox, page):
    """A clinician's day in Chromium: only the flags of their practice in the queue, with the time left;
    acknowledging makes them the owner, recording the contact and closing are shown with who and how
    long after, in the conversation and in the live queue; nothing else of the practice is theirs."""
    practice = new_practice(inbox.db)
    chat = new_conversation(inbox.db, practice, first_name="Robin", last_name="Example")
    flag_id = new_flag(inbox.db, chat, practice, "I have a temperature of 38.4 and feel shivery",
                       category="neutropenic_sepsis", evidence="temperature of 38.4; shivery", age=4 * MINUTE)
    new_task(inbox.db, practice, new_conversation(inbox.db, practice, first_name="Tasked"), age=30 * MINUTE)
    username = new_user(inbox.db, [practice], role="clinician")
    sign_in(page, inbox, username)

    rows = page.locator("#queue-rows tr")
    expect(rows).to_have_count(1)  # the coordinator's task is not a clinician's
    expect(rows.first).to_have_attribute("data-key", f"flag:{flag_id}")
    expect(rows.first.locator(".sla")).to_contain_text("min left (pick up within 15 min)")
    expect(page.get_by_role("link", name="Tasks")).to_have_count(0)
    rows.first.get_by_role("link", name="Open").click()
    expect(page).to_have_url(re.compile(rf"/inbox/c/{chat.public_id}$"))
    flag_box = page.locator(f"#flag-{flag_id}")
    expect(flag_box).to_contain_text("pick up within 15 min, by")

    flag_box.get_by_role("button", name="Acknowledge this flag").click()
    expect(page.get_by_role("status")).to_have_text("Flag taken: you are its owner.")
    expect(flag_box).to_contain_text(re.compile(rf"by {username} \(after [45] min\)"))
    flag_box.get_by_role("button", name="Patient contacted").click()
    expect(page.get_by_role("status")).to_have_text("Contact with the patient recorded.")
    expect(flag_box.get_by_role("button", name="Patient contacted")).to_have_count(0)

    page.get_by_role("link", name="Back to the queue").click()
    expect(rows.first.locator(".sla")).to_have_text(re.compile(r"Picked up after [45] min"))
    expect(rows.first.locator(".taken")).to_contain_text(
        re.compile(rf"{username}acknowledged by {username} after [45] min; patient contacted by {username} after"))
    before = page.locator("#queue-updated").inner_text()
    expect(page.locator("#queue-updated")).not_to_have_text(before, timeout=15_000)  # the live refresh keeps it
    expect(rows.first.locator(".taken")).to_contain_text(f"patient contacted by {username}")
    page.screenshot(path="/tmp/inbox-clinician-queue.png", full_page=True)

    rows.first.get_by_role("link", name="Open").click()
    flag_box.get_by_role("button", name="Close this flag").click()
    expect(page.get_by_role("status")).to_have_text("Flag closed.")
    expect(flag_box).to_contain_text(re.compile(rf"Closed.*by {username} \(after [45] min\)", re.S))
    expect(flag_box.get_by_role("button")).to_have_count(0)
    page.screenshot(path="/tmp/inbox-clinician-flag.png", full_page=True)
    page.get_by_role("link", name="Back to the queue").click()
    expect(page.get_by_text("Nothing is waiting.")).to_be_visible()
    with session_scope(inbox.db) as session:
        flag = session.get(Flag, flag_id)
        owner = flag.acknowledged_by
        assert owner is not None and flag.contacted_by == owner and flag.resolved_by == owner
        assert flag.acknowledged_at <= flag.contacted_at <= flag.resolved_at
    assert page.dialogs == []
