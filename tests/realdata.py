"""Test helper: the real public datasets in shared/data as gridgov rows.

A deliberately small importer (the full import feature is a separate piece of work):
files are read through GDAL (pyogrio/geopandas), reprojected to EPSG:4326 and written
as one synthetic hierarchy — prefecture 179900000000 "Chicago", county 179901000000,
one street under it, communities under the street — with grids coded as their
community's 12-digit code plus a 3-digit sequence. Geometries are written exactly as
read (WKB, no snapping), so the data's own defects reach the database untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

import geopandas as gpd
import pyogrio
import shapely

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CHICAGO = DATA / "chicago"
BEATS = CHICAGO / "police_beats" / "geo_aerh-rz74-1.shp"
DISTRICTS = CHICAGO / "police_districts" / "geo_fthy-xz3r-1.shp"
COMMUNITY_AREAS = CHICAGO / "community_areas" / "CommAreas.shp"
STATIONS = CHICAGO / "police_stations_2014.csv"

PREFECTURE = "179900000000"
COUNTY = "179901000000"


@dataclass(frozen=True)
class Area:
    """A community or grid to write: code, name, parent (community) code, polygon(s)."""

    code: str
    name: str
    parent: str
    geom: shapely.Geometry


@dataclass(frozen=True)
class Post:
    code: str
    name: str
    grid_code: str | None
    geom: shapely.Point


def _read(path: Path, **options: str) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(path, **options)
    if frame.crs is None:  # the stations CSV: WGS84 longitude/latitude, no CRS declared
        frame = frame.set_crs(4326)
    return frame.to_crs(4326)


def beats() -> gpd.GeoDataFrame:
    """The 277 police beats with ``district`` (int, from the ``DISTRICT`` field)."""
    frame = _read(BEATS)
    frame["district"] = frame["DISTRICT"].astype(int)
    return frame


def districts() -> gpd.GeoDataFrame:
    """The 25 police-district polygons with ``district`` (int, from ``DIST_NUM``)."""
    frame = _read(DISTRICTS)
    frame["district"] = frame["DIST_NUM"].astype(int)
    return frame


def community_areas() -> gpd.GeoDataFrame:
    """The 77 community areas, reprojected from EPSG:3435 (US feet) to EPSG:4326."""
    frame = _read(COMMUNITY_AREAS)
    frame["number"] = frame["AREA_NUMBE"].astype(int)
    return frame


def stations() -> gpd.GeoDataFrame:
    """The 23 police stations (22 districts + headquarters), points from LONGITUDE/LATITUDE."""
    return _read(STATIONS, X_POSSIBLE_NAMES="LONGITUDE", Y_POSSIBLE_NAMES="LATITUDE")


def multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """``geom`` as a valid MULTIPOLYGON (the tables' CHECK constraints)."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polygons = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(polygons)


def _ewkb(geom: shapely.Geometry) -> str:
    return str(shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True))


def write_hierarchy(
    conn: Connection,
    street: str,
    street_name: str,
    communities: Sequence[Area],
    grids: Sequence[Area],
    posts: Iterable[Post] = (),
) -> None:
    """Prefecture → county → ``street`` → ``communities`` → ``grids`` (and police posts).

    The prefecture and county are created when missing. Region geometries: a community
    has its own polygon; the street, county and prefecture the union of the communities.
    """
    whole = _ewkb(multipolygon(shapely.union_all([c.geom for c in communities])))
    region = text(
        "INSERT INTO region (code, name, level, parent_code, geom) "
        "VALUES (:code, :name, :level, :parent, ST_GeomFromEWKB(decode(:geom, 'hex'))) "
        "ON CONFLICT (code) DO NOTHING"
    )
    top = [
        {"code": PREFECTURE, "name": "Chicago", "level": "prefecture", "parent": None},
        {"code": COUNTY, "name": "City of Chicago", "level": "county", "parent": PREFECTURE},
        {"code": street, "name": street_name, "level": "street", "parent": COUNTY},
    ]
    conn.execute(region, [{**row, "geom": whole} for row in top])
    conn.execute(
        region,
        [
            {
                "code": c.code,
                "name": c.name,
                "level": "community",
                "parent": c.parent,
                "geom": _ewkb(multipolygon(c.geom)),
            }
            for c in communities
        ],
    )
    conn.execute(
        text("INSERT INTO grid_code (code, community_code) VALUES (:code, :parent)"),
        [{"code": g.code, "parent": g.parent} for g in grids],
    )
    conn.execute(
        text(
            "INSERT INTO grid (code, name, kind, community_code, geom) VALUES "
            "(:code, :name, 'geographic', :parent, ST_GeomFromEWKB(decode(:geom, 'hex')))"
        ),
        [
            {
                "code": g.code,
                "name": g.name,
                "parent": g.parent,
                "geom": _ewkb(multipolygon(g.geom)),
            }
            for g in grids
        ],
    )
    rows = [
        {"code": p.code, "name": p.name, "grid": p.grid_code, "geom": _ewkb(p.geom)} for p in posts
    ]
    if rows:
        conn.execute(
            text(
                "INSERT INTO police_post (code, name, kind, grid_code, geom) VALUES "
                "(:code, :name, 'station', :grid, ST_GeomFromEWKB(decode(:geom, 'hex')))"
            ),
            rows,
        )


def sequenced(parent: str, keys: Sequence[str]) -> list[str]:
    """Grid codes for ``keys`` (sorted, then numbered 001, 002, …) under community ``parent``."""
    order = sorted(range(len(keys)), key=lambda i: (keys[i], i))
    codes = [""] * len(keys)
    for seq, i in enumerate(order, start=1):
        codes[i] = f"{parent}{seq:03d}"
    return codes
