"""The audit on real public data: Chicago's police beats, districts, community areas, stations.

Every figure the audit reports is recomputed here with shapely, independently of PostGIS,
on the very geometries written to the database. Areas are geodesic on the WGS84
ellipsoid (``pyproj.Geod(ellps="WGS84")``), the same measure as PostGIS's
``ST_Area(geography)`` that the audit uses; figures must agree within 0.1 %.

Two set-ups, each written in a transaction that is rolled back, in a scratch database:

* beats as grids under police districts as communities (one community per district
  number; district 31 is three polygons), the stations as police posts of the beat
  that contains them;
* the 77 community areas as grids of one community, the city outline with its holes
  filled, so the 3 enclaves (suburbs surrounded by the city) are blind spots.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import database_url, drop_database
from realdata import (
    PREFECTURE,
    Area,
    Post,
    beats,
    community_areas,
    districts,
    multipolygon,
    sequenced,
    stations,
    write_hierarchy,
)
from sqlalchemy import Engine

import geopandas as gpd
import shapely
from pyproj import Geod
from shapely.geometry import shape

from gis.audit.report import AuditReport, Violation
from gis.audit.run import run_audit
from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade

SCRATCH = "gridgov_chicago_test"
GEOD = Geod(ellps="WGS84")
NOISE_M2 = 1e-6  # the audit's noise floor: pieces under it are not reported
REL = 1e-3  # 0.1 %

DISTRICT_STREET = "179901001000"
AREAS_STREET = "179901002000"
CITY = "179901002001"


def m2(geom: shapely.Geometry) -> float:
    """Geodesic area in m² (WGS84 ellipsoid) of the polygonal part of ``geom``."""
    return sum(
        abs(GEOD.geometry_area_perimeter(p)[0])
        for p in shapely.get_parts(geom)
        if p.geom_type in ("Polygon", "MultiPolygon")
    )


def pieces(geom: shapely.Geometry) -> list[float]:
    """Areas of the polygons of ``geom`` above the noise floor, largest first."""
    areas = [m2(p) for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return sorted((a for a in areas if a > NOISE_M2), reverse=True)


def district_code(number: int) -> str:
    return f"{DISTRICT_STREET[:9]}{number:03d}"


def total(found: list[Violation]) -> float:
    return sum(v.area_m2 or 0.0 for v in found)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    drop_database(SCRATCH)
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


@dataclass
class BeatsCase:
    report: AuditReport
    beats: gpd.GeoDataFrame  # with grid code, district geometry
    district_geom: dict[int, shapely.MultiPolygon]
    stations: gpd.GeoDataFrame  # with the beat (grid code) containing each


@pytest.fixture(scope="module")
def beats_case(engine: Engine) -> BeatsCase:
    frame = beats()
    polygons = districts()
    district_geom = {
        n: multipolygon(shapely.union_all(list(g.geometry)))
        for n, g in polygons.groupby("district")
    }
    frame["grid"] = ""
    for n, group in frame.groupby("district"):
        frame.loc[group.index, "grid"] = sequenced(district_code(n), list(group["BEAT_NUM"]))
    frame["geometry"] = [multipolygon(g) for g in frame.geometry]

    points = stations()
    tree = shapely.STRtree(frame.geometry.values)
    grid_of = []
    for point in points.geometry:
        inside = [int(i) for i in tree.query(point, predicate="within")]
        assert len(inside) <= 1, f"station at {point} lies in {len(inside)} beats"
        grid_of.append(frame["grid"].iloc[inside[0]] if inside else None)
    points["grid"] = grid_of

    with engine.connect() as conn:
        trans = conn.begin()
        try:
            write_hierarchy(
                conn,
                DISTRICT_STREET,
                "Chicago police districts",
                [
                    Area(district_code(n), f"District {n}", DISTRICT_STREET, geom)
                    for n, geom in district_geom.items()
                ],
                [
                    Area(r.grid, f"Beat {r.BEAT_NUM}", district_code(r.district), r.geometry)
                    for r in frame.itertuples()
                ],
                [
                    Post(
                        "CPD-HQ" if r.DISTRICT == "Headquarters" else f"CPD-{int(r.DISTRICT):02d}",
                        f"Chicago police station {r.DISTRICT}",
                        r.grid,
                        r.geometry,
                    )
                    for r in points.itertuples()
                ],
            )
            report = run_audit(conn, PREFECTURE)
        finally:
            trans.rollback()
    return BeatsCase(report, frame, district_geom, points)


def test_beat_district_slivers(beats_case: BeatsCase) -> None:
    frame, district_geom, report = beats_case.beats, beats_case.district_geom, beats_case.report
    assert len(frame) == 277
    assert len(district_geom) == 23

    # shapely: each beat minus its district (spill), each district minus its beats
    # (blind spots), beat against beat (overlaps)
    spill = {
        r.grid: m2(r.geometry.difference(district_geom[r.district])) for r in frame.itertuples()
    }
    spill = {code: a for code, a in spill.items() if a > NOISE_M2}
    blind = [
        a
        for n, geom in district_geom.items()
        for a in pieces(geom.difference(shapely.union_all(frame[frame.district == n].geometry)))
    ]
    geoms = frame.geometry.values
    tree = shapely.STRtree(geoms)
    overlap = 0.0
    for i, j in zip(*tree.query(geoms, predicate="intersects"), strict=True):
        if i < j:
            overlap += sum(pieces(geoms[i].intersection(geoms[j])))
    expected = sum(spill.values()) + sum(blind) + overlap

    found_spill = report.of_rule("spill")
    found_blind = report.of_rule("blind_spots")
    found_overlap = report.of_rule("overlaps")
    print(
        f"\nshapely: spill {sum(spill.values()):.3f} m² over {len(spill)} beats, "
        f"blind spots {sum(blind):.3f} m² in {len(blind)} pieces, overlaps {overlap:.3f} m²"
        f"\naudit:   spill {total(found_spill):.3f} m² ({len(found_spill)} findings), "
        f"blind spots {total(found_blind):.3f} m² ({len(found_blind)}), "
        f"overlaps {total(found_overlap):.3f} m² ({len(found_overlap)})"
    )
    # every sliver is seen twice: as a beat's spill out of its district and as the
    # neighbouring district's blind spot (no beat of that district covers it)
    assert sum(spill.values()) == pytest.approx(235.6, abs=1.0)
    assert sum(blind) == pytest.approx(235.1, abs=1.0)
    assert overlap == 0.0  # the beats themselves never overlap (data README)
    assert not found_overlap
    assert total(found_spill) == pytest.approx(sum(spill.values()), rel=REL)
    assert total(found_blind) == pytest.approx(sum(blind), rel=REL)
    assert total(found_spill + found_blind + found_overlap) == pytest.approx(expected, rel=REL)
    assert {v.grids[0] for v in found_spill} <= set(spill)
    # every reported piece is above the noise floor, and says so (no "0.0 m²" findings)
    assert all((v.area_m2 or 0.0) > 0 for v in found_spill + found_blind)

    # the largest piece: beat 0411 reaches ~140 m² into district 6 (the data README has
    # the districts the other way round: "a district-6 beat lying in district 4")
    beat = frame[frame.BEAT_NUM == "0411"].iloc[0]
    assert beat.district == 4
    outside = beat.geometry.difference(district_geom[4])
    in_six = m2(outside.intersection(district_geom[6]))
    assert in_six == pytest.approx(140.2, abs=0.5)
    assert m2(outside) == pytest.approx(in_six, rel=REL)
    [finding] = [v for v in found_spill if v.grids == [beat.grid]]
    print(
        f"beat 0411 ({beat.grid}): {finding.message} — audit {finding.area_m2:.3f} m², "
        f"shapely {m2(outside):.3f} m² ({in_six:.3f} m² of it in district 6)"
    )
    assert finding.community == district_code(4)
    assert finding.area_m2 == pytest.approx(m2(outside), rel=REL)
    # the districts the beat reaches into: 6, and district 3 by 0.04 m²
    into = [
        district_code(n)
        for n, geom in district_geom.items()
        if n != 4 and shapely.relate_pattern(beat.geometry, geom, "2********")
    ]
    assert into == [district_code(3), district_code(6)]
    assert finding.measures["into"] == into
    assert finding.severity == "error"
    # ... and the same piece is district 6's largest blind spot
    largest = max(found_blind, key=lambda v: v.area_m2 or 0.0)
    print(f"largest blind spot: {largest.message} (shapely {max(blind):.3f} m²)")
    assert largest.community == district_code(6)
    assert largest.area_m2 == pytest.approx(max(blind), rel=REL)
    assert shape(largest.geometry).intersects(beat.geometry)


def test_enclaves_are_blind_spots(engine: Engine) -> None:
    frame = community_areas()
    assert len(frame) == 77
    frame["geometry"] = [multipolygon(g) for g in frame.geometry]
    city = shapely.union_all(frame.geometry.values)
    filled = shapely.MultiPolygon(
        [shapely.Polygon(p.exterior) for p in shapely.get_parts(city) if p.geom_type == "Polygon"]
    )
    codes = [f"{CITY}{n:03d}" for n in frame["number"]]
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            write_hierarchy(
                conn,
                AREAS_STREET,
                "Chicago community areas",
                [Area(CITY, "City of Chicago, enclaves filled", AREAS_STREET, filled)],
                [
                    Area(code, r.COMMUNITY, CITY, r.geometry)
                    for code, r in zip(codes, frame.itertuples(), strict=True)
                ],
            )
            report = run_audit(conn, PREFECTURE)
        finally:
            trans.rollback()

    holes = [shapely.Polygon(ring) for p in shapely.get_parts(city) for ring in p.interiors]
    gaps = pieces(filled.difference(city))
    spill = sum(m2(g.difference(filled)) for g in frame.geometry)
    geoms = frame.geometry.values
    overlap = 0.0
    for i, j in zip(*shapely.STRtree(geoms).query(geoms, predicate="intersects"), strict=True):
        if i < j:
            overlap += sum(pieces(geoms[i].intersection(geoms[j])))
    found = report.of_rule("blind_spots")
    print(
        f"\nshapely: {len(holes)} enclave holes, {sum(m2(h) for h in holes) / 1e6:.4f} km² "
        f"({', '.join(f'{m2(h):,.0f}' for h in holes)} m²); gaps {sum(gaps):,.1f} m²"
        f"\naudit:   {len(found)} blind spots, {total(found) / 1e6:.4f} km² "
        f"({', '.join(f'{v.area_m2:,.0f}' for v in found)} m²)"
    )
    assert len(holes) == 3
    assert sum(m2(h) for h in holes) == pytest.approx(8.8e6, rel=0.01)  # data README
    assert len(gaps) == 3  # the enclaves are the only gaps between community areas
    assert [v.check for v in found] == ["blind_spot"] * 3
    assert all(v.severity == "error" and v.community == CITY for v in found)
    assert sorted((v.area_m2 or 0.0 for v in found), reverse=True) == pytest.approx(gaps, rel=REL)
    assert total(found) == pytest.approx(sum(m2(h) for h in holes), rel=REL)
    assert total(report.of_rule("spill")) == pytest.approx(spill, abs=0.01)
    assert total(report.of_rule("overlaps")) == pytest.approx(overlap, abs=0.01)
    multipart = {c for c, g in zip(codes, geoms, strict=True) if len(g.geoms) > 1}
    assert {v.grids[0] for v in report.of_rule("geometry")} == multipart


def test_station_beats(beats_case: BeatsCase) -> None:
    frame, points, report = beats_case.beats, beats_case.stations, beats_case.report
    assert len(points) == 23
    assert points["grid"].notna().all(), "every station stands in a beat"
    per_beat = Counter(points["grid"])
    name = dict(zip(frame["grid"], frame["BEAT_NUM"], strict=True))
    district = dict(zip(frame["grid"], frame["district"], strict=True))
    print(
        f"\n{len(per_beat)} of {len(frame)} beats contain a station: "
        + ", ".join(
            f"{name[g]} ({s})"
            for g, s in sorted(zip(points["grid"], points["DISTRICT"], strict=True))
        )
    )
    assert len(per_beat) == 23  # data README: only 23 of 277 beats contain a station
    several = {g for g, n in per_beat.items() if n >= 2}
    # the data README: 22 of 22 district stations stand in their own district
    own = [
        district[g] == int(s)
        for g, s in zip(points["grid"], points["DISTRICT"], strict=True)
        if s != "Headquarters"
    ]
    assert len(own) == 22
    assert all(own)

    found = report.of_rule("police_posts")
    checks = Counter(v.check for v in found)
    print(f"audit police_posts: {dict(checks)}")
    no_post = {v.grids[0] for v in found if v.check == "no_post"}
    assert len(no_post) == checks["no_post"] == len(frame) - len(per_beat) == 254
    assert no_post == set(frame["grid"]) - set(per_beat)
    assert {v.grids[0] for v in found if v.check == "several_posts"} == several == set()
    assert checks["post_outside_grid"] == checks["post_without_grid"] == 0
