"""The audit of the demo prefecture finds every planted defect and no other error."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine

from gis.audit.report import AuditReport, Violation
from gis.audit.run import default_region, run_audit


@pytest.fixture(scope="module")
def report(demo_engine: Engine) -> AuditReport:
    return run_audit(demo_engine, default_region(demo_engine))


def planted(manifest: dict[str, Any], kind: str, **where: Any) -> list[dict[str, Any]]:
    return [
        d
        for d in manifest["defects"]
        if d["kind"] == kind and all(d.get(k) == v for k, v in where.items())
    ]


def errors(report: AuditReport, rule: str, *checks: str) -> list[Violation]:
    return [
        v
        for v in report.violations
        if v.rule == rule and v.severity == "error" and (not checks or v.check in checks)
    ]


def test_blind_spots(report: AuditReport, manifest: dict[str, Any]) -> None:
    found = sorted((v.community, v.area_m2) for v in errors(report, "blind_spots"))
    want = sorted(
        (d["communities"][0], d["area_m2"]) for d in planted(manifest, "blind_spot", sliver=False)
    )
    assert [c for c, _ in found] == [c for c, _ in want]
    for (_, area), (_, expected) in zip(found, want, strict=True):
        assert area == pytest.approx(expected, rel=1e-3)
    slivers = [v for v in report.violations if v.check == "sliver_gap"]
    for d in planted(manifest, "blind_spot", sliver=True):
        assert any(
            v.community == d["communities"][0]
            and v.severity == "warning"
            and v.area_m2 == pytest.approx(d["area_m2"], abs=0.02)
            for v in slivers
        )


def test_overlaps_including_nested(report: AuditReport, manifest: dict[str, Any]) -> None:
    found = {frozenset(v.grids): v for v in errors(report, "overlaps")}
    want = {
        frozenset(d["grids"]): d
        for d in planted(manifest, "overlap") + planted(manifest, "spill")
        if not d.get("sliver")
    }
    assert set(found) == set(want)
    for pair, d in want.items():
        assert found[pair].area_m2 == pytest.approx(d["area_m2"], rel=1e-3)
        assert (found[pair].check == "nested_grid") == bool(d.get("nested"))
    sliver_pairs = {frozenset(v.grids) for v in report.violations if v.check == "sliver_overlap"}
    for d in planted(manifest, "overlap", sliver=True):
        assert frozenset(d["grids"]) in sliver_pairs


def test_spill(report: AuditReport, manifest: dict[str, Any]) -> None:
    found = {v.grids[0]: v for v in errors(report, "spill")}
    want = {d["grids"][0]: d for d in planted(manifest, "spill")}
    assert set(found) == set(want)
    for grid, d in want.items():
        assert found[grid].area_m2 == pytest.approx(d["area_m2"], rel=1e-3)
        neighbour_community = d["grids"][1][:12]
        assert neighbour_community in found[grid].measures["into"]


def test_buildings_split(report: AuditReport, manifest: dict[str, Any]) -> None:
    found = sorted(sorted(v.grids) for v in errors(report, "buildings_split"))
    assert found == sorted(sorted(d["grids"]) for d in planted(manifest, "building_split"))
    for v in errors(report, "buildings_split"):
        assert sorted(v.measures["shares"]) == pytest.approx([0.4, 0.6], abs=0.02)


def test_organizations(report: AuditReport, manifest: dict[str, Any]) -> None:
    outside = {
        v.measures["organization"] for v in errors(report, "organizations", "outside_every_grid")
    }
    wrong = {v.measures["organization"] for v in errors(report, "organizations", "wrong_grid")}
    assert outside == {d["organization_id"] for d in planted(manifest, "org_outside_grid")}
    assert wrong == {d["organization_id"] for d in planted(manifest, "org_wrong_grid")}


def test_police_posts(report: AuditReport, manifest: dict[str, Any]) -> None:
    none = {v.grids[0] for v in errors(report, "police_posts", "no_post")}
    several = {v.grids[0] for v in errors(report, "police_posts", "several_posts")}
    assert none == {d["grids"][0] for d in planted(manifest, "no_police_post")}
    assert several == {d["grids"][0] for d in planted(manifest, "several_police_posts")}
    assert not errors(report, "police_posts", "post_outside_grid", "post_without_grid")
    reach = [c for c in report.communities if c.post_distance_mean_m is not None]
    assert len(reach) == len(report.communities)
    for c in reach:
        assert c.post_distance_mean_m <= c.post_distance_p95_m <= c.post_distance_max_m


def test_workload_and_staffing(report: AuditReport, manifest: dict[str, Any]) -> None:
    def grids(rule: str, *checks: str) -> set[str]:
        return {v.grids[0] for v in errors(report, rule, *checks)}

    def truth(kind: str) -> set[str]:
        return {d["grids"][0] for d in planted(manifest, kind)}

    assert grids("workload") == truth("households_out_of_band")
    assert grids("staffing", "understaffed") == truth("understaffed")
    assert grids("staffing", "no_responsible_worker") == truth("no_responsible_worker")
    assert grids("service_teams") == truth("team_under_minimum")
    assert grids("party_branches") == truth("branch_missing")


def test_no_error_outside_the_manifest(report: AuditReport, manifest: dict[str, Any]) -> None:
    explained = Counter(
        {
            "blind_spots": len(planted(manifest, "blind_spot", sliver=False)),
            "overlaps": len([d for d in planted(manifest, "overlap") if not d.get("sliver")])
            + len(planted(manifest, "spill")),
            "spill": len(planted(manifest, "spill")),
            "buildings_split": len(planted(manifest, "building_split")),
            "organizations": len(planted(manifest, "org_outside_grid"))
            + len(planted(manifest, "org_wrong_grid")),
            "police_posts": len(planted(manifest, "no_police_post"))
            + len(planted(manifest, "several_police_posts")),
            "workload": len(planted(manifest, "households_out_of_band")),
            "staffing": len(planted(manifest, "understaffed"))
            + len(planted(manifest, "no_responsible_worker")),
            "service_teams": len(planted(manifest, "team_under_minimum")),
            "party_branches": len(planted(manifest, "branch_missing")),
        }
    )
    found = Counter(v.rule for v in report.violations if v.severity == "error")
    assert found == explained
    assert not errors(report, "geometry")
    assert not errors(report, "codes")


def test_rollup_scores(report: AuditReport) -> None:
    top = report.rollup[0]
    assert top.code == report.region
    assert top.level == "prefecture"
    assert top.errors == report.errors
    assert 0 <= top.score < 1
    clean = [r for r in report.rollup if r.level == "community" and r.errors == 0]
    assert clean
    assert all(r.score == 1.0 for r in clean)
    by_code = {r.code: r for r in report.rollup}
    for r in report.rollup:
        if r.parent_code:
            assert by_code[r.parent_code].errors >= r.errors


def test_audit_of_one_community_and_as_of(demo_engine: Engine, manifest: dict[str, Any]) -> None:
    spot = planted(manifest, "blind_spot", sliver=False)[0]
    community = spot["communities"][0]
    one = run_audit(demo_engine, community)
    assert one.level == "community"
    assert [v.area_m2 for v in errors(one, "blind_spots")] == [
        pytest.approx(spot["area_m2"], rel=1e-3)
    ]
    from datetime import datetime

    before = run_audit(
        demo_engine, community, as_of=datetime.fromisoformat("2020-01-01T00:00+08:00")
    )
    # before the demo's grids existed the whole community is one blind spot
    assert len(errors(before, "blind_spots")) == 1
    assert errors(before, "blind_spots")[0].measures["share"] == pytest.approx(1.0)
