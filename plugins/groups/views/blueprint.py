"""The groups blueprint (one for all the plugin's pages), its template globals, and the
helpers its views share."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, url_for
from flask_login import login_required

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


def group_page(group_id: int, anchor: str = "") -> str:
    return url_for("groups.group", group_id=group_id) + anchor
