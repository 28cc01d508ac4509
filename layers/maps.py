"""The map pages gridgov serves, and rendering one to HTML from the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from html import escape
from types import MappingProxyType
from urllib.parse import quote

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.audit.cache import audit_cache
from gis.audit.profile import Profile, default_profile
from gis.audit.report import AuditReport, RuleSummary
from gis.settings import get_settings
from layers.catalogue import layers, page_layer
from layers.folium_elements import bilingual
from layers.folium_render import MapPage, build_map, geojson_url
from layers.queries import BBox, region_bounds, region_extent

__all__ = [
    "COVERAGE_PAGE",
    "MAPS",
    "OVERVIEW_PAGE",
    "POLICE_PAGE",
    "PREFECTURE_MAP",
    "REGION_PAGES",
    "WORKLOAD_PAGE",
    "RegionPage",
    "layer_urls",
    "page_bbox",
    "page_profile",
    "panel_html",
    "render_page",
    "render_region_page",
    "top_region",
]

PREFECTURE_MAP = MapPage(
    path="/map",
    title_zh="网格治理总图",
    title_en="Grid governance map",
    layer_ids=("roads", "buildings", "grids", "communities", "streets", "police_posts"),
)

#: Every map page by path, in the order the index lists them.
MAPS: Mapping[str, MapPage] = MappingProxyType({PREFECTURE_MAP.path: PREFECTURE_MAP})


def page_bbox(extent: BBox) -> str:
    """The ``bbox`` a page asks its layers for: the region's extent and a small margin."""
    margin = 0.002
    return (
        f"{extent.minx - margin:.6f},{extent.miny - margin:.6f},"
        f"{extent.maxx + margin:.6f},{extent.maxy + margin:.6f}"
    )


def _url(layer_id: str, region: str | None, extent: BBox | None) -> str:
    """Where a page fetches a layer: the layer's own URL (the audit's findings), else its
    GeoJSON in the region's bbox (whole on a page without a region)."""
    spec = page_layer(layer_id)
    if spec.url is not None and region is not None:
        return spec.url.format(region=quote(region))
    if extent is None:
        return geojson_url(layer_id)
    return f"{geojson_url(layer_id)}?bbox={page_bbox(extent)}"


def layer_urls(
    session: Session, page: MapPage | RegionPage, region: str | None = None
) -> dict[str, str] | None:
    """Each layer's data URL on the page (of ``region``); ``None`` for an unknown region.

    The prefecture map without a region fetches its GeoJSON layers whole.
    """
    extent = None
    if region is not None:
        found = region_bounds(session, region)
        if found is None:
            return None
        extent = found[2]
    return {i: _url(i, region, extent) for i in page.layer_ids}


def render_page(session: Session, page: MapPage, region: str | None = None) -> str | None:
    """The page's HTML: the map fitted on the regions' extent (or on ``region``, its
    layers limited to the region's bbox), basemap from the settings; ``None`` when there
    is no such region."""
    urls = layer_urls(session, page, region)
    if urls is None:
        return None
    found = region_bounds(session, region) if region is not None else None
    server = get_settings().server
    m = build_map(
        layers(*page.layer_ids),
        title_zh=page.title_zh if found is None else f"{page.title_zh} · {found[0]}",
        title_en=page.title_en if found is None else f"{page.title_en} · {region}",
        extent=region_extent(session) if found is None else found[2],
        basemap=server.basemap,
        tianditu_key=server.tianditu_key,
        url_for=urls.__getitem__,
        search_layer="communities",  # the grids are tiles
    )
    return str(m.get_root().render())


@dataclass(frozen=True)
class RegionPage:
    """A planner's page about one region: its layers (bottom to top) and the audit rules
    whose counts its panel shows."""

    name: str
    title_zh: str
    title_en: str
    layer_ids: tuple[str, ...]
    rules: tuple[str, ...]
    search_layer: str = "grid_status"

    def __post_init__(self) -> None:
        if self.search_layer not in self.layer_ids:
            raise ValueError(f"page {self.name}: search layer {self.search_layer} not drawn")

    def path(self, region: str) -> str:
        return f"/map/{self.name}/{region}"


#: The audit rules' labels in the pages' panels.
RULE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "blind_spots": ("盲区", "Blind spots"),
        "overlaps": ("交叉重叠", "Overlaps"),
        "spill": ("越出社区", "Spill"),
        "geometry": ("几何", "Geometry"),
        "codes": ("编码", "Codes"),
        "buildings_split": ("建筑被分割", "Split buildings"),
        "organizations": ("单位归属", "Organizations"),
        "police_posts": ("一网格一警务站", "One post per grid"),
        "workload": ("网格户数", "Households per grid"),
        "staffing": ("百户一人", "One worker per 100 households"),
        "service_teams": ("服务队", "Service teams"),
        "party_branches": ("党支部", "Party branches"),
    }
)

COVERAGE_PAGE = RegionPage(
    "coverage",
    "网格覆盖",
    "Grid coverage",
    ("roads", "grid_status", "communities", "streets", "spill", "overlaps", "blind_spots"),
    ("blind_spots", "overlaps", "spill", "geometry", "codes"),
)
POLICE_PAGE = RegionPage(
    "police",
    "一网格一警务站",
    "One police post per grid",
    (
        "roads",
        "grid_posts",
        "police_blind_spots",
        "communities",
        "streets",
        "post_links",
        "police_posts",
    ),
    ("police_posts",),
    search_layer="grid_posts",
)
WORKLOAD_PAGE = RegionPage(
    "workload",
    "网格工作量",
    "Grid workload",
    ("roads", "grid_load", "workload", "communities", "streets", "staffing"),
    ("workload", "staffing", "service_teams", "party_branches"),
    search_layer="grid_load",
)
#: The overview of a region: its children coloured by compliance (``layers.overview``).
OVERVIEW_PAGE = RegionPage(
    "overview",
    "合规总览",
    "Compliance overview",
    ("roads", "compliance"),
    tuple(RULE_LABELS),
    search_layer="compliance",
)

#: The region pages by name (``/map/{name}/{region}``; ``/map/overview`` is the top region's).
REGION_PAGES: Mapping[str, RegionPage] = MappingProxyType(
    {p.name: p for p in (OVERVIEW_PAGE, COVERAGE_PAGE, POLICE_PAGE, WORKLOAD_PAGE)}
)

_TOP_REGION = text("SELECT code FROM region WHERE parent_code IS NULL ORDER BY code LIMIT 1")


def top_region(session: Session) -> str | None:
    """The code of the top of the hierarchy (the prefecture), ``None`` without data."""
    code = session.execute(_TOP_REGION).scalar_one_or_none()
    return None if code is None else str(code)


def panel_html(
    page: RegionPage,
    region: str,
    region_name: str,
    rules: list[RuleSummary],
    score: float | None,
    extra_html: str = "",
) -> str:
    """The audit panel of a page about ``region``: its compliance ``score`` (``extra_html``
    below it), the errors and warnings of ``rules`` the page shows, links to the region's
    other pages."""
    rows = []
    for rule in rules:
        if rule.rule not in page.rules or not rule.enabled:
            continue
        zh, en = RULE_LABELS.get(rule.rule, (rule.rule, rule.rule))
        err = ' class="gg-err"' if rule.errors else ""
        warn = ' class="gg-warn"' if rule.warnings else ""
        rows.append(
            f"<tr><th>{bilingual(zh, en)}</th><td{err}>{rule.errors}</td>"
            f"<td{warn}>{rule.warnings}</td></tr>"
        )
    label = (
        bilingual("合规度", "Compliance")
        if set(page.rules) == set(RULE_LABELS)
        else bilingual("本页规则合规度", "Compliance with this page's rules")
    )
    shown = f"<div>{label}: <b>{score:.0%}</b></div>" if score is not None else ""
    links = " · ".join(
        f'<a href="{p.path(region)}">{bilingual(p.title_zh, p.title_en)}</a>'
        for p in (COVERAGE_PAGE, POLICE_PAGE, WORKLOAD_PAGE)
        if p is not page
    )
    return (
        f"<h4>{escape(region_name)} · {bilingual('审计', 'Audit')}</h4>{shown}{extra_html}"
        f"<table><tr><th></th><th>{bilingual('错误', 'Errors')}</th>"
        f"<th>{bilingual('警告', 'Warnings')}</th></tr>{''.join(rows)}</table>"
        f'<div class="gg-panel-links" style="margin-top:4px">'
        f'<a href="/">{bilingual("首页", "Home")}</a> · {links}</div>'
    )


def page_profile(page: RegionPage) -> Profile:
    """The profile of the audit behind a page's panel: only the rules the panel shows (a
    street's full audit takes 4-8 times as long). The overview shows every rule: its audit
    is the full one, the same its compliance layer reads (one audit for both)."""
    if set(page.rules) >= set(RULE_LABELS):
        return default_profile()
    return default_profile().only(*page.rules)


def _score(report: AuditReport) -> float | None:
    top = next((r for r in report.rollup if r.code == report.region), None)
    return None if top is None else top.score


def render_region_page(
    session: Session,
    engine: Engine,
    page: RegionPage,
    region: str,
    wait_s: float | None = None,
) -> str | None:
    """The page's HTML for ``region``; ``None`` when there is no such region.

    The panel's audit comes from the audit cache (computed once per data version);
    :class:`~gis.audit.cache.AuditInProgress` when it is not ready within ``wait_s``
    seconds (``None``: wait for it). The overview is not drawn here: every level of it
    reads the top region's audit (:func:`layers.overview.render_overview`).
    """
    if page is OVERVIEW_PAGE:
        raise ValueError("the overview's levels are rendered by layers.overview")
    found = region_bounds(session, region)
    if found is None:
        return None
    name, _level, extent = found
    urls = {i: _url(i, region, extent) for i in page.layer_ids}
    specs = tuple(page_layer(i) for i in page.layer_ids)
    if page is POLICE_PAGE:  # the posts' names matter here at every zoom
        specs = tuple(
            replace(s, min_zoom=0, style=replace(s.style, label="name"))
            if s.id == "police_posts"
            else s
            for s in specs
        )
    report = audit_cache.get(engine, region, page_profile(page), wait_s=wait_s)
    server = get_settings().server
    m = build_map(
        specs,
        title_zh=f"{page.title_zh} · {name}",
        title_en=f"{page.title_en} · {region}",
        extent=extent,
        basemap=server.basemap,
        tianditu_key=server.tianditu_key,
        url_for=urls.__getitem__,
        panel_html=panel_html(page, report.region, name, report.rules, _score(report)),
        language_switch=True,
        search_layer=page.search_layer,
    )
    return str(m.get_root().render())
