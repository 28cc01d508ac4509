"""The p-median's bounds in numpy: a local-search upper bound, a Lagrangian lower bound
and the candidates the two bounds prove closed or open.

Upper bound: greedy sites improved by best swaps (one site out, one in, the whole swap
neighbourhood evaluated per pass from each home's nearest and second-nearest open site).

Lower bound: relax "every home is served exactly once" with multipliers λᵢ. What is left
splits by candidate: opening j gains ρⱼ = Σᵢ min(0, wᵢ·cᵢⱼ − λᵢ), so

    L(λ) = Σᵢ λᵢ + (sum of the p smallest ρⱼ) ≤ the p-median optimum, for every λ.

Subgradient steps (Held and Karp's rule, towards the upper bound) raise L; every few steps
the p sites of the relaxation are tried as a solution too (they often are the optimum).
With the final λ, a candidate is proved closed when opening it (in place of the p-th
best ρ) lifts L above the best solution known, and proved open when closing it does —
no solution better than the incumbent can then use it, or do without it. The exact model
only has to search what is left. (Beasley, "Lagrangean heuristics for location problems",
EJOR 65, 1993, gives the scheme.)

>>> import numpy as np
>>> cost = np.array([[0.0, 4.0, 9.0], [1.0, 3.0, 9.0], [5.0, 0.0, 9.0]])
>>> b = bounds(cost, np.ones(3), p=1)
>>> b.sites, b.upper, round(b.lower, 6), b.closed.tolist()
((0,), 6.0, 6.0, [False, True, True])
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["MedianBounds", "bounds", "local_search", "objective"]

FloatArray = NDArray[np.float64]

#: bounds this close (relative) prove the incumbent optimal
TOLERANCE = 1e-9


@dataclass(frozen=True)
class MedianBounds:
    """The best sites found (``upper`` their objective), the Lagrangian bound ``lower``,
    and the candidates proved ``closed`` / ``opened`` in every better solution."""

    sites: tuple[int, ...]
    upper: float
    lower: float
    closed: NDArray[np.bool_]
    opened: NDArray[np.bool_]

    @property
    def proved(self) -> bool:
        """Whether the bounds meet: ``sites`` is optimal."""
        return self.upper - self.lower <= TOLERANCE * max(1.0, abs(self.upper))


def objective(wcost: FloatArray, sites: list[int] | tuple[int, ...]) -> float:
    """Σᵢ wᵢ · (distance to the nearest of ``sites``), from the weighted costs."""
    return float(wcost[:, list(sites)].min(axis=1).sum())


def _greedy(wcost: FloatArray, p: int) -> list[int]:
    chosen: list[int] = []
    best = np.full(wcost.shape[0], np.inf)
    for _ in range(p):
        totals = np.minimum(best[:, None], wcost).sum(axis=0)
        totals[chosen] = np.inf
        j = int(np.argmin(totals))
        chosen.append(j)
        best = np.minimum(best, wcost[:, j])
    return chosen


def local_search(wcost: FloatArray, sites: list[int]) -> list[int]:
    """Best-improvement swaps until no swap of one site for another lowers the objective."""
    sites = list(sites)
    n, m = wcost.shape
    if len(sites) == m:
        return sites
    rows = np.arange(n)
    while True:
        served = wcost[:, sites]
        order = np.argsort(served, axis=1)[:, :2]
        nearest = np.asarray(sites)[order[:, 0]]
        d1 = served[rows, order[:, 0]]
        d2 = served[rows, order[:, 1]] if len(sites) > 1 else np.full(n, np.inf)
        # swapping in j alone (nobody loses a site): Σ min(d1, c_j)
        gain_in = np.minimum(d1[:, None], wcost).sum(axis=0)
        best_change, best_swap = -TOLERANCE * max(1.0, float(d1.sum())), None
        for r in sites:
            mine = nearest == r
            # homes served by r fall back to min(second nearest, c_j)
            delta = gain_in + (
                np.minimum(d2[mine, None], wcost[mine]) - np.minimum(d1[mine, None], wcost[mine])
            ).sum(axis=0)
            delta -= d1.sum()
            delta[sites] = np.inf
            j = int(np.argmin(delta))
            if delta[j] < best_change:
                best_change, best_swap = float(delta[j]), (r, j)
        if best_swap is None:
            return sorted(sites)
        sites[sites.index(best_swap[0])] = best_swap[1]


def _relaxation(
    wcost: FloatArray, lam: FloatArray, p: int
) -> tuple[float, FloatArray, NDArray[np.intp]]:
    """L(λ), every candidate's ρⱼ, and the p candidates the relaxation opens."""
    rho = np.minimum(wcost - lam[:, None], 0.0).sum(axis=0)
    open_ = np.argpartition(rho, p - 1)[:p]
    return float(lam.sum() + rho[open_].sum()), rho, open_


def bounds(
    cost: FloatArray,
    weights: FloatArray,
    p: int,
    deadline: float | None = None,
    steps: int = 3000,
) -> MedianBounds:
    """Both bounds and the fixings they prove (see the module docstring). ``deadline`` is a
    ``time.perf_counter()`` instant after which the subgradient stops early."""
    wcost = weights[:, None] * cost
    m = wcost.shape[1]
    sites = local_search(wcost, _greedy(wcost, p))
    upper = objective(wcost, sites)
    seen = {tuple(sites)}
    # start from each home's second-smallest weighted cost: a common, safe first guess
    lam = np.sort(wcost, axis=1)[:, 1] if m > 1 else wcost[:, 0].copy()
    lower, best_lam = -np.inf, lam.copy()
    scale, stale = 2.0, 0
    for step in range(steps):
        value, _rho, open_ = _relaxation(wcost, lam, p)
        if value > lower + TOLERANCE * max(1.0, abs(upper)):
            lower, best_lam, stale = value, lam.copy(), 0
        else:
            stale += 1
        if step % 10 == 0:
            trial = tuple(sorted(int(j) for j in open_))
            if trial not in seen:
                seen.add(trial)
                trial_value = objective(wcost, trial)
                if trial_value < upper:
                    sites = local_search(wcost, list(trial))
                    upper = objective(wcost, sites)
        if upper - lower <= TOLERANCE * max(1.0, abs(upper)):
            break
        if stale >= 30:
            scale, stale = scale / 2, 0
            if scale < 1e-4:
                break
        if deadline is not None and time.perf_counter() > deadline:
            break
        # subgradient: 1 - (how many open sites serve home i in the relaxation)
        served = ((wcost[:, open_] - lam[:, None]) < 0).sum(axis=1)
        grad = 1.0 - served
        norm = float(grad @ grad)
        if norm == 0:  # the relaxation's solution is feasible: L equals its objective
            break
        lam = lam + scale * (upper - value) / norm * grad
    closed, opened = _fixings(wcost, best_lam, p, upper)
    return MedianBounds(tuple(sorted(sites)), upper, max(lower, 0.0), closed, opened)


def _fixings(
    wcost: FloatArray, lam: FloatArray, p: int, upper: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Candidates whose forced opening (closing) lifts L(λ) above ``upper``."""
    m = wcost.shape[1]
    value, rho, _open = _relaxation(wcost, lam, p)
    margin = TOLERANCE * max(1.0, abs(upper))
    order = np.argsort(rho, kind="stable")
    in_p = np.zeros(m, dtype=bool)
    in_p[order[:p]] = True
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    if p < m:
        # opening j outside the p best replaces the p-th best; closing j inside brings in
        # the (p+1)-th best
        pth, next_ = rho[order[p - 1]], rho[order[p]]
        closed = ~in_p & (value - pth + rho > upper + margin)
        opened = in_p & (value - rho + next_ > upper + margin)
    return closed, opened
