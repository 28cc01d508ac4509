"""Plans on the demo: draft → edit → validate → diff → publish, history, conflicts.

Each test runs in a transaction that is rolled back (the `db` fixture); publishing inside
it uses statement clock times, so several publishes in one test get distinct instants.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

import shapely
from pyproj import Geod
from shapely.geometry import LineString

from gis.audit.run import run_audit
from gis.edit.edits import merge_grids, reshape_grid, split_grid
from gis.edit.plans import create_plan, discard_plan, get_plan
from gis.edit.publish import diff_plan, publish_plan, validate_plan
from gis.edit.structure import move_building
from gis.errors import Conflict, InvalidGeometry, InvalidInput

GEOD = Geod(ellps="WGS84")


def m2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def _clean_overloaded(manifest: dict[str, Any]) -> tuple[str, str]:
    """(community, grid) of a planted over-band grid in a community with no other defect."""
    busy: dict[str, int] = {}
    for d in manifest["defects"]:
        for c in d.get("communities", []):
            busy[c] = busy.get(c, 0) + 1
    for d in manifest["defects"]:
        if d["kind"] == "households_out_of_band" and d.get("high"):
            community = d["communities"][0]
            if busy[community] == 1:
                return community, d["grids"][0]
    raise AssertionError("the demo has no clean community with an overloaded grid")


def _draft(db: Connection, plan_id: int) -> dict[str, shapely.Geometry]:
    rows = db.execute(
        text("SELECT code, ST_AsBinary(geom) FROM plan_grid WHERE plan_id = :p"), {"p": plan_id}
    ).all()
    return {code: shapely.from_wkb(bytes(wkb)) for code, wkb in rows}


def _community(db: Connection, code: str) -> shapely.Geometry:
    wkb = db.execute(text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c"), {"c": code})
    return shapely.from_wkb(bytes(wkb.scalar_one()))


def _cut_through(geom: shapely.Geometry, vertical: bool = True, at: float = 0.5) -> LineString:
    minx, miny, maxx, maxy = geom.bounds
    if vertical:
        x = minx + (maxx - minx) * at
        return LineString([(x, miny - 0.01), (x, maxy + 0.01)])
    y = miny + (maxy - miny) * at
    return LineString([(minx - 0.01, y), (maxx + 0.01, y)])


def _assert_partition(db: Connection, plan_id: int, community: str) -> None:
    grids = _draft(db, plan_id)
    boundary = _community(db, community)
    union = shapely.union_all(list(grids.values()))
    assert m2(boundary.symmetric_difference(union)) < 1.0
    items = list(grids.values())
    for i, a in enumerate(items):
        assert a.is_valid
        for b in items[i + 1 :]:
            assert m2(a.intersection(b)) < 1.0


def test_split_the_most_overloaded_grid(db: Connection, manifest: dict[str, Any]) -> None:
    community, grid = _clean_overloaded(manifest)
    before = run_audit(db, community)
    assert [v.grids for v in before.violations if v.rule == "workload"] == [[grid]]
    plan = create_plan(db, [community], author="planner-a", note="rebalance")
    assert plan.status == "draft"
    assert plan.grids > 1
    geom = _draft(db, plan.id)[grid]
    plan, codes = split_grid(db, plan.id, grid, _cut_through(geom), "planner-a", plan.version)
    assert len(codes) >= 2
    assert codes[0] == grid
    assert all(int(c[12:]) > int(grid[12:]) or c == grid for c in codes)
    diff = diff_plan(db, plan.id)
    assert diff.households_before == diff.households_after
    changed = {g.code: g for g in diff.changed}
    assert {c for c, g in changed.items() if g.status == "added"} == set(codes[1:])
    parts = sum(changed[c].households_after for c in codes)
    assert parts == changed[grid].households_before
    assert sum(changed[c].area_after_m2 for c in codes) == pytest.approx(
        changed[grid].area_before_m2, rel=1e-6
    )
    assert any(
        m.what == "building" and m.before == grid and m.after in codes[1:] for m in diff.moves
    )
    findings = validate_plan(db, plan.id)
    assert not [v for v in findings if v.rule == "workload" and v.grids == [grid]]
    _assert_partition(db, plan.id, community)


def test_publish_refuses_errors_unless_forced_and_keeps_history(
    db: Connection, manifest: dict[str, Any]
) -> None:
    community, grid = _clean_overloaded(manifest)
    old = db.execute(
        text("SELECT ST_AsText(geom), version FROM grid WHERE code = :c AND valid_to IS NULL"),
        {"c": grid},
    ).one()
    plan = create_plan(db, [community], author="planner-a")
    plan, codes = split_grid(
        db, plan.id, grid, _cut_through(_draft(db, plan.id)[grid]), "planner-a"
    )
    errors = [v for v in validate_plan(db, plan.id) if v.severity == "error"]
    assert errors  # the straight cut crosses buildings (包户集中)
    with pytest.raises(InvalidInput, match="error finding"):
        publish_plan(db, plan.id, "planner-a")
    assert get_plan(db, plan.id).status == "draft"
    moment = db.execute(text("SELECT clock_timestamp()")).scalar_one()
    published = publish_plan(db, plan.id, "planner-a", force_reason="cut along the new road")
    assert published.status == "published"
    live = dict(
        db.execute(
            text("SELECT code, version FROM grid WHERE community_code = :c AND valid_to IS NULL"),
            {"c": community},
        ).all()
    )
    assert set(codes) <= set(live)
    assert live[grid] == old.version + 1
    assert all(live[c] == 1 for c in codes[1:])
    # history: as of before the publish, the old geometry
    at_then = db.execute(
        text(
            "SELECT ST_AsText(geom) FROM grid WHERE code = :c AND valid_from <= :t "
            "AND (valid_to IS NULL OR valid_to > :t)"
        ),
        {"c": grid, "t": moment},
    ).scalar_one()
    assert at_then == old[0]
    reason = db.execute(
        text("SELECT reason FROM change WHERE action = 'plan.publish' AND plan_id = :p"),
        {"p": plan.id},
    ).scalar_one()
    assert reason == "cut along the new road"
    # the audit as of then still sees the overloaded grid; now it does not
    assert [
        v.grids for v in run_audit(db, community, as_of=moment).violations if v.rule == "workload"
    ] == [[grid]]


def test_three_publishes_four_dates(db: Connection, manifest: dict[str, Any]) -> None:
    community, _grid = _clean_overloaded(manifest)
    shapes = []
    moments = []
    for step in range(3):
        moments.append(db.execute(text("SELECT clock_timestamp()")).scalar_one())
        shapes.append(
            dict(
                db.execute(
                    text(
                        "SELECT code, ST_AsText(geom) FROM grid WHERE community_code = :c "
                        "AND valid_to IS NULL"
                    ),
                    {"c": community},
                ).all()
            )
        )
        plan = create_plan(db, [community], author="planner-a")
        target = sorted(_draft(db, plan.id))[0]
        split_grid(
            db,
            plan.id,
            target,
            _cut_through(_draft(db, plan.id)[target], step % 2 == 0),
            "planner-a",
        )
        publish_plan(db, plan.id, "planner-a", force_reason=f"step {step}")
    moments.append(db.execute(text("SELECT clock_timestamp()")).scalar_one())
    shapes.append(
        dict(
            db.execute(
                text(
                    "SELECT code, ST_AsText(geom) FROM grid WHERE community_code = :c "
                    "AND valid_to IS NULL"
                ),
                {"c": community},
            ).all()
        )
    )
    for moment, expected in zip(moments, shapes, strict=True):
        found = dict(
            db.execute(
                text(
                    "SELECT code, ST_AsText(geom) FROM grid WHERE community_code = :c "
                    "AND valid_from <= :t AND (valid_to IS NULL OR valid_to > :t)"
                ),
                {"c": community, "t": moment},
            ).all()
        )
        assert found == expected
    assert len(shapes[-1]) == len(shapes[0]) + 3


def test_second_publish_conflicts_and_nothing_is_lost(
    db: Connection, manifest: dict[str, Any]
) -> None:
    community, _grid = _clean_overloaded(manifest)
    first = create_plan(db, [community], author="planner-a")
    second = create_plan(db, [community], author="planner-b")
    publish_plan(db, first.id, "planner-a", force_reason="the overloaded grid stays for now")
    with pytest.raises(Conflict, match="changed since the plan was made"):
        publish_plan(db, second.id, "planner-b")
    assert get_plan(db, second.id).status == "draft"  # the second draft is kept
    assert len(_draft(db, second.id)) == first.grids
    with pytest.raises(Conflict, match="not 0"):
        discard_plan(db, second.id, "planner-b", expected_version=0)
    assert discard_plan(db, second.id, "planner-b").status == "discarded"


def test_stale_version_is_refused(db: Connection, manifest: dict[str, Any]) -> None:
    community, grid = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="planner-a")
    geom = _draft(db, plan.id)[grid]
    split_grid(db, plan.id, grid, _cut_through(geom), "planner-a", expected_version=plan.version)
    with pytest.raises(Conflict, match=f"version {plan.version + 1}, not {plan.version}"):
        split_grid(
            db, plan.id, grid, _cut_through(geom, False), "planner-b", expected_version=plan.version
        )


def test_bad_edits_change_nothing(db: Connection, manifest: dict[str, Any]) -> None:
    community, grid = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="planner-a")
    draft = _draft(db, plan.id)
    geom = draft[grid]
    minx, miny, maxx, maxy = geom.bounds
    stub = LineString([(minx - 0.01, miny - 0.01), (minx - 0.005, miny - 0.005)])
    with pytest.raises(InvalidGeometry, match="does not cross"):
        split_grid(db, plan.id, grid, stub, "planner-a")
    far = [c for c, g in draft.items() if not g.intersects(geom.buffer(1e-6))]
    if far:
        with pytest.raises(InvalidGeometry, match="do not touch"):
            merge_grids(db, plan.id, [grid, far[0]], "planner-a")
    other = db.execute(
        text("SELECT code FROM grid WHERE valid_to IS NULL AND community_code <> :c LIMIT 1"),
        {"c": community},
    ).scalar_one()
    with pytest.raises(InvalidInput, match="only grids of one community"):
        merge_grids(db, plan.id, [grid, other], "planner-a")
    outside = shapely.affinity.translate(geom, 0.05, 0)
    with pytest.raises(InvalidGeometry, match="outside community"):
        reshape_grid(db, plan.id, grid, outside, "planner-a")
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    with pytest.raises(InvalidGeometry, match="invalid geometry"):
        reshape_grid(db, plan.id, grid, bowtie, "planner-a")
    # every refused edit left the draft as it was (each ran in its own savepoint here)
    assert _draft(db, plan.id).keys() == draft.keys()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["split", "merge", "reshape", "move"]),
            st.floats(0.3, 0.7),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_edits_keep_the_partition(
    db: Connection, manifest: dict[str, Any], steps: list[tuple[str, float, bool]]
) -> None:
    community, _ = _clean_overloaded(manifest)
    savepoint = db.begin_nested()
    try:
        plan = create_plan(db, [community], author="property")
        households = sum(g.households_before for g in diff_plan(db, plan.id).grids)
        for action, at, vertical in steps:
            draft = _draft(db, plan.id)
            code = max(draft, key=lambda c: draft[c].area)
            neighbours = [
                c for c, g in draft.items() if c != code and g.intersection(draft[code]).length > 0
            ]
            step = db.begin_nested()  # a refused edit changes nothing
            try:
                if action == "split":
                    split_grid(
                        db, plan.id, code, _cut_through(draft[code], vertical, at), "property"
                    )
                elif action == "merge" and neighbours:
                    merge_grids(db, plan.id, [code, neighbours[0]], "property")
                elif action == "reshape":
                    grown = (
                        draft[code]
                        .buffer((at - 0.5) * 4e-4)
                        .intersection(_community(db, community))
                    )
                    reshape_grid(db, plan.id, code, grown, "property")
                elif action == "move" and neighbours:
                    row = db.execute(
                        text(
                            "SELECT b.id FROM building b JOIN plan_grid p ON p.plan_id = :p "
                            "AND p.code = :g AND ST_Contains(p.geom, b.geom) "
                            "ORDER BY ST_Distance(b.geom, (SELECT geom FROM plan_grid "
                            "WHERE plan_id = :p AND code = :n)) LIMIT 1"
                        ),
                        {"p": plan.id, "g": code, "n": neighbours[0]},
                    ).scalar_one_or_none()
                    if row is not None:
                        move_building(db, plan.id, row, neighbours[0], "property")
                step.commit()
            except (InvalidGeometry, InvalidInput):
                step.rollback()
        _assert_partition(db, plan.id, community)
        diff = diff_plan(db, plan.id)
        assert diff.households_after == households
        buildings_in_two = db.execute(
            text(
                "SELECT count(*) FROM (SELECT b.id FROM building b JOIN plan_grid p "
                "ON p.plan_id = :p AND ST_Intersects(p.geom, ST_PointOnSurface(b.geom)) "
                "GROUP BY b.id HAVING count(*) > 1) s"
            ),
            {"p": plan.id},
        ).scalar_one()
        assert buildings_in_two == 0  # each building's point stands in exactly one grid
        orgs_not_in_one = db.execute(
            text(
                "SELECT count(*) FROM (SELECT o.id, count(p.code) AS n FROM organization o "
                "JOIN region r ON r.code = :c AND ST_Intersects(r.geom, o.geom) "
                "LEFT JOIN plan_grid p ON p.plan_id = :p AND ST_Intersects(p.geom, o.geom) "
                "GROUP BY o.id) s WHERE n <> 1"
            ),
            {"p": plan.id, "c": community},
        ).scalar_one()
        assert orgs_not_in_one == 0  # every organization stands in exactly one grid
    finally:
        savepoint.rollback()


def test_revert_by_planning_from_a_past_date(db: Connection, manifest: dict[str, Any]) -> None:
    community, grid = _clean_overloaded(manifest)
    moment = db.execute(text("SELECT clock_timestamp()")).scalar_one()
    plan = create_plan(db, [community], author="planner-a")
    split_grid(db, plan.id, grid, _cut_through(_draft(db, plan.id)[grid]), "planner-a")
    publish_plan(db, plan.id, "planner-a", force_reason="try")
    back = create_plan(db, [community], author="planner-a", as_of=moment, note="revert")
    assert back.grids == plan.grids  # the grids of that date
    assert isinstance(moment, datetime)
