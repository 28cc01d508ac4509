"""``gridgov map PAGE REGION --out FILE``: one standalone HTML file that opens from disk in a
real headless Chromium with every request blocked, and draws the grids with their popups."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from browser import open_browser
from playwright.sync_api import Route
from sqlalchemy import Engine, text

from layers.maps import COVERAGE_PAGE
from layers.standalone import MAX_BYTES

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
GRIDGOV = Path(sys.executable).with_name("gridgov")


def _gridgov(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GRIDGOV_DATABASE_URL=engine.url.render_as_string(hide_password=False))
    return subprocess.run(
        [str(GRIDGOV), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _blind_spot_community(manifest: dict[str, Any]) -> str:
    defect = next(
        d for d in manifest["defects"] if d["kind"] == "blind_spot" and not d.get("sliver", False)
    )
    return str(defect["communities"][0])


@pytest.mark.browser
def test_standalone_coverage_file_works_offline(
    demo_engine: Engine, manifest: dict[str, Any], tmp_path: Path
) -> None:
    community = _blind_spot_community(manifest)
    out = tmp_path / "coverage.html"
    done = _gridgov(demo_engine, "map", "coverage", community, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    html = out.read_text(encoding="utf-8")
    assert 0 < len(html.encode("utf-8")) <= MAX_BYTES
    # nothing refers to the server or the internet: scripts, styles, fonts, images inline
    tags = re.sub(r"<(script|style)>.*?</\1>", "", html, flags=re.S)
    assert not re.search(r"\b(?:src|href)\s*=", tags), tags
    styles = "".join(re.findall(r"<style>(.*?)</style>", html, flags=re.S))
    assert "url(" in styles
    assert not re.search(r"""url\(\s*(?!["']?(?:data:|#))""", styles)
    assert "window.gridgovData" in html
    with demo_engine.connect() as conn:
        grids = conn.execute(
            text("SELECT count(*) FROM grid WHERE valid_to IS NULL AND community_code = :c"),
            {"c": community},
        ).scalar_one()
    assert grids > 0

    with open_browser(width=1400, height=900) as browser:
        requested: list[str] = []

        def local_file(route: Route) -> None:  # the page itself; everything else is blocked
            requested.append(route.request.url)
            route.continue_()

        browser.context.route(out.as_uri(), local_file)
        tab = browser.open(out.as_uri())
        tab.wait_for_function(
            "ids => ids.every(id => window.gridgov && id in window.gridgov.loaded)",
            arg=list(COVERAGE_PAGE.layer_ids),
            timeout=30_000,
        )
        assert tab.evaluate("window.gridgov.errors") == []
        assert tab.evaluate("window.gridgov.loaded.grid_status") >= grids
        assert tab.locator("path.gg-grid_status").count() >= grids
        assert tab.evaluate("window.gridgov.loaded.blind_spots") >= 1
        assert tab.evaluate("window.gridgov.loaded.roads") >= 1  # tiles on the server: here GeoJSON
        tab.wait_for_timeout(300)  # let the last paint settle for the screenshot
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "standalone-coverage.png"))

        tab.locator("path.gg-grid_status").first.dispatch_event("click")
        popup = tab.locator(".gg-popup")
        popup.wait_for(timeout=5_000)
        assert re.search(r"\b\d{15}\b", popup.inner_text()), popup.inner_text()
        tab.close()
        assert browser.failures == [], "\n".join(browser.failures)
        assert browser.console_errors == [], "\n".join(browser.console_errors)


def test_unknown_region_exits_2_and_writes_nothing(demo_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "nope.html"
    done = _gridgov(demo_engine, "map", "police", "999999999999", "--out", str(out))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no region '999999999999'" in done.stderr
    assert not out.exists()


def test_a_file_over_2_mb_is_refused_naming_the_layer(demo_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "county.html"
    # the prefecture map of a whole county: its buildings alone are megabytes
    done = _gridgov(demo_engine, "map", "map", "652301000000", "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    message = " ".join(done.stderr.split())
    assert "2.0 MB limit" in message
    assert "the biggest layer is buildings" in message
    assert "smaller region" in message
    assert not out.exists()
