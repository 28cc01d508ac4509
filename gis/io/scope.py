"""The region codes a file to import would touch, for scope checks before writing.

A row names its region by ``code`` (regions, grids), ``community_code`` (grids) or
``grid_code`` (posts, organizations); buildings name none. A row without a code gives
``""``, which no non-empty scope covers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gis.errors import InvalidInput
from gis.io.mapping import FieldMapping, apply_mapping, load_mapping
from gis.io.read import read_file

__all__ = ["CODE_FIELDS", "region_codes"]

CODE_FIELDS: dict[str, tuple[str, ...]] = {
    "regions": ("code",),
    "grids": ("code", "community_code"),
    "posts": ("grid_code",),
    "organizations": ("grid_code",),
    "buildings": (),
}


def region_codes(
    path: Path | str,
    as_: str,
    mapping: FieldMapping | dict[str, Any] | Path | str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
) -> set[str]:
    """Every region code the rows of ``path`` (imported as ``as_``) name; ``""`` for a row
    that names none."""
    if as_ not in CODE_FIELDS:
        raise InvalidInput(f"--as {as_!r}: use one of {', '.join(CODE_FIELDS)}")
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
    frame = apply_mapping(source.frame, as_, rules, path.name)
    fields = CODE_FIELDS[as_]
    if not fields:
        return {""} if len(frame) else set()
    codes: set[str] = set()
    for field in fields:
        codes |= {"" if v is None or str(v) in ("", "nan") else str(v) for v in frame[field]}
    return codes
