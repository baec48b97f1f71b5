""" "Suggested for you" on a mentee's pages (their mentorships, the directory), and their
"Not for me" on a suggestion, its undo and the list of what they dismissed: all theirs alone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import ConfirmForm, db, local_path, require_form
from plugins.mentoring.choices import looks_for_mentor
from plugins.mentoring.services import suggestions
from plugins.mentoring.views.blueprint import bp


def suggestions_for_viewer(limit: int = suggestions.SHOWN) -> suggestions.Suggestions | None:
    """The viewer's suggestions, if they look for a mentor (a mentor alone sees none)."""
    if not looks_for_mentor(current_user):
        return None
    return suggestions.suggestions_for(current_user, limit)


def _back() -> str:
    return local_path(request.form.get("next"), url_for("mentoring.index"))


@bp.post("/suggestions/<int:mentor_id>/dismiss")
@login_required
def dismiss_suggestion(mentor_id: int):
    require_form(ConfirmForm(), _back())
    mentor = suggestions.dismiss(current_user, mentor_id)
    db.session.commit()
    flash(
        _(
            "%(name)s will not be suggested to you again. You can undo this under "
            "Dismissed suggestions.",
            name=mentor.display_name,
        ),
        "success",
    )
    return redirect(_back())


@bp.post("/suggestions/<int:mentor_id>/restore")
@login_required
def restore_suggestion(mentor_id: int):
    require_form(ConfirmForm(), url_for("mentoring.dismissed_suggestions"))
    suggestions.undo_dismissal(current_user, mentor_id)
    db.session.commit()
    flash(_("This mentor may be suggested to you again."), "success")
    return redirect(url_for("mentoring.dismissed_suggestions"))


@bp.get("/suggestions/dismissed")
@login_required
def dismissed_suggestions():
    return render_template(
        "mentoring/dismissed_suggestions.html",
        dismissals=suggestions.dismissals_of(current_user),
    )
