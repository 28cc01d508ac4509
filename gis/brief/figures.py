"""The key figures and per-community rows of a briefing, from an audit report.

Plain functions of numbers: no database, no drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.audit.report import AuditReport

__all__ = ["CommunityRow", "KeyFigures", "community_rows", "key_figures"]


@dataclass(frozen=True)
class KeyFigures:
    """The headline numbers of a region's briefing."""

    grids: int
    region_area_m2: float
    blind_spot_area_m2: float
    blind_spots: int
    overlaps: int
    overlap_area_m2: float
    grids_without_post: int
    grids_with_several_posts: int
    grids_outside_band: int
    workers: int
    workers_needed: int
    errors: int
    warnings: int

    @property
    def coverage(self) -> float:
        """1 − blind-spot area / region area (1.0 for a region without area)."""
        if self.region_area_m2 <= 0:
            return 1.0
        return max(0.0, 1.0 - self.blind_spot_area_m2 / self.region_area_m2)

    @property
    def coverage_text(self) -> str:
        """Coverage as printed in the briefing, e.g. ``99.98%`` (never rounded up to 100)."""
        value = int(self.coverage * 10000) / 100  # floor: a gap never prints as 100.00%
        return f"{value:.2f}%"

    @property
    def staffing_shortfall(self) -> int:
        """Workers needed − workers (negative: more workers than needed)."""
        return self.workers_needed - self.workers


@dataclass(frozen=True)
class CommunityRow:
    code: str
    name: str
    grids: int
    households: int
    cv: float | None
    errors: int


def _grids_of(report: AuditReport, *checks: str) -> int:
    found = {g for v in report.violations if v.check in checks for g in v.grids}
    return len(found)


def key_figures(report: AuditReport, region_area_m2: float, grids: int) -> KeyFigures:
    """Headline numbers of ``report`` for a region of ``region_area_m2``."""
    blind = report.of_rule("blind_spots")
    overlaps = report.of_rule("overlaps")
    return KeyFigures(
        grids=grids,
        region_area_m2=region_area_m2,
        blind_spot_area_m2=sum(v.area_m2 or 0.0 for v in blind),
        blind_spots=len(blind),
        overlaps=len(overlaps),
        overlap_area_m2=sum(v.area_m2 or 0.0 for v in overlaps),
        grids_without_post=_grids_of(report, "no_post"),
        grids_with_several_posts=_grids_of(report, "several_posts"),
        grids_outside_band=_grids_of(report, "households_over", "households_under"),
        workers=sum(c.workers for c in report.communities),
        workers_needed=sum(c.workers_needed for c in report.communities),
        errors=report.errors,
        warnings=len(report.violations) - report.errors,
    )


def community_rows(report: AuditReport, names: dict[str, str]) -> list[CommunityRow]:
    """One row per community of the report, with its error count from the roll-up."""
    errors = {s.code: s.errors for s in report.rollup}
    return [
        CommunityRow(
            code=c.code,
            name=names.get(c.code, ""),
            grids=c.grids,
            households=c.households,
            cv=c.households_cv,
            errors=errors.get(c.code, 0),
        )
        for c in sorted(report.communities, key=lambda c: c.code)
    ]
