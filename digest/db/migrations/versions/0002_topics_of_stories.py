"""topics of stories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_topics",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_topics_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("story_id", "topic", name=op.f("pk_story_topics")),
    )
    with op.batch_alter_table("story_topics", schema=None) as batch_op:
        batch_op.create_index("ix_story_topics_topic_story_id", ["topic", "story_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("story_topics", schema=None) as batch_op:
        batch_op.drop_index("ix_story_topics_topic_story_id")

    op.drop_table("story_topics")
