"""Plans through HTTP on a scratch database: ETags, If-Match, 412, 409, and 20 planners
editing the same grid at once with no update lost."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from browser import serve
from conftest import database_url, drop_database
from sqlalchemy import Engine, text

from shapely.geometry import box, mapping, shape

from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from tests import canonical as cases
from tests.canonical import insert_case, lonlat
from tests.tokens import bearer

SCRATCH = "gridgov_plans_api_test"
CASE = cases.SHARED_EDGE  # two grids sharing the edge x = 50 m of a 100 m square
WEST, EAST = (g.key for g in CASE.grids)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    drop_database(SCRATCH)
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    with engine.begin() as conn:
        insert_case(conn, CASE)
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


@pytest.fixture(scope="module")
def client(scratch: Engine) -> Iterator[httpx.Client]:
    with (
        serve(scratch.url.render_as_string(hide_password=False)) as base,
        httpx.Client(base_url=base, timeout=60, headers=bearer(scratch)) as c,
    ):
        yield c


def _west_outline(width_m: float) -> dict[str, object]:
    return dict(mapping(lonlat(CASE.at(box(0, 0, width_m, 100)))))


def test_create_read_and_etag(client: httpx.Client) -> None:
    r = client.post("/plans", json={"communities": [CASE.community], "author": "a"})
    assert r.status_code == 201
    plan = r.json()
    assert plan["grids"] == 2
    assert plan["status"] == "draft"
    assert r.headers["etag"] == f'"plan-{plan["id"]}-v1"'
    again = client.get(f"/plans/{plan['id']}")
    assert again.headers["etag"] == r.headers["etag"]
    unknown = client.post("/plans", json={"communities": ["659001001999"]})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


def test_twenty_planners_edit_one_grid_at_once(client: httpx.Client, scratch: Engine) -> None:
    plan = client.post("/plans", json={"communities": [CASE.community]}).json()
    etag = client.get(f"/plans/{plan['id']}").headers["etag"]
    widths = [30.0 + i for i in range(20)]

    def edit(width: float) -> tuple[float, int]:
        with httpx.Client(base_url=str(client.base_url), timeout=60, headers=client.headers) as own:
            r = own.post(
                f"/plans/{plan['id']}/reshape",
                headers={"If-Match": etag},
                json={"grid": WEST, "geometry": _west_outline(width)},
            )
            return width, r.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(edit, widths))
    codes = [status for _, status in results]
    assert set(codes) <= {200, 412}
    won = [w for w, status in results if status == 200]
    assert len(won) == 1  # all read the same version: exactly one may write on it
    draft = client.get(f"/plans/{plan['id']}/grids").json()
    west = next(f for f in draft["features"] if f["id"] == WEST)
    east = next(f for f in draft["features"] if f["id"] == EAST)
    expected = lonlat(CASE.at(box(0, 0, won[0], 100)))
    # GeoJSON carries 7 decimals (about 1 cm)
    assert shape(west["geometry"]).hausdorff_distance(expected) < 2e-7
    # the area the west grid gave up went to its neighbour: the square is still covered
    both = shape(west["geometry"]).union(shape(east["geometry"]))
    assert both.hausdorff_distance(lonlat(CASE.at(box(0, 0, 100, 100)))) < 2e-7
    assert client.get(f"/plans/{plan['id']}").headers["etag"] == f'"plan-{plan["id"]}-v2"'
    with scratch.connect() as conn:
        logged = conn.execute(
            text("SELECT count(*) FROM change WHERE action = 'grid.reshape' AND plan_id = :p"),
            {"p": plan["id"]},
        ).scalar_one()
    assert logged == 1


def test_publish_with_if_match_then_conflict(client: httpx.Client, scratch: Engine) -> None:
    first = client.post("/plans", json={"communities": [CASE.community]}).json()
    second = client.post("/plans", json={"communities": [CASE.community]}).json()
    stale = client.post(
        f"/plans/{first['id']}/publish", headers={"If-Match": f'"plan-{first["id"]}-v0"'}
    )
    assert stale.status_code == 412
    ok = client.post(
        f"/plans/{first['id']}/publish", headers={"If-Match": f'"plan-{first["id"]}-v1"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "published"
    late = client.post(f"/plans/{second['id']}/publish")
    assert late.status_code == 409
    assert "changed since the plan was made" in late.json()["detail"]
    assert client.get(f"/plans/{second['id']}").json()["status"] == "draft"
    bad_split = client.post(
        f"/plans/{second['id']}/split",
        json={"grid": WEST, "line": {"type": "Point", "coordinates": [0, 0]}},
    )
    assert bad_split.status_code == 422
    with scratch.connect() as conn:
        versions = dict(
            conn.execute(text("SELECT code, max(version) FROM grid GROUP BY code")).all()
        )
    assert versions == {WEST: 2, EAST: 2}


def test_plan_commands(scratch: Engine, client: httpx.Client) -> None:
    import os
    import subprocess
    from pathlib import Path

    gridgov = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gridgov")
    env = {**os.environ, "GRIDGOV_DATABASE_URL": scratch.url.render_as_string(hide_password=False)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [gridgov, "plan", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    created = run("create", CASE.community, "--note", "from the command line")
    assert created.returncode == 0, created.stderr
    plan_id = created.stdout.split()[1]
    cut = lonlat(CASE.at(box(0, 0, 50, 100))).centroid
    line = f"LINESTRING({cut.x - 0.001} {cut.y}, {cut.x + 0.001} {cut.y})"
    split = run("edit", "split", plan_id, WEST, line)
    assert split.returncode == 0, split.stderr
    assert "split into" in split.stdout
    assert "households" in run("diff", plan_id).stdout
    checked = run("validate", plan_id)
    assert checked.returncode == 1  # the two halves fall under the household band
    assert "below the band" in checked.stdout
    refused = run("publish", plan_id)
    assert refused.returncode == 1
    assert "error finding" in refused.stderr
    assert "Traceback" not in refused.stderr
    forced = run("publish", plan_id, "--force", "small grids agreed with the street office")
    assert forced.returncode == 0, forced.stderr
    assert "[published]" in forced.stdout


def test_structure_edits_over_http(client: httpx.Client) -> None:
    plan = client.post("/plans", json={"communities": [CASE.community]}).json()
    start = plan["grids"]
    outside = dict(mapping(lonlat(CASE.at(box(-500, 0, -400, 100)))))
    carve = client.post(
        f"/plans/{plan['id']}/carve", json={"community": CASE.community, "geometry": outside}
    )
    assert carve.status_code == 422
    assert "outside community" in carve.json()["detail"]
    inside = dict(mapping(lonlat(CASE.at(box(10, 10, 30, 30)))))
    carved = client.post(
        f"/plans/{plan['id']}/carve",
        json={"community": CASE.community, "geometry": inside, "kind": "unit"},
    )
    assert carved.status_code == 200, carved.text
    draft = client.get(f"/plans/{plan['id']}/grids").json()
    assert len(draft["features"]) == start + 1
    retired = client.post(f"/plans/{plan['id']}/retire", json={"grid": EAST})
    assert retired.status_code == 200, retired.text
    codes = {f["id"] for f in client.get(f"/plans/{plan['id']}/grids").json()["features"]}
    assert EAST not in codes
    assert len(codes) == start
