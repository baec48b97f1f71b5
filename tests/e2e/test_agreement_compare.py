"""Two versions of an agreement side by side on a phone (Chromium, 390 px wide): words wrap
at spaces, whole, and a link longer than its column scrolls inside its cell."""

from datetime import timedelta

import pytest

from core.db import utcnow
from core.testing import session_cookie

pytestmark = pytest.mark.plugins("mentoring")

LINK = "https://docs.example.org/mentoring/programme/2026/week-by-week-reading-list?tab=cv"
# Words of the agenda, and the link up to its first hyphen (where a line may end).
WORDS = ("Portfolio", "interviews", "extraordinarily", "preparation", LINK.split("-")[0])

# How many lines each word's letters fall on in the table (a word cut in two lies on two).
LINES_OF_WORDS = """words => words.map(word => {
  const table = document.querySelector('table');
  const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
  let text = walker.nextNode();
  while (!text.textContent.includes(word)) text = walker.nextNode();
  const range = document.createRange();
  const start = text.textContent.indexOf(word);
  range.setStart(text, start);
  range.setEnd(text, start + word.length);
  return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
})"""

# Whether the text holding the link scrolls sideways in its cell.
LINK_SCROLLS = """link => [...document.querySelectorAll('td, td *')].some(
  box => box.textContent.includes(link) && box.scrollWidth > box.clientWidth
    && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX))"""


@pytest.fixture
def compared(app, db, create_user):
    """A mentorship whose mentee sent the agreement twice (the first came back)."""
    from plugins.mentoring.services import agreements, lifecycle
    from plugins.mentoring.services.agreements import Terms

    mentor = create_user(display_name="Max Mentor", wants_to_mentor=True)
    mentee = create_user(display_name="Mia Mentee", wants_to_be_mentored=True)
    mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me?")
    lifecycle.accept_request(mentorship.id, mentor)
    today = utcnow().date()
    for meetings, agenda in (
        (6, f"Read {LINK}\nPortfolio reviews and extraordinarily thorough interviews"),
        (4, f"Read {LINK}\nPortfolio reviews, then interviews preparation"),
    ):
        terms = Terms(today, today + timedelta(days=90), meetings, "Video calls", 14, agenda)
        version = agreements.propose_agreement(mentorship.id, mentee, terms)
        if meetings == 6:
            agreements.send_back(version.id, mentor, "Fewer meetings, please.")
    db.session.commit()
    return mentorship.id, mentee


def test_on_a_phone_the_compared_versions_keep_words_whole_and_scroll_a_long_link(
    app, browser, live_server, compared
):
    mentorship_id, mentee = compared
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies(
        [{"name": "session", "value": session_cookie(app, mentee), "url": live_server}]
    )
    page = context.new_page()
    page.goto(f"{live_server}/mentoring/{mentorship_id}/agreement/compare?a=1&b=2")

    assert page.evaluate(LINES_OF_WORDS, list(WORDS)) == [1] * len(WORDS)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(LINK_SCROLLS, LINK)
    context.close()
