"""Errors at the edge: domain errors → RFC 9457 problem+json, in one table.

Clients get a title, a status and the domain message (which names the feature and says
how to fix it); never a stack trace. Unexpected errors are logged and answered with a
plain 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    GridgovError,
    InvalidGeometry,
    InvalidInput,
    InvalidParameter,
    NotFound,
    OutOfScope,
    SetupError,
    StaleVersion,
    Unauthorized,
)

__all__ = ["PROBLEM_JSON", "STATUS", "install_error_handlers", "problem", "status_of"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("gridgov.api")

#: The one table from domain error to HTTP status (most specific class first).
STATUS: dict[type[GridgovError], int] = {
    NotFound: 404,
    StaleVersion: 412,
    Conflict: 409,
    InvalidGeometry: 422,
    InvalidInput: 422,
    InvalidParameter: 400,
    OutOfScope: 403,
    Unauthorized: 401,
    Forbidden: 403,
    DatabaseUnavailable: 503,
    SetupError: 503,
}


def status_of(error: GridgovError) -> int:
    """The HTTP status of a domain error (its nearest class in :data:`STATUS`; else 500)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _slug(title: str) -> str:
    return "-".join(title.lower().split())


def problem(request: Request, status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem+json response."""
    body = {
        "type": f"urn:gridgov:problem:{_slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GridgovError)
    status = status_of(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
    response = problem(request, status, exc.title, exc.message)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridgov"'
    return response


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        413: "Payload too large",
    }.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {request.url.path}; see / for the maps and /openapi.json for the API"
    return problem(request, exc.status_code, title, detail)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    # malformed parameters (query, path, headers) are 400; a body that does not fit is 422
    in_body = any(e["loc"][:1] == ["body"] for e in errors)
    if in_body:
        return problem(request, 422, "Invalid input", detail, errors=errors)
    return problem(request, 400, "Bad request", detail, errors=errors)


async def _database(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: database error", request.method, request.url.path, exc_info=exc)
    if isinstance(exc, OperationalError):
        return problem(
            request, 503, "Database unavailable", "the database does not answer; retry later"
        )
    return problem(request, 500, "Internal error", "a database query failed; see the server log")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: unexpected error", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "Internal error", "an unexpected error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json."""
    app.add_exception_handler(GridgovError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)
