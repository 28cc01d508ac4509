"""One connected piece of an atom graph, as plain Python lists for the partition's loops.

The partition touches a few atoms at a time (a boundary atom and its neighbours), where
numpy's per-element indexing costs more than the arithmetic; so the numbers it reads in
its loops are lists, and numpy is kept for the whole-graph steps (seeding, tallies).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from gis.autogrid.atoms import AtomGraph

__all__ = ["Piece", "components", "piece"]


@dataclass(frozen=True)
class Piece:
    """Atoms ``nodes`` of a graph renumbered 0..m-1, with their neighbours."""

    nodes: np.ndarray  # the atoms' numbers in the whole graph
    weights: np.ndarray  # households
    centroids: np.ndarray  # (m, 2) metres
    areas: np.ndarray
    w: list[float]  # the same numbers as lists
    area: list[float]
    perimeter: list[float]
    nbs: list[list[int]]  # neighbours of each atom, ascending
    shared: list[list[float]]  # common boundary with each of them, metres
    src: np.ndarray  # every edge both ways round: src[i] → dst[i], sorted by src
    dst: np.ndarray
    lengths: np.ndarray  # the common boundary of src[i] and dst[i]

    @property
    def m(self) -> int:
        return len(self.w)


def piece(g: AtomGraph, nodes: list[int]) -> Piece:
    """The subgraph of ``g`` on ``nodes`` (every edge leaving them is dropped)."""
    ids = np.asarray(nodes, dtype=int)
    local = np.full(g.n, -1)
    local[ids] = np.arange(len(ids))
    edges = g.edges.reshape(-1, 2)
    a, b = local[edges[:, 0]], local[edges[:, 1]]
    inside = (a >= 0) & (b >= 0)
    src = np.concatenate([a[inside], b[inside]])
    dst = np.concatenate([b[inside], a[inside]])
    length = np.concatenate([g.shared[inside], g.shared[inside]])
    order = np.lexsort((dst, src))
    src, dst, length = src[order], dst[order], length[order]
    bounds = np.searchsorted(src, np.arange(len(ids) + 1)).tolist()
    dst_list, length_list = dst.tolist(), length.tolist()
    return Piece(
        nodes=ids,
        weights=g.weights[ids],
        centroids=g.centroids[ids],
        areas=g.areas[ids],
        w=g.weights[ids].tolist(),
        area=g.areas[ids].tolist(),
        perimeter=g.perimeters[ids].tolist(),
        nbs=[dst_list[i:j] for i, j in itertools.pairwise(bounds)],
        shared=[length_list[i:j] for i, j in itertools.pairwise(bounds)],
        src=src,
        dst=dst,
        lengths=length,
    )


def components(g: AtomGraph, whole: Piece | None = None) -> list[list[int]]:
    """Connected components of the atom graph, each sorted, in order of first atom
    (``whole``: ``piece(g, range(g.n))`` if already built)."""
    pc = whole if whole is not None else piece(g, list(range(g.n)))
    seen = [False] * pc.m
    found: list[list[int]] = []
    for start in range(pc.m):
        if seen[start]:
            continue
        seen[start] = True
        comp, stack = [start], [start]
        while stack:
            for nb in pc.nbs[stack.pop()]:
                if not seen[nb]:
                    seen[nb] = True
                    comp.append(nb)
                    stack.append(nb)
        found.append(sorted(comp))
    return found
