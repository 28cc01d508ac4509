"""A tiny prefecture for the map and API tests, until ``demo_engine`` exists.

Switch to the demo: make :func:`map_engine` take ``demo_engine`` and return it.

Layout (lon 87.20–87.40, lat 44.00–44.08); two streets split at lon 87.30, each split
into two communities at lat 44.04, each community into 3 × 2 grids::

    44.08 +-----+-----+-----+-----+-----+-----+
          | g   | u   | g   | g   | o   | g   |   g geographic, u unit, o organization
    44.06 +-----+-----+-----+-----+-----+-----+   one police post at each grid's centre
          | g   | g   | o   | u   | g   | g   |
    44.04 +=====+=====+=====+=====+=====+=====+   arterial road along lat 44.04
          | ... the same pattern below ...    |   secondary road along lon 87.30
    44.00 +-----+-----+-----+-----+-----+-----+
         87.20             87.30             87.40

Grid 652301001001001 also has a retired version 1, which no map may show.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from gis.db.cluster import Cluster
from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade

__all__ = ["GRID_KINDS_PATTERN", "map_engine", "scratch_database"]

DATABASE = "gridgov_frontend_test"
GRID_KINDS_PATTERN = (
    "geographic",
    "unit",
    "geographic",
    "geographic",
    "geographic",
    "organization",
)
_COLS = 3
_ROWS = 2

STREETS = (
    ("652301001000", "宁边路街道", 87.20, 87.30),
    ("652301002000", "延安北路街道", 87.30, 87.40),
)
COMMUNITIES = (("北京南路社区", "建国路社区"), ("绿洲路社区", "中山路社区"))
RETIRED = "652301001001001"
ROADS = (
    ("北京路", "arterial", "MULTILINESTRING((87.19 44.04,87.41 44.04))"),
    ("延安路", "secondary", "MULTILINESTRING((87.30 43.99,87.30 44.09))"),
    ("建设巷", "local", "MULTILINESTRING((87.2333 44.0,87.2333 44.08))"),
    ("团结巷", "local", "MULTILINESTRING((87.3667 44.0,87.3667 44.08))"),
    ("村道一号", "rural", "MULTILINESTRING((87.20 44.00,87.25 44.03,87.28 44.08))"),
)


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def _rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(regions, grid versions, police posts) of the tiny prefecture."""
    county = _box(87.2, 44.0, 87.4, 44.08)
    regions = [
        {"code": "652300000000", "name": "昌吉回族自治州", "level": "prefecture", "parent": None},
        {"code": "652301000000", "name": "昌吉市", "level": "county", "parent": "652300000000"},
    ]
    for region in regions:
        region["wkt"] = county
    grids: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    for (street, street_name, x0, x1), names in zip(STREETS, COMMUNITIES, strict=True):
        regions.append(
            {
                "code": street,
                "name": street_name,
                "level": "street",
                "parent": "652301000000",
                "wkt": _box(x0, 44.0, x1, 44.08),
            }
        )
        for n, (name, (y0, y1)) in enumerate(
            zip(names, ((44.04, 44.08), (44.0, 44.04)), strict=True), 1
        ):
            community = f"{street[:9]}{n:03d}"
            regions.append(
                {
                    "code": community,
                    "name": name,
                    "level": "community",
                    "parent": street,
                    "wkt": _box(x0, y0, x1, y1),
                }
            )
            dx, dy = (x1 - x0) / _COLS, (y1 - y0) / _ROWS
            for i, kind in enumerate(GRID_KINDS_PATTERN):
                gx0, gy1 = x0 + (i % _COLS) * dx, y1 - (i // _COLS) * dy
                wkt = _box(*(round(v, 6) for v in (gx0, gy1 - dy, gx0 + dx, gy1)))
                code = f"{community}{i + 1:03d}"
                grid = {
                    "code": code,
                    "name": f"{name}第{i + 1}网格",
                    "kind": kind,
                    "community": community,
                    "version": 1,
                    "vf": "2025-01-01",
                    "vt": None,
                    "wkt": wkt,
                }
                if code == RETIRED:
                    old = {"name": f"{name}旧第1网格", "vf": "2024-01-01", "vt": "2025-01-01"}
                    grids.append(grid | old)
                    grid["version"] = 2
                grids.append(grid)
                posts.append(
                    {
                        "code": f"JW{code}",
                        "name": f"{name}第{i + 1}警务站",
                        "grid": code,
                        "wkt": wkt,
                    }
                )
    return regions, grids, posts


def _load(engine: Engine) -> None:
    regions, grids, posts = _rows()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO region (code, name, level, parent_code, households, population, "
                "geom) VALUES (:code, :name, :level, :parent, 2400, 7000, "
                "ST_GeomFromText(:wkt, 4326))"
            ),
            regions,
        )
        codes = [{"code": g["code"], "community": g["community"]} for g in grids if g["vt"] is None]
        conn.execute(
            text("INSERT INTO grid_code (code, community_code) VALUES (:code, :community)"), codes
        )
        conn.execute(
            text(
                "INSERT INTO grid (code, name, kind, community_code, households, population, "
                "version, valid_from, valid_to, geom) VALUES (:code, :name, :kind, :community, "
                "400, 1150, :version, :vf, :vt, ST_GeomFromText(:wkt, 4326))"
            ),
            grids,
        )
        conn.execute(
            text(
                "INSERT INTO police_post (code, name, staff, grid_code, geom) VALUES "
                "(:code, :name, 3, :grid, ST_PointOnSurface(ST_GeomFromText(:wkt, 4326)))"
            ),
            posts,
        )
        conn.execute(
            text("INSERT INTO road (name, class, geom) VALUES (:n, :c, ST_GeomFromText(:w, 4326))"),
            [{"n": n, "c": c, "w": w} for n, c, w in ROADS],
        )


def scratch_database() -> Engine:
    """A fresh migrated database in the scratch cluster, loaded with the tiny prefecture."""
    home = Path(os.environ.get("GRIDGOV_FRONTEND_HOME", "/tmp/gg_frontend"))
    cluster = Cluster(home, DATABASE, say=lambda _msg: None)
    cluster.up()
    cluster.drop_database(DATABASE)
    cluster.create_database(DATABASE)
    engine = create_db_engine(cluster.url())
    upgrade(engine)
    _load(engine)
    return engine


@pytest.fixture(scope="session")
def map_engine() -> Iterator[Engine]:
    """The database the map and API tests read (switch to ``demo_engine`` here)."""
    engine = scratch_database()
    yield engine
    engine.dispose()
