"""Defects planted in the demo on purpose, so that audits can be checked against the truth.

Each planted defect is recorded (kind, grids, community, area, where) in the manifest.
Geometric defects are planted on distinct grids of distinct communities so that they
never mix. Overlap strips lie along block edges (roads), where no building, organization
or post stands, so they change nobody's grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

import shapely
from shapely.geometry import Polygon

from gis.demo.graph import components
from gis.demo.grids import GridDraft
from gis.demo.layout import CountyLayout

__all__ = [
    "DEFECTS_PER_SCALE",
    "STRIP_WIDTH",
    "Planted",
    "adjacent_pairs",
    "plant_geometry",
    "split_building",
]

STRIP_WIDTH = 6.0  # metres; buildings keep 9 m from every block edge

DEFECTS_PER_SCALE = {
    "blind_spot": 4,
    "sliver_gap": 1,
    "overlap": 3,
    "nested_overlap": 2,
    "sliver_overlap": 1,
    "spill": 2,
    "building_split": 6,
    "no_police_post": 6,
    "several_police_posts": 4,
    "org_outside_grid": 8,
    "org_wrong_grid": 8,
    "households_out_of_band": 10,
    "understaffed": 8,
    "no_responsible_worker": 3,
    "team_under_minimum": 4,
    "branch_missing": 3,
}


@dataclass
class Planted:
    """Defects of one county, with geometries still in the metric frame."""

    records: list[dict[str, Any]] = field(default_factory=list)
    vacant_atoms: set[int] = field(default_factory=set)
    used_grids: set[int] = field(default_factory=set)
    used_communities: set[int] = field(default_factory=set)

    def add(
        self, kind: str, grids: list[int], geom: shapely.Geometry | None = None, **details: Any
    ) -> None:
        self.records.append({"kind": kind, "grids": grids, "geom": geom, **details})
        self.used_grids.update(grids)


def _shared_line(a: Polygon, b: Polygon) -> shapely.Geometry:
    return shapely.line_merge(shapely.intersection(a.boundary, b.boundary))


def adjacent_pairs(
    layout: CountyLayout, grids: list[GridDraft], same_community: bool, min_length: float
) -> list[tuple[int, int, float]]:
    """Adjacent grid pairs (i < j) with their shared boundary length."""
    owner = {a: gi for gi, g in enumerate(grids) for a in g.atoms}
    length: dict[tuple[int, int], float] = {}
    for (a, b), shared in layout.shared.items():
        ga, gb = owner.get(a), owner.get(b)
        if ga is None or gb is None or ga == gb:
            continue
        if (grids[ga].community == grids[gb].community) != same_community:
            continue
        key = (min(ga, gb), max(ga, gb))
        length[key] = length.get(key, 0.0) + shared
    return sorted((i, j, v) for (i, j), v in length.items() if v >= min_length)


def _fresh(planted: Planted, grids: list[GridDraft], *gis: int) -> bool:
    return all(
        g not in planted.used_grids and grids[g].community not in planted.used_communities
        for g in gis
    )


def _claim(planted: Planted, grids: list[GridDraft], *gis: int) -> None:
    planted.used_communities.update(grids[g].community for g in gis)


def _with_vertices_of(geom: Polygon, piece: Polygon) -> Polygon:
    """``geom`` with the corners of ``piece`` that lie on its edges added as vertices, so
    the two keep identical edges after reprojection (no T-junctions)."""
    return shapely.snap(geom, piece, 1e-6)


def _strip(taker: GridDraft, giver: GridDraft) -> Polygon | None:
    line = _shared_line(taker.geom, giver.geom)
    strip = shapely.intersection(giver.geom, line.buffer(STRIP_WIDTH, cap_style="flat"))
    strip = max(shapely.get_parts(strip), key=lambda p: p.area, default=None)
    return strip if strip is not None and strip.area > 50 else None


def _sliver(taker: GridDraft, giver: GridDraft, area: float) -> Polygon:
    """A thin triangle of ``area`` m² on the shared edge, reaching into ``giver``."""
    line = _shared_line(taker.geom, giver.geom)
    longest = max(shapely.get_parts(line), key=lambda p: p.length)
    mid = longest.interpolate(0.5, normalized=True)
    ahead = longest.interpolate(min(longest.length, longest.project(mid) + 2.0))
    base = np.asarray(ahead.coords[0]) - np.asarray(mid.coords[0])
    base /= max(float(np.hypot(*base)), 1e-9)
    normal = np.array([-base[1], base[0]])
    probe = shapely.Point(*(np.asarray(mid.coords[0]) + normal * 0.5))
    if not giver.geom.contains(probe):
        normal = -normal
    width = 2.0
    height = 2 * area / width
    p0 = np.asarray(mid.coords[0])
    tri = Polygon([p0, p0 + base * width, p0 + base * width / 2 + normal * height])
    return shapely.intersection(tri, giver.geom)


def plant_geometry(
    layout: CountyLayout, grids: list[GridDraft], counts: dict[str, int], rng: np.random.Generator
) -> Planted:
    """Blind spots, overlaps, nested grids, slivers and spills; grids are changed in place."""
    planted = Planted()
    order = rng.permutation(len(grids)).tolist()
    # blind spots: a block of a geographic grid left out of every grid (a vacant lot)
    for gi in order:
        if counts.get("blind_spot", 0) <= sum(r["kind"] == "blind_spot" for r in planted.records):
            break
        g = grids[gi]
        if g.kind != "geographic" or len(g.atoms) < 3 or not _fresh(planted, grids, gi):
            continue
        for atom in sorted(g.atoms, key=lambda a: -layout.atoms[a].area):
            rest = [a for a in g.atoms if a != atom]
            if len(components(rest, layout.adj)) == 1 and layout.atoms[atom].area > 5_000:
                g.atoms = rest
                g.geom = shapely.union_all(layout.atoms[rest])
                planted.vacant_atoms.add(atom)
                planted.add("blind_spot", [gi], layout.atoms[atom], atom=atom)
                _claim(planted, grids, gi)
                break
    inside = adjacent_pairs(layout, grids, same_community=True, min_length=120)
    across = adjacent_pairs(layout, grids, same_community=False, min_length=120)
    rng.shuffle(inside)
    rng.shuffle(across)

    done: dict[str, int] = {}

    def want(kind: str) -> bool:
        return done.get(kind, 0) < counts.get(kind, 0)

    def did(kind: str) -> None:
        done[kind] = done.get(kind, 0) + 1

    for i, j, _ in inside:
        a, b = (i, j) if rng.random() < 0.5 else (j, i)
        if not _fresh(planted, grids, a, b):
            continue
        ga, gb = grids[a], grids[b]
        if want("nested_overlap") and gb.kind == "organization" and ga.kind == "geographic":
            # the geographic grid was drawn over the campus too: one grid inside another
            ga.geom = shapely.union_all([ga.geom, gb.geom])
            planted.add("overlap", [a, b], gb.geom, nested=True)
            did("nested_overlap")
        elif want("overlap") and ga.kind == gb.kind == "geographic":
            strip = _strip(ga, gb)
            if strip is None:
                continue
            ga.geom = shapely.union_all([ga.geom, strip])
            gb.geom = _with_vertices_of(gb.geom, strip)
            planted.add("overlap", [a, b], strip, nested=False)
            did("overlap")
        elif want("sliver_overlap") and ga.kind == gb.kind == "geographic":
            tri = _sliver(ga, gb, 0.3)
            ga.geom = shapely.union_all([ga.geom, tri])
            gb.geom = _with_vertices_of(gb.geom, tri)
            planted.add("overlap", [a, b], tri, nested=False, sliver=True)
            did("sliver_overlap")
        elif want("sliver_gap") and ga.kind == gb.kind == "geographic":
            tri = _sliver(gb, ga, 0.4)
            ga.geom = shapely.difference(ga.geom, tri)
            gb.geom = _with_vertices_of(gb.geom, tri)
            planted.add("blind_spot", [a], tri, sliver=True, beside=b)
            did("sliver_gap")
        else:
            continue
        _claim(planted, grids, a, b)
    for i, j, _ in across:
        if not want("spill"):
            break
        a, b = (i, j) if rng.random() < 0.5 else (j, i)
        if not _fresh(planted, grids, a, b):
            continue
        strip = _strip(grids[a], grids[b])
        if strip is None:
            continue
        grids[a].geom = shapely.union_all([grids[a].geom, strip])
        grids[b].geom = _with_vertices_of(grids[b].geom, strip)
        planted.add("spill", [a, b], strip)
        did("spill")
        _claim(planted, grids, a, b)
    return planted


def split_building(taker: GridDraft, giver: GridDraft, share: float = 0.6) -> Polygon:
    """A footprint straddling the boundary: ``share`` of it in ``taker``, the rest in ``giver``."""
    line = _shared_line(taker.geom, giver.geom)
    longest = max(shapely.get_parts(line), key=lambda p: p.length)
    mid = np.asarray(longest.interpolate(0.5, normalized=True).coords[0])
    ahead = np.asarray(longest.interpolate(longest.length / 2 + 1.0).coords[0])
    along = (ahead - mid) / max(float(np.hypot(*(ahead - mid))), 1e-9)
    normal = np.array([-along[1], along[0]])
    if not taker.geom.contains(shapely.Point(*(mid + normal * 0.5))):
        normal = -normal
    depth, width = 14.0, 12.0
    into_taker = depth * share
    corners = [
        mid - along * width / 2 - normal * (depth - into_taker),
        mid + along * width / 2 - normal * (depth - into_taker),
        mid + along * width / 2 + normal * into_taker,
        mid - along * width / 2 + normal * into_taker,
    ]
    return Polygon(corners)
