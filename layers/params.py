"""Query parameters of OGC API – Features, parsed without any web framework.

Every problem is an :class:`~gis.errors.InvalidParameter` naming the parameter and
saying what to send instead (the API answers it with 400).

>>> q = parse_items_query([("limit", "20000"), ("kind", "unit")], ("kind",))
>>> q.limit, q.filters
(10000, (('kind', 'unit'),))
>>> parse_datetime("2024-01-01T00:00:00Z/..").end is None
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from gis.errors import InvalidParameter
from layers.queries import BBox

__all__ = [
    "DEFAULT_LIMIT",
    "ITEMS_PARAMETERS",
    "MAX_LIMIT",
    "Interval",
    "ItemsQuery",
    "check_parameters",
    "parse_datetime",
    "parse_items_query",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
_HUGE = 2**53  # larger integers are no sensible page size or offset (and overflow SQL)
#: The standard's parameters of ``/collections/{id}/items``; the layer adds its filters.
ITEMS_PARAMETERS = ("f", "bbox", "limit", "offset", "datetime")


@dataclass(frozen=True)
class Interval:
    """A time instant (``start == end``) or interval; ``None`` is an open end."""

    start: datetime | None
    end: datetime | None

    @property
    def instant(self) -> bool:
        return self.start is not None and self.start == self.end


@dataclass(frozen=True)
class ItemsQuery:
    """What a client asked of a collection's items. ``when=None``: the live features."""

    bbox: BBox | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    when: Interval | None = None
    filters: tuple[tuple[str, str], ...] = ()


def check_parameters(given: Iterable[str], allowed: Sequence[str]) -> None:
    """Reject a parameter the resource does not know (the standard asks for a 400)."""
    for name in given:
        if name not in allowed:
            raise InvalidParameter(
                f"unknown query parameter {name!r}; this resource takes: {', '.join(allowed)}"
            )


def _integer(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if not minimum <= number <= _HUGE:
        raise InvalidParameter(f"{name}={value!r}: give a whole number from {minimum} to {_HUGE}")
    return number


def _bbox(value: str) -> BBox:
    parts = value.split(",")
    if len(parts) == 6:  # minx,miny,minz,maxx,maxy,maxz: heights are not filtered on
        parts = [parts[0], parts[1], parts[3], parts[4]]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        raise InvalidParameter(
            f"bbox={value!r}: give four numbers minx,miny,maxx,maxy in degrees (CRS84: "
            "longitude, latitude), e.g. bbox=87.1,44.0,87.3,44.1"
        )
    box = BBox(*numbers)
    if not (-180 <= box.minx <= box.maxx <= 180 and -90 <= box.miny <= box.maxy <= 90):
        raise InvalidParameter(
            f"bbox={value!r}: minx,miny,maxx,maxy must satisfy -180 <= minx <= maxx <= 180 "
            "and -90 <= miny <= maxy <= 90 (longitude first; boxes across the antimeridian "
            "are not supported: send two requests)"
        )
    return box


def _moment(text: str, whole: str) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        if "T" not in text.upper() and len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(
            f"datetime={whole!r}: give an RFC 3339 date-time (2024-03-01T00:00:00Z), "
            "a date, or an interval start/end with '..' for an open end"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_datetime(value: str) -> Interval:
    """An instant or an interval ``start/end`` (``..`` or empty: open); no zone means UTC."""
    if "/" not in value:
        moment = _moment(value, value)
        if moment is None:
            raise InvalidParameter(f"datetime={value!r}: an instant cannot be open ('..')")
        return Interval(moment, moment)
    first, _, second = value.partition("/")
    start, end = _moment(first, value), _moment(second, value)
    if start is not None and end is not None and start > end:
        raise InvalidParameter(f"datetime={value!r}: the interval ends before it starts")
    return Interval(start, end)


def parse_items_query(params: Iterable[tuple[str, str]], filterable: Sequence[str]) -> ItemsQuery:
    """The items query from ``(name, value)`` pairs; ``filterable`` are the layer's filters."""
    pairs = list(params)
    allowed = (*ITEMS_PARAMETERS, *filterable)
    check_parameters((name for name, _ in pairs), allowed)
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise InvalidParameter(f"{name} is given twice; give it once")
        seen[name] = value
    bbox = _bbox(seen["bbox"]) if seen.get("bbox") else None
    limit = min(_integer("limit", seen["limit"], 1), MAX_LIMIT) if "limit" in seen else None
    offset = _integer("offset", seen["offset"], 0) if "offset" in seen else 0
    when = parse_datetime(seen["datetime"]) if seen.get("datetime") else None
    filters = tuple((name, seen[name]) for name in filterable if name in seen)
    return ItemsQuery(bbox, DEFAULT_LIMIT if limit is None else limit, offset, when, filters)
