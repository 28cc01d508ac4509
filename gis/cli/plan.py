"""``gridgov plan``: draft redraws from the command line (mirrors ``/plans``)."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

import shapely
from shapely.geometry import shape

from gis.cli.common import console, friendly_errors, say
from gis.db.engine import create_db_engine, database_url
from gis.edit.assign import move_assignment
from gis.edit.edits import merge_grids, reshape_grid, split_grid
from gis.edit.plans import create_plan, discard_plan, get_plan, list_plans
from gis.edit.publish import diff_plan, publish_plan, validate_plan
from gis.edit.structure import carve_grid, move_building, renumber_grids, retire_grid
from gis.errors import InvalidGeometry

app = typer.Typer(help="Plans: draft redraws of communities, published all at once.")
edit_app = typer.Typer(help="Edit a draft: split, merge, reshape (the partition is kept).")
app.add_typer(edit_app, name="edit")


def _actor() -> str:
    return getpass.getuser()


def _geometry(value: str) -> shapely.Geometry:
    """WKT, GeoJSON text, or a file holding either (lon/lat)."""
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.exists() else value
    try:
        if text.lstrip().startswith("{"):
            import json

            data = json.loads(text)
            data = data.get("geometry", data) if data.get("type") == "Feature" else data
            return shape(data)
        return shapely.from_wkt(text)
    except (ValueError, KeyError, shapely.errors.GEOSException) as exc:
        raise InvalidGeometry(f"{value[:60]!r}: not WKT or GeoJSON ({exc})") from None


def _show(plan_id: int) -> None:
    with create_db_engine(database_url()).connect() as conn:
        plan = get_plan(conn, plan_id)
    say(
        f"plan {plan.id} v{plan.version} [{plan.status}] {plan.name} — "
        f"{plan.grids} grids in {', '.join(plan.community_codes)}"
    )


@app.command("create")
@friendly_errors
def create(
    communities: list[str] = typer.Argument(..., help="Community codes (12 digits)."),
    note: str = typer.Option(None, help="Why the redraw."),
    as_of: str = typer.Option(None, "--as-of", help="Start from the grids of a date (revert)."),
) -> None:
    """Create a draft from the live grids of the communities."""
    when = datetime.fromisoformat(as_of).astimezone() if as_of else None
    with create_db_engine(database_url()).begin() as conn:
        plan = create_plan(conn, communities, _actor(), note=note, as_of=when)
    _show(plan.id)


@app.command("list")
@friendly_errors
def index(status: str = typer.Option(None, help="draft, published or discarded")) -> None:
    """List plans."""
    with create_db_engine(database_url()).connect() as conn:
        plans = list_plans(conn, status)
    table = Table("id", "version", "status", "author", "communities", "grids", "created")
    for p in plans:
        table.add_row(
            str(p.id),
            str(p.version),
            p.status,
            p.author,
            " ".join(p.community_codes),
            str(p.grids),
            f"{p.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@edit_app.command("split")
@friendly_errors
def split(plan: int, grid: str, line: str = typer.Argument(..., help="WKT/GeoJSON line")) -> None:
    """Split GRID along LINE; the largest part keeps the code."""
    with create_db_engine(database_url()).begin() as conn:
        _, codes = split_grid(conn, plan, grid, _geometry(line), _actor())
    say(f"grid {grid} split into {', '.join(codes)}")
    _show(plan)


@edit_app.command("merge")
@friendly_errors
def merge(plan: int, grids: list[str]) -> None:
    """Merge adjacent GRIDS into the lowest code."""
    with create_db_engine(database_url()).begin() as conn:
        merge_grids(conn, plan, grids, _actor())
    _show(plan)


@edit_app.command("reshape")
@friendly_errors
def reshape(
    plan: int,
    grid: str,
    geometry: str,
    give_to: str = typer.Option(None, help="Neighbour that gets the area given up."),
    clip: bool = typer.Option(False, help="Cut off what lies outside the community."),
) -> None:
    """Redraw GRID as GEOMETRY (WKT/GeoJSON polygon); neighbours give and take."""
    with create_db_engine(database_url()).begin() as conn:
        reshape_grid(conn, plan, grid, _geometry(geometry), _actor(), give_to, clip)
    _show(plan)


@app.command("validate")
@friendly_errors
def validate(plan: int) -> None:
    """Audit the draft; exit 1 when it has error findings."""
    with create_db_engine(database_url()).connect() as conn, conn.begin():
        found = validate_plan(conn, plan)
        conn.rollback()
    for v in found:
        say(f"{v.severity:7} {v.rule:15} {v.message}")
    errors = sum(v.severity == "error" for v in found)
    say(f"{errors} errors, {len(found) - errors} warnings")
    if errors:
        raise typer.Exit(1)


@app.command("diff")
@friendly_errors
def diff(plan: int) -> None:
    """What publishing would change."""
    with create_db_engine(database_url()).connect() as conn:
        d = diff_plan(conn, plan)
    table = Table(
        "grid",
        "status",
        "area before m²",
        "area after m²",
        "changed m²",
        "households before",
        "after",
    )
    for g in d.changed:
        table.add_row(
            g.code,
            g.status,
            f"{g.area_before_m2:,.0f}",
            f"{g.area_after_m2:,.0f}",
            f"{g.area_changed_m2:,.0f}",
            str(g.households_before),
            str(g.households_after),
        )
    console.print(table)
    moved: dict[str, int] = {}
    for m in d.moves:
        moved[m.what] = moved.get(m.what, 0) + 1
    say(
        f"households {d.households_before} → {d.households_after}; changing grid: "
        + (", ".join(f"{n} {what}s" for what, n in sorted(moved.items())) or "nothing")
    )


@app.command("publish")
@friendly_errors
def publish(
    plan: int, force: str = typer.Option(None, help="Publish despite errors; the reason is logged.")
) -> None:
    """Replace the live grids by the draft, all at once."""
    with create_db_engine(database_url()).begin() as conn:
        publish_plan(conn, plan, _actor(), force_reason=force)
    _show(plan)


@app.command("discard")
@friendly_errors
def discard(plan: int) -> None:
    """Discard a draft (it stays in the history)."""
    with create_db_engine(database_url()).begin() as conn:
        discard_plan(conn, plan, _actor())
    _show(plan)


@edit_app.command("carve")
@friendly_errors
def carve(
    plan: int,
    community: str,
    geometry: str,
    kind: str = typer.Option("unit", help="unit or organization"),
    name: str = typer.Option("", help="Name of the new grid."),
) -> None:
    """Cut a unit or organization grid (WKT/GeoJSON polygon) out of geographic grids."""
    with create_db_engine(database_url()).begin() as conn:
        _, code = carve_grid(conn, plan, community, _geometry(geometry), kind, name, _actor())
    say(f"new {kind} grid {code}")
    _show(plan)


@edit_app.command("retire")
@friendly_errors
def retire(
    plan: int, grid: str, give_to: str = typer.Option(None, help="Neighbour that gets the land.")
) -> None:
    """Retire GRID; its land goes to a neighbour and its code is never used again."""
    with create_db_engine(database_url()).begin() as conn:
        retire_grid(conn, plan, grid, _actor(), give_to)
    _show(plan)


@edit_app.command("renumber")
@friendly_errors
def renumber(plan: int, community: str) -> None:
    """Give COMMUNITY's grids new codes in reading order (west→east, north→south)."""
    with create_db_engine(database_url()).begin() as conn:
        _, mapping = renumber_grids(conn, plan, community, _actor())
    for old, new in sorted(mapping.items(), key=lambda kv: kv[1]):
        say(f"{old} → {new}")
    _show(plan)


@edit_app.command("move-building")
@friendly_errors
def move(plan: int, building: int, to_grid: str) -> None:
    """Move BUILDING (and the land under it) to the neighbouring grid TO_GRID."""
    with create_db_engine(database_url()).begin() as conn:
        move_building(conn, plan, building, to_grid, _actor())
    _show(plan)


@edit_app.command("move")
@friendly_errors
def move_assigned(plan: int, entity: str, key: str, to_grid: str) -> None:
    """Move an organization (by id) or a police_post (by code) to TO_GRID."""
    with create_db_engine(database_url()).begin() as conn:
        move_assignment(conn, plan, entity, key, to_grid, _actor())
    _show(plan)
