"""The siting report: per grid, the current post against the proposed site, and the
region-wide p-median / MCLP results. Plain data; the CLI prints it, the API sends it as
JSON or as GeoJSON points (:meth:`SitingReport.to_geojson`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import Engine

from gis.errors import InvalidInput
from gis.siting.matrix import Candidates, Distance, SitingData, from_database, to_lonlat
from gis.siting.network import RoadCosts, road_costs
from gis.siting.solve import mclp, one_median_per_grid, p_median

__all__ = [
    "GridRow",
    "RegionResult",
    "RoadSummary",
    "SitingReport",
    "build_report",
    "road_summary",
    "site_posts",
]


@dataclass(frozen=True)
class GridRow:
    grid: str
    households: float
    current_post: str | None  # the post(s) serving the grid (nearest one per home)
    current_mean_m: float | None  # household-weighted mean distance to it
    proposed_site: str
    proposed_mean_m: float
    saved_weighted_m: float | None  # households × metres saved by moving
    proposed_lonlat: tuple[float, float]


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
    site_lonlat: list[tuple[float, float]]


@dataclass(frozen=True)
class RoadSummary:
    """How the road distances were measured, and where they fell back to straight lines."""

    edges: int  # road pieces between intersections near the region
    vertices: int
    max_snap_m: float  # farther from every road vertex than this: off the network
    demand_off_road: int
    sites_off_road: int
    pairs: int  # home × candidate site pairs
    straight_pairs: int  # of them, measured straight (off road or no road between)
    message: str


@dataclass(frozen=True)
class SitingReport:
    region: str
    epsg: int
    demand_points: int
    households: float
    candidates: int
    grids: list[GridRow]
    region_results: list[RegionResult] = field(default_factory=list)
    distance: Distance = "straight"
    road: RoadSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_geojson(self) -> dict[str, Any]:
        """The sites as GeoJSON points (lon/lat): each grid's proposed site (``role``
        "grid"), then the sites of each region-wide model (``role`` its model)."""
        features: list[dict[str, Any]] = []
        for g in self.grids:
            props = {k: v for k, v in asdict(g).items() if k != "proposed_lonlat"}
            features.append(_point(g.proposed_lonlat, {"role": "grid", **props}))
        for r in self.region_results:
            common = {
                "role": r.model,
                "p": r.p,
                "radius_m": r.radius_m,
                "objective": r.objective,
                "gap": r.gap,
                "optimal": r.optimal,
                "time_limit_hit": r.time_limit_hit,
            }
            for site, at in zip(r.sites, r.site_lonlat, strict=True):
                features.append(_point(at, {**common, "site": site}))
        return {"type": "FeatureCollection", "features": features}


def _point(lonlat: tuple[float, float], props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(c, 7) for c in lonlat]},
        "properties": props,
    }


def _lonlat(data: SitingData, columns: list[int]) -> list[tuple[float, float]]:
    back = to_lonlat(data.candidates.xy[np.asarray(columns, dtype=np.intp)], data.epsg)
    return [(float(x), float(y)) for x, y in back.reshape(-1, 2)]


def _grid_rows(data: SitingData, sites: SitingData) -> list[GridRow]:
    medians = one_median_per_grid(sites.demand, sites.candidates, costs=sites.costs)
    rows = []
    ordered = sorted(medians.items())
    where = _lonlat(sites, [med.candidate for _, med in ordered])
    for (g, med), at in zip(ordered, where, strict=True):
        di = np.flatnonzero(data.demand.grid == g)
        pi = np.flatnonzero(data.posts.grid == g)
        w = data.demand.weight[di]
        cur_total = None
        if len(pi):
            d = data.costs(data.demand.take(di), data.posts.take(pi)).min(axis=1)
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
                proposed_lonlat=at,
            )
        )
    return rows


def build_report(
    per_grid: SitingData,
    region: SitingData | None = None,
    p: int | None = None,
    radius: float | None = None,
    time_limit: float | None = None,
    road: RoadSummary | None = None,
) -> SitingReport:
    """``per_grid``: data with building+post candidates for the per-grid 1-median;
    ``region``: data whose candidates the p-median/MCLP choose from (when ``p`` is given);
    both measure distances with their ``metric`` (``road``: how, when along the roads)."""
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
                _lonlat(region, list(sol.sites)),
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
                    _lonlat(region, list(cov.sites)),
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
        distance="straight" if road is None else "road",
        road=road,
    )


def road_summary(data: SitingData, road: RoadCosts) -> RoadSummary:
    """What the road distances of ``data`` (all its homes × all its candidates) rest on."""
    off_d, off_s = road.off_road(data.demand), road.off_road(data.candidates)
    pairs = len(data.demand) * len(data.candidates)
    straight = road.fallback_pairs(data.demand, data.candidates)
    if road.edges == 0:
        message = (
            f"region {data.region} has no roads in the road table: every distance is a "
            "straight line (load roads to measure along them)"
        )
    elif straight == 0:
        message = "every distance follows the roads"
    else:
        message = (
            f"{straight:,} of {pairs:,} home–site pairs are measured as straight lines: "
            f"{off_d:,} homes and {off_s:,} candidate sites lie farther than "
            f"{road.max_snap_m:,.0f} m from any road, and the other such pairs have no "
            "road between them"
        )
    return RoadSummary(
        road.edges, road.vertices, road.max_snap_m, off_d, off_s, pairs, straight, message
    )


def site_posts(
    engine: Engine,
    region: str,
    p: int | None = None,
    radius: float | None = None,
    time_limit: float | None = None,
    candidates: Candidates = "posts",
    distance: Distance = "straight",
) -> SitingReport:
    """The report of a region from the database: per grid, building and post candidates;
    with ``p``, the p-median (and MCLP with ``radius``) over the ``candidates`` sites.
    ``distance`` "road" measures along the road network (pgRouting), straight where the
    roads do not reach (counted in the report's ``road`` summary)."""
    if radius is not None and p is None:
        raise InvalidInput("radius needs p: how many sites may cover the households")
    if distance not in ("straight", "road"):
        raise InvalidInput(f"distance {distance!r}: use straight or road")
    per_grid = from_database(engine, region, "both")
    whole = from_database(engine, region, candidates) if p is not None else None
    summary = None
    if distance == "road":
        road = road_costs(engine, per_grid.epsg, [per_grid.demand, per_grid.candidates])
        per_grid = replace(per_grid, metric=road)
        whole = None if whole is None else replace(whole, metric=road)
        summary = road_summary(per_grid, road)
    return build_report(per_grid, whole, p, radius, time_limit, summary)
