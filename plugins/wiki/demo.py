"""Demo articles for ``alma demo``: real-looking mentoring advice, one edited by a second
member, and a few ratings, all through the services (so activities are recorded too)."""

from __future__ import annotations

from core.api import User
from plugins.wiki import services

FIRST_MEETING = """\
The first meeting sets the tone for the whole mentorship. Plan **45 to 60 minutes** and keep
the agenda light: this is about getting to know each other.

## Before the meeting

- Read each other's profiles and write down two or three questions.
- Mentees: think about what you hope to be able to do in six months.
- Mentors: think about a mistake you made early on that you would share.

## During the meeting

1. Introduce yourselves: background, current work, what brought you here.
2. Talk about expectations: how often you meet, how you keep in touch between meetings.
3. Agree on one small first goal, something that can be done before the next meeting.

> A good first meeting ends with a date for the second one.

## After the meeting

Write the agreement together while it is fresh. Keep it short: duration, number of meetings,
how you keep in touch, and the first topics.
"""

SMART_GOALS = """\
Vague goals ("get better at Python") are hard to finish and harder to celebrate. Turn them into
goals you can check:

| | Question | Example |
|---|---|---|
| Specific | What exactly? | Build a small web app with a login |
| Measurable | How do we know it is done? | It is deployed and a friend can sign up |
| Achievable | Is it realistic now? | Yes, with two evenings a week |
| Relevant | Why does it matter? | It shows employers I can ship |
| Time-bound | By when? | Before our fourth meeting |

Mentors: ask *"how will you know?"* until the answer is concrete. Mentees: write the goal down and
re-read it at the start of each meeting.
"""

FEEDBACK = """\
Feedback is the most useful thing a mentor gives, and the easiest to get wrong.

- **Be specific.** "The second paragraph of your cover letter repeats the first" beats "it could be
  tighter".
- **Talk about the work, not the person.**
- **Ask first.** "Would you like feedback on this?" makes it easier to hear.
- **Balance it**, but do not hide the important point between two compliments.

Mentees can help too: ask for feedback on one thing at a time, and say what you will do with it.
"""

ARTICLES = [
    ("Preparing your first mentoring meeting", FIRST_MEETING, "first meeting, getting started"),
    ("Setting SMART goals together", SMART_GOALS, "goals, planning"),
    ("Giving feedback that helps", FEEDBACK, "feedback, communication"),
]

ADDED_TIP = """
## A tip from a mentee

Bring one concrete thing to the first meeting (a CV, a project, a question you are stuck on):
it gives the conversation something to hold on to.
"""


def add_demo_articles(users: list[User]) -> None:
    if not users:
        return
    articles = [
        services.create_article(users[index % len(users)], title, body, tags=tags)
        for index, (title, body, tags) in enumerate(ARTICLES)
    ]
    first = articles[0]
    editor = next((user for user in users if user.id != first.author_id), None)
    if editor is not None:
        services.save_article(
            first.id,
            editor,
            base_number=1,
            title=first.title,
            body=first.body + ADDED_TIP,
            tags="first meeting, getting started, mentees",
            summary="Added a tip from a mentee's point of view",
        )
    for stars, article in zip((5, 4, 5), articles, strict=True):
        for rater in users[:4]:
            if services.may_rate(article, rater):
                services.rate_article(article.id, rater, stars - (rater.id % 2))
