"""Reports and moderation: members report an item (of a kind a plugin registers, or a profile)
to the moderators; staff hide it, restore it, dismiss the report or suspend its author.

A report keeps the item as the reporter saw it (the snapshot): that is all staff read of it,
so a reported chat message shows staff that message and no other. A member reports at most
``REPORTS_PER_HOUR`` items an hour (counted here, in the database), and an item once while
their report waits. A decision is for the item: it closes every open report of it, and writes
one row of the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from core.contributions import ReportedItem, ReportKind
from core.db import db, rows_changed, utcnow
from core.errors import InvalidInput, NotFound
from core.models import OPEN_REPORT, Report, User
from core.services.members import suspend_member
from core.services.staff import record_staff_act
from core.services.webhooks import emit_webhook
from core.state import alma

REASON_LABELS = {
    "spam": _l("Spam or advertising"),
    "harassment": _l("Harassment or hate"),
    "inappropriate": _l("Inappropriate content"),
    "personal_data": _l("Someone's private information"),
    "other": _l("Something else"),
}
STATE_LABELS = {
    OPEN_REPORT: _l("Open"),
    "hidden": _l("Hidden"),
    "dismissed": _l("Dismissed"),
    "restored": _l("Restored"),
}
HIDDEN, DISMISSED, RESTORED = "hidden", "dismissed", "restored"
PROFILE = "core.profile"


class TooManyReports(InvalidInput):
    """The member reported ``REPORTS_PER_HOUR`` items in the last hour already."""


# ---- core's own kind: a member's profile -----------------------------------------------------


def _find_profile(item_id: int, viewer: User) -> ReportedItem | None:
    member = db.session.get(User, item_id)
    if member is None or not member.email_confirmed or not member.is_listed:
        return None
    if member.profile_hidden_at is not None:
        return None
    return ReportedItem(
        title=_("Profile of %(name)s", name=member.display_name),
        text=member.bio,
        author_id=member.id,
        url=url_for("profile.overview", user_id=member.id),
    )


def hiding_marks(
    model: type[Any], column: str = "hidden_at"
) -> tuple[Callable[[int], None], Callable[[int], None]]:
    """A :class:`ReportKind`'s ``hide`` and ``restore`` for items that are rows of ``model``
    with a nullable time ``column``: hiding sets it to now, restoring clears it (in the
    caller's unit of work; a row that is gone is left alone).
    ``ReportKind("wiki.article", label, find, *hiding_marks(Article))``."""

    def mark(hidden: bool) -> Callable[[int], None]:
        def set_mark(item_id: int) -> None:
            item = db.session.get(model, item_id)
            if item is not None:
                setattr(item, column, utcnow() if hidden else None)

        return set_mark

    return mark(True), mark(False)


def report_kinds(contributed: list[ReportKind]) -> dict[str, ReportKind]:
    """Every kind members may report, by name: the plugins' and a profile."""
    profile = ReportKind(
        PROFILE, _l("Profile"), _find_profile, *hiding_marks(User, "profile_hidden_at")
    )
    return {kind.name: kind for kind in [profile, *contributed]}


def kind_named(name: str) -> ReportKind:
    kind = alma().report_kinds.get(name)
    if kind is None:
        raise NotFound(_("There is nothing here."))
    return kind


def reportable(kind_name: str, item_id: int, viewer: User) -> ReportedItem:
    """The item as ``viewer`` sees it, to report it: ``NotFound`` if it does not exist, or
    the viewer may not see it."""
    item = kind_named(kind_name).find(item_id, viewer)
    if item is None:
        raise NotFound(_("There is nothing here."))
    return item


# ---- reporting -------------------------------------------------------------------------------


def reports_in_last_hour(reporter: User) -> int:
    since = utcnow() - timedelta(hours=1)
    count = db.session.scalar(
        select(func.count(Report.id)).where(
            Report.reporter_id == reporter.id, Report.created_at > since
        )
    )
    return count or 0


def file_report(
    reporter: User, kind_name: str, item_id: int, reason: str, text: str = ""
) -> Report:
    """``reporter`` reports the item to the moderators. A second report of the same item
    while the first waits is the first (returned as it is). Raises ``NotFound`` if the
    reporter cannot see the item, ``InvalidInput`` for their own item, and
    :class:`TooManyReports` past ``REPORTS_PER_HOUR``."""
    item = reportable(kind_name, item_id, reporter)
    if item.author_id == reporter.id:
        raise InvalidInput(_("You cannot report what you wrote yourself."))
    if reason not in REASON_LABELS:
        raise InvalidInput(_("Choose a reason."))
    waiting = _open_report_of(reporter, kind_name, item_id)
    if waiting is not None:
        return waiting
    if reports_in_last_hour(reporter) >= current_app.config["REPORTS_PER_HOUR"]:
        raise TooManyReports(
            _(
                "You sent many reports in the last hour. Please try again later: "
                "your report is kept in the form below."
            )
        )
    report = Report(
        reporter_id=reporter.id,
        kind=kind_name,
        item_id=item_id,
        reason=reason,
        text=text.strip(),
        snapshot_title=item.title[:300],
        snapshot_text=item.text,
        snapshot_url=item.url[:500],
        author_id=item.author_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:  # the same member's report of it, sent at the same moment
        waiting = _open_report_of(reporter, kind_name, item_id)
        if waiting is None:
            raise
        return waiting
    emit_webhook(
        "report.filed",
        {"report_id": report.id, "kind": kind_name, "item_id": item_id, "reason": reason},
    )
    return report


def _open_report_of(reporter: User, kind_name: str, item_id: int) -> Report | None:
    return db.session.scalar(
        select(Report).where(
            Report.reporter_id == reporter.id,
            Report.kind == kind_name,
            Report.item_id == item_id,
            Report.state == OPEN_REPORT,
        )
    )


# ---- the queue -------------------------------------------------------------------------------


def reports_query(state: str = OPEN_REPORT) -> Select[Report]:
    """Reports in ``state``: open ones oldest first (the queue), others newest decided first."""
    query = select(Report).where(Report.state == state)
    if state == OPEN_REPORT:
        return query.order_by(Report.created_at, Report.id)
    return query.order_by(Report.decided_at.desc(), Report.id.desc())


def open_reports() -> int:
    return db.session.scalar(select(func.count(Report.id)).where(Report.state == OPEN_REPORT)) or 0


def report_by_id(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound(_("There is no such report."))
    return report


def reports_of_item(report: Report) -> list[Report]:
    """Every report of the item ``report`` is about, oldest first."""
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.kind == report.kind, Report.item_id == report.item_id)
            .order_by(Report.created_at, Report.id)
        )
    )


def kind_label(name: str) -> str:
    kind = alma().report_kinds.get(name)
    return str(kind.label) if kind else name


# ---- staff's decisions -----------------------------------------------------------------------


def hide_item(staff: User, report: Report, reason: str) -> None:
    """Hide the reported item from everyone; every open report of it is closed as hidden."""
    _decide(staff, report, OPEN_REPORT, HIDDEN, reason)
    kind_named(report.kind).hide(report.item_id)


def restore_item(staff: User, report: Report, reason: str) -> None:
    """Show a hidden item again; its reports say it was restored."""
    _decide(staff, report, HIDDEN, RESTORED, reason)
    kind_named(report.kind).restore(report.item_id)


def dismiss_report(staff: User, report: Report, reason: str) -> None:
    """Leave the item as it is; every open report of it is closed as dismissed."""
    _decide(staff, report, OPEN_REPORT, DISMISSED, reason)


def suspend_author(staff: User, report: Report, reason: str, until: date | None = None) -> None:
    """Suspend the reported item's author (the Members section's suspension, logged there)."""
    author = db.session.get(User, report.author_id) if report.author_id else None
    if author is None:
        raise InvalidInput(_("The author of this item is not a member any more."))
    suspend_member(staff, author, reason, until)


def _decide(staff: User, report: Report, before: str, after: str, reason: str) -> None:
    if report.state != before:
        raise InvalidInput(_("This report was decided already: the page shows how."))
    record_staff_act(
        staff, f"report.{after}", (report.kind, report.item_id, report.snapshot_title[:254]), reason
    )
    changed = rows_changed(
        update(Report)
        .where(Report.kind == report.kind, Report.item_id == report.item_id, Report.state == before)
        .values(state=after, decided_at=utcnow(), decided_by_id=staff.id)
        .execution_options(synchronize_session=False)
    )
    if not changed:  # another moderator decided it a moment ago
        raise InvalidInput(_("This report was decided already: the page shows how."))
    db.session.expire(report)
