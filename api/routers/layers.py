"""``GET /layers/{id}.geojson``: a catalogue layer as an RFC 7946 FeatureCollection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep
from api.openapi_examples import LAYER, LayerId, json_ok, param_examples
from layers.catalogue import get_layer
from layers.queries import feature_collection, parse_bbox

__all__ = ["GEOJSON", "router"]

GEOJSON = "application/geo+json"

router = APIRouter(tags=["layers"])


@router.get(
    "/layers/{layer_id}.geojson",
    response_class=Response,
    responses=json_ok(LAYER, "A FeatureCollection", media=GEOJSON),
)
def layer_geojson(
    layer_id: LayerId,
    session: SessionDep,
    bbox: Annotated[
        str | None,
        Query(
            description="minx,miny,maxx,maxy in degrees (EPSG:4326)",
            openapi_examples=param_examples(street=("Around 西街社区", "87.29,43.98,87.31,44.02")),
        ),
    ] = None,
) -> Response:
    """The layer's features intersecting ``bbox`` (all of them without one)."""
    spec = get_layer(layer_id)
    body = feature_collection(session, spec, parse_bbox(bbox))
    return Response(content=body, media_type=GEOJSON)
