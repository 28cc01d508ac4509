"""``gridgov db``: the database — bring it up, stop it, migrate it."""

from __future__ import annotations

import typer

from gis.cli.common import friendly_errors, say
from gis.db.engine import bring_up, check_postgis, create_db_engine, database_url, embedded_cluster
from gis.db.migrate import current_revision, head_revision, upgrade
from gis.errors import SetupError
from gis.settings import get_settings

app = typer.Typer(help="The PostGIS database: embedded cluster or GRIDGOV_DATABASE_URL.")


def _external() -> bool:
    return get_settings().database.database_url is not None


@app.command()
@friendly_errors
def up() -> None:
    """Start PostGIS (the embedded cluster unless GRIDGOV_DATABASE_URL is set) and migrate."""
    url = bring_up(say)
    engine = create_db_engine(url)
    pg, postgis = check_postgis(engine)
    upgrade(engine)
    say(f"PostgreSQL {pg}, PostGIS {postgis}; schema at revision {current_revision(engine)}")


@app.command()
@friendly_errors
def down() -> None:
    """Stop the embedded cluster (data is kept)."""
    if _external():
        raise SetupError(
            "GRIDGOV_DATABASE_URL is set: gridgov does not stop a database it did not start"
        )
    say("stopped" if embedded_cluster(say).down() else "the embedded cluster was not running")


@app.command()
@friendly_errors
def status() -> None:
    """Whether the database answers, its versions and schema revision."""
    if not _external():
        cluster = embedded_cluster(say)
        if not cluster.initialised:
            say(f"no embedded cluster yet in {cluster.datadir} (run `gridgov db up`)")
            raise typer.Exit(3)
        if not cluster.running():
            say(f"embedded cluster in {cluster.datadir}: stopped")
            raise typer.Exit(3)
        say(f"embedded cluster in {cluster.datadir}: running on 127.0.0.1:{cluster.port()}")
    engine = create_db_engine(database_url())
    pg, postgis = check_postgis(engine)
    say(f"PostgreSQL {pg}, PostGIS {postgis}")
    say(f"schema revision {current_revision(engine)} (head {head_revision(engine)})")


@app.command()
@friendly_errors
def url(
    tcp: bool = typer.Option(False, help="The TCP URL with password, for QGIS or psql."),
) -> None:
    """Print the database URL gridgov uses."""
    if tcp and not _external():
        say(embedded_cluster(say).tcp_url())
    else:
        say(database_url())


@app.command()
@friendly_errors
def migrate() -> None:
    """Bring the schema to the newest revision (Alembic)."""
    engine = create_db_engine(database_url())
    check_postgis(engine)
    upgrade(engine)
    say(f"schema at revision {current_revision(engine)}")


@app.command()
@friendly_errors
def reset(yes: bool = typer.Option(False, "--yes", help="Do not ask.")) -> None:
    """Delete the embedded cluster and all its data, and start an empty one."""
    if _external():
        raise SetupError(
            "GRIDGOV_DATABASE_URL is set: gridgov never deletes a database it did not create"
        )
    if not yes and not typer.confirm("Delete every database of the embedded cluster?"):
        raise typer.Exit(1)
    url = embedded_cluster(say).reset()
    upgrade(create_db_engine(url))
    say("a new, empty, migrated cluster is running")
