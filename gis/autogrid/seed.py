"""The first partition of a piece: a balanced power diagram, made contiguous.

Seeds are drawn by k-means++ on the atoms' centroids weighted by households (the first
with probability ∝ households, each next ∝ households × squared distance to the nearest
seed), so dense places get seeds and seeds keep apart. Then a few rounds of a
capacity-constrained k-means: every atom goes to the centre minimising squared distance
minus the centre's offset (a power diagram, whose cells are convex, hence compact); an
offset rises while its cell has too few households and falls while it has too many, and
each centre moves to the area centroid of its cell (Polsby–Popper is a measure of area
and perimeter, so the cells are made round in area, balanced in households). A cell of a
non-convex piece may fall apart: every part keeps its heaviest connected piece and the
others join the neighbouring part they share most boundary with.
"""

from __future__ import annotations

import numpy as np

from gis.autogrid.graph import Piece

__all__ = ["connect", "initial"]

ANGLES = 24  # directions of the straight cuts tried
_ROUNDS = 30  # rounds of the capacity-constrained k-means at most
_GAIN = 0.5  # offset step per unit of relative household excess, in squared cell radii
_SETTLED = 0.05  # the k-means stops when no atom changes cell and cells are within 5 %,
_STUCK = 3  # or when no atom has changed cell for 3 rounds (atoms too coarse to do better)


def initial(pc: Piece, k: int, rng: np.random.Generator, attempt: int) -> list[int]:
    """Labels 0..k-1 of the atoms of ``pc``: balanced, compact, every part connected; the
    first attempt by recursive bisection, the others by power diagrams."""
    first = bisection(pc, k, rng) if attempt == 0 else _power_diagram(pc, k, rng)
    return connect(pc, first, k)


def _kmeanspp(xy: np.ndarray, weight: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    first = int(rng.choice(len(xy), p=weight / weight.sum()))
    seeds = [first]
    d2 = ((xy - xy[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = weight * d2
        nxt = int(rng.choice(len(xy), p=p / p.sum())) if p.sum() > 0 else int(np.argmax(d2))
        seeds.append(nxt)
        d2 = np.minimum(d2, ((xy - xy[nxt]) ** 2).sum(axis=1))
    return seeds


def _power_diagram(pc: Piece, k: int, rng: np.random.Generator) -> np.ndarray:
    xy, w, area = pc.centroids, pc.weights, pc.areas
    ideal = max(float(w.sum()) / k, 1.0)
    weight = w + 1e-6 * max(float(w.max()), 1.0)  # atoms without households can be seeds
    centres = xy[_kmeanspp(xy, weight, k, rng)].astype(float)
    offset = np.zeros(k)
    radius2 = float(area.sum()) / k / np.pi  # squared radius of a round cell
    label = np.full(pc.m, -1)
    still = 0  # rounds in a row in which no atom changed cell
    for _ in range(_ROUNDS):
        d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2) - offset
        before, label = label, d2.argmin(axis=1)
        mass = np.bincount(label, w, minlength=k)
        still = still + 1 if np.array_equal(before, label) else 0
        if still >= _STUCK or (still and np.abs(mass - ideal).max() <= _SETTLED * ideal):
            break
        offset += _GAIN * radius2 * (ideal - mass) / ideal
        a = np.bincount(label, area, minlength=k)
        full = a > 0
        for axis in (0, 1):
            moment = np.bincount(label, area * xy[:, axis], minlength=k)
            centres[full, axis] = moment[full] / a[full]
    return label


def connect(pc: Piece, labels: np.ndarray | list[int], k: int) -> list[int]:
    """``labels`` with every part connected: each part keeps its heaviest connected piece
    (by households, then area); the other pieces join the neighbouring part whose kept
    piece they share most boundary with (pieces touching only other loose pieces wait for
    them to settle: the graph is connected, so each round settles at least one)."""
    label = [int(x) for x in labels]
    _fill_empty(pc, label, k)
    while True:
        pieces = _pieces(pc, label)
        kept: dict[int, int] = {}
        best: dict[int, tuple[float, float]] = {}
        for i, (p, members) in enumerate(pieces):
            key = (sum(pc.w[a] for a in members), sum(pc.area[a] for a in members))
            if p not in best or key > best[p]:
                kept[p], best[p] = i, key
        if len(pieces) == len(kept):
            return label
        core = [-1] * pc.m  # the part whose kept piece holds the atom, else -1
        for p, i in kept.items():
            for a in pieces[i][1]:
                core[a] = p
        for i, (p, members) in enumerate(pieces):
            if kept[p] == i:
                continue
            touch: dict[int, float] = {}
            for a in members:
                for nb, s in zip(pc.nbs[a], pc.shared[a], strict=True):
                    if core[nb] >= 0 and core[nb] != p:
                        touch[core[nb]] = touch.get(core[nb], 0.0) + s
            if touch:
                q = max(sorted(touch), key=lambda x: touch[x])
                for a in members:
                    label[a] = q


def _fill_empty(pc: Piece, label: list[int], k: int) -> None:
    """Give each part without atoms one atom of the part with the most: the last atom a
    breadth-first search of that part reaches (a leaf of its search tree, so the rest
    stays connected as far as it was)."""
    for empty in sorted(set(range(k)) - set(label)):
        sizes = np.bincount(np.asarray(label), minlength=k)
        donor = int(np.argmax(sizes))
        start = label.index(donor)
        seen, order = {start}, [start]
        for a in order:
            for nb in pc.nbs[a]:
                if nb not in seen and label[nb] == donor:
                    seen.add(nb)
                    order.append(nb)
        label[order[-1]] = empty


def _pieces(pc: Piece, label: list[int]) -> list[tuple[int, list[int]]]:
    """Connected pieces of each part: (part, atoms), in order of first atom."""
    seen = [False] * pc.m
    out: list[tuple[int, list[int]]] = []
    for start in range(pc.m):
        if seen[start]:
            continue
        p = label[start]
        seen[start] = True
        members, stack = [start], [start]
        while stack:
            for nb in pc.nbs[stack.pop()]:
                if not seen[nb] and label[nb] == p:
                    seen[nb] = True
                    members.append(nb)
                    stack.append(nb)
        out.append((p, members))
    return out


def bisection(pc: Piece, k: int, rng: np.random.Generator, angles: int = ANGLES) -> np.ndarray:
    """Recursive bisection by straight cuts: the atoms are split in two by the line, of
    ``angles`` directions, that shares their households k1 : k2 (k1 = k // 2) and leaves
    the two sides most compact (sum of Polsby–Popper) and connected; then each side
    likewise. Every direction is scored at once, as rows of arrays."""
    label = np.zeros(pc.m, dtype=int)
    per = np.asarray(pc.perimeter)
    turn = float(rng.uniform(0, np.pi / angles))
    theta = turn + np.pi * np.arange(angles) / angles
    dirs = np.column_stack([np.cos(theta), np.sin(theta)])

    def split(members: np.ndarray, kk: int, first: int) -> None:
        if kk <= 1 or len(members) < 2:
            label[members] = first
            return
        k1 = kk // 2
        n = len(members)
        local = np.full(pc.m, -1)
        local[members] = np.arange(n)
        edge = (local[pc.src] >= 0) & (local[pc.dst] >= 0)
        src, dst, length = local[pc.src[edge]], local[pc.dst[edge]], pc.lengths[edge]
        w, area = pc.weights[members], pc.areas[members]
        # perimeter of a side = Σ (perimeter − edges to other members) + its cut, each way
        own = per[members] - np.bincount(src, length, minlength=n)
        order = np.argsort(pc.centroids[members] @ dirs.T, axis=0, kind="stable").T
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(n)[None, :], axis=1)
        cum = np.cumsum(w[order], axis=1)
        goal = float(w.sum()) * k1 / kk
        cut = np.clip(np.abs(cum - goal).argmin(axis=1), 0, n - 2)
        low = rank <= cut[:, None]  # (angles, n): the k1 side
        seam = ((low[:, src] != low[:, dst]) * length).sum(axis=1) / 2
        a_low = (low * area).sum(axis=1)
        own_low = (low * own).sum(axis=1)
        p_low, p_high = own_low + seam, own.sum() - own_low + seam
        score = 4 * np.pi * (a_low / p_low**2 + (area.sum() - a_low) / p_high**2)
        pick = int(np.argmax(score))
        for i in np.argsort(-score, kind="stable").tolist():
            if _connected(pc, members[low[i]]) and _connected(pc, members[~low[i]]):
                pick = i
                break
        split(members[low[pick]], k1, first)
        split(members[~low[pick]], kk - k1, first + k1)

    split(np.arange(pc.m), k, 0)
    return label


def _connected(pc: Piece, members: np.ndarray) -> bool:
    if len(members) == 0:
        return False
    inside = np.zeros(pc.m, dtype=bool)
    inside[members] = True
    todo = inside.tolist()
    start = int(members[0])
    todo[start] = False
    stack, found = [start], 1
    nbs = pc.nbs
    while stack:
        for nb in nbs[stack.pop()]:
            if todo[nb]:
                todo[nb] = False
                found += 1
                stack.append(nb)
    return found == len(members)
