"""Automatic grids on every community of one demo street, against PyPI baselines.

For each community: gridgov's ``autogrid`` end to end (atoms, partition, plan written),
then, on the same atoms and the same number of grids, GerryChain's
``recursive_tree_part`` (+ a short ReCom chain, keeping its most balanced state) and
spopt's ``RegionKMeansHeuristic``. Every partition is scored by the same function
(gis.autogrid.measure): max |h − ideal|/ideal, CV of households, mean/min Polsby–Popper,
contiguity; split buildings are 0 for all of them by construction of the atoms (the
figure printed for gridgov is counted in PostGIS on the grids written).

    .venv/bin/python bench/autogrid.py [--street 652301005000] [--target 400] [--recom 100]

Runs on the test database (demo seed 42, scale 1) inside a transaction rolled back at the
end: nothing is kept.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import database_url

from gis.autogrid import autogrid, measure
from gis.autogrid.atoms import AtomGraph
from gis.autogrid.partition import Metrics, _share, components, partition
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


def _per_component(g: AtomGraph, k: int, solve) -> np.ndarray:  # type: ignore[no-untyped-def]
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
        )
        best, score = assignment, float("inf")
        for state in chain:
            dev = max(abs(v - ideal) for v in state["population"].values()) / ideal
            if dev < score:
                best, score = dict(state.assignment.to_dict()), dev
        return {int(n): int(p) for n, p in best.items()}

    return _per_component(g, k, solve)


def region_kmeans(g: AtomGraph, k: int, seed: int) -> np.ndarray:
    from libpysal.weights import W
    from spopt.region import RegionKMeansHeuristic

    def solve(nodes: list[int], kc: int) -> dict[int, int]:
        index = {n: i for i, n in enumerate(nodes)}
        neighbours: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
        for a, b in g.edges.tolist():
            if a in index and b in index:
                neighbours[index[a]].append(index[b])
                neighbours[index[b]].append(index[a])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = W(neighbours, silence_warnings=True)
            data = np.column_stack([g.centroids[nodes], g.weights[nodes]])
            data = (data - data.mean(axis=0)) / np.maximum(data.std(axis=0), 1e-9)
            model = RegionKMeansHeuristic(data, kc, w, seed=seed)
            model.solve()
        return {n: int(model.labels_[index[n]]) for n in nodes}

    return _per_component(g, k, solve)


def row(name: str, m: Metrics, split: object, seconds: float) -> str:
    return (
        f"  {name:<22} {m.parts:>3} {m.max_deviation_ideal:>8.1%} {m.cv:>6.3f} "
        f"{m.pp_mean:>7.3f} {m.pp_min:>7.3f} {'yes' if m.contiguous else 'NO':>5} "
        f"{split!s:>5} {seconds:>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--street", default="652301005000")
    parser.add_argument("--target", type=float, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recom", type=int, default=100, help="ReCom steps (0: none)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the baselines' deprecation and convergence chatter
    engine = create_db_engine(database_url())
    header = (
        f"  {'method':<22} {'k':>3} {'maxdev':>8} {'CV':>6} {'PPmean':>7} {'PPmin':>7} "
        f"{'contig':>5} {'split':>5} {'seconds':>8}"
    )
    totals: dict[str, list[Metrics]] = {}
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
        for code in communities:
            t0 = time.perf_counter()
            result = autogrid(conn, code, target=args.target, seed=args.seed, author="bench")
            t_full = time.perf_counter() - t0
            plan = create_plan(conn, [code], "bench")
            atoms, _, _ = load_atoms(conn, plan.id, code, ("unit", "organization"))
            g = atoms.graph
            k = max(1, round(float(g.weights.sum()) / args.target))
            print(
                f"{code}: {g.n} atoms, {atoms.buildings} buildings, "
                f"{int(g.weights.sum())} households, k={k}, kept {len(result.kept)}"
            )
            print(header)
            runs: list[tuple[str, np.ndarray | None, float, object]] = []
            t0 = time.perf_counter()
            ours = partition(g, k, seed=args.seed)
            runs.append(
                ("gridgov partition", ours, time.perf_counter() - t0, result.buildings_split)
            )
            for name, fn in (
                ("gerrychain tree_part", lambda g=g, k=k: tree_part(g, k, args.seed, 0)),
                (
                    f"gerrychain +recom{args.recom}",
                    lambda g=g, k=k: tree_part(g, k, args.seed, args.recom),
                ),
                ("spopt RegionKMeans", lambda g=g, k=k: region_kmeans(g, k, args.seed)),
            ):
                t0 = time.perf_counter()
                try:
                    labels: np.ndarray | None = fn()
                except Exception as exc:
                    print(f"  {name:<22} failed: {type(exc).__name__}: {exc}"[:150])
                    labels = None
                runs.append((name, labels, time.perf_counter() - t0, 0))
            for name, labels, seconds, split in runs:
                if labels is None:
                    continue
                m = measure(g, labels)
                totals.setdefault(name, []).append(m)
                print(row(name, m, split, seconds))
            print(f"  (gridgov autogrid end to end, atoms + partition + plan: {t_full:.2f} s)")
        trans.rollback()
    print("\nmeans over communities (maxdev, CV, PPmean, PPmin; contiguous count)")
    for name, ms in totals.items():
        print(
            f"  {name:<22} n={len(ms):>2} {np.mean([m.max_deviation_ideal for m in ms]):>8.1%} "
            f"{np.mean([m.cv for m in ms]):>6.3f} {np.mean([m.pp_mean for m in ms]):>7.3f} "
            f"{np.mean([m.pp_min for m in ms]):>7.3f} {sum(m.contiguous for m in ms):>3}"
        )


if __name__ == "__main__":
    main()
