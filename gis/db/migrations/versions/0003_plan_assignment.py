"""plan assignments: organizations and police posts moved to another grid in a draft

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_assignment",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_key", sa.Text(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.CheckConstraint(
            "entity IN ('organization', 'police_post')", name="plan_assignment_entity_known"
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "entity", "entity_key"),
    )


def downgrade() -> None:
    op.drop_table("plan_assignment")
