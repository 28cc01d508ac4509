"""Small graph tools on atoms (city blocks): adjacency, components, contiguous clusters.

Atoms are indexed 0..n-1; an adjacency is a list of neighbour sets. Everything is
deterministic for a given random generator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np

import shapely

__all__ = [
    "Adjacency",
    "adjacency",
    "apportion",
    "components",
    "contiguous_clusters",
    "make_contiguous",
    "rebalance",
]

Adjacency = list[set[int]]


def adjacency(
    polygons: np.ndarray, min_shared: float = 1.0
) -> tuple[Adjacency, dict[tuple[int, int], float]]:
    """Neighbours sharing an edge of at least ``min_shared`` metres, and the shared lengths."""
    tree = shapely.STRtree(polygons)
    left, right = tree.query(polygons, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(polygons[left]), shapely.boundary(polygons[right]))
    )
    adj: Adjacency = [set() for _ in range(len(polygons))]
    lengths: dict[tuple[int, int], float] = {}
    for a, b, length in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True):
        if length >= min_shared:
            adj[a].add(b)
            adj[b].add(a)
            lengths[(a, b)] = length
    return adj, lengths


def components(nodes: Iterable[int], adj: Adjacency) -> list[list[int]]:
    """Connected components of the subgraph induced by ``nodes``, largest first."""
    todo = set(nodes)
    found: list[list[int]] = []
    for start in sorted(todo):
        if start not in todo:
            continue
        todo.discard(start)
        comp = [start]
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for nb in adj[node]:
                if nb in todo:
                    todo.discard(nb)
                    comp.append(nb)
                    queue.append(nb)
        found.append(sorted(comp))
    found.sort(key=lambda c: (-len(c), c[0]))
    return found


def make_contiguous(labels: np.ndarray, nodes: Sequence[int], adj: Adjacency) -> None:
    """Give every stray piece of a cluster to the neighbouring cluster it touches most.

    ``labels[n]`` is the cluster of node ``n``; only ``nodes`` are considered. In place.
    """
    allowed = set(nodes)
    for _ in range(50):
        moved = False
        clusters = sorted({int(labels[n]) for n in nodes})
        for cluster in clusters:
            members = [n for n in nodes if labels[n] == cluster]
            pieces = components(members, adj)
            for piece in pieces[1:]:
                piece_set = set(piece)
                votes: dict[int, int] = {}
                for n in piece:
                    for nb in adj[n]:
                        if nb not in piece_set and labels[nb] != cluster and nb in allowed:
                            votes[int(labels[nb])] = votes.get(int(labels[nb]), 0) + 1
                if votes:
                    target = max(sorted(votes), key=lambda k: votes[k])
                    for n in piece:
                        labels[n] = target
                    moved = True
        if not moved:
            return


def contiguous_clusters(
    nodes: Sequence[int],
    centroids: np.ndarray,
    weights: np.ndarray,
    k: int,
    adj: Adjacency,
    rng: np.random.Generator,
) -> np.ndarray:
    """Split ``nodes`` into ``k`` contiguous clusters of similar weight (labels 0..k-1).

    Weighted k-means on the centroids, then stray pieces are merged into neighbours and
    empty clusters are re-seeded by splitting the heaviest one. Returns labels aligned
    with ``nodes``.
    """
    n = len(nodes)
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=int)
    k = min(k, n)
    pts = centroids[list(nodes)]
    w = weights[list(nodes)]
    # farthest-point initialisation from a random start
    first = int(rng.integers(n))
    centres = [pts[first]]
    dist = np.linalg.norm(pts - pts[first], axis=1)
    for _ in range(1, k):
        nxt = int(np.argmax(dist))
        centres.append(pts[nxt])
        dist = np.minimum(dist, np.linalg.norm(pts - pts[nxt], axis=1))
    c = np.array(centres)
    scale = np.ones(k)
    for _ in range(60):
        d = np.linalg.norm(pts[:, None, :] - c[None, :, :], axis=2) * scale[None, :]
        lab = np.argmin(d, axis=1)
        mass = np.bincount(lab, weights=w, minlength=k)
        for j in range(k):
            if mass[j] > 0:
                c[j] = np.average(pts[lab == j], axis=0, weights=w[lab == j])
        # push heavy clusters to shrink, light ones to grow (balanced k-means)
        target = w.sum() / k
        scale *= (np.maximum(mass, 1e-9) / target) ** 0.3
    labels = np.full(len(centroids), -1)
    labels[list(nodes)] = lab
    make_contiguous(labels, nodes, adj)
    # a cluster that vanished is re-made by halving the heaviest cluster
    for _ in range(k):
        present = sorted({int(labels[x]) for x in nodes})
        if len(present) >= k:
            break
        missing = next(j for j in range(k) if j not in present)
        weight_of = {j: sum(weights[x] for x in nodes if labels[x] == j) for j in present}
        heavy = max(present, key=lambda j: (weight_of[j], -j))
        members = [x for x in nodes if labels[x] == heavy]
        if len(members) < 2:
            break
        halves = _bisect(members, centroids, adj)
        for x in halves:
            labels[x] = missing
    out = labels[list(nodes)]
    # re-label densely 0..m-1 (a cluster may have vanished)
    _, dense = np.unique(out, return_inverse=True)
    return np.asarray(dense, dtype=int)


def _bisect(members: list[int], centroids: np.ndarray, adj: Adjacency) -> list[int]:
    """About half of a connected set, grown from its far end so both halves stay connected."""
    pts = centroids[members]
    axis = pts - pts.mean(axis=0)
    direction = np.linalg.svd(axis, full_matrices=False)[2][0]
    order = np.argsort(axis @ direction)
    start = members[int(order[0])]
    member_set = set(members)
    half: list[int] = []
    seen = {start}
    queue = deque([start])
    while queue and len(half) < len(members) // 2:
        node = queue.popleft()
        half.append(node)
        for nb in sorted(adj[node], key=lambda m: float(centroids[m] @ direction)):
            if nb in member_set and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return half


def rebalance(labels: np.ndarray, nodes: Sequence[int], adj: Adjacency, minimum: int) -> None:
    """Grow clusters smaller than ``minimum`` nodes with boundary nodes of their largest
    neighbouring cluster, never disconnecting the donor. In place."""
    allowed = set(nodes)
    for _ in range(len(nodes)):
        sizes: dict[int, int] = {}
        for n in nodes:
            sizes[int(labels[n])] = sizes.get(int(labels[n]), 0) + 1
        small = sorted((size, lab) for lab, size in sizes.items() if size < minimum)
        if not small:
            return
        progressed = False
        for _, lab in small:
            members = [n for n in nodes if labels[n] == lab]
            options = []
            for n in members:
                for nb in adj[n]:
                    donor = int(labels[nb])
                    if nb in allowed and donor != lab and sizes[donor] > minimum:
                        options.append((-sizes[donor], nb, donor))
            for _, nb, donor in sorted(options):
                rest = [m for m in nodes if labels[m] == donor and m != nb]
                if len(components(rest, adj)) == 1:
                    labels[nb] = lab
                    progressed = True
                    break
        if not progressed:
            return


def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to ``weights`` that add up to ``total`` (largest remainder).

    >>> apportion(np.array([1.0, 1.0, 2.0]), 5).tolist()
    [1, 1, 3]
    """
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or len(weights) == 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=int)
    raw = weights / weights.sum() * total
    base = np.floor(raw).astype(int)
    order = np.argsort(-(raw - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return np.asarray(base, dtype=int)
