"""Settings, one pydantic-settings class per concern, all with the ``GRIDGOV_`` prefix.

Nothing is read at import time: call :func:`get_settings` (cached) when needed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "AuditSettings",
    "AuthSettings",
    "DatabaseSettings",
    "ServerSettings",
    "Settings",
    "get_settings",
    "project_root",
]


def project_root() -> Path:
    """The checkout gridgov runs from (where ``.gridgov/`` and ``node_modules/`` live)."""
    return Path(__file__).resolve().parent.parent


class DatabaseSettings(BaseSettings):
    """Where PostGIS is: an explicit URL, or the embedded cluster under ``home``."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of an existing PostGIS; when set no cluster is started.",
    )
    home: Path = Field(
        default_factory=lambda: project_root() / ".gridgov",
        description="Folder of the embedded cluster (pg/), its logs and the demo manifest.",
    )
    database_name: str = Field(default="gridgov", description="Database in the embedded cluster.")

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"GRIDGOV_DATABASE_URL is not a database URL: {exc}") from exc
        if not url.drivername.startswith("postgresql"):
            raise ValueError(
                f"GRIDGOV_DATABASE_URL must be a PostgreSQL URL "
                f"(postgresql+psycopg2://user:pass@host:5432/db), not {url.drivername!r}"
            )
        if url.drivername == "postgresql":
            value = url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
        return value


class ServerSettings(BaseSettings):
    """How ``gridgov serve`` listens and what the maps draw beneath the layers."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    basemap: str = Field(
        default="none",
        description="none | osm | tianditu | an XYZ URL template with {z}/{x}/{y}",
    )
    tianditu_key: str | None = None
    assets_dir: Path = Field(
        default_factory=lambda: project_root() / "node_modules",
        description="Where set-up installed Leaflet and its plugins (npm ci).",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins allowed to call the API from a browser, e.g. ["https://gis.example"]',
    )

    @field_validator("basemap")
    @classmethod
    def _check_basemap(cls, value: str) -> str:
        if value in {"none", "osm", "tianditu"}:
            return value
        if all(part in value for part in ("{z}", "{x}", "{y}")):
            return value
        raise ValueError(
            f"GRIDGOV_BASEMAP={value!r}: use none, osm, tianditu, "
            "or an XYZ URL template containing {z}, {x} and {y}"
        )


class AuthSettings(BaseSettings):
    """Who may call the API, and how much a request may send."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    reads_need_token: bool = Field(
        default=False,
        description="When true every GET (but /health) needs an API token; writes always do.",
    )
    max_body_bytes: int = Field(
        default=50 * 2**20,
        ge=1,
        description="Largest request body (bytes); larger ones get 413. Uploads to /import "
        "keep their own limit when it is larger.",
    )


class AuditSettings(BaseSettings):
    """How the server reuses audits (computed once per data version, see gis.audit.cache)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_AUDIT_", extra="ignore")

    warm: bool = Field(
        default=True,
        description="gridgov serve computes the top region's audit in the background at "
        "start-up, so the first visitor of the overview does not wait for it.",
    )
    wait_s: float = Field(
        default=30.0,
        ge=0,
        description="How long a page or an audit request waits for an audit being computed "
        "before answering that it is still being computed (the computation goes on).",
    )
    memory_entries: int = Field(
        default=8, ge=0, description="Reports kept in each process's memory (LRU)."
    )


class Settings:
    """All settings, each concern built once."""

    def __init__(self) -> None:
        self.database = DatabaseSettings()
        self.server = ServerSettings()
        self.auth = AuthSettings()
        self.audit = AuditSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
