"""``gridgov map PAGE [REGION] --out FILE.html``: a map page as one standalone HTML file.

The page is rendered as ``gridgov serve`` renders it, and its layers are requested from
the same application, in process (no server, no port); then
:func:`layers.standalone.standalone_html` inlines the assets and embeds the data.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path

import httpx
import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.cli.common import err_console, friendly_errors, say
from gis.db.engine import check_postgis, create_db_engine, database_url
from gis.errors import GridgovError, InvalidInput
from gis.settings import get_settings


class PageName(StrEnum):
    overview = "overview"
    coverage = "coverage"
    police = "police"
    workload = "workload"
    map = "map"


def _fetch(engine: Engine, paths: dict[str, str]) -> dict[str, str]:
    """Each layer's body, requested from the app in process (as the page would fetch it;
    the CLI reads its own database: no token). Stops at the first layer that takes the
    data past the size limit."""
    from api.app import create_app
    from api.auth import read_access
    from layers.standalone import check_data

    app = create_app()
    app.state.engine = engine  # what the lifespan would set; no server is started
    app.dependency_overrides[read_access] = lambda: None
    layers = {path: layer_id for layer_id, path in paths.items()}

    async def fetch_all() -> dict[str, str]:
        bodies: dict[str, str] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gridgov") as client:
            for layer_id, path in paths.items():
                r = await client.get(path, headers={"Accept": "application/geo+json"})
                if r.status_code != 200:
                    raise GridgovError(f"layer {layer_id} ({path}): HTTP {r.status_code}: {r.text}")
                bodies[path] = r.text
                check_data(bodies, layers)
        return bodies

    return asyncio.run(fetch_all())


def _unknown(region: str) -> typer.Exit:
    err_console.print("[bold red]error:[/] ", end="", markup=True)
    err_console.print(
        f"there is no region {region!r}: give the 12-digit code of a community, a street, "
        "a county or the prefecture (the list of regions is on the server's index page /)",
        markup=False,
        soft_wrap=True,
    )
    return typer.Exit(2)


@friendly_errors
def map_page(
    page: PageName = typer.Argument(
        ..., help="overview, coverage, police, workload, or map (the prefecture map)."
    ),
    region: str | None = typer.Argument(
        None,
        help="12-digit region code (coverage/police/workload: a community or a street; "
        "overview: the prefecture, a county or a street, drawing its children; map: any); "
        "overview and map: default the prefecture.",
    ),
    out: Path = typer.Option(..., "--out", help="The HTML file to write."),
) -> None:
    """Write a map page as one standalone HTML file (scripts, styles and data inlined) that
    opens from disk with no server and no network; refused over 2 MB."""
    from layers.standalone import megabytes, standalone_html

    engine = create_db_engine(database_url())
    check_postgis(engine)
    if region is None and page in (PageName.coverage, PageName.police, PageName.workload):
        raise InvalidInput(f"the {page.value} page needs a REGION (a community or a street)")
    if page is PageName.overview:
        urls, html, region = _overview(engine, region)
    else:
        urls, html = _page(engine, page, region)
    try:
        data = _fetch(engine, urls)
    finally:
        engine.dispose()
    layers = {path: layer_id for layer_id, path in urls.items()}
    text = standalone_html(html, data, layers, get_settings().server.assets_dir)
    out.write_text(text, encoding="utf-8")
    size = len(text.encode("utf-8"))
    say(f"wrote {out} ({page.value} {region or 'prefecture'}, {megabytes(size)}, offline)")


def _overview(engine: Engine, region: str | None) -> tuple[dict[str, str], str, str]:
    """The overview of ``region`` (default: the top region): its layers' URLs, its HTML and
    the region's code. The links to other levels are left out of a file (see
    :func:`layers.standalone.standalone_html`)."""
    from layers.overview import find_overview, render_overview

    with Session(engine) as session:
        overview = find_overview(session, region)
        if overview is None:
            if region is None:
                raise InvalidInput("the database holds no regions: load or import some first")
            raise _unknown(region)
        if overview.leaf:
            raise InvalidInput(
                f"region {overview.region} is a community, the lowest level of the overview: "
                f"its page is its coverage page (gridgov map coverage {overview.region} "
                "--out FILE.html)"
            )
        return overview.urls(), render_overview(session, engine, overview), overview.region


def _page(engine: Engine, page: PageName, region: str | None) -> tuple[dict[str, str], str]:
    """The layers' URLs and the HTML of the prefecture map or a region page."""
    from layers.maps import (
        PREFECTURE_MAP,
        REGION_PAGES,
        layer_urls,
        render_page,
        render_region_page,
    )

    with Session(engine) as session:
        target = PREFECTURE_MAP if page is PageName.map else REGION_PAGES[page.value]
        urls = layer_urls(session, target, region)
        if urls is None:
            assert region is not None
            raise _unknown(region)
        if page is PageName.map:
            html = render_page(session, PREFECTURE_MAP, region)
        else:
            assert region is not None
            html = render_region_page(session, engine, REGION_PAGES[page.value], region)
        if html is None:  # the region went away meanwhile
            raise _unknown(region or "")
    return urls, html
