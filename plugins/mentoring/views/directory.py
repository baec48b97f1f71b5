"""Finding a mentor: the mentor directory, and a mentor's own settings (capacity, accepting)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import InvalidInput, db, language_names, page_number
from plugins.mentoring.forms import MentorSettingsForm
from plugins.mentoring.services import directory as mentor_directory
from plugins.mentoring.services import fields
from plugins.mentoring.views.blueprint import bp
from plugins.mentoring.views.suggestions import suggestions_for_viewer

ABOVE_SEARCH = 3  # suggestions above the directory's search: on a phone, the search stays near


@bp.get("/mentors")
@login_required  # profiles are for members: see core/templates/profile/data.html
def directory():
    listed = fields.fields_of_study()
    field = listed.by_code.get(request.args.get("field", ""))
    page = mentor_directory.search_mentors(
        text=request.args.get("q", ""),
        topic=request.args.get("topic", ""),
        language=request.args.get("language", ""),
        field=field.code if field else "",
        with_room=request.args.get("free") == "1",
        page=page_number(),
    )
    lists = mentor_directory.lists_of(page)
    searching = any(request.args.get(name) for name in ("q", "topic", "language", "free", "field"))
    return render_template(
        "mentoring/directory.html",
        result=page,
        languages=language_names(),
        # at the top of the whole directory's first page, not of a search's results
        suggestions=None if searching or page.page > 1 else suggestions_for_viewer(ABOVE_SEARCH),
        fields=listed,
        field=field,
        # a link shared before the operator's list of fields dropped it
        field_unknown=bool(request.args.get("field")) and field is None,
        mentor_fields=lists.fields,
        expertise=lists.expertise,
        spoken=lists.languages,
        field_label=fields.field_label,
    )


@bp.post("/settings")
@login_required
def mentor_settings():
    form = MentorSettingsForm()
    if form.validate_on_submit():
        try:
            mentor_directory.update_mentor_settings(
                current_user, capacity=form.capacity.data, accepting=form.accepting.data
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Your mentoring settings are saved."), "success")
    else:
        flash(_("Choose a capacity between 1 and 20 mentees."), "danger")
    return redirect(url_for("profile.data") + "#my-mentoring")
