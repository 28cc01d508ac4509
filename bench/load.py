"""How long the demo prefecture takes to generate and load, at scale 1 and 10.

Target: scale 1 loads in under 60 s on a 2-core machine (generation + COPY + ANALYZE).
Baseline, in the same run: the same rows appended with geopandas' ``to_postgis`` into
the same migrated tables, the usual way of putting a GeoDataFrame into PostGIS;
``ratio`` is baseline time / gridgov's load time (above 1: gridgov is faster).

    .venv/bin/python bench/load.py            # scale 1 and 10
    .venv/bin/python bench/load.py --scales 1 # scale 1 only

Runs in scratch databases ``gridgov_bench*`` of the embedded cluster (or of the server
of GRIDGOV_DATABASE_URL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

import geopandas as gpd

from gis.db.engine import bring_up, create_db_engine
from gis.db.migrate import upgrade
from gis.demo.generate import DemoData, generate
from gis.demo.load import demo_fingerprint, load_demo


def scratch(server: str, name: str) -> Engine:
    admin = create_db_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    return engine


def drop(server: str, name: str) -> None:
    admin = create_db_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def baseline_to_postgis(engine: Engine, data: DemoData) -> float:
    """The same rows appended with GeoDataFrame.to_postgis into the same migrated tables
    (same constraints and indexes), one table after another."""
    grid_codes = [{"code": g["code"], "community_code": g["community_code"]} for g in data.grids]
    started = time.perf_counter()
    for table, rows in (
        ("region", data.regions),
        ("grid_code", grid_codes),
        ("grid", data.grids),
        ("building", data.buildings),
        ("organization", data.organizations),
        ("police_post", data.posts),
        ("road", data.roads),
    ):
        if table == "grid_code":
            pd.DataFrame(rows).to_sql(table, engine, if_exists="append", index=False)
            continue
        frame = gpd.GeoDataFrame(rows, geometry="geom", crs="EPSG:4326")
        frame.to_postgis(table, engine, if_exists="append", index=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    server = bring_up(say=lambda _m: None)
    print(
        f"{'scale':>5} {'grids':>7} {'buildings':>10} {'generate s':>11} {'load s':>8} "
        f"{'total s':>8} {'to_postgis s':>13} {'ratio':>6} {'peak RSS MB':>12}"
    )
    for scale in args.scales:
        engine = scratch(server, "gridgov_bench")
        upgrade(engine)
        data, gen_s = timed(lambda s=scale: generate(args.seed, s))
        result, load_s = timed(
            lambda e=engine, d=data, s=scale: load_demo(
                e, lambda: d, demo_fingerprint(args.seed, s), say=lambda _m: None
            )
        )
        engine.dispose()
        base_s = float("nan")
        if scale == 1:
            base_engine = scratch(server, "gridgov_bench_baseline")
            upgrade(base_engine)
            base_s = baseline_to_postgis(base_engine, data)
            base_engine.dispose()
            drop(server, "gridgov_bench_baseline")
        drop(server, "gridgov_bench")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        counts = result.counts
        print(
            f"{scale:>5} {counts['grids']:>7} {counts['buildings']:>10} {gen_s:>11.1f} "
            f"{load_s:>8.1f} {gen_s + load_s:>8.1f} {base_s:>13.1f} "
            f"{base_s / load_s if scale == 1 else float('nan'):>6.1f} {rss:>12.0f}"
        )
        if scale == 1:
            verdict = "meets" if gen_s + load_s < 60 else "MISSES"
            print(
                f"      scale 1 total {gen_s + load_s:.1f} s {verdict} the 60 s target; "
                f"to_postgis / gridgov load time for the same rows: {base_s / load_s:.1f}"
            )


if __name__ == "__main__":
    main()
