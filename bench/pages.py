"""How fast the map pages become idle in headless Chromium, on the scale-10 prefecture.

Pages served by a real uvicorn from the demo at scale 10 (``gridgov_bench_s10``, made
and kept by ``bench/audit.py``'s :func:`database`: generated once, ~3 min): (a) the
coverage page of a street, (b) the overview of the whole prefecture (its counties), and
the overview's drill-down levels, (c) a county (its streets) and (d) a street (its
communities), which read the prefecture's audit (warm: the overview computed it). Each is
opened in
Debian's headless Chromium (only 127.0.0.1 reachable) and timed from the navigation's
start until the page is idle: every layer reported loaded in ``window.gridgov.loaded``
(GeoJSON layers fetched and drawn, tiled layers' visible tiles drawn) and the last
request answered. Each page is opened three times: cold (the audit cache emptied, first
request of the server process: the page waits for its audit; "first" when a page before
it computed the same audit), warm (a new browser page, the audit in the server's memory)
and restarted (a new server process: the audit read back from the ``audit_cache`` table,
as another worker or a restarted server would).

Target: under 3 s each (a benchmark, not a test: it prints the figures against the
target).

    .venv/bin/python bench/pages.py
    .venv/bin/python bench/pages.py --street 652301002000 --pages coverage street
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from audit import database  # noqa: E402  (bench/audit.py: the kept scale-N database)
from browser import open_browser, serve  # noqa: E402  (tests/browser.py: uvicorn, Chromium)

from gis.db.engine import bring_up  # noqa: E402
from layers.maps import COVERAGE_PAGE, OVERVIEW_PAGE, RegionPage  # noqa: E402

TARGET_S = 3.0
#: the pages timed, by name: the page whose layers are waited for (its audit: the coverage
#: rules for the coverage page, the full audit of the prefecture for every overview level)
_PAGES = {
    "coverage": COVERAGE_PAGE,
    "overview": OVERVIEW_PAGE,
    "county": OVERVIEW_PAGE,
    "street": OVERVIEW_PAGE,
}

#: When the page became idle (ms since navigation start): all layers loaded, last
#: response received.
_IDLE = """ids => {
    var state = window.gridgov;
    if (!state || !ids.every(function (id) { return id in state.loaded; })) { return null; }
    var ends = performance.getEntriesByType("resource").map(function (e) { return e.responseEnd; });
    return {loaded: performance.now(), lastResponse: Math.max.apply(null, ends.concat([0])),
            errors: state.errors, layers: state.loaded};
}"""


def idle_seconds(browser: object, url: str, page: RegionPage) -> tuple[float, float, str]:
    """(idle s, HTML s, layer counts) of one visit."""
    from browser import Browser

    assert isinstance(browser, Browser)
    tab = browser.context.new_page()
    started = time.perf_counter()
    tab.goto(url, wait_until="commit", timeout=600_000)
    handle = tab.wait_for_function(_IDLE, arg=list(page.layer_ids), polling="raf", timeout=600_000)
    found = handle.json_value()
    tab.wait_for_load_state("networkidle", timeout=600_000)
    wall = time.perf_counter() - started
    ends = tab.evaluate(
        "Math.max.apply(null, performance.getEntriesByType('resource')"
        ".map(function (e) { return e.responseEnd; }).concat([0]))"
    )
    html = tab.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")
    tab.close()
    if found["errors"]:
        raise RuntimeError(f"{url}: layer errors {found['errors']}")
    idle_ms = max(found["loaded"], ends)
    assert idle_ms / 1000 <= wall + 0.1
    layers = ", ".join(f"{k} {v}" for k, v in found["layers"].items())
    return idle_ms / 1000, html / 1000, layers


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--street", default="652301001000")
    parser.add_argument("--county", default="652301000000")
    parser.add_argument(
        "--pages", nargs="+", choices=tuple(_PAGES), default=list(_PAGES), help="pages to time"
    )
    parser.add_argument(
        "--keep-cache",
        action="store_true",
        help="do not empty the audit cache first (no cold figure then)",
    )
    args = parser.parse_args()
    engine = database(bring_up(say=lambda _m: None), args.scale, args.seed)
    url = engine.url.render_as_string(hide_password=False)
    if not args.keep_cache:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_cache"))
    engine.dispose()
    # the cold visit waits for its audit (a page would otherwise say it is being computed)
    os.environ["GRIDGOV_AUDIT_WAIT_S"] = "1800"
    pages = {
        "coverage": (f"coverage of street {args.street}", COVERAGE_PAGE.path(args.street)),
        "overview": (f"overview of the scale-{args.scale} prefecture", "/map/overview"),
        "county": (f"overview of county {args.county}", OVERVIEW_PAGE.path(args.county)),
        "street": (f"overview of street {args.street}", OVERVIEW_PAGE.path(args.street)),
    }
    print(f"{'page':<40} {'visit':>9} {'HTML s':>7} {'idle s':>7}  target {TARGET_S:.0f} s  layers")
    with open_browser(width=1400, height=900) as browser:
        for visits in (("cold", "warm"), ("restarted",)):  # a server process each
            audited: set[str] = set()  # audits this server computed (by profile)
            with serve(url, timeout=120.0) as base:
                for name in args.pages:
                    title, path = pages[name]
                    page = _PAGES[name]
                    for visit in visits:
                        if visit == "cold" and (args.keep_cache or page.name in audited):
                            visit = "first"
                        audited.add(page.name)
                        idle, html, layers = idle_seconds(browser, base + path, page)
                        verdict = "meets" if idle < TARGET_S else "MISSES"
                        print(
                            f"{title:<40} {visit:>9} {html:>7.2f} {idle:>7.2f}  "
                            f"{verdict:<9} {layers}",
                            flush=True,
                        )
        if browser.failures or browser.console_errors:
            print("failures:", *browser.failures, *browser.console_errors, sep="\n  ")


if __name__ == "__main__":
    main()
