"""The compliance layer: regions of one level coloured by their audit roll-up.

The overview's drill-down draws, at each level, the children of a region (the
prefecture's counties, a county's streets, a street's communities) with the compliance
score the audit of the top region gives each of them (``report.rollup``): one audit serves
every level. Without a region named, the layer is every community of the audited region.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from gis.audit.report import AuditReport, RegionScore
from gis.errors import InvalidInput, NotFound

__all__ = ["SIMPLIFY_M", "compliance_body", "compliance_etag", "layer_regions", "score_class"]

#: The layer is drawn whole, at the zoom of a prefecture or a county: each region's
#: outline simplified by :data:`SIMPLIFY_M` metres (topology preserved: no outline
#: collapses or crosses itself) and its coordinates rounded to 5 decimals (~1 m).
SIMPLIFY_M = 5.0
_SHAPES = text("""
SELECT code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tolerance), 5) AS geojson
FROM region WHERE code = ANY(:codes) ORDER BY code
""")
#: metres → degrees (of latitude; a degree of longitude is shorter, so the outline
#: moves by less than SIMPLIFY_M east-west)
_DEGREES_PER_M = 1 / 111_320


def score_class(score: float) -> str:
    """The colour class of a compliance score (the layer's legend)."""
    if score >= 1.0:
        return "full"
    if score >= 0.8:
        return "high"
    if score >= 0.5:
        return "mid"
    return "low"


def layer_regions(report: AuditReport, children: str | None) -> list[RegionScore]:
    """The roll-ups drawn: the regions directly under ``children``, or every community of
    the audited region when ``None``. :class:`NotFound` for a region outside the audited
    one, :class:`InvalidInput` for a community (the lowest level: it has grids)."""
    if children is None:
        return [r for r in report.rollup if r.level == "community"]
    parent = next((r for r in report.rollup if r.code == children), None)
    if parent is None:
        raise NotFound(
            f"region {children!r} is not in the audit of {report.region} ({report.region_name}):"
            " give the code of that region or of a region under it"
        )
    if parent.level == "community":
        raise InvalidInput(
            f"region {children} is a community, the lowest level of the roll-up: its grids "
            f"are on its coverage page /map/coverage/{children}"
        )
    return report.children(children)


def _properties(r: RegionScore) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "level": r.level,
        "score": r.score,
        "score_pct": f"{r.score:.0%}",
        "score_class": score_class(r.score),
        "rules_failed": r.rules_checked - r.rules_met,
        "rules_checked": r.rules_checked,
        "errors": r.errors,
        "warnings": r.warnings,
        "area_affected_m2": r.area_affected_m2,
        "households_affected": r.households_affected,
    }


def compliance_etag(report: AuditReport, children: str | None) -> str:
    """The layer's version: its audit's (computed once per data version), the level
    drawn and the shapes' simplification."""
    key = (
        f"{report.region}|{report.as_of}|{report.generated_at.isoformat()}|{children}|{SIMPLIFY_M}"
    )
    return f'"compliance-{hashlib.sha256(key.encode()).hexdigest()[:20]}"'


#: the layers last built (plain and gzipped), by audit (region, as-of, when it was
#: computed) and level drawn: a report is computed once per data version, which covers
#: the shapes too
_BODIES: OrderedDict[tuple[str, datetime | None, datetime, str | None], tuple[bytes, bytes]] = (
    OrderedDict()
)
_BODIES_LOCK = threading.Lock()
_KEPT = 16


def compliance_body(
    engine: Engine, report: AuditReport, children: str | None
) -> tuple[bytes, bytes]:
    """The layer as GeoJSON text, plain and gzipped (built once per audit and level)."""
    key = (report.region, report.as_of, report.generated_at, children)
    with _BODIES_LOCK:
        found = _BODIES.get(key)
    if found is not None:
        return found
    scores = {r.code: r for r in layer_regions(report, children)}
    with engine.connect() as conn:
        rows = conn.execute(
            _SHAPES, {"codes": sorted(scores), "tolerance": SIMPLIFY_M * _DEGREES_PER_M}
        ).all()
    features = [
        {
            "type": "Feature",
            "id": row.code,
            "geometry": json.loads(row.geojson),
            "properties": _properties(scores[row.code]),
        }
        for row in rows
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    built = (body.encode(), gzip.compress(body.encode(), compresslevel=6))
    with _BODIES_LOCK:
        _BODIES[key] = built
        while len(_BODIES) > _KEPT:
            _BODIES.popitem(last=False)
    return built
