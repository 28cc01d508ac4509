"""Exports of catalogue layers, read back through GDAL (pyogrio): every format keeps the
features, their attributes, Chinese names and geometries; the GeoPackage carries its
QGIS style and the Shapefile zip its UTF-8 ``.cpg``."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

import pyogrio
import shapely

from gis.errors import InvalidInput, NotFound
from gis.io.export import FORMATS, export_layer

STREET = "652301001000"
ATTRS = ("code", "name", "kind", "households", "population")


@pytest.fixture(scope="module")
def expected(demo_engine: Engine) -> pd.DataFrame:
    """The live grids of one street, straight from SQL."""
    with demo_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, name, kind, households, population, ST_AsBinary(geom) FROM grid "
                "WHERE valid_to IS NULL AND community_code LIKE '652301001%' ORDER BY code"
            )
        ).all()
    frame = pd.DataFrame([r[:-1] for r in rows], columns=list(ATTRS))
    frame["geometry"] = [shapely.from_wkb(bytes(r[-1])) for r in rows]
    return frame


def _read_back(path: Path, fmt: str) -> pd.DataFrame:
    if fmt in ("csv", "xlsx"):
        frame = pyogrio.read_dataframe(path, read_geometry=False)
        frame["geometry"] = shapely.from_wkt(frame["wkt"].to_numpy())
        return frame
    if fmt == "shp":
        frame = pyogrio.read_dataframe(f"/vsizip/{path}/grids.shp")
    elif fmt == "gpkg":
        frame = pyogrio.read_dataframe(path, layer="grids")
    else:
        frame = pyogrio.read_dataframe(path)
    if fmt == "kml":
        frame = frame.rename(columns={"Name": "name"})
    return frame


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_round_trips_through_gdal(
    demo_engine: Engine, expected: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"grids{FORMATS[fmt].suffix}"
    n = export_layer(demo_engine, "grids", path, fmt, region=STREET)
    assert n == len(expected) > 20
    back = _read_back(path, fmt).sort_values("code").reset_index(drop=True)
    assert len(back) == n
    for attr in ATTRS:
        got = back[attr].astype(int) if attr in ("households", "population") else back[attr]
        assert list(got.astype(str)) == list(expected[attr].astype(str)), (fmt, attr)
    assert any("网格" in name or "社区" in name for name in back["name"])  # Chinese names intact
    geoms = np.asarray(shapely.force_2d(np.asarray(back.geometry, dtype=object)))
    distance = shapely.hausdorff_distance(geoms, np.asarray(expected["geometry"], dtype=object))
    assert float(np.max(distance)) < 1e-7, fmt


def test_geopackage_carries_the_qgis_style(demo_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "grids.gpkg"
    export_layer(demo_engine, "grids", path, "gpkg", region=STREET)
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles"
        ).fetchall()
        registered = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert registered == ("attributes",)
    assert len(rows) == 1
    table, column, default, qml = rows[0]
    assert (table, column, default) == ("grids", "geom", 1)
    assert 'type="categorizedSymbol"' in qml
    assert 'attr="kind"' in qml
    for value, rgba in (("geographic", "89,161,79"), ("unit", "242,142,43")):
        assert f'value="{value}"' in qml
        assert rgba in qml


def test_shapefile_zip_says_utf8_and_kml_is_styled(demo_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "grids.zip"
    export_layer(demo_engine, "grids", path, "shp", region=STREET)
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        assert names == ["grids.cpg", "grids.dbf", "grids.prj", "grids.shp", "grids.shx"]
        assert archive.read("grids.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
    kml = tmp_path / "grids.kml"
    export_layer(demo_engine, "grids", kml, "kml", region=STREET)
    body = kml.read_text(encoding="utf-8")
    assert body.count("<Placemark") == body.count("<PolyStyle>") > 20
    assert "732b8ef2" in body  # the unit grids' fill (#f28e2b, 45 %) in KML's aabbggrr


def test_export_of_other_layers_and_bad_requests(demo_engine: Engine, tmp_path: Path) -> None:
    n = export_layer(demo_engine, "communities", tmp_path / "c.fgb", "fgb", region=STREET)
    assert n == len(pyogrio.read_dataframe(tmp_path / "c.fgb")) > 3
    n = export_layer(demo_engine, "police_posts", tmp_path / "p.csv", "csv", region=STREET)
    posts = pyogrio.read_dataframe(tmp_path / "p.csv", read_geometry=False)
    assert len(posts) == n > 10
    assert {"lon", "lat", "wkt"} <= set(posts.columns)
    with pytest.raises(InvalidInput, match="--format 'dwg'"):
        export_layer(demo_engine, "grids", tmp_path / "x.dwg", "dwg")
    with pytest.raises(NotFound, match="region 999999999999"):
        export_layer(demo_engine, "grids", tmp_path / "x.gpkg", "gpkg", region="999999999999")
