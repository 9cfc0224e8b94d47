"""a store app's latest ticket, shared by every process (Feishu pushes one about hourly)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create app_ticket."""
    op.create_table(
        "app_ticket",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("ticket", sa.String(length=512), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "app_id"),
    )


def downgrade() -> None:
    """Drop app_ticket."""
    op.drop_table("app_ticket")
