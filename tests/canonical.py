"""Canonical test geometries for the audit: tiny hand-built communities, one per case.

Every case is drawn in a local metric frame (metres, x east, y north) and converted to
EPSG:4326 with a transverse Mercator centred on ``ORIGIN`` (87.3°E, 43.8°N). The origin
lies ~11 km south of the demo prefecture (which spans 43.90–44.28°N around Changji), so
nothing of the demo can fall into a case: the cases must not interact with it. Each case
sits in its own 1 km slot east of the origin, so cases never interact with each other.

Codes (county 659001, unused by the demo): prefecture ``659000000000``, county
``659001000000``, street ``659001001000``, communities ``659001001001``…, grids = community
code + three digits.

Shared boundaries are *noded* before conversion: every vertex of a case that lies on an
edge of another of its polygons is inserted into that edge. Straight lines in metres are
not exactly straight in longitude/latitude, so without noding a T-junction would leave
micro-gaps; with it, shared edges are identical segments and a point placed on a shared
boundary is a vertex of both polygons.

>>> GAP.communities[0].code
'659001001001'
>>> [g.code for g in GAP.grids]
['659001001001001', '659001001001002']
>>> round(local(lonlat(Point(10.0, 20.0))).x, 6)
10.0
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

import shapely
from pyproj import CRS, Transformer
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

__all__ = [
    "BOWTIE",
    "CASES",
    "COUNTY",
    "GAP",
    "HOLE_EMPTY",
    "HOLE_FILLED",
    "MULTIPART_COMMUNITY",
    "MULTIPART_GRID",
    "NESTED",
    "ORGS_ON_BOUNDARY",
    "ORIGIN",
    "POSTS",
    "PREFECTURE",
    "SHARED_EDGE",
    "SLIVERS",
    "SPILL",
    "SPLIT_BUILDING",
    "STREET",
    "Case",
    "insert_case",
    "local",
    "lonlat",
]

ORIGIN = (87.3, 43.8)
PREFECTURE, COUNTY, STREET = "659000000000", "659001000000", "659001001000"
SLOT_M = 1000.0

_TMERC = CRS.from_proj4(
    f"+proj=tmerc +lat_0={ORIGIN[1]} +lon_0={ORIGIN[0]} +k=1 +x_0=0 +y_0=0 "
    "+ellps=WGS84 +units=m +no_defs"
)
_TO_LONLAT = Transformer.from_crs(_TMERC, "EPSG:4326", always_xy=True)
_TO_LOCAL = Transformer.from_crs("EPSG:4326", _TMERC, always_xy=True)


def _apply(transformer: Transformer, geom: BaseGeometry) -> BaseGeometry:
    def move(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Local metres → EPSG:4326 longitude/latitude."""
    return _apply(_TO_LONLAT, geom)


def local(geom: BaseGeometry) -> BaseGeometry:
    """EPSG:4326 longitude/latitude → local metres (for comparing shapes in metres)."""
    return _apply(_TO_LOCAL, geom)


def _on_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> bool:
    cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    if abs(cross) > 1e-9 or p in (a, b):
        return False
    dot = (p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])
    return 0 < dot < (b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2


def _node_ring(coords: list[tuple[float, float]], pool: set[tuple[float, float]]) -> list:
    out = []
    for a, b in itertools.pairwise(coords):
        out.append(a)
        inner = [p for p in pool if _on_segment(p, a, b)]
        out += sorted(inner, key=lambda p: (p[0] - a[0]) ** 2 + (p[1] - a[1]) ** 2)
    return [*out, coords[-1]]


def _node(geom: BaseGeometry, pool: set[tuple[float, float]]) -> BaseGeometry:
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([_node(p, pool) for p in geom.geoms])
    if isinstance(geom, Polygon):
        return Polygon(
            _node_ring(list(geom.exterior.coords), pool),
            [_node_ring(list(r.coords), pool) for r in geom.interiors],
        )
    return geom


@dataclass(frozen=True)
class Feature:
    """A community, grid, post, organization or building of a case.

    ``local`` is in the case's metres (slot offset applied), ``geom`` in lon/lat as stored.
    """

    key: str
    local: BaseGeometry
    geom: BaseGeometry
    grid_code: str | None = None
    kind: str = "geographic"
    households: int = 400
    population: int = 1000

    @property
    def code(self) -> str:
        return self.key


@dataclass(frozen=True)
class Case:
    name: str
    communities: list[Feature]
    grids: list[Feature]
    posts: list[Feature] = field(default_factory=list)
    orgs: list[Feature] = field(default_factory=list)
    buildings: list[Feature] = field(default_factory=list)
    offset_m: float = 0.0

    def at(self, geom: BaseGeometry) -> BaseGeometry:
        """A shape drawn in the case's own frame (as in its docstring), in local metres."""
        return translate(geom, xoff=self.offset_m)

    @property
    def community(self) -> str:
        """The (first) community's code."""
        return self.communities[0].code

    def grid(self, code: str) -> Feature:
        return next(g for g in self.grids if g.key == code)


def _case(
    name: str,
    slot: int,
    communities: dict[str, BaseGeometry],
    grids: dict[str, BaseGeometry],
    posts: dict[str, tuple[Point, str]] | None = None,
    orgs: dict[str, tuple[Point, str | None]] | None = None,
    buildings: dict[str, tuple[BaseGeometry, int]] | None = None,
) -> Case:
    """Shift a case into its slot, node its shared boundaries, convert it to lon/lat."""
    dx = slot * SLOT_M
    shapes: dict[tuple[str, str], BaseGeometry] = {}
    for key, g in communities.items():
        shapes["community", key] = g
    for key, g in grids.items():
        shapes["grid", key] = g
    for key, (pt, _) in (posts or {}).items():
        shapes["post", key] = pt
    for key, (pt, _) in (orgs or {}).items():
        shapes["org", key] = pt
    for key, (g, _) in (buildings or {}).items():
        shapes["building", key] = g
    shapes = {k: translate(g, xoff=dx) for k, g in shapes.items()}
    pool = {tuple(map(float, xy)) for g in shapes.values() for xy in shapely.get_coordinates(g)}
    noded = {k: _node(g, pool) for k, g in shapes.items()}

    def features(kind: str, extra: dict[str, Any] | None = None) -> list[Feature]:
        out = []
        for (k, key), g in noded.items():
            if k == kind:
                kw: dict[str, Any] = {}
                if kind in ("post", "org"):
                    kw["grid_code"] = (extra or {})[key][1]
                if kind == "building":
                    kw["households"] = (extra or {})[key][1]
                out.append(Feature(key, g, lonlat(g), **kw))
        return out

    return Case(
        name,
        features("community"),
        features("grid"),
        features("post", posts),
        features("org", orgs),
        features("building", buildings),
        dx,
    )


def _community(n: int) -> str:
    return f"{STREET[:9]}{n:03d}"


def _grid(community: str, n: int) -> str:
    return f"{community}{n:03d}"


SQUARE = box(0, 0, 100, 100)

_A = _community(1)
GAP = _case(
    "a. gap",
    0,
    {_A: SQUARE},
    {_grid(_A, 1): box(0, 0, 45, 100), _grid(_A, 2): box(55, 0, 100, 100)},
)
"""A 100 m × 100 m community, two grids, a 10 m × 100 m strip in no grid::

    +------+--+------+ 100
    |  001 |  |  002 |
    |      |  |      |
    +------+--+------+ 0
    0     45  55    100
"""

_B = _community(2)
HOLE_EMPTY = _case(
    "b. hole filled by nothing",
    1,
    {_B: SQUARE},
    {_grid(_B, 1): Polygon(SQUARE.exterior.coords, [box(40, 40, 60, 60).exterior.coords])},
)
"""One grid with a 20 m × 20 m hole; nothing covers the hole::

    +-----------+ 100
    |    001    |
    |   +---+   | 60
    |   |   |   |
    |   +---+   | 40
    +-----------+ 0
"""

_C = _community(3)
HOLE_FILLED = _case(
    "c. hole filled by a grid",
    2,
    {_C: SQUARE},
    {
        _grid(_C, 1): Polygon(SQUARE.exterior.coords, [box(40, 40, 60, 60).exterior.coords]),
        _grid(_C, 2): box(40, 40, 60, 60),
    },
)
"""Grid 001 with a hole exactly filled by grid 002 (no gap, no overlap)::

    +-----------+
    |    001    |
    |   +---+   |
    |   |002|   |
    |   +---+   |
    +-----------+
"""

_D = _community(4)
SHARED_EDGE = _case(
    "d. shared edge",
    3,
    {_D: SQUARE},
    {_grid(_D, 1): box(0, 0, 50, 100), _grid(_D, 2): box(50, 0, 100, 100)},
)
"""Two grids sharing the edge x = 50 (no gap, no overlap)::

    +-----+-----+
    | 001 | 002 |
    +-----+-----+
"""

_E = _community(5)
NESTED = _case(
    "e. nested grid",
    4,
    {_E: SQUARE},
    {_grid(_E, 1): SQUARE, _grid(_E, 2): box(30, 30, 60, 60)},
)
"""Grid 002 (30 m × 30 m) lies entirely inside grid 001 (the whole community)::

    +-----------+
    |  001      |
    |   +---+   |
    |   |002|   |
    |   +---+   |
    +-----------+
"""

_F = _community(6)
_F_WEST = [(0, 0), (50, 0), (50, 20), (49, 20), (49, 20.5), (50, 20.5), (50, 60),
           (47.5, 60), (47.5, 62), (50, 62), (50, 100), (0, 100), (0, 0)]  # fmt: skip
_F_EAST = [(50, 0), (100, 0), (100, 100), (50, 100), (50, 81), (49.5, 81), (49.5, 80),
           (50, 80), (50, 0)]  # fmt: skip
SLIVERS = _case(
    "f. slivers",
    5,
    {_F: SQUARE},
    {
        _grid(_F, 1): Polygon(_F_WEST),
        _grid(_F, 2): Polygon(_F_EAST),
    },
)
"""Grids 001 | 002 split at x = 50 with three small defects on the shared edge::

    y 80–81   002 reaches 0.5 m into 001: a 0.5 m × 1 m overlap   (sliver → warning)
    y 60–62   001 stops 2.5 m short:      a 2.5 m × 2 m gap = 5 m² (error)
    y 20–20.5 001 stops 1 m short:        a 1 m × 0.5 m gap = 0.5 m² (sliver → warning)

    +------+------+ 100
    |     ]|[     |  80
    |  001 ||  002|
    |    [_|      |  60
    |     [|      |  20
    +------+------+ 0
"""

_G = _community(7)
MULTIPART_COMMUNITY = _case(
    "g. multipart community",
    6,
    {_G: MultiPolygon([SQUARE, box(200, 0, 300, 100)])},
    {_grid(_G, 1): SQUARE, _grid(_G, 2): box(200, 0, 300, 100)},
)
"""A community in two separate parts, one grid per part::

    +-----+       +-----+
    | 001 |       | 002 |
    +-----+       +-----+
    0    100     200   300
"""

_H1, _H2 = _community(8), _community(9)
SPILL = _case(
    "h. spill into the next community",
    7,
    {_H1: SQUARE, _H2: box(100, 0, 200, 100)},
    {_grid(_H1, 1): box(0, 0, 110, 100), _grid(_H2, 1): box(100, 0, 200, 100)},
)
"""Grid 008001 reaches 10 m over the border into community 009, onto grid 009001::

    community 008  | community 009
    +--------------+--+----------+
    |  008001      |##| 009001   |   ## = 10 m × 100 m spill and overlap
    +--------------+--+----------+
    0             100 110       200
"""

_I = _community(10)
ORGS_ON_BOUNDARY = _case(
    "i. organizations on a shared boundary",
    8,
    {_I: SQUARE},
    {_grid(_I, 1): box(0, 0, 50, 100), _grid(_I, 2): box(50, 0, 100, 100)},
    orgs={
        "on edge, assigned to 002": (Point(50, 30), _grid(_I, 2)),
        "on edge, assigned to 001": (Point(50, 50), _grid(_I, 1)),
        "on edge, unassigned": (Point(50, 70), None),
    },
)
"""Three organizations exactly on the shared edge x = 50 (vertices of both grids)::

    +-----+-----+ 100
    |    u|     |  70  u: no grid → propose 001, the lower code
    | 001 a 002 |  50  a: assigned to 001
    |     b     |  30  b: assigned to 002
    +-----+-----+ 0
"""

_J = _community(11)
SPLIT_BUILDING = _case(
    "j. building split 60/40",
    9,
    {_J: SQUARE},
    {_grid(_J, 1): box(0, 0, 50, 100), _grid(_J, 2): box(50, 0, 100, 100)},
    buildings={"split": (box(44, 40, 54, 50), 20)},
)
"""A 10 m × 10 m building at x 44–54: 6 m in grid 001, 4 m in grid 002::

    +-----+-----+
    | 001 | 002 |
    |   [##|#]  |  y 40–50
    +-----+-----+
"""

_K = _community(12)
POSTS = _case(
    "k. police posts per grid",
    10,
    {_K: box(0, 0, 150, 100)},
    {
        _grid(_K, 1): box(0, 0, 50, 100),
        _grid(_K, 2): box(50, 0, 100, 100),
        _grid(_K, 3): box(100, 0, 150, 100),
    },
    posts={
        "JW659001001012A": (Point(75, 50), _grid(_K, 2)),
        "JW659001001012B": (Point(115, 30), _grid(_K, 3)),
        "JW659001001012C": (Point(135, 70), _grid(_K, 3)),
    },
)
"""Grids with 0, 1 and 2 police posts::

    +-----+-----+-----+
    |     |     |   C |
    | 001 |  A  | B   |   001: none, 002: A, 003: B and C
    +-----+-----+-----+
"""

_M = _community(13)
MULTIPART_GRID = _case(
    "g'. multipart grid",
    11,
    {_M: MultiPolygon([SQUARE, box(200, 0, 300, 100)])},
    {_grid(_M, 1): MultiPolygon([SQUARE, box(200, 0, 300, 100)])},
)
"""The community of case g tiled by one grid in two parts::

    +-----+       +-----+
    | 001 |       | 001 |
    +-----+       +-----+
"""

_N = _community(14)
BOWTIE = _case(
    "invalid: self-intersecting grid",
    12,
    {_N: SQUARE},
    {_grid(_N, 1): Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])},
)
"""A bow-tie grid whose ring crosses itself at (50, 50); the grid table's CHECK
constraint must be dropped (inside the test's transaction) to store it::

    +-------+ 100
    |\\     /|
    |  \\ /  |
    |  / \\  |
    |/     \\|
    +-------+ 0
"""

CASES = [
    GAP,
    HOLE_EMPTY,
    HOLE_FILLED,
    SHARED_EDGE,
    NESTED,
    SLIVERS,
    MULTIPART_COMMUNITY,
    SPILL,
    ORGS_ON_BOUNDARY,
    SPLIT_BUILDING,
    POSTS,
    MULTIPART_GRID,
    BOWTIE,
]

_FRAME = lonlat(box(-SLOT_M, -SLOT_M, SLOT_M * (len(CASES) + 1), 2 * SLOT_M))

_REGION = text("""
INSERT INTO region (code, name, level, parent_code, geom)
VALUES (:code, :name, :level, :parent, ST_Multi(ST_GeomFromText(:wkt, 4326)))
ON CONFLICT (code) DO NOTHING
""")
_GRID_CODE = text("INSERT INTO grid_code (code, community_code) VALUES (:code, :community)")
_GRID = text("""
INSERT INTO grid (code, name, kind, community_code, households, population, status, version,
                  valid_to, geom)
VALUES (:code, :name, :kind, :community, :households, :population, 'live', 1, NULL,
        ST_Multi(ST_GeomFromText(:wkt, 4326)))
""")
_POST = text("""
INSERT INTO police_post (code, name, kind, staff, grid_code, geom)
VALUES (:code, :code, 'station', 3, :grid, ST_GeomFromText(:wkt, 4326))
""")
_ORG = text("""
INSERT INTO organization (name, category, employees, grid_code, geom)
VALUES (:name, 'enterprise', 10, :grid, ST_GeomFromText(:wkt, 4326)) RETURNING id
""")
_BUILDING = text("""
INSERT INTO building (households, population, geom)
VALUES (:households, :households * 3, ST_Multi(ST_GeomFromText(:wkt, 4326))) RETURNING id
""")


def _wkt(geom: BaseGeometry) -> str:
    return shapely.to_wkt(geom, rounding_precision=-1)


def insert_case(conn: Connection, case: Case) -> dict[str, int]:
    """Insert ``case`` (and the prefecture/county/street above it) through ``conn``.

    Does not commit: the caller owns the transaction. Returns the database ids of the
    case's organizations and buildings by their key.
    """
    frame = _wkt(_FRAME)
    # the same frame at every level: the audit never checks how regions nest
    for code, name, level, parent in (
        (PREFECTURE, "测试州", "prefecture", None),
        (COUNTY, "测试县", "county", PREFECTURE),
        (STREET, "测试街道", "street", COUNTY),
    ):
        conn.execute(
            _REGION, {"code": code, "name": name, "level": level, "parent": parent, "wkt": frame}
        )
    for c in case.communities:
        conn.execute(
            _REGION,
            {
                "code": c.key,
                "name": f"{case.name} ({c.key})",
                "level": "community",
                "parent": STREET,
                "wkt": _wkt(c.geom),
            },
        )
    grids = [
        {
            "code": g.key,
            "name": f"grid {g.key}",
            "kind": g.kind,
            "community": g.key[:12],
            "households": g.households,
            "population": g.population,
            "wkt": _wkt(g.geom),
        }
        for g in case.grids
    ]
    conn.execute(_GRID_CODE, [{"code": g["code"], "community": g["community"]} for g in grids])
    conn.execute(_GRID, grids)
    if case.posts:
        conn.execute(
            _POST, [{"code": p.key, "grid": p.grid_code, "wkt": _wkt(p.geom)} for p in case.posts]
        )
    ids = {}
    for o in case.orgs:
        ids[o.key] = conn.execute(
            _ORG, {"name": o.key, "grid": o.grid_code, "wkt": _wkt(o.geom)}
        ).scalar_one()
    for b in case.buildings:
        ids[b.key] = conn.execute(
            _BUILDING, {"households": b.households, "wkt": _wkt(b.geom)}
        ).scalar_one()
    return ids
