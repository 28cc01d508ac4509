"""The domain's error family. HTTP statuses are assigned in ``api/``, never here.

Every message names the feature and says how to fix it.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DatabaseUnavailable",
    "Forbidden",
    "GridgovError",
    "InvalidGeometry",
    "InvalidInput",
    "InvalidParameter",
    "NotFound",
    "OutOfScope",
    "SetupError",
    "StaleVersion",
    "Unauthorized",
]


class GridgovError(Exception):
    """Base of every error gridgov raises on purpose."""

    title = "gridgov error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(GridgovError):
    """A region, grid, plan or layer that does not exist."""

    title = "Not found"


class Conflict(GridgovError):
    """The thing changed since it was read, or a code is taken."""

    title = "Conflict"


class StaleVersion(Conflict):
    """The caller's version (ETag / If-Match) is not the current one: reload and retry."""

    title = "Stale version"


class InvalidInput(GridgovError):
    """A parameter or a value that cannot be used as given."""

    title = "Invalid input"


class InvalidParameter(InvalidInput):
    """A query parameter a standard protocol (OGC API, tiles) answers with "bad request":
    unknown, malformed or out of range."""

    title = "Invalid parameter"


class InvalidGeometry(InvalidInput):
    """A geometry that is invalid, empty, of the wrong type or in the wrong place."""

    title = "Invalid geometry"


class OutOfScope(GridgovError):
    """A region outside what the caller may touch."""

    title = "Out of scope"


class SetupError(GridgovError):
    """PostgreSQL/PostGIS is missing or cannot be reached; the message says what to do."""

    title = "Set-up error"


class DatabaseUnavailable(SetupError):
    """The database does not answer."""

    title = "Database unavailable"


class Unauthorized(GridgovError):
    """No valid credentials: a missing, malformed, unknown or revoked API token."""

    title = "Unauthorized"


class Forbidden(GridgovError):
    """Valid credentials whose role may not do this (a viewer writing)."""

    title = "Forbidden"
