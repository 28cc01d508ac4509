"""The validation report of a file to import: geometries, codes, values, parents, CRS.

Every problem names the feature (its 0-based index in the file and its code) and says
how to fix it. Errors stop the import; warnings are reported and the import goes on.
Geometries are repaired (``make_valid``, polygonal parts kept) only with ``repair=True``.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from sqlalchemy import Connection

import geopandas as gpd
import shapely

from gis.io.parents import check_parents
from gis.io.report import Problem, ValidationReport
from gis.models import GRID_KINDS, REGION_LEVELS

__all__ = ["POINT_TARGETS", "Problem", "ValidationReport", "validate"]

POINT_TARGETS = ("posts", "organizations")
CODE_PATTERNS = {"regions": r"[0-9]{12}", "grids": r"[0-9]{13,15}", "posts": r"\S{1,20}"}
ALLOWED = {
    ("regions", "level"): REGION_LEVELS,
    ("grids", "kind"): GRID_KINDS,
    ("posts", "kind"): ("station", "room"),
}
_AT = re.compile(r"\[(-?[0-9.eE+-]+) (-?[0-9.eE+-]+)\]")


def _code(frame: gpd.GeoDataFrame, i: int) -> str | None:
    return frame["code"].iloc[i] if "code" in frame.columns else None


def _geometries(
    frame: gpd.GeoDataFrame, target: str, repair: bool, add: _Adder
) -> tuple[np.ndarray, int]:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    points = target in POINT_TARGETS
    wanted = ("Point",) if points else ("Polygon", "MultiPolygon")
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.asarray(shapely.get_type_id(geoms))
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
            "",
        ]
    )
    type_names = names[np.where(types < 0, 8, types)]
    repaired = 0
    for i in np.flatnonzero(missing):
        add("error", "geometry", int(i), "has no geometry (empty or missing)")
    for i in np.flatnonzero(~missing & ~np.isin(type_names, wanted)):
        add(
            "error",
            "type",
            int(i),
            f"is a {type_names[i]}; {target} need {' or '.join(wanted)} geometries",
        )
    ok = ~missing & np.isin(type_names, wanted)
    invalid = np.flatnonzero(ok & ~shapely.is_valid(geoms))
    for i in invalid:
        reason = str(shapely.is_valid_reason(geoms[i]))
        found = _AT.search(reason)
        where = (float(found.group(1)), float(found.group(2))) if found else None
        what = reason.split("[")[0]
        at = f" at ({where[0]:.6f}, {where[1]:.6f})" if where else ""
        if repair:
            fixed = shapely.make_valid(geoms[i])
            parts = [
                p for p in shapely.get_parts(shapely.get_parts(fixed)) if p.geom_type in wanted
            ]
            if parts:
                geoms[i] = shapely.multipolygons(parts) if not points else parts[0]
                repaired += 1
                add("warning", "geometry", int(i), f"{what}{at}: repaired (make_valid)", where)
                continue
        add(
            "error",
            "geometry",
            int(i),
            f"invalid geometry: {what}{at}; repair with --repair or fix the source",
            where,
        )
    if not points:
        polys = ok & (shapely.get_type_id(geoms) == 3)  # after repairs
        geoms[polys] = shapely.multipolygons(geoms[polys], indices=np.arange(polys.sum()))
    return geoms, repaired


class _Adder:
    def __init__(self, frame: gpd.GeoDataFrame, problems: list[Problem]) -> None:
        self.frame, self.problems = frame, problems

    def __call__(
        self,
        severity: Literal["error", "warning"],
        check: str,
        i: int | None,
        message: str,
        location: tuple[float, float] | None = None,
    ) -> None:
        code = _code(self.frame, i) if i is not None else None
        self.problems.append(
            Problem(
                severity=severity,
                check=check,
                feature=i,
                code=code,
                message=message,
                location=location,
            )
        )


def _values(frame: gpd.GeoDataFrame, target: str, add: _Adder) -> None:
    if "code" in frame.columns:
        pattern = re.compile(CODE_PATTERNS[target])
        seen: dict[str, int] = {}
        for i, code in enumerate(frame["code"]):
            if code is None:
                add("error", "code", i, "has no code; map one with the mapping's fields.code")
            elif not pattern.fullmatch(code):
                add("error", "code", i, f"code {code!r} does not match {pattern.pattern}")
            elif code in seen:
                add("error", "duplicate", i, f"code {code} already used by feature {seen[code]}")
            else:
                seen[code] = i
    if target == "organizations":
        for k in np.flatnonzero(frame["name"].isna().to_numpy()):
            add("error", "value", int(k), "has no name")
    for (tgt, field), allowed in ALLOWED.items():
        if tgt != target:
            continue
        for i, value in enumerate(frame[field]):
            if value is not None and value not in allowed:
                add("error", "value", i, f"{field} {value!r} is not one of {', '.join(allowed)}")
            elif value is None and target == "regions":
                add("error", "value", i, "has no level (prefecture, county, street, community)")
    for field in ("households", "population", "staff", "employees", "party_members", "floors"):
        if field in frame.columns:
            low = 1 if field == "floors" else 0
            for i, value in enumerate(frame[field]):
                if value is not None and value < low:
                    add("error", "value", i, f"{field}={value} is below {low}")


def validate(
    frame: gpd.GeoDataFrame,
    target: str,
    conn: Connection,
    file: str,
    fmt: str = "",
    crs: str = "EPSG:4326",
    repair: bool = False,
) -> tuple[ValidationReport, gpd.GeoDataFrame]:
    """The report, and the frame with geometries made multi (and repaired if asked)."""
    problems: list[Problem] = []
    add = _Adder(frame, problems)
    geoms, repaired = _geometries(frame, target, repair, add)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    if target in ("grids", "posts", "regions") and "name" in frame.columns:
        frame["name"] = [
            n if n is not None else c for n, c in zip(frame["name"], frame["code"], strict=True)
        ]
    if target == "grids":
        frame["community_code"] = [
            cc if cc is not None else (c[:12] if c else None)
            for cc, c in zip(frame["community_code"], frame["code"], strict=True)
        ]
    _values(frame, target, add)
    bad_geom = {
        p.feature for p in problems if p.check in ("geometry", "type") and p.severity == "error"
    }
    check_parents(conn, frame, target, add, skip=bad_geom)
    report = ValidationReport(
        file=file,
        target=target,
        format=fmt,
        crs=crs,
        features=len(frame),
        repaired=repaired,
        problems=problems,
    )
    return report, frame
