"""pgRouting for road-network distances, when the server has it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:55:00

Siting can measure distances along the road table (``gis/siting/network.py``) with
pgRouting. The embedded cluster installs Debian's ``postgresql-15-pgrouting``; a server
without it (or a role that may not create it) still migrates: the extension is created
inside a savepoint that is rolled back on failure, and road distances then say what to
install.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'")
    ).first()
    if available is None:
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
    else:
        savepoint.commit()


def downgrade() -> None:
    op.execute("DROP EXTENSION IF EXISTS pgrouting")
