"""The planner's pages (coverage, 一网格一警务站, workload, overview) in a real headless
Chromium, served by a real uvicorn, fully offline: every page loads with no failed
request and no console error and shows the demo's planted defects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import Browser
from playwright.sync_api import Page

from layers.catalogue import GRID_POSTS
from layers.maps import (
    COVERAGE_PAGE,
    MAPS,
    OVERVIEW_PAGE,
    POLICE_PAGE,
    REGION_PAGES,
    WORKLOAD_PAGE,
    RegionPage,
)
from layers.standalone import MAX_BYTES

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.browser


def _defect(manifest: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(d for d in manifest["defects"] if d["kind"] == kind and not d.get("sliver", False))


def _open(browser: Browser, base_url: str, path: str, page: RegionPage, name: str) -> Page:
    html = httpx.get(base_url + path, timeout=60.0)
    assert html.status_code == 200, html.text[:500]
    assert len(html.content) < MAX_BYTES, len(html.content)
    tab = browser.open(base_url + path)
    tab.wait_for_function(
        "ids => ids.every(id => window.gridgov && id in window.gridgov.loaded)",
        arg=list(page.layer_ids),
        timeout=30_000,
    )
    assert tab.evaluate("window.gridgov.errors") == []
    tab.wait_for_timeout(300)  # let the last paint settle for the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"page-{name}.png"))
    return tab


def _assert_clean(browser: Browser) -> None:
    assert browser.failures == [], "\n".join(browser.failures)
    assert browser.console_errors == [], "\n".join(browser.console_errors)


def test_coverage_page_shows_a_planted_blind_spot(
    base_url: str, browser: Browser, manifest: dict[str, Any]
) -> None:
    defect = _defect(manifest, "blind_spot")
    community = defect["communities"][0]
    tab = _open(browser, base_url, f"/map/coverage/{community}", COVERAGE_PAGE, "coverage")
    assert tab.evaluate("window.gridgov.loaded.blind_spots") >= 1
    assert tab.locator("path.gg-blind_spots").count() >= 1
    hatched = tab.locator("path.gg-blind_spots").first.get_attribute("fill") or ""
    assert hatched.startswith("url(#gg-hatch-"), hatched
    panel = tab.locator(".gg-panel").inner_text()
    assert "盲区" in panel

    # a grid's popup names its code
    tab.locator("path.gg-grid_status").nth(0).dispatch_event("click")
    popup = tab.locator(".gg-popup")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "编码" in text
    assert re.search(r"\b\d{15}\b", text), text

    # the language switch: Chinese first, then English
    legend = tab.locator(".gg-legend")
    assert "图例" in legend.inner_text()
    assert "Legend" not in legend.inner_text()
    assert "Blind spot" not in legend.inner_text()
    tab.locator(".gg-lang-switch").click()
    assert "Legend" in legend.inner_text()
    assert "Blind spot" in legend.inner_text()
    assert "图例" not in legend.inner_text()
    assert "Code" in popup.inner_text()
    tab.screenshot(path=str(ARTIFACTS / "page-coverage-en.png"))
    tab.close()
    _assert_clean(browser)


def test_police_page_colours_a_grid_without_post_red(
    base_url: str, browser: Browser, manifest: dict[str, Any]
) -> None:
    defect = _defect(manifest, "no_police_post")
    community = defect["communities"][0]
    tab = _open(browser, base_url, f"/map/police/{community}", POLICE_PAGE, "police")
    red = GRID_POSTS.style.colour_of("none")
    green = GRID_POSTS.style.colour_of("one")
    assert tab.locator(f'path.gg-grid_posts[fill="{red}"]').count() >= 1
    assert tab.locator(f'path.gg-grid_posts[fill="{green}"]').count() >= 1
    no_post = tab.evaluate(
        """code => { var out = null; window.gridgov.map.eachLayer(function (l) {
               if (l.feature && l.feature.properties && l.feature.properties.code === code
                   && l.options.className.indexOf("gg-grid_posts") >= 0) {
                   out = l.options.fillColor || (l._path && l._path.getAttribute("fill")); }
           }); return out; }""",
        defect["grids"][0],
    )
    assert no_post == red
    assert tab.evaluate("window.gridgov.loaded.post_links") >= 1
    assert tab.locator(".gg-police_posts:not(.awesome-marker-shadow)").count() >= 1
    tab.close()
    _assert_clean(browser)


def test_workload_and_overview_pages_load(
    base_url: str, browser: Browser, manifest: dict[str, Any]
) -> None:
    defect = next(d for d in manifest["defects"] if d["kind"] == "households_out_of_band")
    street = defect["communities"][0][:9] + "000"
    tab = _open(browser, base_url, f"/map/workload/{street}", WORKLOAD_PAGE, "workload")
    assert tab.evaluate("window.gridgov.loaded.workload") >= 1
    tab.close()
    tab = _open(browser, base_url, "/map/overview", OVERVIEW_PAGE, "overview")
    assert tab.evaluate("window.gridgov.loaded.compliance") >= 1
    tab.close()
    tab = browser.open(base_url + "/")  # the index links every region's pages
    assert tab.locator(f'a[href="/map/workload/{street}"]').count() == 1
    tab.screenshot(path=str(ARTIFACTS / "page-index.png"), full_page=False)
    tab.close()
    _assert_clean(browser)


def test_unknown_region_is_a_friendly_404(base_url: str) -> None:
    for path in ("/map/coverage/999999999999", "/map/police/nope", "/map/workload/1"):
        r = httpx.get(base_url + path, timeout=30.0)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert 'href="/"' in r.text
    index = httpx.get(base_url + "/", timeout=30.0).text
    assert 'href="/map/overview"' in index
    assert "/map/coverage/" in index


def test_every_page_is_under_2_mb_of_html(base_url: str, manifest: dict[str, Any]) -> None:
    """Pages fetch their layers (or draw them from vector tiles): the HTML stays small
    whatever the region, the biggest (the prefecture) included."""
    community = _defect(manifest, "blind_spot")["communities"][0]
    street = community[:9] + "000"
    prefecture = community[:4] + "00000000"
    paths = ["/", *MAPS]
    for page in REGION_PAGES.values():
        if page is OVERVIEW_PAGE:  # the prefecture's counties, a county's streets, a street's
            paths += ["/map/overview", page.path(community[:6] + "000000"), page.path(street)]
            continue
        paths += [page.path(community), page.path(street)]
    paths.append(COVERAGE_PAGE.path(prefecture))
    sizes = {}
    for path in paths:
        r = httpx.get(base_url + path, timeout=120.0)
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), path
        sizes[path] = len(r.content)
    print({path: f"{size / 1024:.0f} KiB" for path, size in sizes.items()})
    assert len(sizes) == 2 + 3 + 2 * 3 + 1
    too_big = {path: size for path, size in sizes.items() if size > MAX_BYTES}
    assert too_big == {}, too_big
