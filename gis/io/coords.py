"""WGS84 ↔ GCJ-02 ↔ BD-09, vectorised with numpy.

GCJ-02 (AMap, Tencent) is WGS84 plus an obfuscating offset of 41–674 m; BD-09 (Baidu)
adds a second transform on top of GCJ-02. Neither is declared by files: the user says
so. Forward WGS→GCJ is a closed formula (Krasovsky a = 6378245.0, e² = 0.0066934…);
GCJ→WGS is solved by fixed-point iteration to 1e-9° (the one-step inverse errs by up to
~5 m). BD uses x_pi = π·3000/180. Outside China GCJ-02 = WGS84 (the usual rectangle
rule, as in the PyPI package ``prcoords``).

``prcoords`` (public domain) was considered: it converts one point at a time in pure
Python and stops its inverse at 1e-5°, so gridgov implements the same formulas on
numpy arrays instead (and the tests compare with it).

>>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
>>> round(float(lon), 9), round(float(lat), 9)
(116.410244499, 39.916404282)
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

import geopandas as gpd
import shapely

__all__ = [
    "SYSTEMS",
    "CoordSystem",
    "bd09_to_gcj02",
    "bd09_to_gcj02_exact",
    "convert",
    "convert_frame",
    "convert_geometry",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "gcj02_to_wgs84_rough",
    "in_china",
    "wgs84_to_gcj02",
]

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
SYSTEMS: tuple[CoordSystem, ...] = ("wgs84", "gcj02", "bd09")

A = 6378245.0
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0
TOLERANCE = 1e-9  # degrees, for the iterative inverse
MAX_ITERATIONS = 30

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the point falls in the rectangle GCJ-02 applies to."""
    x, y = _arrays(lon, lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Pair:
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS84 point."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )  # fmt: skip
    rad = lat / 180.0 * pi
    magic = 1.0 - EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (A / sqrt_magic * np.cos(rad) * pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS84 → GCJ-02 (closed formula); unchanged outside China."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _offset(x, y)
    return x + dlon, y + dlat


def gcj02_to_wgs84_rough(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """The one-step inverse (subtract the offset taken at the GCJ point): errs up to ~5 m."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _offset(x, y)
    return x - dlon, y - dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, tolerance: float = TOLERANCE) -> Pair:
    """GCJ-02 → WGS84, the exact inverse: iterate ``w ← w − (fwd(w) − g)`` until every
    point moves less than ``tolerance`` degrees (a few iterations; far below 0.5 m)."""
    gx, gy = _arrays(lon, lat)
    wx, wy = gcj02_to_wgs84_rough(gx, gy)
    for _ in range(MAX_ITERATIONS):
        fx, fy = wgs84_to_gcj02(wx, wy)
        ex, ey = fx - gx, fy - gy
        wx, wy = wx - ex, wy - ey
        if np.all(np.abs(ex) < tolerance) and np.all(np.abs(ey) < tolerance):
            break
    inside = in_china(gx, gy)
    return np.where(inside, wx, gx), np.where(inside, wy, gy)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 → BD-09 (x_pi = π·3000/180)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 → GCJ-02, the usual closed-form inverse (errs by decimetres; see
    :func:`bd09_to_gcj02_exact`)."""
    x, y = _arrays(lon, lat)
    x, y = x - 0.0065, y - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02_exact(lon: ArrayLike, lat: ArrayLike, tolerance: float = TOLERANCE) -> Pair:
    """BD-09 → GCJ-02 by iteration from the closed form, to ``tolerance`` degrees."""
    bx, by = _arrays(lon, lat)
    gx, gy = bd09_to_gcj02(bx, by)
    for _ in range(MAX_ITERATIONS):
        fx, fy = gcj02_to_bd09(gx, gy)
        ex, ey = fx - bx, fy - by
        gx, gy = gx - ex, gy - ey
        if np.all(np.abs(ex) < tolerance) and np.all(np.abs(ey) < tolerance):
            break
    return gx, gy


def convert(lon: ArrayLike, lat: ArrayLike, src: CoordSystem, dst: CoordSystem) -> Pair:
    """Convert lon/lat arrays between any two of wgs84, gcj02 and bd09."""
    for name in (src, dst):
        if name not in SYSTEMS:
            raise ValueError(f"unknown coordinate system {name!r}; use one of {SYSTEMS}")
    x, y = _arrays(lon, lat)
    if src == dst:
        return x.copy(), y.copy()
    if src == "bd09":
        x, y = bd09_to_gcj02_exact(x, y)
    elif src == "wgs84":
        x, y = wgs84_to_gcj02(x, y)
    # now in gcj02
    if dst == "wgs84":
        return gcj02_to_wgs84(x, y)
    if dst == "bd09":
        return gcj02_to_bd09(x, y)
    return x, y


def convert_geometry(geom: object, src: CoordSystem, dst: CoordSystem) -> object:
    """Every vertex of a shapely geometry (or an array of them) converted; 2D out."""

    def move(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = convert(coords[:, 0], coords[:, 1], src, dst)
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def convert_frame(frame: gpd.GeoDataFrame, src: CoordSystem, dst: CoordSystem) -> gpd.GeoDataFrame:
    """A copy of a lon/lat GeoDataFrame with every vertex converted from ``src`` to ``dst``."""
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(
        convert_geometry(frame.geometry.values, src, dst), index=frame.index, crs=frame.crs
    )
    return out
