"""A partition of a piece with its per-part tallies, kept up to date as atoms move.

:class:`Parts` keeps each part's atoms, households, area and perimeter (the atoms'
perimeters less the edges they share inside the part), and each atom's contact with the
parts around it, and updates them as single atoms move. :meth:`Parts.can_leave` tells
whether an atom may leave its part without cutting it in two.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from gis.autogrid.graph import Piece

__all__ = ["FOUR_PI", "Parts"]

FOUR_PI = 4 * math.pi


class Parts:
    """A partition of a piece into ``k`` parts with its per-part tallies."""

    def __init__(self, pc: Piece, label: list[int], k: int) -> None:
        self.pc, self.k = pc, k
        self.label = list(label)
        lab = np.asarray(label)
        self.ideal = float(pc.weights.sum()) / k
        self.size: list[int] = np.bincount(lab, minlength=k).tolist()
        self.mass: list[float] = np.bincount(lab, pc.weights, minlength=k).tolist()
        self.area: list[float] = np.bincount(lab, pc.areas, minlength=k).tolist()
        inner = lab[pc.src] == lab[pc.dst]
        self.perim: list[float] = (
            np.bincount(lab, np.asarray(pc.perimeter), minlength=k)
            - np.bincount(lab[pc.src[inner]], pc.lengths[inner], minlength=k)
        ).tolist()
        self._touch: list[dict[int, float] | None] = [None] * pc.m

    def pp(self, p: int) -> float:
        per = self.perim[p]
        return FOUR_PI * self.area[p] / (per * per) if per > 0 else 0.0

    def boundary(self) -> list[int]:
        """Atoms with a neighbour in another part, ascending."""
        lab = np.asarray(self.label)
        cut = lab[self.pc.src] != lab[self.pc.dst]
        atoms: list[int] = np.unique(self.pc.src[cut]).tolist()
        return atoms

    def touching(self, atom: int) -> dict[int, float]:
        """Common boundary of ``atom`` with each part around it (its own included); kept
        until a neighbour moves. Read it, do not change it."""
        out = self._touch[atom]
        if out is None:
            out = {}
            label = self.label
            for nb, s in zip(self.pc.nbs[atom], self.pc.shared[atom], strict=True):
                q = label[nb]
                out[q] = out.get(q, 0.0) + s
            self._touch[atom] = out
        return out

    def perimeters_after(self, atom: int, q: int, touch: dict[int, float]) -> tuple[float, float]:
        """The perimeters of ``atom``'s part and of ``q`` once ``atom`` has moved to ``q``."""
        p, per = self.label[atom], self.pc.perimeter[atom]
        return (
            self.perim[p] - per + 2 * touch.get(p, 0.0),
            self.perim[q] + per - 2 * touch.get(q, 0.0),
        )

    def can_leave(self, atom: int) -> bool:
        """True if ``atom``'s part stays connected (and not empty) without it.

        A search starts from each of the atom's neighbours in its part, one step of each
        in turn; searches that meet join. All joined: connected. One search running out
        of atoms first: cut off — and a cut-off piece is usually small, so this is
        decided after few steps either way."""
        p, label, nbs = self.label[atom], self.label, self.pc.nbs
        if self.size[p] <= 1:
            return False
        starts = [nb for nb in nbs[atom] if label[nb] == p]
        if len(starts) <= 1:
            return True
        owner = {atom: -1}
        group = list(range(len(starts)))  # union-find over the searches
        fronts: list[deque[int]] = []
        for i, s in enumerate(starts):
            if s in owner:  # a neighbour listed twice
                group[i] = owner[s]
                fronts.append(deque())
                continue
            owner[s] = i
            fronts.append(deque([s]))

        def root(i: int) -> int:
            while group[i] != i:
                group[i] = group[group[i]]
                i = group[i]
            return i

        alive = len({root(i) for i in range(len(starts))})
        while alive > 1:
            for i in range(len(starts)):
                if root(i) != i:
                    continue
                front = fronts[i]
                if not front:
                    return False  # this search is cut off from the others
                for nb in nbs[front.popleft()]:
                    if label[nb] != p:
                        continue
                    o = owner.get(nb)
                    if o is None:
                        owner[nb] = i
                        front.append(nb)
                    elif o >= 0 and root(o) != i:
                        other = root(o)
                        group[other] = i
                        front.extend(fronts[other])
                        fronts[other] = deque()
                        alive -= 1
                        if alive == 1:
                            return True
        return True

    def move(self, atom: int, q: int, perims: tuple[float, float]) -> None:
        p = self.label[atom]
        w, a = self.pc.w[atom], self.pc.area[atom]
        self.label[atom] = q
        for nb in self.pc.nbs[atom]:
            self._touch[nb] = None
        self.size[p] -= 1
        self.size[q] += 1
        self.mass[p] -= w
        self.mass[q] += w
        self.area[p] -= a
        self.area[q] += a
        self.perim[p], self.perim[q] = perims

    def cost(self, compact: float) -> float:
        return sum(
            self._cost(p, self.mass[p], self.area[p], self.perim[p], compact) for p in range(self.k)
        )

    def _cost(self, p: int, mass: float, area: float, perim: float, compact: float) -> float:
        dev = (mass - self.ideal) / max(self.ideal, 1.0)
        pp = FOUR_PI * area / (perim * perim) if perim > 0 else 0.0
        return dev * dev + compact * (1.0 - pp)

    def move_delta(
        self, atom: int, q: int, touch: dict[int, float], compact: float
    ) -> tuple[float, tuple[float, float]]:
        """Change of the objective if ``atom`` moves to ``q``, and the new perimeters."""
        p = self.label[atom]
        w, a = self.pc.w[atom], self.pc.area[atom]
        new = self.perimeters_after(atom, q, touch)
        before = self._cost(p, self.mass[p], self.area[p], self.perim[p], compact) + self._cost(
            q, self.mass[q], self.area[q], self.perim[q], compact
        )
        after = self._cost(p, self.mass[p] - w, self.area[p] - a, new[0], compact) + self._cost(
            q, self.mass[q] + w, self.area[q] + a, new[1], compact
        )
        return after - before, new
