"""The console's Webhooks (admins only): endpoints, their secrets and their delivery logs.
Every act is kept in the audit log with its reason."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from core.contributions import AdminSection
from core.db import db
from core.errors import InvalidInput
from core.forms import WebhookActForm, WebhookEndpointForm, require_form, run_action
from core.models import WebhookEndpoint
from core.pagination import page_of
from core.services import webhooks
from core.services.staff import record_staff_act
from core.state import alma
from core.views.admin import staff_required
from core.views.navigation import page_number

DELIVERIES_PAGE_SIZE = 25

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


def count_disabled_endpoints() -> int:
    disabled = select(func.count()).where(WebhookEndpoint.enabled.is_(False))
    return db.session.scalar(disabled) or 0


WEBHOOKS = AdminSection(
    _l("Webhooks"),
    "webhooks.index",
    "admin",
    count=count_disabled_endpoints,
    note=_l("Endpoints that receive the site's events, signed: their secrets and deliveries."),
    order=850,
    count_label=_l("disabled"),
)


def _endpoint_form(endpoint: WebhookEndpoint | None = None) -> WebhookEndpointForm:
    form = WebhookEndpointForm(obj=endpoint)
    if endpoint is not None and not form.is_submitted():
        form.events.data = endpoint.event_types
    form.events.choices = [
        (event_type.name, f"{event_type.name}: {event_type.label}")
        for event_type in alma().webhook_events.values()
    ]
    return form


@bp.get("/")
@staff_required(WEBHOOKS.role)
def index() -> ResponseReturnValue:
    return render_template("admin/webhooks.html", endpoints=webhooks.endpoints())


@bp.get("/new")
@staff_required(WEBHOOKS.role)
def new() -> ResponseReturnValue:
    return render_template("admin/webhook_form.html", form=_endpoint_form(), endpoint=None)


@bp.post("/new")
@staff_required(WEBHOOKS.role)
def add() -> ResponseReturnValue:
    form = _endpoint_form()
    if not form.validate_on_submit():
        return render_template("admin/webhook_form.html", form=form, endpoint=None), 400
    try:
        endpoint = webhooks.add_endpoint(
            form.url.data or "", form.events.data or [], form.description.data or ""
        )
        _record("webhook.added", endpoint, form.reason.data or "")
    except InvalidInput as error:
        db.session.rollback()
        form.url.errors = [str(error)]
        return render_template("admin/webhook_form.html", form=form, endpoint=None), 400
    db.session.commit()
    flash(_("The endpoint is added. Give its secret, below, to the receiver."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id))


@bp.get("/<int:endpoint_id>")
@staff_required(WEBHOOKS.role)
def endpoint(endpoint_id: int) -> ResponseReturnValue:
    shown = webhooks.endpoint_by_id(endpoint_id)
    deliveries = page_of(webhooks.deliveries_query(shown), page_number(), DELIVERIES_PAGE_SIZE)
    return render_template(
        "admin/webhook.html",
        endpoint=shown,
        deliveries=deliveries,
        event_types=alma().webhook_events,
        reason_form=WebhookActForm(),
    )


@bp.get("/<int:endpoint_id>/edit")
@staff_required(WEBHOOKS.role)
def edit(endpoint_id: int) -> ResponseReturnValue:
    shown = webhooks.endpoint_by_id(endpoint_id)
    return render_template("admin/webhook_form.html", form=_endpoint_form(shown), endpoint=shown)


@bp.post("/<int:endpoint_id>/edit")
@staff_required(WEBHOOKS.role)
def change(endpoint_id: int) -> ResponseReturnValue:
    shown = webhooks.endpoint_by_id(endpoint_id)
    form = _endpoint_form(shown)
    if form.validate_on_submit():
        try:
            webhooks.change_endpoint(
                shown, form.url.data or "", form.events.data or [], form.description.data or ""
            )
            _record("webhook.changed", shown, form.reason.data or "")
        except InvalidInput as error:
            db.session.rollback()
            form.url.errors = [str(error)]
        else:
            db.session.commit()
            flash(_("The endpoint is changed."), "success")
            return redirect(url_for("webhooks.endpoint", endpoint_id=shown.id))
    return render_template("admin/webhook_form.html", form=form, endpoint=shown), 400


@bp.post("/<int:endpoint_id>/rotate")
@staff_required(WEBHOOKS.role)
def rotate(endpoint_id: int) -> ResponseReturnValue:
    return _act(
        endpoint_id,
        "webhook.secret_rotated",
        webhooks.rotate_secret,
        _("The secret is new: every delivery from now on is signed with it."),
    )


@bp.post("/<int:endpoint_id>/disable")
@staff_required(WEBHOOKS.role)
def disable(endpoint_id: int) -> ResponseReturnValue:
    return _act(
        endpoint_id,
        "webhook.disabled",
        lambda endpoint: webhooks.disable_endpoint(endpoint, "admin"),
        _("The endpoint is disabled: its events wait until you enable it."),
    )


@bp.post("/<int:endpoint_id>/enable")
@staff_required(WEBHOOKS.role)
def enable(endpoint_id: int) -> ResponseReturnValue:
    return _act(
        endpoint_id,
        "webhook.enabled",
        webhooks.enable_endpoint,
        _("The endpoint is enabled: what waited is being sent."),
    )


@bp.post("/<int:endpoint_id>/remove")
@staff_required(WEBHOOKS.role)
def remove(endpoint_id: int) -> ResponseReturnValue:
    return _act(
        endpoint_id,
        "webhook.removed",
        webhooks.remove_endpoint,
        _("The endpoint is removed, with its deliveries."),
        back=url_for("webhooks.index"),
    )


def _act(
    endpoint_id: int,
    act: str,
    change: Callable[[WebhookEndpoint], object],
    success: str,
    back: str | None = None,
) -> ResponseReturnValue:
    """Do ``change`` to the endpoint if the reason is given, recorded in the audit log."""
    shown = webhooks.endpoint_by_id(endpoint_id)
    form = WebhookActForm()
    require_form(form, url_for("webhooks.endpoint", endpoint_id=shown.id))

    def act_and_record() -> None:
        _record(act, shown, form.reason.data or "")
        change(shown)

    return run_action(
        act_and_record,
        success=success,
        back=back or url_for("webhooks.endpoint", endpoint_id=shown.id),
    )


def _record(act: str, endpoint: WebhookEndpoint, reason: str) -> None:
    actor = current_user._get_current_object()
    record_staff_act(actor, act, webhooks.audit_target(endpoint), reason)
