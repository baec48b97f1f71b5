"""The staff's console at ``/admin/``: core draws the frame (the sections a role may open,
from every plugin) and its own sections: the members, and the audit log of staff acts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core.contributions import AdminSection
from core.db import db
from core.forms import StaffActForm, SuspendForm, require_form, run_action
from core.models import Report, User
from core.pagination import page_of
from core.scheduler import RunNow, job_named, job_statuses, run_now
from core.schema import part_revisions
from core.services.mail import outbox_counts, retry_failed_mails
from core.services.members import (
    MEMBER_STATES,
    may_suspend,
    member_by_id,
    member_history,
    member_state,
    members_query,
    resend_confirmation,
    suspend_member,
    unsuspend_member,
)
from core.services.reports import (
    REASON_LABELS,
    STATE_LABELS,
    dismiss_report,
    hide_item,
    kind_label,
    open_reports,
    report_by_id,
    reports_of_item,
    reports_query,
    restore_item,
    suspend_author,
)
from core.services.staff import (
    Target,
    audit_acts,
    audit_csv,
    audit_query,
    has_role,
    record_staff_act,
)
from core.services.statistics import (
    DEFAULT_MONTHS,
    MONTH_CHOICES,
    ChartBox,
    recent_months,
    report_csv,
)
from core.services.statistics import report as statistics_report
from core.state import alma
from core.views.navigation import page_number

ViewT = TypeVar("ViewT", bound=Callable[..., Any])

AUDIT_PAGE_SIZE = 50
MEMBERS_PAGE_SIZE = 50

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Coordinators read it too: it is the record of the acts on members they do themselves.
AUDIT_LOG = AdminSection(
    _l("Audit log"),
    "admin.audit",
    "coordinator",
    note=_l("Every act of staff on a member: who, why, when."),
    order=1000,
)


MEMBERS = AdminSection(
    _l("Members"),
    "admin.members",
    "coordinator",
    note=_l("Find a member; suspend or unsuspend them, resend their confirmation mail."),
    order=10,
)


STATISTICS = AdminSection(
    _l("Statistics"),
    "admin.statistics",
    "coordinator",
    note=_l("How the programme is doing: counts now, and month by month, with a CSV."),
    order=800,
)


REPORTS = AdminSection(
    _l("Reports"),
    "admin.reports",
    "coordinator",
    count=open_reports,
    note=_l("What members reported: hide it, restore it, dismiss the report, suspend the author."),
    order=20,
    count_label=_l("open"),
)


SYSTEM = AdminSection(
    _l("System"),
    "admin.system",
    "admin",
    note=_l("Plugins and their versions, the schema, the jobs, the mail outbox."),
    order=900,
)


def admin_sections(contributed: list[AdminSection]) -> list[AdminSection]:
    """The console's sections: the plugins' and core's own, in order."""
    from core.views.webhooks import WEBHOOKS  # which draws its pages with staff_required

    own = [MEMBERS, REPORTS, STATISTICS, WEBHOOKS, SYSTEM, AUDIT_LOG]
    return sorted([*contributed, *own], key=lambda section: section.order)


def staff_required(role: str) -> Callable[[ViewT], ViewT]:
    """Guard a view of the console: visitors go to the login page, members and staff of a
    lesser role get a 403."""

    def guard(view: ViewT) -> ViewT:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not has_role(current_user, role):
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return guard


@bp.get("/")
@staff_required("coordinator")
def index() -> ResponseReturnValue:
    sections = [
        (section, section.count() if section.count else 0)
        for section in alma().admin_sections
        if has_role(current_user, section.role)
    ]
    return render_template("admin/index.html", sections=sections)


def _audit_filters() -> dict[str, str]:
    return {name: request.args.get(name, "").strip() for name in ("act", "actor", "target")}


@bp.get("/audit")
@staff_required(AUDIT_LOG.role)
def audit() -> ResponseReturnValue:
    filters = _audit_filters()
    page = page_of(audit_query(**filters), page_number(), AUDIT_PAGE_SIZE)
    return render_template(
        "admin/audit.html",
        page=page,
        filters=filters,
        filtered=any(filters.values()),
        acts=audit_acts(),
    )


@bp.get("/audit.csv")
@staff_required(AUDIT_LOG.role)
def audit_export() -> ResponseReturnValue:
    entries = db.session.scalars(audit_query(**_audit_filters()))
    return Response(
        audit_csv(entries),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="alma-audit-log.csv"'},
    )


# ---- members ----------------------------------------------------------------------------------


def _member_filters() -> dict[str, str]:
    """The search's words and state, those given (and a state that exists) only."""
    filters = {name: request.args.get(name, "").strip() for name in ("q", "state")}
    if filters["state"] not in MEMBER_STATES:
        filters["state"] = ""
    return {name: value for name, value in filters.items() if value}


@bp.get("/members")
@staff_required(MEMBERS.role)
def members() -> ResponseReturnValue:
    filters = _member_filters()
    page = page_of(members_query(**filters), page_number(), MEMBERS_PAGE_SIZE)
    return render_template(
        "admin/members.html",
        page=page,
        filters=filters,
        filtered=bool(filters),
        states=MEMBER_STATES,
        member_state=member_state,
    )


@bp.get("/members/<int:member_id>")
@staff_required(MEMBERS.role)
def member(member_id: int) -> ResponseReturnValue:
    shown = member_by_id(member_id)
    return render_template(
        "admin/member.html",
        member=shown,
        state=member_state(shown),
        may_suspend=may_suspend(current_user, shown),
        history=member_history(shown),
        reason_form=StaffActForm(),
    )


@bp.get("/members/<int:member_id>/suspend")
@staff_required(MEMBERS.role)
def confirm_suspension(member_id: int) -> ResponseReturnValue:
    shown = member_by_id(member_id)
    if not may_suspend(current_user, shown):
        abort(403)
    return render_template("admin/suspend.html", member=shown, form=SuspendForm())


@bp.post("/members/<int:member_id>/suspend")
@staff_required(MEMBERS.role)
def suspend(member_id: int) -> ResponseReturnValue:
    form = SuspendForm()
    return _act_on_member(
        member_id,
        form,
        lambda staff, member, reason: suspend_member(staff, member, reason, form.until.data),
        _("The member is suspended: they were logged out everywhere."),
    )


@bp.post("/members/<int:member_id>/unsuspend")
@staff_required(MEMBERS.role)
def unsuspend(member_id: int) -> ResponseReturnValue:
    return _act_on_member(
        member_id,
        StaffActForm(),
        unsuspend_member,
        _("The suspension is lifted: the member can log in again."),
    )


@bp.post("/members/<int:member_id>/confirmation")
@staff_required(MEMBERS.role)
def resend_confirmation_mail(member_id: int) -> ResponseReturnValue:
    return _act_on_member(
        member_id,
        StaffActForm(),
        resend_confirmation,
        _("The confirmation mail is sent again."),
    )


def _act_on_member(
    member_id: int,
    form: StaffActForm,
    act: Callable[[User, User, str], None],
    success: str,
) -> ResponseReturnValue:
    """Do ``act`` (a service taking the staff member, the member and the reason) if the
    form is valid, then go back to the member's page, saying what happened."""
    shown = member_by_id(member_id)
    back = url_for("admin.member", member_id=shown.id)
    require_form(form, back)
    return run_action(
        lambda: act(current_user._get_current_object(), shown, form.reason.data or ""),
        success=success,
        back=back,
    )


# ---- statistics -------------------------------------------------------------------------------


def _month_count() -> int:
    count = request.args.get("months", type=int)
    return count if count in MONTH_CHOICES else DEFAULT_MONTHS


@bp.get("/statistics")
@staff_required(STATISTICS.role)
def statistics() -> ResponseReturnValue:
    count = _month_count()
    return render_template(
        "admin/statistics.html",
        report=statistics_report(alma().statistics, recent_months(count)),
        month_count=count,
        month_choices=MONTH_CHOICES,
        chart=ChartBox(),
        number=format_number,
    )


@bp.get("/statistics.csv")
@staff_required(STATISTICS.role)
def statistics_export() -> ResponseReturnValue:
    return Response(
        report_csv(statistics_report(alma().statistics, recent_months(_month_count()))),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="alma-statistics.csv"'},
    )


# ---- reports ----------------------------------------------------------------------------------

REPORTS_PAGE_SIZE = 30


@bp.get("/reports")
@staff_required(REPORTS.role)
def reports() -> ResponseReturnValue:
    state = request.args.get("state", "open")
    if state not in STATE_LABELS:
        state = "open"
    return render_template(
        "admin/reports.html",
        page=page_of(reports_query(state), page_number(), REPORTS_PAGE_SIZE),
        state=state,
        states=STATE_LABELS,
        reasons=REASON_LABELS,
        kind_label=kind_label,
    )


@bp.get("/reports/<int:report_id>")
@staff_required(REPORTS.role)
def report(report_id: int) -> ResponseReturnValue:
    shown = report_by_id(report_id)
    author = db.session.get(User, shown.author_id) if shown.author_id else None
    return render_template(
        "admin/report.html",
        report=shown,
        author=author,
        may_suspend=author is not None
        and not author.is_suspended
        and may_suspend(current_user, author),
        others=[other for other in reports_of_item(shown) if other.id != shown.id],
        states=STATE_LABELS,
        reasons=REASON_LABELS,
        kind_label=kind_label,
        reason_form=StaffActForm(),
    )


@bp.post("/reports/<int:report_id>/hide")
@staff_required(REPORTS.role)
def hide_reported(report_id: int) -> ResponseReturnValue:
    return _act_on_report(
        report_id, StaffActForm(), hide_item, _("The item is hidden: everyone sees it was.")
    )


@bp.post("/reports/<int:report_id>/restore")
@staff_required(REPORTS.role)
def restore_reported(report_id: int) -> ResponseReturnValue:
    return _act_on_report(report_id, StaffActForm(), restore_item, _("The item is shown again."))


@bp.post("/reports/<int:report_id>/dismiss")
@staff_required(REPORTS.role)
def dismiss(report_id: int) -> ResponseReturnValue:
    return _act_on_report(report_id, StaffActForm(), dismiss_report, _("The report is dismissed."))


@bp.get("/reports/<int:report_id>/suspend")
@staff_required(REPORTS.role)
def confirm_author_suspension(report_id: int) -> ResponseReturnValue:
    shown = report_by_id(report_id)
    author = db.session.get(User, shown.author_id) if shown.author_id else None
    if author is None:
        abort(404)
    if not may_suspend(current_user, author):
        abort(403)
    return render_template(
        "admin/suspend.html",
        member=author,
        form=SuspendForm(),
        action=url_for("admin.suspend_reported_author", report_id=shown.id),
        back=url_for("admin.report", report_id=shown.id),
    )


@bp.post("/reports/<int:report_id>/suspend")
@staff_required(REPORTS.role)
def suspend_reported_author(report_id: int) -> ResponseReturnValue:
    form = SuspendForm()
    return _act_on_report(
        report_id,
        form,
        lambda staff, shown, reason: suspend_author(staff, shown, reason, form.until.data),
        _("The author is suspended: they were logged out everywhere."),
    )


def _act_on_report(
    report_id: int,
    form: StaffActForm,
    act: Callable[[User, Report, str], None],
    success: str,
) -> ResponseReturnValue:
    """Do ``act`` on the report with the reason posted, then back to the report."""
    shown = report_by_id(report_id)
    back = url_for("admin.report", report_id=shown.id)
    require_form(form, back)
    return run_action(
        lambda: act(current_user._get_current_object(), shown, form.reason.data or ""),
        success=success,
        back=back,
    )


# ---- system ------------------------------------------------------------------------------------

RUN_NOW_SAYS = {
    RunNow.WOKEN: _l("The scheduler runs %(job)s now."),
    RunNow.RAN: _l("%(job)s ran."),
    RunNow.FAILED: _l("%(job)s failed: its error is below."),
    RunNow.RUNNING: _l("%(job)s is running already: it was not started again."),
}


@bp.get("/system")
@staff_required(SYSTEM.role)
def system() -> ResponseReturnValue:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy of Flask
    state = alma(app)
    return render_template(
        "admin/system.html",
        plugins=[state.installed[name] for name in state.enabled],
        schema=part_revisions(app),
        jobs=job_statuses(app),
        outbox=outbox_counts(),
        reason_form=StaffActForm(),
    )


@bp.post("/system/jobs/<job_id>/run")
@staff_required(SYSTEM.role)
def run_job_now(job_id: str) -> ResponseReturnValue:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy of Flask
    job = job_named(app, job_id)
    if job is None:
        abort(404)
    _record_system_act("job.run", ("job", None, job.id))
    outcome = run_now(app, job)
    flash(
        RUN_NOW_SAYS[outcome] % {"job": job.id}, "danger" if outcome is RunNow.FAILED else "success"
    )
    return redirect(url_for("admin.system"))


@bp.post("/system/mail/retry")
@staff_required(SYSTEM.role)
def retry_failed_mail() -> ResponseReturnValue:
    _record_system_act("mail.retried", ("outbox", None, "failed mails"))
    retried = retry_failed_mails()
    db.session.commit()
    flash(_("%(count)s failed mails are due again.", count=retried), "success")
    return redirect(url_for("admin.system"))


def _record_system_act(act: str, target: Target) -> None:
    """Log the admin's ``act`` with the reason posted (committed before the act runs, which
    may be long); without a reason, back to the page saying so."""
    form = StaffActForm()
    require_form(form, url_for("admin.system"))
    record_staff_act(current_user._get_current_object(), act, target, form.reason.data or "")
    db.session.commit()
