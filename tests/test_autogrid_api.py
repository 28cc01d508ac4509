"""Autogrid and siting through HTTP (FastAPI TestClient) on the demo database: roles and
scopes, the plan and its metrics, the report as JSON and GeoJSON, problem+json for bad
input. The plans these tests create are committed by the API, so they are deleted after.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import database_url, drop_database
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, text

import shapely
from shapely.geometry import shape

from api.app import create_app
from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from tests import canonical as cases
from tests.canonical import insert_case
from tests.tokens import bearer

VILLAGE = "652301005202"  # a small village: a few hundred households
STREET = VILLAGE[:9] + "000"
OTHER_STREET = "652301004"
SITING = "652301005001"
NAME = "autogrid-api-test"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def client(demo_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(_url(demo_engine))) as c:
        yield c
    with demo_engine.begin() as conn:  # the plans and tokens made here
        ids = list(
            conn.execute(
                text("SELECT id FROM plan WHERE name LIKE :n"), {"n": NAME + "%"}
            ).scalars()
        )
        conn.execute(text("DELETE FROM change WHERE plan_id = ANY(:ids)"), {"ids": ids})
        conn.execute(text("DELETE FROM plan WHERE id = ANY(:ids)"), {"ids": ids})
        conn.execute(text("DELETE FROM api_token WHERE name LIKE 'autogrid-api-%'"))


def _token(engine: Engine, role: str, scope: str = "") -> dict[str, str]:
    return bearer(engine, role, scope, name=f"autogrid-api-{role}-{scope or 'all'}")


def _problem(r: Response, status: int, *needles: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    for needle in needles:
        assert needle in body["detail"], body["detail"]
    assert "Traceback" not in r.text


def _plans(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM plan")).scalar_one())


def _households(engine: Engine, community: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT coalesce(sum(b.households), 0) FROM building b JOIN region r "
                    "ON r.code = :c AND b.geom && r.geom "
                    "AND ST_Intersects(r.geom, ST_PointOnSurface(b.geom))"
                ),
                {"c": community},
            ).scalar_one()
        )


def test_autogrid_makes_a_plan_with_its_metrics(client: TestClient, demo_engine: Engine) -> None:
    planner = _token(demo_engine, "planner", STREET[:9])
    body = {"target": 150, "seed": 3, "name": NAME, "lock": ["unit", "organization"]}
    r = client.post(f"/autogrid/{VILLAGE}", json=body, headers=planner)
    assert r.status_code == 201, r.text
    out = r.json()
    plan = out["plan"]
    assert plan["status"] == "draft"
    assert plan["name"] == NAME
    assert plan["author"] == "autogrid-api-planner-652301005"
    assert plan["community_codes"] == [VILLAGE]
    assert r.headers["etag"] == f'"plan-{plan["id"]}-v{plan["version"]}"'
    assert r.headers["location"] == f"/plans/{plan['id']}"
    m = out["metrics"]
    assert m["parts"] == len(out["grids"]) >= 2
    assert m["contiguous"] is True
    assert out["buildings_split"] == 0
    assert out["warnings"] == []
    # the draft opens on its Redraw page, drawn from the same grids
    assert out["redraw_page"] == f"/map/plans/{plan['id']}"
    page = client.get(out["redraw_page"])
    assert page.status_code == 200
    assert f"/plans/{plan['id']}/grids" in page.text
    # the grids the plan holds: the new codes plus the kept ones, households conserved
    grids = client.get(f"/plans/{plan['id']}/grids").json()["features"]
    codes = {f["properties"]["code"] for f in grids}
    assert codes == set(out["grids"]) | set(out["kept"])
    new = [f for f in grids if f["properties"]["code"] in out["grids"]]
    assert sorted(f["properties"]["households"] for f in new) == sorted(m["households"])
    assert all(len(shapely.get_parts(shape(f["geometry"]))) == 1 for f in new)
    # the change log names the token as the actor
    with demo_engine.connect() as conn:
        actors = set(
            conn.execute(
                text("SELECT actor FROM change WHERE plan_id = :p"), {"p": plan["id"]}
            ).scalars()
        )
    assert actors == {"autogrid-api-planner-652301005"}
    # the same seed gives the same grids
    again = client.post(f"/autogrid/{VILLAGE}", json=body, headers=planner).json()
    assert again["metrics"]["households"] == m["households"]
    assert again["plan"]["id"] != plan["id"]


def test_autogrid_by_number_of_grids_and_target_too_large(
    client: TestClient, demo_engine: Engine
) -> None:
    admin = _token(demo_engine, "admin")
    r = client.post(f"/autogrid/{VILLAGE}", json={"grids": 2, "name": NAME}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["metrics"]["parts"] == 2
    total = _households(demo_engine, VILLAGE)
    big = {"target": total * 10 + 1000, "name": NAME}
    r = client.post(f"/autogrid/{VILLAGE}", json=big, headers=admin)
    assert r.status_code == 201, r.text
    out = r.json()
    assert len(out["grids"]) == 1
    assert out["warnings"]
    assert "one grid" in out["warnings"][0]


def test_autogrid_auth(client: TestClient, demo_engine: Engine) -> None:
    before = _plans(demo_engine)
    body = {"target": 150, "name": NAME}
    _problem(client.post(f"/autogrid/{VILLAGE}", json=body), 401)
    viewer = _token(demo_engine, "viewer")
    _problem(client.post(f"/autogrid/{VILLAGE}", json=body, headers=viewer), 403, "viewer")
    elsewhere = _token(demo_engine, "planner", OTHER_STREET)
    r = client.post(f"/autogrid/{VILLAGE}", json=body, headers=elsewhere)
    _problem(r, 403, VILLAGE, "outside the scope")
    assert _plans(demo_engine) == before


def test_autogrid_bad_input_changes_nothing(client: TestClient, demo_engine: Engine) -> None:
    admin = _token(demo_engine, "admin")
    before = _plans(demo_engine)
    _problem(client.post("/autogrid/652301005999", json={}, headers=admin), 404, "652301005999")
    _problem(client.post(f"/autogrid/{STREET}", json={}, headers=admin), 404, "not a community")
    for bad in (
        {"target": 0},
        {"target": 100, "grids": 3},
        {"grids": 0},
        {"lock": ["geographic"]},
        {"name": "a\x00b"},
    ):
        _problem(client.post(f"/autogrid/{VILLAGE}", json=bad, headers=admin), 422)
    _problem(client.post("/autogrid/6523", json={}, headers=admin), 400)
    assert _plans(demo_engine) == before


def test_siting_report_json_and_geojson(client: TestClient) -> None:
    r = client.get(f"/siting/{SITING}")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["region"] == SITING
    assert report["grids"]
    assert report["region_results"] == []
    assert all(g["proposed_site"].startswith(("building:", "post:")) for g in report["grids"])
    params = {"p": 2, "radius": 400, "candidates": "posts", "time_limit": 30}
    r = client.get(f"/siting/{SITING}", params=params)
    assert r.status_code == 200, r.text
    results = {x["model"]: x for x in r.json()["region_results"]}
    assert set(results) == {"p-median", "mclp"}
    for x in results.values():
        assert len(x["sites"]) == 2
        assert x["optimal"]
        assert x["gap"] == 0
        assert not x["time_limit_hit"]
    assert 0 <= results["mclp"]["coverage"] <= 1
    assert results["mclp"]["coverage"] >= results["p-median"]["coverage"] - 1e-9
    geo = client.get(f"/siting/{SITING}", params={**params, "format": "geojson"})
    assert geo.status_code == 200
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    roles = [f["properties"]["role"] for f in features]
    assert roles.count("grid") == len(r.json()["grids"])
    assert roles.count("p-median") == roles.count("mclp") == 2
    # every point lies in the region it was sited for
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        wkb = conn.execute(
            text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c"), {"c": SITING}
        ).scalar_one()
    region = shapely.from_wkb(bytes(wkb)).buffer(1e-6)
    assert all(region.contains(shape(f["geometry"])) for f in features)


def test_siting_time_limit_flags_the_best_solution(client: TestClient) -> None:
    params = {"p": 6, "candidates": "buildings", "time_limit": 0.001}
    r = client.get(f"/siting/{VILLAGE}", params=params)
    assert r.status_code == 200, r.text
    (median,) = r.json()["region_results"]
    assert len(median["sites"]) == 6
    # the time limit stopped HiGHS: the greedy start (or better) is returned with its gap
    assert median["time_limit_hit"]
    assert not median["optimal"]
    assert median["gap"] >= 0


def test_siting_bad_input(client: TestClient) -> None:
    _problem(client.get(f"/siting/{SITING}", params={"p": 9999}), 422, "p = 9999")
    _problem(client.get(f"/siting/{SITING}", params={"radius": 300}), 422, "radius needs p")
    _problem(client.get("/siting/652301005999"), 404, "652301005999")
    _problem(client.get(f"/siting/{SITING}", params={"p": 2, "time_limit": 600}), 400)
    _problem(client.get(f"/siting/{SITING}", params={"p": 0}), 400)
    _problem(client.get("/siting/6523"), 400)


@pytest.fixture(scope="module")
def bare() -> Iterator[TestClient]:
    """A database whose community has grids but no buildings."""
    name = "gridgov_autogrid_api_test"
    drop_database(name)
    engine = create_db_engine(database_url(name))
    upgrade(engine)
    with engine.begin() as conn:
        insert_case(conn, cases.SHARED_EDGE)
    with TestClient(create_app(_url(engine))) as c:
        c.headers.update(_token(engine, "admin"))
        yield c
    engine.dispose()
    drop_database(name)


def test_a_community_without_buildings(bare: TestClient) -> None:
    community = cases.SHARED_EDGE.community
    r = bare.post(f"/autogrid/{community}", json={"target": 100})
    _problem(r, 422, community, "no buildings")
    assert bare.get("/plans").json() == []
    _problem(bare.get(f"/siting/{community}"), 422, community, "no buildings")
