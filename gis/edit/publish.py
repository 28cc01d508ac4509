"""Diff a plan against what is live, validate it, and publish it all at once.

Publishing runs in the caller's single transaction: the live versions of the plan's
communities get ``valid_to`` = the transaction's time and the draft becomes the new
versions with the same ``valid_from``, so at every instant exactly one version of each
grid is valid and a crash leaves either all old or all new grids.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Connection, text

from gis.audit.profile import Profile, default_profile
from gis.audit.report import Violation
from gis.audit.run import run_audit
from gis.edit.plans import PlanInfo, bump, get_plan, log_change
from gis.errors import Conflict, InvalidInput

__all__ = ["DRAWING_RULES", "GridChange", "PlanDiff", "diff_plan", "publish_plan", "validate_plan"]

#: rules that depend on the drawing; posts, staff and teams are assigned after publishing
DRAWING_RULES = (
    "blind_spots",
    "overlaps",
    "spill",
    "geometry",
    "codes",
    "buildings_split",
    "workload",
)

_GRIDS = text("""
WITH live AS (
    SELECT code, households, population, geom FROM grid
    WHERE community_code = ANY(:codes) AND valid_to IS NULL
), draft AS (
    SELECT code, households, population, geom FROM plan_grid WHERE plan_id = :plan
)
SELECT coalesce(l.code, d.code) AS code, l.code IS NULL AS added, d.code IS NULL AS retired,
       coalesce(ST_Area(l.geom::geography), 0) AS area_before,
       coalesce(ST_Area(d.geom::geography), 0) AS area_after,
       CASE WHEN l.code IS NULL OR d.code IS NULL THEN 0
            ELSE ST_Area(ST_SymDifference(l.geom, d.geom)::geography) END AS area_changed,
       coalesce(l.households, 0) AS households_before,
       coalesce(d.households, 0) AS households_after,
       coalesce(l.population, 0) AS population_before, coalesce(d.population, 0) AS population_after
FROM live l FULL JOIN draft d USING (code)
ORDER BY 1
""")

# organizations and posts moved by hand in the draft, with the grid they had
_ASSIGNED = text("""
SELECT a.entity, a.entity_key, a.grid_code,
       coalesce((SELECT o.grid_code FROM organization o
                 WHERE a.entity = 'organization' AND o.id::text = a.entity_key),
                (SELECT p.grid_code FROM police_post p
                 WHERE a.entity = 'police_post' AND p.code = a.entity_key)) AS before
FROM plan_assignment a WHERE a.plan_id = :plan ORDER BY a.entity, a.entity_key
""")

# a new code drawn exactly like a code that goes: the grid was renumbered
_RENUMBERED = text("""
SELECT d.code AS new, l.code AS old
FROM plan_grid d JOIN grid l ON l.geom && d.geom AND ST_Equals(l.geom, d.geom)
WHERE d.plan_id = :plan AND l.community_code = ANY(:codes) AND l.valid_to IS NULL
  AND d.code <> l.code
  AND NOT EXISTS (SELECT 1 FROM plan_grid x WHERE x.plan_id = :plan AND x.code = l.code)
""")

# buildings and organizations whose grid changes (by where they stand), posts whose grid goes
_MOVES = text("""
WITH live AS (SELECT code, geom FROM grid WHERE community_code = ANY(:codes) AND valid_to IS NULL),
     draft AS (SELECT code, geom FROM plan_grid WHERE plan_id = :plan),
     area AS (SELECT ST_Union(geom) AS geom FROM region WHERE code = ANY(:codes)),
     things AS (
        SELECT 'building' AS what, b.id::text AS id, b.households, ST_PointOnSurface(b.geom) AS spot
        FROM building b, area WHERE b.geom && area.geom
        UNION ALL
        SELECT 'organization', o.id::text, 0, o.geom FROM organization o, area
        WHERE o.geom && area.geom
        UNION ALL
        SELECT 'police_post', p.code, 0, p.geom FROM police_post p, area WHERE p.geom && area.geom
     )
SELECT t.what, t.id, t.households,
       (SELECT min(l.code) FROM live l WHERE l.geom && t.spot AND ST_Intersects(l.geom, t.spot))
           AS before,
       (SELECT min(d.code) FROM draft d WHERE d.geom && t.spot AND ST_Intersects(d.geom, t.spot))
           AS after
FROM things t
""")

# live grids of the plan's communities that changed after the plan was made
_CONFLICTS = text("""
SELECT g.code, g.version, g.valid_to IS NOT NULL AS retired
FROM grid g JOIN plan p ON p.id = :plan
WHERE g.community_code = ANY(:codes)
  AND (g.valid_from > p.created_at OR g.valid_to > p.created_at)
ORDER BY g.code, g.version
""")


# in this order, one statement each: the old versions end before the new ones begin
_PUBLISH = [
    text("""
        UPDATE grid SET valid_to = CAST(:at AS timestamptz), status = 'retired'
        WHERE community_code = ANY(:codes) AND valid_to IS NULL
    """),
    text("""
        INSERT INTO grid_code (code, community_code)
        SELECT p.code, p.community_code FROM plan_grid p WHERE p.plan_id = :plan
        ON CONFLICT (code) DO NOTHING
    """),
    text("""
        INSERT INTO grid (code, name, kind, community_code, households, population, status,
                          version, valid_from, plan_id, geom)
        SELECT p.code, p.name, p.kind, p.community_code, p.households, p.population, 'live',
               coalesce((SELECT max(g.version) FROM grid g WHERE g.code = p.code), 0) + 1,
               CAST(:at AS timestamptz), :plan, p.geom
        FROM plan_grid p WHERE p.plan_id = :plan
    """),
]


class GridChange(BaseModel):
    code: str
    status: str  # added | retired | renumbered | changed | unchanged
    renumbered_from: str | None = None
    area_before_m2: float
    area_after_m2: float
    area_changed_m2: float
    households_before: int
    households_after: int
    population_before: int
    population_after: int


class Move(BaseModel):
    what: str  # building | organization | police_post
    id: str
    before: str | None
    after: str | None
    households: int = 0


class PlanDiff(BaseModel):
    plan: int
    grids: list[GridChange]
    moves: list[Move]
    households_before: int
    households_after: int

    @property
    def changed(self) -> list[GridChange]:
        return [g for g in self.grids if g.status != "unchanged"]


def diff_plan(conn: Connection, plan_id: int) -> PlanDiff:
    """What publishing the plan would change, grid by grid and thing by thing."""
    plan = get_plan(conn, plan_id)
    params = {"plan": plan_id, "codes": plan.community_codes}
    grids = []
    for r in conn.execute(_GRIDS, params):
        status = (
            "added"
            if r.added
            else "retired"
            if r.retired
            else "changed"
            if r.area_changed > 0.01 or r.households_before != r.households_after
            else "unchanged"
        )
        grids.append(
            GridChange(
                code=r.code,
                status=status,
                area_before_m2=round(r.area_before, 2),
                area_after_m2=round(r.area_after, 2),
                area_changed_m2=round(r.area_changed, 2),
                households_before=r.households_before,
                households_after=r.households_after,
                population_before=r.population_before,
                population_after=r.population_after,
            )
        )
    renamed = (
        {str(new): str(old) for new, old in conn.execute(_RENUMBERED, params)}
        if any(g.status == "added" for g in grids)
        else {}
    )
    by_code = {g.code: g for g in grids}
    for new, old in renamed.items():
        g, was = by_code[new], by_code[old]
        g.status, g.renumbered_from = "renumbered", old
        g.area_before_m2, g.households_before = was.area_before_m2, was.households_before
        g.population_before = was.population_before
    grids = [g for g in grids if g.code not in renamed.values()]
    moves = [
        Move(what=r.what, id=r.id, before=r.before, after=r.after, households=r.households)
        for r in conn.execute(_MOVES, params)
        if r.before != r.after
    ]
    moves += [
        Move(what=r.entity, id=r.entity_key, before=r.before, after=r.grid_code)
        for r in conn.execute(_ASSIGNED, params)
    ]
    return PlanDiff(
        plan=plan_id,
        grids=grids,
        moves=moves,
        households_before=sum(g.households_before for g in grids),
        households_after=sum(g.households_after for g in grids),
    )


def validate_plan(
    conn: Connection, plan_id: int, profile: Profile | None = None
) -> list[Violation]:
    """The audit of the draft (drawing rules of the profile), community by community."""
    plan = get_plan(conn, plan_id)
    chosen = (profile or default_profile()).only(
        *[r for r in DRAWING_RULES if getattr((profile or default_profile()).rules, r).enabled]
    )
    found: list[Violation] = []
    for community in plan.community_codes:
        found += run_audit(conn, community, chosen, plan_id=plan_id).violations
    return found


def publish_plan(
    conn: Connection,
    plan_id: int,
    actor: str,
    expected_version: int | None = None,
    force_reason: str | None = None,
    profile: Profile | None = None,
) -> PlanInfo:
    """Replace the live grids of the plan's communities by the draft, atomically."""
    plan = bump(conn, plan_id, expected_version)
    params: dict[str, object] = {"plan": plan_id, "codes": plan.community_codes}
    changed = conn.execute(_CONFLICTS, params).all()
    if changed:
        what = ", ".join(
            f"{r.code} v{r.version} ({'retired' if r.retired else 'new'})" for r in changed[:10]
        )
        raise Conflict(
            f"plan {plan_id}: the live grids changed since the plan was made: {what}; "
            "create a new plan from the current grids (nothing was published)"
        )
    errors = [v for v in validate_plan(conn, plan_id, profile) if v.severity == "error"]
    if errors and not force_reason:
        listed = "; ".join(v.message for v in errors[:5])
        raise InvalidInput(
            f"plan {plan_id} has {len(errors)} error finding(s): {listed}"
            + (" …" if len(errors) > 5 else "")
            + " — fix the draft, or publish with a reason to force it"
        )
    # one instant for the whole publish: old versions end when new ones begin
    params["at"] = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    for statement in _PUBLISH:
        conn.execute(statement, params)
    moved = [
        str(c)
        for c in conn.execute(
            text("SELECT code FROM plan_grid WHERE plan_id = :plan"), params
        ).scalars()
    ]
    conn.execute(
        text("""
        UPDATE grid_code SET retired_at = CAST(:at AS timestamptz)
        WHERE community_code = ANY(:codes) AND retired_at IS NULL
          AND code NOT IN (SELECT code FROM plan_grid WHERE plan_id = :plan)
    """),
        params,
    )
    # organizations and posts of a retired grid go to the new grid they stand in (兜底)
    for table in ("organization", "police_post"):
        conn.execute(
            text(f"""
            UPDATE {table} t SET grid_code = (
                SELECT min(p.code) FROM plan_grid p
                WHERE p.plan_id = :plan AND ST_Intersects(p.geom, t.geom))
            WHERE t.grid_code IN (SELECT code FROM grid_code
                                  WHERE community_code = ANY(:codes) AND retired_at IS NOT NULL)
        """),
            params,
        )
    # organizations and posts the planner moved by hand
    conn.execute(
        text("""
        UPDATE organization o SET grid_code = a.grid_code FROM plan_assignment a
        WHERE a.plan_id = :plan AND a.entity = 'organization'
          AND o.id::text = a.entity_key"""),
        params,
    )
    conn.execute(
        text("""
        UPDATE police_post p SET grid_code = a.grid_code FROM plan_assignment a
        WHERE a.plan_id = :plan AND a.entity = 'police_post' AND p.code = a.entity_key"""),
        params,
    )
    conn.execute(
        text("UPDATE plan SET status = 'published', published_at = :at WHERE id = :plan"),
        params,
    )
    log_change(
        conn,
        actor,
        "plan.publish",
        "plan",
        str(plan_id),
        plan_id,
        force_reason,
        after={
            "grids": sorted(moved),
            "forced": bool(force_reason and errors),
            "errors": len(errors),
        },
    )
    return get_plan(conn, plan_id)
