"""A realistic community on PostgreSQL, built in seconds with COPY into alma's real tables.

    .venv/bin/python -m bench.dataset [--scale 0.1] [--keep]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

At ``--scale 1``: 10,000 members with topics and languages, 3,000 mentorships (requests,
declines, pairs getting to know each other, active ones with their agreement and meetings,
completed ones with their final meeting and goals), 200,000 chat messages (a tenth of them in
one long chat), 2,000 wiki articles with revisions, tags and ratings, 100 groups with members,
managers, announcements and forum topics and posts, 500,000 credit entries (each for an
activity or a completed goal, balances equal to the ledgers' sums) and 100,000 alerts.

The data keeps every constraint the models declare and the invariants the services keep:
mentoring_members.mentee_count counts each mentor's accepted and active mentorships,
groups_groups.manager_count counts each group's managers, a held meeting has its completed
goal and each party's credits, an article's revision_number is its last revision's.

Run alone, it builds the data set in a database of its own, prints what it built and how
long it took, and drops the database (unless ``--keep``). ``bench/pages.py`` builds it the
same way before serving it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import secrets
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Connection, Table, create_engine, text
from sqlalchemy.engine import make_url

from core.db import db, utcnow
from core.models import (
    Activity,
    Goal,
    GoalParty,
    Notification,
    Topic,
    User,
    UserLanguage,
    UserTopic,
)
from core.services.accounts import hash_password
from plugins.credits.models import CreditEntry
from plugins.groups.models import (
    Announcement,
    ForumPost,
    ForumTopic,
    Group,
    ManagementAct,
    Membership,
)
from plugins.mentoring.models import (
    VERIFIED,
    AgreementVersion,
    ChatMessage,
    ChatReader,
    Meeting,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
    MentorVerification,
)
from plugins.wiki.models import Article, ArticleTag, Rating, Revision, Tag
from plugins.wiki.rendering import plain_text, render_markdown

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PLUGINS = ["mentoring", "credits", "certificates", "wiki", "groups"]

FULL = {
    "members": 10_000,
    "mentorships": 3_000,
    "messages": 200_000,
    "articles": 2_000,
    "groups": 100,
    "credit_entries": 500_000,
    "alerts": 100_000,
}
LONG_CHAT_SHARE = 10  # one chat holds 1/10 of all messages
VIEWER_LEDGER_SHARE = 100  # the viewer holds 1/100 of all credit entries
GROUP_MEMBERS = (20, 300)  # the smallest and largest group
TOPICS_PER_GROUP, POSTS_PER_TOPIC, ANNOUNCEMENTS_PER_GROUP = 20, 10, 5

FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Anna", "Ben", "Carla", "Chen", "Dara", "Elif", "Emma", "Farid",
    "Grace", "Hana", "Ines", "Ivan", "Jonas", "Kofi", "Lena", "Liam", "Maya", "Mei",
    "Nadia", "Noah", "Olga", "Omar", "Paula", "Priya", "Quentin", "Rosa", "Sami", "Sara",
    "Tariq", "Uma", "Vera", "Wei", "Yara", "Yusuf", "Zoe"
)  # fmt: skip
LAST_NAMES = (
    "Abe", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kim", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
    "Silva", "Tanaka", "Umar", "Varga", "Weber", "Xu", "Yilmaz", "Zhang"
)  # fmt: skip
TOPIC_NAMES = (
    "Python", "JavaScript", "Data science", "Machine learning", "Leadership",
    "Product management", "UX design", "Public speaking", "Career change", "Entrepreneurship",
    "Marketing", "Finance", "Negotiation", "Writing", "Research", "Statistics", "DevOps",
    "Security", "Cloud computing", "Mobile apps", "Databases", "Open source", "Teaching",
    "Project management", "Hiring", "Remote work", "Startups", "Nonprofits", "Law",
    "Health care", "Architecture", "Photography", "Music", "Languages", "Mathematics",
    "Physics", "Biology", "Climate", "Policy", "Sales"
)  # fmt: skip
WORDS = (
    "mentor", "learn", "plan", "goal", "team", "project", "meeting", "skill", "career",
    "question", "idea", "practice", "feedback", "review", "code", "design", "product",
    "growth", "habit", "week", "month", "progress", "listen", "share", "python", "data",
    "study", "write", "read", "talk", "build", "test", "ship", "focus", "balance", "energy",
    "network", "community", "experience", "advice", "path", "course", "book", "chapter",
    "notes", "draft", "slide", "interview"
)  # fmt: skip
LANGUAGE_CODES = ("de", "fr", "es", "it", "pt", "nl", "pl", "sv")
TIMEZONES = ("UTC", "Europe/Berlin", "Europe/Paris", "America/New_York", "Asia/Tokyo")
SEARCH_WORD = "python"  # in topics and bios: the directory search finds a full page


@dataclass
class Landmarks:
    """What the benchmarks visit: a member with everything on their pages, and the pages."""

    viewer_id: int
    long_chat_id: int
    article_path: str
    group_id: int
    search_word: str = SEARCH_WORD
    counts: dict[str, int] = field(default_factory=dict)


# ---- loading rows fast ---------------------------------------------------------------------------


def copy_rows(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Load ``rows`` (dicts by column name) into ``table`` with PostgreSQL's COPY. A column a
    row leaves out takes the model's scalar default, or NULL."""
    columns = list(table.columns)
    defaults = {column.name: _default_of(column) for column in columns}
    names = ", ".join(f'"{column.name}"' for column in columns)
    cursor = connection.connection.driver_connection.cursor()
    count = 0
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] if name in row else defaults[name] for name in defaults])
            count += 1
    cursor.close()
    return count


def _default_of(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    return default.arg(None)  # a callable such as utcnow (wrapped to take a context)


def reset_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """After COPY with explicit ids: the next id the database hands out follows the last."""
    for table in tables:
        if "id" in table.columns and table.columns["id"].autoincrement:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                )
            )


# ---- the community -------------------------------------------------------------------------------


@dataclass
class Builder:
    """Generates the rows, keeping the ids it hands out and what the invariants need."""

    scale: float
    rng: random.Random = field(default_factory=lambda: random.Random(20260707))
    now: datetime = field(default_factory=utcnow)
    ids: dict[str, Iterator[int]] = field(default_factory=lambda: defaultdict(itertools.count))
    activities: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    loaded: dict[str, int] = field(default_factory=Counter)

    def size(self, name: str) -> int:
        return max(2, round(FULL[name] * self.scale))

    def next_id(self, table: str) -> int:
        return next(self.ids[table]) + 1

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def sentence(self, words: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence(self.rng.randint(6, 14)) for _ in range(sentences))


def build(connection: Connection, scale: float) -> Landmarks:
    """Load the whole community through ``connection`` (one transaction); return what the
    benchmarks visit."""
    builder = Builder(scale)
    load = _loader(connection, builder)
    members = _members(load, builder)
    viewer_id = members.mentees[0]
    long_chat_id = _mentoring(load, builder, members, viewer_id)
    article_path = _wiki(load, builder, members.all)
    group_id = _groups(load, builder, members.all, viewer_id)
    _alerts(load, builder, members.all, viewer_id)
    _credits(connection, load, builder, members.all, viewer_id)
    loaded = [table for table in db.metadata.sorted_tables if table.name in builder.loaded]
    reset_sequences(connection, loaded)  # only the data set's: another plugin may be imported
    return Landmarks(viewer_id, long_chat_id, article_path, group_id, counts=dict(builder.loaded))


def _loader(connection: Connection, builder: Builder):
    def load(model: Any, rows: Iterable[dict[str, Any]]) -> None:
        builder.loaded[model.__tablename__] += copy_rows(connection, model.__table__, rows)

    return load


@dataclass
class Members:
    all: list[int]
    mentors: list[int]
    mentees: list[int]


def _members(load, builder: Builder) -> Members:
    rng, count = builder.rng, builder.size("members")
    password = hash_password(secrets.token_urlsafe(12))
    users = []
    for number in range(1, count + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        mentor = number % 3 == 0
        bio = builder.paragraph(3)
        if mentor and number % 4 == 0:
            bio += f" I have worked with {SEARCH_WORD.capitalize()} for years."
        users.append(
            {
                "id": number,
                "email": f"member{number}@example.org",
                "password_hash": password,
                "display_name": name,
                "bio": bio,
                "timezone": rng.choice(TIMEZONES),
                "wants_to_mentor": mentor,  # not a column: mentoring_members has it, below
                "email_confirmed_at": builder.ago(rng.uniform(30, 730)),
                "created_at": builder.ago(rng.uniform(730, 760)),
            }
        )
    load(User, users)
    load(Topic, ({"id": i + 1, "name": n, "key": n.lower()} for i, n in enumerate(TOPIC_NAMES)))
    load(UserTopic, _user_topics(builder, users))
    load(
        UserLanguage,
        (
            {"user_id": user["id"], "code": code}
            for user in users
            for code in ("en", LANGUAGE_CODES[user["id"] % len(LANGUAGE_CODES)])
        ),
    )
    ids = [user["id"] for user in users]
    mentors = [user["id"] for user in users if user["wants_to_mentor"]]
    mentees = [user["id"] for user in users if not user["wants_to_mentor"]]
    return Members(ids, mentors, mentees)


def _user_topics(builder: Builder, users: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for user in users:
        topics = builder.rng.sample(range(1, len(TOPIC_NAMES) + 1), 4)
        kinds = ("expertise",) * 3 if user["wants_to_mentor"] else ("interest",) * 2
        for position, (topic, kind) in enumerate(zip(topics, kinds, strict=False)):
            yield {"user_id": user["id"], "topic_id": topic, "kind": kind, "position": position}


# ---- mentoring -----------------------------------------------------------------------------------

STATE_BY_SLOT = {0: "requested", 1: "declined", 2: "accepted", 3: "accepted"} | {
    slot: "completed" for slot in range(4, 8)
}  # and "active" for the other 12 of 20
AGE_IN_DAYS = {"requested": (1, 10), "completed": (200, 700)}  # else (20, 190)


def _mentoring(load, builder: Builder, members: Members, viewer_id: int) -> int:
    """Mentorships with their events, agreements, meetings, goals, chats and credits; returns
    the id of the mentorship with the long chat (the viewer's, active)."""
    rng, count = builder.rng, builder.size("mentorships")
    mentorships, events, versions, meetings, chat_rooms = [], [], [], [], []
    paired: Counter = Counter()
    goals: list[tuple[dict[str, Any], list[int]]] = []
    for number in range(count):
        mentor = members.mentors[number % len(members.mentors)]
        mentee = members.mentees[number % len(members.mentees)]
        state = "active" if number == 0 else STATE_BY_SLOT.get(number % 20, "active")
        mentorship_id = builder.next_id("mentorships")
        created = builder.ago(rng.uniform(*AGE_IN_DAYS.get(state, (20, 190))))
        started = created + timedelta(days=7)
        mentorships.append(
            {
                "id": mentorship_id,
                "mentee_id": mentee,
                "mentor_id": mentor,
                "state": state,
                "message": builder.paragraph(2),
                "topics": rng.choice(TOPIC_NAMES),
                "created_at": created,
                "state_changed_at": started,
                "expires_at": created + timedelta(days=14),
                "started_at": started if state in ("active", "completed") else None,
            }
        )
        events += _events(builder, mentorship_id, state, mentee, mentor, created)
        subject = f"mentoring.mentorship:{mentorship_id}"
        _credit_activity(builder, mentee, "mentoring.request_sent", 1, subject, created)
        if state == "declined":
            _credit_activity(builder, mentor, "mentoring.request_declined", 1, subject, created)
            continue
        if state == "requested":
            continue
        _credit_activity(builder, mentor, "mentoring.request_accepted", 10, subject, created)
        if state in ("accepted", "active"):
            paired[mentor] += 1
        chat_rooms.append((mentorship_id, mentee, mentor, created))
        if state in ("active", "completed"):
            versions.append(_agreement(builder, mentorship_id, mentee, mentor, started))
            found_meetings, found_goals = _meetings(
                builder, mentorship_id, state, (mentee, mentor), started
            )
            meetings += found_meetings
            goals += found_goals
    load(Mentorship, mentorships)
    load(MentorshipEvent, events)
    load(
        MentoringMember,
        (
            {
                "user_id": mentor,
                "capacity": max(2, paired[mentor]),
                "accepting": mentor % 7 != 0,
                "mentee_count": paired[mentor],
                "wants_to_mentor": True,
            }
            for mentor in members.mentors
        ),
    )
    load(MentorVerification, verified_mentors(members.mentors, builder.ago(800)))
    load(
        MentoringMember,
        ({"user_id": mentee, "wants_to_be_mentored": True} for mentee in members.mentees),
    )
    load(AgreementVersion, versions)
    load(Goal, (goal for goal, _parties in goals))
    load(
        GoalParty,
        (
            {
                "goal_id": goal["id"],
                "user_id": party,
                "decision": "consented",
                "decided_at": goal["completed_at"],
            }
            for goal, parties in goals
            for party in parties
        ),
    )
    load(Meeting, meetings)
    _chats(load, builder, chat_rooms)
    return mentorships[0]["id"]


def verified_mentors(mentors: Iterable[int], when: datetime) -> Iterator[dict[str, Any]]:
    """A coordinator's check of each mentor (``verification = "staff"`` is the default):
    an unchecked mentor is in no directory and can be asked by nobody."""
    for mentor in mentors:
        yield {"user_id": mentor, "state": VERIFIED, "submitted_at": when, "decided_at": when}


def _events(builder, mentorship_id, state, mentee, mentor, created) -> list[dict[str, Any]]:
    steps = [(None, "requested", mentee, None)]
    if state == "declined":
        steps.append(("requested", "declined", mentor, "timing"))
    elif state != "requested":
        steps.append(("requested", "accepted", mentor, None))
        if state in ("active", "completed"):
            steps.append(("accepted", "active", None, None))
        if state == "completed":
            steps.append(("active", "completed", None, None))
    return [
        {
            "id": builder.next_id("events"),
            "mentorship_id": mentorship_id,
            "from_state": from_state,
            "to_state": to_state,
            "actor_id": actor,
            "reason": reason,
            "message": builder.sentence(10) if reason else "",
            "created_at": created + timedelta(days=step * 3),
        }
        for step, (from_state, to_state, actor, reason) in enumerate(steps)
    ]


def _agreement(builder, mentorship_id, mentee, mentor, started) -> dict[str, Any]:
    return {
        "id": builder.next_id("versions"),
        "mentorship_id": mentorship_id,
        "number": 1,
        "starts_on": started.date(),
        "ends_on": started.date() + timedelta(days=180),
        "meetings_planned": 6,
        "channels": "Video calls and the chat",
        "contact_every_days": 14,
        "agenda": builder.paragraph(3),
        "notes": "",
        "reason": "",
        "status": "approved",
        "proposed_by_id": mentee,
        "proposed_at": started - timedelta(days=2),
        "decided_by_id": mentor,
        "decided_at": started,
        "comment": "",
    }


def _meetings(builder, mentorship_id, state, parties, started):
    """Held meetings (each with its completed goal and credits); an active pair has one to
    come, a completed one a held final meeting and its "finished" goal."""
    meetings, goals = [], []
    held = 5 if state == "completed" else 3
    for number in range(held + 1):
        meeting_id = builder.next_id("meetings")
        final = state == "completed" and number == held
        starts = started + timedelta(days=14 * (number + 1), hours=18)
        if state == "active" and number == held:
            starts = builder.now + timedelta(days=7, hours=number)
        status = "scheduled" if starts > builder.now else "held"
        goal_id = None
        if status == "held":
            goal = _goal(
                builder,
                "mentoring.meeting_attended",
                f"mentoring.meeting:{meeting_id}",
                "Meeting",
                starts,
                f"/mentoring/meetings/{meeting_id}",
            )
            goals.append((goal, list(parties)))
            goal_id = goal["id"]
            for party in parties:
                _credit(
                    builder,
                    party,
                    "goal",
                    goal_id,
                    "mentoring.meeting_attended",
                    5,
                    starts,
                    detail=goal["title"],
                )
        meetings.append(
            {
                "id": meeting_id,
                "mentorship_id": mentorship_id,
                "starts_at": starts,
                "duration_minutes": 60,
                "place": "https://meet.example.org/room",
                "agenda": builder.sentence(12),
                "is_final": final,
                "status": status,
                "sequence": 0,
                "goal_id": goal_id,
                "created_at": starts - timedelta(days=7),
                "decided_at": starts - timedelta(days=6),
                "held_at": starts + timedelta(hours=1) if status == "held" else None,
                "reminded_at": starts - timedelta(days=1) if status == "held" else None,
                "feedback_requested_at": starts + timedelta(hours=2) if status == "held" else None,
            }
        )
    if state == "completed":
        finished_at = meetings[-1]["starts_at"] + timedelta(hours=2)
        goal = _goal(
            builder,
            "mentoring.finished",
            f"mentoring.finished:{mentorship_id}",
            "Mentorship",
            finished_at,
            f"/mentoring/{mentorship_id}",
        )
        goals.append((goal, list(parties)))
        for party in parties:
            _credit(
                builder,
                party,
                "goal",
                goal["id"],
                "mentoring.finished",
                50,
                finished_at,
                detail=goal["title"],
            )
    return meetings, goals


def _goal(builder, kind, key, title, completed_at, url) -> dict[str, Any]:
    return {
        "id": builder.next_id("goals"),
        "key": key,
        "kind": kind,
        "title": title,
        "url": url,
        "created_at": completed_at - timedelta(hours=1),
        "completed_at": completed_at,
    }


def _chats(load, builder: Builder, rooms: list[tuple[int, int, int, datetime]]) -> None:
    """Messages, a tenth of them in the first (the viewer's) chat, the rest spread over the
    others; both parties have read all but the last few."""
    total = builder.size("messages")
    long_chat = total // LONG_CHAT_SHARE
    per_room = max(1, (total - long_chat) // max(1, len(rooms) - 1))
    readers = []

    def messages() -> Iterator[dict[str, Any]]:
        for index, (mentorship_id, mentee, mentor, created) in enumerate(rooms):
            count = long_chat if index == 0 else per_room
            step = (builder.now - created) / (count + 1)
            last_id = 0
            for number in range(count):
                last_id = builder.next_id("messages")
                yield {
                    "id": last_id,
                    "mentorship_id": mentorship_id,
                    "sender_id": mentee if number % 2 else mentor,
                    "body": builder.sentence(builder.rng.randint(3, 30)),
                    "created_at": created + step * (number + 1),
                }
            for party in (mentee, mentor):
                read_up_to = max(0, last_id - (3 if party == mentee else 0))
                readers.append(
                    {
                        "mentorship_id": mentorship_id,
                        "user_id": party,
                        "last_read_id": read_up_to,
                        "digested_up_to_id": last_id,
                    }
                )

    load(ChatMessage, messages())
    load(ChatReader, readers)


# ---- wiki ----------------------------------------------------------------------------------------


def _wiki(load, builder: Builder, members: list[int]) -> str:
    """Articles with their revisions, tags and ratings; returns the path of a well-rated,
    well-tagged article with several revisions."""
    rng, count = builder.rng, builder.size("articles")
    tags = [{"id": i + 1, "name": n, "key": n.lower()} for i, n in enumerate(TOPIC_NAMES)]
    load(Tag, tags)
    bodies = [_article_body(builder) for _ in range(20)]
    rendered = [render_markdown(body) for body in bodies]
    articles, revisions, article_tags, ratings = [], [], [], []
    for number in range(count):
        article_id = builder.next_id("articles")
        title = f"{rng.choice(TOPIC_NAMES)}: {builder.sentence(4)[:-1]} ({article_id})"
        author = rng.choice(members)
        created = builder.ago(rng.uniform(30, 700))
        versions = 1 + number % 4
        body = bodies[number % len(bodies)]
        for revision in range(1, versions + 1):
            editor = author if revision == 1 else rng.choice(members)
            when = created + timedelta(days=3 * (revision - 1))
            revisions.append(
                {
                    "id": builder.next_id("revisions"),
                    "article_id": article_id,
                    "number": revision,
                    "title": title,
                    "body": body,
                    "body_html": rendered[number % len(bodies)],
                    "summary": "" if revision == 1 else builder.sentence(5),
                    "author_id": editor,
                    "created_at": when,
                    "recorded_activity": True,
                }
            )
            kind, points = (
                ("wiki.article_created", 10) if revision == 1 else ("wiki.article_edited", 3)
            )
            key = f"{kind}:{article_id}" if revision == 1 else f"{kind}:{article_id}:{revision}"
            _credit_activity(
                builder, editor, kind, points, f"wiki.article:{article_id}", when, key=key
            )
        articles.append(
            {
                "id": article_id,
                "title": title,
                "title_key": title.casefold(),
                "slug": slugify(title),
                "body": body,
                "body_html": rendered[number % len(bodies)],
                "plain_text": plain_text(rendered[number % len(bodies)]),
                "author_id": author,
                "revision_number": versions,
                "created_at": created,
                "updated_at": created + timedelta(days=3 * (versions - 1)),
            }
        )
        for tag in rng.sample(tags, 1 + number % 3):
            article_tags.append({"article_id": article_id, "tag_id": tag["id"]})
        raters = {rng.choice(members) for _ in range(number % 12)} - {author}
        for rater in raters:
            when = created + timedelta(days=rng.uniform(1, 20))
            ratings.append(
                {
                    "article_id": article_id,
                    "user_id": rater,
                    "stars": rng.randint(2, 5),
                    "created_at": when,
                    "updated_at": when,
                }
            )
            _credit_activity(
                builder,
                rater,
                "wiki.article_rated",
                1,
                f"wiki.article:{article_id}",
                when,
                key=f"wiki.article_rated:{article_id}:{rater}",
            )
    load(Article, articles)
    load(Revision, revisions)
    load(ArticleTag, article_tags)
    load(Rating, ratings)
    shown = articles[min(11, len(articles) - 1)]  # 4 revisions, 3 tags, 11 ratings
    return f"/wiki/{shown['id']}-{shown['slug']}"


def _article_body(builder: Builder) -> str:
    """About 3 KB of Markdown: sections, paragraphs, a list, some code."""
    sections = []
    for _ in range(4):
        items = "\n".join(f"- {builder.sentence(6)}" for _ in range(4))
        sections.append(
            f"## {builder.sentence(3)[:-1]}\n\n{builder.paragraph(4)}\n\n{items}\n\n"
            f"{builder.paragraph(2)} See [the guide](https://example.org/guide).\n"
        )
    return "\n".join(sections) + "\n```python\nprint('hello, mentee')\n```\n"


def slugify(title: str) -> str:
    from plugins.wiki.services import slugify as wiki_slugify

    return wiki_slugify(title)


# ---- groups --------------------------------------------------------------------------------------


def _groups(load, builder: Builder, members: list[int], viewer_id: int) -> int:
    """Groups with members (one or two managers each), announcements, forum topics and
    posts; returns the id of the largest group, which the viewer belongs to."""
    rng, count = builder.rng, builder.size("groups")
    smallest, largest = GROUP_MEMBERS
    groups, memberships, announcements, acts, topics, posts = [], [], [], [], [], []
    for number in range(count):
        group_id = builder.next_id("groups")
        size = min(len(members), largest if number == 0 else rng.randint(smallest, largest))
        people = rng.sample(members, size)
        if number == 0 and viewer_id not in people:
            people[-1] = viewer_id
        managers = [person for person in people[:2] if person != viewer_id][: 1 + number % 2]
        created = builder.ago(rng.uniform(300, 700))
        name = f"{TOPIC_NAMES[number % len(TOPIC_NAMES)]} circle {group_id}"
        groups.append(
            {
                "id": group_id,
                "name": name,
                "name_key": name.lower(),
                "description": builder.paragraph(4),
                "topic": TOPIC_NAMES[number % len(TOPIC_NAMES)],
                "join_policy": "open" if number % 5 else "request",
                "visibility": "public",
                "manager_count": len(managers),
                "created_by_id": managers[0],
                "created_at": created,
            }
        )
        _credit_activity(
            builder, managers[0], "groups.group_created", 5, f"groups.group:{group_id}", created
        )
        for person in people:
            memberships.append(
                {
                    "id": builder.next_id("memberships"),
                    "group_id": group_id,
                    "user_id": person,
                    "role": "manager" if person in managers else "member",
                    "state": "active",
                    "joined_at": created + timedelta(days=rng.uniform(0, 200)),
                    "state_changed_at": created,
                }
            )
        for announcement in range(ANNOUNCEMENTS_PER_GROUP):
            when = created + timedelta(days=20 * (announcement + 1))
            announcements.append(
                {
                    "id": builder.next_id("announcements"),
                    "group_id": group_id,
                    "author_id": managers[0],
                    "body": builder.paragraph(2)[:1000],
                    "created_at": when,
                }
            )
            act_id = builder.next_id("acts")
            acts.append(
                {
                    "id": act_id,
                    "group_id": group_id,
                    "manager_id": managers[0],
                    "action": "announced",
                    "created_at": when,
                }
            )
            _credit_activity(
                builder,
                managers[0],
                "groups.managed",
                2,
                f"groups.group:{group_id}",
                when,
                key=f"groups.managed:{group_id}:{managers[0]}:announced::{when:%Y-%m-%d}:{act_id}",
            )
        for _topic in range(TOPICS_PER_GROUP):
            topic_id = builder.next_id("topics")
            opened = created + timedelta(days=rng.uniform(1, 250))
            for reply in range(POSTS_PER_TOPIC):
                post_id = builder.next_id("posts")
                author = rng.choice(people)
                when = opened + timedelta(hours=5 * reply)
                posts.append(
                    {
                        "id": post_id,
                        "topic_id": topic_id,
                        "author_id": author,
                        "body": builder.paragraph(2),
                        "created_at": when,
                    }
                )
                _credit_activity(
                    builder,
                    author,
                    "groups.forum_post",
                    1,
                    f"groups.post:{post_id}",
                    when,
                    key=f"groups.forum_post:{post_id}",
                )
            topics.append(
                {
                    "id": topic_id,
                    "group_id": group_id,
                    "author_id": posts[-POSTS_PER_TOPIC]["author_id"],
                    "title": builder.sentence(6)[:150],
                    "created_at": opened,
                    "last_post_at": posts[-1]["created_at"],
                }
            )
    load(Group, groups)
    load(Membership, memberships)
    load(Announcement, announcements)
    load(ManagementAct, acts)
    load(ForumTopic, topics)
    load(ForumPost, posts)
    return groups[0]["id"]


# ---- alerts and credits --------------------------------------------------------------------------


def _alerts(load, builder: Builder, members: list[int], viewer_id: int) -> None:
    """Site alerts, most of them read; the viewer has a few hundred, some unread."""
    total = builder.size("alerts")
    rng = builder.rng

    def alerts() -> Iterator[dict[str, Any]]:
        for number in range(total):
            user = viewer_id if number % 50 == 0 else members[number % len(members)]
            when = builder.ago(rng.uniform(0, 365))
            yield {
                "id": number + 1,
                "user_id": user,
                "message": builder.sentence(10),
                "url": "/mentoring/",
                "created_at": when,
                "read_at": None if number % 97 == 0 else when + timedelta(hours=3),
            }

    load(Notification, alerts())


def _credit_activity(builder, user, kind, points, subject, when, *, key=None) -> None:
    """An activity and the credit entry it earned."""
    activity_id = builder.next_id("activities")
    builder.activities.append(
        {
            "id": activity_id,
            "key": key or f"{kind}:{user}:{subject}",
            "kind": kind,
            "user_id": user,
            "subject": subject,
            "created_at": when,
        }
    )
    _credit(builder, user, "activity", activity_id, kind, points, when)


def _credit(builder, user, source_type, source_id, kind, points, when, detail=None) -> None:
    builder.entries.append(
        {
            "id": builder.next_id("entries"),
            "user_id": user,
            "source_type": source_type,
            "source_id": source_id,
            "entry_kind": "credit",
            "kind": kind,
            "detail": detail,
            "points": points,
            "created_at": when,
        }
    )


FILLER_KINDS = (  # the activities that make up most ledgers, and their points
    ("groups.forum_post", 1),
    ("wiki.article_rated", 1),
    ("wiki.article_edited", 3),
    ("mentoring.request_sent", 1),
)


def _credits(
    connection: Connection, load, builder: Builder, members: list[int], viewer: int
) -> None:
    """The activities and entries gathered so far, then more activities over the last two
    years up to the ledger's size (a hundredth of them the viewer's), each credited by SQL
    from the activity; then every balance as its ledger's sum."""
    load(Activity, builder.activities)
    load(CreditEntry, builder.entries)
    last_activity = builder.activities[-1]["id"]
    fillers = builder.size("credit_entries") - len(builder.entries)
    rng = builder.rng

    def activities() -> Iterator[dict[str, Any]]:
        for number in range(fillers):
            activity_id = builder.next_id("activities")
            kind, _points = FILLER_KINDS[number % len(FILLER_KINDS)]
            user = viewer if number % VIEWER_LEDGER_SHARE == 0 else rng.choice(members)
            yield {
                "id": activity_id,
                "key": f"bench.{activity_id}",
                "kind": kind,
                "user_id": user,
                "subject": f"bench:{activity_id}",
                "created_at": builder.ago(rng.uniform(0, 730)),
            }

    load(Activity, activities())
    points = " ".join(f"WHEN '{kind}' THEN {value}" for kind, value in FILLER_KINDS)
    inserted = connection.execute(
        text(
            "INSERT INTO credits_entries (id, user_id, source_type, source_id, entry_kind, kind,"
            " points, created_at)"
            f" SELECT :offset + id, user_id, 'activity', id, 'credit', kind,"
            f" CASE kind {points} END, created_at FROM activities WHERE id > :last"
        ),
        {"offset": len(builder.entries) - last_activity, "last": last_activity},
    )
    builder.loaded["credits_entries"] += inserted.rowcount
    inserted = connection.execute(
        text(
            "INSERT INTO credits_balances (user_id, total)"
            " SELECT user_id, sum(points) FROM credits_entries GROUP BY user_id"
        )
    )
    builder.loaded["credits_balances"] += inserted.rowcount


# ---- a database of its own -----------------------------------------------------------------------


@contextmanager
def throwaway_database(server_url: str = DEFAULT_SERVER) -> Iterator[str]:
    """A new database on the PostgreSQL server at ``server_url``, dropped afterwards."""
    admin_url = make_url(server_url)
    name = f"alma_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build_database(app: Flask, scale: float) -> tuple[Landmarks, float]:
    """Migrate the app's (empty) database, load the community, and analyze it, as a database
    that has been in use for a while is; returns the landmarks and the seconds it took."""
    from core.schema import upgrade

    started = time.perf_counter()
    upgrade(app)
    with app.app_context():
        with db.engine.begin() as connection:
            landmarks = build(connection, scale)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    return landmarks, time.perf_counter() - started


def main() -> None:
    from core.app import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 is the full data set")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the database until Enter")
    args = parser.parse_args()

    with throwaway_database(args.server) as url:
        app = create_app(
            {"DATABASE_URL": url, "PLUGINS": PLUGINS, "SECRET_KEY": "bench"},
            instance_path=tempfile.mkdtemp(prefix="alma-bench-"),
        )
        landmarks, seconds = build_database(app, args.scale)
        print(f"scale {args.scale}: built in {seconds:.1f} s")
        for table, rows in sorted(landmarks.counts.items()):
            print(f"  {table:<32}{rows:>10,}")
        print(
            f"  viewer {landmarks.viewer_id}, long chat {landmarks.long_chat_id}, "
            f"article {landmarks.article_path}, group {landmarks.group_id}"
        )
        if args.keep:
            print(f"kept: {url}")
            input("press Enter to drop the database ")


if __name__ == "__main__":
    main()
