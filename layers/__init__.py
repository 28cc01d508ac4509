"""The catalogue of map layers: each layer defined once (query, style, legend, popup) and
rendered to Folium pages, OGC API – Features collections and vector tiles (exports later)."""

from layers.catalogue import CATALOGUE, get_layer, layers
from layers.folium_render import MapPage, build_map
from layers.maps import MAPS, PREFECTURE_MAP, render_page
from layers.queries import BBox, feature_collection, parse_bbox, region_extent
from layers.spec import Category, LayerSpec, LegendEntry, PopupField, Source, StyleSpec
from layers.tiles import invalidate_tiles

__all__ = [
    "CATALOGUE",
    "MAPS",
    "PREFECTURE_MAP",
    "BBox",
    "Category",
    "LayerSpec",
    "LegendEntry",
    "MapPage",
    "PopupField",
    "Source",
    "StyleSpec",
    "build_map",
    "feature_collection",
    "get_layer",
    "invalidate_tiles",
    "layers",
    "parse_bbox",
    "region_extent",
    "render_page",
]
