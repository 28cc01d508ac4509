"""The maximal covering model made smaller, exactly, and a start for it (numbers only).

MCLP opens p of m candidates to maximise the weight of the demand points within reach of
an open one. Three reductions leave its optimum unchanged:

- demand points reached by the same candidates are one row, weighing their sum;
- demand points no candidate reaches are dropped (no choice covers them);
- a candidate whose reach lies inside another's is dropped: in any solution it can be
  swapped for the one containing it (or, when that one is open already, for any other)
  without losing coverage. Equal reaches keep the lowest index.

The start is greedy, then improved by the best swap of an open and a closed candidate
until no swap gains (a 1-swap local optimum), so HiGHS mostly has to prove the bound.

>>> import numpy as np
>>> reach = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1]], dtype=bool)
>>> model = reduce_cover(reach, np.array([1.0, 2.0, 5.0, 4.0]))
>>> model.columns.tolist(), model.weight.tolist()
([0, 2], [4.0, 3.0])
>>> swap_start(model, 1)
[1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_DOMINANCE", "CoverModel", "reduce_cover", "swap_start"]

FloatArray = NDArray[np.float64]
MAX_DOMINANCE = 4000  # candidates: the m × m dominance test holds m² floats (128 MB at 4,000)


@dataclass(frozen=True)
class CoverModel:
    """Rows: groups of demand points; columns: the candidates kept (``columns`` gives
    their index in the original matrix). ``reach[i, j]``: column j covers group i."""

    reach: NDArray[np.bool_]
    weight: FloatArray
    columns: NDArray[np.intp]


def _groups(reach: NDArray[np.bool_], weights: FloatArray) -> tuple[NDArray[np.bool_], FloatArray]:
    """Rows with the same reach merged (weights summed), in a fixed order."""
    if reach.shape[0] == 0:
        return reach, weights
    packed, inverse = np.unique(np.packbits(reach, axis=1), axis=0, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=weights, minlength=packed.shape[0]).astype(float)
    rows: NDArray[np.bool_] = np.unpackbits(packed, axis=1, count=reach.shape[1]).astype(bool)
    return rows, merged


def _undominated(reach: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Columns whose reach is inside no other column's (ties: the lowest index stays)."""
    m = reach.shape[1]
    if m > MAX_DOMINANCE or reach.shape[0] == 0:
        return np.arange(m, dtype=np.intp) if reach.shape[0] else np.zeros(1, dtype=np.intp)
    a = reach.T.astype(np.float64)
    inter = a @ a.T  # inter[j, k] = |reach j ∩ reach k|, exact in float64
    size = np.diag(inter).copy()
    order = np.lexsort((np.arange(m), -size))  # larger reach first, then lower index
    rank = np.empty(m, dtype=np.intp)
    rank[order] = np.arange(m)
    inside = inter >= size[:, None]  # reach j ⊆ reach k
    dominated = (inside & (rank[None, :] < rank[:, None])).any(axis=1)
    return np.flatnonzero(~dominated).astype(np.intp)


def reduce_cover(reach: NDArray[np.bool_], weights: FloatArray) -> CoverModel:
    """The reduced model of a demand × candidate ``reach`` matrix (exact, see above)."""
    reached = reach.any(axis=1)
    rows, w = _groups(reach[reached], weights[reached])
    columns = _undominated(rows)
    rows, w = _groups(rows[:, columns], w)
    return CoverModel(rows, w, columns)


def swap_start(model: CoverModel, p: int) -> list[int]:
    """``p`` columns (indices into ``model.columns``, at most all of them): greedy, then
    best-improvement swaps until none gains."""
    u = model.reach.astype(np.float64)
    w = model.weight
    p = min(p, u.shape[1])
    count = np.zeros(len(w))  # open columns covering each row
    chosen: list[int] = []
    for _ in range(p):
        gain = (w * (count == 0)) @ u
        gain[chosen] = -1.0
        chosen.append(int(np.argmax(gain)))
        count += u[:, chosen[-1]]
    tol = 1e-9 * max(1.0, float(w.sum()))
    while chosen:
        only = w * (count == 1)  # rows that lose their cover if their one column closes
        add = (w * (count == 0)) @ u  # (k,) newly covered by opening a column
        open_ = u[:, chosen]
        loss = only @ open_  # (p,) uncovered by closing an open column
        kept = (open_ * only[:, None]).T @ u  # (p, k): of that loss, what the new one covers
        gain = add[None, :] - loss[:, None] + kept
        gain[:, chosen] = -np.inf
        i, j = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if not gain[i, j] > tol:
            break
        count += u[:, j] - open_[:, i]
        chosen[int(i)] = int(j)
    return chosen
