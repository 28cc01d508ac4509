"""The Folium elements of gridgov's maps: a catalogue layer fetched from the API, the
legend, the page style and a grid search box. Each is a small Jinja template.

Why not ``folium.GeoJson(embed=False)``: it loads data with synchronous jQuery ajax and
cannot take a style function; here a layer is ``L.geoJson(null, {...})`` filled by
``fetch()``, styled by a function generated from the layer's :class:`StyleSpec`.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from layers.assets import VECTORGRID_JS, asset_url
from layers.spec import LayerSpec, StyleSpec

__all__ = [
    "FetchedLayer",
    "GridSearch",
    "InfoPanel",
    "LanguageSwitch",
    "Legend",
    "PageStyle",
    "bilingual",
    "style_config",
]


def bilingual(zh: str, en: str) -> str:
    """``zh`` and ``en`` as HTML spans the language switch shows or hides."""
    return f'<span class="gg-zh">{escape(zh)}</span> <span class="gg-en">{escape(en)}</span>'


_STATIC = Path(__file__).with_name("static")


def style_config(spec: LayerSpec) -> dict[str, Any]:
    """The JSON the layer's JavaScript reads: Leaflet path options and the categories."""
    style: StyleSpec = spec.style
    filled = spec.geometry_type != "line" and (
        style.fill is not None or spec.geometry_type == "point"
    )
    base: dict[str, Any] = {
        "color": style.stroke,
        "weight": style.weight,
        "opacity": style.opacity,
        "fill": filled,
        "fillColor": style.fill or style.stroke,
        "fillOpacity": style.fill_opacity if filled else 0.0,
    }
    if style.dash:
        base["dashArray"] = style.dash
    return {
        "style": base,
        "filled": filled,
        "by": style.by,
        "categories": {
            c.value: {"colour": c.colour, "weight": c.weight, "zh": c.label_zh, "en": c.label_en}
            for c in style.categories
        },
        "radius": style.radius,
        "icon": style.icon,
        "markerColour": style.marker_colour,
        "label": style.label,
        "hatch": style.hatch,
    }


class FetchedLayer(JSCSSMixin, Layer):
    """A catalogue layer in its own pane: an empty ``L.geoJson`` filled from ``url``, or,
    for a layer served as tiles, a Leaflet.VectorGrid layer of ``tile_url`` (``url``, its
    GeoJSON, is what a standalone file embeds instead)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.function }}(
            {{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )
    default_js: list[tuple[str, str]] = []  # noqa: RUF012 (folium reads it per instance)

    def __init__(self, spec: LayerSpec, url: str, z_index: int, tile_url: str) -> None:
        super().__init__(name=spec.title, overlay=True, control=True, show=spec.shown)
        self._name = "GridgovLayer"
        self.spec = spec
        tiled = spec.served_as == "tiles"
        self.function = "gridgovTileLayer" if tiled else "gridgovLayer"
        if tiled:
            self.default_js = [("leaflet_vectorgrid_js", VECTORGRID_JS)]
        self.config = {
            "id": spec.id,
            "url": tile_url if tiled else url,
            "geojson": url,
            "title": spec.title,
            "titleZh": spec.title_zh,
            "titleEn": spec.title_en,
            "link": spec.link,
            "linkZh": spec.link_zh,
            "linkEn": spec.link_en,
            "pane": f"gg-pane-{spec.id}",
            "zIndex": z_index,
            "className": f"gg-feature {spec.css_class}",
            "minZoom": spec.min_zoom,
            "maxZoom": spec.max_zoom,
            "canvas": spec.canvas,
            "popup": [
                {"property": f.property, "zh": f.label_zh, "en": f.label_en} for f in spec.popup
            ],
            **style_config(spec),
        }


#: The colours of Leaflet.awesome-markers' marker names (its sprite), for the legend.
MARKER_COLOURS = {
    "red": "#d33d2a",
    "darkred": "#a23336",
    "orange": "#f69730",
    "green": "#70ae26",
    "darkgreen": "#728224",
    "blue": "#38a9dc",
    "darkblue": "#0e67a3",
    "cadetblue": "#436978",
    "purple": "#d051b8",
    "darkpurple": "#5b396b",
}


def _swatch(spec: LayerSpec, colour: str) -> str:
    style = spec.style
    if spec.geometry_type == "point" and style.icon:
        background = MARKER_COLOURS.get(style.marker_colour, style.marker_colour)
        return (
            f'<i class="gg-swatch gg-swatch-icon" style="background:{escape(background)}">'
            f'<i class="fa fa-{escape(style.icon)}"></i></i>'
        )
    if spec.geometry_type == "point":
        return f'<i class="gg-swatch gg-swatch-point" style="background:{escape(colour)}"></i>'
    if spec.geometry_type == "line" or style.fill is None:
        dash = "dashed" if style.dash else "solid"
        weight = max(2, min(round(style.weight), 4))
        return (
            f'<i class="gg-swatch gg-swatch-line" '
            f'style="border-top:{weight}px {dash} {escape(colour)}"></i>'
        )
    if style.hatch:
        return (
            f'<i class="gg-swatch gg-swatch-fill" style="background:repeating-linear-gradient('
            f"45deg,{escape(colour)} 0 2px,transparent 2px 5px);"
            f'border-color:{escape(colour)}"></i>'
        )
    return (
        f'<i class="gg-swatch gg-swatch-fill" style="background:{escape(colour)};'
        f'border-color:{escape(colour)}"></i>'
    )


def legend_html(specs: tuple[LayerSpec, ...], title_zh: str, title_en: str) -> str:
    """The legend's HTML: a heading per layer, one line per legend entry (drawn top first)."""
    parts = [f'<div class="gg-legend-title">{bilingual(title_zh, title_en)}</div>']
    for spec in reversed(specs):
        entries = spec.legend()
        if len(entries) > 1:
            parts.append(
                f'<div class="gg-legend-layer">{bilingual(spec.title_zh, spec.title_en)}</div>'
            )
        for entry in entries:
            label = bilingual(entry.label_zh, entry.label_en)
            parts.append(f'<div class="gg-legend-entry">{_swatch(spec, entry.colour)}{label}</div>')
    return "".join(parts)


class Legend(MacroElement):
    """A Leaflet control (bottom right) with the legend of the map's layers."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "gg-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, specs: tuple[LayerSpec, ...], title_zh: str, title_en: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridgovLegend"
        self.html = legend_html(specs, title_zh, title_en)


class PageStyle(MacroElement):
    """The page's CSS and title box (with the page's breadcrumb, server-rendered HTML,
    under the title), a metric scale bar, and the JS of the catalogue layers."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        <script>{{ this.js }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function (map) {
            var box = L.control({position: "topleft"});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", "gg-title");
                div.innerHTML = {{ this.title_html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            box.addTo(map);
            L.control.scale({imperial: false, maxWidth: 160}).addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, title_zh: str, title_en: str, breadcrumb_html: str = "") -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridgovPage"
        self.css = (_STATIC / "map.css").read_text(encoding="utf-8")
        self.js = (_STATIC / "layer.js").read_text(encoding="utf-8")
        self.title_html = f"{escape(title_zh)}<span>{escape(title_en)}</span>{breadcrumb_html}"


class GridSearch(JSCSSMixin, MacroElement):
    """A leaflet-search box finding a layer's features by name or code (``layer.js`` keeps
    both in the property ``_search``); opens the feature's popup."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, layer) {
            var search = new L.Control.Search({
                layer: layer, propertyName: "_search", marker: false, initial: false,
                position: "topright", textPlaceholder: {{ this.placeholder|tojson }},
                textErr: "未找到 Not found", textCancel: "取消",
                moveToLocation: function (latlng, title, map) {
                    map.fitBounds(latlng.layer.getBounds(), {maxZoom: 16});
                }
            });
            search.on("search:locationfound", function (e) { e.layer.openPopup(); });
            map.addControl(search);
        })({{ this._parent.get_name() }}, {{ this.layer.get_name() }});
        {% endmacro %}
        """
    )
    default_js: list[tuple[str, str]] = [  # noqa: RUF012 (folium reads it per instance)
        ("leaflet_search_js", asset_url("leaflet-search", "dist/leaflet-search.min.js"))
    ]
    default_css: list[tuple[str, str]] = [  # noqa: RUF012
        ("leaflet_search_css", asset_url("leaflet-search", "dist/leaflet-search.min.css"))
    ]

    def __init__(self, layer: FetchedLayer, placeholder: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridSearch"
        self.layer = layer
        self.placeholder = placeholder


class InfoPanel(MacroElement):
    """A Leaflet control (bottom left) holding server-rendered HTML (the audit's counts)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var panel = L.control({position: "bottomleft"});
            panel.onAdd = function () {
                var div = L.DomUtil.create("div", "gg-panel");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            panel.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridgovPanel"
        self.html = html


class LanguageSwitch(MacroElement):
    """A button switching legend, popups and panel between Chinese (default) and English."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gridgovLanguageSwitch({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridgovLanguage"
