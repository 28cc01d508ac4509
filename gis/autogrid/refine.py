"""Boundary moves that keep every part connected: local search, balance pass, polish.

Every move is of one boundary atom (or two at once), made only when its part stays
connected (:meth:`Parts.can_leave`).

:func:`improve` lowers a weighted objective, per part the squared relative household
deviation plus ``compact`` × (1 − Polsby–Popper) (perimeters from the atoms' shared edge
lengths), moving each boundary atom to the neighbouring part that lowers it most, pass
after pass until no move helps. :func:`balance` then drives the largest deviation down
to the granularity of the atoms: among moves of a boundary atom that lower the larger
|deviation| of the two parts it touches, the best (then the one costing least perimeter)
is made while both parts keep ``guard`` × their Polsby–Popper; when no single move
helps, two boundary atoms are swapped between neighbouring parts. It stops at the
granularity bound, :func:`floor_deviation`. :func:`polish` last makes the parts more
compact (moves and swaps) without raising the largest deviation.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from gis.autogrid.parts import FOUR_PI, Parts

__all__ = ["balance", "floor_deviation", "improve", "polish"]


def improve(parts: Parts, compact: float, budget: int) -> None:
    """Local search on the weighted objective (see the module's docstring): boundary atoms
    wait in a queue; one that moves puts its neighbours back in it. At most ``budget``
    atoms are examined."""
    label = parts.label
    queue = deque(parts.boundary())
    waiting = set(queue)
    for _ in range(budget):
        if not queue:
            return
        atom = queue.popleft()
        waiting.discard(atom)
        p = label[atom]
        touch = parts.touching(atom)
        best: tuple[float, int, tuple[float, float]] | None = None
        for q in touch:
            if q == p:
                continue
            delta, new = parts.move_delta(atom, q, touch, compact)
            if delta < -1e-12 and (best is None or (delta, q) < best[:2]):
                best = (delta, q, new)
        if best is None or not parts.can_leave(atom):
            continue
        parts.move(atom, best[1], best[2])
        for nb in parts.pc.nbs[atom]:
            if nb not in waiting:
                waiting.add(nb)
                queue.append(nb)


def balance(parts: Parts, guard: float, floor: float = 0.0) -> bool:
    """The balance pass (see the module's docstring): each move lowers the larger
    |deviation| of the two parts it touches, so the sorted deviations fall
    lexicographically and the pass ends. It stops early once the largest deviation is
    down to ``floor`` households (no partition of these atoms does better). True if it
    ended with a helpful move refused for the Polsby–Popper guard alone (a looser guard
    may go further)."""
    shape = [guard * parts.pp(p) for p in range(parts.k)]
    while max(abs(m - parts.ideal) for m in parts.mass) > floor + 1e-9:
        refused = [False]
        if not _best_moves(parts, shape, refused) and not _exchange(parts, shape, refused):
            return refused[0]
    return False


def _gain(parts: Parts, p: int, q: int, net: float) -> float:
    """How much the larger |deviation| of ``p`` and ``q`` falls if ``net`` households go
    from ``p`` to ``q``."""
    dp, dq = parts.mass[p] - parts.ideal, parts.mass[q] - parts.ideal
    return max(abs(dp), abs(dq)) - max(abs(dp - net), abs(dq + net))


def _keeps_shape(
    parts: Parts, atom: int, q: int, new: tuple[float, float], shape: list[float]
) -> bool:
    """Both parts keep their Polsby–Popper floor ``shape`` once ``atom`` moves to ``q``."""
    p, a = parts.label[atom], parts.pc.area[atom]
    return (
        FOUR_PI * (parts.area[p] - a) >= shape[p] * new[0] * new[0]
        and FOUR_PI * (parts.area[q] + a) >= shape[q] * new[1] * new[1]
    )


def _best_moves(parts: Parts, shape: list[float], refused: list[bool]) -> bool:
    """Single moves, best gain first (ties: the least perimeter added); each is checked
    again against the tallies as they are when its turn comes. True if any was made."""
    w, label, ideal = parts.pc.w, parts.label, parts.ideal
    options: list[tuple[float, float, int, int]] = []
    for atom in parts.boundary():
        p = label[atom]
        if w[atom] <= 0 or parts.size[p] <= 1:
            continue
        touch = parts.touching(atom)
        for q in touch:
            if q == p or (parts.mass[p] <= ideal and parts.mass[q] >= ideal):
                continue
            gain = _gain(parts, p, q, w[atom])
            if gain > 1e-9:
                options.append((-gain, touch.get(p, 0.0) - touch[q], atom, q))
    moved = False
    for _, _, atom, q in sorted(options):
        p = label[atom]
        touch = parts.touching(atom)
        if q not in touch or p == q or _gain(parts, p, q, w[atom]) <= 1e-9:
            continue
        new = parts.perimeters_after(atom, q, touch)
        if not _keeps_shape(parts, atom, q, new, shape):
            refused[0] = True
        elif parts.can_leave(atom):
            parts.move(atom, q, new)
            moved = True
    return moved


def floor_deviation(weights: np.ndarray, k: int) -> float:
    """The least possible largest |households − ideal| of ``k`` parts, whatever their
    shape: some part holds at least the ideal and one at most, and a part can only hold
    a sum of some atoms' households (found by a subset-sum over whole households). 0 when
    households are not whole numbers or k < 2."""
    w = np.asarray(weights)
    if k < 2 or not np.allclose(w, np.round(w)) or len(w) == 0:
        return 0.0
    w = np.round(w).astype(int)
    total = int(w.sum())
    ideal = total / k
    reach = np.zeros(total + 1, dtype=bool)
    reach[0] = True
    values, counts = np.unique(w[w > 0], return_counts=True)
    for v, c in zip(values.tolist(), counts.tolist(), strict=True):
        take = 1
        while c > 0:  # c copies of v as 1, 2, 4, … of them: every count up to c reachable
            step = v * min(take, c)
            reach[step:] |= reach[:-step].copy()
            c -= min(take, c)
            take *= 2
    sums = np.flatnonzero(reach)
    return float(max(sums[sums >= ideal].min() - ideal, ideal - sums[sums <= ideal].max()))


def _shift(parts: Parts, atom: int, q: int) -> bool:
    """Move ``atom`` to ``q`` if it touches ``q`` and its own part stays connected."""
    touch = parts.touching(atom)
    if q not in touch or not parts.can_leave(atom):
        return False
    parts.move(atom, q, parts.perimeters_after(atom, q, touch))
    return True


def _exchange(parts: Parts, floor: list[float], refused: list[bool], tries: int = 50) -> bool:
    """Swap two boundary atoms of neighbouring parts: the best of the first ``tries``
    swaps that lower the larger |deviation| of the two and keep both connected and above
    their Polsby–Popper floor. True if one was made."""
    w, label = parts.pc.w, parts.label
    facing: dict[tuple[int, int], list[int]] = {}
    for atom in parts.boundary():
        p = label[atom]
        for q in parts.touching(atom):
            if q != p:
                facing.setdefault((p, q), []).append(atom)
    options: list[tuple[float, int, int]] = []
    for (p, q), out in sorted(facing.items()):
        if p > q:
            continue
        for a in out:
            for b in facing.get((q, p), []):
                gain = _gain(parts, p, q, w[a] - w[b])
                if gain > 1e-9:
                    options.append((-gain, a, b))
    for _, a, b in sorted(options)[:tries]:
        p, q = label[a], label[b]
        if not _shift(parts, a, q):
            continue
        if _shift(parts, b, p):
            if parts.pp(p) >= floor[p] and parts.pp(q) >= floor[q]:
                return True
            refused[0] = True
            _put_back(parts, b, q)
        _put_back(parts, a, p)
    return False


def _put_back(parts: Parts, atom: int, q: int) -> None:
    """Undo a move of ``atom`` out of ``q`` (where it was: nothing to check)."""
    parts.move(atom, q, parts.perimeters_after(atom, q, parts.touching(atom)))


def polish(parts: Parts, passes: int) -> None:
    """Make the parts more compact without raising the largest deviation: moves of a
    boundary atom, and swaps of two (one each way between two neighbouring parts), that
    lower the sum of (1 − Polsby–Popper) and keep every part within the largest
    |deviation| the balance pass reached."""
    limit = max(abs(m - parts.ideal) for m in parts.mass) + 1e-9
    for _ in range(passes):
        gains = _compacting(parts, limit)
        moved = False
        for delta, atom, q in gains:
            if delta >= 0:
                break
            if _fits(parts, atom, q, limit) and _try(parts, atom, q):
                moved = True
        if not _swap_round(parts, limit) and not moved:
            return


def _fits(parts: Parts, atom: int, q: int, limit: float) -> bool:
    w, p = parts.pc.w[atom], parts.label[atom]
    return (
        abs(parts.mass[p] - w - parts.ideal) <= limit
        and abs(parts.mass[q] + w - parts.ideal) <= limit
    )


def _shape_delta(parts: Parts, atom: int, q: int, touch: dict[int, float]) -> float:
    """Change of the sum of (1 − Polsby–Popper) of the two parts if ``atom`` moves to ``q``."""
    p, a = parts.label[atom], parts.pc.area[atom]
    new = parts.perimeters_after(atom, q, touch)
    before = parts.pp(p) + parts.pp(q)
    after = FOUR_PI * (parts.area[p] - a) / (new[0] * new[0]) + FOUR_PI * (parts.area[q] + a) / (
        new[1] * new[1]
    )
    return before - after


def _compacting(parts: Parts, limit: float) -> list[tuple[float, int, int]]:
    """Every boundary move with its change of shape, most compacting first."""
    out: list[tuple[float, int, int]] = []
    for atom in parts.boundary():
        p = parts.label[atom]
        if parts.size[p] <= 1:
            continue
        touch = parts.touching(atom)
        for q in touch:
            if q != p:
                out.append((_shape_delta(parts, atom, q, touch), atom, q))
    out.sort()
    return out


def _try(parts: Parts, atom: int, q: int) -> bool:
    """Make the move if it still compacts (earlier moves change the tallies) and the
    atom's part stays connected."""
    touch = parts.touching(atom)
    if q not in touch or parts.label[atom] == q or _shape_delta(parts, atom, q, touch) >= -1e-12:
        return False
    if not parts.can_leave(atom):
        return False
    parts.move(atom, q, parts.perimeters_after(atom, q, touch))
    return True


def _swap_round(parts: Parts, limit: float) -> bool:
    """Pair a compacting move out of a part with one into it whose households make up
    for it; keep the pair when together they compact. True if any pair was kept."""
    gains = _compacting(parts, float("inf"))
    kept = False
    used: set[int] = set()
    for delta_a, a, q in gains:
        if delta_a >= 0:
            break
        if a in used or parts.label[a] == q:
            continue
        p = parts.label[a]
        for delta_b, b, r in gains:
            if delta_a + delta_b >= 0:
                break
            if b in used or b == a or parts.label[b] != q or r != p:
                continue
            net = parts.pc.w[a] - parts.pc.w[b]
            if abs(parts.mass[p] - net - parts.ideal) > limit:
                continue
            if abs(parts.mass[q] + net - parts.ideal) > limit:
                continue
            before = parts.pp(p) + parts.pp(q)
            if not _shift(parts, a, q):
                break
            if _shift(parts, b, p):
                if parts.pp(p) + parts.pp(q) > before + 1e-12:
                    used.update((a, b))
                    kept = True
                    break
                _put_back(parts, b, q)
            _put_back(parts, a, p)
    return kept
