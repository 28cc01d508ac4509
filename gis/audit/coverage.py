"""全面覆盖、不留空白、不交叉重叠: blind spots, overlaps, spill, geometry and codes.

Areas are geodesic (``::geography``). A piece is a sliver — a warning, not an error —
when its area is under the profile's ``sliver_area_m2`` or its mean width
(2 × area / perimeter) under ``sliver_width_m``. Pieces under 1e-6 m² are numerical
noise and are not reported.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, text

from gis.audit.certify import read_chains
from gis.audit.profile import Profile
from gis.audit.report import Violation

__all__ = ["blind_spots", "codes", "geometry", "overlaps", "spill"]

NOISE_M2 = 1e-6

# Each community's grids unioned once, for its blind spots (and, in the exact reference,
# its overlaps). A tiled community (see ``gis.audit.certify``) needs no union: its grids'
# union is the community itself.
_COVER = text("""
CREATE TEMP TABLE audit_cover ON COMMIT DROP AS
SELECT c.code, c.geom AS community, ST_Union(g.geom) AS grids,
       coalesce(sum(ST_Area(g.geom)), 0) AS parts_area, false AS tiled
FROM audit_community c LEFT JOIN audit_grid g ON g.community_code = c.code
WHERE c.code <> ALL(:tiled)
GROUP BY c.code, c.geom
UNION ALL
SELECT code, geom, geom, ST_Area(geom), true FROM audit_community WHERE code = ANY(:tiled)
""")

# The pairs of grid codes to measure (``audit_pair``), as found by the certificates'
# search (``gis.audit.certify``), each unordered pair once.
_PAIRS = text("""
CREATE TEMP TABLE audit_pair ON COMMIT DROP AS
SELECT DISTINCT least(x, y) AS a, greatest(x, y) AS b
FROM unnest(CAST(:x AS text[]), CAST(:y AS text[])) AS p(x, y);
ANALYZE audit_pair
""")

# The same pairs, the exact reference's way, with no certificate: grids compared pair by
# pair inside a community whose grids' (planar) areas add up to more than their union,
# and across two communities whose unions' interiors meet.
_REFERENCE_PAIRS = text("""
CREATE INDEX audit_cover_grids ON audit_cover USING gist (grids);
ANALYZE audit_cover;
CREATE TEMP TABLE audit_pair ON COMMIT DROP AS
WITH inside AS (
    SELECT code FROM audit_cover WHERE parts_area - ST_Area(grids) > :eps
), across AS (
    SELECT a.code AS a, b.code AS b
    FROM audit_cover a JOIN audit_cover b ON a.grids && b.grids AND a.code < b.code
    WHERE ST_Relate(a.grids, b.grids, '2********')
), involved AS (
    SELECT code FROM inside UNION SELECT a FROM across UNION SELECT b FROM across
)
SELECT DISTINCT a.code AS a, b.code AS b
FROM audit_grid a JOIN audit_grid b ON a.geom && b.geom AND a.code < b.code
WHERE a.community_code IN (SELECT code FROM involved)
  AND b.community_code IN (SELECT code FROM involved)
  AND CASE WHEN a.community_code = b.community_code
           THEN a.community_code IN (SELECT code FROM inside)
           ELSE (least(a.community_code, b.community_code),
                 greatest(a.community_code, b.community_code))
                IN (SELECT a, b FROM across) END
  AND ST_Relate(a.geom, b.geom, '2********');
ANALYZE audit_pair
""")

_BLIND_SPOTS = text("""
WITH pieces AS (
    SELECT code, community,
           (ST_Dump(CASE WHEN grids IS NULL THEN community
                         ELSE ST_Difference(community, grids) END)).geom AS geom
    FROM audit_cover WHERE NOT tiled
)
SELECT code, ST_AsGeoJSON(geom, 7) AS geojson, ST_Area(geom::geography) AS area,
       ST_Perimeter(geom::geography) AS perimeter,
       ST_Area(community::geography) AS community_area
FROM pieces
WHERE ST_Dimension(geom) = 2 AND ST_Area(geom::geography) > :noise
ORDER BY code, area DESC
""")

# the overlap of each pair of ``audit_pair`` (every grid of those codes: a code may be
# duplicated), and of grids with grids outside the scope
_OVERLAPS = text("""
WITH candidates AS (
    SELECT a.code AS a, b.code AS b, a.community_code AS community, a.geom AS ga, b.geom AS gb
    FROM audit_pair p JOIN audit_grid a ON a.code = p.a JOIN audit_grid b ON b.code = p.b
    UNION ALL
    SELECT a.code, b.code, a.community_code, a.geom, b.geom
    FROM audit_grid a JOIN audit_other_grid b ON a.geom && b.geom
), pairs AS (
    SELECT a, b, community, ST_CollectionExtract(ST_Intersection(ga, gb), 3) AS geom,
           ST_CoveredBy(ga, gb) OR ST_CoveredBy(gb, ga) AS nested
    FROM candidates WHERE ST_Relate(ga, gb, '2********')
)
SELECT a, b, community, nested, ST_AsGeoJSON(geom, 7) AS geojson,
       ST_Area(geom::geography) AS area, ST_Perimeter(geom::geography) AS perimeter
FROM pairs WHERE ST_Area(geom::geography) > :noise
ORDER BY a, b
""")

# planar (degree²) area difference that counts as an overlap: far below 1e-6 m²,
# far above the rounding of a sum of areas of identical edges
EPS_DEG2 = 5e-17


def _cover(conn: Connection, certify: bool = True) -> None:
    """Fill ``audit_cover`` and ``audit_pair`` once per audit. ``certify=False`` unions
    every community and finds the pairs in SQL (the exact reference the certificates are
    tested against)."""
    if conn.execute(text("SELECT to_regclass('pg_temp.audit_cover')")).scalar() is not None:
        return
    if not certify:
        conn.execute(_COVER, {"tiled": []})
        conn.execute(_REFERENCE_PAIRS, {"eps": EPS_DEG2})
        return
    chains = read_chains(conn)
    # the rest of the certificates and the pair search run here while PostgreSQL unions
    # the communities that are not tiled
    with ThreadPoolExecutor(max_workers=1) as pool:
        certificate = pool.submit(chains.certify)
        conn.execute(_COVER, {"tiled": chains.tiled})
        x, y = certificate.result().overlapping
    conn.execute(_PAIRS, {"x": x, "y": y})


_SPILL = text("""
SELECT g.code, g.community_code,
       ST_AsGeoJSON(s.geom, 7) AS geojson, ST_Area(s.geom::geography) AS area,
       (SELECT coalesce(json_agg(r.code ORDER BY r.code), '[]'::json) FROM region r
         WHERE r.level = 'community' AND r.code <> g.community_code
           AND r.geom && g.geom AND ST_Relate(r.geom, g.geom, '2********')) AS into
FROM audit_grid g
JOIN audit_community c ON c.code = g.community_code
CROSS JOIN LATERAL (
    SELECT ST_CollectionExtract(ST_Difference(g.geom, c.geom), 3) AS geom) s
WHERE NOT ST_CoveredBy(g.geom, c.geom) AND ST_Area(s.geom::geography) > :noise
ORDER BY g.code
""")

_GEOMETRY = text("""
SELECT code, community_code, valid, ST_IsEmpty(raw_geom) AS empty,
       ST_NumGeometries(raw_geom) AS parts,
       CASE WHEN NOT valid THEN ST_IsValidReason(raw_geom) END AS reason,
       CASE WHEN NOT valid THEN ST_AsGeoJSON((ST_IsValidDetail(raw_geom)).location, 7) END
           AS location
FROM audit_grid
WHERE NOT valid OR ST_IsEmpty(raw_geom) OR ST_NumGeometries(raw_geom) > 1
ORDER BY code
""")

_COMMUNITY_GEOMETRY = text("""
SELECT code, ST_IsValidReason(raw_geom) AS reason,
       ST_AsGeoJSON((ST_IsValidDetail(raw_geom)).location, 7) AS location
FROM audit_community WHERE NOT valid ORDER BY code
""")

_CODES = text("""
SELECT code, community_code,
       code !~ ('^[0-9]{12}[0-9]{' || CAST(:digits AS text) || '}$') AS bad_format,
       left(code, 12) <> community_code AS bad_prefix,
       count(*) OVER (PARTITION BY code) > 1 AS duplicate
FROM audit_grid
""")


def _sliver(area: float, perimeter: float, rule: Any) -> bool:
    width = 2 * area / perimeter if perimeter > 0 else 0.0
    return bool(area < rule.sliver_area_m2 or width < rule.sliver_width_m)


def blind_spots(conn: Connection, profile: Profile, certify: bool = True) -> list[Violation]:
    rule = profile.rules.blind_spots
    found = []
    _cover(conn, certify)
    for row in conn.execute(_BLIND_SPOTS, {"noise": NOISE_M2}):
        sliver = _sliver(row.area, row.perimeter, rule)
        share = row.area / row.community_area if row.community_area else 0.0
        found.append(
            Violation(
                rule="blind_spots",
                check="sliver_gap" if sliver else "blind_spot",
                severity="warning" if sliver else rule.severity,
                community=row.code,
                message=(
                    f"community {row.code}: {row.area:,.1f} m² ({share:.2%} of the community) "
                    "is in no grid"
                    + (
                        " — a sliver under the tolerance"
                        if sliver
                        else "; give it to a neighbouring grid (兜底)"
                    )
                ),
                area_m2=round(row.area, 6),
                measures={"share": round(share, 6)},
                geometry=json.loads(row.geojson),
            )
        )
    return found


def overlaps(conn: Connection, profile: Profile, certify: bool = True) -> list[Violation]:
    rule = profile.rules.overlaps
    found = []
    _cover(conn, certify)
    for row in conn.execute(_OVERLAPS, {"noise": NOISE_M2}):
        sliver = _sliver(row.area, row.perimeter, rule)
        what = "lies inside" if row.nested else "overlaps"
        found.append(
            Violation(
                rule="overlaps",
                check="sliver_overlap" if sliver else ("nested_grid" if row.nested else "overlap"),
                severity="warning" if sliver else rule.severity,
                community=row.community,
                grids=[row.a, row.b],
                message=f"grid {row.a} {what} grid {row.b} over {row.area:,.1f} m²"
                + (" — a sliver under the tolerance" if sliver else "; redraw the shared boundary"),
                area_m2=round(row.area, 6),
                measures={"nested": row.nested},
                geometry=json.loads(row.geojson),
            )
        )
    return found


def spill(conn: Connection, profile: Profile) -> list[Violation]:
    rule = profile.rules.spill
    found = []
    for row in conn.execute(_SPILL, {"noise": NOISE_M2}):
        small = row.area < rule.sliver_area_m2
        into = list(row.into)
        found.append(
            Violation(
                rule="spill",
                check="spill",
                severity="warning" if small else rule.severity,
                community=row.community_code,
                grids=[row.code],
                message=(
                    f"grid {row.code} reaches {row.area:,.1f} m² outside community "
                    f"{row.community_code}" + (f", into {', '.join(into)}" if into else "")
                ),
                area_m2=round(row.area, 6),
                measures={"into": into},
                geometry=json.loads(row.geojson),
            )
        )
    return found


def geometry(conn: Connection, profile: Profile) -> list[Violation]:
    rule = profile.rules.geometry
    found = []
    for row in conn.execute(_GEOMETRY):
        if not row.valid:
            found.append(
                Violation(
                    rule="geometry",
                    check="invalid",
                    severity=rule.severity,
                    community=row.community_code,
                    grids=[row.code],
                    message=f"grid {row.code}: invalid geometry ({row.reason}); repair it",
                    measures={"reason": row.reason},
                    geometry=json.loads(row.location) if row.location else None,
                )
            )
        if row.empty:
            found.append(
                Violation(
                    rule="geometry",
                    check="empty",
                    severity=rule.severity,
                    community=row.community_code,
                    grids=[row.code],
                    message=f"grid {row.code} has an empty geometry",
                )
            )
        elif row.parts > 1 and not rule.allow_multipart:
            found.append(
                Violation(
                    rule="geometry",
                    check="multipart",
                    severity=rule.severity,
                    community=row.community_code,
                    grids=[row.code],
                    message=f"grid {row.code} has {row.parts} separate parts; a grid is one piece",
                    measures={"parts": row.parts},
                )
            )
    for row in conn.execute(_COMMUNITY_GEOMETRY):
        found.append(
            Violation(
                rule="geometry",
                check="invalid_community",
                severity=rule.severity,
                community=row.code,
                message=f"community {row.code}: invalid boundary ({row.reason}); the audit "
                "used a repaired copy — fix the community polygon",
                measures={"reason": row.reason},
                geometry=json.loads(row.location) if row.location else None,
            )
        )
    return found


def codes(conn: Connection, profile: Profile) -> list[Violation]:
    rule = profile.rules.codes
    found = []
    seen_duplicates: set[str] = set()
    for row in conn.execute(_CODES, {"digits": rule.sequence_digits}):
        problems = []
        if row.bad_format:
            problems.append(f"is not 12 + {rule.sequence_digits} digits")
        if row.bad_prefix:
            problems.append(f"does not start with its community's code {row.community_code}")
        if row.duplicate and row.code not in seen_duplicates:
            seen_duplicates.add(row.code)
            problems.append("is used by more than one grid")
        if problems:
            found.append(
                Violation(
                    rule="codes",
                    check="code",
                    severity=rule.severity,
                    community=row.community_code,
                    grids=[row.code],
                    message=f"grid code {row.code} " + "; ".join(problems),
                )
            )
    return found
