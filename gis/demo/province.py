"""A synthetic province for benchmarks: N prefecture-sized counties.

The demo prefecture (scale 1) is generated once; each county of the province is a copy
of it, shifted on a lattice so no two copies touch, with fresh codes: prefectures
6591…, 6592… (codes no real prefecture of Xinjiang uses), 99 counties each, the demo's
18 streets renumbered 001–018 inside every county, communities and grids keeping their
own sequence digits. Police posts are renumbered per county.

The rows are streamed to the database county by county with COPY (one copy's rows in
memory at a time, besides the template), all in one transaction: on any error nothing
is left. The province goes into its own database (``<name>_province``), never over the
demo or other data unless ``replace``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, make_url, text

import shapely

from gis.demo.generate import DemoData, generate
from gis.demo.load import DEMO_VALID_FROM, TABLES, _copy, demo_fingerprint
from gis.errors import Conflict, InvalidInput
from gis.models import SRID

__all__ = ["MAX_COUNTIES", "ProvinceResult", "load_province", "province_codes", "province_url"]

FIRST_PREFECTURE = 91
PER_PREFECTURE = 99
MAX_COUNTIES = PER_PREFECTURE * (100 - FIRST_PREFECTURE)
COLUMNS = 10  # copies per row of the lattice
GAP = 0.02  # degrees between copies
REGION_COLUMNS = ["code", "name", "level", "parent_code", "urban", "households", "population"]


@dataclass(frozen=True)
class ProvinceResult:
    loaded: bool
    counties: int
    grids: int
    buildings: int
    url: str


def province_codes(n: int) -> list[tuple[str, str]]:
    """(prefecture code, county code) of the ``n`` counties."""
    if not 1 <= n <= MAX_COUNTIES:
        raise InvalidInput(f"--counties must be 1 to {MAX_COUNTIES} (got {n})")
    out = []
    for i in range(n):
        prefecture = f"65{FIRST_PREFECTURE + i // PER_PREFECTURE:02d}"
        out.append((prefecture + "00000000", f"{prefecture}{i % PER_PREFECTURE + 1:02d}000000"))
    return out


def province_url(url: str) -> str:
    """The sibling database ``<name>_province`` on the server of ``url``, created (with
    PostGIS) when missing."""
    from gis.db.engine import create_db_engine

    name = f"{make_url(url).database}_province"
    admin = create_db_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists.scalar_one_or_none() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(target, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        engine.dispose()
    return target


class _Template:
    """The generated prefecture, with what every copy re-codes."""

    def __init__(self, data: DemoData) -> None:
        self.data = data
        streets = sorted(r["code"] for r in data.regions if r["level"] == "street")
        self.street_index = {code[:9]: i + 1 for i, code in enumerate(streets)}
        counties = [r for r in data.regions if r["level"] == "county"]
        self.county_geom = shapely.union_all([r["geom"] for r in counties])
        self.households = sum(r["households"] for r in counties)
        self.population = sum(r["population"] for r in counties)
        self.urban = any(r["urban"] for r in counties)
        xmin, ymin, xmax, ymax = self.county_geom.bounds
        self.step = (xmax - xmin + GAP, ymax - ymin + GAP)

    def offset(self, i: int) -> tuple[float, float]:
        return (i % COLUMNS) * self.step[0], (i // COLUMNS) * self.step[1]

    def code(self, county: str, code: str) -> str:
        """A street, community or grid code of the template inside ``county``."""
        return f"{county[:6]}{self.street_index[code[:9]]:03d}{code[9:]}"


def _ewkb(geoms: Any, dx: float, dy: float) -> list[str]:
    shift = np.array([dx, dy])
    moved = shapely.transform(np.asarray(geoms, dtype=object), lambda xy: xy + shift)
    return list(shapely.to_wkb(shapely.set_srid(moved, SRID), hex=True, include_srid=True))


def _geoms(items: list[dict[str, Any]]) -> list[Any]:
    return [item["geom"] for item in items]


def _write_county(
    conn: Connection, t: _Template, i: int, prefecture: str, county: str
) -> tuple[int, int]:
    d = t.data
    dx, dy = t.offset(i)

    def code(c: str) -> str:
        return t.code(county, c)

    county_row = [
        county,
        f"示范县{i + 1}",
        "county",
        prefecture,
        t.urban,
        t.households,
        t.population,
        _ewkb([shapely.MultiPolygon(getattr(t.county_geom, "geoms", [t.county_geom]))], dx, dy)[0],
    ]
    below = [r for r in d.regions if r["level"] in ("street", "community")]
    regions: Iterator[list[Any]] = (
        [
            code(r["code"]),
            r["name"],
            r["level"],
            county if r["level"] == "street" else code(r["parent_code"]),
            r["urban"],
            r["households"],
            r["population"],
            g,
        ]
        for r, g in zip(below, _ewkb(_geoms(below), dx, dy), strict=True)
    )
    _copy(conn, "region", [*REGION_COLUMNS, "geom"], iter([county_row, *regions]))
    _copy(
        conn,
        "grid_code",
        ["code", "community_code", "issued_at"],
        ([code(g["code"]), code(g["community_code"]), DEMO_VALID_FROM] for g in d.grids),
    )
    grid_cols = ["code", "name", "kind", "community_code", "households", "population"]
    _copy(
        conn,
        "grid",
        [*grid_cols, "status", "version", "valid_from", "geom"],
        (
            [
                code(g["code"]),
                g["name"],
                g["kind"],
                code(g["community_code"]),
                g["households"],
                g["population"],
                "live",
                1,
                DEMO_VALID_FROM,
                wkb,
            ]
            for g, wkb in zip(d.grids, _ewkb(_geoms(d.grids), dx, dy), strict=True)
        ),
    )
    _copy(
        conn,
        "building",
        ["use", "households", "population", "floors", "geom"],
        (
            [b["use"], b["households"], b["population"], b["floors"], wkb]
            for b, wkb in zip(d.buildings, _ewkb(_geoms(d.buildings), dx, dy), strict=True)
        ),
    )
    _copy(
        conn,
        "road",
        ["class", "name", "geom"],
        (
            [r["class"], r["name"], wkb]
            for r, wkb in zip(d.roads, _ewkb(_geoms(d.roads), dx, dy), strict=True)
        ),
    )
    _copy(
        conn,
        "police_post",
        ["code", "name", "kind", "staff", "grid_code", "geom"],
        (
            [
                f"{county[:6]}JW{k + 1:05d}",
                p["name"],
                p["kind"],
                p["staff"],
                code(p["grid_code"]) if p["grid_code"] else None,
                wkb,
            ]
            for k, (p, wkb) in enumerate(zip(d.posts, _ewkb(_geoms(d.posts), dx, dy), strict=True))
        ),
    )
    _copy(
        conn,
        "organization",
        ["name", "category", "employees", "party_members", "grid_code", "geom"],
        (
            [
                o["name"],
                o["category"],
                o["employees"],
                o["party_members"],
                code(o["grid_code"]) if o["grid_code"] else None,
                wkb,
            ]
            for o, wkb in zip(d.organizations, _ewkb(_geoms(d.organizations), dx, dy), strict=True)
        ),
    )
    for table, cols, rows in (
        ("worker", ["name", "grid_code", "role", "phone"], d.workers),
        ("party_branch", ["name", "grid_code", "members", "secretary"], d.branches),
        ("service_team", ["name", "grid_code", "volunteers", "leader"], d.teams),
    ):
        _copy(
            conn,
            table,
            cols,
            ([code(r[c]) if c == "grid_code" else r[c] for c in cols] for r in rows),
        )
    return len(d.grids), len(d.buildings)


def load_province(
    engine: Engine,
    counties: int,
    seed: int = 42,
    replace: bool = False,
    say: Callable[[str], None] = print,
    make: Callable[[], DemoData] | None = None,
) -> ProvinceResult:
    """Load a province of ``counties`` copies of the demo prefecture (see the module)."""
    codes = province_codes(counties)
    url = engine.url.render_as_string(hide_password=True)
    fingerprint = {**demo_fingerprint(seed, 1), "province_counties": counties}
    with engine.begin() as conn:
        held = conn.execute(
            text("SELECT value FROM gridgov_meta WHERE key = 'province'")
        ).scalar_one_or_none()
        if held is not None and dict(held).get("fingerprint") == fingerprint:
            return ProvinceResult(False, counties, held["grids"], held["buildings"], url)
        if conn.execute(text("SELECT EXISTS (SELECT 1 FROM region)")).scalar_one() and not replace:
            raise Conflict(
                f"{url} already holds data; loading a province would replace it. Run again "
                "with --replace, or point GRIDGOV_DATABASE_URL at another database."
            )
    say(f"generating the template prefecture (seed {seed})…")
    template = _Template((make or (lambda: generate(seed, 1)))())
    grids = buildings = 0
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM gridgov_meta WHERE key IN ('demo', 'province')"))
        for prefecture in sorted({p for p, _ in codes}):
            mine = [i for i, (p, _) in enumerate(codes) if p == prefecture]
            shape = shapely.union_all(
                [
                    shapely.transform(
                        template.county_geom, lambda xy, i=i: xy + np.array(template.offset(i))
                    )
                    for i in mine
                ]
            )
            _copy(
                conn,
                "region",
                [*REGION_COLUMNS, "geom"],
                iter(
                    [
                        [
                            prefecture,
                            f"示范州{prefecture[2:4]}",
                            "prefecture",
                            None,
                            template.urban,
                            template.households * len(mine),
                            template.population * len(mine),
                            _ewkb([shapely.MultiPolygon(getattr(shape, "geoms", [shape]))], 0, 0)[
                                0
                            ],
                        ]
                    ]
                ),
            )
        for i, (prefecture, county) in enumerate(codes):
            g, b = _write_county(conn, template, i, prefecture, county)
            grids += g
            buildings += b
            if (i + 1) % 10 == 0 or i + 1 == counties:
                say(f"  {i + 1}/{counties} counties, {grids:,} grids, {buildings:,} buildings")
        conn.execute(
            text("INSERT INTO gridgov_meta (key, value) VALUES ('province', CAST(:v AS jsonb))"),
            {"v": json.dumps({"fingerprint": fingerprint, "grids": grids, "buildings": buildings})},
        )
        conn.execute(text("ANALYZE"))
    return ProvinceResult(True, counties, grids, buildings, url)
