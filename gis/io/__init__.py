"""Getting data in and layers out: GIS files through GDAL, Chinese coordinate systems.

``import_file`` reads, maps, validates and writes a file all or nothing;
``export_layer`` writes a catalogue layer as GeoJSON, GeoPackage (with a QGIS style),
Shapefile (zip), KML, CSV, XLSX or FlatGeobuf; ``coords`` converts WGS84 ↔ GCJ-02 ↔
BD-09.
"""

from __future__ import annotations

from gis.io.importer import ImportRejected, RejectedGeometry, import_file
from gis.io.mapping import FieldMapping, load_mapping
from gis.io.read import Source, read_file
from gis.io.report import ImportReport, Problem, ValidationReport

__all__ = [
    "FieldMapping",
    "ImportRejected",
    "ImportReport",
    "Problem",
    "RejectedGeometry",
    "Source",
    "ValidationReport",
    "import_file",
    "load_mapping",
    "read_file",
]
