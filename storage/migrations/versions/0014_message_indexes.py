"""records found by their message alone: indexes that lead with the message

Feishu's message IDs are unique on their own, so a reaction or a button on Feishu finds its record by the
message without the chat; the old indexes led with the channel and could not serve that. Message first serves
both (Slack's lookups add the channel). Action items had no index on their card's message at all.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Indexes on message_ts (and minutes_ts) first."""
    op.create_index("ix_action_message", "action_item", ["message_ts", "channel_id"])
    op.drop_index("ix_meeting_message", table_name="meeting")
    op.drop_index("ix_meeting_minutes_message", table_name="meeting")
    op.create_index("ix_meeting_message_first", "meeting", ["message_ts", "channel_id"])
    op.create_index("ix_meeting_minutes_first", "meeting", ["minutes_ts", "channel_id"])
    op.drop_index("ix_requirement_message", table_name="requirement")
    op.create_index("ix_requirement_message_first", "requirement", ["message_ts", "channel_id"])


def downgrade() -> None:
    """The channel-first indexes again."""
    op.drop_index("ix_requirement_message_first", table_name="requirement")
    op.create_index("ix_requirement_message", "requirement", ["channel_id", "message_ts"])
    op.drop_index("ix_meeting_minutes_first", table_name="meeting")
    op.drop_index("ix_meeting_message_first", table_name="meeting")
    op.create_index("ix_meeting_minutes_message", "meeting", ["channel_id", "minutes_ts"])
    op.create_index("ix_meeting_message", "meeting", ["channel_id", "message_ts"])
    op.drop_index("ix_action_message", table_name="action_item")
