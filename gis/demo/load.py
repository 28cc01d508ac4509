"""Write the demo prefecture into PostGIS: one transaction, bulk COPY, all or nothing.

Loading is idempotent: when the database already holds the demo of the same seed,
scale and generator version, nothing is written. Any other data already there is
replaced only when the caller says so (``replace=True``), never silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, text

import shapely

from gis.demo.generate import GENERATOR_VERSION, DemoData
from gis.errors import Conflict
from gis.models import SRID

__all__ = ["DEMO_VALID_FROM", "LoadResult", "demo_fingerprint", "load_demo", "loaded_demo"]

DEMO_VALID_FROM = "2024-01-01T00:00:00+08:00"
TABLES = (
    "change",
    "plan_grid",
    "plan",
    "worker",
    "party_branch",
    "service_team",
    "police_post",
    "organization",
    "building",
    "road",
    "grid",
    "grid_code",
    "region",
)


@dataclass(frozen=True)
class LoadResult:
    loaded: bool  # False when the same demo was already there
    counts: dict[str, Any]
    manifest: dict[str, Any]


def _generator_digest() -> str:
    """A digest of the generator's code and data: a changed generator reloads the demo."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*")):
        if path.suffix in {".py", ".csv"}:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def demo_fingerprint(
    seed: int, scale: int, counties: Sequence[str] | None = None
) -> dict[str, Any]:
    """What identifies a loaded demo: the same fingerprint means the same data."""
    return {
        "seed": seed,
        "scale": scale,
        "counties": list(counties or []),
        "generator_version": GENERATOR_VERSION,
        "generator_digest": _generator_digest(),
    }


def loaded_demo(conn: Connection) -> dict[str, Any] | None:
    """The manifest of the demo in the database, if one is loaded."""
    row = conn.execute(
        text("SELECT value FROM gridgov_meta WHERE key = 'demo'")
    ).scalar_one_or_none()
    return dict(row) if row is not None else None


def _ewkb(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Hex EWKB (with SRID) of every row's ``geom``, in one vectorised call."""
    geoms = np.asarray([r["geom"] for r in rows], dtype=object)
    return list(shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True))


def _copy(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    n = 0
    for row in rows:
        writer.writerow(["\\N" if v is None else v for v in row])
        n += 1
    buf.seek(0)
    cols = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cur: Any = raw.cursor()
    try:
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)
    finally:
        cur.close()
    return n


def _has_data(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM region)")).scalar_one())


def load_demo(
    engine: Engine,
    make: Callable[[], DemoData],
    fingerprint: dict[str, Any],
    replace: bool = False,
    say: Callable[[str], None] = print,
) -> LoadResult:
    """Load the demo built by ``make()`` unless the same demo is already there."""
    with engine.begin() as conn:
        current = loaded_demo(conn)
        if current is not None and current.get("fingerprint") == fingerprint:
            return LoadResult(False, current["counts"], current)
        if _has_data(conn) and not replace:
            what = (
                f"the demo with seed {current['seed']} and scale {current['scale']}"
                if current
                else "data that is not the demo"
            )
            raise Conflict(
                f"the database already holds {what}; loading the demo would replace it. "
                "Run again with --replace to replace everything, or point "
                "GRIDGOV_DATABASE_URL at another database."
            )
    data = make()
    manifest = data.manifest()
    manifest["fingerprint"] = fingerprint
    for defect in manifest["defects"]:
        if "organization_index" in defect:
            defect["organization_id"] = defect.pop("organization_index") + 1
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM gridgov_meta WHERE key = 'demo'"))
        _write(conn, data, say)
        conn.execute(
            text("INSERT INTO gridgov_meta (key, value) VALUES ('demo', CAST(:v AS jsonb))"),
            {"v": json.dumps(manifest, ensure_ascii=False)},
        )
        conn.execute(text("ANALYZE"))
    return LoadResult(True, manifest["counts"], manifest)


def _write(conn: Connection, data: DemoData, say: Callable[[str], None]) -> None:
    def rows(items: list[dict[str, Any]], *keys: str, extra: Sequence[Any] = ()) -> Any:
        geoms = _ewkb(items)
        return ([*(item[k] for k in keys), *extra, g] for item, g in zip(items, geoms, strict=True))

    _copy(
        conn,
        "region",
        ["code", "name", "level", "parent_code", "urban", "households", "population", "geom"],
        rows(
            data.regions,
            "code",
            "name",
            "level",
            "parent_code",
            "urban",
            "households",
            "population",
        ),
    )
    _copy(
        conn,
        "grid_code",
        ["code", "community_code", "issued_at"],
        ([g["code"], g["community_code"], DEMO_VALID_FROM] for g in data.grids),
    )
    _copy(
        conn,
        "grid",
        [
            "code",
            "name",
            "kind",
            "community_code",
            "households",
            "population",
            "status",
            "version",
            "valid_from",
            "geom",
        ],
        rows(
            data.grids,
            "code",
            "name",
            "kind",
            "community_code",
            "households",
            "population",
            extra=("live", 1, DEMO_VALID_FROM),
        ),
    )
    say(f"  regions {len(data.regions)}, grids {len(data.grids)}")
    _copy(
        conn,
        "building",
        ["use", "households", "population", "floors", "geom"],
        rows(data.buildings, "use", "households", "population", "floors"),
    )
    _copy(conn, "road", ["class", "name", "geom"], rows(data.roads, "class", "name"))
    say(f"  buildings {len(data.buildings)}, roads {len(data.roads)}")
    _copy(
        conn,
        "police_post",
        ["code", "name", "kind", "staff", "grid_code", "geom"],
        rows(data.posts, "code", "name", "kind", "staff", "grid_code"),
    )
    _copy(
        conn,
        "organization",
        ["name", "category", "employees", "party_members", "grid_code", "geom"],
        rows(data.organizations, "name", "category", "employees", "party_members", "grid_code"),
    )
    _copy(
        conn,
        "worker",
        ["name", "grid_code", "role", "phone"],
        ([w["name"], w["grid_code"], w["role"], w["phone"]] for w in data.workers),
    )
    _copy(
        conn,
        "party_branch",
        ["name", "grid_code", "members", "secretary"],
        ([b["name"], b["grid_code"], b["members"], b["secretary"]] for b in data.branches),
    )
    _copy(
        conn,
        "service_team",
        ["name", "grid_code", "volunteers", "leader"],
        ([t["name"], t["grid_code"], t["volunteers"], t["leader"]] for t in data.teams),
    )
    say(
        f"  police posts {len(data.posts)}, organizations {len(data.organizations)}, "
        f"workers {len(data.workers)}, branches {len(data.branches)}, teams {len(data.teams)}"
    )
