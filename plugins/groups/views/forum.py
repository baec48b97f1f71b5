"""The group's forum: its topics, a topic's posts, replying, following and deleting."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.api import (
    InvalidInput,
    RateLimited,
    db,
    form_errors,
    local_path,
    page_number,
    run_action,
)
from plugins.groups.forms import FollowForm, ReplyForm, TopicForm
from plugins.groups.models import ForumPost
from plugins.groups.services import forum
from plugins.groups.services.access import group_for, member_group
from plugins.groups.views.blueprint import bp


@bp.get("/<int:group_id>/forum", endpoint="forum")
def forum_page(group_id: int):
    access = group_for(group_id, current_user)
    return render_template(
        "groups/forum.html",
        access=access,
        group=access.group,
        tab="forum",
        result=forum.topics_page(access.group, page_number()),
    )


@bp.route("/<int:group_id>/forum/new", methods=["GET", "POST"])
def new_topic(group_id: int):
    group = member_group(group_id, current_user)
    form = TopicForm()
    if form.validate_on_submit():
        try:
            topic = forum.start_topic(
                group.id, current_user, form.title.data, form.body.data, counted=True
            )
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
    access, found = forum.topic_for(group_id, topic_id, current_user)
    return render_template(
        "groups/topic.html",
        access=access,
        group=access.group,
        topic=found,
        result=forum.posts_page(found, page_number()),
        follow=forum.following(found, current_user),
        reply_form=ReplyForm(),
        follow_form=FollowForm(),
        last_page=forum.page_count(found),
    )


@bp.get("/<int:group_id>/forum/posts/<int:post_id>", endpoint="post")
def post_link(group_id: int, post_id: int):
    """A post's own address: its topic's page that shows it (a report's link, say)."""
    post = db.session.get(ForumPost, post_id)
    if post is None or post.topic.group_id != group_id:
        abort(404)
    forum.topic_for(group_id, post.topic_id, current_user)  # refused to who may not read it
    page = forum.page_of_post(post)
    return redirect(_topic_page(group_id, post.topic_id, page=page) + f"#post-{post.id}")


def _topic_page(group_id: int, topic_id: int, **args: Any) -> str:
    return url_for("groups.topic", group_id=group_id, topic_id=topic_id, **args)


@bp.post("/<int:group_id>/forum/<int:topic_id>/reply")
def reply(group_id: int, topic_id: int):
    form = ReplyForm()
    if not form.validate_on_submit():
        forum.topic_for(group_id, topic_id, current_user)
        flash(form_errors(form) or _("Write something first."), "danger")
        return redirect(_topic_page(group_id, topic_id) + "#reply")
    try:
        post = forum.reply(group_id, topic_id, current_user, form.body.data, counted=True)
    except RateLimited as error:
        flash(str(error), "danger")
        return topic(group_id, topic_id)  # the page again, the reply in its form (a 429)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(_topic_page(group_id, topic_id) + "#reply")
    db.session.commit()
    flash(_("Your reply is posted."), "success")
    last_page = forum.page_count(post.topic)
    return redirect(_topic_page(group_id, topic_id, page=last_page) + f"#post-{post.id}")


@bp.post("/<int:group_id>/forum/<int:topic_id>/follow")
def follow(group_id: int, topic_id: int):
    form = FollowForm()
    form.validate_on_submit()
    by_email = bool(form.by_email.data)
    return run_action(
        lambda: forum.follow_topic(group_id, topic_id, current_user, by_email=by_email),
        success=_("You follow this topic: replies alert you by e-mail too.")
        if by_email
        else _("You follow this topic: replies alert you on the site."),
        back=_topic_page(group_id, topic_id),
    )


@bp.post("/<int:group_id>/forum/<int:topic_id>/unfollow")
def unfollow(group_id: int, topic_id: int):
    return run_action(
        lambda: forum.unfollow_topic(group_id, topic_id, current_user),
        success=_("You no longer follow this topic."),
        back=_topic_page(group_id, topic_id),
    )


@bp.post("/<int:group_id>/forum/<int:topic_id>/delete")
def delete_topic(group_id: int, topic_id: int):
    return run_action(
        lambda: forum.delete_topic(group_id, topic_id, current_user),
        success=_("The topic is deleted."),
        back=url_for("groups.forum", group_id=group_id),
    )


@bp.post("/<int:group_id>/forum/posts/<int:post_id>/delete")
def delete_post(group_id: int, post_id: int):
    back = local_path(request.form.get("back"), url_for("groups.forum", group_id=group_id))
    return run_action(
        lambda: forum.delete_post(group_id, post_id, current_user),
        success=_("The post is deleted."),
        back=back,
    )
