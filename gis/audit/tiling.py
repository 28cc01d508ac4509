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

__all__ = ["untiled"]


def untiled(owners: Sequence[str], wkbs: Sequence[bytes], signs: Sequence[int]) -> set[str]:
    """The owners whose polygons' boundary chains do not cancel.

    Polygon ``i`` (WKB ``wkbs[i]``) counts for ``owners[i]`` with ``signs[i]``: +1 for a
    part, -1 for the whole it should tile. An owner is absent from the answer exactly when
    its parts' segments and its whole's cancel (see the module docstring).
    """
    if not owners:
        return set()
    names, owner_ids = np.unique(np.asarray(owners, dtype=object), return_inverse=True)
    geoms = shapely.from_wkb(np.asarray(wkbs, dtype=object))
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    # consecutive vertices of one ring are a segment; rings are closed
    same_ring = coord_of[1:] == coord_of[:-1]
    start, end = coords[:-1][same_ring], coords[1:][same_ring]
    polygon = part_of[ring_of[coord_of[:-1][same_ring]]]
    owner = owner_ids[polygon]
    weight = np.asarray(signs, dtype=np.int64)[polygon]
    # each segment as (lower end, upper end) with its direction folded into the weight
    flip = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    low = np.where(flip[:, None], end, start)
    high = np.where(flip[:, None], start, end)
    weight = np.where(flip, -weight, weight)
    real = (start[:, 0] != end[:, 0]) | (start[:, 1] != end[:, 1])
    owner, low, high, weight = owner[real], low[real], high[real], weight[real]
    order = np.lexsort((high[:, 1], high[:, 0], low[:, 1], low[:, 0], owner))
    owner, low, high, weight = owner[order], low[order], high[order], weight[order]
    new = np.ones(len(owner), dtype=bool)
    new[1:] = (
        (owner[1:] != owner[:-1])
        | np.any(low[1:] != low[:-1], axis=1)
        | np.any(high[1:] != high[:-1], axis=1)
    )
    firsts = np.flatnonzero(new)
    totals = np.add.reduceat(weight, firsts) if len(firsts) else np.zeros(0, dtype=np.int64)
    return {str(names[i]) for i in np.unique(owner[firsts][totals != 0])}
