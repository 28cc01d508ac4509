"""Carve, retire, renumber and move a building: each keeps the community a partition."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text
from test_plans import _assert_partition, _clean_overloaded, _draft

import shapely

from gis.edit.plans import create_plan
from gis.edit.publish import diff_plan, publish_plan
from gis.edit.structure import carve_grid, move_building, renumber_grids, retire_grid
from gis.errors import InvalidGeometry, InvalidInput


def _kinds(db: Connection, plan_id: int) -> dict[str, str]:
    return dict(
        db.execute(
            text("SELECT code, kind FROM plan_grid WHERE plan_id = :p"), {"p": plan_id}
        ).all()
    )


def test_carve_a_unit_grid_out_of_a_geographic_one(
    db: Connection, manifest: dict[str, Any]
) -> None:
    community, grid = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="p")
    inner = _draft(db, plan.id)[grid].buffer(-0.0003)
    square = shapely.box(*inner.centroid.buffer(0.0002).bounds).intersection(inner)
    _, code = carve_grid(db, plan.id, community, square, "unit", "新建小区网格", "p")
    kinds = _kinds(db, plan.id)
    assert kinds[code] == "unit"
    assert int(code[12:]) > max(int(c[12:]) for c in kinds if c != code)
    _assert_partition(db, plan.id, community)
    units = [c for c, k in kinds.items() if k == "unit" and c != code]
    if units:
        over_unit = _draft(db, plan.id)[units[0]].buffer(-0.00005)
        with pytest.raises(InvalidGeometry, match="carve only out of geographic"):
            carve_grid(db, plan.id, community, over_unit, "unit", "x", "p")
    with pytest.raises(InvalidInput, match="carve a unit or organization"):
        carve_grid(db, plan.id, community, square, "geographic", "x", "p")


def test_retire_then_codes_are_never_reused(db: Connection, manifest: dict[str, Any]) -> None:
    community, grid = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="p")
    before = _draft(db, plan.id)
    victim = max((c for c in before if c != grid), key=lambda c: int(c[12:]))
    retire_grid(db, plan.id, victim, "p")
    after = _draft(db, plan.id)
    assert victim not in after
    assert len(after) == len(before) - 1
    _assert_partition(db, plan.id, community)
    diff = diff_plan(db, plan.id)
    assert diff.households_after == diff.households_before
    publish_plan(db, plan.id, "p", force_reason="test")
    retired = db.execute(
        text("SELECT retired_at FROM grid_code WHERE code = :c"), {"c": victim}
    ).scalar_one()
    assert retired is not None
    again = create_plan(db, [community], author="p")
    _, codes = renumber_grids(db, again.id, community, "p")
    assert victim not in codes.values()
    assert min(int(c[12:]) for c in codes.values()) > int(victim[12:])


def test_renumber_reads_west_to_east_north_to_south(
    db: Connection, manifest: dict[str, Any]
) -> None:
    community, _ = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="p")
    before = _draft(db, plan.id)
    _, mapping = renumber_grids(db, plan.id, community, "p")
    after = _draft(db, plan.id)
    assert set(after) == set(mapping.values())
    for old, new in mapping.items():
        assert after[new].equals(before[old])
    ordered = sorted(after, key=lambda c: int(c[12:]))
    first = after[ordered[0]].centroid
    assert all(first.y >= after[c].centroid.y - 0.01 for c in ordered)  # the first row
    _assert_partition(db, plan.id, community)


def test_move_a_building_to_the_neighbouring_grid(db: Connection, manifest: dict[str, Any]) -> None:
    community, grid = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="p")
    draft = _draft(db, plan.id)
    neighbours = [
        c for c, g in draft.items() if c != grid and g.intersection(draft[grid]).length > 0
    ]
    rows = db.execute(
        text(
            "SELECT b.id, ST_AsBinary(b.geom) FROM building b JOIN plan_grid p "
            "ON p.plan_id = :p AND p.code = :g AND ST_Contains(p.geom, b.geom) "
            "WHERE b.households > 0"
        ),
        {"p": plan.id, "g": grid},
    ).all()
    to = neighbours[0]
    building, wkb = min(rows, key=lambda r: shapely.from_wkb(bytes(r[1])).distance(draft[to]))
    move_building(db, plan.id, building, to, "p")
    moved = _draft(db, plan.id)
    footprint = shapely.from_wkb(bytes(wkb))
    assert moved[to].contains(footprint.centroid)
    assert not moved[grid].contains(footprint.centroid)
    _assert_partition(db, plan.id, community)
    diff = diff_plan(db, plan.id)
    assert any(m.what == "building" and m.id == str(building) and m.after == to for m in diff.moves)
    assert diff.households_after == diff.households_before
    other = db.execute(
        text(
            "SELECT id FROM building b WHERE NOT EXISTS (SELECT 1 FROM region r "
            "WHERE r.code = :c AND ST_Intersects(r.geom, b.geom)) LIMIT 1"
        ),
        {"c": community},
    ).scalar_one()
    with pytest.raises(InvalidInput, match="stays inside one community"):
        move_building(db, plan.id, other, to, "p")


def test_diff_shows_renumbered_grids(db: Connection, manifest: dict[str, Any]) -> None:
    community, _ = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="p")
    _, mapping = renumber_grids(db, plan.id, community, "p")
    diff = diff_plan(db, plan.id)
    renumbered = {g.code: g.renumbered_from for g in diff.grids if g.status == "renumbered"}
    assert renumbered == {new: old for old, new in mapping.items()}
    assert diff.households_after == diff.households_before
    assert not [g for g in diff.grids if g.status in ("added", "retired")]


def test_move_an_organization_and_a_post(db: Connection, manifest: dict[str, Any]) -> None:
    from gis.edit.assign import move_assignment

    community, grid = _clean_overloaded(manifest)
    plan = create_plan(db, [community], author="p")
    draft = _draft(db, plan.id)
    other = next(c for c in draft if c != grid)
    org = db.execute(
        text("SELECT id FROM organization WHERE grid_code = :g LIMIT 1"), {"g": grid}
    ).scalar_one()
    post = db.execute(
        text("SELECT code FROM police_post WHERE grid_code = :g LIMIT 1"), {"g": grid}
    ).scalar_one()
    move_assignment(db, plan.id, "organization", str(org), other, "p")
    move_assignment(db, plan.id, "police_post", post, other, "p")
    moves = {(m.what, m.id): (m.before, m.after) for m in diff_plan(db, plan.id).moves}
    assert moves[("organization", str(org))] == (grid, other)
    assert moves[("police_post", post)] == (grid, other)
    far = db.execute(
        text("SELECT id FROM organization WHERE grid_code NOT LIKE :c LIMIT 1"),
        {"c": community + "%"},
    ).scalar_one()
    with pytest.raises(InvalidInput, match="stays inside one community"):
        move_assignment(db, plan.id, "organization", str(far), other, "p")
    publish_plan(db, plan.id, "p", force_reason="test")
    assert (
        db.execute(
            text("SELECT grid_code FROM organization WHERE id = :i"), {"i": org}
        ).scalar_one()
        == other
    )
    assert (
        db.execute(
            text("SELECT grid_code FROM police_post WHERE code = :c"), {"c": post}
        ).scalar_one()
        == other
    )
