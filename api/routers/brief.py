"""``GET /brief/{region}.pdf`` and ``.png``: a region's briefing as a download."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import EngineDep
from api.openapi_examples import STREET, Region, file_ok, param_examples
from gis.brief import gather, render_pdf, render_png

__all__ = ["router"]

router = APIRouter(prefix="/brief", tags=["briefings"])


class Paper(StrEnum):
    A4 = "A4"
    A3 = "A3"


PaperQuery = Annotated[Paper, Query(openapi_examples=param_examples(a3=("A3 paper", "A3")))]


@router.get(
    "/{region}.pdf",
    response_class=Response,
    responses=file_ok(
        "The briefing",
        {"application/pdf": (f"Briefing of street {STREET}", f"/brief/{STREET}.pdf")},
    ),
)
def brief_pdf(
    region: Region,
    engine: EngineDep,
    paper: PaperQuery = Paper.A4,
    per_community: Annotated[
        bool,
        Query(
            alias="per-community",
            openapi_examples=param_examples(pages=("A page per community", True)),
        ),
    ] = False,
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
    responses=file_ok(
        "Page 1 of the briefing",
        {"image/png": (f"Page 1 of the briefing of street {STREET}", f"/brief/{STREET}.png")},
    ),
)
def brief_png(region: Region, engine: EngineDep, paper: PaperQuery = Paper.A4) -> Response:
    """The first page of the region's briefing (map and key figures) as a PNG."""
    data = gather(engine, region)
    return Response(render_png(data, paper=paper.value), media_type="image/png")
