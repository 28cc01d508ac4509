"""Typed results of an audit: violations, per-rule counts, per-region roll-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["AuditReport", "CommunityStats", "RegionScore", "RuleSummary", "Violation"]


class Violation(BaseModel):
    """One finding: which rule, how bad, where, and what to do about it."""

    rule: str = Field(description="Profile rule, e.g. blind_spots")
    check: str = Field(description="What exactly failed, e.g. blind_spot, sliver_gap")
    severity: Literal["error", "warning"]
    community: str | None = Field(default=None, description="Community code")
    grids: list[str] = Field(default_factory=list)
    message: str
    area_m2: float | None = None
    households: int | None = None
    measures: dict[str, Any] = Field(default_factory=dict)
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON, lon/lat")

    def feature(self) -> dict[str, Any]:
        """The violation as a GeoJSON Feature with map-ready properties."""
        props = self.model_dump(exclude={"geometry", "measures"})
        props["grids"] = ",".join(self.grids)
        props.update({f"m_{k}": v for k, v in self.measures.items()})
        return {"type": "Feature", "geometry": self.geometry, "properties": props}


class RuleSummary(BaseModel):
    rule: str
    enabled: bool
    severity: Literal["error", "warning"]
    errors: int = 0
    warnings: int = 0


class RegionScore(BaseModel):
    """Compliance of one region of the hierarchy (its descendants included)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    rules_checked: int
    rules_met: int
    score: float = Field(description="Share of enabled rules with no error in this region")
    errors: int
    warnings: int
    area_affected_m2: float
    households_affected: int


class CommunityStats(BaseModel):
    """Workload balance and police reach of one community."""

    code: str
    grids: int
    households: int
    households_min: int | None = None
    households_max: int | None = None
    households_mean: float | None = None
    households_cv: float | None = None
    max_deviation: float | None = Field(
        default=None, description="max |households − target| / target of geographic grids"
    )
    workers: int = 0
    workers_needed: int = 0
    post_distance_mean_m: float | None = None
    post_distance_p95_m: float | None = None
    post_distance_max_m: float | None = None


class AuditReport(BaseModel):
    region: str
    region_name: str
    level: str
    as_of: datetime | None
    profile: str
    generated_at: datetime
    seconds: float
    rules: list[RuleSummary]
    violations: list[Violation]
    rollup: list[RegionScore]
    communities: list[CommunityStats]

    @property
    def errors(self) -> int:
        return sum(1 for v in self.violations if v.severity == "error")

    def of_rule(self, *rules: str) -> list[Violation]:
        return [v for v in self.violations if v.rule in rules]

    def children(self, code: str) -> list[RegionScore]:
        """The roll-ups of the regions directly under ``code`` (in code order)."""
        return sorted((r for r in self.rollup if r.parent_code == code), key=lambda r: r.code)

    def under(self, code: str) -> set[str]:
        """``code`` and the codes of every region under it in the roll-up."""
        below: dict[str | None, list[str]] = {}
        for r in self.rollup:
            below.setdefault(r.parent_code, []).append(r.code)
        found, todo = set(), [code]
        while todo:
            current = todo.pop()
            found.add(current)
            todo += below.get(current, [])
        return found

    def rules_within(self, code: str) -> list[RuleSummary]:
        """The per-rule counts of the findings in region ``code`` (the audited region: all
        of them; a region under it: the findings of its communities, as its roll-up)."""
        if code == self.region:
            return self.rules
        inside = self.under(code)
        mine = [v for v in self.violations if v.community in inside]
        return [
            rule.model_copy(
                update={
                    "errors": sum(v.rule == rule.rule and v.severity == "error" for v in mine),
                    "warnings": sum(v.rule == rule.rule and v.severity == "warning" for v in mine),
                }
            )
            for rule in self.rules
        ]

    def feature_collection(self, *rules: str) -> dict[str, Any]:
        chosen = self.of_rule(*rules) if rules else self.violations
        return {"type": "FeatureCollection", "features": [v.feature() for v in chosen]}
