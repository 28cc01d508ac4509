"""The catalogue's styles in other clients' terms: OGR style strings (KML) and QGIS QML.

>>> hexa("#f28e2b", 0.45)
'#f28e2b73'
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from layers.spec import LayerSpec, StyleSpec

__all__ = ["hexa", "ogr_style", "qml", "rgba"]


def hexa(colour: str, alpha: float) -> str:
    return f"{colour}{round(alpha * 255):02x}"


def rgba(colour: str, alpha: float = 1.0) -> str:
    """QGIS's ``r,g,b,a`` of a ``#rrggbb`` colour."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _fill_of(style: StyleSpec, value: Any) -> tuple[str | None, str]:
    """(fill colour or None, stroke colour) of a feature whose ``by`` property is ``value``."""
    colour = style.colour_of(None if value is None else str(value))
    if style.fill is not None:
        return (colour if style.by else style.fill), style.stroke
    return None, (colour if style.by else style.stroke)


def ogr_style(spec: LayerSpec, value: Any = None) -> str:
    """The OGR feature style string of a feature (``value``: its ``style.by`` property)."""
    style = spec.style
    fill, stroke = _fill_of(style, value)
    pen = f"PEN(c:{hexa(stroke, style.opacity)},w:{style.weight:g}px)"
    if spec.geometry_type == "point":
        return f'SYMBOL(id:"ogr-sym-3",c:{fill or style.stroke})'
    if spec.geometry_type == "line" or fill is None:
        return pen
    return f"BRUSH(fc:{hexa(fill, style.fill_opacity)});{pen}"


def _option(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "Option", type="QString", name=name, value=value)


def _symbol(spec: LayerSpec, name: str, value: Any) -> ET.Element:
    style = spec.style
    fill, stroke = _fill_of(style, value)
    kind = {"polygon": "fill", "line": "line", "point": "marker"}[spec.geometry_type]
    symbol = ET.Element("symbol", type=kind, name=name, alpha="1", clip_to_extent="1")
    cls = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}[kind]
    layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "pass": "0"})
    options = ET.SubElement(layer, "Option", type="Map")
    width = f"{style.weight * 0.26:.2f}"  # px at 96 dpi → mm
    if kind == "line":
        _option(options, "line_color", rgba(stroke, style.opacity))
        _option(options, "line_width", width)
        _option(options, "line_width_unit", "MM")
    elif kind == "fill":
        _option(options, "color", rgba(fill or "#000000", style.fill_opacity if fill else 0))
        _option(options, "style", "solid" if fill else "no")
        _option(options, "outline_color", rgba(stroke, style.opacity))
        _option(options, "outline_width", width)
        _option(options, "outline_width_unit", "MM")
        if style.dash:
            _option(options, "outline_style", "dash")
    else:
        _option(options, "color", rgba(fill or style.stroke))
        _option(options, "outline_color", rgba(style.stroke))
        _option(options, "size", f"{style.radius * 0.5:.1f}")
    return symbol


def qml(spec: LayerSpec) -> str:
    """A QGIS style (QML): categorized by ``style.by`` when set, else a single symbol."""
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    style = spec.style
    if style.by:
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            type="categorizedSymbol",
            attr=style.by,
            symbollevels="0",
            enableorderby="0",
            forceraster="0",
        )
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for i, cat in enumerate(style.categories):
            ET.SubElement(
                categories,
                "category",
                value=cat.value,
                symbol=str(i),
                label=f"{cat.label_zh} {cat.label_en}",
                render="true",
            )
            symbols.append(_symbol(spec, str(i), cat.value))
    else:
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            type="singleSymbol",
            symbollevels="0",
            enableorderby="0",
            forceraster="0",
        )
        ET.SubElement(renderer, "symbols").append(_symbol(spec, "0", None))
    labeling = ET.SubElement(root, "layerGeometryType")
    labeling.text = {"point": "0", "line": "1", "polygon": "2"}[spec.geometry_type]
    body = ET.tostring(root, encoding="unicode")
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n{body}\n"
