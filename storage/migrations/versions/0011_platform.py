"""the messenger each inbox row, due row and workspace belongs to

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `platform` (slack for every existing row) to inbox, outbox and workspace."""
    for table in ("inbox", "outbox", "workspace"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("platform", sa.String(length=16), nullable=False, server_default="slack"))
    with op.batch_alter_table("inbox") as batch:
        batch.create_index("ix_inbox_platform", ["platform", "state"])
    with op.batch_alter_table("outbox") as batch:
        batch.create_index("ix_outbox_platform", ["platform", "state"])


def downgrade() -> None:
    """Drop the platform columns."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_platform")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_index("ix_inbox_platform")
    for table in ("workspace", "outbox", "inbox"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("platform")
