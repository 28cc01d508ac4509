"""Moving an organization or a police post to another grid in a draft.

The move is recorded with the plan (``plan_assignment``) and takes effect when the plan
is published; the grid must be in the draft and in the community where the organization
or post stands.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from gis.edit.plans import PlanInfo, bump, log_change
from gis.errors import InvalidInput, NotFound

__all__ = ["ASSIGNMENTS", "move_assignment"]

#: entity → (table, key column)
ASSIGNMENTS = {"organization": ("organization", "id"), "police_post": ("police_post", "code")}

_WHERE = {
    "organization": text("""
        SELECT o.grid_code, r.code AS community FROM organization o
        LEFT JOIN region r ON r.level = 'community' AND ST_Intersects(r.geom, o.geom)
        WHERE o.id::text = :key ORDER BY r.code LIMIT 1"""),
    "police_post": text("""
        SELECT p.grid_code, r.code AS community FROM police_post p
        LEFT JOIN region r ON r.level = 'community' AND ST_Intersects(r.geom, p.geom)
        WHERE p.code = :key ORDER BY r.code LIMIT 1"""),
}
_GRID = text("SELECT community_code FROM plan_grid WHERE plan_id = :plan AND code = :code")
_UPSERT = text("""
INSERT INTO plan_assignment (plan_id, entity, entity_key, grid_code)
VALUES (:plan, :entity, :key, :grid)
ON CONFLICT (plan_id, entity, entity_key) DO UPDATE SET grid_code = EXCLUDED.grid_code
""")


def move_assignment(
    conn: Connection,
    plan_id: int,
    entity: str,
    key: str,
    to_grid: str,
    actor: str,
    expected_version: int | None = None,
) -> PlanInfo:
    """Assign organization ``key`` (its id) or police post ``key`` (its code) to ``to_grid``."""
    if entity not in ASSIGNMENTS:
        raise InvalidInput(f"cannot move a {entity!r}; move an organization or a police_post")
    if entity == "organization" and not key.isdigit():
        raise InvalidInput(f"organization {key!r}: give its numeric id")
    plan = bump(conn, plan_id, expected_version)
    found = conn.execute(_WHERE[entity], {"key": key}).one_or_none()
    if found is None:
        raise NotFound(f"{entity.replace('_', ' ')} {key} does not exist")
    community = conn.execute(_GRID, {"plan": plan_id, "code": to_grid}).scalar_one_or_none()
    if community is None:
        raise NotFound(f"grid {to_grid} is not in plan {plan_id}")
    if found.community != community:
        raise InvalidInput(
            f"{entity.replace('_', ' ')} {key} stands in community {found.community}, grid "
            f"{to_grid} is in {community}: a move stays inside one community"
        )
    conn.execute(_UPSERT, {"plan": plan_id, "entity": entity, "key": key, "grid": to_grid})
    log_change(
        conn,
        actor,
        f"{entity}.move",
        entity,
        key,
        plan_id,
        before={"grid": found.grid_code},
        after={"grid": to_grid},
    )
    return plan
