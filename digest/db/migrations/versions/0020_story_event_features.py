"""story_events.features: each grouped story's features, kept so later polls need not extract them

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty for stories grouped before: the next poll extracts theirs once and keeps them.
    with op.batch_alter_table("story_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("features", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story_events", schema=None) as batch_op:
        batch_op.drop_column("features")
