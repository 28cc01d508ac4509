"""What an audit looks at: the region's communities and their grids, as temporary tables.

Every check reads the same temporary tables, so the grid set is defined in one place:
live grids, grids as of a date, or (later) a plan's draft. Invalid grid geometries are
kept as they are in ``raw_geom`` (the geometry check reports them) and repaired with
ST_MakeValid in ``geom`` so the other checks never fail on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from gis.codes import is_region_code
from gis.errors import InvalidInput, NotFound

__all__ = ["Scope", "prepare_scope"]

# the region, and whether a validated CHECK (ST_IsValid) constraint already guarantees
# valid geometries
_REGION = text("""
SELECT code, name, level,
       EXISTS (SELECT FROM pg_constraint WHERE conname = 'region_geom_valid' AND convalidated)
           AS trust_regions,
       EXISTS (SELECT FROM pg_constraint WHERE conname = 'grid_geom_valid' AND convalidated)
           AS trust_grids
FROM region WHERE code = :code
""")

# the region tree under the scope, without geometries (coverage certifies its nesting;
# communities are checked, and repaired, in audit_community)
_REGIONS = """
CREATE TEMP TABLE audit_region ON COMMIT DROP AS
WITH RECURSIVE down AS (
    SELECT code, parent_code, level FROM region WHERE code = :code
    UNION ALL
    SELECT r.code, r.parent_code, r.level FROM region r JOIN down d ON r.parent_code = d.code
)
SELECT d.code, CASE WHEN d.code = :code THEN NULL ELSE d.parent_code END AS parent_code,
       d.level, (:trust_regions OR d.level = 'community' OR ST_IsValid(r.geom)) AS valid
FROM down d JOIN region r USING (code)
"""

_COMMUNITIES = """
CREATE TEMP TABLE audit_community ON COMMIT DROP AS
WITH RECURSIVE down AS (
    SELECT code, level, urban, geom FROM region WHERE code = :code
    UNION ALL
    SELECT r.code, r.level, r.urban, r.geom FROM region r JOIN down d ON r.parent_code = d.code
)
SELECT code, urban, (:trust_regions OR ST_IsValid(geom)) AS valid, geom AS raw_geom,
       CASE WHEN (:trust_regions OR ST_IsValid(geom)) THEN geom
            ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3)) END AS geom
FROM down WHERE level = 'community'
"""

# live grids, or the versions valid at :as_of
_AS_OF = """(CAST(:as_of AS timestamptz) IS NULL AND g.valid_to IS NULL)
    OR (g.valid_from <= CAST(:as_of AS timestamptz)
        AND (g.valid_to IS NULL OR g.valid_to > CAST(:as_of AS timestamptz)))"""

_GRIDS = f"""
CREATE TEMP TABLE audit_grid ON COMMIT DROP AS
SELECT g.id, g.code, g.name, g.kind, g.community_code, g.households, g.population,
       (:trust_grids OR ST_IsValid(g.geom)) AS valid, g.geom AS raw_geom,
       CASE WHEN (:trust_grids OR ST_IsValid(g.geom)) THEN g.geom
            ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(g.geom), 3)) END AS geom
FROM grid g
WHERE g.community_code IN (SELECT code FROM audit_community) AND ({_AS_OF})
"""

# a plan's draft: its grids replace the live grids of the plan's communities
_PLAN_GRIDS = f"""
CREATE TEMP TABLE audit_grid ON COMMIT DROP AS
SELECT p.id, p.code, p.name, p.kind, p.community_code, p.households, p.population,
       ST_IsValid(p.geom) AS valid, p.geom AS raw_geom,
       CASE WHEN ST_IsValid(p.geom) THEN p.geom
            ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(p.geom), 3)) END AS geom
FROM plan_grid p
WHERE p.plan_id = :plan AND p.community_code IN (SELECT code FROM audit_community)
UNION ALL
SELECT g.id, g.code, g.name, g.kind, g.community_code, g.households, g.population,
       (:trust_grids OR ST_IsValid(g.geom)), g.geom, g.geom
FROM grid g
WHERE g.community_code IN (SELECT code FROM audit_community) AND ({_AS_OF})
  AND g.community_code <> ALL(SELECT unnest(community_codes) FROM plan WHERE id = :plan)
"""

# grids of other communities near the scope: overlaps and spills reach them
_OTHER_GRIDS = f"""
CREATE TEMP TABLE audit_other_grid ON COMMIT DROP AS
SELECT g.code, g.community_code,
       CASE WHEN (:trust_grids OR ST_IsValid(g.geom)) THEN g.geom
            ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(g.geom), 3)) END AS geom
FROM grid g
WHERE g.community_code NOT IN (SELECT code FROM audit_community) AND ({_AS_OF})
  AND g.geom && (SELECT ST_Extent(geom) FROM audit_community)
"""

# Joins are driven from the few large polygons (communities, grids) to the many small
# features: PostGIS then prepares each polygon once and tests every feature against it.
_BUILDINGS = """
CREATE TEMP TABLE audit_building ON COMMIT DROP AS
SELECT DISTINCT ON (b.id) b.id, b.households, b.population, b.geom, s.spot,
       c.code AS community
FROM audit_community c
JOIN building b ON b.geom && c.geom
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS spot) s
WHERE ST_Intersects(c.geom, s.spot)
ORDER BY b.id, c.code
"""

# which grid each home stands in (by its point on surface); lowest code on a boundary
_HOMES = """
CREATE TEMP TABLE audit_home ON COMMIT DROP AS
SELECT DISTINCT ON (b.id) b.id, g.code AS grid_code, g.community_code
FROM audit_grid g JOIN audit_building b ON b.spot && g.geom AND ST_Intersects(g.geom, b.spot)
ORDER BY b.id, g.code
"""

# Statistics for the planner from a small sample (3,000 rows) and only on the columns
# that are joined or filtered on: ANALYZE of every geometry column (raw_geom is only
# reported, never joined) cost more than the rest of a quick audit.
_OTHER_INDEXES = [
    "SET LOCAL default_statistics_target = 10",
    "CREATE INDEX ON audit_other_grid USING gist (geom)",
    "ANALYZE audit_other_grid",
]
# for the rules that join features to grids and communities (the coverage rules —
# blind spots, overlaps, spill, geometry, codes — only scan them or join them by code)
_INDEXES = [
    "CREATE INDEX ON audit_community USING gist (geom)",
    "CREATE INDEX ON audit_grid USING gist (geom)",
    "CREATE INDEX ON audit_grid (code)",
    "ANALYZE audit_community (code, urban, valid, geom)",
    "ANALYZE audit_grid (id, code, kind, community_code, households, population, valid, geom)",
]
_AFTER_BUILDINGS = [
    "CREATE INDEX ON audit_building USING gist (geom)",
    "CREATE INDEX ON audit_building USING gist (spot)",
    "ANALYZE audit_building",
]


@dataclass(frozen=True)
class Scope:
    code: str
    name: str
    level: str
    as_of: datetime | None


def prepare_scope(
    conn: Connection,
    region_code: str,
    as_of: datetime | None = None,
    with_buildings: bool = True,
    plan_id: int | None = None,
    indexed: bool = True,
) -> Scope:
    """Fill the temporary tables for ``region_code`` (inside the caller's transaction).

    ``with_buildings=False`` skips the buildings and homes (no rule that needs them);
    ``plan_id`` audits that plan's draft grids in place of its communities' live grids.
    ``indexed=False`` leaves the grids and communities without indexes and statistics
    (only the coverage rules run); buildings always get them.
    """
    if not is_region_code(region_code):
        raise InvalidInput(
            f"{region_code!r} is not a region code: use the 12-digit statistical code, "
            "e.g. 652301001001 for a community or 652301000000 for a county"
        )
    row = conn.execute(_REGION, {"code": region_code}).one_or_none()
    if row is None:
        raise NotFound(f"region {region_code} does not exist (check the code, or load the data)")
    params: dict[str, object] = {
        "code": region_code,
        "as_of": as_of,
        "trust_regions": row.trust_regions,
        "trust_grids": row.trust_grids,
        "plan": plan_id,
    }
    # many short spatial queries: JIT compilation costs more than it saves here
    steps = ["SET LOCAL jit = off", _REGIONS, _COMMUNITIES]
    steps += [_GRIDS if plan_id is None else _PLAN_GRIDS, _OTHER_GRIDS, *_OTHER_INDEXES]
    if indexed or with_buildings:
        steps += _INDEXES
    if with_buildings:
        steps += [_BUILDINGS, *_AFTER_BUILDINGS, _HOMES, "CREATE INDEX ON audit_home (id)"]
    # one round trip: the statements run in order, in the caller's transaction
    conn.execute(text(";\n".join(steps)), params)
    return Scope(row.code, row.name, row.level, as_of)
