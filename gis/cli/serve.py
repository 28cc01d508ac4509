"""``gridgov serve``: the API and the map pages."""

from __future__ import annotations

import typer

from gis.cli.common import friendly_errors, say
from gis.db.engine import bring_up, create_db_engine
from gis.db.migrate import upgrade
from gis.settings import get_settings


@friendly_errors
def serve(
    host: str = typer.Option(None, help="Address to listen on (GRIDGOV_HOST, default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (GRIDGOV_PORT, default 8000)."),
) -> None:
    """Serve the API and the maps (FastAPI + uvicorn). At start-up the prefecture's audit
    (the overview's) is computed in the background (GRIDGOV_AUDIT_WARM=false: not)."""
    import uvicorn

    settings = get_settings().server
    host = host or settings.host
    port = port or settings.port
    url = bring_up(say)
    upgrade(create_db_engine(url))
    say(f"gridgov serving on http://{host}:{port}/  —  the map: http://{host}:{port}/map")
    uvicorn.run("api.app:create_served_app", factory=True, host=host, port=port, log_level="info")
