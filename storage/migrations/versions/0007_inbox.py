"""inbox: every answered request, stored before its answer; inbox_effect: what a row created

processed_event goes: the inbox's unique duplicate key does its work, durably.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add inbox and inbox_effect; drop processed_event."""
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("order_key", sa.String(length=120), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_inbox_dedupe"),
    )
    op.create_index("ix_inbox_claimable", "inbox", ["state", "next_attempt_at"], unique=False)
    op.create_index("ix_inbox_order", "inbox", ["order_key", "state"], unique=False)
    op.create_table(
        "inbox_effect",
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("inbox_id", "kind"),
    )
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_event_at"))
    op.drop_table("processed_event")


def downgrade() -> None:
    """Back to processed_event."""
    op.create_table(
        "processed_event",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_event_at"), ["at"], unique=False)
    op.drop_table("inbox_effect")
    op.drop_index("ix_inbox_order", table_name="inbox")
    op.drop_index("ix_inbox_claimable", table_name="inbox")
    op.drop_table("inbox")
