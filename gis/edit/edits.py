"""Edits on a plan's draft that keep each community a partition: split, merge, reshape.

Geometry at the edge: the draft grids of one community are read as shapely polygons,
edited, and written back in the caller's transaction; households and population of the
changed grids are recounted from the buildings standing in them (by each building's
point on surface), or shared out by area where the community has no buildings.
Vertices within the snapping tolerance of a neighbour's or the community's boundary
snap to it, so no sliver is born.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import split as split_polygon

from gis.codes import grid_code
from gis.edit.plans import PlanInfo, bump, log_change
from gis.errors import InvalidGeometry, InvalidInput, NotFound

__all__ = ["SNAP_DEGREES", "merge_grids", "reshape_grid", "split_grid"]

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


def _load(conn: Connection, plan_id: int, code: str) -> Draft:
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


def _valid_polygonal(geom: shapely.Geometry, what: str) -> shapely.Geometry:
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidGeometry(f"{what}: expected a polygon, got {geom.geom_type}")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise InvalidGeometry(f"{what}: invalid geometry ({reason}); fix the drawing")
    return geom


def _area_m2(geom: shapely.Geometry) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0])


def _next_codes(conn: Connection, community: str, n: int) -> list[str]:
    used = {int(c[12:]) for c in conn.execute(_USED_SEQUENCES, {"c": community}).scalars()}
    start = max(used, default=0) + 1
    return [grid_code(community, start + i) for i in range(n)]


def _recount(conn: Connection, draft: Draft, shares: dict[str, dict[str, float]]) -> None:
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


def _write(conn: Connection, draft: Draft, code: str, geom: shapely.Geometry) -> None:
    conn.execute(_UPDATE, {"plan": draft.plan, "code": code, "wkb": shapely.to_wkb(geom)})


def split_grid(
    conn: Connection,
    plan_id: int,
    code: str,
    line: shapely.Geometry,
    actor: str,
    expected_version: int | None = None,
) -> tuple[PlanInfo, list[str]]:
    """Split grid ``code`` along ``line`` (lon/lat) into two or more grids; the largest
    part keeps the code, the others get new codes never used before."""
    plan = bump(conn, plan_id, expected_version)
    draft = _load(conn, plan_id, code)
    if line.geom_type not in ("LineString", "MultiLineString"):
        raise InvalidGeometry(f"split of grid {code}: the cut must be a line, not {line.geom_type}")
    grid = draft.grids[code]
    parts = [p for p in shapely.get_parts(split_polygon(grid, line)) if _area_m2(p) >= MIN_PART_M2]
    if len(parts) < 2:
        raise InvalidGeometry(
            f"split of grid {code}: the line does not cross the grid from edge to edge; "
            "draw it across the whole grid"
        )
    parts.sort(key=lambda p: -p.area)
    new_codes = _next_codes(conn, draft.community, len(parts) - 1)
    _write(conn, draft, code, parts[0])
    total = sum(p.area for p in parts)
    shares = {code: {code: parts[0].area / total}}
    for new, part in zip(new_codes, parts[1:], strict=True):
        attrs = draft.attrs[code]
        conn.execute(
            _INSERT,
            {
                "plan": plan_id,
                "code": new,
                "name": f"{attrs['name']}（分）",
                "kind": attrs["kind"],
                "community": draft.community,
                "wkb": shapely.to_wkb(part),
            },
        )
        shares[new] = {code: part.area / total}
    _recount(conn, draft, shares)
    log_change(
        conn, actor, "grid.split", "plan_grid", code, plan_id, after={"into": [code, *new_codes]}
    )
    return plan, [code, *new_codes]


def merge_grids(
    conn: Connection,
    plan_id: int,
    codes: list[str],
    actor: str,
    expected_version: int | None = None,
) -> PlanInfo:
    """Merge adjacent grids of one community into the one with the lowest code."""
    if len(set(codes)) < 2:
        raise InvalidInput("a merge needs at least two different grid codes")
    plan = bump(conn, plan_id, expected_version)
    draft = _load(conn, plan_id, codes[0])
    missing = [c for c in codes if c not in draft.grids]
    if missing:
        raise InvalidInput(
            f"merge: grid(s) {', '.join(missing)} are not in community {draft.community} "
            f"of plan {plan_id}; only grids of one community can be merged"
        )
    geoms = [draft.grids[c] for c in codes]
    merged = shapely.union_all(geoms)
    if merged.geom_type != "Polygon":
        raise InvalidGeometry(
            f"merge of {', '.join(codes)}: the grids do not touch along a boundary; "
            "only adjacent grids can be merged"
        )
    keep = min(codes)
    _write(conn, draft, keep, merged)
    conn.execute(_DELETE, {"plan": plan_id, "codes": [c for c in codes if c != keep]})
    _recount(conn, draft, {keep: dict.fromkeys(codes, 1.0)})
    log_change(conn, actor, "grid.merge", "plan_grid", keep, plan_id, after={"merged": codes})
    return plan


def reshape_grid(
    conn: Connection,
    plan_id: int,
    code: str,
    geometry: shapely.Geometry,
    actor: str,
    give_to: str | None = None,
    clip: bool = False,
    expected_version: int | None = None,
) -> PlanInfo:
    """Redraw grid ``code``. Area it gains is taken from its neighbours; area it gives up
    goes to ``give_to`` or to the neighbour sharing the longest boundary with it — never to
    nobody."""
    plan = bump(conn, plan_id, expected_version)
    draft = _load(conn, plan_id, code)
    new = _valid_polygonal(geometry, f"reshape of grid {code}")
    outside = new.difference(draft.boundary)
    if _area_m2(outside) > MIN_PART_M2:
        if not clip:
            raise InvalidGeometry(
                f"reshape of grid {code}: {_area_m2(outside):,.0f} m² lie outside community "
                f"{draft.community}; redraw it inside, or pass clip=true to cut it off"
            )
        new = new.intersection(draft.boundary)
    others = {c: g for c, g in draft.grids.items() if c != code}
    reference = shapely.union_all([draft.boundary.boundary, *(g.boundary for g in others.values())])
    new = shapely.make_valid(shapely.snap(new, reference, SNAP_DEGREES))
    new = shapely.union_all([p for p in shapely.get_parts(new) if p.geom_type == "Polygon"])
    old = draft.grids[code]
    lost = old.difference(new)
    gained = new.difference(old)
    for other, geom in others.items():
        if geom.intersects(gained):
            others[other] = geom.difference(gained)
    if _area_m2(lost) > MIN_PART_M2:
        target = give_to or max(
            others,
            key=lambda c: others[c].boundary.intersection(lost.boundary).length,
            default=None,
        )
        if (
            target is None
            or target not in others
            or (not others[target].touches(lost) and not (others[target].intersects(lost)))
        ):
            raise InvalidGeometry(
                f"reshape of grid {code}: the area it gives up touches no neighbour"
                + (f" {give_to}" if give_to else "")
                + "; it would be left in no grid — name a neighbour to give it to"
            )
        others[target] = shapely.union_all([others[target], lost])
    _write(conn, draft, code, new)
    for other, geom in others.items():
        if not geom.equals(draft.grids[other]):
            if geom.is_empty:
                raise InvalidGeometry(f"reshape of grid {code} would swallow grid {other}")
            _write(conn, draft, other, geom)
    _recount(conn, draft, {})
    log_change(
        conn,
        actor,
        "grid.reshape",
        "plan_grid",
        code,
        plan_id,
        after={"give_to": give_to, "clip": clip},
    )
    return plan
