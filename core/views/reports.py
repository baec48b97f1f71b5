"""The member's side of moderation: the form to report an item (of any kind a plugin
registers, or a profile) to the moderators. The staff's side is the console's Reports."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.db import db
from core.errors import InvalidInput
from core.forms import ReportForm
from core.services.reports import REASON_LABELS, TooManyReports, file_report, reportable

bp = Blueprint("reports", __name__)


def report_form() -> ReportForm:
    form = ReportForm()
    form.reason.choices = [("", _("Choose a reason…"))] + [
        (name, str(label)) for name, label in REASON_LABELS.items()
    ]
    return form


@bp.route("/report/<kind>/<int:item_id>", methods=["GET", "POST"])
@login_required
def report(kind: str, item_id: int) -> ResponseReturnValue:
    viewer = current_user._get_current_object()
    item = reportable(kind, item_id, viewer)  # 404 to whoever may not see it
    form = report_form()
    status = 200
    if form.validate_on_submit():
        try:
            file_report(viewer, kind, item_id, form.reason.data or "", form.text.data or "")
        except TooManyReports as error:
            db.session.rollback()
            flash(str(error), "danger")
            status = 429
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
            status = 400
        else:
            db.session.commit()
            # the same words whatever became of it: a new report, or one already waiting
            flash(_("Thank you for telling us. The moderators will look at it."), "success")
            return redirect(item.url)
    elif form.is_submitted():
        status = 400
    return render_template("reports/new.html", form=form, item=item, kind=kind), status
