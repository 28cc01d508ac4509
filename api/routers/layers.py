"""``GET /layers/{id}.geojson``: a catalogue layer as an RFC 7946 FeatureCollection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep
from layers.catalogue import get_layer
from layers.queries import feature_collection, parse_bbox

__all__ = ["GEOJSON", "router"]

GEOJSON = "application/geo+json"

router = APIRouter(tags=["layers"])


@router.get(
    "/layers/{layer_id}.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "A FeatureCollection"}},
)
def layer_geojson(
    layer_id: str,
    session: SessionDep,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in degrees (EPSG:4326)")
    ] = None,
) -> Response:
    """The layer's features intersecting ``bbox`` (all of them without one)."""
    spec = get_layer(layer_id)
    body = feature_collection(session, spec, parse_bbox(bbox))
    return Response(content=body, media_type=GEOJSON)
