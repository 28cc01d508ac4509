"""How fast the audit is, at demo scale 1 and 10, against a geopandas baseline.

For each scale: the full audit of the prefecture (every rule of the default profile),
then blind spots + overlaps alone — by gridgov (in PostGIS) and by geopandas on the same
grids and communities (dissolve/difference for blind spots, a self-overlay for
overlaps, areas in UTM), in the same run. Prints both times and their ratio.

Targets: scale 1 full audit under 5 s; at scale 10 gridgov at least 5x faster than the
geopandas baseline (judged on geopandas' computation alone; the time geopandas needs to
read the grids from PostGIS is printed next to it).

    .venv/bin/python bench/audit.py               # scale 1 and 10
    .venv/bin/python bench/audit.py --scales 1
    .venv/bin/python bench/audit.py --scales 10 --repeat 5   # the range of ratios

Databases ``gridgov_bench_s<scale>`` on the embedded cluster (or GRIDGOV_DATABASE_URL's
server) are kept between runs so the demo is generated only once per scale.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

import geopandas as gpd
import shapely

from gis.audit.profile import default_profile
from gis.audit.run import run_audit
from gis.db.engine import bring_up, create_db_engine
from gis.db.migrate import upgrade
from gis.demo.generate import generate
from gis.demo.load import demo_fingerprint, load_demo

UTM = "EPSG:32645"  # Changji lies in UTM zone 45N


def database(server: str, scale: int, seed: int) -> Engine:
    name = f"gridgov_bench_s{scale}"
    admin = create_db_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if (
            conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar_one_or_none()
            is None
        ):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_db_engine(make_url(server).set(database=name))
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    upgrade(engine)
    started = time.perf_counter()
    result = load_demo(
        engine,
        lambda: generate(seed, scale),
        demo_fingerprint(seed, scale),
        replace=True,
        say=lambda _m: None,
    )
    if result.loaded:
        print(f"  (loaded the scale-{scale} demo in {time.perf_counter() - started:.0f} s)")
    return engine


def geopandas_baseline(engine: Engine) -> tuple[float, float, int, int, float, float]:
    """(read s, compute s, blind spots, overlaps, blind-spot m², overlap m²) with geopandas."""
    read_started = time.perf_counter()
    with engine.connect() as conn:
        grids = gpd.read_postgis(
            text("SELECT code, community_code, geom FROM grid WHERE valid_to IS NULL"),
            conn,
            geom_col="geom",
        )
        communities = gpd.read_postgis(
            text("SELECT code, geom FROM region WHERE level = 'community'"), conn, geom_col="geom"
        )
    read_s = time.perf_counter() - read_started
    started = time.perf_counter()
    grids_m = grids.to_crs(UTM)
    communities_m = communities.to_crs(UTM).set_index("code")
    covered = grids_m.dissolve(by="community_code")
    aligned = covered.geometry.reindex(communities_m.index)
    gaps = communities_m.geometry.difference(aligned, align=True).explode(index_parts=False)
    gaps = gaps[gaps.area > 1e-6]
    pairs = gpd.overlay(
        grids_m[["code", "geom"]],
        grids_m[["code", "geom"]],
        how="intersection",
        keep_geom_type=True,
    )
    pairs = pairs[(pairs["code_1"] < pairs["code_2"]) & (pairs.area > 1e-6)]
    seconds = time.perf_counter() - started
    return read_s, seconds, len(gaps), len(pairs), float(gaps.area.sum()), float(pairs.area.sum())


def geopandas_pairs(engine: Engine) -> tuple[float, int, float]:
    """(compute s, overlaps, overlap m²) with geopandas doing only the needed pairs: a
    spatial-index join, each unordered pair once, the interior test, then the overlay."""
    with engine.connect() as conn:
        grids = gpd.read_postgis(
            text("SELECT code, geom FROM grid WHERE valid_to IS NULL"), conn, geom_col="geom"
        )
    started = time.perf_counter()
    grids_m = grids.to_crs(UTM)
    left, right = grids_m.sindex.query(grids_m.geometry, predicate="intersects")
    codes = grids_m["code"].to_numpy()
    keep = codes[left] < codes[right]
    a = grids_m.geometry.to_numpy()[left[keep]]
    b = grids_m.geometry.to_numpy()[right[keep]]
    inner = shapely.relate_pattern(a, b, "2********")
    pieces = shapely.intersection(a[inner], b[inner])
    areas = shapely.area(pieces)
    areas = areas[areas > 1e-6]
    return time.perf_counter() - started, len(areas), float(areas.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--repeat", type=int, default=1, help="blind spots + overlaps runs per scale (noise)"
    )
    args = parser.parse_args()
    server = bring_up(say=lambda _m: None)
    print(
        f"{'scale':>5} {'grids':>7} {'full audit s':>13} {'gaps+overlaps s':>16} "
        f"{'geopandas s':>12} {'ratio':>6} {'gpd read s':>11}  found (gridgov | geopandas)"
    )
    for scale in args.scales:
        engine = database(server, scale, args.seed)
        top = "652300000000"
        full = run_audit(engine, top)
        with engine.connect() as conn:
            grids = conn.execute(
                text("SELECT count(*) FROM grid WHERE valid_to IS NULL")
            ).scalar_one()
        ratios, ours_s, theirs_s = [], [], []
        for run in range(args.repeat):
            quick = run_audit(engine, top, default_profile().only("blind_spots", "overlaps"))
            gaps = [v for v in quick.violations if v.rule == "blind_spots"]
            laps = [v for v in quick.violations if v.rule == "overlaps"]
            read_s, base_s, base_gaps, base_laps, gap_m2, lap_m2 = geopandas_baseline(engine)
            ratio = base_s / quick.seconds
            ratios.append(ratio)
            ours_s.append(quick.seconds)
            theirs_s.append(base_s)
            print(
                f"{scale:>5} {grids:>7} {full.seconds if run == 0 else float('nan'):>13.2f} "
                f"{quick.seconds:>16.2f} {base_s:>12.2f} {ratio:>6.1f} {read_s:>11.2f}  "
                f"gaps {len(gaps)}|{base_gaps}, overlaps {len(laps)}|{base_laps}, "
                f"m² {sum(v.area_m2 or 0 for v in gaps):,.0f}|{gap_m2:,.0f} and "
                f"{sum(v.area_m2 or 0 for v in laps):,.0f}|{lap_m2:,.0f}"
            )
        pairs_s, pairs_n, pairs_m2 = geopandas_pairs(engine)
        print(
            f"      overlaps alone, geopandas with only the needed pairs (sindex + "
            f"relate_pattern): {pairs_s:.2f} s, {pairs_n} overlaps, {pairs_m2:,.0f} m²"
        )
        engine.dispose()
        if scale == 1:
            verdict = "meets" if full.seconds < 5 else "MISSES"
            print(f"      scale 1 full audit {full.seconds:.2f} s: {verdict} the 5 s target")
        if scale == 10:
            low, high = min(ratios), max(ratios)
            # the verdict on the medians of each side's times: one slow run of either side
            # (a neighbour's job on a shared machine) does not decide it; the per-run range
            # is printed beside it
            median = statistics.median(theirs_s) / statistics.median(ours_s)
            with_read = (base_s + read_s) / quick.seconds
            print(
                f"      scale 10: gridgov {median:.1f}x faster than geopandas' computation "
                f"(median {statistics.median(ours_s):.2f} s against "
                f"{statistics.median(theirs_s):.2f} s over {len(ratios)} run(s); per run "
                f"{low:.1f}–{high:.1f}x; last run {with_read:.1f}x counting its read from "
                f"PostGIS): {'meets' if median >= 5 else 'MISSES'} the 5x target"
            )


if __name__ == "__main__":
    main()
