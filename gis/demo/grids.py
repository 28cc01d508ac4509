"""Grids of one county: how many of each kind per community, and which blocks each holds.

Unit grids (单元型) are single housing-estate blocks, organization grids (单位型) single
campus blocks, and geographic grids (地缘型) contiguous groups of the remaining blocks.
Blocks are halved where a community has too few for its grids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import shapely
from shapely.geometry import LineString, Polygon

from gis.demo.catalog import County
from gis.demo.graph import adjacency, apportion, components, contiguous_clusters, rebalance
from gis.demo.layout import CountyLayout

__all__ = ["KIND_TARGETS", "GridDraft", "allocate", "draw_grids", "split_atoms"]

# per 150 communities (the reported Changji figures)
KIND_TARGETS = {"geographic": 409, "unit": 633, "organization": 221}
VILLAGE_SHARE = {"geographic": 3.2, "unit": 0.6, "organization": 0.5}  # per village


@dataclass
class GridDraft:
    """A grid while the county is being generated (metric frame)."""

    kind: str
    community: int  # index into county.communities
    atoms: list[int]
    geom: Any = None  # shapely Polygon (MultiPolygon once a defect is planted)
    households: int = 0
    population: int = 0
    code: str = ""
    name: str = ""
    defects: list[str] = field(default_factory=list)


def allocate(
    county: County, layout: CountyLayout, share: float, rng: np.random.Generator
) -> np.ndarray:
    """Grids per community and kind: array (communities, 3) for geographic, unit, org.

    ``share`` is this county's part of the prefecture (its communities / 150).
    """
    comms = county.communities
    village = np.array([c.is_village for c in comms])
    atoms = np.bincount(layout.community, minlength=len(comms)).astype(float)
    result = np.zeros((len(comms), 3), dtype=int)
    for k, kind in enumerate(("geographic", "unit", "organization")):
        total = round(KIND_TARGETS[kind] * share)
        for_villages = min(round(VILLAGE_SHARE[kind] * village.sum()), total)
        weights_v = np.where(village, 1.0 + rng.uniform(-0.3, 0.3, len(comms)), 0.0)
        weights_u = np.where(~village, np.sqrt(atoms) * rng.uniform(0.8, 1.2, len(comms)), 0.0)
        if (~village).sum() == 0:
            for_villages = total
        result[:, k] += apportion(weights_v, for_villages)
        result[:, k] += apportion(weights_u, total - for_villages)
    result[:, 0] = np.maximum(result[:, 0], 1)  # every community has a geographic grid
    return result


def _halve(poly: Polygon) -> list[Polygon]:
    """Cut a block across its long axis through its centroid."""
    rect = poly.minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)[:4]
    sides = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    longest = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    normal = np.array([-longest[1], longest[0]]) / max(float(np.hypot(*longest)), 1e-9)
    c = np.asarray(poly.centroid.coords[0])
    reach = math.sqrt(poly.area) * 4
    cut = LineString([c - normal * reach, c + normal * reach])
    from shapely.ops import split

    parts = [p for p in split(poly, cut).geoms if p.geom_type == "Polygon"]
    return parts if len(parts) >= 2 else [poly]


def split_atoms(layout: CountyLayout, needed: np.ndarray) -> None:
    """Halve the largest blocks of every community that has fewer blocks than it needs."""
    atoms = list(layout.atoms)
    zone, street, community = list(layout.zone), list(layout.street), list(layout.community)
    changed = False
    touched: set[int] = set()
    for comm, need in enumerate(needed):
        for _ in range(200):
            members = [i for i, c in enumerate(community) if c == comm]
            if len(members) >= need:
                break
            biggest = max(members, key=lambda i: atoms[i].area)
            parts = _halve(atoms[biggest])
            if len(parts) < 2:
                break
            # the cut's ends become vertices of the neighbours too: no T-junctions,
            # so shared edges stay identical after reprojection
            touched.add(biggest)
            touched.update(range(len(atoms), len(atoms) + len(parts) - 1))
            atoms[biggest] = parts[0]
            for part in parts[1:]:
                atoms.append(part)
                zone.append(zone[biggest])
                street.append(street[biggest])
                community.append(comm)
            changed = True
    if changed:
        _snap_touched(atoms, touched)
        layout.atoms = np.array(atoms, dtype=object)
        layout.zone, layout.street = np.array(zone), np.array(street)
        layout.community = np.array(community)
        layout.adj, layout.shared = adjacency(layout.atoms)


def _snap_touched(atoms: list[Polygon], touched: set[int]) -> None:
    """Give the neighbours of cut blocks the cut's end points as vertices (no T-junctions),
    so that shared edges stay identical after reprojection."""
    arr = np.array(atoms, dtype=object)
    tree = shapely.STRtree(arr)
    for t in sorted(touched):
        for nb in tree.query(arr[t], predicate="intersects").tolist():
            if nb != t:
                atoms[nb] = shapely.snap(atoms[nb], atoms[t], 1e-6)


def _pick_blocks(
    candidates: list[int],
    rest: set[int],
    count: int,
    layout: CountyLayout,
    rng: np.random.Generator,
) -> list[int]:
    """Blocks for single-block grids whose removal keeps the remaining blocks connected."""
    chosen: list[int] = []
    for atom in rng.permutation(candidates).tolist():
        if len(chosen) == count:
            break
        if atom not in rest or len(rest) <= 1:
            continue
        remaining = rest - {atom}
        if len(components(remaining, layout.adj)) == 1:
            rest.discard(atom)
            chosen.append(atom)
    return chosen


def draw_grids(
    county: County, layout: CountyLayout, counts: np.ndarray, rng: np.random.Generator
) -> list[GridDraft]:
    """Grids of every community of the county, as groups of blocks."""
    areas = shapely.area(layout.atoms)
    cents = layout.centroids
    drafts: list[GridDraft] = []
    for comm in range(len(county.communities)):
        members = [i for i in range(len(layout.atoms)) if layout.community[i] == comm]
        n_geo, n_unit, n_org = (int(x) for x in counts[comm])
        rest = set(members)
        # estates and campuses are blocks of ordinary size, not fields or slivers
        typical = [i for i in members if 8_000 < areas[i] < 120_000] or members
        units = _pick_blocks(typical, rest, n_unit, layout, rng)
        orgs = _pick_blocks(typical, rest, n_org, layout, rng)
        drafts += [GridDraft("unit", comm, [a]) for a in units]
        drafts += [GridDraft("organization", comm, [a]) for a in orgs]
        geo_nodes = sorted(rest)
        if not geo_nodes:
            continue
        k = max(1, min(n_geo, len(geo_nodes)))
        labels = contiguous_clusters(geo_nodes, cents, areas, k, layout.adj, rng)
        full = np.full(len(layout.atoms), -1)
        full[geo_nodes] = labels
        rebalance(full, geo_nodes, layout.adj, 2 if len(geo_nodes) >= 2 * k else 1)
        for lab in sorted(set(full[geo_nodes].tolist())):
            group = [i for i in geo_nodes if full[i] == lab]
            for piece in components(group, layout.adj):
                drafts.append(GridDraft("geographic", comm, piece))
    for draft in drafts:
        draft.geom = _union(layout.atoms[draft.atoms])
    return drafts


def _union(polys: np.ndarray) -> Polygon:
    merged = shapely.union_all(polys)
    if merged.geom_type != "Polygon":
        parts = sorted(shapely.get_parts(merged), key=lambda p: -p.area)
        merged = parts[0] if parts[0].area > 0.999 * merged.area else merged
    return merged
