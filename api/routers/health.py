"""``GET /health``: is the database there, and which PostgreSQL and PostGIS."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

import gis
from api.deps import EngineDep
from api.openapi_examples import HEALTH, json_ok
from gis.db.engine import check_postgis, versions

__all__ = ["Health", "router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    gridgov: str
    postgresql: str
    postgis: str
    database: str


@router.get("/health", responses=json_ok(HEALTH, "The database answers"))
def health(engine: EngineDep) -> Health:
    """``ok`` with the versions; 503 problem+json when the database does not answer."""
    check_postgis(engine)
    found = versions(engine)
    return Health(status="ok", gridgov=gis.__version__, **found)
