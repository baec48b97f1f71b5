"""The whole journey of two newcomers, a mentee and a mentor, in two real browsers (Chromium),
with every plugin enabled: from registering to each one's certificate, then the wiki and a
group, and the credits and goals all of it earned them.

Each main page is screenshotted (to ./screenshots, for people to look at) and audited with
axe-core (from npm, node_modules/) against WCAG 2 A and AA: a serious or critical violation
fails the test, unless KNOWN_VIOLATIONS lists it with its reason.

It runs on the first database of ``--db`` only: what it checks is what the browser shows,
which the database does not change (each plugin's own tests run on both), and it takes about
a minute per width.
"""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.testing import body_of

pytestmark = pytest.mark.plugins("mentoring", "credits", "certificates", "wiki", "groups")

ROOT = Path(__file__).parents[2]
SCREENSHOTS = ROOT / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # npm install (scripts/setup)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
# The audit also covers what a member opens: the closed <details> (forms to decline, end,
# announce…) and the phone's collapsed menu are opened for it, then closed again.
AXE_RUN = """async tags => {
    const closed = [...document.querySelectorAll("details:not([open])")];
    const menu = document.querySelector(".navbar-collapse:not(.show)");
    closed.forEach(details => { details.open = true; });
    menu?.classList.add("show");
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                            resultTypes: ["violations"]});
    closed.forEach(details => { details.open = false; });
    menu?.classList.remove("show");
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        targets: v.nodes.map(node => node.target.join(" "))}));
}"""
# What the audit tolerates, each with its reason: (page, axe rule, the elements it may flag).
# (page, rule, selector pattern) of a violation that cannot be fixed, each with its reason
KNOWN_VIOLATIONS: list[tuple[str, str, re.Pattern[str]]] = []
# reduced motion: Bootstrap then skips its colour transitions, which axe would otherwise catch
# half-way (a button just clicked, fading between two colours)
BROWSER_SETTINGS = {
    "timezone_id": "America/New_York",
    "locale": "en-US",
    "reduced_motion": "reduce",
}
PASSWORD = "a long enough password"
MENTEE, MENTEE_EMAIL = "Noor Haddad", "noor@example.org"
MENTOR, MENTOR_EMAIL = "Tomás Lindqvist-Okafor", "tomas@example.org"
GROUP = "Changing careers into tech"
ARTICLE = "Preparing a first mentoring meeting"


@pytest.fixture(autouse=True)
def first_database_only(request, database_url):
    first = request.config.alma_backends[0]
    if not database_url.startswith(first):
        pytest.skip(f"the whole journey runs on the first database of --db only ({first})")


@pytest.fixture
def audits():
    """What axe found, page by page: ``audits.look(page, name)`` screenshots and audits the
    page; the test ends with ``audits.assert_accessible()``."""
    return Audits()


class Audits:
    def __init__(self) -> None:
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: install the front-end packages (npm install)")
        self.script = AXE.read_text()
        self.found: dict[str, list[str]] = {}

    def look(self, page, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(
            path=SCREENSHOTS / f"journey-{name}-{page.viewport_name}.png", full_page=True
        )
        # Evaluated through the DevTools protocol, which alma's CSP (no inline scripts) allows.
        page.evaluate(self.script)
        found = page.evaluate(AXE_RUN, AXE_TAGS)
        blocking = []
        for violation in found:
            targets = [t for t in violation["targets"] if not known(name, violation["id"], t)]
            if violation["impact"] in BLOCKING_IMPACTS and targets:
                blocking.append(
                    f"{violation['impact']} {violation['id']} ({violation['help']}): "
                    + ", ".join(targets[:8])
                )
        if blocking:
            self.found[name] = blocking

    def assert_accessible(self) -> None:
        report = "\n".join(
            f"{page}: {line}" for page, lines in self.found.items() for line in lines
        )
        assert not self.found, f"accessibility violations (axe-core, WCAG 2 A/AA):\n{report}"


def known(page_name: str, rule: str, target: str) -> bool:
    return any(
        (page_name, rule) == (page, known_rule) and elements.match(target)
        for page, known_rule, elements in KNOWN_VIOLATIONS
    )


def open_menu_on_phone(page):
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#nav.show").wait_for()


def link_in(message) -> str:
    """The site path of the first link in a received mail."""
    return re.search(r"http://alma\.test(\S+)", body_of(message)).group(1)


def the_mail(mail, address: str, subject: str):
    [message] = [m for m in mail.deliver() if address in m["To"] and subject in m["Subject"]]
    return message


def user_id_in(url: str) -> int:
    return int(re.search(r"/members/(\d+)", url).group(1))


def pdf_text(path: Path) -> str:
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return result.stdout.decode()


def run_job(app, job_id: str) -> None:
    """Run a scheduler job now, as the scheduler process would (the test server runs none)."""
    from core.scheduler import run_job
    from core.state import alma

    [job] = [job for job in alma(app).hooks.jobs() if job.id == job_id]
    run_job(app, job)


def move_into_the_past(db, meeting_id: int) -> None:
    """The meeting began two hours ago (the services only schedule what is to come)."""
    from core.db import utcnow
    from plugins.mentoring.models import Meeting

    db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(starts_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()


# ---- the steps ---------------------------------------------------------------------------


def register(page, base, mail, audits, name: str, email: str, *, look: bool) -> int:
    """Register from the home page, confirm by the mailed link; returns the member's id."""
    page.goto(base + "/")
    if look:
        audits.look(page, "home")
        page.goto(base + "/login")
        audits.look(page, "login")
        page.goto(base + "/")
    page.get_by_role("link", name="Join for free").click()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    if look:
        audits.look(page, "register")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.goto(base + link_in(the_mail(mail, email, "")))
    page.get_by_text("your e-mail address is confirmed").wait_for()
    page.goto(base + "/me")
    page.wait_for_url(re.compile(r".*/members/\d+$"))
    return user_id_in(page.url)


def fill_profile(page, base, *, bio: str, mentor: bool, topics: str, languages: list[str]):
    page.goto(base + "/me/data")
    page.get_by_label("Short bio").fill(bio)
    if mentor:
        page.get_by_label("I would like to mentor others").check()
        page.get_by_label("Topics of expertise").fill(topics)
    else:
        page.get_by_label("I am looking for a mentor").check()
        page.get_by_label("Topics of interest").fill(topics)
    for language in languages:  # the searchable pickers, as from the keyboard
        page.get_by_role("combobox", name="Languages I speak").fill(language)
        page.keyboard.press("Enter")
    page.get_by_role("combobox", name="Time zone").fill("Europe/Madrid")
    page.keyboard.press("Enter")
    # from the keyboard too: a click's mousedown blurs the open picker, and the click, seen
    # by the page as over the card, sometimes sent nothing
    page.get_by_role("button", name="Save").press("Enter")
    page.get_by_text("Your data is saved.").wait_for()


def verify_identity(mentor, base, db, mentor_id: int) -> None:
    """The mentor sends an identity document from their Mentoring area, and a coordinator
    approves it (in the console: tests/e2e/test_mentor_verification.py), so members find
    them."""
    from core.models import User
    from core.testing import TEST_PASSWORD
    from plugins.mentoring.services import verification

    mentor.goto(f"{base}/members/{mentor_id}/mentoring")
    mentor.get_by_label("Identity document").set_input_files(
        files=[{"name": "passport.png", "mimeType": "image/png", "buffer": PNG_DOCUMENT}]
    )
    mentor.get_by_role("button", name="Send for verification").click()
    mentor.get_by_text("Your identity is being checked").wait_for()
    coordinator = User(
        email="coordinator@example.org",
        display_name="Coco Ordinator",
        password_hash=TEST_PASSWORD,  # never logs in
        role="coordinator",
    )
    db.session.add(coordinator)
    db.session.flush()
    verification.approve(coordinator, mentor_id, "Passport matches the name")
    db.session.commit()


# the smallest PNG there is: one transparent pixel
PNG_DOCUMENT = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def find_and_ask(mentee, base, audits) -> int:
    """The mentee finds the mentor in the directory and sends a request; returns the
    mentorship's id."""
    mentee.goto(base + "/")
    open_menu_on_phone(mentee)
    mentee.get_by_role("link", name="Find a mentor").click()
    mentee.get_by_label("Expertise").fill("career change")
    mentee.get_by_role("button", name="Search").click()
    expect(mentee.get_by_role("link", name=MENTOR)).to_be_visible()
    audits.look(mentee, "mentor-directory")
    mentee.get_by_role("link", name=MENTOR).click()
    mentee.get_by_role("link", name=f"Ask {MENTOR} to mentor you").click()
    mentee.get_by_label("Your message").fill(
        "Hello! I am a nurse moving into software. Would you guide me through a first "
        "portfolio project and my first interviews?"
    )
    mentee.get_by_label("Topics (optional)").fill("Career change, Python")
    audits.look(mentee, "mentoring-request")
    mentee.get_by_role("button", name="Send the request").click()
    mentee.get_by_text(f"Your request is on its way to {MENTOR}.").wait_for()
    return int(re.search(r"/mentoring/(\d+)", mentee.url).group(1))


def accept_by_mail(mentor, base, mail, audits):
    request_mail = the_mail(mail, MENTOR_EMAIL, f"Mentorship request from {MENTEE}")
    mentor.goto(base + link_in(request_mail))
    mentor.get_by_role("heading", name=f"Request from {MENTEE}").wait_for()
    mentor.get_by_text("Would you guide me through a first portfolio project").wait_for()
    audits.look(mentor, "mentorship-request-mentor")
    mentor.get_by_role("button", name="Accept").click()
    mentor.get_by_text("You accepted the request. Say hello in the chat!").wait_for()


def chat_live(mentee, mentor, audits):
    """Both have the mentorship page open; what one writes appears at once at the other's."""
    mentee.reload()
    for page in (mentee, mentor):
        page.locator('#chat[data-live="true"]').wait_for(state="attached")
    say(mentee, "Thank you for accepting! Could we talk on Tuesday evening?")
    expect(mentor.locator("#chat-log .chat-theirs", has_text="talk on Tuesday")).to_be_visible()
    say(mentor, "Tuesday works. Fill in our agreement first, then schedule the meeting.")
    expect(mentee.locator("#chat-log .chat-theirs", has_text="Tuesday works.")).to_be_visible()
    expect(mentee.locator("#chat-log .chat-mine", has_text="talk on Tuesday")).to_be_visible()
    audits.look(mentee, "mentorship-chat")


def say(page, text: str):
    page.locator("#chat-form textarea").fill(text)
    page.locator("#chat-form textarea").press("Enter")
    expect(page.locator("#chat-form textarea")).to_have_value("")


def agree(mentee, mentor, base, mentorship_id: int, audits):
    """The mentee fills and sends the agreement (two meetings); the mentor approves it."""
    mentee.get_by_role("link", name="Fill in the agreement").click()
    mentee.get_by_label("Number of meetings").fill("2")
    mentee.get_by_label("How you keep in touch").fill("Video calls and the chat")
    mentee.get_by_label("How often").select_option(label="Every two weeks")
    mentee.get_by_label("Agenda for the meetings to come").fill(
        "1. A portfolio project\n2. Practice interviews"
    )
    audits.look(mentee, "agreement-form")
    mentee.get_by_role("button", name=f"Send to {MENTOR}").click()
    mentee.get_by_text(f"Sent: {MENTOR} is asked to approve it.").wait_for()

    mentor.goto(f"{base}/mentoring/{mentorship_id}")
    mentor.get_by_role("link", name="Review the agreement").click()
    mentor.get_by_text("2. Practice interviews").wait_for()
    mentor.get_by_role("button", name="Approve").click()
    mentor.get_by_text("Approved. The agreement is in force.").wait_for()
    audits.look(mentor, "agreement")
    mentor.goto(f"{base}/mentoring/{mentorship_id}")
    expect(mentor.get_by_text("active", exact=True).first).to_be_visible()


def schedule_and_approve(mentee, mentor, base, mentorship_id: int, *, final: bool) -> int:
    """The mentee schedules a meeting a week ahead; the mentor approves it. Returns its id."""
    mentee.goto(f"{base}/mentoring/{mentorship_id}")
    mentee.get_by_role("link", name="Schedule a meeting").click()
    mentee.get_by_label("Time").fill("19:00" if final else "18:00")
    mentee.get_by_label("Place or video link").fill("https://meet.example.org/noor-tomas")
    mentee.get_by_label("Agenda").fill("Wrap up and next steps" if final else "My portfolio")
    if final:
        mentee.get_by_label("This is our final meeting").check()
    mentee.get_by_role("button", name=f"Send to {MENTOR}").click()
    mentee.get_by_text(f"Sent: {MENTOR} is asked to approve the meeting.").wait_for()
    meeting_id = int(re.search(r"/meetings/(\d+)", mentee.url).group(1))

    mentor.goto(mentee.url)
    mentor.get_by_role("button", name="Approve").click()
    mentor.get_by_text("Approved: the meeting is in both your calendars.").wait_for()
    return meeting_id


def both_confirm(mentee, mentor, base, meeting_id: int):
    for page in (mentee, mentor):
        page.goto(f"{base}/mentoring/meetings/{meeting_id}")
        page.get_by_role("button", name="Yes, it took place").click()
    for page in (mentee, mentor):
        page.reload()
        page.get_by_role("heading", name="It took place").wait_for()


def give_feedback_by_mail(mentee, base, mail, app):
    run_job(app, "mentoring.meeting_feedback")
    feedback_mail = the_mail(mail, MENTEE_EMAIL, f"How was your meeting with {MENTOR}?")
    mentee.goto(base + link_in(feedback_mail))
    mentee.get_by_role("heading", name="How was your meeting?").wait_for()
    mentee.get_by_label("4", exact=True).check()
    mentee.get_by_label("Comment (optional)").fill("Very practical: I know what to build next.")
    mentee.get_by_role("button", name="Send my feedback").click()
    mentee.get_by_text("Your feedback: 4 of 5").wait_for()


def download_certificate(page, base, member_id: int, name: str):
    page.goto(f"{base}/members/{member_id}/mentoring")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    path = Path(download.value.path())
    assert path.read_bytes().startswith(b"%PDF")
    assert name.casefold() in pdf_text(path).casefold()


def group_joined_on_request(manager, member, base, audits):
    """The manager creates a group joined on request; the member asks, the manager approves
    and posts an announcement, which the member reads."""
    manager.goto(base + "/groups/")
    manager.get_by_role("link", name="Create a group").click()
    manager.get_by_label("Name").fill(GROUP)
    manager.get_by_label("Topic").fill("Career change")
    manager.get_by_label("Description").fill("For members moving into tech from other careers.")
    manager.get_by_label("How members join").select_option(label="On request: managers approve")
    manager.get_by_role("button", name="Create the group").click()
    manager.get_by_role("heading", name=GROUP).wait_for()

    member.goto(base + "/groups/")
    audits.look(member, "groups-directory")
    member.get_by_role("link", name=GROUP).click()
    member.get_by_label("Your message to the managers").fill("I am changing careers too!")
    member.get_by_role("button", name="Ask to join").click()
    member.get_by_text("The managers will answer.").wait_for()

    manager.reload()
    manager.get_by_role("link", name="Manage").click()
    manager.get_by_text("I am changing careers too!").wait_for()
    audits.look(manager, "group-manage")
    manager.get_by_role("button", name="Approve").click()
    manager.locator(".group-tabs").get_by_role("link", name="About").click()
    manager.get_by_role("textbox", name="Announcement").fill(
        "First online meetup on Thursday at 18:00."
    )
    manager.get_by_role("button", name="Post and alert the members").click()
    manager.get_by_text("First online meetup on Thursday").wait_for()

    member.reload()  # announcements are for members: the request was approved
    member.get_by_text("First online meetup on Thursday").wait_for()
    audits.look(member, "group")


def article_written_and_rated(author, reader, base, audits):
    """The author writes an article, looking at its preview first; the reader rates it."""
    author.goto(base + "/wiki/")
    audits.look(author, "wiki-index")
    author.get_by_role("link", name="Write an article").click()
    author.get_by_label("Title").fill(ARTICLE)
    author.get_by_label("Text").fill(
        "## Before you meet\n\nWrite down **three questions** you want answered."
    )
    author.get_by_role("button", name="Preview").click()
    expect(author.locator("#wiki-preview strong")).to_have_text("three questions")
    audits.look(author, "wiki-edit")
    author.get_by_role("button", name="Publish").click()
    author.get_by_role("heading", name=ARTICLE).wait_for()

    reader.goto(base + "/wiki/")
    reader.get_by_role("link", name=ARTICLE).first.click()
    reader.get_by_text("4 ★").click()
    reader.get_by_role("button", name="Rate").click()
    reader.get_by_text("You gave 4 stars").wait_for()
    audits.look(reader, "wiki-article")


def goals_and_credits_shown(page, base, member_id: int, credits: int, activity: str):
    """The Overview shows both mentoring goals completed and the credit total; the credits
    page lists the activities behind it."""
    page.goto(f"{base}/members/{member_id}")
    goals = page.locator("section", has=page.get_by_role("heading", name="Completed goals"))
    expect(goals).to_contain_text("Attended a mentoring meeting")
    expect(goals).to_contain_text("Finished a mentorship")
    expect(page.locator("[data-credit-total]")).to_have_attribute("data-credit-total", str(credits))
    page.goto(f"{base}/credits/")
    page.get_by_role("heading", name="My credits").wait_for()
    expect(page.locator("[data-credit-total]")).to_have_attribute("data-credit-total", str(credits))
    entries = page.locator(".credits-entries")
    for earned in ("Attended a mentoring meeting", "Finished a mentorship", activity):
        expect(entries).to_contain_text(earned)


# ---- the journey ---------------------------------------------------------------------------


def test_from_registering_to_certificates_wiki_groups_and_credits(
    open_page, live_server, mail, app, db, audits
):
    from plugins.mentoring.models import Mentorship

    base = live_server
    mentee, mentor = open_page(**BROWSER_SETTINGS), open_page(**BROWSER_SETTINGS)

    # ---- both register, confirm and fill their profiles ------------------------------------
    mentee_id = register(mentee, base, mail, audits, MENTEE, MENTEE_EMAIL, look=True)
    fill_profile(
        mentee,
        base,
        bio="Nurse for eight years, now learning to program.",
        mentor=False,
        topics="Python, career change",
        languages=["English", "Arabic"],
    )
    mentor_id = register(mentor, base, mail, audits, MENTOR, MENTOR_EMAIL, look=False)
    fill_profile(
        mentor,
        base,
        bio="Backend engineer; I help people moving into software from other careers.",
        mentor=True,
        topics="Career change, Python, Job interviews",
        languages=["English", "Swedish"],
    )

    verify_identity(mentor, base, db, mentor_id)

    # ---- the mentee asks; the mentor accepts from the e-mail; they chat live ---------------
    mentorship_id = find_and_ask(mentee, base, audits)
    accept_by_mail(mentor, base, mail, audits)
    chat_live(mentee, mentor, audits)
    agree(mentee, mentor, base, mentorship_id, audits)

    # ---- a first meeting: scheduled, approved, held, then feedback by the mailed link -------
    first = schedule_and_approve(mentee, mentor, base, mentorship_id, final=False)
    audits.look(mentor, "meeting")
    mentee.goto(base + "/mentoring/calendar")
    mentee.get_by_role("heading", name="My calendar").wait_for()
    audits.look(mentee, "calendar")
    move_into_the_past(db, first)
    both_confirm(mentee, mentor, base, first)
    give_feedback_by_mail(mentee, base, mail, app)
    audits.look(mentee, "meeting-held")

    # ---- the final meeting completes the mentorship; each downloads a certificate ----------
    final = schedule_and_approve(mentee, mentor, base, mentorship_id, final=True)
    move_into_the_past(db, final)
    both_confirm(mentee, mentor, base, final)
    assert db.session.get(Mentorship, mentorship_id).state == "completed"
    run_job(app, "certificates.render")
    download_certificate(mentee, base, mentee_id, MENTEE)
    download_certificate(mentor, base, mentor_id, MENTOR)
    mentor.get_by_role("link", name="Verification page").click()
    expect(mentor.locator("#main")).to_contain_text(MENTOR)
    audits.look(mentor, "certificate-verify")

    # ---- a group, then the wiki (last: its plugin is the newest) ----------------------------
    group_joined_on_request(mentor, mentee, base, audits)
    article_written_and_rated(mentee, mentor, base, audits)

    # ---- goals and credits on both profiles --------------------------------------------------
    # the mentee: the request (1), two meetings (5 each), the mentorship (50), an article (10);
    # the mentor: accepting (10), two meetings, the mentorship, a group (5), managing it
    # (approving a member, announcing: 2 each), rating an article (1)
    goals_and_credits_shown(mentee, base, mentee_id, 71, "Wrote a wiki article")
    goals_and_credits_shown(mentor, base, mentor_id, 80, "Created a group")
    audits.look(mentor, "credits")

    # ---- the mentee's profile areas, all filled now -----------------------------------------
    areas = {"overview": ARTICLE, "mentoring": "Download PDF", "groups": GROUP}
    for area, shown in areas.items():
        path = "" if area == "overview" else f"/{area}"
        mentee.goto(f"{base}/members/{mentee_id}{path}")
        expect(mentee.locator("#main")).to_contain_text(shown)
        audits.look(mentee, f"profile-{area}")
    mentee.goto(base + "/me/data")
    audits.look(mentee, "profile-my-data")
    audits.assert_accessible()
