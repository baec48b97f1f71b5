"""The counts of the navigation bar: every plugin's badge and the unread alerts, read in one
statement on every member page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select

from core.contributions import NavItem
from core.db import db
from core.services.notifications import unread_alerts
from core.state import alma

MEMBER_ID = bindparam("member_id", type_=Integer)


def badge_query(items: list[NavItem]) -> Select[*tuple[Any, ...]]:
    """The badges of ``items`` that have one, in order, then the unread alerts (built once
    per app: only the member's id changes)."""
    badges = [item.badge(MEMBER_ID) for item in items if item.badge]
    return select(*badges, unread_alerts(MEMBER_ID))


@dataclass(frozen=True)
class Badges:
    by_endpoint: dict[str, int]
    alerts: int


def badges_of(member_id: int) -> Badges:
    state = alma()
    assert state.badge_query is not None  # built with the app, see core.app
    counts: list[int]
    *counts, alerts = (
        db.session.connection().execute(state.badge_query, {"member_id": member_id}).one()
    )
    endpoints = [item.endpoint for item in state.nav_items if item.badge]
    return Badges(dict(zip(endpoints, counts, strict=True)), alerts)
