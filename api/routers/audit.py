"""Read-only audit endpoints: ``/audit/{region}`` and its findings as GeoJSON layers."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine

from api.deps import EngineDep
from api.errors import problem
from api.openapi_examples import (
    AUDIT_SUMMARY,
    CHECK_EXAMPLES,
    CHILDREN_EXAMPLES,
    COMPLIANCE,
    FINDINGS,
    AsOfExamples,
    Region,
    json_ok,
)
from api.routers.tiles import _matches
from gis.audit.cache import AuditInProgress, audit_cache
from gis.audit.features import feature_collection
from gis.audit.profile import Profile, default_profile
from gis.audit.report import AuditReport, CommunityStats, RegionScore, RuleSummary
from gis.settings import get_settings
from layers.compliance import compliance_body, compliance_etag, layer_regions

__all__ = ["router"]

GEOJSON = "application/geo+json"
router = APIRouter(prefix="/audit", tags=["audit"])

#: finding layers: path → the profile rules behind them
LAYERS: dict[str, tuple[str, ...]] = {
    "blind-spots": ("blind_spots",),
    "overlaps": ("overlaps",),
    "spill": ("spill",),
    "police-posts": ("police_posts",),
    "workload": ("workload",),
    "staffing": ("staffing", "service_teams", "party_branches"),
    "buildings": ("buildings_split",),
    "organizations": ("organizations",),
    "geometry": ("geometry", "codes"),
}

AsOf = Annotated[
    datetime | None,
    Query(
        alias="as-of",
        description="Audit the grids as they were at this date (ISO 8601).",
        openapi_examples=AsOfExamples,
    ),
]


def _audit(engine: Engine, region: str, profile: Profile, as_of: datetime | None) -> AuditReport:
    """The audit from the cache (computed once per data version), waiting for it at most
    ``GRIDGOV_AUDIT_WAIT_S`` seconds: :class:`AuditInProgress` after that."""
    return audit_cache.get(engine, region, profile, as_of, wait_s=get_settings().audit.wait_s)


#: seconds a client is asked to wait before asking again for an audit being computed
RETRY_AFTER_S = 10


def busy(request: Request, exc: AuditInProgress) -> Response:
    """503 problem+json with ``Retry-After``: the audit is still being computed."""
    response = problem(request, 503, exc.title, exc.message)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


class AuditSummary(BaseModel):
    """Per-rule counts, the roll-up up the hierarchy and per-community statistics."""

    region: str
    region_name: str
    level: str
    as_of: datetime | None
    profile: str
    seconds: float
    errors: int
    warnings: int
    rules: list[RuleSummary]
    rollup: list[RegionScore]
    communities: list[CommunityStats]


@router.get("/{region}", response_model=AuditSummary, responses=json_ok(AUDIT_SUMMARY))
def audit_summary(
    request: Request, region: Region, engine: EngineDep, as_of: AsOf = None
) -> AuditSummary | Response:
    """The audit of a region (and everything under it) against the default profile;
    computed once per data version and reused (503 with Retry-After while it is being
    computed for longer than the server waits)."""
    try:
        report = _audit(engine, region, default_profile(), as_of)
    except AuditInProgress as exc:
        return busy(request, exc)
    return AuditSummary(
        **report.model_dump(
            include={
                "region",
                "region_name",
                "level",
                "as_of",
                "profile",
                "seconds",
                "rules",
                "rollup",
                "communities",
            }
        ),
        errors=report.errors,
        warnings=len(report.violations) - report.errors,
    )


Check = Annotated[
    str | None,
    Query(
        description="Only the findings of this check (e.g. police_blind_spot).",
        openapi_examples=CHECK_EXAMPLES,
    ),
]

Children = Annotated[
    str | None,
    Query(
        description=(
            "Draw the regions directly under this one (the audited region or a region under "
            "it: its counties, streets or communities) instead of every community"
        ),
        openapi_examples=CHILDREN_EXAMPLES,
    ),
]


@router.get(
    "/{region}/compliance",
    response_class=Response,
    responses={
        **json_ok(COMPLIANCE, "Regions with their compliance score", media=GEOJSON),
        304: {"description": "Not modified (If-None-Match: the audit has not changed)"},
    },
)
def audit_compliance(
    request: Request,
    region: Region,
    engine: EngineDep,
    as_of: AsOf = None,
    children: Children = None,
) -> Response:
    """The region's communities (or, with ``children``, the regions directly under that
    one) as GeoJSON with their compliance score, rules failed, errors, warnings, area and
    households affected: the same cached audit of ``region`` as ``/audit/{region}`` serves
    every level of the overview's drill-down."""
    try:
        report = _audit(engine, region, default_profile(), as_of)
    except AuditInProgress as exc:
        return busy(request, exc)
    layer_regions(report, children)  # an unknown or leaf region: 404 or 422 before the ETag
    etag = compliance_etag(report, children)
    # revalidated on every visit (the data may change), answered 304 while the audit holds
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    plain, gzipped = compliance_body(engine, report, children)
    headers["Vary"] = "Accept-Encoding"
    if "gzip" in request.headers.get("accept-encoding", ""):  # compressed once per audit
        headers["Content-Encoding"] = "gzip"
        return Response(gzipped, media_type=GEOJSON, headers=headers)
    return Response(plain, media_type=GEOJSON, headers=headers)


def _layer(name: str, rules: tuple[str, ...]) -> Any:
    def findings(
        request: Request,
        region: Region,
        engine: EngineDep,
        as_of: AsOf = None,
        check: Check = None,
    ) -> Response:
        try:
            report = _audit(engine, region, default_profile().only(*rules), as_of)
        except AuditInProgress as exc:
            return busy(request, exc)
        violations = [v for v in report.violations if check is None or v.check == check]
        with engine.connect() as conn:
            collection = feature_collection(conn, violations)
        return Response(json.dumps(collection, ensure_ascii=False), media_type=GEOJSON)

    findings.__name__ = f"audit_{name.replace('-', '_')}"
    findings.__doc__ = (
        f"Findings of the rule(s) {', '.join(rules)} as a GeoJSON FeatureCollection "
        "(lon/lat); each feature's properties say rule, check, severity, grids and message."
    )
    return findings


for _name, _rules in LAYERS.items():
    router.add_api_route(
        f"/{{region}}/{_name}",
        _layer(_name, _rules),
        methods=["GET"],
        response_class=Response,
        responses=json_ok(FINDINGS[_name], "The findings as a FeatureCollection", media=GEOJSON),
    )
