"""The lean reference: three member pages of alma written as plain Flask + SQLAlchemy Core +
Jinja over the same database, showing the same data in comparable HTML (the same layout
around them), so that each alma page can be measured beside its lean twin in the same run:

* ``GET /lean/shell``: the logged-in member and the navigation's badge counts, the layout
  around an empty page (alma's ``/bench/shell``);
* ``GET /lean/wiki/<id>-<slug>``: a wiki article with its author, tags and rating (alma's
  ``/wiki/<id>-<slug>``);
* ``GET /lean/mentors?q=``: a page of the mentor directory's search, mentors with room first,
  with their topics, languages and credits (alma's ``/mentoring/mentors?q=``).

It reads alma's session cookie (the same ``SECRET_KEY``) and checks the login session as alma
does, and it runs the same kind of statements; what it leaves out is the framework around
them (the ORM's unit of work, plugins' hooks, Flask-Login, Flask-WTF, Flask-Babel). Served
by gunicorn like alma (``bench.lean:app_from_environment()``, settings from
``ALMA_DATABASE_URL`` and ``ALMA_SECRET_KEY``), or built in-process by
:func:`create_lean_app`.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, render_template, request, session
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine, RowMapping, create_engine, text

PAGE_SIZE = 12  # as alma's directory
LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish",
}  # fmt: skip

MEMBER = text(
    "SELECT u.id, u.display_name FROM core_login_sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.id = :session_id AND s.user_id = :user_id"
    " AND u.deactivated_at IS NULL AND u.suspended_at IS NULL"
)
BADGES = text(
    """SELECT
 (SELECT count(m.id) FROM mentoring_messages m
   JOIN mentoring_mentorships ms ON ms.id = m.mentorship_id
   LEFT JOIN mentoring_chat_readers r ON r.mentorship_id = ms.id AND r.user_id = :member
   WHERE (ms.mentee_id = :member OR ms.mentor_id = :member)
   AND ms.state IN ('requested', 'accepted', 'active', 'completed')
   AND m.sender_id != :member AND m.id > coalesce(r.last_read_id, 0)) AS mentoring,
 (SELECT count(*) FROM groups_invitations
   WHERE user_id = :member AND state = 'pending')
 + (SELECT count(*) FROM groups_join_requests WHERE state = 'pending' AND group_id IN
   (SELECT group_id FROM groups_memberships
    WHERE user_id = :member AND state = 'active' AND role = 'manager')) AS groups,
 (SELECT count(*) FROM notifications WHERE user_id = :member AND read_at IS NULL) AS alerts"""
)
ARTICLE = text(
    "SELECT a.id, a.title, a.slug, a.body_html, a.revision_number, a.updated_at,"
    " a.author_id, u.display_name AS author_name,"
    " (SELECT avg(stars) FROM wiki_ratings WHERE article_id = a.id) AS average,"
    " (SELECT count(*) FROM wiki_ratings WHERE article_id = a.id) AS ratings,"
    " (SELECT stars FROM wiki_ratings WHERE article_id = a.id AND user_id = :member) AS mine"
    " FROM wiki_articles a LEFT JOIN users u ON u.id = a.author_id"
    " WHERE a.id = :id AND a.hidden_at IS NULL"
)
TAGS = text(
    "SELECT t.name, t.key FROM wiki_article_tags at JOIN wiki_tags t ON t.id = at.tag_id"
    " WHERE at.article_id = :id ORDER BY t.name"
)
MENTORS = text(
    """SELECT u.id, u.display_name, u.bio, u.profile_hidden_at,
 (mm.accepting AND mm.mentee_count < mm.capacity) AS has_room,
 coalesce(b.total, 0) AS credits
 FROM users u JOIN mentoring_members mm ON mm.user_id = u.id
 LEFT JOIN credits_balances b ON b.user_id = u.id
 WHERE mm.wants_to_mentor AND u.email_confirmed_at IS NOT NULL
 AND u.suspended_at IS NULL AND u.deactivated_at IS NULL
 AND EXISTS (SELECT 1 FROM mentoring_verifications v
             WHERE v.user_id = u.id AND v.state = 'verified')
 AND (lower(u.display_name) LIKE :pattern
      OR (u.profile_hidden_at IS NULL AND lower(u.bio) LIKE :pattern)
      OR EXISTS (SELECT 1 FROM user_topics ut JOIN topics t ON t.id = ut.topic_id
                 WHERE ut.user_id = u.id AND t.key LIKE :pattern))
 ORDER BY has_room DESC, u.display_name, u.id LIMIT :limit OFFSET :offset"""
)
TOPICS = text(
    "SELECT ut.user_id, t.name FROM user_topics ut JOIN topics t ON t.id = ut.topic_id"
    " WHERE ut.user_id = ANY(:ids) AND ut.kind = 'expertise' ORDER BY ut.position"
)
LANGUAGES = text(
    "SELECT user_id, code FROM user_languages WHERE user_id = ANY(:ids) ORDER BY user_id, code"
)


def create_lean_app(database_url: str, secret_key: str, pool_size: int = 5) -> Flask:
    app = Flask(__name__, template_folder="templates/lean", static_folder=None)
    app.secret_key = secret_key
    engine = create_engine(database_url, pool_size=pool_size, max_overflow=pool_size)
    app.extensions["lean_engine"] = engine
    csrf = URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token")

    def page(template: str, connection: Any, **context: Any) -> str:
        member = logged_in_member(connection)
        badges = connection.execute(BADGES, {"member": member["id"]}).mappings().one()
        token = csrf.dumps(session.get("csrf_token", ""))
        return render_template(template, member=member, badges=badges, csrf_token=token, **context)

    @app.get("/lean/shell")
    def shell() -> str:
        with engine.begin() as connection:
            return page("shell.html", connection)

    @app.get("/lean/wiki/<int:article_id>-<slug>")
    def article(article_id: int, slug: str) -> str:
        with engine.begin() as connection:
            member_id = logged_in_member(connection)["id"]
            found = connection.execute(ARTICLE, {"id": article_id, "member": member_id})
            row = found.mappings().one_or_none() or abort(404)
            tags = connection.execute(TAGS, {"id": article_id}).mappings().all()
            return page("article.html", connection, article=row, tags=tags)

    @app.get("/lean/mentors")
    def mentors() -> str:
        words = request.args.get("q", "").lower()
        number = max(1, request.args.get("page", 1, type=int))
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with engine.begin() as connection:
            logged_in_member(connection)
            found = connection.execute(
                MENTORS,
                {"pattern": pattern, "limit": PAGE_SIZE + 1, "offset": (number - 1) * PAGE_SIZE},
            )
            rows = found.mappings().all()
            shown = rows[:PAGE_SIZE]
            ids = [row["id"] for row in shown]
            topics = grouped(connection.execute(TOPICS, {"ids": ids}))
            languages = grouped(connection.execute(LANGUAGES, {"ids": ids}))
            cards = [
                {
                    **row,
                    "topics": topics.get(row["id"], []),
                    "languages": [LANGUAGE_NAMES.get(c, c) for c in languages.get(row["id"], [])],
                }
                for row in shown
            ]
            return page(
                "mentors.html", connection, mentors=cards, page=number, more=len(rows) > PAGE_SIZE
            )

    return app


def logged_in_member(connection: Any) -> RowMapping:
    """The member of alma's session cookie ("<user id>:s<session id>"), or 401."""
    user_id, _, session_id = str(session.get("_user_id", "")).partition(":s")
    if not (user_id.isdigit() and session_id.isdigit()):
        abort(401)
    found = connection.execute(MEMBER, {"user_id": int(user_id), "session_id": int(session_id)})
    return found.mappings().one_or_none() or abort(401)


def grouped(rows: Any) -> dict[int, list[Any]]:
    by_key: dict[int, list[Any]] = {}
    for key, value in rows:
        by_key.setdefault(key, []).append(value)
    return by_key


def dispose(app: Flask) -> None:
    engine: Engine = app.extensions["lean_engine"]
    engine.dispose()


def app_from_environment() -> Flask:
    """The app gunicorn serves: ``gunicorn 'bench.lean:app_from_environment()'``."""
    return create_lean_app(os.environ["ALMA_DATABASE_URL"], os.environ["ALMA_SECRET_KEY"])
