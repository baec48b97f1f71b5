"""The blueprint of mentoring's own pages, its template globals, and how a page runs a
change from a form post and goes back."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, redirect, request, url_for

from core.api import InvalidInput, db
from plugins.mentoring.services import lifecycle, meetings

bp = Blueprint(
    "mentoring",
    __name__,
    root_path=str(Path(__file__).parent.parent),  # templates/ and static/ are beside views/
    url_prefix="/mentoring",
    template_folder="templates",
    static_folder="static",
)


# Template globals, not a context processor: the state badge macro is imported without
# context ({% from "mentoring/_state.html" import state_badge %}) and sees only globals.
bp.add_app_template_global(lifecycle.state_label, "mentorship_state_label")
bp.add_app_template_global(lifecycle.decline_reason_label, "decline_reason_label")
bp.add_app_template_global(meetings.status_label, "meeting_status_label")
bp.add_app_template_global(meetings.amendment_reason, "amendment_reason")


def act(back: str, action, success: str):
    """Run a change from a form post (a service call), commit it or show why it was refused,
    and go back to the page ``back``."""
    try:
        action()
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(back)


def require_form(form, back: str) -> None:
    """Stop with the form's errors shown on the page ``back`` unless the post is valid."""
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        abort(redirect(back))


def _page_of(mentorship_id: int) -> str:
    return url_for("mentoring.mentorship", mentorship_id=mentorship_id)


def _act(mentorship_id: int, action, success: str):
    return act(_page_of(mentorship_id), action, success)


def _require_form(form) -> None:
    require_form(form, _page_of(request.view_args["mentorship_id"]))
