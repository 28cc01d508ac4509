"""data version and audit cache: audits reused until the data they read changes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:20:00

The data version: every transaction that writes a table the audit reads leaves one row
in ``data_change`` — (scope, its transaction id), inserted by a statement-level trigger on
each of those tables, ``live`` for the catalogue and ``plans`` for the drafts. A scope's
version is its number of rows: the row commits with the write and rolls back with it, so
the number grows by one at each committed writing transaction and a reader sees it grow
exactly when it can see the new rows. Writers never wait for each other (each inserts its
own key); a counter row would make them queue, and a sequence is visible before the write
commits (an audit started in between would read the old rows under the new number).
``audit_cache`` keeps each computed report as JSON (verbatim, ``json`` not ``jsonb``)
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

#: the tables an audit reads, by the scope of the version their writes change
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
        "data_change",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("scope IN ('live', 'plans')", name="data_change_scope_known"),
        sa.PrimaryKeyConstraint("scope", "txid"),
    )
    op.execute("""
        CREATE FUNCTION gridgov_data_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO data_change (scope, txid) VALUES (TG_ARGV[0], txid_current())
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
        $$
    """)
    for scope, tables in WATCHED.items():
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_data_changed "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION gridgov_data_changed('{scope}')"
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
            op.execute(f"DROP TRIGGER {table}_data_changed ON {table}")
    op.execute("DROP FUNCTION gridgov_data_changed()")
    op.drop_table("data_change")
