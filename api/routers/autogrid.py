"""``/autogrid``: draw a community's geographic grids automatically into a new draft plan.

Thin: the partition lives in :mod:`gis.autogrid`. Planner (or admin) tokens only, inside
their scope; the plan's author and the change log name the token. One transaction: bad
input (no such community, no buildings) leaves no plan behind.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.auth import WriterDep, check_scope
from api.deps import EngineDep
from api.openapi_examples import AUTOGRID, BODIES, json_ok, param_examples
from api.routers.plans import PlanOut
from gis.autogrid import autogrid
from layers.redraw import plan_page_path

__all__ = ["router"]

router = APIRouter(prefix="/autogrid", tags=["autogrid"])
DEFAULT_TARGET = 400.0
Community = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{12}$",
        description="12-digit community code",
        openapi_examples=param_examples(community=("Community 652301005002", "652301005002")),
    ),
]


class AutogridRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BODIES["autogrid"]]})

    target: float | None = Field(
        default=None,
        gt=0,
        le=1e9,
        description=f"Households per grid (default {DEFAULT_TARGET:g}); or give `grids`",
    )
    grids: int | None = Field(default=None, ge=1, le=1000, description="Number of grids")
    lock: list[Literal["unit", "organization"]] = Field(
        default=["unit", "organization"], description="Grid kinds kept as they are"
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Same seed, same grids")
    name: str = Field(default="", max_length=200, description="Plan name")

    @field_validator("name")
    @classmethod
    def _storable(cls, value: str) -> str:
        # PostgreSQL text holds neither NUL nor lone surrogates
        if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ValueError("name: NUL characters and lone surrogates cannot be stored")
        return value

    @model_validator(mode="after")
    def _one_goal(self) -> Self:
        if self.target is not None and self.grids is not None:
            raise ValueError("give either target (households per grid) or grids, not both")
        return self


class MetricsOut(BaseModel):
    parts: int
    households: list[int]
    max_deviation: float = Field(description="max |households − target| / target")
    max_deviation_ideal: float = Field(description="the same against total / parts")
    cv: float = Field(description="coefficient of variation of households")
    pp_mean: float = Field(description="mean Polsby–Popper (4πA/P²)")
    pp_min: float
    contiguous: bool


class AutogridOut(BaseModel):
    plan: PlanOut
    community: str
    target: float
    grids: list[str] = Field(description="Codes of the new grids, west→east, north→south")
    kept: list[str] = Field(description="Codes of the locked grids, unchanged")
    metrics: MetricsOut
    atoms: int
    buildings: int
    buildings_split: int
    seconds: float
    warnings: list[str]
    redraw_page: str = Field(description="The plan's Redraw page, to review and edit it")


@router.post(
    "/{community}",
    status_code=201,
    response_model=AutogridOut,
    responses=json_ok(AUTOGRID, "The new draft plan, its grids and metrics", status=201),
)
def create(
    community: Community,
    body: AutogridRequest,
    engine: EngineDep,
    response: Response,
    caller: WriterDep,
) -> AutogridOut:
    """A new draft plan of the community whose geographic grids are redrawn: balanced
    households, contiguous, compact, no building split; locked kinds kept. Review it with
    ``/plans/{id}/diff``; nothing is published."""
    check_scope(caller, [community], "autogrid")
    target = DEFAULT_TARGET if body.target is None and body.grids is None else body.target
    with engine.begin() as conn:
        r = autogrid(
            conn,
            community,
            target=target,
            n_grids=body.grids,
            lock=tuple(body.lock),
            seed=body.seed,
            author=caller.name,
            name=body.name,
        )
    response.headers["ETag"] = r.plan.etag
    response.headers["Location"] = f"/plans/{r.plan.id}"
    return AutogridOut(
        plan=PlanOut(**r.plan.__dict__),
        community=r.community,
        target=r.target,
        grids=r.codes,
        kept=r.kept,
        metrics=MetricsOut(**r.metrics.__dict__),
        atoms=r.atoms,
        buildings=r.buildings,
        buildings_split=r.buildings_split,
        seconds=r.seconds,
        warnings=r.warnings,
        redraw_page=plan_page_path(r.plan.id),
    )
