"""``gridgov autogrid``: draw geographic grids automatically into draft plans."""

from __future__ import annotations

import getpass

import typer
from rich.table import Table
from sqlalchemy import text

from gis.cli.common import console, friendly_errors, say
from gis.codes import LEVEL_DIGITS, is_region_code, level_of
from gis.db.engine import create_db_engine, database_url
from gis.errors import InvalidInput, NotFound

_COMMUNITIES = text("""
SELECT code FROM region WHERE level = 'community' AND (code = :r OR code LIKE :prefix)
ORDER BY code
""")


@friendly_errors
def autogrid(
    region: str = typer.Argument(..., help="A community, or a street/county (each community)."),
    target: float = typer.Option(400, "--target", help="Households per grid."),
    lock: str = typer.Option(
        "unit,organization", "--lock", help="Grid kinds kept as they are (comma-separated)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same grids."),
) -> None:
    """Draw balanced, contiguous, compact geographic grids into one draft plan per
    community (nothing is published: review with `gridgov plan diff`)."""
    from gis.autogrid import autogrid as run

    if not is_region_code(region):
        raise InvalidInput(f"{region!r}: give a 12-digit region code")
    kinds = tuple(k.strip() for k in lock.split(",") if k.strip())
    prefix = region[: LEVEL_DIGITS[level_of(region)]] + "%"
    table = Table(
        "community",
        "plan",
        "grids",
        "kept",
        "max dev",
        "CV",
        "PP mean",
        "PP min",
        "contiguous",
        "split",
        "seconds",
    )
    with create_db_engine(database_url()).connect() as conn:
        codes = list(conn.execute(_COMMUNITIES, {"r": region, "prefix": prefix}).scalars())
        conn.rollback()  # each community is written in its own transaction
        if not codes:
            raise NotFound(f"no community in {region}")
        for code in codes:
            with conn.begin():
                r = run(conn, code, target=target, lock=kinds, seed=seed, author=getpass.getuser())
            for w in r.warnings:
                say(f"warning: {w}")
            m = r.metrics
            table.add_row(
                code,
                str(r.plan.id),
                str(m.parts),
                str(len(r.kept)),
                f"{m.max_deviation:.1%}",
                f"{m.cv:.3f}",
                f"{m.pp_mean:.3f}",
                f"{m.pp_min:.3f}",
                "yes" if m.contiguous else "NO",
                str(r.buildings_split),
                f"{r.seconds:.2f}",
            )
    console.print(table)
    say("review and edit a plan in the browser: gridgov serve, then /map/plans/{id}")
