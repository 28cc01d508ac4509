"""Folium maps for notebooks: catalogue layers of one region with their GeoJSON embedded.

The served pages (:mod:`layers.folium_render`) fetch their layers from gridgov's API;
a notebook has no server, so here each layer's features are read from the database
(:func:`gis.io.export.layer_frame`, the same query the exports use), embedded in the
map as ``folium.GeoJson`` and styled from the layer's :class:`~layers.spec.StyleSpec`
(colours by category, popups, legend and title box as on ``/map``). Audit findings can
be drawn on top. The map is the last expression of a cell: Jupyter shows it inline.

    m = region_map(engine, "652301001000", ("grids", "communities", "police_posts"),
                   findings={"盲区 Blind spots": report.feature_collection("blind_spots")})
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

import folium
from branca.element import Element

from gis.errors import NotFound
from gis.settings import get_settings
from layers.assets import ASSET_DIRS, ASSET_PREFIX, asset_file
from layers.catalogue import layers
from layers.folium_elements import MARKER_COLOURS, Legend, PageStyle, style_config
from layers.folium_render import localise_assets
from layers.spec import LayerSpec

__all__ = ["FINDING_COLOURS", "add_findings", "embed_assets", "region_map", "style_function"]

#: Colours of finding layers, in the order they are given (blind spots first: red).
FINDING_COLOURS = ("#e31a1c", "#ff7f00", "#6a3d9a", "#b15928", "#1f78b4")


def style_function(spec: LayerSpec) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Leaflet path options of a feature, as ``layers/static/layer.js`` computes them."""
    config = style_config(spec)

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        options = dict(config["style"])
        by = config["by"]
        category = (
            config["categories"].get((feature.get("properties") or {}).get(by)) if by else None
        )
        if category:
            options["fillColor" if config["filled"] else "color"] = category["colour"]
            if category["weight"] is not None:
                options["weight"] = category["weight"]
        return options

    return style


def _geojson(spec: LayerSpec, data: dict[str, Any]) -> folium.GeoJson:
    props = set(data["features"][0]["properties"]) if data["features"] else set()
    popup_fields = [f for f in spec.popup if f.property in props]
    popup = (
        folium.GeoJsonPopup(
            fields=[f.property for f in popup_fields],
            aliases=[f"{f.label_zh} {f.label_en}" for f in popup_fields],
        )
        if popup_fields
        else None
    )
    tooltip = folium.GeoJsonTooltip(fields=["name"], labels=False) if "name" in props else None
    marker = folium.CircleMarker(radius=spec.style.radius, fill=True)
    style = style_function(spec)
    if spec.geometry_type == "point" and spec.style.icon:
        # awesome markers load their sprite by a relative URL an embedded map cannot
        # follow: draw the posts as circles in the marker's colour
        colour = MARKER_COLOURS.get(spec.style.marker_colour, spec.style.marker_colour)
        options = {"color": "#ffffff", "weight": 1.5, "fillColor": colour, "fillOpacity": 0.95}
        marker = folium.CircleMarker(
            radius=7, fill=True, color="#ffffff", fill_color=colour, fill_opacity=0.95
        )

        def style(_feature: dict[str, Any]) -> dict[str, Any]:
            return options

    return folium.GeoJson(
        data,
        name=spec.title,
        style_function=style,
        popup=popup,
        tooltip=tooltip,
        marker=marker,
        show=spec.shown,
    )


def add_findings(
    m: folium.Map, label: str, collection: Mapping[str, Any], colour: str = FINDING_COLOURS[0]
) -> int:
    """Draw audit findings (``AuditReport.feature_collection(rule)``) on ``m``; the count
    of findings with a geometry."""
    features = [
        {
            "type": "Feature",
            "geometry": f["geometry"],
            "properties": {
                "message": (f.get("properties") or {}).get("message", ""),
                "check": (f.get("properties") or {}).get("check", ""),
            },
        }
        for f in collection.get("features", [])
        if f.get("geometry")
    ]
    if not features:
        return 0
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=label,
        style_function=lambda _f: {
            "color": colour,
            "weight": 2,
            "fillColor": colour,
            "fillOpacity": 0.5,
        },
        marker=folium.CircleMarker(radius=6),
        tooltip=folium.GeoJsonTooltip(fields=["message"], labels=False),
    ).add_to(m)
    return len(features)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _data_uri(url: str, root: Path, media_type: str) -> str:
    payload = asset_file(root, url).read_bytes()
    return f"data:{media_type};base64,{base64.b64encode(payload).decode('ascii')}"


def embed_assets(m: folium.Map) -> bool:
    """Put the local copies of Leaflet's and the plugins' JS/CSS (``npm ci``'s
    ``node_modules``) into the map's HTML as data URIs, so that it draws with no server
    and no internet; ``False`` (CDN links kept) when the assets are not installed."""
    root = get_settings().server.assets_dir
    if not (root / ASSET_DIRS["leaflet"]).is_dir():
        return False
    localise_assets(m)
    for element in _walk(m):
        for attr, media_type in (("default_js", "text/javascript"), ("default_css", "text/css")):
            if hasattr(element, attr):
                resources = [
                    (
                        name,
                        _data_uri(url, root, media_type) if url.startswith(ASSET_PREFIX) else url,
                    )
                    for name, url in getattr(element, attr)
                ]
                setattr(element, attr, resources)
    return True


def _with_grid_geometry(engine: Engine, collection: Mapping[str, Any]) -> dict[str, Any]:
    """Findings without a geometry of their own (a grid with no post…) drawn as their
    grids (the live versions)."""
    features = [dict(f) for f in collection.get("features", [])]
    wanted = {
        code
        for f in features
        if not f.get("geometry")
        for code in str((f.get("properties") or {}).get("grids") or "").split(",")
        if code
    }
    if not wanted:
        return {"type": "FeatureCollection", "features": features}
    with engine.connect() as conn:
        shapes = {
            str(code): json.loads(geom)
            for code, geom in conn.execute(
                text(
                    "SELECT code, ST_AsGeoJSON(geom, 6) FROM grid "
                    "WHERE valid_to IS NULL AND code = ANY(:codes)"
                ),
                {"codes": sorted(wanted)},
            )
        }
    out = []
    for f in features:
        if f.get("geometry"):
            out.append(f)
            continue
        codes = str((f.get("properties") or {}).get("grids") or "").split(",")
        out += [{**f, "geometry": shapes[c]} for c in codes if c in shapes]
    return {"type": "FeatureCollection", "features": out}


def region_map(
    engine: Engine,
    region: str,
    layer_ids: Sequence[str] = ("grids", "communities", "police_posts"),
    *,
    title_zh: str | None = None,
    title_en: str | None = None,
    findings: Mapping[str, Mapping[str, Any]] | None = None,
    as_of: datetime | None = None,
) -> folium.Map:
    """A self-contained Folium map of ``region``: the catalogue layers ``layer_ids``
    (drawn in catalogue order) with their features embedded, then ``findings``
    (label → GeoJSON FeatureCollection), fitted on the region."""
    from gis.io.export import layer_frame  # gis.io imports layers: import when used

    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT name, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT name, ST_Extent(geom) OVER () AS e FROM region WHERE code = :c) s"
            ),
            {"c": region},
        ).one_or_none()
    if row is None:
        raise NotFound(f"region {region} is not in the database")
    name, minx, miny, maxx, maxy = row
    specs = layers(*layer_ids)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, zoom_start=13)
    PageStyle(title_zh or str(name), title_en or region).add_to(m)
    for spec in specs:
        frame = layer_frame(engine, spec.id, region, as_of)
        data = json.loads(frame.to_json(default=str, drop_id=True))
        _geojson(spec, data).add_to(m)
    for colour, (label, collection) in zip(
        FINDING_COLOURS * 4, (findings or {}).items(), strict=False
    ):
        add_findings(m, label, _with_grid_geometry(engine, collection), colour)
    Legend(specs, "图例", "Legend").add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    embed_assets(m)
    return m
