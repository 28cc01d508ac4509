"""The region codes a file to import would touch, for scope checks before writing.

A row names its region by ``code`` (regions, grids), ``community_code`` (grids) or
``grid_code`` (posts, organizations); buildings name none. A row without a code gives
``""``, which no non-empty scope covers.
"""

from __future__ import annotations

import pandas as pd

from gis.errors import InvalidInput

__all__ = ["CODE_FIELDS", "region_codes"]

CODE_FIELDS: dict[str, tuple[str, ...]] = {
    "regions": ("code",),
    "grids": ("code", "community_code"),
    "posts": ("grid_code",),
    "organizations": ("grid_code",),
    "buildings": (),
}


def region_codes(frame: pd.DataFrame, as_: str) -> set[str]:
    """Every region code the mapped rows of a file (imported as ``as_``) name; ``""`` for a
    row that names none."""
    if as_ not in CODE_FIELDS:
        raise InvalidInput(f"--as {as_!r}: use one of {', '.join(CODE_FIELDS)}")
    fields = CODE_FIELDS[as_]
    if not fields:
        return {""} if len(frame) else set()
    codes: set[str] = set()
    for field in fields:
        codes |= {"" if v is None or str(v) in ("", "nan") else str(v) for v in frame[field]}
    return codes
