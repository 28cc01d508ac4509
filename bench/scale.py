"""The audit of a synthetic province: one process against Dask, and a projection.

Loads (once; kept between runs) a province of ``--counties`` copies of the demo
prefecture (``gridgov demo load --counties N``: 79 counties = 101,041 grids, 7.8 million
buildings) into ``<database>_province``, then in the same run:

1. the Dask audit of the prefecture region on a LocalCluster of ``--workers``
   single-threaded worker processes: time per county, total time, peak memory (RSS) per
   worker;
2. the largest county audited alone in a fresh process, for its peak memory;
3. the single-process audit of the whole region (``run_audit``), last as the longest.

Checks (printed, exit status 1 when one fails): the Dask report equals the single
process's (findings, roll-ups); memory per worker bounded by the largest county's
(≤ 1.5 × its peak alone, not growing with the province); no county slower than
3 × the median. Then a projection for 2,800 counties on N workers:

    T(N) ≈ T_start + ceil(2,800 / N) × t_county

with t_county the mean time of a county task measured here and T_start the cluster's
start-up — it assumes the database is no bottleneck (one PostGIS per few workers, or
a server with at least as many cores as workers); on this machine the workers and the
database share 2 cores.

    .venv/bin/python bench/scale.py                      # 79 counties, 2 workers
    .venv/bin/python bench/scale.py --counties 10 --workers 2

Memory is the Python worker's RSS; the PostGIS backend serving it is not counted.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from distributed import Client, LocalCluster
from sqlalchemy import Engine, text

from gis.audit import scope
from gis.audit.distributed import run_distributed
from gis.audit.profile import default_profile
from gis.audit.run import run_audit
from gis.db.engine import bring_up, create_db_engine
from gis.db.migrate import upgrade
from gis.demo.province import load_province, province_codes, province_url

ALONE = """
import json, sys
from gis.audit.distributed import audit_county
from gis.audit.profile import default_profile
r = audit_county(sys.argv[1], sys.argv[2], default_profile(), None, sys.argv[3])
print(json.dumps({"seconds": r.seconds, "peak_rss_mb": r.peak_rss_mb}))
"""


def canonical(report) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    dump = report.model_dump(mode="json")
    return (
        sorted(json.dumps(v, sort_keys=True) for v in dump["violations"]),
        sorted(json.dumps(r, sort_keys=True) for r in dump["rollup"]),
    )


def _scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan] if "Relation Name" in plan else []
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def scope_reads(engine: Engine, county: str) -> dict[str, int]:
    """Rows of each base table the scoping statements of ``county``'s audit read, by
    ``EXPLAIN ANALYZE`` with the planner's own choices (rolled back)."""
    params = {"code": county, "as_of": None, "trust_regions": True, "trust_grids": True}
    read: dict[str, int] = {}
    with engine.connect() as conn, conn.begin():
        statements = [scope._COMMUNITIES, scope._GRIDS, scope._OTHER_GRIDS, scope._BUILDINGS]
        for statement in statements:
            if statement is scope._BUILDINGS:
                for sql in scope._INDEXES:
                    conn.execute(text(sql))
            plan = conn.execute(
                text("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.text), params
            ).scalar_one()[0]["Plan"]
            for node in _scans(plan):
                if not node["Relation Name"].startswith("audit_"):
                    table = node["Relation Name"]
                    rows = node["Actual Rows"] * node["Actual Loops"]
                    read[table] = read.get(table, 0) + rows
        conn.rollback()
    return read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counties", type=int, default=79)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    url = province_url(bring_up(say=lambda _m: None))
    engine = create_db_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    loaded = load_province(engine, args.counties, args.seed, replace=True)
    print(
        f"province: {loaded.counties} counties, {loaded.grids:,} grids, "
        f"{loaded.buildings:,} buildings ({'loaded' if loaded.loaded else 'kept'} in "
        f"{time.perf_counter() - started:.0f} s)"
    )
    codes = province_codes(args.counties)
    prefectures = sorted({p for p, _ in codes})
    if len(prefectures) != 1:
        print("the benchmark audits one prefecture: use at most 99 counties")
        return 1
    region = prefectures[0]
    profile = default_profile()
    middle = codes[len(codes) // 2][1]
    reads = scope_reads(engine, middle)
    with engine.connect() as conn:
        own = conn.execute(
            text("""
            SELECT (SELECT count(*) FROM region WHERE code LIKE :c || '%') AS region,
                   (SELECT count(*) FROM grid WHERE code LIKE :c || '%') AS grid,
                   (SELECT count(*) FROM building b WHERE b.geom && (
                        SELECT ST_Extent(geom) FROM region WHERE code = :county)) AS building
            """),
            {"c": middle[:6], "county": middle},
        ).one()
    print(
        f"scope of county {middle} reads: "
        + ", ".join(f"{t} {n:,} (county {getattr(own, t):,})" for t, n in sorted(reads.items()))
    )
    scope_ok = all(n <= 1.05 * getattr(own, t) + 1 for t, n in reads.items() if hasattr(own, t))

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    start_s = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        report, results = run_distributed(url, region, client, profile)
        dask_s = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    times = [r.seconds for r in results]
    median = statistics.median(times)
    print(f"dask ({args.workers} workers): {dask_s:.1f} s + {start_s:.1f} s cluster start-up")
    print("time per county (s): " + " ".join(f"{r.code[2:6]}:{r.seconds:.1f}" for r in results))
    print(
        f"  min {min(times):.1f}  median {median:.1f}  mean {statistics.fmean(times):.1f}  "
        f"max {max(times):.1f}"
    )
    per_worker: dict[str, float] = {}
    for r in results:
        per_worker[r.worker] = max(per_worker.get(r.worker, 0.0), r.peak_rss_mb)
    for worker, peak in sorted(per_worker.items()):
        n = sum(r.worker == worker for r in results)
        print(f"  worker {worker}: {n} counties, peak {peak:,.0f} MB")

    largest = max(codes, key=lambda c: c[1])[1]  # all copies have the same size
    alone = json.loads(
        subprocess.run(
            [sys.executable, "-c", ALONE, url, largest, region[:4]],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    print(f"largest county {largest} alone in a fresh process: peak {alone['peak_rss_mb']:,.0f} MB")

    t_county = statistics.fmean(times)
    print(f"projection, 2,800 counties: T(N) = {start_s:.0f} s + ceil(2800 / N) × {t_county:.1f} s")
    for n in (2, 16, 64, 256, 1024):
        total = start_s + math.ceil(2800 / n) * t_county
        print(f"  N = {n:>4}: {total / 3600:6.2f} h")

    # last, the longest: the whole region in this process
    t0 = time.perf_counter()
    single = run_audit(engine, region, profile)
    single_s = time.perf_counter() - t0
    single_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"single process: {single_s:.1f} s for {len(single.violations):,} findings, "
        f"peak {single_rss:,.0f} MB (this process)"
    )

    failures = [] if scope_ok else ["a county's scope reads rows of other counties"]
    if canonical(report) != canonical(single):
        failures.append("the Dask report differs from the single-process report")
    if any(r.error for r in results):
        failures.append("a county failed: " + ", ".join(r.code for r in results if r.error))
    bound = 1.5 * alone["peak_rss_mb"]
    if max(per_worker.values()) > bound:
        failures.append(f"a worker peaked above 1.5 × the largest county alone ({bound:.0f} MB)")
    if max(times) > 3 * median:
        failures.append(f"a county took {max(times):.1f} s > 3 × the median {median:.1f} s")
    print(
        f"checks: report equal {canonical(report) == canonical(single)}; "
        f"max worker peak {max(per_worker.values()):,.0f} MB ≤ {bound:,.0f} MB; "
        f"slowest county {max(times) / median:.2f} × median (≤ 3)"
    )

    print(f"speed-up here: {single_s / dask_s:.2f}× (single {single_s:.0f} s, dask {dask_s:.0f} s)")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
