"""events: each story's event and thread, why it was grouped, and editors' merges and splits

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_events",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("thread_key", sa.String(length=64), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("grouped_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_events_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_story_events")),
    )
    op.create_index("ix_story_events_event_key", "story_events", ["event_key"], unique=False)
    op.create_index("ix_story_events_thread_key", "story_events", ["thread_key"], unique=False)
    op.create_table(
        "event_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("other_story_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["other_story_id"],
            ["stories.id"],
            name=op.f("fk_event_decisions_other_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_event_decisions_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_decisions")),
    )
    op.create_index(op.f("ix_event_decisions_story_id"), "event_decisions", ["story_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_decisions_story_id"), table_name="event_decisions")
    op.drop_table("event_decisions")
    op.drop_index("ix_story_events_thread_key", table_name="story_events")
    op.drop_index("ix_story_events_event_key", table_name="story_events")
    op.drop_table("story_events")
