"""The catalogue of map layers: each layer defined once (query, style, legend, popup) and
rendered to Folium pages now, to vector tiles, OGC collections and exports later."""

from layers.catalogue import CATALOGUE, get_layer, layers
from layers.folium_render import MapPage, build_map
from layers.maps import MAPS, PREFECTURE_MAP, render_page
from layers.queries import BBox, feature_collection, parse_bbox, region_extent
from layers.spec import Category, LayerSpec, LegendEntry, PopupField, StyleSpec

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
    "StyleSpec",
    "build_map",
    "feature_collection",
    "get_layer",
    "layers",
    "parse_bbox",
    "region_extent",
    "render_page",
]
