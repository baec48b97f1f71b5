"""The public home page with the live counters plugins contribute, and member photos."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory
from flask.typing import ResponseReturnValue
from flask_login import login_required

from core.services.profiles import photo_folder
from core.state import alma

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
