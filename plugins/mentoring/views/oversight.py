"""The console's section "Mentorships" (blueprint ``mentoring_admin``, under /admin): every
mentorship and the stuck pairs, a nudge to a stuck pair, ending a mentorship and extending
its agreement. Coordinators and admins only; no page here shows the pair's chat."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.api import (
    AdminSection,
    InvalidInput,
    NotAllowed,
    allowed_actions,
    db,
    local_path,
    page_number,
    page_of,
    require_form,
    run_action,
    staff_required,
    today_of,
)
from plugins.mentoring.forms import ExtendForm, NudgeForm, StaffEndForm, filled
from plugins.mentoring.models import STATES, STUCK_RULES
from plugins.mentoring.services import agreements, ending, lifecycle, meetings, oversight

PAGE_SIZE = 50

bp = Blueprint("mentoring_admin", __name__, url_prefix="/admin/mentorships")

SECTION = AdminSection(
    _l("Mentorships"),
    "mentoring_admin.mentorships",
    "coordinator",
    count=oversight.count_stuck,
    note=_l("Every mentorship by state; the stuck pairs, to nudge; end one, or extend it."),
    order=30,
    count_label=_l("stuck"),
)


def _filters() -> dict[str, str]:
    """The filters given (a state that exists, the names' words, the stuck pairs only)."""
    filters = {name: request.args.get(name, "").strip() for name in ("state", "q", "stuck")}
    if filters["state"] not in STATES:
        filters["state"] = ""
    if filters["stuck"] != "1":
        filters["stuck"] = ""
    return {name: value for name, value in filters.items() if value}


@bp.get("")
@staff_required(SECTION.role)
def mentorships():
    filters = _filters()
    query = oversight.overseen_query(
        state=filters.get("state", ""), q=filters.get("q", ""), stuck="stuck" in filters
    )
    page = page_of(query, page_number(), PAGE_SIZE, rows=True)
    return render_template(
        "mentoring/admin/mentorships.html",
        page=page,
        rows=oversight.overseen_rows(page.items),
        filters=filters,
        search={name: value for name, value in filters.items() if name != "stuck"},
        view={"stuck": "1"} if "stuck" in filters else {},
        filtered=bool(filters.keys() - {"stuck"}),
        states=STATES,
        rule_days=oversight.rule_days(),
        rule_label=oversight.rule_label,
        rules=STUCK_RULES,
        nudge_form=NudgeForm(),
    )


def _overseen(mentorship_id: int) -> oversight.Overseen:
    found = oversight.overseen(mentorship_id)
    if found is None:
        abort(404)
    return found


@bp.get("/<int:mentorship_id>")
@staff_required(SECTION.role)
def mentorship(mentorship_id: int):
    found = _overseen(mentorship_id)
    shown = found.mentorship
    in_force = agreements.agreement_in_force(shown)
    return render_template(
        "mentoring/admin/mentorship.html",
        row=found,
        mentorship=shown,
        events=oversight.history_of(shown),
        in_force=in_force,
        held=meetings.held_count(shown),
        actions=allowed_actions(shown, current_user),
        nudge_form=NudgeForm(),
        extend_form=ExtendForm(formdata=None, ends_on=in_force.ends_on if in_force else None),
        today=today_of(current_user),
    )


@bp.get("/<int:mentorship_id>/end")
@staff_required(SECTION.role)
def confirm_end(mentorship_id: int):
    found = _overseen(mentorship_id)
    try:
        lifecycle.MENTORSHIP.check(found.mentorship, current_user, "staff_end")
    except (InvalidInput, NotAllowed) as refusal:
        flash(str(refusal), "danger")
        return redirect(_page(mentorship_id))
    return render_template(
        "mentoring/admin/end.html", mentorship=found.mentorship, form=StaffEndForm()
    )


def _page(mentorship_id: int) -> str:
    return url_for("mentoring_admin.mentorship", mentorship_id=mentorship_id)


@bp.post("/<int:mentorship_id>/end")
@staff_required(SECTION.role)
def end(mentorship_id: int):
    form = StaffEndForm()
    require_form(form, url_for("mentoring_admin.confirm_end", mentorship_id=mentorship_id))
    return run_action(
        lambda: ending.end_by_staff(
            mentorship_id, current_user, filled(form.reason.data), form.note.data or ""
        ),
        success=_("The mentorship has ended; both were told."),
        back=_page(mentorship_id),
    )


@bp.post("/<int:mentorship_id>/extend")
@staff_required(SECTION.role)
def extend(mentorship_id: int):
    form = ExtendForm()
    require_form(form, _page(mentorship_id))
    return run_action(
        lambda: agreements.extend_by_staff(
            mentorship_id, current_user, filled(form.ends_on.data), filled(form.reason.data)
        ),
        success=_("The agreement is extended; both were told."),
        back=_page(mentorship_id),
    )


@bp.post("/<int:mentorship_id>/nudge/<any(request, agreement, meeting, end):rule>")
@staff_required(SECTION.role)
def nudge(mentorship_id: int, rule: str):
    back = local_path(request.form.get("back"), _page(mentorship_id))
    form = NudgeForm()
    require_form(form, back)
    try:
        mailed = oversight.nudge(mentorship_id, current_user, rule, form.note.data or "")
    except InvalidInput as refusal:
        db.session.rollback()
        flash(str(refusal), "danger")
    else:
        db.session.commit()
        if mailed:
            names = ", ".join(member.display_name for member in mailed)
            flash(_("The nudge is sent to %(names)s.", names=names), "success")
        else:
            flash(
                _("No mail went out now: these members turned such mails off or read a digest."),
                "warning",
            )
    return redirect(back)
