"""``/siting``: where police posts should stand (a report; nothing is written).

Thin: the cost matrix and the solvers live in :mod:`gis.siting`. The region-wide models
(p-median, MCLP) run HiGHS under a time limit capped at :data:`MAX_SECONDS`, so a request
always ends; a limit that stops the solver returns its best solution with its gap.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from api.deps import EngineDep
from api.openapi_examples import REGION_EXAMPLES, param_examples, siting_ok
from gis.siting.report import site_posts

__all__ = ["router"]

router = APIRouter(prefix="/siting", tags=["siting"])
MAX_SECONDS = 60.0
DEFAULT_SECONDS = 10.0
Region = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{12}$",
        description="12-digit region code",
        openapi_examples=REGION_EXAMPLES,
    ),
]


class Format(StrEnum):
    json = "json"
    geojson = "geojson"


@router.get(
    "/{region}",
    responses=siting_ok(),
)
def report(
    region: Region,
    engine: EngineDep,
    p: Annotated[
        int | None,
        Query(
            ge=1,
            le=10_000,
            description="Also choose p sites for the region",
            openapi_examples=param_examples(two=("Two posts", 2)),
        ),
    ] = None,
    radius: Annotated[
        float | None,
        Query(
            gt=0,
            le=1e6,
            description="Service radius (m): coverage, and MCLP; needs p",
            openapi_examples=param_examples(radius=("500 m", 500)),
        ),
    ] = None,
    time_limit: Annotated[
        float,
        Query(
            gt=0,
            le=MAX_SECONDS,
            description="Seconds for HiGHS per model; then its best",
            openapi_examples=param_examples(quick=("Ten seconds", 10)),
        ),
    ] = DEFAULT_SECONDS,
    candidates: Annotated[
        Literal["buildings", "posts", "both"],
        Query(
            description="Sites the p-median/MCLP choose from",
            openapi_examples=param_examples(posts=("The existing posts", "posts")),
        ),
    ] = "posts",
    distance: Annotated[
        Literal["straight", "road"],
        Query(
            description="Straight lines, or along the road network (pgRouting; straight "
            "where no road reaches, counted in the report's road summary)",
            openapi_examples=param_examples(road=("Along the roads", "road")),
        ),
    ] = "straight",
    format: Annotated[
        Format,
        Query(
            description="json (the report) or geojson (sites)",
            openapi_examples=param_examples(geojson=("The sites as points", "geojson")),
        ),
    ] = (Format.json),
) -> Response:
    """Per grid, the current post against the site minimising household-weighted distance
    (exact 1-median); with ``p``, the best p sites of the region (p-median, and MCLP with
    ``radius``), each with its optimality gap and whether the time limit stopped it."""
    found = site_posts(engine, region, p, radius, time_limit, candidates, distance)
    body: dict[str, Any] = found.to_geojson() if format is Format.geojson else found.to_dict()
    media = "application/geo+json" if format is Format.geojson else "application/json"
    return Response(json.dumps(body, ensure_ascii=False), media_type=media)
