"""The whole journey of two newcomers, a mentee and a mentor, in two real browsers (Chromium),
with every plugin enabled: from registering to each one's certificate, then the wiki and a
group, and the credits and goals all of it earned them.

It runs once in English and once in German: two newcomers whose browsers ask for German
register on German pages, so the site speaks German to them (pages, mails, alerts, the
certificate). What the test looks for on a page is the English message translated by the
catalogs the app reads (``words``), so the same steps walk both.

Each main page is audited with axe-core (from npm, node_modules/) against WCAG 2 A and AA: a
serious or critical violation fails the test, unless KNOWN_VIOLATIONS lists it with its reason.
With ``ALMA_SCREENSHOTS=dir`` each is also saved there as a PNG, for people to look at (the
German ones beside the English, named ``journey-de-…``).

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
from babel import Locale
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import update

from core.testing import body_of, open_menu_on_phone, run_job, screenshot

pytestmark = pytest.mark.plugins("mentoring", "credits", "certificates", "wiki", "groups")

ROOT = Path(__file__).parents[2]
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
BROWSER_SETTINGS = {"timezone_id": "America/New_York", "reduced_motion": "reduce"}
# each language of the journey, with the language its browsers ask for
BROWSER_LOCALES = {"en": "en-US", "de": "de-DE"}
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


@pytest.fixture(params=list(BROWSER_LOCALES))
def language(request) -> str:
    return request.param


@pytest.fixture
def audits(language):
    """What axe found, page by page: ``audits.look(page, name)`` screenshots and audits the
    page; the test ends with ``audits.assert_accessible()``."""
    return Audits(language)


@pytest.fixture
def words(app, language):
    return Words(app, language)


class Words:
    """What the pages say in the journey's language: ``words("Send to %(name)s",
    name=MENTOR)`` is that message as the app translates it. Each must be a message the code
    marks (in a part's .pot), so that a reworded one fails here, not as a missing button."""

    MESSAGES = frozenset(
        message.id if isinstance(message.id, str) else message.id[0]
        for pot in [ROOT / "core", *ROOT.glob("plugins/*")]
        if (pot / "translations" / "messages.pot").is_file()
        for message in read_po((pot / "translations" / "messages.pot").open("rb"))
        if message.id
    )

    def __init__(self, app, language: str) -> None:
        self.app, self.code = app, language

    def __call__(self, message: str, **values) -> str:
        assert message in self.MESSAGES, f"no message {message!r} in any part's .pot"
        with self.app.test_request_context(), force_locale(self.code):
            return gettext(message, **values)

    def pattern(self, message: str) -> re.Pattern[str]:
        """The translated message with any text where its placeholders stand."""
        parts = re.split(r"%\(\w+\)[sd]", self(message))
        return re.compile(".+".join(re.escape(part) for part in parts))

    def language(self, code: str) -> str:
        """A language's name as the pickers list it, in the journey's language."""
        return Locale.parse(self.code).languages[code]


class Audits:
    def __init__(self, language: str) -> None:
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: install the front-end packages (npm install)")
        self.script = AXE.read_text()
        self.found: dict[str, list[str]] = {}
        # the English screenshots keep their names; the others carry their language's
        self.prefix = "journey" if language == "en" else f"journey-{language}"

    def look(self, page, name: str) -> None:
        screenshot(page, f"{self.prefix}-{name}")
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


def register(page, base, words, mail, audits, name: str, email: str, *, look: bool) -> int:
    """Register from the home page, confirm by the mailed link; returns the member's id."""
    page.goto(base + "/")
    if look:
        audits.look(page, "home")
        page.goto(base + "/login")
        audits.look(page, "login")
        page.goto(base + "/")
    page.get_by_role("link", name=words("Join for free")).click()
    page.get_by_label(words("Your name")).fill(name)
    page.get_by_label(words("E-mail address")).fill(email)
    page.get_by_label(words("Password")).fill(PASSWORD)
    if look:
        audits.look(page, "register")
    page.get_by_role("button", name=words("Create my account")).click()
    page.get_by_role("heading", name=words("Check your inbox")).wait_for()
    page.goto(base + link_in(the_mail(mail, email, "")))
    page.get_by_text(words("Thank you, your e-mail address is confirmed.")).wait_for()
    page.goto(base + "/me")
    page.wait_for_url(re.compile(r".*/members/\d+$"))
    return user_id_in(page.url)


def fill_profile(page, base, words, *, bio: str, mentor: bool, topics: str, languages: list[str]):
    page.goto(base + "/me/data")
    page.get_by_label(words("Short bio")).fill(bio)
    if mentor:
        page.get_by_label(words("I would like to mentor others")).check()
        page.get_by_label(words("Topics of expertise")).fill(topics)
    else:
        page.get_by_label(words("I am looking for a mentor")).check()
        page.get_by_label(words("Topics of interest")).fill(topics)
    for code in languages:  # the searchable pickers, as from the keyboard
        page.get_by_role("combobox", name=words("Languages I speak")).fill(words.language(code))
        page.keyboard.press("Enter")
    page.get_by_role("combobox", name=words("Time zone")).fill("Europe/Madrid")
    page.keyboard.press("Enter")
    # from the keyboard too: a click's mousedown blurs the open picker, and the click, seen
    # by the page as over the card, sometimes sent nothing
    page.get_by_role("button", name=words("Save")).press("Enter")
    page.get_by_text(words("Your data is saved.")).wait_for()


def verify_identity(mentor, base, words, db, mentor_id: int) -> None:
    """The mentor sends an identity document from their Mentoring area, and a coordinator
    approves it (in the console: tests/e2e/test_mentor_verification.py), so members find
    them."""
    from core.models import User
    from core.testing import TEST_PASSWORD
    from plugins.mentoring.services import verification

    mentor.goto(f"{base}/members/{mentor_id}/mentoring")
    mentor.get_by_label(words("Identity document")).set_input_files(
        files=[{"name": "passport.png", "mimeType": "image/png", "buffer": PNG_DOCUMENT}]
    )
    mentor.get_by_role("button", name=words("Send for verification")).click()
    mentor.get_by_text(words("Your identity is being checked")).wait_for()
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


def find_and_ask(mentee, base, words, audits) -> int:
    """The mentee finds the mentor in the directory and sends a request; returns the
    mentorship's id."""
    mentee.goto(base + "/")
    open_menu_on_phone(mentee)
    mentee.get_by_role("link", name=words("Find a mentor")).click()
    mentee.get_by_label(words("Expertise")).fill("career change")
    mentee.get_by_role("button", name=words("Search")).click()
    expect(mentee.get_by_role("link", name=MENTOR)).to_be_visible()
    audits.look(mentee, "mentor-directory")
    mentee.get_by_role("link", name=MENTOR).click()
    mentee.get_by_role("link", name=words("Ask %(name)s to mentor you", name=MENTOR)).click()
    mentee.get_by_label(words("Your message")).fill(
        "Hello! I am a nurse moving into software. Would you guide me through a first "
        "portfolio project and my first interviews?"
    )
    mentee.get_by_label(words("Topics (optional)")).fill("Career change, Python")
    audits.look(mentee, "mentoring-request")
    mentee.get_by_role("button", name=words("Send the request")).click()
    mentee.get_by_text(words("Your request is on its way to %(name)s.", name=MENTOR)).wait_for()
    return int(re.search(r"/mentoring/(\d+)", mentee.url).group(1))


def accept_by_mail(mentor, base, words, mail, audits):
    request_mail = the_mail(
        mail, MENTOR_EMAIL, words("Mentorship request from %(name)s", name=MENTEE)
    )
    mentor.goto(base + link_in(request_mail))
    mentor.get_by_role("heading", name=words("Request from %(name)s", name=MENTEE)).wait_for()
    mentor.get_by_text("Would you guide me through a first portfolio project").wait_for()
    audits.look(mentor, "mentorship-request-mentor")
    mentor.get_by_role("button", name=words("Accept")).click()
    mentor.get_by_text(words("You accepted the request. Say hello in the chat!")).wait_for()


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


def agree(mentee, mentor, base, words, mentorship_id: int, audits):
    """The mentee fills and sends the agreement (two meetings); the mentor approves it."""
    mentee.get_by_role("link", name=words("Fill in the agreement")).click()
    mentee.get_by_label(words("Number of meetings")).fill("2")
    mentee.get_by_label(words("How you keep in touch")).fill("Video calls and the chat")
    mentee.get_by_label(words("How often")).select_option(label=words("Every two weeks"))
    mentee.get_by_label(words("Agenda for the meetings to come")).fill(
        "1. A portfolio project\n2. Practice interviews"
    )
    audits.look(mentee, "agreement-form")
    mentee.get_by_role("button", name=words("Send to %(name)s", name=MENTOR)).click()
    mentee.get_by_text(words("Sent: %(name)s is asked to approve it.", name=MENTOR)).wait_for()

    mentor.goto(f"{base}/mentoring/{mentorship_id}")
    mentor.get_by_role("link", name=words("Review the agreement")).click()
    mentor.get_by_text("2. Practice interviews").wait_for()
    mentor.get_by_role("button", name=words("Approve")).click()
    mentor.get_by_text(words("Approved. The agreement is in force.")).wait_for()
    audits.look(mentor, "agreement")
    mentor.goto(f"{base}/mentoring/{mentorship_id}")
    expect(mentor.get_by_text(words("active"), exact=True).first).to_be_visible()


def schedule_and_approve(mentee, mentor, base, words, mentorship_id: int, *, final: bool) -> int:
    """The mentee schedules a meeting a week ahead; the mentor approves it. Returns its id."""
    mentee.goto(f"{base}/mentoring/{mentorship_id}")
    mentee.get_by_role("link", name=words("Schedule a meeting")).click()
    mentee.get_by_label(words("Time")).fill("19:00" if final else "18:00")
    mentee.get_by_label(words("Place or video link")).fill("https://meet.example.org/noor-tomas")
    mentee.get_by_label(words("Agenda")).fill("Wrap up and next steps" if final else "My portfolio")
    if final:
        mentee.get_by_label(words("This is our final meeting")).check()
    mentee.get_by_role("button", name=words("Send to %(name)s", name=MENTOR)).click()
    mentee.get_by_text(
        words("Sent: %(name)s is asked to approve the meeting.", name=MENTOR)
    ).wait_for()
    meeting_id = int(re.search(r"/meetings/(\d+)", mentee.url).group(1))

    mentor.goto(mentee.url)
    mentor.get_by_role("button", name=words("Approve")).click()
    mentor.get_by_text(words("Approved: the meeting is in both your calendars.")).wait_for()
    return meeting_id


def both_confirm(mentee, mentor, base, words, meeting_id: int):
    for page in (mentee, mentor):
        page.goto(f"{base}/mentoring/meetings/{meeting_id}")
        page.get_by_role("button", name=words("Yes, it took place")).click()
    for page in (mentee, mentor):
        page.reload()
        page.get_by_role("heading", name=words("It took place")).wait_for()


def give_feedback_by_mail(mentee, base, words, mail, app):
    run_job(app, "mentoring.meeting_feedback")
    feedback_mail = the_mail(
        mail, MENTEE_EMAIL, words("How was your meeting with %(name)s?", name=MENTOR)
    )
    mentee.goto(base + link_in(feedback_mail))
    mentee.get_by_role("heading", name=words("How was your meeting?")).wait_for()
    mentee.get_by_label("4", exact=True).check()
    mentee.get_by_label(words("Comment (optional)")).fill(
        "Very practical: I know what to build next."
    )
    mentee.get_by_role("button", name=words("Send my feedback")).click()
    mentee.get_by_text(words("Your feedback: %(n)d of 5", n=4)).wait_for()


def download_certificate(page, base, words, member_id: int, name: str):
    page.goto(f"{base}/members/{member_id}/mentoring")
    with page.expect_download() as download:
        page.get_by_role("link", name=words("Download PDF")).click()
    path = Path(download.value.path())
    assert path.read_bytes().startswith(b"%PDF")
    assert name.casefold() in pdf_text(path).casefold()


def group_joined_on_request(manager, member, base, words, audits):
    """The manager creates a group joined on request; the member asks, the manager approves
    and posts an announcement, which the member reads."""
    manager.goto(base + "/groups/")
    manager.get_by_role("link", name=words("Create a group")).click()
    manager.get_by_label(words("Name")).fill(GROUP)
    manager.get_by_label(words("Topic")).fill("Career change")
    manager.get_by_label(words("Description")).fill(
        "For members moving into tech from other careers."
    )
    manager.get_by_label(words("How members join")).select_option(
        label=words("On request: managers approve")
    )
    manager.get_by_role("button", name=words("Create the group")).click()
    manager.get_by_role("heading", name=GROUP).wait_for()

    member.goto(base + "/groups/")
    audits.look(member, "groups-directory")
    member.get_by_role("link", name=GROUP).click()
    member.get_by_label(words("Your message to the managers")).fill("I am changing careers too!")
    member.get_by_role("button", name=words("Ask to join")).click()
    member.get_by_text(
        words.pattern("You asked to join on %(date)s. The managers will answer.")
    ).wait_for()

    manager.reload()
    manager.get_by_role("link", name=words("Manage")).click()
    manager.get_by_text("I am changing careers too!").wait_for()
    audits.look(manager, "group-manage")
    manager.get_by_role("button", name=words("Approve")).click()
    manager.locator(".group-tabs").get_by_role("link", name=words("About")).click()
    manager.get_by_role("textbox", name=words("Announcement")).fill(
        "First online meetup on Thursday at 18:00."
    )
    manager.get_by_role("button", name=words("Post and alert the members")).click()
    manager.get_by_text("First online meetup on Thursday").wait_for()

    member.reload()  # announcements are for members: the request was approved
    member.get_by_text("First online meetup on Thursday").wait_for()
    audits.look(member, "group")


def article_written_and_rated(author, reader, base, words, audits):
    """The author writes an article, looking at its preview first; the reader rates it."""
    author.goto(base + "/wiki/")
    audits.look(author, "wiki-index")
    author.get_by_role("link", name=words("Write an article"), exact=True).click()
    author.get_by_label(words("Title")).fill(ARTICLE)
    author.get_by_label(words("Text")).fill(
        "## Before you meet\n\nWrite down **three questions** you want answered."
    )
    author.get_by_role("button", name=words("Preview")).click()
    expect(author.locator("#wiki-preview strong")).to_have_text("three questions")
    audits.look(author, "wiki-edit")
    author.get_by_role("button", name=words("Publish")).click()
    author.get_by_role("heading", name=ARTICLE).wait_for()

    reader.goto(base + "/wiki/")
    reader.get_by_role("link", name=ARTICLE).first.click()
    reader.get_by_text("4 ★").click()
    reader.get_by_role("button", name=words("Rate")).click()
    reader.get_by_text(words.pattern("You gave %(n)d stars; change your rating:")).wait_for()
    audits.look(reader, "wiki-article")


def goals_and_credits_shown(page, base, words, member_id: int, credits: int, activity: str):
    """The Overview shows both mentoring goals completed and the credit total; the credits
    page lists the activities behind it."""
    page.goto(f"{base}/members/{member_id}")
    goals = page.locator("section", has=page.get_by_role("heading", name=words("Completed goals")))
    expect(goals).to_contain_text(words("Attended a mentoring meeting"))
    expect(goals).to_contain_text(words("Finished a mentorship"))
    expect(page.locator("[data-credit-total]")).to_have_attribute("data-credit-total", str(credits))
    page.goto(f"{base}/credits/")
    page.get_by_role("heading", name=words("My credits")).wait_for()
    expect(page.locator("[data-credit-total]")).to_have_attribute("data-credit-total", str(credits))
    entries = page.locator(".credits-entries")
    for earned in (
        words("Attended a mentoring meeting"),
        words("Finished a mentorship"),
        activity,
    ):
        expect(entries).to_contain_text(earned)


# ---- the journey ---------------------------------------------------------------------------


def test_from_registering_to_certificates_wiki_groups_and_credits(
    open_page, live_server, mail, app, db, audits, words, language
):
    from plugins.mentoring.models import Mentorship

    base = live_server
    browser = BROWSER_SETTINGS | {"locale": BROWSER_LOCALES[language]}
    mentee, mentor = open_page(**browser), open_page(**browser)

    # ---- both register, confirm and fill their profiles ------------------------------------
    mentee_id = register(mentee, base, words, mail, audits, MENTEE, MENTEE_EMAIL, look=True)
    fill_profile(
        mentee,
        base,
        words,
        bio="Nurse for eight years, now learning to program.",
        mentor=False,
        topics="Python, career change",
        languages=["en", "ar"],
    )
    mentor_id = register(mentor, base, words, mail, audits, MENTOR, MENTOR_EMAIL, look=False)
    fill_profile(
        mentor,
        base,
        words,
        bio="Backend engineer; I help people moving into software from other careers.",
        mentor=True,
        topics="Career change, Python, Job interviews",
        languages=["en", "sv"],
    )

    verify_identity(mentor, base, words, db, mentor_id)

    # ---- the mentee asks; the mentor accepts from the e-mail; they chat live ---------------
    mentorship_id = find_and_ask(mentee, base, words, audits)
    accept_by_mail(mentor, base, words, mail, audits)
    chat_live(mentee, mentor, audits)
    agree(mentee, mentor, base, words, mentorship_id, audits)

    # ---- a first meeting: scheduled, approved, held, then feedback by the mailed link -------
    first = schedule_and_approve(mentee, mentor, base, words, mentorship_id, final=False)
    audits.look(mentor, "meeting")
    mentee.goto(base + "/mentoring/calendar")
    mentee.get_by_role("heading", name=words("My calendar")).wait_for()
    audits.look(mentee, "calendar")
    move_into_the_past(db, first)
    both_confirm(mentee, mentor, base, words, first)
    give_feedback_by_mail(mentee, base, words, mail, app)
    audits.look(mentee, "meeting-held")

    # ---- the final meeting completes the mentorship; each downloads a certificate ----------
    final = schedule_and_approve(mentee, mentor, base, words, mentorship_id, final=True)
    move_into_the_past(db, final)
    both_confirm(mentee, mentor, base, words, final)
    assert db.session.get(Mentorship, mentorship_id).state == "completed"
    run_job(app, "certificates.render")
    download_certificate(mentee, base, words, mentee_id, MENTEE)
    download_certificate(mentor, base, words, mentor_id, MENTOR)
    mentor.get_by_role("link", name=words("Verification page")).click()
    expect(mentor.locator("#main")).to_contain_text(MENTOR)
    audits.look(mentor, "certificate-verify")

    # ---- a group, then the wiki (last: its plugin is the newest) ----------------------------
    group_joined_on_request(mentor, mentee, base, words, audits)
    article_written_and_rated(mentee, mentor, base, words, audits)

    # ---- goals and credits on both profiles --------------------------------------------------
    # the mentee: the request (1), two meetings (5 each), the mentorship (50), an article (10);
    # the mentor: accepting (10), two meetings, the mentorship, a group (5), managing it
    # (approving a member, announcing: 2 each), rating an article (1)
    goals_and_credits_shown(mentee, base, words, mentee_id, 71, words("Wrote a wiki article"))
    goals_and_credits_shown(mentor, base, words, mentor_id, 80, words("Created a group"))
    audits.look(mentor, "credits")

    # ---- the mentee's profile areas, all filled now -----------------------------------------
    areas = {"overview": ARTICLE, "mentoring": words("Download PDF"), "groups": GROUP}
    for area, shown in areas.items():
        path = "" if area == "overview" else f"/{area}"
        mentee.goto(f"{base}/members/{mentee_id}{path}")
        expect(mentee.locator("#main")).to_contain_text(shown)
        audits.look(mentee, f"profile-{area}")
    mentee.goto(base + "/me/data")
    audits.look(mentee, "profile-my-data")
    audits.assert_accessible()
