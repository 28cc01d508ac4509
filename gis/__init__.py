"""gridgov's domain core: grids, regions, audits and plans on PostGIS.

Importable without the web app: nothing here knows about FastAPI.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
