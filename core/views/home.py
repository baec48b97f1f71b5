"""The public home page with the live counters plugins contribute, and member photos."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from core.db import db
from core.i18n import VISITOR_LOCALE
from core.services.profiles import choose_language, photo_folder
from core.state import alma
from core.views.navigation import local_path

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    counters = [(counter.label, counter.value()) for counter in alma().home_counters]
    return render_template("core/home.html", counters=counters)


@bp.get("/photos/<name>")
@login_required
def photo(name: str) -> ResponseReturnValue:
    if not name.endswith(".jpg") or "/" in name:
        abort(404)
    response = send_from_directory(photo_folder(), name, max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.post("/language")
def language() -> ResponseReturnValue:
    """The footer's language switch: a member's choice is kept on their account (and their
    mails follow it), a visitor's in their session; then back to the page it was made on."""
    code = request.form.get("site_language", "")
    if code not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        choose_language(current_user, code)
        db.session.commit()
    else:
        session[VISITOR_LOCALE] = code
    return redirect(local_path(request.form.get("back"), url_for("home.index")))
