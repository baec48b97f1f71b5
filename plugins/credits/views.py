"""Credits pages: a member's own ledger, and the community's top contributors."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from core.api import page_number
from plugins.credits import services

bp = Blueprint("credits", __name__, url_prefix="/credits", template_folder="templates")

bp.add_app_template_global(services.entry_label, "credit_entry_label")
bp.add_app_template_global(services.credits_text, "credits_text")


@bp.get("/")
@login_required
def ledger():
    """The logged-in member's own ledger. There is no page for another member's ledger: the
    total is public (their profile, the top list), what earned it stays with the member."""
    return render_template(
        "credits/ledger.html",
        total=services.credit_total(current_user),
        ledger=services.ledger_page(current_user, page_number()),
        rules=services.rule_table(),
        daily_cap=services.settings().daily_cap,
    )


@bp.get("/top")
@login_required
def top():
    period = request.args.get("period", services.ALL_TIME)
    if period not in services.PERIODS:
        period = services.ALL_TIME
    return render_template(
        "credits/top.html",
        period=period,
        contributors=services.top_contributors(period),
        own_total=services.credit_total(current_user),
    )
