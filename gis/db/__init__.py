"""Database access: where PostGIS is, engines and sessions, migrations."""

from gis.db.engine import (
    bring_up,
    check_postgis,
    create_db_engine,
    database_url,
    session_scope,
    versions,
)

__all__ = [
    "bring_up",
    "check_postgis",
    "create_db_engine",
    "database_url",
    "session_scope",
    "versions",
]
