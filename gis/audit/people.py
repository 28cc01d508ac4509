"""任务相当, 百户一人, 定人定责: workload, staffing, volunteer teams and party branches."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from sqlalchemy import Connection, text

from gis.audit.profile import Profile
from gis.audit.report import CommunityStats, Violation

__all__ = [
    "GridFacts",
    "band_of",
    "community_stats",
    "grid_facts",
    "party_branches",
    "service_teams",
    "staffing",
    "workload",
]

_GRIDS = text("""
SELECT g.code, g.kind, g.community_code AS community, g.households, g.population, c.urban,
       (SELECT count(*) FROM worker w WHERE w.grid_code = g.code) AS workers,
       (SELECT count(*) FROM worker w
         WHERE w.grid_code = g.code AND w.role = 'responsible') AS responsible,
       (SELECT count(*) FROM service_team t WHERE t.grid_code = g.code) AS teams,
       (SELECT max(t.volunteers) FROM service_team t WHERE t.grid_code = g.code) AS volunteers,
       (SELECT count(*) FROM party_branch b WHERE b.grid_code = g.code) AS branches
FROM audit_grid g JOIN audit_community c ON c.code = g.community_code
ORDER BY g.code
""")


@dataclass(frozen=True)
class GridFacts:
    code: str
    kind: str
    community: str
    households: int
    population: int
    urban: bool
    workers: int
    responsible: int
    teams: int
    volunteers: int | None
    branches: int


def grid_facts(conn: Connection) -> list[GridFacts]:
    return [GridFacts(**row._mapping) for row in conn.execute(_GRIDS)]


def band_of(profile: Profile, kind: str, urban: bool) -> tuple[int, int] | None:
    key = f"geographic_{'urban' if urban else 'rural'}" if kind == "geographic" else kind
    for name, band in profile.rules.workload.bands.items():
        if name == key:
            return band
    return None


def workers_needed(profile: Profile, households: int) -> int:
    rule = profile.rules.staffing
    return max(rule.min_workers_per_grid, math.ceil(households / rule.households_per_worker))


def workload(facts: list[GridFacts], profile: Profile) -> list[Violation]:
    rule = profile.rules.workload
    found = []
    for g in facts:
        band = band_of(profile, g.kind, g.urban)
        if band and not band[0] <= g.households <= band[1]:
            over = g.households > band[1]
            found.append(
                Violation(
                    rule="workload",
                    check="households_over" if over else "households_under",
                    severity=rule.unit_severity if g.kind == "unit" else rule.severity,
                    community=g.community,
                    grids=[g.code],
                    households=g.households,
                    message=f"grid {g.code} has {g.households} households, "
                    f"{'above' if over else 'below'} the band {band[0]}–{band[1]}; "
                    + (
                        "split it or give blocks to a neighbour"
                        if over
                        else "merge it or take blocks from a neighbour"
                    ),
                    measures={"band": list(band)},
                )
            )
        if g.population > rule.max_population:
            found.append(
                Violation(
                    rule="workload",
                    check="population_over",
                    severity=rule.severity,
                    community=g.community,
                    grids=[g.code],
                    households=g.households,
                    message=f"grid {g.code} has {g.population} people, over {rule.max_population}",
                )
            )
    return found


def staffing(facts: list[GridFacts], profile: Profile) -> list[Violation]:
    rule = profile.rules.staffing
    found = []
    for g in facts:
        need = workers_needed(profile, g.households)
        if g.workers < need:
            found.append(
                Violation(
                    rule="staffing",
                    check="understaffed",
                    severity=rule.severity,
                    community=g.community,
                    grids=[g.code],
                    households=g.households,
                    message=f"grid {g.code}: {g.workers} worker{'' if g.workers == 1 else 's'} "
                    f"for {g.households} households; "
                    f"{need} needed (one per {rule.households_per_worker} households, 百户一人)",
                    measures={"workers": g.workers, "needed": need},
                )
            )
        if g.responsible == 0:
            found.append(
                Violation(
                    rule="staffing",
                    check="no_responsible_worker",
                    severity=rule.severity,
                    community=g.community,
                    grids=[g.code],
                    message=f"grid {g.code} has no named responsible worker (定人定责)",
                )
            )
    return found


def service_teams(facts: list[GridFacts], profile: Profile) -> list[Violation]:
    rule = profile.rules.service_teams
    found = []
    for g in facts:
        if g.teams == 0 or (g.volunteers or 0) < rule.min_volunteers:
            found.append(
                Violation(
                    rule="service_teams",
                    check="no_team" if g.teams == 0 else "team_too_small",
                    severity=rule.severity,
                    community=g.community,
                    grids=[g.code],
                    message=(
                        f"grid {g.code} has no volunteer service team"
                        if g.teams == 0
                        else f"grid {g.code}: the service team has {g.volunteers} volunteers, "
                        f"under {rule.min_volunteers}"
                    ),
                    measures={"volunteers": g.volunteers or 0},
                )
            )
    return found


def party_branches(facts: list[GridFacts], profile: Profile) -> list[Violation]:
    rule = profile.rules.party_branches
    return [
        Violation(
            rule="party_branches",
            check="branch_missing",
            severity=rule.severity,
            community=g.community,
            grids=[g.code],
            message=f"{g.kind} grid {g.code} has no party branch; the profile requires one",
        )
        for g in facts
        if g.kind in rule.required_for and g.branches == 0
    ]


def community_stats(
    facts: list[GridFacts], profile: Profile, distances: dict[str, tuple[float, float, float]]
) -> list[CommunityStats]:
    by_community: dict[str, list[GridFacts]] = {}
    for g in facts:
        by_community.setdefault(g.community, []).append(g)
    stats = []
    for code in sorted(by_community):
        grids = by_community[code]
        geo = [g for g in grids if g.kind == "geographic"]
        counts = [g.households for g in geo]
        mean = statistics.fmean(counts) if counts else None
        deviations = []
        for g in geo:
            band = band_of(profile, g.kind, g.urban)
            if band:
                target = (band[0] + band[1]) / 2
                deviations.append(abs(g.households - target) / target)
        d = distances.get(code)
        stats.append(
            CommunityStats(
                code=code,
                grids=len(grids),
                households=sum(g.households for g in grids),
                households_min=min(counts) if counts else None,
                households_max=max(counts) if counts else None,
                households_mean=round(mean, 1) if mean is not None else None,
                households_cv=round(statistics.pstdev(counts) / mean, 4) if mean else None,
                max_deviation=round(max(deviations), 4) if deviations else None,
                workers=sum(g.workers for g in grids),
                workers_needed=sum(workers_needed(profile, g.households) for g in grids),
                post_distance_mean_m=round(d[0], 1) if d else None,
                post_distance_p95_m=round(d[1], 1) if d else None,
                post_distance_max_m=round(d[2], 1) if d else None,
            )
        )
    return stats
