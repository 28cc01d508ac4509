"""Violations as GeoJSON ready for a map: findings without a geometry of their own
(workload, staffing, posts per grid…) are drawn with their grid's polygon."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from gis.audit.report import Violation

__all__ = ["feature_collection"]

_GRID_SHAPES = text("""
SELECT code, ST_AsGeoJSON(geom, 7) AS geojson FROM grid
WHERE code = ANY(:codes) AND valid_to IS NULL
""")


def feature_collection(conn: Connection, violations: list[Violation]) -> dict[str, Any]:
    """A FeatureCollection (RFC 7946) of ``violations``; grid polygons fill missing shapes."""
    wanted = sorted({v.grids[0] for v in violations if v.geometry is None and v.grids})
    shapes = (
        {row.code: json.loads(row.geojson) for row in conn.execute(_GRID_SHAPES, {"codes": wanted})}
        if wanted
        else {}
    )
    features = []
    for v in violations:
        feature = v.feature()
        if feature["geometry"] is None and v.grids:
            feature["geometry"] = shapes.get(v.grids[0])
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}
