"""Siting police posts: the solvers against brute force, and on one demo community."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from sqlalchemy import Engine

from gis.errors import InvalidInput, NotFound
from gis.siting import Points, from_database, mclp, one_median_per_grid, p_median
from gis.siting.matrix import cost_matrix
from gis.siting.median import bounds

COMMUNITY = "652301005001"


def _instance(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 2000, (n, 2))
    c = rng.uniform(0, 2000, (m, 2))
    w = rng.integers(1, 50, n).astype(float)
    # independent distances: an explicit loop, not the vectorised cost_matrix
    cost = np.array([[float(np.linalg.norm(a - b)) for b in c] for a in d])
    return cost, w, c


def _brute_median(cost: np.ndarray, w: np.ndarray, p: int) -> float:
    return min(
        float(w @ cost[:, list(s)].min(axis=1)) for s in combinations(range(cost.shape[1]), p)
    )


def _brute_cover(cost: np.ndarray, w: np.ndarray, radius: float, p: int) -> float:
    near = cost <= radius
    return max(
        float(w[near[:, list(s)].any(axis=1)].sum()) for s in combinations(range(cost.shape[1]), p)
    )


@pytest.mark.parametrize("seed", range(5))
def test_one_median_per_grid_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, m = 200, 60
    dxy, cxy = rng.uniform(0, 3000, (n, 2)), rng.uniform(0, 3000, (m, 2))
    dgrid = np.array([f"g{int(x // 1000)}" for x in dxy[:, 0]])
    cgrid = np.array([f"g{int(x // 1000)}" for x in cxy[:, 0]])
    w = rng.integers(1, 40, n).astype(float)
    demand = Points(dxy, w, dgrid, np.array([f"d{i}" for i in range(n)]))
    cands = Points(cxy, np.zeros(m), cgrid, np.array([f"c{j}" for j in range(m)]))
    got = one_median_per_grid(demand, cands)
    for g in set(dgrid):
        best = min(
            (sum(w[i] * np.linalg.norm(dxy[i] - cxy[j]) for i in np.flatnonzero(dgrid == g)), j)
            for j in np.flatnonzero(cgrid == g)
        )
        assert got[g].weighted_distance == pytest.approx(best[0], rel=1e-9)
        assert got[g].candidate == best[1]


def test_one_median_on_a_demo_community(demo_engine: Engine) -> None:
    data = from_database(demo_engine, COMMUNITY, "both")
    assert data.epsg == 32645  # Changji, 87.3°E: UTM zone 45N
    got = one_median_per_grid(data.demand, data.candidates)
    grids = {g for g in data.demand.grid if g}
    assert grids
    assert set(got) <= grids
    assert len(got) >= len(grids) - 1
    for g, med in got.items():
        di, ci = np.flatnonzero(data.demand.grid == g), np.flatnonzero(data.candidates.grid == g)
        totals = [
            sum(
                data.demand.weight[i] * np.linalg.norm(data.demand.xy[i] - data.candidates.xy[j])
                for i in di
            )
            for j in ci
        ]
        assert med.weighted_distance == pytest.approx(min(totals), rel=1e-9)


def test_metres_match_geodesic_distances(demo_engine: Engine) -> None:
    from pyproj import Geod, Transformer

    data = from_database(demo_engine, COMMUNITY, "posts")
    back = Transformer.from_crs(data.epsg, 4326, always_xy=True)
    a, b = data.demand.xy[0], data.candidates.xy[0]
    lon1, lat1 = back.transform(*a)
    lon2, lat2 = back.transform(*b)
    geodesic = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2]
    assert cost_matrix(a[None], b[None])[0, 0] == pytest.approx(geodesic, rel=2e-3)


def test_p_median_equals_brute_force() -> None:
    cost, w, _ = _instance(7, 60, 12)
    sol = p_median(cost, w, p=3)
    assert sol.optimal
    assert not sol.time_limit_hit
    assert sol.gap == 0.0
    assert sol.objective == pytest.approx(_brute_median(cost, w, 3), rel=1e-9)
    assert len(sol.sites) == 3


@pytest.mark.parametrize(("seed", "radius"), [(1, 300.0), (2, 500.0), (3, 800.0)])
def test_mclp_equals_brute_force(seed: int, radius: float) -> None:
    cost, w, _ = _instance(seed, 80, 12)
    sol = mclp(cost, w, radius, p=3)
    assert sol.optimal
    assert sol.objective == pytest.approx(_brute_cover(cost, w, radius, 3))
    assert sol.coverage(cost, w, radius) == pytest.approx(sol.objective / w.sum())


@pytest.mark.parametrize("seed", range(40))
def test_p_median_equals_brute_force_through_bounds_and_solver(seed: int) -> None:
    """Small instances where the Lagrangian bound proves the local optimum and where it
    does not (then HiGHS searches the candidates left): both equal brute force."""
    cost, w, _ = _instance(seed, 60, 14)
    for p in (1, 2, 3, 5, 14):
        sol = p_median(cost, w, p=p)
        assert sol.optimal
        assert sol.gap == 0.0
        assert sol.objective == pytest.approx(_brute_median(cost, w, p), rel=1e-9)
        assert len(set(sol.sites)) == p


@pytest.mark.parametrize("seed", [2, 3, 11, 15, 17])
def test_median_bounds_and_fixings_hold(seed: int) -> None:
    """lower <= optimum <= upper; every optimal set of sites avoids the candidates proved
    closed and holds the ones proved open (instances where the bounds do not meet)."""
    cost, w, _ = _instance(seed, 60, 14)
    for p in (2, 3, 4, 5):
        b = bounds(cost, w, p)
        values = {s: float(w @ cost[:, list(s)].min(axis=1)) for s in combinations(range(14), p)}
        best = min(values.values())
        assert b.lower <= best * (1 + 1e-12)
        assert b.upper == pytest.approx(values[b.sites], rel=1e-12)
        assert b.upper >= best * (1 - 1e-12)
        for s, v in values.items():
            if v <= best * (1 + 1e-12):
                assert not b.closed[list(s)].any()
                assert set(np.flatnonzero(b.opened)) <= set(s)


def test_time_limit_returns_best_found_with_its_gap() -> None:
    """A clustered 3,000 × 200 instance whose LP bound stays 0.4 % below its best known
    solution: one second is not enough to close it."""
    rng = np.random.default_rng(43)
    centres, spread = rng.uniform(0, 12_000, (12, 2)), rng.uniform(300, 1500, 12)
    which = rng.integers(0, 12, 3000)
    homes = centres[which] + rng.normal(0, 1, (3000, 2)) * spread[which, None]
    sites = homes[rng.choice(3000, 200, replace=False)] + rng.normal(0, 50, (200, 2))
    w = rng.integers(1, 80, 3000).astype(float)
    cost = cost_matrix(homes, sites)
    sol = p_median(cost, w, p=20, time_limit=1.0)
    assert sol.time_limit_hit
    assert not sol.optimal
    assert 0 < sol.gap < 1  # how small depends on how many steps the second allowed
    assert len(set(sol.sites)) == 20
    assert sol.objective == pytest.approx(float(w @ cost[:, list(sol.sites)].min(axis=1)))


def test_bad_input() -> None:
    cost, w, _ = _instance(0, 10, 4)
    with pytest.raises(InvalidInput, match="p = 5"):
        p_median(cost, w, p=5)
    with pytest.raises(InvalidInput, match="p = 0"):
        mclp(cost, w, 100.0, p=0)
    with pytest.raises(InvalidInput, match="radius"):
        mclp(cost, w, -1.0, p=2)
    with pytest.raises(InvalidInput, match="weights"):
        p_median(cost, w[:5], p=2)


def test_region_errors(demo_engine: Engine) -> None:
    with pytest.raises(NotFound):
        from_database(demo_engine, "652399999999")
    with pytest.raises(InvalidInput, match="12-digit"):
        from_database(demo_engine, "nope")


def test_cli_report(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from gis.cli.main import app
    from gis.settings import get_settings

    monkeypatch.setenv(
        "GRIDGOV_DATABASE_URL", demo_engine.url.render_as_string(hide_password=False)
    )
    get_settings.cache_clear()
    try:
        args = ["site-posts", COMMUNITY, "--p", "2", "--radius", "400", "--format", "json"]
        ran = CliRunner().invoke(app, args)
        assert ran.exit_code == 0, ran.output
        report = json.loads(ran.output)
        assert report["grids"]
        assert {r["model"] for r in report["region_results"]} == {
            "p-median",
            "mclp",
        }
        assert all(r["proposed_site"].startswith(("building:", "post:")) for r in report["grids"])
        ran = CliRunner().invoke(app, ["site-posts", COMMUNITY, "--p", "999"])
        assert ran.exit_code == 1
        assert "p = 999" in ran.output
        ran = CliRunner().invoke(app, ["site-posts", COMMUNITY])
        assert ran.exit_code == 0, ran.output
        assert "proposed site" in ran.output
    finally:
        get_settings.cache_clear()


def test_mclp_time_limit_keeps_a_solution() -> None:
    cost, w, _ = _instance(12, 600, 80)
    sol = mclp(cost, w, 250.0, p=10, time_limit=0.05)
    assert len(sol.sites) == 10
    assert sol.optimal or sol.time_limit_hit


@pytest.mark.parametrize(("seed", "radius", "p"), [(4, 350.0, 3), (5, 600.0, 4), (6, 250.0, 5)])
def test_mclp_reductions_keep_the_optimum(seed: int, radius: float, p: int) -> None:
    """Duplicated and nested candidates (dominated: dropped), far demand (unreachable:
    dropped): the optimum is still brute force's, and exactly p sites are open."""
    cost, w, _ = _instance(seed, 60, 8)
    far = np.full((5, 8), 5_000.0)  # five homes out of everyone's reach
    cost = np.vstack([cost, far])
    w = np.concatenate([w, np.full(5, 30.0)])
    cost = np.hstack([cost, cost[:, :2], cost[:, [3]] + 200.0])  # twins, and a nested reach
    sol = mclp(cost, w, radius, p)
    assert sol.optimal
    assert len(sol.sites) == p
    assert sol.objective == pytest.approx(_brute_cover(cost, w, radius, p))


def test_mclp_more_sites_than_useful_candidates() -> None:
    """All candidates but one reach nothing: p sites are still returned, covering what the
    one useful candidate covers; nothing reachable at all gives zero."""
    cost = np.array([[10.0, 900.0, 900.0], [20.0, 900.0, 900.0], [700.0, 900.0, 900.0]])
    w = np.array([1.0, 2.0, 4.0])
    sol = mclp(cost, w, 100.0, p=2)
    assert len(sol.sites) == 2
    assert 0 in sol.sites
    assert sol.objective == 3.0
    none = mclp(cost, w, 5.0, p=2)
    assert len(none.sites) == 2
    assert none.objective == 0.0
