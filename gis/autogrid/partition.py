"""A balanced, contiguous, compact partition of an atom graph (numbers inside).

Region growing from farthest-point seeds (the lightest part grows first, taking the
neighbouring atom closest to its seed), then a local search that moves boundary atoms
between parts while every part stays connected, lowering the squared household deviation
plus a compactness penalty (perimeter² / 4π·area, the inverse of Polsby–Popper); last, a
balance pass (:func:`_balance`) that moves boundary atoms, best gain first (or swaps two
when no single move helps), to lower the largest deviations while no part loses more
than a tenth of its Polsby–Popper. The tallies of each part (households, area,
perimeter) are updated incrementally.

>>> import numpy as np
>>> g = AtomGraph(np.ones(4), np.ones(4), np.array([[0., 0], [1, 0], [2, 0], [3, 0]]),
...               np.ones(4), np.full(4, 4.0), np.array([[0, 1], [1, 2], [2, 3]]), np.ones(3))
>>> partition(g, 2, seed=0).tolist()
[0, 0, 1, 1]
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np

from gis.autogrid.atoms import AtomGraph

__all__ = ["Metrics", "components", "measure", "partition"]

_COMPACT = 0.005  # weight of the compactness penalty against squared relative deviation
_PP_GUARD = 0.9  # the balance pass keeps each part's Polsby–Popper above 90 % of its own


def _neighbours(g: AtomGraph) -> list[dict[int, float]]:
    nbs: list[dict[int, float]] = [{} for _ in range(g.n)]
    for (a, b), s in zip(g.edges.tolist(), g.shared.tolist(), strict=True):
        nbs[a][b] = nbs[a].get(b, 0.0) + s
        nbs[b][a] = nbs[b].get(a, 0.0) + s
    return nbs


def components(g: AtomGraph) -> list[list[int]]:
    """Connected components of the atom graph, each sorted, in order of first atom."""
    nbs = _neighbours(g)
    seen = np.zeros(g.n, dtype=bool)
    found: list[list[int]] = []
    for start in range(g.n):
        if seen[start]:
            continue
        seen[start] = True
        comp, queue = [start], deque([start])
        while queue:
            for nb in nbs[queue.popleft()]:
                if not seen[nb]:
                    seen[nb] = True
                    comp.append(nb)
                    queue.append(nb)
        found.append(sorted(comp))
    return found


def _connected(members: set[int], nbs: list[dict[int, float]]) -> bool:
    if not members:
        return True
    start = next(iter(members))
    seen, queue = {start}, deque([start])
    while queue:
        for nb in nbs[queue.popleft()]:
            if nb in members and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return len(seen) == len(members)


def _seeds(pts: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    first = int(rng.integers(len(pts)))
    seeds = [first]
    dist = np.linalg.norm(pts - pts[first], axis=1)
    for _ in range(1, k):
        nxt = int(np.argmax(dist))
        seeds.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(pts - pts[nxt], axis=1))
    return seeds


def _grow(g: AtomGraph, nodes: list[int], k: int, rng: np.random.Generator) -> dict[int, int]:
    nbs = _neighbours(g)
    pts = g.centroids[nodes]
    seeds = [nodes[i] for i in _seeds(pts, k, rng)]
    label: dict[int, int] = {s: p for p, s in enumerate(seeds)}
    mass = [float(g.weights[s]) for s in seeds]
    frontier: list[list[tuple[float, int]]] = [[] for _ in range(k)]

    def push(p: int, atom: int) -> None:
        for nb in nbs[atom]:
            if nb not in label:
                d = float(np.linalg.norm(g.centroids[nb] - g.centroids[seeds[p]]))
                heapq.heappush(frontier[p], (d, nb))

    for p, s in enumerate(seeds):
        push(p, s)
    remaining = len(nodes) - k
    while remaining > 0:
        order = sorted(range(k), key=lambda p: (mass[p], p))
        for p in order:
            heap = frontier[p]
            while heap and heap[0][1] in label:
                heapq.heappop(heap)
            if heap:
                _, atom = heapq.heappop(heap)
                label[atom] = p
                mass[p] += float(g.weights[atom])
                push(p, atom)
                remaining -= 1
                break
        else:  # no part can grow: the rest is unreachable (cannot happen in a component)
            break
    return label


class _State:
    """Per-part tallies, updated as atoms move."""

    def __init__(self, g: AtomGraph, label: dict[int, int], k: int, ideal: float) -> None:
        self.g, self.label, self.k, self.ideal = g, label, k, ideal
        self.nbs = _neighbours(g)
        self.members: list[set[int]] = [set() for _ in range(k)]
        for atom, p in label.items():
            self.members[p].add(atom)
        self.mass = [float(sum(g.weights[a] for a in m)) for m in self.members]
        self.area = [float(sum(g.areas[a] for a in m)) for m in self.members]
        self.perim = [self._perimeter(m) for m in self.members]

    def _perimeter(self, members: set[int]) -> float:
        total = 0.0
        for a in members:
            total += float(self.g.perimeters[a])
            total -= sum(s for nb, s in self.nbs[a].items() if nb in members)
        return total

    def cost(self, mass: float, area: float, perim: float) -> float:
        dev = (mass - self.ideal) / max(self.ideal, 1.0)
        compact = perim * perim / (4 * np.pi * area) if area > 0 else 0.0
        return dev * dev + _COMPACT * compact

    def total(self) -> float:
        return sum(self.cost(*t) for t in zip(self.mass, self.area, self.perim, strict=True))

    def move_delta(self, atom: int, q: int) -> tuple[float, float, float]:
        """Change of cost when ``atom`` moves to part ``q``, and the new perimeters."""
        p = self.label[atom]
        w, a = float(self.g.weights[atom]), float(self.g.areas[atom])
        per = float(self.g.perimeters[atom])
        in_p = sum(s for nb, s in self.nbs[atom].items() if self.label.get(nb) == p)
        in_q = sum(s for nb, s in self.nbs[atom].items() if self.label.get(nb) == q)
        new_pp = self.perim[p] - per + 2 * in_p
        new_pq = self.perim[q] + per - 2 * in_q
        before = self.cost(self.mass[p], self.area[p], self.perim[p]) + self.cost(
            self.mass[q], self.area[q], self.perim[q]
        )
        after = self.cost(self.mass[p] - w, self.area[p] - a, new_pp) + self.cost(
            self.mass[q] + w, self.area[q] + a, new_pq
        )
        return after - before, new_pp, new_pq

    def move(self, atom: int, q: int, new_pp: float, new_pq: float) -> None:
        p = self.label[atom]
        w, a = float(self.g.weights[atom]), float(self.g.areas[atom])
        self.members[p].discard(atom)
        self.members[q].add(atom)
        self.label[atom] = q
        self.mass[p] -= w
        self.mass[q] += w
        self.area[p] -= a
        self.area[q] += a
        self.perim[p], self.perim[q] = new_pp, new_pq


def _improve(state: _State, nodes: list[int], rounds: int) -> None:
    for _ in range(rounds):
        moved = False
        for atom in nodes:
            p = state.label[atom]
            if len(state.members[p]) <= 1:
                continue
            targets = sorted({state.label[nb] for nb in state.nbs[atom] if nb in state.label} - {p})
            best: tuple[float, int, float, float] | None = None
            for q in targets:
                delta, new_pp, new_pq = state.move_delta(atom, q)
                if delta < -1e-9 and (best is None or delta < best[0]):
                    best = (delta, q, new_pp, new_pq)
            if best is None:
                continue
            if not _connected(state.members[p] - {atom}, state.nbs):
                continue
            state.move(atom, best[1], best[2], best[3])
            moved = True
        if not moved:
            return


def _pp(area: float, perim: float) -> float:
    return 4 * np.pi * area / (perim * perim) if perim > 0 else 0.0


def _balance(state: _State, nodes: list[int], guard: float = _PP_GUARD) -> None:
    """The balance pass: boundary-atom moves between neighbouring parts, best first, each
    lowering the larger |deviation| of the two parts it touches (so the sorted deviations
    fall lexicographically and the pass ends), keeping both parts connected and each
    part's Polsby–Popper at least ``guard`` × what it was when the pass began."""
    ideal = max(state.ideal, 1.0)
    floor = [guard * _pp(a, q) for a, q in zip(state.area, state.perim, strict=True)]
    w = state.g.weights
    while True:
        moves: list[tuple[float, int, int]] = []
        for atom in nodes:
            p = state.label[atom]
            if len(state.members[p]) <= 1 or w[atom] <= 0:
                continue
            dp = (state.mass[p] - state.ideal) / ideal
            step = float(w[atom]) / ideal
            for q in sorted({state.label[nb] for nb in state.nbs[atom]} - {p}):
                dq = (state.mass[q] - state.ideal) / ideal
                gain = max(abs(dp), abs(dq)) - max(abs(dp - step), abs(dq + step))
                if gain > 1e-12:
                    moves.append((-gain, atom, q))
        moved = False
        for _, atom, q in sorted(moves):
            p = state.label[atom]
            _, new_pp, new_pq = state.move_delta(atom, q)
            a = float(state.g.areas[atom])
            if (
                _pp(state.area[p] - a, new_pp) < floor[p]
                or _pp(state.area[q] + a, new_pq) < floor[q]
            ):
                continue
            if not _connected(state.members[p] - {atom}, state.nbs):
                continue
            state.move(atom, q, new_pp, new_pq)
            moved = True
            break
        if not moved and not _exchange(state, nodes, floor):
            return


def _shift(state: _State, atom: int, q: int) -> bool:
    """Move ``atom`` to part ``q`` if it touches ``q`` and its own part stays connected."""
    p = state.label[atom]
    if len(state.members[p]) <= 1 or all(state.label[nb] != q for nb in state.nbs[atom]):
        return False
    if not _connected(state.members[p] - {atom}, state.nbs):
        return False
    _, new_pp, new_pq = state.move_delta(atom, q)
    state.move(atom, q, new_pp, new_pq)
    return True


def _exchange(state: _State, nodes: list[int], floor: list[float], tries: int = 200) -> bool:
    """When no single move helps: swap two boundary atoms between neighbouring parts, the
    best of the first ``tries`` that lower the larger |deviation| of the two parts and
    keep both connected and above their Polsby–Popper floor. True if one was made."""
    ideal = max(state.ideal, 1.0)
    w = state.g.weights
    facing: dict[tuple[int, int], list[int]] = {}
    for atom in nodes:
        p = state.label[atom]
        for q in sorted({state.label[nb] for nb in state.nbs[atom]} - {p}):
            facing.setdefault((p, q), []).append(atom)
    options: list[tuple[float, int, int]] = []
    for (p, q), out in sorted(facing.items()):
        if p > q:
            continue
        dp = (state.mass[p] - state.ideal) / ideal
        dq = (state.mass[q] - state.ideal) / ideal
        for a in out:
            for b in facing.get((q, p), []):
                net = float(w[a] - w[b]) / ideal  # households moving from p to q
                gain = max(abs(dp), abs(dq)) - max(abs(dp - net), abs(dq + net))
                if gain > 1e-12:
                    options.append((-gain, a, b))
    for _, a, b in sorted(options)[:tries]:
        p, q = state.label[a], state.label[b]
        if not _shift(state, a, q):
            continue
        if _shift(state, b, p):
            if all(_pp(state.area[x], state.perim[x]) >= floor[x] for x in (p, q)):
                return True
            _undo(state, b, q)
        _undo(state, a, p)
    return False


def _undo(state: _State, atom: int, q: int) -> None:
    """Put ``atom`` back in ``q`` (where it was: no check needed)."""
    _, new_pp, new_pq = state.move_delta(atom, q)
    state.move(atom, q, new_pp, new_pq)


def partition(
    g: AtomGraph, k: int, seed: int = 0, rounds: int = 30, restarts: int = 4
) -> np.ndarray:
    """Labels 0..k-1 of the atoms: ``k`` connected parts of balanced weight, compact.

    A graph of several components is split component by component, ``k`` shared out by
    households (every component is at least one part), so the result may have more than
    ``k`` parts; labels are dense.
    """
    rng = np.random.default_rng(seed)
    comps = components(g)
    total = float(g.weights.sum())
    ks = _share(comps, g.weights, max(k, 1), total)
    labels = np.full(g.n, -1, dtype=int)
    offset = 0
    for nodes, kc in zip(comps, ks, strict=True):
        kc = min(kc, len(nodes))
        ideal = float(g.weights[nodes].sum()) / kc
        label = dict.fromkeys(nodes, 0)
        if kc > 1:
            best, kept = float("inf"), None
            for _ in range(restarts):
                state = _State(g, _grow(g, nodes, kc, rng), kc, ideal)
                _improve(state, nodes, rounds)
                cost = state.total()
                if cost < best - 1e-12:
                    best, kept = cost, state
            assert kept is not None
            _balance(kept, nodes)
            label = kept.label
        first: dict[int, int] = {}
        for atom in sorted(label):
            first.setdefault(label[atom], atom)
        used = sorted(first, key=lambda p: first[p])  # parts in order of their first atom
        dense = {p: i for i, p in enumerate(used)}
        for atom, p in label.items():
            labels[atom] = offset + dense[p]
        offset += len(used)
    return labels


def _share(comps: list[list[int]], weights: np.ndarray, k: int, total: float) -> list[int]:
    if len(comps) == 1:
        return [k]
    mass = [float(weights[c].sum()) for c in comps]
    ks = [max(1, round(k * m / total)) if total > 0 else 1 for m in mass]
    return ks


@dataclass(frozen=True)
class Metrics:
    """How good a partition is: balance, compactness, contiguity."""

    parts: int
    households: list[int]
    max_deviation: float  # max |h − target| / target
    max_deviation_ideal: float  # the same against total / parts
    cv: float  # coefficient of variation of households
    pp_mean: float  # Polsby–Popper, 4πA/P²
    pp_min: float
    contiguous: bool


def measure(g: AtomGraph, labels: np.ndarray, target: float | None = None) -> Metrics:
    """Metrics of ``labels`` on ``g``, from the atom numbers alone."""
    nbs = _neighbours(g)
    parts = sorted(set(labels.tolist()))
    homes, pps, contiguous = [], [], True
    for p in parts:
        members = {int(a) for a in np.flatnonzero(labels == p)}
        homes.append(float(g.weights[list(members)].sum()))
        area = float(g.areas[list(members)].sum())
        perim = sum(
            float(g.perimeters[a]) - sum(s for nb, s in nbs[a].items() if nb in members)
            for a in members
        )
        pps.append(4 * np.pi * area / (perim * perim) if perim > 0 else 0.0)
        contiguous = contiguous and _connected(members, nbs)
    h = np.array(homes)
    ideal = float(h.sum()) / len(h) if len(h) else 0.0
    goal = target if target else ideal
    return Metrics(
        parts=len(parts),
        households=[round(x) for x in homes],
        max_deviation=float(np.max(np.abs(h - goal)) / goal) if goal > 0 else 0.0,
        max_deviation_ideal=float(np.max(np.abs(h - ideal)) / ideal) if ideal > 0 else 0.0,
        cv=float(h.std() / h.mean()) if len(h) and h.mean() > 0 else 0.0,
        pp_mean=float(np.mean(pps)) if pps else 0.0,
        pp_min=float(np.min(pps)) if pps else 0.0,
        contiguous=contiguous,
    )
