"""The partition of atom graphs (gis.autogrid.partition, seed, refine), checked
independently: contiguity with shapely (each part's atoms union to one polygon) or with
a plain search written here, households summed here, bounds by brute force.

No database: the atoms are built by ``build_atoms`` from a synthetic community in lon/lat
(about 600 m square near Changji, three roads, 150 buildings of 1–6 households).
"""

from __future__ import annotations

import copy
import itertools
from collections import deque

import numpy as np
import pytest

import shapely
from pyproj import Transformer

from gis.autogrid import build_atoms, measure, partition
from gis.autogrid.atoms import AtomGraph, Atoms
from gis.autogrid.graph import components, piece
from gis.autogrid.parts import Parts
from gis.autogrid.refine import balance, floor_deviation, improve, polish
from gis.autogrid.seed import connect, initial

_TO_LONLAT = Transformer.from_crs(32645, 4326, always_xy=True)  # UTM 45N, around 87.3°E


def _lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_LONLAT.transform(*xy.T)))


def _community(seed: int) -> Atoms:
    """A 600 m square with an L-shaped notch, three roads and 150 small buildings."""
    rng = np.random.default_rng(seed)
    x0, y0 = 660_000.0, 4_875_000.0
    square = shapely.box(x0, y0, x0 + 600, y0 + 600)
    area = square.difference(shapely.box(x0 + 400, y0 + 400, x0 + 600, y0 + 600))
    roads = [
        shapely.LineString([(x0 - 10, y0 + 210), (x0 + 610, y0 + 230)]),
        shapely.LineString([(x0 + 300, y0 - 10), (x0 + 280, y0 + 610)]),
        shapely.LineString([(x0 + 100, y0 + 400), (x0 + 250, y0 + 350)]),  # a dead end
    ]
    free = area.difference(shapely.union_all([r.buffer(6) for r in roads]))
    footprints: list[shapely.Geometry] = []
    while len(footprints) < 150:
        x, y = x0 + rng.uniform(0, 600), y0 + rng.uniform(0, 600)
        fp = shapely.box(x, y, x + 8, y + 8)
        if free.contains(fp) and not any(fp.intersects(f) for f in footprints):
            footprints.append(fp)
    homes = rng.integers(1, 7, len(footprints)).astype(float)
    return build_atoms(
        _lonlat(area),
        np.asarray([_lonlat(r) for r in roads], dtype=object),
        np.asarray([_lonlat(f) for f in footprints], dtype=object),
        homes,
        homes * 2.5,
        np.array([], dtype=object),
    )


@pytest.fixture(scope="module")
def atoms() -> Atoms:
    return _community(5)


def _connected(nodes: set[int], g: AtomGraph) -> bool:
    if not nodes:
        return False
    nbs: dict[int, set[int]] = {i: set() for i in nodes}
    for a, b in g.edges.tolist():
        if a in nodes and b in nodes:
            nbs[a].add(b)
            nbs[b].add(a)
    start = min(nodes)
    seen, queue = {start}, deque([start])
    while queue:
        for nb in nbs[queue.popleft()]:
            if nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return seen == nodes


@pytest.mark.parametrize(("k", "seed"), [(2, 0), (3, 1), (4, 2), (5, 3)])
def test_a_partition_is_valid_balanced_and_deterministic(atoms: Atoms, k: int, seed: int) -> None:
    g = atoms.graph
    assert len(components(g)) == 1
    labels = partition(g, k, seed=seed)
    assert labels.shape == (g.n,)
    assert sorted(set(labels.tolist())) == list(range(k))
    total = 0.0
    for p in range(k):
        members = labels == p
        # contiguity by shapely: the part's atoms (seams of a millimetre closed) are one polygon
        shape = shapely.union_all(shapely.buffer(atoms.polygons[members], 0.005))
        assert shape.geom_type == "Polygon", (p, shape.geom_type)
        total += float(g.weights[members].sum())
    assert total == float(g.weights.sum())  # households conserved
    union = shapely.union_all(shapely.buffer(atoms.polygons, 0.005))
    assert abs(union.area - atoms.free.area) < 0.01 * atoms.free.area
    homes = np.bincount(labels, g.weights)
    worst = float(np.abs(homes - homes.mean()).max())
    assert worst <= floor_deviation(g.weights, k) + 6  # within one building of the bound
    assert worst >= floor_deviation(g.weights, k) - 1e-9
    assert partition(g, k, seed=seed).tolist() == labels.tolist()


def _lattice(side: int, seed: int) -> AtomGraph:
    """A side × side lattice of 10 m square atoms with uneven households."""
    rng = np.random.default_rng(seed)
    n = side * side
    xy = np.array([(10.0 * (i % side) + 5, 10.0 * (i // side) + 5) for i in range(n)])
    edges = [(i, i + 1) for i in range(n) if i % side < side - 1]
    edges += [(i, i + side) for i in range(n - side)]
    weights = rng.integers(1, 40, n).astype(float)
    return AtomGraph(
        weights,
        weights * 2.5,
        xy,
        np.full(n, 100.0),
        np.full(n, 40.0),
        np.array(edges),
        np.full(len(edges), 10.0),
    )


def _check(parts: Parts, g: AtomGraph) -> None:
    label = np.asarray(parts.label)
    for p in range(parts.k):
        assert _connected({int(a) for a in np.flatnonzero(label == p)}, g), p
    assert np.allclose(np.bincount(label, g.weights, minlength=parts.k), parts.mass)
    assert sum(parts.mass) == pytest.approx(float(g.weights.sum()))
    fresh = Parts(parts.pc, parts.label, parts.k)  # the tallies kept up to date
    assert np.allclose(fresh.perim, parts.perim)
    assert np.allclose(fresh.area, parts.area)


def _worst(parts: Parts) -> float:
    return max(abs(m - parts.ideal) for m in parts.mass)


@pytest.mark.parametrize(("seed", "k", "attempt"), [(1, 3, 0), (2, 5, 1), (3, 7, 0), (4, 4, 2)])
def test_each_stage_keeps_parts_connected_and_households(seed: int, k: int, attempt: int) -> None:
    """Seeding, local search, balance pass and polish on a lattice: after each stage every
    part is connected and the tallies are those of its atoms; the balance pass never
    raises the largest deviation and keeps each part's Polsby–Popper above its guard;
    the polish never raises the largest deviation nor lowers the total Polsby–Popper."""
    g = _lattice(14, seed)
    pc = piece(g, list(range(g.n)))
    parts = Parts(pc, initial(pc, k, np.random.default_rng(seed), attempt), k)
    _check(parts, g)
    improve(parts, 0.2, 20 * pc.m)
    _check(parts, g)
    before, pp_before = _worst(parts), [parts.pp(p) for p in range(k)]
    balance(parts, 0.9)
    _check(parts, g)
    assert _worst(parts) <= before + 1e-9
    assert all(parts.pp(p) >= 0.9 * pp_before[p] - 1e-9 for p in range(k))
    before, shape = _worst(parts), sum(parts.pp(p) for p in range(k))
    polish(parts, 10)
    _check(parts, g)
    assert _worst(parts) <= before + 1e-9
    assert sum(parts.pp(p) for p in range(k)) >= shape - 1e-9


def test_balance_reaches_the_bound_on_equal_atoms() -> None:
    """196 atoms of one household each in 4 parts: 49 each, no deviation."""
    g = _lattice(14, 0)
    g = AtomGraph(np.ones(g.n), np.ones(g.n), g.centroids, g.areas, g.perimeters, g.edges, g.shared)
    assert floor_deviation(g.weights, 4) == 0
    assert measure(g, partition(g, 4, seed=3)).max_deviation_ideal == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_can_leave_agrees_with_a_full_search(seed: int) -> None:
    """For every atom of a random connected partition of a lattice: the atom may leave its
    part exactly when the rest of the part is still connected (searched here)."""
    g = _lattice(12, seed)
    pc = piece(g, list(range(g.n)))
    rng = np.random.default_rng(seed)
    label = connect(pc, rng.integers(0, 6, g.n), 6)
    parts = Parts(pc, label, 6)
    for atom in range(g.n):
        rest = {a for a in range(g.n) if label[a] == label[atom]} - {atom}
        assert parts.can_leave(atom) == (bool(rest) and _connected(rest, g)), atom


def test_connect_makes_every_part_one_piece() -> None:
    g = _lattice(12, 7)
    pc = piece(g, list(range(g.n)))
    scattered = np.random.default_rng(7).integers(0, 5, g.n)
    label = np.asarray(connect(pc, scattered, 5))
    assert sorted(set(label.tolist())) == list(range(5))
    for p in range(5):
        assert _connected({int(a) for a in np.flatnonzero(label == p)}, g)


@pytest.mark.parametrize("seed", range(6))
def test_floor_deviation_by_brute_force(seed: int) -> None:
    """The bound against every assignment of 9 atoms to 2 or 3 parts (any shape)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 30, 9).astype(float)
    for k in (2, 3):
        ideal = w.sum() / k
        best = min(
            float(np.abs(np.bincount(np.array(a), w, minlength=k) - ideal).max())
            for a in itertools.product(range(k), repeat=len(w))
        )
        assert floor_deviation(w, k) <= best + 1e-9
        if k == 2:  # two parts: exact
            assert floor_deviation(w, k) == pytest.approx(best)


def test_the_stages_do_not_touch_their_input() -> None:
    """``Parts`` copies the labels it is given: the caller's list is left alone."""
    g = _lattice(10, 3)
    pc = piece(g, list(range(g.n)))
    label = initial(pc, 3, np.random.default_rng(0), 0)
    kept = copy.copy(label)
    parts = Parts(pc, label, 3)
    improve(parts, 0.2, 20 * pc.m)
    balance(parts, 0.5)
    assert label == kept
