"""The audit's fast paths agree with the exact computation they skip.

Blind spots and overlaps skip the union of a community's grids when the grids' boundary
chains certify that they tile it (``gis.audit.tiling``), and skip comparing two
communities when the region tree certifies that they cannot overlap. Here the findings
with the certificates must equal, field for field, the findings of the exact reference
(every community unioned and compared) — on every canonical case and on the demo with
its planted defects — and the certificates themselves are checked on shapes whose answer
is known.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, text

from shapely import Polygon, box, to_wkb
from shapely.geometry.base import BaseGeometry

from gis.audit import certify, coverage, tiling
from gis.audit.profile import default_profile
from gis.audit.run import default_region
from gis.audit.scope import prepare_scope
from gis.audit.tiling import untiled
from tests import canonical as cases
from tests.canonical import Case, insert_case


def ccw(geom: BaseGeometry) -> bytes:
    """WKB with outer rings counter-clockwise and holes clockwise."""
    return bytes(to_wkb(geom.normalize().reverse()))


def tiles(whole: BaseGeometry, *parts: BaseGeometry) -> bool:
    owners = ["q"] * (len(parts) + 1)
    signs = [1] * len(parts) + [-1]
    return not untiled(owners, [ccw(p) for p in parts] + [ccw(whole)], signs)


SQUARE = Polygon([(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (0, 1)])


def test_orientation_helper() -> None:
    """normalize() orients outer rings clockwise; reversed they are counter-clockwise."""
    ring = Polygon(box(0, 0, 1, 1).normalize().reverse().exterior)
    assert ring.exterior.is_ccw


def test_certifies_an_exact_tiling() -> None:
    quarters = [box(x, y, x + 1, y + 1) for x in (0, 1) for y in (0, 1)]
    assert tiles(SQUARE, *quarters)


def test_certifies_a_hole_filled_by_another_part() -> None:
    ring = Polygon(SQUARE.exterior.coords, [box(0.5, 0.5, 1.5, 1.5).exterior.coords])
    assert tiles(SQUARE, ring, box(0.5, 0.5, 1.5, 1.5))


def test_certifies_a_multipart_whole() -> None:
    whole = box(0, 0, 1, 1).union(box(3, 0, 4, 1))
    assert tiles(whole, box(0, 0, 1, 1), box(3, 0, 4, 1))


def test_repeated_points_do_not_count() -> None:
    left = Polygon([(0, 0), (1, 0), (1, 0), (1, 1), (0, 1)])
    whole = Polygon([(0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1)])
    assert tiles(whole, left, box(1, 0, 2, 1))


@pytest.mark.parametrize(
    ("what", "parts"),
    [
        ("a gap", [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2)]),
        (
            "a hole filled by nothing",
            [Polygon(SQUARE.exterior.coords, [box(0.5, 0.5, 1, 1).exterior.coords])],
        ),
        ("a part inside another", [SQUARE, box(0.5, 0.5, 1, 1)]),
        ("a part twice", [box(0, 0, 2, 1), box(0, 1, 2, 2), box(0, 1, 2, 2)]),
        ("a part reaching outside", [box(0, 0, 1, 2), box(1, 0, 3, 2)]),
        ("two parts overlapping, sum of areas right", [box(0, 0, 1.5, 2), box(0.5, 0, 2, 2)]),
    ],
)
def test_refuses(what: str, parts: list[BaseGeometry]) -> None:
    assert not tiles(SQUARE, *parts), what


def test_refuses_edges_not_noded_alike() -> None:
    """A neighbour's vertex on an edge (a T-junction): exact in fact, not certified —
    the exact overlay decides."""
    assert not tiles(box(0, 0, 2, 2), box(0, 0, 1, 2), box(1, 0, 2, 1), box(1, 1, 2, 2))


def test_owners_are_independent() -> None:
    good = [ccw(box(0, 0, 1, 1)), ccw(box(0, 0, 1, 1))]
    bad = [ccw(box(5, 5, 6, 6)), ccw(box(5, 5, 7, 6))]
    assert untiled(["a", "a", "b", "b"], good + bad, [1, -1, 1, -1]) == {"b"}
    assert untiled([], [], []) == set()


def test_a_collision_of_sort_keys_only_withholds_the_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Segments are grouped by a mixed 64-bit key; when every key collides, no owner is
    certified — never one whose chains do not cancel."""
    quarters = [box(x, y, x + 1, y + 1) for x in (0, 1) for y in (0, 1)]
    assert tiles(SQUARE, *quarters)
    monkeypatch.setattr(tiling, "_mixed", lambda key: np.zeros(len(key), dtype=np.uint64))
    assert not tiles(SQUARE, *quarters)
    assert not tiles(SQUARE, *quarters[:3])


def findings(conn: Connection, code: str, certify: bool) -> list[dict[str, Any]]:
    """Blind spots and overlaps of ``code``, with or without the certificates."""
    profile = default_profile()
    savepoint = conn.begin_nested()
    try:
        prepare_scope(conn, code, with_buildings=False)
        found = coverage.blind_spots(conn, profile, certify)
        found += coverage.overlaps(conn, profile, certify)
    finally:
        savepoint.rollback()
    return [v.model_dump() for v in found]


def certified(conn: Connection, code: str) -> tuple[list[str], list[str]]:
    savepoint = conn.begin_nested()
    try:
        prepare_scope(conn, code, with_buildings=False)
        found = certify.certified(conn)
        return found.tiled, found.separated
    finally:
        savepoint.rollback()


def drop_validity_checks(conn: Connection) -> None:
    """Let invalid geometries in (rolled back with the test)."""
    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
    conn.execute(text("ALTER TABLE grid DROP CONSTRAINT grid_geom_valid"))
    conn.execute(text("ALTER TABLE region DROP CONSTRAINT region_geom_valid"))


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.name)
def test_fast_path_equals_exact_reference_on_canonical_cases(db: Connection, case: Case) -> None:
    if not all(g.geom.is_valid for g in case.grids):
        drop_validity_checks(db)
    insert_case(db, case)
    for code in (case.community, cases.STREET):
        exact = findings(db, code, certify=False)
        assert findings(db, code, certify=True) == exact


def test_nesting_not_noded_alike_is_certified_the_exact_way(db: Connection) -> None:
    """The canonical street is the whole test frame, not noded with its communities: the
    chains cannot certify it, the exact check (inside, interiors apart) does."""
    insert_case(db, cases.SPILL)
    tiled, separated = certified(db, cases.STREET)
    spilling, other = (c.key for c in cases.SPILL.communities)
    assert (tiled, separated) == ([other], [other])
    assert spilling not in tiled


def test_overlapping_communities_are_not_separated(db: Connection) -> None:
    """Two communities drawn over each other: their grids are compared, as without the
    certificates, and the overlap between them is found."""
    insert_case(db, cases.SHARED_EDGE)
    insert_case(db, cases.NESTED)
    first, second = cases.SHARED_EDGE.communities[0].key, cases.NESTED.communities[0].key
    shift = (
        "ST_XMin((SELECT geom FROM region WHERE code = :a))"
        " - ST_XMin((SELECT geom FROM region WHERE code = :b))"
    )
    db.execute(
        text(f"UPDATE grid SET geom = ST_Translate(geom, {shift}, 0) WHERE community_code = :b"),
        {"a": first, "b": second},
    )
    db.execute(
        text("UPDATE region SET geom = (SELECT geom FROM region WHERE code = :a) WHERE code = :b"),
        {"a": first, "b": second},
    )
    tiled, separated = certified(db, cases.STREET)
    assert first in tiled
    assert separated == []
    exact = findings(db, cases.STREET, certify=False)
    assert findings(db, cases.STREET, certify=True) == exact
    assert any(
        v["rule"] == "overlaps" and {g[:12] for g in v["grids"]} == {first, second} for v in exact
    )


def test_invalid_regions_are_never_certified(db: Connection) -> None:
    drop_validity_checks(db)
    insert_case(db, cases.SHARED_EDGE)
    bowtie = "POLYGON((-1 -1, 1 1, 1 -1, -1 1, -1 -1))"
    db.execute(
        text("UPDATE region SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE code = :c"),
        {"wkt": bowtie, "c": cases.COUNTY},
    )
    tiled, separated = certified(db, cases.PREFECTURE)
    assert tiled == [cases.SHARED_EDGE.community]
    assert separated == []
    exact = findings(db, cases.PREFECTURE, certify=False)
    assert findings(db, cases.PREFECTURE, certify=True) == exact


def test_fast_path_equals_exact_reference_on_the_demo(
    db: Connection, manifest: dict[str, Any]
) -> None:
    top = default_region(db.engine)
    exact = findings(db, top, certify=False)
    fast = findings(db, top, certify=True)
    assert fast == exact
    rules = {v["rule"] for v in fast}
    assert rules == {"blind_spots", "overlaps"}
    tiled, separated = certified(db, top)
    # every community holding a planted gap, overlap or spilling grid is left to the
    # exact path
    defective = {
        d["grids"][0][:12] if d["kind"] == "spill" else d["communities"][0]
        for d in manifest["defects"]
        if d["kind"] in {"blind_spot", "overlap", "spill"}
    }
    assert defective
    assert not defective & set(tiled)
    # and the fast path is taken: most communities are certified, nested in a tidy tree;
    # a community with a grid reaching out of it is never separated from its neighbours
    assert len(separated) > 0.8 * manifest["counts"]["regions"]["community"]
    spilling = {d["grids"][0][:12] for d in manifest["defects"] if d["kind"] == "spill"}
    assert spilling
    assert not spilling & set(separated)
