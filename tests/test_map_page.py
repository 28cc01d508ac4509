"""The map page in a real headless Chromium, served by a real uvicorn, fully offline.

Every request not to 127.0.0.1 is blocked and counted as a failure; the page must load
with no failed request and no console error, and draw its layers (the big ones as vector
tiles, whose features open their popup on a click).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from browser import Browser, open_browser
from sqlalchemy import Engine, text

from gis.errors import SetupError
from layers.catalogue import GRID_KIND_LABELS, layers
from layers.folium_render import build_map
from layers.maps import PREFECTURE_MAP, render_page
from layers.queries import BBox
from layers.tiles import render_tile

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(https?:)?//""", re.I)


def _count(engine: Engine, sql: str, **params: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_page_html_has_no_cdn(demo_engine: Engine) -> None:
    from sqlalchemy.orm import Session

    with Session(demo_engine) as session:
        html = render_page(session, PREFECTURE_MAP)
    assert html is not None
    assert not _REMOTE.search(html), _REMOTE.search(html)
    assert "url(http" not in html
    assert "/assets/leaflet/leaflet.js" in html
    assert "/assets/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js" in html
    for zh, en in GRID_KIND_LABELS.values():  # in the legend, JSON-escaped inside a script
        assert json.dumps(zh)[1:-1] in html
        assert en in html


@pytest.mark.browser
def test_map_draws_its_layers_offline(base_url: str, demo_engine: Engine) -> None:
    posts = _count(demo_engine, "SELECT count(*) FROM police_post")
    tiled = {spec.id for spec in layers(*PREFECTURE_MAP.layer_ids) if spec.served_as == "tiles"}
    assert {"grids", "buildings", "roads"} <= tiled
    with open_browser() as browser:
        page = browser.open(base_url + "/map")
        page.wait_for_function(
            "ids => ids.every(id => window.gridgov && id in window.gridgov.loaded)",
            arg=list(PREFECTURE_MAP.layer_ids),
            timeout=30_000,
        )
        assert page.evaluate("window.gridgov.errors") == []
        assert page.evaluate("window.gridgov.loaded.grids") >= 1  # tiles
        assert page.evaluate("window.gridgov.loaded.buildings") == 0  # from zoom 15 only
        assert page.locator("canvas.leaflet-tile").count() >= 1
        assert page.locator(".gg-police_posts:not(.awesome-marker-shadow)").count() == posts
        legend = page.locator(".gg-legend").inner_text()
        assert "地缘型网格" in legend
        assert "Geographic grid" in legend
        page.wait_for_timeout(300)  # let the last paint settle for the screenshot
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map.png"))
        _assert_clean(browser)


#: A live grid's code and a point well inside it, away from its police post.
_INSIDE = """
SELECT g.code, ST_X(pt), ST_Y(pt) FROM grid g,
LATERAL (SELECT ST_PointOnSurface(ST_Difference(g.geom, COALESCE(
    (SELECT ST_Union(ST_Buffer(p.geom::geography, 60)::geometry) FROM police_post p
     WHERE ST_DWithin(p.geom::geography, g.geom::geography, 60)),
    'GEOMETRYCOLLECTION EMPTY'::geometry))) AS pt) AS inside
WHERE g.valid_to IS NULL AND g.kind = 'geographic' ORDER BY ST_Area(g.geom) DESC LIMIT 1
"""


@pytest.mark.browser
def test_clicking_a_tiled_grid_opens_its_popup(base_url: str, demo_engine: Engine) -> None:
    """Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop, gone since Leaflet 1.8: a real
    mouse click on a grid drawn from vector tiles opens its popup, with no console error."""
    with demo_engine.connect() as conn:
        code, lon, lat = conn.execute(text(_INSIDE)).one()
    with open_browser() as browser:
        page = browser.open(base_url + "/map")
        page.wait_for_function("() => window.gridgov && 'grids' in window.gridgov.loaded")
        page.evaluate(
            """([lat, lon]) => { delete window.gridgov.loaded.grids;
                window.gridgov.map.setView([lat, lon], 16, {animate: false}); }""",
            [lat, lon],
        )
        page.wait_for_function("() => 'grids' in window.gridgov.loaded", timeout=30_000)
        x, y = page.evaluate(
            """([lat, lon]) => { var map = window.gridgov.map;
                var p = map.latLngToContainerPoint([lat, lon]);
                var box = map.getContainer().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y]; }""",
            [lat, lon],
        )
        target = page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", [x, y])
        assert target == "CANVAS"  # the click lands on a vector tile, not on an SVG shape
        page.mouse.click(x, y)
        popup = page.locator(".gg-popup")
        popup.wait_for(timeout=5_000)
        assert code in popup.inner_text()
        assert "编码" in popup.inner_text()
        page.wait_for_timeout(300)
        assert popup.is_visible()  # the map did not also take the click and close it
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-tile-popup.png"))
        _assert_clean(browser)


def _assert_clean(browser: Browser) -> None:
    assert browser.failures == [], "\n".join(browser.failures)
    assert browser.console_errors == [], "\n".join(browser.console_errors)


@pytest.mark.parametrize(
    ("basemap", "hosts"),
    [
        ("none", set()),
        ("osm", {"tile.openstreetmap.org", "www.openstreetmap.org"}),  # tiles, attribution link
        ("https://tiles.example.cn/{z}/{x}/{y}.png", {"tiles.example.cn"}),
    ],
)
def test_basemap_is_the_only_remote_url(basemap: str, hosts: set[str]) -> None:
    extent = BBox(87.2, 44.0, 87.4, 44.08)
    specs = layers(*PREFECTURE_MAP.layer_ids)
    m = build_map(specs, title_zh="图", title_en="Map", extent=extent, basemap=basemap)
    html = m.get_root().render()
    assert not _REMOTE.search(html)
    remote_hosts = set(re.findall(r"[\"']https?://([^/\"'\s]+)", html))  # quoted: not comments
    assert remote_hosts == hosts


def test_tianditu_needs_a_key() -> None:
    specs = layers("grids")
    with pytest.raises(SetupError, match="GRIDGOV_TIANDITU_KEY"):
        build_map(specs, title_zh="图", title_en="Map", extent=None, basemap="tianditu")
    m = build_map(
        specs, title_zh="图", title_en="Map", extent=None, basemap="tianditu", tianditu_key="k"
    )
    html = m.get_root().render()
    assert "tianditu.gov.cn/vec_w/wmts" in html
    assert "tk=k" in html


def test_a_layer_served_as_tiles_needs_a_source() -> None:
    from dataclasses import replace

    from layers.catalogue import COMPLIANCE, GRIDS

    assert GRIDS.served_as == "tiles"
    with pytest.raises(ValueError, match="served as tiles needs a source"):
        replace(GRIDS, source=None)
    with pytest.raises(ValueError, match="served as tiles needs a source"):
        replace(COMPLIANCE, served_as="tiles")  # fetched from the audit: no tiles


def test_tiled_layers_go_below_the_geojson_ones() -> None:
    specs = layers("grids", "communities")  # grids (tiles) under communities: fine
    assert [s.served_as for s in specs] == ["tiles", "geojson"]
    build_map(specs, title_zh="图", title_en="Map", extent=None)
    with pytest.raises(ValueError, match="below the GeoJSON ones"):
        build_map(specs[::-1], title_zh="图", title_en="Map", extent=None)


def test_a_canvas_layer_is_geojson_without_hatching() -> None:
    from dataclasses import replace

    from layers.catalogue import COMPLIANCE, FINDINGS

    assert COMPLIANCE.canvas
    hatched = next(s for s in FINDINGS.values() if s.style.hatch)
    with pytest.raises(ValueError, match="canvas is for a GeoJSON layer without hatching"):
        replace(hatched, canvas=True)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def test_road_tiles_keep_the_main_roads_at_small_scales(demo_engine: Engine) -> None:
    """A prefecture in view (zoom < 10) gets the arterial roads only, a street (< 12) the
    secondary ones too, and from zoom 12 every road: the overview's tiles stay small."""
    with demo_engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT "
                "ST_LineInterpolatePoint(ST_GeometryN(geom, 1), 0.5) AS p "
                "FROM road WHERE class = 'local' ORDER BY id LIMIT 1) AS q"
            )
        ).one()
        found = {}
        for z in (9, 11, 14):
            x, y = _tile_of(lon, lat, z)
            found[z] = render_tile(conn, "roads", z, x, y)
    # MVT keeps each distinct property value once in the tile's value table
    assert b"arterial" in found[9]
    assert b"secondary" not in found[9]
    assert b"local" not in found[9]
    assert b"secondary" in found[11]
    assert b"local" not in found[11]
    assert b"local" in found[14]
