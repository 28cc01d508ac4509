"""Distances along the road network (pgRouting), with straight lines where roads fail.

The graph: the ``road`` lines near the points, noded at every intersection (``ST_Node``:
the demo's roads are merged per class, so a local street ends in the middle of an
arterial one), one edge per piece between two nodes, costing its length in metres on the
spheroid (geography), both ways. Each point (a home, a candidate site, a post) is snapped
to the nearest point of the nearest road piece; from there it walks along that piece to
either of its two ends. The distance of two points is the straight snap at each end plus
the shortest of the four ways through the ends of their pieces (the walks along the
pieces and the shortest path between the ends, ``pgr_dijkstraCost``, many to many) — or,
for two points on one piece, the walk between them along it.

A pair falls back to its straight-line distance when either point is farther than
``max_snap_m`` from every road, or when their pieces are not connected;
:meth:`RoadCosts.fallback_pairs` counts them for the report. All the SQL is here, run
in one transaction that is rolled back (temporary tables only; nothing is written).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, text

from gis.errors import InvalidInput, SetupError
from gis.siting.matrix import Points, cost_matrix, to_lonlat

__all__ = [
    "MAX_SNAP_M",
    "MAX_VERTICES",
    "RoadCosts",
    "pgrouting_version",
    "road_costs",
]

FloatArray = NDArray[np.float64]
MAX_SNAP_M = 500.0  # a point farther than this from every road is off the network
MAX_VERTICES = 4000  # distinct ends of snapped pieces: the many-to-many search gives V² costs
KNN_CANDIDATES = 8  # nearest pieces by planar degrees, of which the nearest on the spheroid
SNAP_GRID_DEG = 1e-7  # about 1 cm: endpoints this close are the same node
MARGIN_DEG = 0.02  # roads this far (about 2 km) beyond the points may carry a path

_PGROUTING = text("SELECT extversion FROM pg_extension WHERE extname = 'pgrouting'")

_POINTS = text("""
CREATE TEMP TABLE siting_point ON COMMIT DROP AS
SELECT (t.i - 1)::int AS i, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS geom
FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) WITH ORDINALITY AS t(lon, lat, i)
""")

# the road lines near the points, noded at every crossing and at every end touching a line
_LINES = text("""
CREATE TEMP TABLE siting_line ON COMMIT DROP AS
WITH area AS (SELECT ST_Expand(ST_Extent(geom)::geometry, :margin) AS box FROM siting_point),
parts AS (
    SELECT ST_SnapToGrid(ST_Force2D(d.geom), :grid) AS geom
    FROM road r CROSS JOIN area
    CROSS JOIN LATERAL ST_Dump(r.geom) d
    WHERE r.geom && area.box
),
noded AS (SELECT (ST_Dump(ST_Node(ST_Collect(geom)))).geom AS geom FROM parts
          WHERE NOT ST_IsEmpty(geom) AND ST_NPoints(geom) >= 2)
SELECT row_number() OVER () AS id, geom, ST_Length(geom::geography) AS cost
FROM noded WHERE ST_NPoints(geom) >= 2
""")

_VERTICES = text("""
CREATE TEMP TABLE siting_vertex ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY x, y) AS id, x, y
FROM (SELECT DISTINCT ST_X(e.p) AS x, ST_Y(e.p) AS y
      FROM siting_line l
      CROSS JOIN LATERAL (VALUES (ST_StartPoint(l.geom)), (ST_EndPoint(l.geom))) AS e(p)) q;
CREATE INDEX ON siting_line USING gist (geom);
ANALYZE siting_line;
CREATE TEMP TABLE siting_edge ON COMMIT DROP AS
SELECT l.id, s.id AS source, t.id AS target, l.cost
FROM siting_line l
JOIN siting_vertex s ON s.x = ST_X(ST_StartPoint(l.geom)) AND s.y = ST_Y(ST_StartPoint(l.geom))
JOIN siting_vertex t ON t.x = ST_X(ST_EndPoint(l.geom)) AND t.y = ST_Y(ST_EndPoint(l.geom))
""")

_COUNTS = text("SELECT (SELECT count(*) FROM siting_edge), (SELECT count(*) FROM siting_vertex)")

# each point's nearest road piece (the nearest of the few nearest in degrees, measured on
# the spheroid), the point of it nearest to the point, the straight snap to that point and
# the walk along the piece to each of its ends (metres on the spheroid)
_SNAP = text("""
SELECT p.i, e.id AS edge, e.source, e.target,
       ST_Distance(p.geom::geography, ST_LineInterpolatePoint(n.geom, n.f)::geography) AS snap_m,
       ST_Length(ST_LineSubstring(n.geom, 0, n.f)::geography) AS to_source,
       ST_Length(ST_LineSubstring(n.geom, n.f, 1)::geography) AS to_target
FROM siting_point p
CROSS JOIN LATERAL (
    SELECT l.id, l.geom, ST_LineLocatePoint(l.geom, p.geom) AS f
    FROM (SELECT id, geom FROM siting_line ORDER BY geom <-> p.geom LIMIT :knn) l
    ORDER BY ST_Distance(p.geom::geography, l.geom::geography), l.id LIMIT 1
) n
JOIN siting_edge e ON e.id = n.id
ORDER BY p.i
""")

_PATHS = text("""
SELECT array_agg(start_vid), array_agg(end_vid), array_agg(agg_cost)
FROM pgr_dijkstraCost(
    'SELECT id, source, target, cost FROM siting_edge',
    CAST(:vids AS bigint[]), CAST(:vids AS bigint[]), directed => false
)
""")


def pgrouting_version(conn: Connection) -> str | None:
    """The pgRouting version installed in the database, or None."""
    found = conn.execute(_PGROUTING).scalar_one_or_none()
    return None if found is None else str(found)


@dataclass(frozen=True)
class RoadCosts:
    """Road distances between named points (``Points.key``): each point's road piece
    (``edge``, -1: off the network), the two ends of that piece as rows of ``between``
    (``ends``), the walk along the piece to each end (``walk_m``), the walk from the
    piece's first end (``along_m``) and the straight snap onto it (``snap_m``); and the end
    × end shortest paths (inf where unconnected)."""

    index: dict[str, int]
    edge: NDArray[np.intp]
    ends: NDArray[np.intp]  # n × 2
    walk_m: FloatArray  # n × 2
    along_m: FloatArray
    snap_m: FloatArray
    between: FloatArray
    edges: int
    vertices: int
    max_snap_m: float

    def _rows(self, pts: Points) -> NDArray[np.intp]:
        missing = [str(k) for k in pts.key if str(k) not in self.index]
        if missing:
            raise InvalidInput(f"road distances: point {missing[0]} was not snapped to a road")
        return np.array([self.index[str(k)] for k in pts.key], dtype=np.intp)

    def _road(self, a: Points, b: Points) -> FloatArray:
        """Snap + walk + path + walk + snap, the shortest way (inf where a pair has no road
        distance; 0 from a point to itself)."""
        ra, rb = self._rows(a), self._rows(b)
        path = np.full((len(ra), len(rb)), np.inf)
        ia, ib = ra[self.edge[ra] >= 0], rb[self.edge[rb] >= 0]
        ka, kb = np.flatnonzero(self.edge[ra] >= 0), np.flatnonzero(self.edge[rb] >= 0)
        best = np.full((len(ia), len(ib)), np.inf)
        for x in (0, 1):
            for y in (0, 1):
                through = self.between[np.ix_(self.ends[ia, x], self.ends[ib, y])]
                way = self.walk_m[ia, x][:, None] + through + self.walk_m[ib, y][None, :]
                np.minimum(best, way, out=best)
        same = self.edge[ia][:, None] == self.edge[ib][None, :]
        direct = np.abs(self.along_m[ia][:, None] - self.along_m[ib][None, :])
        best = np.where(same, np.minimum(best, direct), best)
        path[np.ix_(ka, kb)] = best
        out: FloatArray = self.snap_m[ra][:, None] + path + self.snap_m[rb][None, :]
        out[ra[:, None] == rb[None, :]] = 0.0  # a point to itself (a home as a site)
        return out

    def matrix(self, a: Points, b: Points) -> FloatArray:
        """``a`` × ``b`` in metres: along the roads, or straight where roads fail."""
        road = self._road(a, b)
        straight = cost_matrix(a.xy, b.xy)
        out: FloatArray = np.where(np.isfinite(road), road, straight)
        return out

    def fallback_pairs(self, a: Points, b: Points) -> int:
        """How many ``a`` × ``b`` pairs are measured straight (no road distance), counted
        per pair of pieces' first ends (a piece's two ends are always connected), with no
        ``a`` × ``b`` matrix made."""
        ra, rb = self._rows(a), self._rows(b)
        on_a = self.ends[ra[self.edge[ra] >= 0], 0]
        on_b = self.ends[rb[self.edge[rb] >= 0], 0]
        n = len(self.between)
        ca = np.bincount(on_a, minlength=n).astype(float)
        cb = np.bincount(on_b, minlength=n).astype(float)
        unconnected = float(ca @ (~np.isfinite(self.between)).astype(float) @ cb)
        return len(ra) * len(rb) - len(on_a) * len(on_b) + round(unconnected)

    def off_road(self, pts: Points) -> int:
        """How many of ``pts`` are farther than ``max_snap_m`` from every road."""
        return int((self.edge[self._rows(pts)] < 0).sum())


def _unique_points(groups: list[Points]) -> tuple[list[str], FloatArray]:
    keys: list[str] = []
    xy: list[FloatArray] = []
    seen: set[str] = set()
    for pts in groups:
        for k, at in zip(pts.key, pts.xy, strict=True):
            if str(k) not in seen:
                seen.add(str(k))
                keys.append(str(k))
                xy.append(at)
    return keys, np.array(xy, dtype=float).reshape(-1, 2)


def road_costs(
    engine: Engine, epsg: int, groups: list[Points], max_snap_m: float = MAX_SNAP_M
) -> RoadCosts:
    """Road distances between every point of ``groups`` (metres in ``epsg``), from the
    road table; SetupError when pgRouting is not installed in the database."""
    keys, xy = _unique_points(groups)
    lonlat = to_lonlat(xy, epsg)
    with engine.connect() as conn, conn.begin() as tx:
        if pgrouting_version(conn) is None:
            raise SetupError(
                "road distances need the pgRouting extension, which this database lacks: "
                "install it (Debian/Ubuntu: `sudo apt-get install postgresql-15-pgrouting`; "
                "`gridgov db up` does it for the embedded cluster) and run `gridgov db "
                "migrate`, or use straight distances (--distance straight)"
            )
        conn.execute(_POINTS, {"lon": lonlat[:, 0].tolist(), "lat": lonlat[:, 1].tolist()})
        conn.execute(_LINES, {"margin": MARGIN_DEG, "grid": SNAP_GRID_DEG})
        conn.execute(_VERTICES)
        edges, vertices = conn.execute(_COUNTS).one()
        snapped = conn.execute(_SNAP, {"knn": KNN_CANDIDATES}).all() if vertices else []
        near = [r for r in snapped if r.snap_m <= max_snap_m]
        ids = sorted({int(v) for r in near for v in (r.source, r.target)})
        if len(ids) > MAX_VERTICES:
            raise InvalidInput(
                f"road distances: the points lie on road pieces with {len(ids):,} ends "
                f"(more than {MAX_VERTICES:,}); pick a smaller region or straight distances"
            )
        position = {v: j for j, v in enumerate(ids)}
        edge = np.full(len(keys), -1, dtype=np.intp)
        ends = np.zeros((len(keys), 2), dtype=np.intp)
        walk = np.zeros((len(keys), 2))
        snap = np.zeros(len(keys))
        for r in near:
            edge[r.i] = int(r.edge)
            ends[r.i] = position[int(r.source)], position[int(r.target)]
            walk[r.i] = float(r.to_source), float(r.to_target)
            snap[r.i] = float(r.snap_m)
        between = np.full((len(ids), len(ids)), np.inf)
        np.fill_diagonal(between, 0.0)
        if len(ids) > 1:
            sources, targets, metres = conn.execute(_PATHS, {"vids": ids}).one()
            if sources:
                at = np.asarray(ids)
                i, j = np.searchsorted(at, sources), np.searchsorted(at, targets)
                between[i, j] = np.asarray(metres, dtype=float)
        tx.rollback()
    return RoadCosts(
        index={k: i for i, k in enumerate(keys)},
        edge=edge,
        ends=ends,
        walk_m=walk,
        along_m=walk[:, 0].copy(),
        snap_m=snap,
        between=between,
        edges=int(edges),
        vertices=int(vertices),
        max_snap_m=max_snap_m,
    )
