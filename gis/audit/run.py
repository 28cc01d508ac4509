"""Run every enabled rule of a profile over a region and roll the findings up.

The whole audit runs in one transaction on one connection, reads only, and rolls back
(the scope's temporary tables go with it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text

from gis.audit import coverage, people, places
from gis.audit.profile import Profile, default_profile
from gis.audit.report import AuditReport, CommunityStats, RegionScore, RuleSummary, Violation
from gis.audit.scope import Scope, prepare_scope
from gis.errors import NotFound

__all__ = ["RULE_ORDER", "default_region", "run_audit"]

SqlCheck = Callable[[Connection, Profile], list[Violation]]
FactCheck = Callable[[list[people.GridFacts], Profile], list[Violation]]

SQL_CHECKS: dict[str, SqlCheck] = {
    "blind_spots": coverage.blind_spots,
    "overlaps": coverage.overlaps,
    "spill": coverage.spill,
    "geometry": coverage.geometry,
    "codes": coverage.codes,
    "buildings_split": places.buildings_split,
    "organizations": places.organizations,
    "police_posts": places.police_posts,
}
FACT_CHECKS: dict[str, FactCheck] = {
    "workload": people.workload,
    "staffing": people.staffing,
    "service_teams": people.service_teams,
    "party_branches": people.party_branches,
}
RULE_ORDER = [*SQL_CHECKS, *FACT_CHECKS]
# rules that read the scope's grids and communities without joining other features to them
COVERAGE_RULES = {"blind_spots", "overlaps", "spill", "geometry", "codes"}

_HIERARCHY = text("""
WITH RECURSIVE down AS (
    SELECT code, name, level, parent_code FROM region WHERE code = :code
    UNION ALL
    SELECT r.code, r.name, r.level, r.parent_code
    FROM region r JOIN down d ON r.parent_code = d.code
)
SELECT code, name, level, parent_code FROM down
""")

# in table order, as a duplicated code's last row wins
_HOUSEHOLDS = text("SELECT code, households FROM audit_grid WHERE code = ANY(:codes) ORDER BY ctid")


def default_region(engine: Engine) -> str:
    """The top region (the prefecture) when there is exactly one."""
    with engine.connect() as conn:
        roots = (
            conn.execute(text("SELECT code FROM region WHERE parent_code IS NULL ORDER BY code"))
            .scalars()
            .all()
        )
    if len(roots) != 1:
        raise NotFound(
            "name the region to audit (a 12-digit code): "
            + (
                "the database holds no regions"
                if not roots
                else f"there are {len(roots)} top regions: {', '.join(roots[:5])}"
            )
        )
    return str(roots[0])


def _rollup(
    conn: Connection,
    scope: Scope,
    violations: list[Violation],
    enabled: list[str],
    households: dict[str, int],
) -> list[RegionScore]:
    regions = conn.execute(_HIERARCHY, {"code": scope.code}).all()
    parent = {r.code: r.parent_code for r in regions}

    def chain(community: str | None) -> list[str]:
        if community is None or community not in parent:
            return [scope.code]
        out = [community]
        while out[-1] != scope.code and parent.get(out[-1]):
            out.append(str(parent[out[-1]]))
        return out

    errors: dict[str, set[str]] = {}
    counts: dict[str, list[int]] = {r.code: [0, 0] for r in regions}
    area: dict[str, float] = dict.fromkeys(counts, 0.0)
    grids: dict[str, set[str]] = {r.code: set() for r in regions}
    for v in violations:
        for code in chain(v.community):
            counts[code][0 if v.severity == "error" else 1] += 1
            if v.severity == "error":
                errors.setdefault(code, set()).add(v.rule)
                area[code] += v.area_m2 or 0.0
                grids[code].update(v.grids)
    checked = len(enabled)
    scores = []
    for code, name, level, parent_code in regions:
        met = checked - len(errors.get(code, ()))
        scores.append(
            RegionScore(
                code=code,
                name=name,
                level=level,
                parent_code=parent_code if code != scope.code else None,
                rules_checked=checked,
                rules_met=met,
                score=round(met / checked, 4) if enabled else 1.0,
                errors=counts[code][0],
                warnings=counts[code][1],
                area_affected_m2=round(area[code], 1),
                households_affected=sum(households.get(g, 0) for g in grids[code]),
            )
        )
    return scores


def run_audit(
    bind: Engine | Connection,
    region_code: str,
    profile: Profile | None = None,
    as_of: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    plan_id: int | None = None,
) -> AuditReport:
    """Audit ``region_code`` (and everything under it) against ``profile``.

    ``plan_id`` audits a plan's draft in place of the live grids of its communities.
    ``bind`` is an engine (the audit opens its own connection) or a connection, in which
    case the audit runs in a savepoint that is rolled back: it sees the connection's
    uncommitted data and leaves nothing behind.
    """
    profile = profile or default_profile()
    started = time.perf_counter()
    if isinstance(bind, Engine):
        with bind.connect() as conn, conn.begin():
            found = _audit(conn, region_code, profile, as_of, progress, plan_id)
            conn.rollback()
    else:
        savepoint = bind.begin_nested()
        try:
            found = _audit(bind, region_code, profile, as_of, progress, plan_id)
        finally:
            savepoint.rollback()
    scope, violations, rollup, communities = found
    return _report(scope, profile, as_of, started, violations, rollup, communities)


def _audit(
    conn: Connection,
    region_code: str,
    profile: Profile,
    as_of: datetime | None,
    progress: Callable[[str], None] | None,
    plan_id: int | None = None,
) -> tuple[Scope, list[Violation], list[RegionScore], list[CommunityStats]]:
    enabled = profile.enabled()
    violations: list[Violation] = []
    need_buildings = bool({"buildings_split", "police_posts"} & set(enabled))
    scope = prepare_scope(
        conn,
        region_code,
        as_of,
        with_buildings=need_buildings,
        plan_id=plan_id,
        indexed=bool(set(enabled) - COVERAGE_RULES),
    )
    if progress:
        progress("scope")
    for rule, check in SQL_CHECKS.items():
        if rule in enabled:
            violations += check(conn, profile)
        if progress:
            progress(rule)
    # the per-grid staffing facts cost a query per grid and table: only when a rule uses them
    facts = people.grid_facts(conn) if set(FACT_CHECKS) & set(enabled) else []
    for rule, fact_check in FACT_CHECKS.items():
        if rule in enabled:
            violations += fact_check(facts, profile)
        if progress:
            progress(rule)
    distances = places.post_distances(conn) if need_buildings else {}
    # households of the grids with an error (the roll-up's households affected)
    wanted = sorted({g for v in violations if v.severity == "error" for g in v.grids})
    households = {str(code): int(n) for code, n in conn.execute(_HOUSEHOLDS, {"codes": wanted})}
    rollup = _rollup(conn, scope, violations, enabled, households)
    return scope, violations, rollup, people.community_stats(facts, profile, distances)


def _report(
    scope: Scope,
    profile: Profile,
    as_of: datetime | None,
    started: float,
    violations: list[Violation],
    rollup: list[RegionScore],
    communities: list[CommunityStats],
) -> AuditReport:
    summaries = []
    for rule in RULE_ORDER:
        setting = getattr(profile.rules, rule)
        mine = [v for v in violations if v.rule == rule]
        summaries.append(
            RuleSummary(
                rule=rule,
                enabled=setting.enabled,
                severity=setting.severity,
                errors=sum(v.severity == "error" for v in mine),
                warnings=sum(v.severity == "warning" for v in mine),
            )
        )
    return AuditReport(
        region=scope.code,
        region_name=scope.name,
        level=scope.level,
        as_of=as_of,
        profile=profile.name,
        generated_at=datetime.now(UTC),
        seconds=round(time.perf_counter() - started, 3),
        rules=summaries,
        violations=violations,
        rollup=rollup,
        communities=communities,
    )
