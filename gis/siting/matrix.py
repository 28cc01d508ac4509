"""Demand points, candidate sites and the cost matrix (metres) of a region.

Demand: buildings with households, at their point on surface, weighted by households,
labelled with the live grid they stand in. Candidates: building points, existing police
posts, or both. Distances are straight lines in the region's UTM zone (pyproj), or those
of a :class:`Metric` such as the road network (:mod:`gis.siting.network`).

>>> import numpy as np
>>> cost_matrix(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]])).tolist()
[[5.0, 1.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, text

from pyproj import Transformer

from gis.codes import is_region_code
from gis.errors import InvalidInput, NotFound

__all__ = [
    "MAX_MATRIX_CELLS",
    "Candidates",
    "Distance",
    "Metric",
    "Points",
    "SitingData",
    "cost_matrix",
    "from_database",
    "from_lonlat",
    "to_lonlat",
    "utm_epsg",
]

Candidates = Literal["buildings", "posts", "both"]
Distance = Literal["straight", "road"]
MAX_MATRIX_CELLS = 50_000_000  # 400 MB of float64

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Points:
    """Points in metres with a weight, the grid each stands in ("" for none) and a key
    naming the feature ("building:123", "post:P0001")."""

    xy: FloatArray
    weight: FloatArray
    grid: NDArray[np.str_]
    key: NDArray[np.str_]

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def take(self, index: NDArray[np.intp]) -> Points:
        return Points(self.xy[index], self.weight[index], self.grid[index], self.key[index])


class Metric(Protocol):
    """Distances other than straight lines between two point sets (metres, ``a`` × ``b``)."""

    def matrix(self, a: Points, b: Points) -> FloatArray: ...


@dataclass(frozen=True)
class SitingData:
    """A region's siting problem: demand, candidates, existing posts and the CRS used;
    ``metric`` measures distances (None: straight lines in ``epsg``)."""

    region: str
    epsg: int
    demand: Points
    candidates: Points
    posts: Points  # existing posts; ``grid`` is the grid each post serves (grid_code)
    metric: Metric | None = None

    def costs(self, a: Points, b: Points) -> FloatArray:
        """``a`` × ``b`` distances in metres."""
        return cost_matrix(a.xy, b.xy) if self.metric is None else self.metric.matrix(a, b)

    def cost_matrix(self) -> FloatArray:
        """Demand × candidate distances in metres."""
        return self.costs(self.demand, self.candidates)


def cost_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """Euclidean distances between the rows of ``a`` (n×2) and ``b`` (m×2)."""
    cells = a.shape[0] * b.shape[0]
    if cells > MAX_MATRIX_CELLS:
        raise InvalidInput(
            f"cost matrix of {a.shape[0]:,} demand points × {b.shape[0]:,} candidates is too "
            f"large ({cells:,} cells > {MAX_MATRIX_CELLS:,}); pick a smaller region or fewer "
            "candidates (posts only)"
        )
    d: FloatArray = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    return d


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone holding (lon, lat)."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def from_lonlat(lonlat: FloatArray, epsg: int) -> FloatArray:
    """Project EPSG:4326 longitude/latitude rows to metres in ``epsg``."""
    if lonlat.size == 0:
        return np.zeros((0, 2))
    to_m = Transformer.from_crs(4326, epsg, always_xy=True)
    x, y = to_m.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def to_lonlat(xy: FloatArray, epsg: int) -> FloatArray:
    """Back from metres in ``epsg`` to EPSG:4326 longitude/latitude rows."""
    if xy.size == 0:
        return np.zeros((0, 2))
    to_deg = Transformer.from_crs(epsg, 4326, always_xy=True)
    lon, lat = to_deg.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])


_REGION = text("SELECT code FROM region WHERE code = :code")

_COMMUNITIES = """
WITH RECURSIVE down AS (
    SELECT code, level, geom FROM region WHERE code = :code
    UNION ALL
    SELECT r.code, r.level, r.geom FROM region r JOIN down d ON r.parent_code = d.code
), community AS (SELECT code, geom FROM down WHERE level = 'community')
"""

# every building of the region at its point on surface, with the live grid it stands in
_BUILDINGS = text(
    _COMMUNITIES
    + """, b AS (
    SELECT DISTINCT ON (b.id) b.id, b.households, s.spot
    FROM community c JOIN building b ON b.geom && c.geom
    CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS spot) s
    WHERE ST_Intersects(c.geom, s.spot)
    ORDER BY b.id
)
SELECT b.id, b.households, ST_X(b.spot) AS lon, ST_Y(b.spot) AS lat,
       (SELECT g.code FROM grid g
        WHERE g.valid_to IS NULL AND g.geom && b.spot AND ST_Intersects(g.geom, b.spot)
        ORDER BY g.code LIMIT 1) AS grid
FROM b ORDER BY b.id
"""
)

# posts standing in the region: the grid they stand in and the grid they serve
_POSTS = text(
    _COMMUNITIES
    + """
SELECT DISTINCT ON (p.code) p.code, p.grid_code, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
       (SELECT g.code FROM grid g
        WHERE g.valid_to IS NULL AND g.geom && p.geom AND ST_Intersects(g.geom, p.geom)
        ORDER BY g.code LIMIT 1) AS grid
FROM community c JOIN police_post p ON p.geom && c.geom AND ST_Intersects(c.geom, p.geom)
ORDER BY p.code
"""
)


def _points(rows: list[tuple[str, float, float, float, str | None]]) -> tuple[FloatArray, Points]:
    lonlat = np.array([(r[2], r[3]) for r in rows], dtype=float).reshape(-1, 2)
    pts = Points(
        xy=np.zeros((len(rows), 2)),
        weight=np.array([r[1] for r in rows], dtype=float),
        grid=np.array([r[4] or "" for r in rows], dtype=np.str_).reshape(-1),
        key=np.array([r[0] for r in rows], dtype=np.str_).reshape(-1),
    )
    return lonlat, pts


def from_database(engine: Engine, region: str, candidates: Candidates = "buildings") -> SitingData:
    """Read a region's buildings and police posts and project them to its UTM zone."""
    if not is_region_code(region):
        raise InvalidInput(f"region {region!r}: expected a 12-digit region code")
    if candidates not in ("buildings", "posts", "both"):
        raise InvalidInput(f"candidates {candidates!r}: use buildings, posts or both")
    with engine.connect() as conn:
        if conn.execute(_REGION, {"code": region}).first() is None:
            raise NotFound(f"region {region}: no such region; list regions with gridgov audit")
        brows = conn.execute(_BUILDINGS, {"code": region}).all()
        prows = conn.execute(_POSTS, {"code": region}).all()
    if not brows:
        raise InvalidInput(
            f"region {region}: no buildings stand in it, so there is nothing to site posts "
            "for; load buildings first (gridgov import) or pick another region"
        )
    b_lonlat, buildings = _points(
        [(f"building:{r.id}", float(r.households), r.lon, r.lat, r.grid) for r in brows]
    )
    p_lonlat, standing = _points([(f"post:{r.code}", 0.0, r.lon, r.lat, r.grid) for r in prows])
    served = np.array([r.grid_code or "" for r in prows], dtype=np.str_).reshape(-1)
    centre = b_lonlat.mean(axis=0)
    epsg = utm_epsg(float(centre[0]), float(centre[1]))
    b_xy, p_xy = from_lonlat(b_lonlat, epsg), from_lonlat(p_lonlat, epsg)
    buildings = Points(b_xy, buildings.weight, buildings.grid, buildings.key)
    standing = Points(p_xy, standing.weight, standing.grid, standing.key)
    posts = Points(p_xy, standing.weight, served, standing.key)
    demand = buildings.take(np.flatnonzero(buildings.weight > 0))
    if len(demand) == 0:
        raise InvalidInput(f"region {region}: no building has households; nothing to serve")
    if candidates == "buildings":
        sites = buildings
    elif candidates == "posts":
        sites = standing
    else:
        sites = Points(
            np.vstack([buildings.xy, standing.xy]),
            np.concatenate([buildings.weight, standing.weight]),
            np.concatenate([buildings.grid, standing.grid]),
            np.concatenate([buildings.key, standing.key]),
        )
    if len(sites) == 0:
        raise InvalidInput(f"region {region}: no candidate sites ({candidates}); try --both")
    return SitingData(region=region, epsg=epsg, demand=demand, candidates=sites, posts=posts)
