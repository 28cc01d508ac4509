"""Where the database is, and engines and sessions on it.

``GRIDGOV_DATABASE_URL`` wins; otherwise the embedded cluster in ``.gridgov/pg``.
Helpers never commit: whoever opens the session owns the transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gis.db.cluster import Cluster
from gis.errors import DatabaseUnavailable, SetupError
from gis.settings import get_settings

__all__ = [
    "bring_up",
    "check_postgis",
    "create_db_engine",
    "database_url",
    "embedded_cluster",
    "session_scope",
    "versions",
]

MIN_POSTGIS = (3, 3)
CONNECT_TIMEOUT = 10  # seconds


def embedded_cluster(say: Callable[[str], None] = print) -> Cluster:
    settings = get_settings().database
    return Cluster(settings.home, settings.database_name, say=say)


def database_url() -> str:
    """The URL gridgov uses, without starting anything."""
    configured = get_settings().database.database_url
    if configured:
        return configured
    return embedded_cluster().url()


def bring_up(say: Callable[[str], None] = print) -> str:
    """Make sure a PostGIS database answers and return its URL.

    With ``GRIDGOV_DATABASE_URL`` set, only check it (never start a cluster).
    """
    configured = get_settings().database.database_url
    if configured:
        check_postgis(create_db_engine(configured))
        return configured
    return embedded_cluster(say).up()


def create_db_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """One engine per process; ``pool_pre_ping`` so a restarted server is noticed.

    libpq waits for ever on a server that does not answer: unless the URL (or
    PGCONNECT_TIMEOUT) says otherwise, give up after :data:`CONNECT_TIMEOUT` seconds.
    """
    target = make_url(url or database_url())
    if "connect_timeout" not in target.query and "PGCONNECT_TIMEOUT" not in os.environ:
        connect_args = dict(kwargs.pop("connect_args", None) or {})
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
        kwargs["connect_args"] = connect_args
    return create_engine(target, pool_pre_ping=True, **kwargs)


def _describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def check_postgis(engine: Engine) -> tuple[str, str]:
    """(PostgreSQL version, PostGIS version); a clear error when either is missing."""
    where = _describe(str(engine.url.render_as_string(hide_password=False)))
    try:
        with engine.connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar_one()
            installed = conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            ).scalar_one_or_none()
            available = conn.execute(
                text("SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar_one_or_none()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot reach the database at {where}: {reason}. Check that the server runs and "
            "the URL is right, or unset GRIDGOV_DATABASE_URL to use the embedded cluster."
        ) from exc
    if installed is None:
        how = (
            "run `CREATE EXTENSION postgis;` in that database as a superuser"
            if available
            else "install PostGIS for that server (Debian: postgresql-15-postgis-3), "
            "then run `CREATE EXTENSION postgis;` in that database"
        )
        raise SetupError(
            f"the database at {where} (PostgreSQL {pg}) does not have the PostGIS extension: "
            f"{how}. gridgov needs PostGIS {MIN_POSTGIS[0]}.{MIN_POSTGIS[1]} or newer."
        )
    major_minor = tuple(int(p) for p in installed.split(".")[:2])
    if major_minor < MIN_POSTGIS:
        raise SetupError(
            f"the database at {where} has PostGIS {installed}; gridgov needs "
            f"{MIN_POSTGIS[0]}.{MIN_POSTGIS[1]} or newer (ALTER EXTENSION postgis UPDATE)."
        )
    return str(pg), str(installed)


def versions(engine: Engine) -> dict[str, str]:
    """Versions for /health and the test log."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT version(), postgis_full_version(), current_database()")
        ).one()
    return {"postgresql": row[0], "postgis": row[1], "database": row[2]}


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine) as session, session.begin():
        yield session
