"""Credits in the staff's console (admins only, as the issue's "System" part says): adjust a
member's credits by hand with a reason, and undo an adjustment. Each act is one row of the
audit log, written by the services."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.api import (
    AdminSection,
    InvalidInput,
    page_number,
    page_of,
    require_form,
    run_action,
    staff_required,
    user_by_email,
)
from plugins.credits import services
from plugins.credits.forms import AdjustmentForm, UndoAdjustmentForm

PAGE_SIZE = 50

bp = Blueprint("credits_admin", __name__, url_prefix="/admin/credits", template_folder="templates")

SECTION = AdminSection(
    _l("Credits"),
    "credits_admin.index",
    "admin",
    note=_l("Adjust a member's credits by hand, with a reason; undo an adjustment."),
    order=610,
)


@bp.get("/")
@staff_required(SECTION.role)
def index():
    page = page_of(services.adjustments_query(), page_number(), PAGE_SIZE, rows=True)
    return render_template(
        "credits/admin/index.html",
        page=page,
        undone=services.undone_ids([entry for entry, _member in page.items]),
        form=AdjustmentForm(),
        undo_form=UndoAdjustmentForm(),
    )


@bp.post("/adjust")
@staff_required(SECTION.role)
def adjust():
    form = AdjustmentForm()
    back = url_for("credits_admin.index")
    require_form(form, back)

    def act() -> None:
        member = user_by_email((form.email.data or "").strip().lower())
        if member is None:
            raise InvalidInput(_("No member has the address %(email)s.", email=form.email.data))
        services.adjust_credits(
            current_user._get_current_object(), member, form.points.data or 0, form.reason.data
        )

    return run_action(act, success=_("The credits are adjusted."), back=back)


@bp.post("/entries/<int:entry_id>/undo")
@staff_required(SECTION.role)
def undo(entry_id: int):
    form = UndoAdjustmentForm()
    back = url_for("credits_admin.index")
    require_form(form, back)
    return run_action(
        lambda: services.undo_adjustment(
            current_user._get_current_object(), entry_id, form.reason.data or ""
        ),
        success=_("The adjustment is undone."),
        back=back,
    )
