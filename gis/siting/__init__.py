"""Siting police posts: where a grid's post should stand, and which p sites serve a region.

Geometry at the edge, numbers inside: :func:`from_database` turns a region's buildings
and posts into points in metres (a local UTM zone) and a cost matrix; the solvers in
:mod:`gis.siting.solve` only see arrays. Results are reports: nothing is written.
"""

from __future__ import annotations

from gis.siting.matrix import Points, SitingData, cost_matrix, from_database, from_lonlat
from gis.siting.solve import (
    GridMedian,
    Solution,
    mclp,
    one_median_per_grid,
    p_median,
)

__all__ = [
    "GridMedian",
    "Points",
    "SitingData",
    "Solution",
    "cost_matrix",
    "from_database",
    "from_lonlat",
    "mclp",
    "one_median_per_grid",
    "p_median",
]
