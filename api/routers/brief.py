"""``GET /brief/{region}.pdf`` and ``.png``: a region's briefing as a download."""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, Query, Response

from api.deps import EngineDep
from gis.brief import gather, render_pdf, render_png

__all__ = ["router"]

router = APIRouter(prefix="/brief", tags=["briefings"])


class Paper(StrEnum):
    A4 = "A4"
    A3 = "A3"


@router.get(
    "/{region}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The briefing"}},
)
def brief_pdf(
    region: str,
    engine: EngineDep,
    paper: Paper = Paper.A4,
    per_community: bool = Query(False, alias="per-community"),
) -> Response:
    """The region's briefing: map, key figures, community table (and community pages)."""
    data = gather(engine, region)
    return Response(
        render_pdf(data, paper=paper.value, per_community=per_community),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="brief-{data.code}.pdf"'},
    )


@router.get(
    "/{region}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "Page 1 of the briefing"}},
)
def brief_png(region: str, engine: EngineDep, paper: Paper = Paper.A4) -> Response:
    """The first page of the region's briefing (map and key figures) as a PNG."""
    data = gather(engine, region)
    return Response(render_png(data, paper=paper.value), media_type="image/png")
