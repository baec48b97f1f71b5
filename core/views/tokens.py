"""My data → Apps and API: the member's personal access tokens for the HTTP API (made,
shown once, listed with their last use, revoked)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.db import db
from core.errors import InvalidInput
from core.forms import ConfirmForm, TokenForm
from core.services import tokens

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    return _page(TokenForm())


@bp.post("")
@login_required
def create() -> ResponseReturnValue:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form), 400
    try:
        secret = tokens.create_token(current_user, form.name.data or "", form.scope.data)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _page(form), 400
    db.session.commit()
    # shown on this answer only: never stored, never put in the session cookie
    return _page(TokenForm(formdata=None), new_token=secret)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        tokens.revoke_token(current_user, token_id)
        db.session.commit()
        flash(_("The token is revoked: apps using it are refused from now on."), "success")
    return redirect(url_for("tokens.index"))


def _page(form: TokenForm, new_token: str | None = None) -> str:
    return render_template(
        "auth/tokens.html", form=form, tokens=tokens.tokens_of(current_user), new_token=new_token
    )
