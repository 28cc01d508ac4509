"""A balanced, contiguous, compact partition of an atom graph (numbers inside).

Each connected piece of the graph is split in stages (the modules named):

1. ``seed`` — a first partition: recursive bisection by straight cuts (24 directions,
   the most compact connected cut that shares the households k1 : k2) and, for three
   parts or more, also balanced power diagrams from k-means++ seeds; pieces of a part
   that fall apart join a neighbour.
2. ``refine.improve`` — a local search moving boundary atoms to lower, per part, the
   squared relative household deviation plus a weight × (1 − Polsby–Popper), first with
   a heavy weight (shapes), then a light one (balance).
3. ``refine.balance`` — moves (and swaps) of boundary atoms that lower the largest
   deviations, under a Polsby–Popper guard that loosens in steps (90 %, 75 %, 50 % of each
   part's own), stopping as soon as the largest deviation is down to the granularity
   bound of the atoms (``refine.floor_deviation``: no partition can do better).
4. ``refine.polish`` — moves and swaps that make the parts more compact without raising
   the largest deviation.

Of the attempts, the one with the smallest largest deviation (in whole households), then
the largest total Polsby–Popper, is kept. Every move keeps every part connected. The same
seed gives the same partition.

>>> import numpy as np
>>> g = AtomGraph(np.ones(4), np.ones(4), np.array([[0., 0], [1, 0], [2, 0], [3, 0]]),
...               np.ones(4), np.full(4, 4.0), np.array([[0, 1], [1, 2], [2, 3]]), np.ones(3))
>>> partition(g, 2, seed=0).tolist()
[0, 0, 1, 1]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from gis.autogrid.atoms import AtomGraph
from gis.autogrid.graph import components, piece
from gis.autogrid.parts import Parts
from gis.autogrid.refine import balance, floor_deviation, improve, polish
from gis.autogrid.seed import initial

__all__ = ["Metrics", "components", "measure", "partition"]

COMPACT = (0.2, 0.02)  # weights of (1 − Polsby–Popper) against squared relative deviation
PP_GUARD = (0.9, 0.75, 0.5)  # balance passes keep each part's Polsby–Popper above this share
PASSES = 20  # passes of the polish at most
BUDGET = 20  # atoms the local search examines, per atom of the piece


def partition(g: AtomGraph, k: int, seed: int = 0, restarts: int = 3) -> np.ndarray:
    """Labels 0..k-1 of the atoms: ``k`` connected parts of balanced weight, compact.

    Each of ``restarts`` seedings (for two parts: the bisection, and one power diagram
    if the bisection's result is above the granularity bound) goes through the local
    search, balance pass and polish; the most balanced, then most compact, is kept. A
    graph of several components is
    split component by component, ``k`` shared out by households (every component is at
    least one part), so the result may have more than ``k`` parts; labels are dense.
    """
    rng = np.random.default_rng(seed)
    whole = piece(g, list(range(g.n)))
    comps = components(g, whole)
    ks = _share(comps, g.weights, max(k, 1), float(g.weights.sum()))
    labels = np.full(g.n, -1, dtype=int)
    offset = 0
    for nodes, kc in zip(comps, ks, strict=True):
        kc = min(kc, len(nodes))
        pc = whole if len(comps) == 1 else piece(g, nodes)
        label = [0] * pc.m
        if kc > 1:
            kept: Parts | None = None
            floor = floor_deviation(pc.weights, kc)
            # two parts: a power diagram is one more straight cut, which the bisection has
            # tried in every direction; one is worth a try only when the atoms are too
            # coarse for the bisection's cut to be balanced to the bound
            for attempt in range(restarts if kc > 2 else min(restarts, 2)):
                if kc == 2 and kept is not None and _rank(kept)[0] <= round(floor):
                    break
                parts = Parts(pc, initial(pc, kc, rng, attempt), kc)
                for compact in COMPACT:
                    improve(parts, compact, BUDGET * pc.m)
                for guard in PP_GUARD:  # a looser guard only if the last one held it back
                    if not balance(parts, guard, floor):
                        break
                polish(parts, PASSES)
                if kept is None or _rank(parts) < _rank(kept):
                    kept = parts
            assert kept is not None
            label = kept.label
        first: dict[int, int] = {}
        for atom, p in enumerate(label):
            first.setdefault(p, atom)
        used = sorted(first, key=lambda p: first[p])  # parts in order of their first atom
        dense = {p: i for i, p in enumerate(used)}
        labels[pc.nodes] = [offset + dense[p] for p in label]
        offset += len(used)
    return labels


def _rank(parts: Parts) -> tuple[int, float]:
    """The better partition: the smaller largest deviation (in whole households), then
    the larger sum of Polsby–Popper."""
    worst = max(abs(m - parts.ideal) for m in parts.mass)
    return round(worst), -sum(parts.pp(p) for p in range(parts.k))


def _share(comps: list[list[int]], weights: np.ndarray, k: int, total: float) -> list[int]:
    if len(comps) == 1:
        return [k]
    mass = [float(weights[c].sum()) for c in comps]
    ks = [max(1, round(k * m / total)) if total > 0 else 1 for m in mass]
    return ks


def _neighbours(g: AtomGraph) -> list[dict[int, float]]:
    nbs: list[dict[int, float]] = [{} for _ in range(g.n)]
    for (a, b), s in zip(g.edges.tolist(), g.shared.tolist(), strict=True):
        nbs[a][b] = nbs[a].get(b, 0.0) + s
        nbs[b][a] = nbs[b].get(a, 0.0) + s
    return nbs


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
