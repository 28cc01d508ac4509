"""Vector tiles: ``/tiles/{layer}/{z}/{x}/{y}.mvt`` (MVT from PostGIS) and TileJSON.

An empty tile is answered ``204 No Content`` (no body); tiles carry a strong ``ETag``
(``If-None-Match`` → 304), ``Cache-Control: public, max-age=…`` and ``X-Tile-Cache:
hit|miss``. Coordinates out of range are a 400 problem+json.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from api.deps import SessionDep
from api.openapi_examples import TILEJSON, LayerId, file_ok, json_ok, param_examples
from layers.features import collection_extent, get_collection
from layers.tiles import MAX_ZOOM, cached_tile, check_tile, get_tile_settings, render_tile

__all__ = ["MVT", "router"]

MVT = "application/vnd.mapbox-vector-tile"

router = APIRouter(prefix="/tiles", tags=["tiles"])

# tile 13/6082/2979 holds the grids of street 652301001000
Z = Annotated[str, Path(description="Zoom, 0–24", openapi_examples=param_examples(z13="13"))]
X = Annotated[
    str, Path(description="Column, 0 … 2^z − 1", openapi_examples=param_examples(x="6082"))
]
Y = Annotated[
    str,
    Path(description="Row from the north, 0 … 2^z − 1", openapi_examples=param_examples(y="2979")),
]


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/{layer_id}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={
        **file_ok(
            "A Mapbox Vector Tile",
            {MVT: ("Grids of street 652301001000 at zoom 13", "/tiles/grids/13/6082/2979.mvt")},
        ),
        204: {"description": "An empty tile"},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
def tile(layer_id: LayerId, z: Z, x: X, y: Y, request: Request, session: SessionDep) -> Response:
    """The layer's tile z/x/y (web mercator, XYZ scheme: y = 0 at the north)."""
    spec, _ = get_collection(layer_id)
    zi, xi, yi = check_tile(z, x, y)
    found, hit = cached_tile(lambda: render_tile(session, spec.id, zi, xi, yi), spec.id, zi, xi, yi)
    headers = {
        "ETag": found.etag,
        "Cache-Control": f"public, max-age={get_tile_settings().max_age}",
        "X-Tile-Cache": "hit" if hit else "miss",
    }
    if _matches(request.headers.get("if-none-match"), found.etag):
        return Response(status_code=304, headers=headers)
    if not found.data:
        return Response(status_code=204, headers=headers)
    return Response(content=found.data, media_type=MVT, headers=headers)


@router.get("/{layer_id}.json", responses=json_ok(TILEJSON, "TileJSON 3.0"))
def tilejson(layer_id: LayerId, request: Request, session: SessionDep) -> JSONResponse:
    """TileJSON 3.0 of the layer's vector tiles (bounds from its live features)."""
    spec, source = get_collection(layer_id)
    extent = collection_extent(session, spec.id)
    bounds = list(extent.bbox) if extent.bbox else [-180.0, -85.0511, 180.0, 85.0511]
    labels = {p.property: f"{p.label_zh} {p.label_en}" for p in spec.popup}
    base = str(request.base_url).rstrip("/")
    max_zoom = min(spec.max_zoom, MAX_ZOOM)
    document = {
        "tilejson": "3.0.0",
        "name": spec.title,
        "description": spec.description or spec.title_en,
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{spec.id}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": spec.min_zoom,
        "maxzoom": max_zoom,
        "bounds": bounds,
        "center": [
            (bounds[0] + bounds[2]) / 2,
            (bounds[1] + bounds[3]) / 2,
            max(spec.min_zoom, min(12, max_zoom)),
        ],
        "vector_layers": [
            {
                "id": spec.id,
                "description": spec.title,
                "minzoom": spec.min_zoom,
                "maxzoom": max_zoom,
                "fields": {name: labels.get(name, name) for name, _ in source.columns},
            }
        ],
    }
    return JSONResponse(document)
