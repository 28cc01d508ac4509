"""The documents of OGC API – Features: links, collection descriptions, HTML pages.

Plain functions from data to dicts/strings; the router (``api/routers/ogc.py``) only
parses the request and picks the format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape

from layers.features import Extent, ItemsPage
from layers.params import ItemsQuery
from layers.spec import LayerSpec

__all__ = [
    "CONFORMANCE",
    "CRS84",
    "GEOJSON",
    "JSON",
    "OPENAPI",
    "collection_document",
    "html_page",
    "items_document",
    "link",
    "page_links",
]

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONFORMANCE = tuple(_CORE + c for c in ("core", "geojson", "oas30", "html"))

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def url(base: str, path: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """``base + path`` with the query ``params`` (in order)."""
    query = urlencode(list(params))
    return f"{base}{path}" + (f"?{query}" if query else "")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def collection_document(base: str, spec: LayerSpec, extent: Extent) -> dict[str, Any]:
    """``/ogc/collections/{id}``: title, links, CRS84 extent (and time span of versions)."""
    path = f"/ogc/collections/{spec.id}"
    document: dict[str, Any] = {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description or f"{spec.title_en} ({spec.title_zh})",
        "links": [
            link(url(base, path), "self", JSON, "This collection"),
            link(url(base, path, [("f", "html")]), "alternate", HTML, "This collection as HTML"),
            link(url(base, path + "/items"), "items", GEOJSON, f"{spec.title_en}: features"),
            link(url(base, path + "/items", [("f", "html")]), "items", HTML, "Features as HTML"),
            link(f"{base}/tiles/{spec.id}.json", "related", JSON, "Vector tiles (TileJSON)"),
        ],
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {},
    }
    if extent.bbox is not None:
        document["extent"]["spatial"] = {"bbox": [list(extent.bbox)], "crs": CRS84}
    if extent.interval is not None:
        start, end = extent.interval
        document["extent"]["temporal"] = {
            "interval": [[_iso(start), _iso(end)]],
            "trs": _GREGORIAN,
        }
    return document


def page_links(
    base: str,
    path: str,
    params: Sequence[tuple[str, str]],
    query: ItemsQuery,
    page: ItemsPage,
    media_type: str,
) -> list[dict[str, str]]:
    """self, alternate, next and prev of an items page; other parameters are kept."""
    kept = [(k, v) for k, v in params if k not in ("limit", "offset", "f")]
    html = media_type == HTML

    def at(offset: int, fmt: str | None = None) -> str:
        paging = [("limit", str(query.limit)), ("offset", str(offset))]
        return url(base, path, [*kept, *paging, *([("f", fmt)] if fmt else [])])

    fmt = "html" if html else None
    links = [
        link(at(query.offset, fmt), "self", media_type, "This page"),
        link(
            at(query.offset, None if html else "html"),
            "alternate",
            GEOJSON if html else HTML,
            "This page as " + ("GeoJSON" if html else "HTML"),
        ),
        link(url(base, path.removesuffix("/items")), "collection", JSON, "The collection"),
    ]
    if query.offset + page.number_returned < page.number_matched:
        links.append(link(at(query.offset + query.limit, fmt), "next", media_type, "Next page"))
    if query.offset > 0:
        prev = max(0, query.offset - query.limit)
        links.append(link(at(prev, fmt), "prev", media_type, "Previous page"))
    return links


def items_document(page: ItemsPage, links: list[dict[str, str]], stamp: datetime) -> str:
    """The FeatureCollection's text around the features PostGIS wrote."""
    head = {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
        "timeStamp": _iso(stamp),
        "links": links,
    }
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ' + page.features + "}"


def html_page(
    title: str,
    description: str,
    links: Sequence[Mapping[str, str]],
    columns: Sequence[str] = (),
    rows: Sequence[Sequence[Any]] = (),
) -> str:
    """A small HTML page: title, description, links, and an optional table."""
    return _templates.get_template("ogc.html").render(
        title=title, description=description, links=links, columns=columns, rows=rows
    )
