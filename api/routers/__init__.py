"""HTTP routers; each parses, calls ``gis``/``layers`` and shapes the response."""

from api.routers import assets, health, layers, pages

__all__ = ["assets", "health", "layers", "pages"]
