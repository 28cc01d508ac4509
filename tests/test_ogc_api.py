"""OGC API – Features and vector tiles over real HTTP (uvicorn) on the demo database.

Expected values come from the database's geometries checked with shapely, or from SQL
written here, never from the API's own queries.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from browser import free_port, serve
from sqlalchemy import Connection, Engine, text

import shapely
from shapely.geometry import box, shape

from api.app import create_app
from layers.features import collections, item, items
from layers.params import parse_items_query
from layers.tiles import Tile, cached_tile, invalidate_tiles, render_tile

PROBLEM_KEYS = {"type", "title", "status", "detail"}
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
V2_FROM = "2025-01-01T00:00:00Z"
GRID = "652301001001001"


@pytest.fixture(scope="module")
def client(demo_engine: Engine) -> Iterator[httpx.Client]:
    url = demo_engine.url.render_as_string(hide_password=False)
    with serve(url) as base, httpx.Client(base_url=base, timeout=30.0) as c:
        yield c


@pytest.fixture(scope="module")
def live(demo_engine: Engine) -> dict[str, tuple[str, str, shapely.Geometry]]:
    """Live grids: code → (kind, community code, geometry)."""
    with demo_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, kind, community_code, ST_AsBinary(geom) FROM grid "
                "WHERE valid_to IS NULL"
            )
        ).all()
    return {code: (kind, cc, shapely.from_wkb(bytes(wkb))) for code, kind, cc, wkb in rows}


def _rel(document: dict[str, Any], rel: str) -> str | None:
    hrefs = [link["href"] for link in document["links"] if link["rel"] == rel]
    return hrefs[0] if hrefs else None


def _href(document: dict[str, Any], rel: str) -> str:
    href = _rel(document, rel)
    assert href is not None, f"no {rel} link"
    return href


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    return body


def test_landing_page_links(client: httpx.Client) -> None:
    r = client.get("/ogc")
    assert r.status_code == 200
    body = r.json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert client.get(rels["service-desc"]["href"]).json()["paths"]
    assert client.get(rels["conformance"]["href"]).status_code == 200
    html = client.get("/ogc", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "/ogc/collections" in html.text


def test_conformance_classes(client: httpx.Client) -> None:
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    assert {CORE + c for c in ("core", "geojson", "oas30", "html")} <= set(conforms)


def test_collections_one_per_catalogue_layer(client: httpx.Client, live: dict[str, Any]) -> None:
    body = client.get("/ogc/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert set(ids) == {s.id for s in collections()}
    assert {"grids", "grids_unit", "streets", "communities", "police_posts", "roads"} <= set(ids)
    assert {"organizations", "buildings", "grids_geographic", "grids_organization"} <= set(ids)
    grids = next(c for c in body["collections"] if c["id"] == "grids")
    assert grids == client.get("/ogc/collections/grids").json()
    assert _href(grids, "items").endswith("/ogc/collections/grids/items")
    union = shapely.union_all([geom for _, _, geom in live.values()])
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx(list(union.bounds), abs=1e-9)
    assert grids["extent"]["spatial"]["crs"].endswith("/OGC/1.3/CRS84")
    # the demo's grids are valid from 2024-01-01 (UTC+8), all still live
    assert grids["extent"]["temporal"]["interval"] == [["2023-12-31T16:00:00Z", None]]


def test_limit_default_and_clamped(client: httpx.Client, live: dict[str, Any]) -> None:
    page = client.get("/ogc/collections/grids/items")
    assert page.headers["content-type"] == "application/geo+json"
    body = page.json()
    assert (body["numberReturned"], body["numberMatched"]) == (100, len(live))
    assert len(body["features"]) == 100
    clamped = client.get("/ogc/collections/grids/items", params={"limit": 20000}).json()
    assert clamped["numberReturned"] == len(live)
    assert "limit=10000" in _href(clamped, "self")
    assert _rel(clamped, "next") is None
    many = client.get("/ogc/collections/buildings/items", params={"limit": 10**9}).json()
    assert many["numberReturned"] == 10_000 < many["numberMatched"]


def test_next_and_prev_links_walk_every_grid(client: httpx.Client, live: dict[str, Any]) -> None:
    url: str | None = "/ogc/collections/grids/items?limit=500"
    pages, seen = [], []
    while url:
        body = client.get(url).json()
        pages.append(body)
        seen += [f["id"] for f in body["features"]]
        url = _rel(body, "next")
    assert len(pages) == 3
    assert sorted(seen) == sorted(live)  # every live grid once
    assert _rel(pages[0], "prev") is None
    prev = client.get(_href(pages[2], "prev")).json()
    assert [f["id"] for f in prev["features"]] == [f["id"] for f in pages[1]["features"]]


def test_bbox_equals_shapely(client: httpx.Client, live: dict[str, Any]) -> None:
    bbox = (87.28, 43.99, 87.33, 44.03)
    params = {"bbox": ",".join(map(str, bbox)), "limit": "10000"}
    r = client.get("/ogc/collections/grids/items", params=params)
    expected = {code for code, (_, _, geom) in live.items() if geom.intersects(box(*bbox))}
    assert 10 < len(expected) < len(live)
    body = r.json()
    assert {f["id"] for f in body["features"]} == expected
    assert body["numberMatched"] == len(expected)
    params["bbox"] = "87.28,43.99,0,87.33,44.03,9"  # with heights
    six = client.get("/ogc/collections/grids/items", params=params)
    assert {f["id"] for f in six.json()["features"]} == expected


def test_property_filters(client: httpx.Client, live: dict[str, Any]) -> None:
    units = {c for c, (kind, _, _) in live.items() if kind == "unit"}
    body = client.get("/ogc/collections/grids/items?kind=unit&limit=10000").json()
    assert {f["id"] for f in body["features"]} == units
    assert {f["properties"]["kind"] for f in body["features"]} == {"unit"}
    community = "652301001001"
    inside = {c for c, (_, cc, _) in live.items() if cc == community}
    got = client.get("/ogc/collections/grids/items", params={"community_code": community}).json()
    assert {f["id"] for f in got["features"]} == inside
    both = client.get(
        "/ogc/collections/grids_unit/items", params={"community_code": community}
    ).json()
    assert {f["id"] for f in both["features"]} == inside & units


def test_datetime_selects_versions_valid_then(client: httpx.Client, live: dict[str, Any]) -> None:
    def matched(value: str) -> int:
        r = client.get("/ogc/collections/grids/items", params={"datetime": value})
        assert r.status_code == 200, r.text
        return int(r.json()["numberMatched"])

    assert matched("2023-12-31T15:59:59Z") == 0  # before the demo's grids were drawn
    assert matched("2024-01-01T00:00:00+08:00") == len(live)  # valid_from is inclusive
    assert matched("2025-06-01") == len(live)
    assert matched("../2023-06-01T00:00:00Z") == 0
    assert matched("2023-06-01T00:00:00Z/..") == len(live)
    # timeless layers ignore the time
    roads = client.get("/ogc/collections/roads/items", params={"datetime": "2000-01-01"})
    assert roads.json()["numberMatched"] > 0


def test_single_features(client: httpx.Client, live: dict[str, Any]) -> None:
    code = sorted(live)[0]
    r = client.get(f"/ogc/collections/grids/items/{code}")
    assert r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    assert feature["id"] == code
    assert shape(feature["geometry"]).hausdorff_distance(live[code][2]) < 1e-6
    assert _href(feature, "collection").endswith("/ogc/collections/grids")
    road = client.get("/ogc/collections/roads/items/1").json()
    assert road["id"] == 1
    page = client.get(f"/ogc/collections/grids/items/{code}?f=html")
    assert page.headers["content-type"].startswith("text/html")
    assert code in page.text


def test_html_items_page(client: httpx.Client) -> None:
    r = client.get("/ogc/collections/police_posts/items", params={"f": "html", "limit": 5})
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.count("<tr>") == 6  # header and five posts
    assert "offset=5" in r.text  # the next page


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ogc/collections/nope", 404),
        ("/ogc/collections/nope/items", 404),
        ("/ogc/collections/grids/items/999", 404),
        ("/ogc/collections/roads/items/abc", 404),
        ("/ogc/collections/roads/items/99999999999999999999999", 404),
        ("/ogc/collections/grids/items?bbox=1,2,3", 400),
        ("/ogc/collections/grids/items?bbox=a,b,c,d", 400),
        ("/ogc/collections/grids/items?bbox=10,0,5,1", 400),
        ("/ogc/collections/grids/items?limit=-1", 400),
        ("/ogc/collections/grids/items?limit=0", 400),
        ("/ogc/collections/grids/items?limit=ten", 400),
        ("/ogc/collections/grids/items?offset=-5", 400),
        ("/ogc/collections/grids/items?offset=99999999999999999999999", 400),
        ("/ogc/collections/grids/items?colour=red", 400),
        ("/ogc/collections/grids/items?kind=unit&kind=organization", 400),
        ("/ogc/collections/roads/items?kind=unit", 400),
        ("/ogc/collections/grids/items?datetime=yesterday", 400),
        ("/ogc/collections/grids/items?datetime=2025-01-01/2024-01-01", 400),
        ("/ogc/collections/grids/items?f=xml", 400),
        ("/ogc/collections?limit=5", 400),
        ("/ogc?foo=bar", 400),
    ],
)
def test_errors_are_problem_json(client: httpx.Client, path: str, status: int) -> None:
    body = _problem(client.get(path), status)
    assert "Traceback" not in body["detail"]


def test_unknown_collection_is_404_unknown_parameter_400(client: httpx.Client) -> None:
    """OGC API – Features – Part 1: Core (OGC 17-069r4) answers these two cases apart.

    A collectionId in the path: /req/core/sfc-md-op, "The server SHALL support the HTTP
    GET operation at the path /collections/{collectionId}. The parameter collectionId is
    each id property in the feature collections response (JSONPath:
    $.collections[*].id)." Any other id names no resource, and §7.5.1, Table 3 (typical
    HTTP status codes) says "404 Not Found: The requested resource does not exist on the
    server. For example, a path parameter had an incorrect value."

    A query parameter: /req/core/query-param-unknown, "The server SHALL respond with a
    response with the status code 400, if the request URI includes a query parameter
    that is not specified in the API definition." So the issue's "unknown collection →
    400" is served as the standard asks: 404.
    """
    listed = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert "parks" not in listed
    for path in (
        "/ogc/collections/parks",
        "/ogc/collections/parks/items",
        f"/ogc/collections/parks/items/{GRID}",
        "/tiles/parks/13/6082/2979.mvt",
        "/tiles/parks.json",
    ):
        body = _problem(client.get(path), 404)
        assert "parks" in body["detail"], body
    body = _problem(client.get("/ogc/collections/grids/items", params={"colour": "red"}), 400)
    assert "colour" in body["detail"], body


def test_datetime_returns_the_version_valid_then(db: Connection) -> None:
    """A second version of a grid from 2025: each instant sees the version valid then."""
    code = db.execute(
        text("SELECT min(code) FROM grid WHERE valid_to IS NULL AND kind = 'unit'")
    ).scalar_one()
    db.execute(
        text("UPDATE grid SET valid_to = :t WHERE code = :c AND valid_to IS NULL"),
        {"c": code, "t": V2_FROM},
    )
    db.execute(
        text(
            "INSERT INTO grid (code, name, kind, community_code, households, population, "
            "status, version, valid_from, geom) "
            "SELECT code, name || ' v2', kind, community_code, households, population, "
            "'live', version + 1, :t, ST_Multi(ST_Buffer(geom, -0.0001)) "
            "FROM grid WHERE code = :c AND version = 1"
        ),
        {"c": code, "t": V2_FROM},
    )

    def versions(when: str | None) -> list[int]:
        params = [("code", code)] + ([("datetime", when)] if when else [])
        page = items(db, "grids", parse_items_query(params, ("code",)))
        return [f["properties"]["version"] for f in json.loads(page.features)]

    assert versions(None) == [2]  # live
    assert versions("2024-06-01T00:00:00Z") == [1]
    assert versions("2025-01-01T00:00:00Z") == [2]  # valid_to is exclusive
    assert versions("2025-06-01T00:00:00Z") == [2]
    assert versions("2024-06-01T00:00:00Z/2025-06-01T00:00:00Z") == [1, 2]
    assert versions("2023-01-01T00:00:00Z") == []
    assert json.loads(item(db, "grids", code))["properties"]["version"] == 2


def _tile_with(engine: Engine | Connection, code: str, z: int) -> tuple[int, int]:
    lon, lat = _one(
        engine,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grid "
        "WHERE code = :c AND valid_to IS NULL) AS s",
        c=code,
    )
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def _one(engine: Engine | Connection, sql: str, **params: Any) -> Any:
    if isinstance(engine, Connection):
        return engine.execute(text(sql), params).one()
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def test_tilejson(client: httpx.Client, live: dict[str, Any]) -> None:
    body = client.get("/tiles/grids.json").json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"][0].endswith("/tiles/grids/{z}/{x}/{y}.mvt")
    assert (body["minzoom"], body["scheme"]) == (0, "xyz")
    union = shapely.union_all([geom for _, _, geom in live.values()])
    assert body["bounds"] == pytest.approx(list(union.bounds), abs=1e-9)
    layer = body["vector_layers"][0]
    assert layer["id"] == "grids"
    assert {"code", "kind", "community_code"} <= set(layer["fields"])
    assert client.get("/tiles/buildings.json").json()["minzoom"] == 15


def test_tile_headers_etag_and_cache(client: httpx.Client, demo_engine: Engine) -> None:
    code = "652301001001001"
    x, y = _tile_with(demo_engine, code, 14)
    path = f"/tiles/grids/14/{x}/{y}.mvt"
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert code.encode() in first.content
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert "max-age=" in first.headers["cache-control"]
    again = client.get(path)
    assert again.headers["x-tile-cache"] == "hit"
    assert (again.content, again.headers["etag"]) == (first.content, etag)
    same = client.get(path, headers={"If-None-Match": etag})
    assert (same.status_code, same.content) == (304, b"")
    assert same.headers["etag"] == etag
    assert "max-age=" in same.headers["cache-control"]
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_empty_tiles_are_204(client: httpx.Client) -> None:
    assert client.get("/tiles/grids/10/0/0.mvt").status_code == 204  # mid-Pacific
    x, y = 3041 >> 2, 1489 >> 2  # over Changji at z10, but buildings start at z15
    assert client.get(f"/tiles/grids/10/{x}/{y}.mvt").status_code == 200
    assert client.get(f"/tiles/buildings/10/{x}/{y}.mvt").status_code == 204


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tiles/grids/25/0/0.mvt", 400),
        ("/tiles/grids/3/8/0.mvt", 400),
        ("/tiles/grids/3/0/8.mvt", 400),
        ("/tiles/grids/3/-1/0.mvt", 400),
        ("/tiles/grids/a/0/0.mvt", 400),
        ("/tiles/nope/0/0/0.mvt", 404),
        ("/tiles/nope.json", 404),
    ],
)
def test_tile_errors_are_problem_json(client: httpx.Client, path: str, status: int) -> None:
    _problem(client.get(path), status)


def test_tile_cache_serves_stale_until_invalidated(db: Connection) -> None:
    """The cache does not see a change by itself; invalidate_tiles() makes it re-render."""
    code = "652301001001001"
    x, y = _tile_with(db, code, 14)

    def fetch() -> tuple[Tile, bool]:
        return cached_tile(lambda: render_tile(db, "grids", 14, x, y), "grids", 14, x, y)

    invalidate_tiles()
    try:
        before, hit = fetch()
        assert not hit
        assert code.encode() in before.data
        assert fetch() == (before, True)
        db.execute(text("UPDATE grid SET valid_to = now() WHERE code = :c"), {"c": code})
        assert fetch() == (before, True)  # stale: nobody told the cache
        assert invalidate_tiles("grids") >= 1
        after, hit = fetch()
        assert not hit
        assert code.encode() not in after.data
        assert after.etag != before.etag
    finally:
        invalidate_tiles()  # the tiles above saw data that is rolled back


@contextmanager
def serve_in_process(database_url: str) -> Iterator[str]:
    """uvicorn in a thread of this process, so the test shares its tile cache."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(database_url), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped"
            assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_invalidate_tiles_over_http(demo_engine: Engine) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    x, y = _tile_with(demo_engine, "652301001001001", 13)
    path = f"/tiles/grids_unit/13/{x}/{y}.mvt"
    with serve_in_process(url) as base, httpx.Client(base_url=base, timeout=30) as c:
        invalidate_tiles()
        first = c.get(path)
        assert first.headers["x-tile-cache"] == "miss"
        second = c.get(path)
        assert second.headers["x-tile-cache"] == "hit"
        assert second.content == first.content
        invalidate_tiles("grids_unit")
        third = c.get(path)
        assert third.headers["x-tile-cache"] == "miss"
        assert (third.content, third.headers["etag"]) == (first.content, first.headers["etag"])
