"""HTML pages: the index of maps (``/``) and each map (``/map``…)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import text

import gis
from api.deps import EngineDep, SessionDep
from api.openapi_examples import OverviewRegion, Region
from gis.audit.cache import AuditInProgress
from gis.settings import get_settings
from layers.catalogue import get_layer, page_layer
from layers.maps import (
    COVERAGE_PAGE,
    MAPS,
    OVERVIEW_PAGE,
    PREFECTURE_MAP,
    REGION_PAGES,
    RegionPage,
    render_page,
    render_region_page,
)
from layers.overview import find_overview, render_overview

__all__ = ["router"]

router = APIRouter(tags=["pages"])

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


_REGIONS = text("""
SELECT s.code AS street, s.name AS street_name, c.code, c.name
FROM region s LEFT JOIN region c ON c.parent_code = s.code AND c.level = 'community'
WHERE s.level = 'street' ORDER BY s.code, c.code
""")


def _streets(session: SessionDep) -> list[tuple[str, str, list[tuple[str, str]]]]:
    streets: dict[str, tuple[str, str, list[tuple[str, str]]]] = {}
    for row in session.execute(_REGIONS):
        street = streets.setdefault(row.street, (row.street, row.street_name, []))
        if row.code is not None:
            street[2].append((row.code, row.name))
    return list(streets.values())


@router.get("/", response_class=HTMLResponse)
def index(session: SessionDep) -> HTMLResponse:
    """The list of maps, each with its layers, and the planner's pages of every region."""
    maps = [(page, [get_layer(i) for i in page.layer_ids]) for page in MAPS.values()]
    pages = [
        (page, [page_layer(i) for i in page.layer_ids])
        for page in REGION_PAGES.values()
        if page is not OVERVIEW_PAGE
    ]
    html = _templates.get_template("index.html").render(
        maps=maps, pages=pages, streets=_streets(session), version=gis.__version__
    )
    return HTMLResponse(html)


@router.get("/map", response_class=HTMLResponse)
def prefecture_map(session: SessionDep) -> HTMLResponse:
    """The prefecture map: roads, buildings and grids by kind (vector tiles), communities,
    streets, police posts."""
    html = render_page(session, PREFECTURE_MAP)
    assert html is not None  # no region asked: never unknown
    return HTMLResponse(html)


def _not_found(what: str) -> HTMLResponse:
    html = _templates.get_template("not_found.html").render(what=what, version=gis.__version__)
    return HTMLResponse(html, status_code=404)


#: how often the "computing the audit" page reloads itself (s)
_REFRESH_S = 5


def _computing(page: RegionPage, region: str, busy: AuditInProgress) -> HTMLResponse:
    """The page saying the audit is being computed; it reloads itself."""
    html = _templates.get_template("computing.html").render(
        region=region,
        title_zh=page.title_zh,
        title_en=page.title_en,
        elapsed=f"{busy.elapsed:.0f}",
        refresh=_REFRESH_S,
        version=gis.__version__,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _region_page(
    session: SessionDep, engine: EngineDep, page: RegionPage, region: str
) -> HTMLResponse | None:
    """The page; while its audit is being computed (longer than ``GRIDGOV_AUDIT_WAIT_S``),
    a page saying so that reloads itself; ``None`` for an unknown region."""
    try:
        html = render_region_page(session, engine, page, region, get_settings().audit.wait_s)
    except AuditInProgress as busy:
        return _computing(page, region, busy)
    return None if html is None else HTMLResponse(html)


def _overview(session: SessionDep, engine: EngineDep, region: str | None) -> Response:
    overview = find_overview(session, region)
    if overview is None:
        return _not_found(region or "数据 data")
    if overview.leaf:  # a community's own page is its coverage page
        return RedirectResponse(COVERAGE_PAGE.path(overview.region), status_code=307)
    try:
        html = render_overview(session, engine, overview, get_settings().audit.wait_s)
    except AuditInProgress as busy:
        return _computing(OVERVIEW_PAGE, overview.top, busy)  # the top region's audit
    return HTMLResponse(html)


@router.get("/map/overview", response_class=HTMLResponse)
def overview_map(session: SessionDep, engine: EngineDep) -> Response:
    """The top region's counties coloured by compliance score; a county's popup leads down
    to its streets. While the top region's audit is being computed, a page saying so (it
    reloads itself)."""
    return _overview(session, engine, None)


@router.get(
    "/map/overview/{region}",
    response_class=HTMLResponse,
    responses={
        307: {"description": "A community: its coverage page"},
        404: {"content": {"text/html": {}}, "description": "No such region"},
    },
)
def overview_region_map(region: OverviewRegion, session: SessionDep, engine: EngineDep) -> Response:
    """A region's children (a county's streets, a street's communities) coloured by their
    compliance score in the top region's audit, with a breadcrumb back up; a community
    redirects to its coverage page."""
    return _overview(session, engine, region)


def _add_region_page(page: RegionPage) -> None:
    def region_map(region: Region, session: SessionDep, engine: EngineDep) -> HTMLResponse:
        html = _region_page(session, engine, page, region)
        return html if html is not None else _not_found(region)

    region_map.__name__ = f"{page.name}_map"
    region_map.__doc__ = f"{page.title_en} of a region (a community or a street), as a map page."
    router.add_api_route(
        f"/map/{page.name}/{{region}}",
        region_map,
        methods=["GET"],
        response_class=HTMLResponse,
        responses={404: {"content": {"text/html": {}}, "description": "No such region"}},
    )


for _page in REGION_PAGES.values():
    if _page is not OVERVIEW_PAGE:
        _add_region_page(_page)
