"""Siting: gridgov's per-grid 1-median against brute force, and its p-median / MCLP against
spopt (PuLP + CBC) on one cost matrix.

Seeded synthetic city (clustered homes, like the demo's dense centres and sparse
farmland), 3,000 demand points × 200 candidates, p = 20 by default. Both solvers get
the same cost matrix (metres) and weights; the bench asserts the objectives agree and
prints both times and their ratio: CPU seconds (this process and its children: CBC runs
as a child), which other jobs on a shared machine barely change, and wall seconds.

    .venv/bin/python bench/siting.py [--n 3000] [--m 200] [--p 20] [--radius 1200]
        [--pmedian-n 600] [--pmedian-m 60] [--pmedian-p 8] [--time-limit 600]

The per-grid 1-median: the same city cut into 1 km grids, every home a candidate site of
its grid; the brute force walks every (grid, candidate) pair in plain Python loops.

The p-median comparison runs on its own (smaller by default) instance: the exact
p-median of 3,000 × 200 is a 600,000-variable model that neither solver closes in
minutes on synthetic data; pass --pmedian-n 3000 --pmedian-m 200 to try it.
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np
import pulp
from spopt.locate import MCLP, PMedian

from gis.siting import Points, cost_matrix, mclp, one_median_per_grid, p_median


def city(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 12_000, (12, 2))
    spread = rng.uniform(300, 1500, 12)
    which = rng.integers(0, 12, n)
    homes = centres[which] + rng.normal(0, 1, (n, 2)) * spread[which, None]
    sites = homes[rng.choice(n, m, replace=False)] + rng.normal(0, 50, (m, 2))
    weights = rng.integers(1, 80, n).astype(float)
    return cost_matrix(homes, sites), weights


def grid_city(seed: int, n: int) -> tuple[Points, Points]:
    """The seeded city's homes as demand and as candidates, labelled with 1 km grids."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 12_000, (12, 2))
    spread = rng.uniform(300, 1500, 12)
    which = rng.integers(0, 12, n)
    xy = centres[which] + rng.normal(0, 1, (n, 2)) * spread[which, None]
    grid = np.array([f"{int(x // 1000)}:{int(y // 1000)}" for x, y in xy])
    key = np.array([f"home:{i}" for i in range(n)])
    weights = rng.integers(1, 80, n).astype(float)
    return Points(xy, weights, grid, key), Points(xy, np.zeros(n), grid, key)


def brute_one_median(demand: Points, sites: Points) -> dict[str, float]:
    """Each grid's least household-weighted distance over its candidates, by loops."""
    best: dict[str, float] = {}
    homes: dict[str, list[int]] = {}
    for i, g in enumerate(demand.grid):
        homes.setdefault(str(g), []).append(i)
    for j, g in enumerate(sites.grid):
        total = 0.0
        for i in homes.get(str(g), []):
            dx, dy = demand.xy[i] - sites.xy[j]
            total += demand.weight[i] * math.hypot(dx, dy)
        best[str(g)] = min(best.get(str(g), math.inf), total)
    return best


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (CBC runs as one)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):  # type: ignore[no-untyped-def]
    """The result, its CPU seconds (the ratio's basis: on a machine shared with other
    jobs, wall time measures the neighbours as much as the solvers) and wall seconds."""
    t, c = time.perf_counter(), _cpu()
    out = fn()
    return out, _cpu() - c, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--m", type=int, default=200)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--radius", type=float, default=1200.0)
    ap.add_argument("--pmedian-n", type=int, default=600)
    ap.add_argument("--pmedian-m", type=int, default=60)
    ap.add_argument("--pmedian-p", type=int, default=8)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    cbc = pulp.PULP_CBC_CMD(msg=False, timeLimit=a.time_limit)

    demand, sites = grid_city(a.seed, a.n)
    print(f"per-grid 1-median: {a.n} homes, each a candidate of its 1 km grid")
    ours, t_ours, _ = timed(lambda: one_median_per_grid(demand, sites))
    brute, t_brute, _ = timed(lambda: brute_one_median(demand, sites))
    same = set(ours) == set(brute) and all(
        math.isclose(m.weighted_distance, brute[g], rel_tol=1e-9) for g, m in ours.items()
    )
    print(
        f"  gridgov: {len(ours)} grids, {t_ours:.2f} s CPU; brute force {t_brute:.2f} s CPU; "
        f"equal: {same}; speed-up {t_brute / t_ours:.0f}×"
    )
    assert same, "per-grid 1-median: gridgov and brute force disagree"

    cost, w = city(a.seed, a.n, a.m)
    print(f"MCLP: {a.n} demand × {a.m} candidates, p = {a.p}, radius {a.radius:.0f} m")
    ours, t_ours, wall_ours = timed(lambda: mclp(cost, w, a.radius, a.p, a.time_limit))
    theirs, t_theirs, wall_theirs = timed(
        lambda: MCLP.from_cost_matrix(cost, w, a.radius, p_facilities=a.p).solve(cbc)
    )
    spopt_cov = float(pulp.value(theirs.problem.objective))
    print(
        f"  gridgov/HiGHS: covered {ours.objective:,.0f} of {w.sum():,.0f} "
        f"({100 * ours.objective / w.sum():.2f}%), optimal={ours.optimal}, "
        f"{t_ours:.2f} s CPU ({wall_ours:.2f} s wall)"
    )
    print(
        f"  spopt/CBC:     covered {spopt_cov:,.0f} ({100 * spopt_cov / w.sum():.2f}%), "
        f"status {pulp.LpStatus[theirs.problem.status]}, {t_theirs:.2f} s CPU "
        f"({wall_theirs:.2f} s wall)"
    )
    print(
        f"  same optimum: {abs(ours.objective - spopt_cov) < 1e-6}; "
        f"speed-up {t_theirs / t_ours:.1f}× CPU ({wall_theirs / wall_ours:.1f}× wall)"
    )
    assert abs(ours.objective - spopt_cov) < 1e-6, "MCLP: gridgov and spopt disagree"

    cost, w = city(a.seed + 1, a.pmedian_n, a.pmedian_m)
    print(f"p-median: {a.pmedian_n} demand × {a.pmedian_m} candidates, p = {a.pmedian_p}")
    ours, t_ours, wall_ours = timed(lambda: p_median(cost, w, a.pmedian_p, a.time_limit))
    theirs, t_theirs, wall_theirs = timed(
        lambda: PMedian.from_cost_matrix(cost, w, p_facilities=a.pmedian_p).solve(cbc)
    )
    spopt_obj = float(pulp.value(theirs.problem.objective))
    print(
        f"  gridgov/HiGHS: objective {ours.objective:,.1f} hh·m, optimal={ours.optimal}, "
        f"gap {100 * ours.gap:.4f}%, {t_ours:.2f} s CPU ({wall_ours:.2f} s wall)"
    )
    print(
        f"  spopt/CBC:     objective {spopt_obj:,.1f} hh·m, "
        f"status {pulp.LpStatus[theirs.problem.status]}, {t_theirs:.2f} s CPU "
        f"({wall_theirs:.2f} s wall)"
    )
    print(
        f"  same optimum: {abs(ours.objective - spopt_obj) <= 1e-6 * spopt_obj}; "
        f"speed-up {t_theirs / t_ours:.1f}× CPU ({wall_theirs / wall_ours:.1f}× wall)"
    )
    assert abs(ours.objective - spopt_obj) <= 1e-6 * spopt_obj, "p-median: they disagree"


if __name__ == "__main__":
    main()
