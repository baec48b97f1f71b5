"""The blueprint of mentoring's own pages, its template globals, and how a page runs a
change from a form post and goes back."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request, url_for

from core.api import require_form, run_action
from plugins.mentoring.choices import looks_for_mentor, offers_mentoring
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
bp.add_app_template_global(offers_mentoring)
bp.add_app_template_global(looks_for_mentor)


def _page_of(mentorship_id: int) -> str:
    return url_for("mentoring.mentorship", mentorship_id=mentorship_id)


def _act(mentorship_id: int, action, success: str):
    return run_action(action, success=success, back=_page_of(mentorship_id))


def _require_form(form) -> None:
    """``require_form`` in a view of one mentorship (its route has a <mentorship_id>)."""
    require_form(form, _page_of((request.view_args or {})["mentorship_id"]))
