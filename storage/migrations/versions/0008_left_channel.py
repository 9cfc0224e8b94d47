"""left_channel: channels the bot was removed from, for `coordbot status` and the records' owners

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add left_channel."""
    op.create_table(
        "left_channel",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id"),
    )


def downgrade() -> None:
    """Drop left_channel."""
    op.drop_table("left_channel")
