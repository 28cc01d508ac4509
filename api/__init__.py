"""gridgov's HTTP API (FastAPI): thin routers over ``gis`` and ``layers``."""

from api.app import create_app

__all__ = ["create_app"]
