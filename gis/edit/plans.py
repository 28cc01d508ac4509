"""Plans: a planner's draft redraw of one or more communities.

Creating a plan copies the live grids of its communities into ``plan_grid``; edits touch
the draft only; ``publish`` (gis.edit.publish) replaces the live grids all at once. Every
write is logged in ``change`` and bumps the plan's version (its ETag): a write that names
an older version is refused with :class:`Conflict`, so no update is ever lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from gis.errors import Conflict, InvalidInput, NotFound, StaleVersion

__all__ = [
    "PlanInfo",
    "bump",
    "create_plan",
    "discard_plan",
    "get_plan",
    "list_plans",
    "log_change",
]

_CREATE = text("""
INSERT INTO plan (name, author, status, community_codes, note, created_at)
VALUES (:name, :author, 'draft', :codes, :note, clock_timestamp())
RETURNING id
""")

_COPY = text("""
INSERT INTO plan_grid (plan_id, code, name, kind, community_code, households, population,
                       base_version, geom)
SELECT :plan, g.code, g.name, g.kind, g.community_code, g.households, g.population,
       g.version, g.geom
FROM grid g
WHERE g.community_code = ANY(:codes) AND (
    (CAST(:as_of AS timestamptz) IS NULL AND g.valid_to IS NULL)
    OR (g.valid_from <= CAST(:as_of AS timestamptz)
        AND (g.valid_to IS NULL OR g.valid_to > CAST(:as_of AS timestamptz))))
""")

_GET = text("""
SELECT id, name, author, status, community_codes, version, created_at, published_at, note,
       (SELECT count(*) FROM plan_grid g WHERE g.plan_id = plan.id) AS grids
FROM plan WHERE id = :id
""")

_LOG = text("""
INSERT INTO change (actor, action, entity, entity_key, plan_id, reason, before, after)
VALUES (:actor, :action, :entity, :key, :plan, :reason,
        CAST(:before AS jsonb), CAST(:after AS jsonb))
""")


@dataclass(frozen=True)
class PlanInfo:
    id: int
    name: str
    author: str
    status: str
    community_codes: list[str]
    version: int
    created_at: datetime
    published_at: datetime | None
    note: str | None
    grids: int

    @property
    def etag(self) -> str:
        return f'"plan-{self.id}-v{self.version}"'


def log_change(
    conn: Connection,
    actor: str,
    action: str,
    entity: str,
    key: str,
    plan_id: int | None = None,
    reason: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """One row of the audit log (who, what, which plan, why, before/after)."""
    conn.execute(
        _LOG,
        {
            "actor": actor,
            "action": action,
            "entity": entity,
            "key": key,
            "plan": plan_id,
            "reason": reason,
            "before": None if before is None else json.dumps(before, ensure_ascii=False),
            "after": None if after is None else json.dumps(after, ensure_ascii=False),
        },
    )


def get_plan(conn: Connection, plan_id: int, lock: bool = False) -> PlanInfo:
    if lock:
        conn.execute(text("SELECT 1 FROM plan WHERE id = :id FOR UPDATE"), {"id": plan_id})
    row = conn.execute(_GET, {"id": plan_id}).one_or_none()
    if row is None:
        raise NotFound(f"plan {plan_id} does not exist")
    return PlanInfo(**row._mapping)


def list_plans(conn: Connection, status: str | None = None) -> list[PlanInfo]:
    ids = conn.execute(
        text("SELECT id FROM plan WHERE CAST(:s AS text) IS NULL OR status = :s ORDER BY id"),
        {"s": status},
    ).scalars()
    return [get_plan(conn, int(i)) for i in ids]


def bump(conn: Connection, plan_id: int, expected_version: int | None) -> PlanInfo:
    """Lock a draft plan for a write and move it to its next version.

    ``expected_version`` is the version the caller read (If-Match); None skips the check.
    """
    plan = get_plan(conn, plan_id, lock=True)
    if plan.status != "draft":
        raise Conflict(f"plan {plan_id} is {plan.status}; only a draft can be changed")
    if expected_version is not None and expected_version != plan.version:
        raise StaleVersion(
            f"plan {plan_id} is at version {plan.version}, not {expected_version}: someone "
            "changed it since you read it; reload it and apply your edit again"
        )
    conn.execute(text("UPDATE plan SET version = version + 1 WHERE id = :id"), {"id": plan_id})
    return get_plan(conn, plan_id)


def create_plan(
    conn: Connection,
    communities: list[str],
    author: str,
    name: str = "",
    note: str | None = None,
    as_of: datetime | None = None,
) -> PlanInfo:
    """A draft of ``communities`` copied from their live grids (or from ``as_of``, to
    revert them to a past date)."""
    if not communities:
        raise InvalidInput("a plan needs at least one community code")
    found = set(
        conn.execute(
            text("SELECT code FROM region WHERE code = ANY(:c) AND level = 'community'"),
            {"c": communities},
        ).scalars()
    )
    missing = sorted(set(communities) - found)
    if missing:
        raise NotFound(f"not a community: {', '.join(missing)} (plans redraw communities)")
    codes = sorted(set(communities))
    plan_id = int(
        conn.execute(
            _CREATE,
            {
                "name": name or f"redraw of {', '.join(codes)}",
                "author": author,
                "codes": codes,
                "note": note,
            },
        ).scalar_one()
    )
    conn.execute(_COPY, {"plan": plan_id, "codes": codes, "as_of": as_of})
    log_change(
        conn,
        author,
        "plan.create",
        "plan",
        str(plan_id),
        plan_id,
        note,
        after={"communities": codes, "as_of": as_of.isoformat() if as_of else None},
    )
    return get_plan(conn, plan_id)


def discard_plan(
    conn: Connection, plan_id: int, actor: str, expected_version: int | None = None
) -> PlanInfo:
    bump(conn, plan_id, expected_version)
    conn.execute(text("UPDATE plan SET status = 'discarded' WHERE id = :id"), {"id": plan_id})
    log_change(conn, actor, "plan.discard", "plan", str(plan_id), plan_id)
    return get_plan(conn, plan_id)
