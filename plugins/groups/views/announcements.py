"""Posting an announcement."""

from __future__ import annotations

from flask import flash, redirect
from flask_babel import gettext as _
from flask_login import current_user

from plugins.groups.forms import AnnouncementForm
from plugins.groups.services import announcements
from plugins.groups.services.access import managed_group
from plugins.groups.views.blueprint import _act, bp, form_errors, group_page


@bp.post("/<int:group_id>/announcements")
def announce(group_id: int):
    form = AnnouncementForm()
    if not form.validate_on_submit():
        managed_group(group_id, current_user)
        flash(form_errors(form), "danger")
        return redirect(group_page(group_id, "#announcements"))
    return _act(
        lambda: announcements.announce(group_id, current_user, form.body.data),
        _("The announcement is posted; the members are alerted."),
        group_page(group_id, "#announcements"),
    )
