"""The road network of a generated county: the edges between its blocks.

Edges between streets are arterial roads, between communities secondary roads, between
city blocks local streets, and between fields rural roads.
"""

from __future__ import annotations

import numpy as np

import shapely

from gis.demo.layout import CountyLayout
from gis.demo.names import Namer

__all__ = ["roads"]


def roads(layout: CountyLayout, namer: Namer) -> list[tuple[str, str, shapely.Geometry]]:
    """(class, name, MultiLineString) rows in the county's metric frame."""
    pairs = np.array(list(layout.shared), dtype=int).reshape(-1, 2)
    if len(pairs) == 0:
        return []
    a, b = pairs[:, 0], pairs[:, 1]
    lines = shapely.intersection(
        shapely.boundary(layout.atoms[a]), shapely.boundary(layout.atoms[b])
    )
    cls = np.where(
        layout.street[a] != layout.street[b],
        "arterial",
        np.where(
            layout.community[a] != layout.community[b],
            "secondary",
            np.where((layout.zone[a] == 2) | (layout.zone[b] == 2), "rural", "local"),
        ),
    )
    rows: list[tuple[str, str, shapely.Geometry]] = []
    for road_class in ("arterial", "secondary", "local", "rural"):
        pieces = lines[cls == road_class]
        if len(pieces) == 0:
            continue
        merged = shapely.line_merge(shapely.union_all(pieces))
        for part in shapely.get_parts(merged):
            if part.length < 30:
                continue
            name = namer.road(road_class) if road_class != "rural" else ""
            rows.append((road_class, name, shapely.multilinestrings([part])))
    return rows
