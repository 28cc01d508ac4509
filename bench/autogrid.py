"""Automatic grids on every community of one demo street and on Bubeneč, against PyPI
baselines.

For each community: gridgov's ``autogrid`` end to end (atoms, partition, plan written),
then, on the same atoms and the same number of grids, GerryChain's
``recursive_tree_part`` (alone, and followed by 1,000 ReCom steps keeping the most
balanced state), spopt's ``RegionKMeansHeuristic`` and spopt's ``MaxPHeuristic`` (a
household floor of 90 % of the ideal grid). Then the same on Bubeneč (Prague,
../shared/data/bubenec: households = footprint area × 5 floors / 70 m²). Every partition
is scored by the same functions: max |h − ideal|/ideal, CV of households and contiguity
(gis.autogrid.measure), mean/min Polsby–Popper measured on each grid's geometry; split
buildings are 0 for all of them by construction of the atoms (the figure printed for
gridgov on the demo is counted in PostGIS on the grids written). Each area ends with the
issue's verdict: lower max deviation AND higher mean Polsby–Popper than the most balanced
baseline, in less time than the fastest baseline within ±10 %.

    .venv/bin/python bench/autogrid.py [--street 652301005000] [--target 400]
        [--recom 1000] [--bubenec-target 1500]

Runs on the test database (demo seed 42, scale 1) inside a transaction rolled back at the
end: nothing is kept.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import database_url

from gis.autogrid import autogrid, measure
from gis.autogrid.atoms import AtomGraph, Atoms, build_atoms
from gis.autogrid.partition import Metrics, _share, components, partition
from gis.autogrid.refine import floor_deviation
from gis.autogrid.run import load_atoms
from gis.db.engine import create_db_engine
from gis.edit.plans import create_plan


def _nx(g: AtomGraph, nodes: list[int]):  # type: ignore[no-untyped-def]
    import networkx as nx

    graph = nx.Graph()
    for i in nodes:
        graph.add_node(i, hh=float(g.weights[i]))
    keep = set(nodes)
    for a, b in g.edges.tolist():
        if a in keep and b in keep:
            graph.add_edge(a, b)
    return graph


def _per_component(g: AtomGraph, k: int, solve, seed: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``solve`` on each component of ``g``, ``k`` shared out as gridgov does. Python's and
    numpy's global generators are seeded first: parts of the baselines draw from them, and
    the same seed must give the same partition whatever ran before."""
    random.seed(seed)
    np.random.seed(seed)
    comps = components(g)
    ks = _share(comps, g.weights, k, float(g.weights.sum()))
    labels = np.full(g.n, -1)
    offset = 0
    for nodes, kc in zip(comps, ks, strict=True):
        kc = min(kc, len(nodes))
        part = solve(nodes, kc) if kc > 1 else dict.fromkeys(nodes, 0)
        dense = {p: i for i, p in enumerate(sorted(set(part.values()), key=str))}
        for n in nodes:
            labels[n] = offset + dense[part[n]]
        offset += len(dense)
    return labels


def tree_part(g: AtomGraph, k: int, seed: int, recom_steps: int) -> np.ndarray:
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.accept import always_accept
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.partition.initial_partition_generators import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    def solve(nodes: list[int], kc: int) -> dict[int, int]:
        nxg = _nx(g, nodes)
        total = float(g.weights[nodes].sum())
        graph = Graph.from_networkx(nxg)
        for eps in (0.05, 0.1, 0.2, 0.3, 0.5, 0.8):
            try:
                assignment = recursive_tree_part(
                    graph,
                    range(kc),
                    total / kc,
                    "hh",
                    eps,
                    bipartition_tree_fn=partial(bipartition_tree, max_attempts=2000),
                    rng=random.Random(seed),
                )
                break
            except Exception:
                continue
        else:
            raise RuntimeError("recursive_tree_part found no plan up to epsilon 0.8")
        if recom_steps <= 0:
            return {int(n): int(p) for n, p in assignment.items()}
        initial = Partition(graph, assignment, {"population": Tally("hh", alias="population")})
        ideal = total / kc
        proposal = partial(
            recom,
            pop_col="hh",
            pop_target=ideal,
            epsilon=max(eps, 0.1),
            node_repeats=0,
            rng=random.Random(seed),
        )
        chain = MarkovChain(
            proposal,
            constraints=[within_percent_of_ideal_population(initial, max(eps, 0.1))],
            acceptance_fn=always_accept,
            initial_partition=initial,
            total_steps=recom_steps,
            rng=random.Random(seed),  # without it the chain draws from system entropy
        )
        best, score = assignment, float("inf")
        for state in chain:
            dev = max(abs(v - ideal) for v in state["population"].values()) / ideal
            if dev < score:
                best, score = dict(state.assignment.to_dict()), dev
        return {int(n): int(p) for n, p in best.items()}

    return _per_component(g, k, solve, seed)


def _neighbours(g: AtomGraph, nodes: list[int]) -> tuple[dict[int, int], dict[int, list[int]]]:
    """The position of each of ``nodes`` and their adjacency by position (libpysal's W)."""
    index = {n: i for i, n in enumerate(nodes)}
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    for a, b in g.edges.tolist():
        if a in index and b in index:
            neighbours[index[a]].append(index[b])
            neighbours[index[b]].append(index[a])
    return index, neighbours


def region_kmeans(g: AtomGraph, k: int, seed: int) -> np.ndarray:
    from libpysal.weights import W
    from spopt.region import RegionKMeansHeuristic

    def solve(nodes: list[int], kc: int) -> dict[int, int]:
        index, neighbours = _neighbours(g, nodes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = W(neighbours, silence_warnings=True)
            data = np.column_stack([g.centroids[nodes], g.weights[nodes]])
            data = (data - data.mean(axis=0)) / np.maximum(data.std(axis=0), 1e-9)
            model = RegionKMeansHeuristic(data, kc, w, seed=seed)
            model.solve()
        return {n: int(model.labels_[index[n]]) for n in nodes}

    return _per_component(g, k, solve, seed)


# spopt's defaults (99 constructions, 10 annealing rounds) take minutes per community of
# ~500 atoms on a shared 2-core machine; these keep the bench to minutes
MAXP_EFFORT = {"max_iterations_construction": 10, "max_iterations_sa": 3}


def max_p(g: AtomGraph, k: int, seed: int) -> np.ndarray:
    """spopt's MaxPHeuristic with a household floor of 90 % of the ideal grid (it finds
    the most regions it can above the floor, so the count may differ from k)."""
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    import geopandas as gpd

    def solve(nodes: list[int], kc: int) -> dict[int, int]:
        index, neighbours = _neighbours(g, nodes)
        frame = gpd.GeoDataFrame(
            {"x": g.centroids[nodes, 0], "y": g.centroids[nodes, 1], "hh": g.weights[nodes]},
            geometry=gpd.points_from_xy(g.centroids[nodes, 0], g.centroids[nodes, 1]),
        )
        floor = 0.9 * float(g.weights[nodes].sum()) / kc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = W(neighbours, silence_warnings=True)
            model = MaxPHeuristic(frame, w, ["x", "y"], "hh", floor, top_n=2, **MAXP_EFFORT)
            model.solve()
        return {n: int(model.labels_[index[n]]) for n in nodes}

    return _per_component(g, k, solve, seed)


def row(name: str, m: Metrics, split: object, seconds: float) -> str:
    return (
        f"  {name:<22} {m.parts:>3} {m.max_deviation_ideal:>8.2%} {m.cv:>6.3f} "
        f"{m.pp_mean:>7.3f} {m.pp_min:>7.3f} {'yes' if m.contiguous else 'NO':>5} "
        f"{split!s:>5} {seconds:>8.2f}"
    )


HEADER = (
    f"  {'method':<22} {'k':>3} {'maxdev':>8} {'CV':>6} {'PPmean':>7} {'PPmin':>7} "
    f"{'contig':>5} {'split':>5} {'seconds':>8}"
)
OURS = "gridgov partition"


def polsby_popper(atoms: Atoms, labels: np.ndarray) -> list[float]:
    """4πA/P² of each part, measured on its geometry: the atoms' union, the millimetre
    seams between atoms closed by a 2 cm buffer taken back. (The atom graph's shared edge
    lengths run long around road dangles, which would overstate every method's score.)"""
    out = []
    for p in sorted(set(labels.tolist())):
        polys = atoms.polygons[labels == p]
        shape = shapely.buffer(shapely.union_all(shapely.buffer(polys, 0.02)), -0.02)
        out.append(4 * np.pi * shape.area / shape.length**2 if shape.length > 0 else 0.0)
    return out


def warm_up() -> None:
    """Import the baselines' packages before anything is timed (gerrychain and spopt take
    seconds to import; that is not their algorithms' time)."""
    import gerrychain.partition.initial_partition_generators  # noqa: F401
    import libpysal.weights  # noqa: F401
    import spopt.region  # noqa: F401


REPEAT_UNDER = 1.0  # s: a method this quick runs three times, its best time kept


def timed(fn: Any) -> tuple[np.ndarray, float]:
    """Labels and seconds of ``fn()``; runs under a second are repeated (every method
    alike) and the best time kept, so that a millisecond race is not decided by what else
    the machine was doing. The repeats must give the same labels (seeded methods)."""
    t0 = time.perf_counter()
    labels = fn()
    best = time.perf_counter() - t0
    if best < REPEAT_UNDER:
        for _ in range(2):
            t0 = time.perf_counter()
            again = fn()
            best = min(best, time.perf_counter() - t0)
            assert np.array_equal(again, labels), "a seeded method gave another partition"
    return labels, best


def compare(
    atoms: Atoms,
    k: int,
    seed: int,
    recom: int,
    split: object,
    totals: dict[str, list[Any]],
    skip: set[str],
) -> str:
    """Every method on the same atoms and k; one row each, then the verdict (returned)."""
    g = atoms.graph
    floor = floor_deviation(g.weights, k) / (float(g.weights.sum()) / k)
    print(f"  granularity bound of the atoms (subset sums of households): maxdev >= {floor:.2%}")
    print(HEADER)
    scored: list[tuple[str, Metrics, float]] = []

    def score(name: str, labels: np.ndarray, seconds: float, cut: object) -> None:
        pp = polsby_popper(atoms, labels)
        m = replace(measure(g, labels), pp_mean=float(np.mean(pp)), pp_min=float(min(pp)))
        scored.append((name, m, seconds))
        totals.setdefault(name, []).append((m, seconds))
        print(row(name, m, cut, seconds), flush=True)

    ours, seconds = timed(lambda: partition(g, k, seed=seed))
    score(OURS, ours, seconds, split)
    for key, name, fn in (
        ("tree", "gerrychain tree_part", lambda: tree_part(g, k, seed, 0)),
        ("recom", f"gerrychain +recom{recom}", lambda: tree_part(g, k, seed, recom)),
        ("kmeans", "spopt RegionKMeans", lambda: region_kmeans(g, k, seed)),
        ("maxp", "spopt MaxP (floor 90%)", lambda: max_p(g, k, seed)),
    ):
        if key in skip:
            continue
        try:
            labels, seconds = timed(fn)
        except Exception as exc:
            print(f"  {name:<22} failed: {type(exc).__name__}: {exc}"[:150])
            continue
        score(name, labels, seconds, 0)
    line, _ = verdict(scored, floor)
    print("  " + line)
    LAST[:] = scored
    return line


LAST: list[tuple[str, Metrics, float]] = []  # the rows of the last area compared


def verdict(scored: list[tuple[str, Metrics, float]], floor: float) -> tuple[str, bool]:
    """The issue's target: lower max deviation AND higher mean Polsby–Popper than the best
    baseline (the most balanced contiguous one; of equally balanced, the most compact), in
    less time than the fastest baseline within ±10 %. Equal max deviation counts as lower
    only at the granularity bound ``floor``, where no partition can be lower."""
    ours = next(x for x in scored if x[0] == OURS)
    others = [x for x in scored if x[0] != OURS and x[1].contiguous]
    if not ours[1].contiguous:
        return "target NOT met: gridgov's grids are not contiguous", False
    if not others:
        return "target: no contiguous baseline to compare with", False
    best = min(others, key=lambda x: (x[1].max_deviation_ideal, -x[1].pp_mean))
    within = [x for x in others if x[1].max_deviation_ideal <= 0.10]
    fastest = min(within, key=lambda x: x[2]) if within else None
    dev, theirs = ours[1].max_deviation_ideal, best[1].max_deviation_ideal
    at_bound = dev <= floor + 1e-9
    balance = dev < theirs - 1e-9 or (at_bound and dev <= theirs + 1e-9)
    compact = ours[1].pp_mean > best[1].pp_mean
    quick = fastest is None or ours[2] < fastest[2]
    met = balance and compact and quick
    speed = (
        f"{ours[2]:.3f} s vs {fastest[0]} {fastest[2]:.3f} s" if fastest else "no baseline ±10 %"
    )
    marks = "".join(
        f" [{what} NOT better]"
        for what, ok in (("balance", balance), ("compactness", compact), ("time", quick))
        if not ok
    )
    line = (
        f"target {'MET' if met else 'NOT met'}: maxdev {dev:.2%}{' (at bound)' if at_bound else ''}"
        f" vs {best[0]} {theirs:.2%}; PP {ours[1].pp_mean:.3f} vs {best[1].pp_mean:.3f}; "
        f"{speed}{marks}"
    )
    return line, met


EXACT_ATOMS = 24  # areas this small (k = 2) are also solved exactly, for reference


def exact_front(atoms: Atoms, limit: float) -> None:
    """Every way to cut a small area in two contiguous parts (2^(n−1) subsets, sums in
    numpy, contiguity searched): per deviation up to ``limit``, how many there are and the
    most compact — what any method could have reached on these atoms."""
    g = atoms.graph
    n, w = g.n, np.round(g.weights).astype(np.int64)
    ideal = float(w.sum()) / 2
    masks = np.arange(2 ** (n - 1), dtype=np.int64)
    sums = np.full(len(masks), w[0])
    for i in range(1, n):
        sums += ((masks >> (i - 1)) & 1) * w[i]
    dev = np.abs(sums - ideal) / ideal
    keep = np.flatnonzero(dev <= limit + 1e-12)
    nbs: list[set[int]] = [set() for _ in range(n)]
    for a, b in g.edges.tolist():
        nbs[a].add(b)
        nbs[b].add(a)

    def connected(side: set[int]) -> bool:
        start = next(iter(side))
        seen, todo = {start}, [start]
        while todo:
            for nb in nbs[todo.pop()]:
                if nb in side and nb not in seen:
                    seen.add(nb)
                    todo.append(nb)
        return len(seen) == len(side)

    front: dict[float, list[float]] = {}
    for idx in keep.tolist():
        mask = int(masks[idx])
        first = {0} | {i for i in range(1, n) if mask >> (i - 1) & 1}
        second = set(range(n)) - first
        if second and connected(first) and connected(second):
            labels = np.array([0 if i in first else 1 for i in range(n)])
            front.setdefault(round(float(dev[idx]), 6), []).append(
                float(np.mean(polsby_popper(atoms, labels)))
            )
    print(f"  exact, all {2 ** (n - 1):,} cuts in two: contiguous ones with maxdev <= {limit:.2%}")
    for d in sorted(front)[:12]:
        print(f"    maxdev {d:.3%}: {len(front[d]):>4} partitions, best PPmean {max(front[d]):.3f}")


FLOOR_M2 = 70.0  # floor area per household
FLOORS = 5  # Bubeneč: villas and five-storey blocks; the data has no heights


def bubenec_atoms() -> Atoms:
    """Bubeneč (Prague) from ../shared/data: the community is the union of its
    tessellation (one polygon holding every building; the plots fall apart in 33 pieces),
    roads are its streets, households = footprint area (UTM 33N) × 5 floors / 70 m², at
    least 1."""
    import geopandas as gpd

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "bubenec" / "bubenec.gpkg"
    cells = gpd.read_file(path, layer="tessellation").to_crs(4326)
    streets = gpd.read_file(path, layer="streets").to_crs(4326)
    buildings = gpd.read_file(path, layer="buildings")
    homes = np.maximum(1, np.round(buildings.to_crs(32633).area.to_numpy() * FLOORS / FLOOR_M2))
    footprints = buildings.to_crs(4326).geometry.to_numpy()
    community = shapely.union_all(shapely.make_valid(cells.geometry.to_numpy()))
    atoms = build_atoms(
        community,
        streets.geometry.to_numpy(),
        footprints,
        homes.astype(float),
        homes * 2.3,
        np.array([], dtype=object),
    )
    return atoms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--street", default="652302002000")
    parser.add_argument("--target", type=float, default=400)
    parser.add_argument("--bubenec-target", type=float, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recom", type=int, default=1000, help="ReCom steps (0: none)")
    parser.add_argument(
        "--communities", type=int, default=0, help="only the first N communities (0: all)"
    )
    parser.add_argument(
        "--skip",
        default="",
        help="baselines left out while iterating, comma-separated: tree,recom,kmeans,maxp",
    )
    parser.add_argument("--no-bubenec", action="store_true", help="the demo street only")
    parser.add_argument("--no-demo", action="store_true", help="Bubeneč only")
    args = parser.parse_args()
    skip = {x for x in args.skip.split(",") if x}
    warnings.simplefilter("ignore")  # the baselines' deprecation and convergence chatter
    warm_up()
    engine = create_db_engine(database_url())
    totals: dict[str, list[Any]] = {}
    verdicts: list[tuple[str, str]] = []
    with engine.connect() as conn:
        trans = conn.begin()
        communities = (
            conn.execute(
                text(
                    "SELECT code FROM region WHERE level = 'community' AND code LIKE :p "
                    "ORDER BY code"
                ),
                {"p": args.street[:9] + "%"},
            )
            .scalars()
            .all()
        )
        for code in [] if args.no_demo else communities[: args.communities or None]:
            t0 = time.perf_counter()
            result = autogrid(conn, code, target=args.target, seed=args.seed, author="bench")
            t_full = time.perf_counter() - t0
            plan = create_plan(conn, [code], "bench")
            atoms, _, _ = load_atoms(conn, plan.id, code, ("unit", "organization"))
            g = atoms.graph
            k = max(1, round(float(g.weights.sum()) / args.target))
            print(
                f"{code}: {g.n} atoms, {atoms.buildings} buildings, "
                f"{int(g.weights.sum())} households, k={k}, kept {len(result.kept)}; "
                f"gridgov autogrid end to end (atoms + partition + plan) {t_full:.2f} s"
            )
            line = compare(atoms, k, args.seed, args.recom, result.buildings_split, totals, skip)
            verdicts.append((code, line))
        trans.rollback()
    if not args.no_bubenec:
        atoms = bubenec_atoms()
        g = atoms.graph
        k = max(1, round(float(g.weights.sum()) / args.bubenec_target))
        print(
            f"Bubeneč (Prague): {g.n} atoms, {atoms.buildings} buildings, "
            f"{int(g.weights.sum())} households (area × {FLOORS} floors / {FLOOR_M2:g} m²), "
            f"k={k}"
        )
        line = compare(atoms, k, args.seed, args.recom, "0*", totals, skip)
        verdicts.append(("Bubeneč", line))
        print("  (*) atoms are whole Voronoi cells of buildings: no building can be split")
        if g.n <= EXACT_ATOMS and k == 2:
            devs = [m.max_deviation_ideal for name, m, _ in LAST if m.contiguous]
            exact_front(atoms, max(devs[0], min(devs[1:], default=devs[0])))
    print("\nmeans over all areas (maxdev, worst maxdev, CV, PPmean, PPmin; contiguous; s)")
    for name, runs in totals.items():
        ms = [m for m, _ in runs]
        print(
            f"  {name:<22} n={len(ms):>2} {np.mean([m.max_deviation_ideal for m in ms]):>7.2%} "
            f"{max(m.max_deviation_ideal for m in ms):>7.2%} "
            f"{np.mean([m.cv for m in ms]):>6.3f} {np.mean([m.pp_mean for m in ms]):>7.3f} "
            f"{np.mean([m.pp_min for m in ms]):>7.3f} {sum(m.contiguous for m in ms):>3} "
            f"{np.mean([s for _, s in runs]):>7.3f}"
        )
    met = [area for area, line in verdicts if line.startswith("target MET")]
    print(f"\noverall: target met on {len(met)} of {len(verdicts)} areas")
    for area, line in verdicts:
        print(f"  {area:<13} {line}")


if __name__ == "__main__":
    main()
