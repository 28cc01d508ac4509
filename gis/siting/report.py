"""The siting report: per grid, the current post against the proposed site, and the
region-wide p-median / MCLP results. Plain data; the CLI prints it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gis.siting.matrix import SitingData, cost_matrix
from gis.siting.solve import mclp, one_median_per_grid, p_median

__all__ = ["GridRow", "RegionResult", "SitingReport", "build_report"]


@dataclass(frozen=True)
class GridRow:
    grid: str
    households: float
    current_post: str | None  # the post(s) serving the grid (nearest one per home)
    current_mean_m: float | None  # household-weighted mean distance to it
    proposed_site: str
    proposed_mean_m: float
    saved_weighted_m: float | None  # households × metres saved by moving


@dataclass(frozen=True)
class RegionResult:
    model: str  # "p-median" or "mclp"
    p: int
    radius_m: float | None
    sites: list[str]
    objective: float
    coverage: float | None  # share of households within the radius
    mean_distance_m: float
    gap: float
    optimal: bool
    time_limit_hit: bool
    seconds: float


@dataclass(frozen=True)
class SitingReport:
    region: str
    epsg: int
    demand_points: int
    households: float
    candidates: int
    grids: list[GridRow]
    region_results: list[RegionResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _grid_rows(data: SitingData, sites: SitingData) -> list[GridRow]:
    medians = one_median_per_grid(sites.demand, sites.candidates)
    rows = []
    for g, med in sorted(medians.items()):
        di = np.flatnonzero(data.demand.grid == g)
        pi = np.flatnonzero(data.posts.grid == g)
        w = data.demand.weight[di]
        cur_total = None
        if len(pi):
            d = cost_matrix(data.demand.xy[di], data.posts.xy[pi]).min(axis=1)
            cur_total = float(w @ d)
        hh = med.households
        rows.append(
            GridRow(
                grid=g,
                households=hh,
                current_post=", ".join(k.removeprefix("post:") for k in data.posts.key[pi]) or None,
                current_mean_m=None if cur_total is None else cur_total / hh,
                proposed_site=str(sites.candidates.key[med.candidate]),
                proposed_mean_m=med.weighted_distance / hh,
                saved_weighted_m=None if cur_total is None else cur_total - med.weighted_distance,
            )
        )
    return rows


def build_report(
    per_grid: SitingData,
    region: SitingData | None = None,
    p: int | None = None,
    radius: float | None = None,
    time_limit: float | None = None,
) -> SitingReport:
    """``per_grid``: data with building+post candidates for the per-grid 1-median;
    ``region``: data whose candidates the p-median/MCLP choose from (when ``p`` is given)."""
    results: list[RegionResult] = []
    if region is not None and p is not None:
        cost = region.cost_matrix()
        w = region.demand.weight
        keys = region.candidates.key
        sol = p_median(cost, w, p, time_limit)
        results.append(
            RegionResult(
                "p-median",
                p,
                radius,
                [str(keys[j]) for j in sol.sites],
                sol.objective,
                None if radius is None else sol.coverage(cost, w, radius),
                sol.objective / float(w.sum()),
                sol.gap,
                sol.optimal,
                sol.time_limit_hit,
                sol.seconds,
            )
        )
        if radius is not None:
            cov = mclp(cost, w, radius, p, time_limit)
            dist = cost[np.arange(len(w)), cov.assignment]
            results.append(
                RegionResult(
                    "mclp",
                    p,
                    radius,
                    [str(keys[j]) for j in cov.sites],
                    cov.objective,
                    cov.objective / float(w.sum()),
                    float(w @ dist) / float(w.sum()),
                    cov.gap,
                    cov.optimal,
                    cov.time_limit_hit,
                    cov.seconds,
                )
            )
    return SitingReport(
        region=per_grid.region,
        epsg=per_grid.epsg,
        demand_points=len(per_grid.demand),
        households=float(per_grid.demand.weight.sum()),
        candidates=len(per_grid.candidates),
        grids=_grid_rows(per_grid, per_grid),
        region_results=results,
    )
