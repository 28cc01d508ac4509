"""``POST /import/{target}`` (a file upload) and ``GET /export/{layer}.{fmt}`` (a download)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from api.auth import WriterDep, check_scope
from api.deps import EngineDep
from api.errors import problem
from api.openapi_examples import (
    COMMUNITY,
    IMPORT_REPORT,
    STREET,
    AsOfExamples,
    file_ok,
    json_ok,
    param_examples,
)
from gis.errors import InvalidInput
from gis.io.export import FORMATS, export_layer
from gis.io.importer import ImportRejected, import_file
from gis.io.report import ImportReport
from layers.tiles import invalidate_tiles

__all__ = ["MAX_UPLOAD_BYTES", "router"]

MAX_UPLOAD_BYTES = 200 * 2**20
CHUNK = 2**20

router = APIRouter(tags=["import and export"])

_UPLOAD = {"file": "police_posts.csv", "mapping": "mapping.yaml"}
Target = Annotated[
    str,
    PathParam(
        description="What the file holds: regions, grids, posts, organizations or buildings",
        openapi_examples=param_examples(posts="posts", grids="grids"),
    ),
]


def _too_large(request: Request, size: int | None = None) -> JSONResponse:
    got = f" ({size} bytes)" if size else ""
    return problem(
        request,
        413,
        "Payload too large",
        f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MiB{got}; "
        "split the file or import it with `gridgov import`",
    )


def _save(upload: UploadFile, folder: Path) -> Path | None:
    """The upload written under its own name (without folders); None when too large."""
    name = Path(upload.filename or "upload").name or "upload"
    target = folder / name
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                return None
            out.write(chunk)
    return target


@router.post(
    "/import/{target}",
    response_model=ImportReport,
    responses=json_ok(IMPORT_REPORT, "What the import did (or would do, with dry-run)"),
    openapi_extra={
        "requestBody": {"content": {"multipart/form-data": {"example": _UPLOAD}}},
    },
)
def import_upload(
    target: Target,
    file: UploadFile,
    request: Request,
    engine: EngineDep,
    caller: WriterDep,
    crs: Annotated[
        str | None,
        Query(
            description="EPSG:XXXX, gcj02 or bd09",
            openapi_examples=param_examples(cgcs2000="EPSG:4490", amap=("GCJ-02", "gcj02")),
        ),
    ] = None,
    repair: Annotated[
        bool, Query(openapi_examples=param_examples(repair=("Repair invalid geometries", True)))
    ] = False,
    dry_run: Annotated[
        bool,
        Query(
            alias="dry-run",
            openapi_examples=param_examples(check=("Check only, write nothing", True)),
        ),
    ] = False,
    layer: Annotated[
        str | None, Query(openapi_examples=param_examples(gpkg=("A GeoPackage layer", "posts")))
    ] = None,
    encoding: Annotated[
        str | None, Query(openapi_examples=param_examples(gbk=("A Chinese shapefile", "GBK")))
    ] = None,
    mapping: UploadFile | None = None,
) -> Any:
    """Import an uploaded GIS file (multipart field ``file``; optional ``mapping`` YAML).

    Returns the import report; 422 problem+json with the validation report on errors."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + CHUNK:
        return _too_large(request, int(declared))
    with tempfile.TemporaryDirectory(prefix="gridgov-upload-") as tmp:
        path = _save(file, Path(tmp))
        if path is None:
            return _too_large(request)
        rules = None
        if mapping is not None:
            rules = Path(tmp) / "mapping.yaml"
            with rules.open("wb") as out:
                shutil.copyfileobj(mapping.file, out)

        def authorize(codes: set[str]) -> None:
            if caller.role != "admin" and caller.scope:
                check_scope(caller, codes, f"import of {path.name}")

        try:
            report = import_file(
                engine,
                path,
                target,
                mapping=rules,
                crs=crs,
                repair=repair,
                dry_run=dry_run,
                actor=caller.name,
                encoding=encoding,
                layer=layer,
                authorize=authorize,
            )
        except ImportRejected as exc:
            return problem(
                request, 422, exc.title, exc.message, report=exc.report.model_dump(mode="json")
            )
    if not dry_run:
        invalidate_tiles()  # cached vector tiles may show what the import just changed
    return report.model_dump(mode="json")


@router.get(
    "/export/{layer}.{fmt}",
    response_class=Response,
    responses=file_ok(
        "The layer as a file (attachment)",
        {
            "application/geopackage+sqlite3": ("Grids as a GeoPackage", "/export/grids.gpkg"),
            "application/zip": (
                f"Grids of {STREET} as a zipped shapefile",
                f"/export/grids.shp?region={STREET}",
            ),
            "application/geo+json": ("Police posts as GeoJSON", "/export/police_posts.geojson"),
        },
    ),
)
def export_download(
    layer: Annotated[str, PathParam(openapi_examples=param_examples(grids="grids"))],
    fmt: Annotated[
        str, PathParam(openapi_examples=param_examples(gpkg="gpkg", shapefile=("zip", "shp")))
    ],
    engine: EngineDep,
    region: Annotated[
        str | None, Query(openapi_examples=param_examples(community=COMMUNITY))
    ] = None,
    as_of: Annotated[str | None, Query(alias="as-of", openapi_examples=AsOfExamples)] = None,
) -> Response:
    """A catalogue layer as a file: geojson, gpkg, shp (zip), kml, csv, xlsx or fgb."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    when = None
    if as_of:
        try:
            when = datetime.fromisoformat(as_of)
        except ValueError:
            raise InvalidInput(f"as-of={as_of!r}: use a date like 2024-03-01") from None
        when = when if when.tzinfo else when.astimezone()
    spec = FORMATS[fmt]
    name = f"{layer}{'-' + region if region else ''}{spec.suffix}"
    with tempfile.TemporaryDirectory(prefix="gridgov-export-") as tmp:
        out = Path(tmp) / name
        export_layer(engine, layer, out, fmt, region=region, as_of=when)
        body = out.read_bytes()
    return Response(
        body,
        media_type=spec.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
