"""The plugin's blueprint: thin views that parse, authorize, call a service, redirect."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from alma_kudos.services import answer_kudos, done_words, give_kudos, mark_seen, received_page
from core.api import (
    ConfirmForm,
    db,
    local_path,
    member_for,
    page_number,
    run_action,
    writes_on_get,
)

bp = Blueprint("kudos", __name__, url_prefix="/kudos", template_folder="templates")


@bp.get("/")
@login_required
@writes_on_get  # showing the kudos marks them seen
def index():
    mark_seen(current_user)
    db.session.commit()
    return render_template(
        "kudos/index.html", received=received_page(current_user, page_number()), form=ConfirmForm()
    )


@bp.post("/<int:user_id>")
@login_required
def give(user_id: int):
    receiver = member_for(current_user, user_id)
    return run_action(
        lambda: give_kudos(current_user, receiver, request.form.get("message", "")),
        success=_("Kudos sent to %(name)s.", name=receiver.display_name),
        back=url_for("profile.overview", user_id=receiver.id),
    )


@bp.post("/<int:kudos_id>/<action>")
@login_required
def answer(kudos_id: int, action: str):
    """Keep, decline or withdraw kudos: the buttons ``allowed_actions`` offers. An action
    the table lacks is a 404, one on the wrong side a 403, both raised by the service."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return run_action(
        lambda: answer_kudos(current_user, kudos_id, action),
        success=done_words(action),
        back=local_path(request.form.get("next"), url_for("kudos.index")),
    )
