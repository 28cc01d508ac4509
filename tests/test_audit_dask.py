"""The audit on Dask (LocalCluster, two worker processes) gives the single-process report.

One task per county of the demo prefecture; the merged findings, rule counts, roll-ups
and community statistics must equal ``run_audit``'s — also when a worker process is
killed while it runs a county, and when one county's grids are broken.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest
from conftest import database_url, drop_database, load_test_demo, server_url
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from gis.audit import scope
from gis.audit.distributed import SchedulerUnreachable, connect, run_distributed
from gis.audit.report import AuditReport
from gis.audit.run import default_region, run_audit
from gis.db.engine import create_db_engine

GRIDGOV = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gridgov"
SCRATCH = "gridgov_dask_scratch"
BORDER = "gridgov_dask_border"
BROKEN_COUNTY = "652323000000"


def canonical(report: AuditReport) -> dict[str, Any]:
    """Everything the report says, independent of the order of equal-rank findings."""
    dump = report.model_dump(mode="json", exclude={"generated_at", "seconds"})
    dump["violations"] = sorted(json.dumps(v, sort_keys=True) for v in dump["violations"])
    dump["rollup"] = sorted(json.dumps(r, sort_keys=True) for r in dump["rollup"])
    return dump


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def client(demo_engine: Engine) -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def region(demo_engine: Engine) -> str:
    return default_region(demo_engine)


@pytest.fixture(scope="module")
def single(demo_engine: Engine, region: str) -> AuditReport:
    return run_audit(demo_engine, region)


def test_dask_audit_equals_single_process(
    client: Any, demo_engine: Engine, region: str, single: AuditReport
) -> None:
    report, results = run_distributed(url_of(demo_engine), region, client)
    assert [r.code for r in results] == ["652301000000", "652302000000", "652323000000"]
    assert all(r.error is None and r.peak_rss_mb > 0 for r in results)
    assert len({r.worker for r in results}) >= 1
    assert single.errors > 0  # the demo's planted defects
    assert canonical(report) == canonical(single)


def test_killed_worker_leaves_the_report_complete(
    client: Any, demo_engine: Engine, region: str, single: AuditReport
) -> None:
    pids: dict[str, int] = client.run(os.getpid)
    killed: list[tuple[str, list[str]]] = []
    stop = threading.Event()

    def kill_a_busy_worker() -> None:
        while not stop.is_set() and not killed:
            for worker, tasks in client.processing().items():
                if tasks and worker in pids:
                    os.kill(pids[worker], signal.SIGKILL)
                    killed.append((worker, list(tasks)))
                    return
            time.sleep(0.005)

    watcher = threading.Thread(target=kill_a_busy_worker, daemon=True)
    watcher.start()
    try:
        report, results = run_distributed(url_of(demo_engine), region, client)
    finally:
        stop.set()
        watcher.join()
    assert killed, "no worker was busy to be killed"
    assert killed[0][1][0].startswith("audit-county-")
    assert all(r.error is None for r in results)
    assert canonical(report) == canonical(single)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def test_unreachable_scheduler_is_a_clear_error() -> None:
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "2s"}),
        pytest.raises(SchedulerUnreachable, match="without --scheduler"),
    ):
        connect("tcp://127.0.0.1:9", None)


def test_unreachable_scheduler_on_the_command_line(demo_engine: Engine) -> None:
    env = {
        **os.environ,
        "GRIDGOV_DATABASE_URL": url_of(demo_engine),
        "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s",
    }
    run = subprocess.run(
        [str(GRIDGOV), "audit", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in run.stderr
    assert "run without --scheduler" in run.stderr
    assert "Traceback" not in run.stderr


def scratch_copy(demo_engine: Engine, name: str) -> Engine:
    """A scratch database holding a copy of the demo (as a template, else loaded)."""
    demo_engine.dispose()  # a template database must have no other sessions
    admin = create_db_engine(server_url(), isolation_level="AUTOCOMMIT")
    template = make_url(url_of(demo_engine)).database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        try:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            copied = True
        except Exception:  # the template is in use elsewhere: load the demo afresh
            copied = False
    admin.dispose()
    engine = create_db_engine(database_url(name))
    if not copied:
        load_test_demo(engine)
    return engine


@pytest.fixture(scope="module")
def broken(demo_engine: Engine) -> Iterator[tuple[Engine, str]]:
    """A scratch copy of the demo whose county 652323 has self-intersecting grids, and
    where one community of county 652302 and its buildings were shifted 51° north, past
    the pole. The audit itself measures on the spheroid, which folds such coordinates
    back; a server-side guard (a function the database resolves before PostGIS's own
    ``ST_YMax``) refuses latitudes beyond the pole, so that county's audit fails inside
    PostgreSQL, every time, and only that county's."""
    engine = scratch_copy(demo_engine, SCRATCH)
    with engine.begin() as conn:
        # a database that never enforced valid grids (e.g. filled by another tool)
        conn.execute(text("ALTER TABLE grid DROP CONSTRAINT grid_geom_valid"))
        conn.execute(
            text("""
            UPDATE grid SET geom = ST_SetSRID(ST_Multi(ST_MakePolygon(ST_MakeLine(ARRAY[
                ST_MakePoint(ST_XMin(geom), ST_YMin(geom)),
                ST_MakePoint(ST_XMax(geom), ST_YMax(geom)),
                ST_MakePoint(ST_XMax(geom), ST_YMin(geom)),
                ST_MakePoint(ST_XMin(geom), ST_YMax(geom)),
                ST_MakePoint(ST_XMin(geom), ST_YMin(geom))]))), 4326)
            WHERE community_code LIKE '652323%' AND valid_to IS NULL
            """)
        )
        off_earth = conn.execute(
            text("""
            SELECT min(r.code) FROM region r JOIN building b ON ST_Intersects(r.geom, b.geom)
            WHERE r.level = 'community' AND r.code LIKE '652302%'
            """)
        ).scalar_one()
        conn.execute(
            text("""
            UPDATE building SET geom = ST_Translate(geom, 0, 51)
            WHERE ST_Intersects(geom, (SELECT geom FROM region WHERE code = :c))
            """),
            {"c": off_earth},
        )
        conn.execute(
            text("UPDATE region SET geom = ST_Translate(geom, 0, 51) WHERE code = :c"),
            {"c": off_earth},
        )
        conn.execute(text("CREATE SCHEMA guard"))
        conn.execute(
            text("""
            CREATE FUNCTION guard.st_ymax(box3d) RETURNS float8 LANGUAGE plpgsql AS $$
            BEGIN
                IF public.st_ymax($1) > 90 THEN
                    RAISE EXCEPTION 'latitude % is beyond the pole', public.st_ymax($1);
                END IF;
                RETURN public.st_ymax($1);
            END $$
            """)
        )
        conn.execute(text(f'ALTER DATABASE "{SCRATCH}" SET search_path = guard, public'))
    yield engine, off_earth
    engine.dispose()
    drop_database(SCRATCH)


def test_broken_county_is_reported_and_the_rest_continues(
    client: Any, broken: tuple[Engine, str], region: str, single: AuditReport
) -> None:
    engine, off_earth = broken
    report, results = run_distributed(url_of(engine), region, client)

    # invalid geometries are findings of their county
    with engine.connect() as conn:
        bowties = set(
            conn.execute(
                text(
                    "SELECT code FROM grid WHERE community_code LIKE '652323%' AND valid_to IS NULL"
                )
            ).scalars()
        )
    invalid = {v.grids[0] for v in report.violations if v.check == "invalid"}
    assert invalid == bowties
    assert all("Self-intersection" in v.message for v in report.violations if v.check == "invalid")

    # the county whose audit fails is retried, then reported as its failure
    failed = {r.code: r.error for r in results if r.error}
    assert list(failed) == ["652302000000"]
    assert "beyond the pole" in str(failed["652302000000"])
    failures = [v for v in report.violations if v.rule == "audit"]
    assert [(v.check, v.community, v.severity) for v in failures] == [
        ("county_failed", "652302000000", "error")
    ]
    assert "after 3 attempts" in failures[0].message
    county = next(s for s in report.rollup if s.code == "652302000000")
    assert county.errors == 1
    assert not any(
        v.community and v.community.startswith("652302")
        for v in report.violations
        if v.rule != "audit"
    )

    # the rest of the region is audited as if nothing had happened
    def of_652301(r: AuditReport) -> list[str]:
        return sorted(
            json.dumps(v.model_dump(mode="json"), sort_keys=True)
            for v in r.violations
            if v.community and v.community.startswith("652301")
        )

    assert of_652301(report) == of_652301(single)
    assert [s for s in report.rollup if s.code.startswith("652301")] == [
        s for s in single.rollup if s.code.startswith("652301")
    ]
    assert off_earth.startswith("652302")


@pytest.fixture(scope="module")
def border(demo_engine: Engine) -> Iterator[tuple[Engine, tuple[str, str, str]]]:
    """A scratch copy of the demo with findings across the 652301/652302 border: grid A
    of 652302 takes a square out of grid B of 652301 and overlaps a square of grid C; a
    building straddles A and B; an organization standing in B is assigned to A."""
    engine = scratch_copy(demo_engine, BORDER)
    live = "valid_to IS NULL AND kind = 'geographic'"
    with engine.begin() as conn:
        a = conn.execute(
            text(f"SELECT code FROM grid WHERE community_code LIKE '652302%' AND {live} LIMIT 1")
        ).scalar_one()
        b, c = conn.execute(
            text(
                f"SELECT code FROM grid WHERE community_code LIKE '652301%' AND {live} "
                "ORDER BY ST_Area(geom) DESC LIMIT 2"
            )
        ).scalars()
        square = (
            "(SELECT ST_Intersection(geom, ST_Expand(ST_PointOnSurface(geom), 0.0003)) "
            "FROM grid WHERE code = :g AND valid_to IS NULL)"
        )
        piece_b = conn.execute(text(f"SELECT {square}"), {"g": b}).scalar_one()
        piece_c = conn.execute(text(f"SELECT {square}"), {"g": c}).scalar_one()
        conn.execute(
            text(
                "UPDATE grid SET geom = ST_Multi(ST_CollectionExtract(ST_Difference(geom, :p), 3))"
                " WHERE code = :g AND valid_to IS NULL"
            ),
            {"p": piece_b, "g": b},
        )
        conn.execute(
            text(
                "UPDATE grid SET geom = ST_Multi(ST_CollectionExtract("
                "ST_Union(ARRAY[geom, CAST(:pb AS geometry), CAST(:pc AS geometry)]), 3))"
                " WHERE code = :g AND valid_to IS NULL"
            ),
            {"pb": piece_b, "pc": piece_c, "g": a},
        )
        conn.execute(
            text(
                "INSERT INTO building (households, population, geom) "
                "SELECT 12, 30, ST_Multi(ST_Expand(ST_MakePoint(ST_XMax(p), "
                "(ST_YMin(p) + ST_YMax(p)) / 2), 0.00005)) "
                "FROM (SELECT CAST(:p AS geometry) AS p) s"
            ),
            {"p": piece_b},
        )
        conn.execute(
            text(
                "INSERT INTO organization (name, category, grid_code, geom) "
                "SELECT '跨县测试单位', (SELECT category FROM organization LIMIT 1), :a, "
                "ST_PointOnSurface(geom) FROM grid WHERE code = :b AND valid_to IS NULL"
            ),
            {"a": a, "b": b},
        )
    yield engine, (a, b, c)
    engine.dispose()
    drop_database(BORDER)


def test_findings_across_a_county_border_are_whole_and_once(
    client: Any, border: tuple[Engine, tuple[str, str, str]], region: str
) -> None:
    engine, (a, b, c) = border
    single = run_audit(engine, region)
    report, _ = run_distributed(url_of(engine), region, client)
    assert canonical(report) == canonical(single)
    pairs = [frozenset(v.grids) for v in report.violations if v.rule == "overlaps"]
    assert pairs.count(frozenset((a, c))) == 1
    straddling = [
        v for v in report.violations if v.rule == "buildings_split" and set(v.grids) == {a, b}
    ]
    assert straddling
    misplaced = [
        v for v in report.violations if v.message.startswith("organization") and a in v.grids
    ]
    assert [(v.check, v.community, v.grids) for v in misplaced] == [("wrong_grid", b[:12], [a, b])]


def _scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of a JSON plan that reads a table."""
    found = [plan] if "Relation Name" in plan else []
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def test_a_county_scope_reads_only_that_county(db: Connection) -> None:
    """Storage by county: the scoping statements of a county's audit reach rows through
    the county-keyed indexes (region.parent_code, grid.community_code) and the GiST
    indexes, and read no other county's rows.

    The demo's tables are small enough for PostgreSQL to prefer whole-table scans and
    hash joins; they are switched off so the plan is the one a national database gets
    (on the 79-county province the planner picks these index paths by itself). Buildings
    are left to ``bench/scale.py``, which checks them on the province: on the demo the
    planner walks the building primary key instead of the GiST index (it needs that
    order for DISTINCT ON, and sorting 98,000 rows looks cheap)."""
    county = "652302"
    for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
        db.execute(text(f"SET LOCAL {setting} = off"))
    params: dict[str, Any] = {
        "code": f"{county}000000",
        "as_of": None,
        "trust_regions": True,
        "trust_grids": True,
    }
    read: dict[str, int] = {}
    for statement in (scope._COMMUNITIES, scope._GRIDS, scope._OTHER_GRIDS):
        plan = db.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + statement), params).scalar_one()[
            0
        ]["Plan"]
        for node in _scans(plan):
            table = node["Relation Name"]
            if table.startswith("audit_"):
                continue
            assert node["Node Type"] != "Seq Scan", (table, node)
            read[table] = read.get(table, 0) + node["Actual Rows"] * node["Actual Loops"]
    counts = db.execute(
        text("""
        SELECT (SELECT count(*) FROM region WHERE code LIKE :c || '%') AS regions,
               (SELECT count(*) FROM grid WHERE community_code LIKE :c || '%') AS grids,
               (SELECT count(*) FROM grid g WHERE g.geom && (
                    SELECT ST_Extent(geom) FROM region WHERE code = :c || '000000')) AS near,
               (SELECT count(*) FROM region) AS all_regions,
               (SELECT count(*) FROM grid) AS all_grids
        """),
        {"c": county},
    ).one()
    # rows read = rows per loop (an average, rounded) × loops: the county's row is read
    # by the lookup of the start and the walk down
    assert 0 < read["region"] <= counts.regions + 1 < counts.all_regions / 2
    assert 0 < read["grid"] <= counts.grids + counts.near < counts.all_grids / 2
