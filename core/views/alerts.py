"""A member's site alerts: the list, and marking them read."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from core.db import db
from core.forms import ConfirmForm
from core.models import Notification
from core.services.notifications import alerts_page, mark_read, unread_count
from core.views.navigation import local_path, page_number

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    page = page_number()
    alerts, has_more = alerts_page(current_user, page)
    return render_template(
        "core/alerts.html",
        alerts=alerts,
        page=page,
        has_more=has_more,
        unread=unread_count(current_user),
        form=ConfirmForm(),
    )


@bp.post("/read")
@login_required
def read_all() -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mark_read(current_user)
    db.session.commit()
    return redirect(url_for("alerts.index"))


@bp.post("/<int:alert_id>/open")
@login_required
def open_alert(alert_id: int) -> ResponseReturnValue:
    """Mark one alert read and follow its link."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    alert = db.session.get(Notification, alert_id)
    if alert is None:
        abort(404)
    if alert.user_id != current_user.id:
        abort(403)
    mark_read(current_user, alert.id)
    db.session.commit()
    return redirect(local_path(alert.url, url_for("alerts.index")))
