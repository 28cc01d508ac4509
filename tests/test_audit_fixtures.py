"""The audit against the canonical cases of ``tests/canonical.py``.

Each test inserts one case inside the ``db`` transaction (rolled back afterwards), runs
``run_audit`` on it and checks the findings against values computed here, independently
of the audit's SQL: overlays with shapely on the very lon/lat geometries that were stored,
geodesic areas with ``pyproj.Geod``, and shapes compared in local metres.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

import shapely
from pyproj import Geod
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry

from gis.audit.profile import Profile, parse_profile
from gis.audit.report import AuditReport, Violation
from gis.audit.run import RULE_ORDER, run_audit
from gis.errors import InvalidInput
from tests import canonical as cases
from tests.canonical import Case, insert_case, local, lonlat

GEOD = Geod(ellps="WGS84")
NOISE_M2 = 1e-6
# ST_AsGeoJSON(…, 7) rounds to 1e-7° (≈ 1 cm); shapes must agree to 2 cm
SHAPE_TOLERANCE_M = 0.02


def m2(geom: BaseGeometry) -> float:
    """Geodesic area (m²) of a lon/lat geometry."""
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def area(expected: float) -> object:
    """Equal within 0.1 % or 0.01 m²."""
    return pytest.approx(expected, rel=1e-3, abs=0.01)


def same_shape(found: dict | None, expected_lonlat: BaseGeometry) -> bool:
    assert found is not None, "the violation carries no geometry"
    return bool(local(shape(found)).hausdorff_distance(local(expected_lonlat)) < SHAPE_TOLERANCE_M)


def polygons(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of an overlay result (ST_CollectionExtract(…, 3))."""
    return shapely.union_all([p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"])


def audit(
    db: Connection, case: Case, code: str | None = None, profile: Profile | None = None
) -> AuditReport:
    """Insert ``case`` and audit its community (or ``code``) inside the test transaction."""
    insert_case(db, case)
    return run_audit(db, code or case.community, profile)


def of(report: AuditReport, rule: str, *checks: str) -> list[Violation]:
    return [v for v in report.of_rule(rule) if not checks or v.check in checks]


def gaps(case: Case, community: str) -> list[BaseGeometry]:
    """Pieces of the community in no grid, computed with shapely, largest first."""
    where = next(c.geom for c in case.communities if c.key == community)
    grids = [g.geom for g in case.grids if g.key.startswith(community)]
    rest = where.difference(shapely.union_all(grids))
    parts = [p for p in shapely.get_parts(rest) if p.geom_type == "Polygon" and m2(p) > NOISE_M2]
    return sorted(parts, key=m2, reverse=True)


def custom_profile(yaml_rules: str) -> Profile:
    return parse_profile(f"name: custom\nrules:\n{yaml_rules}", "custom.yaml")


def test_cases_are_clear_of_the_demo(db: Connection) -> None:
    """Nothing already in the database lies in the cases' frame, so only the case is seen."""
    frame = shapely.to_wkt(cases._FRAME, rounding_precision=-1)
    counts = db.execute(
        text("""
        WITH f AS (SELECT ST_GeomFromText(:wkt, 4326) AS g)
        SELECT (SELECT count(*) FROM region, f WHERE ST_Intersects(geom, f.g)),
               (SELECT count(*) FROM grid, f WHERE ST_Intersects(geom, f.g)),
               (SELECT count(*) FROM building, f WHERE ST_Intersects(geom, f.g)),
               (SELECT count(*) FROM organization, f WHERE ST_Intersects(geom, f.g)),
               (SELECT count(*) FROM police_post, f WHERE ST_Intersects(geom, f.g)),
               (SELECT count(*) FROM region WHERE code LIKE '659001%')
        """),
        {"wkt": frame},
    ).one()
    assert tuple(counts) == (0, 0, 0, 0, 0, 0)


def test_stored_geometries_are_the_canonical_ones(db: Connection) -> None:
    insert_case(db, cases.SLIVERS)
    for g in cases.SLIVERS.grids:
        wkb = db.execute(
            text("SELECT ST_AsBinary(geom) FROM grid WHERE code = :c"), {"c": g.key}
        ).scalar_one()
        stored = shapely.from_wkb(bytes(wkb))
        assert stored.geom_type == "MultiPolygon"
        assert shapely.equals_exact(stored.geoms[0], g.geom, tolerance=0)


def test_a_gap_between_two_grids_is_one_blind_spot(db: Connection) -> None:
    case = cases.GAP
    report = audit(db, case)
    (expected,) = gaps(case, case.community)
    strip = lonlat(case.at(box(45, 0, 55, 100)))
    assert m2(expected) == area(1000.0)

    (spot,) = of(report, "blind_spots")
    assert (spot.check, spot.severity, spot.community) == ("blind_spot", "error", case.community)
    assert spot.area_m2 == area(m2(expected))
    assert spot.measures["share"] == pytest.approx(
        m2(expected) / m2(case.communities[0].geom), rel=1e-3
    )
    assert same_shape(spot.geometry, expected)
    assert same_shape(spot.geometry, strip)
    assert of(report, "overlaps") == []
    assert of(report, "spill") == []


def test_b_a_hole_filled_by_nothing_is_a_blind_spot(db: Connection) -> None:
    case = cases.HOLE_EMPTY
    report = audit(db, case)
    (expected,) = gaps(case, case.community)
    assert expected.equals(lonlat(case.at(box(40, 40, 60, 60))))

    (spot,) = of(report, "blind_spots")
    assert (spot.check, spot.severity) == ("blind_spot", "error")
    assert spot.area_m2 == area(m2(expected))
    assert spot.area_m2 == area(400.0)
    assert same_shape(spot.geometry, expected)
    assert of(report, "overlaps") == []


def test_c_a_hole_filled_by_a_grid_is_neither_gap_nor_overlap(db: Connection) -> None:
    case = cases.HOLE_FILLED
    outer, inner = (g.geom for g in case.grids)
    assert gaps(case, case.community) == []
    assert outer.intersection(inner).area == 0.0
    assert not outer.overlaps(inner)
    assert outer.touches(inner)

    report = audit(db, case)
    assert of(report, "blind_spots") == []
    assert of(report, "overlaps") == []
    assert of(report, "geometry") == []


def test_d_grids_sharing_an_edge_do_not_overlap(db: Connection) -> None:
    case = cases.SHARED_EDGE
    west, east = (g.geom for g in case.grids)
    assert west.touches(east)
    assert west.intersection(east).geom_type == "LineString"
    assert gaps(case, case.community) == []

    report = audit(db, case)
    assert of(report, "overlaps") == []
    assert of(report, "blind_spots") == []


def test_e_a_grid_inside_another_is_one_nested_overlap(db: Connection) -> None:
    case = cases.NESTED
    outer, inner = case.grids
    # the predicate a naive check would use misses this case
    assert not outer.geom.overlaps(inner.geom)
    assert inner.geom.within(outer.geom)

    report = audit(db, case)
    (overlap,) = of(report, "overlaps")
    assert (overlap.check, overlap.severity) == ("nested_grid", "error")
    assert overlap.grids == [outer.key, inner.key]
    assert overlap.measures["nested"] is True
    assert overlap.area_m2 == area(m2(inner.geom))
    assert overlap.area_m2 == area(900.0)
    assert same_shape(overlap.geometry, inner.geom)
    assert of(report, "blind_spots") == []


def test_f_slivers_below_the_tolerance_are_warnings(db: Connection) -> None:
    case = cases.SLIVERS
    report = audit(db, case)
    big, small = gaps(case, case.community)
    assert m2(big) == area(5.0)
    assert m2(small) == area(0.5)
    assert big.equals(lonlat(case.at(box(47.5, 60, 50, 62))))

    spots = sorted(of(report, "blind_spots"), key=lambda v: -(v.area_m2 or 0))
    assert [(v.check, v.severity) for v in spots] == [
        ("blind_spot", "error"),
        ("sliver_gap", "warning"),
    ]
    assert [v.area_m2 for v in spots] == [area(m2(big)), area(m2(small))]
    assert same_shape(spots[0].geometry, big)
    assert same_shape(spots[1].geometry, small)

    west, east = (g.geom for g in case.grids)
    tab = polygons(west.intersection(east))  # GEOS adds the shared edges as lines
    assert tab.equals(lonlat(case.at(box(49.5, 80, 50, 81))))
    assert m2(tab) == area(0.5)
    (overlap,) = of(report, "overlaps")
    assert (overlap.check, overlap.severity) == ("sliver_overlap", "warning")
    assert overlap.area_m2 == area(m2(tab))
    assert same_shape(overlap.geometry, tab)


def test_g_a_multipart_community_tiled_part_by_part_is_clean(db: Connection) -> None:
    case = cases.MULTIPART_COMMUNITY
    assert len(case.communities[0].geom.geoms) == 2
    assert gaps(case, case.community) == []

    report = audit(db, case)
    for rule in ("blind_spots", "overlaps", "spill", "geometry", "codes"):
        assert of(report, rule) == [], rule


def test_h_a_grid_spilling_into_the_next_community(db: Connection) -> None:
    case = cases.SPILL
    home, neighbour = (c.key for c in case.communities)
    spiller, other = case.grids
    outside = spiller.geom.difference(case.communities[0].geom)
    onto = spiller.geom.intersection(other.geom)
    assert m2(outside) == area(1000.0)
    assert m2(onto) == area(m2(outside))

    report = audit(db, case, cases.STREET)
    (spill,) = of(report, "spill")
    assert (spill.severity, spill.community, spill.grids) == ("error", home, [spiller.key])
    assert spill.area_m2 == area(m2(outside))
    assert spill.measures["into"] == [neighbour]
    assert same_shape(spill.geometry, outside)
    (overlap,) = of(report, "overlaps")
    assert (overlap.check, overlap.grids) == ("overlap", [spiller.key, other.key])
    assert overlap.area_m2 == area(m2(onto))
    assert same_shape(overlap.geometry, onto)
    assert of(report, "blind_spots") == []


def test_h_the_neighbour_alone_sees_the_overlap_not_the_spill(db: Connection) -> None:
    case = cases.SPILL
    neighbour = case.communities[1].key
    spiller, other = case.grids
    report = audit(db, case, neighbour)
    assert of(report, "spill") == []
    (overlap,) = of(report, "overlaps")
    assert (overlap.community, overlap.grids) == (neighbour, [other.key, spiller.key])
    assert overlap.area_m2 == area(m2(spiller.geom.intersection(other.geom)))


def test_i_organizations_on_a_shared_boundary(db: Connection) -> None:
    case = cases.ORGS_ON_BOUNDARY
    codes = [g.key for g in case.grids]
    for org in case.orgs:  # each stands, exactly, in both grids
        assert [g.key for g in case.grids if g.geom.intersects(org.geom)] == codes

    ids = insert_case(db, case)
    report = run_audit(db, case.community)
    (finding,) = of(report, "organizations")
    assert finding.check == "unassigned"
    assert finding.measures["organization"] == ids["on edge, unassigned"]
    assert finding.measures["stands_in"] == sorted(codes)
    assert finding.grids == [min(codes)]  # the documented proposal: the lowest code
    assert same_shape(finding.geometry, Point(case.orgs[2].geom.coords[0]))


def test_j_a_building_split_60_40(db: Connection) -> None:
    case = cases.SPLIT_BUILDING
    (building,) = case.buildings
    expected = [m2(building.geom.intersection(g.geom)) / m2(building.geom) for g in case.grids]
    assert expected == [pytest.approx(0.6, rel=1e-3), pytest.approx(0.4, rel=1e-3)]

    ids = insert_case(db, case)
    report = run_audit(db, case.community)
    (split,) = of(report, "buildings_split")
    assert split.measures["building"] == ids["split"]
    assert split.grids == [g.key for g in case.grids]
    assert split.measures["shares"] == [pytest.approx(s, abs=1e-4) for s in expected]
    assert split.households == building.households
    assert same_shape(split.geometry, building.geom)


def test_k_grids_with_zero_one_and_two_police_posts(db: Connection) -> None:
    case = cases.POSTS
    for post in case.posts:  # every post stands inside the grid it serves
        assert case.grid(post.grid_code or "").geom.contains(post.geom)
    served = {g.key: sorted(p.key for p in case.posts if p.grid_code == g.key) for g in case.grids}
    assert [len(v) for v in served.values()] == [0, 1, 2]

    report = audit(db, case)
    found = {v.grids[0]: v for v in of(report, "police_posts", "no_post", "several_posts")}
    expected = {code: posts for code, posts in served.items() if len(posts) != 1}
    assert set(found) == set(expected)
    for code, posts in expected.items():
        assert found[code].check == ("no_post" if not posts else "several_posts")
        assert found[code].measures == {"posts": len(posts), "post_codes": posts}
    assert of(report, "police_posts", "post_outside_grid", "post_without_grid") == []


def test_an_invalid_grid_is_a_finding_and_the_other_checks_still_run(db: Connection) -> None:
    case = cases.BOWTIE
    (grid,) = case.grids
    assert not grid.geom.is_valid
    # rolled back with the test; fail rather than wait behind another session's lock
    db.execute(text("SET LOCAL lock_timeout = '10s'"))
    db.execute(text("ALTER TABLE grid DROP CONSTRAINT grid_geom_valid"))
    report = audit(db, case)

    (invalid,) = of(report, "geometry", "invalid")
    assert (invalid.grids, invalid.severity) == ([grid.key], "error")
    assert grid.key in invalid.message
    assert invalid.measures["reason"].startswith("Self-intersection")
    crossing = lonlat(case.at(Point(50, 50)))
    assert same_shape(invalid.geometry, crossing)

    # the rest of the audit saw the repaired grid: the two uncovered triangles
    repaired = shapely.make_valid(grid.geom)
    rest = case.communities[0].geom.difference(repaired)
    spots = of(report, "blind_spots")
    assert len(spots) == len(shapely.get_parts(rest)) == 2
    assert sum(v.area_m2 or 0 for v in spots) == area(m2(rest))
    assert [v.grids for v in of(report, "police_posts", "no_post")] == [[grid.key]]
    assert [r.rule for r in report.rules] == RULE_ORDER


def test_profile_raises_the_sliver_tolerance(db: Connection) -> None:
    custom = custom_profile("  blind_spots:\n    sliver_area_m2: 10\n")
    report = audit(db, cases.SLIVERS, profile=custom)
    spots = sorted(of(report, "blind_spots"), key=lambda v: -(v.area_m2 or 0))
    assert [(v.check, v.severity) for v in spots] == [("sliver_gap", "warning")] * 2
    assert spots[0].area_m2 == area(5.0)
    summary = next(r for r in report.rules if r.rule == "blind_spots")
    assert (summary.errors, summary.warnings) == (0, 2)


def test_profile_disables_a_rule_and_changes_a_severity(db: Connection) -> None:
    custom = custom_profile("  overlaps:\n    enabled: false\n  spill:\n    severity: warning\n")
    report = audit(db, cases.SPILL, cases.STREET, profile=custom)
    assert of(report, "overlaps") == []
    assert next(r for r in report.rules if r.rule == "overlaps").enabled is False
    (spill,) = of(report, "spill")
    assert spill.severity == "warning"
    assert of(report, "police_posts", "no_post") != []  # the other rules still ran


def test_profile_allows_multipart_grids(db: Connection) -> None:
    case = cases.MULTIPART_GRID
    insert_case(db, case)
    (multipart,) = of(run_audit(db, case.community), "geometry")
    assert (multipart.check, multipart.measures) == ("multipart", {"parts": 2})
    allowed = custom_profile("  geometry:\n    allow_multipart: true\n")
    assert of(run_audit(db, case.community, allowed), "geometry") == []


@pytest.mark.parametrize(
    ("rules", "key", "line"),
    [
        ("  blind_spots:\n    enabled: true\n  no_such_rule:\n    enabled: true\n",
         "rules.no_such_rule", 5),
        ("  overlaps:\n    enabled: maybe\n", "rules.overlaps.enabled", 4),
        ("  police_posts:\n    posts_per_grid: many\n", "rules.police_posts.posts_per_grid", 4),
        ("  spill:\n    severity: error\n    sliver_area_m2: -2\n",
         "rules.spill.sliver_area_m2", 5),
        ("  blind_spots:\n    sliver_width_m: -0.5\n", "rules.blind_spots.sliver_width_m", 4),
    ],
    ids=["unknown rule", "wrong type bool", "wrong type int", "negative area", "negative width"],
)  # fmt: skip
def test_profile_errors_name_the_key_and_line(rules: str, key: str, line: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        custom_profile(rules)
    message = str(caught.value)
    assert f"custom.yaml: line {line}: {key}:" in message


def test_an_invalid_community_is_a_finding_not_a_crash(db: Connection) -> None:
    case = cases.SHARED_EDGE
    insert_case(db, case)
    community = case.communities[0]
    bowtie = lonlat(case.at(shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])))
    db.execute(text("SET LOCAL lock_timeout = '10s'"))
    db.execute(text("ALTER TABLE region DROP CONSTRAINT region_geom_valid"))
    db.execute(
        text("UPDATE region SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE code = :c"),
        {"wkt": bowtie.wkt, "c": community.key},
    )
    report = run_audit(db, community.key)
    (invalid,) = of(report, "geometry", "invalid_community")
    assert invalid.community == community.key
    assert invalid.severity == "error"
    assert invalid.measures["reason"].startswith("Self-intersection")
    assert same_shape(invalid.geometry, lonlat(case.at(Point(50, 50))))
    assert [r.rule for r in report.rules] == RULE_ORDER
