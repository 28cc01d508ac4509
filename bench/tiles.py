"""Vector tiles of the grids layer: gridgov against tipg, the same 500 tiles, one client.

tipg (a peer PostGIS tile server from PyPI) is installed in the bench's own virtual
environment (``bench/.venv-tipg``, created on first run) and pointed at the same
database and table. 500 tiles at zoom 12–16 over the demo (scale 1) are fetched
alternately from gridgov with its tile cache off and from tipg; then the same tiles from
gridgov with its cache on, twice (the second pass is reported). Prints tiles/s and
p50/p95 latency of each and the ratio.

Target: gridgov's throughput (cache off) at least tipg's.

    .venv/bin/python bench/tiles.py
"""

from __future__ import annotations

import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gis.db.engine import bring_up, create_db_engine, embedded_cluster
from gis.db.migrate import upgrade
from gis.demo.generate import generate
from gis.demo.load import demo_fingerprint, load_demo

ROOT = Path(__file__).resolve().parent.parent
TIPG_VENV = ROOT / "bench" / ".venv-tipg"
TILES = 500


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def tipg_python() -> Path:
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        print("  (installing tipg into bench/.venv-tipg …)")
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "tipg", "uvicorn"], check=True)
    return python


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int, probe: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [*argv, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + probe, timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{argv[0]} did not start on {base}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def measure(client: httpx.Client, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        started = time.perf_counter()
        r = client.get(url)
        times.append(time.perf_counter() - started)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"{url}: HTTP {r.status_code}")
    return times


def summary(name: str, times: list[float]) -> float:
    rate = len(times) / sum(times)
    q = statistics.quantiles(times, n=20)
    print(f"{name:<28} {rate:>9.1f} {statistics.median(times) * 1000:>9.1f} {q[18] * 1000:>9.1f}")
    return rate


def main() -> None:
    server_url = bring_up(say=lambda _m: None)
    name = "gridgov_bench_s1"
    admin = create_db_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if (
            conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar_one_or_none()
            is None
        ):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    upgrade(engine)
    load_demo(
        engine, lambda: generate(42, 1), demo_fingerprint(42, 1), replace=True, say=lambda _m: None
    )
    with engine.connect() as conn:
        centres = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM grid "
                "WHERE valid_to IS NULL) s"
            )
        ).all()
    engine.dispose()
    rng = random.Random(42)
    tiles = sorted({tile_of(lon, lat, z) for lon, lat in centres for z in range(12, 17)})
    rng.shuffle(tiles)
    tiles = tiles[:TILES]
    url_text = url.render_as_string(hide_password=False)
    # tipg wants a TCP host: the embedded cluster's password URL, or the configured one
    dsn = (
        embedded_cluster().tcp_url(name)
        if url.query.get("host")
        else url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    python = tipg_python()
    gridgov = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    with (
        server(
            gridgov,
            {"GRIDGOV_DATABASE_URL": url_text, "GRIDGOV_TILE_CACHE_SIZE": "0"},
            8791,
            "/health",
        ) as plain,
        server(gridgov, {"GRIDGOV_DATABASE_URL": url_text}, 8792, "/health") as cached,
        server(
            [str(python), "-m", "uvicorn", "tipg.main:app"],
            {"DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["public"]'},
            8793,
            "/collections",
        ) as tipg,
        httpx.Client(timeout=60) as client,
    ):
        ours = [f"{plain}/tiles/grids/{z}/{x}/{y}.mvt" for z, x, y in tiles]
        theirs = [
            f"{tipg}/collections/public.grid/tiles/WebMercatorQuad/{z}/{x}/{y}" for z, x, y in tiles
        ]
        measure(client, ours[:10] + theirs[:10])  # connections and catalogues warm
        ours_t: list[float] = []
        theirs_t: list[float] = []
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            pair = [(a, ours_t), (b, theirs_t)] if i % 2 == 0 else [(b, theirs_t), (a, ours_t)]
            for url_, sink in pair:
                sink += measure(client, [url_])
        warm = [f"{cached}/tiles/grids/{z}/{x}/{y}.mvt" for z, x, y in tiles]
        measure(client, warm)
        cached_t = measure(client, warm)
    print(f"{len(tiles)} tiles, zoom 12–16, grids layer of the scale-1 demo")
    print(f"{'server':<28} {'tiles/s':>9} {'p50 ms':>9} {'p95 ms':>9}")
    ours_rate = summary("gridgov (cache off)", ours_t)
    tipg_rate = summary("tipg", theirs_t)
    summary("gridgov (cache on, warm)", cached_t)
    ratio = ours_rate / tipg_rate
    print(
        f"gridgov / tipg throughput (cache off): {ratio:.2f} — "
        f"{'meets' if ratio >= 1 else 'MISSES'} the target (at least tipg's)"
    )


if __name__ == "__main__":
    main()
