"""Read-only audit endpoints: ``/audit/{region}`` and its findings as GeoJSON layers."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import EngineDep
from gis.audit.features import feature_collection
from gis.audit.profile import default_profile
from gis.audit.report import CommunityStats, RegionScore, RuleSummary
from gis.audit.run import run_audit

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
    Query(alias="as-of", description="Audit the grids as they were at this date (ISO 8601)."),
]


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


@router.get("/{region}", response_model=AuditSummary)
def audit_summary(region: str, engine: EngineDep, as_of: AsOf = None) -> AuditSummary:
    """The audit of a region (and everything under it) against the default profile."""
    report = run_audit(engine, region, default_profile(), as_of)
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


def _layer(name: str, rules: tuple[str, ...]) -> Any:
    def findings(region: str, engine: EngineDep, as_of: AsOf = None) -> Response:
        report = run_audit(engine, region, default_profile().only(*rules), as_of)
        with engine.connect() as conn:
            collection = feature_collection(conn, report.violations)
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
        responses={200: {"content": {GEOJSON: {}}, "description": "A FeatureCollection"}},
    )
