"""The map pages gridgov serves, and rendering one to HTML from the database."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy.orm import Session

from gis.settings import get_settings
from layers.catalogue import layers
from layers.folium_render import MapPage, build_map
from layers.queries import region_extent

__all__ = ["MAPS", "PREFECTURE_MAP", "render_page"]

PREFECTURE_MAP = MapPage(
    path="/map",
    title_zh="网格治理总图",
    title_en="Grid governance map",
    layer_ids=("roads", "grids", "communities", "streets", "police_posts"),
)

#: Every map page by path, in the order the index lists them.
MAPS: Mapping[str, MapPage] = MappingProxyType({PREFECTURE_MAP.path: PREFECTURE_MAP})


def render_page(session: Session, page: MapPage) -> str:
    """The page's HTML: the map fitted on the regions' extent, basemap from the settings."""
    server = get_settings().server
    m = build_map(
        layers(*page.layer_ids),
        title_zh=page.title_zh,
        title_en=page.title_en,
        extent=region_extent(session),
        basemap=server.basemap,
        tianditu_key=server.tianditu_key,
    )
    return str(m.get_root().render())
