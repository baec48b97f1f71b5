"""Inviting a member, revoking an invitation, and the invitee's answer."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.api import InvalidInput, db, run_action, whole_number
from plugins.groups.services import invitations
from plugins.groups.views.blueprint import bp, group_page


@bp.post("/<int:group_id>/invitation/<any(accept, decline):answer>")
def answer_invitation(group_id: int, answer: str):
    accept = answer == "accept"
    try:
        invitations.answer_invitation(group_id, current_user, accept=accept)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("groups.directory"))
    db.session.commit()
    if accept:
        flash(_("Welcome to the group!"), "success")
        return redirect(group_page(group_id))
    flash(_("You declined the invitation."), "success")
    return redirect(url_for("groups.directory"))


@bp.post("/<int:group_id>/invitations")
def invite(group_id: int):
    member_id = whole_number(request.form.get("member_id")) or 0  # 0: nobody
    return run_action(
        lambda: invitations.invite(group_id, current_user, member_id),
        success=_("The invitation is sent."),
        back=url_for("groups.manage", group_id=group_id),
    )


@bp.post("/<int:group_id>/invitations/<int:invitation_id>/revoke")
def revoke_invitation(group_id: int, invitation_id: int):
    return run_action(
        lambda: invitations.revoke_invitation(group_id, invitation_id, current_user),
        success=_("The invitation is revoked."),
        back=url_for("groups.manage", group_id=group_id),
    )
