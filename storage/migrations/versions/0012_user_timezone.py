"""a person's own timezone, for messengers that do not say it (Feishu)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add user_pref.tz."""
    with op.batch_alter_table("user_pref") as batch:
        batch.add_column(sa.Column("tz", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop user_pref.tz."""
    with op.batch_alter_table("user_pref") as batch:
        batch.drop_column("tz")
