"""the messenger each inbox row, due row and workspace belongs to; IDs of people, chats and messages up to 64
characters (Feishu's open_id, chat_id and message_id are 35)

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

# every column that holds a person's, a channel's or a message's ID (or a workspace string), and whether it is
# nullable: Slack's IDs fit in 32 characters, Feishu's (ou_…, oc_…, om_… and 32 hex digits) do not
WIDENED: dict[str, tuple[tuple[str, bool], ...]] = {
    "counter": (("team_id", False),),
    "requirement": (
        ("team_id", False),
        ("author_id", False),
        ("requester_owner", False),
        ("receiver_owner", False),
        ("channel_id", False),
        ("message_ts", True),
    ),
    "signature": (("user_id", False),),
    "open_question": (
        ("owner_id", False),
        ("answered_by", True),
    ),
    "requirement_revision": (("created_by", False),),
    "history": (("actor_id", False),),
    "outbox": (("team_id", False),),
    "user_pref": (
        ("team_id", False),
        ("user_id", False),
    ),
    "channel_pref": (
        ("team_id", False),
        ("channel_id", False),
    ),
    "meeting": (
        ("team_id", False),
        ("host_id", False),
        ("channel_id", False),
        ("message_ts", True),
        ("created_by", False),
        ("minutes_by", True),
        ("minutes_ts", True),
    ),
    "meeting_participant": (("user_id", False),),
    "agenda_item": (("owner_id", False),),
    "minutes_ack": (("user_id", False),),
    "action_item": (
        ("team_id", False),
        ("owner_id", False),
        ("creator_id", False),
        ("escalate_to", True),
        ("channel_id", False),
        ("message_ts", True),
    ),
    "digest_subscription": (
        ("team_id", False),
        ("channel_id", False),
        ("created_by", False),
    ),
    "incident": (
        ("team_id", False),
        ("commander_id", False),
        ("comms_id", True),
        ("declared_by", False),
        ("declared_in", False),
        ("channel_id", False),
        ("summary_ts", True),
        ("announce_channel_id", False),
        ("announce_ts", True),
        ("acknowledged_by", True),
        ("resolved_by", True),
    ),
    "incident_responder": (("user_id", False),),
    "incident_timeline": (
        ("actor_id", False),
        ("message_ts", True),
    ),
    "inbox": (("team_id", False),),
    "left_channel": (
        ("team_id", False),
        ("channel_id", False),
    ),
    "workspace": (
        ("team_id", False),
        ("enterprise_id", True),
        ("installer_id", True),
    ),
}


def upgrade() -> None:
    """Add `platform` (slack for every existing row) to inbox, outbox and workspace; widen the ID columns."""
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for name, nullable in columns:
                batch.alter_column(
                    name, type_=sa.String(length=64), existing_type=sa.String(length=32), existing_nullable=nullable
                )
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
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for name, nullable in columns:
                batch.alter_column(
                    name, type_=sa.String(length=32), existing_type=sa.String(length=64), existing_nullable=nullable
                )
