"""The API through HTTP: httpx against a real uvicorn server on the test database.

Expected counts come from the database's geometries checked with shapely, not from the
SQL the API runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from browser import serve
from sqlalchemy import Engine, text

import shapely
from shapely.geometry import box, shape

PROBLEM_KEYS = {"type", "title", "status", "detail"}


@pytest.fixture(scope="module")
def client(demo_engine: Engine) -> Iterator[httpx.Client]:
    url = demo_engine.url.render_as_string(hide_password=False)
    with serve(url) as base, httpx.Client(base_url=base, timeout=30.0) as c:
        yield c


def _live_grids(engine: Engine) -> list[tuple[str, shapely.Geometry]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code, ST_AsBinary(geom) FROM grid WHERE valid_to IS NULL")
        ).all()
    return [(code, shapely.from_wkb(bytes(wkb))) for code, wkb in rows]


def _bbox_inside_data(engine: Engine) -> tuple[float, float, float, float]:
    """The south-west quarter of the regions' extent, nudged off the grid lines."""
    with engine.connect() as conn:
        wkb = conn.execute(
            text("SELECT ST_AsBinary(ST_Extent(geom)::geometry) FROM region")
        ).scalar_one()
    minx, miny, maxx, maxy = shapely.from_wkb(bytes(wkb)).bounds
    return minx, miny, minx + (maxx - minx) * 0.43, miny + (maxy - miny) * 0.47


def test_health_reports_versions(client: httpx.Client) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    print("PostgreSQL:", body["postgresql"], "| PostGIS:", body["postgis"])
    assert body["status"] == "ok"
    assert body["postgresql"].startswith("PostgreSQL ")
    assert "POSTGIS=" in body["postgis"]


def test_grids_in_bbox(client: httpx.Client, demo_engine: Engine) -> None:
    bbox = _bbox_inside_data(demo_engine)
    r = client.get("/layers/grids.geojson", params={"bbox": ",".join(map(str, bbox))})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    expected = {code for code, geom in _live_grids(demo_engine) if geom.intersects(box(*bbox))}
    assert 0 < len(expected) < len(_live_grids(demo_engine))
    assert {f["id"] for f in fc["features"]} == expected
    assert len(fc["features"]) == len(expected)
    feature = fc["features"][0]
    assert {"code", "name", "kind", "community"} <= set(feature["properties"])
    assert feature["properties"]["kind"] in {"geographic", "unit", "organization"}
    lon, lat = shapely.get_coordinates(shape(feature["geometry"]))[0]
    assert bbox[0] - 1 < lon < bbox[2] + 1  # longitude first
    assert bbox[1] - 1 < lat < bbox[3] + 1


def test_grids_without_bbox_are_the_live_ones(client: httpx.Client, demo_engine: Engine) -> None:
    fc = client.get("/layers/grids.geojson").json()
    live = _live_grids(demo_engine)
    assert sorted(f["id"] for f in fc["features"]) == sorted(code for code, _ in live)
    for f in fc["features"]:
        for x, y in shapely.get_coordinates(shape(f["geometry"])):
            assert (round(x, 6), round(y, 6)) == (x, y)


@pytest.mark.parametrize("layer_id", ["communities", "streets", "police_posts", "roads"])
def test_every_catalogue_layer_serves(client: httpx.Client, layer_id: str) -> None:
    r = client.get(f"/layers/{layer_id}.geojson")
    assert r.status_code == 200
    assert r.json()["features"], f"layer {layer_id} is empty"


def test_unknown_layer_is_problem_json(client: httpx.Client) -> None:
    r = client.get("/layers/nope.geojson")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == 404
    assert "nope" in body["detail"]
    assert "grids" in body["detail"]  # names the known layers
    assert "Traceback" not in r.text


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "10,0,5,1", "0,-95,1,1"])
def test_bad_bbox_is_400(client: httpx.Client, bbox: str) -> None:
    r = client.get("/layers/grids.geojson", params={"bbox": bbox})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert set(r.json()) >= PROBLEM_KEYS
    assert "minx,miny,maxx,maxy" in r.json()["detail"]


def test_index_lists_the_map(client: httpx.Client, demo_engine: Engine) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert 'href="/map"' in r.text
    links = re.findall(r'href="([^"]+)"', r.text)
    region_pages = [h for h in links if re.fullmatch(r"/map/\w+/\d{12}", h)]
    with demo_engine.connect() as conn:
        regions = set(conn.execute(text("SELECT code FROM region")).scalars())
    # every region page names a region that exists; one page of each kind is opened
    assert region_pages
    assert {h.rsplit("/", 1)[1] for h in region_pages} <= regions
    sample = {h.rsplit("/", 2)[1]: h for h in region_pages}
    for href in [h for h in links if h not in region_pages] + list(sample.values()):
        assert client.get(href).status_code == 200, href


def test_unknown_path_is_problem_json(client: httpx.Client) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert set(r.json()) >= PROBLEM_KEYS


def test_assets_are_whitelisted(client: httpx.Client) -> None:
    assert client.get("/assets/leaflet/leaflet.js").status_code == 200
    assert client.get("/assets/leaflet/../leaflet-measure/package.json").status_code == 404
    assert client.get("/assets/acorn/package.json").status_code == 404


def test_every_response_carries_its_timing(client: httpx.Client) -> None:
    r = client.get("/health")
    assert r.headers["server-timing"].startswith("app;dur=")
    assert float(r.headers["server-timing"].split("=")[1]) >= 0


def test_cors_is_a_setting(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    with serve(url) as base:  # default: no CORS headers
        closed = httpx.options(
            f"{base}/plans",
            headers={"Origin": "http://gis.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in closed.headers
    monkeypatch.setenv("GRIDGOV_CORS_ORIGINS", '["http://gis.example"]')
    with serve(url) as base:
        opened = httpx.options(
            f"{base}/plans",
            headers={"Origin": "http://gis.example", "Access-Control-Request-Method": "POST"},
        )
        assert opened.headers["access-control-allow-origin"] == "http://gis.example"
        other = httpx.get(f"{base}/health", headers={"Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
