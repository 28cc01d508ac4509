"""Which communities the audit's blind-spot and overlap checks may skip, and why.

Two certificates, both exact (see ``gis.audit.tiling`` for the boundary chains):

- *tiled*: a community's grids tile it — no blind spot, no overlap inside it, nothing
  outside it. Its grids need no union and no pairwise comparison.
- *separated*: every grid of the community lies inside it, and the community and each
  region above it (up to the scope) are clean — inside their parent, their interior apart
  from their siblings'. The grids of two separated communities cannot overlap.

Everything is read in one query (the chains of grids, communities and the regions above
them, and the region tree) and decided in one pass of :func:`gis.audit.tiling.untiled`;
the few communities and regions the chains cannot certify (defects, or edges not noded
alike) are checked the exact way in one more query.

The grids left over — those of communities not tiled, or not separated from their
neighbours — are then searched for pairs whose interiors meet
(:meth:`Certificate.overlapping`): a spatial index (shapely's STRtree) for the pairs whose
boxes meet, then GEOS's exact DE-9IM test ``2********`` (interiors meet in an area), the
same test PostGIS's ST_Relate makes. PostgreSQL measures only the pairs found.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, text

import shapely

from gis.audit.tiling import untiled_shapes

__all__ = ["Certificate", "certified"]

# Boundary chains (owner, oriented WKB, sign) and the region tree (rows without WKB):
# - each grid as a part (+1) of its community, each community as the whole (-1);
# - each community, as audited, as a part of its parent region;
# - one level up, for every region of the scope with children: its children that are
#   not communities as parts, itself as the whole. Children of a tiled region lie inside
#   it, their interiors apart; a region built from an invalid geometry is never tiled.
# Owners do not clash: community codes and codes of regions above them differ.
# A one-part multipolygon is sent as its polygon: one without holes is then a single
# ring, which gis.audit.tiling reads without taking it apart.
_ORIENTED = """ST_AsBinary(ST_ForcePolygonCCW(
    CASE WHEN ST_NumGeometries(g.geom) = 1 THEN ST_GeometryN(g.geom, 1) ELSE g.geom END))"""
_CHAINS = f"""
SELECT 'grid' AS chain, community_code AS owner, NULL AS parent, true AS valid,
       code AS grid, {_ORIENTED} AS wkb, 1 AS sign
FROM audit_grid g
UNION ALL
SELECT 'community', g.code, r.parent_code, true, NULL, {_ORIENTED}, -1
FROM audit_community g JOIN audit_region r USING (code)
UNION ALL
SELECT 'region', r.parent_code, NULL, p.valid AND r.valid, NULL, {_ORIENTED}, 1
FROM audit_region r JOIN audit_region p ON p.code = r.parent_code
JOIN region g ON g.code = r.code
WHERE r.level <> 'community'
UNION ALL
SELECT 'region', r.code, r.parent_code, r.valid, NULL, {_ORIENTED}, -1
FROM audit_region r JOIN region g ON g.code = r.code
WHERE r.level <> 'community'
"""

# The chains as one row of binary COPY, aggregated in one scan so that the fields stay
# aligned: every WKB concatenated as raw bytes (some MB that bytea's hex text would
# double, and the client decode), their lengths (int4), and the other columns as JSON.
_CHAINS_COPY = f"""COPY (
SELECT string_agg(wkb, ''), string_agg(int4send(length(wkb)), ''),
       json_agg(json_build_array(chain, owner, parent, valid, grid, sign))
FROM ({_CHAINS}) c
) TO STDOUT (FORMAT binary)"""

# The exact checks, for what the chains could not certify:
# - communities (not tiled) with a grid reaching out of them;
# - children of the regions whose chains do not cancel: a child is still clean when it
#   lies inside the region and its interior meets no sibling's (inside the scope's own
#   region need not be checked: nothing above it is relied on).
_EXACT = text("""
WITH child AS (
    SELECT r.parent_code AS parent, r.code, coalesce(c.geom, g.geom) AS geom
    FROM audit_region r JOIN region g ON g.code = r.code
    LEFT JOIN audit_community c ON c.code = r.code
    WHERE r.parent_code = ANY(:regions)
)
SELECT DISTINCT 'spilling' AS what, g.community_code AS code FROM audit_grid g
JOIN audit_community c ON c.code = g.community_code
WHERE g.community_code = ANY(:communities) AND NOT ST_CoveredBy(g.geom, c.geom)
UNION
SELECT 'unclean', k.code FROM child k JOIN region p ON p.code = k.parent
JOIN audit_region up ON up.code = k.parent AND up.parent_code IS NOT NULL
WHERE NOT ST_CoveredBy(k.geom, p.geom)
UNION
SELECT 'unclean', unnest(ARRAY[a.code, b.code]) FROM child a JOIN child b
  ON a.parent = b.parent AND a.code < b.code AND a.geom && b.geom
WHERE ST_Relate(a.geom, b.geom, '2********')
""")


_INTERIORS_MEET = "2********"


@dataclass(frozen=True)
class Certificate:
    """The certified communities, and the scope's grids (codes, communities, shapes)."""

    tiled: list[str]
    separated: list[str]
    codes: NDArray[np.object_]
    communities: NDArray[np.object_]
    shapes: NDArray[np.object_]

    def overlapping(self) -> tuple[list[str], list[str]]:
        """Code pairs of grids whose interiors meet, among the pairs the certificates do
        not rule out: two grids of a community not tiled, or of two communities not both
        separated. Grids sharing a code are not compared (as in SQL, ``a.code < b.code``).
        """
        tiled, separated = set(self.tiled), set(self.separated)
        open_inside = np.array([c not in tiled for c in self.communities], dtype=bool)
        open_across = np.array([c not in separated for c in self.communities], dtype=bool)
        searched = np.flatnonzero(open_inside | open_across)
        if not len(searched):
            return [], []
        found, other = shapely.STRtree(self.shapes).query(self.shapes[searched])
        one = searched[found]
        same = self.communities[one] == self.communities[other]
        keep = np.where(same, open_inside[one], open_across[one] | open_across[other])
        keep &= self.codes[one] != self.codes[other]
        pairs = np.unique(np.sort(np.stack([one[keep], other[keep]], axis=1), axis=1), axis=0)
        a, b = self.shapes[pairs[:, 0]], self.shapes[pairs[:, 1]]
        meet = pairs[shapely.relate_pattern(a, b, _INTERIORS_MEET)]
        return self.codes[meet[:, 0]].tolist(), self.codes[meet[:, 1]].tolist()


def _copy_row(conn: Connection, sql: str) -> list[bytes | None]:
    """The fields of the one row of ``COPY (…) TO STDOUT (FORMAT binary)``."""
    out = io.BytesIO()
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.copy_expert(sql, out)
    data = out.getbuffer()
    # signature (11 bytes), flags, header extension; then the tuple's field count
    (extension,) = struct.unpack_from(">i", data, 15)
    at = 19 + extension
    (count,) = struct.unpack_from(">h", data, at)
    at += 2
    fields: list[bytes | None] = []
    for _ in range(count):
        (size,) = struct.unpack_from(">i", data, at)
        at += 4
        fields.append(None if size < 0 else bytes(data[at : at + size]))
        at += max(size, 0)
    return fields


def certified(conn: Connection) -> Certificate:
    """The certificates for the scope's temporary tables (see the module docstring)."""
    empty = np.empty(0, dtype=object)
    blob, lengths, rows = _copy_row(conn, _CHAINS_COPY)
    if blob is None or lengths is None or rows is None:
        return Certificate([], [], empty, empty, empty)
    ends = np.cumsum(np.frombuffer(lengths, dtype=">i4")).tolist()
    wkbs = np.empty(len(ends), dtype=object)
    wkbs[:] = [blob[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    shapes = shapely.from_wkb(wkbs)
    chain, owner, up, valid, grid, sign = (
        np.asarray(column, dtype=object) for column in zip(*json.loads(rows), strict=True)
    )
    whole = sign < 0
    parent = dict(zip(owner[whole], up[whole], strict=True))
    is_community = chain == "community"
    communities = set(owner[is_community])
    invalid = set(owner[~valid.astype(bool)])
    # each community once more, as a part of its parent (the scope itself has none)
    child = is_community & np.array([p is not None for p in up], dtype=bool)
    failed = untiled_shapes(
        np.concatenate([owner, up[child]]).tolist(),
        np.concatenate([shapes, shapes[child]]),
        np.concatenate([sign, np.ones(int(child.sum()), dtype=object)]).tolist(),
    )
    tiled = communities - failed
    unclean = {code for code, above in parent.items() if above in invalid}
    exact = conn.execute(
        _EXACT,
        {
            "communities": sorted(communities - tiled),
            "regions": sorted(failed - communities - invalid),
        },
    ).all()
    spilling = {code for what, code in exact if what == "spilling"}
    unclean |= {code for what, code in exact if what == "unclean"}

    def nested(code: str | None) -> bool:
        while code is not None and parent.get(code) is not None:
            if code in unclean:
                return False
            code = parent[code]
        return True

    is_grid = chain == "grid"
    return Certificate(
        tiled=sorted(tiled),
        separated=sorted(c for c in communities - spilling if nested(c)),
        codes=grid[is_grid],
        communities=owner[is_grid],
        shapes=shapes[is_grid],
    )
