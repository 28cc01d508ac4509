"""Solvers on numbers only: per-grid 1-median (numpy), p-median (Lagrangian bounds in
numpy, then HiGHS on what they leave open) and MCLP (HiGHS MIP).

>>> import numpy as np
>>> cost = np.array([[0.0, 4.0], [1.0, 3.0], [5.0, 0.0]])
>>> s = p_median(cost, np.array([1.0, 1.0, 1.0]), p=1)
>>> s.sites, s.objective, s.optimal
((0,), 6.0, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from gis.errors import GridgovError, InvalidInput
from gis.siting.cover import CoverModel, reduce_cover, swap_start
from gis.siting.matrix import Points, cost_matrix
from gis.siting.median import bounds

__all__ = ["GridMedian", "Solution", "SolverFailed", "mclp", "one_median_per_grid", "p_median"]

FloatArray = NDArray[np.float64]


class SolverFailed(GridgovError):
    """HiGHS found no solution (infeasible model, or the time limit hit before any)."""

    title = "Solver failed"


@dataclass(frozen=True)
class Solution:
    """Chosen sites (column indices of the cost matrix), the objective (p-median: sum of
    weight × distance; MCLP: weight covered), HiGHS's relative MIP gap, and whether the
    time limit stopped it (then ``sites`` is the best solution found, ``gap`` its gap)."""

    sites: tuple[int, ...]
    objective: float
    gap: float
    optimal: bool
    time_limit_hit: bool
    seconds: float
    assignment: NDArray[np.intp]  # nearest chosen site per demand point (column index)

    def coverage(self, cost: FloatArray, weights: FloatArray, radius: float) -> float:
        """Share of the weight within ``radius`` of a chosen site."""
        near = (cost[:, list(self.sites)] <= radius).any(axis=1)
        total = float(weights.sum())
        return float(weights[near].sum()) / total if total > 0 else 0.0


@dataclass(frozen=True)
class GridMedian:
    """The candidate in a grid minimising the household-weighted distance to its homes."""

    grid: str
    candidate: int  # index into the candidates
    weighted_distance: float  # sum of households × metres
    households: float


def _check(cost: FloatArray, weights: FloatArray, p: int) -> tuple[FloatArray, FloatArray]:
    cost = np.asarray(cost, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if cost.ndim != 2 or cost.shape[0] != weights.shape[0]:
        raise InvalidInput(f"cost matrix {cost.shape} and weights {weights.shape}: need n×m and n")
    if cost.shape[1] == 0 or cost.shape[0] == 0:
        raise InvalidInput("no demand points or no candidate sites: nothing to solve")
    if not np.isfinite(cost).all() or (cost < 0).any() or (weights < 0).any():
        raise InvalidInput("costs and weights must be finite and non-negative")
    if not 1 <= p <= cost.shape[1]:
        raise InvalidInput(f"p = {p}: choose between 1 and the {cost.shape[1]} candidate sites")
    return cost, weights


def _run(
    lp: highspy.HighsLp,
    time_limit: float | None,
    ncols: int,
    start: FloatArray | None = None,
    presolve: bool = True,
) -> tuple[FloatArray, float, float, bool, bool, float]:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    if not presolve:
        h.setOptionValue("presolve", "off")
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    began = time.perf_counter()
    h.passModel(lp)
    if start is not None:
        guess = highspy.HighsSolution()
        guess.col_value = start.tolist()
        guess.value_valid = True
        h.setSolution(guess)
    h.run()
    seconds = time.perf_counter() - began
    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise SolverFailed("the siting model is infeasible; check p and the candidate sites")
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has_solution:
        raise SolverFailed(
            f"HiGHS stopped ({h.modelStatusToString(status)}) without a solution; "
            "raise --time-limit or shrink the problem"
        )
    x = np.asarray(h.getSolution().col_value, dtype=float)[:ncols]
    optimal = status == highspy.HighsModelStatus.kOptimal
    hit = status == highspy.HighsModelStatus.kTimeLimit
    gap = 0.0 if optimal else float(info.mip_gap)
    return x, float(info.objective_function_value), gap, optimal, hit, seconds


def _rowwise(
    lp: highspy.HighsLp, starts: NDArray[np.int64], index: NDArray[np.int64], value: FloatArray
) -> None:
    a = highspy.HighsSparseMatrix()
    a.format_ = highspy.MatrixFormat.kRowwise
    a.num_row_ = lp.num_row_
    a.num_col_ = lp.num_col_
    a.start_ = np.append(starts, len(index)).astype(np.int32)
    a.index_ = index.astype(np.int32)
    a.value_ = value.astype(float)
    lp.a_matrix_ = a


def p_median(
    cost: FloatArray, weights: FloatArray, p: int, time_limit: float | None = None
) -> Solution:
    """Open ``p`` sites minimising sum_i w_i × distance to the nearest open site (exact).

    :func:`gis.siting.median.bounds` first finds a local optimum and a Lagrangian lower
    bound in numpy; when they meet the answer is proved without a solver. Otherwise
    HiGHS solves the assignment model over the candidates the bounds could not rule out
    (those proved open fixed open), from the local optimum, and the better of the two is
    the answer.
    """
    cost, weights = _check(cost, weights, p)
    began = time.perf_counter()
    deadline = None if time_limit is None else began + time_limit / 2
    b = bounds(cost, weights, p, deadline)
    sites, best, lower, optimal, hit = b.sites, b.upper, b.lower, b.proved, False
    if not optimal:
        keep = np.flatnonzero(~b.closed)
        left = None if time_limit is None else max(0.1, began + time_limit - time.perf_counter())
        start = [int(np.searchsorted(keep, j)) for j in b.sites if not b.closed[j]]
        try:
            sub, sub_bound, optimal, hit = _assignment_model(
                cost[:, keep], weights, p, b.opened[keep], start if len(start) == p else None, left
            )
        except SolverFailed:  # the time limit hit before HiGHS had a solution of its own
            sub, sub_bound, hit = b.sites, lower, True
        else:
            value = float((weights[:, None] * cost[:, keep[list(sub)]]).min(axis=1).sum())
            if value < best:
                sites, best = tuple(int(keep[j]) for j in sub), value
        lower = max(lower, min(sub_bound, best))
    gap = 0.0 if optimal or best <= 0 else max(0.0, (best - lower) / best)
    assignment = np.asarray(sites, dtype=np.intp)[np.argmin(cost[:, list(sites)], axis=1)]
    objective = float(weights @ cost[np.arange(len(weights)), assignment])
    seconds = time.perf_counter() - began
    return Solution(tuple(sorted(sites)), objective, gap, optimal, hit, seconds, assignment)


def _assignment_model(
    cost: FloatArray,
    weights: FloatArray,
    p: int,
    opened: NDArray[np.bool_],
    start: list[int] | None,
    time_limit: float | None,
) -> tuple[tuple[int, ...], float, bool, bool]:
    """The classic model in HiGHS: x_ij serves home i from site j (x_ij <= y_j, each home
    served once), sum_j y_j = p, the ``opened`` sites fixed open. Each home keeps only its
    m - p + 1 nearest candidates: at most m - p sites are closed, so its nearest open
    site is always among them (an exact reduction). The sites, the dual bound, flags."""
    n, m = cost.shape
    k = m - p + 1
    near = np.argpartition(cost, k - 1, axis=1)[:, :k] if k < m else np.tile(np.arange(m), (n, 1))
    near = np.sort(near, axis=1)
    nx = n * k
    xcol = np.arange(nx, dtype=np.int64).reshape(n, k)
    lp = highspy.HighsLp()
    lp.num_col_ = nx + m
    lp.col_cost_ = np.concatenate(
        [(weights[:, None] * np.take_along_axis(cost, near, 1)).ravel(), np.zeros(m)]
    )
    lp.col_lower_ = np.concatenate([np.zeros(nx), opened.astype(float)])
    lp.col_upper_ = np.ones(nx + m)
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * nx + [highspy.HighsVarType.kInteger] * m
    # rows: n assignment rows (sum_j x_ij = 1), n·k links (x_ij - y_j <= 0), one cardinality
    assign_idx = xcol.ravel()
    link_idx = np.column_stack([xcol.ravel(), nx + near.ravel()]).ravel()
    card_idx = nx + np.arange(m, dtype=np.int64)
    index = np.concatenate([assign_idx, link_idx, card_idx])
    value = np.concatenate([np.ones(nx), np.tile([1.0, -1.0], nx), np.ones(m)])
    lengths = np.concatenate([np.full(n, k), np.full(nx, 2), [m]])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    lp.num_row_ = n + nx + 1
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(nx, -highspy.kHighsInf), [p]])
    lp.row_upper_ = np.concatenate([np.ones(n), np.zeros(nx), [p]])
    _rowwise(lp, starts, index, value)
    guess = None
    if start is not None:
        guess = np.zeros(nx + m)
        guess[nx + np.asarray(start)] = 1.0
        served_by = np.asarray(start)[np.argmin(cost[:, start], axis=1)]
        guess[xcol[np.arange(n), np.argmax(near == served_by[:, None], axis=1)]] = 1.0
    x, obj, gap, optimal, hit, _seconds = _run(lp, time_limit, nx + m, guess)
    sites = tuple(int(j) for j in np.flatnonzero(x[nx:] > 0.5))
    return sites, obj * (1.0 - gap), optimal, hit


def mclp(
    cost: FloatArray,
    weights: FloatArray,
    radius: float,
    p: int,
    time_limit: float | None = None,
) -> Solution:
    """Open ``p`` sites maximising the weight within ``radius`` of an open site (exact).

    HiGHS solves the model :func:`gis.siting.cover.reduce_cover` made smaller without
    changing its optimum (merged demand, unreachable demand and dominated candidates
    dropped), from a 1-swap local optimum; sparse rows hold only the candidates in reach.
    """
    cost, weights = _check(cost, weights, p)
    if not radius > 0:
        raise InvalidInput(f"radius {radius}: give a positive service radius in metres")
    began = time.perf_counter()
    model = reduce_cover(cost <= radius, weights)
    chosen: list[int] = []  # nothing within reach of any candidate: any p sites
    gap, optimal, hit = 0.0, True, False
    if len(model.weight):
        start = swap_start(model, p)
        chosen, gap, optimal, hit = _solve_cover(model, p, start, time_limit)
    # fewer undominated candidates than p: the rest are any others (they add no cover)
    picked = set(model.columns[chosen].tolist())
    extra = [j for j in range(cost.shape[1]) if j not in picked][: p - len(picked)]
    sites = tuple(sorted(picked | set(extra)))
    covered = (cost[:, list(sites)] <= radius).any(axis=1)
    assignment = np.asarray(sites, dtype=np.intp)[np.argmin(cost[:, list(sites)], axis=1)]
    seconds = time.perf_counter() - began
    return Solution(sites, float(weights[covered].sum()), gap, optimal, hit, seconds, assignment)


def _solve_cover(
    model: CoverModel, p: int, start: list[int], time_limit: float | None
) -> tuple[list[int], float, bool, bool]:
    """HiGHS on the reduced model: y_j per column, z_i per group, z_i <= sum of the y_j
    that reach group i, sum_j y_j = min(p, columns). The chosen columns, gap, flags."""
    n, m = model.reach.shape
    p = min(p, m)
    rows, cols = np.nonzero(model.reach)  # row-major: grouped by demand group
    counts = np.bincount(rows, minlength=n)  # every group is reached at least once
    lp = highspy.HighsLp()
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.num_col_ = m + n  # y_j then z_i
    lp.col_cost_ = np.concatenate([np.zeros(m), model.weight])
    lp.col_lower_ = np.zeros(m + n)
    lp.col_upper_ = np.ones(m + n)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * n
    lengths = np.concatenate([counts + 1, [m]])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    first = starts[:-1]
    index = np.empty(int(lengths.sum()), dtype=np.int64)
    value = np.empty(int(lengths.sum()))
    index[first] = m + np.arange(n)
    value[first] = 1.0
    offset = np.arange(len(cols)) - np.repeat(np.cumsum(counts) - counts, counts)
    body = np.repeat(first + 1, counts) + offset
    index[body] = cols
    value[body] = -1.0
    index[starts[-1] :] = np.arange(m)
    value[starts[-1] :] = 1.0
    lp.num_row_ = n + 1
    lp.row_lower_ = np.concatenate([np.full(n, -highspy.kHighsInf), [p]])
    lp.row_upper_ = np.concatenate([np.zeros(n), [p]])
    _rowwise(lp, starts, index, value)
    guess = np.zeros(m + n)
    guess[start] = 1.0
    guess[m:] = model.reach[:, start].any(axis=1)
    # the model is reduced already: HiGHS's presolve finds little more, and the search
    # with it took twice the CPU (11.7 s against 5.2 s on bench/siting.py's MCLP)
    x, _obj, gap, optimal, hit, _seconds = _run(lp, time_limit, m, guess, presolve=False)
    return np.flatnonzero(x[:m] > 0.5).tolist(), gap, optimal, hit


def one_median_per_grid(
    demand: Points,
    candidates: Points,
    grid_of: tuple[NDArray[np.str_], NDArray[np.str_]] | None = None,
    costs: Callable[[Points, Points], FloatArray] | None = None,
) -> dict[str, GridMedian]:
    """For each grid, the candidate standing in it that minimises the household-weighted
    distance to the grid's homes (exact: every candidate is evaluated).

    ``grid_of`` gives the grid of each demand point and of each candidate (default: their
    ``grid`` labels); ``costs`` the distances of two point sets (default: straight lines).
    Grids without a candidate inside are left out.
    """
    dgrid, cgrid = grid_of if grid_of is not None else (demand.grid, candidates.grid)
    if len(dgrid) != len(demand) or len(cgrid) != len(candidates):
        raise InvalidInput("grid_of: one grid label per demand point and per candidate")
    out: dict[str, GridMedian] = {}
    d_order = np.argsort(dgrid, kind="stable")
    c_order = np.argsort(cgrid, kind="stable")
    d_sorted, c_sorted = dgrid[d_order], cgrid[c_order]
    grids, d_start = np.unique(d_sorted, return_index=True)
    d_end = np.append(d_start[1:], len(d_sorted))
    c_lo = np.searchsorted(c_sorted, grids, side="left")
    c_hi = np.searchsorted(c_sorted, grids, side="right")
    for g, a, b, lo, hi in zip(grids, d_start, d_end, c_lo, c_hi, strict=True):
        if not g or lo == hi:
            continue
        di, ci = d_order[a:b], c_order[lo:hi]
        w = demand.weight[di]
        block = (
            cost_matrix(demand.xy[di], candidates.xy[ci])
            if costs is None
            else costs(demand.take(di), candidates.take(ci))
        )
        totals = w @ block
        best = int(np.argmin(totals))
        out[str(g)] = GridMedian(str(g), int(ci[best]), float(totals[best]), float(w.sum()))
    return out
