"""The audit of a large region on Dask: one task per county, merged into one report.

Each county is audited by :func:`audit_county` on a ``dask.distributed`` worker, which
opens its own connection from the database URL and runs the ordinary audit (the same
scope and the same SQL as ``gridgov audit``). The coordinator then merges the findings
and computes the roll-ups up the hierarchy once, over the merged findings, with the same
code as the single-process audit — so the report is the one ``run_audit`` would give.

Findings that reach across a county border are made whole or reported once:

- an overlap between grids of two counties is found by both (each sees the other's
  grids as "other grids"); the copy ordered as the single-process audit orders a pair
  (lower code first) is kept;
- a building cut by a county border is seen whole only with both counties' grids: the
  county that holds the building (its point on surface) re-runs the split check with the
  neighbouring grids of the region added to its scope;
- an organization in one county and assigned to a grid of another is found by both;
  the copy whose community is the one the organization stands in (the lowest code on a
  boundary, as in the single-process audit) is kept.

A county whose task fails (after ``retries``) is reported as an error finding of rule
``audit`` on that county, never dropped; the rest of the region is still audited.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.pool import NullPool

from gis.audit import places
from gis.audit.profile import Profile, default_profile
from gis.audit.report import AuditReport, CommunityStats, Violation
from gis.audit.run import RULE_ORDER, _audit, _report, _rollup
from gis.audit.scope import Scope
from gis.codes import LEVEL_DIGITS
from gis.db.engine import create_db_engine
from gis.errors import NotFound, SetupError

__all__ = [
    "CountyResult",
    "SchedulerUnreachable",
    "audit_county",
    "counties_of",
    "merge",
    "run_distributed",
]

RETRIES = 2  # a failed county is tried three times before it is reported

_REGION = text("SELECT code, name, level FROM region WHERE code = :code")

_COUNTIES = text("""
WITH RECURSIVE down AS (
    SELECT code, level FROM region WHERE code = :code
    UNION ALL
    SELECT r.code, r.level FROM region r JOIN down d ON r.parent_code = d.code
    WHERE d.level <> 'county'
)
SELECT code FROM down WHERE level = 'county' ORDER BY code
""")

# the region's grids near this county, as the single-process audit would see them
_NEIGHBOUR_GRIDS = text("""
INSERT INTO audit_grid (code, community_code, geom)
SELECT code, community_code, geom FROM audit_other_grid
WHERE community_code LIKE :prefix || '%'
""")

_HOUSEHOLDS = text("SELECT code, households FROM audit_grid")

# where the single-process audit places an organization: the lowest community code of
# the region that holds it, else its assigned grid's community
_ORG_COMMUNITY = text("""
SELECT o.id,
       coalesce((SELECT min(r.code) FROM region r
                 WHERE r.level = 'community' AND r.code LIKE :prefix || '%'
                   AND r.geom && o.geom AND ST_Intersects(r.geom, o.geom)),
                g.community_code) AS community
FROM organization o
LEFT JOIN grid g ON g.code = o.grid_code AND g.valid_to IS NULL
WHERE o.id = ANY(:ids)
""")


class SchedulerUnreachable(SetupError):
    """The Dask scheduler named by ``--scheduler`` does not answer."""

    title = "Scheduler unreachable"


@dataclass
class CountyResult:
    """What one county's task sends back to the coordinator."""

    code: str
    violations: list[Violation]
    communities: list[CommunityStats]
    households: dict[str, int]
    seconds: float
    peak_rss_mb: float
    worker: str = ""
    error: str | None = None
    attempts: list[str] = field(default_factory=list)


def region_prefix(code: str, level: str) -> str:
    """The code prefix every region under ``code`` shares (``6523`` for 652300000000)."""
    return code[: LEVEL_DIGITS.get(level, 12)]


def counties_of(conn: Connection, code: str) -> list[str]:
    """The tasks of a region: its counties, or the region itself below a county."""
    row = conn.execute(_REGION, {"code": code}).one_or_none()
    if row is None:
        raise NotFound(f"region {code} does not exist (check the code, or load the data)")
    if row.level in ("county", "street", "community"):
        return [code]
    found = [str(c) for c in conn.execute(_COUNTIES, {"code": code}).scalars()]
    return found or [code]


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def audit_county(
    url: str,
    code: str,
    profile: Profile,
    as_of: datetime | None,
    region_prefix: str,
) -> CountyResult:
    """Audit one county (a Dask task): the ordinary audit, plus the split check with the
    region's neighbouring grids so a building cut by the county border is seen whole."""
    started = time.perf_counter()
    engine = create_db_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn, conn.begin():
            _scope, violations, _, communities = _audit(conn, code, profile, as_of, None)
            households = {str(c): int(n) for c, n in conn.execute(_HOUSEHOLDS)}
            # a part of a larger region: its border buildings need the neighbours' grids
            if "buildings_split" in profile.enabled() and code != region_prefix.ljust(12, "0"):
                conn.execute(_NEIGHBOUR_GRIDS, {"prefix": region_prefix})
                split = places.buildings_split(conn, profile)
                violations = _replace_rule(violations, "buildings_split", split)
            conn.rollback()
    finally:
        engine.dispose()
    return CountyResult(
        code=code,
        violations=violations,
        communities=communities,
        households=households,
        seconds=round(time.perf_counter() - started, 3),
        peak_rss_mb=round(_peak_rss_mb(), 1),
        worker=f"{os.uname().nodename}:{os.getpid()}",
    )


def _replace_rule(violations: list[Violation], rule: str, new: list[Violation]) -> list[Violation]:
    """``violations`` with the findings of ``rule`` replaced by ``new``, in rule order."""
    kept = [v for v in violations if v.rule != rule]
    order = {r: i for i, r in enumerate(RULE_ORDER)}
    merged = kept + new
    merged.sort(key=lambda v: order.get(v.rule, len(order)))  # stable: keeps each rule's order
    return merged


def _failure(code: str, error: str) -> CountyResult:
    return CountyResult(
        code=code,
        violations=[
            Violation(
                rule="audit",
                check="county_failed",
                severity="error",
                community=code,
                message=f"county {code} could not be audited after {RETRIES + 1} attempts: "
                f"{error}; its findings are missing from this report — fix the cause and "
                "audit the county again",
                measures={"error": error},
            )
        ],
        communities=[],
        households={},
        seconds=0.0,
        peak_rss_mb=0.0,
        error=error,
    )


def _dedupe_overlaps(found: list[Violation]) -> list[Violation]:
    by_pair: dict[frozenset[str], Violation] = {}
    for v in found:
        key = frozenset(v.grids)
        held = by_pair.get(key)
        if held is None or (v.grids[0] < v.grids[1] and not held.grids[0] < held.grids[1]):
            by_pair[key] = v
    keep = {id(v) for v in by_pair.values()}
    return [v for v in found if id(v) in keep]


def _dedupe_organizations(conn: Connection, found: list[Violation], prefix: str) -> list[Violation]:
    # the copies of one organization may differ in their check: the county it stands in
    # sees its grid ("wrong_grid"), the county of its assigned grid may not ("outside")
    copies: dict[int, list[Violation]] = {}
    for v in found:
        copies.setdefault(int(v.measures["organization"]), []).append(v)
    twice = [org for org, vs in copies.items() if len(vs) > 1]
    if not twice:
        return found
    home = {
        int(r.id): r.community
        for r in conn.execute(_ORG_COMMUNITY, {"ids": twice, "prefix": prefix})
    }
    drop: set[int] = set()
    for org in twice:
        vs = copies[org]
        chosen = next((v for v in vs if v.community == home.get(org)), vs[0])
        drop.update(id(v) for v in vs if v is not chosen)
    return [v for v in found if id(v) not in drop]


def merge(
    conn: Connection,
    region: str,
    profile: Profile,
    as_of: datetime | None,
    results: Iterable[CountyResult],
    started: float,
) -> AuditReport:
    """One report from the counties' results: findings merged rule by rule, cross-border
    findings once, roll-ups computed over the whole region as the single audit does."""
    row = conn.execute(_REGION, {"code": region}).one()
    scope = Scope(row.code, row.name, row.level, as_of)
    prefix = region_prefix(row.code, row.level)
    ordered = sorted(results, key=lambda r: r.code)
    by_rule: dict[str, list[Violation]] = {}
    households: dict[str, int] = {}
    communities: list[CommunityStats] = []
    for result in ordered:
        for v in result.violations:
            by_rule.setdefault(v.rule, []).append(v)
        households.update(result.households)
        communities += result.communities
    if "overlaps" in by_rule:
        by_rule["overlaps"] = _dedupe_overlaps(by_rule["overlaps"])
    if "organizations" in by_rule:
        by_rule["organizations"] = _dedupe_organizations(conn, by_rule["organizations"], prefix)
    violations = [v for rule in [*RULE_ORDER, "audit"] for v in by_rule.get(rule, [])]
    rollup = _rollup(conn, scope, violations, profile.enabled(), households)
    communities.sort(key=lambda c: c.code)
    return _report(scope, profile, as_of, started, violations, rollup, communities)


Progress = Callable[[CountyResult], None]


def connect(scheduler: str | None, workers: int | None) -> Any:
    """A ``distributed.Client``: on the scheduler at ``scheduler``, else on a new
    LocalCluster of ``workers`` single-threaded worker processes."""
    # the cluster's own INFO lines would bury the report: warnings and errors only (the
    # variable reaches the local worker processes, which configure logging on import)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler:
        try:  # how long to try: Dask's distributed.comm.timeouts.connect (30 s by default)
            return Client(scheduler, timeout=dask.config.get("distributed.comm.timeouts.connect"))  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(
                f"no Dask scheduler answers at {scheduler} ({exc}); start one "
                "(`dask scheduler`, then `dask worker <scheduler address>` on each machine) "
                "or run without --scheduler to use a local cluster on this machine"
            ) from None
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers or 2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
    )
    return Client(cluster)  # type: ignore[no-untyped-call]


def run_distributed(
    url: str,
    region: str,
    client: Any,
    profile: Profile | None = None,
    as_of: datetime | None = None,
    on_county: Progress | None = None,
    on_start: Callable[[list[str]], None] | None = None,
) -> tuple[AuditReport, list[CountyResult]]:
    """Audit ``region`` on ``client``'s cluster, one task per county; the merged report
    and each county's result (time, worker, peak memory, or its error)."""
    from distributed import as_completed

    profile = profile or default_profile()
    started = time.perf_counter()
    engine = create_db_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            counties = counties_of(conn, region)
            row = conn.execute(_REGION, {"code": region}).one()
        prefix = region_prefix(row.code, row.level)
        if on_start:
            on_start(counties)
        futures = {
            client.submit(
                audit_county,
                url,
                code,
                profile,
                as_of,
                prefix,
                key=f"audit-county-{code}-{time.time_ns()}",
                retries=RETRIES,
                pure=False,
            ): code
            for code in counties
        }
        results: list[CountyResult] = []
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            code = futures[future]
            if future.status == "finished":
                result: CountyResult = future.result()
            else:
                exc = future.exception()
                # the first line: a database error's SQL and parameters follow it
                first = (str(exc).strip().splitlines() or [""])[0]
                result = _failure(code, f"{type(exc).__name__}: {first}")
            results.append(result)
            if on_county:
                on_county(result)
        with engine.connect() as conn:
            report = merge(conn, region, profile, as_of, results, started)
    finally:
        engine.dispose()
    return report, sorted(results, key=lambda r: r.code)
