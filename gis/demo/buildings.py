"""Building footprints inside a block, by what the block is.

Every footprint keeps at least :data:`SETBACK` metres from the block's edge (the road),
so no building ever crosses a grid boundary unless a defect is planted on purpose.
Each function returns footprints and a capacity per footprint (floor area available
for homes); households are shared out later, when the grid's total is known.
"""

from __future__ import annotations

import math

import numpy as np

import shapely
from shapely.geometry import Polygon

__all__ = ["SETBACK", "campus", "estate", "farmland", "hamlet", "single", "street_front"]

SETBACK = 9.0


def _frame(block: Polygon) -> tuple[float, np.ndarray]:
    """Angle of the block's longer side and the rotation matrix to that frame."""
    rect = block.minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)[:4]
    sides = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    longest = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    angle = math.atan2(longest[1], longest[0])
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return angle, rot


def _rects(centres: np.ndarray, w: float, h: float, rot: np.ndarray) -> np.ndarray:
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    shapes = corners[None, :, :] @ rot.T + centres[:, None, :]
    return np.asarray(shapely.polygons(shapes))


def _inside(rects: np.ndarray, area: Polygon) -> np.ndarray:
    if area.is_empty or len(rects) == 0:
        return np.asarray(rects[:0])
    shapely.prepare(area)
    return np.asarray(rects[shapely.contains(area, rects)])


def _without_overlaps(rects: np.ndarray) -> np.ndarray:
    """Drop every footprint that overlaps an earlier one (street corners)."""
    if len(rects) < 2:
        return rects
    left, right = shapely.STRtree(rects).query(rects, predicate="intersects")
    keep = np.ones(len(rects), dtype=bool)
    for a, b in sorted(zip(left.tolist(), right.tolist(), strict=True)):
        if a < b and keep[a]:
            keep[b] = False
    return np.asarray(rects[keep])


def _lattice_in(
    block: Polygon,
    dx: float,
    dy: float,
    rot: np.ndarray,
    rng: np.random.Generator,
    jitter: float = 0.0,
) -> np.ndarray:
    c = np.asarray(block.centroid.coords[0])
    local = (np.asarray(block.exterior.coords) - c) @ rot
    xs = np.arange(local[:, 0].min(), local[:, 0].max() + dx, dx)
    ys = np.arange(local[:, 1].min(), local[:, 1].max() + dy, dy)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    if jitter:
        pts += rng.uniform(-jitter, jitter, pts.shape)
    return np.asarray(pts @ rot.T + c)


def estate(block: Polygon, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A housing estate (小区): rows of slab blocks facing south-ish."""
    inner = block.buffer(-SETBACK - 6)
    _, rot = _frame(block)
    length = rng.uniform(40, 64)
    depth = rng.uniform(12, 15)
    centres = _lattice_in(block, length + 18, depth + rng.uniform(24, 34), rot, rng)
    footprints = _inside(_rects(centres, length, depth, rot), inner)
    if len(footprints) == 0:
        return street_front(block, rng)
    return footprints, shapely.area(footprints)


def campus(block: Polygon, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A work unit's premises: a few large buildings and much open ground."""
    inner = block.buffer(-SETBACK - 15)
    _, rot = _frame(block)
    centres = _lattice_in(block, rng.uniform(70, 95), rng.uniform(55, 75), rot, rng, jitter=6)
    footprints = _inside(_rects(centres, rng.uniform(35, 55), rng.uniform(16, 24), rot), inner)
    if len(footprints) == 0:
        footprints = _inside(_rects(np.asarray([block.centroid.coords[0]]), 24, 14, rot), block)
    return footprints, np.zeros(len(footprints))


def street_front(block: Polygon, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Old mixed blocks: buildings along the street edge and some behind."""
    inner = block.buffer(-SETBACK)
    if inner.is_empty or inner.geom_type != "Polygon":
        return np.asarray([], dtype=object), np.asarray([])
    ring = inner.exterior
    depth = rng.uniform(11, 15)
    step = rng.uniform(19, 24)
    n = max(int(ring.length // step), 1)
    dist = np.arange(n) * ring.length / n
    a = shapely.line_interpolate_point(ring, dist)
    b = shapely.line_interpolate_point(ring, dist + 1.0)
    pa, pb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    tangent = pb - pa
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1])[:, None], 1e-9)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    # the inward normal points to the block's inside; test with a probe point
    probe = pa + normal * 2
    inward = shapely.contains_xy(inner, probe[:, 0], probe[:, 1])
    normal[~inward] *= -1
    centres = pa + normal * (depth / 2 + 1.5)
    w = step - 4
    shapes = []
    for c, t, nrm in zip(centres, tangent, normal, strict=True):
        corners = np.array(
            [
                c - t * w / 2 - nrm * depth / 2,
                c + t * w / 2 - nrm * depth / 2,
                c + t * w / 2 + nrm * depth / 2,
                c - t * w / 2 + nrm * depth / 2,
            ]
        )
        shapes.append(corners)
    rects = np.asarray(shapely.polygons(np.asarray(shapes))) if shapes else np.asarray([])
    front = _without_overlaps(_inside(rects, inner))
    back_area = inner.buffer(-(depth + 10))
    _, rot = _frame(block)
    back = _inside(_rects(_lattice_in(block, 46, 38, rot, rng, jitter=4), 26, 12, rot), back_area)
    back = back[rng.random(len(back)) < 0.6]
    footprints = np.asarray(list(front) + list(back), dtype=object)
    return footprints, shapely.area(footprints) if len(footprints) else np.asarray([])


def hamlet(block: Polygon, houses: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A village settlement: courtyard houses on a loose lattice around the block's centre."""
    inner = block.buffer(-SETBACK)
    if inner.is_empty:
        return np.asarray([], dtype=object), np.asarray([])
    _, rot = _frame(block)
    centres = _lattice_in(block, 32, 34, rot, rng, jitter=3)
    centre = np.asarray(inner.representative_point().coords[0])
    order = np.argsort(np.hypot(*(centres - centre).T))
    rects = _inside(_rects(centres[order[: houses * 3]], 13, 11, rot), inner)[:houses]
    return rects, shapely.area(rects)


def farmland(block: Polygon, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fields with one or two farmsteads."""
    inner = block.buffer(-SETBACK - 20)
    if inner.is_empty:
        return np.asarray([], dtype=object), np.asarray([])
    _, rot = _frame(block)
    pts = _lattice_in(block, 260, 260, rot, rng, jitter=60)
    rects = _inside(_rects(pts, 14, 12, rot), inner)
    rects = rects[: int(rng.integers(0, 3))]
    return rects, shapely.area(rects)


def single(block: Polygon) -> tuple[np.ndarray, np.ndarray]:
    """One building in the middle of a small block (at least 3 m from its edge)."""
    _, rot = _frame(block)
    centre = np.asarray([block.representative_point().coords[0]])
    for w, h in ((24.0, 12.0), (14.0, 10.0), (9.0, 7.0), (5.0, 4.0)):
        rects = _inside(_rects(centre, w, h, rot), block.buffer(-3.0))
        if len(rects):
            return rects, shapely.area(rects)
    return np.asarray([], dtype=object), np.asarray([])
