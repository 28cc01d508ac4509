"""Edits on a plan's draft that keep each community a partition: split, merge, reshape.

Geometry at the edge: the draft grids of one community are read as shapely polygons,
edited, and written back in the caller's transaction; households and population of the
changed grids are recounted from the buildings standing in them (by each building's
point on surface), or shared out by area where the community has no buildings.
Vertices within the snapping tolerance of a neighbour's or the community's boundary
snap to it, so no sliver is born.
"""

from __future__ import annotations

from sqlalchemy import Connection

import shapely
from shapely.ops import split as split_polygon

from gis.edit.draft import (
    MIN_PART_M2,
    SNAP_DEGREES,
    area_m2,
    delete_grids,
    insert_grid,
    load_draft,
    next_codes,
    recount,
    valid_polygonal,
    write_grid,
)
from gis.edit.plans import PlanInfo, bump, log_change
from gis.errors import InvalidGeometry, InvalidInput

__all__ = ["merge_grids", "reshape_grid", "split_grid"]


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
    draft = load_draft(conn, plan_id, code)
    if line.geom_type not in ("LineString", "MultiLineString"):
        raise InvalidGeometry(f"split of grid {code}: the cut must be a line, not {line.geom_type}")
    grid = draft.grids[code]
    parts = [p for p in shapely.get_parts(split_polygon(grid, line)) if area_m2(p) >= MIN_PART_M2]
    if len(parts) < 2:
        raise InvalidGeometry(
            f"split of grid {code}: the line does not cross the grid from edge to edge; "
            "draw it across the whole grid"
        )
    parts.sort(key=lambda p: -p.area)
    new_codes = next_codes(conn, draft.community, len(parts) - 1)
    write_grid(conn, draft, code, parts[0])
    total = sum(p.area for p in parts)
    shares = {code: {code: parts[0].area / total}}
    for new, part in zip(new_codes, parts[1:], strict=True):
        attrs = draft.attrs[code]
        insert_grid(conn, draft, new, f"{attrs['name']}（分）", str(attrs["kind"]), part)
        shares[new] = {code: part.area / total}
    recount(conn, draft, shares)
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
    draft = load_draft(conn, plan_id, codes[0])
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
    write_grid(conn, draft, keep, merged)
    delete_grids(conn, draft, [c for c in codes if c != keep])
    recount(conn, draft, {keep: dict.fromkeys(codes, 1.0)})
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
    draft = load_draft(conn, plan_id, code)
    new = valid_polygonal(geometry, f"reshape of grid {code}")
    outside = new.difference(draft.boundary)
    if area_m2(outside) > MIN_PART_M2:
        if not clip:
            raise InvalidGeometry(
                f"reshape of grid {code}: {area_m2(outside):,.0f} m² lie outside community "
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
    if area_m2(lost) > MIN_PART_M2:
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
    swallowed = [o for o, g in others.items() if g.is_empty or area_m2(g) < MIN_PART_M2]
    if swallowed:
        raise InvalidGeometry(f"reshape of grid {code} would swallow grid {swallowed[0]}")
    # every check is done: only now is anything written
    write_grid(conn, draft, code, new)
    for other, geom in others.items():
        if not geom.equals(draft.grids[other]):
            write_grid(conn, draft, other, geom)
    recount(conn, draft, {})
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
