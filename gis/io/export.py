"""Export a catalogue layer to a file: GeoJSON, GeoPackage (with its QGIS style),
Shapefile (a zip with a UTF-8 ``.cpg``), KML (styled), CSV, XLSX and FlatGeobuf — or to
a directory of GeoParquet files, one per county, for batch work outside the database.

The layer's own SQL (``layers.catalogue``) selects the features; ``region`` keeps those
under a region (by code prefix, or by place for layers without codes) and ``as_of`` the
grid versions valid at that time.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Connection, Engine, text

import geopandas as gpd
import pyogrio
import shapely

from gis.errors import InvalidInput, NotFound
from gis.io.styles import ogr_style, qml
from layers.catalogue import get_layer
from layers.queries import WORLD
from layers.spec import LayerSpec

__all__ = ["FORMATS", "PARQUET", "ExportFormat", "export_layer", "export_parquet", "layer_frame"]


class ExportFormat(NamedTuple):
    driver: str
    suffix: str
    media_type: str


FORMATS = {
    "geojson": ExportFormat("GeoJSON", ".geojson", "application/geo+json"),
    "gpkg": ExportFormat("GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": ExportFormat("ESRI Shapefile", ".zip", "application/zip"),
    "kml": ExportFormat("LIBKML", ".kml", "application/vnd.google-earth.kml+xml"),
    "csv": ExportFormat("CSV", ".csv", "text/csv"),
    "xlsx": ExportFormat(
        "XLSX", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "fgb": ExportFormat("FlatGeobuf", ".fgb", "application/vnd.flatgeobuf"),
}
PARQUET = "parquet"  # a directory, one file per county: not a download of the API
PREFIX = {"prefecture": 4, "county": 6, "street": 9, "community": 12}
LIVE = "g.valid_to IS NULL"
AS_OF = "g.valid_from <= :as_of AND (g.valid_to IS NULL OR g.valid_to > :as_of)"
XLSX_CELL = 32767


def _region_level(conn: Connection, region: str) -> str:
    """The level of ``region``; NotFound when the database does not have it."""
    level = conn.execute(
        text("SELECT level FROM region WHERE code = :c"), {"c": region}
    ).scalar_one_or_none()
    if level is None:
        raise NotFound(f"region {region} is not in the database")
    return str(level)


def layer_frame(
    engine: Engine, layer_id: str, region: str | None = None, as_of: datetime | None = None
) -> gpd.GeoDataFrame:
    """The layer's features (EPSG:4326) with its properties, ordered as the layer orders them."""
    spec = get_layer(layer_id)
    sql = spec.sql
    params: dict[str, Any] = dict(WORLD.params())
    if as_of is not None:
        if LIVE not in sql:
            raise InvalidInput(f"layer {layer_id}: has no versions; export it without --as-of")
        sql, params["as_of"] = sql.replace(LIVE, AS_OF), as_of
    with engine.connect() as conn:
        columns = list(conn.execute(text(f"SELECT * FROM ({sql}) q LIMIT 0"), params).keys())
        where = "TRUE"
        if region is not None:
            level = _region_level(conn, region)
            params["prefix"] = region[: PREFIX[level]] + "%"
            params["region"] = region
            key = next((c for c in ("grid_code", "code") if c in columns), None)
            where = (
                f"q.{key} LIKE :prefix"
                if key
                else "ST_Intersects(q.geom, (SELECT geom FROM region WHERE code = :region))"
            )
        props = [c for c in columns if c not in ("geom", "fid")]
        rows = conn.execute(
            text(
                f"SELECT {', '.join(f'q.{c}' for c in props)}, ST_AsBinary(q.geom) "
                f"FROM ({sql}) q WHERE {where}"
            ),
            params,
        ).all()
    frame = pd.DataFrame([r[:-1] for r in rows], columns=props)
    geoms = shapely.from_wkb([bytes(r[-1]) for r in rows]) if rows else []
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326))


def _table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Attributes plus the geometry as WKT and the centroid's lon/lat."""
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    geoms = frame.geometry.values
    out["wkt"] = shapely.to_wkt(geoms, rounding_precision=9, trim=True)
    centroids = shapely.get_coordinates(shapely.centroid(geoms)) if len(frame) else []
    out["lon"] = [round(float(c[0]), 9) for c in centroids]
    out["lat"] = [round(float(c[1]), 9) for c in centroids]
    return out


def _geopackage(frame: gpd.GeoDataFrame, spec: LayerSpec, path: Path) -> None:
    pyogrio.write_dataframe(frame, path, layer=spec.id, driver="GPKG")
    style = pd.DataFrame(
        {
            "f_table_catalog": [""],
            "f_table_schema": [""],
            "f_table_name": [spec.id],
            "f_geometry_column": ["geom"],
            "styleName": [f"gridgov {spec.id}"],
            "styleQML": [qml(spec)],
            "styleSLD": [""],
            "useAsDefault": [True],
            "description": [f"gridgov: {spec.title}"],
            "owner": ["gridgov"],
            "ui": [None],
            "update_time": [datetime.now(UTC).replace(tzinfo=None)],
        }
    )
    pyogrio.write_dataframe(
        style, path, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"}
    )


def _shapefile(frame: gpd.GeoDataFrame, spec: LayerSpec, path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="gridgov-shp-") as tmp:
        shp = Path(tmp) / f"{spec.id}.shp"
        pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile", encoding="UTF-8")
        cpg = shp.with_suffix(".cpg")
        if not cpg.exists():
            cpg.write_text("UTF-8", encoding="ascii")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)


def export_layer(
    engine: Engine,
    layer_id: str,
    path: Path | str,
    fmt: str,
    region: str | None = None,
    as_of: datetime | None = None,
) -> int:
    """Write the layer to ``path`` in ``fmt`` (see :data:`FORMATS`, and :data:`PARQUET`:
    ``path`` is then a directory); the feature count."""
    if fmt == PARQUET:
        return sum(export_parquet(engine, layer_id, path, region, as_of).values())
    if fmt not in FORMATS:
        raise InvalidInput(f"--format {fmt!r}: use one of {', '.join([*FORMATS, PARQUET])}")
    spec = get_layer(layer_id)
    frame = layer_frame(engine, layer_id, region, as_of)
    path = Path(path)
    if path.exists():
        path.unlink()
    driver = FORMATS[fmt].driver
    if fmt == "gpkg":
        _geopackage(frame, spec, path)
    elif fmt == "shp":
        _shapefile(frame, spec, path)
    elif fmt in ("csv", "xlsx"):
        table = _table(frame)
        if fmt == "xlsx" and len(table) and table["wkt"].str.len().max() > XLSX_CELL:
            raise InvalidInput(
                f"layer {layer_id}: a geometry is too long for an XLSX cell "
                f"({XLSX_CELL} characters); export as gpkg or csv"
            )
        pyogrio.write_dataframe(table, path, driver=driver, layer=spec.id)
    elif fmt == "kml":
        styled = frame.copy()
        by = spec.style.by
        values = styled[by] if by and by in styled.columns else [None] * len(styled)
        styled["OGR_STYLE"] = [ogr_style(spec, v) for v in values]
        pyogrio.write_dataframe(styled, path, driver=driver, layer=spec.id)
    else:
        pyogrio.write_dataframe(frame, path, driver=driver, layer=spec.id)
    return len(frame)


_COUNTIES = text("""
SELECT code FROM region WHERE level = 'county' AND code LIKE :prefix ORDER BY code
""")


def _parquet_parts(engine: Engine, region: str | None) -> list[str | None]:
    """The regions of the files: the counties under ``region`` (all counties without
    one), or ``region`` itself from the county level down."""
    with engine.connect() as conn:
        if region is not None and _region_level(conn, region) != "prefecture":
            return [region]
        prefix = region[: PREFIX["prefecture"]] + "%" if region else "%"
        counties: list[str | None] = list(conn.execute(_COUNTIES, {"prefix": prefix}).scalars())
    return counties or [region]


def export_parquet(
    engine: Engine,
    layer_id: str,
    directory: Path | str,
    region: str | None = None,
    as_of: datetime | None = None,
) -> dict[str, int]:
    """Write the layer as GeoParquet into ``directory``, one ``<county code>.parquet``
    per county (read and written county by county); features per file.

    The files are written into a new directory that replaces ``directory`` at the end,
    so a failed export leaves the old one as it was. An existing ``directory`` may hold
    only ``.parquet`` files (it is replaced); anything else is refused. Layers without
    codes (roads, buildings…) are cut by place: a feature on a county border is in the
    files of both counties.
    """
    get_layer(layer_id)  # an unknown layer is refused before anything is written
    target = Path(directory)
    if target.exists() and (
        not target.is_dir() or any(p.suffix != ".parquet" for p in target.iterdir())
    ):
        raise InvalidInput(
            f"--out {target}: a GeoParquet export is a directory of .parquet files; "
            "this path holds other things — name a new or a previous export's directory"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix=".gridgov-parquet-", dir=target.parent) as tmp:
        staging = Path(tmp) / "export"
        staging.mkdir()
        for part in _parquet_parts(engine, region):
            frame = layer_frame(engine, layer_id, part, as_of)
            name = part or "all"
            frame.to_parquet(staging / f"{name}.parquet", index=False)
            counts[name] = len(frame)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return counts
