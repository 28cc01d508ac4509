"""The compliance overview's drill-down (prefecture → county → street → community), in a
real headless Chromium against a real uvicorn, fully offline: at each level the regions
drawn are the children of the region in the database, each coloured by its roll-up score
in the top region's audit (``/audit/{top}``); a real mouse goes down one level at a
time to a community's coverage page, and the breadcrumb leads back up. Also the
compliance layer of each level over HTTP, and the standalone file of a county level
opened from disk with every request blocked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import Browser
from playwright.sync_api import Page, Route
from sqlalchemy import Engine, text

from shapely.geometry import shape

from gis.audit.cache import audit_cache
from layers.catalogue import COMPLIANCE
from layers.maps import OVERVIEW_PAGE, page_profile
from layers.standalone import MAX_BYTES

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
GRIDGOV = Path(sys.executable).with_name("gridgov")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def top(demo_engine: Engine) -> str:
    with demo_engine.connect() as conn:
        return str(
            conn.execute(text("SELECT code FROM region WHERE parent_code IS NULL")).scalar_one()
        )


@pytest.fixture(scope="module")
def rollup(base_url: str, top: str) -> dict[str, dict[str, Any]]:
    """The roll-up of the top region's audit, by region code."""
    r = httpx.get(f"{base_url}/audit/{top}", timeout=300.0)
    assert r.status_code == 200, r.text[:300]
    return {row["code"]: row for row in r.json()["rollup"]}


def _children(engine: Engine, code: str) -> dict[str, str]:
    """The regions directly under ``code`` in the database: code → name."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code, name FROM region WHERE parent_code = :c"), {"c": code}
        ).all()
    return {str(r.code): str(r.name) for r in rows}


def _assert_clean(browser: Browser) -> None:
    assert browser.failures == [], "\n".join(browser.failures)
    assert browser.console_errors == [], "\n".join(browser.console_errors)


def _loaded(tab: Page, name: str) -> None:
    tab.wait_for_function(
        "ids => ids.every(id => window.gridgov && id in window.gridgov.loaded)",
        arg=list(OVERVIEW_PAGE.layer_ids),
        timeout=60_000,
    )
    assert tab.evaluate("window.gridgov.errors") == []
    tab.wait_for_timeout(300)  # let the last paint settle for the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"overview-{name}.png"))


#: Each region drawn on the page: code, score, fill colour, score class, geometry.
_DRAWN = """() => { var out = []; window.gridgov.map.eachLayer(function (l) {
    if (l.feature && l.feature.properties && l.feature.properties.score_class) {
        var p = l.feature.properties;
        out.push([p.code, p.score, l.options.fillColor, p.score_class, l.feature.geometry]); }
    }); return out; }"""


def _check_level(
    tab: Page, engine: Engine, region: str, rollup: dict[str, dict[str, Any]]
) -> list[list[Any]]:
    """The regions drawn are the children of ``region`` in the database, each with its
    roll-up score and the colour of its score class."""
    drawn = tab.evaluate(_DRAWN)
    children = _children(engine, region)
    assert sorted(d[0] for d in drawn) == sorted(children)
    for code, score, fill, score_class, _geometry in drawn:
        assert score == rollup[code]["score"], code
        assert fill == COMPLIANCE.style.colour_of(score_class), code
    return list(drawn)


def _click_region(tab: Page, drawn: list[list[Any]]) -> tuple[str, str]:
    """A real mouse click inside the region nearest the map's centre (on the canvas, clear
    of the controls); its popup opens. The region's code and the popup's text."""
    box = tab.evaluate(
        "(() => { var b = window.gridgov.map.getContainer().getBoundingClientRect();"
        " return [b.left, b.top, b.width, b.height]; })()"
    )
    centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
    points = []
    for code, _score, _fill, _class, geometry in drawn:
        inner = shape(geometry).representative_point()
        x, y = tab.evaluate(
            """([lat, lon]) => { var map = window.gridgov.map;
                var p = map.latLngToContainerPoint([lat, lon]);
                var b = map.getContainer().getBoundingClientRect();
                return [b.left + p.x, b.top + p.y]; }""",
            [inner.y, inner.x],
        )
        points.append(((x - centre[0]) ** 2 + (y - centre[1]) ** 2, code, x, y))
    _d, code, x, y = min(points)
    target = tab.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", [x, y])
    assert target == "CANVAS"  # the regions are drawn on one canvas, not an SVG path each
    tab.mouse.move(x, y)
    tab.mouse.move(x + 1, y + 1)
    tooltip = tab.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=5_000)
    tab.mouse.click(x, y)
    popup = tab.locator(".leaflet-popup .gg-popup")
    popup.wait_for(timeout=5_000)
    text_ = popup.inner_text()
    assert code in text_, (code, text_)
    return str(code), text_


def _go_down(tab: Page, expected: str) -> None:
    """Click the popup's link (the mouse) and land on ``expected``."""
    with tab.expect_navigation(timeout=120_000):
        tab.locator(".leaflet-popup a.gg-down").click()
    assert tab.url.endswith(expected), tab.url


def _search(tab: Page, query: str) -> list[str]:
    """What the search box proposes for ``query``."""
    search = tab.locator(".leaflet-control-search")
    if not search.locator("input.search-input").is_visible():
        search.locator(".search-button").click()
    field = search.locator("input.search-input")
    # leaflet-search searches on keyup; Chinese is entered without key events (as an IME
    # commits it): the query, a space, and a real Backspace key deleting the space
    field.fill(query + " ")
    field.press("Backspace")
    tips = search.locator(".search-tip")
    tips.filter(has_text=query).first.wait_for(timeout=5_000)  # not the last query's tips
    return [t.strip() for t in tips.all_inner_texts()]


def _check_search(tab: Page, children: dict[str, str]) -> None:
    """The level's search box finds a region by its code and another by its name."""
    codes = sorted(children)
    by_code = _search(tab, codes[0])
    assert any(codes[0] in t and children[codes[0]] in t for t in by_code), by_code
    name = children[codes[-1]]
    by_name = _search(tab, name)
    assert any(name in t and codes[-1] in t for t in by_name), by_name
    tab.locator(".leaflet-control-search .search-cancel").click()


def test_drill_down_by_mouse_from_the_prefecture_to_a_coverage_page(
    base_url: str,
    browser: Browser,
    demo_engine: Engine,
    top: str,
    rollup: dict[str, dict[str, Any]],
) -> None:
    page = httpx.get(f"{base_url}/map/overview", timeout=300.0)
    assert page.status_code == 200
    assert len(page.content) < MAX_BYTES
    tab = browser.open(f"{base_url}/map/overview")
    _loaded(tab, "prefecture")
    counties = _check_level(tab, demo_engine, top, rollup)
    assert len(counties) > 1
    assert tab.locator(".gg-crumbs").inner_text().strip() == rollup[top]["name"]
    legend = tab.locator(".gg-legend").inner_text()
    assert "县市合规度" in legend
    _check_search(tab, _children(demo_engine, top))

    county, popup = _click_region(tab, counties)
    row = rollup[county]
    assert row["name"] in popup
    assert f"{row['score']:.0%}" in popup
    failed = row["rules_checked"] - row["rules_met"]
    assert re.search(rf"未达标规则\s*{failed}\b", popup), popup
    assert re.search(rf"受影响户数\s*{row['households_affected']}\b", popup), popup
    assert "下钻" in popup
    tab.wait_for_timeout(300)  # the popup's fade-in
    tab.screenshot(path=str(ARTIFACTS / "overview-prefecture-popup.png"))
    _go_down(tab, f"/map/overview/{county}")

    _loaded(tab, "county")
    streets = _check_level(tab, demo_engine, county, rollup)
    crumbs = tab.locator(".gg-crumbs")
    assert crumbs.inner_text().split("›")[0].strip() == rollup[top]["name"]
    assert "街道（乡镇）合规度" in tab.locator(".gg-legend").inner_text()
    panel = tab.locator(".gg-panel").inner_text()
    assert rollup[county]["name"] in panel
    assert f"{rollup[county]['score']:.0%}" in panel
    _check_search(tab, _children(demo_engine, county))
    street, popup = _click_region(tab, streets)
    assert rollup[street]["name"] in popup
    _go_down(tab, f"/map/overview/{street}")

    _loaded(tab, "street")
    communities = _check_level(tab, demo_engine, street, rollup)
    names = [t.strip() for t in tab.locator(".gg-crumbs").inner_text().split("›")]
    assert names == [rollup[top]["name"], rollup[county]["name"], rollup[street]["name"]]
    assert "社区合规度" in tab.locator(".gg-legend").inner_text()
    _check_search(tab, _children(demo_engine, street))
    community, popup = _click_region(tab, communities)
    assert "网格覆盖" in popup  # a community's own page: its coverage
    _go_down(tab, f"/map/coverage/{community}")
    tab.wait_for_function(
        "() => window.gridgov && 'grid_status' in window.gridgov.loaded", timeout=120_000
    )
    assert tab.evaluate("window.gridgov.loaded.grid_status") >= 1
    tab.screenshot(path=str(ARTIFACTS / "overview-to-coverage.png"))

    # the breadcrumb leads back up: street → county → prefecture
    tab.go_back()
    assert tab.url.endswith(f"/map/overview/{street}")
    _loaded(tab, "street-again")
    with tab.expect_navigation():
        tab.locator(".gg-crumbs a", has_text=rollup[county]["name"]).click()
    assert tab.url.endswith(f"/map/overview/{county}")
    _loaded(tab, "county-again")
    _check_level(tab, demo_engine, county, rollup)
    with tab.expect_navigation():
        tab.locator(".gg-crumbs a", has_text=rollup[top]["name"]).click()
    assert tab.url.endswith("/map/overview")
    _loaded(tab, "prefecture-again")
    _check_level(tab, demo_engine, top, rollup)
    tab.close()
    _assert_clean(browser)


def test_the_language_switch_changes_the_legend(
    base_url: str, browser: Browser, demo_engine: Engine, top: str
) -> None:
    county = sorted(_children(demo_engine, top))[0]
    tab = browser.open(f"{base_url}/map/overview/{county}")
    _loaded(tab, "county-zh")
    legend = tab.locator(".gg-legend")
    assert "街道（乡镇）合规度" in legend.inner_text()
    assert "80%及以上" in legend.inner_text()
    assert "80% or more" not in legend.inner_text()
    tab.locator(".gg-lang-switch").click()
    english = legend.inner_text()
    assert "Streets / towns: compliance" in english
    assert "80% or more" in english
    assert "80%及以上" not in english
    assert "Rules failed" in tab.locator(".gg-panel").inner_text()
    tab.screenshot(path=str(ARTIFACTS / "overview-county-en.png"))
    tab.close()
    _assert_clean(browser)


def test_the_compliance_layer_of_each_level(
    base_url: str, demo_engine: Engine, top: str, rollup: dict[str, dict[str, Any]]
) -> None:
    """``?children=REGION``: the regions directly under REGION, scored from the top
    region's roll-up; an ETag per level; without it, every community (as before)."""
    levels = [top, *sorted(_children(demo_engine, top))]
    levels += sorted(_children(demo_engine, levels[1]))  # the streets of a county
    etags = set()
    for region in levels:
        r = httpx.get(f"{base_url}/audit/{top}/compliance", params={"children": region})
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-type"] == "application/geo+json"
        features = r.json()["features"]
        assert sorted(f["id"] for f in features) == sorted(_children(demo_engine, region))
        for f in features:
            p, row = f["properties"], rollup[f["id"]]
            assert p["score"] == row["score"]
            assert p["level"] == row["level"]
            assert p["rules_failed"] == row["rules_checked"] - row["rules_met"]
            assert p["errors"] == row["errors"]
            assert p["warnings"] == row["warnings"]
            assert p["area_affected_m2"] == row["area_affected_m2"]
            assert p["households_affected"] == row["households_affected"]
            assert shape(f["geometry"]).is_valid
        zipped = httpx.get(
            f"{base_url}/audit/{top}/compliance",
            params={"children": region},
            headers={"Accept-Encoding": "gzip"},
        )
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.json() == r.json()
        etag = r.headers["etag"]
        again = httpx.get(
            f"{base_url}/audit/{top}/compliance",
            params={"children": region},
            headers={"If-None-Match": etag},
        )
        assert again.status_code == 304
        etags.add(etag)
    assert len(etags) == len(levels)
    every = httpx.get(f"{base_url}/audit/{top}/compliance")
    assert {f["properties"]["level"] for f in every.json()["features"]} == {"community"}
    assert len(every.json()["features"]) == sum(
        1 for row in rollup.values() if row["level"] == "community"
    )
    # a region outside the audit is a 404, a community (no child region) a 422
    community = next(code for code, row in rollup.items() if row["level"] == "community")
    for children, status, words in (
        ("999999999999", 404, "not in the audit"),
        (community, 422, "coverage page"),
    ):
        r = httpx.get(f"{base_url}/audit/{top}/compliance", params={"children": children})
        assert r.status_code == status
        assert r.headers["content-type"] == "application/problem+json"
        assert words in r.json()["detail"]
        assert children in r.json()["detail"]


def test_the_panel_counts_each_rule_within_its_region(
    demo_engine: Engine, top: str, rollup: dict[str, dict[str, Any]]
) -> None:
    """A county's or a street's panel counts the findings of its communities, rule by
    rule, as its roll-up does: errors sum to its errors, rules with errors are its failed
    rules."""
    report = audit_cache.get(demo_engine, top, page_profile(OVERVIEW_PAGE))
    assert sum(r.errors for r in report.rules_within(top)) == rollup[top]["errors"]
    counties = sorted(_children(demo_engine, top))
    for region in [*counties, *sorted(_children(demo_engine, counties[0]))]:
        rules = report.rules_within(region)
        row = rollup[region]
        assert sum(r.errors for r in rules) == row["errors"], region
        assert sum(r.warnings for r in rules) == row["warnings"], region
        failed = sum(1 for r in rules if r.enabled and r.errors)
        assert failed == row["rules_checked"] - row["rules_met"], region


def test_unknown_region_and_community_levels(base_url: str, demo_engine: Engine, top: str) -> None:
    r = httpx.get(f"{base_url}/map/overview/999999999999", timeout=30.0)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert 'href="/"' in r.text
    street = sorted(_children(demo_engine, sorted(_children(demo_engine, top))[0]))[0]
    community = sorted(_children(demo_engine, street))[0]
    r = httpx.get(f"{base_url}/map/overview/{community}", timeout=30.0)
    assert r.status_code == 307
    assert r.headers["location"] == f"/map/coverage/{community}"
    r = httpx.get(f"{base_url}/map/overview/{top}", timeout=120.0)  # the top by its code
    assert r.status_code == 200
    assert len(r.content) < MAX_BYTES


def _gridgov(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GRIDGOV_DATABASE_URL=engine.url.render_as_string(hide_password=False))
    return subprocess.run(
        [str(GRIDGOV), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_standalone_county_level_opens_offline(
    browser: Browser,
    demo_engine: Engine,
    top: str,
    rollup: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    county = sorted(_children(demo_engine, top))[0]
    out = tmp_path / "county.html"
    done = _gridgov(demo_engine, "map", "overview", county, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert 0 < out.stat().st_size <= MAX_BYTES

    def local_file(route: Route) -> None:  # the page itself; everything else is blocked
        route.continue_()

    browser.context.route(out.as_uri(), local_file)
    try:
        tab = browser.open(out.as_uri())
        _loaded(tab, "standalone-county")
        streets = _check_level(tab, demo_engine, county, rollup)
        # the breadcrumb is plain text in a file: no server to go up to
        crumb = tab.locator(".gg-crumbs a").first
        assert crumb.evaluate("a => getComputedStyle(a).pointerEvents") == "none"
        _code, popup = _click_region(tab, streets)
        assert "合规度" in popup
        assert tab.locator(".leaflet-popup a.gg-down").count() == 0  # no link to other levels
        tab.close()
    finally:
        browser.context.unroute(out.as_uri(), local_file)
    _assert_clean(browser)
    # a community has no overview of its own: the coverage page is its page
    street = sorted(_children(demo_engine, county))[0]
    community = sorted(_children(demo_engine, street))[0]
    refused = tmp_path / "community.html"
    done = _gridgov(demo_engine, "map", "overview", community, "--out", str(refused))
    assert done.returncode == 1
    assert "gridgov map coverage" in " ".join(done.stderr.split())
    assert not refused.exists()
