"""archive: what each edition contained per topic group, for the public web copy and its feeds

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition", sa.String(length=32), nullable=False),
        sa.Column("topic_group", sa.String(length=400), nullable=False),
        sa.Column("story_ids", sa.Text(), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_issues")),
        sa.UniqueConstraint("edition", "topic_group", name=op.f("uq_archive_issues_edition_topic_group")),
    )
    op.create_index("ix_archive_issues_first_sent_at", "archive_issues", ["first_sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_archive_issues_first_sent_at", table_name="archive_issues")
    op.drop_table("archive_issues")
