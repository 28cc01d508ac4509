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
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from gis.audit.tiling import untiled

__all__ = ["certified"]

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
_CHAINS = text(
    f"""
SELECT 'grid' AS chain, community_code AS owner, NULL AS parent, true AS valid,
       {_ORIENTED} AS wkb, 1 AS sign
FROM audit_grid g
UNION ALL
SELECT 'community', g.code, r.parent_code, true, {_ORIENTED}, -1
FROM audit_community g JOIN audit_region r USING (code)
UNION ALL
SELECT 'region', r.parent_code, NULL, p.valid AND r.valid, {_ORIENTED}, 1
FROM audit_region r JOIN audit_region p ON p.code = r.parent_code
JOIN region g ON g.code = r.code
WHERE r.level <> 'community'
UNION ALL
SELECT 'region', r.code, r.parent_code, r.valid, {_ORIENTED}, -1
FROM audit_region r JOIN region g ON g.code = r.code
WHERE r.level <> 'community'
"""
)

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


def certified(conn: Connection) -> tuple[list[str], list[str]]:
    """(tiled, separated) community codes of the scope's temporary tables."""
    rows = conn.execute(_CHAINS).all()
    if not rows:
        return [], []
    chain, owner, up, valid, wkb, sign = zip(*rows, strict=True)
    wkbs = [bytes(w) for w in wkb]
    parent = {o: p for o, p, s in zip(owner, up, sign, strict=True) if s < 0}
    communities = {o for c, o in zip(chain, owner, strict=True) if c == "community"}
    invalid = {o for o, v in zip(owner, valid, strict=True) if not v}
    # each community once more, as a part of its parent (the scope itself has none)
    children = [(p, w) for c, p, w in zip(chain, up, wkbs, strict=True) if c == "community" and p]
    owners = [*owner, *(p for p, _ in children)]
    signs = [*sign, *(1 for _ in children)]
    wkbs += [w for _, w in children]
    failed = untiled(owners, wkbs, signs)
    tiled = communities - failed
    unclean = {code for code, up in parent.items() if up in invalid}
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

    return sorted(tiled), sorted(c for c in communities - spilling if nested(c))
