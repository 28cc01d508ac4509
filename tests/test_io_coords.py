"""WGS84 ↔ GCJ-02 ↔ BD-09: REFERENCE.md's vectors, round trips measured on the ellipsoid,
and agreement with an independent implementation (the PyPI package ``prcoords``)."""

from __future__ import annotations

import numpy as np
import prcoords
import pytest

import geopandas as gpd
import shapely
from pyproj import Geod

from gis.io.coords import (
    bd09_to_gcj02,
    convert,
    convert_frame,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gcj02_to_wgs84_rough,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
POINT = (116.404, 39.915)
VECTORS = [  # shared/REFERENCE.md, (lon, lat) of the conversion of (116.404, 39.915)
    (wgs84_to_gcj02, (116.41024449916938, 39.91640428150164)),
    (gcj02_to_wgs84_rough, (116.39775550083061, 39.91359571849836)),
    (gcj02_to_bd09, (116.41036949371029, 39.92133699351021)),
    (bd09_to_gcj02, (116.39762729119315, 39.90865673957631)),
]


def _lattice() -> tuple[np.ndarray, np.ndarray]:
    """Points every 2° of longitude and 1.5° of latitude across China's rectangle."""
    lon, lat = np.meshgrid(np.arange(74.0, 135.0, 2.0), np.arange(18.5, 53.6, 1.5))
    return lon.ravel(), lat.ravel()


def _metres(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    return np.asarray(GEOD.inv(ax, ay, bx, by)[2])


@pytest.mark.parametrize(("func", "expected"), VECTORS, ids=lambda v: getattr(v, "__name__", ""))
def test_reference_vectors(func: object, expected: tuple[float, float]) -> None:
    lon, lat = func(*POINT)  # type: ignore[operator]
    assert abs(float(lon) - expected[0]) < 1e-9
    assert abs(float(lat) - expected[1]) < 1e-9


def test_exact_inverse_beats_the_one_step_inverse() -> None:
    gx, gy = wgs84_to_gcj02(*POINT)
    wx, wy = gcj02_to_wgs84(gx, gy)
    rx, ry = gcj02_to_wgs84_rough(gx, gy)
    exact = _metres(np.array(POINT[0]), np.array(POINT[1]), wx, wy)
    rough = _metres(np.array(POINT[0]), np.array(POINT[1]), rx, ry)
    assert exact < 1e-3 < 0.1 < rough < 5.0


def test_round_trips_across_china_within_a_centimetre() -> None:
    lon, lat = _lattice()
    for other in ("gcj02", "bd09"):
        there = convert(lon, lat, "wgs84", other)
        back = convert(*there, other, "wgs84")  # type: ignore[arg-type]
        error = _metres(lon, lat, *back)
        assert error.max() < 0.01, (other, error.max())
        moved = _metres(lon, lat, *there)
        assert moved.min() > 30  # the obfuscation moved every point


def test_agrees_with_prcoords_and_leaves_points_outside_china() -> None:
    lon, lat = _lattice()
    gx, gy = wgs84_to_gcj02(lon, lat)
    bx, by = gcj02_to_bd09(gx, gy)
    for i in range(len(lon)):
        ref = prcoords.wgs_gcj((lat[i], lon[i]))
        assert abs(ref.lon - gx[i]) < 1e-9
        assert abs(ref.lat - gy[i]) < 1e-9
        bd = prcoords.gcj_bd((gy[i], gx[i]))
        assert abs(bd.lon - bx[i]) < 1e-9
        assert abs(bd.lat - by[i]) < 1e-9
    outside = np.array([-87.62, 2.35, 151.2]), np.array([41.88, 48.86, -33.87])
    x, y = convert(*outside, "wgs84", "gcj02")  # outside China GCJ-02 = WGS84
    assert np.array_equal(x, outside[0])
    assert np.array_equal(y, outside[1])
    bx, by = convert(*outside, "wgs84", "bd09")  # BD-09's own transform still applies
    expected = gcj02_to_bd09(*outside)
    assert np.array_equal(bx, expected[0])
    assert np.array_equal(by, expected[1])


def test_a_polygon_layer_is_converted_vertex_by_vertex() -> None:
    """Four 250 m squares with a hole in one, in Beijing; every vertex moves like the point."""
    boxes = [shapely.box(116.40 + i * 0.003, 39.90, 116.403 + i * 0.003, 39.9023) for i in range(4)]
    boxes[0] = boxes[0].difference(shapely.box(116.401, 39.901, 116.402, 39.9015))
    frame = gpd.GeoDataFrame({"name": ["甲", "乙", "丙", "丁"]}, geometry=boxes, crs=4326)
    shifted = convert_frame(frame, "wgs84", "gcj02")
    assert list(shifted["name"]) == ["甲", "乙", "丙", "丁"]
    before = shapely.get_coordinates(frame.geometry.values)
    after = shapely.get_coordinates(shifted.geometry.values)
    assert before.shape == after.shape
    ex, ey = wgs84_to_gcj02(before[:, 0], before[:, 1])
    assert np.abs(after[:, 0] - ex).max() < 1e-12
    assert np.abs(after[:, 1] - ey).max() < 1e-12
    assert shapely.get_num_interior_rings(shifted.geometry.values[0]) == 1
    back = shapely.get_coordinates(convert_frame(shifted, "gcj02", "wgs84").geometry.values)
    assert _metres(before[:, 0], before[:, 1], back[:, 0], back[:, 1]).max() < 0.01
