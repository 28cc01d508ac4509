"""``gridgov audit`` and ``gridgov profile``: check grids against a standards profile."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine as SqlEngine

from gis.audit.features import feature_collection
from gis.audit.profile import Profile, load_profile
from gis.audit.report import AuditReport
from gis.audit.run import RULE_ORDER, default_region, run_audit
from gis.cli.common import console, friendly_errors, say
from gis.db.engine import check_postgis, create_db_engine, database_url
from gis.errors import InvalidInput

if TYPE_CHECKING:
    from gis.audit.distributed import CountyResult

profile_app = typer.Typer(help="The standards profile the audit checks against.")


class Engine(StrEnum):
    single = "single"
    dask = "dask"


class Format(StrEnum):
    table = "table"
    json = "json"
    geojson = "geojson"
    csv = "csv"


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--as-of {value!r}: use a date like 2024-03-01") from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def _csv(report: AuditReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["rule", "check", "severity", "community", "grids", "area_m2", "households", "message"]
    )
    for v in report.violations:
        writer.writerow(
            [
                v.rule,
                v.check,
                v.severity,
                v.community or "",
                " ".join(v.grids),
                "" if v.area_m2 is None else v.area_m2,
                "" if v.households is None else v.households,
                v.message,
            ]
        )
    return out.getvalue()


def _tables(report: AuditReport) -> None:
    rules = Table(title=f"{report.region_name} {report.region} — profile {report.profile}")
    for col in ("rule", "severity", "errors", "warnings"):
        rules.add_column(col, justify="right" if col in ("errors", "warnings") else "left")
    for r in report.rules:
        if r.enabled:
            style = "red" if r.errors else ("yellow" if r.warnings else "green")
            rules.add_row(r.rule, r.severity, str(r.errors), str(r.warnings), style=style)
    console.print(rules)
    top = Table(title="compliance by region (share of rules met)")
    for col in ("code", "name", "level", "score", "errors", "warnings", "area m²", "households"):
        top.add_column(col)
    for s in report.rollup:
        if s.level in ("prefecture", "county", "street") or report.level == "street":
            top.add_row(
                s.code,
                s.name,
                s.level,
                f"{s.score:.0%}",
                str(s.errors),
                str(s.warnings),
                f"{s.area_affected_m2:,.0f}",
                str(s.households_affected),
            )
    console.print(top)
    found = Table(title=f"{len(report.violations)} findings")
    for col in ("severity", "rule", "check", "grids", "message"):
        found.add_column(col, overflow="fold")
    for v in report.violations:
        found.add_row(
            v.severity,
            v.rule,
            v.check,
            " ".join(v.grids),
            v.message,
            style="red" if v.severity == "error" else "yellow",
        )
    console.print(found)


@friendly_errors
def audit(
    region: str = typer.Argument(None, help="12-digit region code (default: the prefecture)."),
    profile: Path = typer.Option(None, help="Standards profile (YAML); default: built in."),
    as_of: str = typer.Option(None, "--as-of", help="Audit the grids as they were on a date."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json, geojson or csv."),
    output: Path = typer.Option(None, help="Write to this file instead of the screen."),
    engine_name: Engine = typer.Option(
        Engine.single, "--engine", help="single (one process) or dask (one task per county)."
    ),
    scheduler: str = typer.Option(
        None, help="Dask scheduler address (tcp://host:8786); default: a local cluster."
    ),
    workers: int = typer.Option(None, min=1, help="Worker processes of the local cluster."),
) -> None:
    """Audit a region: blind spots, overlaps, spill, posts, workload, staffing…

    Exit status 1 when any error-severity finding exists, so a pipeline can gate on it.
    """
    chosen = load_profile(profile)
    when = _as_of(as_of)
    if engine_name == Engine.single and (scheduler or workers):
        raise InvalidInput("--scheduler and --workers go with --engine dask")
    if scheduler and workers:
        raise InvalidInput(
            "--workers sizes the local cluster; with --scheduler the cluster's own workers run"
        )
    url = database_url()
    engine = create_db_engine(url)
    check_postgis(engine)
    code = region or default_region(engine)
    quiet = fmt != Format.table and output is None
    if engine_name == Engine.dask:
        report = _dask_audit(url, code, chosen, when, scheduler, workers, quiet)
    else:
        report = _single_audit(engine, code, chosen, when, quiet)
    _emit(engine, report, fmt, output)


def _single_audit(
    engine: SqlEngine, code: str, chosen: Profile, when: datetime | None, quiet: bool
) -> AuditReport:
    with Progress(
        TextColumn("auditing {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task(code, total=len(RULE_ORDER) + 1)
        report = run_audit(
            engine,
            code,
            chosen,
            when,
            progress=lambda step: bar.update(task, advance=1, description=step),
        )
    return report


def _dask_audit(
    url: str,
    code: str,
    chosen: Profile,
    when: datetime | None,
    scheduler: str | None,
    workers: int | None,
    quiet: bool,
) -> AuditReport:
    from gis.audit.distributed import connect, run_distributed

    client = connect(scheduler, workers)
    try:
        say(f"Dask dashboard: {client.dashboard_link}")
        with Progress(
            TextColumn("auditing counties {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=quiet,
        ) as bar:
            task = bar.add_task(code, total=None)

            def done(result: CountyResult) -> None:
                what = f"failed: {result.error}" if result.error else f"{result.seconds:.1f} s"
                bar.update(task, advance=1, description=f"{result.code} {what}")

            report, results = run_distributed(
                url,
                code,
                client,
                chosen,
                when,
                on_county=done,
                on_start=lambda counties: bar.update(task, total=len(counties)),
            )
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None and scheduler is None:
            cluster.close()
    for r in results:
        say(
            f"county {r.code}: "
            + (
                f"FAILED ({r.error})"
                if r.error
                else f"{r.seconds:.1f} s on {r.worker}, peak {r.peak_rss_mb:,.0f} MB"
            )
        )
    return report


def _emit(engine: SqlEngine, report: AuditReport, fmt: Format, output: Path | None) -> None:
    if fmt == Format.table and output is None:
        _tables(report)
    else:
        if fmt == Format.json:
            text = report.model_dump_json(indent=1)
        elif fmt == Format.geojson:
            with engine.connect() as conn:
                text = json.dumps(feature_collection(conn, report.violations), ensure_ascii=False)
        elif fmt == Format.csv:
            text = _csv(report)
        else:
            text = report.model_dump_json(indent=1)
        if output:
            output.write_text(text, encoding="utf-8")
            say(f"wrote {len(report.violations)} findings to {output}")
        else:
            typer.echo(text)
    errors = report.errors
    say(
        f"{errors} errors, {len(report.violations) - errors} warnings "
        f"in {report.seconds:.1f} s ({report.region_name} {report.region})"
    )
    if errors:
        raise typer.Exit(1)


@profile_app.command("show")
@friendly_errors
def show(
    profile: Path = typer.Argument(None, help="A profile file; default: the built-in."),
) -> None:
    """Print the profile in effect (defaults filled in)."""
    typer.echo(load_profile(profile).to_yaml())


@profile_app.command("check")
@friendly_errors
def check(profile: Path = typer.Argument(..., help="The profile file to validate.")) -> None:
    """Validate a profile file: unknown rules, wrong types, negative thresholds."""
    loaded = load_profile(profile)
    say(f"{profile}: valid profile {loaded.name!r}, {len(loaded.enabled())} rules enabled")
