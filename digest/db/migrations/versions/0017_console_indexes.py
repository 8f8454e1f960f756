"""indexes for the console's edition pages

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-02

Every view of an edition (its deliveries by state, its failures, the stories its digests carry, the
editions list's counts) asks for the deliveries of one edition; without an index each read the
whole outbox, every edition ever sent.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_edition_state", "deliveries", ["edition", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_edition_state", table_name="deliveries")
