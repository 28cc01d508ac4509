"""Atoms of a community: the pieces automatic grids are made of (geometry at the edge).

The free part of a community (its polygon less the grids that are kept) is cut by the
roads crossing it into blocks (``shapely.ops.polygonize``); each block holding buildings
is cut again into one Voronoi cell per building, clipped to the block, so that a grid
made of whole atoms never splits a building. Atoms that a footprint straddles are merged.
Everything is computed in the community's UTM zone and handed on as numbers: an
:class:`AtomGraph` of households, centroids, areas, perimeters and shared edge lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import shapely
from pyproj import CRS, Transformer
from shapely.ops import polygonize

__all__ = ["AtomGraph", "Atoms", "build_atoms", "utm_crs"]

_AREA_EPS = 0.01  # m²: overlaps smaller than this are noding noise
_GRID = 0.001  # m: the precision the atoms are snapped to
_TOUCH = 0.01  # m: atoms this close along an edge are neighbours


@dataclass(frozen=True)
class AtomGraph:
    """The numbers the partition works on: atom i has ``weights[i]`` households."""

    weights: np.ndarray  # households per atom
    population: np.ndarray
    centroids: np.ndarray  # (n, 2) metres
    areas: np.ndarray  # m²
    perimeters: np.ndarray  # m
    edges: np.ndarray  # (m, 2) int, i < j
    shared: np.ndarray  # (m,) metres of common boundary

    @property
    def n(self) -> int:
        return len(self.weights)


@dataclass(frozen=True)
class Atoms:
    """The atom polygons (metric CRS) with their graph, and the way back to lon/lat."""

    polygons: np.ndarray  # of shapely Polygons, metres
    graph: AtomGraph
    crs: CRS
    buildings: int  # buildings placed in the atoms
    free: shapely.Geometry  # the community less the kept grids, metres, not snapped
    free_lonlat: shapely.Geometry  # the same in lon/lat, computed there

    def to_lonlat(self, geom: shapely.Geometry) -> shapely.Geometry:
        back = Transformer.from_crs(self.crs, 4326, always_xy=True)
        return shapely.transform(geom, lambda xy: np.column_stack(back.transform(*xy.T)))


def utm_crs(lon: float, lat: float) -> CRS:
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _project(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    fwd = Transformer.from_crs(4326, crs, always_xy=True)
    return np.asarray(
        shapely.transform(geoms, lambda xy: np.column_stack(fwd.transform(*xy.T))), dtype=object
    )


def _polygons(geom: shapely.Geometry) -> list[shapely.Geometry]:
    parts = shapely.get_parts(geom)
    return [p for p in parts if p.geom_type == "Polygon" and p.area > _AREA_EPS]


def _blocks(free: shapely.Geometry, roads: np.ndarray) -> list[shapely.Geometry]:
    lines = [shapely.boundary(free)]
    if len(roads):
        lines.append(shapely.intersection(shapely.union_all(roads), free))
    noded = shapely.union_all(lines)
    faces = list(polygonize(shapely.get_parts(noded)))
    return [f for f in faces if f.area > _AREA_EPS and free.contains(f.representative_point())]


def _cells(block: shapely.Geometry, points: np.ndarray) -> list[shapely.Geometry]:
    if len(points) < 2:
        return [block]
    unique = shapely.points(np.unique(shapely.get_coordinates(points).round(3), axis=0))
    if len(unique) < 2:
        return [block]
    voronoi = shapely.voronoi_polygons(shapely.multipoints(unique), extend_to=block)
    cells: list[shapely.Geometry] = []
    for cell in shapely.get_parts(voronoi):
        cells.extend(_polygons(shapely.intersection(cell, block, grid_size=_GRID)))
    return cells


def _merge_straddled(
    cells: list[shapely.Geometry], footprints: np.ndarray
) -> list[shapely.Geometry]:
    """Union the atoms each footprint overlaps, so no building is ever cut."""
    parent = list(range(len(cells)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree = shapely.STRtree(cells)
    fp, cell = tree.query(footprints, predicate="intersects")
    if len(fp):
        overlap = shapely.area(shapely.intersection(footprints[fp], np.asarray(cells)[cell]))
        hits: dict[int, list[int]] = {}
        for f, c, a in zip(fp.tolist(), cell.tolist(), overlap.tolist(), strict=True):
            if a > _AREA_EPS:
                hits.setdefault(f, []).append(c)
        for group in hits.values():
            for c in group[1:]:
                parent[find(c)] = find(group[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(cells)):
        groups.setdefault(find(i), []).append(i)
    merged: list[shapely.Geometry] = []
    for members in groups.values():
        if len(members) == 1:
            merged.append(cells[members[0]])
        else:
            union = shapely.union_all([cells[m] for m in members], grid_size=_GRID)
            merged.extend(_polygons(union))
    return merged


def build_atoms(
    community: shapely.Geometry,
    roads: np.ndarray,
    footprints: np.ndarray,
    households: np.ndarray,
    population: np.ndarray,
    kept: np.ndarray,
) -> Atoms:
    """Atoms of ``community`` (lon/lat) less the ``kept`` grids, cut by ``roads``.

    ``footprints`` are the buildings standing in the free part (lon/lat), with their
    ``households`` and ``population``.
    """
    centre = community.centroid
    crs = utm_crs(centre.x, centre.y)
    area = _project(np.array([community], dtype=object), crs)[0]
    exact = shapely.make_valid(area)
    if len(kept):
        kept_m = _project(np.asarray(kept, dtype=object), crs)
        exact = shapely.difference(exact, shapely.union_all(kept_m))
    free = shapely.union_all(_polygons(exact), grid_size=_GRID)
    roads_m = _project(np.asarray(roads, dtype=object), crs) if len(roads) else np.array([])
    fps = (
        _project(np.asarray(footprints, dtype=object), crs)
        if len(footprints)
        else np.array([], dtype=object)
    )
    points = shapely.point_on_surface(fps) if len(fps) else np.array([], dtype=object)
    cells: list[shapely.Geometry] = []
    for block in _blocks(free, roads_m):
        inside = points[shapely.contains(block, points)] if len(points) else points
        cells.extend(_cells(block, inside))
    if len(fps):
        cells = _merge_straddled(cells, fps)
    polygons = np.asarray(cells, dtype=object)
    n = len(polygons)
    weights = np.zeros(n)
    people = np.zeros(n)
    placed = 0
    if len(points) and n:
        tree = shapely.STRtree(polygons)
        pt, atom = tree.query(points, predicate="within")
        seen: set[int] = set()
        for p, a in zip(pt.tolist(), atom.tolist(), strict=True):
            if p in seen:
                continue
            seen.add(p)
            weights[a] += households[p]
            people[a] += population[p]
        placed = len(seen)
    graph = _graph(polygons, weights, people)
    free_lonlat = shapely.make_valid(community)
    if len(kept):
        free_lonlat = shapely.difference(free_lonlat, shapely.union_all(kept))
    return Atoms(polygons, graph, crs, placed, exact, free_lonlat)


def _near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Length of each boundary of ``a`` within the tolerance of the boundary of ``b``."""
    lengths: np.ndarray = shapely.length(
        shapely.intersection(shapely.boundary(a), shapely.buffer(shapely.boundary(b), _TOUCH))
    )
    return lengths


def _graph(polygons: np.ndarray, weights: np.ndarray, people: np.ndarray) -> AtomGraph:
    n = len(polygons)
    edges = np.zeros((0, 2), dtype=int)
    shared = np.zeros(0)
    if n > 1:
        # atoms cut separately need not share vertices: measure the common boundary
        # within a few millimetres rather than by exact noding
        tree = shapely.STRtree(polygons)
        left, right = tree.query(polygons, predicate="dwithin", distance=_TOUCH)
        keep = left < right
        left, right = left[keep], right[keep]
        # each way round, the shorter: both sides of a hair-thin sliver atom lie within
        # the tolerance of its neighbour, so measured from the sliver it counts twice
        common = np.minimum(
            _near(polygons[left], polygons[right]), _near(polygons[right], polygons[left])
        )
        touch = common > 0.1
        edges = np.column_stack([left[touch], right[touch]]).astype(int)
        shared = common[touch]
    cents = shapely.get_coordinates(shapely.centroid(polygons)) if n else np.zeros((0, 2))
    return AtomGraph(
        weights=weights,
        population=people,
        centroids=cents,
        areas=shapely.area(polygons) if n else np.zeros(0),
        perimeters=shapely.length(polygons) if n else np.zeros(0),
        edges=edges,
        shared=shared,
    )
