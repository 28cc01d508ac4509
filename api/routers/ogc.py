"""OGC API – Features Part 1 under ``/ogc`` (conformance: core, geojson, oas30, html).

Every catalogue layer with a source is a collection. Query parameters are read from the
request and checked by ``layers.params`` (an unknown or malformed one is a 400
problem+json); they are documented in the OpenAPI through ``openapi_extra``.

The API definition the landing page links to (``service-desc``) is ``/ogc/api``: the
app's OpenAPI document as OpenAPI 3.0 (conformance class oas30); ``/openapi.json`` keeps
FastAPI's 3.1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import SessionDep
from api.ogc_documents import (
    CONFORMANCE,
    GEOJSON,
    HTML,
    JSON,
    OPENAPI,
    collection_document,
    html_page,
    items_document,
    link,
    page_links,
    url,
)
from api.openapi30 import to_openapi30
from api.openapi_examples import (
    API_DEFINITION,
    COLLECTION,
    COLLECTIONS,
    ITEM,
    ITEMS,
    LANDING,
    CollectionId,
    FeatureId,
    ogc_ok,
    param_examples,
)
from api.openapi_examples import CONFORMANCE as CONFORMANCE_EXAMPLE
from gis.errors import InvalidParameter
from layers.features import collection_extent, collections, get_collection, item, items
from layers.params import DEFAULT_LIMIT, MAX_LIMIT, check_parameters, parse_items_query

__all__ = ["router"]

router = APIRouter(prefix="/ogc", tags=["ogc"])


def _param(name: str, schema: dict[str, Any], description: str, **examples: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        "style": "form",
        "explode": False,
        "examples": param_examples(**examples),
    }


_F = _param(
    "f", {"type": "string", "enum": ["json", "html"]}, "Response format", html=("HTML", "html")
)
_F_JSON = _param("f", {"type": "string", "enum": ["json"]}, "Response format", json="json")
_BBOX = {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
_ITEMS_PARAMETERS = [
    _F,
    _param(
        "bbox",
        _BBOX,
        "minx,miny,maxx,maxy in CRS84 (longitude, latitude)",
        community=("Around 西街社区", [87.292, 44.005, 87.307, 44.012]),
    ),
    _param(
        "limit",
        _LIMIT,
        f"Features per page; larger values are clamped to {MAX_LIMIT}",
        page=("10 a page", 10),
    ),
    _param(
        "offset",
        {"type": "integer", "minimum": 0, "default": 0},
        "Features skipped",
        second=("The second page of 10", 10),
    ),
    _param(
        "datetime",
        {"type": "string"},
        "Grids: an instant or interval (RFC 3339, '..' open); default: the live grids",
        instant=("The grids valid on 1 March 2024", "2024-03-01T00:00:00Z"),
        interval=("Valid at some time since 2024", "2024-01-01T00:00:00Z/.."),
    ),
]


def _format(request: Request, allowed: tuple[str, ...] | None = ("f",)) -> str:
    """``json`` or ``html``: from ``f``, else from the Accept header. Parameters outside
    ``allowed`` are a 400 (``None``: the caller checked them)."""
    if allowed is not None:
        check_parameters(request.query_params.keys(), allowed)
    f = request.query_params.get("f")
    if f is None:
        accept = request.headers.get("accept", "")
        return "html" if "text/html" in accept and "json" not in accept else "json"
    if f not in ("json", "html"):
        raise InvalidParameter(f"f={f!r}: use f=json or f=html")
    return f


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _answer(fmt: str, document: dict[str, Any], media_type: str = JSON) -> Response:
    if fmt == "html":
        title = document.get("title", "gridgov OGC API")
        return HTMLResponse(html_page(title, document.get("description", ""), document["links"]))
    return JSONResponse(document, media_type=media_type)


@router.get(
    "",
    response_class=Response,
    openapi_extra={"parameters": [_F]},
    responses=ogc_ok(LANDING, "The landing page"),
)
def landing(request: Request) -> Response:
    """The landing page: links to the API definition, conformance and collections."""
    fmt, base = _format(request), _base(request)
    return _answer(
        fmt,
        {
            "title": "gridgov OGC API",
            "description": "Grids, regions, police posts, roads, organizations and "
            "buildings as OGC API – Features collections, and as vector tiles.",
            "links": [
                link(url(base, "/ogc"), "self", JSON, "This document"),
                link(url(base, "/ogc", [("f", "html")]), "alternate", HTML, "This page as HTML"),
                link(url(base, "/ogc/api"), "service-desc", OPENAPI, "The API definition"),
                link(url(base, "/ogc/conformance"), "conformance", JSON, "Conformance classes"),
                link(url(base, "/ogc/collections"), "data", JSON, "The collections"),
            ],
        },
    )


@router.get(
    "/api",
    response_class=Response,
    openapi_extra={"parameters": [_F_JSON]},
    responses={
        200: {
            "description": "This API's OpenAPI 3.0 definition",
            "content": {OPENAPI: {"schema": {"type": "object"}, "example": API_DEFINITION}},
        }
    },
)
def api_definition(request: Request) -> Response:
    """The API definition as OpenAPI 3.0 (conformance class oas30); ``/openapi.json`` is
    the same API in OpenAPI 3.1."""
    check_parameters(request.query_params.keys(), ("f",))
    f = request.query_params.get("f", "json")
    if f != "json":
        raise InvalidParameter(f"f={f!r}: the API definition is JSON only (f=json)")
    return JSONResponse(_openapi30(request.app), media_type=OPENAPI)


def _openapi30(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document as 3.0, converted once per app."""
    document: dict[str, Any] | None = getattr(app.state, "openapi30", None)
    if document is None:
        document = app.state.openapi30 = to_openapi30(app.openapi())
    return document


@router.get(
    "/conformance",
    response_class=Response,
    openapi_extra={"parameters": [_F]},
    responses=ogc_ok(CONFORMANCE_EXAMPLE, "The conformance classes"),
)
def conformance(request: Request) -> Response:
    """The conformance classes implemented."""
    fmt, base = _format(request), _base(request)
    links = [link(url(base, "/ogc/conformance"), "self", JSON, "This document")]
    if fmt == "html":
        rows = [[c] for c in CONFORMANCE]
        return HTMLResponse(html_page("Conformance", "", links, ["conformsTo"], rows))
    return JSONResponse({"conformsTo": list(CONFORMANCE), "links": links})


@router.get(
    "/collections",
    response_class=Response,
    openapi_extra={"parameters": [_F]},
    responses=ogc_ok(COLLECTIONS, "The collections"),
)
def list_collections(request: Request, session: SessionDep) -> Response:
    """Every collection with its extent."""
    fmt, base = _format(request), _base(request)
    described = [
        collection_document(base, spec, collection_extent(session, spec.id))
        for spec in collections()
    ]
    links = [
        link(url(base, "/ogc/collections"), "self", JSON, "This document"),
        link(url(base, "/ogc/collections", [("f", "html")]), "alternate", HTML, "As HTML"),
    ]
    if fmt == "html":
        rows = [[d["id"], d["title"], d["description"]] for d in described]
        links += [d["links"][3] for d in described]
        return HTMLResponse(
            html_page("Collections", "", links, ["id", "title", "description"], rows)
        )
    return JSONResponse({"collections": described, "links": links})


@router.get(
    "/collections/{collection_id}",
    response_class=Response,
    openapi_extra={"parameters": [_F]},
    responses=ogc_ok(COLLECTION, "The collection"),
)
def describe_collection(
    collection_id: CollectionId, request: Request, session: SessionDep
) -> Response:
    """One collection: title, links, extent."""
    fmt = _format(request)
    spec, _ = get_collection(collection_id)
    document = collection_document(_base(request), spec, collection_extent(session, spec.id))
    return _answer(fmt, document)


@router.get(
    "/collections/{collection_id}/items",
    response_class=Response,
    openapi_extra={"parameters": _ITEMS_PARAMETERS},
    responses=ogc_ok(ITEMS, "A FeatureCollection", GEOJSON),
)
def collection_items(
    collection_id: CollectionId, request: Request, session: SessionDep
) -> Response:
    """Features, paged with ``limit``/``offset`` (``next``/``prev`` links), filtered by
    ``bbox``, ``datetime`` and the collection's properties (e.g. ``kind=unit``)."""
    spec, source = get_collection(collection_id)
    params = request.query_params.multi_items()
    query = parse_items_query(params, spec.filterable)
    fmt = _format(request, allowed=None)
    page = items(session, spec.id, query)
    base, path = _base(request), f"/ogc/collections/{spec.id}/items"
    links = page_links(base, path, params, query, page, HTML if fmt == "html" else GEOJSON)
    if fmt == "html":
        features = json.loads(page.features)
        columns = ["id", *(name for name, _ in source.columns)]
        rows = [[f["id"], *(f["properties"].get(c) for c in columns[1:])] for f in features]
        summary = f"{page.number_returned} of {page.number_matched} features"
        return HTMLResponse(html_page(spec.title, summary, links, columns, rows))
    body = items_document(page, links, datetime.now(UTC))
    return Response(content=body, media_type=GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_class=Response,
    openapi_extra={"parameters": [_F]},
    responses=ogc_ok(ITEM, "A Feature", GEOJSON),
)
def collection_item(
    collection_id: CollectionId, feature_id: FeatureId, request: Request, session: SessionDep
) -> Response:
    """One feature by id (a grid by its code: the live version)."""
    fmt = _format(request)
    spec, _ = get_collection(collection_id)
    feature = json.loads(item(session, spec.id, feature_id))
    base, path = _base(request), f"/ogc/collections/{spec.id}/items/{feature_id}"
    feature["links"] = [
        link(url(base, path), "self", GEOJSON, "This feature"),
        link(url(base, path, [("f", "html")]), "alternate", HTML, "This feature as HTML"),
        link(url(base, f"/ogc/collections/{spec.id}"), "collection", JSON, "The collection"),
    ]
    if fmt == "html":
        rows = [[k, v] for k, v in feature["properties"].items()]
        title = f"{spec.title} {feature_id}"
        return HTMLResponse(html_page(title, "", feature["links"], ["property", "value"], rows))
    return JSONResponse(feature, media_type=GEOJSON)
