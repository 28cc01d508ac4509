"""``/plans``: draft redraws — create, edit, validate, diff, publish, discard.

Each request is one transaction. A plan's version is its ETag; writes take ``If-Match``
and answer 412 when the plan changed since it was read, so no update is lost.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, text

import shapely
from shapely.geometry import shape

from api.auth import WriterDep, check_plan_scope, check_scope
from api.deps import EngineDep
from api.openapi_examples import (
    BODIES,
    DIFF,
    PLAN_GRIDS,
    VALIDATION,
    IfMatch,
    PlanId,
    json_ok,
    param_examples,
    plan,
)
from gis.edit.assign import move_assignment
from gis.edit.edits import merge_grids, reshape_grid, split_grid
from gis.edit.plans import PlanInfo, create_plan, discard_plan, get_plan, list_plans
from gis.edit.publish import PlanDiff, diff_plan, publish_plan, validate_plan
from gis.edit.structure import carve_grid, move_building, renumber_grids, retire_grid
from gis.errors import InvalidGeometry, InvalidParameter
from layers.tiles import invalidate_tiles

__all__ = ["router"]

router = APIRouter(prefix="/plans", tags=["plans"])
ACTOR = "api"


class PlanOut(BaseModel):
    id: int
    name: str
    author: str
    status: str
    community_codes: list[str]
    version: int
    created_at: datetime
    published_at: datetime | None
    note: str | None
    grids: int


class NewPlan(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["new_plan"]]})

    # 12-digit codes: anything else (a NUL, a lone surrogate) made PostgreSQL fail with 500
    communities: list[Annotated[str, Field(pattern=r"^[0-9]{12}$")]] = Field(
        min_length=1, examples=[["652301001001"]]
    )
    name: str = ""
    author: str = Field(default=ACTOR, description="Ignored: the author is the token's name")
    note: str | None = None
    as_of: datetime | None = Field(default=None, description="Start from the grids of a date")


class Split(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["split"]]})

    grid: str
    line: dict[str, Any] = Field(description="GeoJSON LineString (lon/lat) across the grid")


class Merge(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["merge"]]})

    grids: list[str] = Field(min_length=2)


class Reshape(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["reshape"]]})

    grid: str
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon (lon/lat): the new outline")
    give_to: str | None = None
    clip: bool = False


class Publish(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["publish"]]})

    force_reason: str | None = Field(default=None, description="Publish despite errors, why")


def _version(if_match: str | None, plan_id: int) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    found = re.fullmatch(rf'\s*(?:W/)?"?plan-{plan_id}-v(\d+)"?\s*', if_match)
    if not found:
        raise InvalidParameter(f'If-Match {if_match!r}: expected "plan-{plan_id}-v<version>"')
    return int(found.group(1))


def _out(plan: PlanInfo, response: Response) -> PlanOut:
    response.headers["ETag"] = plan.etag
    return PlanOut(**plan.__dict__)


def _geometry(data: dict[str, Any], what: str) -> shapely.Geometry:
    try:
        return shape(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidGeometry(f"{what}: not a GeoJSON geometry ({exc})") from None


@router.post(
    "", status_code=201, response_model=PlanOut, responses=json_ok(plan(), "The new draft", 201)
)
def create(body: NewPlan, engine: EngineDep, response: Response, caller: WriterDep) -> PlanOut:
    """A draft of the given communities, copied from their live grids (or ``as_of``).
    The author is the token's name."""
    check_scope(caller, body.communities, "new plan")
    with engine.begin() as conn:
        plan = create_plan(conn, body.communities, caller.name, body.name, body.note, body.as_of)
    return _out(plan, response)


@router.get("", response_model=list[PlanOut], responses=json_ok([plan()], "The plans"))
def index(
    engine: EngineDep,
    status: Annotated[
        str | None, Query(openapi_examples=param_examples(drafts=("Drafts only", "draft")))
    ] = None,
) -> list[PlanOut]:
    with engine.connect() as conn:
        return [PlanOut(**p.__dict__) for p in list_plans(conn, status)]


@router.get("/{plan_id}", response_model=PlanOut, responses=json_ok(plan(2), "The plan"))
def read(plan_id: PlanId, engine: EngineDep, response: Response) -> PlanOut:
    with engine.connect() as conn:
        return _out(get_plan(conn, plan_id), response)


@router.get(
    "/{plan_id}/grids",
    response_class=Response,
    responses=json_ok(PLAN_GRIDS, "The draft's grids", media="application/geo+json"),
)
def grids(plan_id: PlanId, engine: EngineDep) -> Response:
    """The draft's grids as a GeoJSON FeatureCollection."""
    with engine.connect() as conn:
        get_plan(conn, plan_id)
        body = conn.execute(
            text("""
            SELECT json_build_object('type', 'FeatureCollection', 'features',
                coalesce(json_agg(json_build_object('type', 'Feature', 'id', code,
                    'geometry', ST_AsGeoJSON(geom, 7)::json,
                    'properties', json_build_object('code', code, 'name', name, 'kind', kind,
                        'community_code', community_code, 'households', households,
                        'population', population)) ORDER BY code), '[]'::json))
            FROM plan_grid WHERE plan_id = :p"""),
            {"p": plan_id},
        ).scalar_one()
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json")


def _edit(engine: EngineDep, plan_id: PlanId, response: Response, action: Any) -> PlanOut:
    with engine.begin() as conn:
        action(conn)
        plan = get_plan(conn, plan_id)
    return _out(plan, response)


@router.post("/{plan_id}/split", response_model=PlanOut, responses=json_ok(plan(2, grids=9)))
def split(
    plan_id: PlanId,
    body: Split,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """Split a grid along a line; the largest part keeps the code."""
    line = _geometry(body.line, f"split of grid {body.grid}")
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)

    def act(conn: Connection) -> None:
        split_grid(conn, plan_id, body.grid, line, caller.name, expected)

    return _edit(engine, plan_id, response, act)


@router.post("/{plan_id}/merge", response_model=PlanOut, responses=json_ok(plan(3, grids=7)))
def merge(
    plan_id: PlanId,
    body: Merge,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """Merge adjacent grids of one community into the lowest code."""
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    return _edit(
        engine,
        plan_id,
        response,
        lambda conn: merge_grids(conn, plan_id, body.grids, caller.name, expected),
    )


@router.post("/{plan_id}/reshape", response_model=PlanOut, responses=json_ok(plan(2)))
def reshape(
    plan_id: PlanId,
    body: Reshape,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """Redraw a grid; neighbours give and take the difference."""
    geometry = _geometry(body.geometry, f"reshape of grid {body.grid}")
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    return _edit(
        engine,
        plan_id,
        response,
        lambda conn: reshape_grid(
            conn, plan_id, body.grid, geometry, caller.name, body.give_to, body.clip, expected
        ),
    )


@router.post("/{plan_id}/validate", responses=json_ok(VALIDATION, "The draft's audit"))
def validate(plan_id: PlanId, engine: EngineDep, caller: WriterDep) -> dict[str, Any]:
    """The audit of the draft: the drawing rules of the default profile."""
    check_plan_scope(engine, caller, plan_id)
    with engine.connect() as conn, conn.begin():
        found = validate_plan(conn, plan_id)
        conn.rollback()
    errors = sum(v.severity == "error" for v in found)
    return {
        "plan": plan_id,
        "errors": errors,
        "warnings": len(found) - errors,
        "violations": [v.model_dump(exclude={"geometry"}) for v in found],
    }


@router.get("/{plan_id}/diff", response_model=PlanDiff, responses=json_ok(DIFF, "Draft vs live"))
def diff(plan_id: PlanId, engine: EngineDep) -> PlanDiff:
    with engine.connect() as conn:
        return diff_plan(conn, plan_id)


@router.post(
    "/{plan_id}/publish",
    response_model=PlanOut,
    responses=json_ok(
        plan(4, "published", published_at="2025-03-06T15:40:02.117503+08:00"), "Published"
    ),
)
def publish(
    plan_id: PlanId,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    body: Publish | None = None,
    if_match: IfMatch = None,
) -> PlanOut:
    """Replace the live grids at once; 409 if they changed since the plan was made."""
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    reason = body.force_reason if body else None
    with engine.begin() as conn:
        plan = publish_plan(conn, plan_id, caller.name, expected, reason)
    invalidate_tiles()
    return _out(plan, response)


@router.delete("/{plan_id}", response_model=PlanOut, responses=json_ok(plan(3, "discarded")))
def discard(
    plan_id: PlanId,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    with engine.begin() as conn:
        plan = discard_plan(conn, plan_id, caller.name, expected)
    return _out(plan, response)


class Carve(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["carve"]]})

    community: str
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon (lon/lat) of the new grid")
    kind: str = Field(default="unit", description="unit or organization")
    name: str = ""


class Retire(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["retire"]]})

    grid: str
    give_to: str | None = None


class Renumber(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["renumber"]]})

    community: str


class MoveBuilding(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["move_building"]]})

    building: int
    to_grid: str


@router.post("/{plan_id}/carve", response_model=PlanOut, responses=json_ok(plan(2, grids=9)))
def carve(
    plan_id: PlanId,
    body: Carve,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """Cut a unit or organization grid out of geographic grids."""
    geometry = _geometry(body.geometry, f"carve in {body.community}")
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    return _edit(
        engine,
        plan_id,
        response,
        lambda conn: carve_grid(
            conn, plan_id, body.community, geometry, body.kind, body.name, caller.name, expected
        ),
    )


@router.post("/{plan_id}/retire", response_model=PlanOut, responses=json_ok(plan(2, grids=7)))
def retire(
    plan_id: PlanId,
    body: Retire,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """Retire a grid; its land goes to a neighbour; its code is never reused."""
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    return _edit(
        engine,
        plan_id,
        response,
        lambda conn: retire_grid(conn, plan_id, body.grid, caller.name, body.give_to, expected),
    )


@router.post("/{plan_id}/renumber", response_model=PlanOut, responses=json_ok(plan(2)))
def renumber(
    plan_id: PlanId,
    body: Renumber,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """New codes in reading order (west→east, north→south)."""
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    return _edit(
        engine,
        plan_id,
        response,
        lambda conn: renumber_grids(conn, plan_id, body.community, caller.name, expected),
    )


@router.post("/{plan_id}/move-building", response_model=PlanOut, responses=json_ok(plan(2)))
def move(
    plan_id: PlanId,
    body: MoveBuilding,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """Move a building (and the land under it) to a neighbouring grid."""
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    return _edit(
        engine,
        plan_id,
        response,
        lambda conn: move_building(
            conn, plan_id, body.building, body.to_grid, caller.name, expected
        ),
    )


class MoveAssignment(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["move"]]})

    entity: str = Field(description="organization or police_post")
    key: str = Field(description="the organization's id or the post's code")
    to_grid: str


@router.post("/{plan_id}/move", response_model=PlanOut, responses=json_ok(plan(2)))
def move_assigned(
    plan_id: PlanId,
    body: MoveAssignment,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
    if_match: IfMatch = None,
) -> PlanOut:
    """Move an organization or a police post to another grid of its community."""
    expected = _version(if_match, plan_id)
    check_plan_scope(engine, caller, plan_id)
    return _edit(
        engine,
        plan_id,
        response,
        lambda conn: move_assignment(
            conn, plan_id, body.entity, body.key, body.to_grid, caller.name, expected
        ),
    )
