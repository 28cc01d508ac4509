"""Gather what a briefing shows: the region's layers (in a local metric CRS) and its audit.

One SQL statement per layer, bound parameters, read-only. Geometries come back as
GeoDataFrames in the region's UTM zone so the map, the scale bar and every area are in
metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, text

import geopandas as gpd
from pyproj import CRS

from gis.audit.cache import audit_cache
from gis.audit.profile import default_profile
from gis.audit.report import AuditReport
from gis.brief.figures import CommunityRow, KeyFigures, community_rows, key_figures
from gis.errors import NotFound

__all__ = ["BriefData", "gather", "region_layers"]

_REGION = text("""
SELECT code, name, level, ST_Area(geom::geography) AS area_m2
FROM region WHERE code = :code
""")

_SUBTREE = """
WITH RECURSIVE down AS (
    SELECT code, level FROM region WHERE code = :code
    UNION ALL
    SELECT r.code, r.level FROM region r JOIN down d ON r.parent_code = d.code
)"""

_OUTLINE = text("SELECT code, name, geom FROM region WHERE code = :code")
_COMMUNITIES = text(f"""{_SUBTREE}
SELECT r.code, r.name, r.geom FROM region r JOIN down d USING (code)
WHERE r.level = 'community' ORDER BY r.code""")
_GRIDS = text(f"""{_SUBTREE}
SELECT g.code, g.name, g.kind, g.community_code, g.households, g.geom
FROM grid g JOIN down d ON d.code = g.community_code
WHERE g.valid_to IS NULL ORDER BY g.code""")
_POSTS = text("""
SELECT p.code, p.name, p.geom FROM police_post p, region r
WHERE r.code = :code AND ST_Intersects(p.geom, r.geom) ORDER BY p.code""")
_ROADS = text("""
SELECT r.class AS road_class, ST_Intersection(r.geom, g.geom) AS geom
FROM road r, region g
WHERE g.code = :code AND ST_Intersects(r.geom, g.geom)""")


@dataclass(frozen=True)
class BriefData:
    """Everything a briefing draws: plain data, no drawing."""

    code: str
    name: str
    level: str
    area_m2: float
    crs: CRS
    outline: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    posts: gpd.GeoDataFrame
    blind_spots: gpd.GeoDataFrame
    overlaps: gpd.GeoDataFrame
    figures: KeyFigures
    rows: list[CommunityRow]
    report: AuditReport
    generated_at: datetime


def _read(conn: Connection, sql: object, code: str, crs: CRS | None) -> gpd.GeoDataFrame:
    frame = gpd.read_postgis(sql, conn, geom_col="geom", params={"code": code}, crs=4326)
    return frame if crs is None else frame.to_crs(crs)


def _findings(report: AuditReport, rule: str, crs: CRS) -> gpd.GeoDataFrame:
    chosen = [v for v in report.of_rule(rule) if v.geometry is not None]
    if not chosen:
        return gpd.GeoDataFrame({"check": [], "community": []}, geometry=[], crs=crs)
    frame = gpd.GeoDataFrame.from_features(
        [
            {
                "type": "Feature",
                "geometry": v.geometry,
                "properties": {"check": v.check, "community": v.community},
            }
            for v in chosen
        ],
        crs=4326,
    )
    return frame.to_crs(crs)


def region_layers(conn: Connection, code: str, crs: CRS) -> dict[str, gpd.GeoDataFrame]:
    """The map layers of region ``code``, projected to ``crs``."""
    return {
        "outline": _read(conn, _OUTLINE, code, crs),
        "communities": _read(conn, _COMMUNITIES, code, crs),
        "grids": _read(conn, _GRIDS, code, crs),
        "roads": _read(conn, _ROADS, code, crs),
        "posts": _read(conn, _POSTS, code, crs),
    }


def gather(engine: Engine, code: str) -> BriefData:
    """Read region ``code`` (any level), its layers and its audit (default profile).

    Raises :class:`~gis.errors.NotFound` for an unknown code.
    """
    with engine.connect() as conn:
        region = conn.execute(_REGION, {"code": code}).one_or_none()
        if region is None:
            raise NotFound(
                f"region {code}: no such region; give a 12-digit code of a prefecture, "
                "county, street or community (gridgov audit lists them)"
            )
        outline = _read(conn, _OUTLINE, code, None)
        crs = outline.estimate_utm_crs()
        layers = region_layers(conn, code, crs)
    report = audit_cache.get(engine, code, default_profile())  # reused at this data version
    names = dict(zip(layers["communities"]["code"], layers["communities"]["name"], strict=True))
    return BriefData(
        code=region.code,
        name=region.name,
        level=region.level,
        area_m2=float(region.area_m2 or 0.0),
        crs=crs,
        outline=layers["outline"],
        communities=layers["communities"],
        grids=layers["grids"],
        roads=layers["roads"],
        posts=layers["posts"],
        blind_spots=_findings(report, "blind_spots", crs),
        overlaps=_findings(report, "overlaps", crs),
        figures=key_figures(report, float(region.area_m2 or 0.0), len(layers["grids"])),
        rows=community_rows(report, names),
        report=report,
        generated_at=pd.Timestamp.now(tz="Asia/Shanghai").to_pydatetime(),
    )
