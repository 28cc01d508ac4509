"""``gridgov demo``: the generated demo prefecture."""

from __future__ import annotations

import json
import time

import typer

from gis.cli.common import friendly_errors, say
from gis.db.engine import bring_up, check_postgis, create_db_engine
from gis.db.migrate import upgrade
from gis.demo.catalog import select_counties
from gis.demo.generate import DemoData, generate
from gis.demo.load import demo_fingerprint, load_demo
from gis.demo.province import MAX_COUNTIES, load_province, province_url
from gis.errors import InvalidInput
from gis.settings import get_settings

app = typer.Typer(help="The demo prefecture (generated, modelled on Changji, Xinjiang).")


@app.command()
@friendly_errors
def load(
    seed: int = typer.Option(42, help="Random seed: the same seed gives the same prefecture."),
    scale: int = typer.Option(
        1, help="1 ≈ 150 communities and 1,263 grids; 10 is ten times larger."
    ),
    county: list[str] = typer.Option(
        [], "--county", help="Real county code(s) to draw from, main one first (default all)."
    ),
    replace: bool = typer.Option(False, help="Replace whatever the database holds."),
    counties: int = typer.Option(
        None,
        min=1,
        max=MAX_COUNTIES,
        help="A synthetic province of N prefecture-sized counties, for benchmarks, in its "
        "own database <name>_province.",
    ),
) -> None:
    """Generate the demo prefecture and load it (skipped when already loaded)."""
    if counties is not None:
        if scale != 1 or county:
            raise InvalidInput("--counties copies the scale-1 demo: drop --scale and --county")
        _province(seed, counties, replace)
        return
    if scale < 1:
        raise InvalidInput(
            f"--scale must be 1 or more (got {scale}): 1 is the reported Changji size"
        )
    select_counties(scale, county or None)  # checks county codes before anything is written
    url = bring_up(say)
    engine = create_db_engine(url)
    check_postgis(engine)
    upgrade(engine)
    started = time.perf_counter()
    fingerprint = demo_fingerprint(seed, scale, county)

    def make() -> DemoData:
        say(f"generating the demo prefecture (seed {seed}, scale {scale})…")
        return generate(seed, scale, county or None)

    result = load_demo(engine, make, fingerprint, replace=replace, say=say)
    home = get_settings().database.home
    home.mkdir(parents=True, exist_ok=True)
    manifest_path = home / "demo-manifest.json"
    manifest_path.write_text(json.dumps(result.manifest, ensure_ascii=False, indent=1))
    counts = result.counts
    verb = "loaded" if result.loaded else "already loaded"
    say(
        f"demo {verb} in {time.perf_counter() - started:.1f} s: "
        f"{counts['regions']} regions, {counts['grids']} grids {counts['grids_by_kind']}, "
        f"{counts['households']} households in {counts['buildings']} buildings, "
        f"{counts['organizations']} organizations, {counts['police_posts']} police posts"
    )
    say(f"manifest of planted defects: {manifest_path}")


def _province(seed: int, counties: int, replace: bool) -> None:
    started = time.perf_counter()
    url = province_url(bring_up(say))
    engine = create_db_engine(url)
    check_postgis(engine)
    upgrade(engine)
    result = load_province(engine, counties, seed, replace=replace, say=say)
    verb = "loaded" if result.loaded else "already loaded"
    say(
        f"province {verb} in {time.perf_counter() - started:.1f} s: {result.counties} counties, "
        f"{result.grids:,} grids, {result.buildings:,} buildings"
    )
    say(f"audit it with: GRIDGOV_DATABASE_URL='{url}' gridgov audit 659100000000 --engine dask")
