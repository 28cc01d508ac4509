"""The compliance overview, one level of the hierarchy per page (the drill-down).

``/map/overview`` is the top region (the prefecture) with its counties coloured by their
compliance score; ``/map/overview/{county}`` its streets, ``/map/overview/{street}`` its
communities; a community's own page is its coverage page. Every level reads the scores
from one and the same cached audit, the top region's (``report.rollup`` holds every
region's score), through the compliance layer ``/audit/{top}/compliance?children={region}``.
A breadcrumb under the title leads back up; a region's popup has its score and a link
one level down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from html import escape
from types import MappingProxyType
from urllib.parse import quote

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.audit.cache import audit_cache
from gis.audit.report import AuditReport, RegionScore
from gis.settings import get_settings
from layers.catalogue import COMPLIANCE, page_layer
from layers.folium_elements import bilingual
from layers.folium_render import build_map, geojson_url
from layers.maps import OVERVIEW_PAGE, page_bbox, page_profile, panel_html, top_region
from layers.queries import BBox, region_bounds, region_chain
from layers.spec import LayerSpec

__all__ = [
    "LEVEL_LABELS",
    "Overview",
    "child_level",
    "find_overview",
    "overview_layers",
    "overview_path",
    "render_overview",
]

#: The levels' names (plural), as the layer's title, legend and search box say them.
LEVEL_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "county": ("县市", "Counties"),
        "street": ("街道（乡镇）", "Streets / towns"),
        "community": ("社区", "Communities"),
    }
)
#: the level under each (when a region has no children yet)
_BELOW = {"prefecture": "county", "county": "street", "street": "community"}


def overview_path(code: str) -> str:
    """The overview page of a region (a community's: its coverage page)."""
    return f"/map/overview/{quote(code)}"


@dataclass(frozen=True)
class Overview:
    """One level of the drill-down: the region, its ancestors and its extent."""

    chain: tuple[tuple[str, str, str], ...]  # (code, name, level), the top region first
    extent: BBox
    top_path: str  # where the top region's overview is served

    @property
    def region(self) -> str:
        return self.chain[-1][0]

    @property
    def name(self) -> str:
        return self.chain[-1][1]

    @property
    def level(self) -> str:
        return self.chain[-1][2]

    @property
    def top(self) -> str:
        """The region whose audit serves every level (the top of the hierarchy)."""
        return self.chain[0][0]

    @property
    def leaf(self) -> bool:
        """A community: its page is its coverage page."""
        return self.level == "community"

    def urls(self) -> dict[str, str]:
        """Each layer's data URL: the roads in the region's bbox (vector tiles on the
        server), the region's children from the top region's audit."""
        assert COMPLIANCE.url is not None
        compliance = COMPLIANCE.url.format(region=quote(self.top))
        return {
            "roads": f"{geojson_url('roads')}?bbox={page_bbox(self.extent)}",
            "compliance": f"{compliance}?children={quote(self.region)}",
        }

    def breadcrumb(self) -> str:
        """The way back up: each ancestor linked to its overview, the region itself bold."""
        parts = [
            f'<a href="{self.top_path if i == 0 else overview_path(code)}">{escape(name)}</a>'
            for i, (code, name, _level) in enumerate(self.chain[:-1])
        ]
        parts.append(f"<b>{escape(self.name)}</b>")
        sep = '<span class="gg-crumb-sep">›</span>'
        return f'<nav class="gg-crumbs">{sep.join(parts)}</nav>'


def find_overview(session: Session, region: str | None = None) -> Overview | None:
    """The level of ``region`` (default: the top region); ``None`` for an unknown region
    (or no data)."""
    top = top_region(session)
    if region is None:
        region = top
    if region is None:
        return None
    chain = region_chain(session, region)
    found = region_bounds(session, region)
    if not chain or found is None:
        return None
    top_path = "/map/overview" if chain[0][0] == top else overview_path(chain[0][0])
    return Overview(tuple(chain), found[2], top_path)


def child_level(overview: Overview, report: AuditReport) -> str:
    """The level of the regions drawn on ``overview``'s page (its children's)."""
    children = report.children(overview.region)
    return children[0].level if children else _BELOW.get(overview.level, "community")


def overview_layers(level: str) -> tuple[LayerSpec, ...]:
    """The page's layers: the roads, and the compliance layer titled and linked for the
    regions of ``level`` (a community links to its coverage page, others one level down)."""
    zh, en = LEVEL_LABELS.get(level, (level, level))
    leaf = level == "community"
    compliance = replace(
        COMPLIANCE,
        title_zh=f"{zh}合规度",
        title_en=f"{en}: compliance",
        link="/map/coverage/{code}" if leaf else "/map/overview/{code}",
        link_zh="网格覆盖" if leaf else "下钻",
        link_en="Coverage page" if leaf else "Go down",
    )
    return tuple(
        compliance if i == COMPLIANCE.id else page_layer(i) for i in OVERVIEW_PAGE.layer_ids
    )


def _rollup_html(score: RegionScore) -> str:
    failed = score.rules_checked - score.rules_met
    rows = (
        (("未达标规则", "Rules failed"), f"{failed} / {score.rules_checked}"),
        (("受影响户数", "Households affected"), f"{score.households_affected:,}"),
        (("受影响面积", "Area affected"), f"{score.area_affected_m2:,.0f} m²"),
    )
    return "".join(f"<div>{bilingual(zh, en)}: <b>{value}</b></div>" for (zh, en), value in rows)


def _panel(overview: Overview, report: AuditReport) -> str:
    score = next((r for r in report.rollup if r.code == overview.region), None)
    return panel_html(
        OVERVIEW_PAGE,
        overview.region,
        overview.name,
        report.rules_within(overview.region),
        None if score is None else score.score,
        "" if score is None else _rollup_html(score),
    )


def render_overview(
    session: Session, engine: Engine, overview: Overview, wait_s: float | None = None
) -> str:
    """The page's HTML. Its audit is the top region's, from the audit cache (the one the
    server warms at start-up): :class:`~gis.audit.cache.AuditInProgress` when it is not
    ready within ``wait_s`` seconds (``None``: wait for it)."""
    report = audit_cache.get(engine, overview.top, page_profile(OVERVIEW_PAGE), wait_s=wait_s)
    level = child_level(overview, report)
    zh, en = LEVEL_LABELS.get(level, (level, level))
    urls = overview.urls()
    server = get_settings().server
    m = build_map(
        overview_layers(level),
        title_zh=f"{OVERVIEW_PAGE.title_zh} · {overview.name}",
        title_en=f"{OVERVIEW_PAGE.title_en} · {overview.region}",
        extent=overview.extent,
        basemap=server.basemap,
        tianditu_key=server.tianditu_key,
        url_for=urls.__getitem__,
        panel_html=_panel(overview, report),
        language_switch=True,
        search_layer=COMPLIANCE.id,
        search_placeholder=f"搜索{zh}（名称或代码） Search {en.lower()} (name or code)",
        breadcrumb_html=overview.breadcrumb(),
    )
    return str(m.get_root().render())
