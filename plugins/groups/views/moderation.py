"""The managers' page, and what managers do to members (remove, ban, lift a ban, appoint)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.api import InvalidInput, db, local_path
from plugins.groups.services import invitations, membership, moderation
from plugins.groups.services.access import group_for, managed_group
from plugins.groups.views.blueprint import bp


@bp.get("/<int:group_id>/manage")
def manage(group_id: int):
    group = managed_group(group_id, current_user)
    query = request.args.get("q", "")
    return render_template(
        "groups/manage.html",
        access=group_for(group_id, current_user),
        group=group,
        tab="manage",
        requests=membership.pending_requests(group),
        invitations=invitations.pending_invitations(group),
        banned=moderation.banned_members(group),
        history=moderation.history(group),
        query=query,
        candidates=invitations.invite_candidates(group, query),
    )


MEMBER_ACTIONS = {
    "remove": (moderation.remove_member, lambda name: _("%(name)s was removed.", name=name)),
    "ban": (moderation.ban_member, lambda name: _("%(name)s is banned.", name=name)),
    "lift-ban": (moderation.lift_ban, lambda name: _("The ban of %(name)s is lifted.", name=name)),
    "appoint": (
        moderation.appoint_manager,
        lambda name: _("%(name)s is a manager now.", name=name),
    ),
}


@bp.post("/<int:group_id>/members/<int:member_id>/<any(remove, ban, 'lift-ban', appoint):action>")
def manage_member(group_id: int, member_id: int, action: str):
    change, done = MEMBER_ACTIONS[action]
    try:
        membership = change(group_id, current_user, member_id)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(done(membership.user.display_name), "success")
    return redirect(
        local_path(request.form.get("back"), url_for("groups.members", group_id=group_id))
    )
