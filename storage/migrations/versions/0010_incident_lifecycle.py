"""incident lifecycle times and reopenings, a meeting's incident (its review), why an action item won't be done

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add incident.mitigated_at/reopened_count/reopened_at, meeting.incident_id, action_item.closed_reason."""
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("mitigated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reopened_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch.create_index("ix_meeting_incident_id", ["incident_id"])
    with op.batch_alter_table("action_item") as batch:
        batch.add_column(sa.Column("closed_reason", sa.Text(), nullable=True))
    # incidents that already went to monitoring: their first such moment, from the timeline
    op.execute(
        """
        UPDATE incident SET mitigated_at = (
            SELECT MIN(t.at) FROM incident_timeline t
            WHERE t.incident_id = incident.id AND t.kind = 'status' AND t.detail LIKE '%"to": "monitoring"%'
        )
        """
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("action_item") as batch:
        batch.drop_column("closed_reason")
    with op.batch_alter_table("meeting") as batch:
        batch.drop_index("ix_meeting_incident_id")
        batch.drop_column("incident_id")
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("reopened_at")
        batch.drop_column("reopened_count")
        batch.drop_column("mitigated_at")
