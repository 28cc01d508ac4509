"""The SQL behind the layers, and running it: GeoJSON built in PostGIS.

Each layer's SELECT takes the bbox as bound parameters ``:minx, :miny, :maxx, :maxy``
(EPSG:4326) and returns ``fid``, ``geom`` and the properties. :func:`feature_collection`
wraps it so PostGIS assembles the whole RFC 7946 FeatureCollection (coordinates
rounded to 6 decimals, about 0.1 m) and Python only passes the text on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from layers.spec import LayerSpec

__all__ = [
    "COMMUNITIES",
    "GRIDS",
    "POLICE_POSTS",
    "ROADS",
    "STREETS",
    "WORLD",
    "BBox",
    "feature_collection",
    "parse_bbox",
    "region_extent",
]

_IN_BBOX = "ST_Intersects({geom}, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))"


def _regions(level: str) -> str:
    return f"""
SELECT r.code AS fid, r.code, r.name, r.households, r.population, p.name AS parent, r.geom
FROM region r LEFT JOIN region p ON p.code = r.parent_code
WHERE r.level = '{level}' AND {_IN_BBOX.format(geom="r.geom")}
ORDER BY r.code"""


COMMUNITIES = _regions("community")
STREETS = _regions("street")

GRIDS = f"""
SELECT g.code AS fid, g.code, g.name, g.kind, c.name AS community,
       g.households, g.population, g.version, g.geom
FROM grid g LEFT JOIN region c ON c.code = g.community_code
WHERE g.valid_to IS NULL AND {_IN_BBOX.format(geom="g.geom")}
ORDER BY g.code"""

POLICE_POSTS = f"""
SELECT p.code AS fid, p.code, p.name, p.kind, p.staff, p.grid_code, g.name AS grid, p.geom
FROM police_post p LEFT JOIN grid g ON g.code = p.grid_code AND g.valid_to IS NULL
WHERE {_IN_BBOX.format(geom="p.geom")}
ORDER BY p.code"""

ROADS = f"""
SELECT r.id AS fid, r.name, r.class AS road_class, r.geom
FROM road r
WHERE {_IN_BBOX.format(geom="r.geom")}
ORDER BY r.id"""


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in EPSG:4326."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def params(self) -> dict[str, float]:
        return {"minx": self.minx, "miny": self.miny, "maxx": self.maxx, "maxy": self.maxy}


WORLD = BBox(-180.0, -90.0, 180.0, 90.0)


def parse_bbox(value: str | None) -> BBox:
    """``"minx,miny,maxx,maxy"`` (lon/lat degrees) as a :class:`BBox`; ``None``: the world.

    >>> parse_bbox("87.1,44.0,87.3,44.1")
    BBox(minx=87.1, miny=44.0, maxx=87.3, maxy=44.1)
    """
    if value is None or value == "":
        return WORLD
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput(
            f"bbox={value!r}: give four numbers minx,miny,maxx,maxy in degrees "
            "(longitude, latitude, EPSG:4326), e.g. bbox=87.1,44.0,87.3,44.1"
        )
    box = BBox(*numbers)
    if not (-180 <= box.minx < box.maxx <= 180 and -90 <= box.miny < box.maxy <= 90):
        raise InvalidInput(
            f"bbox={value!r}: minx,miny,maxx,maxy must satisfy -180 <= minx < maxx <= 180 "
            "and -90 <= miny < maxy <= 90 (longitude first, degrees)"
        )
    return box


def feature_collection(db: Session | Connection, spec: LayerSpec, bbox: BBox = WORLD) -> str:
    """The layer's features in ``bbox`` as the text of a GeoJSON FeatureCollection."""
    sql = f"""
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'id', q.fid,
        'geometry', ST_AsGeoJSON(q.geom, 6)::json,
        'properties', to_jsonb(q) - 'geom' - 'fid'
    )), '[]'::json)
)::text
FROM ({spec.sql}) AS q"""
    return str(db.execute(text(sql), bbox.params()).scalar_one())


def region_extent(db: Session | Connection) -> BBox | None:
    """The extent of all regions, or ``None`` when there are none."""
    row = db.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM region) AS s"
        )
    ).one()
    if row[0] is None:
        return None
    return BBox(float(row[0]), float(row[1]), float(row[2]), float(row[3]))
