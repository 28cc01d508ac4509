"""A plan's draft of one community as shapely polygons, and writing it back.

Shared by the edits: loading, snapping tolerance, fresh codes, recounting households from
the buildings standing in each grid (by each building's point on surface), or sharing
them out by area where the community has no buildings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

import shapely
from shapely.geometry import MultiPolygon, Polygon

from gis.codes import grid_code
from gis.errors import InvalidGeometry, NotFound

__all__ = [
    "MIN_PART_M2",
    "SNAP_DEGREES",
    "Draft",
    "area_m2",
    "delete_grids",
    "insert_grid",
    "load_draft",
    "next_codes",
    "recount",
    "valid_polygonal",
    "write_grid",
]

SNAP_DEGREES = 5e-6  # ≈ 0.5 m: the default profile's sliver width
MIN_PART_M2 = 1.0

_DRAFT = text("""
SELECT code, name, kind, community_code, households, population, ST_AsBinary(geom) AS wkb
FROM plan_grid WHERE plan_id = :plan AND community_code = :community ORDER BY code
""")
_COMMUNITY = text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c AND level = 'community'")
_OWNER = text("SELECT community_code FROM plan_grid WHERE plan_id = :plan AND code = :code")
_UPDATE = text("""
UPDATE plan_grid SET geom = ST_Multi(ST_GeomFromWKB(:wkb, 4326))
WHERE plan_id = :plan AND code = :code
""")
_INSERT = text("""
INSERT INTO plan_grid (plan_id, code, name, kind, community_code, households, population, geom)
VALUES (:plan, :code, :name, :kind, :community, 0, 0, ST_Multi(ST_GeomFromWKB(:wkb, 4326)))
""")
_DELETE = text("DELETE FROM plan_grid WHERE plan_id = :plan AND code = ANY(:codes)")
_USED_SEQUENCES = text("""
SELECT code FROM grid_code WHERE community_code = :c
UNION SELECT code FROM plan_grid WHERE community_code = :c
""")
_RECOUNT = text("""
WITH homes AS (
    SELECT DISTINCT ON (b.id) b.id, p.code, b.households, b.population
    FROM plan_grid p JOIN building b ON b.geom && p.geom
    WHERE p.plan_id = :plan AND p.community_code = :community
      AND ST_Intersects(p.geom, ST_PointOnSurface(b.geom))
    ORDER BY b.id, p.code
)
UPDATE plan_grid p SET households = coalesce(s.h, 0), population = coalesce(s.pop, 0)
FROM (SELECT p2.code, sum(h.households) AS h, sum(h.population) AS pop
      FROM plan_grid p2 LEFT JOIN homes h ON h.code = p2.code
      WHERE p2.plan_id = :plan AND p2.community_code = :community GROUP BY p2.code) s
WHERE p.plan_id = :plan AND p.code = s.code
""")
_HAS_BUILDINGS = text("""
SELECT EXISTS (SELECT 1 FROM building b JOIN region r ON r.code = :c
               WHERE b.geom && r.geom AND ST_Intersects(r.geom, b.geom))
""")


@dataclass
class Draft:
    """The draft grids of one community, as shapely polygons."""

    plan: int
    community: str
    boundary: shapely.Geometry
    grids: dict[str, Polygon | MultiPolygon]
    attrs: dict[str, dict[str, object]]


def load_draft(conn: Connection, plan_id: int, code: str) -> Draft:
    community = conn.execute(_OWNER, {"plan": plan_id, "code": code}).scalar_one_or_none()
    if community is None:
        raise NotFound(f"grid {code} is not in plan {plan_id}")
    rows = conn.execute(_DRAFT, {"plan": plan_id, "community": community}).all()
    boundary = shapely.from_wkb(bytes(conn.execute(_COMMUNITY, {"c": community}).scalar_one()))
    return Draft(
        plan_id,
        community,
        boundary,
        {r.code: shapely.from_wkb(bytes(r.wkb)) for r in rows},
        {
            r.code: {
                "name": r.name,
                "kind": r.kind,
                "households": r.households,
                "population": r.population,
            }
            for r in rows
        },
    )


def valid_polygonal(geom: shapely.Geometry, what: str) -> shapely.Geometry:
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidGeometry(f"{what}: expected a polygon, got {geom.geom_type}")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise InvalidGeometry(f"{what}: invalid geometry ({reason}); fix the drawing")
    return geom


def area_m2(geom: shapely.Geometry) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0])


def next_codes(conn: Connection, community: str, n: int) -> list[str]:
    used = {int(c[12:]) for c in conn.execute(_USED_SEQUENCES, {"c": community}).scalars()}
    start = max(used, default=0) + 1
    return [grid_code(community, start + i) for i in range(n)]


def recount(conn: Connection, draft: Draft, shares: dict[str, dict[str, float]]) -> None:
    """Households and population of the draft's grids: from buildings when the community
    has any, else ``shares`` (new code → {old code: share of its figures})."""
    if conn.execute(_HAS_BUILDINGS, {"c": draft.community}).scalar_one():
        conn.execute(_RECOUNT, {"plan": draft.plan, "community": draft.community})
        return
    for code, parts in shares.items():
        figures = {
            key: round(sum(_number(draft.attrs[old][key]) * share for old, share in parts.items()))
            for key in ("households", "population")
        }
        conn.execute(
            text(
                "UPDATE plan_grid SET households = :households, population = :population "
                "WHERE plan_id = :plan AND code = :code"
            ),
            {**figures, "plan": draft.plan, "code": code},
        )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def write_grid(conn: Connection, draft: Draft, code: str, geom: shapely.Geometry) -> None:
    conn.execute(_UPDATE, {"plan": draft.plan, "code": code, "wkb": shapely.to_wkb(geom)})


def insert_grid(
    conn: Connection, draft: Draft, code: str, name: str, kind: str, geom: shapely.Geometry
) -> None:
    conn.execute(
        _INSERT,
        {
            "plan": draft.plan,
            "code": code,
            "name": name,
            "kind": kind,
            "community": draft.community,
            "wkb": shapely.to_wkb(geom),
        },
    )


def delete_grids(conn: Connection, draft: Draft, codes: list[str]) -> None:
    conn.execute(_DELETE, {"plan": draft.plan, "codes": codes})
