"""Which e-mails a member gets (My data → Notifications), and the unsubscribe link of a mail,
which works without logging in."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.contributions import MAIL_CHOICES
from core.db import db
from core.errors import InvalidInput, NotFound
from core.forms import ConfirmForm
from core.services import mail_kinds

bp = Blueprint("mail", __name__)

ONE_CLICK = "One-Click"  # the body of RFC 8058's POST: List-Unsubscribe=One-Click


@bp.route("/me/notifications", methods=["GET", "POST"])
@login_required
def preferences() -> ResponseReturnValue:
    user = current_user._get_current_object()
    form = ConfirmForm()
    catalog = mail_kinds.catalog()
    choices = mail_kinds.choices_of(user)
    status = 200
    if form.is_submitted():
        if not form.validate_on_submit():
            abort(400)
        # a kind the form does not carry (it was declared since the page was shown) stays
        chosen = {
            name: request.form[name]
            for name, kind in catalog.kinds.items()
            if kind.can_turn_off and name in request.form
        }
        try:
            mail_kinds.choose(user, chosen)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
            choices |= {name: c for name, c in chosen.items() if c in MAIL_CHOICES}
            status = 400
        else:
            db.session.commit()
            flash(_("Your choices are saved."), "success")
            return redirect(url_for("mail.preferences"))
    return render_template(
        "profile/notifications.html",
        member=user,
        area="data",
        is_self=True,
        sections=[],
        form=form,
        kinds_by_heading=catalog.by_heading(),
        choices=choices,
        digest_hour=current_app.config["MAIL_DIGEST_HOUR"],
    ), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET asks (link scanners follow links); POST turns the link's kinds off: the page's
    button (with its CSRF token) or a mail program's one-click POST (RFC 8058), which carries
    no cookie and no token: the signed link is its proof."""
    posted = request.method == "POST"
    one_click = posted and request.form.get("List-Unsubscribe") == ONE_CLICK
    if posted and not one_click and current_app.config["WTF_CSRF_ENABLED"]:
        current_app.extensions["csrf"].protect()  # raises CSRFError: the error page
    try:
        member, kinds = mail_kinds.read_unsubscribe_token(token)
    except InvalidInput as error:
        raise NotFound(str(error)) from None
    form = ConfirmForm()
    if posted:
        mail_kinds.turn_off(member, kinds)
        db.session.commit()
    return render_template(
        "auth/unsubscribe.html",
        kinds=kinds,
        done=posted,
        form=form,
        logged_in_as_member=current_user.is_authenticated and current_user.id == member.id,
    )


def exempt_one_click(app: Flask) -> None:
    """The unsubscribe view checks CSRF itself: a one-click POST has no token."""
    app.extensions["csrf"].exempt(unsubscribe)
