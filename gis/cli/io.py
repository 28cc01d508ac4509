"""``gridgov import`` and ``gridgov export``: GIS files in, catalogue layers out."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gis.cli.audit import _as_of
from gis.cli.common import console, err_console, friendly_errors, say
from gis.db.engine import check_postgis, create_db_engine, database_url
from gis.io.export import FORMATS, PARQUET, export_layer, export_parquet
from gis.io.importer import TABLES, ImportRejected, import_file
from gis.io.report import ValidationReport

__all__ = ["export", "import_", "register"]

LARGE = 5000  # features from which a progress bar is shown


def _print(report: ValidationReport) -> None:
    say(
        f"{report.file}: {report.features} features ({report.format}, {report.crs}) as "
        f"{report.target}: {report.errors} errors, {report.warnings} warnings"
        + (f", {report.repaired} repaired" if report.repaired else "")
    )
    if not report.problems:
        return
    table = Table(show_lines=False)
    for col in ("severity", "check", "feature", "code", "message"):
        table.add_column(col, overflow="fold")
    for p in report.problems:
        table.add_row(
            p.severity,
            p.check,
            "" if p.feature is None else str(p.feature),
            p.code or "",
            p.message,
            style="red" if p.severity == "error" else "yellow",
        )
    console.print(table)


@friendly_errors
def import_(
    file: Path = typer.Argument(..., help="GeoJSON, GPKG, SHP (folder/.shp/.zip), KML/KMZ, CSV…"),
    as_: str = typer.Option(..., "--as", help=f"What the features are: {', '.join(TABLES)}."),
    mapping: Path = typer.Option(None, help="Field mapping (YAML)."),
    crs: str = typer.Option(None, help="Source CRS: EPSG:XXXX, gcj02 or bd09."),
    repair: bool = typer.Option(False, help="Repair invalid geometries (make_valid)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count; write nothing."),
    layer: str = typer.Option(None, help="The layer of a multi-layer file."),
    encoding: str = typer.Option(None, help="Attribute encoding, e.g. GB18030."),
    actor: str = typer.Option("import", help="Who is importing (in the change log)."),
) -> None:
    """Import a GIS file: validate, then write everything or nothing (exit 1 on errors)."""
    engine = create_db_engine(database_url())
    check_postgis(engine)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task("import", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            if total >= LARGE:
                bar.update(task, description=stage, completed=done, total=total)

        try:
            report = import_file(
                engine,
                file,
                as_,
                mapping=mapping,
                crs=crs,
                repair=repair,
                dry_run=dry_run,
                progress=progress,
                actor=actor,
                encoding=encoding,
                layer=layer,
            )
        except ImportRejected as exc:
            bar.stop()
            _print(exc.report)
            raise
    _print(report.validation)
    verb = "would insert" if dry_run else "inserted"
    say(
        f"{verb} {report.inserted}, {'would update' if dry_run else 'updated'} "
        f"{report.updated}, unchanged {report.unchanged} in {report.seconds:.1f} s"
        + (" (dry run: nothing written)" if dry_run else "")
    )


@friendly_errors
def export(
    layer: str = typer.Argument(..., help="Catalogue layer: grids, communities, streets, …"),
    fmt: str = typer.Option(..., "--format", help=f"One of {', '.join([*FORMATS, PARQUET])}."),
    out: Path = typer.Option(
        ..., "--out", help="The file to write (parquet: a directory, one file per county)."
    ),
    region: str = typer.Option(None, help="Only features under this region code."),
    as_of: str = typer.Option(None, "--as-of", help="Grids as they were on a date."),
) -> None:
    """Export a catalogue layer to a file (shp: a .zip with .cpg; gpkg: with a QGIS style)."""
    engine = create_db_engine(database_url())
    check_postgis(engine)
    when = _as_of(as_of)
    if fmt == PARQUET:
        counts = export_parquet(engine, layer, out, region=region, as_of=when)
        for county, count in counts.items():
            say(f"{out / (county + '.parquet')}: {count} features")
        say(f"wrote {sum(counts.values())} features of {layer} to {out}/ (GeoParquet)")
        return
    n = export_layer(engine, layer, out, fmt, region=region, as_of=when)
    say(f"wrote {n} features of {layer} to {out} ({fmt})")


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``export`` to the ``gridgov`` command."""
    app.command("import")(import_)
    app.command("export")(export)
