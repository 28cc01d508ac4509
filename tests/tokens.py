"""API tokens for HTTP tests: created straight in the database, secrets returned."""

from __future__ import annotations

from sqlalchemy import Engine

from gis.tokens import create_token

__all__ = ["bearer", "new_token"]


def new_token(engine: Engine, role: str, scope: str = "", name: str | None = None) -> str:
    """The secret of a new token."""
    with engine.begin() as conn:
        _, secret = create_token(conn, name or f"test-{role}-{scope or 'all'}", role, scope)
    return secret


def bearer(
    engine: Engine, role: str = "admin", scope: str = "", name: str | None = None
) -> dict[str, str]:
    """An ``Authorization`` header of a new token."""
    return {"Authorization": f"Bearer {new_token(engine, role, scope, name)}"}
