"""The plugin's blueprint: thin views that parse, authorize, call a service, redirect."""

from flask import Blueprint, abort, request, url_for
from flask_login import current_user, login_required

from alma_kudos.services import give_kudos
from core.api import User, db, run_action

bp = Blueprint("kudos", __name__, url_prefix="/kudos", template_folder="templates")


@bp.post("/<int:user_id>")
@login_required
def give(user_id: int):
    receiver = db.session.get(User, user_id) or abort(404)
    return run_action(
        lambda: give_kudos(current_user, receiver, request.form.get("message", "")),
        success=f"Kudos sent to {receiver.display_name}.",
        back=url_for("profile.overview", user_id=receiver.id),
    )
