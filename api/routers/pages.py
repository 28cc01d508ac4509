"""HTML pages: the index of maps (``/``) and each map (``/map``…)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

import gis
from api.deps import SessionDep
from layers.catalogue import get_layer
from layers.maps import MAPS, PREFECTURE_MAP, render_page

__all__ = ["router"]

router = APIRouter(tags=["pages"])

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    """The list of maps, each with its layers."""
    maps = [(page, [get_layer(i) for i in page.layer_ids]) for page in MAPS.values()]
    html = _templates.get_template("index.html").render(maps=maps, version=gis.__version__)
    return HTMLResponse(html)


@router.get("/map", response_class=HTMLResponse)
def prefecture_map(session: SessionDep) -> HTMLResponse:
    """The prefecture map: roads, grids by kind, communities, streets, police posts."""
    return HTMLResponse(render_page(session, PREFECTURE_MAP))
