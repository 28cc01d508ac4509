"""Checks against the parents of the features: codes, prefixes, place, and the CRS.

A feature's parent is its region's parent region, its grid's community, its post's or
organization's grid: looked up in the file itself (regions) or in the database. A layer
that falls largely outside its parents but fits them once read as GCJ-02 or BD-09 gets
a warning suggesting ``--crs gcj02`` / ``bd09``: such files do not declare it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

import geopandas as gpd
import shapely

from gis.io.coords import convert_geometry

__all__ = ["FIT_MIN", "OUTSIDE_SHARE", "check_parents", "fit"]

LEVEL_ABOVE = {"county": "prefecture", "street": "county", "community": "street"}
PREFIX = {"county": 4, "street": 6, "community": 9}
OUTSIDE_SHARE = 0.01  # a feature more than 1 % outside its parent is reported
FIT_MIN = 0.9  # a layer less than 90 % inside its parents gets the CRS check
Add = Callable[..., None]


def _regions(conn: Connection, codes: Collection[str]) -> dict[str, tuple[str, Any]]:
    rows = conn.execute(
        text("SELECT code, level, ST_AsBinary(geom) FROM region WHERE code = ANY(:c)"),
        {"c": sorted(codes)},
    )
    return {r[0]: (r[1], shapely.from_wkb(bytes(r[2]))) for r in rows}


def _grids(conn: Connection, codes: Collection[str]) -> tuple[dict[str, Any], set[str]]:
    """Live grids by code, and the codes issued once whose grid is retired."""
    rows = conn.execute(
        text(
            "SELECT c.code, ST_AsBinary(g.geom) FROM grid_code c "
            "LEFT JOIN grid g ON g.code = c.code AND g.valid_to IS NULL WHERE c.code = ANY(:c)"
        ),
        {"c": sorted(codes)},
    )
    live, retired = {}, set()
    for code, wkb in rows:
        if wkb is None:
            retired.add(code)
        else:
            live[code] = shapely.from_wkb(bytes(wkb))
    return live, retired


def fit(geoms: np.ndarray, parents: np.ndarray) -> float:
    """Share of the layer inside its parents: of the area (polygons) or of the points."""
    if len(geoms) == 0:
        return 1.0
    if shapely.get_type_id(geoms[0]) == 0:
        return float(np.mean(shapely.covers(parents, geoms)))
    area = shapely.area(geoms)
    inside = shapely.area(shapely.intersection(geoms, parents))
    return float(inside.sum() / area.sum()) if area.sum() > 0 else 1.0


def _region_parents(
    conn: Connection, frame: gpd.GeoDataFrame, add: Add, skip: set[int | None]
) -> dict[int, tuple[str, Any, bool]]:
    in_file = {
        c: (lv, g)
        for c, lv, g in zip(frame["code"], frame["level"], frame.geometry, strict=True)
        if c
    }
    wanted = {p for p in frame["parent_code"] if p and p not in in_file}
    in_db = _regions(conn, wanted)
    parents: dict[int, tuple[str, Any, bool]] = {}
    for i, (code, level, parent) in enumerate(
        zip(frame["code"], frame["level"], frame["parent_code"], strict=True)
    ):
        if level == "prefecture" or level not in LEVEL_ABOVE or not code:
            continue
        if parent is None:
            add("error", "parent", i, f"a {level} needs a parent_code (its {LEVEL_ABOVE[level]})")
            continue
        found = in_file.get(parent) or in_db.get(parent)
        if found is None:
            add(
                "error",
                "parent",
                i,
                f"parent {parent} is neither in the file nor in the "
                "database; import it first or fix parent_code",
            )
            continue
        if found[0] != LEVEL_ABOVE[level]:
            add(
                "error",
                "parent",
                i,
                f"parent {parent} is a {found[0]}; a {level}'s parent "
                f"must be a {LEVEL_ABOVE[level]}",
            )
        n = PREFIX[level]
        if code[:n] != parent[:n]:
            add(
                "error",
                "prefix",
                i,
                f"code {code} does not start with its parent's "
                f"{parent[:n]} (first {n} digits of {parent})",
            )
        if i not in skip:
            parents[i] = (parent, found[1], parent in in_db)
    return parents


def _grid_parents(
    conn: Connection, frame: gpd.GeoDataFrame, add: Add, skip: set[int | None]
) -> dict[int, tuple[str, Any, bool]]:
    communities = _regions(conn, {c for c in frame["community_code"] if c})
    _live, retired = _grids(conn, {c for c in frame["code"] if c})
    parents: dict[int, tuple[str, Any, bool]] = {}
    for i, (code, community) in enumerate(zip(frame["code"], frame["community_code"], strict=True)):
        if not code or not community:
            continue
        if code in retired:
            add("error", "code", i, f"grid code {code} was retired; codes are never reused")
        if code[:12] != community:
            add(
                "error",
                "prefix",
                i,
                f"grid code {code} does not start with its community code {community}",
            )
        found = communities.get(community)
        if found is None or found[0] != "community":
            add(
                "error",
                "parent",
                i,
                f"community {community} is not in the database; import "
                "the communities first (--as regions)",
            )
        elif i not in skip:
            parents[i] = (community, found[1], True)
    return parents


def _point_parents(
    conn: Connection, frame: gpd.GeoDataFrame, add: Add, skip: set[int | None]
) -> dict[int, tuple[str, Any, bool]]:
    live, _retired = _grids(conn, {c for c in frame["grid_code"] if c})
    parents: dict[int, tuple[str, Any, bool]] = {}
    for i, grid in enumerate(frame["grid_code"]):
        if grid is None:
            continue
        if grid not in live:
            add("error", "parent", i, f"grid {grid} is not a live grid in the database")
        elif i not in skip:
            parents[i] = (grid, live[grid], True)
    return parents


def check_parents(
    conn: Connection, frame: gpd.GeoDataFrame, target: str, add: Add, skip: set[int | None]
) -> None:
    """Add parent, prefix, outside and CRS problems for ``frame`` (mapped, 4326)."""
    finder = {
        "regions": _region_parents,
        "grids": _grid_parents,
        "posts": _point_parents,
        "organizations": _point_parents,
    }.get(target)
    if finder is None:
        return
    parents = finder(conn, frame, add, skip)
    if not parents:
        return
    idx = np.array(sorted(parents))
    geoms = np.asarray(frame.geometry.values, dtype=object)[idx]
    pgeoms = np.array([parents[int(i)][1] for i in idx], dtype=object)
    shapely.prepare(pgeoms)
    points = target in ("posts", "organizations")
    inside = shapely.covers(pgeoms, geoms) if points else shapely.contains_properly(pgeoms, geoms)
    for k in np.flatnonzero(~inside):
        i, parent = int(idx[k]), parents[int(idx[k])][0]
        if points:
            add("warning", "outside", i, f"stands outside its grid {parent}")
            continue
        share = 1 - shapely.area(shapely.intersection(geoms[k], pgeoms[k])) / geoms[k].area
        if share > OUTSIDE_SHARE:
            spot = shapely.get_coordinates(shapely.point_on_surface(geoms[k]))[0]
            add(
                "warning",
                "outside",
                i,
                f"lies {share:.0%} outside its parent {parent}",
                (float(spot[0]), float(spot[1])),
            )
    from_db = np.array([parents[int(i)][2] for i in idx])
    _crs_check(geoms[from_db], pgeoms[from_db], add)


def _crs_check(geoms: np.ndarray, parents: np.ndarray, add: Add) -> None:
    base = fit(geoms, parents)
    if len(geoms) == 0 or base >= FIT_MIN:
        return
    tries = {
        name: fit(np.asarray(convert_geometry(geoms, name, "wgs84"), dtype=object), parents)
        for name in ("gcj02", "bd09")
    }
    best = max(tries, key=lambda k: tries[k])
    if tries[best] >= FIT_MIN and tries[best] > base + 0.1:
        add(
            "warning",
            "crs",
            None,
            f"the layer lies only {base:.0%} inside its parent regions; "
            f"read as {best.upper()} it lies {tries[best]:.0%} inside: import it with "
            f"--crs {best}",
        )
    else:
        add(
            "warning",
            "crs",
            None,
            f"the layer lies only {base:.0%} inside its parent regions "
            "(GCJ-02/BD-09 do not fit better): check its CRS (--crs EPSG:XXXX)",
        )
