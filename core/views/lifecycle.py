"""A member ends their account themselves (My data): deactivate, ask for its deletion; and
the page a deactivated member meets after logging in, to come back or cancel the deletion."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from core.db import db
from core.errors import InvalidInput
from core.forms import ConfirmForm, DeactivateForm, DeleteAccountForm, form_errors, run_action
from core.i18n import format_when
from core.services import lifecycle

bp = Blueprint("lifecycle", __name__)

# what a deactivated member may still open: this page, logging out, the site's files, and
# an unsubscribe link from a mail (it works for anyone holding it)
OPEN_WHILE_DEACTIVATED = {
    "lifecycle.welcome_back",
    "lifecycle.reactivate",
    "auth.logout",
    "mail.unsubscribe",
}


@bp.before_app_request
def _deactivated_members_choose_first() -> ResponseReturnValue | None:
    """A deactivated member who logs in meets the page offering to come back (or to cancel
    their deletion) before anything else: nothing reactivates by itself."""
    endpoint = request.endpoint or ""
    if (
        current_user.is_authenticated
        and current_user.is_deactivated
        and endpoint not in OPEN_WHILE_DEACTIVATED
        and endpoint != "static"
        and not endpoint.endswith(".static")
    ):
        return redirect(url_for("lifecycle.welcome_back"))
    return None


def _back_to_data() -> str:
    return url_for("profile.data", _anchor="account")


@bp.post("/me/data/deactivate")
@login_required
def deactivate() -> ResponseReturnValue:
    form = DeactivateForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "danger")
        return redirect(_back_to_data())
    user = current_user._get_current_object()
    try:
        lifecycle.deactivate(user, form.password.data or "")
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(_back_to_data())
    db.session.commit()
    logout_user()  # the session ended with all the others
    flash(_("Your account is deactivated. Log in again whenever you want to come back."), "info")
    return redirect(url_for("home.index"))


@bp.post("/me/data/delete")
@login_required
def delete() -> ResponseReturnValue:
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "danger")
        return redirect(_back_to_data())
    user = current_user._get_current_object()
    try:
        due = lifecycle.request_deletion(user, form.password.data or "", form.word.data or "")
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(_back_to_data())
    db.session.commit()
    # said on the member's clock: before logging out, after which the page has no viewer
    said = _(
        "Your account will be deleted on %(when)s. We sent you an e-mail; log in before"
        " then to cancel.",
        when=format_when(due),
    )
    logout_user()
    flash(said, "info")
    return redirect(url_for("home.index"))


@bp.get("/me/welcome-back")
@login_required
def welcome_back() -> ResponseReturnValue:
    if not current_user.is_deactivated:
        return redirect(url_for("profile.overview_self"))
    return render_template(
        "profile/welcome_back.html", due=current_user.deletion_due_at, form=ConfirmForm()
    )


@bp.post("/me/welcome-back")
@login_required
def reactivate() -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("lifecycle.welcome_back"))
    cancelling = current_user.deletion_due_at is not None
    return run_action(
        lambda: lifecycle.reactivate(current_user),
        success=_("The deletion is cancelled: welcome back!")
        if cancelling
        else _("Your account is active again: welcome back!"),
        back=url_for("profile.overview_self"),
    )
