"""Pages and posts for joining and leaving: the member list, joining, asking to join and
the managers' answer, leaving and stepping down."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.api import InvalidInput, db, form_errors, page_number, run_action
from plugins.groups.forms import JoinRequestForm
from plugins.groups.services import membership
from plugins.groups.services.access import group_for
from plugins.groups.views.blueprint import bp, group_page


@bp.get("/<int:group_id>/members")
def members(group_id: int):
    access = group_for(group_id, current_user)
    return render_template(
        "groups/members.html",
        access=access,
        group=access.group,
        tab="members",
        result=membership.members_page(access.group, page_number()),
    )


@bp.post("/<int:group_id>/join")
def join(group_id: int):
    return run_action(
        lambda: membership.join_group(group_id, current_user),
        success=_("Welcome to the group!"),
        back=group_page(group_id),
    )


@bp.post("/<int:group_id>/request")
def ask_to_join(group_id: int):
    form = JoinRequestForm()
    if not form.validate_on_submit():
        group_for(group_id, current_user)  # a 404 before any hint about the group
        flash(form_errors(form), "danger")
        return redirect(group_page(group_id))
    return run_action(
        lambda: membership.request_to_join(group_id, current_user, form.message.data),
        success=_("Your request is on its way to the managers."),
        back=group_page(group_id),
    )


@bp.post("/<int:group_id>/request/withdraw")
def withdraw_request(group_id: int):
    return run_action(
        lambda: membership.withdraw_request(group_id, current_user),
        success=_("You withdrew your request."),
        back=group_page(group_id),
    )


@bp.post("/<int:group_id>/leave")
def leave(group_id: int):
    try:
        membership.leave_group(group_id, current_user)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(group_page(group_id))
    db.session.commit()
    flash(_("You left the group."), "success")
    return redirect(url_for("groups.directory"))


@bp.post("/<int:group_id>/step-down")
def step_down(group_id: int):
    return run_action(
        lambda: membership.step_down(group_id, current_user),
        success=_("You are a member now, no longer a manager."),
        back=group_page(group_id),
    )


@bp.post("/<int:group_id>/requests/<int:request_id>/<any(approve, decline):decision>")
def decide_request(group_id: int, request_id: int, decision: str):
    if decision == "approve":
        action, done = membership.approve_request, _("The request is approved: welcome them!")
    else:
        action, done = membership.decline_request, _("The request is declined.")
    return run_action(
        lambda: action(group_id, request_id, current_user),
        success=done,
        back=url_for("groups.manage", group_id=group_id),
    )
