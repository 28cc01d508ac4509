"""What a map layer is: a small frozen value (id, titles, query, style, legend, popup).

A layer is defined once here and drives every output (Folium pages now; vector tiles,
OGC collections and file exports later). Specs hold no behaviour beyond deriving their
legend; renderers read them.

>>> s = StyleSpec(stroke="#333333", categories=(Category("a", "#ff0000", "甲", "A"),), by="k")
>>> s.colour_of("a"), s.colour_of("b")
('#ff0000', '#333333')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Category",
    "GeometryType",
    "LayerSpec",
    "LegendEntry",
    "PopupField",
    "Source",
    "StyleSpec",
]

GeometryType = Literal["polygon", "line", "point"]


@dataclass(frozen=True)
class Category:
    """One value of a categorical style: its colour, optional line weight, and labels."""

    value: str
    colour: str
    label_zh: str
    label_en: str
    weight: float | None = None


@dataclass(frozen=True)
class StyleSpec:
    """How features are drawn (Leaflet path options) and, with ``by``, coloured by a property.

    ``fill`` is the fill colour of polygons and points (``None``: no fill, an outline);
    with ``by`` set, a feature whose ``properties[by]`` matches a category takes that
    category's colour as its fill (filled layers) or its stroke (outlines and lines),
    and the category's weight if given.
    ``radius`` is the circle radius of point layers drawn as circles; ``icon`` (a
    Font Awesome name such as ``"shield-halved"``) draws points as awesome markers.
    ``label`` names a property shown as a permanent label beside each feature;
    ``hatch`` fills polygons with diagonal hatching in their colour (an SVG pattern).
    """

    stroke: str = "#333333"
    weight: float = 1.0
    opacity: float = 1.0
    fill: str | None = None
    fill_opacity: float = 0.35
    dash: str | None = None
    radius: float = 6.0
    icon: str | None = None
    marker_colour: str = "darkblue"
    by: str | None = None
    categories: tuple[Category, ...] = ()
    label: str | None = None
    hatch: bool = False

    def colour_of(self, value: str | None) -> str:
        """The colour a feature with ``properties[by] == value`` is drawn in."""
        for category in self.categories:
            if category.value == value:
                return category.colour
        return self.stroke


@dataclass(frozen=True)
class LegendEntry:
    """A line of the map legend."""

    label_zh: str
    label_en: str
    colour: str


@dataclass(frozen=True)
class PopupField:
    """A feature property shown in the popup, labelled in Chinese and English."""

    property: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Source:
    """Where a layer's rows come from, as trusted SQL fragments written in the catalogue.

    ``table`` is the FROM clause, ``where`` the layer's own condition, ``fid`` the
    feature id expression, ``geom`` the geometry (EPSG:4326) and ``columns`` the
    properties as ``(name, expression)`` pairs. A versioned layer names its
    ``valid_from``/``valid_to`` columns: its live rows have ``valid_to IS NULL`` and a
    time filter selects the versions valid then. ``by_zoom`` thins vector tiles at
    small scales, as base maps do: ``(zoom, condition)`` pairs, a tile below ``zoom``
    keeping only the rows meeting ``condition`` (e.g. the main roads only). Readers
    (GeoJSON by bbox, OGC API Features, vector tiles) build their SELECTs from these
    pieces; every value they add is a bound parameter.

    >>> s = Source("road r", "r.id", "r.geom", (("name", "r.name"),))
    >>> s.select_list()
    'r.id AS fid, r.name AS "name", r.geom AS geom'
    """

    table: str
    fid: str
    geom: str
    columns: tuple[tuple[str, str], ...]
    where: str = "TRUE"
    order_by: str = ""
    valid_from: str | None = None
    valid_to: str | None = None
    fid_type: Literal["string", "integer"] = "string"
    by_zoom: tuple[tuple[int, str], ...] = ()

    @property
    def temporal(self) -> bool:
        """Whether rows are versions with a validity interval."""
        return self.valid_from is not None and self.valid_to is not None

    @property
    def order(self) -> str:
        return self.order_by or self.fid

    def column(self, name: str) -> str:
        """The SQL expression of property ``name`` (``KeyError`` when there is none)."""
        return dict(self.columns)[name]

    def select_list(self) -> str:
        """``fid``, the properties and ``geom``, each under its output name."""
        props = ", ".join(f'{expr} AS "{name}"' for name, expr in self.columns)
        return f"{self.fid} AS fid, {props}, {self.geom} AS geom"

    def at_zoom(self, z: int) -> str:
        """The condition on the rows a tile of zoom ``z`` keeps (see ``by_zoom``)."""
        return " AND ".join(["TRUE", *(f"({cond})" for zoom, cond in self.by_zoom if z < zoom)])

    def live(self) -> str:
        """The layer's condition on its current rows (the live version of versioned ones)."""
        if self.valid_to is None:
            return self.where
        return f"({self.where}) AND {self.valid_to} IS NULL"


@dataclass(frozen=True)
class LayerSpec:
    """A map layer.

    ``sql`` is one SELECT with bound parameters ``:minx, :miny, :maxx, :maxy`` (the
    bbox, EPSG:4326) returning a column ``fid`` (the feature id), a column ``geom``
    (EPSG:4326) and the feature properties as the other columns.
    ``source`` is the same rows in pieces, for OGC API Features and vector tiles (a layer
    without one is served as GeoJSON only); ``filterable`` names the properties a client
    may filter on (``?kind=unit``).
    ``url``, a template with ``{region}``, is where a page fetches a layer computed by
    another endpoint (the audit's findings) instead of ``/layers/{id}.geojson``; ``link``,
    a template with ``{code}``, is a page about the feature, linked from its popup under
    the label ``link_zh``/``link_en`` (the overview's drill-down: "下钻 Go down").
    ``served_as`` says how pages load it: ``"geojson"`` (fetched once, by the page's bbox)
    or ``"tiles"`` (vector tiles from ``/tiles/{id}/{z}/{x}/{y}.mvt``, drawn on canvas by
    Leaflet.VectorGrid: for the biggest layers; needs a ``source``, and no ``url``,
    ``link``, ``label`` or hatching, which tiles cannot carry).
    ``canvas`` draws a GeoJSON layer on one canvas instead of an SVG path per feature
    (clicks, popups and tooltips still work; no hatching): for a layer of many
    polygons drawn whole, such as the overview's communities.
    """

    id: str
    title_zh: str
    title_en: str
    geometry_type: GeometryType
    sql: str
    style: StyleSpec
    popup: tuple[PopupField, ...] = ()
    legend_entries: tuple[LegendEntry, ...] = ()
    min_zoom: int = 0
    max_zoom: int = 22
    shown: bool = True
    served_as: Literal["geojson", "tiles"] = "geojson"
    source: Source | None = None
    filterable: tuple[str, ...] = ()
    description: str = ""
    url: str | None = None
    link: str | None = None
    link_zh: str = "打开"
    link_en: str = "Open"
    canvas: bool = False

    def __post_init__(self) -> None:
        if not self.id.replace("_", "").isalnum() or not self.id.islower():
            raise ValueError(f"layer id {self.id!r}: use lower-case letters, digits and _")
        if self.min_zoom > self.max_zoom:
            raise ValueError(f"layer {self.id}: min_zoom {self.min_zoom} > max_zoom")
        if self.style.by and not self.style.categories:
            raise ValueError(f"layer {self.id}: style.by={self.style.by!r} needs categories")
        if self.served_as == "tiles" and (
            self.source is None
            or self.url is not None
            or self.link is not None
            or self.style.label is not None
            or self.style.hatch
        ):
            raise ValueError(
                f"layer {self.id}: served as tiles needs a source, and no url, link, label or hatch"
            )
        if self.canvas and (self.served_as == "tiles" or self.style.hatch):
            raise ValueError(
                f"layer {self.id}: canvas is for a GeoJSON layer without hatching "
                "(tiles are drawn on canvas anyway)"
            )
        names = {name for name, _ in self.source.columns} if self.source else set()
        for name in self.filterable:
            if name not in names:
                raise ValueError(f"layer {self.id}: filterable {name!r} is not a source column")

    @property
    def title(self) -> str:
        """Chinese and English title, as shown in the layer control."""
        return f"{self.title_zh} {self.title_en}"

    @property
    def css_class(self) -> str:
        """The CSS class every rendered feature of this layer carries (``gg-<id>``)."""
        return f"gg-{self.id}"

    def legend(self) -> tuple[LegendEntry, ...]:
        """Explicit entries, else one per style category, else one for the layer."""
        if self.legend_entries:
            return self.legend_entries
        if self.style.categories:
            return tuple(
                LegendEntry(c.label_zh, c.label_en, c.colour) for c in self.style.categories
            )
        colour = self.style.marker_colour if self.style.icon else self.style.stroke
        return (LegendEntry(self.title_zh, self.title_en, colour),)
