"""Entry point of the ``gridgov`` command."""

from __future__ import annotations

import logging

import typer

from gis import __version__
from gis.cli import audit, brief, db, demo, plan, serve, token
from gis.cli import io as io_cli
from gis.cli import siting as siting_cli
from gis.cli.autogrid import autogrid as autogrid_cmd
from gis.cli.map import map_page

app = typer.Typer(
    name="gridgov",
    help="Grid governance on PostGIS: grids, coverage audits, police posts, map layers.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(audit.profile_app, name="profile")
app.add_typer(plan.app, name="plan")
app.add_typer(token.app, name="token")
app.command("audit")(audit.audit)
app.command("serve")(serve.serve)
app.command("brief")(brief.brief)
app.command("site-posts")(siting_cli.site_posts)
app.command("autogrid")(autogrid_cmd)
app.command("map")(map_page)
io_cli.register(app)  # gridgov import, gridgov export


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def version() -> None:
    """Print gridgov's version."""
    typer.echo(__version__)
