"""The catalogue: every map layer gridgov serves, defined once.

Layers are listed bottom to top (the order they are drawn in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from gis.errors import NotFound
from layers import queries
from layers.spec import Category, LayerSpec, LegendEntry, PopupField, StyleSpec

__all__ = ["CATALOGUE", "FINDINGS", "GRID_KIND_LABELS", "get_layer", "layers", "page_layer"]

GRID_KIND_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "geographic": ("地缘型网格", "Geographic grid"),
        "unit": ("单元型网格", "Unit grid"),
        "organization": ("单位型网格", "Organization grid"),
    }
)
_GRID_COLOURS = {"geographic": "#59a14f", "unit": "#f28e2b", "organization": "#b0479a"}
_GRID_FILTERS = ("code", "kind", "community_code", "version")

_NAME = PopupField("name", "名称", "Name")
_CODE = PopupField("code", "编码", "Code")
_HOUSEHOLDS = PopupField("households", "户数", "Households")
_POPULATION = PopupField("population", "人口", "Population")

ROADS = LayerSpec(
    id="roads",
    title_zh="道路",
    title_en="Roads",
    geometry_type="line",
    sql=queries.ROADS,
    style=StyleSpec(
        stroke="#b0a999",
        weight=1.5,
        by="road_class",
        categories=(
            Category("arterial", "#8c6d46", "主干道", "Arterial road", weight=4.0),
            Category("secondary", "#a88d66", "次干道", "Secondary road", weight=2.5),
            Category("local", "#b5b0a5", "支路", "Local road", weight=1.5),
            Category("rural", "#c4b48a", "乡村道路", "Rural road", weight=1.5),
        ),
    ),
    popup=(_NAME, PopupField("road_class", "等级", "Class")),
    served_as="tiles",
    source=queries.ROADS_SOURCE,
    filterable=("road_class",),
)

GRIDS = LayerSpec(
    id="grids",
    title_zh="网格",
    title_en="Grids",
    geometry_type="polygon",
    sql=queries.GRIDS,
    style=StyleSpec(
        stroke="#ffffff",
        weight=1.5,
        opacity=0.9,
        fill="#999999",
        fill_opacity=0.45,
        by="kind",
        categories=tuple(
            Category(kind, _GRID_COLOURS[kind], zh, en)
            for kind, (zh, en) in GRID_KIND_LABELS.items()
        ),
    ),
    popup=(
        _NAME,
        _CODE,
        PopupField("kind", "类型", "Kind"),
        PopupField("community", "社区", "Community"),
        _HOUSEHOLDS,
        _POPULATION,
    ),
    served_as="tiles",
    source=queries.GRIDS_SOURCE,
    filterable=_GRID_FILTERS,
    description="Live management grids of every kind; ?datetime= gives the versions valid then.",
)


def _grids_of_kind(kind: str) -> LayerSpec:
    zh, en = GRID_KIND_LABELS[kind]
    colour = _GRID_COLOURS[kind]
    return replace(
        GRIDS,
        id=f"grids_{kind}",
        title_zh=zh,
        title_en=f"{en}s",
        sql=queries.bbox_sql(queries.grid_source(kind)),
        style=StyleSpec(stroke="#ffffff", weight=1.5, opacity=0.9, fill=colour, fill_opacity=0.45),
        source=queries.grid_source(kind),
        description=f"Live {en.lower()}s; ?datetime= gives the versions valid then.",
    )


GRIDS_GEOGRAPHIC = _grids_of_kind("geographic")
GRIDS_UNIT = _grids_of_kind("unit")
GRIDS_ORGANIZATION = _grids_of_kind("organization")

COMMUNITIES = LayerSpec(
    id="communities",
    title_zh="社区",
    title_en="Communities",
    geometry_type="polygon",
    sql=queries.COMMUNITIES,
    style=StyleSpec(stroke="#3d3d3d", weight=1.5, dash="6 4"),
    popup=(_NAME, _CODE, PopupField("parent", "街道", "Street"), _HOUSEHOLDS, _POPULATION),
    source=queries.COMMUNITIES_SOURCE,
    filterable=("code", "parent_code"),
)

STREETS = LayerSpec(
    id="streets",
    title_zh="街道（乡镇）",
    title_en="Streets / towns",
    geometry_type="polygon",
    sql=queries.STREETS,
    style=StyleSpec(stroke="#1f1f1f", weight=3.5, opacity=0.9),
    popup=(_NAME, _CODE, PopupField("parent", "县市", "County"), _HOUSEHOLDS, _POPULATION),
    source=queries.STREETS_SOURCE,
    filterable=("code", "parent_code"),
)

POLICE_POSTS = LayerSpec(
    id="police_posts",
    title_zh="警务站",
    title_en="Police posts",
    geometry_type="point",
    sql=queries.POLICE_POSTS,
    style=StyleSpec(stroke="#ffffff", icon="shield-halved", marker_colour="darkblue"),
    min_zoom=15,
    popup=(
        _NAME,
        _CODE,
        PopupField("grid_code", "网格编码", "Grid code"),
        PopupField("grid", "网格", "Grid"),
        PopupField("staff", "警力", "Staff"),
    ),
    source=queries.POLICE_POSTS_SOURCE,
    filterable=("code", "kind", "grid_code"),
)

BUILDINGS = LayerSpec(
    id="buildings",
    title_zh="建筑",
    title_en="Buildings",
    geometry_type="polygon",
    sql=queries.bbox_sql(queries.BUILDINGS_SOURCE),
    style=StyleSpec(stroke="#8a8a8a", weight=0.5, fill="#c9c3b8", fill_opacity=0.8),
    min_zoom=15,
    popup=(PopupField("use", "用途", "Use"), _HOUSEHOLDS, _POPULATION),
    served_as="tiles",
    source=queries.BUILDINGS_SOURCE,
    filterable=("use",),
)

ORGANIZATIONS = LayerSpec(
    id="organizations",
    title_zh="单位",
    title_en="Organizations",
    geometry_type="point",
    sql=queries.bbox_sql(queries.ORGANIZATIONS_SOURCE),
    style=StyleSpec(stroke="#5a3e85", fill="#9c7fd1", radius=4.0),
    min_zoom=15,
    popup=(
        _NAME,
        PopupField("category", "类别", "Category"),
        PopupField("grid_code", "网格编码", "Grid code"),
    ),
    source=queries.ORGANIZATIONS_SOURCE,
    filterable=("category", "grid_code"),
)

_GRID_STATUS_POPUP = (
    _CODE,
    _NAME,
    PopupField("kind", "类型", "Kind"),
    PopupField("community", "社区", "Community"),
    _HOUSEHOLDS,
    PopupField("workers", "网格员", "Workers"),
    PopupField("post_names", "警务站", "Police post(s)"),
)

GRID_STATUS = replace(
    GRIDS,
    id="grid_status",
    title_zh="网格",
    title_en="Grids",
    sql=queries.bbox_sql(queries.GRID_STATUS_SOURCE),
    style=replace(GRIDS.style, fill_opacity=0.35),
    popup=_GRID_STATUS_POPUP,
    served_as="geojson",  # a region's grids: few, clicked, searched, styled per page
    source=queries.GRID_STATUS_SOURCE,
    filterable=("code", "kind", "community_code", "post_class"),
    description="Live grids with their households, workers and police posts.",
)

GRID_POSTS = replace(
    GRID_STATUS,
    id="grid_posts",
    title_zh="网格警务站数",
    title_en="Police posts per grid",
    style=StyleSpec(
        stroke="#ffffff",
        weight=1.5,
        fill="#999999",
        fill_opacity=0.5,
        by="post_class",
        categories=(
            Category("none", "#d62728", "无警务站", "No post"),
            Category("one", "#2ca02c", "一个警务站", "One post"),
            Category("several", "#ff7f0e", "多个警务站", "Two or more posts"),
        ),
    ),
    description="Live grids coloured by their number of police posts (一网格一警务站).",
)

GRID_LOAD = replace(
    GRID_STATUS,
    id="grid_load",
    title_zh="网格户数",
    title_en="Households per grid",
    style=StyleSpec(stroke="#ffffff", weight=1.5, fill="#a1d99b", fill_opacity=0.55),
    legend_entries=(
        LegendEntry("在标准内（或未检查）", "Within the band (or not checked)", "#a1d99b"),
    ),
    description="Live grids with their households, workers and posts (the workload page).",
)

POST_LINKS = LayerSpec(
    id="post_links",
    title_zh="警务站服务网格",
    title_en="Post → grid served",
    geometry_type="line",
    sql=queries.bbox_sql(queries.POST_LINKS_SOURCE),
    style=StyleSpec(stroke="#0e67a3", weight=2.0, opacity=0.8, dash="4 4"),
    popup=(
        _NAME,
        PopupField("grid_code", "网格编码", "Grid code"),
        PopupField("grid", "网格", "Grid"),
    ),
    source=queries.POST_LINKS_SOURCE,
    filterable=("grid_code",),
)

CATALOGUE: Mapping[str, LayerSpec] = MappingProxyType(
    {
        spec.id: spec
        for spec in (
            ROADS,
            BUILDINGS,
            GRIDS,
            GRIDS_GEOGRAPHIC,
            GRIDS_UNIT,
            GRIDS_ORGANIZATION,
            COMMUNITIES,
            STREETS,
            ORGANIZATIONS,
            GRID_STATUS,
            GRID_POSTS,
            GRID_LOAD,
            POST_LINKS,
            POLICE_POSTS,
        )
    }
)

_FINDING_POPUP = (
    PopupField("check", "检查项", "Check"),
    PopupField("severity", "级别", "Severity"),
    PopupField("grids", "网格", "Grids"),
    PopupField("message", "说明", "Message"),
)


def _finding(
    layer_id: str,
    zh: str,
    en: str,
    url: str,
    categories: tuple[Category, ...],
    dash: str,
    *,
    filled: bool = True,
    hatch: bool = False,
) -> LayerSpec:
    return LayerSpec(
        id=layer_id,
        title_zh=zh,
        title_en=en,
        geometry_type="polygon",
        sql="",
        style=StyleSpec(
            stroke=categories[0].colour,
            weight=2.5,
            fill=categories[0].colour if filled else None,
            fill_opacity=0.55,
            dash=dash,
            hatch=hatch,
            by="check",
            categories=categories,
        ),
        popup=_FINDING_POPUP,
        url=url,
    )


_RED, _ORANGE, _PURPLE = "#d62728", "#ff7f0e", "#8e44ad"

#: The audit's findings as page layers, fetched from ``/audit/{region}/…``.
FINDINGS: Mapping[str, LayerSpec] = MappingProxyType(
    {
        spec.id: spec
        for spec in (
            _finding(
                "blind_spots",
                "盲区",
                "Blind spots",
                "/audit/{region}/blind-spots",
                (
                    Category("blind_spot", _RED, "盲区", "Blind spot", weight=3.0),
                    Category("sliver_gap", "#f4a3a3", "细缝（警告）", "Sliver gap (warning)"),
                ),
                "6 4",
                hatch=True,
            ),
            _finding(
                "overlaps",
                "交叉重叠",
                "Overlaps",
                "/audit/{region}/overlaps",
                (
                    Category("overlap", _ORANGE, "交叉重叠", "Overlap", weight=3.0),
                    Category("nested_grid", "#e6550d", "嵌套网格", "Nested grid", weight=3.0),
                    Category(
                        "sliver_overlap", "#fdd0a2", "细小重叠（警告）", "Sliver overlap (warning)"
                    ),
                ),
                "6 4",
            ),
            _finding(
                "spill",
                "越出社区",
                "Spill outside community",
                "/audit/{region}/spill",
                (Category("spill", _PURPLE, "越出社区", "Spill", weight=3.0),),
                "6 4",
            ),
            _finding(
                "police_blind_spots",
                "警务盲区",
                "Police blind spots",
                "/audit/{region}/police-posts?check=police_blind_spot",
                (Category("police_blind_spot", "#7f0000", "警务盲区", "Police blind spot"),),
                "3 3",
                hatch=True,
            ),
            _finding(
                "workload",
                "户数超出标准",
                "Households outside the band",
                "/audit/{region}/workload",
                (
                    Category("households_over", "#d7301f", "户数高于标准", "Above the band"),
                    Category("households_under", "#2c7fb8", "户数低于标准", "Below the band"),
                    Category("population_over", "#7f0000", "人口过多", "Population over"),
                ),
                "",
            ),
            _finding(
                "staffing",
                "人员配备不足",
                "Staffing shortfalls",
                "/audit/{region}/staffing",
                (
                    Category("understaffed", "#111111", "网格员不足", "Understaffed", weight=3.0),
                    Category(
                        "no_responsible_worker",
                        "#555555",
                        "无责任网格员",
                        "No responsible worker",
                        weight=3.0,
                    ),
                    Category("no_team", "#777777", "无服务队", "No service team"),
                    Category("team_too_small", "#999999", "服务队不足", "Service team too small"),
                    Category("branch_missing", "#bbbbbb", "无党支部", "No party branch"),
                ),
                "2 4",
                filled=False,
            ),
        )
    }
)

#: Regions coloured by compliance score: every community of the audited region, or the
#: children of one region (the overview's drill-down, ``layers.overview``, which titles and
#: links it per level).
COMPLIANCE = LayerSpec(
    id="compliance",
    title_zh="社区合规度",
    title_en="Community compliance",
    geometry_type="polygon",
    sql="",
    style=StyleSpec(
        stroke="#3d3d3d",
        weight=1.2,
        fill="#999999",
        fill_opacity=0.6,
        by="score_class",
        categories=(
            Category("full", "#1a9850", "全部达标（100%）", "All rules met (100%)"),
            Category("high", "#a6d96a", "80%及以上", "80% or more"),
            Category("mid", "#fdae61", "50%–80%", "50%–80%"),
            Category("low", "#d73027", "低于50%", "Below 50%"),
        ),
    ),
    popup=(
        _NAME,
        _CODE,
        PopupField("score_pct", "合规度", "Compliance"),
        PopupField("rules_failed", "未达标规则", "Rules failed"),
        PopupField("errors", "错误", "Errors"),
        PopupField("warnings", "警告", "Warnings"),
        PopupField("area_affected_m2", "受影响面积（m²）", "Area affected (m²)"),
        PopupField("households_affected", "受影响户数", "Households affected"),
    ),
    url="/audit/{region}/compliance",
    link="/map/coverage/{code}",
    link_zh="网格覆盖",
    link_en="Coverage page",
    canvas=True,  # a street's communities, or every community of the prefecture (1,618)
)


def page_layer(layer_id: str) -> LayerSpec:
    """A catalogue layer, an audit finding layer or the compliance layer."""
    if layer_id in FINDINGS:
        return FINDINGS[layer_id]
    if layer_id == COMPLIANCE.id:
        return COMPLIANCE
    return get_layer(layer_id)


def get_layer(layer_id: str) -> LayerSpec:
    """The layer with this id; :class:`NotFound` naming the known ids otherwise."""
    try:
        return CATALOGUE[layer_id]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise NotFound(
            f"layer {layer_id!r} is not in the catalogue; known layers: {known}"
        ) from None


def layers(*layer_ids: str) -> tuple[LayerSpec, ...]:
    """The named layers in drawing order (all of them when none is named)."""
    wanted = set(layer_ids) if layer_ids else set(CATALOGUE)
    for layer_id in wanted:
        get_layer(layer_id)
    return tuple(spec for spec in CATALOGUE.values() if spec.id in wanted)
