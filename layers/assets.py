"""Local front-end assets: which npm packages are served under ``/assets/``, and the
local URL of every JS/CSS file that Folium and its plugins would fetch from a CDN.

Set-up runs ``npm ci`` at the repository root (``package.json`` pins the versions);
the server serves only the folders listed in :data:`ASSET_DIRS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "ASSET_DIRS",
    "ASSET_PREFIX",
    "LOCAL_CSS",
    "LOCAL_JS",
    "VECTORGRID_JS",
    "asset_file",
    "asset_url",
]

ASSET_PREFIX = "/assets"

#: URL folder under /assets/ → folder under node_modules/ (nothing else is served).
ASSET_DIRS: Mapping[str, str] = MappingProxyType(
    {
        "leaflet": "leaflet/dist",
        "leaflet.fullscreen": "leaflet.fullscreen",
        "leaflet-measure": "leaflet-measure/dist",
        "leaflet-search": "leaflet-search",  # its CSS loads ../images/
        "leaflet.awesome-markers": "leaflet.awesome-markers/dist",
        "fontawesome": "@fortawesome/fontawesome-free",
        "leaflet-geoman": "@geoman-io/leaflet-geoman-free/dist",
        "leaflet.vectorgrid": "leaflet.vectorgrid/dist",
    }
)


def asset_url(package: str, path: str) -> str:
    """``/assets/<package>/<path>`` for a package listed in :data:`ASSET_DIRS`."""
    if package not in ASSET_DIRS:
        raise KeyError(f"{package!r} is not a served asset package: {sorted(ASSET_DIRS)}")
    return f"{ASSET_PREFIX}/{package}/{path}"


def asset_file(root: Path, url: str) -> Path:
    """The file under ``root`` (the ``node_modules`` folder) served at ``url``
    (``/assets/<package>/<path>``); :class:`KeyError` for a URL that is not an asset."""
    package, _, path = url.removeprefix(ASSET_PREFIX + "/").partition("/")
    if not url.startswith(ASSET_PREFIX + "/") or package not in ASSET_DIRS or ".." in path:
        raise KeyError(f"{url!r} is not a served asset")
    return root / ASSET_DIRS[package] / path


#: Leaflet.VectorGrid (with its protobuf decoder), for the layers served as tiles.
VECTORGRID_JS = asset_url("leaflet.vectorgrid", "Leaflet.VectorGrid.bundled.min.js")

#: Folium resource name → local URL; ``None`` drops the resource (not needed by gridgov's
#: pages: no Bootstrap widgets, no jQuery ajax, no glyphicons, no rotated icons).
LOCAL_JS: Mapping[str, str | None] = MappingProxyType(
    {
        "leaflet": asset_url("leaflet", "leaflet.js"),
        "jquery": None,
        "bootstrap": None,
        "awesome_markers": asset_url("leaflet.awesome-markers", "leaflet.awesome-markers.min.js"),
        "Control.Fullscreen.js": asset_url("leaflet.fullscreen", "Control.FullScreen.js"),
        "leaflet_measure_js": asset_url("leaflet-measure", "leaflet-measure.min.js"),
        "leaflet_search_js": asset_url("leaflet-search", "dist/leaflet-search.min.js"),
        "leaflet_geoman_js": asset_url("leaflet-geoman", "leaflet-geoman.min.js"),
    }
)
LOCAL_CSS: Mapping[str, str | None] = MappingProxyType(
    {
        "leaflet_css": asset_url("leaflet", "leaflet.css"),
        "bootstrap_css": None,
        "glyphicons_css": None,
        "awesome_markers_font_css": asset_url("fontawesome", "css/all.min.css"),
        "awesome_markers_css": asset_url("leaflet.awesome-markers", "leaflet.awesome-markers.css"),
        "awesome_rotate_css": None,
        "Control.FullScreen.css": asset_url("leaflet.fullscreen", "Control.FullScreen.css"),
        "leaflet_measure_css": asset_url("leaflet-measure", "leaflet-measure.css"),
        "leaflet_search_css": asset_url("leaflet-search", "dist/leaflet-search.min.css"),
        "leaflet_geoman_css": asset_url("leaflet-geoman", "leaflet-geoman.css"),
    }
)
