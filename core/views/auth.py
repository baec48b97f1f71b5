"""Register, confirm, log in and out, reset and change the password, change the e-mail."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from core.db import db, writes_on_get
from core.devices import describe_device
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
from core.i18n import visitors_language
from core.models import User
from core.ratelimits import RateLimited, rate_limit
from core.services import accounts
from core.views.navigation import local_path

bp = Blueprint("auth", __name__)

REGISTERED_HERE = "registered_user_id"  # in the session of the browser that registered
LINK_SENT_TO = "link_sent_to"  # the address a form just mailed a link to, for check_inbox

# What anyone can ask without an account, per IP address. Failed logins are counted across
# every account (a stranger trying one password on many), and only failures: a member who
# logs in is not slowed, and a login link by e-mail always works once it is mailed.
REGISTRATIONS = rate_limit("register", "10/hour", per="ip")
LINK_MAILS = rate_limit("link-mail", "20/hour", per="ip")
LOGIN_FAILURES = rate_limit(
    "login-failure",
    "30/hour",
    per="ip",
    message=_l(
        "Too many failed logins from your network. Try again in %(wait)s, or ask for a login"
        " link by e-mail."
    ),
)


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("profile.overview_self"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            REGISTRATIONS.hit()
            user = accounts.register(
                form.email.data or "",
                form.password.data or "",
                form.display_name.data or "",
                locale=visitors_language(),
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


def _check_inbox(email: str, kind: str = "confirm") -> ResponseReturnValue:
    """After a form that mails a link (``kind``: confirm, reset or login): the page that says
    so, at an address of its own, so that a reload does not post the form again."""
    session[LINK_SENT_TO] = {"email": email, "kind": kind}
    return redirect(url_for("auth.check_inbox"))


@bp.get("/check-inbox")
def check_inbox() -> ResponseReturnValue:
    sent = session.get(LINK_SENT_TO)
    if sent is None:
        return redirect(url_for("home.index"))
    return render_template("auth/check_inbox.html", email=sent["email"], kind=sent["kind"])


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
    _log_in(user)
    return redirect(url_for("profile.data"))


@bp.route("/confirm", methods=["GET", "POST"])
def resend_confirmation() -> ResponseReturnValue:
    return _link_by_mail(
        accounts.resend_confirmation,
        kind="confirm",
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
            LOGIN_FAILURES.check()
            user = accounts.authenticate(
                form.email.data or "", form.password.data or "", request.remote_addr or ""
            )
        except InvalidInput as error:
            if not isinstance(error, RateLimited):
                LOGIN_FAILURES.count()
            db.session.commit()  # keeps the recorded failure
            flash(str(error), "danger")
            return render_template("auth/login.html", form=form), 401
        _log_in(user, remember=form.remember.data)
        return redirect(local_path(request.args.get("next"), url_for("profile.overview_self")))
    return render_template("auth/login.html", form=form)


def _log_in(user: User, remember: bool = False) -> None:
    """Log this browser in with a new session of the member's (the caller's work commits)."""
    accounts.start_session(user, request.user_agent.string)
    db.session.commit()
    login_user(user, remember=remember)


@bp.route("/login/link", methods=["GET", "POST"])
def login_link_request() -> ResponseReturnValue:
    return _link_by_mail(
        accounts.send_login_link,
        kind="login",
        heading=_("Log in by e-mail"),
        intro=_(
            "Enter your e-mail address and we will send you a link that logs you in once,"
            " within %(minutes)d minutes. No password needed.",
            minutes=accounts.LOGIN_LINK_MINUTES,
        ),
    )


def _link_by_mail(
    send: Callable[[str], None], kind: str, heading: str, intro: str
) -> ResponseReturnValue:
    """The form that mails a link of ``kind`` to the address typed (``send`` says nothing
    about whether it has an account, nor does the page)."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        try:
            LINK_MAILS.hit()
        except RateLimited as error:
            flash(str(error), "danger")
        else:
            send(form.email.data or "")
            db.session.commit()
            return _check_inbox(form.email.data or "", kind=kind)
    return render_template("auth/email_form.html", form=form, heading=heading, intro=intro)


@bp.get("/login/link/<token>")
@writes_on_get  # following the link from the mail starts a session
def login_by_link(token: str) -> ResponseReturnValue:
    try:
        user = accounts.user_for_login_link(token)
    except InvalidInput as error:
        flash(str(error), "danger")
        return redirect(url_for("auth.login_link_request"))
    if current_user.is_authenticated:
        _end_this_session()
    _log_in(user)
    return redirect(url_for("profile.overview_self"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        if current_user.is_authenticated:
            _end_this_session()
        flash(_("You are logged out."), "info")
    return redirect(url_for("home.index"))


def _end_this_session() -> None:
    """Log this browser out: its session ends on the server too, so a copy of the cookie
    no longer works, and the member's live connections close (the others reconnect)."""
    accounts.end_session(current_user, current_user.login_session_id)
    db.session.commit()
    logout_user()


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> ResponseReturnValue:
    return _link_by_mail(
        accounts.request_password_reset,
        kind="reset",
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
            _log_in(user)
            flash(_("Your new password is set."), "success")
            return redirect(url_for("profile.overview_self"))
    return render_template("auth/reset.html", form=form)


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return _account_page(ChangePasswordForm(prefix="pw"), ChangeEmailForm(prefix="em"))


def _account_page(password_form: ChangePasswordForm, email_form: ChangeEmailForm) -> str:
    return render_template(
        "auth/account.html",
        password_form=password_form,
        email_form=email_form,
        sessions=accounts.sessions_of(current_user),
        describe_device=describe_device,
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
            flash(_("Your password was changed."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(form, ChangeEmailForm(prefix="em")), 400


@bp.post("/account/sessions/end")
@login_required
def end_other_sessions() -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        accounts.end_other_sessions(current_user)
        db.session.commit()
        flash(_("You are logged out on every other device."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("auth.account"))
    if session_id == current_user.login_session_id:
        return logout()
    accounts.end_session(current_user, session_id)
    db.session.commit()
    flash(_("That device is logged out."), "success")
    return redirect(url_for("auth.account"))


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
    return _account_page(ChangePasswordForm(prefix="pw"), form), 400


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
