"""The plugin's blueprint: thin views that parse, authorize, call a service, redirect."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from alma_kudos.services import give_kudos, mark_seen, received_page, withdraw_kudos
from core.api import ConfirmForm, DomainError, User, db, local_path, page_number, writes_on_get

bp = Blueprint("kudos", __name__, url_prefix="/kudos", template_folder="templates")


@bp.get("/")
@login_required
@writes_on_get  # showing the kudos marks them seen
def index():
    mark_seen(current_user)
    db.session.commit()
    received, has_more = received_page(current_user, page_number())
    return render_template(
        "kudos/index.html",
        received=received,
        page=page_number(),
        has_more=has_more,
        form=ConfirmForm(),
    )


@bp.post("/<int:user_id>")
@login_required
def give(user_id: int):
    receiver = db.session.get(User, user_id) or abort(404)
    try:
        give_kudos(current_user, receiver, request.form.get("message", ""))
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(f"Kudos sent to {receiver.display_name}.", "success")
    return redirect(url_for("profile.overview", user_id=receiver.id))


@bp.post("/given/<int:kudos_id>/withdraw")
@login_required
def withdraw(kudos_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        withdraw_kudos(current_user, kudos_id)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash("Kudos withdrawn.", "success")
    return redirect(local_path(request.form.get("next"), url_for("kudos.index")))
