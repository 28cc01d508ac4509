"""The FastAPI application: one engine per process, created in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import gis
from api.access_log import AccessLog
from api.auth import read_access
from api.errors import install_error_handlers
from api.limits import BodyLimit
from api.openapi_examples import document_pages, keep_nulls
from api.routers import (
    assets,
    audit,
    autogrid,
    brief,
    health,
    io,
    layers,
    ogc,
    pages,
    plans,
    redraw,
    siting,
    tiles,
)
from gis.audit.cache import audit_cache
from gis.audit.report import AuditReport
from gis.db.engine import create_db_engine
from gis.settings import get_settings
from layers.maps import OVERVIEW_PAGE, page_profile, top_region

__all__ = ["create_app", "create_served_app"]

log = logging.getLogger("gridgov.api")


def warm_up(engine: Engine) -> Future[AuditReport] | None:
    """Start computing the top region's full audit (the overview's) in the background;
    its future, ``None`` without data."""
    try:
        with Session(engine) as session:
            region = top_region(session)
        if region is None:
            return None
        log.info("computing the audit of %s in the background", region)
        return audit_cache.warm(engine, region, page_profile(OVERVIEW_PAGE))
    except SQLAlchemyError as exc:  # a server without data or schema still serves
        log.warning("no audit warm-up: %s", exc)
        return None


def create_served_app() -> FastAPI:
    """The app ``gridgov serve`` runs: warms the overview's audit unless
    ``GRIDGOV_AUDIT_WARM=false``."""
    return create_app(warm=get_settings().audit.warm)


def create_app(database_url: str | None = None, warm: bool = False) -> FastAPI:
    """The app. ``database_url`` overrides the settings (``GRIDGOV_DATABASE_URL`` or the
    embedded cluster); the engine is created when the app starts and disposed at exit.
    ``warm`` starts computing the top region's audit at start-up (see :func:`warm_up`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(database_url)
        app.state.engine = engine
        app.state.warming = warm_up(engine) if warm else None
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="gridgov",
        version=gis.__version__,
        summary="Grid governance maps and data: grids, communities, police posts.",
        lifespan=lifespan,
        dependencies=[Depends(read_access)],  # GRIDGOV_READS_NEED_TOKEN
        # FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from a CDN: off, since
        # gridgov pages must work offline. The schema stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)  # GRIDGOV_MAX_BODY_BYTES → 413
    origins = get_settings().server.cors_origins
    if origins:  # GRIDGOV_CORS_ORIGINS
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Server-Timing"],
        )
    # JSON/GeoJSON/HTML answers gzipped for clients that accept it (the overview's
    # compliance layer: 1,618 community outlines at scale 10)
    # (level 5: a third of level 9's time, nearly its size)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.add_middleware(AccessLog)  # one log line per request, with its time
    app.include_router(health.router)
    document_pages(pages.router.routes)  # the pages' examples in the OpenAPI document
    app.include_router(pages.router)
    document_pages(redraw.router.routes)
    app.include_router(redraw.router)
    app.include_router(layers.router)
    app.include_router(audit.router)
    app.include_router(brief.router)
    app.include_router(plans.router)
    app.include_router(io.router)
    app.include_router(ogc.router)
    app.include_router(tiles.router)
    app.include_router(autogrid.router)
    app.include_router(siting.router)
    assets.mount_assets(app)
    keep_nulls(app)  # the examples' nulls, which FastAPI drops
    return app
