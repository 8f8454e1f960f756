"""editions: state, lead, notes, exclusions and the audit list of editors' decisions

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=9), nullable=False),
        sa.Column("lead_story_id", sa.Integer(), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_story_id"], ["stories.id"], name=op.f("fk_editions_lead_story_id_stories"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editions")),
        sa.UniqueConstraint("key", name=op.f("uq_editions_key")),
    )
    op.create_table(
        "edition_exclusions",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("keep_for_next", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"], ["editions.id"], name=op.f("fk_edition_exclusions_edition_id_editions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_edition_exclusions_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("edition_id", "story_id", name=op.f("pk_edition_exclusions")),
    )
    op.create_table(
        "edition_notes",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"], ["editions.id"], name=op.f("fk_edition_notes_edition_id_editions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("edition_id", "topic", name=op.f("pk_edition_notes")),
    )
    op.create_table(
        "edition_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("editor", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_before", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"], ["editions.id"], name=op.f("fk_edition_decisions_edition_id_editions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_decisions")),
    )
    with op.batch_alter_table("edition_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_edition_decisions_edition_id_id", ["edition_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("edition_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_edition_decisions_edition_id_id")
    op.drop_table("edition_decisions")
    op.drop_table("edition_notes")
    op.drop_table("edition_exclusions")
    op.drop_table("editions")
