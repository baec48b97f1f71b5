"""The stack twin: the lean reference's member shell (``bench/lean.py``) written the textbook
way with the libraries alma's request pipeline is made of, and nothing of alma's own:

* the logged-in member loaded by Flask-Login's ``user_loader`` as an ORM object, through
  Flask-SQLAlchemy's session, in one statement (the member joined to their login session);
* the navigation's labels translated by Flask-Babel (Jinja's ``_``), its links built by
  ``url_for``, the log-out form's token made by Flask-WTF's ``csrf_token()``;
* the badge counts, the same statement as the lean twin's; the unit of work committed.

Measured in-process beside the lean shell and alma's shell by ``bench/pages.py`` ("stack:
shell"), it shows how much of alma's distance to its lean twin is these libraries' own cost,
which no change inside alma can remove while alma keeps them. Built by
:func:`create_stack_app`.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, render_template
from flask_babel import Babel
from flask_login import LoginManager, UserMixin, current_user, login_required
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.lean import BADGES

# the pages the navigation links to, as endpoints (each answers nothing here)
LINKED = {
    "index": "/", "mentors": "/mentoring/mentors", "mentorships": "/mentoring/",
    "groups": "/groups/", "wiki": "/wiki/", "top": "/credits/top", "alerts": "/alerts/",
    "me": "/me", "data": "/me/data", "account": "/account",
}  # fmt: skip


class Model(DeclarativeBase):
    pass


class Member(UserMixin, Model):
    """What a page needs of a member: the columns the lean twin reads, and the locale."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    locale: Mapped[str | None] = mapped_column(String(16))
    suspended_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]


class LoginSession(Model):
    __tablename__ = "core_login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


def create_stack_app(database_url: str, secret_key: str) -> Flask:
    app = Flask(__name__, template_folder="templates/stack", static_folder=None)
    app.config.update(
        SECRET_KEY=secret_key,
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5, "max_overflow": 5},
    )
    db = SQLAlchemy(app, model_class=Model)
    app.extensions["stack_db"] = db
    CSRFProtect(app)
    Babel(app, locale_selector=lambda: current_user.locale or "en")
    logins = LoginManager(app)

    @logins.user_loader
    def load_member(cookie_id: str) -> Member | None:
        """alma's session cookie names "<user id>:s<login session id>"."""
        user_id, _, session_id = cookie_id.partition(":s")
        if not (user_id.isdigit() and session_id.isdigit()):
            return None
        return db.session.scalar(
            select(Member)
            .join(LoginSession, LoginSession.user_id == Member.id)
            .where(
                Member.id == int(user_id),
                LoginSession.id == int(session_id),
                Member.deactivated_at.is_(None),
                Member.suspended_at.is_(None),
            )
        )

    @app.get("/stack/shell")
    @login_required
    def shell() -> str:
        badges = db.session.execute(BADGES, {"member": current_user.id}).mappings().one()
        page = render_template("shell.html", badges=badges)
        db.session.commit()
        return page

    for endpoint, path in LINKED.items():
        app.add_url_rule(path, endpoint, lambda: "")
    app.add_url_rule("/logout", "logout", lambda: "", methods=["POST"])
    app.add_url_rule("/static/<path:filename>", "static", lambda filename: "")
    return app


def dispose(app: Flask) -> None:
    with app.app_context():
        app.extensions["stack_db"].engine.dispose()
