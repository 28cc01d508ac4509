"""Tables of gridgov (SQLAlchemy 2 + GeoAlchemy2).

Storage CRS: EPSG:4326 (WGS84 longitude/latitude). CGCS2000 (EPSG:4490) coincides with
WGS84 to centimetres-decimetres, so CGCS2000 data is relabelled on import, never shifted;
4326 keeps GeoJSON (RFC 7946), vector tiles and GDAL free of axis-order surprises.
Areas and distances are computed in metres (geography, or a projected CRS per region).

Codes are the 12-digit national statistical division codes at every level
(prefecture ``652300000000``, county ``652301000000``, street ``652301001000``,
community ``652301001001``); a grid code is its community's code plus a sequence
(three digits by default: ``652301001001003``).

Grids are versioned: every version is a row of ``grid``; the live version has
``valid_to IS NULL``. ``grid_code`` registers every code ever issued, so a retired code
is never reused, and the point layers refer to a grid by its code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geoalchemy2 import Geometry

__all__ = [
    "GRID_KINDS",
    "REGION_LEVELS",
    "SRID",
    "TOKEN_ROLES",
    "ApiToken",
    "AuditCache",
    "Base",
    "Building",
    "Change",
    "DataChange",
    "Grid",
    "GridCode",
    "Meta",
    "Organization",
    "PartyBranch",
    "Plan",
    "PlanAssignment",
    "PlanGrid",
    "PolicePost",
    "Region",
    "Road",
    "ServiceTeam",
    "Worker",
]

SRID = 4326
REGION_LEVELS = ("prefecture", "county", "street", "community")
GRID_KINDS = ("geographic", "unit", "organization")


def _geom(kind: str) -> Any:
    # spatial_index=False: the GiST indexes are declared explicitly below and in the
    # migration, so models and migrations name them the same way.
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=False)


def _valid(column: str, table: str) -> CheckConstraint:
    return CheckConstraint(f"ST_IsValid({column})", name=f"{table}_{column}_valid")


def _in(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Base(DeclarativeBase):
    pass


class Region(Base):
    """A prefecture, county, street/town or community/village."""

    __tablename__ = "region"
    __table_args__ = (
        _in("level", REGION_LEVELS, "region_level_known"),
        CheckConstraint("code ~ '^[0-9]{12}$'", name="region_code_12_digits"),
        _valid("geom", "region"),
        CheckConstraint("households >= 0 AND population >= 0", name="region_counts_nonnegative"),
        Index("region_geom_gist", "geom", postgresql_using="gist"),
        Index("region_parent_idx", "parent_code"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("region.code", ondelete="RESTRICT")
    )
    urban: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    households: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    population: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    geom: Mapped[Any] = mapped_column(_geom("MULTIPOLYGON"))


class GridCode(Base):
    """Every grid code ever issued; a code is never reused once retired."""

    __tablename__ = "grid_code"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{13,15}$'", name="grid_code_format"),)

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    community_code: Mapped[str] = mapped_column(String(12), ForeignKey("region.code"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Grid(Base):
    """One version of a management grid; the live version has ``valid_to IS NULL``."""

    __tablename__ = "grid"
    __table_args__ = (
        _in("kind", GRID_KINDS, "grid_kind_known"),
        _in("status", ("live", "retired"), "grid_status_known"),
        _valid("geom", "grid"),
        CheckConstraint("households >= 0 AND population >= 0", name="grid_counts_nonnegative"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="grid_validity_ordered"),
        Index("grid_geom_gist", "geom", postgresql_using="gist"),
        Index("grid_community_idx", "community_code"),
        Index("grid_code_version_key", "code", "version", unique=True),
        Index(
            "grid_live_code_key",
            "code",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(15), ForeignKey("grid_code.code"))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    community_code: Mapped[str] = mapped_column(String(12), ForeignKey("region.code"))
    households: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    population: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'live'"))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    plan_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("plan.id"))
    geom: Mapped[Any] = mapped_column(_geom("MULTIPOLYGON"))


class PolicePost(Base):
    """A police post (警务站) or room (警务室) and the grid it serves."""

    __tablename__ = "police_post"
    __table_args__ = (
        _in("kind", ("station", "room"), "police_post_kind_known"),
        CheckConstraint("staff >= 0", name="police_post_staff_nonnegative"),
        Index("police_post_geom_gist", "geom", postgresql_using="gist"),
        Index("police_post_grid_idx", "grid_code"),
    )

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), server_default=text("'station'"))
    staff: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    grid_code: Mapped[str | None] = mapped_column(String(15), ForeignKey("grid_code.code"))
    geom: Mapped[Any] = mapped_column(_geom("POINT"))


class Organization(Base):
    """A work unit, shop, firm, school or social organization, assigned to a grid."""

    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint(
            "employees >= 0 AND party_members >= 0", name="organization_counts_nonnegative"
        ),
        Index("organization_geom_gist", "geom", postgresql_using="gist"),
        Index("organization_grid_idx", "grid_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    employees: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    party_members: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    grid_code: Mapped[str | None] = mapped_column(String(15), ForeignKey("grid_code.code"))
    geom: Mapped[Any] = mapped_column(_geom("POINT"))


class Building(Base):
    """A building footprint with the households and people living in it."""

    __tablename__ = "building"
    __table_args__ = (
        _valid("geom", "building"),
        CheckConstraint(
            "households >= 0 AND population >= 0 AND floors >= 1",
            name="building_counts_valid",
        ),
        Index("building_geom_gist", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    use: Mapped[str] = mapped_column(String(16), server_default=text("'residential'"))
    households: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    population: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    floors: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    geom: Mapped[Any] = mapped_column(_geom("MULTIPOLYGON"))


class Road(Base):
    """A road centre line; the local base layer of the maps and the cut lines of autogrid."""

    __tablename__ = "road"
    __table_args__ = (
        _in("class", ("arterial", "secondary", "local", "rural"), "road_class_known"),
        Index("road_geom_gist", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(Text)
    road_class: Mapped[str] = mapped_column("class", String(16))
    geom: Mapped[Any] = mapped_column(_geom("MULTILINESTRING"))


class PartyBranch(Base):
    """A party branch sitting on a grid."""

    __tablename__ = "party_branch"
    __table_args__ = (
        CheckConstraint("members >= 0", name="party_branch_members_nonnegative"),
        Index("party_branch_grid_idx", "grid_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str] = mapped_column(String(15), ForeignKey("grid_code.code"))
    members: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    secretary: Mapped[str | None] = mapped_column(Text)


class Worker(Base):
    """A community worker on a grid (定格、定人、定责); one per grid is responsible."""

    __tablename__ = "worker"
    __table_args__ = (
        _in("role", ("responsible", "member"), "worker_role_known"),
        Index("worker_grid_idx", "grid_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str] = mapped_column(String(15), ForeignKey("grid_code.code"))
    role: Mapped[str] = mapped_column(String(16), server_default=text("'member'"))
    phone: Mapped[str | None] = mapped_column(String(20))


class ServiceTeam(Base):
    """A grid's volunteer service team (一个网格、一支服务队、一百名志愿者)."""

    __tablename__ = "service_team"
    __table_args__ = (
        CheckConstraint("volunteers >= 0", name="service_team_volunteers_nonnegative"),
        Index("service_team_grid_idx", "grid_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str] = mapped_column(String(15), ForeignKey("grid_code.code"))
    volunteers: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    leader: Mapped[str | None] = mapped_column(Text)


class Plan(Base):
    """A planner's draft redraw of one or more communities."""

    __tablename__ = "plan"
    __table_args__ = (_in("status", ("draft", "published", "discarded"), "plan_status_known"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'draft'"))
    community_codes: Mapped[list[str]] = mapped_column(ARRAY(String(12)))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class PlanGrid(Base):
    """A grid as drawn in a plan's draft."""

    __tablename__ = "plan_grid"
    __table_args__ = (
        _in("kind", GRID_KINDS, "plan_grid_kind_known"),
        Index("plan_grid_geom_gist", "geom", postgresql_using="gist"),
        Index("plan_grid_plan_code_key", "plan_id", "code", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("plan.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    community_code: Mapped[str] = mapped_column(String(12), ForeignKey("region.code"))
    households: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    population: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    base_version: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(_geom("MULTIPOLYGON"))


class Change(Base):
    """The audit log: who changed what, when, in which plan, and why."""

    __tablename__ = "change"
    __table_args__ = (Index("change_entity_idx", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(Text)
    plan_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("plan.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Meta(Base):
    """Key/value facts about the database: what was loaded, with which seed and scale."""

    __tablename__ = "gridgov_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


TOKEN_ROLES = ("viewer", "planner", "admin")


class PlanAssignment(Base):
    """An organization or police post moved to another grid in a plan's draft."""

    __tablename__ = "plan_assignment"
    __table_args__ = (
        _in("entity", ("organization", "police_post"), "plan_assignment_entity_known"),
    )

    plan_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_key: Mapped[str] = mapped_column(Text, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15))


class ApiToken(Base):
    """An API token: only the sha256 of its secret is stored (the secret is shown once)."""

    __tablename__ = "api_token"
    __table_args__ = (
        _in("role", TOKEN_ROLES, "api_token_role_known"),
        Index("api_token_hash_key", "token_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(12), server_default=text("''"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DataChange(Base):
    """One row per committed transaction that wrote a table the audit reads (``live``: the
    catalogue; ``plans``: the drafts), left by a trigger: a scope's data version is its
    number of rows."""

    __tablename__ = "data_change"
    __table_args__ = (_in("scope", ("live", "plans"), "data_change_scope_known"),)

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditCache(Base):
    """A computed audit report (its JSON), valid for the data versions it was read at."""

    __tablename__ = "audit_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(12))
    plan_id: Mapped[int | None] = mapped_column(BigInteger)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    profile_digest: Mapped[str] = mapped_column(String(64))
    live_version: Mapped[int] = mapped_column(BigInteger)
    plans_version: Mapped[int] = mapped_column(BigInteger)
    report: Mapped[Any] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    hits: Mapped[int] = mapped_column(Integer, server_default=text("0"))
