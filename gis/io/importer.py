"""Import a GIS file into gridgov: read, map, validate, then write all or nothing.

Rows are upserted by code (regions, grids, police posts) or inserted unless an identical
row exists (organizations, buildings): re-importing the same file changes nothing. A
changed grid becomes a new version (the old one closed with ``valid_to = now()``). Every
change is logged in ``change``. Rows go in by COPY into a temporary table, then a few
INSERT … SELECT / UPDATE statements, in one transaction; any error-severity problem
raises before anything is written.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, text

import geopandas as gpd
import shapely

from gis.errors import InvalidInput
from gis.io.mapping import INTEGER_FIELDS, TARGET_FIELDS, FieldMapping, apply_mapping, load_mapping
from gis.io.read import read_file
from gis.io.report import ImportRejected, ImportReport, RejectedGeometry, reject
from gis.io.scope import region_codes
from gis.io.validate import validate
from gis.models import SRID

__all__ = ["TABLES", "ImportRejected", "RejectedGeometry", "import_file"]

Progress = Callable[[str, int, int], None]
TABLES = {
    "regions": "region",
    "grids": "grid",
    "posts": "police_post",
    "organizations": "organization",
    "buildings": "building",
}
DEFAULTS = {
    "households": "0",
    "population": "0",
    "staff": "0",
    "employees": "0",
    "party_members": "0",
    "floors": "1",
    "use": "'residential'",
    "category": "'other'",
}
KIND_DEFAULT = {"grids": "'geographic'", "posts": "'station'"}


def _copy(
    conn: Connection, frame: gpd.GeoDataFrame, fields: tuple[str, ...], progress: Progress | None
) -> None:
    types = ", ".join(f'"{f}" {"integer" if f in INTEGER_FIELDS else "text"}' for f in fields)
    conn.execute(
        text(
            f"CREATE TEMP TABLE _import (idx integer, {types}, "
            f"geom geometry(Geometry, {SRID})) ON COMMIT DROP"
        )
    )
    geoms = shapely.set_srid(np.asarray(frame.geometry.values, dtype=object), SRID)
    ewkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    columns = [frame[f].tolist() for f in fields]
    total = len(frame)
    for i in range(total):
        writer.writerow([i, *("\\N" if c[i] is None else c[i] for c in columns), ewkb[i]])
        if progress and (i + 1) % 2000 == 0:
            progress("copy", i + 1, total)
    buf.seek(0)
    cols = ", ".join(["idx", *(f'"{f}"' for f in fields), "geom"])
    cur: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.copy_expert(f"COPY _import ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)
    finally:
        cur.close()
    conn.execute(text("ANALYZE _import"))


def _sql_parts(target: str) -> dict[str, str]:
    """SQL pieces over the target's columns: s is the imported row, t the stored one."""
    fields = TARGET_FIELDS[target]
    same = " AND ".join(
        [
            *(f"COALESCE(s.{f}, t.{f}) IS NOT DISTINCT FROM t.{f}" for f in fields),
            "ST_OrderingEquals(s.geom, t.geom)",
        ]
    )
    defaults = dict(DEFAULTS, kind=KIND_DEFAULT.get(target, "NULL"))
    geom = "ST_Multi(s.geom)" if target not in ("posts", "organizations") else "s.geom"
    new = ", ".join(f"COALESCE(s.{f}, {defaults.get(f, 'NULL')})" for f in fields)
    carried = ", ".join(f"COALESCE(s.{f}, t.{f})" for f in fields)
    sets = ", ".join(f"{f} = COALESCE(s.{f}, t.{f})" for f in fields if f != "code")
    return {
        "cols": ", ".join(f'"{f}"' for f in fields),
        "same": same,
        "new": f"{new}, {geom}",
        "carried": f"{carried}, {geom}",
        "sets": f"{sets}, geom = {geom}",
    }


def _log(entity: str, key: str) -> str:
    return (
        f"INSERT INTO change (actor, action, entity, entity_key, before, after) "
        f"SELECT :actor, 'import.' || d.action, '{entity}', {key}, d.before, "
        f"to_jsonb(n) - 'geom' FROM n JOIN _diff d ON "
    )


def _write(conn: Connection, target: str, actor: str) -> dict[str, int]:
    table = TABLES[target]
    sql = _sql_parts(target)
    keyed = "code" in TARGET_FIELDS[target]
    live = " AND t.valid_to IS NULL" if target == "grids" else ""
    conn.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
    if keyed:
        classify = f"""
SELECT s.idx, s.code, CASE WHEN t.code IS NULL THEN 'insert' WHEN {sql["same"]} THEN 'same'
       ELSE 'update' END AS action, to_jsonb(t) - 'geom' AS before
FROM _import s LEFT JOIN {table} t ON t.code = s.code{live}"""
    else:
        classify = f"""
SELECT s.idx, NULL::text AS code, CASE WHEN EXISTS (SELECT 1 FROM {table} t
       WHERE t.geom && s.geom AND {sql["same"]}) THEN 'same' ELSE 'insert' END AS action,
       NULL::jsonb AS before
FROM _import s"""
    conn.execute(text(f"CREATE TEMP TABLE _diff ON COMMIT DROP AS {classify}"))
    params = {"actor": actor}
    if target == "grids":
        conn.execute(
            text(
                "INSERT INTO grid_code (code, community_code) SELECT s.code, s.community_code "
                "FROM _import s JOIN _diff d USING (idx) WHERE d.action = 'insert' "
                "ON CONFLICT (code) DO NOTHING"
            )
        )
        # close the live version, then insert version + 1 carrying what the file lacks
        update = f"""
WITH t AS (UPDATE grid g SET valid_to = now() FROM _diff d
     WHERE d.action = 'update' AND g.code = d.code AND g.valid_to IS NULL RETURNING g.*),
n AS (INSERT INTO grid ({sql["cols"]}, geom, version, valid_from)
     SELECT {sql["carried"]}, t.version + 1, now() FROM t JOIN _import s ON s.code = t.code
     RETURNING *)"""
    else:
        update = f"""
WITH n AS (UPDATE {table} t SET {sql["sets"]} FROM _import s JOIN _diff d USING (idx)
           WHERE d.action = 'update' AND t.code = s.code RETURNING t.*)"""
    if keyed:
        conn.execute(
            text(
                f"""{update}
INSERT INTO change (actor, action, entity, entity_key, before, after)
SELECT :actor, 'import.update', '{table}', n.code, d.before, to_jsonb(n) - 'geom'
FROM n JOIN _diff d ON d.code = n.code"""
            ),
            params,
        )
    key = "n.code" if keyed else "n.id::text"
    version = (", version", ", 1") if target == "grids" else ("", "")
    conn.execute(
        text(
            f"""
WITH n AS (INSERT INTO {table} ({sql["cols"]}, geom{version[0]})
           SELECT {sql["new"]}{version[1]} FROM _import s JOIN _diff d USING (idx)
           WHERE d.action = 'insert' RETURNING *)
INSERT INTO change (actor, action, entity, entity_key, after)
SELECT :actor, 'import.insert', '{table}', {key}, to_jsonb(n) - 'geom' FROM n"""
        ),
        params,
    )
    rows = conn.execute(text("SELECT action, count(*) FROM _diff GROUP BY action")).all()
    return {str(action): int(n) for action, n in rows}


def import_file(
    engine: Engine,
    path: Path | str,
    as_: str,
    mapping: FieldMapping | dict[str, Any] | Path | str | None = None,
    crs: str | None = None,
    repair: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    actor: str = "import",
    encoding: str | None = None,
    layer: str | None = None,
    authorize: Callable[[set[str]], None] | None = None,
) -> ImportReport:
    """Import ``path`` as ``as_`` (regions, grids, posts, organizations, buildings).

    Raises :class:`ImportRejected` (an :class:`InvalidInput`; :class:`RejectedGeometry`,
    an :class:`InvalidGeometry`, for geometry errors) naming the file, the features and
    the reasons when the file has errors; nothing is written then. ``dry_run`` validates
    and computes what would change, then rolls back.
    """
    started = time.monotonic()
    if as_ not in TABLES:
        raise InvalidInput(f"--as {as_!r}: use one of {', '.join(TABLES)}")
    path = Path(path)
    rules = load_mapping(mapping)
    source = read_file(
        path,
        crs=crs,
        encoding=encoding or rules.encoding,
        layer=layer or rules.layer,
        lon=rules.lon,
        lat=rules.lat,
        wkt=rules.wkt,
    )
    if progress:
        progress("read", len(source.frame), len(source.frame))
    frame = apply_mapping(source.frame, as_, rules, path.name)
    if authorize is not None:  # e.g. a token's region scope, checked before anything else
        authorize(region_codes(frame, as_))
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            report, frame = validate(frame, as_, conn, path.name, source.format, source.crs, repair)
            if progress:
                progress("validate", len(frame), len(frame))
            if report.errors:
                raise reject(report)
            _copy(conn, frame, TARGET_FIELDS[as_], progress)
            counts = _write(conn, as_, actor)
            changes = int(
                conn.execute(text("SELECT count(*) FROM _diff WHERE action <> 'same'")).scalar_one()
            )
        except BaseException:
            trans.rollback()
            raise
        if dry_run:
            trans.rollback()
        else:
            trans.commit()
    if progress:
        progress("write", len(frame), len(frame))
    return ImportReport(
        validation=report,
        dry_run=dry_run,
        inserted=counts.get("insert", 0),
        updated=counts.get("update", 0),
        unchanged=counts.get("same", 0),
        changes=changes,
        seconds=time.monotonic() - started,
    )
