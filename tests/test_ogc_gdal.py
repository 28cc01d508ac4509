"""Real GDAL clients against a real server: the OGC API – Features driver (OAPIF) reads
the collections page by page, and the MVT driver decodes a served vector tile.

Expected values come from the database with SQL/shapely written here, not from the
API's own queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import serve
from sqlalchemy import Engine, text

import pyogrio
import shapely

from layers.features import collections

# Defaults of layers.tiles.TileSettings: the tile's buffer, in tile units of its extent.
BUFFER, EXTENT = 64, 4096


@pytest.fixture(scope="module")
def base(demo_engine: Engine) -> Iterator[str]:
    assert {"OAPIF", "MVT"} <= set(pyogrio.list_drivers()), "GDAL lacks OAPIF or MVT"
    with serve(demo_engine.url.render_as_string(hide_password=False)) as url:
        yield url


def _live_grids(engine: Engine, kind: str | None = None) -> dict[str, shapely.Geometry]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, ST_AsBinary(geom) FROM grid "
                "WHERE valid_to IS NULL AND (CAST(:kind AS text) IS NULL OR kind = :kind)"
            ),
            {"kind": kind},
        ).all()
    return {code: shapely.from_wkb(bytes(wkb)) for code, wkb in rows}


def test_gdal_lists_every_collection(base: str) -> None:
    listed = pyogrio.list_layers(f"OAPIF:{base}/ogc")
    names = {str(name) for name, _ in listed}
    assert names == {spec.id for spec in collections()}
    types = {str(name): str(kind) for name, kind in listed}
    assert types["grids"] == "MultiPolygon"
    assert types["police_posts"] == "Point"
    assert types["roads"] == "MultiLineString"


def test_gdal_reads_every_live_grid_across_pages(base: str, demo_engine: Engine) -> None:
    expected = _live_grids(demo_engine)
    # GDAL pages by the API definition's limit (1,000 here): it follows a `next` link.
    df = pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer="grids")
    assert len(df) == len(expected) == 1279
    assert set(df["code"]) == set(expected)
    assert df["code"].is_unique
    assert set(df["kind"]) == {"geographic", "unit", "organization"}
    for code, geom in zip(df["code"], df.geometry, strict=True):
        # coordinates are served rounded to 6 decimals (about 0.1 m)
        assert shapely.hausdorff_distance(geom, expected[code]) < 1e-6, code


def test_gdal_reads_a_kind_collection_in_small_pages(base: str, demo_engine: Engine) -> None:
    # 642 unit grids, 150 per page: five `next` links to follow.
    df = pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer="grids_unit", PAGE_SIZE="150")
    assert df["code"].is_unique
    assert set(df["code"]) == set(_live_grids(demo_engine, "unit"))
    assert set(df["kind"]) == {"unit"}


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def _codes_in_tile(engine: Engine, z: int, x: int, y: int, margin: float) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code FROM grid WHERE valid_to IS NULL AND ST_Intersects("
                "ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y, margin => :m))"
            ),
            {"z": z, "x": x, "y": y, "m": margin},
        ).scalars()
        return set(rows)


def test_gdal_decodes_a_served_tile(base: str, demo_engine: Engine, tmp_path: Path) -> None:
    with demo_engine.connect() as conn:  # the centre of Changji's first community
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) AS c FROM region "
                "WHERE code = '652301001001') AS s"
            )
        ).one()
    z = 13
    x, y = _tile_of(lon, lat, z)
    r = httpx.get(f"{base}/tiles/grids/{z}/{x}/{y}.mvt", timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(r.content)

    assert [str(n) for n, _ in pyogrio.list_layers(path)] == ["grids"]
    df = pyogrio.read_dataframe(path, layer="grids")
    found = set(df["code"])
    inside = _codes_in_tile(demo_engine, z, x, y, 0.0)
    with_buffer = _codes_in_tile(demo_engine, z, x, y, BUFFER / EXTENT)
    assert len(inside) > 10
    assert inside <= found <= with_buffer
    assert set(df["kind"]) <= {"geographic", "unit", "organization"}

    # GDAL georeferences the tile from its z/x/y path: a grid lying wholly inside the
    # tile decodes to (nearly) where PostGIS puts it; a tile unit is about 2.4 m at z13.
    assert df.crs is not None
    assert df.crs.to_epsg() == 3857
    with demo_engine.connect() as conn:
        code, wkb = conn.execute(
            text(
                "SELECT code, ST_AsBinary(ST_Transform(geom, 3857)) FROM grid "
                "WHERE valid_to IS NULL AND ST_Within(ST_Transform(geom, 3857), "
                "ST_TileEnvelope(:z, :x, :y)) ORDER BY ST_Area(geom) DESC LIMIT 1"
            ),
            {"z": z, "x": x, "y": y},
        ).one()
    original = shapely.from_wkb(bytes(wkb))
    decoded = df.set_index("code").geometry[code]
    assert shapely.hausdorff_distance(decoded, original) < 10.0
    assert abs(decoded.area - original.area) / original.area < 0.02
