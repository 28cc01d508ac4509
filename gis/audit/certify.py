"""Which communities the audit's blind-spot and overlap checks may skip, and why.

Two certificates, both exact (see ``gis.audit.tiling`` for the boundary chains):

- *tiled*: a community's grids tile it — no blind spot, no overlap inside it, nothing
  outside it. Its grids need no union and no pairwise comparison.
- *separated*: every grid of the community lies inside it, and the community and each
  region above it (up to the scope) are clean — inside their parent, their interior apart
  from their siblings'. The grids of two separated communities cannot overlap.

Everything is read in one query (the chains of grids, communities and the regions above
them, and the region tree, :func:`read_chains`) and the tilings decided in one pass of
:func:`gis.audit.tiling.untiled`. The rest is decided here, with GEOS's exact predicates
(the ones PostGIS's ST_CoveredBy and ST_Relate make), while PostgreSQL unions the
communities that are not tiled (:meth:`Chains.certify`):

- the few communities and regions the chains cannot certify (defects, or edges not noded
  alike) are checked the exact way: is every grid inside its community, is every child
  inside its region and its interior apart from its siblings';
- the grids left over — those of communities not tiled, or not separated from their
  neighbours — are searched for pairs whose interiors meet: a spatial index (shapely's
  STRtree) for the pairs whose boxes meet, then the DE-9IM test ``2********``
  (interiors meet in an area). PostgreSQL measures only the pairs found.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection

import shapely

from gis.audit.tiling import untiled_shapes

__all__ = ["Certificate", "Chains", "certified", "read_chains"]

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
# double, and the client decode), their lengths (int4), and the other columns as JSON
# arrays.
_CHAINS_COPY = f"""COPY (
SELECT string_agg(wkb, ''), string_agg(int4send(length(wkb)), ''),
       json_build_array(array_agg(chain), array_agg(owner), array_agg(parent),
                        array_agg(valid), array_agg(grid), array_agg(sign))
FROM ({_CHAINS}) c
) TO STDOUT (FORMAT binary)"""

_INTERIORS_MEET = "2********"


@dataclass(frozen=True)
class Certificate:
    """The certified communities, and the code pairs of grids whose interiors meet."""

    tiled: list[str]
    separated: list[str]
    overlapping: tuple[list[str], list[str]]


@dataclass(frozen=True)
class Chains:
    """What :func:`read_chains` read: one row per chain polygon, and which communities
    their grids tile."""

    chain: NDArray[np.object_]
    owner: NDArray[np.object_]
    parent_of: NDArray[np.object_]
    grid: NDArray[np.object_]
    shapes: NDArray[np.object_]
    whole: NDArray[np.bool_]
    parent: dict[str, str | None]
    communities: set[str]
    invalid: set[str]
    failed: set[str]

    @property
    def tiled(self) -> list[str]:
        return sorted(self.communities - self.failed)

    def certify(self) -> Certificate:
        """The separated communities (exact checks where the chains failed) and the
        overlapping pairs of grids the certificates leave over."""
        unclean = {code for code, above in self.parent.items() if above in self.invalid}
        unclean |= self._unclean(self.failed - self.communities - self.invalid)
        spilling = self._spilling(self.communities & self.failed)

        def nested(code: str | None) -> bool:
            while code is not None and self.parent.get(code) is not None:
                if code in unclean:
                    return False
                code = self.parent[code]
            return True

        separated = sorted(c for c in self.communities - spilling if nested(c))
        return Certificate(self.tiled, separated, self._overlapping(set(separated)))

    def _spilling(self, communities: set[str]) -> set[str]:
        """Those of ``communities`` with a grid not inside them."""
        of = {o: i for i, o in enumerate(self.owner) if self.chain[i] == "community"}
        grids = np.array(
            [c == "grid" and o in communities for c, o in zip(self.chain, self.owner, strict=True)],
            dtype=bool,
        )
        if not grids.any():
            return set()
        homes = self.shapes[[of[o] for o in self.owner[grids]]]
        shapely.prepare(homes)
        return set(self.owner[grids][~shapely.covers(homes, self.shapes[grids])])

    def _unclean(self, regions: set[str]) -> set[str]:
        """Children of ``regions`` not inside their region (the scope's own children need
        not be: nothing above it is relied on), or whose interior meets a sibling's."""
        if not regions:
            return set()
        shape: dict[str, Any] = {}  # each region, and each community as audited
        for kind, code, whole, geom in zip(
            self.chain, self.owner, self.whole, self.shapes, strict=True
        ):
            if whole and kind != "grid":
                shape[code] = geom
        children = [c for c, up in self.parent.items() if up in regions]
        up = np.array([self.parent[c] for c in children], dtype=object)
        mine = np.array([shape[c] for c in children], dtype=object)
        inner = np.array([self.parent.get(str(u)) is not None for u in up], dtype=bool)
        parents = np.array([shape[u] for u in up], dtype=object)
        out = ~shapely.covers(parents, mine) & inner
        found, other = shapely.STRtree(mine).query(mine)
        pairs = (found < other) & (up[found] == up[other])
        found, other = found[pairs], other[pairs]
        meet = shapely.relate_pattern(mine[found], mine[other], _INTERIORS_MEET)
        codes = np.array(children, dtype=object)
        return {*codes[out], *codes[found[meet]], *codes[other[meet]]}

    def _overlapping(self, separated: set[str]) -> tuple[list[str], list[str]]:
        """Code pairs of grids whose interiors meet, among the pairs the certificates do
        not rule out: two grids of a community not tiled, or of two communities not both
        separated. Grids sharing a code are not compared (as in SQL, ``a.code < b.code``).
        """
        is_grid = self.chain == "grid"
        codes, communities, shapes = self.grid[is_grid], self.owner[is_grid], self.shapes[is_grid]
        open_inside = np.array([c in self.failed for c in communities], dtype=bool)
        open_across = np.array([c not in separated for c in communities], dtype=bool)
        searched = np.flatnonzero(open_inside | open_across)
        if not len(searched):
            return [], []
        found, other = shapely.STRtree(shapes).query(shapes[searched])
        one = searched[found]
        same = communities[one] == communities[other]
        keep = np.where(same, open_inside[one], open_across[one] | open_across[other])
        keep &= codes[one] != codes[other]
        pairs = np.unique(np.sort(np.stack([one[keep], other[keep]], axis=1), axis=1), axis=0)
        meet = pairs[
            shapely.relate_pattern(shapes[pairs[:, 0]], shapes[pairs[:, 1]], _INTERIORS_MEET)
        ]
        return codes[meet[:, 0]].tolist(), codes[meet[:, 1]].tolist()


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


def read_chains(conn: Connection) -> Chains:
    """The chains of the scope's temporary tables, and which communities they tile."""
    blob, lengths, rows = _copy_row(conn, _CHAINS_COPY)
    if blob is None or lengths is None or rows is None:
        empty = np.empty(0, dtype=object)
        none = np.zeros(0, dtype=bool)
        return Chains(empty, empty, empty, empty, empty, none, {}, set(), set(), set())
    ends = np.cumsum(np.frombuffer(lengths, dtype=">i4")).tolist()
    wkbs = np.empty(len(ends), dtype=object)
    wkbs[:] = [blob[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    shapes = shapely.from_wkb(wkbs)
    chain, owner, up, valid, grid, sign = (
        np.asarray(column, dtype=object) for column in json.loads(rows)
    )
    whole = np.asarray(sign < 0, dtype=bool)
    is_community = chain == "community"
    # each community once more, as a part of its parent (the scope itself has none)
    child = is_community & np.array([p is not None for p in up], dtype=bool)
    failed = untiled_shapes(
        np.concatenate([owner, up[child]]).tolist(),
        np.concatenate([shapes, shapes[child]]),
        np.concatenate([sign, np.ones(int(child.sum()), dtype=object)]).tolist(),
    )
    return Chains(
        chain=chain,
        owner=owner,
        parent_of=up,
        grid=grid,
        shapes=shapes,
        whole=whole,
        parent=dict(zip(owner[whole], up[whole], strict=True)),
        communities=set(owner[is_community]),
        invalid=set(owner[~valid.astype(bool)]),
        failed=failed,
    )


def certified(conn: Connection) -> Certificate:
    """The certificates for the scope's temporary tables (see the module docstring)."""
    return read_chains(conn).certify()
