"""webhooks: endpoints, events and their deliveries (core_webhook_*)

Revision ID: core_0017
Revises: core_0016
Create Date: 2026-12-04 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "core_0017"
down_revision: str | Sequence[str] | None = "core_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENDPOINTS = "core_webhook_endpoints"
EVENTS = "core_webhook_events"
DELIVERIES = "core_webhook_deliveries"


def upgrade() -> None:
    op.create_table(
        ENDPOINTS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", core.api.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "url LIKE 'https://%' OR url LIKE 'http://%'", name=op.f(f"ck_{ENDPOINTS}_web_url")
        ),
        sa.CheckConstraint("secret LIKE 'whsec_%'", name=op.f(f"ck_{ENDPOINTS}_secret_format")),
        sa.CheckConstraint("failures >= 0", name=op.f(f"ck_{ENDPOINTS}_failures_counted")),
        sa.CheckConstraint(
            "enabled OR disabled_reason IS NOT NULL", name=op.f(f"ck_{ENDPOINTS}_disabled_why")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{ENDPOINTS}")),
    )
    op.create_table(
        EVENTS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("ordering_key", sa.String(length=120), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{EVENTS}")),
        sa.UniqueConstraint("message_id", name=op.f(f"uq_{EVENTS}_message_id")),
    )
    op.create_table(
        DELIVERIES,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("ordering_key", sa.String(length=120), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", core.api.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_response", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", core.api.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f(f"ck_{DELIVERIES}_attempts_counted")),
        sa.CheckConstraint(
            "delivered_at IS NULL OR attempts > 0",
            name=op.f(f"ck_{DELIVERIES}_delivered_after_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            [f"{EVENTS}.id"],
            name=op.f(f"fk_{DELIVERIES}_event_id_{EVENTS}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            [f"{ENDPOINTS}.id"],
            name=op.f(f"fk_{DELIVERIES}_endpoint_id_{ENDPOINTS}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{DELIVERIES}")),
    )
    op.create_index(
        "uq_core_webhook_deliveries_event_endpoint",
        DELIVERIES,
        ["event_id", "endpoint_id"],
        unique=True,
    )
    op.create_index(
        "ix_core_webhook_deliveries_due", DELIVERIES, ["delivered_at", "next_attempt_at"]
    )
    op.create_index("ix_core_webhook_deliveries_log", DELIVERIES, ["endpoint_id", "id"])


def downgrade() -> None:
    op.drop_table(DELIVERIES)
    op.drop_table(EVENTS)
    op.drop_table(ENDPOINTS)
