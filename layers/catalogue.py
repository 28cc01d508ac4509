"""The catalogue: every map layer gridgov serves, defined once.

Layers are listed bottom to top (the order they are drawn in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from gis.errors import NotFound
from layers import queries
from layers.spec import Category, LayerSpec, PopupField, StyleSpec

__all__ = ["CATALOGUE", "GRID_KIND_LABELS", "get_layer", "layers"]

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
            POLICE_POSTS,
        )
    }
)


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
