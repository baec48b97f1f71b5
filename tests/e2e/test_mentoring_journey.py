"""A mentee finds a mentor, asks, and the pair chats live, in two real browsers (Chromium), on
desktop and phone widths: one browser context for the mentee, one for the mentor.

With ``ALMA_SCREENSHOTS=dir`` the mentoring pages are also saved there as PNGs, for people to
look at.
"""

import re
from functools import partial

import pytest
from playwright.sync_api import expect

from core.models import User
from core.testing import TEST_PASSWORD, body_of, in_unit_of_work, open_menu_on_phone, screenshot

pytestmark = pytest.mark.plugins("mentoring")

# The browser's clock is in New York, the members' profiles say Madrid: times must follow the
# profile, both when the server renders them and when the script does.
BROWSER_SETTINGS = {"timezone_id": "America/New_York", "locale": "en-US"}
MENTOR = "Adaeze Okonkwo-Villanueva de la Fuente Castellanos"  # long names must fit a phone
MENTEE = "Sam Lee"
# What the pair says next (alternately, the mentee first): enough for the chat to scroll.
CONVERSATION = [
    "I pushed my portfolio project to GitHub last night.",
    "Great, I will read it before Tuesday.",
    "Should I write tests first or finish the features?",
    "A few tests for the parts you are unsure of; then features.",
    "Which testing library would you use?",
    "pytest. Start with one test per function you fear changing.",
    "Thanks! And for interviews, where do I start?",
    "Practise explaining one project end to end, out loud.",
]


def log_in(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/members/\d+$"))


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def chat_input(page):
    return page.locator("#chat-form textarea")


def scrolled_to_end(log) -> bool:
    return log.evaluate("log => log.scrollHeight - log.scrollTop - log.clientHeight < 2")


def wait_until_live(page):
    """The chat's script has joined the pair's room: what the other writes now shows here."""
    page.locator('#chat[data-live="true"]').wait_for(state="attached")


@pytest.fixture
def members(db, create_user):
    from core.services.profiles import update_profile
    from plugins.mentoring.choices import LOOKS, OFFERS, choose
    from plugins.mentoring.services.verification import mark_verified

    def profile(user, bio, expertise, languages, mentor):
        update_profile(
            user,
            display_name=user.display_name,
            bio=bio,
            timezone="Europe/Madrid",
            locale=None,
            expertise=expertise,
            interests=[] if mentor else ["Python", "career change"],
            languages=languages,
        )
        choose(user, OFFERS, mentor)
        choose(user, LOOKS, not mentor)
        if mentor:
            mark_verified(user)  # as a coordinator would: tests/e2e/test_mentor_verification.py
        return user

    mentor = profile(
        create_user(email="adaeze@example.org", display_name=MENTOR),
        "Backend engineer for twelve years; I help people moving into software from other "
        "careers, with code reviews, portfolio projects and practice interviews.",
        ["Python", "Career change", "Job interviews"],
        ["en", "es"],
        mentor=True,
    )
    profile(
        create_user(email="lin@example.org", display_name="Lin Chen"),
        "Product designer.",
        ["UX research", "Design systems"],
        ["en", "zh"],
        mentor=True,
    )
    profile(
        create_user(email="omar@example.org", display_name="Omar Haddad"),
        "Data scientist who likes teaching statistics to beginners.",
        ["Python", "Statistics"],
        ["en", "ar"],
        mentor=True,
    )
    mentee = profile(
        create_user(email="sam@example.org", display_name=MENTEE),
        "Teacher becoming a developer.",
        [],
        ["en"],
        mentor=False,
    )
    db.session.commit()
    return mentee, mentor


def test_a_mentee_finds_a_mentor_they_chat_live_and_one_ends_it(
    open_page, live_server, mail, members, app, db
):
    from plugins.mentoring.services import chat

    mentee_user, mentor_user = members

    # ---- the mentee finds a mentor and asks -------------------------------------------------
    mentee = open_page(**BROWSER_SETTINGS)
    log_in(mentee, live_server, "sam@example.org")
    open_menu_on_phone(mentee)
    mentee.get_by_role("link", name="Find a mentor").click()
    mentee.get_by_role("heading", name="Find a mentor").wait_for()
    mentee.get_by_label("Expertise").fill("python")
    mentee.get_by_role("button", name="Search").click()
    mentee.wait_for_url(re.compile(r".*topic=python.*"))
    expect(mentee.get_by_role("link", name=MENTOR)).to_be_visible()
    expect(mentee.get_by_role("link", name="Omar Haddad")).to_be_visible()
    expect(mentee.get_by_role("link", name="Lin Chen")).to_have_count(0)
    assert fits_the_width(mentee)
    screenshot(mentee, "mentoring-directory")

    mentee.get_by_label("Expertise").fill("knitting")
    mentee.get_by_role("button", name="Search").click()
    mentee.get_by_text("No mentor matches this search.").wait_for()
    screenshot(mentee, "mentoring-directory-empty")
    mentee.go_back()

    mentee.get_by_role("link", name=MENTOR).click()
    mentee.get_by_role("heading", name=MENTOR).wait_for()
    assert fits_the_width(mentee)
    screenshot(mentee, "mentoring-mentor-profile")
    mentee.get_by_role("link", name=f"Ask {MENTOR} to mentor you").click()

    mentee.get_by_label("Your message").fill(
        "Hello! I teach maths and am moving into software development. I would love your "
        "guidance on my first portfolio project and on preparing for interviews."
    )
    mentee.get_by_label("Topics (optional)").fill("Python, job interviews")
    assert fits_the_width(mentee)
    screenshot(mentee, "mentoring-request")
    mentee.get_by_role("button", name="Send the request").click()
    mentee.get_by_text(f"Your request is on its way to {MENTOR}.").wait_for()
    mentee.get_by_text(f"Waiting for {MENTOR} to answer.").wait_for()
    expect(mentee.locator("#chat")).to_have_count(0)
    screenshot(mentee, "mentoring-pending-mentee")

    # ---- the mentor gets the e-mail, follows its link and accepts ----------------------------
    mentor = open_page(**BROWSER_SETTINGS)
    log_in(mentor, live_server, "adaeze@example.org")
    [request_mail] = [m for m in mail.deliver() if "adaeze@example.org" in m["To"]]
    assert request_mail["Subject"] == f"Mentorship request from {MENTEE}"
    link = re.search(r"http://alma\.test(\S+)", body_of(request_mail)).group(1)
    mentor.goto(live_server + link)
    mentor.get_by_role("heading", name=f"Request from {MENTEE}").wait_for()
    mentor.get_by_text("I teach maths and am moving into software").wait_for()
    mentor.get_by_text("Python, job interviews").wait_for()
    assert fits_the_width(mentor)
    screenshot(mentor, "mentoring-pending-mentor")
    expect(mentee.locator("#alert-count")).to_have_text("0")
    mentor.get_by_role("button", name="Accept").click()
    mentor.get_by_text("You accepted the request. Say hello in the chat!").wait_for()
    # The mentee's open page hears of it at once: their alert count rises without a reload.
    expect(mentee.locator("#alert-count")).to_have_text("1")
    mentor.get_by_text("No messages yet.").wait_for()

    # ---- both open the mentorship page; the chat is live both ways ---------------------------
    mentee.reload()
    mentee.get_by_text("accepted: getting to know each other").first.wait_for()
    wait_until_live(mentee)
    wait_until_live(mentor)

    chat_input(mentee).fill("Thank you for accepting! Could we talk on Tuesday evening?")
    chat_input(mentee).press("Enter")
    chat_input(mentee).press("Enter")  # impatient: still one message
    expect(chat_input(mentee)).to_have_value("")
    hello = mentor.locator("#chat-log .chat-theirs", has_text="Could we talk on Tuesday")
    expect(hello).to_be_visible()
    expect(hello).to_have_count(1)
    expect(mentee.locator("#chat-log .chat-mine", has_text="Could we talk")).to_be_visible()
    expect(mentor.locator("#chat-empty")).to_have_count(0)
    expect(hello).to_contain_text(MENTEE)

    # Shift+Enter is a new line in the same message; text is text, never markup.
    chat_input(mentor).fill("Tuesday works. <b>Before</b> we talk, read this:")
    chat_input(mentor).press("Shift+Enter")
    chat_input(mentor).press_sequentially("https://example.org/first-talk.")
    chat_input(mentor).press("Enter")
    reply = mentee.locator("#chat-log .chat-theirs", has_text="Tuesday works.")
    expect(reply).to_be_visible()
    expect(reply).to_contain_text("<b>Before</b> we talk, read this:")
    link = reply.get_by_role("link", name="https://example.org/first-talk")
    expect(link).to_have_attribute("href", "https://example.org/first-talk")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile("noopener"))
    expect(reply.locator("b")).to_have_count(0)
    expect(reply.locator(".chat-body")).to_have_text(re.compile("\n"), use_inner_text=True)

    # A live message shows its time as the server shows it: in the member's own time zone.
    live_time = reply.locator("time").inner_text()
    mentee.reload()
    wait_until_live(mentee)
    reply = mentee.locator("#chat-log .chat-theirs", has_text="Tuesday works.")
    expect(reply.locator("time")).to_have_text(" ".join(live_time.split()), use_inner_text=True)
    expect(reply.get_by_role("link", name="https://example.org/first-talk")).to_be_visible()

    # ---- a long conversation scrolls inside the chat; older messages load on demand ----------
    # 32 more messages at once, as fast as the server takes them: both pages show them live
    # (and tell the server they were read once per burst, not 32 times at the same instant).
    mentorship_id = int(re.search(r"/mentoring/(\d+)", mentee.url).group(1))

    def send(sender_id: int, text: str) -> None:
        chat.post_message(mentorship_id, db.session.get_one(User, sender_id), text)

    for number in range(32):
        sender = mentee_user if number % 2 == 0 else mentor_user
        in_unit_of_work(app, partial(send, sender.id, CONVERSATION[number % len(CONVERSATION)]))
    log = mentee.locator("#chat-log")
    for page in (mentee, mentor):
        expect(page.locator("#chat-log [data-id]")).to_have_count(34)
    mentee.reload()
    wait_until_live(mentee)
    expect(log.locator("[data-id]")).to_have_count(30)  # a page of history, the newest last
    assert scrolled_to_end(log)
    mentee.get_by_role("link", name="Older messages").click()
    expect(log.locator("[data-id]")).to_have_count(34)
    expect(mentee.get_by_role("link", name="Older messages")).to_have_count(0)
    expect(log.locator("[data-id]").first).to_contain_text("Could we talk on Tuesday")
    # Reading back, a new message does not pull the view down; writing one does.
    log.evaluate("log => { log.scrollTop = 0; }")
    chat_input(mentor).fill("Also: bring one question you find hard.")
    chat_input(mentor).press("Enter")
    expect(log.locator("[data-id]")).to_have_count(35)
    assert log.evaluate("log => log.scrollTop") == 0
    chat_input(mentee).fill("Will do. Thank you!")
    chat_input(mentee).press("Enter")
    expect(log.locator("[data-id]")).to_have_count(36)
    expect(log.locator("[data-id]").last).to_contain_text("Will do. Thank you!")
    assert scrolled_to_end(log)
    assert fits_the_width(mentee)
    screenshot(mentee, "mentoring-chat")

    # ---- the navigation badge counts what the mentor has not read yet, on any page -----------
    mentor.reload()  # all read (leaving at the very instant a message comes may leave it unread)
    mentor.goto(live_server + "/me")  # a page of core's, which has no chat on it
    badge = mentor.locator('[data-nav-badge="mentoring.index"]')
    expect(badge).to_be_hidden()
    mentor.locator("body[data-live]").wait_for(state="attached")
    chat_input(mentee).fill("See you Tuesday!")
    chat_input(mentee).press("Enter")
    open_menu_on_phone(mentor)
    expect(badge).to_have_text("1")
    expect(badge).to_be_visible()
    mentor.get_by_role("link", name="My mentorships").click()
    mentor.get_by_role("heading", name="My mentorships").wait_for()
    open_menu_on_phone(mentor)
    expect(badge).to_have_text("1")
    screenshot(mentor, "mentoring-index")
    mentor.get_by_role("link", name=MENTEE).click()
    mentor.get_by_text("See you Tuesday!").wait_for()
    expect(badge).to_be_hidden()
    wait_until_live(mentor)
    assert fits_the_width(mentor)
    screenshot(mentor, "mentoring-chat-mentor")

    # ---- the mentee ends it; the chat closes for both, its history stays ---------------------
    mentee.on("dialog", lambda dialog: dialog.accept())
    mentee.get_by_text("End this mentorship").click()
    mentee.get_by_label("Why are you ending the mentorship?").fill(
        "Thank you! I realise I need a mentor in data science instead."
    )
    mentee.get_by_role("button", name="End the mentorship").click()
    mentee.get_by_text("The mentorship has ended.", exact=True).wait_for()
    mentee.get_by_text("You ended this mentorship early.").wait_for()
    expect(mentee.get_by_role("link", name="Find another mentor")).to_be_visible()
    # The mentor's page, opened before, closes its chat at once (a message being written stays,
    # to copy); reloaded, it shows the end.
    expect(mentor.locator("#chat-closed")).to_contain_text("Reload the page to see how it ended")
    expect(chat_input(mentor)).not_to_be_editable()
    expect(mentor.locator("#chat-form button[type=submit]")).to_be_disabled()
    mentor.reload()
    mentor.get_by_text(f"{MENTEE} ended this mentorship early.").wait_for()
    mentor.get_by_text("I realise I need a mentor in data science instead.").first.wait_for()
    for page in (mentee, mentor):
        expect(page.locator("#chat-closed")).to_contain_text("This chat is closed")
        expect(page.locator("#chat-form")).to_have_count(0)
        expect(page.locator("#chat-log")).to_contain_text("See you Tuesday!")
        expect(page.locator("#chat-log")).to_have_text(re.compile("\n"), use_inner_text=True)
        expect(page.get_by_text("ended early").first).to_be_visible()
        assert fits_the_width(page)
    screenshot(mentor, "mentoring-ended")
