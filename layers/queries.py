"""The SQL behind the layers, and running it: GeoJSON built in PostGIS.

Each layer's rows are a :class:`~layers.spec.Source`; its bbox SELECT (:func:`bbox_sql`)
takes the bbox as bound parameters ``:minx, :miny, :maxx, :maxy`` (EPSG:4326) and
returns ``fid``, ``geom`` and the properties. :func:`feature_collection`
wraps it so PostGIS assembles the whole RFC 7946 FeatureCollection (coordinates
rounded to 6 decimals, about 0.1 m) and Python only passes the text on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.errors import InvalidParameter
from layers.spec import LayerSpec, Source

__all__ = [
    "BUILDINGS_SOURCE",
    "COMMUNITIES",
    "COMMUNITIES_SOURCE",
    "GRIDS",
    "GRIDS_SOURCE",
    "GRID_STATUS_SOURCE",
    "ORGANIZATIONS_SOURCE",
    "POLICE_POSTS",
    "POLICE_POSTS_SOURCE",
    "POST_LINKS_SOURCE",
    "ROADS",
    "ROADS_SOURCE",
    "STREETS",
    "STREETS_SOURCE",
    "WORLD",
    "BBox",
    "bbox_sql",
    "feature_collection",
    "grid_source",
    "parse_bbox",
    "region_bounds",
    "region_chain",
    "region_extent",
]

_ENVELOPE = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"


def bbox_sql(source: Source) -> str:
    """The source's current rows intersecting the bbox ``:minx, :miny, :maxx, :maxy``."""
    return f"""
SELECT {source.select_list()}
FROM {source.table}
WHERE {source.live()} AND ST_Intersects({source.geom}, {_ENVELOPE})
ORDER BY {source.order}"""


def _region_source(level: str) -> Source:
    return Source(
        table="region r LEFT JOIN region p ON p.code = r.parent_code",
        fid="r.code",
        geom="r.geom",
        columns=(
            ("code", "r.code"),
            ("name", "r.name"),
            ("households", "r.households"),
            ("population", "r.population"),
            ("parent", "p.name"),
            ("parent_code", "r.parent_code"),
        ),
        where=f"r.level = '{level}'",
    )


def grid_source(kind: str | None = None) -> Source:
    """Grid versions (all kinds, or one); the live ones have ``valid_to IS NULL``."""
    return Source(
        table="grid g LEFT JOIN region c ON c.code = g.community_code",
        fid="g.code",
        geom="g.geom",
        columns=(
            ("code", "g.code"),
            ("name", "g.name"),
            ("kind", "g.kind"),
            ("community", "c.name"),
            ("community_code", "g.community_code"),
            ("households", "g.households"),
            ("population", "g.population"),
            ("version", "g.version"),
            ("valid_from", "g.valid_from"),
            ("valid_to", "g.valid_to"),
        ),
        where="TRUE" if kind is None else f"g.kind = '{kind}'",
        order_by="g.code, g.version",
        valid_from="g.valid_from",
        valid_to="g.valid_to",
    )


COMMUNITIES_SOURCE = _region_source("community")
STREETS_SOURCE = _region_source("street")
GRIDS_SOURCE = grid_source()

_GRID_STATUS_TABLE = """grid g LEFT JOIN region c ON c.code = g.community_code
LEFT JOIN LATERAL (SELECT count(*) AS n FROM worker w WHERE w.grid_code = g.code) wk ON TRUE
LEFT JOIN LATERAL (
    SELECT count(*) AS n, string_agg(p.name, '、' ORDER BY p.code) AS names
    FROM police_post p WHERE p.grid_code = g.code
) pp ON TRUE"""

#: Live grids with their workers and police posts (for the planner's pages).
GRID_STATUS_SOURCE = Source(
    table=_GRID_STATUS_TABLE,
    fid="g.code",
    geom="g.geom",
    columns=(
        ("code", "g.code"),
        ("name", "g.name"),
        ("kind", "g.kind"),
        ("community", "c.name"),
        ("community_code", "g.community_code"),
        ("households", "g.households"),
        ("population", "g.population"),
        ("workers", "wk.n"),
        ("posts", "pp.n"),
        ("post_names", "pp.names"),
        (
            "post_class",
            "CASE WHEN pp.n = 0 THEN 'none' WHEN pp.n = 1 THEN 'one' ELSE 'several' END",
        ),
    ),
    where="g.valid_to IS NULL",
    order_by="g.code",
)

#: A line from each police post to a point inside the live grid it serves.
POST_LINKS_SOURCE = Source(
    table="police_post p JOIN grid g ON g.code = p.grid_code AND g.valid_to IS NULL",
    fid="p.code",
    geom="ST_MakeLine(p.geom, ST_PointOnSurface(g.geom))",
    columns=(
        ("code", "p.code"),
        ("name", "p.name"),
        ("grid_code", "p.grid_code"),
        ("grid", "g.name"),
    ),
)

POLICE_POSTS_SOURCE = Source(
    table="police_post p LEFT JOIN grid g ON g.code = p.grid_code AND g.valid_to IS NULL",
    fid="p.code",
    geom="p.geom",
    columns=(
        ("code", "p.code"),
        ("name", "p.name"),
        ("kind", "p.kind"),
        ("staff", "p.staff"),
        ("grid_code", "p.grid_code"),
        ("grid", "g.name"),
    ),
)

ROADS_SOURCE = Source(
    table="road r",
    fid="r.id",
    geom="r.geom",
    columns=(("name", "r.name"), ("road_class", "r.class")),
    fid_type="integer",
    # a prefecture or county in view (zoom < 10): the arterial roads between streets;
    # a street (< 12): and the secondary roads between communities; then every road
    by_zoom=((10, "r.class = 'arterial'"), (12, "r.class IN ('arterial', 'secondary')")),
)

ORGANIZATIONS_SOURCE = Source(
    table="organization o",
    fid="o.id",
    geom="o.geom",
    columns=(
        ("name", "o.name"),
        ("category", "o.category"),
        ("employees", "o.employees"),
        ("party_members", "o.party_members"),
        ("grid_code", "o.grid_code"),
    ),
    fid_type="integer",
)

BUILDINGS_SOURCE = Source(
    table="building b",
    fid="b.id",
    geom="b.geom",
    columns=(
        ("use", "b.use"),
        ("households", "b.households"),
        ("population", "b.population"),
        ("floors", "b.floors"),
    ),
    fid_type="integer",
)

COMMUNITIES = bbox_sql(COMMUNITIES_SOURCE)
STREETS = bbox_sql(STREETS_SOURCE)
GRIDS = bbox_sql(GRIDS_SOURCE)
POLICE_POSTS = bbox_sql(POLICE_POSTS_SOURCE)
ROADS = bbox_sql(ROADS_SOURCE)


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
        raise InvalidParameter(
            f"bbox={value!r}: give four numbers minx,miny,maxx,maxy in degrees "
            "(longitude, latitude, EPSG:4326), e.g. bbox=87.1,44.0,87.3,44.1"
        )
    box = BBox(*numbers)
    if not (-180 <= box.minx < box.maxx <= 180 and -90 <= box.miny < box.maxy <= 90):
        raise InvalidParameter(
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


def region_bounds(db: Session | Connection, code: str) -> tuple[str, str, BBox] | None:
    """A region's name, level and extent; ``None`` when there is no such region."""
    row = db.execute(
        text(
            "SELECT name, level, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
            "FROM region WHERE code = :code"
        ),
        {"code": code},
    ).one_or_none()
    if row is None or row[2] is None:
        return None
    return (
        str(row[0]),
        str(row[1]),
        BBox(float(row[2]), float(row[3]), float(row[4]), float(row[5])),
    )


#: a region and its ancestors up to the top of the hierarchy (a cycle stops at depth 16)
_CHAIN = text("""
WITH RECURSIVE up AS (
    SELECT code, name, level, parent_code, 0 AS depth FROM region WHERE code = :code
    UNION ALL
    SELECT r.code, r.name, r.level, r.parent_code, up.depth + 1
    FROM region r JOIN up ON r.code = up.parent_code
    WHERE up.depth < 16
)
SELECT code, name, level FROM up ORDER BY depth DESC
""")


def region_chain(db: Session | Connection, code: str) -> list[tuple[str, str, str]]:
    """``(code, name, level)`` of the top region down to ``code`` (the breadcrumb of a
    region's page); empty when there is no such region."""
    return [(str(c), str(n), str(lv)) for c, n, lv in db.execute(_CHAIN, {"code": code})]
