"""The groups blueprint (one for all the plugin's pages), its template globals, and the
helpers its views share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from core.api import InvalidInput, db
from plugins.groups.services import directory, membership, moderation

bp = Blueprint(
    "groups",
    __name__,
    url_prefix="/groups",
    template_folder="templates",
    static_folder="static",
    root_path=str(Path(__file__).parent.parent),  # templates and static files of the plugin
)

bp.add_app_template_global(directory.join_policy_label, "group_join_policy_label")
bp.add_app_template_global(directory.visibility_label, "group_visibility_label")
bp.add_app_template_global(membership.request_state_label, "group_request_state_label")
bp.add_app_template_global(moderation.action_label, "group_action_label")


@bp.before_request
@login_required
def _members_only() -> None:
    """Every page of groups is for logged-in members."""


def _act(action: Callable[[], Any], success: str, back: str) -> Response:
    """Run a change from a form post: commit and say so, or roll back and say why."""
    try:
        action()
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(back)


def form_errors(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def group_page(group_id: int, anchor: str = "") -> str:
    return url_for("groups.group", group_id=group_id) + anchor
