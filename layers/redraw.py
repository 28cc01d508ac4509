"""The Redraw page: a plan's draft grids on the map, editable with Leaflet-Geoman.

The page is built like the other map pages (:func:`layers.folium_render.build_map`: the
same title box, layer control, legend, scale bar, search and language switch); the draft
grids are one more fetched layer (``/plans/{id}/grids``) that ``static/redraw.js`` makes
editable. Every edit goes to the plan API (``/plans/{id}/reshape|split|merge``) with the
plan's ETag in ``If-Match`` and the planner's token as ``Bearer``; the page then reloads
the draft, its validation and its diff. The token is typed into the page and kept in the
tab's ``sessionStorage`` only; without one the page is read-only and says so.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from branca.element import MacroElement
from folium import plugins
from folium.template import Template

from gis.edit.plans import PlanInfo
from gis.settings import get_settings
from layers.catalogue import GRIDS, get_layer
from layers.folium_elements import FetchedLayer, bilingual
from layers.folium_render import build_map, geojson_url, localise_assets
from layers.maps import RULE_LABELS
from layers.queries import BBox
from layers.spec import LayerSpec, PopupField

__all__ = ["PLAN_GRIDS", "TOOLBAR", "RedrawEditor", "plan_page_path", "render_plan_page"]

_STATIC = Path(__file__).with_name("static")

#: The draft grids of a plan, drawn like the live grids (by kind), fetched from the plan API.
PLAN_GRIDS: LayerSpec = replace(
    GRIDS,
    id="plan_grids",
    title_zh="草案网格",
    title_en="Draft grids",
    style=replace(GRIDS.style, stroke="#1f3a5f", weight=2.0, fill_opacity=0.4),
    popup=(
        PopupField("name", "名称", "Name"),
        PopupField("code", "编码", "Code"),
        PopupField("kind", "类型", "Kind"),
        PopupField("community_code", "社区", "Community"),
        PopupField("households", "户数", "Households"),
        PopupField("population", "人口", "Population"),
    ),
    source=None,
    filterable=(),
    url="/plans/{plan}/grids",
    served_as="geojson",  # fetched whole from the plan API (Geoman edits GeoJSON layers)
    description="The grids of a plan's draft.",
)

#: The context drawn under the draft (bottom to top).
CONTEXT_LAYERS = ("roads", "communities")

#: Geoman's toolbar: vertex editing only; ``redraw.js`` adds split (a line) and merge.
TOOLBAR: dict[str, Any] = {
    "position": "topleft",
    "drawMarker": False,
    "drawCircleMarker": False,
    "drawPolyline": False,
    "drawRectangle": False,
    "drawPolygon": False,
    "drawCircle": False,
    "drawText": False,
    "editMode": True,
    "dragMode": False,
    "cutPolygon": False,
    "removalMode": False,
    "rotateMode": False,
}


def plan_page_path(plan_id: int) -> str:
    """Where the Redraw page of a plan is served."""
    return f"/map/plans/{plan_id}"


_EXTENT = text("""
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM plan_grid WHERE plan_id = :p) AS s
""")


def plan_extent(db: Session | Connection, plan_id: int) -> BBox | None:
    """The extent of the plan's draft grids (``None`` when the draft is empty)."""
    row = db.execute(_EXTENT, {"p": plan_id}).one()
    if row[0] is None:
        return None
    return BBox(float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _panel(plan: PlanInfo) -> str:
    """The side panel's skeleton; ``redraw.js`` fills the parts marked with ``data-gg``."""
    communities = ", ".join(plan.community_codes)
    name = escape(plan.name or f"#{plan.id}")
    return (
        f'<div class="gg-redraw" data-plan="{plan.id}">'
        f"<h4>{bilingual('规划', 'Plan')} {name} · "
        f'<span data-gg="status">{plan.status}</span> · v<span data-gg="version">'
        f"{plan.version}</span></h4>"
        f"<div>{bilingual('社区', 'Communities')}: {communities}</div>"
        '<div class="gg-redraw-token" data-gg="token-box">'
        f"<label>{bilingual('规划员令牌', 'Planner token')} "
        '<input type="password" data-gg="token" autocomplete="off" size="14"></label> '
        f'<button type="button" data-gg="use-token">{bilingual("使用", "Use")}</button> '
        f'<button type="button" data-gg="forget-token">{bilingual("清除", "Forget")}</button>'
        "</div>"
        '<div class="gg-redraw-mode" data-gg="mode"></div>'
        '<div class="gg-redraw-message" data-gg="message" role="alert"></div>'
        f'<h5>{bilingual("校验", "Validation")}</h5><div data-gg="validation"></div>'
        f'<h5>{bilingual("变更", "Changes")}</h5><div data-gg="diff"></div>'
        '<div class="gg-redraw-actions">'
        f'<button type="button" data-gg="publish" disabled>{bilingual("发布", "Publish")}</button> '
        f'<a href="/map/plans">{bilingual("全部规划", "All plans")}</a> · '
        f'<a href="/">{bilingual("首页", "Home")}</a></div>'
        "</div>"
    )


class RedrawEditor(MacroElement):
    """The editing logic of ``static/redraw.js`` bound to the draft-grid layer."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        <script>{{ this.js }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        gridgovRedraw({{ this._parent.get_name() }}, {{ this.layer.get_name() }},
            {{ this.config|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: FetchedLayer, config: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridgovRedraw"
        self.layer = layer
        self.config = config
        self.css = (_STATIC / "redraw.css").read_text(encoding="utf-8")
        self.js = (_STATIC / "redraw.js").read_text(encoding="utf-8")


def render_plan_page(db: Session | Connection, plan: PlanInfo) -> str:
    """The Redraw page's HTML for ``plan``."""
    extent = plan_extent(db, plan.id)
    margin = 0.002
    bbox = (
        None
        if extent is None
        else f"{extent.minx - margin:.6f},{extent.miny - margin:.6f},"
        f"{extent.maxx + margin:.6f},{extent.maxy + margin:.6f}"
    )

    def url_for(layer_id: str) -> str:
        if layer_id == PLAN_GRIDS.id:
            return f"/plans/{plan.id}/grids"
        return geojson_url(layer_id) + (f"?bbox={bbox}" if bbox else "")

    # the context is GeoJSON by the plan's bbox: a vector-tile canvas would take the clicks
    # of Geoman's split line where it crosses a road
    context = (replace(get_layer(i), served_as="geojson") for i in CONTEXT_LAYERS)
    specs = (*context, PLAN_GRIDS)
    server = get_settings().server
    m = build_map(
        specs,
        title_zh=f"网格重划 · {plan.name or plan.id}",
        title_en=f"Redraw · plan {plan.id}",
        extent=extent,
        basemap=server.basemap,
        tianditu_key=server.tianditu_key,
        url_for=url_for,
        panel_html=_panel(plan),
        language_switch=True,
        search_layer=PLAN_GRIDS.id,
    )
    grids = next(
        c for c in m._children.values() if isinstance(c, FetchedLayer) and c.spec is PLAN_GRIDS
    )
    plugins.GeoMan(feature_group=grids, **TOOLBAR).add_to(m)  # type: ignore[no-untyped-call]
    RedrawEditor(
        grids,
        {
            "plan": plan.id,
            "status": plan.status,
            "layer": PLAN_GRIDS.id,
            "grids": f"/plans/{plan.id}/grids",
            "api": f"/plans/{plan.id}",
            "toolbar": TOOLBAR,
            "rules": {rule: list(labels) for rule, labels in RULE_LABELS.items()},
        },
    ).add_to(m)
    localise_assets(m)  # Geoman's files from /assets/leaflet-geoman/
    return str(m.get_root().render())
