"""A member's profile: core's areas Overview and My data, the areas plugins contribute in
between, and goal consent."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.datastructures import FileStorage

from core.contributions import ProfileField
from core.db import db
from core.errors import InvalidInput, NotFound
from core.forms import ConfirmForm, DeactivateForm, DeleteAccountForm, ProfileForm
from core.i18n import language_names
from core.models import User, UserTopic
from core.services import exports, goals, lifecycle, profiles
from core.services.notifications import latest_alerts
from core.state import alma

bp = Blueprint("profile", __name__)

OVERVIEW_ALERTS = 5  # the latest, on the member's own Overview


def _member_or_404(user_id: int, *options: ORMOption) -> User:
    try:
        return profiles.member_for(current_user, user_id, *options)
    except NotFound:
        abort(404)


def _sections(area: str, member: User) -> list[tuple[str, Markup]]:
    rendered = []
    for section in alma().profile_sections:
        if section.area == area:
            html = section.render(member, current_user._get_current_object())
            if html:
                rendered.append((section.title, Markup(html)))
    return rendered


@bp.get("/me")
@login_required
def overview_self() -> ResponseReturnValue:
    return redirect(url_for("profile.overview", user_id=current_user.id))


@bp.get("/members/<int:user_id>")
@login_required
def overview(user_id: int) -> ResponseReturnValue:
    member = _member_or_404(
        user_id,
        joinedload(User.topics).joinedload(UserTopic.topic),
        joinedload(User.languages),
    )
    is_self = member.id == current_user.id
    shown = goals.goals_of(member, awaiting=is_self)
    titled = (
        {goal.id for goal in shown.completed}
        if is_self
        else goals.goals_shared_with(shown.completed, current_user)
    )
    return render_template(
        "profile/overview.html",
        member=member,
        area="overview",
        is_self=is_self,
        completed=shown.completed,
        titled=titled,
        awaiting=shown.awaiting,
        alerts=latest_alerts(member, OVERVIEW_ALERTS) if is_self else [],
        sections=_sections("overview", member),
        goal_label=goals.goal_label,
        form=ConfirmForm(),
    )


@bp.get("/members/<int:user_id>/<area>")
@login_required
def area(user_id: int, area: str) -> ResponseReturnValue:
    contributed = next((shown for shown in alma().profile_areas if shown.name == area), None)
    if contributed is None:
        abort(404)
    member = _member_or_404(user_id)
    return render_template(
        "profile/area.html",
        member=member,
        area=area,
        empty=contributed.empty,
        is_self=member.id == current_user.id,
        sections=_sections(area, member),
    )


@bp.get("/members/<int:user_id>/data")
@login_required
def data_of(user_id: int) -> ResponseReturnValue:
    member = _member_or_404(user_id)
    if member.id != current_user.id:
        abort(403)
    return redirect(url_for("profile.data"))


@bp.route("/me/data", methods=["GET", "POST"])
@login_required
def data() -> ResponseReturnValue:
    user = current_user._get_current_object()
    contributed = alma().profile_fields
    form = alma().profile_form(obj=user)
    form.fill_choices(language_names(), current_app.config["LANGUAGES"])
    form.photo.description = _(
        "JPEG, PNG, WebP or GIF, at most %(size)s.", size=profiles.max_photo_size()
    )
    if not form.is_submitted():
        form.expertise.data = ", ".join(user.topic_names("expertise"))
        form.interests.data = ", ".join(user.topic_names("interest"))
        form.languages.data = user.language_codes
        form.locale.data = user.locale or ""
        for extra in contributed:
            form[extra.name].data = extra.load(user)
    if form.validate_on_submit():
        try:
            _save_profile(user, form)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Your data is saved."), "success")
            return redirect(url_for("profile.data"))
    status = 400 if form.is_submitted() else 200
    export = exports.latest_export(user)
    return render_template(
        "profile/data.html",
        member=user,
        area="data",
        is_self=True,
        form=form,
        fieldsets=_fieldsets(contributed),
        sections=_sections("data", user),
        export=export,
        export_expires_at=exports.expires_at(export) if export else None,
        next_export_at=exports.next_request_at(export),
        export_form=ConfirmForm(),
        deactivate_form=DeactivateForm(),
        delete_form=DeleteAccountForm(),
        deletion_word=lifecycle.deletion_word(),
        grace_days=lifecycle.grace_period().days,
    ), status


@bp.post("/me/data/export")
@login_required
def request_export() -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        exports.request_export(current_user)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(
            _("We are gathering your data. You get an alert and an e-mail when it is ready."),
            "success",
        )
    return redirect(url_for("profile.data", _anchor="export"))


@bp.get("/me/data/export/<token>")
@login_required
def download_export(token: str) -> ResponseReturnValue:
    path = exports.downloadable_export(token, current_user)
    return send_file(
        path, mimetype="application/zip", as_attachment=True, download_name="my-data.zip"
    )


def _fieldsets(fields: list[ProfileField]) -> list[tuple[str, str, list[str]]]:
    """The fields plugins add to the form, by legend in their order: each legend, its note
    and its fields' names."""
    by_legend: dict[str, tuple[str, str, list[str]]] = {}
    for extra in fields:
        legend = str(extra.legend)
        by_legend.setdefault(legend, (legend, str(extra.note), []))[2].append(extra.name)
    return list(by_legend.values())


def _save_profile(user: User, form: ProfileForm) -> None:
    profiles.update_profile(
        user,
        display_name=form.display_name.data or "",
        bio=form.bio.data or "",
        timezone=form.timezone.data,
        locale=form.locale.data,
        expertise=profiles.split_topics(form.expertise.data or ""),
        interests=profiles.split_topics(form.interests.data or ""),
        languages=form.languages.data or [],
    )
    profiles.save_profile_fields(
        user, {extra.name: form[extra.name].data for extra in alma().profile_fields}
    )
    if form.remove_photo.data:
        profiles.remove_photo(user)
    elif isinstance(form.photo.data, FileStorage) and form.photo.data.filename:
        # (without an upload the field holds the current photo's name, from obj=user)
        profiles.set_photo(user, form.photo.data)


@bp.post("/goals/<int:goal_id>/<any(consent, decline):decision>")
@login_required
def decide_goal(goal_id: int, decision: str) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    action = goals.consent_to_goal if decision == "consent" else goals.decline_goal
    try:
        goal = action(goal_id, current_user)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        if goal.completed_at:
            flash(_("Goal completed: %(title)s", title=goal.title), "success")
        elif decision == "consent":
            flash(_("Thank you. The goal completes when everyone has agreed."), "info")
        else:
            flash(_("You declined this goal."), "info")
    return redirect(url_for("profile.overview_self"))
