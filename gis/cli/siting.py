"""``gridgov site-posts``: where each grid's police post should stand (a report)."""

from __future__ import annotations

import json
from enum import StrEnum

import typer
from rich.table import Table

from gis.cli.common import console, friendly_errors, say
from gis.db.engine import check_postgis, create_db_engine, database_url
from gis.errors import InvalidInput


class Format(StrEnum):
    table = "table"
    json = "json"


class Sites(StrEnum):
    buildings = "buildings"
    posts = "posts"
    both = "both"


class DistanceKind(StrEnum):
    straight = "straight"
    road = "road"


def _m(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


@friendly_errors
def site_posts(
    region: str = typer.Argument(..., help="12-digit region code (a community or street)."),
    p: int | None = typer.Option(None, "--p", help="Also choose p sites for the region."),
    radius: float | None = typer.Option(
        None, "--radius", help="Service radius (m): coverage, and MCLP when --p is given."
    ),
    time_limit: float | None = typer.Option(
        None, "--time-limit", help="Seconds for HiGHS; then the best solution and its gap."
    ),
    candidates: Sites = typer.Option(
        Sites.posts, "--candidates", help="Sites the p-median/MCLP choose from."
    ),
    distance: DistanceKind = typer.Option(
        DistanceKind.straight,
        "--distance",
        help="straight lines, or along the road network (pgRouting; straight where no road).",
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Report, per grid, the current post against the site minimising household-weighted
    distance; with --p, the best p sites of the region (p-median, and MCLP with --radius).
    --distance road measures along the roads."""
    from gis.siting.report import site_posts as build

    if radius is not None and p is None:
        raise InvalidInput("--radius needs --p: how many sites may cover the households")
    engine = create_db_engine(database_url())
    check_postgis(engine)
    report = build(engine, region, p, radius, time_limit, candidates.value, distance.value)
    if fmt is Format.json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        return
    table = Table(
        title=f"Siting police posts in {report.region} (EPSG:{report.epsg}, "
        f"{report.distance} distances)"
    )
    for col in (
        "grid",
        "households",
        "current post",
        "mean m",
        "proposed site",
        "mean m",
        "saved hh·m",
    ):
        table.add_column(
            col, justify="right" if col not in ("grid", "current post", "proposed site") else "left"
        )
    for g in report.grids:
        table.add_row(
            g.grid,
            f"{g.households:,.0f}",
            g.current_post or "—",
            _m(g.current_mean_m),
            g.proposed_site,
            _m(g.proposed_mean_m),
            _m(g.saved_weighted_m),
        )
    console.print(table)
    if report.road is not None:
        say(f"road distances over {report.road.edges:,} road pieces: {report.road.message}")
    for r in report.region_results:
        cov = (
            ""
            if r.coverage is None
            else f", coverage {100 * r.coverage:.1f}% within {r.radius_m:,.0f} m"
        )
        state = "optimal" if r.optimal else ("time limit hit" if r.time_limit_hit else "stopped")
        say(
            f"{r.model} p={r.p}: objective {r.objective:,.1f}, mean distance "
            f"{r.mean_distance_m:,.0f} m{cov}; {state}, gap {100 * r.gap:.3f}%, "
            f"{r.seconds:.2f} s; sites {', '.join(r.sites)}"
        )
