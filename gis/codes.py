"""Statistical division codes and grid codes.

Region codes are the 12-digit national statistical division codes; a grid code is its
community's code followed by a sequence (three digits by default, after the Beijing
local standard DB11/T 2157-2023). Sequence numbers run west→east, north→south inside
the community: grids are ranked in rows (bands as tall as a typical grid, from the
north), and west to east within a row.

>>> grid_code("652301001001", 7)
'652301001001007'
>>> sequence_order([(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)], band=5.0)
[2, 0, 1]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

__all__ = [
    "LEVEL_DIGITS",
    "grid_code",
    "is_region_code",
    "level_of",
    "parent_code",
    "sequence_order",
]

LEVEL_DIGITS = {"prefecture": 4, "county": 6, "street": 9, "community": 12}
_REGION = re.compile(r"^[0-9]{12}$")


def is_region_code(code: str) -> bool:
    return bool(_REGION.match(code))


def level_of(code: str) -> str:
    """The level a 12-digit code names, read from its trailing zeros."""
    if not is_region_code(code):
        raise ValueError(f"{code!r} is not a 12-digit statistical division code")
    if code[9:] != "000":
        return "community"
    if code[6:9] != "000":
        return "street"
    if code[4:6] != "00":
        return "county"
    return "prefecture"


def parent_code(code: str) -> str | None:
    """The code of the region one level up, or None for a prefecture."""
    level = level_of(code)
    if level == "prefecture":
        return None
    keep = {"county": 4, "street": 6, "community": 9}[level]
    return code[:keep].ljust(12, "0")


def grid_code(community_code: str, sequence: int, width: int = 3) -> str:
    if not 1 <= sequence < 10**width:
        raise ValueError(f"grid sequence {sequence} does not fit in {width} digits")
    return f"{community_code}{sequence:0{width}d}"


def sequence_order(points: Sequence[tuple[float, float]], band: float) -> list[int]:
    """Indices of ``points`` (x east, y north) in west→east, north→south reading order."""
    if not points:
        return []
    top = max(y for _, y in points)
    return sorted(
        range(len(points)),
        key=lambda i: (math.floor((top - points[i][1]) / band), points[i][0], -points[i][1]),
    )
