"""The shape of a generated county: its outline, blocks (atoms), streets and communities.

Everything here is in a local metric frame centred on the county seat (transverse
Mercator, metres). Blocks are the Voronoi cells of seed points that are dense in the
city and the town centres and sparse in the farmland, so the block boundaries form an
irregular road network. Communities are contiguous groups of blocks and streets are
contiguous groups of communities' blocks: every level tiles the level above exactly,
because every polygon is a union of the same blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import shapely
from shapely.geometry import MultiPoint, Polygon

from gis.demo.catalog import County
from gis.demo.graph import Adjacency, adjacency, contiguous_clusters, make_contiguous, rebalance

__all__ = ["CountyLayout", "layout_county"]

URBAN_COMMUNITY_M2 = 0.75e6
VILLAGE_M2 = 7.0e6
URBAN_SPACING = 190.0
CORE_SPACING = 200.0
ATOMS_PER_VILLAGE = 7
MIN_ATOMS = 6


@dataclass
class CountyLayout:
    """Blocks of one county and which street and community each belongs to."""

    outline: Polygon
    atoms: Any  # numpy object array of shapely polygons
    zone: np.ndarray  # 0 urban, 1 town core, 2 rural
    street: np.ndarray  # index into county.streets
    community: np.ndarray  # index into county.communities
    adj: Adjacency
    shared: dict[tuple[int, int], float]

    @property
    def centroids(self) -> np.ndarray:
        return np.asarray(shapely.get_coordinates(shapely.centroid(self.atoms)))


def _blob(center: tuple[float, float], radius: float, rng: np.random.Generator) -> Polygon:
    """A round shape with a gently wobbling edge."""
    theta = np.linspace(0, 2 * math.pi, 96, endpoint=False)
    r = np.full_like(theta, radius)
    for harmonic in (2, 3, 5):
        r *= 1 + 0.06 * math.sqrt(3 / harmonic) * np.sin(harmonic * theta + rng.uniform(0, 6.3))
    return Polygon(np.column_stack([center[0] + r * np.cos(theta), center[1] + r * np.sin(theta)]))


def _lattice(area: Polygon, spacing: float, rng: np.random.Generator) -> np.ndarray:
    """Jittered, rotated lattice points inside ``area``."""
    minx, miny, maxx, maxy = area.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx, maxy - miny) / 2 * 1.5 + spacing
    steps = np.arange(-half, half + spacing, spacing)
    gx, gy = np.meshgrid(steps, steps)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts += rng.uniform(-0.36, 0.36, pts.shape) * spacing
    angle = rng.uniform(0, math.pi / 2)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = pts @ rot.T + [cx, cy]
    inside = shapely.contains_xy(area, pts[:, 0], pts[:, 1])
    return np.asarray(pts[inside])


@dataclass
class _Plan:
    urban_centres: list[tuple[float, float]]
    town_centres: list[tuple[float, float]]
    town_radii: list[float]
    urban_area: Polygon | None
    cores: list[Polygon | None]
    outline: Polygon


def _plan_county(county: County, rng: np.random.Generator) -> _Plan:
    urban = [s for s in county.streets if s.is_urban]
    towns = [s for s in county.streets if not s.is_urban]
    n_urban = sum(len(s.communities) for s in urban)
    radius_u = math.sqrt(n_urban * URBAN_COMMUNITY_M2 / math.pi) if urban else 0.0
    urban_centres: list[tuple[float, float]] = []
    if urban:
        urban_centres.append((0.0, 0.0))
        ring = len(urban) - 1
        for i in range(ring):
            a = 2 * math.pi * i / ring + rng.uniform(-0.2, 0.2)
            urban_centres.append((0.58 * radius_u * math.cos(a), 0.58 * radius_u * math.sin(a)))
    shapes: list[Polygon] = []
    urban_area = _blob((0.0, 0.0), radius_u, rng) if urban else None
    if urban_area is not None:
        shapes.append(urban_area)
    town_centres: list[tuple[float, float]] = []
    town_radii: list[float] = []
    cores: list[Polygon | None] = []
    offset = rng.uniform(0, 2 * math.pi)
    for town in towns:
        n_core = sum(1 for c in town.communities if not c.is_village)
        n_vill = len(town.communities) - n_core
        area = n_vill * VILLAGE_M2 + max(n_core, 0.4) * URBAN_COMMUNITY_M2
        town_radii.append(math.sqrt(area / math.pi))
    # without 街道 the first town is the county seat and sits in the middle
    inner = radius_u if urban else town_radii[0]
    ringed = list(range(len(towns))) if urban else list(range(1, len(towns)))
    for i, town in enumerate(towns):
        if i in ringed:
            j = ringed.index(i)
            a = offset + 2 * math.pi * j / len(ringed) + rng.uniform(-0.25, 0.25)
            d = inner + 0.85 * town_radii[i] + rng.uniform(0, 1500)
            centre = (d * math.cos(a), d * math.sin(a))
        else:
            centre = (0.0, 0.0)
        town_centres.append(centre)
        n_core = sum(1 for c in town.communities if not c.is_village)
        core_r = math.sqrt(max(n_core, 0.4) * URBAN_COMMUNITY_M2 / math.pi)
        cores.append(_blob(centre, core_r, rng))
        shapes.append(_blob(centre, town_radii[i] * 1.05, rng))
    merged = shapely.union_all(shapes).buffer(2500, quad_segs=4).buffer(-2500, quad_segs=4)
    outline = merged if merged.geom_type == "Polygon" else max(merged.geoms, key=lambda g: g.area)
    outline = shapely.simplify(outline, 20)
    return _Plan(urban_centres, town_centres, town_radii, urban_area, cores, outline)


def _atoms(plan: _Plan, county: County, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    outline = plan.outline
    seeds: list[np.ndarray] = []
    zones: list[np.ndarray] = []
    dense = []
    if plan.urban_area is not None:
        area = plan.urban_area.intersection(outline)
        pts = _lattice(area, URBAN_SPACING, rng)
        seeds.append(pts)
        zones.append(np.zeros(len(pts), dtype=int))
        dense.append(area)
    for core in plan.cores:
        if core is None:
            continue
        area = core.intersection(outline)
        for other in dense:
            area = area.difference(other)
        if area.is_empty:
            continue
        pts = _lattice(area, CORE_SPACING, rng)
        seeds.append(pts)
        zones.append(np.ones(len(pts), dtype=int))
        dense.append(area)
    rural = outline.difference(shapely.union_all(dense)) if dense else outline
    n_vill = sum(1 for c in county.communities if c.is_village)
    spacing = math.sqrt(max(rural.area, 1.0) / max(n_vill * ATOMS_PER_VILLAGE, 8))
    pts = _lattice(rural.buffer(-spacing * 0.25), spacing, rng)
    seeds.append(pts)
    zones.append(np.full(len(pts), 2, dtype=int))
    all_pts = np.concatenate(seeds)
    all_zone = np.concatenate(zones)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            MultiPoint(all_pts), extend_to=outline.buffer(5 * spacing), ordered=True
        )
    )
    clipped = shapely.intersection(cells, outline)
    atoms: list[Polygon] = []
    atom_zone: list[int] = []
    for geom, zone in zip(clipped, all_zone, strict=True):
        for part in shapely.get_parts(geom):
            if part.geom_type == "Polygon" and part.area > 1.0:
                atoms.append(part)
                atom_zone.append(int(zone))
    return np.array(atoms, dtype=object), np.array(atom_zone)


def _nearest(
    points: np.ndarray, centres: list[tuple[float, float]], weights: list[float]
) -> np.ndarray:
    c = np.array(centres)
    d = np.linalg.norm(points[:, None, :] - c[None, :, :], axis=2) / np.array(weights)[None, :]
    return np.asarray(np.argmin(d, axis=1))


def layout_county(county: County, rng: np.random.Generator) -> CountyLayout:
    plan = _plan_county(county, rng)
    atoms, zone = _atoms(plan, county, rng)
    adj, shared = adjacency(atoms)
    cents = shapely.get_coordinates(shapely.centroid(atoms))
    areas = shapely.area(atoms)
    urban_idx = [i for i, s in enumerate(county.streets) if s.is_urban]
    town_idx = [i for i, s in enumerate(county.streets) if not s.is_urban]
    street = np.full(len(atoms), -1)
    # city blocks to the 街道, the rest to the towns around
    in_city = zone == 0
    if urban_idx:
        w = [math.sqrt(len(county.streets[i].communities)) for i in urban_idx]
        street[in_city] = np.array(urban_idx)[_nearest(cents[in_city], plan.urban_centres, w)]
    else:
        in_city[:] = False
    if town_idx:
        w = plan.town_radii
        rest = ~in_city
        street[rest] = np.array(town_idx)[_nearest(cents[rest], plan.town_centres, w)]
    else:
        street[~in_city] = np.array(urban_idx)[
            _nearest(cents[~in_city], plan.urban_centres, [1.0] * len(urban_idx))
        ]
    make_contiguous(street, list(range(len(atoms))), adj)

    community = np.full(len(atoms), -1)
    base = 0
    for s_index, st in enumerate(county.streets):
        members = [i for i in range(len(atoms)) if street[i] == s_index]
        shequ = [k for k, c in enumerate(st.communities) if not c.is_village]
        villages = [k for k, c in enumerate(st.communities) if c.is_village]
        core = [i for i in members if zone[i] != 2]
        fields = [i for i in members if zone[i] == 2]
        groups: list[tuple[list[int], list[int]]]
        if st.is_urban or not villages or not shequ or not core:
            groups = [(members, list(range(len(st.communities))))]
        else:
            groups = [(core, shequ), (fields, villages)]
        for nodes, which in groups:
            labels = contiguous_clusters(nodes, cents, areas, len(which), adj, rng)
            # nearest-to-centre cluster gets the first code of the list (the town seat's 社区)
            for node, lab in zip(nodes, labels, strict=True):
                community[node] = base + which[min(int(lab), len(which) - 1)]
        make_contiguous(community, members, adj)
        rebalance(community, members, adj, MIN_ATOMS)
        base += len(st.communities)
    return CountyLayout(plan.outline, atoms, zone, street, community, adj, shared)
