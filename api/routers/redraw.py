"""The Redraw pages: ``/map/plans`` (the plans, each linked to its page) and
``/map/plans/{plan_id}`` (a plan's draft grids, editable in the browser).

The page itself only reads; every edit it makes goes to ``/plans/{id}/…`` with the
planner's token (see :mod:`layers.redraw`).
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

import gis
from api.deps import SessionDep
from api.openapi_examples import PlanPageId
from api.routers.pages import _templates
from gis.edit.plans import get_plan, list_plans
from gis.errors import NotFound
from layers.redraw import plan_page_path, render_plan_page

__all__ = ["router"]

router = APIRouter(tags=["pages"])


@router.get("/map/plans", response_class=HTMLResponse)
def plans_page(session: SessionDep) -> HTMLResponse:
    """Every plan (drafts first), each linked to its Redraw page."""
    plans = sorted(list_plans(session.connection()), key=lambda p: (p.status != "draft", -p.id))
    html = _templates.get_template("plans.html").render(
        plans=[(p, plan_page_path(p.id)) for p in plans], version=gis.__version__
    )
    return HTMLResponse(html)


@router.get(
    "/map/plans/{plan_id}",
    response_class=HTMLResponse,
    responses={404: {"content": {"text/html": {}}, "description": "No such plan"}},
)
def plan_page(plan_id: PlanPageId, session: SessionDep) -> HTMLResponse:
    """The Redraw page of a plan: its draft grids, validation, diff and publish button."""
    try:  # a plan id is a bigint: anything else names no plan
        plan = (
            get_plan(session.connection(), int(plan_id))
            if re.fullmatch(r"[0-9]{1,18}", plan_id)
            else None
        )
    except NotFound:
        plan = None
    if plan is None:
        html = _templates.get_template("not_found.html").render(
            what=plan_id, kind="plan", version=gis.__version__
        )
        return HTMLResponse(html, status_code=404)
    return HTMLResponse(render_plan_page(session, plan))
