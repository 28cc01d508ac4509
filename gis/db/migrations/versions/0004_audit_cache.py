"""data version and audit cache: audits reused until the data they read changes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:20:00

``data_version`` holds two counters, ``live`` (the tables a live audit reads) and
``plans`` (the drafts a plan's audit reads as well). A statement-level trigger on each of
those tables adds one to its counter in the writing transaction: the bump commits with
the write and rolls back with it, and a reader sees the new number exactly when it can
see the new rows. (A sequence would not do: ``nextval`` is visible before the write
commits, so an audit started in between would read the old rows and be stored under the
new number.) ``audit_cache`` keeps each computed report as JSON (verbatim, ``json`` not ``jsonb``)
under its key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: the tables an audit reads, by the counter their writes bump
WATCHED = {
    "live": (
        "region",
        "grid",
        "grid_code",
        "police_post",
        "organization",
        "building",
        "worker",
        "service_team",
        "party_branch",
    ),
    "plans": ("plan", "plan_grid", "plan_assignment"),
}


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("n", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.execute("INSERT INTO data_version (scope, n) VALUES ('live', 0), ('plans', 0)")
    op.execute("""
        CREATE FUNCTION gridgov_bump_data_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE data_version SET n = n + 1 WHERE scope = TG_ARGV[0];
            RETURN NULL;
        END
        $$
    """)
    for scope, tables in WATCHED.items():
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_bumps_data_version "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION gridgov_bump_data_version('{scope}')"
            )
    op.create_table(
        "audit_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("profile_digest", sa.String(length=64), nullable=False),
        sa.Column("live_version", sa.BigInteger(), nullable=False),
        sa.Column("plans_version", sa.BigInteger(), nullable=False),
        sa.Column("report", postgresql.JSON(astext_type=sa.Text()), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("hits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("audit_cache")
    for tables in WATCHED.values():
        for table in tables:
            op.execute(f"DROP TRIGGER {table}_bumps_data_version ON {table}")
    op.execute("DROP FUNCTION gridgov_bump_data_version()")
    op.drop_table("data_version")
