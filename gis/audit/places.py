"""包户集中, 兜底, 一网格一警务站: buildings, organizations and police posts against grids.

Rules for points on a boundary (deterministic, documented): a point stands in every grid
whose closed polygon contains it (``ST_Intersects``), so an organization exactly on a
shared boundary is correctly assigned to either grid; an unassigned one is proposed for
the grid with the lowest code among them.
"""

from __future__ import annotations

import json
import math

from sqlalchemy import Connection, text

from gis.audit.profile import Profile
from gis.audit.report import Violation

__all__ = ["buildings_split", "organizations", "police_posts", "post_distances"]

# buildings partly in a grid, found grid by grid
_SPLIT = text("""
WITH partial AS (
    SELECT b.id, g.code, g.community_code,
           ST_Area(ST_Intersection(b.geom, g.geom)::geography) / ST_Area(b.geom::geography)
               AS share
    FROM audit_grid g JOIN audit_building b ON b.geom && g.geom
    WHERE ST_Intersects(g.geom, b.geom) AND NOT ST_Covers(g.geom, b.geom)
      AND ST_Relate(b.geom, g.geom, '2********')
)
SELECT p.id, b.households, p.code, p.community_code, p.share, ST_AsGeoJSON(b.geom, 7) AS geojson
FROM partial p JOIN audit_building b USING (id)
WHERE p.id IN (SELECT id FROM partial GROUP BY id HAVING count(*) >= 2)
ORDER BY p.id, p.share DESC
""")

_ORGS = text("""
WITH in_community AS (
    SELECT DISTINCT ON (o.id) o.id, c.code AS community
    FROM audit_community c JOIN organization o ON o.geom && c.geom
    WHERE ST_Intersects(c.geom, o.geom)
    ORDER BY o.id, c.code
), in_grid AS (
    SELECT o.id, g.code
    FROM (SELECT code, geom FROM audit_grid UNION ALL SELECT code, geom FROM audit_other_grid) g
    JOIN organization o ON o.geom && g.geom
    WHERE ST_Intersects(g.geom, o.geom)
), grids_of AS (
    SELECT id, array_agg(DISTINCT code ORDER BY code) AS codes FROM in_grid GROUP BY id
), chosen AS (
    SELECT id FROM in_community
    UNION SELECT id FROM organization WHERE grid_code IN (SELECT code FROM audit_grid)
)
SELECT o.id, o.name, o.grid_code, ST_AsGeoJSON(o.geom, 7) AS geojson,
       coalesce(ic.community, ag.community_code) AS community,
       coalesce(go.codes, ARRAY[]::varchar[]) AS stands_in
FROM chosen JOIN organization o USING (id)
LEFT JOIN in_community ic USING (id)
LEFT JOIN grids_of go USING (id)
LEFT JOIN audit_grid ag ON ag.code = o.grid_code
""")

_POSTS_PER_GRID = text("""
SELECT g.code, g.community_code, count(p.code) AS posts,
       array_remove(array_agg(p.code ORDER BY p.code), NULL) AS post_codes
FROM audit_grid g LEFT JOIN police_post p ON p.grid_code = g.code
GROUP BY g.code, g.community_code
HAVING count(p.code) <> :wanted
ORDER BY g.code
""")

_POSTS_MISPLACED = text("""
SELECT p.code, p.grid_code, g.community_code, ST_AsGeoJSON(p.geom, 7) AS geojson,
       ST_Distance(p.geom::geography, g.geom::geography) AS distance
FROM police_post p JOIN audit_grid g ON g.code = p.grid_code
WHERE NOT ST_Intersects(g.geom, p.geom)
""")

_POSTS_IDLE = text("""
SELECT p.code, p.grid_code, c.code AS community, ST_AsGeoJSON(p.geom, 7) AS geojson
FROM audit_community c JOIN police_post p ON p.geom && c.geom AND ST_Intersects(c.geom, p.geom)
WHERE p.grid_code IS NULL
   OR NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = p.grid_code AND g.valid_to IS NULL)
""")

# built-up land beyond the service radius of every post, measured on the spheroid
# (geography): the same answer whatever region is audited — a county alone, its
# province, or a county task of the distributed audit (a UTM zone chosen per scope would
# move buildings near the radius in or out)
_POSTS_NEAR = [
    """CREATE TEMP TABLE audit_post_near ON COMMIT DROP AS
       SELECT p.geom::geography AS geog FROM police_post p
       WHERE p.geom && ST_Expand((SELECT ST_Extent(geom) FROM audit_community)::geometry,
                                 :dx, :dy)""",
    "CREATE INDEX ON audit_post_near USING gist (geog)",
    "ANALYZE audit_post_near",
]
_POLICE_BLIND = text("""
WITH far AS (
    SELECT b.geom, b.community FROM audit_building b
    WHERE NOT EXISTS (SELECT 1 FROM audit_post_near p
                      WHERE ST_DWithin(p.geog, b.spot::geography, :radius))
), areas AS (
    SELECT community, (ST_Dump(ST_Union(ST_Buffer(geom::geography, 30)::geometry))).geom AS geom
    FROM far GROUP BY community
)
SELECT community, ST_AsGeoJSON(geom, 7) AS geojson, ST_Area(geom::geography) AS area
FROM areas ORDER BY community
""")

# household-weighted distance from homes to their grid's nearest post
_DISTANCES = text("""
WITH homes AS (
    SELECT b.id, min(b.households) AS h, min(h.community_code) AS community,
           min(ST_Distance(p.geom::geography, b.spot::geography)) AS d
    FROM audit_home h JOIN audit_building b USING (id)
    JOIN police_post p ON p.grid_code = h.grid_code
    WHERE b.households > 0
    GROUP BY b.id
), ranked AS (
    SELECT community, h, d,
           sum(h) OVER (PARTITION BY community ORDER BY d
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum,
           sum(h) OVER (PARTITION BY community) AS total
    FROM homes WHERE d IS NOT NULL
)
SELECT community, sum(h * d) / sum(h) AS mean, max(d) AS max,
       min(d) FILTER (WHERE cum >= 0.95 * total) AS p95
FROM ranked GROUP BY community
""")


def _reach(conn: Connection, metres: float) -> dict[str, float]:
    """A box (degrees) that surely holds every point within ``metres`` in the scope:
    longitude degrees are widest at the scope's latitude farthest from the equator."""
    ymin, ymax = conn.execute(
        text("SELECT ST_YMin(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM audit_community) s")
    ).one()
    lat = min(max(abs(ymin or 0.0), abs(ymax or 0.0)) + 0.1, 89.0)
    return {
        "radius": metres,
        "dx": 1.01 * metres / (111_320 * math.cos(math.radians(lat))),
        "dy": 1.01 * metres / 110_570,
    }


def buildings_split(conn: Connection, profile: Profile) -> list[Violation]:
    rule = profile.rules.buildings_split
    pieces: dict[int, list[tuple[str, str, float, int, str]]] = {}
    for row in conn.execute(_SPLIT):
        if row.share >= rule.min_share:
            pieces.setdefault(row.id, []).append(
                (row.code, row.community_code, row.share, row.households, row.geojson)
            )
    found = []
    for building, parts in pieces.items():
        if len(parts) < 2:
            continue
        shares = ", ".join(f"{code} {share:.0%}" for code, _, share, _, _ in parts)
        found.append(
            Violation(
                rule="buildings_split",
                check="building_split",
                severity=rule.severity,
                community=parts[0][1],
                grids=[p[0] for p in parts],
                message=f"building {building} is cut by a grid boundary ({shares}); "
                "move the boundary so the building's households stay in one grid",
                households=parts[0][3],
                measures={"building": building, "shares": [round(p[2], 4) for p in parts]},
                geometry=json.loads(parts[0][4]),
            )
        )
    return found


def organizations(conn: Connection, profile: Profile) -> list[Violation]:
    rule = profile.rules.organizations
    found = []
    for row in conn.execute(_ORGS):
        stands_in = list(row.stands_in)
        where = json.loads(row.geojson)
        if not stands_in:
            found.append(
                Violation(
                    rule="organizations",
                    check="outside_every_grid",
                    severity=rule.severity,
                    community=row.community,
                    grids=[row.grid_code] if row.grid_code else [],
                    message=f"organization {row.id} ({row.name}) stands in no grid; "
                    "draw the grid that covers it (兜底管理)",
                    measures={"organization": row.id},
                    geometry=where,
                )
            )
        elif row.grid_code is None:
            found.append(
                Violation(
                    rule="organizations",
                    check="unassigned",
                    severity=rule.severity,
                    community=row.community,
                    grids=stands_in[:1],
                    message=f"organization {row.id} ({row.name}) has no grid; "
                    f"it stands in {stands_in[0]}",
                    measures={"organization": row.id, "stands_in": stands_in},
                    geometry=where,
                )
            )
        elif row.grid_code not in stands_in:
            found.append(
                Violation(
                    rule="organizations",
                    check="wrong_grid",
                    severity=rule.severity,
                    community=row.community,
                    grids=[row.grid_code, *stands_in],
                    message=f"organization {row.id} ({row.name}) is assigned to grid "
                    f"{row.grid_code} but stands in {', '.join(stands_in)}",
                    measures={
                        "organization": row.id,
                        "stands_in": stands_in,
                        "assigned_to": row.grid_code,
                    },
                    geometry=where,
                )
            )
    return found


def police_posts(conn: Connection, profile: Profile) -> list[Violation]:
    rule = profile.rules.police_posts
    found = []
    for row in conn.execute(_POSTS_PER_GRID, {"wanted": rule.posts_per_grid}):
        none = row.posts == 0
        found.append(
            Violation(
                rule="police_posts",
                check="no_post" if none else "several_posts",
                severity=rule.severity,
                community=row.community_code,
                grids=[row.code],
                message=(
                    f"grid {row.code} has no police post (一网格一警务站)"
                    if none
                    else f"grid {row.code} is served by {row.posts} police posts "
                    f"({', '.join(row.post_codes)}); the profile wants {rule.posts_per_grid}"
                ),
                measures={"posts": row.posts, "post_codes": list(row.post_codes)},
            )
        )
    for row in conn.execute(_POSTS_MISPLACED):
        found.append(
            Violation(
                rule="police_posts",
                check="post_outside_grid",
                severity=rule.severity,
                community=row.community_code,
                grids=[row.grid_code],
                message=f"police post {row.code} stands {row.distance:,.0f} m outside grid "
                f"{row.grid_code}, which it serves",
                measures={"post": row.code, "distance_m": round(row.distance, 1)},
                geometry=json.loads(row.geojson),
            )
        )
    for row in conn.execute(_POSTS_IDLE):
        found.append(
            Violation(
                rule="police_posts",
                check="post_without_grid",
                severity=rule.severity,
                community=row.community,
                message=f"police post {row.code} serves no live grid"
                + (f" (its grid {row.grid_code} is retired or unknown)" if row.grid_code else ""),
                measures={"post": row.code},
                geometry=json.loads(row.geojson),
            )
        )
    reach = _reach(conn, rule.service_radius_m)
    for sql in _POSTS_NEAR:
        conn.execute(text(sql), reach)
    for row in conn.execute(_POLICE_BLIND, reach):
        found.append(
            Violation(
                rule="police_posts",
                check="police_blind_spot",
                severity="warning",
                community=row.community,
                message=f"community {row.community}: built-up land of {row.area:,.0f} m² lies "
                f"farther than {rule.service_radius_m:,.0f} m from every police post",
                area_m2=round(row.area, 1),
                geometry=json.loads(row.geojson),
            )
        )
    return found


def post_distances(conn: Connection) -> dict[str, tuple[float, float, float]]:
    """Per community: household-weighted (mean, p95, max) metres from home to grid's post."""
    return {
        row.community: (float(row.mean), float(row.p95), float(row.max))
        for row in conn.execute(_DISTANCES)
    }
