"""Publishing is all or nothing: the server killed (SIGKILL) in the middle of publishing a
large plan leaves every grid old or every grid new, and the coverage clean."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from browser import serve_process
from conftest import database_url, drop_database
from sqlalchemy import Engine, text

from shapely.geometry import MultiPolygon, box

from gis.audit.profile import default_profile
from gis.audit.run import run_audit
from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from tests.tokens import bearer

SCRATCH = "gridgov_publish_kill_test"
COMMUNITY = "659002001001"
SIDE = 30  # 30 × 30 = 900 grids in one community (3-digit sequences)
STEP = 0.0005  # degrees


def _multi(geom: box) -> str:
    return MultiPolygon([geom]).wkt


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    drop_database(SCRATCH)
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    x0, y0 = 87.0, 43.5
    whole = box(x0, y0, x0 + SIDE * STEP, y0 + SIDE * STEP)
    with engine.begin() as conn:
        for code, level, parent in (
            ("659000000000", "prefecture", None),
            ("659002000000", "county", "659000000000"),
            ("659002001000", "street", "659002000000"),
            (COMMUNITY, "community", "659002001000"),
        ):
            conn.execute(
                text(
                    "INSERT INTO region (code, name, level, parent_code, geom) "
                    "VALUES (:c, :c, :l, :p, ST_GeomFromText(:g, 4326))"
                ),
                {"c": code, "l": level, "p": parent, "g": _multi(whole)},
            )
        cells = [(i, j) for i in range(SIDE) for j in range(SIDE)]
        for n, (i, j) in enumerate(cells, start=1):
            code = f"{COMMUNITY}{n:03d}"
            conn.execute(
                text("INSERT INTO grid_code (code, community_code) VALUES (:c, :m)"),
                {"c": code, "m": COMMUNITY},
            )
            cell = box(x0 + i * STEP, y0 + j * STEP, x0 + (i + 1) * STEP, y0 + (j + 1) * STEP)
            conn.execute(
                text(
                    "INSERT INTO grid (code, name, kind, community_code, households, geom) "
                    "VALUES (:c, :c, 'geographic', :m, 400, ST_GeomFromText(:g, 4326))"
                ),
                {"c": code, "m": COMMUNITY, "g": _multi(cell)},
            )
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


def _versions(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text("SELECT version, count(*) FROM grid WHERE valid_to IS NULL GROUP BY version")
            ).all()
        )


def test_killed_mid_publish_leaves_all_old_or_all_new(scratch: Engine) -> None:
    assert _versions(scratch) == {1: SIDE * SIDE}
    with serve_process(scratch.url.render_as_string(hide_password=False)) as (base, proc):
        auth = bearer(scratch)
        plan = httpx.post(
            f"{base}/plans", json={"communities": [COMMUNITY]}, headers=auth, timeout=60
        ).json()
        assert plan["grids"] == SIDE * SIDE

        def publish() -> None:
            with contextlib.suppress(httpx.TransportError):  # the server dies under it
                httpx.post(
                    f"{base}/plans/{plan['id']}/publish",
                    json={"force_reason": "kill test"},
                    headers=auth,
                    timeout=120,
                )

        thread = threading.Thread(target=publish)
        thread.start()
        # wait until the publish transaction is at work in the database, then kill
        deadline = time.monotonic() + 60
        busy = 0
        with scratch.connect() as watch:
            while time.monotonic() < deadline:
                busy = watch.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state = 'active' AND pid <> pg_backend_pid() "
                        "AND xact_start IS NOT NULL AND query ILIKE '%plan%'"
                    )
                ).scalar_one()
                watch.rollback()
                if busy:
                    break
                time.sleep(0.01)
        assert busy, "the publish never reached the database"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        thread.join(timeout=60)
    # the database notices the dead client and rolls its transaction back
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with scratch.connect() as conn:
            left = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                )
            ).scalar_one()
        if not left:
            break
        time.sleep(0.1)
    versions = _versions(scratch)
    assert versions in ({1: SIDE * SIDE}, {2: SIDE * SIDE})  # all old, or all new
    with scratch.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM plan WHERE id = :p"), {"p": plan["id"]}
        ).scalar_one()
    assert status == ("published" if 2 in versions else "draft")
    report = run_audit(scratch, COMMUNITY, default_profile().only("blind_spots", "overlaps"))
    assert report.violations == []
