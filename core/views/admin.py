"""The staff's console at ``/admin/``: core draws the frame (the sections a role may open,
from every plugin) and its own section, the audit log of staff acts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core.contributions import AdminSection
from core.db import db
from core.pagination import page_of
from core.services.staff import audit_acts, audit_csv, audit_query, has_role
from core.state import alma
from core.views.navigation import page_number

ViewT = TypeVar("ViewT", bound=Callable[..., Any])

AUDIT_PAGE_SIZE = 50

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Coordinators read it too: it is the record of the acts on members they do themselves.
AUDIT_LOG = AdminSection(
    _l("Audit log"),
    "admin.audit",
    "coordinator",
    note=_l("Every act of staff on a member: who, why, when."),
    order=1000,
)


def admin_sections(contributed: list[AdminSection]) -> list[AdminSection]:
    """The console's sections: the plugins' and core's own, in order."""
    return sorted([*contributed, AUDIT_LOG], key=lambda section: section.order)


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
