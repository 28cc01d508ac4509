"""Which polygons are tiled exactly by their parts: a certificate from boundary chains.

Orient every polygon (outer rings counter-clockwise, holes clockwise) and cut its rings
into directed segments. Parts P₁…Pₙ tile a whole Q — they cover it, no two interiors meet
and nothing of a part lies outside Q — when their segments cancel exactly against the
reversed segments of Q. For a point x on no segment, the winding number of the oriented
boundary of a valid polygon is 1 inside it and 0 outside; winding numbers add, so a chain
that cancels gives Σ 1_Pᵢ(x) = 1_Q(x) everywhere off the segments: a point in two
interiors, a piece of Q in no part or a piece of a part outside Q would each need an open
set where the sum is 2, 0 or 1 against 0.

Coordinates are compared as stored, bit for bit, with no arithmetic, so the certificate
never errs. It only fails to certify when edges are not noded identically (a vertex of a
part lying on the edge of its neighbour or of Q): the exact overlay then decides. Repeated
points (zero-length segments) do not count. Inputs must be valid polygons or
multipolygons in the orientation above (PostGIS ``ST_ForcePolygonCCW``).

>>> from shapely import Polygon, box, to_wkb  # counter-clockwise
>>> halves = [to_wkb(box(0, 0, 1, 1)), to_wkb(box(1, 0, 2, 1))]
>>> whole = to_wkb(Polygon([(0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1)]))
>>> untiled(["q", "q", "q"], [*halves, whole], [1, 1, -1])
set()
>>> untiled(["q", "q"], [halves[0], whole], [1, -1])  # half of it is a blind spot
{'q'}
>>> untiled(["q", "q", "q"], [*halves, to_wkb(box(0, 0, 2, 1))], [1, 1, -1])  # not noded
{'q'}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import shapely

__all__ = ["untiled", "untiled_shapes"]


# odd 64-bit multipliers that mix a segment's five words into one sort key
_MIX = [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93]


def _mixed(key: np.ndarray) -> np.ndarray:
    """One 64-bit word per row of ``key`` (its words folded in with multiply-xorshift)."""
    out = key[:, 0].copy()
    for column, factor in enumerate(_MIX, start=1):
        out ^= key[:, column]
        out *= np.uint64(factor)
        out ^= out >> np.uint64(29)
    return out


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices, ring of each vertex, input index of each vertex) of every ring of ``geoms``.

    A polygon without holes is one ring: its vertices are taken as they are, with no copy
    of its parts and rings (most grids); only the others are taken apart.
    """
    plain = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    simple = np.flatnonzero(plain)
    coords, ring = shapely.get_coordinates(geoms[simple], return_index=True)
    rest = np.flatnonzero(~plain)
    parts, part_of = shapely.get_parts(geoms[rest], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    more, more_ring = shapely.get_coordinates(rings, return_index=True)
    return (
        np.concatenate([coords, more]),
        np.concatenate([ring, len(simple) + more_ring]),
        np.concatenate([simple[ring], rest[part_of[ring_of[more_ring]]]]),
    )


def untiled(owners: Sequence[str], wkbs: Sequence[bytes], signs: Sequence[int]) -> set[str]:
    """The owners whose polygons' boundary chains do not cancel.

    Polygon ``i`` (WKB ``wkbs[i]``) counts for ``owners[i]`` with ``signs[i]``: +1 for a
    part, -1 for the whole it should tile. An owner is absent from the answer exactly when
    its parts' segments and its whole's cancel (see the module docstring).
    """
    return untiled_shapes(owners, shapely.from_wkb(np.asarray(wkbs, dtype=object)), signs)


def untiled_shapes(owners: Sequence[str], shapes: np.ndarray, signs: Sequence[int]) -> set[str]:
    """:func:`untiled` of shapely polygons (an array) rather than WKB."""
    if not owners:
        return set()
    names, owner_of = np.unique(np.asarray(owners, dtype=str), return_inverse=True)
    coords, ring, polygon = _rings(shapes)
    # consecutive vertices of one ring are a segment (rings are closed); zero-length
    # segments (repeated points) do not count
    coords += 0.0  # -0.0 becomes 0.0: equal coordinates, equal bits
    start, end = coords[:-1], coords[1:]
    real = (ring[1:] == ring[:-1]) & np.any(start != end, axis=1)
    start, end = start[real], end[real]
    polygon = polygon[:-1][real]
    # each segment as (owner, lower end, upper end), its direction folded into the weight
    flip = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    key = np.empty((len(start), 5), dtype=np.uint64)
    key[:, 0] = owner_of.ravel()[polygon]
    key[:, 1:3] = np.where(flip[:, None], end, start).view(np.uint64)
    key[:, 3:5] = np.where(flip[:, None], start, end).view(np.uint64)
    weight = np.where(flip, -1, 1) * np.asarray(signs, dtype=np.int64)[polygon]
    # group equal segments by sorting on one mixed word; a group whose keys are not all
    # equal (a collision of the mix) is not trusted: all its owners stay uncertified
    mixed = _mixed(key)
    order = np.argsort(mixed)  # any order inside a group will do
    key, mixed, weight = key[order], mixed[order], weight[order]
    new = np.ones(len(key), dtype=bool)
    new[1:] = mixed[1:] != mixed[:-1]
    firsts = np.flatnonzero(new)
    if not len(firsts):
        return set()
    # a key unlike the one before it in its group
    unlike = np.zeros(len(key), dtype=np.int64)
    unlike[1:] = ~new[1:] & np.any(key[1:] != key[:-1], axis=1)
    collided = np.add.reduceat(unlike, firsts) > 0
    totals = np.add.reduceat(weight, firsts)
    group = np.cumsum(new) - 1
    bad = np.union1d(key[firsts[totals != 0], 0], key[collided[group], 0])
    return {str(name) for name in names[bad.astype(np.int64)]}
