"""Posting an announcement."""

from __future__ import annotations

from flask import flash, redirect
from flask_babel import gettext as _
from flask_login import current_user

from core.api import form_errors, run_action
from plugins.groups.forms import AnnouncementForm
from plugins.groups.services import announcements
from plugins.groups.services.access import managed_group
from plugins.groups.views.blueprint import bp, group_page


@bp.post("/<int:group_id>/announcements")
def announce(group_id: int):
    form = AnnouncementForm()
    if not form.validate_on_submit():
        managed_group(group_id, current_user)
        flash(form_errors(form), "danger")
        return redirect(group_page(group_id, "#announcements"))
    return run_action(
        lambda: announcements.announce(group_id, current_user, form.body.data),
        success=_("The announcement is posted; the members are alerted."),
        back=group_page(group_id, "#announcements"),
    )
