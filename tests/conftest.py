"""Shared fixtures: a real PostGIS test database holding the demo prefecture.

The test database is ``gridgov_test`` in the embedded cluster, or the database named by
``GRIDGOV_TEST_DATABASE_URL``. With only ``GRIDGOV_DATABASE_URL`` set, a sibling database
``<name>_test`` is created on that server (the user's own database is never touched).
The demo (seed 42, scale 1) is loaded once and kept between runs; tests that write do
so inside a transaction that is rolled back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from gis.db.engine import bring_up, create_db_engine, versions
from gis.db.migrate import upgrade
from gis.demo.generate import generate
from gis.demo.load import demo_fingerprint, load_demo

if TYPE_CHECKING:
    from browser import Browser

DEMO_SEED = 42
DEMO_SCALE = 1


def _create_sibling(url: str, name: str) -> str:
    admin = create_db_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.scalar_one_or_none() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    sibling = make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(sibling, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return sibling


@cache
def server_url() -> str:
    """A URL on the test server (embedded cluster or the configured one)."""
    return bring_up(say=lambda _m: None)


@cache
def database_url(name: str = "gridgov_test") -> str:
    """URL of a test database ``name`` on the test server, created with PostGIS if new."""
    explicit = os.environ.get("GRIDGOV_TEST_DATABASE_URL")
    if explicit and name == "gridgov_test":
        return explicit
    base = explicit or server_url()
    return _create_sibling(base, name)


def drop_database(name: str) -> None:
    admin = create_db_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    database_url.cache_clear()


def pytest_report_header(config: pytest.Config) -> list[str]:
    engine = create_db_engine(database_url())
    try:
        found = versions(engine)
    finally:
        engine.dispose()
    where = (
        "embedded cluster" if not os.environ.get("GRIDGOV_DATABASE_URL") else "configured server"
    )
    return [
        f"test database: {found['database']} ({where})",
        f"PostgreSQL: {found['postgresql']}",
        f"PostGIS: {found['postgis']}",
    ]


def load_test_demo(engine: Engine) -> None:
    """Migrate the database of ``engine`` and load the test demo into it (seed 42, scale
    1; skipped when it holds that demo already)."""
    upgrade(engine)
    load_demo(
        engine,
        lambda: generate(DEMO_SEED, DEMO_SCALE),
        demo_fingerprint(DEMO_SEED, DEMO_SCALE),
        replace=True,
        say=lambda _m: None,
    )


@pytest.fixture(scope="session")
def demo_engine() -> Iterator[Engine]:
    """Engine on the migrated test database holding the demo prefecture (seed 42, scale 1)."""
    engine = create_db_engine(database_url())
    load_test_demo(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def manifest(demo_engine: Engine) -> dict[str, Any]:
    """The demo's manifest: counts and every planted defect."""
    with demo_engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM gridgov_meta WHERE key = 'demo'")).scalar_one()
    return dict(json.loads(value) if isinstance(value, str) else value)


@pytest.fixture
def db(demo_engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with demo_engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture(scope="module")
def base_url(demo_engine: Engine) -> Iterator[str]:
    """A real uvicorn serving the demo database, for the page tests of one module."""
    from browser import serve

    with serve(demo_engine.url.render_as_string(hide_password=False)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, 1400 × 900, every request outside 127.0.0.1 blocked."""
    from browser import open_browser

    with open_browser(width=1400, height=900) as b:
        yield b


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test hides a gap: the run fails when any test was skipped."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        reporter.write_line("tests were skipped: failing the run (fix the cause)", red=True)
        session.exitstatus = 1
