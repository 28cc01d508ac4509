"""Automatic grids for one community, written into a new draft plan (never live).

Loads the community, its roads, its buildings and the plan's draft grids (SQL at the
edge), builds the atoms, partitions them, and replaces the draft's grids that are not
locked by the result: geographic grids with fresh codes in west→east, north→south order.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Connection, text

import shapely
from shapely.geometry import MultiPolygon

from gis.autogrid.atoms import Atoms, build_atoms
from gis.autogrid.partition import Metrics, measure, partition
from gis.codes import sequence_order
from gis.edit.draft import MIN_PART_M2, next_codes
from gis.edit.plans import PlanInfo, bump, create_plan, get_plan, log_change
from gis.errors import InvalidInput

__all__ = ["AutogridResult", "autogrid", "load_atoms"]

log = logging.getLogger(__name__)
_SEAM = 0.02  # m
_SNAP_DEGREES = 1e-8  # ≈ 1 mm

_COMMUNITY = text(
    "SELECT name, ST_AsBinary(geom) FROM region WHERE code = :c AND level = 'community'"
)
_DRAFT = text("""
SELECT code, kind, ST_AsBinary(geom) AS wkb FROM plan_grid
WHERE plan_id = :plan AND community_code = :c ORDER BY code
""")
_ROADS = text("""
SELECT ST_AsBinary(d.geom) FROM road d JOIN region r ON r.code = :c
WHERE d.geom && r.geom AND ST_Intersects(d.geom, r.geom) ORDER BY d.id
""")
_BUILDINGS = text("""
SELECT b.households, b.population, ST_AsBinary(b.geom) AS wkb
FROM building b JOIN region r ON r.code = :c
WHERE b.geom && r.geom AND ST_Intersects(r.geom, ST_PointOnSurface(b.geom))
  AND NOT EXISTS (SELECT 1 FROM plan_grid k
                  WHERE k.plan_id = :plan AND k.community_code = :c AND k.kind = ANY(:lock)
                    AND k.geom && b.geom AND ST_Intersects(k.geom, ST_PointOnSurface(b.geom)))
ORDER BY b.id
""")
_DELETE = text(
    "DELETE FROM plan_grid WHERE plan_id = :plan AND community_code = :c "
    "AND NOT (kind = ANY(:lock))"
)
_SPLIT = text("""
SELECT count(*) FROM (
    SELECT b.id FROM building b JOIN plan_grid p
      ON p.plan_id = :plan AND p.code = ANY(:codes) AND b.geom && p.geom
    WHERE ST_Intersects(b.geom, p.geom)
      AND ST_Area(ST_Intersection(b.geom, p.geom)::geography) > 0.01
    GROUP BY b.id HAVING count(*) > 1) s
""")
_INSERT = text("""
INSERT INTO plan_grid (plan_id, code, name, kind, community_code, households, population, geom)
VALUES (:plan, :code, :name, 'geographic', :c, :h, :pop, ST_Multi(ST_GeomFromWKB(:wkb, 4326)))
""")


@dataclass
class AutogridResult:
    plan: PlanInfo
    community: str
    target: float
    codes: list[str]
    kept: list[str]
    metrics: Metrics
    atoms: int
    buildings: int
    buildings_split: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def load_atoms(
    conn: Connection, plan_id: int, community: str, lock: tuple[str, ...]
) -> tuple[Atoms, list[str], str]:
    """The community's atoms in a plan, the codes of the kept grids, the community name."""
    row = conn.execute(_COMMUNITY, {"c": community}).one_or_none()
    if row is None:
        raise InvalidInput(f"{community} is not a community code; give a 12-digit community")
    boundary = shapely.from_wkb(bytes(row[1]))
    draft = conn.execute(_DRAFT, {"plan": plan_id, "c": community}).all()
    kept = [r for r in draft if r.kind in lock]
    roads = [shapely.from_wkb(bytes(w)) for w in conn.execute(_ROADS, {"c": community}).scalars()]
    rows = conn.execute(_BUILDINGS, {"c": community, "plan": plan_id, "lock": list(lock)}).all()
    if not rows:
        raise InvalidInput(
            f"community {community}: no buildings outside the kept grids, so no households "
            "to balance; load buildings first (gridgov import) or draw the grids by hand"
        )
    atoms = build_atoms(
        boundary,
        np.asarray(roads, dtype=object),
        np.asarray([shapely.from_wkb(bytes(r.wkb)) for r in rows], dtype=object),
        np.array([r.households for r in rows], dtype=float),
        np.array([r.population for r in rows], dtype=float),
        np.asarray([shapely.from_wkb(bytes(r.wkb)) for r in kept], dtype=object),
    )
    return atoms, [r.code for r in kept], str(row[0])


def _single(geom: shapely.Geometry) -> shapely.Geometry:
    geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return MultiPolygon(sorted(parts, key=lambda p: -p.area)[:1])


def _shapes(atoms: Atoms, labels: np.ndarray, parts: list[int]) -> list[shapely.Geometry]:
    """One polygon per part (metres) that tile the free area exactly: each part's atoms,
    grown by 2 cm to close the millimetre seams between atoms cut separately, clipped to
    the free area and to the parts before it."""
    taken: list[shapely.Geometry] = []
    shapes = []
    for p in parts:
        raw = shapely.union_all(atoms.polygons[labels == p])
        grown = shapely.intersection(shapely.buffer(raw, _SEAM), atoms.free)
        if taken:
            grown = shapely.difference(grown, shapely.union_all(taken))
        taken.append(grown)
        shapes.append(_largest(grown))
    return shapes


def _largest(geom: shapely.Geometry) -> shapely.Geometry:
    polys = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type == "Polygon"]
    best = max(polys, key=lambda p: p.area)
    holes = [r for r in best.interiors if shapely.Polygon(r).area >= MIN_PART_M2]
    return shapely.Polygon(best.exterior, holes)


def _in_lonlat(atoms: Atoms, shapes: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Back to lon/lat, snapped to and clipped by the free area as computed in lon/lat, so
    the projection's round trip leaves no sliver of gap, overlap or spill at its edge."""
    free = atoms.free_lonlat
    taken: list[shapely.Geometry] = []
    out = []
    for s in shapes:
        g = shapely.snap(atoms.to_lonlat(s), free, _SNAP_DEGREES)
        g = shapely.intersection(shapely.make_valid(g), free)
        if taken:
            g = shapely.difference(g, shapely.union_all(taken))
        taken.append(g)
        out.append(_single(g))
    # what the round trip left in no grid goes to the grid it shares most boundary with
    left = shapely.difference(free, shapely.union_all(out))
    for piece in shapely.get_parts(left):
        if piece.geom_type != "Polygon" or piece.is_empty:
            continue
        touching = [shapely.length(shapely.intersection(piece.boundary, g)) for g in out]
        best = int(np.argmax(touching))
        if touching[best] > 0:
            out[best] = _single(shapely.union(out[best], piece))
    return out


def autogrid(
    conn: Connection,
    community: str,
    target: float | None = 400,
    n_grids: int | None = None,
    lock: tuple[str, ...] = ("unit", "organization"),
    seed: int = 0,
    author: str = "autogrid",
    name: str = "",
) -> AutogridResult:
    """A new draft plan of ``community`` (named ``name``, default "autogrid of …") whose
    grids (other than the ``lock`` kinds) are replaced by automatic geographic grids of
    about ``target`` households (or ``n_grids`` grids). The caller owns the transaction."""
    start = time.perf_counter()
    if n_grids is None and (target is None or target <= 0):
        raise InvalidInput("autogrid: give a positive --target households per grid or n_grids")
    if n_grids is not None and n_grids < 1:
        raise InvalidInput(f"autogrid: n_grids must be at least 1, not {n_grids}")
    plan = create_plan(conn, [community], author, name=name or f"autogrid of {community}")
    atoms, kept, place = load_atoms(conn, plan.id, community, lock)
    g = atoms.graph
    total = float(g.weights.sum())
    warnings: list[str] = []
    if n_grids is not None:
        k = n_grids
        goal = total / k
    else:
        assert target is not None
        goal = float(target)
        k = max(1, round(total / goal))
        if goal > total:
            warnings.append(
                f"community {community}: target {goal:g} is more than its {total:g} "
                "households outside kept grids; drawing one grid"
            )
    for w in warnings:
        log.warning(w)
    labels = partition(g, k, seed=seed)
    metrics = measure(g, labels, goal)
    parts = sorted(set(labels.tolist()))
    geoms = _in_lonlat(atoms, _shapes(atoms, labels, parts))
    cents = [
        tuple(
            shapely.get_coordinates(
                shapely.centroid(shapely.union_all(atoms.polygons[labels == p]))
            )[0]
        )
        for p in parts
    ]
    band = math.sqrt(float(g.areas.sum()) / max(len(parts), 1))
    order = sequence_order([(float(x), float(y)) for x, y in cents], band)
    codes = next_codes(conn, community, len(parts))
    conn.execute(_DELETE, {"plan": plan.id, "c": community, "lock": list(lock)})
    for seq, idx in enumerate(order):
        members = labels == parts[idx]
        conn.execute(
            _INSERT,
            {
                "plan": plan.id,
                "code": codes[seq],
                "name": f"{place}第{seq + 1}网格",
                "c": community,
                "h": round(float(g.weights[members].sum())),
                "pop": round(float(g.population[members].sum())),
                "wkb": shapely.to_wkb(geoms[idx]),
            },
        )
    split = int(conn.execute(_SPLIT, {"plan": plan.id, "codes": codes}).scalar_one())
    bump(conn, plan.id, None)
    seconds = time.perf_counter() - start
    log_change(
        conn,
        author,
        "plan.autogrid",
        "plan",
        str(plan.id),
        plan.id,
        after={"community": community, "target": goal, "seed": seed, "grids": codes, "kept": kept},
    )
    return AutogridResult(
        plan=get_plan(conn, plan.id),
        community=community,
        target=goal,
        codes=codes,
        kept=kept,
        metrics=metrics,
        atoms=g.n,
        buildings=atoms.buildings,
        buildings_split=split,
        seconds=seconds,
        warnings=warnings,
    )
