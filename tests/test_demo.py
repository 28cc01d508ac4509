"""The demo prefecture as loaded in PostGIS, checked against its manifest.

Every check here is computed independently of gridgov's code: geometries are read back
from PostGIS and tested with shapely, areas are geodesic (pyproj.Geod), and the
manifest's planted defects must be exactly what is found — nothing more, nothing less.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import cache
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, text

import geopandas as gpd
import shapely
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
RESIDUE_M2 = 0.05  # reprojection residue where a sliver was planted; far below 1 m²


def m2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


@cache
def _frames(engine: Engine) -> dict[str, gpd.GeoDataFrame]:
    queries = {
        "communities": "SELECT code, urban, geom FROM region WHERE level = 'community'",
        "grids": "SELECT code, kind, community_code, households, geom FROM grid "
        "WHERE valid_to IS NULL",
        "posts": "SELECT code, grid_code, geom FROM police_post",
        "orgs": "SELECT id, grid_code, geom FROM organization",
        "buildings": "SELECT id, households, geom FROM building",
    }
    with engine.connect() as conn:
        return {k: gpd.read_postgis(text(q), conn, geom_col="geom") for k, q in queries.items()}


def planted(manifest: dict[str, Any], kind: str, **where: Any) -> list[dict[str, Any]]:
    return [
        d
        for d in manifest["defects"]
        if d["kind"] == kind and all(d.get(k) == v for k, v in where.items())
    ]


def test_counts_match_manifest(db: Connection, manifest: dict[str, Any]) -> None:
    counts = manifest["counts"]

    def n(sql: str) -> int:
        return int(db.execute(text(sql)).scalar_one())

    levels = dict(db.execute(text("SELECT level, count(*) FROM region GROUP BY level")).all())
    kinds = dict(
        db.execute(
            text("SELECT kind, count(*) FROM grid WHERE valid_to IS NULL GROUP BY kind")
        ).all()
    )
    assert levels == counts["regions"]
    assert kinds == counts["grids_by_kind"]
    assert n("SELECT sum(households) FROM grid") == counts["households"]
    assert n("SELECT sum(households) FROM building") == counts["households"]
    assert n("SELECT count(*) FROM building") == counts["buildings"]
    assert n("SELECT count(*) FROM organization") == counts["organizations"]
    assert n("SELECT count(*) FROM police_post") == counts["police_posts"]
    assert n("SELECT count(*) FROM party_branch") == counts["party_branches"]
    assert n("SELECT count(*) FROM worker") == counts["workers"]
    assert n("SELECT count(*) FROM service_team") == counts["service_teams"]
    assert n("SELECT count(*) FROM road") == counts["roads"]


def test_scale_one_looks_like_changji(manifest: dict[str, Any]) -> None:
    c = manifest["counts"]
    assert c["regions"]["street"] >= 18
    assert 130 <= c["regions"]["community"] <= 170
    assert abs(c["grids"] - 1263) / 1263 < 0.05
    for kind, reported in {"geographic": 409, "unit": 633, "organization": 221}.items():
        assert abs(c["grids_by_kind"][kind] - reported) / reported < 0.1, kind
    assert c["households"] >= 150_000
    assert c["buildings"] >= 20_000
    assert c["organizations"] >= 13_000
    assert 450 <= c["party_branches"] <= 550
    assert c["workers"] >= c["households"] / 100  # 百户一人, before planted shortfalls
    assert c["police_posts"] >= c["grids"] * 0.98


def test_real_codes_and_names(db: Connection) -> None:
    rows = db.execute(
        text(
            "SELECT code, name FROM region WHERE code IN "
            "('652301001001', '652301001000', '652301000000')"
        )
    ).all()
    assert dict(rows) == {
        "652301001001": "西街社区",
        "652301001000": "宁边路街道",
        "652301000000": "昌吉市",
    }
    counties = db.execute(text("SELECT count(*) FROM region WHERE level = 'county'")).scalar_one()
    assert counties >= 2
    # placed where Changji is
    lon, lat = db.execute(
        text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM region "
            "WHERE code = '652301000000') s"
        )
    ).one()
    assert 87.0 < lon < 87.6
    assert 43.8 < lat < 44.2


def test_every_geometry_valid(db: Connection) -> None:
    for table in ("region", "grid", "building", "police_post", "organization", "road"):
        bad = db.execute(
            text(f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)")
        ).scalar_one()
        assert bad == 0, table


def test_codes_unique_and_prefixed(db: Connection) -> None:
    rows = db.execute(
        text(
            "SELECT g.code, g.community_code, r.level FROM grid g "
            "JOIN region r ON r.code = g.community_code WHERE g.valid_to IS NULL"
        )
    ).all()
    codes = [r[0] for r in rows]
    assert len(codes) == len(set(codes))
    for code, community, level in rows:
        assert level == "community"
        assert len(code) == 15
        assert code.isdigit()
        assert code.startswith(community)
    per_community: dict[str, list[int]] = {}
    for code, community, _ in rows:
        per_community.setdefault(community, []).append(int(code[12:]))
    for seqs in per_community.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
    parents = db.execute(
        text("SELECT r.code, r.parent_code FROM region r WHERE r.parent_code IS NOT NULL")
    ).all()
    for code, parent in parents:
        assert code.rstrip("0").startswith(parent.rstrip("0"))


def test_regions_tile_their_parents(db: Connection) -> None:
    """Streets are the union of their communities, counties of their streets."""
    rows = db.execute(
        text(
            "SELECT p.level, ST_Area(p.geom::geography), "
            "ST_Area(ST_SymDifference(p.geom, ST_Union(c.geom))::geography) "
            "FROM region p JOIN region c ON c.parent_code = p.code GROUP BY p.code"
        )
    ).all()
    assert rows
    for level, area, diff in rows:
        assert diff < 1.0, (level, area, diff)


def test_grids_tile_communities_except_planted(
    demo_engine: Engine, manifest: dict[str, Any]
) -> None:
    frames = _frames(demo_engine)
    comms = frames["communities"].set_index("code")
    grids = frames["grids"]
    gaps: list[tuple[str, float]] = []
    spills: list[tuple[str, float]] = []
    for code, members in grids.groupby("community_code"):
        community = comms.loc[code, "geom"]
        union = shapely.union_all(members.geometry.values)
        gaps += [(code, m2(p)) for p in shapely.get_parts(community.difference(union))]
        spills += [(code, m2(p)) for p in shapely.get_parts(union.difference(community))]
    gaps = [g for g in gaps if g[1] > RESIDUE_M2]
    spills = [s for s in spills if s[1] > RESIDUE_M2]
    geoms = grids.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    overlaps = {}
    for a, b in zip(left, right, strict=True):
        if a < b:
            area = m2(shapely.intersection(geoms[a], geoms[b]))
            if area > RESIDUE_M2:
                overlaps[frozenset((grids.code[a], grids.code[b]))] = area

    want_gaps = sorted((d["communities"][0], d["area_m2"]) for d in planted(manifest, "blind_spot"))
    assert len(gaps) == len(want_gaps)
    for (code, area), (want_code, want_area) in zip(sorted(gaps), want_gaps, strict=True):
        assert code == want_code
        assert math.isclose(area, want_area, rel_tol=1e-3, abs_tol=0.02)
    want_overlaps = {
        frozenset(d["grids"]): d["area_m2"]
        for d in planted(manifest, "overlap") + planted(manifest, "spill")
    }
    assert set(overlaps) == set(want_overlaps)
    for pair, area in overlaps.items():
        assert math.isclose(area, want_overlaps[pair], rel_tol=1e-3, abs_tol=0.02)
    want_spills = sorted(
        (
            d["communities"][0]
            if d["grids"][0].startswith(d["communities"][0])
            else d["communities"][1],
            d["area_m2"],
        )
        for d in planted(manifest, "spill")
    )
    assert [c for c, _ in sorted(spills)] == [c for c, _ in want_spills]
    assert planted(manifest, "overlap", nested=True), "a grid inside another is planted"
    assert planted(manifest, "blind_spot", sliver=True), "a sliver below tolerance is planted"


def _containing(
    grids: gpd.GeoDataFrame, points: gpd.GeoSeries, predicate: str
) -> dict[int, set[str]]:
    tree = shapely.STRtree(grids.geometry.values)
    idx_points, idx_grids = tree.query(points.values, predicate=predicate)
    found: dict[int, set[str]] = {}
    for p, g in zip(idx_points.tolist(), idx_grids.tolist(), strict=True):
        found.setdefault(p, set()).add(grids.code.iloc[g])
    return found


def test_police_posts_one_per_grid_except_planted(
    demo_engine: Engine, manifest: dict[str, Any]
) -> None:
    frames = _frames(demo_engine)
    per_grid = Counter(frames["posts"].grid_code)
    none = {g for g in frames["grids"].code if per_grid[g] == 0}
    several = {g for g, n in per_grid.items() if n > 1}
    assert none == {d["grids"][0] for d in planted(manifest, "no_police_post")}
    assert several == {d["grids"][0] for d in planted(manifest, "several_police_posts")}
    inside = _containing(frames["grids"], frames["posts"].geometry, "within")
    for i, post in frames["posts"].iterrows():
        assert post.grid_code in inside.get(i, set()), post.code


def test_organizations_catch_all_except_planted(
    demo_engine: Engine, manifest: dict[str, Any]
) -> None:
    orgs = _frames(demo_engine)["orgs"]
    inside = _containing(_frames(demo_engine)["grids"], orgs.geometry, "within")
    outside = {int(orgs.id.iloc[i]) for i in range(len(orgs)) if i not in inside}
    wrong = {
        int(orgs.id.iloc[i]) for i, grids in inside.items() if orgs.grid_code.iloc[i] not in grids
    }
    assert outside == {d["organization_id"] for d in planted(manifest, "org_outside_grid")}
    assert wrong == {d["organization_id"] for d in planted(manifest, "org_wrong_grid")}
    assert orgs[orgs.id.isin(outside)].grid_code.isna().all()


def test_buildings_in_one_grid_except_planted(
    demo_engine: Engine, manifest: dict[str, Any]
) -> None:
    frames = _frames(demo_engine)
    buildings, grids = frames["buildings"], frames["grids"]
    within = _containing(grids, buildings.geometry, "within")
    touching = _containing(grids, buildings.geometry, "intersects")
    split = [i for i in range(len(buildings)) if i not in within]
    assert all(len(touching.get(i, ())) >= 2 for i in split)
    found = sorted(sorted(touching[i]) for i in split)
    assert found == sorted(sorted(d["grids"]) for d in planted(manifest, "building_split"))
    for i in split:
        shares = sorted(
            m2(buildings.geometry.iloc[i].intersection(g)) / m2(buildings.geometry.iloc[i])
            for g in grids[grids.code.isin(touching[i])].geometry
        )
        assert shares == pytest.approx([0.4, 0.6], abs=0.05)


def test_workload_and_staffing_except_planted(db: Connection, manifest: dict[str, Any]) -> None:
    rows = db.execute(
        text(
            "SELECT g.code, g.kind, r.urban, g.households, "
            "(SELECT count(*) FROM worker w WHERE w.grid_code = g.code), "
            "(SELECT count(*) FROM worker w "
            " WHERE w.grid_code = g.code AND w.role = 'responsible'), "
            "(SELECT min(volunteers) FROM service_team t WHERE t.grid_code = g.code), "
            "(SELECT count(*) FROM party_branch b WHERE b.grid_code = g.code) "
            "FROM grid g JOIN region r ON r.code = g.community_code WHERE g.valid_to IS NULL"
        )
    ).all()
    out_of_band, short, no_lead, small_team, no_branch = set(), set(), set(), set(), set()
    for code, kind, urban, households, workers, leads, volunteers, branches in rows:
        lo, hi = (300, 500) if urban else (200, 400)
        if kind == "geographic" and not lo <= households <= hi:
            out_of_band.add(code)
        if workers < max(1, math.ceil(households / 100)):
            short.add(code)
        if leads != 1:
            no_lead.add(code)
        if volunteers is None or volunteers < 100:
            small_team.add(code)
        if kind == "organization" and branches == 0:
            no_branch.add(code)

    def codes(kind: str) -> set[str]:
        return {d["grids"][0] for d in planted(manifest, kind)}

    assert out_of_band == codes("households_out_of_band")
    assert short == codes("understaffed")
    assert no_lead == codes("no_responsible_worker")
    assert small_team == codes("team_under_minimum")
    assert no_branch == codes("branch_missing")


def test_every_defect_kind_planted(manifest: dict[str, Any]) -> None:
    assert set(manifest["defect_counts"]) == {
        "blind_spot",
        "overlap",
        "spill",
        "no_police_post",
        "several_police_posts",
        "org_outside_grid",
        "org_wrong_grid",
        "building_split",
        "households_out_of_band",
        "understaffed",
        "no_responsible_worker",
        "team_under_minimum",
        "branch_missing",
    }


def test_generation_is_deterministic(demo_engine: Engine) -> None:
    from gis.demo.generate import generate

    again = generate(42, 1)
    db_grids = _frames(demo_engine)["grids"].set_index("code")
    assert len(again.grids) == len(db_grids)
    for g in again.grids[:: max(1, len(again.grids) // 50)]:
        assert shapely.equals_exact(g["geom"], db_grids.loc[g["code"], "geom"], tolerance=1e-9)
        assert g["households"] == db_grids.loc[g["code"], "households"]
    # another seed draws another city (the first county's blocks are enough to tell)
    from gis.demo.catalog import select_counties
    from gis.demo.layout import layout_county

    first = select_counties(1)[0]
    ours = layout_county(first, np.random.default_rng([42, int(first.code[:6])]))
    theirs = layout_county(first, np.random.default_rng([43, int(first.code[:6])]))
    assert [a.wkb for a in ours.atoms[:20]] != [a.wkb for a in theirs.atoms[:20]]
    assert np.isclose(sum(g["households"] for g in again.grids), int(db_grids.households.sum()))
