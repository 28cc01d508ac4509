"""``gridgov token``: API tokens for the web API (mirrors :mod:`gis.tokens`)."""

from __future__ import annotations

import typer
from rich.table import Table

from gis.cli.common import console, friendly_errors, say
from gis.db.engine import create_db_engine, database_url
from gis.tokens import ROLES, create_token, list_tokens, revoke_token

app = typer.Typer(help="API tokens: who may write through the web API, and where.")


@app.command("create")
@friendly_errors
def create(
    role: str = typer.Option(..., help=f"{' | '.join(ROLES)}"),
    name: str = typer.Option(..., help="Who or what uses it (recorded as the actor of writes)."),
    scope: str = typer.Option("", help="Region-code prefix, e.g. 652301001; empty = all."),
) -> None:
    """Create a token and print its secret (shown once: store it now)."""
    with create_db_engine(database_url()).begin() as conn:
        info, secret = create_token(conn, name, role, scope)
    scope_text = info.scope or "(all)"
    typer.echo(f"token {info.id} {info.name!r}: {info.role}, scope {scope_text}", err=True)
    typer.echo("the secret is shown once; send it as `Authorization: Bearer <secret>`:", err=True)
    typer.echo(secret)


@app.command("list")
@friendly_errors
def index() -> None:
    """List tokens (never their secrets)."""
    with create_db_engine(database_url()).connect() as conn:
        tokens = list_tokens(conn)
    table = Table("id", "name", "role", "scope", "created", "last used", "revoked")
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.role,
            t.scope or "(all)",
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    console.print(table)


@app.command("revoke")
@friendly_errors
def revoke(token_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Revoke a token: its secret stops working at once."""
    with create_db_engine(database_url()).begin() as conn:
        info = revoke_token(conn, token_id)
    say(f"token {info.id} {info.name!r} revoked at {info.revoked_at:%Y-%m-%d %H:%M:%S}")
