"""The certificates plugin's hook implementations (its entry point).

Every party of a completed goal of a configured kind (``[plugins.certificates] goal_kinds``,
by default mentoring's "mentoring.finished") gets a PDF certificate, kept under the Mentoring
area of their profile, with a public verification page. It imports no other plugin: goal
kinds and their facts come through core (``goal_completed``, ``goal_facts``).
"""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l

from core.api import Job, ProfileArea, ProfileSection, Statistic, WebhookEventType, hookimpl
from plugins.certificates import account_end, admin, api, services
from plugins.certificates.cli import certificates_command
from plugins.certificates.export import certificates_part
from plugins.certificates.forms import VisibilityForm
from plugins.certificates.views import bp

REQUIRES = ()  # the goal kinds it certifies are checked at startup instead (app_created)


@hookimpl
def register_blueprints():
    return [bp, admin.bp]


@hookimpl
def register_api_blueprints():
    return [api.bp]


@hookimpl
def register_webhook_events():
    return [WebhookEventType("certificate.issued", _l("A certificate was issued"))]


@hookimpl
def register_admin_sections():
    return [admin.SECTION]


def _visibility_form(certificate) -> VisibilityForm:
    return VisibilityForm(formdata=None, obj=certificate)


def _certificates_section(member, viewer):
    """The holder sees all of theirs; others only those the holder chose to show. Private by
    default: a certificate names who mentored whom, which is the pair's business."""
    if member.id == viewer.id:
        return render_template(
            "certificates/_own.html",
            certificates=services.certificates_of(member),
            visibility_form=_visibility_form,
        )
    shown = services.shown_certificates_of(member)
    return render_template("certificates/_shown.html", certificates=shown) if shown else None


@hookimpl
def register_profile_areas():
    # certificates are kept in the Mentoring area, which mentoring contributes too (as this)
    return [ProfileArea("mentoring", _l("Mentoring"), _l("Nothing about mentoring here yet."), 10)]


@hookimpl
def register_profile_sections():
    return [ProfileSection("mentoring", _l("Certificates"), _certificates_section, order=30)]


@hookimpl
def register_jobs():
    # woken after the commit that issues certificates (in the scheduler's own process); the
    # interval catches up with those issued elsewhere and with retries
    return [
        Job(
            services.RENDER_JOB_ID,
            services.render_pending_certificates,
            "interval",
            {"seconds": services.CATCH_UP_SECONDS},
        )
    ]


@hookimpl
def register_cli_commands():
    return [certificates_command]


@hookimpl
def register_settings():
    return services.SETTINGS


@hookimpl
def register_migrations():
    return [Path(__file__).parent / "migrations"]


@hookimpl
def app_created(app):
    services.check_goal_kinds(app)


@hookimpl
def goal_completed(goal):
    services.issue_certificates(goal)


@hookimpl
def export_member_data(user):
    return certificates_part(user)


@hookimpl
def register_statistics():
    return [
        Statistic(
            "certificates.valid",
            _l("Certificates"),
            now=services.count_valid_certificates,
            order=60,
        ),
        Statistic(
            "certificates.issued",
            _l("Certificates issued"),
            per_month=services.certificates_issued,
            order=60,
        ),
    ]


@hookimpl
def member_erasing(user):
    account_end.erase_member(user)
