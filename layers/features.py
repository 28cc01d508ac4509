"""OGC API – Features from the catalogue: every SELECT behind ``/ogc`` lives here.

The statements are assembled from a layer's :class:`~layers.spec.Source` (trusted SQL
fragments written in the catalogue); everything a client sends is a bound parameter.
PostGIS builds each feature's GeoJSON (coordinates rounded to 6 decimals, about
0.1 m); Python only joins the texts.

A versioned layer (grids) serves its live rows unless the query gives a time: an
instant selects the versions valid then (``valid_from <= t < valid_to``), an interval
the versions valid at some moment of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.errors import InvalidParameter, NotFound
from layers.catalogue import CATALOGUE
from layers.params import Interval, ItemsQuery
from layers.spec import LayerSpec, Source

__all__ = [
    "Extent",
    "ItemsPage",
    "collection_extent",
    "collections",
    "get_collection",
    "item",
    "items",
]

Db = Session | Connection


def _feature(source: Source) -> str:
    """The GeoJSON Feature of a row ``q``, properties in the source's order."""
    props = ", ".join(f"'{name}', q.\"{name}\"" for name, _ in source.columns)
    return f"""json_build_object(
    'type', 'Feature',
    'id', q.fid,
    'geometry', ST_AsGeoJSON(q.geom, 6)::json,
    'properties', json_build_object({props})
)::text"""


@dataclass(frozen=True)
class ItemsPage:
    """One page of features: ``features`` is the JSON text of the feature array."""

    features: str
    number_matched: int
    number_returned: int


@dataclass(frozen=True)
class Extent:
    """A collection's extent: a CRS84 bbox and, for versioned layers, a time interval."""

    bbox: tuple[float, float, float, float] | None
    interval: tuple[datetime | None, datetime | None] | None


def collections() -> tuple[LayerSpec, ...]:
    """The catalogue layers served as OGC collections (those with a source)."""
    return tuple(spec for spec in CATALOGUE.values() if spec.source is not None)


def get_collection(collection_id: str) -> tuple[LayerSpec, Source]:
    """The layer behind a collection id; :class:`NotFound` naming the known ids otherwise."""
    spec = CATALOGUE.get(collection_id)
    if spec is None or spec.source is None:
        known = ", ".join(s.id for s in collections())
        raise NotFound(f"collection {collection_id!r} does not exist; collections: {known}")
    return spec, spec.source


def _time(source: Source, when: Interval | None, params: dict[str, Any]) -> str:
    if not source.temporal:
        return "TRUE"  # a layer without versions is the same at every time
    valid_from, valid_to = source.valid_from, source.valid_to
    if when is None:
        return f"{valid_to} IS NULL"
    conditions = []
    if when.end is not None:
        conditions.append(f"{valid_from} <= :t_end")
        params["t_end"] = when.end
    if when.start is not None:
        conditions.append(f"({valid_to} IS NULL OR {valid_to} > :t_start)")
        params["t_start"] = when.start
    return " AND ".join(conditions) or "TRUE"


def _where(spec: LayerSpec, source: Source, query: ItemsQuery) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    conditions = [f"({source.where})", _time(source, query.when, params)]
    if query.bbox is not None:
        conditions.append(
            f"ST_Intersects({source.geom}, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))"
        )
        params.update(query.bbox.params())
    for i, (name, value) in enumerate(query.filters):
        if name not in spec.filterable:  # names reach the SQL only from the catalogue
            raise InvalidParameter(f"collection {spec.id} cannot be filtered on {name!r}")
        conditions.append(f"({source.column(name)})::text = :f{i}")
        params[f"f{i}"] = value
    return " AND ".join(conditions), params


def items(db: Db, collection_id: str, query: ItemsQuery) -> ItemsPage:
    """A page of the collection's features matching ``query``, and how many match in all."""
    spec, source = get_collection(collection_id)
    where, params = _where(spec, source, query)
    rows = db.execute(
        text(
            f"""SELECT {_feature(source)} FROM (
    SELECT {source.select_list()} FROM {source.table} WHERE {where}
    ORDER BY {source.order} LIMIT :limit OFFSET :offset
) AS q"""
        ),
        {**params, "limit": query.limit, "offset": query.offset},
    ).scalars()
    features = list(rows)
    matched = db.execute(
        text(f"SELECT count(*) FROM {source.table} WHERE {where}"), params
    ).scalar_one()
    return ItemsPage("[" + ",".join(features) + "]", int(matched), len(features))


def item(db: Db, collection_id: str, feature_id: str) -> str:
    """The JSON text of one feature (the live version of a versioned layer)."""
    spec, source = get_collection(collection_id)
    key: str | int = feature_id
    if source.fid_type == "integer":
        try:
            key = int(feature_id)
        except ValueError:
            key = -1  # no feature has it: answered as not found below
        if not -(2**63) <= key < 2**63:
            key = -1
    where, params = _where(spec, source, ItemsQuery())
    found = db.execute(
        text(
            f"""SELECT {_feature(source)} FROM (
    SELECT {source.select_list()} FROM {source.table} WHERE {where} AND {source.fid} = :fid
) AS q"""
        ),
        {**params, "fid": key},
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"collection {collection_id!r} has no feature {feature_id!r}")
    return str(found)


def collection_extent(db: Db, collection_id: str) -> Extent:
    """The bbox of the collection's live features; the validity span of its versions."""
    spec, source = get_collection(collection_id)
    where, params = _where(spec, source, ItemsQuery())
    row = db.execute(
        text(
            f"""SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
    SELECT ST_Extent({source.geom}) AS e FROM {source.table} WHERE {where}
) AS s"""
        ),
        params,
    ).one()
    bbox = None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    interval = None
    if source.temporal:
        span = db.execute(
            text(
                f"""SELECT min({source.valid_from}),
       CASE WHEN bool_or({source.valid_to} IS NULL) THEN NULL ELSE max({source.valid_to}) END
FROM {source.table} WHERE {source.where}"""
            )
        ).one()
        interval = (span[0], span[1])
    return Extent(bbox, interval)
