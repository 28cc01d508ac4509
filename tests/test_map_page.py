"""The map page in a real headless Chromium, served by a real uvicorn, fully offline.

Every request not to 127.0.0.1 is blocked and counted as a failure; the page must load
with no failed request and no console error, and draw every live grid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, open_browser, serve
from sqlalchemy import Engine, text

from gis.errors import SetupError
from layers.catalogue import CATALOGUE, GRID_KIND_LABELS, layers
from layers.folium_render import build_map
from layers.maps import PREFECTURE_MAP, render_page
from layers.queries import BBox

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LIVE = "SELECT count(*) FROM grid WHERE valid_to IS NULL"
_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(https?:)?//""", re.I)


@pytest.fixture(scope="module")
def base_url(demo_engine: Engine) -> Iterator[str]:
    with serve(demo_engine.url.render_as_string(hide_password=False)) as base:
        yield base


def _count(engine: Engine, sql: str, **params: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_page_html_has_no_cdn(demo_engine: Engine) -> None:
    from sqlalchemy.orm import Session

    with Session(demo_engine) as session:
        html = render_page(session, PREFECTURE_MAP)
    assert not _REMOTE.search(html), _REMOTE.search(html)
    assert "url(http" not in html
    assert "/assets/leaflet/leaflet.js" in html
    for zh, en in GRID_KIND_LABELS.values():  # in the legend, JSON-escaped inside a script
        assert json.dumps(zh)[1:-1] in html
        assert en in html


@pytest.mark.browser
def test_map_draws_every_live_grid_offline(base_url: str, demo_engine: Engine) -> None:
    live = _count(demo_engine, LIVE)
    posts = _count(demo_engine, "SELECT count(*) FROM police_post")
    assert live > 0
    with open_browser() as browser:
        page = browser.open(base_url + "/map")
        wanted = [spec.id for spec in CATALOGUE.values() if spec.id in PREFECTURE_MAP.layer_ids]
        page.wait_for_function(
            "ids => ids.every(id => window.gridgov && id in window.gridgov.loaded)",
            arg=wanted,
            timeout=20_000,
        )
        assert page.evaluate("window.gridgov.errors") == []
        assert page.evaluate("window.gridgov.loaded.grids") == live
        assert page.locator("path.gg-grids").count() == live
        assert page.locator(".gg-police_posts:not(.awesome-marker-shadow)").count() == posts
        for kind, colour in _kind_colours().items():
            n = _count(demo_engine, f"{LIVE} AND kind = :kind", kind=kind)
            assert page.locator(f'path.gg-grids[fill="{colour}"]').count() == n, kind
        legend = page.locator(".gg-legend").inner_text()
        assert "地缘型网格" in legend
        assert "Geographic grid" in legend
        page.wait_for_timeout(300)  # let the last paint settle for the screenshot
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map.png"))
        _popup_opens(page)
        _assert_clean(browser)


def _kind_colours() -> dict[str, str]:
    return {c.value: c.colour for c in CATALOGUE["grids"].style.categories}


def _popup_opens(page: object) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.locator("path.gg-grids").nth(0).click(force=True)
    popup = page.locator(".gg-popup")
    popup.wait_for(timeout=5_000)
    assert "编码" in popup.inner_text()


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
