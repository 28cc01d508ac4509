"""Road-network siting distances (PostGIS + pgRouting): a hand-built network checked by
hand, the demo community's roads against straight lines, and the CLI and API options."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import database_url, drop_database
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from pyproj import Geod

from api.app import create_app
from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from gis.errors import SetupError
from gis.siting import Points, from_database, from_lonlat, one_median_per_grid, p_median
from gis.siting.matrix import utm_epsg
from gis.siting.network import MAX_SNAP_M, road_costs
from gis.siting.report import site_posts

COMMUNITY = "652301005001"
SCRATCH = "gridgov_test_roads"
GEOD = Geod(ellps="WGS84")

# a hand-built network near (100°E, 30°N), in lon/lat:
#   A ------ B ------ C        A–C is one line: B (where B–D ends) must become a node
#            |         \
#            D -------- E      the shortest A→E is A–B–C–E (B–D–E is longer)
#   F -- G                     a road of its own, unconnected
X0, Y0 = 100.0, 30.0
A, B, C = (X0, Y0), (X0 + 0.01, Y0), (X0 + 0.02, Y0)
D, E = (X0 + 0.01, Y0 + 0.01), (X0 + 0.03, Y0 + 0.01)
F, G = (X0 + 0.05, Y0 + 0.05), (X0 + 0.06, Y0 + 0.05)
ROADS = [(A, C), (B, D), (D, E), (C, E), (F, G)]
# points: near A, near E, on F's road, and far from every road
POINTS = {
    "p:a": (X0 - 0.0002, Y0 + 0.0001),
    "p:e": (X0 + 0.0301, Y0 + 0.0102),
    "p:f": (X0 + 0.0501, Y0 + 0.0499),
    "p:far": (X0, Y0 + 0.04),
}


def _geodesic(p: tuple[float, float], q: tuple[float, float]) -> float:
    return float(GEOD.inv(p[0], p[1], q[0], q[1])[2])


def _points(names: list[str], epsg: int) -> Points:
    lonlat = np.array([POINTS[n] for n in names], dtype=float)
    n = len(names)
    return Points(
        from_lonlat(lonlat, epsg), np.ones(n), np.full(n, "", dtype=np.str_), np.array(names)
    )


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    """A migrated scratch database: the hand-built roads and a community without roads."""
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    with engine.begin() as conn:
        for a, b in ROADS:
            conn.execute(
                text(
                    "INSERT INTO road (class, geom) VALUES ('local', ST_Multi(ST_SetSRID("
                    "ST_MakeLine(ST_MakePoint(:ax, :ay), ST_MakePoint(:bx, :by)), 4326)))"
                ),
                {"ax": a[0], "ay": a[1], "bx": b[0], "by": b[1]},
            )
        # a community with two homes, a long way from those roads
        conn.execute(
            text(
                "INSERT INTO region (code, name, level, geom) VALUES ('659999000001', "
                "'Roadless', 'community', ST_Multi(ST_MakeEnvelope(110, 40, 110.02, 40.02, 4326)))"
            )
        )
        for x, hh in ((110.005, 3), (110.015, 5)):
            conn.execute(
                text(
                    "INSERT INTO building (households, geom) VALUES (:hh, ST_Multi(ST_Buffer("
                    "ST_SetSRID(ST_MakePoint(:x, 40.01), 4326), 0.0001, 2)))"
                ),
                {"x": x, "hh": hh},
            )
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


def test_hand_built_network_gives_the_shortest_path(scratch: Engine) -> None:
    epsg = utm_epsg(X0, Y0)
    names = list(POINTS)
    pts = _points(names, epsg)
    road = road_costs(scratch, epsg, [pts])
    assert road.edges == 6  # A–B and B–C (A–C noded at B), B–D, D–E, C–E, F–G
    assert road.vertices == 7
    got = road.matrix(pts, pts)
    via_c = _geodesic(A, B) + _geodesic(B, C) + _geodesic(C, E)
    via_d = _geodesic(A, B) + _geodesic(B, D) + _geodesic(D, E)
    assert via_c < via_d
    expected = _geodesic(POINTS["p:a"], A) + via_c + _geodesic(E, POINTS["p:e"])
    assert got[0, 1] == pytest.approx(expected, rel=1e-6)
    assert got[1, 0] == pytest.approx(expected, rel=1e-6)
    # unconnected (p:f is on F–G) and off the network (p:far): straight lines in metres
    straight = np.hypot(*(pts.xy[:, None, :] - pts.xy[None, :, :]).transpose(2, 0, 1))
    for i, j in ((0, 2), (1, 2), (0, 3), (3, 1), (2, 3)):
        assert got[i, j] == pytest.approx(straight[i, j], rel=1e-12)
    assert np.diag(got).tolist() == [0.0] * 4  # a point to itself
    assert road.off_road(pts) == 1
    # of the 16 ordered pairs: p:far's row and column (7), and p:f against p:a and p:e (4)
    assert road.fallback_pairs(pts, pts) == 11
    assert int((~np.isfinite(road._road(pts, pts))).sum()) == 10  # p:far to itself is 0
    assert road.max_snap_m == MAX_SNAP_M


# two points beside the middle of B–C, one beside the end E
BESIDE = {
    "q:1": (X0 + 0.015, Y0 - 0.0003),
    "q:2": (X0 + 0.018, Y0 + 0.0002),
    "q:e": POINTS["p:e"],
}


def test_points_snap_to_the_nearest_point_of_a_road(scratch: Engine) -> None:
    """A point beside the middle of a road piece joins it there (not at the piece's end),
    walks along it to either end, and two points on one piece walk between them."""
    epsg = utm_epsg(X0, Y0)
    lonlat = np.array(list(BESIDE.values()), dtype=float)
    pts = Points(
        from_lonlat(lonlat, epsg), np.ones(3), np.full(3, "", dtype=np.str_), np.array(list(BESIDE))
    )
    got = road_costs(scratch, epsg, [pts]).matrix(pts, pts)
    m1, m2 = (BESIDE["q:1"][0], Y0), (BESIDE["q:2"][0], Y0)  # their feet on B–C
    snap1, snap2 = _geodesic(BESIDE["q:1"], m1), _geodesic(BESIDE["q:2"], m2)
    same_piece = snap1 + _geodesic(m1, m2) + snap2
    assert got[0, 1] == pytest.approx(same_piece, rel=1e-6)
    assert got[1, 0] == pytest.approx(same_piece, rel=1e-6)
    to_e = snap1 + _geodesic(m1, C) + _geodesic(C, E) + _geodesic(E, BESIDE["q:e"])
    assert got[0, 2] == pytest.approx(to_e, rel=1e-6)
    # walking back to B and round by D would be longer
    via_b = snap1 + _geodesic(m1, B) + _geodesic(B, D) + _geodesic(D, E)
    assert got[0, 2] < via_b + _geodesic(E, BESIDE["q:e"])


def test_road_distance_at_least_straight_on_the_demo(demo_engine: Engine) -> None:
    from gis.siting.matrix import to_lonlat

    data = from_database(demo_engine, COMMUNITY, "both")
    road = road_costs(demo_engine, data.epsg, [data.demand, data.candidates])
    assert road.edges > 0
    got = road.matrix(data.demand, data.candidates)
    a, b = to_lonlat(data.demand.xy, data.epsg), to_lonlat(data.candidates.xy, data.epsg)
    n, m = len(a), len(b)
    geodesic = GEOD.inv(
        np.repeat(a[:, 0], m), np.repeat(a[:, 1], m), np.tile(b[:, 0], n), np.tile(b[:, 1], n)
    )[2].reshape(n, m)
    along = road.fallback_pairs(data.demand, data.candidates) < n * m
    assert along  # most pairs follow the roads
    on_roads = np.isfinite(road._road(data.demand, data.candidates))
    assert on_roads.sum() == n * m - road.fallback_pairs(data.demand, data.candidates)
    assert (got[on_roads] >= geodesic[on_roads] - 1e-6).all()
    assert (got[on_roads] > geodesic[on_roads] * 1.01).any()  # roads do detour


def test_one_median_and_p_median_on_road_costs_equal_brute_force(demo_engine: Engine) -> None:
    from dataclasses import replace

    data = from_database(demo_engine, COMMUNITY, "both")
    road = road_costs(demo_engine, data.epsg, [data.demand, data.candidates])
    data = replace(data, metric=road)
    cost = data.cost_matrix()
    w = data.demand.weight
    got = one_median_per_grid(data.demand, data.candidates, costs=data.costs)
    assert got
    for g, med in got.items():
        di = np.flatnonzero(data.demand.grid == g)
        ci = np.flatnonzero(data.candidates.grid == g)
        totals = w[di] @ cost[np.ix_(di, ci)]
        assert med.weighted_distance == pytest.approx(float(totals.min()), rel=1e-9)
        assert med.candidate == int(ci[int(np.argmin(totals))])
    posts = np.flatnonzero(np.char.startswith(data.candidates.key, "post:"))
    sol = p_median(cost[:, posts], w, p=1)
    assert sol.objective == pytest.approx(float((w @ cost[:, posts]).min()), rel=1e-9)


def test_cli_distance_option(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from gis.cli.main import app
    from gis.settings import get_settings

    url = demo_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        args = ["site-posts", COMMUNITY, "--p", "1", "--distance", "road", "--format", "json"]
        ran = CliRunner().invoke(app, args)
        assert ran.exit_code == 0, ran.output
        report = json.loads(ran.output)
        assert report["distance"] == "road"
        assert report["road"]["edges"] > 0
        assert report["road"]["pairs"] == report["demand_points"] * report["candidates"]
        straight = site_posts(demo_engine, COMMUNITY, p=1)
        assert straight.distance == "straight"
        assert straight.road is None
        road_mean = report["region_results"][0]["mean_distance_m"]
        assert road_mean >= straight.region_results[0].mean_distance_m
        ran = CliRunner().invoke(app, ["site-posts", COMMUNITY, "--distance", "road"])
        assert ran.exit_code == 0, ran.output
        assert "road distances" in ran.output
        ran = CliRunner().invoke(app, ["site-posts", COMMUNITY, "--distance", "bus"])
        assert ran.exit_code != 0
    finally:
        get_settings.cache_clear()


def test_api_distance_parameter(demo_engine: Engine) -> None:
    with TestClient(create_app(demo_engine.url.render_as_string(hide_password=False))) as c:
        r = c.get(f"/siting/{COMMUNITY}", params={"p": 1, "distance": "road"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["distance"] == "road"
        assert body["road"]["message"]
        assert c.get(f"/siting/{COMMUNITY}").json()["distance"] == "straight"
        assert c.get(f"/siting/{COMMUNITY}", params={"distance": "bus"}).status_code == 400


def test_region_without_roads_falls_back_with_a_message(scratch: Engine) -> None:
    report = site_posts(scratch, "659999000001", p=1, candidates="buildings", distance="road")
    assert report.distance == "road"
    assert report.road is not None
    assert report.road.edges == 0
    assert report.road.straight_pairs == report.road.pairs == 4
    assert "no roads" in report.road.message
    straight = site_posts(scratch, "659999000001", p=1, candidates="buildings")
    assert report.region_results[0].objective == pytest.approx(
        straight.region_results[0].objective, rel=1e-12
    )


def test_without_pgrouting_says_what_to_install(scratch: Engine) -> None:
    with scratch.begin() as conn:
        conn.execute(text("DROP EXTENSION pgrouting"))
    try:
        with pytest.raises(SetupError, match="postgresql-15-pgrouting"):
            site_posts(scratch, "659999000001", distance="road")
        assert site_posts(scratch, "659999000001").distance == "straight"
        with TestClient(create_app(scratch.url.render_as_string(hide_password=False))) as c:
            r = c.get("/siting/659999000001", params={"distance": "road"})
            assert r.status_code == 503
            assert "pgRouting" in r.text
    finally:
        with scratch.begin() as conn:
            conn.execute(text("CREATE EXTENSION pgrouting"))
