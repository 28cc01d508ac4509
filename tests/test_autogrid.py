"""Automatic grids (gis.autogrid): checked with shapely, independently of the code.

Each test runs in the rolled-back ``db`` transaction: the plans it creates vanish.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Connection, text

import shapely
from pyproj import Transformer

from gis.autogrid import autogrid
from gis.autogrid.atoms import utm_crs
from gis.errors import InvalidInput, NotFound

URBAN = "652301005002"
VILLAGE = "652301005202"


def _metric(conn: Connection, community: str):  # type: ignore[no-untyped-def]
    wkb = conn.execute(
        text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c"), {"c": community}
    ).scalar_one()
    geom = shapely.from_wkb(bytes(wkb))
    crs = utm_crs(geom.centroid.x, geom.centroid.y)
    fwd = Transformer.from_crs(4326, crs, always_xy=True)
    return lambda g: shapely.transform(g, lambda xy: np.column_stack(fwd.transform(*xy.T)))


def _grids(conn: Connection, plan: int, community: str) -> dict[str, tuple[str, int, object]]:
    rows = conn.execute(
        text(
            "SELECT code, kind, households, ST_AsBinary(geom) AS wkb FROM plan_grid "
            "WHERE plan_id = :p AND community_code = :c"
        ),
        {"p": plan, "c": community},
    ).all()
    return {r.code: (r.kind, r.households, shapely.from_wkb(bytes(r.wkb))) for r in rows}


@pytest.mark.parametrize("community", [URBAN, VILLAGE])
def test_a_valid_partition_without_split_buildings(db: Connection, community: str) -> None:
    result = autogrid(db, community, target=400, seed=0, author="test")
    to_m = _metric(db, community)
    grids = _grids(db, result.plan.id, community)
    for code in result.codes:  # as stored (lon/lat): valid and in one piece
        stored = grids[code][2]
        assert isinstance(stored, shapely.Geometry)
        assert stored.is_valid, shapely.is_valid_reason(stored)
        assert len(shapely.get_parts(stored)) == 1
    # in metres (projection may bend a hair-thin notch into a self-touch: make_valid)
    new = {c: shapely.make_valid(to_m(g)) for c, (_, _, g) in grids.items() if c in result.codes}
    kept = {c: to_m(g) for c, (_, _, g) in grids.items() if c in result.kept}
    assert set(grids) == set(new) | set(kept)
    assert all(grids[c][0] == "geographic" for c in new)
    # no overlaps among new grids, nor with kept ones
    codes = sorted(new)
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            assert new[a].intersection(new[b]).area < 1.0, (a, b)
        for k in kept.values():
            assert new[a].intersection(k).area < 1.0
    # the union is the community (kept grids clipped to it)
    boundary = to_m(
        shapely.from_wkb(
            bytes(
                db.execute(
                    text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c"), {"c": community}
                ).scalar_one()
            )
        )
    )
    cover = shapely.union_all([*new.values(), *(k.intersection(boundary) for k in kept.values())])
    assert cover.symmetric_difference(boundary).area < 1.0
    # no building split; households conserved
    rows = db.execute(
        text(
            "SELECT b.households, ST_AsBinary(b.geom) AS wkb FROM building b "
            "JOIN region r ON r.code = :c WHERE b.geom && r.geom "
            "AND ST_Intersects(r.geom, ST_PointOnSurface(b.geom))"
        ),
        {"c": community},
    ).all()
    kept_union = shapely.union_all(list(kept.values())) if kept else shapely.Polygon()
    expected = 0
    for r in rows:
        fp = to_m(shapely.from_wkb(bytes(r.wkb)))
        if not kept_union.contains(fp.point_on_surface()):
            expected += r.households  # counted in the new grids, not the kept ones
        if kept_union.intersection(fp).area > 0.01:
            continue  # stands (partly) in a kept grid: not autogrid's to place
        holding = [c for c, g in new.items() if g.intersection(fp).area > 0.01]
        assert len(holding) == 1, holding
    got = sum(grids[c][1] for c in new)
    assert got == sum(result.metrics.households)
    assert got == expected  # every household outside the kept grids, once
    assert result.buildings_split == 0
    assert result.metrics.contiguous
    assert result.metrics.max_deviation_ideal < 0.25


def test_codes_are_fresh_and_run_west_to_east(db: Connection) -> None:
    issued = set(
        db.execute(
            text("SELECT code FROM grid_code WHERE community_code = :c"), {"c": URBAN}
        ).scalars()
    )
    result = autogrid(db, URBAN, target=400, seed=0)
    assert not issued & set(result.codes)
    assert result.codes == sorted(result.codes)


def test_deterministic_for_a_seed(db: Connection) -> None:
    a = autogrid(db, VILLAGE, target=300, seed=7)
    b = autogrid(db, VILLAGE, target=300, seed=7)
    ga = [g.wkb for _, _, g in sorted(_grids(db, a.plan.id, VILLAGE).values(), key=str)]
    gb = [g.wkb for _, _, g in sorted(_grids(db, b.plan.id, VILLAGE).values(), key=str)]
    assert a.metrics == b.metrics
    assert sorted(ga) == sorted(gb)


def test_locked_grids_unchanged(db: Connection) -> None:
    result = autogrid(db, URBAN, target=400)
    live = db.execute(
        text(
            "SELECT code, households, ST_AsBinary(geom) AS wkb FROM grid WHERE community_code = :c "
            "AND valid_to IS NULL AND kind IN ('unit', 'organization')"
        ),
        {"c": URBAN},
    ).all()
    grids = _grids(db, result.plan.id, URBAN)
    assert sorted(result.kept) == sorted(r.code for r in live)
    for r in live:
        assert grids[r.code][1] == r.households
        assert grids[r.code][2].equals(shapely.from_wkb(bytes(r.wkb)))
    # nothing live changed
    assert (
        db.execute(
            text("SELECT count(*) FROM grid WHERE plan_id = :p"), {"p": result.plan.id}
        ).scalar_one()
        == 0
    )


def test_n_grids(db: Connection) -> None:
    result = autogrid(db, VILLAGE, target=None, n_grids=3)
    assert result.metrics.parts == 3
    assert len(result.codes) == 3


def test_target_above_households_gives_one_grid(db: Connection) -> None:
    result = autogrid(db, VILLAGE, target=100_000)
    assert len(result.codes) == 1
    assert result.warnings


def test_bad_inputs(db: Connection) -> None:
    with pytest.raises(NotFound):
        autogrid(db, "652301005999")
    with pytest.raises(InvalidInput):
        autogrid(db, VILLAGE, target=0)
    db.execute(
        text(
            "DELETE FROM building b USING region r WHERE r.code = :c "
            "AND b.geom && r.geom AND ST_Intersects(r.geom, b.geom)"
        ),
        {"c": VILLAGE},
    )
    with pytest.raises(InvalidInput, match="no buildings"):
        autogrid(db, VILLAGE)


def test_cli_refuses_bad_regions(demo_engine: object, tmp_path: object) -> None:
    """``gridgov autogrid`` on codes it cannot use: one message, exit 1, nothing written."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import database_url

    gridgov = Path(sys.executable).parent / "gridgov"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")}
    env["GRIDGOV_DATABASE_URL"] = database_url()
    env["GRIDGOV_HOME"] = str(tmp_path)
    for code, needle in (("652301005999", "no community"), ("6523", "12-digit")):
        done = subprocess.run(
            [str(gridgov), "autogrid", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert needle in done.stderr
        assert "Traceback" not in done.stderr
