"""progress tracking: digest subscriptions, action-item context and escalation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add digest_subscription; action_item.context and action_item.escalated_at."""
    op.create_table(
        "digest_subscription",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id"),
    )
    with op.batch_alter_table("action_item") as batch:
        batch.add_column(sa.Column("context", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("action_item") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("context")
    op.drop_table("digest_subscription")
