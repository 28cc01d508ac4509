"""The Redraw page (``/map/plans/{id}``) in a real headless Chromium against a real uvicorn
and PostGIS, fully offline: a vertex dragged with the mouse reaches the plan API and
PostGIS, a refused edit is shown and reverted with nothing changed, the language switch
relabels the panels, publishing asks first and shows a refusal.

Each test works on its own scratch plan of the demo, deleted afterwards (with its change
log rows), so the shared test database keeps its live grids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import Browser, serve
from conftest import database_url, drop_database
from playwright.sync_api import Dialog, Page
from sqlalchemy import Engine, text

import shapely
from shapely.geometry import Point, shape

from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from tests import canonical as cases
from tests.canonical import insert_case
from tests.tokens import new_token

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
MAX_HTML = 2 * 1024 * 1024
M_PER_DEG = 111_320.0

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def planner(demo_engine: Engine) -> Iterator[str]:
    """A planner token (deleted afterwards)."""
    secret = new_token(demo_engine, "planner", name="redraw-page-test planner")
    yield secret
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM api_token WHERE name = 'redraw-page-test planner'"))


def _community(engine: Engine, manifest: dict[str, Any], with_errors: bool) -> str:
    """A community of several geographic grids: one with a planted blind spot (an
    error-level finding) or one no planted defect touches."""
    planted = {c for d in manifest["defects"] for c in d.get("communities", [])}
    if with_errors:
        blind = next(d for d in manifest["defects"] if d["kind"] == "blind_spot")
        return str(blind["communities"][0])
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT community_code FROM grid WHERE valid_to IS NULL AND kind = 'geographic'
            GROUP BY community_code HAVING count(*) BETWEEN 4 AND 8 ORDER BY community_code""")
        ).scalars()
        return next(str(c) for c in rows if c not in planted)


@pytest.fixture
def scratch_plan(demo_engine: Engine, base_url: str, planner: str) -> Iterator[Any]:
    """A factory of scratch plans (through the API); every plan made is deleted after."""
    made: list[int] = []

    def make(community: str) -> dict[str, Any]:
        r = httpx.post(
            base_url + "/plans",
            json={"communities": [community], "name": "网格重划测试 redraw test"},
            headers={"Authorization": f"Bearer {planner}"},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        return dict(r.json())

    yield make
    with demo_engine.begin() as conn:
        for plan_id in made:
            conn.execute(text("DELETE FROM change WHERE plan_id = :p"), {"p": plan_id})
            conn.execute(text("DELETE FROM plan WHERE id = :p"), {"p": plan_id})


def _draft(engine: Engine, plan_id: int) -> dict[str, bytes]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code, ST_AsBinary(geom) FROM plan_grid WHERE plan_id = :p"),
            {"p": plan_id},
        )
        return {str(code): bytes(wkb) for code, wkb in rows}


def _version(engine: Engine, plan_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT version FROM plan WHERE id = :p"), {"p": plan_id}
            ).scalar_one()
        )


def _open(browser: Browser, base_url: str, plan_id: int, token: str | None) -> Page:
    path = f"/map/plans/{plan_id}"
    html = httpx.get(base_url + path, timeout=60.0)
    assert html.status_code == 200, html.text[:500]
    assert len(html.content) < MAX_HTML, len(html.content)
    tab = browser.open(base_url + path)
    tab.wait_for_function(
        "window.gridgov && window.gridgov.redraw && window.gridgov.redraw.refreshed >= 1",
        timeout=30_000,
    )
    if token is not None:
        tab.locator('[data-gg="token"]').fill(token)
        tab.locator('[data-gg="use-token"]').click()
        tab.wait_for_function("window.gridgov.redraw.editable", timeout=30_000)
        tab.locator('[data-gg="validation"][data-version]').wait_for(timeout=30_000)
    assert tab.evaluate("window.gridgov.errors") == []
    return tab


def _assert_clean(browser: Browser) -> None:
    assert browser.failures == [], "\n".join(browser.failures)
    assert browser.console_errors == [], "\n".join(browser.console_errors)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = M_PER_DEG * math.cos(math.radians(a[1]))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * M_PER_DEG)


def _grids(engine: Engine, plan_id: int) -> dict[str, shapely.Geometry]:
    return {c: shapely.from_wkb(w) for c, w in _draft(engine, plan_id).items()}


def _inner_drag(
    grids: dict[str, shapely.Geometry],
) -> tuple[str, tuple[float, float], tuple[float, float]]:
    """A grid, one of its vertices and a point 30 % of the way to the grid's inside that
    stays clear of every other boundary (so Geoman's snapping leaves it where it is)."""
    boundaries = shapely.union_all([g.boundary for g in grids.values()])
    best: tuple[float, str, tuple[float, float], tuple[float, float]] | None = None
    for code, geom in sorted(grids.items()):
        polygon = max(geom.geoms, key=lambda p: p.area) if hasattr(geom, "geoms") else geom
        inner = polygon.representative_point()
        ring = list(polygon.exterior.coords)[:-1]
        for i, (x, y) in enumerate(ring):
            target = (x + 0.3 * (inner.x - x), y + 0.3 * (inner.y - y))
            moved = shapely.Polygon([*ring[:i], target, *ring[i + 1 :]])
            if not moved.is_valid:
                continue
            clear = boundaries.distance(Point(target)) * M_PER_DEG * 0.7
            if best is None or clear > best[0]:
                best = (clear, code, (x, y), target)
    assert best is not None
    assert best[0] > 25, best
    return best[1], best[2], best[3]


def _outward_drag(
    grids: dict[str, shapely.Geometry], community: shapely.Geometry
) -> tuple[str, tuple[float, float], tuple[float, float]]:
    """A vertex on the community's boundary and a point 80 m beyond it, outside."""
    for code, geom in sorted(grids.items()):
        polygon = max(geom.geoms, key=lambda p: p.area) if hasattr(geom, "geoms") else geom
        inner = polygon.representative_point()
        for x, y in list(polygon.exterior.coords)[:-1]:
            if community.boundary.distance(Point(x, y)) > 1e-7:
                continue
            d = _metres((x, y), (inner.x, inner.y))
            target = (x + (x - inner.x) * 80 / d, y + (y - inner.y) * 80 / d)
            if community.distance(Point(target)) * M_PER_DEG * 0.7 > 30:
                return code, (x, y), target
    raise AssertionError("no vertex on the community boundary to drag outwards")


def _zoom_to(tab: Page, points: list[tuple[float, float]]) -> None:
    tab.evaluate(
        """pts => { var m = window.gridgov.map;
               var b = L.latLngBounds(pts.map(p => [p[1], p[0]]));
               m.fitBounds(b.pad(1.5), {animate: false}); }""",
        [list(p) for p in points],
    )
    tab.wait_for_timeout(300)


def _fit_draft(tab: Page) -> None:
    """Show the whole draft, clear of the panel (left) and the legend (right)."""
    tab.evaluate(
        """() => { var m = window.gridgov.map, b = null;
               m.eachLayer(function (l) {
                   if (l.feature && l.options.className.indexOf("gg-plan_grids") >= 0) {
                       b = b ? b.extend(l.getBounds()) : L.latLngBounds([l.getBounds()]); } });
               m.fitBounds(b, {animate: false, paddingTopLeft: [380, 40],
                               paddingBottomRight: [200, 40]}); }"""
    )
    tab.wait_for_timeout(300)


def _pixel(tab: Page, lonlat: tuple[float, float]) -> tuple[float, float]:
    xy = tab.evaluate(
        """p => { var m = window.gridgov.map; var pt = m.latLngToContainerPoint([p[1], p[0]]);
               var r = m.getContainer().getBoundingClientRect();
               return [r.left + pt.x, r.top + pt.y]; }""",
        list(lonlat),
    )
    return float(xy[0]), float(xy[1])


def _drag(tab: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Switch on Geoman's edit mode, then drag the vertex marker at ``start`` to ``end``
    with the mouse."""
    if not tab.evaluate("window.gridgov.map.pm.globalEditModeEnabled()"):
        tab.locator(".leaflet-pm-toolbar .leaflet-pm-icon-edit").click()
    tab.wait_for_function("window.gridgov.map.pm.globalEditModeEnabled()")
    x0, y0 = _pixel(tab, start)
    x1, y1 = _pixel(tab, end)
    marker = tab.evaluate(
        "xy => { var e = document.elementFromPoint(xy[0], xy[1]); return e && e.className; }",
        [x0, y0],
    )
    assert "marker-icon" in str(marker), marker  # a Geoman vertex marker is under the mouse
    tab.mouse.move(x0, y0)
    tab.mouse.down()
    tab.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=8)
    tab.mouse.move(x1, y1, steps=8)
    tab.mouse.up()


def test_vertex_drag_reaches_postgis_and_validation_updates(
    base_url: str,
    browser: Browser,
    demo_engine: Engine,
    manifest: dict[str, Any],
    planner: str,
    scratch_plan: Any,
) -> None:
    plan = scratch_plan(_community(demo_engine, manifest, with_errors=False))
    pid = plan["id"]
    before = _grids(demo_engine, pid)
    tab = _open(browser, base_url, pid, planner)
    assert tab.locator(".leaflet-pm-toolbar").count() >= 1
    assert tab.evaluate("window.gridgov.loaded.plan_grids") == len(before)
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "page-redraw.png"))

    _code, vertex, target = _inner_drag(before)
    _zoom_to(tab, [vertex, target])
    _drag(tab, vertex, target)
    validation = tab.locator('[data-gg="validation"][data-version="2"]')
    validation.wait_for(timeout=60_000)

    # the edit reached PostGIS: one reshape, the draft's geometry moved to the target
    assert _version(demo_engine, pid) == 2
    after = _grids(demo_engine, pid)
    changed = [c for c in before if not after[c].equals(before[c])]
    assert changed, "no draft grid changed"
    with demo_engine.connect() as conn:
        reshaped = (
            conn.execute(
                text(
                    "SELECT entity_key FROM change WHERE plan_id = :p AND action = 'grid.reshape'"
                ),
                {"p": pid},
            )
            .scalars()
            .all()
        )
    assert len(reshaped) == 1
    assert reshaped[0] in changed
    moved = after[reshaped[0]]
    assert moved.boundary.distance(Point(target)) * M_PER_DEG < 2.0  # the vertex is there now
    total_before = shapely.union_all(list(before.values()))
    total_after = shapely.union_all(list(after.values()))
    assert total_before.symmetric_difference(total_after).area * M_PER_DEG**2 < 5.0

    # the validation panel shows the result of the new version; the diff names the grid
    panel = tab.locator(".gg-redraw")
    assert re.search(r"错误\s*\d+", validation.inner_text())
    assert "警告" in validation.inner_text()
    diff = tab.locator('[data-gg="diff"]').inner_text()
    assert reshaped[0] in diff
    assert "调整" in diff
    assert tab.locator('[data-gg="version"]').inner_text() == "2"
    assert "已保存" in panel.inner_text()
    _fit_draft(tab)
    tab.screenshot(path=str(ARTIFACTS / "page-redraw-edited.png"))

    # the language switch relabels the panels
    assert "Validation" not in panel.inner_text()
    tab.locator(".gg-lang-switch").click()
    english = panel.inner_text()
    for label in ("Validation", "Changes", "Errors", "Warnings", "Planner token", "Publish"):
        assert label in english, label
    for label in ("校验", "变更", "发布"):
        assert label not in english, label
    tab.screenshot(path=str(ARTIFACTS / "page-redraw-en.png"))
    tab.close()
    _assert_clean(browser)


def test_refused_edit_is_shown_and_reverted_and_changes_nothing(
    base_url: str,
    browser: Browser,
    demo_engine: Engine,
    manifest: dict[str, Any],
    planner: str,
    scratch_plan: Any,
) -> None:
    community_code = _community(demo_engine, manifest, with_errors=False)
    plan = scratch_plan(community_code)
    pid = plan["id"]
    before = _draft(demo_engine, pid)
    with demo_engine.connect() as conn:
        community = shapely.from_wkb(
            bytes(
                conn.execute(
                    text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c"),
                    {"c": community_code},
                ).scalar_one()
            )
        )
    _code, vertex, target = _outward_drag(_grids(demo_engine, pid), community)
    tab = _open(browser, base_url, pid, planner)
    _zoom_to(tab, [vertex, target])
    browser.failures.clear()
    _drag(tab, vertex, target)
    message = tab.locator(".gg-redraw-message.gg-redraw-error")
    message.wait_for(timeout=60_000)
    tab.wait_for_function("!window.gridgov.redraw.busy && window.gridgov.redraw.refreshed >= 2")
    text_ = message.inner_text()
    assert "outside community" in text_, text_
    assert re.search(r"grid \d{15}", text_), text_  # names the grid
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "page-redraw-refused.png"))

    # nothing changed in PostGIS
    assert _draft(demo_engine, pid) == before
    assert _version(demo_engine, pid) == 1
    with demo_engine.connect() as conn:
        logged = conn.execute(
            text("SELECT count(*) FROM change WHERE plan_id = :p AND action <> 'plan.create'"),
            {"p": pid},
        ).scalar_one()
    assert logged == 0

    # the drawing is the server's geometry again, vertex for vertex
    drawn = tab.evaluate(
        """() => { var out = {}; window.gridgov.map.eachLayer(function (l) {
               if (l.feature && l.options.className.indexOf("gg-plan_grids") >= 0) {
                   out[l.feature.properties.code] = l.toGeoJSON(9).geometry; } });
               return out; }"""
    )
    server = {c: shapely.from_wkb(w) for c, w in before.items()}
    assert set(drawn) == set(server)
    for c, geometry in drawn.items():
        assert shape(geometry).hausdorff_distance(server[c]) < 1e-6, c

    # the only failed request is the refused reshape itself (422, problem+json)
    assert len(browser.failures) == 1, browser.failures
    assert "HTTP 422" in browser.failures[0], browser.failures
    assert f"/plans/{pid}/reshape" in browser.failures[0]
    assert all("422" in e for e in browser.console_errors), browser.console_errors
    browser.failures.clear()
    browser.console_errors.clear()
    tab.close()


def test_publish_asks_first_and_shows_a_refusal(
    base_url: str,
    browser: Browser,
    demo_engine: Engine,
    manifest: dict[str, Any],
    planner: str,
    scratch_plan: Any,
) -> None:
    plan = scratch_plan(_community(demo_engine, manifest, with_errors=True))
    pid = plan["id"]
    tab = _open(browser, base_url, pid, planner)
    errors = tab.locator('[data-gg="validation"] .gg-redraw-counts').inner_text()
    assert not re.search(r"错误\s*0\b", errors), errors  # the planted blind spot: an error

    answers: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        answers.append(dialog.message)
        dialog.dismiss()

    tab.once("dialog", dismiss)
    tab.locator('[data-gg="publish"]').click()
    tab.wait_for_timeout(300)
    assert len(answers) == 1
    assert "发布规划" in answers[0]
    assert _version(demo_engine, pid) == 1  # dismissed: nothing sent

    browser.failures.clear()
    tab.once("dialog", lambda d: d.accept())
    tab.locator('[data-gg="publish"]').click()
    message = tab.locator(".gg-redraw-message.gg-redraw-error")
    message.wait_for(timeout=60_000)
    assert "error finding" in message.inner_text(), message.inner_text()
    with demo_engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM plan WHERE id = :p"), {"p": pid}
        ).scalar_one()
    assert status == "draft"
    assert len(browser.failures) == 1, browser.failures
    assert "HTTP 422" in browser.failures[0], browser.failures
    browser.failures.clear()
    browser.console_errors.clear()
    tab.close()


def test_without_token_the_page_is_read_only_and_loads_clean(
    base_url: str,
    browser: Browser,
    demo_engine: Engine,
    manifest: dict[str, Any],
    scratch_plan: Any,
) -> None:
    plan = scratch_plan(_community(demo_engine, manifest, with_errors=False))
    tab = _open(browser, base_url, plan["id"], None)
    assert tab.locator(".leaflet-pm-toolbar").count() == 0
    mode = tab.locator('[data-gg="mode"]').inner_text()
    assert "只读" in mode
    assert "令牌" in tab.locator('[data-gg="validation"]').inner_text()
    assert tab.locator('[data-gg="publish"]').is_disabled()
    assert "尚无变更" in tab.locator('[data-gg="diff"]').inner_text()
    legend = tab.locator(".gg-legend").inner_text()
    assert "图例" in legend
    assert "草案网格" in legend
    tab.screenshot(path=str(ARTIFACTS / "page-redraw-readonly.png"))
    _assert_clean(browser)

    # a viewer's token: the page stays read-only and says why (the API's 403)
    viewer = new_token(demo_engine, "viewer", name="redraw-page-test viewer")
    try:
        tab.locator('[data-gg="token"]').fill(viewer)
        tab.locator('[data-gg="use-token"]').click()
        message = tab.locator(".gg-redraw-message.gg-redraw-error")
        message.wait_for(timeout=30_000)
        assert "viewer" in message.inner_text()
        assert tab.locator(".leaflet-pm-toolbar").count() == 0
        assert tab.locator('[data-gg="publish"]').is_disabled()
        assert not tab.evaluate("window.gridgov.redraw.editable")
        assert len(browser.failures) == 1, browser.failures
        assert "HTTP 403" in browser.failures[0]
        assert f"/plans/{plan['id']}/validate" in browser.failures[0]
        assert all("403" in e for e in browser.console_errors), browser.console_errors
        browser.failures.clear()
        browser.console_errors.clear()
    finally:
        tab.close()
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM api_token WHERE name = 'redraw-page-test viewer'"))

    # the list of plans links the page; the index links the list
    listing = httpx.get(base_url + "/map/plans", timeout=30.0)
    assert listing.status_code == 200
    assert f'href="/map/plans/{plan["id"]}"' in listing.text
    assert 'href="/map/plans"' in httpx.get(base_url + "/", timeout=30.0).text


def test_unknown_plan_is_a_friendly_404(base_url: str) -> None:
    for path in ("/map/plans/999999999", "/map/plans/nope", "/map/plans/" + "9" * 30):
        r = httpx.get(base_url + path, timeout=30.0)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert 'href="/map/plans"' in r.text
        assert 'href="/"' in r.text
        assert "There is no plan" in r.text


def _click(tab: Page, lonlat: tuple[float, float]) -> None:
    x, y = _pixel(tab, lonlat)
    tab.mouse.click(x, y)


def _inside(geom: shapely.Geometry) -> tuple[float, float]:
    p = geom.representative_point()
    return float(p.x), float(p.y)


def test_split_with_a_drawn_line_then_merge_two_clicked_grids(
    base_url: str,
    browser: Browser,
    demo_engine: Engine,
    manifest: dict[str, Any],
    planner: str,
    scratch_plan: Any,
) -> None:
    plan = scratch_plan(_community(demo_engine, manifest, with_errors=False))
    pid = plan["id"]
    before = _grids(demo_engine, pid)
    tab = _open(browser, base_url, pid, planner)

    # split: the toolbar's split tool, a line drawn with two clicks (the second one twice
    # to finish it) across the largest grid
    code, grid = max(before.items(), key=lambda kv: kv[1].area)
    cx, cy = _inside(grid)
    minx, _, maxx, _ = grid.bounds
    half = maxx - minx
    start, end = (cx - half, cy), (cx + half, cy)
    _zoom_to(tab, [start, end])
    tab.locator(".leaflet-pm-toolbar .leaflet-pm-icon-cut").click()
    _click(tab, start)
    _click(tab, end)
    _click(tab, end)
    tab.locator('[data-gg="validation"][data-version="2"]').wait_for(timeout=60_000)
    after_split = _grids(demo_engine, pid)
    assert len(after_split) >= len(before) + 1
    assert code in after_split
    assert after_split[code].area < grid.area
    with demo_engine.connect() as conn:
        actions = (
            conn.execute(
                text("SELECT action FROM change WHERE plan_id = :p ORDER BY id"), {"p": pid}
            )
            .scalars()
            .all()
        )
    assert actions[-1] == "grid.split"
    assert "已保存" in tab.locator(".gg-redraw-message").inner_text()
    new = sorted(set(after_split) - set(before))
    assert any(c in tab.locator('[data-gg="diff"]').inner_text() for c in new)

    # merge: the two halves clicked on the map (selected), then the merge button
    _fit_draft(tab)
    for c in (code, new[0]):
        _click(tab, _inside(after_split[c]))
        tab.evaluate("window.gridgov.map.closePopup()")
    assert tab.evaluate("window.gridgov.redraw.selected") == [code, new[0]]
    assert "已选" in tab.locator('[data-gg="mode"]').inner_text()
    tab.screenshot(path=str(ARTIFACTS / "page-redraw-selected.png"))
    tab.locator(".leaflet-pm-toolbar .gg-pm-merge").click()
    tab.locator('[data-gg="validation"][data-version="3"]').wait_for(timeout=60_000)
    after_merge = _grids(demo_engine, pid)
    assert len(after_merge) == len(after_split) - 1
    kept = min(code, new[0])
    assert after_merge[kept].area > after_split[kept].area
    with demo_engine.connect() as conn:
        last = conn.execute(
            text("SELECT action FROM change WHERE plan_id = :p ORDER BY id DESC LIMIT 1"),
            {"p": pid},
        ).scalar_one()
    assert last == "grid.merge"
    assert tab.evaluate("window.gridgov.redraw.selected") == []
    assert tab.evaluate("window.gridgov.loaded.plan_grids") == len(after_merge)
    tab.close()
    _assert_clean(browser)


def test_publish_replaces_the_live_grids_then_the_page_is_read_only(browser: Browser) -> None:
    """On a scratch database (two grids sharing an edge): a clean draft is published
    from the page after the confirm dialog; the page then says the plan is published."""
    name = "gridgov_redraw_page_test"
    drop_database(name)
    engine = create_db_engine(database_url(name))
    try:
        upgrade(engine)
        with engine.begin() as conn:
            insert_case(conn, cases.SHARED_EDGE)
        token = new_token(engine, "planner", name="publisher")
        with serve(engine.url.render_as_string(hide_password=False)) as base:
            r = httpx.post(
                base + "/plans",
                json={"communities": [cases.SHARED_EDGE.community]},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            assert r.status_code == 201, r.text
            pid = r.json()["id"]
            tab = _open(browser, base, pid, token)
            counts = tab.locator('[data-gg="validation"] .gg-redraw-counts').inner_text()
            assert re.search(r"错误\s*0\b", counts), counts
            questions: list[str] = []

            def accept(dialog: Dialog) -> None:
                questions.append(dialog.message)
                dialog.accept()

            tab.once("dialog", accept)
            tab.locator('[data-gg="publish"]').click()
            tab.wait_for_function("window.gridgov.redraw.status === 'published'", timeout=60_000)
            tab.wait_for_function("!window.gridgov.redraw.busy")
            assert len(questions) == 1
            assert f"发布规划 {pid}" in questions[0]
            assert "已发布" in tab.locator('[data-gg="mode"]').inner_text()
            assert "已发布" in tab.locator('[data-gg="message"]').inner_text()
            assert tab.locator('[data-gg="publish"]').is_disabled()
            assert tab.locator(".leaflet-pm-toolbar").count() == 0
            tab.screenshot(path=str(ARTIFACTS / "page-redraw-published.png"))
            tab.close()
        with engine.connect() as conn:
            status = conn.execute(
                text("SELECT status FROM plan WHERE id = :p"), {"p": pid}
            ).scalar_one()
            live = conn.execute(
                text("SELECT count(*) FROM grid WHERE valid_to IS NULL AND plan_id = :p"),
                {"p": pid},
            ).scalar_one()
        assert status == "published"
        assert live == len(cases.SHARED_EDGE.grids)
        _assert_clean(browser)
    finally:
        engine.dispose()
        drop_database(name)
