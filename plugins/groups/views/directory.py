"""The directory of groups, creating and editing a group, and a group's page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from core.api import InvalidInput, db, page_number, rate_limit
from plugins.groups.forms import AnnouncementForm, GroupForm, JoinRequestForm
from plugins.groups.services import announcements, directory, forum, invitations, membership
from plugins.groups.services.access import group_for, managed_group, pending_request
from plugins.groups.views.blueprint import bp, group_page


@bp.get("/", endpoint="directory")
def directory_page():
    mine = request.args.get("mine") == "1"
    result = directory.search_groups(
        current_user, text=request.args.get("q", ""), mine=mine, page=page_number()
    )
    return render_template(
        "groups/directory.html",
        result=result,
        mine=mine,
        invitations=invitations.invitations_of(current_user),
    )


def _group_fields(form: GroupForm) -> dict[str, str]:
    return {
        "name": form.name.data,
        "description": form.description.data or "",
        "topic": form.topic.data or "",
        "join_policy": form.join_policy.data,
        "visibility": form.visibility.data,
    }


CREATIONS = rate_limit("groups-create", "5/day")


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            CREATIONS.hit()
            group = directory.create_group(current_user, **_group_fields(form))
        except InvalidInput as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Your group is ready: you are its manager."), "success")
            return redirect(group_page(group.id))
    status = 400 if form.is_submitted() else 200
    return render_template("groups/form.html", form=form, group=None), status


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
def edit(group_id: int):
    group = managed_group(group_id, current_user)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            directory.edit_group(group.id, current_user, **_group_fields(form))
        except InvalidInput as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            db.session.commit()
            flash(_("The group is saved."), "success")
            return redirect(group_page(group_id))
    status = 400 if form.is_submitted() else 200
    return render_template("groups/form.html", form=form, group=group), status


@bp.get("/<int:group_id>")
def group(group_id: int):
    access = group_for(group_id, current_user, invitee_may_see=True)
    found = access.group
    outsider = not found.is_public and not access.is_member  # an invitee: the invitation only
    member_count, managers = (0, []) if outsider else membership.members_and_managers(found)
    return render_template(
        "groups/group.html",
        access=access,
        group=found,
        tab="about",
        outsider=outsider,
        member_count=member_count,
        managers=managers,
        announcements=[] if outsider else announcements.latest_announcements(found),
        topics=[] if outsider else forum.latest_topics(found),
        # the forms and a pending request show only to whom they concern
        request_form=None if access.is_member else JoinRequestForm(),
        announcement_form=AnnouncementForm() if access.is_manager else None,
        pending=None if access.is_member else pending_request(found.id, current_user.id),
    )
