"""A map page as one standalone HTML file, for sharing on a closed network.

The page gridgov serves is turned into a file that needs no server: every ``/assets/``
script and stylesheet is inlined (their images and fonts as ``data:`` URIs), and the
layers' GeoJSON is embedded as ``window.gridgovData`` (URL → FeatureCollection), which
``layer.js`` reads instead of fetching; layers served as vector tiles are drawn from
their embedded GeoJSON. Two substitutions keep the file small: Font Awesome is reduced
to its solid icons (the markers') in WOFF2 only, and Leaflet.VectorGrid is left out.

A file over :data:`MAX_BYTES` is refused (:class:`TooBig`, naming the biggest layer):
the data are never simplified or cut, so what the file shows is what the server shows.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections.abc import Mapping
from pathlib import Path

from gis.errors import InvalidInput
from layers.assets import VECTORGRID_JS, asset_file, asset_url

__all__ = ["MAX_BYTES", "TooBig", "check_data", "megabytes", "standalone_html"]

#: The largest standalone file (and served page) gridgov writes: 2 MiB.
MAX_BYTES = 2 * 1024 * 1024

_FA_ALL = asset_url("fontawesome", "css/all.min.css")
#: Stylesheets replaced in a standalone file by smaller ones (one icon font, not four).
_SUBSTITUTES: Mapping[str, tuple[str, ...]] = {
    _FA_ALL: (
        asset_url("fontawesome", "css/fontawesome.min.css"),
        asset_url("fontawesome", "css/solid.min.css"),
    ),
}
#: Scripts a standalone file does without (tiled layers are drawn from embedded GeoJSON).
_DROPPED = frozenset({VECTORGRID_JS})

_SCRIPT = re.compile(r'<script\b[^>]*\bsrc="(/assets/[^"]+)"[^>]*>\s*</script>')
_LINK = re.compile(r'<link\b[^>]*\bhref="(/assets/[^"]+)"[^>]*>')
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^)"']+)\1\s*\)""")
#: A font source in another format after the WOFF2 one: never loaded, so not embedded.
_FALLBACK_FONT = re.compile(r""",\s*url\([^)]*\)\s*format\(["']?(?:truetype|woff)["']?\)""")


class TooBig(InvalidInput):
    """The standalone file would exceed :data:`MAX_BYTES`."""


def megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _too_big(size: int, data: Mapping[str, str], layers: Mapping[str, str]) -> TooBig:
    sizes = {url: len(body.encode("utf-8")) for url, body in data.items()}
    which = ""
    if sizes:
        biggest = max(sizes, key=sizes.__getitem__)
        name, mb = layers.get(biggest, biggest), megabytes(sizes[biggest])
        which = f"; the biggest layer is {name} ({mb})"
    return TooBig(
        f"the file would be over {megabytes(size)}, past the {megabytes(MAX_BYTES)} limit{which}: "
        "map a smaller region (one of its counties, streets or communities)"
    )


def check_data(data: Mapping[str, str], layers: Mapping[str, str]) -> None:
    """:class:`TooBig` as soon as the layers' data alone exceed :data:`MAX_BYTES` (so a
    caller can stop fetching); ``layers`` names the layer of each URL."""
    size = sum(len(body.encode("utf-8")) for body in data.values())
    if size > MAX_BYTES:
        raise _too_big(size, data, layers)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".woff2":
        mime = "font/woff2"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    """The stylesheet with every relative ``url()`` replaced by the file as a data URI."""
    css = _FALLBACK_FONT.sub("", path.read_text(encoding="utf-8"))

    def embed(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            raise InvalidInput(f"stylesheet {path.name} refers to {ref}, which is not installed")
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(embed, css)


def _script(root: Path, url: str) -> str:
    if url in _DROPPED:
        return ""
    js = asset_file(root, url).read_text(encoding="utf-8")
    if re.search(r"</script", js, re.I):  # cannot sit inside <script>…</script>
        encoded = base64.b64encode(js.encode("utf-8")).decode("ascii")
        return f'<script src="data:text/javascript;base64,{encoded}"></script>'
    return f"<script>{js}</script>"


def _styles(root: Path, url: str) -> str:
    urls = _SUBSTITUTES.get(url, (url,))
    return "".join(f"<style>{_inline_css(asset_file(root, u))}</style>" for u in urls)


def _embedded(data: Mapping[str, str]) -> str:
    """``window.gridgovData``: each URL's GeoJSON text, safe inside a ``<script>``."""
    items = ",".join(f"{json.dumps(url)}:{body}" for url, body in data.items())
    text = "{" + items + "}"
    return "<script>window.gridgovData = " + text.replace("</", "<\\/") + ";</script>"


def standalone_html(
    html: str, data: Mapping[str, str], layers: Mapping[str, str], assets: Path
) -> str:
    """``html`` (a served page) with its assets from ``assets`` (``node_modules``)
    inlined and ``data`` (URL → GeoJSON text) embedded; ``layers`` names the layer of each
    URL, for the message when the file would exceed :data:`MAX_BYTES`."""
    page = _SCRIPT.sub(lambda m: _script(assets, m.group(1)), html)
    page = _LINK.sub(lambda m: _styles(assets, m.group(1)), page)
    if "/assets/" in re.sub(r"<script>.*?</script>|<style>.*?</style>", "", page, flags=re.S):
        raise InvalidInput("the page refers to an /assets/ file that could not be inlined")
    # links to the server's other pages lead nowhere from a file
    # the overview's breadcrumb is plain text (layer.js leaves the popups' links out)
    offline = (
        "<style>.gg-panel-links { display: none; }"
        " .gg-crumbs a { pointer-events: none; color: inherit; }</style>"
    )
    page = page.replace("</head>", _embedded(data) + offline + "\n</head>", 1)
    size = len(page.encode("utf-8"))
    if size > MAX_BYTES:
        raise _too_big(size, data, layers)
    return page
