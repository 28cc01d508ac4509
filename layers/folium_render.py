"""Build a Folium map from catalogue layers: no CDN, data fetched from gridgov's API.

Every JS/CSS file Folium or a plugin would load from a CDN is rewritten to its local
``/assets/...`` URL (see :mod:`layers.assets`); a resource with no local copy is an
error, so a new plugin cannot quietly bring a CDN back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import folium
from branca.element import Element, Figure
from folium import plugins
from folium.map import FitBounds

from gis.errors import SetupError
from layers.assets import LOCAL_CSS, LOCAL_JS
from layers.folium_elements import (
    FetchedLayer,
    GridSearch,
    InfoPanel,
    LanguageSwitch,
    Legend,
    PageStyle,
)
from layers.queries import BBox
from layers.spec import LayerSpec

__all__ = [
    "DEFAULT_CENTRE",
    "MapPage",
    "build_map",
    "geojson_url",
    "localise_assets",
    "tile_url",
]

#: Where the map opens when there is no data yet (Changji, Xinjiang).
DEFAULT_CENTRE = (44.01, 87.30)

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


@dataclass(frozen=True)
class MapPage:
    """A map page: its URL path, titles and the catalogue layers it draws."""

    path: str
    title_zh: str
    title_en: str
    layer_ids: tuple[str, ...]


def geojson_url(layer_id: str) -> str:
    """Where the page fetches a layer's features."""
    return f"/layers/{layer_id}.geojson"


def tile_url(layer_id: str) -> str:
    """The URL template of a layer's vector tiles (Leaflet's ``{z}/{x}/{y}``)."""
    return f"/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt"


def _add_basemap(m: folium.Map, basemap: str, tianditu_key: str | None) -> None:
    if basemap == "none":
        return
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
        return
    if basemap == "tianditu":
        if not tianditu_key:
            raise SetupError(
                "GRIDGOV_BASEMAP=tianditu needs a Tianditu key: set GRIDGOV_TIANDITU_KEY "
                "(apply at https://console.tianditu.gov.cn), or use GRIDGOV_BASEMAP=none"
            )
        attr = "© 天地图 Tianditu"
        for layer, name, overlay in (("vec", "天地图 Tianditu", False), ("cva", "注记", True)):
            folium.TileLayer(
                tiles=_TIANDITU.format(layer=layer, key=tianditu_key, s="{s}"),
                attr=attr,
                name=name,
                subdomains="01234567",
                overlay=overlay,
                control=not overlay,
                max_zoom=18,
            ).add_to(m)
        return
    folium.TileLayer(tiles=basemap, attr="Basemap", name="底图 Basemap").add_to(m)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _local(
    kind: str, resources: list[tuple[str, str]], table: dict[str, str | None]
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, url in resources:
        if url.startswith("/"):
            out.append((name, url))
            continue
        if name not in table:
            raise SetupError(
                f"{kind} resource {name!r} ({url}) has no local copy: add its npm package to "
                "package.json and its URL to layers/assets.py"
            )
        local = table[name]
        if local is not None:
            out.append((name, local))
    return out


def localise_assets(m: folium.Map) -> None:
    """Point every element's default JS/CSS at ``/assets/...`` (per instance, in place)."""
    for element in _walk(m):
        if hasattr(element, "default_js"):
            element.default_js = _local("JS", list(element.default_js), dict(LOCAL_JS))
        if hasattr(element, "default_css"):
            element.default_css = _local("CSS", list(element.default_css), dict(LOCAL_CSS))


def build_map(
    specs: tuple[LayerSpec, ...],
    *,
    title_zh: str,
    title_en: str,
    extent: BBox | None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    url_for: Callable[[str], str] = geojson_url,
    panel_html: str | None = None,
    language_switch: bool = False,
    search_layer: str = "grids",
    search_placeholder: str = "搜索网格 Search grids",
    breadcrumb_html: str = "",
) -> folium.Map:
    """A map drawing ``specs`` (bottom to top), fitted on ``extent``.

    ``url_for`` gives the GeoJSON URL of a layer (for a layer served as tiles, what a
    standalone file embeds). ``panel_html`` is shown in a box bottom left;
    ``language_switch`` adds the Chinese/English button (Chinese first); ``search_layer``
    is the layer searched by name or code (a GeoJSON layer: tiles cannot be searched),
    ``search_placeholder`` the box's hint; ``breadcrumb_html`` goes under the title.
    """
    served = [spec.served_as for spec in specs]
    if "tiles" in served and "geojson" in served[: len(served) - served[::-1].index("tiles")]:
        raise ValueError(  # a tile layer's canvas would take the clicks of those below it
            "layers served as tiles must be drawn below the GeoJSON ones: "
            + ", ".join(f"{s.id} ({s.served_as})" for s in specs)
        )
    m = folium.Map(
        location=DEFAULT_CENTRE,
        zoom_start=10,
        tiles=None,
        control_scale=False,
        max_zoom=19,
        zoom_snap=0.25,
    )  # the scale bar is PageStyle's: metric only
    root = m.get_root()
    assert isinstance(root, Figure)
    root.title = f"{title_zh} {title_en} · gridgov"
    if extent is not None:
        # Room for the title and tools on the left, the layers and legend on the right.
        # Fitted before any layer is added, without the zoom animation (the map would
        # keep its first zoom while animating, and tiled layers request their tiles at it):
        # vector tiles are requested for this view only.
        fit = FitBounds(
            [[extent.miny, extent.minx], [extent.maxy, extent.maxx]],
            padding_top_left=(60, 30),
            padding_bottom_right=(240, 30),
        )
        fit.options["animate"] = False
        fit.add_to(m)
    PageStyle(title_zh, title_en, breadcrumb_html).add_to(m)
    _add_basemap(m, basemap, tianditu_key)
    fetched: dict[str, FetchedLayer] = {}
    for order, spec in enumerate(specs):
        z_index = (600 if spec.geometry_type == "point" else 400) + order
        layer = FetchedLayer(spec, url_for(spec.id), z_index, tile_url(spec.id))
        layer.add_to(m)
        fetched[spec.id] = layer
    Legend(specs, "图例", "Legend").add_to(m)
    if search_layer in fetched and fetched[search_layer].spec.served_as == "geojson":
        GridSearch(fetched[search_layer], search_placeholder).add_to(m)
    if panel_html is not None:
        InfoPanel(panel_html).add_to(m)
    if language_switch:
        LanguageSwitch().add_to(m)
    plugins.Fullscreen(  # type: ignore[no-untyped-call]
        position="topleft", title="全屏 Full screen", title_cancel="退出全屏 Exit full screen"
    ).add_to(m)
    plugins.MeasureControl(  # type: ignore[no-untyped-call]
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
    ).add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    localise_assets(m)
    return m
