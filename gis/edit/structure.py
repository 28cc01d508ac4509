"""Edits that change which grids exist or what they hold: carve, retire, renumber, and
moving a building to another grid. Like every edit they keep the community a partition.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection, text

import shapely
from shapely.ops import nearest_points

from gis.codes import sequence_order
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
from gis.errors import InvalidGeometry, InvalidInput, NotFound

__all__ = ["carve_grid", "move_building", "renumber_grids", "retire_grid"]

_ANY_GRID = text("SELECT code FROM plan_grid WHERE plan_id = :plan AND community_code = :c LIMIT 1")
_FOOTPRINT = text("SELECT ST_AsBinary(geom) FROM building WHERE id = :id")
_RENAME = text("UPDATE plan_grid SET code = :new WHERE plan_id = :plan AND code = :old")


def carve_grid(
    conn: Connection,
    plan_id: int,
    community: str,
    geometry: shapely.Geometry,
    kind: str,
    name: str,
    actor: str,
    expected_version: int | None = None,
) -> tuple[PlanInfo, str]:
    """Cut a new unit or organization grid out of the community's geographic grids."""
    if kind not in ("unit", "organization"):
        raise InvalidInput(f"carve: kind {kind!r}; carve a unit or organization grid")
    plan = bump(conn, plan_id, expected_version)
    anchor = conn.execute(_ANY_GRID, {"plan": plan_id, "c": community}).scalar_one_or_none()
    if anchor is None:
        raise NotFound(f"community {community} is not in plan {plan_id}")
    draft = load_draft(conn, plan_id, anchor)
    shape = valid_polygonal(geometry, f"carve in {community}")
    if area_m2(shape.difference(draft.boundary)) > MIN_PART_M2:
        raise InvalidGeometry(f"carve: the new grid reaches outside community {community}")
    reference = shapely.union_all([g.boundary for g in draft.grids.values()])
    shape = shapely.snap(shape, reference, SNAP_DEGREES).intersection(draft.boundary)
    for code, geom in draft.grids.items():
        if geom.intersects(shape) and area_m2(geom.intersection(shape)) > MIN_PART_M2:
            if draft.attrs[code]["kind"] != "geographic":
                raise InvalidGeometry(
                    f"carve: the new grid overlaps {draft.attrs[code]['kind']} grid {code}; "
                    "carve only out of geographic grids"
                )
            rest = geom.difference(shape)
            if area_m2(rest) < MIN_PART_M2:
                raise InvalidGeometry(f"carve: the new grid would swallow grid {code} whole")
            write_grid(conn, draft, code, rest)
    (code,) = next_codes(conn, community, 1)
    insert_grid(conn, draft, code, name, kind, shape)
    recount(conn, draft, {})
    log_change(conn, actor, "grid.carve", "plan_grid", code, plan_id, after={"kind": kind})
    return plan, code


def retire_grid(
    conn: Connection,
    plan_id: int,
    code: str,
    actor: str,
    give_to: str | None = None,
    expected_version: int | None = None,
) -> PlanInfo:
    """Retire a grid: its land goes to ``give_to`` or the neighbour sharing the longest
    boundary; its code is never used again."""
    plan = bump(conn, plan_id, expected_version)
    draft = load_draft(conn, plan_id, code)
    land = draft.grids[code]
    others = {c: g for c, g in draft.grids.items() if c != code}
    target = give_to or max(
        others, key=lambda c: others[c].boundary.intersection(land.boundary).length, default=None
    )
    if target is None or target not in others:
        raise InvalidInput(
            f"retire: {give_to or 'no neighbour'} is not a grid of "
            f"community {draft.community} in plan {plan_id}"
        )
    merged = shapely.union_all([others[target], land])
    if merged.geom_type != "Polygon":
        raise InvalidGeometry(f"retire: grid {target} does not touch grid {code}")
    write_grid(conn, draft, target, merged)
    delete_grids(conn, draft, [code])
    recount(conn, draft, {target: {target: 1.0, code: 1.0}})
    log_change(conn, actor, "grid.retire", "plan_grid", code, plan_id, after={"to": target})
    return plan


def renumber_grids(
    conn: Connection, plan_id: int, community: str, actor: str, expected_version: int | None = None
) -> tuple[PlanInfo, dict[str, str]]:
    """New codes in reading order (west→east, north→south). Codes already issued are never
    reused, so the new sequence starts after the highest one ever issued."""
    plan = bump(conn, plan_id, expected_version)
    anchor = conn.execute(_ANY_GRID, {"plan": plan_id, "c": community}).scalar_one_or_none()
    if anchor is None:
        raise NotFound(f"community {community} is not in plan {plan_id}")
    draft = load_draft(conn, plan_id, anchor)
    codes = sorted(draft.grids)
    points = [(draft.grids[c].centroid.x, draft.grids[c].centroid.y) for c in codes]
    band = math.sqrt(sum(g.area for g in draft.grids.values()) / len(codes))
    fresh = next_codes(conn, community, len(codes))
    mapping = {codes[i]: fresh[n] for n, i in enumerate(sequence_order(points, band))}
    for old, new in mapping.items():
        conn.execute(_RENAME, {"plan": plan_id, "old": old, "new": new})
    log_change(conn, actor, "grid.renumber", "plan", community, plan_id, after=mapping)
    return plan, mapping


def move_building(
    conn: Connection,
    plan_id: int,
    building: int,
    to_grid: str,
    actor: str,
    expected_version: int | None = None,
) -> PlanInfo:
    """Move a building to a neighbouring grid: its footprint (and the land under it) goes
    to that grid, since a building belongs to the grid its footprint lies in."""
    plan = bump(conn, plan_id, expected_version)
    wkb = conn.execute(_FOOTPRINT, {"id": building}).scalar_one_or_none()
    if wkb is None:
        raise NotFound(f"building {building} does not exist")
    footprint = shapely.from_wkb(bytes(wkb))
    draft = load_draft(conn, plan_id, to_grid)
    if area_m2(footprint.difference(draft.boundary)) > MIN_PART_M2:
        raise InvalidInput(
            f"building {building} is not in community {draft.community}, so it cannot move "
            f"to grid {to_grid}; a move stays inside one community"
        )
    source = next((c for c, g in draft.grids.items() if g.contains(footprint.centroid)), None)
    if source is None or source == to_grid:
        raise InvalidInput(f"building {building} does not stand in another grid of the plan")
    # the footprint and a corridor of land from it to the target grid change hands
    _, near = nearest_points(footprint, draft.grids[to_grid])
    corridor = shapely.union_all([footprint, near.buffer(SNAP_DEGREES)]).convex_hull
    piece = corridor.intersection(draft.grids[source])
    target = shapely.union_all([draft.grids[to_grid], piece])
    if target.geom_type != "Polygon":
        raise InvalidGeometry(
            f"building {building} cannot join grid {to_grid}: another grid lies between them"
        )
    write_grid(conn, draft, to_grid, target)
    write_grid(conn, draft, source, draft.grids[source].difference(piece))
    recount(conn, draft, {})
    log_change(
        conn, actor, "building.move", "plan_grid", to_grid, plan_id, after={"building": building}
    )
    return plan
