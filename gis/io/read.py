"""Read any supported GIS file with GDAL (pyogrio) into a GeoDataFrame in EPSG:4326.

Formats: GeoJSON, GeoPackage, Shapefile (a folder, a ``.shp`` or a ``.zip`` read
through ``/vsizip/``; the ``.cpg`` is honoured, ``encoding="GB18030"`` overrides it),
KML/KMZ, FlatGeobuf, CSV and XLSX (longitude/latitude columns found by their common
names, or a WKT column; or named by the caller). Any EPSG CRS is reprojected to
EPSG:4326; CGCS2000 (EPSG:4490) is relabelled, not shifted; ``crs="gcj02"`` or
``"bd09"`` says the lon/lat are in a Chinese obfuscated system and converts them.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import geopandas as gpd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import InvalidInput
from gis.io.coords import convert_frame

__all__ = ["FORMATS", "LAT_NAMES", "LON_NAMES", "WKT_NAMES", "Source", "read_file"]

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "Shapefile (zip)",
    ".kml": "KML",
    ".kmz": "KMZ",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
    ".xlsx": "XLSX",
}
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "point_x")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "point_y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape")
_GDAL_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError, RuntimeError)


@dataclass(frozen=True)
class Source:
    """What was read: the features in EPSG:4326, the format and the source CRS."""

    path: Path
    format: str
    crs: str
    frame: gpd.GeoDataFrame


def _gdal_path(path: Path) -> tuple[str, str]:
    """The path GDAL opens and the format's name; errors for what cannot be read."""
    if path.is_dir():
        shps = sorted(path.glob("*.shp"))
        if len(shps) != 1:
            raise InvalidInput(
                f"{path}: a folder must hold exactly one .shp (found {len(shps)}); "
                "name the .shp file instead"
            )
        return str(shps[0]), "Shapefile"
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise InvalidInput(
            f"{path.name}: unknown format {suffix or '(no extension)'!r}; gridgov reads {known}"
        )
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.lower().endswith(".shp")]
        except zipfile.BadZipFile:
            raise InvalidInput(f"{path.name}: not a readable zip archive (truncated?)") from None
        if len(members) != 1:
            raise InvalidInput(
                f"{path.name}: the zip must hold exactly one Shapefile (.shp with its "
                f".shx/.dbf/.prj); found {len(members)} .shp files"
            )
        return f"/vsizip/{path.resolve()}/{members[0]}", FORMATS[suffix]
    return str(path), FORMATS[suffix]


def _pick(columns: list[str], wanted: str | None, names: tuple[str, ...], what: str) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise InvalidInput(f"{what} column {wanted!r} is not in the file; it has {columns}")
        return wanted
    lowered = {c.lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _table(
    frame: pd.DataFrame, name: str, lon: str | None, lat: str | None, wkt: str | None
) -> gpd.GeoDataFrame:
    """Points from lon/lat columns, or geometries from a WKT column, of a plain table."""
    columns = [str(c) for c in frame.columns]
    x_col = _pick(columns, lon, LON_NAMES, "longitude")
    y_col = _pick(columns, lat, LAT_NAMES, "latitude")
    wkt_col = _pick(columns, wkt, WKT_NAMES, "WKT") if not (x_col and y_col) else None
    if wkt_col is not None:
        values = frame[wkt_col].fillna("").astype(str)
        try:
            geoms = shapely.from_wkt(values.to_numpy(), on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            bad = next(
                i
                for i, v in enumerate(values)
                if shapely.from_wkt(v, on_invalid="ignore") is None and v
            )
            raise InvalidInput(
                f"{name}: row {bad + 1}, column {wkt_col!r}: not WKT ({exc})"
            ) from None
        rest = frame.drop(columns=[wkt_col])
        return gpd.GeoDataFrame(rest, geometry=gpd.GeoSeries(geoms, index=frame.index))
    if not (x_col and y_col):
        raise InvalidInput(
            f"{name}: no coordinates: name the longitude/latitude columns (--lon/--lat or the "
            f"mapping), or use a WKT column; columns are {columns}; recognised names: "
            f"{'/'.join(LON_NAMES)}, {'/'.join(LAT_NAMES)}, {'/'.join(WKT_NAMES)}"
        )
    xs = pd.to_numeric(frame[x_col], errors="coerce")
    ys = pd.to_numeric(frame[y_col], errors="coerce")
    bad = (xs.isna() | ys.isna()).to_numpy().nonzero()[0]
    if len(bad):
        row = int(bad[0])
        raise InvalidInput(
            f"{name}: row {row + 1}: {x_col}={frame[x_col].iloc[row]!r}, "
            f"{y_col}={frame[y_col].iloc[row]!r} are not numbers ({len(bad)} such rows)"
        )
    geoms = shapely.points(xs.to_numpy(float), ys.to_numpy(float))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index))


def _layers(gdal_path: str, layer: str | None, fmt: str, name: str) -> list[str | None]:
    """The layers to read: the one named, all folders of a KML, else the only one."""
    listed = pyogrio.list_layers(gdal_path)
    names = [str(n) for n, kind in listed if kind is not None or fmt in ("CSV", "XLSX")]
    names = names or [str(n) for n in listed[:, 0]]
    if layer is not None:
        if layer not in names:
            raise InvalidInput(f"{name}: layer {layer!r} is not in the file; layers are {names}")
        return [layer]
    if len(names) <= 1:
        return [names[0] if names else None]
    if fmt in ("KML", "KMZ"):
        return list(names)
    raise InvalidInput(f"{name}: the file has {len(names)} layers {names}; choose one (--layer)")


def _source_crs(frame: gpd.GeoDataFrame, crs: str | None, name: str) -> gpd.GeoDataFrame:
    """Frame in EPSG:4326 (still in gcj02/bd09 when ``crs`` says so)."""
    if crs is not None and crs.lower() not in ("gcj02", "bd09"):
        try:
            given = CRS.from_user_input(crs)
        except CRSError:
            raise InvalidInput(f"--crs {crs!r}: use EPSG:XXXX, gcj02 or bd09") from None
        frame = frame.set_crs(given, allow_override=True)
    if frame.crs is None:
        frame = frame.set_crs(4326)  # CSV/XLSX/KML: lon/lat WGS84 unless told otherwise
    if frame.crs.to_epsg() in (4326, 4490):
        frame = frame.set_crs(4326, allow_override=True)  # CGCS2000 ≈ WGS84: relabel
    else:
        frame = frame.to_crs(4326)
    bounds = frame.total_bounds
    if len(frame) and not (
        bounds[0] >= -180.5
        and bounds[2] <= 180.5
        and abs(bounds[1]) <= 90.5
        and abs(bounds[3]) <= 90.5
    ):
        raise InvalidInput(
            f"{name}: coordinates {bounds.round(1).tolist()} are not longitude/latitude: "
            "the file declares no (or a wrong) CRS; give it with --crs EPSG:XXXX"
        )
    return frame


def read_file(
    path: Path | str,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    wkt: str | None = None,
) -> Source:
    """Read ``path`` into EPSG:4326 (2D); :class:`InvalidInput` naming the file otherwise."""
    path = Path(path)
    gdal_path, fmt = _gdal_path(path)
    options = {"encoding": encoding} if encoding else {}
    frames = []
    try:
        for name in _layers(gdal_path, layer, fmt, path.name):
            if fmt in ("CSV", "XLSX"):
                table = pyogrio.read_dataframe(
                    gdal_path, layer=name, read_geometry=False, **options
                )
                frames.append(_table(table, path.name, lon, lat, wkt))
            else:
                frames.append(pyogrio.read_dataframe(gdal_path, layer=name, **options))
    except _GDAL_ERRORS as exc:
        reason = re.sub(r"\s+", " ", str(exc)).strip()
        raise InvalidInput(f"{path.name}: cannot be read as {fmt} ({reason})") from None
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=frames[0].crs)
    source_crs = frame.crs.to_string() if frame.crs is not None else "EPSG:4326 (assumed)"
    frame = _source_crs(frame, crs, path.name)
    if len(frame):
        frame[frame.geometry.name] = shapely.force_2d(frame.geometry.values)
    if crs is not None and crs.lower() in ("gcj02", "bd09"):
        frame = convert_frame(frame, "gcj02" if crs.lower() == "gcj02" else "bd09", "wgs84")
        source_crs = crs.lower()
    elif crs is not None:
        source_crs = crs
    return Source(path, fmt, source_crs, frame.reset_index(drop=True))
