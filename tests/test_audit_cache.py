"""Audits are computed once per data version and reused: through the pages and the API
(real HTTP through the app), across processes sharing the table, and never stale after a
write — while a rolled-back write leaves the cached report current.

A scratch database holds one small community of 2 × 2 grids, so each audit takes a
moment and a test can change the data freely; computations are counted by the cache's
counter (``computed``: calls of run_audit) and the table's ``hits``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import database_url, drop_database
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from shapely.geometry import MultiPolygon, box

from api.app import create_app
from gis.audit.cache import AuditCache, AuditInProgress, audit_cache, current_key
from gis.audit.profile import default_profile
from gis.audit.report import AuditReport
from gis.audit.run import run_audit
from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from gis.settings import get_settings
from layers.maps import OVERVIEW_PAGE, page_profile

SCRATCH = "gridgov_audit_cache_test"
TOP = "659000000000"
COUNTY = "659002000000"
STREET = "659002001000"
COMMUNITY = "659002001001"
X0, Y0, STEP = 87.0, 43.5, 0.004


def _multi(geom: box) -> str:
    return str(MultiPolygon([geom]).wkt)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    drop_database(SCRATCH)
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    whole = box(X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP)
    with engine.begin() as conn:
        for code, level, parent in (
            (TOP, "prefecture", None),
            (COUNTY, "county", TOP),
            (STREET, "street", COUNTY),
            (COMMUNITY, "community", STREET),
        ):
            conn.execute(
                text(
                    "INSERT INTO region (code, name, level, parent_code, geom) "
                    "VALUES (:c, :c, :l, :p, ST_GeomFromText(:g, 4326))"
                ),
                {"c": code, "l": level, "p": parent, "g": _multi(whole)},
            )
        for n, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1)), start=1):
            code = f"{COMMUNITY}{n:03d}"
            cell = box(X0 + i * STEP, Y0 + j * STEP, X0 + (i + 1) * STEP, Y0 + (j + 1) * STEP)
            conn.execute(
                text("INSERT INTO grid_code (code, community_code) VALUES (:c, :m)"),
                {"c": code, "m": COMMUNITY},
            )
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


@pytest.fixture
def client(scratch: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(scratch.url.render_as_string(hide_password=False))) as c:
        yield c


def _versions(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT scope, count(*) AS n FROM data_change GROUP BY scope"))
        return {"live": 0, "plans": 0} | {r.scope: int(r.n) for r in rows}


def _blind_spot_errors(body: dict[str, object]) -> int:
    rules = body["rules"]
    assert isinstance(rules, list)
    return next(int(r["errors"]) for r in rules if r["rule"] == "blind_spots")


def _same(a: AuditReport, b: AuditReport) -> None:
    """Reports equal in every field but when and how fast they were computed."""
    skip = {"generated_at", "seconds"}
    assert a.model_dump(exclude=skip) == b.model_dump(exclude=skip)


def test_second_request_is_served_from_the_cache(scratch: Engine, client: TestClient) -> None:
    audit_cache.settle()
    before = audit_cache.computed
    first = client.get(f"/audit/{STREET}")
    assert first.status_code == 200
    assert audit_cache.computed == before + 1
    second = client.get(f"/audit/{STREET}")
    assert second.status_code == 200
    assert audit_cache.computed == before + 1  # not run again
    assert second.json() == first.json()
    # another worker (an empty memory) reads the table: still no computation
    audit_cache.clear_memory()
    third = client.get(f"/audit/{STREET}")
    assert third.json() == first.json()
    assert audit_cache.computed == before + 1
    key = current_key(scratch, STREET, default_profile())
    with scratch.connect() as conn:
        hits = conn.execute(
            text("SELECT hits FROM audit_cache WHERE key = :k"), {"k": key.digest}
        ).scalar_one()
    assert hits == 1


def test_overview_and_its_compliance_layer_share_one_audit(client: TestClient) -> None:
    assert page_profile(OVERVIEW_PAGE) == default_profile()
    audit_cache.settle()
    before = audit_cache.computed
    page = client.get("/map/overview")
    assert page.status_code == 200
    assert "Computing the audit" not in page.text
    assert "leaflet" in page.text
    assert audit_cache.computed == before + 1
    layer = client.get(f"/audit/{TOP}/compliance")
    assert layer.status_code == 200
    assert [f["id"] for f in layer.json()["features"]] == [COMMUNITY]
    summary = client.get(f"/audit/{TOP}")
    assert summary.status_code == 200
    assert audit_cache.computed == before + 1  # page, layer and summary: one audit
    # every level of the drill-down reads the same audit: none of its own
    read = audit_cache.table_hits
    for region, child in ((TOP, COUNTY), (COUNTY, STREET), (STREET, COMMUNITY)):
        if region != TOP:
            page = client.get(f"/map/overview/{region}")
            assert page.status_code == 200
            assert f"/audit/{TOP}/compliance?children={region}" in page.text
        layer = client.get(f"/audit/{TOP}/compliance", params={"children": region})
        assert [f["id"] for f in layer.json()["features"]] == [child]
    assert client.get(f"/map/overview/{COMMUNITY}", follow_redirects=False).status_code == 307
    assert (audit_cache.computed, audit_cache.table_hits) == (before + 1, read)


def test_a_committed_write_bumps_the_version_and_the_next_request_recomputes(
    scratch: Engine, client: TestClient
) -> None:
    before = client.get(f"/audit/{COMMUNITY}").json()
    assert _blind_spot_errors(before) == 0
    versions = _versions(scratch)
    computed = audit_cache.computed
    grid = f"{COMMUNITY}004"
    with scratch.begin() as conn:  # shrink a grid: a quarter of it becomes a blind spot
        conn.execute(
            text(
                "UPDATE grid SET geom = ST_GeomFromText(:g, 4326) "
                "WHERE code = :c AND valid_to IS NULL"
            ),
            {
                "c": grid,
                "g": _multi(box(X0 + STEP, Y0 + STEP, X0 + 1.5 * STEP, Y0 + 2 * STEP)),
            },
        )
    try:
        after_write = _versions(scratch)
        assert after_write["live"] > versions["live"]
        assert after_write["plans"] == versions["plans"]
        after = client.get(f"/audit/{COMMUNITY}").json()
        assert audit_cache.computed == computed + 1
        assert _blind_spot_errors(after) == 1
        spots = client.get(f"/audit/{COMMUNITY}/blind-spots").json()["features"]
        assert [f["properties"]["check"] for f in spots] == ["blind_spot"]
    finally:
        with scratch.begin() as conn:
            conn.execute(
                text(
                    "UPDATE grid SET geom = ST_GeomFromText(:g, 4326) "
                    "WHERE code = :c AND valid_to IS NULL"
                ),
                {"c": grid, "g": _multi(box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP))},
            )
    restored = client.get(f"/audit/{COMMUNITY}").json()
    assert _blind_spot_errors(restored) == 0
    assert audit_cache.computed == computed + 3  # after the write, and after restoring


def test_a_rolled_back_write_changes_nothing(scratch: Engine, client: TestClient) -> None:
    first = client.get(f"/audit/{COMMUNITY}").json()
    versions = _versions(scratch)
    computed = audit_cache.computed
    with scratch.connect() as conn:
        trans = conn.begin()
        conn.execute(text("DELETE FROM grid WHERE code = :c"), {"c": f"{COMMUNITY}001"})
        # in flight: other connections see neither the delete nor its version
        assert _versions(scratch) == versions
        during = client.get(f"/audit/{COMMUNITY}").json()
        trans.rollback()
    assert _versions(scratch) == versions
    after = client.get(f"/audit/{COMMUNITY}").json()
    assert during == first
    assert after == first
    assert audit_cache.computed == computed


def test_a_draft_does_not_invalidate_live_audits(scratch: Engine, client: TestClient) -> None:
    client.get(f"/audit/{COMMUNITY}")
    versions = _versions(scratch)
    computed = audit_cache.computed
    with scratch.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plan (name, author, community_codes) "
                "VALUES ('draft', 'test', ARRAY[:c])"
            ),
            {"c": COMMUNITY},
        )
    try:
        assert _versions(scratch) == {"live": versions["live"], "plans": versions["plans"] + 1}
        client.get(f"/audit/{COMMUNITY}")
        assert audit_cache.computed == computed
    finally:
        with scratch.begin() as conn:
            conn.execute(text("DELETE FROM plan"))


def test_cached_report_equals_a_fresh_run(scratch: Engine) -> None:
    profile = default_profile()
    audit_cache.get(scratch, TOP, profile)
    reader = AuditCache()  # a restarted server: nothing in memory, the table only
    cached = reader.get(scratch, TOP, profile)
    assert reader.computed == 0
    assert reader.table_hits == 1
    fresh = run_audit(scratch, TOP, profile)
    _same(cached, fresh)
    assert cached.violations  # the scratch data have findings (no posts, no workers)


def test_concurrent_requests_compute_once(scratch: Engine) -> None:
    profile = default_profile().only("blind_spots", "overlaps", "workload")
    workers = [AuditCache(), AuditCache()]  # two server processes sharing the table
    found: list[AuditReport] = []

    def ask(cache: AuditCache) -> None:
        found.append(cache.get(scratch, STREET, profile))

    threads = [threading.Thread(target=ask, args=(workers[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 6
    assert sum(w.computed for w in workers) == 1
    for report in found[1:]:
        _same(report, found[0])


def test_an_audit_being_computed_is_said_so(
    scratch: Engine, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = default_profile().only("codes")
    with pytest.raises(AuditInProgress, match=f"the audit of {STREET} is being computed"):
        AuditCache().get(scratch, STREET, profile, wait_s=0)
    # the pages and the API do not wait longer than GRIDGOV_AUDIT_WAIT_S
    monkeypatch.setenv("GRIDGOV_AUDIT_WAIT_S", "0")
    get_settings.cache_clear()
    try:
        with scratch.begin() as conn:  # a new version: nothing cached yet
            conn.execute(text("UPDATE region SET name = name WHERE code = :c"), {"c": TOP})
        audit_cache.clear_memory()
        page = client.get("/map/overview")
        assert page.status_code == 200
        assert "Computing the audit" in page.text
        assert 'http-equiv="refresh"' in page.text
        api = client.get(f"/audit/{STREET}/overlaps")
        assert api.status_code == 503
        assert api.headers["retry-after"] == "10"
        assert api.json()["title"] == "Audit being computed"
    finally:
        monkeypatch.delenv("GRIDGOV_AUDIT_WAIT_S")
        get_settings.cache_clear()
    # the computation went on: the page is drawn once it is done
    assert client.get("/map/overview").text.count("Computing the audit") == 0


def test_the_served_app_warms_the_overview_audit_at_start_up(scratch: Engine) -> None:
    with scratch.begin() as conn:  # a new version: nothing cached yet
        conn.execute(text("UPDATE region SET name = name WHERE code = :c"), {"c": TOP})
    audit_cache.settle()  # an earlier test's background audit may still be finishing
    before = audit_cache.computed
    app = create_app(scratch.url.render_as_string(hide_password=False), warm=True)
    with TestClient(app) as client:
        warming = app.state.warming
        assert warming is not None
        report = warming.result()  # computed in the background, no request made
        assert report.region == TOP
        assert audit_cache.computed == before + 1
        page = client.get("/map/overview")
        assert "Computing the audit" not in page.text
        assert audit_cache.computed == before + 1  # the page used the warmed audit
    with TestClient(create_app(scratch.url.render_as_string(hide_password=False))) as cold:
        assert cold.app.state.warming is None  # type: ignore[attr-defined]
