"""Register, confirm, log in and out, reset and change the password, change the e-mail."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core.db import db, writes_on_get
from core.errors import InvalidInput
from core.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    EmailOnlyForm,
    LoginForm,
    NewPasswordForm,
    RegisterForm,
)
from core.realtime import disconnect_user
from core.services import accounts
from core.views.navigation import local_path

bp = Blueprint("auth", __name__)

REGISTERED_HERE = "registered_user_id"  # in the session of the browser that registered
LINK_SENT_TO = "link_sent_to"  # the address a form just mailed a link to, for check_inbox


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("profile.overview_self"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                form.email.data or "", form.password.data or "", form.display_name.data or ""
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            if user is not None:
                session[REGISTERED_HERE] = user.id
            return _check_inbox(form.email.data or "")
    return render_template("auth/register.html", form=form)


def _check_inbox(email: str, reset: bool = False) -> ResponseReturnValue:
    """After a form that mails a link: the page that says so, at an address of its own, so
    that a reload does not post the form again."""
    session[LINK_SENT_TO] = {"email": email, "reset": reset}
    return redirect(url_for("auth.check_inbox"))


@bp.get("/check-inbox")
def check_inbox() -> ResponseReturnValue:
    sent = session.get(LINK_SENT_TO)
    if sent is None:
        return redirect(url_for("home.index"))
    return render_template("auth/check_inbox.html", email=sent["email"], reset=sent["reset"])


@bp.get("/confirm/<token>")
@writes_on_get  # following the link from the mail confirms the address
def confirm(token: str) -> ResponseReturnValue:
    try:
        user = accounts.confirm_email(token)
    except InvalidInput as error:
        flash(str(error), "danger")
        return redirect(url_for("auth.resend_confirmation"))
    db.session.commit()
    if user is None:
        flash(_("Your e-mail address is confirmed already."), "info")
        return redirect(
            url_for("profile.overview_self" if current_user.is_authenticated else "auth.login")
        )
    flash(_("Thank you, your e-mail address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(url_for("profile.data"))
    # Logged in only in the browser that registered: anyone can register someone else's
    # address, and the owner who follows that link must not start using an account whose
    # password a stranger chose. Elsewhere, logging in (or a reset) proves the password.
    if session.pop(REGISTERED_HERE, None) != user.id:
        return redirect(url_for("auth.login"))
    login_user(user)
    return redirect(url_for("profile.data"))


@bp.route("/confirm", methods=["GET", "POST"])
def resend_confirmation() -> ResponseReturnValue:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        try:
            user = accounts.user_by_email(accounts.normalize_email(form.email.data or ""))
        except InvalidInput:
            user = None
        if user and not user.email_confirmed:
            accounts.send_confirmation(user)
            db.session.commit()
        return _check_inbox(form.email.data or "")
    return render_template(
        "auth/email_form.html",
        form=form,
        heading=_("Confirm your e-mail address"),
        intro=_("Enter the address you registered with and we will send you a new link."),
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("profile.overview_self"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data or "", form.password.data or "", request.remote_addr or ""
            )
        except InvalidInput as error:
            db.session.commit()  # keeps the recorded failure
            flash(str(error), "danger")
            return render_template("auth/login.html", form=form), 401
        db.session.commit()
        login_user(user, remember=form.remember.data)
        return redirect(local_path(request.args.get("next"), url_for("profile.overview_self")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        user_id = current_user.id if current_user.is_authenticated else None
        logout_user()
        if user_id:
            disconnect_user(user_id)
        flash(_("You are logged out."), "info")
    return redirect(url_for("home.index"))


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> ResponseReturnValue:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data or "")
        db.session.commit()
        return _check_inbox(form.email.data or "", reset=True)
    return render_template(
        "auth/email_form.html",
        form=form,
        heading=_("Forgot your password?"),
        intro=_("Enter your e-mail address and we will send you a link to choose a new one."),
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    try:
        accounts.user_for_reset(token)
    except InvalidInput as error:
        flash(str(error), "danger")
        return redirect(url_for("auth.reset_request"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data or "")
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            disconnect_user(user.id)  # sockets opened with the old password outlived it
            login_user(user)
            flash(_("Your new password is set."), "success")
            return redirect(url_for("profile.overview_self"))
    return render_template("auth/reset.html", form=form)


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return render_template(
        "auth/account.html",
        password_form=ChangePasswordForm(prefix="pw"),
        email_form=ChangeEmailForm(prefix="em"),
    )


@bp.post("/account/password")
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current_password.data or "", form.password.data or ""
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            _stay_logged_in_here()
            flash(_("Your password was changed."), "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", password_form=form, email_form=ChangeEmailForm(prefix="em")
    ), 400


@bp.post("/account/sessions/end")
@login_required
def end_other_sessions() -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        accounts.end_other_sessions(current_user)
        db.session.commit()
        _stay_logged_in_here()
        flash(_("You are logged out on every other device."), "success")
    return redirect(url_for("auth.account"))


def _stay_logged_in_here() -> None:
    """After the member's other sessions ended (a new password or session epoch): close
    their devices' live connections, and renew this session. "Keep me logged in" stays on if
    it was: the old remember cookie names the old stamp and no longer logs anyone in."""
    disconnect_user(current_user.id)
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_user(current_user._get_current_object(), remember=remember_cookie in request.cookies)


@bp.post("/account/email")
@login_required
def change_email() -> ResponseReturnValue:
    form = ChangeEmailForm(prefix="em")
    if form.validate_on_submit():
        try:
            new_email = accounts.request_email_change(
                current_user, form.current_password.data or "", form.new_email.data or ""
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(
                _("We sent a link to %(email)s: follow it to confirm the change.", email=new_email),
                "info",
            )
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", password_form=ChangePasswordForm(prefix="pw"), email_form=form
    ), 400


@bp.get("/account/email/<token>")
@writes_on_get  # following the link from the mail changes the address
def confirm_email_change(token: str) -> ResponseReturnValue:
    try:
        accounts.confirm_email_change(token)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("home.index"))
    db.session.commit()
    flash(_("Your e-mail address was changed."), "success")
    return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.login"))
