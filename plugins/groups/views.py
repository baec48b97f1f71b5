"""The groups plugin's pages: thin views that parse, authorize through the services, and
render. Every route goes through ``services.group_for`` (directly or through a service), so a
members-only group is a 404 to anyone outside it on every page and action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from core.api import InvalidInput, db, local_path, page_number, whole_number
from plugins.groups import services
from plugins.groups.forms import (
    AnnouncementForm,
    FollowForm,
    GroupForm,
    JoinRequestForm,
    ReplyForm,
    TopicForm,
)

bp = Blueprint(
    "groups",
    __name__,
    url_prefix="/groups",
    template_folder="templates",
    static_folder="static",
)

bp.add_app_template_global(services.join_policy_label, "group_join_policy_label")
bp.add_app_template_global(services.visibility_label, "group_visibility_label")
bp.add_app_template_global(services.request_state_label, "group_request_state_label")
bp.add_app_template_global(services.action_label, "group_action_label")


@bp.before_request
@login_required
def _members_only() -> None:
    """Every page of groups is for logged-in members."""


def _act(action: Callable[[], Any], success: str, back: str) -> Response:
    """Run a change from a form post: commit and say so, or roll back and say why."""
    try:
        action()
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(back)


def _form_errors(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _group_page(group_id: int, anchor: str = "") -> str:
    return url_for("groups.group", group_id=group_id) + anchor


# ---- directory and groups --------------------------------------------------------------------


@bp.get("/")
def directory():
    mine = request.args.get("mine") == "1"
    result = services.search_groups(
        current_user, text=request.args.get("q", ""), mine=mine, page=page_number()
    )
    return render_template(
        "groups/directory.html",
        result=result,
        mine=mine,
        invitations=services.invitations_of(current_user),
    )


def _group_fields(form: GroupForm) -> dict[str, str]:
    return {
        "name": form.name.data,
        "description": form.description.data or "",
        "topic": form.topic.data or "",
        "join_policy": form.join_policy.data,
        "visibility": form.visibility.data,
    }


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = services.create_group(current_user, **_group_fields(form))
        except InvalidInput as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Your group is ready: you are its manager."), "success")
            return redirect(_group_page(group.id))
    status = 400 if form.is_submitted() else 200
    return render_template("groups/form.html", form=form, group=None), status


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
def edit(group_id: int):
    group = services.managed_group(group_id, current_user)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            services.edit_group(group.id, current_user, **_group_fields(form))
        except InvalidInput as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            db.session.commit()
            flash(_("The group is saved."), "success")
            return redirect(_group_page(group_id))
    status = 400 if form.is_submitted() else 200
    return render_template("groups/form.html", form=form, group=group), status


@bp.get("/<int:group_id>")
def group(group_id: int):
    access = services.group_for(group_id, current_user, invitee_may_see=True)
    found = access.group
    outsider = not found.is_public and not access.is_member  # an invitee: the invitation only
    member_count, managers = (0, []) if outsider else services.members_and_managers(found)
    return render_template(
        "groups/group.html",
        access=access,
        group=found,
        tab="about",
        outsider=outsider,
        member_count=member_count,
        managers=managers,
        announcements=[] if outsider else services.latest_announcements(found),
        topics=[] if outsider else services.latest_topics(found),
        # the forms and a pending request show only to whom they concern
        request_form=None if access.is_member else JoinRequestForm(),
        announcement_form=AnnouncementForm() if access.is_manager else None,
        pending=None if access.is_member else services.pending_request(found.id, current_user.id),
    )


@bp.get("/<int:group_id>/members")
def members(group_id: int):
    access = services.group_for(group_id, current_user)
    return render_template(
        "groups/members.html",
        access=access,
        group=access.group,
        tab="members",
        result=services.members_page(access.group, page_number()),
    )


@bp.get("/<int:group_id>/manage")
def manage(group_id: int):
    group = services.managed_group(group_id, current_user)
    query = request.args.get("q", "")
    return render_template(
        "groups/manage.html",
        access=services.group_for(group_id, current_user),
        group=group,
        tab="manage",
        requests=services.pending_requests(group),
        invitations=services.pending_invitations(group),
        banned=services.banned_members(group),
        history=services.history(group),
        query=query,
        candidates=services.invite_candidates(group, query),
    )


# ---- joining and leaving ---------------------------------------------------------------------


@bp.post("/<int:group_id>/join")
def join(group_id: int):
    return _act(
        lambda: services.join_group(group_id, current_user),
        _("Welcome to the group!"),
        _group_page(group_id),
    )


@bp.post("/<int:group_id>/request")
def ask_to_join(group_id: int):
    form = JoinRequestForm()
    if not form.validate_on_submit():
        services.group_for(group_id, current_user)  # a 404 before any hint about the group
        flash(_form_errors(form), "danger")
        return redirect(_group_page(group_id))
    return _act(
        lambda: services.request_to_join(group_id, current_user, form.message.data),
        _("Your request is on its way to the managers."),
        _group_page(group_id),
    )


@bp.post("/<int:group_id>/request/withdraw")
def withdraw_request(group_id: int):
    return _act(
        lambda: services.withdraw_request(group_id, current_user),
        _("You withdrew your request."),
        _group_page(group_id),
    )


@bp.post("/<int:group_id>/invitation/<any(accept, decline):answer>")
def answer_invitation(group_id: int, answer: str):
    accept = answer == "accept"
    try:
        services.answer_invitation(group_id, current_user, accept=accept)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("groups.directory"))
    db.session.commit()
    if accept:
        flash(_("Welcome to the group!"), "success")
        return redirect(_group_page(group_id))
    flash(_("You declined the invitation."), "success")
    return redirect(url_for("groups.directory"))


@bp.post("/<int:group_id>/leave")
def leave(group_id: int):
    try:
        services.leave_group(group_id, current_user)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(_group_page(group_id))
    db.session.commit()
    flash(_("You left the group."), "success")
    return redirect(url_for("groups.directory"))


@bp.post("/<int:group_id>/step-down")
def step_down(group_id: int):
    return _act(
        lambda: services.step_down(group_id, current_user),
        _("You are a member now, no longer a manager."),
        _group_page(group_id),
    )


# ---- managing --------------------------------------------------------------------------------


@bp.post("/<int:group_id>/requests/<int:request_id>/<any(approve, decline):decision>")
def decide_request(group_id: int, request_id: int, decision: str):
    if decision == "approve":
        action, done = services.approve_request, _("The request is approved: welcome them!")
    else:
        action, done = services.decline_request, _("The request is declined.")
    return _act(
        lambda: action(group_id, request_id, current_user),
        done,
        url_for("groups.manage", group_id=group_id),
    )


@bp.post("/<int:group_id>/invitations")
def invite(group_id: int):
    member_id = whole_number(request.form.get("member_id")) or 0  # 0: nobody
    return _act(
        lambda: services.invite(group_id, current_user, member_id),
        _("The invitation is sent."),
        url_for("groups.manage", group_id=group_id),
    )


@bp.post("/<int:group_id>/invitations/<int:invitation_id>/revoke")
def revoke_invitation(group_id: int, invitation_id: int):
    return _act(
        lambda: services.revoke_invitation(group_id, invitation_id, current_user),
        _("The invitation is revoked."),
        url_for("groups.manage", group_id=group_id),
    )


MEMBER_ACTIONS = {
    "remove": (services.remove_member, lambda name: _("%(name)s was removed.", name=name)),
    "ban": (services.ban_member, lambda name: _("%(name)s is banned.", name=name)),
    "lift-ban": (services.lift_ban, lambda name: _("The ban of %(name)s is lifted.", name=name)),
    "appoint": (
        services.appoint_manager,
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


@bp.post("/<int:group_id>/announcements")
def announce(group_id: int):
    form = AnnouncementForm()
    if not form.validate_on_submit():
        services.managed_group(group_id, current_user)
        flash(_form_errors(form), "danger")
        return redirect(_group_page(group_id, "#announcements"))
    return _act(
        lambda: services.announce(group_id, current_user, form.body.data),
        _("The announcement is posted; the members are alerted."),
        _group_page(group_id, "#announcements"),
    )


# ---- forum -----------------------------------------------------------------------------------


@bp.get("/<int:group_id>/forum")
def forum(group_id: int):
    access = services.group_for(group_id, current_user)
    return render_template(
        "groups/forum.html",
        access=access,
        group=access.group,
        tab="forum",
        result=services.topics_page(access.group, page_number()),
    )


@bp.route("/<int:group_id>/forum/new", methods=["GET", "POST"])
def new_topic(group_id: int):
    group = services.member_group(group_id, current_user)
    form = TopicForm()
    if form.validate_on_submit():
        try:
            topic = services.start_topic(group.id, current_user, form.title.data, form.body.data)
        except InvalidInput as error:
            db.session.rollback()
            form.body.errors = [*form.body.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Your topic is posted. You follow it: replies will alert you."), "success")
            return redirect(url_for("groups.topic", group_id=group.id, topic_id=topic.id))
    status = 400 if form.is_submitted() else 200
    return render_template("groups/new_topic.html", group=group, form=form), status


@bp.get("/<int:group_id>/forum/<int:topic_id>")
def topic(group_id: int, topic_id: int):
    access, found = services.topic_for(group_id, topic_id, current_user)
    return render_template(
        "groups/topic.html",
        access=access,
        group=access.group,
        topic=found,
        result=services.posts_page(found, page_number()),
        follow=services.following(found, current_user),
        reply_form=ReplyForm(),
        follow_form=FollowForm(),
        last_page=services.page_count(found),
    )


def _topic_page(group_id: int, topic_id: int, **args: Any) -> str:
    return url_for("groups.topic", group_id=group_id, topic_id=topic_id, **args)


@bp.post("/<int:group_id>/forum/<int:topic_id>/reply")
def reply(group_id: int, topic_id: int):
    form = ReplyForm()
    if not form.validate_on_submit():
        services.topic_for(group_id, topic_id, current_user)
        flash(_form_errors(form) or _("Write something first."), "danger")
        return redirect(_topic_page(group_id, topic_id) + "#reply")
    try:
        post = services.reply(group_id, topic_id, current_user, form.body.data)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(_topic_page(group_id, topic_id) + "#reply")
    db.session.commit()
    flash(_("Your reply is posted."), "success")
    last_page = services.page_count(post.topic)
    return redirect(_topic_page(group_id, topic_id, page=last_page) + f"#post-{post.id}")


@bp.post("/<int:group_id>/forum/<int:topic_id>/follow")
def follow(group_id: int, topic_id: int):
    form = FollowForm()
    form.validate_on_submit()
    by_email = bool(form.by_email.data)
    return _act(
        lambda: services.follow_topic(group_id, topic_id, current_user, by_email=by_email),
        _("You follow this topic: replies alert you by e-mail too.")
        if by_email
        else _("You follow this topic: replies alert you on the site."),
        _topic_page(group_id, topic_id),
    )


@bp.post("/<int:group_id>/forum/<int:topic_id>/unfollow")
def unfollow(group_id: int, topic_id: int):
    return _act(
        lambda: services.unfollow_topic(group_id, topic_id, current_user),
        _("You no longer follow this topic."),
        _topic_page(group_id, topic_id),
    )


@bp.post("/<int:group_id>/forum/<int:topic_id>/delete")
def delete_topic(group_id: int, topic_id: int):
    return _act(
        lambda: services.delete_topic(group_id, topic_id, current_user),
        _("The topic is deleted."),
        url_for("groups.forum", group_id=group_id),
    )


@bp.post("/<int:group_id>/forum/posts/<int:post_id>/delete")
def delete_post(group_id: int, post_id: int):
    back = local_path(request.form.get("back"), url_for("groups.forum", group_id=group_id))
    return _act(
        lambda: services.delete_post(group_id, post_id, current_user),
        _("The post is deleted."),
        back,
    )
