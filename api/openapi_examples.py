"""The examples of the OpenAPI document, in one place: a success body for every operation
and examples of path/query parameters and request bodies.

Bodies are trimmed copies of what the demo prefecture answers (street 652301001000
宁边路街道, community 652301001001 西街社区, its grid 652301001001001). Routers attach them
where their routes are declared: ``responses=ok(...)`` on the decorator, the annotated
parameter types below in the signature, ``json_schema_extra`` on request models.
``tests/test_openapi.py`` checks every operation has them and that JSON examples fit
their schemas.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

__all__ = [
    "AUTOGRID",
    "CHECK_EXAMPLES",
    "CHILDREN_EXAMPLES",
    "COMMUNITY",
    "GRID",
    "PAGES",
    "SITING",
    "STREET",
    "AsOfExamples",
    "CollectionId",
    "FeatureId",
    "IfMatch",
    "LayerId",
    "OverviewRegion",
    "PlanId",
    "PlanPageId",
    "Region",
    "document_pages",
    "file_ok",
    "html_ok",
    "json_ok",
    "keep_nulls",
    "ogc_ok",
    "param_examples",
    "siting_ok",
]

PREFECTURE = "652300000000"
COUNTY = "652301000000"
STREET = "652301001000"
COMMUNITY = "652301001001"
GRID = "652301001001001"
BASE = "http://127.0.0.1:8000"
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
BINARY = {"type": "string", "format": "binary"}

ResponseDoc = dict[int | str, dict[str, Any]]


# -- nulls: FastAPI drops ``None`` from the whole document (fastapi#5559) ------------------

#: examples holding ``null``, by the JSON text of what FastAPI leaves of them
_WITH_NULLS: dict[str, Any] = {}


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _remember(example: Any) -> Any:
    stripped = jsonable_encoder(example, exclude_none=True)
    if stripped != example:
        _WITH_NULLS[_key(stripped)] = example
    return example


def _restore(node: Any) -> None:
    """Put the nulls back into the examples found under ``node`` (in place)."""
    if isinstance(node, list):
        for item in node:
            _restore(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("example", "value") and _key(value) in _WITH_NULLS:
            node[key] = _WITH_NULLS[_key(value)]
        elif key == "examples" and isinstance(value, list):
            node[key] = [_WITH_NULLS.get(_key(v), v) for v in value]
        else:
            _restore(value)


def keep_nulls(app: FastAPI) -> None:
    """Make ``app.openapi()`` keep the ``null`` values of the examples given here:
    FastAPI encodes the document with ``exclude_none``, which turns a draft's
    ``"published_at": null`` into a missing required property."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        _restore(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


# -- helpers: the Responses Object of a route -------------------------------------------


def json_ok(
    example: Any, description: str = "Successful Response", status: int = 200, media: str = JSON
) -> ResponseDoc:
    """A JSON (or GeoJSON) success response with its example; the schema comes from the
    route's ``response_model`` when it has one."""
    content = {media: {"example": _remember(example)}}
    return {status: {"description": description, "content": content}}


def html_ok(title: str, description: str) -> ResponseDoc:
    """An HTML page (the example is the head of the page)."""
    head = f'<!doctype html>\n<html lang="zh">\n<head><meta charset="utf-8"><title>{title}</title>'
    return {
        200: {
            "description": description,
            "content": {HTML: {"schema": {"type": "string"}, "example": head}},
        }
    }


def file_ok(description: str, files: dict[str, tuple[str, str]]) -> ResponseDoc:
    """A binary download: per media type, a summary and a URL that answers such a file."""
    content = {
        media: {
            "schema": BINARY,
            "examples": {"demo": {"summary": summary, "externalValue": f"{BASE}{path}"}},
        }
        for media, (summary, path) in files.items()
    }
    return {200: {"description": description, "content": content}}


def ogc_ok(example: Any, description: str, media: str = JSON) -> ResponseDoc:
    """An OGC API document: JSON (or GeoJSON) by default, HTML with ``f=html``."""
    head = "<!doctype html>\n<html><head><title>gridgov OGC API</title>"
    return {
        200: {
            "description": f"{description} (``f=html``: as an HTML page)",
            "content": {
                media: {"schema": {"type": "object"}, "example": _remember(example)},
                HTML: {"schema": {"type": "string"}, "example": head},
            },
        }
    }


def param_examples(**values: Any) -> dict[str, dict[str, Any]]:
    """``openapi_examples`` of a parameter: ``name=value`` or ``name=(summary, value)``."""
    out = {}
    for name, value in values.items():
        summary, value = value if isinstance(value, tuple) else (name.replace("_", " "), value)
        out[name] = {"summary": summary, "value": value}
    return out


# -- parameters shared by several routers ------------------------------------------------

REGION_EXAMPLES = param_examples(
    community=(f"Community 西街社区 ({COMMUNITY})", COMMUNITY),
    street=(f"Street 宁边路街道 ({STREET})", STREET),
)
Region = Annotated[
    str,
    Path(
        description="12-digit region code: a community, a street or the county",
        openapi_examples=REGION_EXAMPLES,
    ),
]
PlanPageId = Annotated[
    str,
    Path(
        description="The plan's number (anything else names no plan: the 404 page)",
        openapi_examples=param_examples(plan="3"),
    ),
]
PlanId = Annotated[
    int, Path(description="The plan's number", openapi_examples=param_examples(plan=3))
]
IfMatch = Annotated[
    str | None,
    Header(
        description='The ETag you read, e.g. "plan-3-v2"',
        openapi_examples=param_examples(etag=("Version 2 of plan 3", '"plan-3-v2"')),
    ),
]
LayerId = Annotated[
    str,
    Path(
        description="A layer of the catalogue",
        openapi_examples=param_examples(grids="grids", police_posts="police_posts"),
    ),
]
CollectionId = Annotated[
    str,
    Path(
        description="A collection: a layer of the catalogue",
        openapi_examples=param_examples(grids="grids", communities="communities"),
    ),
]
FeatureId = Annotated[
    str,
    Path(
        description="A grid's or region's code; roads, organizations, buildings by number",
        openapi_examples=param_examples(grid=(f"Grid {GRID}", GRID)),
    ),
]
AsOfExamples = param_examples(date=("The grids as they were on 1 March 2024", "2024-03-01"))
CHECK_EXAMPLES = param_examples(police=("Police blind spots only", "police_blind_spot"))
CHILDREN_EXAMPLES = param_examples(
    prefecture=(f"The counties of the prefecture ({PREFECTURE})", PREFECTURE),
    county=(f"The streets of 昌吉市 ({COUNTY})", COUNTY),
    street=(f"The communities of 宁边路街道 ({STREET})", STREET),
)
OverviewRegion = Annotated[
    str,
    Path(
        description=(
            "12-digit region code: the overview draws its children (a county's streets, a "
            "street's communities); a community redirects to its coverage page"
        ),
        openapi_examples=param_examples(
            county=(f"County 昌吉市 ({COUNTY})", COUNTY),
            street=(f"Street 宁边路街道 ({STREET})", STREET),
        ),
    ),
]


# -- bodies ----------------------------------------------------------------------------

HEALTH = {
    "status": "ok",
    "gridgov": "0.1.0",
    "postgresql": "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu",
    "postgis": 'POSTGIS="3.3.2 4975da8" [EXTENSION] PGSQL="150" GEOS="3.11.1-CAPI-1.17.1"',
    "database": "gridgov",
}

_GRID_RING = [
    [87.295132, 44.00972],
    [87.297666, 44.009895],
    [87.29775, 44.011137],
    [87.30085, 44.01005],
    [87.301955, 44.008913],
    [87.299617, 44.008457],
    [87.296609, 44.007761],
    [87.292759, 44.006728],
    [87.295132, 44.00972],
]
GRID_FEATURE = {
    "type": "Feature",
    "id": GRID,
    "geometry": {"type": "MultiPolygon", "coordinates": [[_GRID_RING]]},
    "properties": {
        "code": GRID,
        "name": "西街社区第1网格",
        "kind": "geographic",
        "community": "西街社区",
        "community_code": COMMUNITY,
        "households": 463,
        "population": 1302,
        "version": 1,
        "valid_from": "2023-12-31T16:00:00+00:00",
        "valid_to": None,
    },
}
LAYER = {"type": "FeatureCollection", "features": [GRID_FEATURE]}


def _finding(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    base = {"community": COMMUNITY, "area_m2": None, "households": None}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": geometry, "properties": base | properties}],
    }


_SMALL = {
    "type": "Polygon",
    "coordinates": [
        [[87.29775, 44.011137], [87.29801, 44.01121], [87.29812, 44.01098], [87.29775, 44.011137]]
    ],
}
#: one finding per audit layer (path under /audit/{region}/)
FINDINGS: dict[str, dict[str, Any]] = {
    "blind-spots": _finding(
        _SMALL,
        rule="blind_spots",
        check="blind_spot",
        severity="error",
        grids="",
        message="community 652301001001: 412.6 m² (0.04% of the community) is in no grid; "
        "give it to a neighbouring grid (兜底)",
        area_m2=412.6,
        m_share=0.000412,
    ),
    "overlaps": _finding(
        _SMALL,
        rule="overlaps",
        check="overlap",
        severity="error",
        grids="652301001001001,652301001001002",
        message="grid 652301001001001 overlaps grid 652301001001002 over 388.2 m²; "
        "redraw the shared boundary",
        area_m2=388.2,
        m_nested=False,
    ),
    "spill": _finding(
        _SMALL,
        rule="spill",
        check="spill",
        severity="error",
        grids=GRID,
        message="grid 652301001001001 reaches 240.5 m² outside community 652301001001, "
        "into 652301001002",
        area_m2=240.5,
    ),
    "police-posts": _finding(
        _SMALL,
        rule="police_posts",
        check="police_blind_spot",
        severity="warning",
        grids="",
        message="community 652301001001: built-up land of 5,210 m² lies farther than "
        "800 m from every police post",
        area_m2=5210.0,
    ),
    "workload": _finding(
        {
            "type": "MultiPolygon",
            "coordinates": [
                [
                    [
                        [87.299008, 44.0146652],
                        [87.2960373, 44.0138077],
                        [87.291574, 44.0154093],
                        [87.2937543, 44.019005],
                        [87.2987838, 44.0166826],
                        [87.299008, 44.0146652],
                    ]
                ]
            ],
        },
        rule="workload",
        check="households_over",
        severity="error",
        community="652301001004",
        grids="652301001004002",
        message="grid 652301001004002 has 594 households, above the band 300–500; "
        "split it or give blocks to a neighbour",
        households=594,
        m_band=[300, 500],
    ),
    "staffing": _finding(
        {
            "type": "MultiPolygon",
            "coordinates": [
                [
                    [
                        [87.3048676, 44.0100643],
                        [87.3060987, 44.0092147],
                        [87.303883, 44.0078133],
                        [87.3033939, 44.008898],
                        [87.3048676, 44.0100643],
                    ]
                ]
            ],
        },
        rule="staffing",
        check="understaffed",
        severity="error",
        community="652301001006",
        grids="652301001006010",
        message="grid 652301001006010: 1 worker for 289 households; 3 needed "
        "(one per 100 households, 百户一人)",
        households=289,
        m_workers=1,
        m_needed=3,
    ),
    "buildings": _finding(
        _SMALL,
        rule="buildings_split",
        check="building_split",
        severity="error",
        grids="652301001001001,652301001001002",
        message="building 1207 is cut by a grid boundary (652301001001001 61%, "
        "652301001001002 39%); move it to one grid",
    ),
    "organizations": _finding(
        {"type": "Point", "coordinates": [87.2931477, 44.0128612]},
        rule="organizations",
        check="wrong_grid",
        severity="error",
        community="652301001004",
        grids="652301001004007,652301001004004",
        message="organization 348 (昌吉北庭化工有限公司) is assigned to grid 652301001004007 "
        "but stands in 652301001004004",
        m_organization=348,
        m_stands_in=["652301001004004"],
        m_assigned_to="652301001004007",
    ),
    "geometry": _finding(
        _SMALL,
        rule="geometry",
        check="multipart",
        severity="error",
        grids=GRID,
        message="grid 652301001001001 has 2 separate parts; a grid is one piece",
    ),
}

COMPLIANCE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": COMMUNITY,
            "geometry": {"type": "MultiPolygon", "coordinates": [[_GRID_RING]]},
            "properties": {
                "code": COMMUNITY,
                "name": "西街社区",
                "level": "community",
                "score": 0.9167,
                "score_pct": "92%",
                "score_class": "high",
                "rules_failed": 1,
                "rules_checked": 12,
                "errors": 2,
                "warnings": 1,
                "area_affected_m2": 412.5,
                "households_affected": 388,
            },
        }
    ],
}


def _rule(rule: str, errors: int = 0) -> dict[str, Any]:
    return {"rule": rule, "enabled": True, "severity": "error", "errors": errors, "warnings": 0}


AUDIT_SUMMARY = {
    "region": STREET,
    "region_name": "宁边路街道",
    "level": "street",
    "as_of": None,
    "profile": "default",
    "seconds": 0.468,
    "errors": 3,
    "warnings": 0,
    "rules": [
        _rule("blind_spots"),
        _rule("overlaps"),
        _rule("spill"),
        _rule("organizations", 1),
        _rule("police_posts"),
        _rule("workload", 1),
        _rule("staffing", 1),
    ],
    "rollup": [
        {
            "code": STREET,
            "name": "宁边路街道",
            "level": "street",
            "parent_code": "652301000000",
            "rules_checked": 12,
            "rules_met": 9,
            "score": 0.75,
            "errors": 3,
            "warnings": 0,
            "area_affected_m2": 0.0,
            "households_affected": 883,
        },
        {
            "code": COMMUNITY,
            "name": "西街社区",
            "level": "community",
            "parent_code": STREET,
            "rules_checked": 12,
            "rules_met": 12,
            "score": 1.0,
            "errors": 0,
            "warnings": 0,
            "area_affected_m2": 0.0,
            "households_affected": 0,
        },
    ],
    "communities": [
        {
            "code": COMMUNITY,
            "grids": 8,
            "households": 2532,
            "households_min": 386,
            "households_max": 463,
            "households_mean": 424.5,
            "households_cv": 0.0907,
            "max_deviation": 0.1575,
            "workers": 29,
            "workers_needed": 29,
            "post_distance_mean_m": 116.0,
            "post_distance_p95_m": 332.0,
            "post_distance_max_m": 433.7,
        }
    ],
}


def plan(version: int = 1, status: str = "draft", grids: int = 8, **changes: Any) -> Any:
    """A plan as ``/plans`` answers it (plan 3: a redraw of 西街社区)."""
    return {
        "id": 3,
        "name": "西街社区 2025 redraw",
        "author": "王芳 (street planner)",
        "status": status,
        "community_codes": [COMMUNITY],
        "version": version,
        "created_at": "2025-03-04T09:12:31.482913+08:00",
        "published_at": None,
        "note": "split the grid of the new housing estate",
        "grids": grids,
    } | changes


PLAN_GRIDS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": GRID,
            "geometry": {"type": "MultiPolygon", "coordinates": [[_GRID_RING]]},
            "properties": {
                "code": GRID,
                "name": "西街社区第1网格",
                "kind": "geographic",
                "community_code": COMMUNITY,
                "households": 463,
                "population": 1302,
            },
        }
    ],
}
VALIDATION = {
    "plan": 3,
    "errors": 1,
    "warnings": 0,
    "violations": [
        {
            "rule": "workload",
            "check": "households_under",
            "severity": "error",
            "community": COMMUNITY,
            "grids": ["652301001001009"],
            "message": "grid 652301001001009 has 187 households, below the band 300–500; "
            "merge it with a neighbour",
            "area_m2": None,
            "households": 187,
            "measures": {"band": [300, 500]},
        }
    ],
}
DIFF = {
    "plan": 3,
    "grids": [
        {
            "code": GRID,
            "status": "changed",
            "renumbered_from": None,
            "area_before_m2": 162410.5,
            "area_after_m2": 98214.2,
            "area_changed_m2": 64196.3,
            "households_before": 463,
            "households_after": 276,
            "population_before": 1302,
            "population_after": 781,
        },
        {
            "code": "652301001001009",
            "status": "added",
            "renumbered_from": None,
            "area_before_m2": 0.0,
            "area_after_m2": 64196.3,
            "area_changed_m2": 64196.3,
            "households_before": 0,
            "households_after": 187,
            "population_before": 0,
            "population_after": 521,
        },
    ],
    "moves": [
        {
            "what": "building",
            "id": "1207",
            "before": GRID,
            "after": "652301001001009",
            "households": 42,
        }
    ],
    "households_before": 2532,
    "households_after": 2532,
}
IMPORT_REPORT = {
    "validation": {
        "file": "police_posts.csv",
        "target": "posts",
        "format": "CSV",
        "crs": "EPSG:4326",
        "features": 42,
        "repaired": 0,
        "problems": [
            {
                "severity": "warning",
                "check": "outside",
                "feature": 17,
                "code": "652301JW00018",
                "message": "stands outside its grid 652301001003002",
                "location": [87.3101, 44.0203],
            }
        ],
        "errors": 0,
        "warnings": 1,
    },
    "dry_run": False,
    "inserted": 3,
    "updated": 39,
    "unchanged": 0,
    "changes": 42,
    "seconds": 0.84,
}

# -- request bodies ----------------------------------------------------------------------

_NEW_OUTLINE = {
    "type": "Polygon",
    "coordinates": [
        [
            [87.295132, 44.00972],
            [87.297666, 44.009895],
            [87.29775, 44.011137],
            [87.299617, 44.008457],
            [87.292759, 44.006728],
            [87.295132, 44.00972],
        ]
    ],
}
BODIES: dict[str, dict[str, Any]] = {
    "new_plan": {
        "communities": [COMMUNITY],
        "name": "西街社区 2025 redraw",
        "note": "split the grid of the new housing estate",
    },
    "split": {
        "grid": GRID,
        "line": {"type": "LineString", "coordinates": [[87.2941, 44.0107], [87.3003, 44.0069]]},
    },
    "merge": {"grids": ["652301001001008", "652301001001009"]},
    "reshape": {"grid": GRID, "geometry": _NEW_OUTLINE, "give_to": None, "clip": False},
    "publish": {"force_reason": "the underfull grid is merged in next month's plan"},
    "carve": {
        "community": COMMUNITY,
        "geometry": _NEW_OUTLINE,
        "kind": "organization",
        "name": "昌吉农贸市场网格",
    },
    "retire": {"grid": "652301001001009", "give_to": GRID},
    "renumber": {"community": COMMUNITY},
    "move_building": {"building": 1207, "to_grid": "652301001001002"},
    "move": {"entity": "police_post", "key": "652301JW00001", "to_grid": "652301001001002"},
}

# -- autogrid and siting ------------------------------------------------------------------

BODIES["autogrid"] = {"target": 400, "lock": ["unit", "organization"], "seed": 0}
AUTOGRID = {
    "plan": plan(grids=7, name="autogrid 652301001001 target 400", author="planner"),
    "community": COMMUNITY,
    "target": 400.0,
    "grids": ["652301001001001", "652301001001002", "652301001001003", "652301001001004"],
    "kept": ["652301001001005", "652301001001006", "652301001001007"],
    "metrics": {
        "parts": 4,
        "households": [402, 398, 401, 399],
        "max_deviation": 0.005,
        "max_deviation_ideal": 0.0025,
        "cv": 0.0039,
        "pp_mean": 0.452,
        "pp_min": 0.371,
        "contiguous": True,
    },
    "atoms": 212,
    "buildings": 205,
    "buildings_split": 0,
    "seconds": 0.41,
    "warnings": [],
    "redraw_page": "/map/plans/3",
}
_SITING_GRID = {
    "grid": GRID,
    "households": 384.0,
    "current_post": "652301JW00429",
    "current_mean_m": 283.16,
    "proposed_site": "building:21926",
    "proposed_mean_m": 244.63,
    "saved_weighted_m": 14793.3,
}
SITING = {
    "region": COMMUNITY,
    "epsg": 32645,
    "demand_points": 521,
    "households": 2043.0,
    "candidates": 531,
    "grids": [_SITING_GRID | {"proposed_lonlat": [87.2526499, 44.0101573]}],
    "region_results": [
        {
            "model": "mclp",
            "p": 2,
            "radius_m": 500.0,
            "sites": ["post:652301JW00429", "building:21926"],
            "objective": 1874.0,
            "coverage": 0.917,
            "mean_distance_m": 301.2,
            "gap": 0.0,
            "optimal": True,
            "time_limit_hit": False,
            "seconds": 0.2,
            "site_lonlat": [[87.2519, 44.0112], [87.2526499, 44.0101573]],
        }
    ],
    "distance": "straight",
    "road": None,
}
SITING_SITES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [87.2526499, 44.0101573]},
            "properties": {"role": "grid", **_SITING_GRID},
        }
    ],
}


def siting_ok() -> ResponseDoc:
    """The siting report as JSON, or its sites as GeoJSON points (``format=geojson``)."""
    content = {
        JSON: {"schema": {"type": "object"}, "example": _remember(SITING)},
        GEOJSON: {"schema": {"type": "object"}, "example": _remember(SITING_SITES)},
    }
    return {200: {"description": "The siting report, or its sites as points", "content": content}}


# -- OGC API and tiles -------------------------------------------------------------------


def _link(path: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": f"{BASE}{path}", "rel": rel, "type": media, "title": title}


_OPENAPI30 = "application/vnd.oai.openapi+json;version=3.0"
LANDING = {
    "title": "gridgov OGC API",
    "description": "Grids, regions, police posts, roads, organizations and buildings as "
    "OGC API – Features collections, and as vector tiles.",
    "links": [
        _link("/ogc", "self", JSON, "This document"),
        _link("/ogc?f=html", "alternate", HTML, "This page as HTML"),
        _link("/ogc/api", "service-desc", _OPENAPI30, "The API definition"),
        _link("/ogc/conformance", "conformance", JSON, "Conformance classes"),
        _link("/ogc/collections", "data", JSON, "The collections"),
    ],
}
_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONFORMANCE = {
    "conformsTo": [_CORE + c for c in ("core", "geojson", "oas30", "html")],
    "links": [_link("/ogc/conformance", "self", JSON, "This document")],
}
_C = "/ogc/collections/grids"
COLLECTION = {
    "id": "grids",
    "title": "网格 Grids",
    "description": "Live management grids of every kind; ?datetime= gives the versions valid then.",
    "links": [
        _link(_C, "self", JSON, "This collection"),
        _link(f"{_C}?f=html", "alternate", HTML, "This collection as HTML"),
        _link(f"{_C}/items", "items", GEOJSON, "Grids: features"),
        _link(f"{_C}/items?f=html", "items", HTML, "Features as HTML"),
        _link("/tiles/grids.json", "related", JSON, "Vector tiles (TileJSON)"),
    ],
    "itemType": "feature",
    "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
    "extent": {
        "spatial": {
            "bbox": [[86.768116193, 43.90481157, 88.05962352, 44.282167191]],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        },
        "temporal": {
            "interval": [["2023-12-31T16:00:00Z", None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        },
    },
}
COLLECTIONS = {
    "collections": [COLLECTION],
    "links": [
        _link("/ogc/collections", "self", JSON, "This document"),
        _link("/ogc/collections?f=html", "alternate", HTML, "As HTML"),
    ],
}
_PAGE = f"{_C}/items?kind=geographic&limit=1"
ITEMS = {
    "type": "FeatureCollection",
    "numberMatched": 1279,
    "numberReturned": 1,
    "timeStamp": "2025-03-04T09:12:31.482913Z",
    "links": [
        _link(f"{_PAGE}&offset=0", "self", GEOJSON, "This page"),
        _link(f"{_PAGE}&offset=0&f=html", "alternate", HTML, "This page as HTML"),
        _link(_C, "collection", JSON, "The collection"),
        _link(f"{_PAGE}&offset=1", "next", GEOJSON, "Next page"),
    ],
    "features": [GRID_FEATURE],
}
ITEM = GRID_FEATURE | {
    "links": [
        _link(f"{_C}/items/{GRID}", "self", GEOJSON, "This feature"),
        _link(f"{_C}/items/{GRID}?f=html", "alternate", HTML, "This feature as HTML"),
        _link(_C, "collection", JSON, "The collection"),
    ]
}
API_DEFINITION = {
    "openapi": "3.0.3",
    "info": {"title": "gridgov", "version": "0.1.0"},
    "paths": {"/ogc": {"get": {"summary": "Landing", "responses": {"200": {}}}}},
}
TILEJSON = {
    "tilejson": "3.0.0",
    "name": "网格 Grids",
    "description": "Live management grids of every kind; ?datetime= gives the versions valid then.",
    "scheme": "xyz",
    "tiles": [f"{BASE}/tiles/grids/{{z}}/{{x}}/{{y}}.mvt"],
    "minzoom": 0,
    "maxzoom": 22,
    "bounds": [86.768116193, 43.90481157, 88.05962352, 44.282167191],
    "center": [87.4138698565, 44.0934893805, 12],
    "vector_layers": [
        {
            "id": "grids",
            "description": "网格 Grids",
            "minzoom": 0,
            "maxzoom": 22,
            "fields": {
                "code": "编码 Code",
                "name": "名称 Name",
                "kind": "类型 Kind",
                "community_code": "community_code",
                "households": "户数 Households",
            },
        }
    ],
}

# -- HTML pages --------------------------------------------------------------------------

#: success responses of the pages (``api/routers/pages.py``), by path
PAGES: dict[str, ResponseDoc] = {
    "/": html_ok("gridgov", "The list of maps and of every region's pages"),
    "/map": html_ok("昌吉市网格 Grids of the prefecture", "The prefecture map (Leaflet)"),
    "/map/overview": html_ok(
        "合规总览 Compliance overview", "The prefecture's counties by compliance score"
    ),
    "/map/overview/{region}": html_ok(
        "合规总览 Compliance overview", "A region's children by compliance score (drill-down)"
    ),
    "/map/coverage/{region}": html_ok("网格覆盖 Grid coverage", "A region's coverage map"),
    "/map/police/{region}": html_ok("一网格一警务站 One police post per grid", "Police posts"),
    "/map/workload/{region}": html_ok("网格工作量 Grid workload", "Households per grid"),
    "/map/plans": html_ok("规划 Plans", "Every plan, each linked to its Redraw page"),
    "/map/plans/{plan_id}": html_ok("网格重划 Redraw", "A plan's draft grids, editable"),
}


def document_pages(routes: Sequence[BaseRoute]) -> None:
    """Attach the success response of each page to the pages router's routes (declared
    in ``api/routers/pages.py``); called once, before the router is included."""
    for route in routes:
        if isinstance(route, APIRoute) and route.path in PAGES:
            route.responses = {**route.responses, **PAGES[route.path]}


for _body in BODIES.values():
    _remember(_body)
